//! Arbitrary pooling requests: op, rank (0 to 4), layout, small dims (with rare huge ones), window
//! (zero, huge and wrong-length parameter lists included), element type, `p`, average options.
//!
//! * A request whose shape is rejected must be rejected with a shape error.
//! * A plan must succeed or fail the same way at every ISA level, and like the reference (same
//!   error variant), without panicking.
//! * A valid plan runs at every ISA level with exactly sized buffers; the outputs and indices are
//!   bit-identical across levels and to `run` vs `run_with_indices`, max ops equal the reference
//!   exactly (NaN positions included) and sums agree within the accumulation bound.
//! * Wrong-length buffers are rejected and leave the output untouched.
//! * The backward passes: integers refused; for floats, one gradient per route and level, bit for
//!   bit, equal to the in-order reference for max and average; bad indices and wrong lengths
//!   rejected before anything is written.
#![no_main]

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use simdpool::{
    AutoPad, AvgOptions, DType, Element, Isa, Layout, Plan, PlanOptions, PoolError, PoolOp, TensorShape, Threading,
    Window, bf16, f16, reference,
};
use std::mem::discriminant;

/// Largest input or output run (elements); larger valid plans are only built, not run.
const RUN_LIMIT: usize = 1 << 15;
/// Largest window (taps) the reference is asked to scan; it visits every tap, padding included.
const REF_TAPS_LIMIT: usize = 1 << 12;

/// A dimension or parameter: mostly small, sometimes zero, rarely huge.
fn param(u: &mut Unstructured, max: usize) -> Result<usize> {
    Ok(match u.int_in_range(0u8..=31)? {
        0 => 0,
        1 => *u.choose(&[1usize << 40, 1 << 62, usize::MAX, usize::MAX / 2 + 1])?,
        _ => u.int_in_range(1..=max)?,
    })
}

/// A per-axis list: usually `rank` entries, sometimes one more or one fewer.
fn list(u: &mut Unstructured, rank: usize, max: usize) -> Result<Vec<usize>> {
    let len = match u.int_in_range(0u8..=15)? {
        0 => rank + 1,
        1 => rank.saturating_sub(1),
        _ => rank,
    };
    (0..len).map(|_| param(u, max)).collect()
}

fn window(u: &mut Unstructured, rank: usize) -> Result<Window> {
    let kernel = list(u, rank, 5)?;
    let mut w = Window::new(&kernel);
    if u.arbitrary()? {
        w = w.stride(&list(u, rank, 4)?);
    }
    if u.arbitrary()? {
        w = w.dilation(&list(u, rank, 3)?);
    }
    w = match u.int_in_range(0u8..=4)? {
        0 => w,
        1 => w.padding(&list(u, rank, 3)?),
        2 => w.pads(&list(u, rank, 4)?, &list(u, rank, 4)?),
        3 => w.onnx_pads(&list(u, 2 * rank, 4)?),
        _ => w.auto_pad(*u.choose(&[AutoPad::SameUpper, AutoPad::SameLower, AutoPad::Valid])?),
    };
    Ok(w.ceil_mode(u.arbitrary()?))
}

fn op(u: &mut Unstructured, rank: usize) -> Result<PoolOp> {
    Ok(match u.int_in_range(0u8..=6)? {
        0 => PoolOp::Max(window(u, rank)?),
        1 => {
            let divisor_override = match u.int_in_range(0u8..=3)? {
                0 => Some(u.int_in_range(-9i64..=9)?),
                1 => Some(*u.choose(&[i64::MIN, i64::MAX, 0])?),
                _ => None,
            };
            PoolOp::Avg(window(u, rank)?, AvgOptions { count_include_pad: u.arbitrary()?, divisor_override })
        }
        2 => {
            let p = match u.int_in_range(0u8..=7)? {
                0 => f64::from_bits(u.arbitrary()?),
                1 => *u.choose(&[f64::NAN, f64::INFINITY, -1.0, 0.0, 0.5, 0.999_999])?,
                n => [1.0, 2.0, 3.0, 1.5, 2.5, 4.0][(n - 2) as usize],
            };
            PoolOp::Lp(window(u, rank)?, p)
        }
        3 => PoolOp::GlobalMax,
        4 => PoolOp::GlobalAvg,
        5 => PoolOp::AdaptiveMax(list(u, rank, 13)?),
        _ => PoolOp::AdaptiveAvg(list(u, rank, 13)?),
    })
}

