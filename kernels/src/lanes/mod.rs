//! Lane-wise vector operations, written once per ISA and element type, that every kernel family
//! is generic over (the channels-first nests of `separable`, and here the channels-last,
//! transposed, global and argmax families).
//!
//! [`Lanes`] is a deliberately small trait: exactly the operations the families need of any
//! element (loads, stores and tails, the max scan rule with NaN, deinterleaves, transposes), each
//! with the bit-exact semantics of the portable kernel's scalar operation. [`FloatLanes`] adds the
//! float arithmetic of the sums and their finishes (same operand order for `+`, no fused
//! multiply-add, correctly rounded division and square root); [`LaneIndices`] adds the index
//! lanes, compare masks and gathers of the argmax family. For `f32` they are implemented on the
//! `pulp` tokens [`pulp::x86::V3`] (AVX2), [`pulp::x86::V4`] (AVX-512) and `pulp::aarch64::Neon`
//! themselves, for `f64` on [`F64`] around the same tokens, and [`Lanes`] alone for `u8` and `i8`
//! on [`U8`] and [`I8`] and for `f16` and `bf16` on [`F16`] and [`Bf16`] (max only); holding a token proves the CPU has the features, and every method is
//! `#[inline(always)]` so the code is compiled inside the token's `vectorize` call, where the
//! features are enabled.

pub(crate) mod argmax;
pub(crate) mod global;
pub(crate) mod halves;
pub(crate) mod nhwc;
pub(crate) mod reduction;
pub(crate) mod rows;
pub(crate) mod transposed;

/// The element types of [`Lanes`]: what every lane-wise family needs of an element besides
/// vector operations (the max families need nothing more; the sums need [`FloatElem`]).
pub(crate) trait LaneElem: crate::Scalar + PartialEq {
    /// Zero (`+0.0` for floats).
    const ZERO: Self;
}

macro_rules! lane_elem {
    ($($t:ty = $zero:expr),*) => {$(
        impl LaneElem for $t {
            const ZERO: $t = $zero;
        }
    )*};
}
lane_elem!(f32 = 0.0, f64 = 0.0, u8 = 0, i8 = 0, half::f16 = half::f16::ZERO, half::bf16 = half::bf16::ZERO);

/// The float element types of [`FloatLanes`]: what the sums, finishes and transposed indices need
/// of a float, with the portable kernel's conversions (so the same bits).
pub(crate) trait FloatElem:
    LaneElem
    + crate::Scalar<Sum = Self>
    + core::ops::Add<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Div<Output = Self>
{
    /// `1.0`.
    const ONE: Self;
    /// `|x|`: the sign bit cleared, NaN payloads kept (the portable kernel's `p = 1` term).
    fn abs(self) -> Self;
    /// Whether the value is neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// An integer divisor converted as the portable kernel converts it (`d as f32` / `as f64`).
    fn from_i64(d: i64) -> Self;
    /// A value whose low 32 bits are `i` (a bit pattern carried through a transpose).
    fn from_index_bits(i: u32) -> Self;
    /// The low 32 bits of the value's bit pattern ([`FloatElem::from_index_bits`] inverted).
    fn index_bits(self) -> u32;
    /// An Lp exponent converted as the portable kernel converts it.
    fn from_f64(x: f64) -> Self;
    /// The Lp root's exponent `1 / p` as the portable kernel computes it.
    fn lp_root_exponent(p: f64) -> Self;
    /// `libm`'s `pow` of this type (`powf` for `f32`): the portable kernel's general-Lp calls.
    fn pow(x: Self, y: Self) -> Self;
    /// Whether `d` is a normal power of two (its reciprocal is then exact).
    fn is_pow2(d: Self) -> bool;
}

