//! The AVX2 level's [`Lanes`]: 8 `f32` lanes on the [`V3`] token, 4 `f64` lanes on [`F64<V3>`].
//! Holding the token proves the CPU has AVX2 and FMA (x86-64-v3); every method is
//! `#[inline(always)]`, compiled inside the token's `vectorize`.

use crate::lanes::{F64, FloatLanes, LaneIndices, Lanes};
use core::arch::x86_64::*;
use pulp::x86::V3;

/// A register-only AVX/AVX2 intrinsic expression in a `V3` method.
macro_rules! v3 {
    ($e:expr) => {{
        // SAFETY: register-only AVX/AVX2 instructions, in a method of the `V3` token (the proof
        // that the CPU has them).
        unsafe { $e }
    }};
}

/// `p[0], p[2], ..., p[14]` when `ODD` is false, `p[1], ..., p[15]` when true, in the lane order
/// `(0 1 4 5 | 2 3 6 7)` of the in-lane shuffle ([`Lanes::order`] fixes it).
///
/// # Safety
/// `p[0..16]` must be readable, and AVX enabled (callers are `V3` methods).
#[inline(always)]
unsafe fn deinterleave<const ODD: bool>(p: *const f32) -> __m256 {
    // SAFETY: the caller's contract.
    unsafe {
        let (a, b) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
        // Per 128-bit half: (a0 a2 b0 b2 | a4 a6 b4 b6).
        if ODD { _mm256_shuffle_ps::<0b11_01_11_01>(a, b) } else { _mm256_shuffle_ps::<0b10_00_10_00>(a, b) }
    }
}

/// `p[4 * j + PH]`, in the lane order `(0 2 4 6 | 1 3 5 7)` of the in-lane shuffles.
///
/// # Safety
/// `p[0..32]` must be readable, and AVX enabled (callers are `V3` methods).
#[inline(always)]
unsafe fn stride4<const PH: i32>(p: *const f32) -> __m256 {
    // SAFETY: the caller's contract.
    unsafe {
        let (a, b) = (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8)));
        let (c, d) = (_mm256_loadu_ps(p.add(16)), _mm256_loadu_ps(p.add(24)));
        // (a_ph a_ph b_ph b_ph | a_ph+4 ..), then (a_ph b_ph c_ph d_ph | a_ph+4 .. d_ph+4).
        let t0 = _mm256_shuffle_ps::<PH>(a, b);
        let t1 = _mm256_shuffle_ps::<PH>(c, d);
        _mm256_shuffle_ps::<0b10_00_10_00>(t0, t1)
    }
}

