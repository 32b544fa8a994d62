//! Lane-wise f32 vector operations, written once per ISA, that the channels-last kernels are
//! generic over.
//!
//! [`Lanes`] is a deliberately small trait: exactly the operations the kernels need, each with the
//! bit-exact semantics of the portable kernel's scalar operation (same operand order for `+`, no
//! fused multiply-add, correctly rounded division and square root, the max scan rule with NaN).
//! It is implemented for the `pulp` tokens [`pulp::x86::V3`] (AVX2), [`pulp::x86::V4`] (AVX-512)
//! and `pulp::aarch64::Neon`; holding a token proves the CPU has the features, and every method
//! is `#[inline(always)]` so the code is compiled inside the token's `vectorize` call, where the
//! features are enabled.

pub(crate) mod nhwc;

/// f32 vectors of one ISA. `V` holds [`Lanes::N`] lanes; `M` selects the first `n < N` lanes.
pub(crate) trait Lanes: Copy {
    /// Lanes per vector.
    const N: usize;
    /// A vector of `N` f32 lanes.
    type V: Copy;
    /// A tail mask selecting the first `n` lanes.
    type M: Copy;

    /// The mask of the first `n` lanes (`1 <= n < N`).
    fn mask(self, n: usize) -> Self::M;
    /// Loads `N` lanes.
    ///
    /// # Safety
    /// `ptr .. ptr + N` must be readable f32s.
    unsafe fn load(self, ptr: *const f32) -> Self::V;
    /// Loads the lanes selected by `m` (the others are zero) and reads no other memory.
    ///
    /// # Safety
    /// The selected lanes `ptr .. ptr + n` must be readable f32s.
    unsafe fn load_masked(self, m: Self::M, ptr: *const f32) -> Self::V;
    /// Stores `N` lanes.
    ///
    /// # Safety
    /// `ptr .. ptr + N` must be writable f32s.
    unsafe fn store(self, ptr: *mut f32, v: Self::V);
    /// Stores the lanes selected by `m` and writes no other memory.
    ///
    /// # Safety
    /// The selected lanes `ptr .. ptr + n` must be writable f32s.
    unsafe fn store_masked(self, m: Self::M, ptr: *mut f32, v: Self::V);

    /// All lanes `+0.0`.
    fn zero(self) -> Self::V;
    /// All lanes `x`.
    fn splat(self, x: f32) -> Self::V;
    /// `a + b` per lane (IEEE, `a` is the first operand).
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a * b` per lane (never fused with a following add).
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a / b` per lane, correctly rounded.
    fn div(self, a: Self::V, b: Self::V) -> Self::V;
    /// `|a|` per lane (clears the sign bit, NaN payloads kept).
    fn abs(self, a: Self::V) -> Self::V;
    /// Correctly rounded square root per lane.
    fn sqrt(self, a: Self::V) -> Self::V;
    /// The max scan rule per lane: `if r > l || r.is_nan() { r } else { l }`.
    fn max_rule(self, l: Self::V, r: Self::V) -> Self::V;
    /// Replaces every NaN lane by `f32::NAN` (`0x7fc0_0000`), other lanes unchanged.
    fn canonical_nan(self, a: Self::V) -> Self::V;

    /// The average of each lane of `s`, a window sum folded from its first term instead of from
    /// `+0.0`: `canonical_nan((s + 0.0) / d)` per lane, with `d` an integer-valued divisor (see
    /// [`avg_div_exact`]). ISAs with a fused multiply-add override it with a division-free
    /// sequence that gives the same bits.
    #[inline(always)]
    fn avg_div<const B: usize>(self, s: [Self::V; B], d: Divisor) -> [Self::V; B] {
        avg_div_exact(self, s, d.d)
    }
}

/// An average divisor with what [`Lanes::avg_div`] needs precomputed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Divisor {
    /// The divisor.
    pub(crate) d: f32,
    /// `1 / d` rounded to nearest.
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    inv: f32,
    /// [`DIV_EXACT`], [`DIV_POW2`] or [`DIV_FMA`].
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    kind: u8,
}

