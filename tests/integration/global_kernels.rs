//! Differential tests of the global f32 kernels: every ISA level available here, forced through
//! `PlanOptions::isa`, must give the same bits as the `Scalar` level (the portable kernels, which
//! define the canonical order), on shapes that hit every tail (planes 1..200 across ranks 1-3,
//! channels 1..70, batch 1..3; channels-last planes of 1024 to 5000 pixels in every float type)
//! with NaN, +-inf and -0.0 mixed in. Max values must be the reference's bit for bit and global max
//! indices the reference's exactly.
//!
//! Global max values are the element the scan rule selects (`PoolOp::GlobalMax`), bits included
//! (the sign of a zero maximum, the payload of the last NaN), from `Plan::run` as from
//! `Plan::run_with_indices`, equal to the reference's.
//!
//! One documented exception to bit-equality, outside what the canonical order can fix:
//! * The NaN payload and sign of an average: when two different NaNs meet in a sum (e.g. the
//!   default NaN of `inf + -inf` and an input NaN), IEEE 754 leaves the result's payload to the
//!   operand order, and LLVM may commute the additions of the portable kernel. NaN positions are
//!   exact; the payload is compared only for max.
//!
//! Average bound against the reference (which sums in f64 and rounds once): the canonical f32 sum
//! of a plane of `P` elements adds each element into a chain of at most `ceil(P / 64) + 6`
//! roundings (channels-first: a lane's partial sum, then the 6-level tree) or `P` roundings
//! (channels-last: pixel by pixel), so `|got - want| <= (P + 8) * 2^-24 * mean(|x|)` (plus the
//! final rounding of the division), which the test checks.

use crate::common;

use common::*;
use proptest::prelude::*;
use simdpool::{Element, Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape, bf16, f16, reference};

/// Values with ties or not, and specials at a chosen rate (see `common::special_values`).
fn values(len: usize) -> impl Strategy<Value = Vec<f32>> {
    special_values(len, 125.0)
}

/// Spatial dims of rank 1-3 whose plane has 1..=200 elements.
fn spatial() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        (1usize..=200).prop_map(|l| vec![l]),
        (1usize..=14, 1usize..=14).prop_map(|(h, w)| vec![h, w]),
        (1usize..=5, 1usize..=6, 1usize..=6).prop_map(|(d, h, w)| vec![d, h, w]),
    ]
}

fn case() -> impl Strategy<Value = (TensorShape, Vec<f32>)> {
    (1usize..=3, 1usize..=70, spatial(), any::<bool>()).prop_flat_map(|(n, c, sp, last)| {
        let layout = if last { Layout::ChannelsLast } else { Layout::ChannelsFirst };
        let shape = TensorShape::new(layout, n, c, &sp).expect("shape");
        let len = shape.len();
        (Just(shape), values(len))
    })
}

/// Bitwise equality, except that any two NaNs are equal (see the module docs).
fn assert_same(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "{what}: element {i}: {g:?} vs {w:?}");
    }
}

/// A 32-bit xorshift generator: deterministic inputs for the exhaustive tests.
fn xorshift(mut seed: u32) -> impl FnMut() -> u32 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    }
}

/// Values and indices from `Plan::run_with_indices`.
type WithIndices = (Vec<f32>, Vec<i64>);

/// `Plan::run`, and for max also `Plan::run_with_indices` (values bit-identical to `run`'s), on
/// one ISA level, on the calling thread.
fn run(op: &PoolOp, x: &[f32], shape: &TensorShape, isa: Isa) -> (Vec<f32>, Option<WithIndices>) {
    let plan = Plan::<f32>::with_options(op, shape, PlanOptions::isa(isa).calling_thread()).expect("plan");
    assert_eq!(plan.isa(), isa);
    let mut y = vec![0.0f32; plan.output_len()];
    plan.run(x, &mut y).expect("run");
    let with_idx = op.has_indices().then(|| {
        let mut v = vec![0.0f32; plan.output_len()];
        let mut i = vec![-1i64; plan.output_len()];
        plan.run_with_indices(x, &mut v, &mut i).expect("run_with_indices");
        assert_bits_eq(&v, &y, "run_with_indices vs run");
        (v, i)
    });
    (y, with_idx)
}

