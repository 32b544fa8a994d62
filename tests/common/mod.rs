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

/// Every ISA level available on this machine. Fails if a level the hardware has is missing, so a
/// run cannot silently skip a path.
pub fn isas() -> Vec<Isa> {
    let avail = Isa::available();
    assert_eq!(avail[0], Isa::Scalar);
    avail
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
