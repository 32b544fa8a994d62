//! The AVX-512 level's half-precision [`Lanes`] for max: 16 `f16` lanes on [`F16`]`<V4>`, 16
//! `bf16` lanes on [`Bf16`]`<V4>`. Each element is held in an `f32` lane of the token under the
//! order map of [`crate::lanes::halves`] (widened by `vpmovzxwd` and integer shifts, narrowed by
//! `vpmovdw`), and the max scan rule is the token's `f32` rule; tails are masked 16-bit loads and
//! narrowing stores.

use crate::lanes::halves::{bf16_key, f16_key, max_rules_of_f32};
use crate::lanes::{Bf16, F16, Lanes};
use core::arch::x86_64::*;
use half::{bf16, f16};
use pulp::x86::V4;

/// The first `n` of 16 lanes (`n < 16`).
#[inline(always)]
fn first_lanes(n: usize) -> __mmask16 {
    debug_assert!(n < 16);
    ((1u32 << n) - 1) as __mmask16
}

/// [`f16_key`] on 16 lanes of 16-bit patterns zero-extended to 32 bits.
#[inline(always)]
fn f16_keys(t: V4, h: __m512i) -> __m512 {
    let a = t.avx512f;
    let m = a._mm512_and_si512(h, a._mm512_set1_epi32(0x7fff));
    let key = a._mm512_or_si512(a._mm512_slli_epi32::<16>(h), m);
    // NaN magnitudes get the `f32` exponent bits.
    let nan = a._mm512_cmpgt_epi32_mask(m, a._mm512_set1_epi32(0x7c00));
    let key = a._mm512_mask_or_epi32(key, nan, key, a._mm512_set1_epi32(0x7f80_0000));
    a._mm512_castsi512_ps(key)
}

/// The `f16` patterns held in 16 key lanes, in the low 16 bits of each 32-bit lane.
#[inline(always)]
fn f16_patterns(t: V4, v: __m512) -> __m512i {
    let a = t.avx512f;
    let w = a._mm512_castps_si512(v);
    let m = a._mm512_and_si512(w, a._mm512_set1_epi32(0x7fff));
    let sign = a._mm512_and_si512(a._mm512_srli_epi32::<16>(w), a._mm512_set1_epi32(0x8000));
    a._mm512_or_si512(m, sign)
}

/// [`bf16_key`] on 16 lanes.
#[inline(always)]
fn bf16_keys(t: V4, h: __m512i) -> __m512 {
    t.avx512f._mm512_castsi512_ps(t.avx512f._mm512_slli_epi32::<16>(h))
}

/// The `bf16` patterns held in 16 key lanes.
#[inline(always)]
fn bf16_patterns(t: V4, v: __m512) -> __m512i {
    t.avx512f._mm512_srli_epi32::<16>(t.avx512f._mm512_castps_si512(v))
}

macro_rules! half_lanes {
    ($lanes:ident, $t:ty, $keys:ident, $patterns:ident, $key:ident) => {
        impl Lanes for $lanes<V4> {
            type E = $t;
            const N: usize = 16;
            const REGISTERS: usize = 32;
            type V = __m512;
            type M = __mmask16;
            max_rules_of_f32!(V4, __m512);

            #[inline(always)]
            fn mask(self, n: usize) -> __mmask16 {
                debug_assert!((1..16).contains(&n));
                first_lanes(n)
            }
            #[inline(always)]
            unsafe fn load(self, ptr: *const $t) -> __m512 {
                // SAFETY: the caller guarantees 16 readable halves (32 bytes) at `ptr`; AVX is
                // proven by the token.
                let h = unsafe { self.0.avx._mm256_loadu_si256(ptr.cast()) };
                $keys(self.0, self.0.avx512f._mm512_cvtepu16_epi32(h))
            }
            #[inline(always)]
            unsafe fn load_masked(self, m: __mmask16, ptr: *const $t) -> __m512 {
                // SAFETY: a masked AVX-512BW/VL load touches (and can fault on) only the selected
                // lanes, which the caller guarantees are readable.
                let h = unsafe { self.0.avx512bw._mm256_maskz_loadu_epi16(m, ptr.cast()) };
                $keys(self.0, self.0.avx512f._mm512_cvtepu16_epi32(h))
            }
            #[inline(always)]
            unsafe fn store(self, ptr: *mut $t, v: __m512) {
                // Every lane holds a value below 2^16, so the truncating narrow is exact.
                let h = self.0.avx512f._mm512_cvtepi32_epi16($patterns(self.0, v));
                // SAFETY: the caller guarantees 16 writable halves (32 bytes) at `ptr`.
                unsafe { self.0.avx._mm256_storeu_si256(ptr.cast(), h) }
            }
            #[inline(always)]
            unsafe fn store_masked(self, m: __mmask16, ptr: *mut $t, v: __m512) {
                // SAFETY: a masked narrowing store writes only the selected lanes, which the
                // caller guarantees are writable.
                unsafe { self.0.avx512f._mm512_mask_cvtepi32_storeu_epi16(ptr.cast(), m, $patterns(self.0, v)) }
            }
            #[inline(always)]
            unsafe fn store_first(self, ptr: *mut $t, n: usize, v: __m512) {
                // SAFETY: the mask selects the first `n < 16` lanes, which the caller guarantees
                // are writable; masked-off lanes are neither written nor faulted.
                unsafe { self.store_masked(first_lanes(n), ptr, v) }
            }
            #[inline(always)]
            unsafe fn load_even(self, ptr: *const $t) -> __m512 {
                // SAFETY: the caller guarantees 32 readable halves (64 bytes) at `ptr`.
                let w = unsafe { self.0.avx512f._mm512_loadu_si512(ptr.cast()) };
                // Element `2j` is the low half of 32-bit lane `j`.
                $keys(self.0, self.0.avx512f._mm512_and_si512(w, self.0.avx512f._mm512_set1_epi32(0xffff)))
            }
            #[inline(always)]
            unsafe fn load_odd(self, ptr: *const $t) -> __m512 {
                // SAFETY: the caller guarantees 32 readable halves (64 bytes) at `ptr`.
                let w = unsafe { self.0.avx512f._mm512_loadu_si512(ptr.cast()) };
                $keys(self.0, self.0.avx512f._mm512_srli_epi32::<16>(w))
            }
            #[inline(always)]
            fn zero(self) -> __m512 {
                self.0.avx512f._mm512_setzero_ps()
            }
            #[inline(always)]
            fn splat(self, x: $t) -> __m512 {
                self.0.avx512f._mm512_set1_ps(f32::from_bits($key(x)))
            }
        }
    };
}

half_lanes!(F16, f16, f16_keys, f16_patterns, f16_key);
half_lanes!(Bf16, bf16, bf16_keys, bf16_patterns, bf16_key);
