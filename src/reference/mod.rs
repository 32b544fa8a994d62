//! The scalar oracle: every op written as its literal definition.
//!
//! Each function loops over `(n, c)`, over every output position, and over every tap of that
//! output's window in row-major order, skipping taps that fall in padding. It shares nothing with
//! the plans and kernels except the definition of the output size ([`Window::resolve`]) and of
//! adaptive windows ([`adaptive_range`]), so downstream crates can test any pooling code against
//! it. It is slow on purpose.
//!
//! * Max: the first tap starts the scan; a later value `v` replaces the best when
//!   `v > best || v.is_nan()` (PyTorch: first of equal maxima, last of several NaNs). The index is
//!   flat over the spatial dims of the `(n, c)` plane. The value is the selected element itself,
//!   bits included: of `+0.0` and `-0.0` the first in scan order, of several NaNs the last one's
//!   payload. Global max is this scan over the whole plane (plans return the same element from
//!   `run` as from `run_with_indices`, see [`PoolOp::GlobalMax`]).
//! * Average and Lp: sums accumulate in `f64` and the result is rounded once to the element type
//!   (integers: exactly, to nearest, ties to even, saturating); a NaN result is the canonical NaN.
//!   An Lp sum that overflows `f64` or falls below `2^-960` is evaluated scaled by the window's
//!   largest magnitude ([`p_norm`]), the rule the kernels apply in their own sum type.
//! * Average divisor: `divisor_override` if set; else with `count_include_pad` the number of taps
//!   inside `[-pad_begin, L + pad_end)` per axis (the ceil-mode overhang never counts), else the
//!   number of valid taps.
//!
//! ```
//! use simdpool::{reference, PoolOp, TensorShape, Window};
//! let shape = TensorShape::nchw(&[1, 1, 4, 4])?;
//! let x = [1., 3., 2., 4., 5., 6., 1., 2., 7., 8., 9., 0., 4., 3., 2., 1.];
//! let y = reference::pool::<f32>(&PoolOp::max(Window::new(&[2, 2])), &x, &shape)?;
//! assert_eq!(y.values, [6., 4., 8., 9.]);
//! assert_eq!(y.indices.unwrap(), [5, 3, 9, 10]);
//! # Ok::<(), simdpool::PoolError>(())
//! ```

mod backward;

pub use backward::{max_pool_backward_with_indices, pool_backward, pool_backward_in_order};

use crate::Pooled;
use crate::element::{DType, Element};
use crate::error::{PoolError, Result};
use crate::op::{AvgOptions, PoolOp, adaptive_range, check_adaptive};
use crate::shape::TensorShape;
use crate::window::{AxisWindow, Window};

/// Calls `f` with every multi-index of `dims` in row-major order.
fn for_each_index(dims: &[usize], mut f: impl FnMut(&[usize])) {
    let mut idx = vec![0; dims.len()];
    if dims.contains(&0) {
        return;
    }
    loop {
        f(&idx);
        let mut axis = dims.len();
        loop {
            if axis == 0 {
                return;
            }
            axis -= 1;
            idx[axis] += 1;
            if idx[axis] < dims[axis] {
                break;
            }
            idx[axis] = 0;
        }
    }
}

fn flat(pos: &[usize], dims: &[usize]) -> usize {
    pos.iter().zip(dims).fold(0, |acc, (p, d)| acc * d + p)
}

fn check_input<T>(input: &[T], shape: &TensorShape) -> Result<()> {
    if input.len() != shape.len() {
        return Err(PoolError::BufferLength { buffer: "input", expected: shape.len(), got: input.len() });
    }
    Ok(())
}

/// The scan rule over a sequence of `(value, flat index)`.
fn scan_max<T: Element>(taps: impl Iterator<Item = (T, usize)>) -> Option<(T, usize)> {
    let mut best: Option<(T, usize)> = None;
    for (v, i) in taps {
        match best {
            Some((b, _)) if !(v > b || v.is_nan()) => {}
            _ => best = Some((v, i)),
        }
    }
    best
}

/// NaN results of sums are the canonical quiet NaN (as on every plan path).
fn canonical_nan(x: f64) -> f64 {
    if x.is_nan() { f64::NAN } else { x }
}

/// Rounds `sum / divisor` to `T`; integers exactly (ties to even).
fn mean<T: Element>(sum: f64, divisor: i64) -> T {
    match T::DTYPE {
        DType::U8 | DType::I8 => {
            // Integer sums are exact in f64 for any realistic window; divide exactly in i128.
            let (n, d) =
                if divisor < 0 { (-(sum as i128), -(divisor as i128)) } else { (sum as i128, divisor as i128) };
            let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
            let q = if 2 * r > d || (2 * r == d && q % 2 != 0) { q + 1 } else { q };
            T::from_f64(q as f64)
        }
        _ => T::from_f64(canonical_nan(sum / divisor as f64)),
    }
}

