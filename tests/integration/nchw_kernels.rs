//! Channels-first (NCL, NCHW, NCDHW) f32 windowed and adaptive kernels on every ISA level this
//! machine has: bit-identical to the Scalar level, max equal to the reference, sums within the
//! summation error bound of the f64 reference.
//!
//! Error bound for averages: `common::check_avg`, per output from its own valid taps `n` and
//! divisor `d`: `|got - want| <= (n + 2) * f32::EPSILON * sum|x| / |d| + f32::EPSILON * |want|`
//! (derivation there). Lp sums: the kernels add `n` terms in f32 (recursive summation), so
//! `|got - want| <= (n + 1) * f32::EPSILON * S` where `S` is the Lp value for p = 1 over `|x|`,
//! `n` the window size. For p = 2 the bound is relative: `(n / 2 + 2) * f32::EPSILON * want`.
//! For a general p (computed with software `powf` per element in f32) we allow `1e-4` relative.

use crate::common;

use common::*;
use proptest::prelude::*;
use simdpool::{AvgOptions, Isa, Plan, PlanOptions, PoolOp, TensorShape, Window, reference};

/// Runs `op` at every available ISA and checks all of them against the Scalar level (bits) and
/// the reference (max exact, sums by the bound). Every case must be a valid request (the
/// generators fit the shape to the window), so no case passes without comparing outputs.
fn check_all(op: &PoolOp, x: &[f32], shape: &TensorShape) {
    if let Err(e) = Plan::<f32>::new(op, shape) {
        panic!("{op:?} on {:?} is not a valid request: {e}", shape.dims());
    }
    let scalar_run = run_plan(op, x, shape, PlanOptions::isa(Isa::Scalar).calling_thread());
    let scalar = scalar_run.values;
    for isa in isas() {
        for opts in [PlanOptions::isa(isa).calling_thread(), PlanOptions::isa(isa)] {
            let got = run_plan(op, x, shape, opts);
            let what = format!("{isa} vs scalar, {op:?} on {:?}", shape.dims());
            // Every op bit for bit: max selects an element, sums canonicalise NaN.
            assert_bits_eq(&got.values, &scalar, &what);
            assert_eq!(got.indices, scalar_run.indices, "{what}: indices");
        }
    }
    let reference = reference::pool(op, x, shape).expect("reference");
    let want = reference.values;
    let what = format!("scalar vs reference, {op:?} on {:?}", shape.dims());
    match op {
        PoolOp::Max(_) | PoolOp::AdaptiveMax(_) => {
            assert_max_eq(&scalar, &want, &what);
            assert_eq!(scalar_run.indices, reference.indices, "{what}: indices");
        }
        PoolOp::Avg(..) | PoolOp::AdaptiveAvg(_) => {
            if let Err(e) = check_avg(op, x, shape, &scalar, &want) {
                panic!("{what}: {e}");
            }
        }
        _ => {
            let abs: Vec<f32> = x.iter().map(|v| v.abs()).collect();
            let (n, kind) = window_size_and_kind(op, shape);
            let scale = match kind {
                Kind::Sum => reference::pool(&abs_op(op), &abs, shape).expect("reference").values,
                _ => want.clone(),
            };
            for (i, ((&g, &w), &sc)) in scalar.iter().zip(&want).zip(&scale).enumerate() {
                let (g, w, sc) = (g as f64, w as f64, (sc as f64).abs());
                if w.is_nan() || g.is_nan() {
                    assert!(g.is_nan() && w.is_nan(), "{what}: element {i}: got {g}, want {w}");
                    continue;
                }
                if w.is_infinite() || g.is_infinite() {
                    assert_eq!(g, w, "{what}: element {i}");
                    continue;
                }
                let eps = f32::EPSILON as f64;
                let bound = match kind {
                    Kind::Sum => (n as f64 + 1.0) * eps * sc,
                    Kind::Sqrt => (n as f64 / 2.0 + 2.0) * eps * sc,
                    Kind::General => 1e-4 * sc,
                } + f32::MIN_POSITIVE as f64;
                assert!((g - w).abs() <= bound, "{what}: element {i}: got {g}, want {w}, bound {bound}");
            }
        }
    }
}

enum Kind {
    Sum,
    Sqrt,
    General,
}

/// The op over `|x|` whose output scales the sum error bound.
fn abs_op(op: &PoolOp) -> PoolOp {
    match op {
        PoolOp::Lp(w, _) => PoolOp::Lp(w.clone(), 1.0),
        other => other.clone(),
    }
}

