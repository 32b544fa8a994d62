//! NEON kernels, one file per job; the entries below are what the kernel set points at.

mod lanes;
mod nchw;
mod nhwc;

use crate::lanes::nhwc::Job;
use crate::lanes::{F64, Lanes};
use crate::portable;
use crate::problem::{GlobalProblem, GlobalReduce, Layout, Problem, Reduce};
use crate::route::{self, Families, Route};
use core::ops::Range;
use pulp::aarch64::Neon;

/// Windowed and adaptive f32 pooling: the layout picks the kernel family.
pub(crate) fn window_f32(
    simd: Neon,
    p: &Problem<'_>,
    red: &Reduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    match p.layout() {
        Layout::ChannelsFirst => match crate::route::transposed_group(p) {
            Some(g) => crate::lanes::transposed::pool_groups(
                simd,
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
                    nhwc::window(simd, p, red, i, o, r)
                },
            ),
            None => nchw::window(simd, p, red, input, output, rows),
        },
        Layout::ChannelsLast => nhwc::window(simd, p, red, input, output, rows),
    }
}

/// f32 max pooling with indices; small channels-first planes with irregular x windows take the
/// transposed route, like [`window_f32`].
pub(crate) fn argmax_f32(
    simd: Neon,
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
            crate::lanes::transposed::pool_groups_argmax(simd, p, input, output, indices, rows, g, kernel, kernel)
        }
        None => kernel(p, input, output, indices, rows),
    }
}

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

/// The families with `f64` kernels at this level (the others run the portable kernels).
pub(crate) const FAMILIES_F64: Families =
    Families { separable: true, lanes: true, argmax: true, global: true, ..Families::NONE };

/// Windowed and adaptive f64 pooling: channels-first on the separable nests, channels-last on
/// the lanes.
pub(crate) fn window_f64(
    simd: Neon,
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
            l.vectorize(Job::<F64<Neon>, 2, 4>::new(l, p, red, input, output, rows))
        }
        Route::Separable => nchw::window_f64(simd, p, red, input, output, rows),
        _ => portable::window(p, red, input, output, rows),
    }
}

/// f64 max pooling with indices: the argmax family at this level's `f64` lanes.
pub(crate) fn argmax_f64(
    simd: Neon,
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
    simd: Neon,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f64],
    output: &mut [f64],
    rows: Range<usize>,
) {
    crate::lanes::global::entry::<_, 16>(F64(simd), p, red, input, output, rows)
}
