//! `simdpool info`.

use simdpool::{Isa, build_info};

fn names(isas: &[Isa]) -> String {
    isas.iter().map(|i| i.name()).collect::<Vec<_>>().join(" ")
}

fn list(items: &[&str]) -> String {
    if items.is_empty() { "(none)".to_string() } else { items.join(" ") }
}

/// The report, one `key: value` per line.
pub fn report() -> String {
    let detected = Isa::detected();
    let hardware = Isa::hardware();
    let mut out = format!("simdpool {}\n", env!("CARGO_PKG_VERSION"));
    out += &format!("detected: {detected}\n");
    out += &format!("available: {}\n", names(&Isa::available()));
    match std::env::var("SIMDPOOL_ISA") {
        Ok(cap) if hardware != detected => out += &format!("hardware: {hardware} (capped by SIMDPOOL_ISA={cap})\n"),
        Ok(cap) if Isa::from_name(&cap).is_none() => {
            out += &format!("SIMDPOOL_ISA: {cap:?} ignored (expected scalar, avx2, avx512 or neon)\n")
        }
        Ok(cap) => out += &format!("SIMDPOOL_ISA: {cap} (no effect: it does not lower {hardware})\n"),
        Err(_) => {}
    }
    out += &format!("cpu features: {}\n", list(&simdpool::cpu_features()));
    out += &format!("rustc: {}\n", build_info::RUSTC);
    out += &format!("target: {}\n", build_info::TARGET);
    out += &format!("profile: {} (opt-level {})\n", build_info::PROFILE, build_info::OPT_LEVEL);
    out += &format!("target features: {}\n", list(build_info::TARGET_FEATURES));
    let statics: Vec<&str> = build_info::STATIC_ISA.iter().map(|s| s.trim_start_matches("simdpool_static_")).collect();
    out += &format!("static isa: {}\n", list(&statics));
    out
}
