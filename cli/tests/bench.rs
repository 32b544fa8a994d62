//! `simdpool bench --pass`: the backward pass of the suite, as rows of its own, next to the
//! forward pass or alone.

use std::process::{Command, Output};

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simdpool")).arg("bench").args(args).output().expect("run simdpool bench")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn both_passes_give_verified_forward_and_backward_rows() {
    let out = bench(&["--case", "densenet_avg_2x2", "--pass", "both", "--json", "--time-scale", "0.05"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("densenet_avg_2x2 nchw backward reference"), "{err}");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints one JSON array");
    let rows = rows.as_array().expect("an array");
    let of = |pass: &str| rows.iter().filter(|r| r["pass"] == pass).collect::<Vec<_>>();
    let (forward, backward) = (of("forward"), of("backward"));
    // Both layouts in each pass, forward rows first.
    assert_eq!((forward.len(), backward.len()), (2, 2), "{rows:?}");
    assert_eq!(rows[0]["pass"], "forward");
    assert_eq!(rows[rows.len() - 1]["pass"], "backward");
    for r in &backward {
        assert_eq!(r["case"], "densenet_avg_2x2");
        assert_eq!(r["verified"], true, "{r}");
        assert!(r["median_us"].as_f64().unwrap() > 0.0 && r["roofline_us"].as_f64().unwrap() > 0.0, "{r}");
        // An average's backward pass reads the gradient of the output (1x128x28x28 f32) and
        // writes the gradient of the input (1x128x56x56 f32).
        assert_eq!(r["input_bytes"], 128 * 28 * 28 * 4, "{r}");
        assert_eq!(r["output_bytes"], 128 * 56 * 56 * 4, "{r}");
    }
    for r in &forward {
        assert_eq!(r["verified"], true, "{r}");
        assert_eq!(
            (r["input_bytes"].as_u64(), r["output_bytes"].as_u64()),
            (Some(128 * 56 * 56 * 4), Some(128 * 28 * 28 * 4))
        );
    }
}

#[test]
fn the_table_names_the_backward_pass_and_integers_are_not_run() {
    let out = bench(&["--case", "resnet_stem_max_u8", "--pass", "backward", "--time-scale", "0.05"]);
    let (stdout, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{err}");
    for layout in ["nchw", "nhwc"] {
        let line =
            format!("not run: resnet_stem_max_u8 {layout} backward: case resnet_stem_max_u8: u8 has no gradient");
        assert!(stdout.contains(&line), "{line:?} not in:\n{stdout}");
    }
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    // The forward pass of the same case still runs by default.
    let out = bench(&["--case", "resnet_stem_max_u8", "--layout", "nhwc", "--time-scale", "0.02"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(stdout.contains("\nresnet_stem_max_u8: max") && !stdout.contains("not run"), "{stdout}");
}

#[test]
fn a_bad_pass_is_a_usage_error() {
    for args in [&["--pass", "sideways"][..], &["--pass"], &["--pass="]] {
        let out = bench(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("simdpool: error: ") && err.contains("--pass"), "{args:?}: {err}");
    }
    let help = text(&bench(&["--help"]).stdout);
    assert!(help.contains("--pass forward|backward|both"), "{help}");
}
