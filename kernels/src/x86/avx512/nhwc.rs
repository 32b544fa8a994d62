//! Channels-last windowed f32 kernels for AVX512: the lane-generic kernel of
//! [`crate::lanes::nhwc`] at 16 lanes, blocked 1 pixel x 4 vectors.

use crate::problem::{Problem, Reduce};
use core::ops::Range;
use pulp::x86::V4;

/// Channels-last windowed and adaptive f32 pooling (see [`crate::WindowFn`]).
pub(crate) fn window(simd: V4, p: &Problem<'_>, red: &Reduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    crate::lanes::nhwc::window::<V4, 1, 4>(simd, p, red, input, output, rows)
}
