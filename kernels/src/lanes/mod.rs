//! Lane-wise vector operations, written once per ISA and element type, that the channels-last
//! kernels are generic over.
//!
//! [`Lanes`] is a deliberately small trait: exactly the operations the kernels need, each with the
//! bit-exact semantics of the portable kernel's scalar operation (same operand order for `+`, no
//! fused multiply-add, correctly rounded division and square root, the max scan rule with NaN).
//! For `f32` it is implemented on the `pulp` tokens [`pulp::x86::V3`] (AVX2), [`pulp::x86::V4`]
//! (AVX-512) and `pulp::aarch64::Neon` themselves, for `f64` on [`F64`] around the same tokens;
//! holding a token proves the CPU has the features, and every method is `#[inline(always)]` so
//! the code is compiled inside the token's `vectorize` call, where the features are enabled.

pub(crate) mod global;
pub(crate) mod nhwc;
pub(crate) mod transposed;

/// The element types of [`Lanes`]: what the channels-last kernels need of a float besides
/// vector operations, with the portable kernel's conversions (so the same bits).
pub(crate) trait LaneElem:
    crate::Scalar<Sum = Self> + core::ops::Add<Output = Self> + core::ops::Div<Output = Self> + PartialEq
{
    /// `+0.0`.
    const ZERO: Self;
    /// `1.0`.
    const ONE: Self;
    /// An integer divisor converted as the portable kernel converts it (`d as f32` / `as f64`).
    fn from_i64(d: i64) -> Self;
    /// An Lp exponent converted as the portable kernel converts it.
    fn from_f64(x: f64) -> Self;
    /// The Lp root's exponent `1 / p` as the portable kernel computes it.
    fn lp_root_exponent(p: f64) -> Self;
    /// `libm`'s `pow` of this type (`powf` for `f32`): the portable kernel's general-Lp calls.
    fn pow(x: Self, y: Self) -> Self;
    /// Whether `d` is a normal power of two (its reciprocal is then exact).
    fn is_pow2(d: Self) -> bool;
}

impl LaneElem for f32 {
    const ZERO: f32 = 0.0;
    const ONE: f32 = 1.0;
    #[inline(always)]
    fn from_i64(d: i64) -> f32 {
        d as f32
    }
    #[inline(always)]
    fn from_f64(x: f64) -> f32 {
        x as f32
    }
    #[inline(always)]
    fn lp_root_exponent(p: f64) -> f32 {
        crate::scalar::lp_root_exponent32(p)
    }
    #[inline(always)]
    fn pow(x: f32, y: f32) -> f32 {
        libm::powf(x, y)
    }
    #[inline(always)]
    fn is_pow2(d: f32) -> bool {
        d.is_normal() && d.to_bits() & 0x007f_ffff == 0
    }
}

impl LaneElem for f64 {
    const ZERO: f64 = 0.0;
    const ONE: f64 = 1.0;
    #[inline(always)]
    fn from_i64(d: i64) -> f64 {
        d as f64
    }
    #[inline(always)]
    fn from_f64(x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn lp_root_exponent(p: f64) -> f64 {
        1.0 / p
    }
    #[inline(always)]
    fn pow(x: f64, y: f64) -> f64 {
        libm::pow(x, y)
    }
    #[inline(always)]
    fn is_pow2(d: f64) -> bool {
        d.is_normal() && d.to_bits() & 0x000f_ffff_ffff_ffff == 0
    }
}

/// A token's `f64` lanes: `F64(token)` implements [`Lanes`] with `E = f64`.
#[derive(Clone, Copy)]
pub(crate) struct F64<S>(pub(crate) S);

/// Vectors of one ISA and element type. `V` holds [`Lanes::N`] lanes of [`Lanes::E`]; `M`
/// selects the first `n < N` lanes.
pub(crate) trait Lanes: Copy {
    /// The element type.
    type E: LaneElem;
    /// Lanes per vector.
    const N: usize;
    /// A vector of `N` lanes.
    type V: Copy;
    /// A tail mask selecting the first `n` lanes.
    type M: Copy;

    /// Runs `op` with the ISA's target features enabled (the token's `vectorize`).
    fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output;

