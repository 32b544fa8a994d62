//! The CLI rows of the bad-input corpus (tests/bad_input.rs in the library): hostile parameters
//! that once panicked or aborted inside the library must reach the user as exactly one
//! `simdpool: error:` line and a non-zero exit, with no output file written; and a huge dilation
//! that leaves one tap per window runs.

use simdpool::npy::NpyArray;
use std::path::PathBuf;
use std::process::{Command, Output};

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("simdpool-hostile-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("x.npy"),
            NpyArray::from_f32(&[1, 2, 5], &[1., 2., 3., 4., 5., 6., 7., 8., 9., 0.]).to_bytes(),
        )
        .unwrap();
        std::fs::write(d.join("x5.npy"), NpyArray::from_f32(&[1, 1, 1, 1, 1], &[3.0]).to_bytes()).unwrap();
        Dir(d)
    }
    fn s(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(tag: &str, args: &[&str]) -> (Output, bool) {
    let dir = Dir::new(tag);
    let (x, x5, y) = (dir.s("x.npy"), dir.s("x5.npy"), dir.s("y.npy"));
    let argv: Vec<&str> = args
        .iter()
        .map(|a| match *a {
            "X" => x.as_str(),
            "X5" => x5.as_str(),
            "Y" => y.as_str(),
            a => a,
        })
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_simdpool")).args(&argv).output().expect("run simdpool");
    let wrote = std::path::Path::new(&y).exists();
    (out, wrote)
}

fn fails(tag: &str, args: &[&str], needle: &str) {
    let (out, wrote) = run(tag, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{tag}: succeeded: {err}");
    assert!(out.status.code().is_some(), "{tag}: killed by a signal: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{tag}: expected one error line: {err}");
    assert!(lines[0].starts_with("simdpool: error: ") && lines[0].contains(needle), "{tag}: {err}");
    assert!(!wrote, "{tag}: wrote an output file");
}

#[test]
fn hostile_geometry_is_one_error_line() {
    let big = (1u64 << 63).to_string();
    let kernel = ((1u64 << 63) + 2).to_string();
    fails(
        "pads-past-i64",
        &["pool", "--op", "max", "--kernel", &kernel, "--pads", &format!("{big},0"), "X", "Y"],
        "overflows",
    );
    let end = (1u64 << 50).to_string();
    fails(
        "huge-end-pad",
        &["pool", "--op", "max", "--kernel", "1", "--pads", &format!("0,{end}"), "X", "Y"],
        "only of padding",
    );
    // One output of a 1x1x1 volume whose include-pad divisor (2^22)^3 overflows i64.
    let (k, p, s) = ((1u64 << 22).to_string(), ((1u64 << 22) - 1).to_string(), (1u64 << 23).to_string());
    let pads = [p.as_str(); 6].join(",");
    let args = ["pool", "--op", "avg", "--kernel", &k, "--stride", &s, "--pads", &pads, "X5", "Y"];
    fails("include-pad-divisor", &args, "average divisor");
    fails(
        "dilation-overflow",
        &["pool", "--op", "max", "--kernel", "3", "--dilation", &u64::MAX.to_string(), "X", "Y"],
        "overflows",
    );
}

#[test]
fn a_huge_dilation_with_one_tap_per_window_runs() {
    // Kernel 1 with dilation 2^62: a plain copy. It used to overflow `dilation * plane` in the kernels.
    let (out, wrote) = run(
        "huge-dilation",
        &["pool", "--op", "max", "--kernel", "1", "--dilation", &(1u64 << 62).to_string(), "X", "Y"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(wrote);
}
