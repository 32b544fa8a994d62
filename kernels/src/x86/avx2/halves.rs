//! The AVX2 level's half-precision [`Lanes`] for max: 8 `f16` lanes on [`F16`]`<V3>`, 8 `bf16`
//! lanes on [`Bf16`]`<V3>`. Each element is held in an `f32` lane of the token under the order map
//! of [`crate::lanes::halves`] (widened by `vpmovzxwd` and integer shifts, narrowed by
//! `vpackusdw`), and the max scan rule is the token's `f32` rule. AVX2 has no masked 16-bit loads,
//! so a tail is the lane count, moved through a stack vector.

use crate::lanes::halves::{bf16_key, f16_key, max_rules_of_f32};
use crate::lanes::{Bf16, F16, Lanes};
use core::arch::x86_64::*;
use half::{bf16, f16};
use pulp::x86::V3;

/// [`f16_key`] on 8 lanes of 16-bit patterns zero-extended to 32 bits.
#[inline(always)]
fn f16_keys(t: V3, h: __m256i) -> __m256 {
    let a = t.avx2;
    let m = a._mm256_and_si256(h, t.avx._mm256_set1_epi32(0x7fff));
    let nan = a._mm256_and_si256(
        a._mm256_cmpgt_epi32(m, t.avx._mm256_set1_epi32(0x7c00)),
        t.avx._mm256_set1_epi32(0x7f80_0000),
    );
    let key = a._mm256_or_si256(a._mm256_or_si256(a._mm256_slli_epi32::<16>(h), m), nan);
    t.avx._mm256_castsi256_ps(key)
}

/// The `f16` patterns held in 8 key lanes, in the low 16 bits of each 32-bit lane.
#[inline(always)]
fn f16_patterns(t: V3, v: __m256) -> __m256i {
    let a = t.avx2;
    let w = t.avx._mm256_castps_si256(v);
    let m = a._mm256_and_si256(w, t.avx._mm256_set1_epi32(0x7fff));
    let sign = a._mm256_and_si256(a._mm256_srli_epi32::<16>(w), t.avx._mm256_set1_epi32(0x8000));
    a._mm256_or_si256(m, sign)
}

/// [`bf16_key`] on 8 lanes.
#[inline(always)]
fn bf16_keys(t: V3, h: __m256i) -> __m256 {
    t.avx._mm256_castsi256_ps(t.avx2._mm256_slli_epi32::<16>(h))
}

/// The `bf16` patterns held in 8 key lanes.
#[inline(always)]
fn bf16_patterns(t: V3, v: __m256) -> __m256i {
    t.avx2._mm256_srli_epi32::<16>(t.avx._mm256_castps_si256(v))
}

macro_rules! half_lanes {
    ($lanes:ident, $t:ty, $keys:ident, $patterns:ident, $key:ident) => {
        impl Lanes for $lanes<V3> {
            type E = $t;
            const N: usize = 8;
            type V = __m256;
            /// The lane count of a tail.
            type M = usize;
            max_rules_of_f32!(V3, __m256);

            #[inline(always)]
            fn mask(self, n: usize) -> usize {
                debug_assert!((1..8).contains(&n));
                n
            }
            #[inline(always)]
            unsafe fn load(self, ptr: *const $t) -> __m256 {
                // SAFETY: the caller guarantees 8 readable halves (16 bytes) at `ptr`; SSE2 is
                // proven by the token.
                let h = unsafe { self.0.sse2._mm_loadu_si128(ptr.cast()) };
                $keys(self.0, self.0.avx2._mm256_cvtepu16_epi32(h))
            }
            #[inline(always)]
            unsafe fn load_masked(self, m: usize, ptr: *const $t) -> __m256 {
                let mut buf = [<$t>::ZERO; 8];
                let n = m.min(8);
                // SAFETY: the caller guarantees `n` readable halves at `ptr`; `buf` holds 8 >= n
                // and cannot overlap the caller's slice.
                unsafe { core::ptr::copy_nonoverlapping(ptr, buf.as_mut_ptr(), n) };
                // SAFETY: `buf` is 8 readable halves.
                unsafe { self.load(buf.as_ptr()) }
            }
            #[inline(always)]
            unsafe fn store(self, ptr: *mut $t, v: __m256) {
                let w = $patterns(self.0, v);
                // Every lane holds a value below 2^16, so the signed-saturating pack is exact.
                let (lo, hi) = (self.0.avx._mm256_castsi256_si128(w), self.0.avx2._mm256_extracti128_si256::<1>(w));
                let h = self.0.sse4_1._mm_packus_epi32(lo, hi);
                // SAFETY: the caller guarantees 8 writable halves (16 bytes) at `ptr`.
                unsafe { self.0.sse2._mm_storeu_si128(ptr.cast(), h) }
            }
            #[inline(always)]
            unsafe fn store_masked(self, m: usize, ptr: *mut $t, v: __m256) {
                // SAFETY: the caller guarantees `m` writable halves at `ptr` (`m < 8`).
                unsafe { self.store_first(ptr, m.min(7), v) }
            }
            #[inline(always)]
            unsafe fn store_first(self, ptr: *mut $t, n: usize, v: __m256) {
                let mut buf = [<$t>::ZERO; 8];
                // SAFETY: `buf` is 8 writable halves.
                unsafe { self.store(buf.as_mut_ptr(), v) };
                // SAFETY: the caller guarantees `n < 8` writable halves at `ptr`; `buf` holds 8.
                unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), ptr, n.min(8)) };
            }
            #[inline(always)]
            unsafe fn load_even(self, ptr: *const $t) -> __m256 {
                // SAFETY: the caller guarantees 16 readable halves (32 bytes) at `ptr`.
                let w = unsafe { self.0.avx._mm256_loadu_si256(ptr.cast()) };
                // Element `2j` is the low half of 32-bit lane `j`.
                $keys(self.0, self.0.avx2._mm256_and_si256(w, self.0.avx._mm256_set1_epi32(0xffff)))
            }
            #[inline(always)]
            unsafe fn load_odd(self, ptr: *const $t) -> __m256 {
                // SAFETY: the caller guarantees 16 readable halves (32 bytes) at `ptr`.
                let w = unsafe { self.0.avx._mm256_loadu_si256(ptr.cast()) };
                $keys(self.0, self.0.avx2._mm256_srli_epi32::<16>(w))
            }
            #[inline(always)]
            fn zero(self) -> __m256 {
                self.0.avx._mm256_setzero_ps()
            }
            #[inline(always)]
            fn splat(self, x: $t) -> __m256 {
                self.0.avx._mm256_set1_ps(f32::from_bits($key(x)))
            }
        }
    };
}

half_lanes!(F16, f16, f16_keys, f16_patterns, f16_key);
half_lanes!(Bf16, bf16, bf16_keys, bf16_patterns, bf16_key);
