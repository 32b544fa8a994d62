//! [`F32Vec`] for AVX-512 (16 lanes).
//!
//! Only used inside the AVX-512 kernels, which take a `pulp::x86::V4` token and run their bodies
//! through its `vectorize`; every method is `#[inline(always)]` and so compiles with those
//! features.

use super::F32Vec;
use core::arch::x86_64::*;

/// Runs a register-only AVX-512 intrinsic expression.
macro_rules! v4 {
    ($e:expr) => {{
        // SAFETY: register-only AVX-512 F/DQ/VL instructions; this module's code runs only inside
        // AVX-512 kernels, after a `pulp::x86::V4` token proved the CPU has them (module docs).
        unsafe { $e }
    }};
}

/// One AVX-512 register of f32.
#[derive(Clone, Copy)]
pub(crate) struct Zmm(__m512);

#[inline(always)]
fn mask_of(n: usize) -> __mmask16 {
    if n >= 16 { 0xffff } else { ((1u32 << n) - 1) as __mmask16 }
}

impl F32Vec for Zmm {
    const LANES: usize = 16;
    type Idx = __m512i;
    type Mask = __mmask16;

    #[inline(always)]
    fn splat(x: f32) -> Self {
        Zmm(v4!(_mm512_set1_ps(x)))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees p..p + 16 is readable; AVX-512 as in the module docs.
        Zmm(unsafe { _mm512_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, n: usize, fill: f32) -> Self {
        // SAFETY: a masked load touches only the lanes of the mask, p..p + n, which the caller
        // guarantees readable; masked-off lanes never fault. AVX-512 as in the module docs.
        Zmm(unsafe { _mm512_mask_loadu_ps(_mm512_set1_ps(fill), mask_of(n), p) })
    }
    #[inline(always)]
    unsafe fn load_even(p: *const f32) -> Self {
        // SAFETY: the caller guarantees p..p + 32 is readable; AVX-512 as in the module docs.
        let (a, b) = unsafe { (_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16))) };
        let even = v4!(_mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
        Zmm(v4!(_mm512_permutex2var_ps(a, even, b)))
    }
    #[inline(always)]
    fn splat_idx(x: i32) -> __m512i {
        v4!(_mm512_set1_epi32(x))
    }
    #[inline(always)]
    fn iota() -> __m512i {
        v4!(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
    }
    #[inline(always)]
    fn idx_from(a: &[i32; 16]) -> __m512i {
        // SAFETY: a holds 16 elements; AVX-512 as in the module docs.
        unsafe { _mm512_loadu_si512(a.as_ptr().cast()) }
    }
    #[inline(always)]
    fn add_idx(a: __m512i, b: __m512i) -> __m512i {
        v4!(_mm512_add_epi32(a, b))
    }
    #[inline(always)]
    fn lt_idx(a: __m512i, b: __m512i) -> __mmask16 {
        v4!(_mm512_cmplt_epi32_mask(a, b))
    }
    #[inline(always)]
    fn takes(v: Self, best: Self) -> __mmask16 {
        v4!(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(v.0, best.0) | _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v.0, v.0))
    }
    #[inline(always)]
    fn select(m: __mmask16, a: Self, b: Self) -> Self {
        Zmm(v4!(_mm512_mask_blend_ps(m, b.0, a.0)))
    }
    #[inline(always)]
    fn select_idx(m: __mmask16, a: __m512i, b: __m512i) -> __m512i {
        v4!(_mm512_mask_blend_epi32(m, b, a))
    }
    #[inline(always)]
    unsafe fn gather(base: *const f32, offs: __m512i, m: __mmask16, fill: f32) -> Self {
        // SAFETY: a masked gather reads only the lanes of `m`, each base + offs[l] readable by the
        // caller's contract. AVX-512 as in the module docs.
        Zmm(unsafe { _mm512_mask_i32gather_ps::<4>(_mm512_set1_ps(fill), m, offs, base) })
    }
    #[inline(always)]
    fn spill(v: Self, i: __m512i, vals: &mut [f32; 16], idx: &mut [i32; 16]) {
        // SAFETY: both arrays hold 16 elements; AVX-512 as in the module docs.
        unsafe {
            _mm512_storeu_ps(vals.as_mut_ptr(), v.0);
            _mm512_storeu_si512(idx.as_mut_ptr().cast(), i);
        }
    }
    #[inline(always)]
    fn store_with_indices(out: &mut [f32], indices: &mut [i64], v: Self, i: __m512i, n: usize) {
        assert!(n <= 16 && n <= out.len() && n <= indices.len());
        let lo = v4!(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(i)));
        let hi = v4!(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(i)));
        let nlo = n.min(8);
        let nhi = n - nlo;
        // SAFETY: masks cover lanes < n of out and indices, in bounds (asserted); masked-off
        // lanes are not written. AVX-512 as in the module docs.
        unsafe {
            _mm512_mask_storeu_ps(out.as_mut_ptr(), mask_of(n), v.0);
            _mm512_mask_storeu_epi64(indices.as_mut_ptr(), mask_of(nlo) as __mmask8, lo);
            if nhi > 0 {
                _mm512_mask_storeu_epi64(indices.as_mut_ptr().add(8), mask_of(nhi) as __mmask8, hi);
            }
        }
    }
}
