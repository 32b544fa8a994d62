//! Channels-first windowed f32 kernels for NEON: the separable loop nest of
//! [`crate::separable`] over 4-lane vectors (`vld2q` for the stride-2 deinterleave).

use crate::problem::{Problem, Reduce};
use crate::separable::{self, Args, Red, Simd};
use core::arch::aarch64::*;
use core::ops::Range;

/// NEON lanes: the `pulp::aarch64::Neon` token they hold proves the CPU has Advanced SIMD, and
/// every method runs inside a `vectorize` region (the entries below), so each intrinsic is
/// compiled with it.
#[derive(Clone, Copy)]
struct Neon(pulp::aarch64::Neon);

impl Simd for Neon {
    type V = float32x4_t;
    const N: usize = 4;
    #[inline(always)]
    fn splat(self, x: f32) -> float32x4_t {
        // SAFETY: a `Neon` value exists only where NEON is enabled (see the type).
        unsafe { vdupq_n_f32(x) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees `p[0..4]` is readable; NEON as above.
        unsafe { vld1q_f32(p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: float32x4_t) {
        // SAFETY: the caller guarantees `p[0..4]` is writable; NEON as above.
        unsafe { vst1q_f32(p, v) }
    }
    #[inline(always)]
    unsafe fn store_n(self, p: *mut f32, n: usize, v: float32x4_t) {
        let mut tmp = [0.0f32; 4];
        // SAFETY: `tmp` holds 4 floats; NEON as above.
        unsafe { vst1q_f32(tmp.as_mut_ptr(), v) };
        // SAFETY: the caller guarantees `p[0..n]` is writable and `n < 4`; `tmp` is a local.
        unsafe { core::ptr::copy_nonoverlapping(tmp.as_ptr(), p, n) }
    }
    #[inline(always)]
    unsafe fn load_even(self, p: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees `p[0..8]` is readable; NEON as above.
        unsafe { vld2q_f32(p).0 }
    }
    #[inline(always)]
    unsafe fn load_odd(self, p: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees `p[0..8]` is readable; NEON as above.
        unsafe { vld2q_f32(p).1 }
    }
    #[inline(always)]
    unsafe fn load_s4(self, p: *const f32, phase: usize) -> float32x4_t {
        // SAFETY: the caller guarantees `p[0..16]` is readable; NEON as above.
        let q = unsafe { vld4q_f32(p) };
        match phase {
            0 => q.0,
            1 => q.1,
            2 => q.2,
            _ => q.3,
        }
    }
    #[inline(always)]
    fn order<const ST: usize>(self, v: float32x4_t) -> float32x4_t {
        // Deinterleaves here put lanes in natural order already.
        v
    }
    #[inline(always)]
    fn nest<R: Red, const XS: usize, const XK: usize>(self, args: Args<'_, '_, '_>) {
        self.0.vectorize(
            #[inline(always)]
            || separable::pool_nests::<Neon, R, XS, XK>(self, args),
        )
    }
    #[inline(always)]
    fn add(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        // SAFETY: NEON is enabled wherever a `Neon` exists.
        unsafe { vaddq_f32(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        // SAFETY: NEON is enabled wherever a `Neon` exists.
        unsafe { vmulq_f32(a, b) }
    }
    #[inline(always)]
    fn div(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        // SAFETY: NEON is enabled wherever a `Neon` exists.
        unsafe { vdivq_f32(a, b) }
    }
    #[inline(always)]
    fn sqrt(self, a: float32x4_t) -> float32x4_t {
        // SAFETY: NEON is enabled wherever a `Neon` exists.
        unsafe { vsqrtq_f32(a) }
    }
    #[inline(always)]
    fn abs(self, a: float32x4_t) -> float32x4_t {
        // SAFETY: NEON is enabled wherever a `Neon` exists.
        unsafe { vabsq_f32(a) }
    }
    #[inline(always)]
    fn canon(self, a: float32x4_t) -> float32x4_t {
        // Lanes equal to themselves keep their value; NaN lanes take the canonical NaN.
        // SAFETY: NEON is enabled wherever a `Neon` exists.
        unsafe { vbslq_f32(vceqq_f32(a, a), a, vdupq_n_f32(f32::NAN)) }
    }
    #[inline(always)]
    fn maxc(self, l: float32x4_t, r: float32x4_t) -> float32x4_t {
        // `fmax` orders -0 below +0 and is not the scan rule, so select explicitly:
        // take `r` where `r > l` or `r` is NaN (`r != r`).
        // SAFETY: NEON is enabled wherever a `Neon` exists.
        unsafe {
            let take = vornq_u32(vcgtq_f32(r, l), vceqq_f32(r, r));
            vbslq_f32(take, r, l)
        }
    }
    #[inline(always)]
    fn maxf(self, l: float32x4_t, r: float32x4_t) -> float32x4_t {
        // Take `r` where `r > l` (ties keep `l`, unlike `fmax` on signed zeros).
        // SAFETY: NEON is enabled wherever a `Neon` exists.
        unsafe { vbslq_f32(vcgtq_f32(r, l), r, l) }
    }
}

/// The channels-first windowed f32 kernel (see [`crate::WindowFn`]).
pub(crate) fn window(
    simd: pulp::aarch64::Neon,
    p: &Problem<'_>,
    red: &Reduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    simd.vectorize(
        #[inline(always)]
        || separable::window(Neon(simd), p, red, input, output, rows),
    )
}
