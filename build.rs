//! Records the build configuration for `simdpool info` and benchmark reports, and sets
//! `cfg(simdpool_static_*)` when the compile-time target already guarantees an ISA level, so
//! dispatch resolves it without runtime detection.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=RUSTFLAGS");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    for cfg in ["simdpool_static_avx2", "simdpool_static_avx512", "simdpool_static_neon"] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }

    let var = |k: &str| env::var(k).unwrap_or_default();
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let features = var("CARGO_CFG_TARGET_FEATURE");
    let has = |f: &str| features.split(',').any(|x| x == f);
    let arch = var("CARGO_CFG_TARGET_ARCH");

    let mut statics = Vec::new();
    if arch == "x86_64" {
        // Exactly the features pulp's tokens check (x86::V3 = x86-64-v3, x86::V4 = V3 + AVX-512
        // F/BW/CD/DQ/VL): claiming a level statically whose token `try_new()` then refuses would
        // list a level in `Isa::available()` that no plan can be built for (seen under Miri with
        // `-C target-feature=+avx2,+fma`, where detection sees only compile-time features).
        let v3 = ["avx2", "fma", "bmi1", "bmi2", "lzcnt", "popcnt", "sse4.2", "sse4.1", "ssse3", "sse3", "fxsr"];
        let v4 = ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"];
        if v3.iter().chain(&v4).all(|f| has(f)) {
            statics.push("simdpool_static_avx512");
        }
        if v3.iter().all(|f| has(f)) {
            statics.push("simdpool_static_avx2");
        }
    }
    if arch == "aarch64" && has("neon") {
        statics.push("simdpool_static_neon");
    }
    for cfg in &statics {
        println!("cargo::rustc-cfg={cfg}");
    }

    let mut interesting: Vec<&str> = features
        .split(',')
        .filter(|f| {
            f.starts_with("avx") || f.starts_with("sse") || *f == "fma" || *f == "f16c" || *f == "neon" || *f == "fp16"
        })
        .collect();
    interesting.sort_unstable();
    let out = format!(
        "/// `rustc --version` of the compiler that built this crate.\n\
         pub const RUSTC: &str = {rustc_version:?};\n\
         /// The target triple.\n\
         pub const TARGET: &str = {target:?};\n\
         /// The cargo profile (`debug` or `release`).\n\
         pub const PROFILE: &str = {profile:?};\n\
         /// The optimisation level.\n\
         pub const OPT_LEVEL: &str = {opt:?};\n\
         /// SIMD-related target features enabled at compile time.\n\
         pub const TARGET_FEATURES: &[&str] = &{interesting:?};\n\
         /// ISA levels the compile-time target guarantees (resolved without runtime detection).\n\
         pub const STATIC_ISA: &[&str] = &{statics:?};\n",
        target = var("TARGET"),
        profile = var("PROFILE"),
        opt = var("OPT_LEVEL"),
    );
    let path = PathBuf::from(var("OUT_DIR")).join("build_info.rs");
    fs::write(&path, out).expect("write build_info.rs");
}