impl FloatElem for f32 {
    const ONE: f32 = 1.0;
    #[inline(always)]
    fn abs(self) -> f32 {
        f32::from_bits(self.to_bits() & 0x7fff_ffff)
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }
    #[inline(always)]
    fn from_i64(d: i64) -> f32 {
        d as f32
    }
    #[inline(always)]
    fn from_index_bits(i: u32) -> f32 {
        f32::from_bits(i)
    }
    #[inline(always)]
    fn index_bits(self) -> u32 {
        self.to_bits()
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

impl FloatElem for f64 {
    const ONE: f64 = 1.0;
    #[inline(always)]
    fn abs(self) -> f64 {
        f64::from_bits(self.to_bits() & 0x7fff_ffff_ffff_ffff)
    }
    #[inline(always)]
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
    #[inline(always)]
    fn from_i64(d: i64) -> f64 {
        d as f64
    }
    #[inline(always)]
    fn from_index_bits(i: u32) -> f64 {
        f64::from_bits(u64::from(i))
    }
    #[inline(always)]
    fn index_bits(self) -> u32 {
        self.to_bits() as u32
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
/// A token's `u8` lanes: `U8(token)` implements [`Lanes`] with `E = u8` (no [`FloatLanes`]:
/// the byte types run max in lanes; their sums widen, which these lanes do not).
#[derive(Clone, Copy)]
pub(crate) struct U8<S>(pub(crate) S);
/// A token's `i8` lanes, as [`U8`] with `E = i8`.
#[derive(Clone, Copy)]
pub(crate) struct I8<S>(pub(crate) S);

/// A token's `f16` lanes for max: `F16(token)` implements [`Lanes`] with `E = f16`, holding each
/// element as an `f32` lane in the order map of [`halves`].
#[derive(Clone, Copy)]
pub(crate) struct F16<S>(pub(crate) S);
/// A token's `bf16` lanes for max, as [`F16`] with `E = bf16`.
#[derive(Clone, Copy)]
pub(crate) struct Bf16<S>(pub(crate) S);

impl<S: Copy> rows::RowsMax for U8<S>
where
    U8<S>: Lanes<E = u8>,
{
    const ORDER_FREE: bool = true;
}
impl<S: Copy> rows::RowsMax for I8<S>
where
    I8<S>: Lanes<E = i8>,
{
    const ORDER_FREE: bool = true;
}
impl<S: Copy> rows::RowsMax for F16<S>
where
    F16<S>: Lanes<E = half::f16>,
{
    const ORDER_FREE: bool = false;
}
impl<S: Copy> rows::RowsMax for Bf16<S>
where
    Bf16<S>: Lanes<E = half::bf16>,
{
    const ORDER_FREE: bool = false;
}

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

    /// Vector registers of the ISA (16 on AVX2, 32 on AVX-512 and NEON): how many accumulators a
    /// family may keep live.
    const REGISTERS: usize = 16;

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

    /// All lanes zero (`+0.0` for floats).
    fn zero(self) -> Self::V;
    /// All lanes `x`.
    fn splat(self, x: Self::E) -> Self::V;
    /// The max scan rule per lane: `if r > l || r.is_nan() { r } else { l }`.
    fn max_rule(self, l: Self::V, r: Self::V) -> Self::V;

    /// `if r > l { r } else { l }` per lane: equal to [`Lanes::max_rule`] wherever `r` is not
    /// NaN, for loops that have checked their input holds none. Defaults to `max_rule`.
    #[inline(always)]
    fn max_fast(self, l: Self::V, r: Self::V) -> Self::V {
        self.max_rule(l, r)
    }

    /// Stores the first `n < N` lanes to `ptr[0..n]` and writes no other memory (a row tail of
    /// any length, `0` included, without building a mask).
    ///
    /// # Safety
    /// `ptr .. ptr + n` must be writable elements.
    #[inline(always)]
    unsafe fn store_first(self, ptr: *mut Self::E, n: usize, v: Self::V) {
        const { assert!(Self::N <= MAX_LANES) };
        let mut buf = [Self::E::ZERO; MAX_LANES];
        debug_assert!(n < Self::N);
        // SAFETY: `buf` holds `MAX_LANES >= N` elements; the caller guarantees `ptr[0..n]`, and
        // `n < N` elements of `buf` are read.
        unsafe {
            self.store(buf.as_mut_ptr(), v);
            core::ptr::copy_nonoverlapping(buf.as_ptr(), ptr, n);
        }
    }

    // The deinterleaving loads of the channels-first nests. Their lane order may be the ISA's own
    // (the same for every pointer and phase), so that a fold of such vectors fixes it once with
    // [`Lanes::order`] instead of once per tap. The defaults read element by element in natural
    // order; the `f32` implementations override them with the ISA's shuffles.

    /// The elements `ptr[2 * j]`, `j < N`, in the lane order of this ISA's stride-2 deinterleave.
    ///
    /// # Safety
    /// `ptr .. ptr + 2 * N` must be readable elements.
    #[inline(always)]
    unsafe fn load_even(self, ptr: *const Self::E) -> Self::V {
        // SAFETY: forwarded contract (elements `2 * j < 2 * N`).
        unsafe { load_strided(self, ptr, 2, 0) }
    }
    /// The elements `ptr[2 * j + 1]`, in the order of [`Lanes::load_even`].
    ///
    /// # Safety
    /// `ptr .. ptr + 2 * N` must be readable elements.
    #[inline(always)]
    unsafe fn load_odd(self, ptr: *const Self::E) -> Self::V {
        // SAFETY: forwarded contract (elements `2 * j + 1 < 2 * N`).
        unsafe { load_strided(self, ptr, 2, 1) }
    }
    /// The elements `ptr[4 * j + phase]` (`phase < 4`), in the lane order of this ISA's stride-4
    /// deinterleave (the same for every pointer and phase).
    ///
    /// # Safety
    /// `ptr .. ptr + 4 * N` must be readable elements.
    #[inline(always)]
    unsafe fn load_stride4(self, ptr: *const Self::E, phase: usize) -> Self::V {
        debug_assert!(phase < 4);
        // SAFETY: forwarded contract (elements `4 * j + phase < 4 * N`).
        unsafe { load_strided(self, ptr, 4, phase) }
    }
    /// Puts a vector in the deinterleave order of stride `ST` (1, 2 or 4) into natural order:
    /// lane `j` then holds element `j`. Identity where the loads give natural order.
    #[inline(always)]
    fn order<const ST: usize>(self, v: Self::V) -> Self::V {
        v
    }

    /// Writes `dst[c * ds + r] = src[r * ss + c]` for `r, c < 8`: one 8x8 block of a matrix
    /// transpose (the transposed route). The default moves element by element.
    ///
    /// # Safety
    /// `src[r * ss .. r * ss + 8]` must be readable and `dst[c * ds .. c * ds + 8]` writable for
    /// every `r, c < 8`, and the two ranges must not overlap.
    #[inline(always)]
    unsafe fn transpose8(self, src: *const Self::E, ss: usize, dst: *mut Self::E, ds: usize) {
        for r in 0..8 {
            for c in 0..8 {
                // SAFETY: the caller guarantees both 8x8 ranges (r, c < 8).
                unsafe { *dst.add(c * ds + r) = *src.add(r * ss + c) };
            }
        }
    }

    // The global family's operations: partial loads with a fill value, the NaN bookkeeping of a
    // fast max, and the halving tree across lanes.

    /// Loads the first `n <= N` lanes from `ptr[0..n]`; the other lanes are `fill`. Reads no other
    /// memory (nothing at all when `n == 0`). The default goes through a stack vector.
    ///
    /// # Safety
    /// `ptr .. ptr + n` must be readable elements.
    #[inline(always)]
    unsafe fn load_part(self, ptr: *const Self::E, n: usize, fill: Self::E) -> Self::V {
        const { assert!(Self::N <= MAX_LANES) };
        debug_assert!(n <= Self::N);
        let mut buf = [fill; MAX_LANES];
        // SAFETY: the caller guarantees `ptr[0..n]`; `buf` holds `MAX_LANES >= N >= n` elements.
        unsafe {
            core::ptr::copy_nonoverlapping(ptr, buf.as_mut_ptr(), n);
            self.load(buf.as_ptr())
        }
    }

    /// What a fast max (one that assumed NaN-free data) remembers of the NaNs it met.
    type Seen: Copy;
    /// No NaN seen yet.
    fn seen_none(self) -> Self::Seen;
    /// `s` updated with the lanes of `a` and `b`: afterwards [`Lanes::seen_any`] is true if any
    /// lane of any vector seen so far is NaN, and false otherwise.
    fn see_nans(self, s: Self::Seen, a: Self::V, b: Self::V) -> Self::Seen;
    /// Whether a NaN was seen.
    fn seen_any(self, s: Self::Seen) -> bool;

    /// `N` vectors (one per column) reduced lane-wise by the halving tree: lane `k` of the result
    /// is `vs[k]` folded by `lane[j] = op(lane[j], lane[j + h])` for `h = N/2, ..., 1`, so its
    /// lane 0. `vs.len() == N`. The default folds one column at a time through a stack vector;
    /// the `f32` implementations override it with a transpose-and-fold network.
    #[inline(always)]
    fn tree_columns(self, vs: &[Self::V], op: impl Fn(Self, Self::V, Self::V) -> Self::V) -> Self::V {
        const { assert!(Self::N <= MAX_LANES) };
        assert!(vs.len() == Self::N);
        // A column with room to read `h` lanes past its `N` (stale lanes, which only reach lanes
        // `j >= h` of a step's result, never read again).
        let mut col = [Self::E::ZERO; 2 * MAX_LANES];
        let mut firsts = [Self::E::ZERO; MAX_LANES];
        for (f, v) in firsts.iter_mut().zip(vs) {
            let mut x = *v;
            let mut h = Self::N / 2;
            while h > 0 {
                // SAFETY: `col` holds `2 * MAX_LANES >= h + N` elements.
                unsafe {
                    self.store(col.as_mut_ptr(), x);
                    x = op(self, x, self.load(col.as_ptr().add(h)));
                }
                h /= 2;
            }
            // SAFETY: as above.
            unsafe { self.store(col.as_mut_ptr(), x) };
            *f = col[0];
        }
        // SAFETY: `firsts` holds `MAX_LANES >= N` elements.
        unsafe { self.load(firsts.as_ptr()) }
    }
}

/// The arithmetic of float lanes: what the sums and their finishes need besides [`Lanes`], each
/// with the bit-exact semantics of the portable kernel's scalar operation.
pub(crate) trait FloatLanes: Lanes<E = <Self as FloatLanes>::Float> {
    /// The element type, a float.
    type Float: FloatElem;

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
    /// Replaces every NaN lane by the type's canonical quiet NaN (`f32::NAN`, `f64::NAN`), other
    /// lanes unchanged.
    fn canonical_nan(self, a: Self::V) -> Self::V;
}

/// Index lanes beside the value lanes, and per-lane comparison masks: what the argmax family
/// needs besides [`Lanes`]. `I` holds one signed index (at least 32 bits) per value lane, `B` one
/// boolean per lane.
pub(crate) trait LaneIndices: Lanes {
    /// Index lanes, one per value lane.
    type I: Copy;
    /// A per-lane boolean from a comparison.
    type B: Copy;

    /// Every lane `x`.
    fn splat_idx(self, x: i32) -> Self::I;
    /// Lane `l` is `l`.
    fn iota(self) -> Self::I;
    /// Lane `l` is `a[l]`.
    fn idx_from(self, a: &[i32; MAX_LANES]) -> Self::I;
    /// `a + b` per lane (wrapping).
    fn add_idx(self, a: Self::I, b: Self::I) -> Self::I;
    /// Lanes where `a < b` (signed).
    fn lt_idx(self, a: Self::I, b: Self::I) -> Self::B;
    /// The scan rule per lane: `v > best || v.is_nan()`.
    fn takes(self, v: Self::V, best: Self::V) -> Self::B;
    /// Per lane `if m { a } else { b }`.
    fn select(self, m: Self::B, a: Self::V, b: Self::V) -> Self::V;
    /// Per lane `if m { a } else { b }`.
    fn select_idx(self, m: Self::B, a: Self::I, b: Self::I) -> Self::I;
    /// Gathers `base[offs[l]]` for the lanes of `m`; other lanes are `fill` and read nothing.
    ///
    /// # Safety
    /// For every lane `l` in `m`, `offs[l] >= 0` and `base + offs[l]` must be a readable element.
    unsafe fn gather(self, base: *const Self::E, offs: Self::I, m: Self::B, fill: Self::E) -> Self::V;
    /// Writes the values into `vals[..N]` and the indices into `idx[..N]`.
    fn spill(self, v: Self::V, i: Self::I, vals: &mut [Self::E; MAX_LANES], idx: &mut [i32; MAX_LANES]);
    /// Stores the first `n <= N` lanes of `v` into `out[..n]` and of `i`, widened to i64, into
    /// `indices[..n]`.
    fn store_with_indices(self, out: &mut [Self::E], indices: &mut [i64], v: Self::V, i: Self::I, n: usize);
}

/// An average divisor prepared once per output for [`reduction::DivExact`].
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

impl<E: FloatElem> Divisor<E> {
    /// `d`: a non-zero integer converted to `E`.
    #[inline(always)]
    pub(crate) fn new(d: E) -> Self {
        // A select, not a match on an `Option`: this runs once per output pixel, and the
        // branch-free form measured about 2 instructions per pixel fewer (callgrind, AVX2, a
        // 2x2 channels-last average).
        let pow2 = E::is_pow2(d);
        Divisor { by: if pow2 { E::ONE / d } else { d }, pow2 }
    }
    /// `(1 / d, true)` when `d` is plus or minus a power of two, else `(d, false)`.
    #[inline(always)]
    pub(crate) fn parts(self) -> (E, bool) {
        (self.by, self.pow2)
    }
}

/// The most lanes of the [`Lanes`] implementations whose defaults go through stack vectors (16
/// `f32` lanes of AVX-512); wider lanes (bytes) override every default they use, and a default
/// instantiated for them fails to compile.
pub(crate) const MAX_LANES: usize = 16;

/// `[f(0), f(1), .., f(K - 1)]` (`K >= 1`) by a plain loop, for arrays of vectors built inside a
/// token's `vectorize`. Not `core::array::from_fn`: it calls `f` through adapters that the
/// optimiser left out of line in the channels-last family, and out of line the intrinsics in `f`
/// lose the token's target features and become calls (one per load in the `f32` max; eight per
/// load in the `f16` max, which ran 7x slower than `bf16` for it).
#[inline(always)]
pub(crate) fn array_of<T: Copy, const K: usize>(mut f: impl FnMut(usize) -> T) -> [T; K] {
    const { assert!(K >= 1) };
    let mut a = [f(0); K];
    for (i, x) in a.iter_mut().enumerate().skip(1) {
        *x = f(i);
    }
    a
}

/// `ptr[stride * j + phase]` for `j < N`, element by element (the default deinterleave).
///
/// # Safety
/// `ptr[stride * j + phase]` must be readable for every `j < N`.
#[inline(always)]
unsafe fn load_strided<L: Lanes>(l: L, ptr: *const L::E, stride: usize, phase: usize) -> L::V {
    const { assert!(L::N <= MAX_LANES) };
    let mut buf = [L::E::ZERO; MAX_LANES];
    for (j, b) in buf.iter_mut().take(L::N).enumerate() {
        // SAFETY: the caller's contract, `j < N`.
        *b = unsafe { *ptr.add(stride * j + phase) };
    }
    // SAFETY: `buf` holds `MAX_LANES >= N` elements.
    unsafe { l.load(buf.as_ptr()) }
}
