//! Lp pooling at every exponent and magnitude: `p` from 1 to `1e308`, values from the smallest
//! subnormal to the largest finite value of each float type. Every level this machine has gives
//! the same bits as the scalar level, in both layouts, and every level agrees with the reference
//! within the bound documented on [`PoolOp::Lp`]:
//!
//! `|got - want| <= (taps / p + |ln want| + 6) * eps_sum * want + eps_out * want + tiny_out`
//!
//! where `eps_sum` is the epsilon of the sum type (`f32` for `f32`, `f16` and `bf16`; `f64` for
//! `f64`), `eps_out` that of the element type (zero for `f32` and `f64`) and `tiny_out` the
//! smallest positive subnormal of the element type. Integers: within one.
//!
//! The fixed cases are the ones a direct evaluation gets wrong: `|x|^p` overflowing the sum
//! (`6^200` in `f32`), `|x|^p` vanishing (`(10^-3)^20`), squares of `1e20`, and the integer
//! sums that overflow `f64` (`3^1000`).

use crate::common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use simdpool::{DType, Element, Layout, PlanOptions, PoolOp, TensorShape, Window, bf16, f16, reference};

/// Runs Lp on every level (channels-first and channels-last), checks that they give the same
/// bits, and returns the channels-first output of the top level.
fn lp_all_levels<T: Element>(x: &[T], dims: &[usize], window: &Window, p: f64) -> Vec<T> {
    let op = PoolOp::lp(window.clone(), p);
    let shape = TensorShape::nchw(dims).unwrap();
    let x_cl = to_channels_last(x, &shape);
    let shape_cl = TensorShape::new(Layout::ChannelsLast, dims[0], dims[1], &dims[2..]).unwrap();
    let mut first: Option<Vec<T>> = None;
    for isa in isas() {
        let cf = run_plan(&op, x, &shape, PlanOptions::isa(isa)).values;
        let cl = run_plan(&op, &x_cl, &shape_cl, PlanOptions::isa(isa));
        assert_bits_eq(&to_channels_first(&cl.values, &cl.shape), &cf, &format!("{isa} channels-last vs first"));
        match &first {
            None => first = Some(cf),
            Some(f) => assert_bits_eq(&cf, f, &format!("{isa} vs the scalar level")),
        }
    }
    first.unwrap()
}

fn eps_sum(d: DType) -> f64 {
    if d == DType::F64 { f64::EPSILON } else { f32::EPSILON as f64 }
}

fn eps_out(d: DType) -> f64 {
    match d {
        DType::F16 => 2f64.powi(-10),
        DType::BF16 => 2f64.powi(-7),
        _ => 0.0,
    }
}

fn tiny_out(d: DType) -> f64 {
    match d {
        DType::F32 => f32::from_bits(1) as f64,
        DType::F64 => f64::from_bits(1),
        DType::F16 => 2f64.powi(-24),
        DType::BF16 => 2f64.powi(-133),
        DType::U8 | DType::I8 => 1.0,
    }
}

/// The documented bound (module docs) for one output.
fn bound(d: DType, want: f64, taps: f64, p: f64) -> f64 {
    if matches!(d, DType::U8 | DType::I8) {
        return 1.0;
    }
    (taps / p + want.ln().abs() + 6.0) * eps_sum(d) * want + eps_out(d) * want + tiny_out(d)
}

fn check<T: Element>(got: &[T], want: &[T], taps: f64, p: f64) -> Result<(), String> {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64(), w.to_f64());
        if w.is_nan() || w.is_infinite() || w == 0.0 {
            if g.to_bits() != w.to_bits() && !(g.is_nan() && w.is_nan()) {
                return Err(format!("element {i}: got {g:e}, want {w:e} (p = {p:e})"));
            }
            continue;
        }
        let b = bound(T::DTYPE, w, taps, p);
        if (g - w).abs() > b {
            return Err(format!("element {i}: got {g:e}, want {w:e}, bound {b:e} (p = {p:e}, {taps} taps)"));
        }
    }
    Ok(())
}

