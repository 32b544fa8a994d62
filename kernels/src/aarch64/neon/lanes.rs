//! The NEON level's [`Lanes`]: 4 `f32` lanes on the `Neon` token, 2 `f64` lanes on
//! [`F64<Neon>`]. Holding the token proves the CPU has Advanced SIMD; every method is
//! `#[inline(always)]`, compiled inside the token's `vectorize`.

use crate::lanes::{F64, FloatLanes, LaneIndices, Lanes};
use core::arch::aarch64::*;
use pulp::aarch64::Neon;

impl Lanes for Neon {
    type E = f32;
    const N: usize = 4;
    const REGISTERS: usize = 32;
    type V = float32x4_t;
    /// NEON has no masked loads: a tail is the lane count, moved through a small stack buffer.
    type M = usize;

    #[inline(always)]
    fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
        Neon::vectorize(self, op)
    }
    #[inline(always)]
    fn mask(self, n: usize) -> usize {
        debug_assert!((1..4).contains(&n));
        n
    }
    #[inline(always)]
    unsafe fn load(self, ptr: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees 4 readable f32s at `ptr`; NEON is proven by `self`.
        unsafe { vld1q_f32(ptr) }
    }
    #[inline(always)]
    unsafe fn load_masked(self, m: usize, ptr: *const f32) -> float32x4_t {
        let mut buf = [0.0f32; 4];
        let n = m.min(4);
        // SAFETY: the caller guarantees `n` readable f32s at `ptr`; `buf` holds 4 >= n and
        // cannot overlap the caller's slice.
        unsafe { core::ptr::copy_nonoverlapping(ptr, buf.as_mut_ptr(), n) };
        // SAFETY: `buf` is 4 readable f32s.
        unsafe { vld1q_f32(buf.as_ptr()) }
    }
    #[inline(always)]
    unsafe fn store(self, ptr: *mut f32, v: float32x4_t) {
        // SAFETY: the caller guarantees 4 writable f32s at `ptr`.
        unsafe { vst1q_f32(ptr, v) }
    }
    #[inline(always)]
    unsafe fn store_masked(self, m: usize, ptr: *mut f32, v: float32x4_t) {
        let mut buf = [0.0f32; 4];
        let n = m.min(4);
        // SAFETY: `buf` is 4 writable f32s.
        unsafe { vst1q_f32(buf.as_mut_ptr(), v) };
        // SAFETY: the caller guarantees `n` writable f32s at `ptr`; `buf` holds 4 >= n.
        unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), ptr, n) };
    }
    #[inline(always)]
    fn zero(self) -> float32x4_t {
        self.neon.vdupq_n_f32(0.0)
    }
    #[inline(always)]
    fn splat(self, x: f32) -> float32x4_t {
        self.neon.vdupq_n_f32(x)
    }
    #[inline(always)]
    fn max_rule(self, l: float32x4_t, r: float32x4_t) -> float32x4_t {
        // Not `fmax`: it returns +0 for (-0, +0) and the first operand's NaN. Select explicitly.
        let gt = self.neon.vcgtq_f32(r, l);
        let nan = self.neon.vmvnq_u32(self.neon.vceqq_f32(r, r));
        self.neon.vbslq_f32(self.neon.vorrq_u32(gt, nan), r, l)
    }

    #[inline(always)]
    unsafe fn store_first(self, ptr: *mut f32, n: usize, v: float32x4_t) {
        // SAFETY: `n < 4` lanes of the caller's writable `ptr[0..n]`, through a 4-float local.
        unsafe { self.store_masked(n, ptr, v) }
    }
    #[inline(always)]
    unsafe fn load_even(self, ptr: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees `ptr[0..8]` is readable; NEON is proven by `self`.
        unsafe { vld2q_f32(ptr).0 }
    }
    #[inline(always)]
    unsafe fn load_odd(self, ptr: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees `ptr[0..8]` is readable; NEON is proven by `self`.
        unsafe { vld2q_f32(ptr).1 }
    }
    #[inline(always)]
    unsafe fn load_stride4(self, ptr: *const f32, phase: usize) -> float32x4_t {
        // SAFETY: the caller guarantees `ptr[0..16]` is readable; NEON is proven by `self`.
        let q = unsafe { vld4q_f32(ptr) };
        match phase {
            0 => q.0,
            1 => q.1,
            2 => q.2,
            _ => q.3,
        }
    }
    #[inline(always)]
    fn max_fast(self, l: float32x4_t, r: float32x4_t) -> float32x4_t {
        // Take `r` where `r > l` (ties keep `l`, unlike `fmax` on signed zeros).
        self.neon.vbslq_f32(self.neon.vcgtq_f32(r, l), r, l)
    }
    /// NaN in every lane that met a NaN (`fmax` returns NaN when either operand is NaN).
    type Seen = float32x4_t;
    #[inline(always)]
    fn seen_none(self) -> float32x4_t {
        self.neon.vdupq_n_f32(0.0)
    }
    #[inline(always)]
    fn see_nans(self, s: float32x4_t, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        self.neon.vmaxq_f32(self.neon.vmaxq_f32(s, a), b)
    }
    #[inline(always)]
    fn seen_any(self, s: float32x4_t) -> bool {
        // A lane unequal to itself is NaN.
        self.neon.vminvq_u32(self.neon.vceqq_f32(s, s)) == 0
    }
    #[inline(always)]
    fn tree_columns(
        self,
        vs: &[float32x4_t],
        op: impl Fn(Self, float32x4_t, float32x4_t) -> float32x4_t,
    ) -> float32x4_t {
        assert!(vs.len() == 4);
        let n = self.neon;
        // h = 2: lanes 0,1 against 2,3; two columns per register afterwards.
        let half = |p: float32x4_t, q: float32x4_t| {
            let (p, q) = (n.vreinterpretq_f64_f32(p), n.vreinterpretq_f64_f32(q));
            (n.vreinterpretq_f32_f64(n.vzip1q_f64(p, q)), n.vreinterpretq_f32_f64(n.vzip2q_f64(p, q)))
        };
        let (lo0, hi0) = half(vs[0], vs[1]);
        let (lo1, hi1) = half(vs[2], vs[3]);
        let a0 = op(self, lo0, hi0);
        let a1 = op(self, lo1, hi1);
        // h = 1: even lanes against odd lanes; lane k is column k.
        op(self, n.vuzp1q_f32(a0, a1), n.vuzp2q_f32(a0, a1))
    }
}