/// Runs `op` on every ISA level (calling thread) and checks it against the Scalar level and the
/// reference.
fn check(op: &PoolOp, shape: &TensorShape, x: &[f32]) {
    let (scalar, scalar_idx) = run(op, x, shape, Isa::Scalar);
    let want = reference::pool(op, x, shape).expect("reference");
    for isa in isas() {
        let (got, got_idx) = run(op, x, shape, isa);
        if *op == PoolOp::GlobalMax {
            assert_bits_eq(&got, &scalar, &format!("{op:?} {isa} vs scalar"));
            let ((gv, gi), (sv, si)) = (got_idx.unwrap(), scalar_idx.clone().unwrap());
            assert_bits_eq(&gv, &sv, &format!("{op:?} {isa} with indices vs scalar"));
            assert_eq!(gi, si, "{op:?} {isa}: indices vs scalar");
        } else {
            assert_same(&got, &scalar, &format!("{op:?} {isa} vs scalar"));
        }
    }
    let scalar = simdpool::Pooled { values: scalar, indices: scalar_idx.map(|(_, i)| i), shape: shape.clone() };
    match op {
        PoolOp::GlobalMax => {
            assert_max_eq(&scalar.values, &want.values, "global max vs reference");
            assert_eq!(scalar.indices, want.indices, "global max: indices vs reference");
        }
        _ => {
            let plane = shape.plane();
            let (n, c) = (shape.batch(), shape.channels());
            for (k, (g, w)) in scalar.values.iter().zip(&want.values).enumerate() {
                let (ni, ci) = (k / c, k % c);
                let mean_abs = (0..plane)
                    .map(|i| {
                        let at = match shape.layout() {
                            Layout::ChannelsFirst => (ni * c + ci) * plane + i,
                            Layout::ChannelsLast => (ni * plane + i) * c + ci,
                        };
                        x[at].abs() as f64
                    })
                    .sum::<f64>()
                    / plane as f64;
                let bound = (plane as f64 + 8.0) * f64::powi(2.0, -24) * mean_abs + f64::from(f32::MIN_POSITIVE);
                let (g, w) = (*g as f64, *w as f64);
                if g.is_nan() || w.is_nan() || g.is_infinite() || w.is_infinite() {
                    assert!(g == w || (g.is_nan() && w.is_nan()), "avg output {k}: got {g}, want {w}");
                } else {
                    assert!((g - w).abs() <= bound + w.abs() * f64::powi(2.0, -24), "avg output {k}: {g} vs {w}");
                }
            }
            let _ = n;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn global_max_every_isa_matches_scalar_and_reference((shape, x) in case()) {
        check(&PoolOp::GlobalMax, &shape, &x);
    }

    #[test]
    fn global_avg_every_isa_matches_scalar_and_reference((shape, x) in case()) {
        check(&PoolOp::GlobalAvg, &shape, &x);
    }
}

/// Planes of every length 1..=200 and channel counts around every register width, exhaustively
/// (no sampling), in both layouts.
#[test]
fn every_plane_tail_and_channel_tail() {
    let mut next = xorshift(0x9e37_79b9);
    for plane in 1..=200usize {
        for c in [1usize, 3, 4, 5, 8, 15, 16, 17, 33, 64, 65, 200, 257, 300] {
            if ((plane + c) % 3 != 0 && plane > 70) || (c > 70 && plane % 7 != 1) {
                continue;
            }
            for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
                let shape = TensorShape::new(layout, 1, c, &[plane]).unwrap();
                let x: Vec<f32> = (0..shape.len())
                    .map(|_| match next() % 97 {
                        0 => f32::NAN,
                        1 => f32::NEG_INFINITY,
                        2 => -0.0,
                        k => (k as f32 - 48.0) * 0.37,
                    })
                    .collect();
                for op in [PoolOp::GlobalMax, PoolOp::GlobalAvg] {
                    check(&op, &shape, &x);
                }
            }
        }
    }
}

/// A sum whose leaves are all -0.0 is +0.0 (the canonical sum starts at +0.0), on every path;
/// a plane of -inf has max -inf, and a max over ±0 keeps the first zero's sign.
#[test]
fn signed_zero_and_infinity_rules() {
    for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
        for plane in [1usize, 49, 64, 65, 130] {
            for c in [19usize, 300] {
                let shape = TensorShape::new(layout, 2, c, &[plane]).unwrap();
                let neg_zero = vec![-0.0f32; shape.len()];
                for isa in isas() {
                    let (avg, _) = run(&PoolOp::GlobalAvg, &neg_zero, &shape, isa);
                    assert!(avg.iter().all(|v| v.to_bits() == 0), "{isa}: mean of -0.0 is +0.0");
                    let (max, idx) = run(&PoolOp::GlobalMax, &neg_zero, &shape, isa);
                    assert!(max.iter().all(|v| v.to_bits() == (-0.0f32).to_bits()), "{isa}: max of -0.0");
                    let (vals, idx) = idx.unwrap();
                    assert!(vals.iter().all(|v| v.to_bits() == (-0.0f32).to_bits()), "{isa}: selected -0.0");
                    assert!(idx.iter().all(|&i| i == 0), "{isa}: first of equal maxima");
                    let ninf = vec![f32::NEG_INFINITY; shape.len()];
                    let (m, idx) = run(&PoolOp::GlobalMax, &ninf, &shape, isa);
                    assert!(m.iter().all(|&v| v == f32::NEG_INFINITY));
                    assert!(idx.unwrap().1.iter().all(|&i| i == 0));
                }
            }
        }
    }
}