/// All-ones in the 32-bit lanes `l < n` (`n <= 8`).
#[inline(always)]
fn first_lanes(simd: V3, n: usize) -> __m256i {
    let iota = simd.avx._mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    simd.avx2._mm256_cmpgt_epi32(simd.avx._mm256_set1_epi32(n as i32), iota)
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
        first_lanes(self, n)
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
    fn max_rule(self, l: __m256, r: __m256) -> __m256 {
        // `maxps(r, l)` is `r > l ? r : l`; then take `r` wherever it is NaN.
        let m = self.avx._mm256_max_ps(r, l);
        let nan = self.avx._mm256_cmp_ps::<_CMP_UNORD_Q>(r, r);
        self.avx._mm256_blendv_ps(m, r, nan)
    }

    #[inline(always)]
    unsafe fn store_first(self, ptr: *mut f32, n: usize, v: __m256) {
        // Stores of 4, 2 and 1 lanes by the bits of `n` (`vmaskmovps` stores are slow on AMD).
        // SAFETY: the pieces write `ptr[0..n]` exactly (4, 2, 1 floats at increasing offsets, by
        // the bits of `n < 8`), which the caller guarantees writable; AVX is proven by `self`.
        unsafe {
            let (mut lo, hi) = (_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let mut q = ptr;
            if n & 4 != 0 {
                _mm_storeu_ps(q, lo);
                lo = hi;
                q = q.add(4);
            }
            if n & 2 != 0 {
                _mm_storel_epi64(q.cast(), _mm_castps_si128(lo));
                lo = _mm_movehl_ps(lo, lo);
                q = q.add(2);
            }
            if n & 1 != 0 {
                _mm_store_ss(q, lo);
            }
        }
    }
    #[inline(always)]
    unsafe fn load_even(self, ptr: *const f32) -> __m256 {
        // SAFETY: forwarded contract (`ptr[0..16]` readable).
        unsafe { deinterleave::<false>(ptr) }
    }
    #[inline(always)]
    unsafe fn load_odd(self, ptr: *const f32) -> __m256 {
        // SAFETY: forwarded contract (`ptr[0..16]` readable).
        unsafe { deinterleave::<true>(ptr) }
    }
    #[inline(always)]
    unsafe fn load_stride4(self, ptr: *const f32, phase: usize) -> __m256 {
        // SAFETY: forwarded contract (`ptr[0..32]` readable); the immediates repeat the phase in
        // all four selector fields.
        unsafe {
            match phase {
                0 => stride4::<0x00>(ptr),
                1 => stride4::<0x55>(ptr),
                2 => stride4::<0xaa>(ptr),
                _ => stride4::<0xff>(ptr),
            }
        }
    }
    #[inline(always)]
    fn order<const ST: usize>(self, v: __m256) -> __m256 {
        match ST {
            // Swap the middle 64-bit pairs: (0 1 4 5 | 2 3 6 7) -> (0 1 2 3 | 4 5 6 7).
            2 => self
                .avx
                ._mm256_castpd_ps(self.avx2._mm256_permute4x64_pd::<0b11_01_10_00>(self.avx._mm256_castps_pd(v))),
            4 => self.avx2._mm256_permutevar8x32_ps(v, self.avx._mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)),
            _ => v,
        }
    }
    #[inline(always)]
    fn max_fast(self, l: __m256, r: __m256) -> __m256 {
        // `maxps(r, l)` is `r` where `r > l`, else `l` (ties keep `l`).
        self.avx._mm256_max_ps(r, l)
    }
    #[inline(always)]
    unsafe fn transpose8(self, src: *const f32, ss: usize, dst: *mut f32, ds: usize) {
        // SAFETY: the caller guarantees the eight source rows and eight destination rows of 8
        // floats; AVX is proven by `self`.
        unsafe {
            let r = |i: usize| _mm256_loadu_ps(src.add(i * ss));
            let (a0, a1, a2, a3) = (r(0), r(1), r(2), r(3));
            let (a4, a5, a6, a7) = (r(4), r(5), r(6), r(7));
            // Pairs of rows interleaved, then quadruples, per 128-bit half; then the halves swap.
            let (t0, t1) = (_mm256_unpacklo_ps(a0, a1), _mm256_unpackhi_ps(a0, a1));
            let (t2, t3) = (_mm256_unpacklo_ps(a2, a3), _mm256_unpackhi_ps(a2, a3));
            let (t4, t5) = (_mm256_unpacklo_ps(a4, a5), _mm256_unpackhi_ps(a4, a5));
            let (t6, t7) = (_mm256_unpacklo_ps(a6, a7), _mm256_unpackhi_ps(a6, a7));
            let (u0, u1) = (_mm256_shuffle_ps::<0x44>(t0, t2), _mm256_shuffle_ps::<0xee>(t0, t2));
            let (u2, u3) = (_mm256_shuffle_ps::<0x44>(t1, t3), _mm256_shuffle_ps::<0xee>(t1, t3));
            let (u4, u5) = (_mm256_shuffle_ps::<0x44>(t4, t6), _mm256_shuffle_ps::<0xee>(t4, t6));
            let (u6, u7) = (_mm256_shuffle_ps::<0x44>(t5, t7), _mm256_shuffle_ps::<0xee>(t5, t7));
            let w = |i: usize, v: __m256| _mm256_storeu_ps(dst.add(i * ds), v);
            w(0, _mm256_permute2f128_ps::<0x20>(u0, u4));
            w(1, _mm256_permute2f128_ps::<0x20>(u1, u5));
            w(2, _mm256_permute2f128_ps::<0x20>(u2, u6));
            w(3, _mm256_permute2f128_ps::<0x20>(u3, u7));
            w(4, _mm256_permute2f128_ps::<0x31>(u0, u4));
            w(5, _mm256_permute2f128_ps::<0x31>(u1, u5));
            w(6, _mm256_permute2f128_ps::<0x31>(u2, u6));
            w(7, _mm256_permute2f128_ps::<0x31>(u3, u7));
        }
    }
    #[inline(always)]
    unsafe fn load_part(self, ptr: *const f32, n: usize, fill: f32) -> __m256 {
        let m = first_lanes(self, n.min(8));
        // SAFETY: `vmaskmovps` reads only the lanes of the mask, `ptr[0..n]`, readable by the
        // caller's guarantee; masked-off lanes never fault.
        let x = unsafe { self.avx._mm256_maskload_ps(ptr, m) };
        if fill.to_bits() == 0 {
            // `vmaskmovps` already zeroes the masked-off lanes.
            x
        } else {
            self.avx._mm256_blendv_ps(self.avx._mm256_set1_ps(fill), x, self.avx._mm256_castsi256_ps(m))
        }
    }
    /// All-ones (a NaN) in every lane that met a NaN.
    type Seen = __m256;
    #[inline(always)]
    fn seen_none(self) -> __m256 {
        self.avx._mm256_setzero_ps()
    }
    #[inline(always)]
    fn see_nans(self, s: __m256, a: __m256, b: __m256) -> __m256 {
        // SAFETY: a register-only AVX compare (unordered: all-ones where `a` or `b` is NaN),
        // proven by `self`.
        self.avx._mm256_or_ps(s, unsafe { _mm256_cmp_ps::<_CMP_UNORD_Q>(a, b) })
    }
    #[inline(always)]
    fn seen_any(self, s: __m256) -> bool {
        self.avx._mm256_movemask_ps(s) != 0
    }
    #[inline(always)]
    fn tree_columns(self, vs: &[__m256], op: impl Fn(Self, __m256, __m256) -> __m256) -> __m256 {
        assert!(vs.len() == 8);
        // h = 4: 128-bit halves; two columns per register afterwards.
        let mut a = [self.zero(); 4];
        for (i, ai) in a.iter_mut().enumerate() {
            let (p, q) = (vs[2 * i], vs[2 * i + 1]);
            let (lo, hi) = v3!((_mm256_permute2f128_ps::<0x20>(p, q), _mm256_permute2f128_ps::<0x31>(p, q)));
            *ai = op(self, lo, hi);
        }
        // h = 2 inside each 128-bit half: lanes 0,1 against 2,3.
        let mut b = [self.zero(); 2];
        for (i, bi) in b.iter_mut().enumerate() {
            let (p, q) = (a[2 * i], a[2 * i + 1]);
            let (lo, hi) = v3!((_mm256_shuffle_ps::<0x44>(p, q), _mm256_shuffle_ps::<0xEE>(p, q)));
            *bi = op(self, lo, hi);
        }
        // h = 1: even lanes against odd lanes. Lanes now hold columns 0,2,4,6,1,3,5,7.
        let (lo, hi) = v3!((_mm256_shuffle_ps::<0x88>(b[0], b[1]), _mm256_shuffle_ps::<0xDD>(b[0], b[1])));
        let d = op(self, lo, hi);
        self.avx2._mm256_permutevar8x32_ps(d, self.avx._mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7))
    }
}

