//! NEON kernels, one file per job; the entries below are what the kernel set points at.

mod bytes;
mod lanes;
mod nchw;

use crate::lanes::{F64, I8, Lanes, U8};
use crate::level::float_level;
use crate::problem::{GlobalProblem, GlobalReduce, Problem, Reduce};
use crate::route::{Route, SeparableLanes};
use core::ops::Range;
use pulp::aarch64::Neon;

float_level!(
    /// `f32` at this level: every family on the 4 lanes of the token.
    NeonF32(Neon): f32 {
        lanes: Neon = |t| t,
        group: Neon = |t| t,
        transpose: Neon = |t| t,
        nests: Neon = |t| t,
        separable: SeparableLanes { plane: 4, nests: 4 },
    }
);

float_level!(
    /// `f64` at this level: every family on 2 lanes.
    NeonF64(Neon): f64 {
        lanes: F64<Neon> = |t| F64(t),
        group: F64<Neon> = |t| F64(t),
        transpose: F64<Neon> = |t| F64(t),
        nests: F64<Neon> = |t| F64(t),
        separable: SeparableLanes { plane: 2, nests: 2 },
    }
);

/// Global f32 pooling.
pub(crate) fn global_f32(
    simd: Neon,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    crate::lanes::global::entry::<_, 16>(simd, p, red, input, output, rows)
}

/// Global f64 pooling: the global family at this level's `f64` lanes.
pub(crate) fn global_f64(
    simd: Neon,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f64],
    output: &mut [f64],
    rows: Range<usize>,
) {
    crate::lanes::global::entry::<_, 16>(F64(simd), p, red, input, output, rows)
}

/// Windowed and adaptive `u8` pooling on `route`: channels-last max on this level's byte lanes,
/// every other problem on the portable kernels.
pub(crate) fn window_u8(
    simd: Neon,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[u8],
    output: &mut [u8],
    rows: Range<usize>,
) {
    window_bytes(U8(simd), p, red, route, input, output, rows)
}

/// Windowed and adaptive `i8` pooling on `route`, as [`window_u8`].
pub(crate) fn window_i8(
    simd: Neon,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[i8],
    output: &mut [i8],
    rows: Range<usize>,
) {
    window_bytes(I8(simd), p, red, route, input, output, rows)
}

/// The byte types' channels-last max, blocked 2 pixels x 4 vectors of 16, the `f32` block (not measured on NEON hardware).
#[inline(always)]
fn window_bytes<L: Lanes>(
    l: L,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    crate::lanes::nhwc::window_max_entry::<L, 2, 4>(l, p, red, route, input, output, rows)
}
