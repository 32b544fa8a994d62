//! Channels-first problems through the channels-last kernel (see [`crate::lanes::transposed`]),
//! with 8x8 transposes in AVX registers (`Lanes::transpose8` of [`V3`]). The AVX-512 level runs this too, with its own
//! channels-first kernel for partial planes and this level's channels-last kernel (measured faster).

use crate::lanes::transposed::{self, ArgKernel, Kernel};
use crate::problem::{Problem, Reduce};
use core::ops::Range;
use pulp::x86::V3;

/// [`transposed::pool_groups`] with AVX transposes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pool_groups(
    simd: V3,
    p: &Problem<'_>,
    red: &Reduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
    g: usize,
    first: impl Kernel,
    last: impl Kernel,
) {
    simd.vectorize(
        #[inline(always)]
        || transposed::pool_groups(simd, p, red, input, output, rows, g, first, last),
    )
}

/// [`transposed::pool_groups_argmax`] with AVX transposes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pool_groups_argmax(
    simd: V3,
    p: &Problem<'_>,
    input: &[f32],
    output: &mut [f32],
    indices: &mut [i64],
    rows: Range<usize>,
    g: usize,
    first: impl ArgKernel,
    last: impl ArgKernel,
) {
    simd.vectorize(
        #[inline(always)]
        || transposed::pool_groups_argmax(simd, p, input, output, indices, rows, g, first, last),
    )
}
