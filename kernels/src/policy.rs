//! What the planner needs to know about the kernels, as data: how long a slide is, what a row of
//! outputs costs, and which split granules keep the kernels' reuse inside one task. The
//! `simdpool` plan reads these instead of copying the kernels' conditions; the kernels read the
//! same constants.
//!
//! The constants are tuning, not semantics: no value here changes a result bit, since every
//! kernel computes each output in the canonical order whatever rows a task holds.

use crate::problem::{GlobalProblem, Layout, Problem};

/// Most output rows one slide of the channels-last kernel covers for windows of up to 3 rows
/// (twice that for 4 or 5 rows): the input rows around one output column stay in L1 until the
/// next column, whose overlapping taps are then L1 hits.
pub(crate) const STRIP: usize = 8;

/// Most output rows one slide covers for windows of `ky` rows.
#[inline(always)]
pub(crate) fn slide_len(ky: usize) -> usize {
    if ky <= 3 { STRIP } else { 2 * STRIP }
}

/// Output rows a run of the channels-last windowed kernel computes in one slide (1: it does not
/// slide): stride-1 windows of 2 to 5 rows, no dilation, no depth window. Each input row's
/// window-row reduction is computed once per slide, so a caller that splits rows over threads
/// keeps tasks at least this long, or every task repeats its neighbours' row reductions.
pub fn slide_rows(p: &Problem<'_>) -> usize {
    let [az, ay, _] = p.axes();
    let ky = ay.taps().iter().copied().max().unwrap_or(1);
    let slides = p.layout() == Layout::ChannelsLast
        && az.taps().iter().all(|&t| t == 1)
        && ay.dilation() == 1
        && ay.uniform().is_some_and(|u| u.stride == 1)
        && (2..=5).contains(&ky);
    if slides { slide_len(ky) } else { 1 }
}

/// The work of one row of outputs of a windowed problem (one unit is about one element read or
/// one tap folded), which sizes thread tasks.
///
/// * Channels-last kernels visit every tap of every output, a vector of channels at a time:
///   outputs per row times channels times taps.
/// * Channels-first kernels are separable and reuse the input rows neighbouring windows share,
///   so a row costs about the input it reads, not its outputs times taps (the latter cut 3x3 and
///   5x5 maps into tasks of under a microsecond, slower on 2 threads than on 1).
pub fn window_row_work(p: &Problem<'_>) -> usize {
    let per_row = p.axes()[2].out_len();
    match p.layout() {
        Layout::ChannelsLast => {
            let taps: usize = p.axes().iter().map(|a| a.taps().iter().copied().max().unwrap_or(1)).product();
            (per_row * p.channels()).saturating_mul(taps)
        }
        Layout::ChannelsFirst => {
            let out_rows = (p.out_plane() / per_row.max(1)).max(1);
            p.in_plane().div_ceil(out_rows).max(per_row)
        }
    }
}

/// Channels-first windowed problems with at least this many `(n, c)` planes split over threads
/// in whole planes (enough tasks to balance two or more threads).
pub const WHOLE_PLANES_FROM: usize = 16;

/// The rows a thread task of a windowed problem holds a multiple of: whole planes channels-first
/// when there are [`WHOLE_PLANES_FROM`] or more (the kernels work plane by plane, a separable
/// pass over the plane's input rows, and a task that starts or ends inside a plane repeats the
/// rows its neighbour also reads), else single rows.
pub fn window_granule(p: &Problem<'_>) -> usize {
    let planes = p.batch() * p.channels();
    if p.layout() == Layout::ChannelsFirst && planes >= WHOLE_PLANES_FROM {
        p.axes()[0].out_len() * p.axes()[1].out_len()
    } else {
        1
    }
}

/// The `(n, c)` rows a thread task of a global problem holds a multiple of: whole register
/// groups, 16 planes per transpose network channels-first; channels-last, whole images when they
/// hold at most 256 channels and there are several, else blocks of 128 neighbouring channels
/// (512 B of every pixel).
pub fn global_granule(p: &GlobalProblem) -> usize {
    match p.layout() {
        Layout::ChannelsFirst => 16,
        Layout::ChannelsLast if p.channels() <= 256 && p.batch() >= 2 => p.channels(),
        Layout::ChannelsLast => 128,
    }
}
