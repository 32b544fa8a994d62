//! Differential tests: every op, layout, rank and element type, on random shapes and parameters,
//! through plans forced to every ISA level available here, against `simdpool::reference`; and
//! every level against the Scalar level bit for bit.
//!
//! Error bound for averages and Lp of float types (accumulation in the sum type, rounding once):
//! `|got - want| <= (taps + 2) * eps_sum * sum|x| / |divisor| + eps_out * |want|`, where
//! `eps_sum` is the epsilon of the accumulator (f32 or f64) and `eps_out` that of the element type.

mod common;

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

fn window_strategy(rank: usize) -> impl Strategy<Value = Window> {
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
                    w.pads(&pads.iter().map(|p| p.0).collect::<Vec<_>>(), &pads.iter().map(|p| p.1).collect::<Vec<_>>())
                }
                _ => w.auto_pad([AutoPad::SameUpper, AutoPad::SameLower, AutoPad::Valid][pads[0].0 % 3]),
            }
        })
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..=3, any::<bool>(), 1usize..=2, 1usize..=5)
        .prop_flat_map(|(rank, last, batch, channels)| {
            let spatial = prop::collection::vec(1usize..=11, rank);
            let op = prop_oneof![
                window_strategy(rank).prop_map(PoolOp::Max),
                (window_strategy(rank), any::<bool>(), prop::option::of(-3i64..=9)).prop_map(|(w, inc, over)| {
                    PoolOp::Avg(w, AvgOptions { count_include_pad: inc, divisor_override: over.filter(|d| *d != 0) })
                }),
                (window_strategy(rank), prop::sample::select(vec![1.0, 2.0, 3.0, 1.5]))
                    .prop_map(|(w, p)| PoolOp::Lp(w, p)),
                Just(PoolOp::GlobalMax),
                Just(PoolOp::GlobalAvg),
                prop::collection::vec(1usize..=13, rank).prop_map(PoolOp::AdaptiveMax),
                prop::collection::vec(1usize..=13, rank).prop_map(PoolOp::AdaptiveAvg),
            ];
            let layout = if last { Layout::ChannelsLast } else { Layout::ChannelsFirst };
            (Just(layout), Just(batch), Just(channels), spatial, op)
        })
        .prop_flat_map(|(layout, batch, channels, spatial, op)| {
            let len = batch * channels * spatial.iter().product::<usize>();
            (
                Just(layout),
                Just(batch),
                Just(channels),
                Just(spatial),
                Just(op),
                prop::collection::vec(any::<u32>(), len),
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

/// Checks sums against the bound in the module docs, with `sum|x|` bounded by the largest tap
/// count times the largest finite |x| of the input.
fn check_sums<T: Element>(
    got: &[T],
    want: &[T],
    x: &[T],
    taps: f64,
    divisor_min: f64,
    lp: bool,
) -> Result<(), TestCaseError> {
    let max_abs = x.iter().map(|v| v.to_f64().abs()).filter(|v| v.is_finite()).fold(0.0, f64::max);
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64(), w.to_f64());
        if w.is_nan() || g.is_nan() || w.is_infinite() || g.is_infinite() {
            prop_assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()), "element {i}: got {g}, want {w}");
            continue;
        }
        let d = T::DTYPE;
        let bound = if matches!(d, DType::U8 | DType::I8) {
            // Means are exact; Lp goes through pow and may differ by one at a rounding boundary.
            if lp { 1.0 } else { 0.0 }
        } else {
            let mag = if lp { w.abs() } else { taps * max_abs / divisor_min };
            (taps + 2.0) * sum_eps(d) * mag * if lp { 2.0 } else { 1.0 } + eps(d) * w.abs() + 1e-300
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
        (Err(a), Err(b)) => {
            prop_assert_eq!(std::mem::discriminant(&a), std::mem::discriminant(&b), "different errors: {} / {}", a, b);
            return Ok(());
        }
        (a, b) => return Err(TestCaseError::fail(format!("reference {a:?} but plan {b:?}"))),
    };
    let mut scalar: Option<Pooled<T>> = None;
    for isa in isas() {
        let got = run_plan(&c.op, &x, &shape, PlanOptions::isa(isa));
        prop_assert_eq!(&got.shape, &want.shape);
        match &c.op {
            PoolOp::Max(_) | PoolOp::GlobalMax | PoolOp::AdaptiveMax(_) => {
                for (i, (g, w)) in got.values.iter().zip(&want.values).enumerate() {
                    let (g, w) = (g.to_f64(), w.to_f64());
                    prop_assert!(g == w || (g.is_nan() && w.is_nan()), "{isa} element {i}: got {g}, want {w}");
                }
                prop_assert_eq!(got.indices.as_ref(), want.indices.as_ref(), "{} indices", isa);
            }
            PoolOp::Avg(w, o) => {
                let taps: usize = w.kernel().iter().product();
                let div_min = match o.divisor_override {
                    Some(d) => d.unsigned_abs() as f64,
                    None => 1.0,
                };
                check_sums(&got.values, &want.values, &x, taps as f64, div_min, false)?;
            }
            PoolOp::Lp(w, _) => {
                let taps: usize = w.kernel().iter().product();
                check_sums(&got.values, &want.values, &x, taps as f64, 1.0, true)?;
            }
            PoolOp::GlobalAvg | PoolOp::AdaptiveAvg(_) => {
                let taps = shape.plane() as f64;
                check_sums(&got.values, &want.values, &x, taps, 1.0, false)?;
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
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
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
