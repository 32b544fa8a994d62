//! The AVX-512 level's [`Lanes`]: 16 `f32` lanes on the [`V4`] token, 8 `f64` lanes on
//! [`F64<V4>`]. Holding the token proves the CPU has AVX-512 F/BW/CD/DQ/VL (and x86-64-v3); every
//! method is `#[inline(always)]`, compiled inside the token's `vectorize`.

use crate::lanes::{F64, FloatLanes, LaneIndices, Lanes};
use core::arch::x86_64::*;
use pulp::x86::{V3, V4};

/// A register-only AVX-512 intrinsic expression in a `V4` method.
macro_rules! v4 {
    ($e:expr) => {{
        // SAFETY: register-only AVX-512 F/DQ/VL instructions, in a method of the `V4` token (the
        // proof that the CPU has them).
        unsafe { $e }
    }};
}

/// The first `n` of 16 lanes (all for `n >= 16`).
#[inline(always)]
fn mask_of(n: usize) -> __mmask16 {
    if n >= 16 { 0xffff } else { ((1u32 << n) - 1) as __mmask16 }
}

/// `permutex2var` indices selecting the even (resp. odd) elements of two 16-lane vectors.
const EVEN: [i32; 16] = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];
const ODD: [i32; 16] = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31];
/// `permutex2var` indices putting elements `4 * j + phase` of two 16-lane vectors in lanes
/// `0..8` (the upper 8 lanes are unused).
const S4: [[i32; 16]; 4] = {
    let mut t = [[0; 16]; 4];
    let mut ph = 0;
    while ph < 4 {
        let mut j = 0;
        while j < 16 {
            t[ph][j] = (4 * (j % 8) + ph) as i32;
            j += 1;
        }
        ph += 1;
    }
    t
};

impl Lanes for V4 {
    type E = f32;
    const N: usize = 16;
    const REGISTERS: usize = 32;
    type V = __m512;
    type M = __mmask16;