/// Values with many ties, both zeros, NaN and infinities (floats), the full range (integers).
fn values<T: Element>(u: &mut Unstructured, n: usize) -> Result<Vec<T>> {
    let int = matches!(T::DTYPE, DType::U8 | DType::I8);
    (0..n)
        .map(|_| {
            let r: u16 = u.arbitrary()?;
            Ok(if int {
                T::from_f64(if T::DTYPE == DType::U8 { (r % 256) as f64 } else { (r % 256) as f64 - 128.0 })
            } else {
                match r % 41 {
                    0 => T::from_f64(f64::NAN),
                    1 => T::from_f64(f64::INFINITY),
                    2 => T::from_f64(f64::NEG_INFINITY),
                    3 => T::from_f64(-0.0),
                    _ => T::from_f64(((r >> 6) % 1001) as f64 / 8.0 - 62.5),
                }
            })
        })
        .collect()
}

fn is_shape_error(e: &PoolError) -> bool {
    matches!(e, PoolError::UnsupportedRank { .. } | PoolError::ZeroDim { .. } | PoolError::Overflow { .. })
}

fn same_bits<T: Element>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| bytemuck::bytes_of(x) == bytemuck::bytes_of(y))
}

fn eps(d: DType) -> f64 {
    match d {
        DType::F32 => f32::EPSILON as f64,
        DType::F64 => f64::EPSILON,
        DType::F16 => f16::EPSILON.to_f64(),
        DType::BF16 => bf16::EPSILON.to_f64(),
        _ => 0.0,
    }
}

/// Taps of the largest window (an upper bound of the work per output).
fn window_taps(op: &PoolOp, shape: &TensorShape) -> usize {
    match op {
        PoolOp::Max(w) | PoolOp::Avg(w, _) | PoolOp::Lp(w, _) => {
            w.kernel().iter().try_fold(1usize, |a, &k| a.checked_mul(k)).unwrap_or(usize::MAX)
        }
        PoolOp::AdaptiveMax(o) | PoolOp::AdaptiveAvg(o) => shape
            .spatial()
            .iter()
            .zip(o)
            .map(|(&l, &o)| if o == 0 { 1 } else { l.div_ceil(o) + 1 })
            .try_fold(1usize, |a, t| a.checked_mul(t))
            .unwrap_or(usize::MAX),
        _ => shape.plane(),
    }
}

/// Plan output vs the reference: max exactly; sums within the bound of the differential tests.
fn check_against_reference<T: Element>(op: &PoolOp, x: &[T], got: &[T], want: &[T], taps: usize) {
    let d = T::DTYPE;
    let int = matches!(d, DType::U8 | DType::I8);
    let sum_eps = if d == DType::F64 { f64::EPSILON } else { f32::EPSILON as f64 };
    let max_abs = x.iter().map(|v| v.to_f64().abs()).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let taps = taps as f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64(), w.to_f64());
        let ok = match op {
            PoolOp::Max(_) | PoolOp::GlobalMax | PoolOp::AdaptiveMax(_) => g == w || (g.is_nan() && w.is_nan()),
            _ if g.is_nan() || w.is_nan() || g.is_infinite() || w.is_infinite() => {
                g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan())
            }
            PoolOp::Lp(_, p) => {
                // Lp of integers goes through pow: one unit at a rounding boundary.
                let bound = if int { 1.0 } else { (taps + 2.0) * sum_eps * w.abs() * (2.0 + p) + eps(d) * w.abs() };
                (g - w).abs() <= bound + 1e-300
            }
            PoolOp::Avg(_, o) => {
                let div = o.divisor_override.map_or(1.0, |v| v.unsigned_abs() as f64);
                let bound =
                    if int { 0.0 } else { (taps + 2.0) * sum_eps * taps * max_abs / div + eps(d) * w.abs() };
                (g - w).abs() <= bound + 1e-300
            }
            _ => {
                let bound = if int { 0.0 } else { (taps + 2.0) * sum_eps * taps * max_abs + eps(d) * w.abs() };
                (g - w).abs() <= bound + 1e-300
            }
        };
        assert!(ok, "{op:?}: element {i}: plan {g}, reference {w}");
    }
}