/// Largest window size (taps) and how the error bound applies.
fn window_size_and_kind(op: &PoolOp, shape: &TensorShape) -> (usize, Kind) {
    let n = match op.window() {
        Some(w) => w.kernel().iter().product(),
        None => shape.spatial().iter().product(),
    };
    let kind = match op {
        PoolOp::Lp(_, p) if *p == 2.0 => Kind::Sqrt,
        PoolOp::Lp(_, p) if *p != 1.0 => Kind::General,
        _ => Kind::Sum,
    };
    (n, kind)
}

/// Deterministic input with NaN, infinities and signed zeros sprinkled in when `special`.
fn input(len: usize, seed: u64, special: bool) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let r = (s >> 40) as u32;
            match (special, r % 61) {
                (true, 0) => f32::NAN,
                (true, 1) => f32::INFINITY,
                (true, 2) => f32::NEG_INFINITY,
                (true, 3) => -0.0,
                (_, 4) => 0.0,
                _ => (r % 2001) as f32 / 100.0 - 10.0,
            }
        })
        .collect()
}

#[derive(Clone, Debug)]
struct AxisCase {
    len: usize,
    k: usize,
    s: usize,
    d: usize,
    pb: usize,
    pe: usize,
    out: usize,
}

fn axis_case(max_len: usize) -> impl Strategy<Value = AxisCase> {
    (1..=max_len, 1usize..=7, 1usize..=3, 1usize..=3, 0usize..=3, 0usize..=3, 1usize..=9).prop_map(
        |(len, k, s, d, pb, pe, out)| {
            let (pb, pe) = (pb.min(k / 2), pe.min(k / 2));
            AxisCase { len, k, s, d, pb, pe, out }
        },
    )
}

#[derive(Clone, Debug)]
enum OpKind {
    Max,
    Avg { include_pad: bool, divisor: Option<i64> },
    Lp(f64),
    AdaptiveMax,
    AdaptiveAvg,
}

fn op_kind() -> impl Strategy<Value = OpKind> {
    prop_oneof![
        3 => Just(OpKind::Max),
        3 => (any::<bool>(), prop_oneof![3 => Just(None), 1 => (-3i64..=7).prop_filter("nonzero", |d| *d != 0).prop_map(Some)])
            .prop_map(|(include_pad, divisor)| OpKind::Avg { include_pad, divisor }),
        2 => prop_oneof![Just(1.0), Just(2.0), Just(3.0), Just(1.5)].prop_map(OpKind::Lp),
        1 => Just(OpKind::AdaptiveMax),
        1 => Just(OpKind::AdaptiveAvg),
    ]
}

fn build(kind: &OpKind, axes: &[AxisCase], ceil: bool, dilate: bool) -> PoolOp {
    let k: Vec<usize> = axes.iter().map(|a| a.k).collect();
    let s: Vec<usize> = axes.iter().map(|a| a.s).collect();
    let d: Vec<usize> = axes.iter().map(|a| if dilate { a.d } else { 1 }).collect();
    let pb: Vec<usize> = axes.iter().map(|a| a.pb).collect();
    let pe: Vec<usize> = axes.iter().map(|a| a.pe).collect();
    let w = Window::new(&k).stride(&s).dilation(&d).pads(&pb, &pe).ceil_mode(ceil);
    match kind {
        OpKind::Max => PoolOp::Max(w),
        OpKind::Avg { include_pad, divisor } => {
            PoolOp::Avg(w, AvgOptions { count_include_pad: *include_pad, divisor_override: *divisor })
        }
        OpKind::Lp(p) => PoolOp::Lp(w, *p),
        OpKind::AdaptiveMax => PoolOp::AdaptiveMax(axes.iter().map(|a| a.out.min(a.len + 2)).collect()),
        OpKind::AdaptiveAvg => PoolOp::AdaptiveAvg(axes.iter().map(|a| a.out.min(a.len + 2)).collect()),
    }
}