impl FloatLanes for V3 {
    type Float = f32;

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
    fn canonical_nan(self, a: __m256) -> __m256 {
        let nan = self.avx._mm256_cmp_ps::<_CMP_UNORD_Q>(a, a);
        self.avx._mm256_blendv_ps(a, self.avx._mm256_set1_ps(f32::NAN), nan)
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
    fn max_rule(self, l: __m256d, r: __m256d) -> __m256d {
        // `maxpd(r, l)` is `r > l ? r : l`; then take `r` wherever it is NaN.
        let m = self.0.avx._mm256_max_pd(r, l);
        let nan = self.0.avx._mm256_cmp_pd::<_CMP_UNORD_Q>(r, r);
        self.0.avx._mm256_blendv_pd(m, r, nan)
    }
    #[inline(always)]
    unsafe fn load_part(self, ptr: *const f64, n: usize, fill: f64) -> __m256d {
        let (avx, avx2) = (self.0.avx, self.0.avx2);
        let iota = avx._mm256_setr_epi64x(0, 1, 2, 3);
        let m = avx2._mm256_cmpgt_epi64(avx._mm256_set1_epi64x(n.min(4) as i64), iota);
        // SAFETY: `vmaskmovpd` reads only the lanes of the mask, `ptr[0..n]`, readable by the
        // caller's guarantee; masked-off lanes never fault.
        let x = unsafe { avx._mm256_maskload_pd(ptr, m) };
        avx._mm256_blendv_pd(avx._mm256_set1_pd(fill), x, avx._mm256_castsi256_pd(m))
    }
    /// All-ones (a NaN) in every lane that met a NaN.
    type Seen = __m256d;
    #[inline(always)]
    fn seen_none(self) -> __m256d {
        self.0.avx._mm256_setzero_pd()
    }
    #[inline(always)]
    fn see_nans(self, s: __m256d, a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: a register-only AVX compare (unordered: all-ones where `a` or `b` is NaN),
        // proven by `self`.
        self.0.avx._mm256_or_pd(s, unsafe { _mm256_cmp_pd::<_CMP_UNORD_Q>(a, b) })
    }
    #[inline(always)]
    fn seen_any(self, s: __m256d) -> bool {
        self.0.avx._mm256_movemask_pd(s) != 0
    }
    #[inline(always)]
    fn max_fast(self, l: __m256d, r: __m256d) -> __m256d {
        // `maxpd(r, l)` is `r` where `r > l`, else `l` (ties keep `l`).
        self.0.avx._mm256_max_pd(r, l)
    }
    #[inline(always)]
    unsafe fn load_even(self, ptr: *const f64) -> __m256d {
        // SAFETY: forwarded contract (`ptr[0..8]` readable): two loads of four.
        let (a, b) = unsafe { (self.0.avx._mm256_loadu_pd(ptr), self.0.avx._mm256_loadu_pd(ptr.add(4))) };
        // (x0 x4 | x2 x6), per 128-bit half: `order::<2>` restores natural order.
        self.0.avx._mm256_unpacklo_pd(a, b)
    }
    #[inline(always)]
    unsafe fn load_odd(self, ptr: *const f64) -> __m256d {
        // SAFETY: forwarded contract (`ptr[0..8]` readable): two loads of four.
        let (a, b) = unsafe { (self.0.avx._mm256_loadu_pd(ptr), self.0.avx._mm256_loadu_pd(ptr.add(4))) };
        // (x1 x5 | x3 x7), the order of `load_even`.
        self.0.avx._mm256_unpackhi_pd(a, b)
    }
    #[inline(always)]
    unsafe fn load_stride4(self, ptr: *const f64, phase: usize) -> __m256d {
        debug_assert!(phase < 4);
        let avx = self.0.avx;
        // SAFETY: forwarded contract (`ptr[0..16]` readable): four loads of four.
        // (Plain loads, not `map` with a closure: a closure is not `inline(always)`, and compiled
        // outside the kernel it loses the token's target features.)
        let (a, b, c, d) = unsafe {
            (
                avx._mm256_loadu_pd(ptr),
                avx._mm256_loadu_pd(ptr.add(4)),
                avx._mm256_loadu_pd(ptr.add(8)),
                avx._mm256_loadu_pd(ptr.add(12)),
            )
        };
        // Row `phase` of the 4x4 transpose of (a b c d), in natural order: the unpacks pair the
        // even (odd) lanes of each 128-bit half, the lane permute joins the halves.
        let (ab, cd) = if phase & 1 == 0 {
            (avx._mm256_unpacklo_pd(a, b), avx._mm256_unpacklo_pd(c, d))
        } else {
            (avx._mm256_unpackhi_pd(a, b), avx._mm256_unpackhi_pd(c, d))
        };
        if phase < 2 { avx._mm256_permute2f128_pd::<0x20>(ab, cd) } else { avx._mm256_permute2f128_pd::<0x31>(ab, cd) }
    }
    #[inline(always)]
    unsafe fn transpose8(self, src: *const f64, ss: usize, dst: *mut f64, ds: usize) {
        let avx = self.0.avx;
        // Four 4x4 blocks: rows `r0..r0 + 4`, columns `c0..c0 + 4` of the source go to rows
        // `c0..c0 + 4`, columns `r0..r0 + 4` of the destination.
        for (r0, c0) in [(0, 0), (0, 4), (4, 0), (4, 4)] {
            // SAFETY: rows `r0 + r < 8`, columns `c0..c0 + 4 <= 8` of the source block, readable
            // by the caller's guarantee.
            let (x0, x1, x2, x3) = unsafe {
                (
                    avx._mm256_loadu_pd(src.add(r0 * ss + c0)),
                    avx._mm256_loadu_pd(src.add((r0 + 1) * ss + c0)),
                    avx._mm256_loadu_pd(src.add((r0 + 2) * ss + c0)),
                    avx._mm256_loadu_pd(src.add((r0 + 3) * ss + c0)),
                )
            };
            let (t0, t1) = (avx._mm256_unpacklo_pd(x0, x1), avx._mm256_unpackhi_pd(x0, x1));
            let (t2, t3) = (avx._mm256_unpacklo_pd(x2, x3), avx._mm256_unpackhi_pd(x2, x3));
            let cols = [
                avx._mm256_permute2f128_pd::<0x20>(t0, t2),
                avx._mm256_permute2f128_pd::<0x20>(t1, t3),
                avx._mm256_permute2f128_pd::<0x31>(t0, t2),
                avx._mm256_permute2f128_pd::<0x31>(t1, t3),
            ];
            for (c, v) in cols.into_iter().enumerate() {
                // SAFETY: destination row `c0 + c < 8`, columns `r0..r0 + 4 <= 8`, writable by
                // the caller's guarantee (and disjoint from the source).
                unsafe { avx._mm256_storeu_pd(dst.add((c0 + c) * ds + r0), v) };
            }
        }
    }
    #[inline(always)]
    fn order<const ST: usize>(self, v: __m256d) -> __m256d {
        match ST {
            // Lanes (0 2 1 3) of the stride-2 loads: (x0 x4 x2 x6) -> (x0 x2 x4 x6).
            2 => self.0.avx2._mm256_permute4x64_pd::<0b11_01_10_00>(v),
            _ => v,
        }
    }
}

impl FloatLanes for F64<V3> {
    type Float = f64;

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
    fn canonical_nan(self, a: __m256d) -> __m256d {
        let nan = self.0.avx._mm256_cmp_pd::<_CMP_UNORD_Q>(a, a);
        self.0.avx._mm256_blendv_pd(a, self.0.avx._mm256_set1_pd(f64::NAN), nan)
    }
}

impl LaneIndices for V3 {
    type I = __m256i;
    type B = __m256i;

