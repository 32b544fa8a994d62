//! The pooling operations.

use crate::error::{PoolError, Result};
use crate::shape::TensorShape;
use crate::window::Window;

/// Options of average pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AvgOptions {
    /// Whether padded positions count in the divisor (PyTorch default: `true`). Positions of the
    /// ceil-mode overhang beyond the end padding never count.
    pub count_include_pad: bool,
    /// A divisor that replaces the computed one (non-zero). Wins over `count_include_pad`.
    pub divisor_override: Option<i64>,
}

impl Default for AvgOptions {
    fn default() -> Self {
        AvgOptions { count_include_pad: true, divisor_override: None }
    }
}

/// A pooling operation over the spatial dims of each `(n, c)` plane.
#[derive(Clone, Debug, PartialEq)]
pub enum PoolOp {
    /// Windowed max. NaN propagates; padding never wins; indices follow PyTorch's scan rule.
    Max(Window),
    /// Windowed average.
    Avg(Window, AvgOptions),
    /// Windowed Lp pooling, ONNX `LpPool`: `(sum |x|^p)^(1/p)` over the valid taps, for any
    /// finite `p >= 1`.
    ///
    /// **Evaluation.** The sum accumulates in the element type's sum type (`f32` for `f32`,
    /// `f16` and `bf16`; `f64` for `f64`, `u8` and `i8`; see [`Element`](crate::Element)) in the
    /// canonical order, and `y = sum^(1/p)` is rounded once. Where that direct `y` cannot be
    /// trusted, because the sum overflowed (`y = inf`), fell below `2^-100` (`f32`) or `2^-960`
    /// (`f64`), where subnormal terms lose precision, or an integer result saturated, and the
    /// window's largest magnitude `m` is finite and nonzero, the window is evaluated again as
    /// `m * (sum (|x|/m)^p)^(1/p)`. Its terms are at most `1`, so nothing overflows at any `p` up
    /// to `f64::MAX`, and as `p` grows the result tends to `m`. The test is on the direct result,
    /// which every level computes bit-identically, so every level and thread count give the
    /// same bits. NaN anywhere in the window gives the canonical NaN; an infinite tap gives
    /// `inf`; an all-zero window gives `0`.
    ///
    /// **Accuracy** against the reference's `f64` evaluation, at every `p >= 1` and magnitude:
    /// `|y - y_ref| <= (taps/p + |ln y_ref| + 6) * eps_sum * y_ref + eps_out * y_ref + tiny`,
    /// with `eps_sum` the epsilon of the sum type, `eps_out` that of the element type (`0` for
    /// `f32` and `f64`), and `tiny` its smallest subnormal; integers are within one. The
    /// `|ln y|` term is the rounding of the exponent `1/p` to `f32` (at most `88.7/p` on the
    /// direct path; the scaled path's sum lies in `[1, taps]`). Measured over `p` from 1 to
    /// `1e308` and magnitudes from subnormal to the largest finite value (`tests/integration/lp_range.rs`):
    /// at most 16 `f32` epsilons (at `p = 1.5`, `y` near `1e25`), about a third of the bound.
    ///
    /// ```
    /// use simdpool::{Plan, PoolOp, TensorShape, Window};
    /// let op = PoolOp::lp(Window::new(&[2]), 200.0);
    /// let plan = Plan::<f32>::new(&op, &TensorShape::nchw(&[1, 1, 2])?)?;
    /// let mut y = [0.0f32];
    /// plan.run(&[5.0, 6.0], &mut y)?; // 6^200 overflows f32; the norm is about 6.00000
    /// assert!((y[0] - 6.0).abs() < 1e-4);
    /// # Ok::<(), simdpool::PoolError>(())
    /// ```
    Lp(Window, f64),
    /// Max over each whole plane, by the same scan rule as [`PoolOp::Max`]: a later element `v`
    /// replaces the running maximum when `v > best || v.is_nan()`. The value is the element that
    /// scan selects, bits included, from [`Plan::run`](crate::Plan::run) as from
    /// [`Plan::run_with_indices`](crate::Plan::run_with_indices) and the reference: of equal
    /// maxima the first (so of `+0.0` and `-0.0` the first in the plane), of several NaNs the
    /// last (its payload).
    GlobalMax,
    /// Mean over each whole plane.
    GlobalAvg,
    /// Max over adaptive windows: output `i` of an axis of length `L` pooled to `O` covers
    /// `[floor(i*L/O), ceil((i+1)*L/O))`.
    AdaptiveMax(Vec<usize>),
    /// Mean over adaptive windows (see [`PoolOp::AdaptiveMax`]).
    AdaptiveAvg(Vec<usize>),
}

