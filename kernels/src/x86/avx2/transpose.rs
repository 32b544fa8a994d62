//! Channels-first problems through the channels-last kernel (see [`crate::lanes::transposed`]),
//! with 8x8 transposes in AVX registers. The AVX-512 level runs this too, with its own
//! channels-first kernel for partial planes and this level's channels-last kernel (measured faster).

use crate::lanes::transposed::{self, ArgKernel, Block8, Kernel};
use crate::problem::{Problem, Reduce};
use core::arch::x86_64::*;
use core::ops::Range;
use pulp::x86::V3;

/// 8x8 f32 transposes in AVX registers: the `V3` token proves the CPU has AVX2, and the value is
/// used only inside the `V3::vectorize` regions below.
#[derive(Clone, Copy)]
struct Avx8(V3);

impl Block8 for Avx8 {
    #[inline(always)]
    unsafe fn block8(self, src: *const f32, ss: usize, dst: *mut f32, ds: usize) {
        // SAFETY: the caller guarantees the eight source rows and eight destination rows of 8
        // floats; AVX is enabled (see the type).
        unsafe {
            let r = |i: usize| _mm256_loadu_ps(src.add(i * ss));
            let (a0, a1, a2, a3) = (r(0), r(1), r(2), r(3));
            let (a4, a5, a6, a7) = (r(4), r(5), r(6), r(7));
            // Pairs of rows interleaved, then quadruples, per 128-bit half; then the halves swap.
            let (t0, t1) = (_mm256_unpacklo_ps(a0, a1), _mm256_unpackhi_ps(a0, a1));
            let (t2, t3) = (_mm256_unpacklo_ps(a2, a3), _mm256_unpackhi_ps(a2, a3));
            let (t4, t5) = (_mm256_unpacklo_ps(a4, a5), _mm256_unpackhi_ps(a4, a5));
            let (t6, t7) = (_mm256_unpacklo_ps(a6, a7), _mm256_unpackhi_ps(a6, a7));
            let (u0, u1) = (_mm256_shuffle_ps::<0x44>(t0, t2), _mm256_shuffle_ps::<0xee>(t0, t2));
            let (u2, u3) = (_mm256_shuffle_ps::<0x44>(t1, t3), _mm256_shuffle_ps::<0xee>(t1, t3));
            let (u4, u5) = (_mm256_shuffle_ps::<0x44>(t4, t6), _mm256_shuffle_ps::<0xee>(t4, t6));
            let (u6, u7) = (_mm256_shuffle_ps::<0x44>(t5, t7), _mm256_shuffle_ps::<0xee>(t5, t7));
            let w = |i: usize, v: __m256| _mm256_storeu_ps(dst.add(i * ds), v);
            w(0, _mm256_permute2f128_ps::<0x20>(u0, u4));
            w(1, _mm256_permute2f128_ps::<0x20>(u1, u5));
            w(2, _mm256_permute2f128_ps::<0x20>(u2, u6));
            w(3, _mm256_permute2f128_ps::<0x20>(u3, u7));
            w(4, _mm256_permute2f128_ps::<0x31>(u0, u4));
            w(5, _mm256_permute2f128_ps::<0x31>(u1, u5));
            w(6, _mm256_permute2f128_ps::<0x31>(u2, u6));
            w(7, _mm256_permute2f128_ps::<0x31>(u3, u7));
        }
    }
}

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
        || transposed::pool_groups(Avx8(simd), p, red, input, output, rows, g, first, last),
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
        || transposed::pool_groups_argmax(Avx8(simd), p, input, output, indices, rows, g, first, last),
    )
}
