//! Backward passes: on random shapes, ops, layouts and float types, every level's plan backward
//! (from the forward input; for max also from the forward indices; for averages also from the
//! output gradient alone) gives the same bits as the scalar level and as 1, 2 and 3 threads, and
//! agrees with `reference::pool_backward` within
//!
//! `|got - want| <= (72 * eps_acc + 4 * eps_out) * m + eps_out * |want| + tiny_out`
//!
//! where `m` is the reference backward of `|grad_output|` (with `|x|` for Lp: the sum of the
//! shares' magnitudes), `eps_acc` the epsilon of the accumulator (`f32`, or `f64` for `f64`): at most 27
//! windows hold one element here, and each share carries a few roundings of its own (the
//! division, or Lp's `pow`); Lp's shares also depend on the forward output `y`, which the plan
//! and the reference each round to the element type (`4 * eps_out`: up to an ulp, times `p - 1`). Fixed cases: overlapping windows sharing an argmax, ties, NaN, and
//! every error.

use crate::common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use simdpool::{
    AvgOptions, DType, Element, Layout, Plan, PlanOptions, PoolError, PoolOp, TensorShape, Window, bf16, f16, reference,
};

#[derive(Clone, Debug)]
struct Case {
    layout: Layout,
    batch: usize,
    channels: usize,
    spatial: Vec<usize>,
    op: PoolOp,
    raw: Vec<(u8, u8)>,
}

fn op_strategy(rank: usize) -> impl Strategy<Value = PoolOp> {
    let window =
        prop::collection::vec((1usize..=3, 1usize..=3, 1usize..=2, 0usize..=1, any::<bool>()), rank).prop_map(|axes| {
            let k: Vec<usize> = axes.iter().map(|a| a.0).collect();
            let s: Vec<usize> = axes.iter().map(|a| a.1).collect();
            let d: Vec<usize> = axes.iter().map(|a| a.2).collect();
            let p: Vec<usize> = axes.iter().map(|a| a.3.min(a.0 / 2)).collect();
            Window::new(&k).stride(&s).dilation(&d).padding(&p).ceil_mode(axes[0].4)
        });
    prop_oneof![
        window.clone().prop_map(PoolOp::Max),
        (window.clone(), any::<bool>(), prop::option::of(-3i64..=9)).prop_map(|(w, inc, over)| {
            PoolOp::Avg(w, AvgOptions { count_include_pad: inc, divisor_override: over.filter(|d| *d != 0) })
        }),
        (window, prop::sample::select(vec![1.0, 2.0, 3.0, 1.5])).prop_map(|(w, p)| PoolOp::Lp(w, p)),
        Just(PoolOp::GlobalMax),
        Just(PoolOp::GlobalAvg),
        prop::collection::vec(1usize..=7, rank).prop_map(PoolOp::AdaptiveMax),
        prop::collection::vec(1usize..=7, rank).prop_map(PoolOp::AdaptiveAvg),
    ]
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..=3)
        .prop_flat_map(|rank| {
            (
                prop::sample::select(vec![Layout::ChannelsFirst, Layout::ChannelsLast]),
                1usize..=2,
                1usize..=19,
                prop::collection::vec(3usize..=9, rank),
                op_strategy(rank),
            )
        })
        .prop_flat_map(|(layout, batch, channels, spatial, op)| {
            let len = batch * channels * spatial.iter().product::<usize>();
            prop::collection::vec((any::<u8>(), any::<u8>()), len).prop_map(move |raw| Case {
                layout,
                batch,
                channels,
                spatial: spatial.clone(),
                op: op.clone(),
                raw,
            })
        })
}

/// Values with many ties (multiples of 1/2 in [-4, 4]) and, one in four, fractions.
fn value(r: u8) -> f64 {
    if r.is_multiple_of(4) { (r as f64 / 255.0) * 7.3 - 3.1 } else { ((r % 17) as f64 - 8.0) / 2.0 }
}

fn eps_acc(d: DType) -> f64 {
    if d == DType::F64 { f64::EPSILON } else { f32::EPSILON as f64 }
}

fn eps_out(d: DType) -> f64 {
    match d {
        DType::F16 => 2f64.powi(-10),
        DType::BF16 => 2f64.powi(-7),
        _ => 0.0,
    }
}

