//! The backward passes, as their literal definitions (rules in the `Plan` backward docs).
//!
//! Each output, in row-major order per `(n, c)`, scatters its share of its gradient into the
//! taps of its window: average `g / divisor`, Lp `g * sign(x) * (|x| / y)^(p - 1)`, max `g` to
//! the element at the forward pass's index. Shares accumulate in `f64` and are rounded once.

use super::{adaptive_taps, check_input, for_each_index, pool, window_taps};
use crate::element::{DType, Element};
use crate::error::{PoolError, Result};
use crate::op::PoolOp;
use crate::shape::TensorShape;

fn no_gradient<T: Element>() -> Result<()> {
    if matches!(T::DTYPE, DType::U8 | DType::I8) {
        return Err(PoolError::NoGradient { dtype: T::DTYPE.name() });
    }
    Ok(())
}

/// The multi-index of flat position `i` over `dims`.
fn unflatten(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut pos = vec![0; dims.len()];
    for a in (0..dims.len()).rev() {
        pos[a] = i % dims[a];
        i /= dims[a];
    }
    pos
}

fn rounded<T: Element>(acc: Vec<f64>) -> Vec<T> {
    acc.into_iter().map(T::from_f64).collect()
}

/// `g * sign(x) * (|x| / y)^(p - 1)`, `0` where `y = 0` or `x = 0`.
fn lp_share(g: f64, x: f64, y: f64, p: f64) -> f64 {
    if y == 0.0 || x == 0.0 {
        return 0.0;
    }
    let sign = if x.is_nan() { x } else { x.signum() };
    g * sign * (x.abs() / y).powf(p - 1.0)
}

/// The gradient input of any op for `grad_output` (the output's shape and layout), from the
/// forward pass's `input`: max ops route each gradient to the reference's argmax.
pub fn pool_backward<T: Element>(op: &PoolOp, input: &[T], shape: &TensorShape, grad_output: &[T]) -> Result<Vec<T>> {
    backward_in::<T, f64>(op, input, shape, grad_output)
}

/// [`pool_backward`] with the plans' accumulation: each share is formed and added in the type's
/// gradient accumulator (`f64` for `f64`, `f32` for the other float types: an average's
/// `g / divisor` with both converted to it, a max's `g`), contributions to an element in
/// increasing output order from `+0`, rounded once. For max and average ops every plan, at every
/// level and thread count, gives exactly these bits. Lp's shares are computed in `f64` here and
/// rounded to the accumulator, which plans match only to within rounding (they take the power
/// in the accumulator).
///
/// # Errors
///
/// As [`pool_backward`].
pub fn pool_backward_in_order<T: Element>(
    op: &PoolOp,
    input: &[T],
    shape: &TensorShape,
    grad_output: &[T],
) -> Result<Vec<T>> {
    if T::DTYPE == DType::F64 {
        backward_in::<T, f64>(op, input, shape, grad_output)
    } else {
        backward_in::<T, f32>(op, input, shape, grad_output)
    }
}

/// The float a reference backward pass accumulates in.
trait Acc: Copy + core::ops::AddAssign + core::ops::Div<Output = Self> {
    const ZERO: Self;
    fn of(x: f64) -> Self;
    fn of_count(d: i64) -> Self;
    fn wide(self) -> f64;
}

impl Acc for f64 {
    const ZERO: f64 = 0.0;
    fn of(x: f64) -> f64 {
        x
    }
    fn of_count(d: i64) -> f64 {
        d as f64
    }
    fn wide(self) -> f64 {
        self
    }
}

impl Acc for f32 {
    const ZERO: f32 = 0.0;
    fn of(x: f64) -> f32 {
        x as f32
    }
    fn of_count(d: i64) -> f32 {
        d as f32
    }
    fn wide(self) -> f64 {
        f64::from(self)
    }
}