/// Planes of 256 elements and more (the AVX-512 level runs them with 8-lane registers), and the
/// NaN-free fast max: in each group of planes some hold a NaN (the group is redone with the NaN
/// rule) and others do not; ties between +0.0 and -0.0 without NaNs (the fast max must keep the
/// same zero as the NaN rule); channel counts that leave partial groups; channels-last planes cut
/// into pixel blocks, with all-`-0.0` inputs (block sums of `-0.0`, mean `+0.0`).
#[test]
fn large_planes_nan_groups_and_zero_ties() {
    let mut next = xorshift(0x2545_f491);
    // Channels-last planes of 1024 pixels and more are cut into 2, 4 or 8 pixel blocks (3136: 4
    // blocks of 784; 4100: 8 blocks of 512 or 513), and 600 channels combine in two chunks.
    let shapes = [255usize, 256, 300, 512, 577, 1024, 3136, 4100]
        .into_iter()
        .flat_map(|plane| [1usize, 7, 17, 33].into_iter().map(move |c| (plane, c)))
        .chain([(1024, 600)]);
    for (plane, c) in shapes {
        {
            for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
                let shape = TensorShape::new(layout, 2, c, &[plane]).unwrap();
                for mode in 0..4 {
                    let x: Vec<f32> = (0..shape.len())
                        .map(|i| {
                            let r = next();
                            match mode {
                                // A NaN in about one plane in five.
                                0 if r.is_multiple_of(5 * plane as u32) => f32::NAN,
                                // Only zeros of both signs and negatives: maxima are zeros.
                                1 => [0.0, -0.0, -1.5][(r % 3) as usize],
                                // Zeros, then a NaN in plane 3 only.
                                2 if i / plane == 3 && r.is_multiple_of(7) => f32::NAN,
                                2 => [0.0, -0.0][(r % 2) as usize],
                                // Every element -0.0: sums of -0.0 blocks, whose mean is +0.0.
                                3 => -0.0,
                                _ => (r % 1000) as f32 * 0.25 - 125.0,
                            }
                        })
                        .collect();
                    for op in [PoolOp::GlobalMax, PoolOp::GlobalAvg] {
                        check(&op, &shape, &x);
                    }
                }
            }
        }
    }
}

