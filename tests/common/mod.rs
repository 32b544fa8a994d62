//! Helpers shared by the integration tests.
#![allow(dead_code)]

use simdpool::{Element, Isa, Layout, Plan, PlanOptions, PoolOp, Pooled, TensorShape};

/// Copies a channels-first buffer into channels-last order.
pub fn to_channels_last<T: Copy>(x: &[T], shape: &TensorShape) -> Vec<T> {
    assert_eq!(shape.layout(), Layout::ChannelsFirst);
    let last = shape.with_layout(Layout::ChannelsLast);
    let mut y = x.to_vec();
    let plane = shape.plane();
    for n in 0..shape.batch() {
        for c in 0..shape.channels() {
            for p in 0..plane {
                y[(n * plane + p) * shape.channels() + c] = x[(n * shape.channels() + c) * plane + p];
            }
        }
    }
    let _ = last;
    y
}

/// Copies a channels-last buffer into channels-first order.
pub fn to_channels_first<T: Copy>(y: &[T], shape: &TensorShape) -> Vec<T> {
    assert_eq!(shape.layout(), Layout::ChannelsLast);
    let mut x = y.to_vec();
    let plane = shape.plane();
    for n in 0..shape.batch() {
        for c in 0..shape.channels() {
            for p in 0..plane {
                x[(n * shape.channels() + c) * plane + p] = y[(n * plane + p) * shape.channels() + c];
            }
        }
    }
    x
}

/// Runs `op` through a plan forced to `isa`, with indices when the op has them.
pub fn run_plan<T: Element>(op: &PoolOp, x: &[T], shape: &TensorShape, opts: PlanOptions) -> Pooled<T> {
    let plan = Plan::<T>::with_options(op, shape, opts).expect("plan");
    assert_eq!(plan.isa(), opts.isa.unwrap_or_else(Isa::detected));
    let mut values = vec![T::zeroed(); plan.output_len()];
    if op.has_indices() {
        let mut idx = vec![-1i64; plan.output_len()];
        plan.run_with_indices(x, &mut values, &mut idx).expect("run_with_indices");
        let mut plain = vec![T::zeroed(); plan.output_len()];
        plan.run(x, &mut plain).expect("run");
        assert_bits_eq(&plain, &values, "run vs run_with_indices");
        Pooled { values, indices: Some(idx), shape: plan.output_shape().clone() }
    } else {
        plan.run(x, &mut values).expect("run");
        Pooled { values, indices: None, shape: plan.output_shape().clone() }
    }
}

/// Every ISA level the tests run here, lowest first: [`Isa::available`], after [`check_levels`]
/// has asserted that it is exactly [`expected_levels`]. A level the hardware has (and the
/// `SIMDPOOL_ISA` cap allows) that is missing fails the calling test, so a run cannot silently
/// skip a path.
pub fn isas() -> Vec<Isa> {
    let avail = Isa::available();
    check_levels(&avail);
    avail
}

/// The levels of this architecture, lowest first.
pub fn level_chain() -> &'static [Isa] {
    if cfg!(target_arch = "x86_64") {
        &[Isa::Scalar, Isa::Avx2, Isa::Avx512]
    } else if cfg!(target_arch = "aarch64") {
        &[Isa::Scalar, Isa::Neon]
    } else {
        &[Isa::Scalar]
    }
}

/// The best level the CPU's own feature flags (as the standard library reads them) allow: the
/// features pulp's tokens check (x86-64-v3: AVX2, FMA, BMI1/2, LZCNT; x86-64-v4: AVX-512
/// F/BW/CD/DQ/VL), or NEON on AArch64.
pub fn level_from_cpu_flags() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        let v3 = has!("avx") && has!("avx2") && has!("fma") && has!("bmi1") && has!("bmi2") && has!("lzcnt");
        let v4 = has!("avx512f") && has!("avx512bw") && has!("avx512cd") && has!("avx512dq") && has!("avx512vl");
        if v3 && v4 {
            return Isa::Avx512;
        }
        if v3 {
            return Isa::Avx2;
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            return Isa::Neon;
        }
    }
    Isa::Scalar
}