/// Only the division sequence of [`avg_div_exact`] is known to give the canonical bits.
const DIV_EXACT: u8 = 0;
/// `1 <= d < 2^24` a power of two: `fma(s, 1 / d, +0.0)`.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const DIV_POW2: u8 = 1;
/// `1 <= d < 2^24`, not a power of two: the division-free sequence (see [`DIV_FAST_MAX`]).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
const DIV_FMA: u8 = 2;

impl Divisor {
    #[inline(always)]
    pub(crate) fn new(d: f32) -> Self {
        let kind = if !(1.0..DIV_FAST_MAX).contains(&d) {
            DIV_EXACT
        } else if is_pow2(d) {
            DIV_POW2
        } else {
            DIV_FMA
        };
        Divisor { d, inv: 1.0 / d, kind }
    }
}

/// Whether `d` (a non-zero integer converted to f32) is plus or minus a power of two.
#[inline(always)]
pub(crate) fn is_pow2(d: f32) -> bool {
    d.is_normal() && d.to_bits() & 0x007f_ffff == 0
}

/// [`Lanes::avg_div`] by the operations it is defined by: `s + 0.0` turns `-0.0` into `+0.0`
/// (the canonical sum starts at `+0.0`, and with round to nearest `(x + 0.0) + y == (x + y) + 0.0`
/// for every `x`, `y`), then the correctly rounded quotient. Dividing by a power of two `d` is
/// exact scaling, as is multiplying by `1 / d` (also a power of two, exact for every integer
/// `d`): the same real value rounded once, so the same bits, at a fraction of a division's cost.
/// Which NaN an add returns when both operands are NaN depends on the operand order the compiler
/// picks; a canonical NaN makes every path agree.
#[inline(always)]
pub(crate) fn avg_div_exact<L: Lanes, const B: usize>(l: L, s: [L::V; B], d: f32) -> [L::V; B] {
    let pow2 = is_pow2(d);
    let dv = l.splat(if pow2 { 1.0 / d } else { d });
    let zero = l.zero();
    let mut out = s;
    for v in out.iter_mut() {
        let x = l.add(*v, zero);
        *v = l.canonical_nan(if pow2 { l.mul(x, dv) } else { l.div(x, dv) });
    }
    out
}