impl FloatLanes for Neon {
    type Float = f32;

    #[inline(always)]
    fn add(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        self.neon.vaddq_f32(a, b)
    }
    #[inline(always)]
    fn mul(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        self.neon.vmulq_f32(a, b)
    }
    #[inline(always)]
    fn div(self, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        self.neon.vdivq_f32(a, b)
    }
    #[inline(always)]
    fn abs(self, a: float32x4_t) -> float32x4_t {
        self.neon.vabsq_f32(a)
    }
    #[inline(always)]
    fn sqrt(self, a: float32x4_t) -> float32x4_t {
        self.neon.vsqrtq_f32(a)
    }
    #[inline(always)]
    fn canonical_nan(self, a: float32x4_t) -> float32x4_t {
        self.neon.vbslq_f32(self.neon.vceqq_f32(a, a), a, self.neon.vdupq_n_f32(f32::NAN))
    }
}

impl Lanes for F64<Neon> {
    type E = f64;
    const N: usize = 2;
    const REGISTERS: usize = 32;
    type V = float64x2_t;
    /// NEON has no masked loads: a tail is the lane count, moved through a small stack buffer.
    type M = usize;

    #[inline(always)]
    fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
        Neon::vectorize(self.0, op)
    }
    #[inline(always)]
    fn mask(self, n: usize) -> usize {
        debug_assert!(n == 1);
        n
    }
    #[inline(always)]
    unsafe fn load(self, ptr: *const f64) -> float64x2_t {
        // SAFETY: the caller guarantees 2 readable f64s at `ptr`; NEON is proven by the token.
        unsafe { vld1q_f64(ptr) }
    }
    #[inline(always)]
    unsafe fn load_masked(self, m: usize, ptr: *const f64) -> float64x2_t {
        let mut buf = [0.0f64; 2];
        let n = m.min(2);
        // SAFETY: the caller guarantees `n` readable f64s at `ptr`; `buf` holds 2 >= n and
        // cannot overlap the caller's slice.
        unsafe { core::ptr::copy_nonoverlapping(ptr, buf.as_mut_ptr(), n) };
        // SAFETY: `buf` is 2 readable f64s.
        unsafe { vld1q_f64(buf.as_ptr()) }
    }
    #[inline(always)]
    unsafe fn store(self, ptr: *mut f64, v: float64x2_t) {
        // SAFETY: the caller guarantees 2 writable f64s at `ptr`.
        unsafe { vst1q_f64(ptr, v) }
    }
    #[inline(always)]
    unsafe fn store_masked(self, m: usize, ptr: *mut f64, v: float64x2_t) {
        let mut buf = [0.0f64; 2];
        let n = m.min(2);
        // SAFETY: `buf` is 2 writable f64s.
        unsafe { vst1q_f64(buf.as_mut_ptr(), v) };
        // SAFETY: the caller guarantees `n` writable f64s at `ptr`; `buf` holds 2 >= n.
        unsafe { core::ptr::copy_nonoverlapping(buf.as_ptr(), ptr, n) };
    }
    #[inline(always)]
    fn zero(self) -> float64x2_t {
        self.0.neon.vdupq_n_f64(0.0)
    }
    #[inline(always)]
    fn splat(self, x: f64) -> float64x2_t {
        self.0.neon.vdupq_n_f64(x)
    }
    #[inline(always)]
    fn max_rule(self, l: float64x2_t, r: float64x2_t) -> float64x2_t {
        // Not `fmax`: it returns +0 for (-0, +0) and the first operand's NaN. Select explicitly.
        let gt = self.0.neon.vcgtq_f64(r, l);
        let num = self.0.neon.vceqq_f64(r, r);
        // Take `r` where `r > l` or `r` is NaN (`!(r == r)`): `gt | !num`.
        let take = self.0.neon.vorrq_u64(gt, self.0.neon.veorq_u64(num, self.0.neon.vdupq_n_u64(u64::MAX)));
        self.0.neon.vbslq_f64(take, r, l)
    }
    /// NaN in every lane that met a NaN (`fmax` returns NaN when either operand is NaN).
    type Seen = float64x2_t;
    #[inline(always)]
    fn seen_none(self) -> float64x2_t {
        self.0.neon.vdupq_n_f64(0.0)
    }
    #[inline(always)]
    fn see_nans(self, s: float64x2_t, a: float64x2_t, b: float64x2_t) -> float64x2_t {
        self.0.neon.vmaxq_f64(self.0.neon.vmaxq_f64(s, a), b)
    }
    #[inline(always)]
    fn seen_any(self, s: float64x2_t) -> bool {
        // A lane unequal to itself is NaN: its equality mask is zero.
        let e = self.0.neon.vceqq_f64(s, s);
        self.0.neon.vgetq_lane_u64::<0>(e) & self.0.neon.vgetq_lane_u64::<1>(e) == 0
    }
    #[inline(always)]
    unsafe fn load_even(self, ptr: *const f64) -> float64x2_t {
        // SAFETY: the caller guarantees `ptr[0..4]` is readable; NEON is proven by the token.
        unsafe { vld2q_f64(ptr).0 }
    }
    #[inline(always)]
    unsafe fn load_odd(self, ptr: *const f64) -> float64x2_t {
        // SAFETY: the caller guarantees `ptr[0..4]` is readable; NEON is proven by the token.
        unsafe { vld2q_f64(ptr).1 }
    }
    #[inline(always)]
    unsafe fn load_stride4(self, ptr: *const f64, phase: usize) -> float64x2_t {
        // SAFETY: the caller guarantees `ptr[0..8]` is readable; NEON is proven by the token.
        let q = unsafe { vld4q_f64(ptr) };
        match phase {
            0 => q.0,
            1 => q.1,
            2 => q.2,
            _ => q.3,
        }
    }
    #[inline(always)]
    fn max_fast(self, l: float64x2_t, r: float64x2_t) -> float64x2_t {
        // Take `r` where `r > l` (ties keep `l`, unlike `fmax` on signed zeros).
        self.0.neon.vbslq_f64(self.0.neon.vcgtq_f64(r, l), r, l)
    }
}