fn backward_in<T: Element, A: Acc>(op: &PoolOp, input: &[T], shape: &TensorShape, grad_output: &[T]) -> Result<Vec<T>> {
    no_gradient::<T>()?;
    check_input(input, shape)?;
    let fwd = pool(op, input, shape)?;
    if grad_output.len() != fwd.values.len() {
        return Err(PoolError::BufferLength {
            buffer: "grad_output",
            expected: fwd.values.len(),
            got: grad_output.len(),
        });
    }
    let out = fwd.shape.clone();
    let spatial = shape.spatial().to_vec();
    let mut acc = vec![A::ZERO; shape.len()];
    for n in 0..shape.batch() {
        for c in 0..shape.channels() {
            let mut result = Ok(());
            for_each_index(out.spatial(), |o| {
                if result.is_err() {
                    return;
                }
                let oi = out.offset(n, c, o);
                let g = A::of(grad_output[oi].to_f64());
                let mut add = |pos: &[usize], share: A| acc[shape.offset(n, c, pos)] += share;
                match op {
                    PoolOp::Max(_) | PoolOp::AdaptiveMax(_) | PoolOp::GlobalMax => {
                        let idx = fwd.indices.as_ref().expect("max ops have indices")[oi];
                        add(&unflatten(idx as usize, &spatial), g);
                    }
                    PoolOp::Avg(w, opts) => {
                        let axes = match w.resolve(&spatial) {
                            Ok(a) => a,
                            Err(e) => {
                                result = Err(e);
                                return;
                            }
                        };
                        let mut taps = Vec::new();
                        let (valid, padded) = window_taps(&axes, o, |pos| taps.push(pos.to_vec()));
                        let d = A::of_count(match opts.divisor_override {
                            Some(d) => d,
                            None if opts.count_include_pad => padded as i64,
                            None => valid as i64,
                        });
                        for pos in &taps {
                            add(pos, g / d);
                        }
                    }
                    PoolOp::Lp(w, p) => {
                        let axes = match w.resolve(&spatial) {
                            Ok(a) => a,
                            Err(e) => {
                                result = Err(e);
                                return;
                            }
                        };
                        let y = fwd.values[oi].to_f64();
                        let mut taps = Vec::new();
                        window_taps(&axes, o, |pos| taps.push(pos.to_vec()));
                        for pos in &taps {
                            add(pos, A::of(lp_share(g.wide(), input[shape.offset(n, c, pos)].to_f64(), y, *p)));
                        }
                    }
                    PoolOp::AdaptiveAvg(size) => {
                        let mut taps = Vec::new();
                        adaptive_taps(shape, size, o, |pos| taps.push(pos.to_vec()));
                        let d = A::of_count(taps.len() as i64);
                        for pos in &taps {
                            add(pos, g / d);
                        }
                    }
                    PoolOp::GlobalAvg => {
                        let d = A::of_count(shape.plane() as i64);
                        for_each_index(&spatial, |pos| add(pos, g / d));
                    }
                }
            });
            result?;
        }
    }
    Ok(rounded(acc.into_iter().map(A::wide).collect()))
}

/// The gradient input of a max op from explicit indices (flat over the spatial dims of each
/// `(n, c)` plane, one per element of `grad_output`, whose shape is `output`): each gradient is
/// added to the element at its index, in output order. An index outside its plane is an error.
pub fn max_pool_backward_with_indices<T: Element>(
    shape: &TensorShape,
    output: &TensorShape,
    indices: &[i64],
    grad_output: &[T],
) -> Result<Vec<T>> {
    no_gradient::<T>()?;
    for (buffer, got) in [("indices", indices.len()), ("grad_output", grad_output.len())] {
        if got != output.len() {
            return Err(PoolError::BufferLength { buffer, expected: output.len(), got });
        }
    }
    let spatial = shape.spatial().to_vec();
    let plane = shape.plane();
    let mut acc = vec![0.0f64; shape.len()];
    for n in 0..shape.batch() {
        for c in 0..shape.channels() {
            let mut result = Ok(());
            for_each_index(output.spatial(), |o| {
                if result.is_err() {
                    return;
                }
                let oi = output.offset(n, c, o);
                let idx = indices[oi];
                if idx < 0 || idx as u64 >= plane as u64 {
                    result = Err(PoolError::IndexOutOfPlane { position: oi, index: idx, plane });
                    return;
                }
                acc[shape.offset(n, c, &unflatten(idx as usize, &spatial))] += grad_output[oi].to_f64();
            });
            result?;
        }
    }
    Ok(rounded(acc))
}