/// All three backward entry points the op has, at one level and threading; each must write
/// every element (the buffers start as NaN) and all must agree bit for bit.
fn plan_backward<T: Element>(plan: &Plan<T>, op: &PoolOp, x: &[T], go: &[T]) -> Vec<T> {
    let mut y = vec![T::zeroed(); plan.output_len()];
    let mut idx = vec![0i64; plan.output_len()];
    if op.has_indices() {
        plan.run_with_indices(x, &mut y, &mut idx).unwrap();
    } else {
        plan.run(x, &mut y).unwrap();
    }
    let nan = T::from_f64(f64::NAN);
    let mut gx = vec![nan; plan.input_len()];
    plan.backward_from_input(x, &y, go, &mut gx).unwrap();
    if op.has_indices() {
        let mut g2 = vec![nan; plan.input_len()];
        plan.backward_with_indices(&idx, go, &mut g2).unwrap();
        assert_bits_eq(&g2, &gx, "with indices vs from input");
        assert!(matches!(plan.backward(go, &mut g2), Err(PoolError::BackwardNeeds { .. })));
    } else if !matches!(op, PoolOp::Lp(..)) {
        let mut g2 = vec![nan; plan.input_len()];
        plan.backward(go, &mut g2).unwrap();
        assert_bits_eq(&g2, &gx, "output gradient alone vs from input");
    }
    gx
}

fn run_case<T: Element>(c: &Case) -> Result<(), TestCaseError> {
    let shape = TensorShape::new(c.layout, c.batch, c.channels, &c.spatial).unwrap();
    let Ok(out_shape) = c.op.output_shape(&shape) else {
        return Ok(()); // a window this input cannot hold (the forward tests cover the error)
    };
    if Plan::<T>::new(&c.op, &shape).is_err() {
        return Ok(());
    }
    let x: Vec<T> = c.raw.iter().map(|r| T::from_f64(value(r.0))).collect();
    let go: Vec<T> = c
        .raw
        .iter()
        .take(out_shape.len())
        .chain(c.raw.iter().cycle())
        .take(out_shape.len())
        .map(|r| T::from_f64(value(r.1)))
        .collect();
    let want = reference::pool_backward(&c.op, &x, &shape, &go).unwrap();
    // Max and average: the bits of increasing-output-order accumulation in the accumulator type.
    let exact =
        (!matches!(c.op, PoolOp::Lp(..))).then(|| reference::pool_backward_in_order(&c.op, &x, &shape, &go).unwrap());
    let abs = |v: &[T]| v.iter().map(|e| T::from_f64(e.to_f64().abs())).collect::<Vec<T>>();
    // The shares' magnitudes: |g| with the same argmaxes and divisors; Lp's y is the same for |x|.
    let x_mag = if matches!(c.op, PoolOp::Lp(..)) { abs(&x) } else { x.clone() };
    let mag = reference::pool_backward(&c.op, &x_mag, &shape, &abs(&go)).unwrap();
    let mut first: Option<Vec<T>> = None;
    for isa in isas() {
        let plan = Plan::<T>::with_options(&c.op, &shape, PlanOptions::isa(isa)).unwrap();
        let got = plan_backward(&plan, &c.op, &x, &go);
        let one = Plan::<T>::with_options(&c.op, &shape, PlanOptions::isa(isa).calling_thread()).unwrap();
        assert_bits_eq(&plan_backward(&one, &c.op, &x, &go), &got, &format!("{isa}: calling thread"));
        for (i, ((g, w), m)) in got.iter().zip(&want).zip(&mag).enumerate() {
            let (g, w, m) = (g.to_f64(), w.to_f64(), m.to_f64().abs());
            let tiny = if T::DTYPE == DType::F64 { f64::from_bits(1) } else { 1e-30 };
            let bound = (72.0 * eps_acc(T::DTYPE) + 4.0 * eps_out(T::DTYPE)) * m + eps_out(T::DTYPE) * w.abs() + tiny;
            prop_assert!(
                (g - w).abs() <= bound || (g.is_nan() && w.is_nan()),
                "{isa} element {i}: got {g}, want {w}, bound {bound}"
            );
        }
        if let Some(exact) = &exact {
            assert_bits_eq(&got, exact, &format!("{isa} vs the in-order reference"));
        }
        match &first {
            None => first = Some(got),
            Some(f) => assert_bits_eq(&got, f, &format!("{isa} vs the scalar level")),
        }
    }
    Ok(())
}

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn f32_backward_matches_the_reference(c in case_strategy()) {
        run_case::<f32>(&c)?;
    }

    #[test]
    fn f64_backward_matches_the_reference(c in case_strategy()) {
        run_case::<f64>(&c)?;
    }

    #[test]
    fn f16_and_bf16_backward_match_the_reference(c in case_strategy()) {
        run_case::<f16>(&c)?;
        run_case::<bf16>(&c)?;
    }
}