impl FloatLanes for F64<Neon> {
    type Float = f64;

    #[inline(always)]
    fn add(self, a: float64x2_t, b: float64x2_t) -> float64x2_t {
        self.0.neon.vaddq_f64(a, b)
    }
    #[inline(always)]
    fn mul(self, a: float64x2_t, b: float64x2_t) -> float64x2_t {
        self.0.neon.vmulq_f64(a, b)
    }
    #[inline(always)]
    fn div(self, a: float64x2_t, b: float64x2_t) -> float64x2_t {
        self.0.neon.vdivq_f64(a, b)
    }
    #[inline(always)]
    fn abs(self, a: float64x2_t) -> float64x2_t {
        self.0.neon.vabsq_f64(a)
    }
    #[inline(always)]
    fn sqrt(self, a: float64x2_t) -> float64x2_t {
        self.0.neon.vsqrtq_f64(a)
    }
    #[inline(always)]
    fn canonical_nan(self, a: float64x2_t) -> float64x2_t {
        self.0.neon.vbslq_f64(self.0.neon.vceqq_f64(a, a), a, self.0.neon.vdupq_n_f64(f64::NAN))
    }
}

/// A register-only NEON intrinsic expression in a `Neon` method.
macro_rules! nn {
    ($e:expr) => {{
        // SAFETY: register-only Advanced SIMD instructions, in a method of the `Neon` token (the
        // proof that the CPU has them).
        unsafe { $e }
    }};
}