    #[inline(always)]
    fn splat_idx(self, x: i32) -> __m256i {
        v3!(_mm256_set1_epi32(x))
    }
    #[inline(always)]
    fn iota(self) -> __m256i {
        v3!(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
    }
    #[inline(always)]
    fn idx_from(self, a: &[i32; 16]) -> __m256i {
        // SAFETY: a holds at least 8 elements; the level is proven by `self`.
        unsafe { _mm256_loadu_si256(a.as_ptr().cast()) }
    }
    #[inline(always)]
    fn add_idx(self, a: __m256i, b: __m256i) -> __m256i {
        v3!(_mm256_add_epi32(a, b))
    }
    #[inline(always)]
    fn lt_idx(self, a: __m256i, b: __m256i) -> __m256i {
        v3!(_mm256_cmpgt_epi32(b, a))
    }
    #[inline(always)]
    fn takes(self, v: __m256, best: __m256) -> __m256i {
        v3!(_mm256_castps_si256(_mm256_or_ps(
            _mm256_cmp_ps::<_CMP_GT_OQ>(v, best),
            _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v)
        )))
    }
    #[inline(always)]
    fn select(self, m: __m256i, a: __m256, b: __m256) -> __m256 {
        v3!(_mm256_blendv_ps(b, a, _mm256_castsi256_ps(m)))
    }
    #[inline(always)]
    fn select_idx(self, m: __m256i, a: __m256i, b: __m256i) -> __m256i {
        v3!(_mm256_blendv_epi8(b, a, m))
    }
    #[inline(always)]
    unsafe fn gather(self, base: *const f32, offs: __m256i, m: __m256i, fill: f32) -> __m256 {
        // SAFETY: a masked gather reads only the lanes of `m`, each base + offs[l] readable by the
        // caller's contract. The level is proven by `self`.
        unsafe { _mm256_mask_i32gather_ps::<4>(_mm256_set1_ps(fill), base, offs, _mm256_castsi256_ps(m)) }
    }
    #[inline(always)]
    fn spill(self, v: __m256, i: __m256i, vals: &mut [f32; 16], idx: &mut [i32; 16]) {
        // SAFETY: both arrays hold at least 8 elements; the level is proven by `self`.
        unsafe {
            _mm256_storeu_ps(vals.as_mut_ptr(), v);
            _mm256_storeu_si256(idx.as_mut_ptr().cast(), i);
        }
    }
    #[inline(always)]
    fn store_with_indices(self, out: &mut [f32], indices: &mut [i64], v: __m256, i: __m256i, n: usize) {
        assert!(n <= 8 && n <= out.len() && n <= indices.len());
        if n == 8 {
            let lo = v3!(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(i)));
            let hi = v3!(_mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(i)));
            // SAFETY: out and indices hold at least 8 elements (asserted); the level is proven by `self`.
            unsafe {
                _mm256_storeu_ps(out.as_mut_ptr(), v);
                _mm256_storeu_si256(indices.as_mut_ptr().cast(), lo);
                _mm256_storeu_si256(indices.as_mut_ptr().add(4).cast(), hi);
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

/// `f64`: 64-bit index lanes beside the 4 value lanes, so a compare mask selects both.
impl LaneIndices for F64<V3> {
    type I = __m256i;
    type B = __m256i;

    #[inline(always)]
    fn splat_idx(self, x: i32) -> __m256i {
        v3!(_mm256_set1_epi64x(i64::from(x)))
    }
    #[inline(always)]
    fn iota(self) -> __m256i {
        v3!(_mm256_setr_epi64x(0, 1, 2, 3))
    }
    #[inline(always)]
    fn idx_from(self, a: &[i32; 16]) -> __m256i {
        // SAFETY: `a` holds at least 4 elements; the level is proven by `self`.
        unsafe { _mm256_cvtepi32_epi64(_mm_loadu_si128(a.as_ptr().cast())) }
    }
    #[inline(always)]
    fn add_idx(self, a: __m256i, b: __m256i) -> __m256i {
        v3!(_mm256_add_epi64(a, b))
    }
    #[inline(always)]
    fn lt_idx(self, a: __m256i, b: __m256i) -> __m256i {
        v3!(_mm256_cmpgt_epi64(b, a))
    }
    #[inline(always)]
    fn takes(self, v: __m256d, best: __m256d) -> __m256i {
        v3!(_mm256_castpd_si256(_mm256_or_pd(
            _mm256_cmp_pd::<_CMP_GT_OQ>(v, best),
            _mm256_cmp_pd::<_CMP_UNORD_Q>(v, v)
        )))
    }
    #[inline(always)]
    fn select(self, m: __m256i, a: __m256d, b: __m256d) -> __m256d {
        v3!(_mm256_blendv_pd(b, a, _mm256_castsi256_pd(m)))
    }
    #[inline(always)]
    fn select_idx(self, m: __m256i, a: __m256i, b: __m256i) -> __m256i {
        v3!(_mm256_blendv_epi8(b, a, m))
    }
    #[inline(always)]
    unsafe fn gather(self, base: *const f64, offs: __m256i, m: __m256i, fill: f64) -> __m256d {
        // SAFETY: a masked gather reads only the lanes of `m`, each `base + offs[l]` readable by
        // the caller's contract; the level is proven by `self`.
        unsafe { _mm256_mask_i64gather_pd::<8>(_mm256_set1_pd(fill), base, offs, _mm256_castsi256_pd(m)) }
    }
    #[inline(always)]
    fn spill(self, v: __m256d, i: __m256i, vals: &mut [f64; 16], idx: &mut [i32; 16]) {
        let mut wide = [0i64; 4];
        // SAFETY: `vals` and `wide` hold at least 4 elements; the level is proven by `self`.
        unsafe {
            _mm256_storeu_pd(vals.as_mut_ptr(), v);
            _mm256_storeu_si256(wide.as_mut_ptr().cast(), i);
        }
        // The lanes hold `i32` values (sums of the caller's `i32` indices).
        for (d, s) in idx.iter_mut().zip(wide) {
            *d = s as i32;
        }
    }
    #[inline(always)]
    fn store_with_indices(self, out: &mut [f64], indices: &mut [i64], v: __m256d, i: __m256i, n: usize) {
        assert!(n <= 4 && n <= out.len() && n <= indices.len());
        if n == 4 {
            // SAFETY: `out` and `indices` hold at least 4 elements (asserted); the level is
            // proven by `self`.
            unsafe {
                _mm256_storeu_pd(out.as_mut_ptr(), v);
                _mm256_storeu_si256(indices.as_mut_ptr().cast(), i);
            }
        } else {
            let (mut vals, mut idx) = ([0.0f64; 4], [0i64; 4]);
            // SAFETY: both arrays hold 4 elements; the level is proven by `self`.
            unsafe {
                _mm256_storeu_pd(vals.as_mut_ptr(), v);
                _mm256_storeu_si256(idx.as_mut_ptr().cast(), i);
            }
            out[..n].copy_from_slice(&vals[..n]);
            indices[..n].copy_from_slice(&idx[..n]);
        }
    }
}
