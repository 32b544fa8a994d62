//! Channels-first windowed f32 kernels for AVX2 + FMA: the separable loop nest of
//! [`crate::separable`] over 8-lane vectors (shuffle + lane permute for the stride-2
//! deinterleave, mask stores for row tails).

use crate::problem::{Problem, Reduce};
use crate::separable::{self, Args, PlaneArgs, Red, Simd};
use core::arch::x86_64::*;
use core::ops::Range;
use pulp::x86::V3;

/// AVX2 lanes: the `V3` token they hold proves the CPU has AVX2 and FMA, and every method runs
/// inside a `V3::vectorize` region (the entries below), so each intrinsic is compiled with them.
#[derive(Clone, Copy)]
struct Avx2(V3);

impl Avx2 {
    /// `p[0], p[2], ..., p[14]` when `ODD` is false, `p[1], ..., p[15]` when true, in the lane
    /// order `(0 1 4 5 | 2 3 6 7)` of the in-lane shuffle ([`Simd::order`] fixes it).
    #[inline(always)]
    unsafe fn deinterleave<const ODD: bool>(self, p: *const f32) -> __m256 {
        // SAFETY: the caller guarantees `p[0..16]` is readable; AVX2 as for the type.
        unsafe {
            let (a, b) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
            // Per 128-bit half: (a0 a2 b0 b2 | a4 a6 b4 b6).
            if ODD { _mm256_shuffle_ps::<0b11_01_11_01>(a, b) } else { _mm256_shuffle_ps::<0b10_00_10_00>(a, b) }
        }
    }

    /// `p[4 * j + PH]`, in the lane order `(0 2 4 6 | 1 3 5 7)` of the in-lane shuffles.
    #[inline(always)]
    unsafe fn stride4<const PH: i32>(self, p: *const f32) -> __m256 {
        // SAFETY: the caller guarantees `p[0..32]` is readable; AVX2 as for the type.
        unsafe {
            let (a, b) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
            let (c, d) = (_mm256_loadu_ps(p.add(16)), _mm256_loadu_ps(p.add(24)));
            // (a_ph a_ph b_ph b_ph | a_ph+4 ..), then (a_ph b_ph c_ph d_ph | a_ph+4 .. d_ph+4).
            let t0 = _mm256_shuffle_ps::<PH>(a, b);
            let t1 = _mm256_shuffle_ps::<PH>(c, d);
            _mm256_shuffle_ps::<0b10_00_10_00>(t0, t1)
        }
    }
}