/// Channels-first planes at every start offset within a 64-byte line (the lanes of the canonical
/// order count from each plane's first element, never from an aligned address), planes from just
/// under three 64-lane chunks to 3136 elements, NaNs and signed zeros included: the bits must not
/// depend on where the input starts.
#[test]
fn every_input_alignment() {
    let mut next = xorshift(0x9e37_79b9);
    for plane in [191usize, 192, 200, 257, 1000, 3136] {
        for c in [1usize, 3, 17] {
            let shape = TensorShape::new(Layout::ChannelsFirst, 1, c, &[plane]).unwrap();
            let len = shape.len();
            for mode in 0..3 {
                let big: Vec<f32> = (0..len + 16)
                    .map(|i| {
                        let r = next();
                        match mode {
                            0 if r.is_multiple_of(509) => f32::NAN,
                            1 => [0.0, -0.0, -2.5][(r % 3) as usize],
                            _ if i % 97 == 5 => -0.0,
                            _ => (r % 4096) as f32 * 0.125 - 256.0,
                        }
                    })
                    .collect();
                let mut first: Option<[Vec<f32>; 2]> = None;
                for offset in 0..16 {
                    let x = &big[offset..offset + len];
                    for op in [PoolOp::GlobalMax, PoolOp::GlobalAvg] {
                        check(&op, &shape, x);
                    }
                    // The same values at 16 consecutive addresses (so at every offset within a
                    // 64-byte line, wherever the buffer starts): every level gives the bits it
                    // gives at offset 0.
                    let mut buf = vec![0.0f32; len + 16];
                    buf[offset..offset + len].copy_from_slice(&big[..len]);
                    let x = &buf[offset..offset + len];
                    let outs = [PoolOp::GlobalMax, PoolOp::GlobalAvg].map(|op| {
                        let mut all = Vec::new();
                        for isa in isas() {
                            all.extend(run(&op, x, &shape, isa).0);
                        }
                        all
                    });
                    match &first {
                        None => first = Some(outs),
                        Some(f) => {
                            for (g, w) in outs.iter().zip(f) {
                                assert_same(g, w, &format!("plane {plane}, {c} channels, offset {offset}"));
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Maps raw bits to a value of any float type: mostly multiples of 1/8 in [-125, 125] (exact in
/// every type, many ties), and with `specials` (per ten thousand) NaN, +-inf and +-0.
fn typed_value<T: Element>(r: u32, specials: u32) -> T {
    if r % 10_000 < specials {
        return T::from_f64([f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0][(r / 10_000 % 5) as usize]);
    }
    T::from_f64(((r >> 14) % 2001) as f64 / 8.0 - 125.0)
}

/// Global max and average of one element type on every level, one thread and the default
/// threading: every result bit-identical to the Scalar level's, max values (bits) and indices
/// equal to the reference's, averages within `common::check_avg`'s per-output bound.
fn check_typed<T: Element>(shape: &TensorShape, x: &[T]) {
    for op in [PoolOp::GlobalMax, PoolOp::GlobalAvg] {
        let want = reference::pool(&op, x, shape).expect("reference");
        let scalar = run_plan(&op, x, shape, PlanOptions::isa(Isa::Scalar).calling_thread());
        for isa in isas() {
            for opts in [PlanOptions::isa(isa).calling_thread(), PlanOptions::isa(isa)] {
                let got = run_plan(&op, x, shape, opts);
                let what = format!("{op:?} {:?} on {shape:?} at {isa}, {:?}", T::DTYPE, opts.threading);
                assert_bits_eq(&got.values, &scalar.values, &what);
                assert_eq!(got.indices, scalar.indices, "{what}: indices");
            }
        }
        let what = format!("{op:?} {:?} on {shape:?}: scalar vs reference", T::DTYPE);
        if op == PoolOp::GlobalMax {
            assert_max_eq(&scalar.values, &want.values, &what);
            assert_eq!(scalar.indices, want.indices, "{what}: indices");
        } else if let Err(e) = check_avg(&op, x, shape, &scalar.values, &want.values) {
            panic!("{what}: {e}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Channels-last planes of 1024 to 5000 pixels (rank 1 to 3), which take the pixel-block
    /// tree for f32 and f64 (`global_tree`: 2, 4 or 8 blocks), with 1 to 70 channels and 1 or 2
    /// images (inputs up to 700,000 elements, above the threading threshold), in every float
    /// type; channels-first planes of the same sizes alongside.
    #[test]
    fn large_channels_last_planes_every_float_type(
        spatial in prop_oneof![
            (1024usize..=5000).prop_map(|p| vec![p]),
            (32usize..=70, 32usize..=70).prop_map(|(h, w)| vec![h, w]),
            (2usize..=5, 23usize..=31, 22usize..=32).prop_map(|(d, h, w)| vec![d, h, w]),
        ],
        channels in 1usize..=70,
        batch in 1usize..=2,
        last in prop_oneof![3 => Just(true), 1 => Just(false)],
        specials in prop_oneof![Just(0u32), Just(0), Just(1), Just(20)],
        seed in any::<u32>(),
    ) {
        let layout = if last { Layout::ChannelsLast } else { Layout::ChannelsFirst };
        let shape = TensorShape::new(layout, batch, channels, &spatial).expect("shape");
        let mut next = xorshift(seed | 1);
        let raw: Vec<u32> = (0..shape.len()).map(|_| next()).collect();
        check_typed::<f32>(&shape, &raw.iter().map(|&r| typed_value(r, specials)).collect::<Vec<_>>());
        check_typed::<f64>(&shape, &raw.iter().map(|&r| typed_value(r, specials)).collect::<Vec<_>>());
        check_typed::<f16>(&shape, &raw.iter().map(|&r| typed_value(r, specials)).collect::<Vec<_>>());
        check_typed::<bf16>(&shape, &raw.iter().map(|&r| typed_value(r, specials)).collect::<Vec<_>>());
    }
}