impl PoolOp {
    /// Max pooling.
    pub fn max(window: Window) -> Self {
        PoolOp::Max(window)
    }
    /// Average pooling with PyTorch's defaults (`count_include_pad = true`, no override).
    pub fn avg(window: Window) -> Self {
        PoolOp::Avg(window, AvgOptions::default())
    }
    /// Lp pooling.
    pub fn lp(window: Window, p: f64) -> Self {
        PoolOp::Lp(window, p)
    }

    /// A short name (`"max"`, `"avg"`, `"lp"`, `"global max"`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            PoolOp::Max(_) => "max",
            PoolOp::Avg(..) => "avg",
            PoolOp::Lp(..) => "lp",
            PoolOp::GlobalMax => "global max",
            PoolOp::GlobalAvg => "global avg",
            PoolOp::AdaptiveMax(_) => "adaptive max",
            PoolOp::AdaptiveAvg(_) => "adaptive avg",
        }
    }

    /// Whether this op can return argmax indices.
    pub fn has_indices(&self) -> bool {
        matches!(self, PoolOp::Max(_) | PoolOp::GlobalMax | PoolOp::AdaptiveMax(_))
    }

    /// The window, for windowed ops.
    pub fn window(&self) -> Option<&Window> {
        match self {
            PoolOp::Max(w) | PoolOp::Avg(w, _) | PoolOp::Lp(w, _) => Some(w),
            _ => None,
        }
    }

    /// Validates the op's own parameters (those that do not depend on the input).
    pub(crate) fn check_params(&self) -> Result<()> {
        match self {
            PoolOp::Lp(_, p) if !(p.is_finite() && *p >= 1.0) => Err(PoolError::InvalidLpPower { p: *p }),
            PoolOp::Avg(_, AvgOptions { divisor_override: Some(0), .. }) => Err(PoolError::ZeroDivisor),
            // The include-pad divisor is at most the product of the kernel sizes, computed as an
            // i64: it must not overflow (possible only with kernels of ~2^21 per axis and huge pads).
            PoolOp::Avg(w, AvgOptions { count_include_pad: true, divisor_override: None })
                if w.kernel()
                    .iter()
                    .try_fold(1usize, |a, &k| a.checked_mul(k))
                    .is_none_or(|n| n > i64::MAX as usize) =>
            {
                Err(PoolError::Overflow { what: "average divisor (the product of the kernel sizes)" })
            }
            _ => Ok(()),
        }
    }

    /// The output spatial dims for an input, validating everything.
    pub fn output_spatial(&self, input: &TensorShape) -> Result<Vec<usize>> {
        self.check_params()?;
        match self {
            PoolOp::Max(w) | PoolOp::Avg(w, _) | PoolOp::Lp(w, _) => {
                Ok(w.resolve(input.spatial())?.iter().map(|a| a.output).collect())
            }
            PoolOp::GlobalMax | PoolOp::GlobalAvg => Ok(vec![1; input.rank()]),
            PoolOp::AdaptiveMax(out) | PoolOp::AdaptiveAvg(out) => {
                check_adaptive(out, input.rank())?;
                Ok(out.clone())
            }
        }
    }

    /// The output shape for an input (same layout, batch and channels).
    pub fn output_shape(&self, input: &TensorShape) -> Result<TensorShape> {
        input.with_spatial(&self.output_spatial(input)?)
    }
}

pub(crate) fn check_adaptive(out: &[usize], rank: usize) -> Result<()> {
    if out.len() != rank {
        return Err(PoolError::ParamCount { param: "output size", expected: rank, got: out.len() });
    }
    if let Some(axis) = out.iter().position(|&o| o == 0) {
        return Err(PoolError::ZeroParam { param: "output size", axis });
    }
    Ok(())
}

/// The window of output `i` of an adaptive axis pooling `input` to `output`: `[begin, end)`,
/// `begin = floor(i * input / output)`, `end = ceil((i + 1) * input / output)`, in integers.
pub fn adaptive_range(i: usize, input: usize, output: usize) -> (usize, usize) {
    let (i, l, o) = (i as u128, input as u128, output as u128);
    let begin = i * l / o;
    let end = ((i + 1) * l).div_ceil(o);
    (begin as usize, end as usize)
}
