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
    let mut acc = vec![0.0f64; shape.len()];
    for n in 0..shape.batch() {
        for c in 0..shape.channels() {
            let mut result = Ok(());
            for_each_index(out.spatial(), |o| {
                if result.is_err() {
                    return;
                }
                let oi = out.offset(n, c, o);
                let g = grad_output[oi].to_f64();
                let mut add = |pos: &[usize], share: f64| acc[shape.offset(n, c, pos)] += share;
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
                        let d = match opts.divisor_override {
                            Some(d) => d,
                            None if opts.count_include_pad => padded as i64,
                            None => valid as i64,
                        } as f64;
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
                            add(pos, lp_share(g, input[shape.offset(n, c, pos)].to_f64(), y, *p));
                        }
                    }
                    PoolOp::AdaptiveAvg(size) => {
                        let mut taps = Vec::new();
                        adaptive_taps(shape, size, o, |pos| taps.push(pos.to_vec()));
                        let d = taps.len() as f64;
                        for pos in &taps {
                            add(pos, g / d);
                        }
                    }
                    PoolOp::GlobalAvg => {
                        let d = shape.plane() as f64;
                        for_each_index(&spatial, |pos| add(pos, g / d));
                    }
                }
            });
            result?;
        }
    }
    Ok(rounded(acc))
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
