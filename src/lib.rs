//! Hand-vectorised CPU pooling for neural networks: max, average, Lp, global and adaptive
//! pooling in 1-D, 2-D and 3-D, for channels-first (NCHW) and channels-last (NHWC) tensors of
//! `f32`, `f64`, `f16`, `bf16`, `u8` and `i8`.
//!
//! A [`Plan`] validates a request once, picks the kernel for the CPU (AVX-512, AVX2, NEON or
//! portable; see [`Isa`]) and runs many times on caller buffers without allocating. The
//! [`reference`](mod@reference) module is a plain scalar implementation of every op, the oracle every kernel is
//! tested against; use it for your own differential tests.
//!
//! ```
//! use simdpool::{Plan, PoolOp, TensorShape, Window};
//!
//! // ResNet stem max pool: 3x3, stride 2, padding 1, on a 1x64x112x112 NCHW tensor.
//! let input = TensorShape::nchw(&[1, 64, 112, 112])?;
//! let op = PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]));
//! let plan = Plan::<f32>::new(&op, &input)?;
//! assert_eq!(plan.output_shape().dims(), [1, 64, 56, 56]);
//!
//! let x = vec![1.0f32; plan.input_len()];
//! let mut y = vec![0.0f32; plan.output_len()];
//! plan.run(&x, &mut y)?;
//! assert!(y.iter().all(|&v| v == 1.0));
//! # Ok::<(), simdpool::PoolError>(())
//! ```
//!
//! # Semantics
//! PyTorch's, extended by ONNX where PyTorch has no equivalent:
//! * Output size, ceil mode, padding rules and `auto_pad`: see [`Window`].
//! * Max: NaN propagates; padding never wins; indices follow PyTorch's scan rule
//!   `v > best || isnan(v)` in row-major window order (first of equal maxima, last of several
//!   NaNs), as `i64` flat over the spatial dims of the `(n, c)` plane ([`Plan::run_with_indices`]).
//! * Average: `count_include_pad` counts padding but never the ceil-mode overhang past the padded
//!   end; `divisor_override` wins over both ([`AvgOptions`]).
//! * Lp: ONNX `LpPool`, `(sum |x|^p)^(1/p)` over the valid taps, `p >= 1`, without overflow at
//!   any `p` (rescaled by the window's largest magnitude where the direct sum leaves its range;
//!   rule and accuracy bound on [`PoolOp::Lp`]).
//! * Adaptive: output `i` of `O` over length `L` covers `[floor(i*L/O), ceil((i+1)*L/O))`.
//! * Accumulation and rounding per element type: see [`Element`].
//!
//! # Backward passes
//! [`Plan::backward`] (averages), [`Plan::backward_from_input`] (every op) and
//! [`Plan::backward_with_indices`] (max) write the gradient of the input; references in
//! [`reference::pool_backward`] and [`reference::max_pool_backward_with_indices`], and the
//! plans' exact bits for max and average in [`reference::pool_backward_in_order`].
//!
//! Gradients are PyTorch's:
//!
//! * **Max** (windowed, adaptive, global): each output's gradient flows to its argmax, the index
//!   the forward pass returns (same scan rule: first of equal maxima, last of several NaNs);
//!   where several outputs pick the same input, their gradients add. Padding receives nothing.
//!   [`Plan::backward_with_indices`] takes any index inside its `(n, c)` plane, in the output's
//!   window or not, as PyTorch's scatter does.
//! * **Average** (windowed, adaptive, global): each output's gradient divided by that output's
//!   divisor (`divisor_override`, else the count with or without padding, never the ceil-mode
//!   overhang: exactly the forward pass's) is added to every valid tap.
//! * **Lp**: `g * sign(x) * (|x| / y)^(p - 1)` to every valid tap `x`, with `y` the forward
//!   output; nothing where `y = 0` (and `sign(0) = 0`). The quotient form is the analytic
//!   `g sign(x) |x|^(p-1) / y^(p-1)` without the overflow of either power.
//!
//! **Order and rounding.** Contributions to one input element are added in increasing output
//! order (row-major over the output's spatial dims), starting from `+0.0`, in `f32` for `f32`,
//! `f16` and `bf16` and in `f64` for `f64`, and rounded once to the element type. Threads own
//! disjoint ranges of input rows, so no two write one element, and every level and thread
//! count give the same bits. Lp, max from the input, and `f16`/`bf16` averages gather: each
//! input element visits the windows that hold it and is written once. `f32`/`f64` averages go
//! by output row: each output row of a task's planes (images, channels-last), in increasing
//! order, divides its shares once and adds them to the taps of the rows it holds (outputs in
//! increasing order; a row is zeroed just before its first addition). Max from indices scatters
//! by output row: each task adds the gradient of every output of its planes whose index falls
//! in its rows, in output order (`f16`/`bf16` accumulate in `f32` on the stack and take the
//! gather when every index lies in its window). `u8` and `i8` have no gradient
//! ([`PoolError::NoGradient`]). These loop nests are written once; the SIMD levels compile them
//! with their target features for `f32` and `f64` (the same operations, so the same bits).
//!
//! ```
//! use simdpool::{Plan, PoolOp, TensorShape, Window};
//! let input = TensorShape::nchw(&[1, 1, 4, 4])?;
//! let plan = Plan::<f32>::new(&PoolOp::max(Window::new(&[2, 2])), &input)?;
//! let x = [1., 3., 2., 4., 5., 6., 1., 2., 7., 8., 9., 0., 4., 3., 2., 1.];
//! let (mut y, mut idx) = ([0.0f32; 4], [0i64; 4]);
//! plan.run_with_indices(&x, &mut y, &mut idx)?;
//! let mut gx = [f32::NAN; 16];
//! plan.backward_with_indices(&idx, &[1.0, 2.0, 3.0, 4.0], &mut gx)?;
//! assert_eq!(gx, [0., 0., 0., 2., 0., 1., 0., 0., 0., 3., 4., 0., 0., 0., 0., 0.]);
//! # Ok::<(), simdpool::PoolError>(())
//! ```
//!
//! # Determinism
//! Every ISA path and every thread count give bit-identical results for the same input: the
//! order of additions is fixed by the algorithm (see the `simdpool-kernels` crate docs), and
//! threads only split independent outputs, or, for channels-last global pooling of planes of 1024
//! pixels and more, pixel blocks whose number the plane size alone fixes.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backward;
mod dispatch;
mod element;
mod error;
mod geometry;
mod global_tree;
mod isa;
pub mod npy;
mod op;
mod parallel;
mod plan;
pub mod reference;
mod shape;
mod window;

