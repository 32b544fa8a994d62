//! Vector building blocks shared by the global and argmax kernels of every SIMD level.
//!
//! [`F32Vec`] abstracts one f32 register (16 lanes on AVX-512, 8 on AVX2, 4 on NEON) with the few
//! operations these kernels need; [`global`] and [`argmax`] hold the algorithms, written once and
//! instantiated per level inside its token's `vectorize`, so every level runs the same
//! order of operations (the canonical order of the crate docs) and gives the same bits.
//!
//! Soundness: the implementing types live in per-level modules and are used only inside the
//! kernels of that level, whose entry points take the level's `pulp` token (proof that the CPU
//! has it) by value before running any of this code.

pub(crate) mod argmax;
pub(crate) mod global;

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
#[cfg(target_arch = "aarch64")]
pub(crate) mod neon;

/// One f32 vector register and a matching vector of i32 lanes.
///
/// Value operations are safe; memory operations are `unsafe` with their bounds stated. Every
/// method is `#[inline(always)]` in the implementations, so it compiles with the target features
/// of the kernel it is inlined into.
pub(crate) trait F32Vec: Copy {
    /// Lanes per register.
    const LANES: usize;
    /// i32 lanes, one per f32 lane (argmax indices).
    type Idx: Copy;
    /// A per-lane boolean.
    type Mask: Copy;

    /// Every lane `x`.
    fn splat(x: f32) -> Self;
    /// `a + b` per lane.
    fn add(a: Self, b: Self) -> Self;
    /// `a / b` per lane (IEEE division).
    fn div(a: Self, b: Self) -> Self;
    /// The max rule per lane: `if r > l || r.is_nan() { r } else { l }`.
    fn combine(l: Self, r: Self) -> Self;
    /// `if r > l { r } else { l }` per lane: equal to [`F32Vec::combine`] in every lane where `r`
    /// is not NaN (so on NaN-free data it is `combine`, zeros included).
    fn max_num(l: Self, r: Self) -> Self;
    /// What a NaN-free fast max remembers of the NaNs it has seen (a mask or a vector).
    type NanSeen: Copy;
    /// Nothing seen yet.
    fn nan_none() -> Self::NanSeen;
    /// `s` updated with the lanes of `a` and `b`: afterwards [`F32Vec::nan_any`] is true if any
    /// lane of any vector seen so far is NaN, and false otherwise.
    fn nan_see(s: Self::NanSeen, a: Self, b: Self) -> Self::NanSeen;
    /// Whether a NaN was seen.
    fn nan_any(s: Self::NanSeen) -> bool;
    /// `LANES` vectors (one per channel) reduced lane-wise by the halving tree: the result's lane
    /// `k` is `vs[k]` folded by `lane[j] = op(lane[j], lane[j + h])` for `h = LANES/2, ..., 1`.
    /// `vs.len() == LANES`.
    fn tree_columns(vs: &[Self], op: impl Fn(Self, Self) -> Self) -> Self;

    /// Loads `LANES` values.
    ///
    /// # Safety
    /// `p..p + LANES` is readable.
    unsafe fn load(p: *const f32) -> Self;
    /// Loads `n < LANES` values; the other lanes are `fill`. Reads only `p..p + n`.
    ///
    /// # Safety
    /// `p..p + n` is readable.
    unsafe fn load_part(p: *const f32, n: usize, fill: f32) -> Self;
    /// Lane `l` is `p[2 * l]`: loads `2 * LANES` values and keeps the even ones.
    ///
    /// # Safety
    /// `p..p + 2 * LANES` is readable.
    unsafe fn load_even(p: *const f32) -> Self;
    /// Stores all lanes.
    ///
    /// # Safety
    /// `p..p + LANES` is writable.
    unsafe fn store(p: *mut f32, v: Self);
    /// Stores the first `n <= LANES` lanes into `out[..n]`.
    fn store_part(out: &mut [f32], v: Self, n: usize);

    /// Every lane `x`.
    fn splat_idx(x: i32) -> Self::Idx;
    /// Lane `l` is `l`.
    fn iota() -> Self::Idx;
    /// Lane `l` is `a[l]`.
    fn idx_from(a: &[i32; 16]) -> Self::Idx;
    /// `a + b` per lane (wrapping).
    fn add_idx(a: Self::Idx, b: Self::Idx) -> Self::Idx;
    /// Lanes where `a < b` (signed).
    fn lt_idx(a: Self::Idx, b: Self::Idx) -> Self::Mask;
    /// The scan rule per lane: `v > best || v.is_nan()`.
    fn takes(v: Self, best: Self) -> Self::Mask;
    /// Per lane `if m { a } else { b }`.
    fn select(m: Self::Mask, a: Self, b: Self) -> Self;
    /// Per lane `if m { a } else { b }`.
    fn select_idx(m: Self::Mask, a: Self::Idx, b: Self::Idx) -> Self::Idx;
    /// Gathers `base[offs[l]]` for the lanes of `m`; other lanes are `fill` and read nothing.
    ///
    /// # Safety
    /// For every lane `l` in `m`, `offs[l] >= 0` and `base + offs[l]` is readable.
    unsafe fn gather(base: *const f32, offs: Self::Idx, m: Self::Mask, fill: f32) -> Self;
    /// Writes the lanes as f32 into `vals[..LANES]` and the indices widened into `idx[..LANES]`.
    fn spill(v: Self, i: Self::Idx, vals: &mut [f32; 16], idx: &mut [i32; 16]);
    /// Stores the first `n <= LANES` lanes of `v` into `out[..n]` and of `i`, widened to i64,
    /// into `indices[..n]`.
    fn store_with_indices(out: &mut [f32], indices: &mut [i64], v: Self, i: Self::Idx, n: usize);
}

/// The sum operation of the canonical order.
#[inline(always)]
pub(crate) fn add<V: F32Vec>(a: V, b: V) -> V {
    V::add(a, b)
}

/// `a / b` with any NaN lane replaced by the canonical NaN, as `Scalar::mean` does.
#[inline(always)]
pub(crate) fn mean<V: F32Vec>(a: V, b: V) -> V {
    let q = V::div(a, b);
    // `takes(q, q)` is exactly `q.is_nan()`.
    V::select(V::takes(q, q), V::splat(f32::NAN), q)
}

/// The max operation of the canonical order.
#[inline(always)]
pub(crate) fn combine<V: F32Vec>(a: V, b: V) -> V {
    V::combine(a, b)
}
