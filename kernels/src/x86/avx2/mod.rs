//! AVX2 + FMA kernels, one file per job; the types and entries below are what the kernel set
//! points at.

mod bytes;
mod lanes;
mod nchw;

pub(crate) use nchw::plane_nest;

use crate::lanes::{F64, I8, Lanes, U8};
use crate::level::float_level;
use crate::problem::{GlobalProblem, GlobalReduce, Problem, Reduce};
use crate::route::{Route, SeparableLanes};
use core::ops::Range;
use pulp::x86::V3;

float_level!(
    /// `f32` at this level: every family on the 8 lanes of the token.
    Avx2F32(V3): f32 {
        lanes: V3 = |t| t,
        group: V3 = |t| t,
        transpose: V3 = |t| t,
        nests: V3 = |t| t,
        separable: SeparableLanes { plane: 8, nests: 8 },
    }
);

float_level!(
    /// `f64` at this level: every family on 4 lanes.
    Avx2F64(V3): f64 {
        lanes: F64<V3> = |t| F64(t),
        group: F64<V3> = |t| F64(t),
        transpose: F64<V3> = |t| F64(t),
        nests: F64<V3> = |t| F64(t),
        separable: SeparableLanes { plane: 4, nests: 4 },
    }
);

/// Global f32 pooling.
pub(crate) fn global_f32(
    simd: V3,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    crate::lanes::global::entry::<_, 8>(simd, p, red, input, output, rows)
}

/// Global f64 pooling: the global family at this level's `f64` lanes.
pub(crate) fn global_f64(
    simd: V3,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f64],
    output: &mut [f64],
    rows: Range<usize>,
) {
    crate::lanes::global::entry::<_, 8>(F64(simd), p, red, input, output, rows)
}

/// Windowed and adaptive `u8` pooling on `route`: channels-last max on this level's byte lanes,
/// every other problem on the portable kernels.
pub(crate) fn window_u8(
    simd: V3,
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
    simd: V3,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[i8],
    output: &mut [i8],
    rows: Range<usize>,
) {
    window_bytes(I8(simd), p, red, route, input, output, rows)
}

/// The byte types' channels-last max, blocked 4 pixels x 2 vectors of 32 (measured 10-11% faster than 2 x 2 on `resnet_stem_max_u8`, whose 64 channels are two vectors: the pixels supply the independent chains).
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
    crate::lanes::nhwc::window_max_entry::<L, 4, 2>(l, p, red, route, input, output, rows)
}
