//! AVX2 + FMA kernels, one file per job; the entries below are what the kernel set points at.

mod argmax;
mod global;
mod nchw;

pub(crate) use nchw::plane_nest;
pub(crate) mod nhwc;
pub(crate) mod transpose;

use crate::problem::{GlobalProblem, GlobalReduce, Layout, Problem, Reduce};
use core::ops::Range;

/// Windowed and adaptive f32 pooling: the layout picks the kernel family.
pub(crate) fn window_f32(p: &Problem<'_>, red: &Reduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    match p.layout() {
        Layout::ChannelsFirst => match crate::lanes::transposed::group(p) {
            Some(g) => transpose::run(p, red, input, output, rows, g, nchw::window, nhwc::window),
            None => nchw::window(p, red, input, output, rows),
        },
        Layout::ChannelsLast => nhwc::window(p, red, input, output, rows),
    }
}

/// f32 max pooling with indices.
/// f32 max pooling with indices; small channels-first planes with irregular x windows take the
/// transposed route, like [`window_f32`].
pub(crate) fn argmax_f32(p: &Problem<'_>, input: &[f32], output: &mut [f32], indices: &mut [i64], rows: Range<usize>) {
    match crate::lanes::transposed::group(p) {
        Some(g) => transpose::run_argmax(p, input, output, indices, rows, g, argmax::argmax, argmax::argmax),
        None => argmax::argmax(p, input, output, indices, rows),
    }
}

/// Global f32 pooling.
pub(crate) fn global_f32(p: &GlobalProblem, red: GlobalReduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    global::global(p, red, input, output, rows)
}