/// Backward on rayon pools of 1, 2 and 3 threads: the same bits (inputs large enough to split).
#[test]
fn thread_counts_give_the_same_bits() {
    let w = Window::new(&[3, 3]).stride(&[1, 1]).padding(&[1, 1]);
    let ops = [
        PoolOp::max(w.clone()),
        PoolOp::Avg(w.clone(), AvgOptions::default()),
        PoolOp::lp(w, 3.0),
        PoolOp::GlobalMax,
        PoolOp::AdaptiveAvg(vec![5, 7]),
    ];
    for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
        let shape = TensorShape::new(layout, 2, 24, &[40, 44]).unwrap();
        let x: Vec<f32> = (0..shape.len()).map(|i| value((i * 37 % 251) as u8) as f32).collect();
        for op in &ops {
            let plan = Plan::<f32>::new(op, &shape).unwrap();
            let go: Vec<f32> = (0..plan.output_len()).map(|i| value((i * 11 % 253) as u8) as f32).collect();
            let mut results = Vec::new();
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                results.push(pool.install(|| plan_backward(&plan, op, &x, &go)));
            }
            assert_bits_eq(&results[1], &results[0], &format!("{op:?} {layout:?}: 2 threads"));
            assert_bits_eq(&results[2], &results[0], &format!("{op:?} {layout:?}: 3 threads"));
        }
    }
}

/// Overlapping windows whose argmax is shared add their gradients; ties go to the first
/// maximum; NaN takes the gradient (the last NaN of a window); padding receives nothing.
#[test]
fn max_gradients_follow_the_scan_rule() {
    let shape = TensorShape::nchw(&[1, 1, 6]).unwrap();
    // Windows of 3, stride 1, pad 1: [pad,0,1] [0,1,2] [1,2,3] [2,3,4] [3,4,5] [4,5,pad].
    let op = PoolOp::max(Window::new(&[3]).stride(&[1]).padding(&[1]));
    let x = [1.0f32, 9.0, 9.0, f32::NAN, 2.0, f32::NAN];
    let go = [1.0f32, 2.0, 4.0, 8.0, 16.0, 32.0];
    // argmaxes: 1 (tie, first), 1, 3 (NaN), 3, 5 (last NaN), 5.
    let want = [0.0f32, 3.0, 0.0, 12.0, 0.0, 48.0];
    assert_eq!(reference::pool_backward(&op, &x, &shape, &go).unwrap(), want);
    for isa in isas() {
        let plan = Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(isa)).unwrap();
        assert_eq!(plan_backward(&plan, &op, &x, &go), want, "{isa}");
    }
}

#[test]
fn average_gradients_skip_padding_but_keep_its_divisor() {
    let shape = TensorShape::nchw(&[1, 1, 4]).unwrap();
    let w = Window::new(&[3]).stride(&[1]).padding(&[1]);
    let go = [3.0f32, 6.0, 9.0, 12.0];
    let x = [0.0f32; 4];
    for (include, want) in
        [(true, [3.0f32, 6.0, 9.0, 7.0]), (false, [1.5 + 2.0, 1.5 + 2.0 + 3.0, 2.0 + 3.0 + 6.0, 3.0 + 6.0])]
    {
        let op = PoolOp::Avg(w.clone(), AvgOptions { count_include_pad: include, divisor_override: None });
        assert_eq!(reference::pool_backward(&op, &x, &shape, &go).unwrap(), want, "include {include}");
        for isa in isas() {
            let plan = Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(isa)).unwrap();
            assert_eq!(plan_backward(&plan, &op, &x, &go), want, "{isa} include {include}");
        }
    }
}

#[test]
fn lp_gradient_is_the_analytic_derivative() {
    let shape = TensorShape::nchw(&[1, 1, 4]).unwrap();
    let op = PoolOp::lp(Window::new(&[2]), 2.0);
    // y = (5, 0): d/dx sqrt(x0^2 + x1^2) = x / y; a zero output passes nothing.
    let x = [3.0f32, -4.0, 0.0, 0.0];
    let want = [0.6f32 * 10.0, -0.8 * 10.0, 0.0, 0.0];
    assert_eq!(reference::pool_backward(&op, &x, &shape, &[10.0f32, 7.0]).unwrap(), want);
    for isa in isas() {
        let plan = Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(isa)).unwrap();
        assert_eq!(plan_backward(&plan, &op, &x, &[10.0, 7.0]), want, "{isa}");
    }
}

