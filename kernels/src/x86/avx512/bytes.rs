//! The AVX-512 level's byte [`Lanes`]: 64 `u8` lanes on [`U8`]`<V4>`, 64 `i8` lanes on
//! [`I8`]`<V4>` (AVX-512BW). Max is one instruction per vector (`vpmaxub` / `vpmaxsb`: integers
//! have no NaN, so the scan rule is the plain maximum, and equal maxima are the same bits); tails
//! are masked loads and stores.

use crate::lanes::{I8, Lanes, U8};
use core::arch::x86_64::*;
use pulp::x86::V4;

/// The first `n` of 64 lanes (`n < 64`).
#[inline(always)]
fn first_lanes(n: usize) -> __mmask64 {
    debug_assert!(n < 64);
    (1u64 << n) - 1
}

macro_rules! byte_lanes {
    ($lanes:ident, $t:ty, $max:ident) => {
        impl Lanes for $lanes<V4> {
            type E = $t;
            const N: usize = 64;
            const REGISTERS: usize = 32;
            type V = __m512i;
            type M = __mmask64;
            /// No NaN to track.
            type Seen = ();

            #[inline(always)]
            fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
                self.0.vectorize(op)
            }
            #[inline(always)]
            fn mask(self, n: usize) -> __mmask64 {
                debug_assert!((1..64).contains(&n));
                first_lanes(n)
            }
            #[inline(always)]
            unsafe fn load(self, ptr: *const $t) -> __m512i {
                // SAFETY: the caller guarantees 64 readable bytes at `ptr`; AVX-512F is proven by
                // the token.
                unsafe { self.0.avx512f._mm512_loadu_si512(ptr.cast()) }
            }
            #[inline(always)]
            unsafe fn load_masked(self, m: __mmask64, ptr: *const $t) -> __m512i {
                // SAFETY: a masked AVX-512BW load touches (and can fault on) only the selected
                // lanes, which the caller guarantees are readable.
                unsafe { self.0.avx512bw._mm512_maskz_loadu_epi8(m, ptr.cast()) }
            }
            #[inline(always)]
            unsafe fn store(self, ptr: *mut $t, v: __m512i) {
                // SAFETY: the caller guarantees 64 writable bytes at `ptr`.
                unsafe { self.0.avx512f._mm512_storeu_si512(ptr.cast(), v) }
            }
            #[inline(always)]
            unsafe fn store_masked(self, m: __mmask64, ptr: *mut $t, v: __m512i) {
                // SAFETY: a masked store writes only the selected lanes, which the caller
                // guarantees are writable.
                unsafe { self.0.avx512bw._mm512_mask_storeu_epi8(ptr.cast(), m, v) }
            }
            #[inline(always)]
            unsafe fn store_first(self, ptr: *mut $t, n: usize, v: __m512i) {
                // SAFETY: the mask selects the first `n < 64` lanes, which the caller guarantees
                // are writable; masked-off lanes are neither written nor faulted.
                unsafe { self.0.avx512bw._mm512_mask_storeu_epi8(ptr.cast(), first_lanes(n), v) }
            }
            #[inline(always)]
            unsafe fn load_even(self, ptr: *const $t) -> __m512i {
                // SAFETY: the caller guarantees 128 readable bytes at `ptr`: two loads of 64.
                let (a, b) = unsafe { (self.load(ptr), self.load(ptr.add(64))) };
                let low = self.0.avx512f._mm512_set1_epi16(0x00ff);
                let (a, b) = (self.0.avx512f._mm512_and_si512(a, low), self.0.avx512f._mm512_and_si512(b, low));
                // Per 128-bit quarter, a's eight even bytes then b's: 64-bit pieces
                // (a0 b0 a1 b1 a2 b2 a3 b3), put in natural order by one permute.
                let packed = self.0.avx512bw._mm512_packus_epi16(a, b);
                let order = self.0.avx512f._mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
                self.0.avx512f._mm512_permutexvar_epi64(order, packed)
            }
            #[inline(always)]
            fn zero(self) -> __m512i {
                self.0.avx512f._mm512_setzero_si512()
            }
            #[inline(always)]
            fn splat(self, x: $t) -> __m512i {
                self.0.avx512f._mm512_set1_epi8(x as i8)
            }
            #[inline(always)]
            fn max_rule(self, l: __m512i, r: __m512i) -> __m512i {
                self.0.avx512bw.$max(l, r)
            }
            #[inline(always)]
            fn seen_none(self) {}
            #[inline(always)]
            fn see_nans(self, _: (), _: __m512i, _: __m512i) {}
            #[inline(always)]
            fn seen_any(self, _: ()) -> bool {
                false
            }
        }
    };
}

byte_lanes!(U8, u8, _mm512_max_epu8);
byte_lanes!(I8, i8, _mm512_max_epi8);