    /// The mask of the first `n` lanes (`1 <= n < N`).
    fn mask(self, n: usize) -> Self::M;
    /// Loads `N` lanes.
    ///
    /// # Safety
    /// `ptr .. ptr + N` must be readable elements.
    unsafe fn load(self, ptr: *const Self::E) -> Self::V;
    /// Loads the lanes selected by `m` (the others are zero) and reads no other memory.
    ///
    /// # Safety
    /// The selected lanes `ptr .. ptr + n` must be readable elements.
    unsafe fn load_masked(self, m: Self::M, ptr: *const Self::E) -> Self::V;
    /// Stores `N` lanes.
    ///
    /// # Safety
    /// `ptr .. ptr + N` must be writable elements.
    unsafe fn store(self, ptr: *mut Self::E, v: Self::V);
    /// Stores the lanes selected by `m` and writes no other memory.
    ///
    /// # Safety
    /// The selected lanes `ptr .. ptr + n` must be writable elements.
    unsafe fn store_masked(self, m: Self::M, ptr: *mut Self::E, v: Self::V);

    /// All lanes `+0.0`.
    fn zero(self) -> Self::V;
    /// All lanes `x`.
    fn splat(self, x: Self::E) -> Self::V;
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
    /// Replaces every NaN lane by the type's canonical quiet NaN (`f32::NAN`, `f64::NAN`), other
    /// lanes unchanged.
    fn canonical_nan(self, a: Self::V) -> Self::V;

    /// The average of each lane of `s`, a window sum folded from its first term instead of from
    /// `+0.0`: `canonical_nan((s + 0.0) / d)` per lane (see [`Divisor`]).
    #[inline(always)]
    fn avg_div<const B: usize>(self, s: [Self::V; B], d: Divisor<Self::E>) -> [Self::V; B] {
        let dv = self.splat(d.by);
        let zero = self.zero();
        let mut out = s;
        for v in out.iter_mut() {
            let x = self.add(*v, zero);
            *v = self.canonical_nan(if d.pow2 { self.mul(x, dv) } else { self.div(x, dv) });
        }
        out
    }
}

/// An average divisor prepared once for [`Lanes::avg_div`].
///
/// `s + 0.0` turns `-0.0` into `+0.0` (the canonical sum starts at `+0.0`, and with round to
/// nearest `(x + 0.0) + y == (x + y) + 0.0` for every `x`, `y`), then the correctly rounded
/// quotient. Dividing by a power of two `d` is exact scaling, as is multiplying by `1 / d` (also
/// a power of two, exact for every integer `d`): the same real value rounded once, so the same
/// bits, at a fraction of a division's cost. Which NaN an add returns when both operands are NaN
/// depends on the operand order the compiler picks; a canonical NaN makes every path agree.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Divisor<E> {
    /// `1 / d` when `d` is plus or minus a power of two, else `d`.
    by: E,
    /// Multiply by `by` (else divide by it).
    pow2: bool,
}

impl<E: LaneElem> Divisor<E> {
    /// `d`: a non-zero integer converted to `E`.
    #[inline(always)]
    pub(crate) fn new(d: E) -> Self {
        // A select, not a match on an `Option`: this runs once per output pixel, and the
        // branch-free form measured about 2 instructions per pixel fewer (callgrind, AVX2, a
        // 2x2 channels-last average).
        let pow2 = E::is_pow2(d);
        Divisor { by: if pow2 { E::ONE / d } else { d }, pow2 }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{F64, Lanes};
    use core::arch::x86_64::{
        __m256, __m256d, __m256i, __m512, __m512d, __mmask8, __mmask16, _CMP_ORD_Q, _CMP_UNORD_Q,
    };
    use pulp::x86::{V3, V4};

    impl Lanes for V4 {
        type E = f32;
        const N: usize = 16;
        type V = __m512;
        type M = __mmask16;

        #[inline(always)]
        fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
            V4::vectorize(self, op)
        }
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
    }

    impl Lanes for V3 {
        type E = f32;
        const N: usize = 8;
        type V = __m256;
        type M = __m256i;

