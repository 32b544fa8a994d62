//! The NEON level's half-precision [`Lanes`] for max: 4 `f16` lanes on [`F16`]`<Neon>`, 4 `bf16`
//! lanes on [`Bf16`]`<Neon>`. Each element is held in an `f32` lane of the token under the order
//! map of [`crate::lanes::halves`] (widened by `ushll` and integer shifts, narrowed by `xtn`), and
//! the max scan rule is the token's `f32` rule. NEON has no masked loads, so a tail is the lane
//! count, moved through a stack vector.

use crate::lanes::halves::{bf16_key, f16_key, max_rules_of_f32};
use crate::lanes::{Bf16, F16, Lanes};
use core::arch::aarch64::*;
use half::{bf16, f16};
use pulp::aarch64::Neon;

/// [`f16_key`] on 4 lanes of 16-bit patterns zero-extended to 32 bits.
#[inline(always)]
fn f16_keys(t: Neon, h: uint32x4_t) -> float32x4_t {
    let n = t.neon;
    let m = n.vandq_u32(h, n.vdupq_n_u32(0x7fff));
    // NaN magnitudes get the `f32` exponent bits (`vcgtq` is all ones where `m > 0x7c00`).
    let nan = n.vandq_u32(n.vcgtq_u32(m, n.vdupq_n_u32(0x7c00)), n.vdupq_n_u32(0x7f80_0000));
    let key = n.vorrq_u32(n.vorrq_u32(n.vshlq_n_u32::<16>(h), m), nan);
    n.vreinterpretq_f32_u32(key)
}

/// The `f16` patterns held in 4 key lanes, in the low 16 bits of each 32-bit lane.
#[inline(always)]
fn f16_patterns(t: Neon, v: float32x4_t) -> uint32x4_t {
    let n = t.neon;
    let w = n.vreinterpretq_u32_f32(v);
    let m = n.vandq_u32(w, n.vdupq_n_u32(0x7fff));
    let sign = n.vandq_u32(n.vshrq_n_u32::<16>(w), n.vdupq_n_u32(0x8000));
    n.vorrq_u32(m, sign)
}

/// [`bf16_key`] on 4 lanes.
#[inline(always)]
fn bf16_keys(t: Neon, h: uint32x4_t) -> float32x4_t {
    t.neon.vreinterpretq_f32_u32(t.neon.vshlq_n_u32::<16>(h))
}

/// The `bf16` patterns held in 4 key lanes.
#[inline(always)]
fn bf16_patterns(t: Neon, v: float32x4_t) -> uint32x4_t {
    t.neon.vshrq_n_u32::<16>(t.neon.vreinterpretq_u32_f32(v))
}

macro_rules! half_lanes {
    ($lanes:ident, $t:ty, $keys:ident, $patterns:ident, $key:ident) => {
        impl Lanes for $lanes<Neon> {
            type E = $t;
            const N: usize = 4;
            const REGISTERS: usize = 32;
            type V = float32x4_t;
            /// The lane count of a tail.
            type M = usize;
            max_rules_of_f32!(Neon, float32x4_t);

            #[inline(always)]
            fn mask(self, n: usize) -> usize {
                debug_assert!((1..4).contains(&n));
                n
            }
            #[inline(always)]
            unsafe fn load(self, ptr: *const $t) -> float32x4_t {
                // SAFETY: the caller guarantees 4 readable halves (8 bytes) at `ptr`; NEON is
                // proven by the token.
                let h = unsafe { vld1_u16(ptr.cast()) };
                $keys(self.0, self.0.neon.vmovl_u16(h))
            }
            #[inline(always)]
            unsafe fn load_masked(self, m: usize, ptr: *const $t) -> float32x4_t {
                let mut buf = [<$t>::ZERO; 4];
                let n = m.min(4);
                // SAFETY: the caller guarantees `n` readable halves at `ptr`; `buf` holds 4 >= n
                // and cannot overlap the caller's slice.
                unsafe { core::ptr::copy_nonoverlapping(ptr, buf.as_mut_ptr(), n) };
                // SAFETY: `buf` is 4 readable halves.
                unsafe { self.load(buf.as_ptr()) }
            }
            #[inline(always)]
            unsafe fn store(self, ptr: *mut $t, v: float32x4_t) {
                // Every lane holds a value below 2^16, so the narrow is exact.
                let h = self.0.neon.vmovn_u32($patterns(self.0, v));
                // SAFETY: the caller guarantees 4 writable halves (8 bytes) at `ptr`.
                unsafe { vst1_u16(ptr.cast(), h) }
            }
            #[inline(always)]
            unsafe fn store_masked(self, m: usize, ptr: *mut $t, v: float32x4_t) {
                // SAFETY: the caller guarantees `m` writable halves at `ptr` (`m < 4`).
                unsafe { self.store_first(ptr, m.min(3), v) }
            }
            #[inline(always)]
            unsafe fn store_first(self, ptr: *mut $t, n: usize, v: float32x4_t) {
                let mut buf = [<$t>::ZERO; 4];
                // SAFETY: `buf` is 4 writable halves.
                unsafe { self.store(buf.as_mut_ptr(), v) };
                // SAFETY: the caller guarantees `n < 4` writable halves at `ptr`; `buf` holds 4.
                unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), ptr, n.min(4)) };
            }
            #[inline(always)]
            unsafe fn load_even(self, ptr: *const $t) -> float32x4_t {
                // SAFETY: the caller guarantees 8 readable halves (16 bytes) at `ptr`.
                let pair = unsafe { vld2_u16(ptr.cast()) };
                $keys(self.0, self.0.neon.vmovl_u16(pair.0))
            }
            #[inline(always)]
            unsafe fn load_odd(self, ptr: *const $t) -> float32x4_t {
                // SAFETY: the caller guarantees 8 readable halves (16 bytes) at `ptr`.
                let pair = unsafe { vld2_u16(ptr.cast()) };
                $keys(self.0, self.0.neon.vmovl_u16(pair.1))
            }
            #[inline(always)]
            fn zero(self) -> float32x4_t {
                self.0.neon.vdupq_n_f32(0.0)
            }
            #[inline(always)]
            fn splat(self, x: $t) -> float32x4_t {
                self.0.neon.vdupq_n_f32(f32::from_bits($key(x)))
            }
        }
    };
}

half_lanes!(F16, f16, f16_keys, f16_patterns, f16_key);
half_lanes!(Bf16, bf16, bf16_keys, bf16_patterns, bf16_key);