impl LaneIndices for Neon {
    type I = int32x4_t;
    type B = uint32x4_t;

    #[inline(always)]
    fn splat_idx(self, x: i32) -> int32x4_t {
        nn!(vdupq_n_s32(x))
    }
    #[inline(always)]
    fn iota(self) -> int32x4_t {
        let lanes = [0i32, 1, 2, 3];
        // SAFETY: lanes holds 4 elements.
        unsafe { vld1q_s32(lanes.as_ptr()) }
    }
    #[inline(always)]
    fn idx_from(self, a: &[i32; 16]) -> int32x4_t {
        // SAFETY: a holds at least 4 elements.
        unsafe { vld1q_s32(a.as_ptr()) }
    }
    #[inline(always)]
    fn add_idx(self, a: int32x4_t, b: int32x4_t) -> int32x4_t {
        nn!(vaddq_s32(a, b))
    }
    #[inline(always)]
    fn lt_idx(self, a: int32x4_t, b: int32x4_t) -> uint32x4_t {
        nn!(vcltq_s32(a, b))
    }
    #[inline(always)]
    fn takes(self, v: float32x4_t, best: float32x4_t) -> uint32x4_t {
        // v > best, or v unordered with itself (NaN).
        nn!(vornq_u32(vcgtq_f32(v, best), vceqq_f32(v, v)))
    }
    #[inline(always)]
    fn select(self, m: uint32x4_t, a: float32x4_t, b: float32x4_t) -> float32x4_t {
        nn!(vbslq_f32(m, a, b))
    }
    #[inline(always)]
    fn select_idx(self, m: uint32x4_t, a: int32x4_t, b: int32x4_t) -> int32x4_t {
        nn!(vbslq_s32(m, a, b))
    }
    #[inline(always)]
    unsafe fn gather(self, base: *const f32, offs: int32x4_t, m: uint32x4_t, fill: f32) -> float32x4_t {
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
        unsafe { vld1q_f32(tmp.as_ptr()) }
    }
    #[inline(always)]
    fn spill(self, v: float32x4_t, i: int32x4_t, vals: &mut [f32; 16], idx: &mut [i32; 16]) {
        // SAFETY: both arrays hold at least 4 elements.
        unsafe {
            vst1q_f32(vals.as_mut_ptr(), v);
            vst1q_s32(idx.as_mut_ptr(), i);
        }
    }
    #[inline(always)]
    fn store_with_indices(self, out: &mut [f32], indices: &mut [i64], v: float32x4_t, i: int32x4_t, n: usize) {
        assert!(n <= 4 && n <= out.len() && n <= indices.len());
        if n == 4 {
            // SAFETY: out and indices hold at least 4 elements (asserted).
            unsafe {
                vst1q_f32(out.as_mut_ptr(), v);
                vst1q_s64(indices.as_mut_ptr(), vmovl_s32(vget_low_s32(i)));
                vst1q_s64(indices.as_mut_ptr().add(2), vmovl_high_s32(i));
            }
        } else {
            let mut vals = [0.0f32; 16];
            let mut idx = [0i32; 16];
            self.spill(v, i, &mut vals, &mut idx);
            out[..n].copy_from_slice(&vals[..n]);
            for (d, s) in indices[..n].iter_mut().zip(&idx) {
                *d = *s as i64;
            }
        }
    }
}