fn shape_of(batch: usize, channels: usize, axes: &[AxisCase]) -> TensorShape {
    let mut dims = vec![batch, channels];
    dims.extend(axes.iter().map(|a| a.len));
    TensorShape::nchw(&dims).expect("shape")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)))]

    #[test]
    fn nchw_1d(kind in op_kind(), a in axis_case(70), batch in 1usize..=2, channels in 1usize..=70,
               ceil in any::<bool>(), dilate in any::<bool>(), special in any::<bool>(), seed in any::<u64>()) {
        let axes = [a];
        let op = build(&kind, &axes, ceil, dilate);
        let shape = fit_spatial(&op, &shape_of(batch, channels, &axes));
        check_all(&op, &input(shape.len(), seed, special), &shape);
    }

    #[test]
    fn nchw_2d(kind in op_kind(), a in axis_case(64), b in axis_case(64), channels in 1usize..=70,
               ceil in any::<bool>(), dilate in any::<bool>(), special in any::<bool>(), seed in any::<u64>()) {
        let axes = [a, b];
        let op = build(&kind, &axes, ceil, dilate);
        let shape = fit_spatial(&op, &shape_of(1, channels, &axes));
        check_all(&op, &input(shape.len(), seed, special), &shape);
    }

    #[test]
    fn nchw_3d(kind in op_kind(), a in axis_case(7), b in axis_case(12), c in axis_case(40), channels in 1usize..=70,
               ceil in any::<bool>(), dilate in any::<bool>(), special in any::<bool>(), seed in any::<u64>()) {
        let axes = [a, b, c];
        let op = build(&kind, &axes, ceil, dilate);
        let shape = fit_spatial(&op, &shape_of(1, channels, &axes));
        check_all(&op, &input(shape.len(), seed, special), &shape);
    }

    #[test]
    fn nchw_2d_banded(kind in op_kind(), a in axis_case(7), b in axis_case(70), h in 60usize..=150, w in 40usize..=90,
                      batch in 1usize..=2, ceil in any::<bool>(), dilate in any::<bool>(), special in any::<bool>(),
                      seed in any::<u64>()) {
        // Planes taller than the plane nest's band (about 4096 padded floats of rows): bands
        // share rows at their seams, and thread splits start mid-plane.
        let axes = [AxisCase { len: h, ..a }, AxisCase { len: w, ..b }];
        let op = build(&kind, &axes, ceil, dilate);
        let shape = fit_spatial(&op, &TensorShape::nchw(&[batch, 2, h, w]).expect("shape"));
        check_all(&op, &input(shape.len(), seed, special), &shape);
    }

    #[test]
    fn nchw_2d_wide_rows(kind in op_kind(), k in 1usize..=5, s in 1usize..=2, h in 1usize..=4, w in 250usize..=1100,
                         special in any::<bool>(), seed in any::<u64>()) {
        // Rows wider than one column tile (and than the padded row buffer at stride 2).
        let p = k / 2;
        let op = build(&kind, &[AxisCase { len: h, k: k.min(h), s, d: 1, pb: 0, pe: 0, out: 3 },
                                 AxisCase { len: w, k, s, d: 1, pb: p, pe: p, out: 7 }], false, false);
        let shape = fit_spatial(&op, &TensorShape::nchw(&[1, 2, h, w]).expect("shape"));
        check_all(&op, &input(shape.len(), seed, special), &shape);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)))]

    /// Max with tall stride-1 windows (SPP-style, up to 18 rows, more than the row ring holds):
    /// every padding and ceil-mode overhang, several images and channels (thread splits start
    /// mid-image).
    #[test]
    fn nchw_2d_tall_stride1_max(ky in 5usize..=18, kx in 1usize..=7, h in 1usize..=40, w in 1usize..=50,
                                pb in 0usize..=9, pe in 0usize..=9, ceil in any::<bool>(), batch in 1usize..=2,
                                channels in 1usize..=3, special in any::<bool>(), seed in any::<u64>()) {
        let (pb, pe) = (pb.min(ky - 1), pe.min(ky - 1));
        let w_win = Window::new(&[ky, kx]).stride(&[1, 1]).pads(&[pb, kx / 2], &[pe, kx / 2]).ceil_mode(ceil);
        let op = PoolOp::Max(w_win);
        let shape = fit_spatial(&op, &TensorShape::nchw(&[batch, channels, h, w]).expect("shape"));
        check_all(&op, &input(shape.len(), seed, special), &shape);
    }
}

/// One hand case: every layer shape the kernels special-case, at sizes that hit vector tails.
fn hand(op: PoolOp, dims: &[usize]) {
    let shape = TensorShape::nchw(dims).expect("shape");
    for (seed, special) in [(1, false), (2, true), (3, true)] {
        let x = input(shape.len(), seed, special);
        check_all(&op, &x, &shape);
    }
}

fn win(k: &[usize], s: &[usize], p: &[usize]) -> Window {
    Window::new(k).stride(s).padding(p)
}

#[test]
fn resnet_stem_3x3_s2_p1() {
    for dims in [[1, 3, 37, 45], [1, 2, 112, 112], [2, 3, 8, 33], [1, 1, 1, 2], [1, 2, 3, 31]] {
        hand(PoolOp::max(win(&[3, 3], &[2, 2], &[1, 1])), &dims);
        hand(PoolOp::max(win(&[3, 3], &[2, 2], &[1, 1]).ceil_mode(true)), &dims);
    }
}

