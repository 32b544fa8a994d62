//! AVX-512 kernels, one file per job; the entries below are what the kernel set points at.

mod bytes;
mod lanes;
mod nchw;
mod nhwc;

use crate::lanes::{F64, I8, U8};
use crate::portable;
use crate::problem::{GlobalProblem, GlobalReduce, Layout, Problem, Reduce};
use crate::route::{Families, Route, SeparableLanes};
use crate::separable;
use core::ops::Range;
use pulp::x86::V4;

/// The `f32` families of this level: every one, the plane nest at 8 lanes (see `nchw.rs`), the
/// other separable nests at 16.
pub(crate) const FAMILIES_F32: Families = Families::all(SEPARABLE_F32);
const SEPARABLE_F32: SeparableLanes = SeparableLanes { plane: 8, nests: 16 };

/// Windowed and adaptive f32 pooling on `route` (the plan's).
pub(crate) fn window_f32(
    simd: V4,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    // The nests of a plane the transposed groups leave (and of a route that does not apply).
    let nests = |p: &Problem<'_>, red: &Reduce, i: &[f32], o: &mut [f32], r: Range<usize>| {
        nchw::window(simd, p, red, separable::route(SEPARABLE_F32, p, red), i, o, r)
    };
    match (p.layout(), route) {
        (_, Route::Portable) => portable::window(p, red, input, output, rows),
        (Layout::ChannelsLast, _) => nhwc::window(simd, p, red, input, output, rows),
        // Small planes with irregular x windows: transposed groups of at most 64 planes, pooled
        // by the AVX2 channels-last kernel (measured faster here than at 16 lanes on Zen 5:
        // adaptive_avg_odd 17.2-18.6 vs 20.9-25.6 µs; same folds, same bits).
        (Layout::ChannelsFirst, Route::Transposed) => match crate::route::transposed_group(p) {
            Some(g) => crate::x86::avx2::transpose::pool_groups(
                *simd,
                p,
                red,
                input,
                output,
                rows,
                g,
                nests,
                |p: &Problem<'_>, red: &Reduce, i: &[f32], o: &mut [f32], r: Range<usize>| {
                    crate::x86::avx2::nhwc::window(*simd, p, red, i, o, r)
                },
            ),
            None => nests(p, red, input, output, rows),
        },
        (Layout::ChannelsFirst, route) => nchw::window(simd, p, red, route, input, output, rows),
    }
}

/// f32 max pooling with indices on `route` (the plan's): the argmax family, or transposed
/// groups of small channels-first planes (AVX2 transposes, this level's argmax kernel), like
/// [`window_f32`].
pub(crate) fn argmax_f32(
    simd: V4,
    p: &Problem<'_>,
    route: Route,
    input: &[f32],
    output: &mut [f32],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    let kernel = |p: &Problem<'_>, i: &[f32], o: &mut [f32], x: &mut [i64], r: Range<usize>| {
        crate::lanes::argmax::entry(simd, p, i, o, x, r)
    };
    // The groups are sized only on the route that uses them.
    let group = if route == Route::Transposed { crate::route::transposed_group(p) } else { None };
    match (route, group) {
        (Route::Portable, _) => portable::argmax(p, input, output, indices, rows),
        (Route::Transposed, Some(g)) => {
            crate::x86::avx2::transpose::pool_groups_argmax(*simd, p, input, output, indices, rows, g, kernel, kernel)
        }
        _ => kernel(p, input, output, indices, rows),
    }
}

/// Global f32 pooling: the global family at 16 lanes (16 registers = 256 channels per
/// channels-last block).
///
/// Channels-first planes of 256 elements or more run the 8-lane (AVX2 register) instantiation
/// instead, with the AVX-512 features on: both give the same bits (the canonical order does not
/// depend on the register width), and on the CPU measured (Zen 4, which splits 512-bit
/// operations) the streaming reduction of large planes was about 8% faster with 256-bit loads
/// (text_gmp_1d, gap_large), while small planes (resnet_gap, 49 elements) gain from the 16-plane
/// network and the masked loads of AVX-512.
pub(crate) fn global_f32(
    simd: V4,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    use crate::lanes::global::global;
    simd.vectorize(
        #[inline(always)]
        || {
            if p.layout() == Layout::ChannelsFirst && p.plane() >= 256 {
                global::<_, 8>(*simd, p, red, input, output, rows)
            } else {
                global::<_, 16>(simd, p, red, input, output, rows)
            }
        },
    )
}

/// The families with `f64` kernels at this level: every family, the separable nests of the AVX2 level at 4 lanes (see [`window_f64`]).
pub(crate) const FAMILIES_F64: Families = Families::all(SeparableLanes { plane: 4, nests: 4 });

/// Windowed and adaptive f64 pooling on `route` (the plan's): channels-first on the separable
/// nests, channels-last on the lanes.
pub(crate) fn window_f64(
    simd: V4,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[f64],
    output: &mut [f64],
    rows: Range<usize>,
) {
    match (p.layout(), route) {
        (_, Route::Portable) => portable::window(p, red, input, output, rows),
        (Layout::ChannelsLast, _) => {
            p.check(input.len(), output.len(), &rows);
            let l = F64(simd);
            crate::lanes::nhwc::window::<F64<V4>, 1, 4>(l, p, red, input, output, rows)
        }
        // The AVX2 level's 4-lane nests, with the AVX-512 features on: within 4% of 8 lanes on the
        // suite's f64 layer, and one instantiation of the nests instead of two (build time).
        (Layout::ChannelsFirst, route) => {
            crate::x86::avx2::window_f64_channels_first(*simd, p, red, route, input, output, rows)
        }
    }
}

/// f64 max pooling with indices on `route`: the argmax family at this level's `f64` lanes, or
/// transposed groups of small channels-first planes.
pub(crate) fn argmax_f64(
    simd: V4,
    p: &Problem<'_>,
    route: Route,
    input: &[f64],
    output: &mut [f64],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    let kernel = |p: &Problem<'_>, i: &[f64], o: &mut [f64], x: &mut [i64], r: Range<usize>| {
        crate::lanes::argmax::entry(F64(simd), p, i, o, x, r)
    };
    // The groups are sized only on the route that uses them.
    let group = if route == Route::Transposed { crate::route::transposed_group(p) } else { None };
    match (route, group) {
        (Route::Portable, _) => portable::argmax(p, input, output, indices, rows),
        (Route::Transposed, Some(g)) => crate::x86::avx2::transpose::pool_groups_argmax(
            F64(simd),
            p,
            input,
            output,
            indices,
            rows,
            g,
            kernel,
            kernel,
        ),
        _ => kernel(p, input, output, indices, rows),
    }
}

/// Global f64 pooling: the global family at this level's `f64` lanes.
pub(crate) fn global_f64(
    simd: V4,
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
    simd: V4,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[u8],
    output: &mut [u8],
    rows: Range<usize>,
) {
    crate::lanes::nhwc::window_max_entry::<_, 4, 1>(U8(simd), p, red, route, input, output, rows)
}

/// Windowed and adaptive `i8` pooling on `route`, as [`window_u8`].
pub(crate) fn window_i8(
    simd: V4,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[i8],
    output: &mut [i8],
    rows: Range<usize>,
) {
    crate::lanes::nhwc::window_max_entry::<_, 2, 2>(I8(simd), p, red, route, input, output, rows)
}