/// Taps of one output of a windowed op: `(position, in the padded extent)` per tap, only the
/// taps inside the input.
fn window_taps(axes: &[AxisWindow], out: &[usize], mut f: impl FnMut(&[usize])) -> (usize, usize) {
    let kernel: Vec<usize> = axes.iter().map(|a| a.kernel).collect();
    let (mut valid, mut padded) = (0, 0);
    let mut pos = vec![0; axes.len()];
    for_each_index(&kernel, |j| {
        if axes.iter().enumerate().all(|(a, w)| w.is_in_padded(out[a], j[a])) {
            padded += 1;
        }
        if axes.iter().enumerate().all(|(a, w)| w.is_valid(out[a], j[a])) {
            for (a, w) in axes.iter().enumerate() {
                pos[a] = w.position(out[a], j[a]) as usize;
            }
            valid += 1;
            f(&pos);
        }
    });
    (valid, padded)
}

/// Runs `per_output(n, c, output position) -> (value, index)` over every output.
fn map_outputs<T: Element>(
    shape: &TensorShape,
    out_spatial: &[usize],
    with_indices: bool,
    mut per_output: impl FnMut(usize, usize, &[usize]) -> Result<(T, usize)>,
) -> Result<Pooled<T>> {
    let out_shape = shape.with_spatial(out_spatial)?;
    // A hostile output size is an error, not an allocation abort.
    let too_large = |_| PoolError::Overflow { what: "memory for the reference output" };
    let mut values = Vec::new();
    values.try_reserve_exact(out_shape.len()).map_err(too_large)?;
    values.resize(out_shape.len(), T::zeroed());
    let mut indices = match with_indices {
        true => {
            let mut v = Vec::new();
            v.try_reserve_exact(out_shape.len()).map_err(too_large)?;
            v.resize(out_shape.len(), 0i64);
            Some(v)
        }
        false => None,
    };
    let mut failure = None;
    for n in 0..shape.batch() {
        for c in 0..shape.channels() {
            for_each_index(out_spatial, |o| {
                if failure.is_some() {
                    return;
                }
                match per_output(n, c, o) {
                    Ok((v, i)) => {
                        let at = out_shape.offset(n, c, o);
                        values[at] = v;
                        if let Some(idx) = indices.as_mut() {
                            idx[at] = i as i64;
                        }
                    }
                    Err(e) => failure = Some(e),
                }
            });
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(Pooled { values, indices, shape: out_shape }),
    }
}

fn all_padding(axes: &[AxisWindow], o: &[usize]) -> PoolError {
    // Name the first axis whose window has no valid tap (or the first axis if none alone is).
    let axis = (0..axes.len()).find(|&a| (0..axes[a].kernel).all(|j| !axes[a].is_valid(o[a], j))).unwrap_or(0);
    PoolError::WindowInPadding { axis, output: o[axis] }
}

/// Windowed max pooling with indices.
pub fn max_pool<T: Element>(input: &[T], shape: &TensorShape, window: &Window) -> Result<Pooled<T>> {
    check_input(input, shape)?;
    let axes = window.resolve(shape.spatial())?;
    let out: Vec<usize> = axes.iter().map(|a| a.output).collect();
    let dims = shape.spatial().to_vec();
    map_outputs(shape, &out, true, |n, c, o| {
        let mut taps = Vec::new();
        window_taps(&axes, o, |pos| taps.push((input[shape.offset(n, c, pos)], flat(pos, &dims))));
        scan_max(taps.into_iter()).ok_or_else(|| all_padding(&axes, o))
    })
}

/// Windowed average pooling.
pub fn avg_pool<T: Element>(
    input: &[T],
    shape: &TensorShape,
    window: &Window,
    options: &AvgOptions,
) -> Result<Pooled<T>> {
    check_input(input, shape)?;
    PoolOp::Avg(window.clone(), *options).check_params()?;
    let axes = window.resolve(shape.spatial())?;
    let out: Vec<usize> = axes.iter().map(|a| a.output).collect();
    map_outputs(shape, &out, false, |n, c, o| {
        let mut sum = 0.0f64;
        let (valid, padded) = window_taps(&axes, o, |pos| sum += input[shape.offset(n, c, pos)].to_f64());
        if valid == 0 {
            return Err(all_padding(&axes, o));
        }
        let divisor = match options.divisor_override {
            Some(d) => d,
            None if options.count_include_pad => padded as i64,
            None => valid as i64,
        };
        Ok((mean(sum, divisor), 0))
    })
}

/// Windowed Lp pooling (ONNX `LpPool`): `(sum over valid taps of |x|^p)^(1/p)`, in `f64`
/// without overflow at any `p` (see [`p_norm`]).
pub fn lp_pool<T: Element>(input: &[T], shape: &TensorShape, window: &Window, p: f64) -> Result<Pooled<T>> {
    check_input(input, shape)?;
    PoolOp::Lp(window.clone(), p).check_params()?;
    let axes = window.resolve(shape.spatial())?;
    let out: Vec<usize> = axes.iter().map(|a| a.output).collect();
    let mut magnitudes = Vec::new();
    map_outputs(shape, &out, false, |n, c, o| {
        magnitudes.clear();
        let (valid, _) = window_taps(&axes, o, |pos| magnitudes.push(input[shape.offset(n, c, pos)].to_f64().abs()));
        if valid == 0 {
            return Err(all_padding(&axes, o));
        }
        Ok((T::from_f64(canonical_nan(p_norm(&magnitudes, p))), 0))
    })
}

/// The p-norm `(sum a^p)^(1/p)` of non-negative values, in `f64`. Where the direct sum overflows
/// or falls below `2^-960` (where subnormal terms would cost it precision) and the largest value
/// `m` is finite and nonzero, it is evaluated as `m * (sum (a/m)^p)^(1/p)`, whose sum lies in
/// `[1, len]`. The kernels follow the same rule in their own sum type.
pub fn p_norm(a: &[f64], p: f64) -> f64 {
    let direct: f64 = a.iter().map(|x| x.powf(p)).sum();
    let m = a.iter().fold(0.0f64, |m, &x| if x > m { x } else { m });
    let in_range = direct.is_nan() || (direct.is_finite() && direct >= 2f64.powi(-960));
    if in_range || m == 0.0 || m.is_infinite() {
        return direct.powf(1.0 / p);
    }
    m * a.iter().map(|x| (x / m).powf(p)).sum::<f64>().powf(1.0 / p)
}

/// Adaptive windows of one output: every position in the product of the axes' ranges.
fn adaptive_taps(shape: &TensorShape, out: &[usize], o: &[usize], mut f: impl FnMut(&[usize])) {
    let ranges: Vec<(usize, usize)> =
        (0..out.len()).map(|a| adaptive_range(o[a], shape.spatial()[a], out[a])).collect();
    let extent: Vec<usize> = ranges.iter().map(|(b, e)| e - b).collect();
    let mut pos = vec![0; out.len()];
    for_each_index(&extent, |j| {
        for a in 0..out.len() {
            pos[a] = ranges[a].0 + j[a];
        }
        f(&pos);
    });
}

/// Adaptive max pooling with indices.
pub fn adaptive_max_pool<T: Element>(input: &[T], shape: &TensorShape, output_size: &[usize]) -> Result<Pooled<T>> {
    check_input(input, shape)?;
    check_adaptive(output_size, shape.rank())?;
    let dims = shape.spatial().to_vec();
    map_outputs(shape, output_size, true, |n, c, o| {
        let mut taps = Vec::new();
        adaptive_taps(shape, output_size, o, |pos| taps.push((input[shape.offset(n, c, pos)], flat(pos, &dims))));
        Ok(scan_max(taps.into_iter()).expect("adaptive windows are never empty"))
    })
}

/// Adaptive average pooling.
pub fn adaptive_avg_pool<T: Element>(input: &[T], shape: &TensorShape, output_size: &[usize]) -> Result<Pooled<T>> {
    check_input(input, shape)?;
    check_adaptive(output_size, shape.rank())?;
    map_outputs(shape, output_size, false, |n, c, o| {
        let (mut sum, mut count) = (0.0f64, 0i64);
        adaptive_taps(shape, output_size, o, |pos| {
            sum += input[shape.offset(n, c, pos)].to_f64();
            count += 1;
        });
        Ok((mean(sum, count), 0))
    })
}

/// Global max pooling with indices (max over each whole plane).
pub fn global_max_pool<T: Element>(input: &[T], shape: &TensorShape) -> Result<Pooled<T>> {
    adaptive_max_pool(input, shape, &vec![1; shape.rank()])
}

/// Global average pooling (mean over each whole plane).
pub fn global_avg_pool<T: Element>(input: &[T], shape: &TensorShape) -> Result<Pooled<T>> {
    adaptive_avg_pool(input, shape, &vec![1; shape.rank()])
}

/// Any op. Max ops fill `indices`; the others leave it `None`.
pub fn pool<T: Element>(op: &PoolOp, input: &[T], shape: &TensorShape) -> Result<Pooled<T>> {
    match op {
        PoolOp::Max(w) => max_pool(input, shape, w),
        PoolOp::Avg(w, o) => avg_pool(input, shape, w, o),
        PoolOp::Lp(w, p) => lp_pool(input, shape, w, *p),
        PoolOp::GlobalMax => global_max_pool(input, shape),
        PoolOp::GlobalAvg => global_avg_pool(input, shape),
        PoolOp::AdaptiveMax(o) => adaptive_max_pool(input, shape, o),
        PoolOp::AdaptiveAvg(o) => adaptive_avg_pool(input, shape, o),
    }
}
