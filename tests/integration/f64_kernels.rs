//! `f64` SIMD kernels (the channels-first separable nests, the channels-last lanes, the global
//! and the argmax kernels: the same family code as `f32`): on random shapes, every level this
//! machine has gives the same bits as the portable kernels (the scalar level), for every op, and
//! max with indices the same values and indices; max and its NaN and signed-zero choices, and
//! the indices, also equal the reference bit for bit. Every generated case is valid by
//! construction (each axis draws its window first and then an input length that admits it), so
//! every case compares outputs.

use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use simdpool::{AvgOptions, Isa, Plan, PlanOptions, PoolOp, Route, TensorShape, Window, reference};

/// Deterministic input with NaN, +-inf and -0.0 mixed in, and repeated values (ties).
fn data(len: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match s % 61 {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                3 => -0.0,
                4..=20 => ((s >> 20) % 9) as f64 - 4.0,
                _ => (s >> 11) as f64 / (1u64 << 53) as f64 * 16.0 - 8.0,
            }
        })
        .collect()
}

#[derive(Clone, Debug)]
struct Case {
    op: PoolOp,
    shape: TensorShape,
    seed: u64,
}

/// One spatial axis of a windowed case: (kernel, stride, dilation, padding, length).
type Axis = (usize, usize, usize, usize, usize);

/// One axis: kernel, stride, dilation, symmetric padding of at most `k / 2`, and an input length
/// the dilated window fits.
fn axis() -> impl Strategy<Value = Axis> {
    (1usize..=4, 1usize..=3, 1usize..=2).prop_flat_map(|(k, s, d)| {
        let span = d * (k - 1) + 1;
        (Just(k), Just(s), Just(d), 0..=k / 2, span..span + 12)
    })
}

/// A windowed case of the layout `first` (channels-first when true) over `axes`.
fn case_of(first: bool, axes: &[Axis], n: usize, c: usize, kind: u8, flag: bool, seed: u64) -> Case {
    let k: Vec<usize> = axes.iter().map(|a| a.0).collect();
    let s: Vec<usize> = axes.iter().map(|a| a.1).collect();
    let d: Vec<usize> = axes.iter().map(|a| a.2).collect();
    let p: Vec<usize> = axes.iter().map(|a| a.3).collect();
    let spatial: Vec<usize> = axes.iter().map(|a| a.4).collect();
    let w = Window::new(&k).stride(&s).dilation(&d).padding(&p).ceil_mode(flag);
    let op = op_of(kind, w, flag, &spatial);
    let shape = if first {
        TensorShape::nchw(&[&[n, c][..], &spatial].concat()).unwrap()
    } else {
        TensorShape::nhwc(&[&[n][..], &spatial, &[c]].concat()).unwrap()
    };
    Case { op, shape, seed }
}

fn case(first: bool) -> impl Strategy<Value = Case> {
    let windowed = (1usize..=3).prop_flat_map(|rank| {
        (proptest::collection::vec(axis(), rank), 1usize..=2, 1usize..=70, 0u8..8, any::<bool>(), any::<u64>())
    });
    windowed.prop_map(move |(axes, n, c, kind, flag, seed)| case_of(first, &axes, n, c, kind, flag, seed))
}

/// Channels-first maps the separable nests take by their other branches: planes taller than the
/// plane nest's band, rows wider than a column tile, wide windows (the NaN-free max fold).
fn wide_case() -> impl Strategy<Value = Case> {
    let y = (1usize..=9, 1usize..=2, 0usize..=4, 1usize..=150);
    let x = (1usize..=9, 1usize..=4, 0usize..=4, 1usize..=1100);
    (y, x, 1usize..=2, 0u8..8, any::<bool>(), any::<u64>()).prop_map(
        |((ky, sy, py, h), (kx, sx, px, w), n, kind, flag, seed)| {
            let axes = [(ky, sy, 1, py.min(ky / 2), h.max(ky)), (kx, sx, 1, px.min(kx / 2), w.max(kx))];
            case_of(true, &axes, n, 2, kind, flag, seed)
        },
    )
}

fn op_of(kind: u8, w: Window, flag: bool, spatial: &[usize]) -> PoolOp {
    match kind {
        0 => PoolOp::max(w),
        1 => PoolOp::Avg(w, AvgOptions { count_include_pad: flag, divisor_override: None }),
        2 => PoolOp::Avg(w, AvgOptions { count_include_pad: true, divisor_override: Some(3) }),
        3 => PoolOp::lp(w, 1.0),
        4 => PoolOp::lp(w, 2.0),
        5 => PoolOp::lp(w, 2.5),
        6 => PoolOp::AdaptiveAvg(spatial.iter().map(|l| l.div_ceil(2)).collect()),
        _ => PoolOp::AdaptiveMax(spatial.iter().map(|l| (2 * l).div_ceil(3)).collect()),
    }
}