        #[inline(always)]
        fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
            V3::vectorize(self, op)
        }
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
    }

    impl Lanes for F64<V4> {
        type E = f64;
        const N: usize = 8;
        type V = __m512d;
        type M = __mmask8;

        #[inline(always)]
        fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
            V4::vectorize(self.0, op)
        }
        #[inline(always)]
        fn mask(self, n: usize) -> __mmask8 {
            debug_assert!((1..8).contains(&n));
            ((1u32 << n) - 1) as u8
        }
        #[inline(always)]
        unsafe fn load(self, ptr: *const f64) -> __m512d {
            // SAFETY: the caller guarantees 8 readable f64s at `ptr`; AVX-512F is proven by the token.
            unsafe { self.0.avx512f._mm512_loadu_pd(ptr) }
        }
        #[inline(always)]
        unsafe fn load_masked(self, m: __mmask8, ptr: *const f64) -> __m512d {
            // SAFETY: a masked AVX-512 load touches (and can fault on) only the selected lanes,
            // which the caller guarantees are readable.
            unsafe { self.0.avx512f._mm512_maskz_loadu_pd(m, ptr) }
        }
        #[inline(always)]
        unsafe fn store(self, ptr: *mut f64, v: __m512d) {
            // SAFETY: the caller guarantees 8 writable f64s at `ptr`.
            unsafe { self.0.avx512f._mm512_storeu_pd(ptr, v) }
        }
        #[inline(always)]
        unsafe fn store_masked(self, m: __mmask8, ptr: *mut f64, v: __m512d) {
            // SAFETY: a masked store writes only the selected lanes, which the caller guarantees
            // are writable.
            unsafe { self.0.avx512f._mm512_mask_storeu_pd(ptr, m, v) }
        }
        #[inline(always)]
        fn zero(self) -> __m512d {
            self.0.avx512f._mm512_setzero_pd()
        }
        #[inline(always)]
        fn splat(self, x: f64) -> __m512d {
            self.0.avx512f._mm512_set1_pd(x)
        }
        #[inline(always)]
        fn add(self, a: __m512d, b: __m512d) -> __m512d {
            self.0.avx512f._mm512_add_pd(a, b)
        }
        #[inline(always)]
        fn mul(self, a: __m512d, b: __m512d) -> __m512d {
            self.0.avx512f._mm512_mul_pd(a, b)
        }
        #[inline(always)]
        fn div(self, a: __m512d, b: __m512d) -> __m512d {
            self.0.avx512f._mm512_div_pd(a, b)
        }
        #[inline(always)]
        fn abs(self, a: __m512d) -> __m512d {
            self.0.avx512f._mm512_abs_pd(a)
        }
        #[inline(always)]
        fn sqrt(self, a: __m512d) -> __m512d {
            self.0.avx512f._mm512_sqrt_pd(a)
        }
        #[inline(always)]
        fn max_rule(self, l: __m512d, r: __m512d) -> __m512d {
            // Lanes where `r` is a number: `maxpd(r, l)` is `r > l ? r : l`; where `r` is NaN, keep `r`.
            let ord = self.0.avx512f._mm512_cmp_pd_mask::<_CMP_ORD_Q>(r, r);
            self.0.avx512f._mm512_mask_max_pd(r, ord, r, l)
        }
        #[inline(always)]
        fn canonical_nan(self, a: __m512d) -> __m512d {
            let nan = self.0.avx512f._mm512_cmp_pd_mask::<_CMP_UNORD_Q>(a, a);
            self.0.avx512f._mm512_mask_mov_pd(a, nan, self.0.avx512f._mm512_set1_pd(f64::NAN))
        }
    }

    impl Lanes for F64<V3> {
        type E = f64;
        const N: usize = 4;
        type V = __m256d;
        type M = __m256i;

        #[inline(always)]
        fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
            V3::vectorize(self.0, op)
        }
        #[inline(always)]
        fn mask(self, n: usize) -> __m256i {
            debug_assert!((1..4).contains(&n));
            let iota = self.0.avx._mm256_setr_epi64x(0, 1, 2, 3);
            self.0.avx2._mm256_cmpgt_epi64(self.0.avx._mm256_set1_epi64x(n as i64), iota)
        }
        #[inline(always)]
        unsafe fn load(self, ptr: *const f64) -> __m256d {
            // SAFETY: the caller guarantees 4 readable f64s at `ptr`; AVX is proven by the token.
            unsafe { self.0.avx._mm256_loadu_pd(ptr) }
        }
        #[inline(always)]
        unsafe fn load_masked(self, m: __m256i, ptr: *const f64) -> __m256d {
            // SAFETY: `vmaskmovpd` does not access (or fault on) masked-off lanes; the selected
            // lanes are readable by the caller's guarantee.
            unsafe { self.0.avx._mm256_maskload_pd(ptr, m) }
        }
        #[inline(always)]
        unsafe fn store(self, ptr: *mut f64, v: __m256d) {
            // SAFETY: the caller guarantees 4 writable f64s at `ptr`.
            unsafe { self.0.avx._mm256_storeu_pd(ptr, v) }
        }
        #[inline(always)]
        unsafe fn store_masked(self, m: __m256i, ptr: *mut f64, v: __m256d) {
            // SAFETY: `vmaskmovpd` writes only the selected lanes, writable by the caller's guarantee.
            unsafe { self.0.avx._mm256_maskstore_pd(ptr, m, v) }
        }
        #[inline(always)]
        fn zero(self) -> __m256d {
            self.0.avx._mm256_setzero_pd()
        }
        #[inline(always)]
        fn splat(self, x: f64) -> __m256d {
            self.0.avx._mm256_set1_pd(x)
        }
        #[inline(always)]
        fn add(self, a: __m256d, b: __m256d) -> __m256d {
            self.0.avx._mm256_add_pd(a, b)
        }
        #[inline(always)]
        fn mul(self, a: __m256d, b: __m256d) -> __m256d {
            self.0.avx._mm256_mul_pd(a, b)
        }
        #[inline(always)]
        fn div(self, a: __m256d, b: __m256d) -> __m256d {
            self.0.avx._mm256_div_pd(a, b)
        }
        #[inline(always)]
        fn abs(self, a: __m256d) -> __m256d {
            let bits = self.0.avx._mm256_castsi256_pd(self.0.avx._mm256_set1_epi64x(0x7fff_ffff_ffff_ffff));
            self.0.avx._mm256_and_pd(a, bits)
        }
        #[inline(always)]
        fn sqrt(self, a: __m256d) -> __m256d {
            self.0.avx._mm256_sqrt_pd(a)
        }
        #[inline(always)]
        fn max_rule(self, l: __m256d, r: __m256d) -> __m256d {
            // `maxpd(r, l)` is `r > l ? r : l`; then take `r` wherever it is NaN.
            let m = self.0.avx._mm256_max_pd(r, l);
            let nan = self.0.avx._mm256_cmp_pd::<_CMP_UNORD_Q>(r, r);
            self.0.avx._mm256_blendv_pd(m, r, nan)
        }
        #[inline(always)]
        fn canonical_nan(self, a: __m256d) -> __m256d {
            let nan = self.0.avx._mm256_cmp_pd::<_CMP_UNORD_Q>(a, a);
            self.0.avx._mm256_blendv_pd(a, self.0.avx._mm256_set1_pd(f64::NAN), nan)
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod aarch64 {
    use super::{F64, Lanes};
    use core::arch::aarch64::{float32x4_t, float64x2_t, vld1q_f32, vld1q_f64, vst1q_f32, vst1q_f64};
    use pulp::aarch64::Neon;

    impl Lanes for Neon {
        type E = f32;
        const N: usize = 4;
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

    impl Lanes for F64<Neon> {
        type E = f64;
        const N: usize = 2;
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
        fn max_rule(self, l: float64x2_t, r: float64x2_t) -> float64x2_t {
            // Not `fmax`: it returns +0 for (-0, +0) and the first operand's NaN. Select explicitly.
            let gt = self.0.neon.vcgtq_f64(r, l);
            let num = self.0.neon.vceqq_f64(r, r);
            // Take `r` where `r > l` or `r` is NaN (`!(r == r)`): `gt | !num`.
            let take = self.0.neon.vorrq_u64(gt, self.0.neon.veorq_u64(num, self.0.neon.vdupq_n_u64(u64::MAX)));
            self.0.neon.vbslq_f64(take, r, l)
        }
        #[inline(always)]
        fn canonical_nan(self, a: float64x2_t) -> float64x2_t {
            self.0.neon.vbslq_f64(self.0.neon.vceqq_f64(a, a), a, self.0.neon.vdupq_n_f64(f64::NAN))
        }
    }
}
