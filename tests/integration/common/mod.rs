//! Helpers shared by the integration tests.
#![allow(dead_code)]

use simdpool::{Element, Isa, Layout, Plan, PlanOptions, PoolError, PoolOp, Pooled, TensorShape};

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

/// Max outputs: a max selects an input element, so the output must be the reference's element
/// bit for bit: the sign of a zero maximum (`+0.0` and `-0.0` are equal as values, the scan rule
/// keeps the first) and the payload of a NaN (the last NaN) included.
pub fn assert_max_eq<T: Element>(got: &[T], want: &[T], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            bytemuck::bytes_of(g) == bytemuck::bytes_of(w),
            "{what}: element {i}: got {g:?} ({:02x?}), want {w:?} ({:02x?})",
            bytemuck::bytes_of(g),
            bytemuck::bytes_of(w)
        );
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

/// `shape` with its spatial extents grown until `op` is a valid request on it: an axis whose
/// padded length is shorter than the dilated window grows to fit it, and an axis with a window
/// lying wholly in padding (or skipping the input by dilation) grows one element at a time. The
/// randomized suites draw windows first and fit the shape to them, so every case compares
/// outputs; a window that no length can fit (a begin or end pad of the whole dilated extent or
/// more, a pad over half the kernel) is a defect of the generator and panics.
pub fn fit_spatial(op: &PoolOp, shape: &TensorShape) -> TensorShape {
    let mut spatial = shape.spatial().to_vec();
    for _ in 0..10_000 {
        let s = TensorShape::new(shape.layout(), shape.batch(), shape.channels(), &spatial).expect("shape");
        match Plan::<f32>::new(op, &s) {
            Ok(_) => return s,
            Err(PoolError::EmptyOutput { axis, padded, extent, .. }) => spatial[axis] += extent - padded,
            Err(PoolError::WindowInPadding { axis, .. }) => spatial[axis] += 1,
            Err(e) => panic!("{op:?} cannot be fitted to any shape: {e}"),
        }
    }
    panic!("{op:?}: no spatial extent up to 10,000 more elements fits the window");
}

/// The machine epsilon of an element type (`0` for the integer types, whose means are exact).
fn epsilon(d: simdpool::DType) -> f64 {
    use simdpool::DType;
    match d {
        DType::F32 => f64::from(f32::EPSILON),
        DType::F64 => f64::EPSILON,
        DType::F16 => simdpool::f16::EPSILON.to_f64(),
        DType::BF16 => simdpool::bf16::EPSILON.to_f64(),
        DType::U8 | DType::I8 => 0.0,
    }
}

/// The number of input elements each output of an average (windowed, adaptive or global) reads:
/// the valid taps, not the kernel size.
fn avg_taps(op: &PoolOp, shape: &TensorShape) -> Vec<f64> {
    match op {
        // Lp with p = 1 over ones is the count of valid taps (the reference sums them in f64).
        PoolOp::Avg(w, _) => {
            let ones = vec![1.0f64; shape.len()];
            simdpool::reference::pool(&PoolOp::Lp(w.clone(), 1.0), &ones, shape).expect("reference").values
        }
        PoolOp::AdaptiveAvg(_) | PoolOp::GlobalAvg => {
            let out = op.output_shape(shape).expect("valid");
            let osp = out.spatial().to_vec();
            let out_plane: usize = osp.iter().product();
            // Taps of each spatial output position, row-major.
            let per_pos: Vec<f64> = (0..out_plane)
                .map(|mut k| {
                    let mut n = 1usize;
                    for a in (0..osp.len()).rev() {
                        let (b, e) = simdpool::adaptive_range(k % osp[a], shape.spatial()[a], osp[a]);
                        n *= e - b;
                        k /= osp[a];
                    }
                    n as f64
                })
                .collect();
            let c = shape.channels();
            (0..out.len())
                .map(|k| match shape.layout() {
                    Layout::ChannelsFirst => per_pos[k % out_plane],
                    Layout::ChannelsLast => per_pos[(k / c) % out_plane],
                })
                .collect()
        }
        _ => panic!("check_avg: {op:?} is not an average"),
    }
}

