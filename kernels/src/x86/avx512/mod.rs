//! AVX-512 kernels, one file per job; the entries below are what the kernel set points at.

mod lanes;
mod nchw;
mod nhwc;

use crate::lanes::nhwc::Job;
use crate::lanes::{F64, Lanes};
use crate::portable;
use crate::problem::{GlobalProblem, GlobalReduce, Layout, Problem, Reduce};
use crate::route::{self, Families, Route};
use core::ops::Range;
use pulp::x86::V4;

/// Windowed and adaptive f32 pooling: the layout picks the kernel family.
pub(crate) fn window_f32(
    simd: V4,
    p: &Problem<'_>,
    red: &Reduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    match p.layout() {
        // Small planes with irregular x windows: transposed groups of at most 64 planes, pooled
        // by the AVX2 channels-last kernel (measured faster here than at 16 lanes on Zen 5:
        // adaptive_avg_odd 17.2-18.6 vs 20.9-25.6 µs; same folds, same bits).
        Layout::ChannelsFirst => match crate::route::transposed_group(p) {
            Some(g) => crate::x86::avx2::transpose::pool_groups(
                *simd,
                p,
                red,
                input,
                output,
                rows,
                g,
                |p: &Problem<'_>, red: &Reduce, i: &[f32], o: &mut [f32], r: Range<usize>| {
                    nchw::window(simd, p, red, i, o, r)
                },
                |p: &Problem<'_>, red: &Reduce, i: &[f32], o: &mut [f32], r: Range<usize>| {
                    crate::x86::avx2::nhwc::window(*simd, p, red, i, o, r)
                },
            ),
            None => nchw::window(simd, p, red, input, output, rows),
        },
        Layout::ChannelsLast => nhwc::window(simd, p, red, input, output, rows),
    }
}

/// f32 max pooling with indices; small channels-first planes with irregular x windows take the
/// transposed route (AVX2 transposes), like [`window_f32`], with this level's argmax kernel.
pub(crate) fn argmax_f32(
    simd: V4,
    p: &Problem<'_>,
    input: &[f32],
    output: &mut [f32],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    let kernel = |p: &Problem<'_>, i: &[f32], o: &mut [f32], x: &mut [i64], r: Range<usize>| {
        crate::lanes::argmax::entry(simd, p, i, o, x, r)
    };
    match crate::route::transposed_group(p) {
        Some(g) => {
            crate::x86::avx2::transpose::pool_groups_argmax(*simd, p, input, output, indices, rows, g, kernel, kernel)
        }
        None => kernel(p, input, output, indices, rows),
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

/// The families with `f64` kernels at this level (the others run the portable kernels).
pub(crate) const FAMILIES_F64: Families =
    Families { separable: true, lanes: true, argmax: true, global: true, ..Families::NONE };

/// Windowed and adaptive f64 pooling: channels-first on the separable nests, channels-last on
/// the lanes.
pub(crate) fn window_f64(
    simd: V4,
    p: &Problem<'_>,
    red: &Reduce,
    input: &[f64],
    output: &mut [f64],
    rows: Range<usize>,
) {
    match route::window(FAMILIES_F64, p) {
        Route::Lanes => {
            p.check(input.len(), output.len(), &rows);
            let l = F64(simd);
            l.vectorize(Job::<F64<V4>, 1, 4>::new(l, p, red, input, output, rows))
        }
        // The AVX2 level's 4-lane nests, with the AVX-512 features on: within 4% of 8 lanes on the
        // suite's f64 layer, and one instantiation of the nests instead of two (build time).
        Route::Separable => crate::x86::avx2::window_f64_channels_first(*simd, p, red, input, output, rows),
        _ => portable::window(p, red, input, output, rows),
    }
}

/// f64 max pooling with indices: the argmax family at this level's `f64` lanes.
pub(crate) fn argmax_f64(
    simd: V4,
    p: &Problem<'_>,
    input: &[f64],
    output: &mut [f64],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    crate::lanes::argmax::entry(F64(simd), p, input, output, indices, rows)
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