#[test]
fn bad_backward_requests_are_errors_and_write_nothing() {
    let shape = TensorShape::nchw(&[1, 2, 4, 4]).unwrap();
    let op = PoolOp::max(Window::new(&[2, 2]));
    let plan = Plan::<f32>::new(&op, &shape).unwrap();
    let go = [1.0f32; 8];
    let mut gx = [7.0f32; 32];
    for (bad, position) in [(-1i64, 3usize), (16, 5), (i64::MAX, 0), (i64::MIN, 7)] {
        let mut idx = [0i64; 8];
        idx[position] = bad;
        let e = plan.backward_with_indices(&idx, &go, &mut gx).unwrap_err();
        assert_eq!(e, PoolError::IndexOutOfPlane { position, index: bad, plane: 16 });
        assert!(e.to_string().contains("outside its plane"), "{e}");
        assert_eq!(gx, [7.0; 32], "nothing written");
        let e = reference::max_pool_backward_with_indices(&shape, &op.output_shape(&shape).unwrap(), &idx, &go);
        assert!(matches!(e, Err(PoolError::IndexOutOfPlane { index, .. }) if index == bad));
    }
    let e = plan.backward_with_indices(&[0; 7], &go, &mut gx).unwrap_err();
    assert!(matches!(e, PoolError::BufferLength { buffer: "indices", .. }), "{e}");
    let e = plan.backward(&go, &mut gx).unwrap_err();
    assert!(matches!(e, PoolError::BackwardNeeds { op: "max", .. }), "{e}");
    let e = plan.backward_from_input(&[0.0; 31], &go, &go, &mut gx).unwrap_err();
    assert!(matches!(e, PoolError::BufferLength { buffer: "input", .. }), "{e}");
    let e = plan.backward_from_input(&[0.0; 32], &go, &go, &mut gx[..31]).unwrap_err();
    assert!(matches!(e, PoolError::BufferLength { buffer: "grad_input", .. }), "{e}");
    let avg = Plan::<f32>::new(&PoolOp::Avg(Window::new(&[2, 2]), AvgOptions::default()), &shape).unwrap();
    let e = avg.backward_with_indices(&[0; 8], &go, &mut gx).unwrap_err();
    assert!(matches!(e, PoolError::IndicesUnsupported { .. }), "{e}");
    let e = avg.backward(&go[..7], &mut gx).unwrap_err();
    assert!(matches!(e, PoolError::BufferLength { buffer: "grad_output", .. }), "{e}");
    let lp = Plan::<f32>::new(&PoolOp::lp(Window::new(&[2, 2]), 2.0), &shape).unwrap();
    assert!(matches!(lp.backward(&go, &mut gx), Err(PoolError::BackwardNeeds { op: "lp", .. })));
    assert_eq!(gx, [7.0; 32], "nothing written on any error");
    // Integer types have no gradient.
    let p8 = Plan::<u8>::new(&op, &shape).unwrap();
    let e = p8.backward_from_input(&[0; 32], &[0; 8], &[1; 8], &mut [0; 32]).unwrap_err();
    assert_eq!(e, PoolError::NoGradient { dtype: "u8" });
    assert!(e.to_string().contains("no gradient"), "{e}");
    let e = reference::pool_backward::<i8>(&op, &[0; 32], &shape, &[1; 8]).unwrap_err();
    assert_eq!(e, PoolError::NoGradient { dtype: "i8" });
}