fn global_case() -> impl Strategy<Value = Case> {
    (1usize..=3, 1usize..=2, 1usize..=70, 1usize..=40, any::<bool>(), any::<bool>(), any::<u64>()).prop_map(
        |(rank, n, c, len, max, last, seed)| {
            let mut spatial = vec![len; rank];
            spatial[0] = len + 3;
            let op = if max { PoolOp::GlobalMax } else { PoolOp::GlobalAvg };
            let shape = if last {
                let mut dims = vec![n];
                dims.extend(&spatial);
                dims.push(c);
                TensorShape::nhwc(&dims).unwrap()
            } else {
                let mut dims = vec![n, c];
                dims.extend(&spatial);
                TensorShape::nchw(&dims).unwrap()
            };
            Case { op, shape, seed }
        },
    )
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Runs `case` at every level; all equal the scalar level's bits, max also the reference's.
/// Returns whether the case was valid (an invalid window, e.g. ceil mode's empty last window, is
/// rejected identically at every level and by the reference).
fn check(case: &Case) -> Result<(), TestCaseError> {
    let x = data(case.shape.len(), case.seed);
    let scalar = Plan::<f64>::with_options(&case.op, &case.shape, PlanOptions::isa(Isa::Scalar).calling_thread());
    let want = reference::pool::<f64>(&case.op, &x, &case.shape);
    let scalar = match (scalar, want) {
        (Ok(plan), Ok(want)) => (plan, want),
        (Err(a), Err(b)) => {
            prop_assert_eq!(a, b);
            return Err(TestCaseError::reject("no output of this size"));
        }
        (a, b) => return Err(TestCaseError::fail(format!("plan {a:?} vs reference {b:?}"))),
    };
    let (plan, want) = scalar;
    let mut base = vec![0.0; plan.output_len()];
    plan.run(&x, &mut base).unwrap();
    if matches!(case.op, PoolOp::Max(_) | PoolOp::GlobalMax) {
        prop_assert_eq!(bits(&base), bits(&want.values), "scalar level vs reference");
    }
    // Max with indices: the scalar level's indices are the reference's, and every level's values
    // and indices are the scalar level's.
    let with_indices = |plan: &Plan<f64>| {
        let (mut y, mut i) = (vec![0.0; plan.output_len()], vec![0i64; plan.output_len()]);
        plan.run_with_indices(&x, &mut y, &mut i).map(|()| (bits(&y), i))
    };
    let base_indices = if case.op.has_indices() {
        let got = with_indices(&plan).unwrap();
        prop_assert_eq!(&got.0, &bits(&want.values), "scalar level with indices vs reference");
        prop_assert_eq!(Some(&got.1), want.indices.as_ref(), "scalar level indices vs reference");
        Some(got)
    } else {
        None
    };
    for isa in Isa::available() {
        let plan = Plan::<f64>::with_options(&case.op, &case.shape, PlanOptions::isa(isa).calling_thread()).unwrap();
        // General Lp has its terms only in the plane and lean nests: its other shapes run the
        // portable kernel, and the plan says so.
        let general_lp = matches!(case.op, PoolOp::Lp(_, p) if p != 1.0 && p != 2.0);
        if isa != Isa::Scalar && !general_lp {
            prop_assert!(plan.route() != Route::Portable, "{} {:?}", isa, case);
        }
        let mut y = vec![0.0; plan.output_len()];
        plan.run(&x, &mut y).unwrap();
        prop_assert_eq!(bits(&y), bits(&base), "{} ({:?})", isa, plan.route());
        if let Some(base_indices) = &base_indices {
            if isa != Isa::Scalar {
                prop_assert!(plan.indices_route() != Some(Route::Portable), "{} {:?}", isa, case);
            }
            prop_assert_eq!(&with_indices(&plan).unwrap(), base_indices, "{} with indices", isa);
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        // Ceil mode can leave no window on a short axis: those few cases are rejected (and
        // checked to be rejected identically by the plan and the reference).
        max_global_rejects: 4096,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn f64_windows_channels_last_match_the_portable_kernels(case in case(false)) {
        check(&case)?;
    }

    #[test]
    fn f64_windows_channels_first_match_the_portable_kernels(case in case(true)) {
        check(&case)?;
    }

    #[test]
    fn f64_channels_first_tall_wide_and_wide_window_maps_match_the_portable_kernels(case in wide_case()) {
        check(&case)?;
    }

    #[test]
    fn f64_global_matches_the_portable_kernels(case in global_case()) {
        check(&case)?;
    }
}

#[test]
fn f64_global_over_large_channels_last_planes_and_every_vector_tail() {
    // 1024+ pixels take the pixel-block tree; channel counts cover every tail of 2, 4 and 8 lanes.
    for c in [1, 3, 5, 7, 8, 9, 15, 17, 33] {
        for op in [PoolOp::GlobalAvg, PoolOp::GlobalMax] {
            check(&Case { op, shape: TensorShape::nhwc(&[2, 40, 41, c]).unwrap(), seed: c as u64 }).unwrap();
        }
    }
}

#[test]
fn f64_channels_first_suite_shapes_at_vector_tails() {
    // The suite's channels-first layers (each nest's specialised kernels) at sizes that leave
    // every tail of 2, 4 and 8 lanes, with every op.
    let shapes: [(&[Axis], usize); 7] = [
        (&[(3, 2, 1, 1, 37), (3, 2, 1, 1, 45)], 2),
        (&[(2, 2, 1, 0, 16), (2, 2, 1, 0, 33)], 3),
        (&[(3, 1, 1, 1, 17), (3, 1, 1, 1, 19)], 2),
        (&[(5, 1, 1, 2, 20), (5, 1, 1, 2, 23)], 2),
        (&[(4, 4, 1, 0, 403)], 3),
        (&[(2, 2, 1, 0, 6), (2, 2, 1, 0, 10), (2, 2, 1, 0, 21)], 2),
        (&[(3, 1, 1, 1, 5), (3, 1, 1, 1, 6), (3, 1, 1, 1, 13)], 2),
    ];
    for (i, (axes, c)) in shapes.iter().enumerate() {
        for kind in 0..8 {
            for flag in [false, true] {
                check(&case_of(true, axes, 2, *c, kind, flag, i as u64 * 7 + u64::from(kind))).unwrap();
            }
        }
    }
}