/// Every level this CPU has, lowest first: the chain up to the level src/dispatch detects
/// ([`Isa::hardware`], which ignores `SIMDPOOL_ISA`). Fails if that detection disagrees with the
/// CPU's feature flags, so a broken detection cannot shrink the list.
pub fn hardware_levels() -> Vec<Isa> {
    let hw = Isa::hardware();
    assert_eq!(hw, level_from_cpu_flags(), "src/dispatch detected {hw}, the CPU's feature flags say otherwise");
    let chain = level_chain();
    let top = chain.iter().position(|&l| l == hw).unwrap_or_else(|| panic!("{hw} is not a level of this architecture"));
    chain[..=top].to_vec()
}

/// The level `SIMDPOOL_ISA` caps the run to, if set (and not blank). Fails for a value that names
/// no level of this architecture: the library ignores such a value (with a warning), so a run
/// meant to be capped would silently test the uncapped levels.
pub fn isa_cap() -> Option<Isa> {
    let raw = std::env::var("SIMDPOOL_ISA").ok().filter(|s| !s.trim().is_empty())?;
    let cap = Isa::from_name(&raw).unwrap_or_else(|| panic!("SIMDPOOL_ISA={raw:?} names no level"));
    assert!(level_chain().contains(&cap), "SIMDPOOL_ISA={raw:?} is not a level of this architecture");
    Some(cap)
}

/// The levels the tests must run: [`hardware_levels`], capped by `SIMDPOOL_ISA` if set. Without
/// a cap, every level the hardware has.
pub fn expected_levels() -> Vec<Isa> {
    let hw = hardware_levels();
    match isa_cap() {
        None => hw,
        Some(cap) => {
            let rank = |l: Isa| level_chain().iter().position(|&c| c == l);
            hw.into_iter().filter(|&l| rank(l) <= rank(cap)).collect()
        }
    }
}

/// Asserts that `tested` (lowest first) is exactly [`expected_levels`]: no level the hardware
/// has (under the cap) is missing, none is extra, none repeats.
pub fn check_levels(tested: &[Isa]) {
    let want = expected_levels();
    assert_eq!(
        tested,
        &want[..],
        "tested levels differ from the expected ones (hardware: {:?}, SIMDPOOL_ISA: {:?})",
        hardware_levels(),
        std::env::var("SIMDPOOL_ISA").ok()
    );
}

/// Bitwise equality (floats compared by bits, so NaN payloads and zero signs count).
pub fn assert_bits_eq<T: Element>(a: &[T], b: &[T], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(bytemuck::bytes_of(x) == bytemuck::bytes_of(y), "{what}: element {i} differs: {x:?} vs {y:?}");
    }
}

/// Max outputs: equal values, or both NaN.
pub fn assert_max_eq<T: Element>(got: &[T], want: &[T], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64(), w.to_f64());
        assert!(g == w || (g.is_nan() && w.is_nan()), "{what}: element {i}: got {g}, want {w}");
    }
}

/// Sum outputs: within `rel` relative or `abs` absolute error; NaN positions exact.
pub fn assert_close<T: Element>(got: &[T], want: &[T], rel: f64, abs: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64(), w.to_f64());
        if w.is_nan() || g.is_nan() {
            assert!(g.is_nan() && w.is_nan(), "{what}: element {i}: got {g}, want {w}");
            continue;
        }
        if w.is_infinite() || g.is_infinite() {
            assert_eq!(g, w, "{what}: element {i}");
            continue;
        }
        let err = (g - w).abs();
        assert!(err <= abs || err <= rel * w.abs(), "{what}: element {i}: got {g}, want {w} (error {err})");
    }
}

/// A proptest strategy for f32 inputs: with ties (values rounded to multiples of `tie_step`) or
/// not, and NaN, +-inf and +-0 at a chosen rate (per mille: 0, 3, 30 or 200).
pub fn special_values(len: usize, tie_step: f32) -> impl proptest::strategy::Strategy<Value = Vec<f32>> {
    use proptest::prelude::*;
    (prop_oneof![Just(0u32), Just(3), Just(30), Just(200)], any::<bool>()).prop_flat_map(move |(rate, ties)| {
        prop::collection::vec((0u32..1000, -1000.0f32..1000.0), len).prop_map(move |raw| {
            raw.into_iter()
                .map(|(k, v)| {
                    if k < rate {
                        [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 0.0][(k % 5) as usize]
                    } else if ties {
                        (v / tie_step).round()
                    } else {
                        v
                    }
                })
                .collect()
        })
    })
}
