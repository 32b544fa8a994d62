//! Differential tests: every op, layout, rank and element type, on random shapes and parameters,
//! through plans forced to every ISA level available here, against `simdpool::reference`; and
//! every level against the Scalar level bit for bit.
//!
//! Error bound for averages: `common::check_avg`, per output from its own valid taps `n` and
//! divisor `d`: `|got - want| <= (n + 2) * eps_sum * sum|x| / |d| + eps_out * max(|got|, |want|)`
//! (plus the smallest subnormal), where `eps_sum` is the epsilon of the accumulator (f32 or f64)
//! and `eps_out` that of the element type; integer means exactly. Lp of float types (all terms
//! non-negative): `|got - want| <= 2 (taps + 2) * eps_sum * |want| + eps_out * |want|`.

use crate::common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use simdpool::{
    AutoPad, AvgOptions, DType, Element, Isa, Layout, Plan, PlanOptions, PoolOp, Pooled, TensorShape, Window, bf16,
    f16, reference,
};

/// A random request: shape, op, and raw values in [0, 1) mapped per element type.
#[derive(Clone, Debug)]
struct Case {
    layout: Layout,
    batch: usize,
    channels: usize,
    spatial: Vec<usize>,
    op: PoolOp,
    raw: Vec<u32>,
}

/// A window of rank `rank`. With `fittable`, explicit pads stay below the dilated extent, so
/// some input length admits the window (see `common::fit_spatial`); without, pads go up to 3
/// whatever the kernel (the error test).
fn window_strategy(rank: usize, fittable: bool) -> impl Strategy<Value = Window> {
    (
        prop::collection::vec((1usize..=4, 1usize..=3, 1usize..=2), rank),
        0u8..4,
        prop::collection::vec((0usize..=3, 0usize..=3), rank),
        any::<bool>(),
    )
        .prop_map(move |(axes, pad_kind, pads, ceil)| {
            let kernel: Vec<usize> = axes.iter().map(|a| a.0).collect();
            let stride: Vec<usize> = axes.iter().map(|a| a.1).collect();
            let dilation: Vec<usize> = axes.iter().map(|a| a.2).collect();
            let w = Window::new(&kernel).stride(&stride).dilation(&dilation).ceil_mode(ceil);
            match pad_kind {
                0 => w,
                1 => w.padding(&kernel.iter().zip(&pads).map(|(k, p)| p.0.min(k / 2)).collect::<Vec<_>>()),
                2 => {
                    // The largest pad some length admits: one short of the dilated extent.
                    let most = |a: usize| if fittable { (axes[a].0 - 1) * axes[a].2 } else { usize::MAX };
                    let begin: Vec<usize> = pads.iter().enumerate().map(|(a, p)| p.0.min(most(a))).collect();
                    let end: Vec<usize> = pads.iter().enumerate().map(|(a, p)| p.1.min(most(a))).collect();
                    w.pads(&begin, &end)
                }
                _ => w.auto_pad([AutoPad::SameUpper, AutoPad::SameLower, AutoPad::Valid][pads[0].0 % 3]),
            }
        })
}

/// Any op of rank `rank` (windows as in [`window_strategy`]).
fn op_strategy(rank: usize, fittable: bool) -> impl Strategy<Value = PoolOp> {
    prop_oneof![
        window_strategy(rank, fittable).prop_map(PoolOp::Max),
        (window_strategy(rank, fittable), any::<bool>(), prop::option::of(-3i64..=9)).prop_map(|(w, inc, over)| {
            PoolOp::Avg(w, AvgOptions { count_include_pad: inc, divisor_override: over.filter(|d| *d != 0) })
        }),
        (window_strategy(rank, fittable), prop::sample::select(vec![1.0, 2.0, 3.0, 1.5]))
            .prop_map(|(w, p)| PoolOp::Lp(w, p)),
        Just(PoolOp::GlobalMax),
        Just(PoolOp::GlobalAvg),
        prop::collection::vec(1usize..=13, rank).prop_map(PoolOp::AdaptiveMax),
        prop::collection::vec(1usize..=13, rank).prop_map(PoolOp::AdaptiveAvg),
    ]
}

/// A valid request: the spatial extents are fitted to the window (`common::fit_spatial`), so
/// every case compares outputs.
fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..=3, any::<bool>(), 1usize..=2, prop_oneof![3 => 1usize..=5, 1 => 1usize..=70])
        .prop_flat_map(|(rank, last, batch, channels)| {
            let spatial = prop::collection::vec(1usize..=11, rank);
            let layout = if last { Layout::ChannelsLast } else { Layout::ChannelsFirst };
            (Just(layout), Just(batch), Just(channels), spatial, op_strategy(rank, true))
        })
        .prop_flat_map(|(layout, batch, channels, spatial, op)| {
            let shape = fit_spatial(&op, &TensorShape::new(layout, batch, channels, &spatial).expect("shape"));
            let spatial = shape.spatial().to_vec();
            (
                Just(layout),
                Just(batch),
                Just(channels),
                Just(spatial),
                Just(op),
                prop::collection::vec(any::<u32>(), shape.len()),
            )
        })
        .prop_map(|(layout, batch, channels, spatial, op, raw)| Case { layout, batch, channels, spatial, op, raw })
}