/// Checks each output of an average (`Avg`, `AdaptiveAvg`, `GlobalAvg`) of any element type
/// against the reference's `want`, with a bound computed per output from its own taps and
/// divisor.
///
/// The kernels widen each input exactly to the sum type (`f32` for `f32`, `f16` and `bf16`;
/// `f64` for `f64`), add the `n` valid taps with `n - 1` roundings in some fixed order, divide
/// by the divisor `d` once and round once to the element type. The reference sums in `f64` and
/// rounds `sum / d` once to the element type. With `u` the unit roundoff of the sum type
/// (`eps_sum / 2`), `A = sum |x| / |d|` over the output's taps and `E` the exact mean, the
/// recursive-summation bound gives `|sum_kernel / d - E| <= (n - 1) u A`, the division adds
/// `u |E| <= u A`, and the reference's own `f64` sum at most `(n - 1) 2^-53 A`; the two final
/// roundings to the element type add at most `u_T (|got| + |want|)`. So
///
/// `|got - want| <= (n + 2) * eps_sum * A + eps_T * max(|got|, |want|) + tiny_T`
///
/// holds with room for the second-order terms (`eps = 2u`); `tiny_T`, the smallest positive
/// subnormal of the type, covers results in the subnormal range. A divisor off by one moves a
/// mean by `|E| / (d + 1)`, far outside this bound for any nonzero mean (see the test that says
/// so in tests/integration/differential.rs). Integer means are exact: `got` must equal `want`. NaN and
/// infinite outputs must match the reference exactly (NaN outputs are the canonical NaN).
pub fn check_avg<T: Element>(op: &PoolOp, x: &[T], shape: &TensorShape, got: &[T], want: &[T]) -> Result<(), String> {
    use simdpool::DType;
    if got.len() != want.len() {
        return Err(format!("{op:?}: {} outputs, want {}", got.len(), want.len()));
    }
    let taps = avg_taps(op, shape);
    let abs: Vec<f64> = x.iter().map(|v| v.to_f64().abs()).collect();
    // sum |x| / d per output, in f64 (the reference divides by the op's own divisor).
    let mean_abs = simdpool::reference::pool(op, &abs, shape).expect("reference on |x|").values;
    let d = T::DTYPE;
    let eps_sum = if d == DType::F64 { f64::EPSILON } else { f64::from(f32::EPSILON) };
    let eps_t = epsilon(d);
    let tiny = match d {
        DType::F32 => f64::from(f32::from_bits(1)),
        DType::F64 => f64::from_bits(1),
        DType::F16 => simdpool::f16::from_bits(1).to_f64(),
        DType::BF16 => simdpool::bf16::from_bits(1).to_f64(),
        DType::U8 | DType::I8 => 0.0,
    };
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let exact = matches!(d, DType::U8 | DType::I8);
        let (gf, wf) = (g.to_f64(), w.to_f64());
        if exact || !wf.is_finite() || !gf.is_finite() {
            if bytemuck::bytes_of(g) != bytemuck::bytes_of(w) {
                return Err(format!("{op:?} on {:?}: output {i}: got {g:?}, want {w:?} (exact)", shape.dims()));
            }
            continue;
        }
        let bound = (taps[i] + 2.0) * eps_sum * mean_abs[i].abs() + eps_t * gf.abs().max(wf.abs()) + tiny;
        if (gf - wf).abs() > bound {
            return Err(format!(
                "{op:?} on {:?}: output {i}: got {gf}, want {wf}, error {} > bound {bound} ({} taps)",
                shape.dims(),
                (gf - wf).abs(),
                taps[i]
            ));
        }
    }
    Ok(())
}