/// `f64`: 64-bit index lanes beside the 2 value lanes, so a compare mask selects both.
impl LaneIndices for F64<Neon> {
    type I = int64x2_t;
    type B = uint64x2_t;

    #[inline(always)]
    fn splat_idx(self, x: i32) -> int64x2_t {
        nn!(vdupq_n_s64(i64::from(x)))
    }
    #[inline(always)]
    fn iota(self) -> int64x2_t {
        let lanes = [0i64, 1];
        // SAFETY: `lanes` holds 2 elements.
        unsafe { vld1q_s64(lanes.as_ptr()) }
    }
    #[inline(always)]
    fn idx_from(self, a: &[i32; 16]) -> int64x2_t {
        // SAFETY: `a` holds at least 2 elements.
        unsafe { vmovl_s32(vld1_s32(a.as_ptr())) }
    }
    #[inline(always)]
    fn add_idx(self, a: int64x2_t, b: int64x2_t) -> int64x2_t {
        nn!(vaddq_s64(a, b))
    }
    #[inline(always)]
    fn lt_idx(self, a: int64x2_t, b: int64x2_t) -> uint64x2_t {
        nn!(vcltq_s64(a, b))
    }
    #[inline(always)]
    fn takes(self, v: float64x2_t, best: float64x2_t) -> uint64x2_t {
        // v > best, or v unordered with itself (NaN): `gt | !eq` on the 32-bit halves.
        nn!(vreinterpretq_u64_u32(vornq_u32(
            vreinterpretq_u32_u64(vcgtq_f64(v, best)),
            vreinterpretq_u32_u64(vceqq_f64(v, v))
        )))
    }
    #[inline(always)]
    fn select(self, m: uint64x2_t, a: float64x2_t, b: float64x2_t) -> float64x2_t {
        nn!(vbslq_f64(m, a, b))
    }
    #[inline(always)]
    fn select_idx(self, m: uint64x2_t, a: int64x2_t, b: int64x2_t) -> int64x2_t {
        nn!(vbslq_s64(m, a, b))
    }
    #[inline(always)]
    unsafe fn gather(self, base: *const f64, offs: int64x2_t, m: uint64x2_t, fill: f64) -> float64x2_t {
        let (mut o, mut k, mut tmp) = ([0i64; 2], [0u64; 2], [fill; 2]);
        // SAFETY: the arrays hold 2 elements.
        unsafe {
            vst1q_s64(o.as_mut_ptr(), offs);
            vst1q_u64(k.as_mut_ptr(), m);
        }
        for l in 0..2 {
            if k[l] != 0 {
                // SAFETY: lane `l` is in the mask, so `base + offs[l]` is readable (caller's
                // contract).
                tmp[l] = unsafe { *base.add(o[l] as usize) };
            }
        }
        // SAFETY: `tmp` holds 2 elements.
        unsafe { vld1q_f64(tmp.as_ptr()) }
    }
    #[inline(always)]
    fn spill(self, v: float64x2_t, i: int64x2_t, vals: &mut [f64; 16], idx: &mut [i32; 16]) {
        let mut wide = [0i64; 2];
        // SAFETY: `vals` and `wide` hold at least 2 elements.
        unsafe {
            vst1q_f64(vals.as_mut_ptr(), v);
            vst1q_s64(wide.as_mut_ptr(), i);
        }
        // The lanes hold `i32` values (sums of the caller's `i32` indices).
        for (d, s) in idx.iter_mut().zip(wide) {
            *d = s as i32;
        }
    }
    #[inline(always)]
    fn store_with_indices(self, out: &mut [f64], indices: &mut [i64], v: float64x2_t, i: int64x2_t, n: usize) {
        assert!(n <= 2 && n <= out.len() && n <= indices.len());
        let (mut vals, mut idx) = ([0.0f64; 2], [0i64; 2]);
        // SAFETY: both arrays hold 2 elements.
        unsafe {
            vst1q_f64(vals.as_mut_ptr(), v);
            vst1q_s64(idx.as_mut_ptr(), i);
        }
        out[..n].copy_from_slice(&vals[..n]);
        indices[..n].copy_from_slice(&idx[..n]);
    }
}