/// Division without a divider, for the ISAs with a fused multiply-add (Markstein's theorem):
/// with `y = RN(1 / d)` and `q = RN(s * y)` (within one ulp of `s / d`), the residual
/// `r = s - q * d` is exact in one FMA, and `RN(q + r * y)` is the correctly rounded `s / d`,
/// provided nothing underflows or overflows. The callers check that per lane (see
/// [`DIV_MIN_BITS`]) and fall back to [`avg_div_exact`] for a block with any other lane. Signed
/// zero: for `s = -0.0`, `q = -0.0`, `r = +0.0` and `q + r * y = +0.0`, the canonical
/// `(-0.0 + 0.0) / d`; for `s = +0.0` everything is `+0.0`. A power-of-two `d` needs no
/// residual: `fma(s, 1 / d, +0.0)` is `(s + 0.0) / d` rounded once, zero signs included.
///
/// The fast path is taken only for `1 <= d < 2^24` (so the residual `r`, a multiple of `ulp(q)`
/// below `d * ulp(q)` in magnitude, has at most 24 significant bits) and for lanes whose `|s|`
/// is `0` or in `[2^-100, f32::MAX]` (so `q >= 2^-124` is normal: no underflow; no infinities
/// or NaN). Every lane so bounded scales exactly by powers of two, so the test that checks one
/// binade of `s` exhaustively for a set of divisors covers the whole range.
pub(crate) const DIV_FAST_MAX: f32 = 16_777_216.0;
/// Bits of `2^-100` minus one: `|s|` bits minus one (`0` wrapping to `u32::MAX`) must be at
/// least this for the fast division.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) const DIV_MIN_BITS_M1: u32 = 0x0d80_0000 - 1;
/// Bits of `f32::MAX`: `|s|` bits must be at most this for the fast division.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) const DIV_MAX_BITS: u32 = 0x7f7f_ffff;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{DIV_EXACT, DIV_MAX_BITS, DIV_MIN_BITS_M1, DIV_POW2, Divisor, Lanes, avg_div_exact};
    use core::arch::x86_64::{
        __m256, __m256i, __m512, __mmask16, _CMP_ORD_Q, _CMP_UNORD_Q, _MM_CMPINT_LT, _MM_CMPINT_NLE,
    };
    use pulp::x86::{V3, V4};

    impl Lanes for V4 {
        const N: usize = 16;
        type V = __m512;
        type M = __mmask16;

        #[inline(always)]
        fn mask(self, n: usize) -> __mmask16 {
            debug_assert!((1..16).contains(&n));
            ((1u32 << n) - 1) as u16
        }
        #[inline(always)]
        unsafe fn load(self, ptr: *const f32) -> __m512 {
            // SAFETY: the caller guarantees 16 readable f32s at `ptr`; AVX-512F is proven by `self`.
            unsafe { self.avx512f._mm512_loadu_ps(ptr) }
        }
        #[inline(always)]
        unsafe fn load_masked(self, m: __mmask16, ptr: *const f32) -> __m512 {
            // SAFETY: a masked AVX-512 load touches (and can fault on) only the selected lanes,
            // which the caller guarantees are readable.
            unsafe { self.avx512f._mm512_maskz_loadu_ps(m, ptr) }
        }
        #[inline(always)]
        unsafe fn store(self, ptr: *mut f32, v: __m512) {
            // SAFETY: the caller guarantees 16 writable f32s at `ptr`.
            unsafe { self.avx512f._mm512_storeu_ps(ptr, v) }
        }
        #[inline(always)]
        unsafe fn store_masked(self, m: __mmask16, ptr: *mut f32, v: __m512) {
            // SAFETY: a masked store writes only the selected lanes, which the caller guarantees
            // are writable.
            unsafe { self.avx512f._mm512_mask_storeu_ps(ptr, m, v) }
        }
        #[inline(always)]
        fn zero(self) -> __m512 {
            self.avx512f._mm512_setzero_ps()
        }
        #[inline(always)]
        fn splat(self, x: f32) -> __m512 {
            self.avx512f._mm512_set1_ps(x)
        }
        #[inline(always)]
        fn add(self, a: __m512, b: __m512) -> __m512 {
            self.avx512f._mm512_add_ps(a, b)
        }
        #[inline(always)]
        fn mul(self, a: __m512, b: __m512) -> __m512 {
            self.avx512f._mm512_mul_ps(a, b)
        }
        #[inline(always)]
        fn div(self, a: __m512, b: __m512) -> __m512 {
            self.avx512f._mm512_div_ps(a, b)
        }
        #[inline(always)]
        fn abs(self, a: __m512) -> __m512 {
            self.avx512f._mm512_abs_ps(a)
        }
        #[inline(always)]
        fn sqrt(self, a: __m512) -> __m512 {
            self.avx512f._mm512_sqrt_ps(a)
        }
        #[inline(always)]
        fn max_rule(self, l: __m512, r: __m512) -> __m512 {
            // Lanes where `r` is a number: `maxps(r, l)` is `r > l ? r : l`; where `r` is NaN, keep `r`.
            let ord = self.avx512f._mm512_cmp_ps_mask::<_CMP_ORD_Q>(r, r);
            self.avx512f._mm512_mask_max_ps(r, ord, r, l)
        }
        #[inline(always)]
        fn canonical_nan(self, a: __m512) -> __m512 {
            let nan = self.avx512f._mm512_cmp_ps_mask::<_CMP_UNORD_Q>(a, a);
            self.avx512f._mm512_mask_mov_ps(a, nan, self.avx512f._mm512_set1_ps(f32::NAN))
        }
        #[inline(always)]
        fn avg_div<const B: usize>(self, s: [__m512; B], div: Divisor) -> [__m512; B] {
            let f = self.avx512f;
            let d = div.d;
            if div.kind == DIV_EXACT {
                return avg_div_exact(self, s, d);
            }
            let y = f._mm512_set1_ps(div.inv);
            if div.kind == DIV_POW2 {
                let zero = f._mm512_setzero_ps();
                let mut out = s;
                for v in out.iter_mut() {
                    *v = self.canonical_nan(f._mm512_fmadd_ps(*v, y, zero));
                }
                return out;
            }
            let dv = f._mm512_set1_ps(d);
            let abs = f._mm512_set1_epi32(0x7fff_ffff);
            let one = f._mm512_set1_epi32(1);
            let (mut lo, mut hi) = (f._mm512_set1_epi32(-1), f._mm512_setzero_si512());
            let mut out = s;
            for v in out.iter_mut() {
                let t = f._mm512_and_si512(f._mm512_castps_si512(*v), abs);
                lo = f._mm512_min_epu32(lo, f._mm512_sub_epi32(t, one));
                hi = f._mm512_max_epu32(hi, t);
                let q = f._mm512_mul_ps(*v, y);
                let r = f._mm512_fnmadd_ps(q, dv, *v);
                *v = f._mm512_fmadd_ps(r, y, q);
            }
            let bad = f._mm512_cmp_epu32_mask::<_MM_CMPINT_LT>(lo, f._mm512_set1_epi32(DIV_MIN_BITS_M1 as i32))
                | f._mm512_cmp_epu32_mask::<_MM_CMPINT_NLE>(hi, f._mm512_set1_epi32(DIV_MAX_BITS as i32));
            if bad != 0 { avg_div_exact(self, s, d) } else { out }
        }
    }

    impl Lanes for V3 {
        const N: usize = 8;
        type V = __m256;
        type M = __m256i;

        #[inline(always)]
        fn mask(self, n: usize) -> __m256i {
            debug_assert!((1..8).contains(&n));
            let iota = self.avx._mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
            self.avx2._mm256_cmpgt_epi32(self.avx._mm256_set1_epi32(n as i32), iota)
        }
        #[inline(always)]
        unsafe fn load(self, ptr: *const f32) -> __m256 {
            // SAFETY: the caller guarantees 8 readable f32s at `ptr`; AVX is proven by `self`.
            unsafe { self.avx._mm256_loadu_ps(ptr) }
        }
        #[inline(always)]
        unsafe fn load_masked(self, m: __m256i, ptr: *const f32) -> __m256 {
            // SAFETY: `vmaskmovps` does not access (or fault on) masked-off lanes; the selected
            // lanes are readable by the caller's guarantee.
            unsafe { self.avx._mm256_maskload_ps(ptr, m) }
        }
        #[inline(always)]
        unsafe fn store(self, ptr: *mut f32, v: __m256) {
            // SAFETY: the caller guarantees 8 writable f32s at `ptr`.
            unsafe { self.avx._mm256_storeu_ps(ptr, v) }
        }
        #[inline(always)]
        unsafe fn store_masked(self, m: __m256i, ptr: *mut f32, v: __m256) {
            // SAFETY: `vmaskmovps` writes only the selected lanes, writable by the caller's guarantee.
            unsafe { self.avx._mm256_maskstore_ps(ptr, m, v) }
        }
        #[inline(always)]
        fn zero(self) -> __m256 {
            self.avx._mm256_setzero_ps()
        }
        #[inline(always)]
        fn splat(self, x: f32) -> __m256 {
            self.avx._mm256_set1_ps(x)
        }
        #[inline(always)]
        fn add(self, a: __m256, b: __m256) -> __m256 {
            self.avx._mm256_add_ps(a, b)
        }
        #[inline(always)]
        fn mul(self, a: __m256, b: __m256) -> __m256 {
            self.avx._mm256_mul_ps(a, b)
        }
        #[inline(always)]
        fn div(self, a: __m256, b: __m256) -> __m256 {
            self.avx._mm256_div_ps(a, b)
        }
        #[inline(always)]
        fn abs(self, a: __m256) -> __m256 {
            let bits = self.avx._mm256_castsi256_ps(self.avx._mm256_set1_epi32(0x7fff_ffff));
            self.avx._mm256_and_ps(a, bits)
        }
        #[inline(always)]
        fn sqrt(self, a: __m256) -> __m256 {
            self.avx._mm256_sqrt_ps(a)
        }
        #[inline(always)]
        fn max_rule(self, l: __m256, r: __m256) -> __m256 {
            // `maxps(r, l)` is `r > l ? r : l`; then take `r` wherever it is NaN.
            let m = self.avx._mm256_max_ps(r, l);
            let nan = self.avx._mm256_cmp_ps::<_CMP_UNORD_Q>(r, r);
            self.avx._mm256_blendv_ps(m, r, nan)
        }
        #[inline(always)]
        fn canonical_nan(self, a: __m256) -> __m256 {
            let nan = self.avx._mm256_cmp_ps::<_CMP_UNORD_Q>(a, a);
            self.avx._mm256_blendv_ps(a, self.avx._mm256_set1_ps(f32::NAN), nan)
        }
        #[inline(always)]
        fn avg_div<const B: usize>(self, s: [__m256; B], div: Divisor) -> [__m256; B] {
            let (a, a2, fma) = (self.avx, self.avx2, self.fma);
            let d = div.d;
            if div.kind == DIV_EXACT {
                return avg_div_exact(self, s, d);
            }
            let y = a._mm256_set1_ps(div.inv);
            if div.kind == DIV_POW2 {
                let zero = a._mm256_setzero_ps();
                let mut out = s;
                for v in out.iter_mut() {
                    *v = self.canonical_nan(fma._mm256_fmadd_ps(*v, y, zero));
                }
                return out;
            }
            let dv = a._mm256_set1_ps(d);
            let abs = a._mm256_set1_epi32(0x7fff_ffff);
            let one = a._mm256_set1_epi32(1);
            let (mut lo, mut hi) = (a._mm256_set1_epi32(-1), a._mm256_setzero_si256());
            let mut out = s;
            for v in out.iter_mut() {
                let t = a2._mm256_and_si256(a._mm256_castps_si256(*v), abs);
                lo = a2._mm256_min_epu32(lo, a2._mm256_sub_epi32(t, one));
                hi = a2._mm256_max_epu32(hi, t);
                let q = a._mm256_mul_ps(*v, y);
                let r = fma._mm256_fnmadd_ps(q, dv, *v);
                *v = fma._mm256_fmadd_ps(r, y, q);
            }
            // `lo >= DIV_MIN_BITS_M1` and `hi <= DIV_MAX_BITS` (unsigned) in every lane.
            let min = a._mm256_set1_epi32(DIV_MIN_BITS_M1 as i32);
            let max = a._mm256_set1_epi32(DIV_MAX_BITS as i32);
            let ok_lo = a2._mm256_cmpeq_epi32(a2._mm256_max_epu32(lo, min), lo);
            let ok_hi = a2._mm256_cmpeq_epi32(a2._mm256_min_epu32(hi, max), hi);
            let ok = a2._mm256_movemask_epi8(a2._mm256_and_si256(ok_lo, ok_hi));
            if ok != -1 { avg_div_exact(self, s, d) } else { out }
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod aarch64 {
    use super::Lanes;
    use core::arch::aarch64::{float32x4_t, vld1q_f32, vst1q_f32};
    use pulp::aarch64::Neon;

    impl Lanes for Neon {
        const N: usize = 4;
        type V = float32x4_t;
        /// NEON has no masked loads: a tail is the lane count, moved through a small stack buffer.
        type M = usize;

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
        fn max_rule(self, l: float32x4_t, r: float32x4_t) -> float32x4_t {
            // Not `fmax`: it returns +0 for (-0, +0) and the first operand's NaN. Select explicitly.
            let gt = self.neon.vcgtq_f32(r, l);
            let nan = self.neon.vmvnq_u32(self.neon.vceqq_f32(r, r));
            self.neon.vbslq_f32(self.neon.vorrq_u32(gt, nan), r, l)
        }
        #[inline(always)]
        fn canonical_nan(self, a: float32x4_t) -> float32x4_t {
            self.neon.vbslq_f32(self.neon.vceqq_f32(a, a), a, self.neon.vdupq_n_f32(f32::NAN))
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    extern crate std;
    use super::{Divisor, Lanes, avg_div_exact};
    use pulp::x86::{V3, V4};
    use std::{vec, vec::Vec};

    /// `avg_div` against `avg_div_exact`, bit for bit, on `vals` in blocks of two vectors.
    fn same_bits<L: Lanes>(l: L, d: f32, vals: &[f32]) {
        let n = L::N;
        let mut got = [0.0f32; 32];
        let mut want = [0.0f32; 32];
        for chunk in vals.chunks_exact(2 * n) {
            // SAFETY: `chunk` holds `2 * n` readable f32s.
            let s: [L::V; 2] = core::array::from_fn(|b| unsafe { l.load(chunk.as_ptr().add(b * n)) });
            let (g, w) = (l.avg_div(s, Divisor::new(d)), avg_div_exact(l, s, d));
            for b in 0..2 {
                // SAFETY: `got` and `want` hold 32 >= 2 * n writable f32s.
                unsafe {
                    l.store(got.as_mut_ptr().add(b * n), g[b]);
                    l.store(want.as_mut_ptr().add(b * n), w[b]);
                }
            }
            for i in 0..2 * n {
                assert_eq!(got[i].to_bits(), want[i].to_bits(), "{} / {d}", chunk[i]);
            }
        }
    }

    /// Every significand of one binade of `s` (both signs), the binades at both ends of the fast
    /// path's range, zeros, and special values, for divisors with and without a power of two.
    /// Inside the range every step of the division-free sequence scales exactly with `s` by
    /// powers of two, so one binade stands for all of them.
    fn exhaustive<L: Lanes>(l: L) {
        let binade = |lo: u32| (0..1u32 << 23).flat_map(move |m| [f32::from_bits(lo | m), -f32::from_bits(lo | m)]);
        let one: Vec<f32> = binade(0x3f80_0000).collect();
        let low: Vec<f32> = binade(0x0d80_0000).step_by(97).collect();
        let below: Vec<f32> = binade(0x0d00_0000).step_by(89).collect();
        let top: Vec<f32> = binade(0x7f00_0000).step_by(101).collect();
        let mut odd = vec![0.0, -0.0, f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MIN_POSITIVE, 1e-40];
        odd.extend([3.0, -7.5, 1.0e-30, f32::MAX, -f32::MAX, 0.0, -0.0, 2.5].iter().cycle().take(56));
        for d in [3.0f32, 5.0, 6.0, 7.0, 9.0, 10.0, 11.0, 12.0, 13.0, 15.0, 25.0, 27.0, 49.0, 125.0, 1000.0, 16_777_215.0] {
            same_bits(l, d, &one);
            for v in [&low, &below, &top, &odd] {
                same_bits(l, d, v);
            }
        }
        for d in [1.0f32, 2.0, 4.0, 8.0, 64.0, -4.0, -3.0, 16_777_216.0, 1.0e12, 0.5] {
            for v in [&low, &below, &top, &odd] {
                same_bits(l, d, v);
            }
            same_bits(l, d, &one[..1 << 16]);
        }
    }

    #[test]
    fn division_free_average_matches_division_avx2() {
        if let Some(l) = V3::try_new() {
            l.vectorize(|| exhaustive(l));
        }
    }

    #[test]
    fn division_free_average_matches_division_avx512() {
        if let Some(l) = V4::try_new() {
            l.vectorize(|| exhaustive(l));
        }
    }
}