pub use dispatch::cpu_features;
pub use element::{DType, Element};
pub use error::{PoolError, Result};
pub use half::{bf16, f16};
pub use isa::Isa;
pub use op::{AvgOptions, PoolOp, adaptive_range};
pub use parallel::Threading;
#[doc(hidden)]
pub use parallel::tasks_of_last_run;
pub use plan::{Plan, PlanOptions};
pub use shape::{Layout, TensorShape};
pub use simdpool_kernels::Route;
pub use window::{AutoPad, AxisWindow, Padding, Window};

/// How this crate was built: compiler, target, profile, compile-time target features.
pub mod build_info {
    include!(concat!(env!("OUT_DIR"), "/build_info.rs"));
}

/// The result of a one-call pooling function: values, their shape, and indices for max ops.
#[derive(Clone, Debug, PartialEq)]
pub struct Pooled<T> {
    /// Output values, in the input's layout.
    pub values: Vec<T>,
    /// Argmax indices (max ops with indices only).
    pub indices: Option<Vec<i64>>,
    /// Output shape.
    pub shape: TensorShape,
}

/// Pools `input` with `op` through a plan at the detected ISA level (no indices).
///
/// ```
/// use simdpool::{pool, PoolOp, TensorShape, Window};
/// let shape = TensorShape::nchw(&[1, 1, 2, 2])?;
/// let y = pool(&PoolOp::avg(Window::new(&[2, 2])), &[1.0f32, 2., 3., 4.], &shape)?;
/// assert_eq!(y.values, [2.5]);
/// # Ok::<(), simdpool::PoolError>(())
/// ```
pub fn pool<T: Element>(op: &PoolOp, input: &[T], shape: &TensorShape) -> Result<Pooled<T>> {
    let plan = Plan::new(op, shape)?;
    let mut values = vec![T::zeroed(); plan.output_len()];
    plan.run(input, &mut values)?;
    Ok(Pooled { values, indices: None, shape: plan.output_shape().clone() })
}

/// Like [`pool`], also returning argmax indices (max ops only).
pub fn pool_with_indices<T: Element>(op: &PoolOp, input: &[T], shape: &TensorShape) -> Result<Pooled<T>> {
    let plan = Plan::new(op, shape)?;
    let mut values = vec![T::zeroed(); plan.output_len()];
    let mut indices = vec![0i64; plan.output_len()];
    plan.run_with_indices(input, &mut values, &mut indices)?;
    Ok(Pooled { values, indices: Some(indices), shape: plan.output_shape().clone() })
}

/// 2-D max pooling (PyTorch `max_pool2d` without dilation or ceil mode) with indices.
///
/// ```
/// use simdpool::{max_pool2d, TensorShape};
/// let shape = TensorShape::nchw(&[1, 1, 4, 4])?;
/// let x = [1., 3., 2., 4., 5., 6., 1., 2., 7., 8., 9., 0., 4., 3., 2., 1.];
/// let y = max_pool2d::<f32>(&x, &shape, [2, 2], [2, 2], [0, 0])?;
/// assert_eq!(y.values, [6., 4., 8., 9.]);
/// # Ok::<(), simdpool::PoolError>(())
/// ```
pub fn max_pool2d<T: Element>(
    input: &[T],
    shape: &TensorShape,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<Pooled<T>> {
    let op = PoolOp::max(Window::new(&kernel).stride(&stride).padding(&padding));
    pool_with_indices(&op, input, shape)
}

/// 2-D average pooling (PyTorch `avg_pool2d` defaults: `count_include_pad = true`).
pub fn avg_pool2d<T: Element>(
    input: &[T],
    shape: &TensorShape,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<Pooled<T>> {
    pool(&PoolOp::avg(Window::new(&kernel).stride(&stride).padding(&padding)), input, shape)
}

/// Global average pooling over each plane.
pub fn global_avg_pool<T: Element>(input: &[T], shape: &TensorShape) -> Result<Pooled<T>> {
    pool(&PoolOp::GlobalAvg, input, shape)
}

/// Global max pooling over each plane.
pub fn global_max_pool<T: Element>(input: &[T], shape: &TensorShape) -> Result<Pooled<T>> {
    pool(&PoolOp::GlobalMax, input, shape)
}

/// Adaptive average pooling to `output_size` (one entry per spatial dim).
pub fn adaptive_avg_pool<T: Element>(input: &[T], shape: &TensorShape, output_size: &[usize]) -> Result<Pooled<T>> {
    pool(&PoolOp::AdaptiveAvg(output_size.to_vec()), input, shape)
}

/// Adaptive max pooling to `output_size`, with indices.
pub fn adaptive_max_pool<T: Element>(input: &[T], shape: &TensorShape, output_size: &[usize]) -> Result<Pooled<T>> {
    pool_with_indices(&PoolOp::AdaptiveMax(output_size.to_vec()), input, shape)
}