/// Maps raw bits to a value: mostly moderate numbers with many ties, sometimes NaN, ±inf, -0.0.
fn value<T: Element>(r: u32) -> T {
    let special = r % 23;
    let mag = ((r >> 8) % 2001) as f64 / 8.0 - 125.0; // multiples of 1/8 in [-125, 125]: exact, many ties
    let is_float = !matches!(T::DTYPE, DType::U8 | DType::I8);
    if is_float {
        match special {
            0 => return T::from_f64(f64::NAN),
            1 => return T::from_f64(f64::INFINITY),
            2 => return T::from_f64(f64::NEG_INFINITY),
            3 => return T::from_f64(-0.0),
            4 => return T::from_f64(0.0),
            _ => {}
        }
        T::from_f64(mag)
    } else if T::DTYPE == DType::U8 {
        T::from_f64(((r >> 8) % 256) as f64)
    } else {
        T::from_f64(((r >> 8) % 256) as f64 - 128.0)
    }
}

fn eps(d: DType) -> f64 {
    match d {
        DType::F32 => f32::EPSILON as f64,
        DType::F64 => f64::EPSILON,
        DType::F16 => f16::EPSILON.to_f64(),
        DType::BF16 => bf16::EPSILON.to_f64(),
        DType::U8 | DType::I8 => 0.0,
    }
}

fn sum_eps(d: DType) -> f64 {
    if d == DType::F64 { f64::EPSILON } else { f32::EPSILON as f64 }
}

/// Checks Lp outputs against the bound in the module docs: the terms are non-negative, so the
/// error of the sum, of each term's `pow` and of the root is relative to the output.
fn check_lp<T: Element>(got: &[T], want: &[T], taps: f64) -> Result<(), TestCaseError> {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64(), w.to_f64());
        if w.is_nan() || g.is_nan() || w.is_infinite() || g.is_infinite() {
            prop_assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "element {i}: got {g}, want {w}");
            continue;
        }
        let d = T::DTYPE;
        let bound = if matches!(d, DType::U8 | DType::I8) {
            // Lp of integers goes through pow and may differ by one at a rounding boundary.
            1.0
        } else {
            (taps + 2.0) * sum_eps(d) * w.abs() * 2.0 + eps(d) * w.abs() + 1e-300
        };
        prop_assert!((g - w).abs() <= bound, "element {i}: got {g}, want {w}, bound {bound}");
    }
    Ok(())
}

