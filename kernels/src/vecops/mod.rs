//! Vector building blocks of the argmax kernels of every SIMD level.
//!
//! [`F32Vec`] abstracts one f32 register (16 lanes on AVX-512, 8 on AVX2, 4 on NEON) with the few
//! operations these kernels need (index lanes, compare masks, gathers); [`argmax`] holds the
//! algorithm, written once and
//! instantiated per level inside its token's `vectorize`, so every level runs the same
//! order of operations (the canonical order of the crate docs) and gives the same bits.
//!
//! Soundness: the implementing types live in per-level modules and are used only inside the
//! kernels of that level, whose entry points take the level's `pulp` token (proof that the CPU
//! has it) by value before running any of this code.

pub(crate) mod argmax;

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