#[test]
fn vgg_and_densenet_2x2_s2() {
    for dims in [[1, 3, 33, 67], [1, 2, 224, 224], [1, 5, 28, 28], [1, 2, 2, 17], [1, 1, 5, 65]] {
        hand(PoolOp::max(win(&[2, 2], &[2, 2], &[0, 0])), &dims);
        hand(PoolOp::max(win(&[2, 2], &[2, 2], &[0, 0]).ceil_mode(true)), &dims);
        hand(PoolOp::avg(win(&[2, 2], &[2, 2], &[0, 0])), &dims);
        hand(PoolOp::avg(win(&[2, 2], &[2, 2], &[0, 0]).ceil_mode(true)), &dims);
    }
}

#[test]
fn inception_avg_3x3_s1_p1() {
    let no_pad = AvgOptions { count_include_pad: false, divisor_override: None };
    for dims in [[1, 3, 35, 35], [1, 2, 17, 19], [1, 1, 1, 1], [1, 2, 4, 33]] {
        hand(PoolOp::Avg(win(&[3, 3], &[1, 1], &[1, 1]), no_pad), &dims);
        hand(PoolOp::avg(win(&[3, 3], &[1, 1], &[1, 1])), &dims);
        hand(PoolOp::lp(win(&[3, 3], &[1, 1], &[1, 1]), 2.0), &dims);
        hand(PoolOp::lp(win(&[3, 3], &[1, 1], &[1, 1]), 1.0), &dims);
    }
}

#[test]
fn sppf_max_5x5_s1_p2() {
    for dims in [[1, 4, 20, 20], [1, 2, 9, 23], [1, 1, 3, 3], [1, 2, 40, 41]] {
        hand(PoolOp::max(win(&[5, 5], &[1, 1], &[2, 2])), &dims);
    }
}

#[test]
fn audio_max_1d_k4_s4() {
    for dims in [[1, 3, 1001], [2, 2, 16000], [1, 1, 7]] {
        hand(PoolOp::max(win(&[4], &[4], &[0])), &dims);
        hand(PoolOp::avg(win(&[4], &[4], &[0]).ceil_mode(true)), &dims);
    }
}

#[test]
fn c3d_max_2x2x2_s2() {
    for dims in [[1, 2, 5, 13, 29], [1, 2, 16, 56, 56], [1, 1, 2, 2, 2], [1, 3, 4, 16, 18]] {
        hand(PoolOp::max(win(&[2, 2, 2], &[2, 2, 2], &[0, 0, 0])), &dims);
        hand(PoolOp::avg(win(&[2, 2, 2], &[2, 2, 2], &[0, 0, 0]).ceil_mode(true)), &dims);
    }
}

#[test]
fn adaptive_avg_odd() {
    for (dims, out) in [
        (vec![1, 5, 10, 10], vec![7, 7]),
        (vec![1, 2, 13, 37], vec![7, 5]),
        (vec![1, 2, 5, 6], vec![9, 11]),
        (vec![1, 3, 300], vec![7]),
        (vec![1, 2, 3, 9, 10], vec![2, 4, 7]),
    ] {
        hand(PoolOp::AdaptiveAvg(out.clone()), &dims);
        hand(PoolOp::AdaptiveMax(out), &dims);
    }
}

#[test]
fn max_nan_and_signed_zero_rules() {
    // Ties between -0.0 and +0.0 keep the first; NaN wins over anything, the last NaN wins.
    let shape = TensorShape::nchw(&[1, 1, 2, 40]).expect("shape");
    let mut x = vec![0.0f32; 80];
    for (i, v) in x.iter_mut().enumerate() {
        *v = match i % 5 {
            0 => -0.0,
            1 => 0.0,
            2 if i % 7 == 0 => f32::NAN,
            3 => f32::NEG_INFINITY,
            _ => -0.0,
        };
    }
    for op in [
        PoolOp::max(win(&[2, 2], &[2, 2], &[0, 0])),
        PoolOp::max(win(&[2, 3], &[1, 2], &[1, 1])),
        PoolOp::max(win(&[1, 5], &[1, 1], &[0, 2])),
    ] {
        check_all(&op, &x, &shape);
    }
}

#[test]
fn simd_level_is_tested_here() {
    // The levels the tests force are exactly the ones the CPU has (under the SIMDPOOL_ISA cap):
    // on AArch64 (native or under QEMU) NEON, on x86-64 every AVX level the CPU has, so a run
    // cannot silently test only the portable kernels.
    check_levels(&Isa::available());
    #[cfg(target_arch = "aarch64")]
    if isa_cap().is_none() {
        assert!(Isa::available().contains(&Isa::Neon), "NEON must be available on aarch64");
    }
}
