//! Runtime ISA detection: the level chosen must follow the CPU's features, `SIMDPOOL_ISA`, and —
//! when the CI scripts set it — `EXPECT_ISA` (scripts/ci/detect.sh runs this binary natively and
//! under `qemu-x86_64 -cpu Haswell` / `-cpu Nehalem`; scripts/ci/neon.sh under `qemu-aarch64`).
//! A run where a level the script expects was not detected, or not used by default plans, fails.

use crate::common;

use common::*;
use simdpool::{AvgOptions, Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape, Window};

fn cap() -> Option<Isa> {
    std::env::var("SIMDPOOL_ISA")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Isa::from_name(&s).expect("SIMDPOOL_ISA"))
}

#[test]
fn hardware_level_follows_cpu_flags() {
    assert_eq!(Isa::hardware(), level_from_cpu_flags());
    // A cap naming a level of this architecture lowers the level (never raises it).
    let on_this_arch = |c: Isa| match c {
        Isa::Scalar => true,
        Isa::Avx2 | Isa::Avx512 => cfg!(target_arch = "x86_64"),
        Isa::Neon => cfg!(target_arch = "aarch64"),
    };
    let want = match cap() {
        Some(c) if on_this_arch(c) => c.min(Isa::hardware()),
        _ => Isa::hardware(),
    };
    assert_eq!(Isa::detected(), want);
}

#[test]
fn detected_level_is_what_the_ci_script_expects() {
    if let Ok(want) = std::env::var("EXPECT_ISA") {
        let want = Isa::from_name(&want).expect("EXPECT_ISA names a level");
        assert_eq!(Isa::detected(), want, "detected level");
        assert!(Isa::available().contains(&want));
        assert_eq!(*Isa::available().last().unwrap(), want, "the highest available level");
    }
    // On AArch64, NEON is architectural: without a cap, it must be detected and used.
    #[cfg(target_arch = "aarch64")]
    if cap().is_none() {
        assert_eq!(Isa::detected(), Isa::Neon);
        assert!(Isa::available().contains(&Isa::Neon));
    }
}

#[test]
fn default_plans_use_the_detected_level_and_every_level_runs() {
    let shape = TensorShape::new(Layout::ChannelsLast, 1, 19, &[9, 7]).unwrap();
    let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
    let ops = [
        PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1])),
        PoolOp::Avg(
            Window::new(&[3, 2]).padding(&[1, 1]),
            AvgOptions { count_include_pad: false, divisor_override: None },
        ),
    ];
    for op in &ops {
        for layout in [Layout::ChannelsLast, Layout::ChannelsFirst] {
            let shape = shape.with_layout(layout);
            let plan = Plan::<f32>::new(op, &shape).unwrap();
            assert_eq!(plan.isa(), Isa::detected(), "default plan level");
            let scalar = run_plan(op, &x, &shape, PlanOptions::isa(Isa::Scalar));
            for isa in isas() {
                let got = run_plan(op, &x, &shape, PlanOptions::isa(isa));
                assert_bits_eq(&got.values, &scalar.values, &format!("{isa} vs scalar, {op:?}, {layout:?}"));
            }
        }
    }
}
