//! [`F32Vec`] for NEON (4 lanes).
//!
//! Only used inside the NEON kernels, which take a `pulp::aarch64::Neon` token and run their
//! bodies through its `vectorize`; every method is `#[inline(always)]` and so compiles with that
//! feature.

use super::F32Vec;
use core::arch::aarch64::*;

/// Runs a register-only NEON intrinsic expression.
macro_rules! nn {
    ($e:expr) => {{
        // SAFETY: register-only Advanced SIMD instructions; this module's code runs only inside NEON
        // kernels, after a `pulp::aarch64::Neon` token proved the CPU has them (module docs).
        unsafe { $e }
    }};
}

/// One NEON register of f32.
#[derive(Clone, Copy)]
pub(crate) struct Q(float32x4_t);

impl F32Vec for Q {
    const LANES: usize = 4;
    type Idx = int32x4_t;
    type Mask = uint32x4_t;

    #[inline(always)]
    fn splat(x: f32) -> Self {
        Q(nn!(vdupq_n_f32(x)))
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees p..p + 4 is readable.
        Q(unsafe { vld1q_f32(p) })
    }
    #[inline(always)]
    unsafe fn load_part(p: *const f32, n: usize, fill: f32) -> Self {
        let mut tmp = [fill; 4];
        for (l, t) in tmp.iter_mut().enumerate().take(n.min(4)) {
            // SAFETY: l < n and the caller guarantees p..p + n is readable.
            *t = unsafe { *p.add(l) };
        }
        // SAFETY: tmp holds 4 elements.
        Q(unsafe { vld1q_f32(tmp.as_ptr()) })
    }
    #[inline(always)]
    unsafe fn load_even(p: *const f32) -> Self {
        // SAFETY: the caller guarantees p..p + 8 is readable; vld2q reads exactly those 8 values.
        Q(unsafe { vld2q_f32(p) }.0)
    }
    #[inline(always)]
    fn splat_idx(x: i32) -> int32x4_t {
        nn!(vdupq_n_s32(x))
    }
    #[inline(always)]
    fn iota() -> int32x4_t {
        let lanes = [0i32, 1, 2, 3];
        // SAFETY: lanes holds 4 elements.
        unsafe { vld1q_s32(lanes.as_ptr()) }
    }
    #[inline(always)]
    fn idx_from(a: &[i32; 16]) -> int32x4_t {
        // SAFETY: a holds at least 4 elements.
        unsafe { vld1q_s32(a.as_ptr()) }
    }
    #[inline(always)]
    fn add_idx(a: int32x4_t, b: int32x4_t) -> int32x4_t {
        nn!(vaddq_s32(a, b))
    }
    #[inline(always)]
    fn lt_idx(a: int32x4_t, b: int32x4_t) -> uint32x4_t {
        nn!(vcltq_s32(a, b))
    }
    #[inline(always)]
    fn takes(v: Self, best: Self) -> uint32x4_t {
        // v > best, or v unordered with itself (NaN).
        nn!(vornq_u32(vcgtq_f32(v.0, best.0), vceqq_f32(v.0, v.0)))
    }
    #[inline(always)]
    fn select(m: uint32x4_t, a: Self, b: Self) -> Self {
        Q(nn!(vbslq_f32(m, a.0, b.0)))
    }
    #[inline(always)]
    fn select_idx(m: uint32x4_t, a: int32x4_t, b: int32x4_t) -> int32x4_t {
        nn!(vbslq_s32(m, a, b))
    }
    #[inline(always)]
    unsafe fn gather(base: *const f32, offs: int32x4_t, m: uint32x4_t, fill: f32) -> Self {
        let mut o = [0i32; 4];
        let mut k = [0u32; 4];
        let mut tmp = [fill; 4];
        // SAFETY: the arrays hold 4 elements.
        unsafe {
            vst1q_s32(o.as_mut_ptr(), offs);
            vst1q_u32(k.as_mut_ptr(), m);
        }
        for l in 0..4 {
            if k[l] != 0 {
                // SAFETY: lane l is in the mask, so base + offs[l] is readable (caller's contract).
                tmp[l] = unsafe { *base.add(o[l] as usize) };
            }
        }
        // SAFETY: tmp holds 4 elements.
        Q(unsafe { vld1q_f32(tmp.as_ptr()) })
    }
    #[inline(always)]
    fn spill(v: Self, i: int32x4_t, vals: &mut [f32; 16], idx: &mut [i32; 16]) {
        // SAFETY: both arrays hold at least 4 elements.
        unsafe {
            vst1q_f32(vals.as_mut_ptr(), v.0);
            vst1q_s32(idx.as_mut_ptr(), i);
        }
    }
    #[inline(always)]
    fn store_with_indices(out: &mut [f32], indices: &mut [i64], v: Self, i: int32x4_t, n: usize) {
        assert!(n <= 4 && n <= out.len() && n <= indices.len());
        if n == 4 {
            // SAFETY: out and indices hold at least 4 elements (asserted).
            unsafe {
                vst1q_f32(out.as_mut_ptr(), v.0);
                vst1q_s64(indices.as_mut_ptr(), vmovl_s32(vget_low_s32(i)));
                vst1q_s64(indices.as_mut_ptr().add(2), vmovl_high_s32(i));
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
