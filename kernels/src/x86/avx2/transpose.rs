//! Channels-first problems through the channels-last kernel (see [`crate::lanes::transposed`]),
//! with 8x8 transposes in AVX registers (`Lanes::transpose8` of [`V3`]; `f64` on [`F64`]`<V3>`
//! moves element by element). The AVX-512 level runs this too, with its own
//! channels-first kernel for partial planes and this level's channels-last kernel (measured faster).

#[cfg(doc)]
use crate::lanes::F64;
use crate::lanes::transposed::{self, ArgKernel, Kernel};
use crate::lanes::{FloatLanes, Lanes};
use crate::problem::{Problem, Reduce};
use core::ops::Range;
#[cfg(doc)]
use pulp::x86::V3;

/// [`transposed::pool_groups`] inside `simd`'s `vectorize`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pool_groups<V: Lanes>(
    simd: V,
    p: &Problem<'_>,
    red: &Reduce,
    input: &[V::E],
    output: &mut [V::E],
    rows: Range<usize>,
    g: usize,
    first: impl Kernel<V::E>,
    last: impl Kernel<V::E>,
) {
    simd.vectorize(
        #[inline(always)]
        || transposed::pool_groups(simd, p, red, input, output, rows, g, first, last),
    )
}

/// [`transposed::pool_groups_argmax`] inside `simd`'s `vectorize`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pool_groups_argmax<V: FloatLanes>(
    simd: V,
    p: &Problem<'_>,
    input: &[V::E],
    output: &mut [V::E],
    indices: &mut [i64],
    rows: Range<usize>,
    g: usize,
    first: impl ArgKernel<V::E>,
    last: impl ArgKernel<V::E>,
) {
    simd.vectorize(
        #[inline(always)]
        || transposed::pool_groups_argmax(simd, p, input, output, indices, rows, g, first, last),
    )
}