fn run_case<T: Element>(c: &Case) -> Result<(), TestCaseError> {
    let shape = TensorShape::new(c.layout, c.batch, c.channels, &c.spatial).unwrap();
    let x: Vec<T> = c.raw.iter().map(|&r| value(r)).collect();
    let want = reference::pool(&c.op, &x, &shape);
    let plan = Plan::<T>::new(&c.op, &shape);
    let want = match (want, plan) {
        (Ok(w), Ok(_)) => w,
        (a, b) => {
            return Err(TestCaseError::fail(format!("a generated case must be valid: reference {a:?}, plan {b:?}")));
        }
    };
    let mut scalar: Option<Pooled<T>> = None;
    for isa in isas() {
        let got = run_plan(&c.op, &x, &shape, PlanOptions::isa(isa));
        prop_assert_eq!(&got.shape, &want.shape);
        match &c.op {
            PoolOp::Max(_) | PoolOp::GlobalMax | PoolOp::AdaptiveMax(_) => {
                // The selected element, bits included (zero signs, NaN payloads).
                for (i, (g, w)) in got.values.iter().zip(&want.values).enumerate() {
                    prop_assert!(
                        bytemuck::bytes_of(g) == bytemuck::bytes_of(w),
                        "{} element {}: got {:?}, want {:?}",
                        isa,
                        i,
                        g,
                        w
                    );
                }
                prop_assert_eq!(got.indices.as_ref(), want.indices.as_ref(), "{} indices", isa);
            }
            PoolOp::Avg(..) | PoolOp::GlobalAvg | PoolOp::AdaptiveAvg(_) => {
                check_avg(&c.op, &x, &shape, &got.values, &want.values).map_err(TestCaseError::fail)?;
            }
            PoolOp::Lp(w, _) => {
                let taps: usize = w.kernel().iter().product();
                check_lp(&got.values, &want.values, taps as f64)?;
            }
        }
        match &scalar {
            None => scalar = Some(got),
            Some(s) => {
                let same =
                    s.values.iter().zip(&got.values).all(|(a, b)| bytemuck::bytes_of(a) == bytemuck::bytes_of(b));
                prop_assert!(same, "{} differs bitwise from the Scalar level", isa);
                prop_assert_eq!(&s.indices, &got.indices);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::default())]
    #[test]
    fn f32_plans_match_reference(c in case_strategy()) { run_case::<f32>(&c)?; }
    #[test]
    fn f64_plans_match_reference(c in case_strategy()) { run_case::<f64>(&c)?; }
    #[test]
    fn f16_plans_match_reference(c in case_strategy()) { run_case::<f16>(&c)?; }
    #[test]
    fn bf16_plans_match_reference(c in case_strategy()) { run_case::<bf16>(&c)?; }
    #[test]
    fn u8_plans_match_reference(c in case_strategy()) { run_case::<u8>(&c)?; }
    #[test]
    fn i8_plans_match_reference(c in case_strategy()) { run_case::<i8>(&c)?; }
}

/// Requests on short axes with pads up to 3 whatever the kernel: about half are invalid. Plans of
/// every element type and level must agree with the reference on validity, and an invalid
/// request must fail with exactly the reference's error.
fn check_validity<T: Element>(op: &PoolOp, shape: &TensorShape) -> Result<bool, TestCaseError> {
    let x = vec![T::zeroed(); shape.len()];
    let want = reference::pool(op, &x, shape).err();
    for isa in isas() {
        let got = Plan::<T>::with_options(op, shape, PlanOptions::isa(isa)).err();
        prop_assert_eq!(&got, &want, "{:?} on {:?} at {}", op, shape, isa);
    }
    Ok(want.is_some())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn invalid_requests_fail_with_the_reference_error(
        (op, shape) in (1usize..=3, any::<bool>())
            .prop_flat_map(|(rank, last)| (op_strategy(rank, false), prop::collection::vec(1usize..=4, rank), Just(last)))
            .prop_map(|(op, sp, last)| {
                let layout = if last { Layout::ChannelsLast } else { Layout::ChannelsFirst };
                (op, TensorShape::new(layout, 1, 2, &sp).expect("shape"))
            })
    ) {
        check_validity::<f32>(&op, &shape)?;
        check_validity::<f64>(&op, &shape)?;
        check_validity::<f16>(&op, &shape)?;
        check_validity::<bf16>(&op, &shape)?;
        check_validity::<u8>(&op, &shape)?;
        check_validity::<i8>(&op, &shape)?;
    }
}

/// `common::check_avg` is tight enough to catch a divisor off by one: averages computed by plans
/// with divisor `d + 1` (and `d - 1`) fail it against the reference with divisor `d`, for every
/// float type, on windows of 1 to 64 taps and positive inputs; with `d` itself they pass.
#[test]
fn a_divisor_off_by_one_fails_the_average_bound() {
    fn case<T: Element>(k: usize, d: i64) {
        let shape = TensorShape::nchw(&[1, 3, 9, 9]).unwrap();
        let x: Vec<T> = (0..shape.len()).map(|i| T::from_f64(1.0 + (i * 37 % 23) as f64 / 8.0)).collect();
        let w = Window::new(&[k, k]).stride(&[1, 1]);
        let with = |d: i64| PoolOp::Avg(w.clone(), AvgOptions { count_include_pad: false, divisor_override: Some(d) });
        let want = reference::pool(&with(d), &x, &shape).unwrap().values;
        for isa in isas() {
            let opts = PlanOptions::isa(isa);
            let right = run_plan(&with(d), &x, &shape, opts).values;
            check_avg(&with(d), &x, &shape, &right, &want).unwrap();
            for off in [d + 1, d - 1].into_iter().filter(|&e| e != 0) {
                let wrong = run_plan(&with(off), &x, &shape, opts).values;
                let r = check_avg(&with(d), &x, &shape, &wrong, &want);
                assert!(r.is_err(), "{:?} k={k} d={d} at {isa}: divisor {off} passes the bound", T::DTYPE);
            }
        }
    }
    for k in [1usize, 2, 3, 5, 8] {
        let taps = (k * k) as i64;
        for d in [taps, taps + 1, 1, 2] {
            case::<f32>(k, d);
            case::<f64>(k, d);
            case::<f16>(k, d);
            // bf16 keeps 8 significant bits (steps of 0.4 to 0.8 %): a divisor of 65 instead
            // of 64 (1.5 %) can land within its rounding allowance; up to 26 (3.7 %) it cannot.
            // Integer means are compared exactly; an off-by-one divisor that rounds to the same
            // integer is indistinguishable by any oracle, so they are not part of this test.
            if k <= 5 {
                case::<bf16>(k, d);
            }
        }
    }
}

#[test]
fn every_hardware_level_is_exercised() {
    // A run that silently skipped a path must fail: the list the tests iterate is exactly every
    // level the CPU has (under the SIMDPOOL_ISA cap), and a plan builds at each.
    let levels = Isa::available();
    check_levels(&levels);
    let shape = TensorShape::nchw(&[1, 1, 1]).unwrap();
    for isa in levels {
        assert!(Plan::<f32>::with_options(&PoolOp::GlobalMax, &shape, PlanOptions::isa(isa)).is_ok(), "{isa}");
    }
}