    #[inline(always)]
    fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
        V4::vectorize(self, op)
    }
    #[inline(always)]
    fn mask(self, n: usize) -> __mmask16 {
        debug_assert!((1..16).contains(&n));
        mask_of(n)
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
    fn max_rule(self, l: __m512, r: __m512) -> __m512 {
        // Lanes where `r` is a number: `maxps(r, l)` is `r > l ? r : l`; where `r` is NaN, keep `r`.
        let ord = self.avx512f._mm512_cmp_ps_mask::<_CMP_ORD_Q>(r, r);
        self.avx512f._mm512_mask_max_ps(r, ord, r, l)
    }

    #[inline(always)]
    unsafe fn store_first(self, ptr: *mut f32, n: usize, v: __m512) {
        // SAFETY: the mask has only the low `n < 16` lanes set, and masked-off lanes are neither
        // written nor faulted; the caller guarantees `ptr[0..n]` is writable.
        unsafe { self.avx512f._mm512_mask_storeu_ps(ptr, ((1u32 << n) - 1) as u16, v) }
    }
    #[inline(always)]
    unsafe fn load_even(self, ptr: *const f32) -> __m512 {
        // SAFETY: the caller guarantees `ptr[0..32]` is readable; AVX-512F is proven by `self`.
        unsafe {
            let idx = _mm512_loadu_si512(EVEN.as_ptr().cast());
            _mm512_permutex2var_ps(_mm512_loadu_ps(ptr), idx, _mm512_loadu_ps(ptr.add(16)))
        }
    }
    #[inline(always)]
    unsafe fn load_odd(self, ptr: *const f32) -> __m512 {
        // SAFETY: the caller guarantees `ptr[0..32]` is readable; AVX-512F is proven by `self`.
        unsafe {
            let idx = _mm512_loadu_si512(ODD.as_ptr().cast());
            _mm512_permutex2var_ps(_mm512_loadu_ps(ptr), idx, _mm512_loadu_ps(ptr.add(16)))
        }
    }
    #[inline(always)]
    unsafe fn load_stride4(self, ptr: *const f32, phase: usize) -> __m512 {
        // SAFETY: the caller guarantees `ptr[0..64]` is readable; AVX-512F is proven by `self`.
        unsafe {
            let idx = _mm512_loadu_si512(S4[phase].as_ptr().cast());
            let a = _mm512_permutex2var_ps(_mm512_loadu_ps(ptr), idx, _mm512_loadu_ps(ptr.add(16)));
            let b = _mm512_permutex2var_ps(_mm512_loadu_ps(ptr.add(32)), idx, _mm512_loadu_ps(ptr.add(48)));
            // Low 256 bits of `a`, then low 256 bits of `b`.
            _mm512_shuffle_f32x4::<0b01_00_01_00>(a, b)
        }
    }
    #[inline(always)]
    fn max_fast(self, l: __m512, r: __m512) -> __m512 {
        // `maxps(r, l)` is `r` where `r > l`, else `l` (ties keep `l`).
        self.avx512f._mm512_max_ps(r, l)
    }
    #[inline(always)]
    unsafe fn transpose8(self, src: *const f32, ss: usize, dst: *mut f32, ds: usize) {
        // The 8x8 block in 256-bit registers (AVX2 is part of this level).
        // SAFETY: forwarded contract.
        unsafe { <V3 as Lanes>::transpose8(*self, src, ss, dst, ds) }
    }
    #[inline(always)]
    unsafe fn load_part(self, ptr: *const f32, n: usize, fill: f32) -> __m512 {
        // SAFETY: a masked load touches only the lanes of the mask, `ptr[0..n]`, readable by the
        // caller's guarantee; masked-off lanes never fault.
        unsafe { _mm512_mask_loadu_ps(_mm512_set1_ps(fill), mask_of(n), ptr) }
    }
    /// The lanes that met a NaN.
    type Seen = __mmask16;
    #[inline(always)]
    fn seen_none(self) -> __mmask16 {
        0
    }
    #[inline(always)]
    fn see_nans(self, s: __mmask16, a: __m512, b: __m512) -> __mmask16 {
        // SAFETY: a register-only AVX-512 compare (unordered: where `a` or `b` is NaN), proven by
        // `self`.
        s | unsafe { _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(a, b) }
    }
    #[inline(always)]
    fn seen_any(self, s: __mmask16) -> bool {
        s != 0
    }
    #[inline(always)]
    fn tree_columns(self, vs: &[__m512], op: impl Fn(Self, __m512, __m512) -> __m512) -> __m512 {
        assert!(vs.len() == 16);
        // h = 8: lanes 0-7 of each column against lanes 8-15, two columns per register.
        let mut a = [self.zero(); 8];
        for (i, ai) in a.iter_mut().enumerate() {
            let (p, q) = (vs[2 * i], vs[2 * i + 1]);
            let (lo, hi) = v4!((_mm512_shuffle_f32x4::<0x44>(p, q), _mm512_shuffle_f32x4::<0xEE>(p, q)));
            *ai = op(self, lo, hi);
        }
        // h = 4: 128-bit blocks 0/2 against 1/3; one column per block afterwards.
        let mut b = [self.zero(); 4];
        for (i, bi) in b.iter_mut().enumerate() {
            let (p, q) = (a[2 * i], a[2 * i + 1]);
            let (lo, hi) = v4!((_mm512_shuffle_f32x4::<0x88>(p, q), _mm512_shuffle_f32x4::<0xDD>(p, q)));
            *bi = op(self, lo, hi);
        }
        // h = 2 inside each block: lanes 0,1 against 2,3; two columns per block afterwards.
        let mut c = [self.zero(); 2];
        for (i, ci) in c.iter_mut().enumerate() {
            let (p, q) = (b[2 * i], b[2 * i + 1]);
            let (lo, hi) = v4!((_mm512_shuffle_ps::<0x44>(p, q), _mm512_shuffle_ps::<0xEE>(p, q)));
            *ci = op(self, lo, hi);
        }
        // h = 1: even lanes against odd lanes. Lane 4k + m now holds column k + 4m.
        let (lo, hi) = v4!((_mm512_shuffle_ps::<0x88>(c[0], c[1]), _mm512_shuffle_ps::<0xDD>(c[0], c[1])));
        let d = op(self, lo, hi);
        let order = v4!(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
        v4!(_mm512_permutexvar_ps(order, d))
    }
}

impl FloatLanes for V4 {
    type Float = f32;

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
    fn canonical_nan(self, a: __m512) -> __m512 {
        let nan = self.avx512f._mm512_cmp_ps_mask::<_CMP_UNORD_Q>(a, a);
        self.avx512f._mm512_mask_mov_ps(a, nan, self.avx512f._mm512_set1_ps(f32::NAN))
    }
}

impl Lanes for F64<V4> {
    type E = f64;
    const N: usize = 8;
    const REGISTERS: usize = 32;
    type V = __m512d;
    type M = __mmask8;

    #[inline(always)]
    fn vectorize<Op: pulp::NullaryFnOnce>(self, op: Op) -> Op::Output {
        V4::vectorize(self.0, op)
    }
    #[inline(always)]
    fn mask(self, n: usize) -> __mmask8 {
        debug_assert!((1..8).contains(&n));
        mask_of(n) as __mmask8
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
    fn max_rule(self, l: __m512d, r: __m512d) -> __m512d {
        // Lanes where `r` is a number: `maxpd(r, l)` is `r > l ? r : l`; where `r` is NaN, keep `r`.
        let ord = self.0.avx512f._mm512_cmp_pd_mask::<_CMP_ORD_Q>(r, r);
        self.0.avx512f._mm512_mask_max_pd(r, ord, r, l)
    }
    #[inline(always)]
    unsafe fn load_part(self, ptr: *const f64, n: usize, fill: f64) -> __m512d {
        // SAFETY: a masked load touches only the lanes of the mask, `ptr[0..n]`, readable by the
        // caller's guarantee; masked-off lanes never fault.
        unsafe { _mm512_mask_loadu_pd(_mm512_set1_pd(fill), mask_of(n.min(8)) as __mmask8, ptr) }
    }
    /// The lanes that met a NaN.
    type Seen = __mmask8;
    #[inline(always)]
    fn seen_none(self) -> __mmask8 {
        0
    }
    #[inline(always)]
    fn see_nans(self, s: __mmask8, a: __m512d, b: __m512d) -> __mmask8 {
        // SAFETY: a register-only AVX-512 compare (unordered: where `a` or `b` is NaN), proven by
        // `self`.
        s | unsafe { _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(a, b) }
    }
    #[inline(always)]
    fn seen_any(self, s: __mmask8) -> bool {
        s != 0
    }
    #[inline(always)]
    fn max_fast(self, l: __m512d, r: __m512d) -> __m512d {
        // `maxpd(r, l)` is `r` where `r > l`, else `l` (ties keep `l`).
        self.0.avx512f._mm512_max_pd(r, l)
    }
}

impl FloatLanes for F64<V4> {
    type Float = f64;

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
    fn canonical_nan(self, a: __m512d) -> __m512d {
        let nan = self.0.avx512f._mm512_cmp_pd_mask::<_CMP_UNORD_Q>(a, a);
        self.0.avx512f._mm512_mask_mov_pd(a, nan, self.0.avx512f._mm512_set1_pd(f64::NAN))
    }
}

impl LaneIndices for V4 {
    type I = __m512i;
    type B = __mmask16;

    #[inline(always)]
    fn splat_idx(self, x: i32) -> __m512i {
        v4!(_mm512_set1_epi32(x))
    }
    #[inline(always)]
    fn iota(self) -> __m512i {
        v4!(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
    }
    #[inline(always)]
    fn idx_from(self, a: &[i32; 16]) -> __m512i {
        // SAFETY: a holds 16 elements; the level is proven by `self`.
        unsafe { _mm512_loadu_si512(a.as_ptr().cast()) }
    }
    #[inline(always)]
    fn add_idx(self, a: __m512i, b: __m512i) -> __m512i {
        v4!(_mm512_add_epi32(a, b))
    }
    #[inline(always)]
    fn lt_idx(self, a: __m512i, b: __m512i) -> __mmask16 {
        v4!(_mm512_cmplt_epi32_mask(a, b))
    }
    #[inline(always)]
    fn takes(self, v: __m512, best: __m512) -> __mmask16 {
        v4!(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, best) | _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v))
    }
    #[inline(always)]
    fn select(self, m: __mmask16, a: __m512, b: __m512) -> __m512 {
        v4!(_mm512_mask_blend_ps(m, b, a))
    }
    #[inline(always)]
    fn select_idx(self, m: __mmask16, a: __m512i, b: __m512i) -> __m512i {
        v4!(_mm512_mask_blend_epi32(m, b, a))
    }
    #[inline(always)]
    unsafe fn gather(self, base: *const f32, offs: __m512i, m: __mmask16, fill: f32) -> __m512 {
        // SAFETY: a masked gather reads only the lanes of `m`, each base + offs[l] readable by the
        // caller's contract. The level is proven by `self`.
        unsafe { _mm512_mask_i32gather_ps::<4>(_mm512_set1_ps(fill), m, offs, base) }
    }
    #[inline(always)]
    fn spill(self, v: __m512, i: __m512i, vals: &mut [f32; 16], idx: &mut [i32; 16]) {
        // SAFETY: both arrays hold 16 elements; the level is proven by `self`.
        unsafe {
            _mm512_storeu_ps(vals.as_mut_ptr(), v);
            _mm512_storeu_si512(idx.as_mut_ptr().cast(), i);
        }
    }
    #[inline(always)]
    fn store_with_indices(self, out: &mut [f32], indices: &mut [i64], v: __m512, i: __m512i, n: usize) {
        assert!(n <= 16 && n <= out.len() && n <= indices.len());
        let lo = v4!(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(i)));
        let hi = v4!(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(i)));
        let nlo = n.min(8);
        let nhi = n - nlo;
        // SAFETY: masks cover lanes < n of out and indices, in bounds (asserted); masked-off
        // lanes are not written. The level is proven by `self`.
        unsafe {
            _mm512_mask_storeu_ps(out.as_mut_ptr(), mask_of(n), v);
            _mm512_mask_storeu_epi64(indices.as_mut_ptr(), mask_of(nlo) as __mmask8, lo);
            if nhi > 0 {
                _mm512_mask_storeu_epi64(indices.as_mut_ptr().add(8), mask_of(nhi) as __mmask8, hi);
            }
        }
    }
}

