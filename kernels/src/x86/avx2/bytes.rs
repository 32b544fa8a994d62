//! The AVX2 level's byte [`Lanes`]: 32 `u8` lanes on [`U8`]`<V3>`, 32 `i8` lanes on
//! [`I8`]`<V3>`. Max is one instruction per vector (`vpmaxub` / `vpmaxsb`: integers have no NaN,
//! so the scan rule is the plain maximum, and equal maxima are the same bits). AVX2 has no masked
//! byte loads, so a tail is the lane count, moved through a stack vector.

use crate::lanes::{I8, Lanes, U8};
use core::arch::x86_64::*;
use pulp::x86::V3;

macro_rules! byte_lanes {
    ($lanes:ident, $t:ty, $max:ident) => {
        impl Lanes for $lanes<V3> {
            type E = $t;
            const N: usize = 32;
            type V = __m256i;
            /// The lane count of a tail.
            type M = usize;
            /// No NaN to track.
            type Seen = ();

            #[inline(always)]
            fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
                self.0.vectorize(op)
            }
            #[inline(always)]
            fn mask(self, n: usize) -> usize {
                debug_assert!((1..32).contains(&n));
                n
            }
            #[inline(always)]
            unsafe fn load(self, ptr: *const $t) -> __m256i {
                // SAFETY: the caller guarantees 32 readable bytes at `ptr`; AVX is proven by the
                // token.
                unsafe { self.0.avx._mm256_loadu_si256(ptr.cast()) }
            }
            #[inline(always)]
            unsafe fn load_masked(self, m: usize, ptr: *const $t) -> __m256i {
                let mut buf = [0 as $t; 32];
                let n = m.min(32);
                // SAFETY: the caller guarantees `n` readable bytes at `ptr`; `buf` holds 32 >= n
                // and cannot overlap the caller's slice.
                unsafe { core::ptr::copy_nonoverlapping(ptr, buf.as_mut_ptr(), n) };
                // SAFETY: `buf` is 32 readable bytes.
                unsafe { self.load(buf.as_ptr()) }
            }
            #[inline(always)]
            unsafe fn store(self, ptr: *mut $t, v: __m256i) {
                // SAFETY: the caller guarantees 32 writable bytes at `ptr`.
                unsafe { self.0.avx._mm256_storeu_si256(ptr.cast(), v) }
            }
            #[inline(always)]
            unsafe fn store_masked(self, m: usize, ptr: *mut $t, v: __m256i) {
                // SAFETY: the caller guarantees `m` writable bytes at `ptr` (`m < 32`).
                unsafe { self.store_first(ptr, m.min(31), v) }
            }
            #[inline(always)]
            unsafe fn store_first(self, ptr: *mut $t, n: usize, v: __m256i) {
                let mut buf = [0 as $t; 32];
                // SAFETY: `buf` is 32 writable bytes.
                unsafe { self.store(buf.as_mut_ptr(), v) };
                // SAFETY: the caller guarantees `n < 32` writable bytes at `ptr`; `buf` holds 32.
                unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), ptr, n.min(32)) };
            }
            #[inline(always)]
            unsafe fn load_even(self, ptr: *const $t) -> __m256i {
                // SAFETY: the caller guarantees 64 readable bytes at `ptr`: two loads of 32.
                let (a, b) = unsafe { (self.load(ptr), self.load(ptr.add(32))) };
                let low = self.0.avx._mm256_set1_epi16(0x00ff);
                let (a, b) = (self.0.avx2._mm256_and_si256(a, low), self.0.avx2._mm256_and_si256(b, low));
                // Per 128-bit half, a's eight even bytes then b's: quarters (a0 b0 a1 b1), put
                // in natural order (a0 a1 b0 b1) by one 64-bit permute.
                let packed = self.0.avx2._mm256_packus_epi16(a, b);
                self.0.avx2._mm256_permute4x64_epi64::<0b11_01_10_00>(packed)
            }
            #[inline(always)]
            fn zero(self) -> __m256i {
                self.0.avx._mm256_setzero_si256()
            }
            #[inline(always)]
            fn splat(self, x: $t) -> __m256i {
                self.0.avx._mm256_set1_epi8(x as i8)
            }
            #[inline(always)]
            fn max_rule(self, l: __m256i, r: __m256i) -> __m256i {
                self.0.avx2.$max(l, r)
            }
            #[inline(always)]
            fn seen_none(self) {}
            #[inline(always)]
            fn see_nans(self, _: (), _: __m256i, _: __m256i) {}
            #[inline(always)]
            fn seen_any(self, _: ()) -> bool {
                false
            }
        }
    };
}

byte_lanes!(U8, u8, _mm256_max_epu8);
byte_lanes!(I8, i8, _mm256_max_epi8);
