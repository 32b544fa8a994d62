//! Channels-first windowed f32 kernels for AVX-512: the separable loop nest of
//! [`crate::separable`] over 16-lane vectors (two-source permutes for the stride-2 deinterleave,
//! mask stores for row tails). 2-D and 1-D maps run the plane nest at AVX2 width instead
//! ([`Simd::plane`] below: measured faster), 3-D windows and the rest at 16 lanes.

use crate::problem::{Problem, Reduce};
use crate::separable::{self, Args, PlaneArgs, Red, Simd};
use core::arch::x86_64::*;
use core::ops::Range;
use pulp::x86::V4;

/// AVX-512 lanes: the `V4` token they hold proves the CPU has AVX-512 F/BW/CD/DQ/VL (and
/// x86-64-v3), and every method runs inside a `V4::vectorize` region (the entries below), so each
/// intrinsic is compiled with them.
#[derive(Clone, Copy)]
struct Avx512(V4);

/// `permutex2var` indices selecting the even (resp. odd) elements of two 16-lane vectors.
const EVEN: [i32; 16] = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];
const ODD: [i32; 16] = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31];
/// `permutex2var` indices putting elements `4 * j + phase` of two 16-lane vectors in lanes
/// `0..8` (the upper 8 lanes are unused).
const S4: [[i32; 16]; 4] = {
    let mut t = [[0; 16]; 4];
    let mut ph = 0;
    while ph < 4 {
        let mut j = 0;
        while j < 16 {
            t[ph][j] = (4 * (j % 8) + ph) as i32;
            j += 1;
        }
        ph += 1;
    }
    t
};

impl Simd for Avx512 {
    type V = __m512;
    const N: usize = 16;
    #[inline(always)]
    fn splat(self, x: f32) -> __m512 {
        // SAFETY: an `Avx512` value exists only where AVX-512F is enabled (see the type).
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m512 {
        // SAFETY: the caller guarantees `p[0..16]` is readable; AVX-512F as above.
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m512) {
        // SAFETY: the caller guarantees `p[0..16]` is writable; AVX-512F as above.
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f32, n: usize, v: __m512) {
        // SAFETY: the mask has only the low `n < 16` lanes set, and masked-off lanes are neither
        // written nor faulted; the caller guarantees `p[0..n]` is writable.
        unsafe { _mm512_mask_storeu_ps(p, ((1u32 << n) - 1) as u16, v) }
    }
    #[inline(always)]
    unsafe fn load_even(self, p: *const f32) -> __m512 {
        // SAFETY: the caller guarantees `p[0..32]` is readable; AVX-512F as above.
        unsafe {
            let idx = _mm512_loadu_si512(EVEN.as_ptr().cast());
            _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p.add(16)))
        }
    }
    #[inline(always)]
    unsafe fn load_odd(self, p: *const f32) -> __m512 {
        // SAFETY: the caller guarantees `p[0..32]` is readable; AVX-512F as above.
        unsafe {
            let idx = _mm512_loadu_si512(ODD.as_ptr().cast());
            _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p.add(16)))
        }
    }
    #[inline(always)]
    unsafe fn load_s4(self, p: *const f32, phase: usize) -> __m512 {
        // SAFETY: the caller guarantees `p[0..64]` is readable; AVX-512F as above.
        unsafe {
            let idx = _mm512_loadu_si512(S4[phase].as_ptr().cast());
            let a = _mm512_permutex2var_ps(_mm512_loadu_ps(p), idx, _mm512_loadu_ps(p.add(16)));
            let b = _mm512_permutex2var_ps(_mm512_loadu_ps(p.add(32)), idx, _mm512_loadu_ps(p.add(48)));
            // Low 256 bits of `a`, then low 256 bits of `b`.
            _mm512_shuffle_f32x4::<0b01_00_01_00>(a, b)
        }
    }
    #[inline(always)]
    fn order<const ST: usize>(self, v: __m512) -> __m512 {
        // Deinterleaves here put lanes in natural order already.
        v
    }
    #[inline(always)]
    fn plane<R: Red, const ST: usize, const K: usize>(self, args: PlaneArgs<'_, '_, '_>) -> bool {
        // The plane nest's loops are shifted and deinterleaving loads of rows in the L1 cache. At
        // 16 lanes every unaligned load splits a cache line, and the 8-lane AVX2 nest measured
        // faster on the suite's 2-D and 1-D maps (Zen 5, `simdpool bench --isa all`: resnet stem
        // 96 vs 103 us, vgg 2x2 323 vs 384, inception 64 vs 71, sppf 63 vs 74), as LLVM prefers
        // 256-bit vectors on AVX-512 CPUs. The 3-D and general nests stay at 16 lanes (C3D: 294
        // vs 351 us).
        crate::x86::avx2::plane_nest::<R, ST, K>(*self.0, args)
    }
    #[inline(always)]
    fn nest<R: Red, const ST: usize, const K: usize>(self, args: Args<'_, '_, '_>) {
        self.0.vectorize(
            #[inline(always)]
            || separable::pool_nests::<Avx512, R, ST, K>(self, args),
        )
    }
    #[inline(always)]
    fn add(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F is enabled wherever an `Avx512` exists.
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F is enabled wherever an `Avx512` exists.
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    fn div(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: AVX-512F is enabled wherever an `Avx512` exists.
        unsafe { _mm512_div_ps(a, b) }
    }
    #[inline(always)]
    fn sqrt(self, a: __m512) -> __m512 {
        // SAFETY: AVX-512F is enabled wherever an `Avx512` exists.
        unsafe { _mm512_sqrt_ps(a) }
    }
    #[inline(always)]
    fn abs(self, a: __m512) -> __m512 {
        // SAFETY: AVX-512F is enabled wherever an `Avx512` exists.
        unsafe { _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fff_ffff))) }
    }
    #[inline(always)]
    fn canon(self, a: __m512) -> __m512 {
        // SAFETY: AVX-512F is enabled wherever an `Avx512` exists.
        unsafe { _mm512_mask_mov_ps(a, _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(a, a), _mm512_set1_ps(f32::NAN)) }
    }
    #[inline(always)]
    fn maxc(self, l: __m512, r: __m512) -> __m512 {
        // `max(r, l)` returns `l` when either is NaN or they are equal, `r` when `r > l`; then
        // lanes where `r` is NaN take `r`.
        // SAFETY: AVX-512F is enabled wherever an `Avx512` exists.
        unsafe {
            let m = _mm512_max_ps(r, l);
            _mm512_mask_mov_ps(m, _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(r, r), r)
        }
    }
    #[inline(always)]
    fn maxf(self, l: __m512, r: __m512) -> __m512 {
        // `max(r, l)` is `r` where `r > l`, else `l` (ties keep `l`).
        // SAFETY: AVX-512F is enabled wherever an `Avx512` exists.
        unsafe { _mm512_max_ps(r, l) }
    }
}

/// The channels-first windowed f32 kernel (see [`crate::WindowFn`]).
pub(crate) fn window(simd: V4, p: &Problem<'_>, red: &Reduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    simd.vectorize(
        #[inline(always)]
        || separable::window(Avx512(simd), p, red, input, output, rows),
    )
}