fn fuzz_one<T: Element>(u: &mut Unstructured) -> Result<()> {
    let rank = match u.int_in_range(0u8..=19)? {
        0 => *u.choose(&[0usize, 4])?,
        n => 1 + (n % 3) as usize,
    };
    let layout = if u.arbitrary()? { Layout::ChannelsLast } else { Layout::ChannelsFirst };
    let batch = param(u, 3)?;
    let channels = param(u, 9)?;
    let spatial = (0..rank).map(|_| param(u, 12)).collect::<Result<Vec<_>>>()?;
    let op = op(u, rank.clamp(1, 3))?;
    let threading = if u.arbitrary()? { Threading::Auto } else { Threading::CallingThread };

    let shape = match TensorShape::new(layout, batch, channels, &spatial) {
        Ok(s) => s,
        Err(e) => {
            assert!(is_shape_error(&e), "shape error expected, got {e:?}");
            return Ok(());
        }
    };

    // The plan at every level: all succeed or all fail the same way.
    let mut plans = Vec::new();
    let mut first_err: Option<PoolError> = None;
    for isa in Isa::available() {
        match Plan::<T>::with_options(&op, &shape, PlanOptions { isa: Some(isa), threading }) {
            Ok(p) => plans.push(p),
            Err(e) => {
                assert!(plans.is_empty(), "{isa}: {e:?}, but a lower level accepted the plan");
                if let Some(f) = &first_err {
                    assert_eq!(discriminant(f), discriminant(&e), "levels disagree: {f:?} / {e:?}");
                }
                first_err = Some(e);
            }
        }
    }
    assert!(plans.is_empty() || first_err.is_none(), "some levels accepted the plan, some rejected it");

    let runnable = shape.len() <= RUN_LIMIT && plans.first().is_none_or(|p| p.output_len() <= RUN_LIMIT);
    // Lp sums of large powers overflow the f32 accumulator where the f64 reference does not (a
    // documented difference), so only the usual exponents are compared with the reference.
    let lp_comparable = !matches!(op, PoolOp::Lp(_, p) if p > 4.0);
    let ref_ok = runnable && window_taps(&op, &shape) <= REF_TAPS_LIMIT;
    if !runnable {
        return Ok(());
    }
    let x: Vec<T> = values(u, shape.len())?;
    let want = if ref_ok { Some(reference::pool(&op, &x, &shape)) } else { None };

    if let Some(e) = first_err {
        if let Some(r) = want {
            let r = r.expect_err("the plan failed but the reference succeeded");
            assert_eq!(discriminant(&r), discriminant(&e), "plan {e:?} but reference {r:?}");
        }
        return Ok(());
    }
    if let Some(Err(r)) = &want {
        panic!("the reference failed ({r:?}) but the plan succeeded");
    }

    let mut first: Option<(Vec<T>, Option<Vec<i64>>)> = None;
    for plan in &plans {
        let isa = plan.isa();
        let mut y = vec![T::zeroed(); plan.output_len()];
        plan.run(&x, &mut y).expect("run");
        let idx = if op.has_indices() {
            let mut y2 = vec![T::zeroed(); plan.output_len()];
            let mut idx = vec![-1i64; plan.output_len()];
            plan.run_with_indices(&x, &mut y2, &mut idx).expect("run_with_indices");
            assert!(same_bits(&y, &y2), "{isa}: run and run_with_indices differ");
            assert!(idx.iter().all(|&i| i >= 0 && (i as usize) < shape.plane()), "{isa}: index out of the plane");
            Some(idx)
        } else {
            let mut idx = vec![-1i64; plan.output_len()];
            let mut y2 = vec![T::zeroed(); plan.output_len()];
            assert!(matches!(
                plan.run_with_indices(&x, &mut y2, &mut idx),
                Err(PoolError::IndicesUnsupported { .. })
            ));
            None
        };
        // Wrong lengths: an error, and the output untouched.
        let sentinel = T::from_f64(7.0);
        let mut long = vec![sentinel; plan.output_len() + 1];
        assert!(matches!(plan.run(&x, &mut long), Err(PoolError::BufferLength { buffer: "output", .. })));
        assert!(long.iter().all(|v| same_bits(&[*v], &[sentinel])), "{isa}: output written on error");
        if !x.is_empty() {
            let mut out = vec![sentinel; plan.output_len()];
            assert!(matches!(plan.run(&x[1..], &mut out), Err(PoolError::BufferLength { buffer: "input", .. })));
            assert!(out.iter().all(|v| same_bits(&[*v], &[sentinel])), "{isa}: output written on error");
        }

        if let (Some(Ok(r)), true) = (&want, lp_comparable) {
            check_against_reference(&op, &x, &y, &r.values, window_taps(&op, &shape));
            if let (Some(i), Some(ri)) = (&idx, &r.indices) {
                assert_eq!(i, ri, "{isa}: indices differ from the reference");
            }
        }
        match &first {
            None => first = Some((y, idx)),
            Some((y0, i0)) => {
                assert!(same_bits(y0, &y), "{isa} differs bitwise from {}", plans[0].isa());
                assert_eq!(i0, &idx, "{isa}: indices differ from {}", plans[0].isa());
            }
        }
    }
    let (y, idx) = first.expect("at least the Scalar plan ran");
    check_backward(u, &op, &plans, &x, &y, idx.as_deref(), ref_ok.then_some(&shape))
}