/// An index may name any element of its plane, not only one of its own window (PyTorch's
/// scatter): each output's gradient still goes to that element, on every level and thread
/// count, in both layouts and every float type. Gradients are small integers, so every sum is
/// exact and the reference's bits are the plan's.
#[test]
fn max_gradients_go_to_indices_outside_their_windows() {
    fn check<T: Element>(layout: Layout, spatial: &[usize], seed: usize) {
        let shape = TensorShape::new(layout, 2, 3, spatial).unwrap();
        let rank = spatial.len();
        let op = PoolOp::max(Window::new(&vec![2; rank]).stride(&vec![1; rank]));
        let out = op.output_shape(&shape).unwrap();
        let plane = shape.plane();
        let mut state = seed as u64 * 0x9E37_79B9 + 1;
        let mut next = move || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        // Indices cluster on a few elements so that several outputs share one.
        let idx: Vec<i64> = (0..out.len()).map(|_| (next() % plane.min(7) * (plane / 7).max(1)) as i64).collect();
        let go: Vec<T> = (0..out.len()).map(|_| T::from_f64((next() % 5) as f64 - 2.0)).collect();
        let want = reference::max_pool_backward_with_indices(&shape, &out, &idx, &go).unwrap();
        for isa in isas() {
            for threads in [1, 2, 3] {
                let plan = Plan::<T>::with_options(&op, &shape, PlanOptions::isa(isa)).unwrap();
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                let mut gx = vec![T::from_f64(f64::NAN); shape.len()];
                pool.install(|| plan.backward_with_indices(&idx, &go, &mut gx)).unwrap();
                assert_bits_eq(&gx, &want, &format!("{:?} {layout:?} {spatial:?} {isa} x{threads}", T::DTYPE));
            }
        }
    }
    for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
        for (seed, spatial) in [vec![9], vec![6, 7], vec![3, 4, 5], vec![40, 44]].into_iter().enumerate() {
            check::<f32>(layout, &spatial, seed);
            check::<f64>(layout, &spatial, seed);
            check::<f16>(layout, &spatial, seed);
            check::<bf16>(layout, &spatial, seed);
        }
    }
}

/// Overlapping windows on wide rows with gradients of full mantissa, so the order of additions
/// shows in the bits: every level, on the calling thread and split over 3 threads, in both
/// layouts, gives exactly `reference::pool_backward_in_order` (shares added in increasing output
/// order in the accumulator type).
#[test]
fn gradients_add_in_increasing_output_order() {
    let windows = [
        (vec![3, 3], vec![1, 1], vec![1, 1], vec![1, 1]),
        (vec![5, 3], vec![2, 1], vec![2, 1], vec![1, 1]),
        (vec![3, 4], vec![1, 3], vec![0, 2], vec![1, 2]),
        (vec![2, 3], vec![1, 2], vec![0, 1], vec![2, 1]),
        // Windows that tile the row (stride = kernel), with and without padding.
        (vec![2, 2], vec![2, 2], vec![1, 0], vec![1, 1]),
        (vec![3, 3], vec![2, 3], vec![0, 1], vec![1, 1]),
        (vec![1, 4], vec![1, 4], vec![0, 2], vec![1, 1]),
    ];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
        let shape = TensorShape::new(layout, 2, 5, &[11, 300]).unwrap();
        // Adaptive windows that overlap their neighbours (300 -> 123, 11 -> 4).
        let adaptive = [PoolOp::AdaptiveAvg(vec![4, 123]), PoolOp::AdaptiveMax(vec![7, 77])];
        let windowed = windows.iter().flat_map(|(k, s, p, d)| {
            let w = Window::new(k).stride(s).padding(p).dilation(d).ceil_mode(true);
            [
                PoolOp::Avg(w.clone(), AvgOptions { count_include_pad: false, divisor_override: None }),
                PoolOp::Avg(w.clone(), AvgOptions { count_include_pad: true, divisor_override: None }),
                PoolOp::Avg(w.clone(), AvgOptions { count_include_pad: true, divisor_override: Some(7) }),
                PoolOp::Max(w),
            ]
        });
        for ops in [windowed.collect::<Vec<_>>(), adaptive.to_vec()] {
            for op in &ops {
                let x: Vec<f32> = (0..shape.len()).map(|_| next()).collect();
                let go: Vec<f32> = (0..op.output_shape(&shape).unwrap().len()).map(|_| next()).collect();
                let want = reference::pool_backward_in_order(op, &x, &shape, &go).unwrap();
                for isa in isas() {
                    for threads in [false, true] {
                        let options =
                            if threads { PlanOptions::isa(isa) } else { PlanOptions::isa(isa).calling_thread() };
                        let plan = Plan::<f32>::with_options(op, &shape, options).unwrap();
                        let got = pool.install(|| plan_backward(&plan, op, &x, &go));
                        assert_bits_eq(&got, &want, &format!("{isa} {layout:?} {op:?} threads {threads}"));
                    }
                }
            }
        }
    }
}