/// `f64`: 64-bit index lanes beside the 8 value lanes, selected by the same 8-bit mask.
impl LaneIndices for F64<V4> {
    type I = __m512i;
    type B = __mmask8;

    #[inline(always)]
    fn splat_idx(self, x: i32) -> __m512i {
        v4!(_mm512_set1_epi64(i64::from(x)))
    }
    #[inline(always)]
    fn iota(self) -> __m512i {
        v4!(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7))
    }
    #[inline(always)]
    fn idx_from(self, a: &[i32; 16]) -> __m512i {
        // SAFETY: `a` holds at least 8 elements; the level is proven by `self`.
        unsafe { _mm512_cvtepi32_epi64(_mm256_loadu_si256(a.as_ptr().cast())) }
    }
    #[inline(always)]
    fn add_idx(self, a: __m512i, b: __m512i) -> __m512i {
        v4!(_mm512_add_epi64(a, b))
    }
    #[inline(always)]
    fn lt_idx(self, a: __m512i, b: __m512i) -> __mmask8 {
        v4!(_mm512_cmplt_epi64_mask(a, b))
    }
    #[inline(always)]
    fn takes(self, v: __m512d, best: __m512d) -> __mmask8 {
        v4!(_mm512_cmp_pd_mask::<_CMP_GT_OQ>(v, best) | _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(v, v))
    }
    #[inline(always)]
    fn select(self, m: __mmask8, a: __m512d, b: __m512d) -> __m512d {
        v4!(_mm512_mask_blend_pd(m, b, a))
    }
    #[inline(always)]
    fn select_idx(self, m: __mmask8, a: __m512i, b: __m512i) -> __m512i {
        v4!(_mm512_mask_blend_epi64(m, b, a))
    }
    #[inline(always)]
    unsafe fn gather(self, base: *const f64, offs: __m512i, m: __mmask8, fill: f64) -> __m512d {
        // SAFETY: a masked gather reads only the lanes of `m`, each `base + offs[l]` readable by
        // the caller's contract; the level is proven by `self`.
        unsafe { _mm512_mask_i64gather_pd::<8>(_mm512_set1_pd(fill), m, offs, base) }
    }
    #[inline(always)]
    fn spill(self, v: __m512d, i: __m512i, vals: &mut [f64; 16], idx: &mut [i32; 16]) {
        let mut wide = [0i64; 8];
        // SAFETY: `vals` and `wide` hold at least 8 elements; the level is proven by `self`.
        unsafe {
            _mm512_storeu_pd(vals.as_mut_ptr(), v);
            _mm512_storeu_si512(wide.as_mut_ptr().cast(), i);
        }
        // The lanes hold `i32` values (sums of the caller's `i32` indices).
        for (d, s) in idx.iter_mut().zip(wide) {
            *d = s as i32;
        }
    }
    #[inline(always)]
    fn store_with_indices(self, out: &mut [f64], indices: &mut [i64], v: __m512d, i: __m512i, n: usize) {
        assert!(n <= 8 && n <= out.len() && n <= indices.len());
        let k = mask_of(n) as __mmask8;
        // SAFETY: the mask covers lanes `< n` of `out` and `indices`, in bounds (asserted);
        // masked-off lanes are not written. The level is proven by `self`.
        unsafe {
            _mm512_mask_storeu_pd(out.as_mut_ptr(), k, v);
            _mm512_mask_storeu_epi64(indices.as_mut_ptr(), k, i);
        }
    }
}