fn run_against_reference<T: Element>(x: &[T], dims: &[usize], window: &Window, p: f64) -> Result<Vec<T>, String> {
    let got = lp_all_levels(x, dims, window, p);
    let shape = TensorShape::nchw(dims).unwrap();
    let want = reference::pool(&PoolOp::lp(window.clone(), p), x, &shape).unwrap().values;
    let taps: usize = window.kernel().iter().product();
    check(&got, &want, taps as f64, p)?;
    Ok(got)
}

#[test]
fn large_p_on_f32_tends_to_the_window_maximum() {
    // Windows of 2: (5, 6), (1, 2). Direct `6^200` overflows f32; `inf^(1/p)` is not the answer.
    let x = [5.0f32, 6.0, 1.0, 2.0];
    let w = Window::new(&[2]);
    let y = run_against_reference(&x, &[1, 1, 4], &w, 200.0).unwrap();
    assert!((y[0] - 6.0).abs() < 1e-3 && (y[1] - 2.0).abs() < 1e-2, "{y:?}");
    for p in [1e4, 1e38, 1e300, 1e308, f64::MAX] {
        let y = run_against_reference(&x, &[1, 1, 4], &w, p).unwrap();
        assert_eq!(y, [6.0, 2.0], "p = {p:e}");
    }
    let y = run_against_reference(&[5.0f64, 6.0, 1.0, 2.0], &[1, 1, 4], &w, 1e308).unwrap();
    assert_eq!(y, [6.0, 2.0]);
}

#[test]
fn squares_of_huge_and_tiny_values_keep_their_range() {
    let w = Window::new(&[2]);
    let y = run_against_reference(&[3e20f32, 4e20, 3e-25, 4e-25], &[1, 1, 4], &w, 2.0).unwrap();
    assert!((y[0] / 5e20 - 1.0).abs() < 1e-6 && (y[1] / 5e-25 - 1.0).abs() < 1e-6, "{y:?}");
    let y = run_against_reference(&[3e200f64, 4e200, 3e-200, 4e-200], &[1, 1, 4], &w, 2.0).unwrap();
    assert!((y[0] / 5e200 - 1.0).abs() < 1e-14 && (y[1] / 5e-200 - 1.0).abs() < 1e-14, "{y:?}");
    // Vanishing powers: (1e-3)^20 is 1e-60, zero in f32.
    let y = run_against_reference(&[1e-3f32, 1e-3, 0.0, 0.0], &[1, 1, 4], &w, 20.0).unwrap();
    assert!((y[0] / (1e-3 * 2f32.powf(1.0 / 20.0)) - 1.0).abs() < 1e-6, "{y:?}");
    assert_eq!(y[1], 0.0);
}

#[test]
fn infinities_nans_and_zeros_keep_their_meaning() {
    let w = Window::new(&[2]);
    let x = [f32::INFINITY, 1.0, f32::NAN, 1e30, 0.0, -0.0, -f32::INFINITY, f32::NAN];
    for p in [2.0, 3.0, 200.0, 1e308] {
        let y = run_against_reference(&x, &[1, 1, 8], &w, p).unwrap();
        assert_eq!(y[0], f32::INFINITY);
        assert!(y[1].is_nan() && y[1].to_bits() == f32::NAN.to_bits(), "canonical NaN: {:?}", y[1]);
        assert_eq!(y[2].to_bits(), 0.0f32.to_bits());
        assert!(y[3].is_nan());
    }
}

#[test]
fn integer_sums_that_overflow_f64_still_round_to_the_norm() {
    // 3^1000 overflows f64: the direct result saturates to 255, the norm is 3 * 2^(1/1000).
    let w = Window::new(&[2]);
    let y = run_against_reference(&[3u8, 3, 255, 255, 0, 0], &[1, 1, 6], &w, 1000.0).unwrap();
    assert_eq!(y, [3, 255, 0]);
    let y = run_against_reference(&[-3i8, 3, -128, 127, 100, -100], &[1, 1, 6], &w, 1e300).unwrap();
    assert_eq!(y, [3, 127, 100]);
    // Saturated by the norm itself, not by overflow: sqrt(2) * 200 > 255.
    let y = run_against_reference(&[200u8, 200], &[1, 1, 2], &w, 2.0).unwrap();
    assert_eq!(y, [255]);
}

