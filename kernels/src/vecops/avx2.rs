//! [`F32Vec`] for AVX2 (8 lanes).
//!
//! Only used inside the AVX2 kernels, which take a `pulp::x86::V3` token and run their bodies
//! through its `vectorize` (which enables the level's features); every method is
//! `#[inline(always)]` and so compiles with those features.

use super::F32Vec;
use core::arch::x86_64::*;

/// Runs a register-only AVX2 intrinsic expression.
macro_rules! v3 {
    ($e:expr) => {{
        // SAFETY: register-only AVX/AVX2 instructions; this module's code runs only inside AVX2
        // kernels, after a `pulp::x86::V3` token proved the CPU has them (module docs).
        unsafe { $e }
    }};
}

/// One AVX register of f32.
#[derive(Clone, Copy)]
pub(crate) struct Ymm(__m256);

impl Ymm {
    /// All-ones in lanes `l < n`.
    #[inline(always)]
    fn lanes_below(n: usize) -> __m256i {
        let n = n.min(8) as i32;
        v3!(_mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)))
    }
}

impl F32Vec for Ymm {
    const LANES: usize = 8;
    type Idx = __m256i;
    type Mask = __m256i;

    #[inline(always)]
    fn splat(x: f32) -> Self {
        Ymm(v3!(_mm256_set1_ps(x)))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees p..p + 8 is readable; AVX as in the module docs.
        Ymm(unsafe { _mm256_loadu_ps(p) })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, n: usize, fill: f32) -> Self {
        let m = Self::lanes_below(n);
        // SAFETY: vmaskmovps reads only the lanes of the mask, p..p + n, which the caller
        // guarantees readable; masked-off lanes never fault. AVX as in the module docs.
        let x = unsafe { _mm256_maskload_ps(p, m) };
        if fill.to_bits() == 0 {
            // vmaskmovps already zeroes the masked-off lanes.
            Ymm(x)
        } else {
            Ymm(v3!(_mm256_blendv_ps(_mm256_set1_ps(fill), x, _mm256_castsi256_ps(m))))
        }
    }
    #[inline(always)]
    unsafe fn load_even(p: *const f32) -> Self {
        // SAFETY: the caller guarantees p..p + 16 is readable; AVX as in the module docs.
        let (a, b) = unsafe { (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))) };
        // [a0 a2 b0 b2 | a4 a6 b4 b6], then 64-bit blocks reordered to [a0 a2 a4 a6 | b0 b2 b4 b6].
        let e = v3!(_mm256_shuffle_ps::<0x88>(a, b));
        Ymm(v3!(_mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(e)))))
    }
    #[inline(always)]
    fn splat_idx(x: i32) -> __m256i {
        v3!(_mm256_set1_epi32(x))
    }
    #[inline(always)]
    fn iota() -> __m256i {
        v3!(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
    }
    #[inline(always)]
    fn idx_from(a: &[i32; 16]) -> __m256i {
        // SAFETY: a holds at least 8 elements; AVX as in the module docs.
        unsafe { _mm256_loadu_si256(a.as_ptr().cast()) }
    }
    #[inline(always)]
    fn add_idx(a: __m256i, b: __m256i) -> __m256i {
        v3!(_mm256_add_epi32(a, b))
    }
    #[inline(always)]
    fn lt_idx(a: __m256i, b: __m256i) -> __m256i {
        v3!(_mm256_cmpgt_epi32(b, a))
    }
    #[inline(always)]
    fn takes(v: Self, best: Self) -> __m256i {
        v3!(_mm256_castps_si256(_mm256_or_ps(
            _mm256_cmp_ps::<_CMP_GT_OQ>(v.0, best.0),
            _mm256_cmp_ps::<_CMP_UNORD_Q>(v.0, v.0)
        )))
    }
    #[inline(always)]
    fn select(m: __m256i, a: Self, b: Self) -> Self {
        Ymm(v3!(_mm256_blendv_ps(b.0, a.0, _mm256_castsi256_ps(m))))
    }
    #[inline(always)]
    fn select_idx(m: __m256i, a: __m256i, b: __m256i) -> __m256i {
        v3!(_mm256_blendv_epi8(b, a, m))
    }
    #[inline(always)]
    unsafe fn gather(base: *const f32, offs: __m256i, m: __m256i, fill: f32) -> Self {
        // SAFETY: a masked gather reads only the lanes of `m`, each base + offs[l] readable by the
        // caller's contract. AVX2 as in the module docs.
        Ymm(unsafe { _mm256_mask_i32gather_ps::<4>(_mm256_set1_ps(fill), base, offs, _mm256_castsi256_ps(m)) })
    }
    #[inline(always)]
    fn spill(v: Self, i: __m256i, vals: &mut [f32; 16], idx: &mut [i32; 16]) {
        // SAFETY: both arrays hold at least 8 elements; AVX as in the module docs.
        unsafe {
            _mm256_storeu_ps(vals.as_mut_ptr(), v.0);
            _mm256_storeu_si256(idx.as_mut_ptr().cast(), i);
        }
    }
    #[inline(always)]
    fn store_with_indices(out: &mut [f32], indices: &mut [i64], v: Self, i: __m256i, n: usize) {
        assert!(n <= 8 && n <= out.len() && n <= indices.len());
        if n == 8 {
            let lo = v3!(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(i)));
            let hi = v3!(_mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(i)));
            // SAFETY: out and indices hold at least 8 elements (asserted); AVX as in the module docs.
            unsafe {
                _mm256_storeu_ps(out.as_mut_ptr(), v.0);
                _mm256_storeu_si256(indices.as_mut_ptr().cast(), lo);
                _mm256_storeu_si256(indices.as_mut_ptr().add(4).cast(), hi);
            }
        } else {
            let mut vals = [0.0f32; 16];
            let mut idx = [0i32; 16];
            Self::spill(v, i, &mut vals, &mut idx);
            out[..n].copy_from_slice(&vals[..n]);
            for (d, s) in indices[..n].iter_mut().zip(&idx) {
                *d = *s as i64;
            }
        }
    }
}
