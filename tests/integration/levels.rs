//! The level guard of tests/integration/common: the levels the tests iterate ([`Isa::available`], through
//! `isas()`) are exactly the levels this CPU has, capped by `SIMDPOOL_ISA` if set. `.ci/run`
//! runs the suite uncapped and again capped to each lower level; this binary also re-runs itself
//! under each cap, so a plain `cargo test` checks the cap path too.

use crate::common;

use common::*;
use simdpool::{Isa, Layout, Plan, PlanOptions, PoolError, PoolOp, TensorShape, Window};
use std::process::Command;

/// Set by [`every_cap_tests_exactly_the_levels_below_it`] for its child runs: the levels, comma
/// separated, that the child must find available.
const WANT_VAR: &str = "SIMDPOOL_TEST_WANT_LEVELS";

fn names(levels: &[Isa]) -> String {
    levels.iter().map(|l| l.name()).collect::<Vec<_>>().join(",")
}

#[test]
fn tested_levels_are_the_expected_ones() {
    check_levels(&Isa::available());
    assert_eq!(isas(), expected_levels());
    assert_eq!(Isa::available()[0], Isa::Scalar);
    assert_eq!(*Isa::available().last().unwrap(), Isa::detected(), "the detected level is the top tested one");
    if let Ok(want) = std::env::var(WANT_VAR) {
        assert_eq!(names(&Isa::available()), want, "Isa::available() under SIMDPOOL_ISA={:?}", isa_cap());
    }
}

#[test]
fn without_a_cap_every_hardware_level_is_tested() {
    let hw = hardware_levels();
    assert_eq!(hw[0], Isa::Scalar);
    assert_eq!(*hw.last().unwrap(), Isa::hardware());
    match isa_cap() {
        None => {
            assert_eq!(Isa::available(), hw, "uncapped run");
            assert_eq!(Isa::detected(), Isa::hardware());
        }
        Some(cap) => {
            // The cap took effect: the top tested level is the lower of the cap and the hardware.
            let top = *expected_levels().last().unwrap();
            assert!(top == cap || top == Isa::hardware(), "cap {cap}, top {top}");
            assert_eq!(Isa::detected(), top);
        }
    }
}

/// A plan builds, runs and matches the Scalar bits at every expected level, and is refused at
/// every other level (above the cap, above the hardware, or of another architecture).
#[test]
fn expected_levels_run_and_the_others_are_refused() {
    let shape = TensorShape::new(Layout::ChannelsLast, 1, 35, &[9, 11]).unwrap();
    let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
    let op = PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]));
    let scalar = run_plan(&op, &x, &shape, PlanOptions::isa(Isa::Scalar));
    let want = expected_levels();
    for isa in Isa::ALL {
        let plan = Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(isa));
        if want.contains(&isa) {
            let got = run_plan(&op, &x, &shape, PlanOptions::isa(isa));
            assert_bits_eq(&got.values, &scalar.values, &format!("{isa} vs scalar"));
        } else {
            assert!(
                matches!(plan, Err(PoolError::IsaUnavailable { requested, .. }) if requested == isa),
                "{isa} is not expected here, yet: {plan:?}"
            );
        }
    }
}

/// The guard fails on a list with a level missing, an extra level, or a repeated level.
#[test]
fn the_guard_rejects_wrong_lists() {
    let want = expected_levels();
    let rejects = |tested: Vec<Isa>| std::panic::catch_unwind(|| check_levels(&tested)).is_err();
    assert!(!rejects(want.clone()));
    // A level of another architecture is never expected.
    let foreign = if cfg!(target_arch = "aarch64") { Isa::Avx2 } else { Isa::Neon };
    assert!(rejects([want.clone(), vec![foreign]].concat()), "extra level");
    assert!(rejects([want.clone(), vec![Isa::Scalar]].concat()), "repeated level");
    assert!(rejects(want[..want.len() - 1].to_vec()), "missing top level");
    if want.len() > 1 {
        assert!(rejects(want[1..].to_vec()), "missing scalar");
        assert!(rejects(want.iter().rev().copied().collect()), "wrong order");
    }
}

/// Re-runs this binary capped to each level this CPU has: each child finds exactly the levels up
/// to its cap (and `tested_levels_are_the_expected_ones` passes there). Skips the re-run only
/// when this process is itself such a child.
#[test]
fn every_cap_tests_exactly_the_levels_below_it() {
    if std::env::var_os(WANT_VAR).is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let hw = hardware_levels();
    let name = crate::test_name(module_path!(), "tested_levels_are_the_expected_ones");
    for (i, cap) in hw.iter().enumerate() {
        let want = names(&hw[..=i]);
        let out = Command::new(&exe)
            .args(["--exact", &name, "--test-threads=1"])
            .env("SIMDPOOL_ISA", cap.name())
            .env(WANT_VAR, &want)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "SIMDPOOL_ISA={cap}: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A value the library would ignore fails the guard instead of running uncapped.
    let out = Command::new(&exe)
        .args(["--exact", &name, "--test-threads=1"])
        .env("SIMDPOOL_ISA", "avx3")
        .env(WANT_VAR, names(&hw))
        .output()
        .unwrap();
    assert!(!out.status.success(), "SIMDPOOL_ISA=avx3 must fail the guard");
}
