//! The NEON level's byte [`Lanes`]: 16 `u8` lanes on [`U8`]`<Neon>`, 16 `i8` lanes on
//! [`I8`]`<Neon>`. Max is one instruction per vector (`umax` / `smax`: integers have no NaN, so
//! the scan rule is the plain maximum, and equal maxima are the same bits). NEON has no masked
//! loads, so a tail is the lane count, moved through a stack vector.

use crate::lanes::{I8, Lanes, U8};
use core::arch::aarch64::*;
use pulp::aarch64::Neon;

macro_rules! byte_lanes {
    ($lanes:ident, $t:ty, $v:ty, $ld:ident, $st:ident, $dup:ident, $max:ident, $uzp:ident) => {
        impl Lanes for $lanes<Neon> {
            type E = $t;
            const N: usize = 16;
            const REGISTERS: usize = 32;
            type V = $v;
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
                debug_assert!((1..16).contains(&n));
                n
            }
            #[inline(always)]
            unsafe fn load(self, ptr: *const $t) -> $v {
                // SAFETY: the caller guarantees 16 readable bytes at `ptr`; NEON is proven by the
                // token.
                unsafe { $ld(ptr) }
            }
            #[inline(always)]
            unsafe fn load_masked(self, m: usize, ptr: *const $t) -> $v {
                let mut buf = [0 as $t; 16];
                let n = m.min(16);
                // SAFETY: the caller guarantees `n` readable bytes at `ptr`; `buf` holds 16 >= n
                // and cannot overlap the caller's slice.
                unsafe { core::ptr::copy_nonoverlapping(ptr, buf.as_mut_ptr(), n) };
                // SAFETY: `buf` is 16 readable bytes.
                unsafe { $ld(buf.as_ptr()) }
            }
            #[inline(always)]
            unsafe fn store(self, ptr: *mut $t, v: $v) {
                // SAFETY: the caller guarantees 16 writable bytes at `ptr`.
                unsafe { $st(ptr, v) }
            }
            #[inline(always)]
            unsafe fn store_masked(self, m: usize, ptr: *mut $t, v: $v) {
                // SAFETY: the caller guarantees `m` writable bytes at `ptr` (`m < 16`).
                unsafe { self.store_first(ptr, m.min(15), v) }
            }
            #[inline(always)]
            unsafe fn store_first(self, ptr: *mut $t, n: usize, v: $v) {
                let mut buf = [0 as $t; 16];
                // SAFETY: `buf` is 16 writable bytes.
                unsafe { $st(buf.as_mut_ptr(), v) };
                // SAFETY: the caller guarantees `n < 16` writable bytes at `ptr`; `buf` holds 16.
                unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), ptr, n.min(16)) };
            }
            #[inline(always)]
            unsafe fn load_even(self, ptr: *const $t) -> $v {
                // SAFETY: the caller guarantees 32 readable bytes at `ptr`: two loads of 16.
                let (a, b) = unsafe { ($ld(ptr), $ld(ptr.add(16))) };
                // The even bytes of a, then of b.
                self.0.neon.$uzp(a, b)
            }
            #[inline(always)]
            fn zero(self) -> $v {
                self.0.neon.$dup(0)
            }
            #[inline(always)]
            fn splat(self, x: $t) -> $v {
                self.0.neon.$dup(x)
            }
            #[inline(always)]
            fn max_rule(self, l: $v, r: $v) -> $v {
                self.0.neon.$max(l, r)
            }
            #[inline(always)]
            fn seen_none(self) {}
            #[inline(always)]
            fn see_nans(self, _: (), _: $v, _: $v) {}
            #[inline(always)]
            fn seen_any(self, _: ()) -> bool {
                false
            }
        }
    };
}

byte_lanes!(U8, u8, uint8x16_t, vld1q_u8, vst1q_u8, vdupq_n_u8, vmaxq_u8, vuzp1q_u8);
byte_lanes!(I8, i8, int8x16_t, vld1q_s8, vst1q_s8, vdupq_n_s8, vmaxq_s8, vuzp1q_s8);
