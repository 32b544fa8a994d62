//! Pooling kernels for [simdpool](https://docs.rs/simdpool): the only place with SIMD and `unsafe`.
//!
//! The crate is `no_std` and allocation-free. The `simdpool` crate validates a request, precomputes
//! a [`Problem`] (per-axis tap tables), and calls one of the small set of kernel signatures in
//! [`KernelSet`], which holds the kernels for one instruction-set level.
//!
//! # Map for maintainers
//! * **The contract** is in `set.rs`: the kernel signatures ([`WindowFn`], [`ArgmaxFn`],
//!   [`GlobalFn`]), the per-level tables keyed by element type, and the one place a level's
//!   `pulp` token is turned into a table. Holding a token is the proof that the CPU has the
//!   level: every SIMD entry point takes its level's token (`pulp::x86::V3`, `V4`,
//!   `pulp::aarch64::Neon`) by value and runs its body through the token's `vectorize`, so no
//!   target-feature string is written in this crate and no kernel detects the CPU.
//! * **The semantics** are in `portable/` (the kernels every level must match bit for bit) and
//!   `scalar.rs` (per element type: accumulator types, rounding, NaN canonicalisation).
//! * **The vector traits** are in `lanes/mod.rs`: `Lanes` is one register of one element type at
//!   one level (loads, stores and tail masks, the max scan rule, the deinterleave and transpose
//!   primitives), value operations safe, pointer operations `unsafe fn` with their bounds;
//!   `FloatLanes` adds the float arithmetic the sums and their finishes need. Each level
//!   implements them on its token, in `x86/avx2/lanes.rs`, `x86/avx512/lanes.rs` and
//!   `aarch64/neon/lanes.rs` (`f32` on the token, `f64` on `F64<token>`), and `Lanes` alone for
//!   the byte types in the levels' `bytes.rs` (`U8<token>`, `I8<token>`) and for the half
//!   types in their `halves.rs` (`F16<token>`, `Bf16<token>`: `f32` lanes holding an exactly
//!   invertible order map of the 16-bit patterns, `lanes/halves.rs`, for max).
//! * **The families**, each written once and instantiated per ISA in `x86/avx2`, `x86/avx512`
//!   and `aarch64/neon`: over `Lanes`, `separable/` (channels-first plane, lean and general
//!   nests), `lanes/nhwc.rs` (channels-last), `lanes/rows.rs` (channels-first max of the byte
//!   and half types, over `RowsMax`), `lanes/transposed.rs` (small channels-first planes
//!   through the channels-last kernel), `lanes/global.rs` (global) and `lanes/argmax.rs` (max
//!   with indices, over `LaneIndices`: `Lanes` plus index lanes, compare masks and gathers).
//! * **Reductions and finishes** are types shared by every family (`lanes/reduction.rs`):
//!   `Reduction` (`MaxRule`, `MaxFast`, `Sum`, `AbsSum`, `SquareSum`, `PowSum`: term, fold
//!   start, fold step) and `Finish` (`Keep`, `Canon`, `Root`, `PowRoot` and the divisions), so a
//!   family compiles one loop body per pair. Both are implemented per lanes type: the max types
//!   and `Keep` for every `Lanes`, the sums and the other finishes for `FloatLanes`, so a family
//!   written over `Lanes` with a generic reduction compiles for byte lanes with the max alone.
//! * **Policy** the planner reads (slide lengths, work per row, split granules) is in [`policy`].
//!
//! To give an element type SIMD kernels at a level: implement `Lanes` for it on the level's token
//! (a wrapper such as `U8<token>`; `FloatLanes` and `LaneIndices` too if its sums and indices run
//! in its own lanes). A float type then gets every family from one `float_level!` line in the
//! level's `mod.rs` (which lanes each family runs on) and the generic entries of `level.rs`; a
//! max-only wrapper gets `level::window_max` (with `OnToken`, which builds it from the token). List the type in the level's `level_set!` line in `set.rs` with the families
//! it has (`Families::MAX_ONLY` for max-only lanes); types not listed there run the
//! portable kernels at that level, and the routes say so. To add an op: add its
//! reduction to [`Reduce`] (and a `Reduction` or `Finish` type if its fold or finish is new; or a
//! new signature to `set.rs` with its portable kernel), write the family file once over the
//! vector traits, and add one entry per level to the `level_set!` lines.

//! # The canonical order of operations
//! Every path (portable, AVX2, AVX-512, NEON) and every thread split computes the same bits, because
//! the order of combination is fixed by the algorithm, not by the vector width:
//! * Windowed and adaptive ops reduce the innermost spatial axis first: each window row is folded
//!   left to right starting from `+0.0`, the row results are folded top to bottom, and the plane
//!   results front to back (`sum_z(sum_y(sum_x(x)))`). A sum that starts at `+0.0` can never become
//!   `-0.0`, so adding `+0.0` anywhere leaves its bits unchanged: kernels may read padding from
//!   zero-filled row buffers instead of skipping those taps, and get the same bits.
//! * Averages divide the sum by the divisor converted to the sum type (`sum / d`, never a
//!   multiplication by a reciprocal). Lp with `p = 2` takes a correctly rounded square root; other
//!   `p` use `libm`'s `powf`/`pow` per element. A NaN average or Lp result is the canonical quiet
//!   NaN ([`canon32`]), since which NaN survives `NaN + NaN` is not fixed by the source.
//! * Padding never takes part in a max; a kernel may still fill padding with `-inf` (or the
//!   type's minimum), which yields the same bits, since `-inf` only ever ties with `-inf`.
//! * Max combines with `combine(l, r) = if r > l || r.is_nan() { r } else { l }`, which is
//!   associative for order-preserving groupings, so every path selects exactly the element PyTorch's
//!   scan rule selects (first of equal maxima, last of several NaNs).
//! * Global sums over a channels-first plane use [`GLOBAL_LANES`] interleaved partial sums starting
//!   at `+0.0` (lane `j` takes elements `j, j + 64, ...` in order), combined by a halving tree; over a
//!   channels-last tensor each channel is summed pixel by pixel in order, starting at `+0.0`. For
//!   `f32` and `f64`, a channels-last plane of at least 1024 pixels is first cut into 2, 4 or 8
//!   equal pixel blocks (a count fixed by the plane size), each summed that way, and the block
//!   sums are added by a pairwise tree: the `simdpool` plan makes the cut and the tree (so threads
//!   can split along the pixels), the kernels sum each block ([`GlobalReduce::Sum`]).
//!   Global max uses the same lanes (from `-inf`) and tree; since that grouping is not in scan
//!   order, it may pick another zero (`+0` vs `-0`) or another NaN than the scan rule. Every
//!   global kernel (portable and SIMD) then rescans the (rare) planes whose maximum is zero or NaN,
//!   so its result is exactly the scan rule's element.
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod lanes;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod level;
pub mod policy;
pub mod portable;
mod problem;
pub mod route;
mod scalar;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod separable;
mod set;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use problem::{Axis, Cover, GlobalProblem, GlobalReduce, GradRule, Layout, LpPower, Problem, Reduce, Uniform};
pub use route::{Families, Route, SeparableLanes};
pub use scalar::{GradAcc, Scalar, canon32, canon64, max_takes};
pub use set::{ArgmaxFn, GlobalFn, KernelSet, TypedKernels, WindowFn};

/// Number of interleaved partial sums in the canonical global reduction over a contiguous plane.
pub const GLOBAL_LANES: usize = 64;