/// A case: dims `[n, c, spatial..]`, a window, `p`, and values `mantissa * 2^(e0 + spread * u)`.
#[derive(Clone, Debug)]
struct Case {
    dims: Vec<usize>,
    kernel: Vec<usize>,
    stride: Vec<usize>,
    p: f64,
    e0: f64,
    spread: f64,
    raw: Vec<(u32, u32, u8)>,
}

fn case(e_min: f64, e_max: f64) -> impl Strategy<Value = Case> {
    let ps = prop::sample::select(vec![1.0, 1.5, 2.0, 3.0, 7.5, 20.0, 200.0, 1e4, 1e38, 1e200, 1e308]);
    let spreads = prop::sample::select(vec![0.0, 1.0, 4.0, 30.0]);
    (1usize..=3, 1usize..=5, 1usize..=3, ps, e_min..e_max, spreads).prop_flat_map(
        |(rank, channels, batch, p, e0, spread)| {
            let axes = prop::collection::vec((1usize..=4, 1usize..=3, 0usize..=6), rank);
            axes.prop_flat_map(move |axes| {
                let spatial: Vec<usize> = axes.iter().map(|&(k, _, extra)| k + extra).collect();
                let len = batch * channels * spatial.iter().product::<usize>();
                let mut dims = vec![batch, channels];
                dims.extend(&spatial);
                let kernel: Vec<usize> = axes.iter().map(|a| a.0).collect();
                let stride: Vec<usize> = axes.iter().map(|a| a.1).collect();
                prop::collection::vec((any::<u32>(), any::<u32>(), any::<u8>()), len).prop_map(move |raw| Case {
                    dims: dims.clone(),
                    kernel: kernel.clone(),
                    stride: stride.clone(),
                    p,
                    e0,
                    spread,
                    raw,
                })
            })
        },
    )
}

/// The value of one raw triple: sign, mantissa in [1, 2), exponent `e0 + spread * u`; one in
/// sixteen is zero.
fn magnitude(c: &Case, (m, u, s): (u32, u32, u8)) -> f64 {
    if s % 16 == 0 {
        return 0.0;
    }
    let mant = 1.0 + m as f64 / 2f64.powi(32);
    let e = c.e0 - c.spread * (u as f64 / 2f64.powi(32));
    let sign = if s & 1 == 1 { -1.0 } else { 1.0 };
    sign * mant * 2f64.powf(e.floor())
}

fn run_case<T: Element>(c: &Case) -> Result<(), TestCaseError> {
    let x: Vec<T> = c.raw.iter().map(|&r| T::from_f64(magnitude(c, r))).collect();
    let w = Window::new(&c.kernel).stride(&c.stride);
    run_against_reference(&x, &c.dims, &w, c.p).map_err(TestCaseError::fail)?;
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
    fn f32_any_p_any_magnitude(c in case(-155.0, 129.0)) {
        run_case::<f32>(&c)?;
    }

    #[test]
    fn f64_any_p_any_magnitude(c in case(-1080.0, 1025.0)) {
        run_case::<f64>(&c)?;
    }

    #[test]
    fn f16_any_p_any_magnitude(c in case(-26.0, 17.0)) {
        run_case::<f16>(&c)?;
    }

    #[test]
    fn bf16_any_p_any_magnitude(c in case(-135.0, 129.0)) {
        run_case::<bf16>(&c)?;
    }

    #[test]
    fn integers_any_p(c in case(0.0, 8.5)) {
        run_case::<u8>(&c)?;
        run_case::<i8>(&c)?;
    }
}