impl Simd for Avx2 {
    type V = __m256;
    const N: usize = 8;
    #[inline(always)]
    fn splat(self, x: f32) -> __m256 {
        // SAFETY: an `Avx2` value exists only where AVX2 is enabled (see the type).
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m256 {
        // SAFETY: the caller guarantees `p[0..8]` is readable; AVX as above.
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m256) {
        // SAFETY: the caller guarantees `p[0..8]` is writable; AVX as above.
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f32, n: usize, v: __m256) {
        // Stores of 4, 2 and 1 lanes by the bits of `n` (`vmaskmovps` stores are slow on AMD).
        // SAFETY: the pieces write `p[0..n]` exactly (4, 2, 1 floats at increasing offsets, by
        // the bits of `n < 8`), which the caller guarantees writable; AVX2 as for the type.
        unsafe {
            let (mut lo, hi) = (_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let mut q = p;
            if n & 4 != 0 {
                _mm_storeu_ps(q, lo);
                lo = hi;
                q = q.add(4);
            }
            if n & 2 != 0 {
                _mm_storel_epi64(q.cast(), _mm_castps_si128(lo));
                lo = _mm_movehl_ps(lo, lo);
                q = q.add(2);
            }
            if n & 1 != 0 {
                _mm_store_ss(q, lo);
            }
        }
    }
    #[inline(always)]
    unsafe fn load_even(self, p: *const f32) -> __m256 {
        // SAFETY: forwarded contract (`p[0..16]` readable).
        unsafe { self.deinterleave::<false>(p) }
    }
    #[inline(always)]
    unsafe fn load_odd(self, p: *const f32) -> __m256 {
        // SAFETY: forwarded contract (`p[0..16]` readable).
        unsafe { self.deinterleave::<true>(p) }
    }
    #[inline(always)]
    unsafe fn load_s4(self, p: *const f32, phase: usize) -> __m256 {
        // SAFETY: forwarded contract (`p[0..32]` readable); the immediates repeat the phase in
        // all four selector fields.
        unsafe {
            match phase {
                0 => self.stride4::<0x00>(p),
                1 => self.stride4::<0x55>(p),
                2 => self.stride4::<0xaa>(p),
                _ => self.stride4::<0xff>(p),
            }
        }
    }
    #[inline(always)]
    fn order<const ST: usize>(self, v: __m256) -> __m256 {
        // SAFETY: AVX2 is enabled wherever an `Avx2` exists.
        unsafe {
            match ST {
                // Swap the middle 64-bit pairs: (0 1 4 5 | 2 3 6 7) -> (0 1 2 3 | 4 5 6 7).
                2 => _mm256_castpd_ps(_mm256_permute4x64_pd::<0b11_01_10_00>(_mm256_castps_pd(v))),
                4 => _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)),
                _ => v,
            }
        }
    }
    #[inline(always)]
    fn nest<R: Red, const ST: usize, const K: usize>(self, args: Args<'_, '_, '_>) {
        self.0.vectorize(
            #[inline(always)]
            || separable::pool_nests::<Avx2, R, ST, K>(self, args),
        )
    }
    #[inline(always)]
    fn plane<R: Red, const ST: usize, const K: usize>(self, args: PlaneArgs<'_, '_, '_>) -> bool {
        // One out-of-line copy, shared with the AVX-512 level.
        plane_nest::<R, ST, K>(self.0, args)
    }
    #[inline(always)]
    fn add(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX is enabled wherever an `Avx2` exists.
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX is enabled wherever an `Avx2` exists.
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    fn div(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: AVX is enabled wherever an `Avx2` exists.
        unsafe { _mm256_div_ps(a, b) }
    }
    #[inline(always)]
    fn sqrt(self, a: __m256) -> __m256 {
        // SAFETY: AVX is enabled wherever an `Avx2` exists.
        unsafe { _mm256_sqrt_ps(a) }
    }
    #[inline(always)]
    fn abs(self, a: __m256) -> __m256 {
        // SAFETY: AVX is enabled wherever an `Avx2` exists.
        unsafe { _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff))) }
    }
    #[inline(always)]
    fn canon(self, a: __m256) -> __m256 {
        // SAFETY: AVX is enabled wherever an `Avx2` exists.
        unsafe { _mm256_blendv_ps(a, _mm256_set1_ps(f32::NAN), _mm256_cmp_ps::<_CMP_UNORD_Q>(a, a)) }
    }
    #[inline(always)]
    fn maxc(self, l: __m256, r: __m256) -> __m256 {
        // `max(r, l)` returns `l` when either is NaN or they are equal, `r` when `r > l`; then
        // lanes where `r` is NaN take `r`.
        // SAFETY: AVX is enabled wherever an `Avx2` exists.
        unsafe { _mm256_blendv_ps(_mm256_max_ps(r, l), r, _mm256_cmp_ps::<_CMP_UNORD_Q>(r, r)) }
    }
    #[inline(always)]
    fn maxf(self, l: __m256, r: __m256) -> __m256 {
        // `max(r, l)` is `r` where `r > l`, else `l` (ties keep `l`).
        // SAFETY: AVX is enabled wherever an `Avx2` exists.
        unsafe { _mm256_max_ps(r, l) }
    }
}

/// The channels-first windowed f32 kernel (see [`crate::WindowFn`]).
pub(crate) fn window(simd: V3, p: &Problem<'_>, red: &Reduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    simd.vectorize(
        #[inline(always)]
        || separable::window(Avx2(simd), p, red, input, output, rows),
    )
}

/// The plane nest at AVX2 width (8 lanes), for this level and the AVX-512 one
/// ([`Simd::plane`]).
#[inline(never)]
pub(crate) fn plane_nest<R: Red, const ST: usize, const K: usize>(simd: V3, args: PlaneArgs<'_, '_, '_>) -> bool {
    simd.vectorize(
        #[inline(always)]
        || separable::plane_run::<Avx2, R, ST, K>(Avx2(simd), args),
    )
}
