//! Channels-last windowed f32 kernels for NEON: the lane-generic kernel of
//! [`crate::lanes::nhwc`] at 4 lanes, blocked 2 pixels x 4 vectors.

use crate::problem::{Problem, Reduce};
use core::ops::Range;
use pulp::aarch64::Neon;

/// Channels-last windowed and adaptive f32 pooling (see [`crate::WindowFn`]).
pub(crate) fn window(simd: Neon, p: &Problem<'_>, red: &Reduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    crate::lanes::nhwc::window::<Neon, 2, 4>(simd, p, red, input, output, rows)
}