/// The backward passes of every level's plan: integers are refused, every other type gets one
/// gradient per route (from the input, from the indices for max, from the output gradient alone
/// for averages) that is bit-identical across levels and routes; max and average equal the
/// in-order reference (NaN positions included) where `reference_shape` is given; bad indices and
/// wrong lengths are errors that leave the gradient untouched.
fn check_backward<T: Element>(
    u: &mut Unstructured,
    op: &PoolOp,
    plans: &[Plan<T>],
    x: &[T],
    y: &[T],
    idx: Option<&[i64]>,
    reference_shape: Option<&TensorShape>,
) -> Result<()> {
    let Some(first) = plans.first() else { return Ok(()) };
    let go: Vec<T> = values(u, first.output_len())?;
    let sentinel = T::from_f64(7.0);
    if matches!(T::DTYPE, DType::U8 | DType::I8) {
        let mut gi = vec![sentinel; first.input_len()];
        let e = first.backward_from_input(x, y, &go, &mut gi);
        assert!(matches!(e, Err(PoolError::NoGradient { .. })), "{}: integer backward gave {e:?}", T::DTYPE.name());
        assert!(gi.iter().all(|v| same_bits(&[*v], &[sentinel])), "gradient written on error");
        return Ok(());
    }
    let is_max = matches!(op, PoolOp::Max(_) | PoolOp::GlobalMax | PoolOp::AdaptiveMax(_));
    let is_avg = matches!(op, PoolOp::Avg(..) | PoolOp::GlobalAvg | PoolOp::AdaptiveAvg(_));
    let want = match reference_shape {
        Some(shape) if is_max || is_avg => {
            Some(reference::pool_backward_in_order(op, x, shape, &go).expect("the reference backward of a valid op"))
        }
        _ => None,
    };
    let mut first_gi: Option<Vec<T>> = None;
    for plan in plans {
        let isa = plan.isa();
        let mut gi = vec![sentinel; plan.input_len()];
        plan.backward_from_input(x, y, &go, &mut gi).expect("backward_from_input");
        let mut other = vec![sentinel; plan.input_len()];
        match idx {
            Some(idx) => {
                plan.backward_with_indices(idx, &go, &mut other).expect("backward_with_indices");
                assert!(same_bits(&gi, &other), "{isa}: the gradients from the input and from the indices differ");
                // An index outside its plane: an error before anything is written.
                let mut bad = idx.to_vec();
                let at = u.choose_index(bad.len().max(1))?.min(bad.len().saturating_sub(1));
                if let Some(b) = bad.get_mut(at) {
                    *b = if u.arbitrary()? { -1 } else { plan.input_len() as i64 };
                    let mut g = vec![sentinel; plan.input_len()];
                    let e = plan.backward_with_indices(&bad, &go, &mut g);
                    assert!(matches!(e, Err(PoolError::IndexOutOfPlane { .. })), "{isa}: bad index gave {e:?}");
                    assert!(g.iter().all(|v| same_bits(&[*v], &[sentinel])), "{isa}: gradient written on error");
                }
            }
            None if is_avg => {
                plan.backward(&go, &mut other).expect("backward");
                assert!(same_bits(&gi, &other), "{isa}: the gradients from the input and alone differ");
            }
            None => {
                let e = plan.backward(&go, &mut other);
                assert!(matches!(e, Err(PoolError::BackwardNeeds { .. })), "{isa}: backward alone gave {e:?}");
            }
        }
        // Wrong lengths: an error, and the gradient untouched.
        let mut long = vec![sentinel; plan.input_len() + 1];
        let e = plan.backward_from_input(x, y, &go, &mut long);
        assert!(matches!(e, Err(PoolError::BufferLength { buffer: "grad_input", .. })), "{isa}: {e:?}");
        assert!(long.iter().all(|v| same_bits(&[*v], &[sentinel])), "{isa}: gradient written on error");
        if let Some(want) = &want {
            for (i, (g, w)) in gi.iter().zip(want).enumerate() {
                let (gf, wf) = (g.to_f64(), w.to_f64());
                assert!(
                    same_bits(&[*g], &[*w]) || (gf.is_nan() && wf.is_nan()),
                    "{isa}: gradient element {i}: plan {gf}, in-order reference {wf}"
                );
            }
        }
        match &first_gi {
            None => first_gi = Some(gi),
            Some(g0) => assert!(same_bits(g0, &gi), "{isa}: gradient differs bitwise from {}", plans[0].isa()),
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = match u.int_in_range(0u8..=7) {
        Ok(0) => fuzz_one::<u8>(&mut u),
        Ok(1) => fuzz_one::<bf16>(&mut u),
        Ok(2) => fuzz_one::<f64>(&mut u),
        Ok(3) => fuzz_one::<f16>(&mut u),
        Ok(4) => fuzz_one::<i8>(&mut u),
        _ => fuzz_one::<f32>(&mut u),
    };
});
