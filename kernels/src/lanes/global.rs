//! Global pooling written once over [`Lanes`], for element types without a tuned global kernel
//! (`f64`); the same canonical order as [`crate::portable::global`], so the same bits.
//!
//! * Channels-first: the [`GLOBAL_LANES`] interleaved partials of a plane are
//!   `GLOBAL_LANES / N` vectors, each full chunk of the plane folded into them by one vector
//!   operation per vector. The last, partial chunk and the halving tree run on the partials
//!   stored to the stack, element by element, in the portable kernel's order.
//! * Channels-last: each channel is folded pixel by pixel, vectorised over neighbouring
//!   channels (the last partial vector masked).
//!
//! Max folds with the scan rule's `max_rule`, from `-inf`; sums from `+0.0`. Averages divide once
//! per output by the plane size, as the portable kernel does ([`Scalar::mean`]).

use super::{LaneElem, Lanes};
use crate::GLOBAL_LANES;
use crate::problem::{GlobalProblem, GlobalReduce, Layout};
use crate::scalar::{Scalar, max_takes};
use core::ops::Range;

/// A global job, runnable inside a token's `vectorize`.
pub(crate) struct GlobalJob<'a, L: Lanes> {
    l: L,
    p: &'a GlobalProblem,
    red: GlobalReduce,
    input: &'a [L::E],
    output: &'a mut [L::E],
    rows: Range<usize>,
}

impl<'a, L: Lanes> GlobalJob<'a, L> {
    /// A job over `rows`; checks the buffers with [`GlobalProblem::check`].
    pub(crate) fn new(
        l: L,
        p: &'a GlobalProblem,
        red: GlobalReduce,
        input: &'a [L::E],
        output: &'a mut [L::E],
        rows: Range<usize>,
    ) -> Self {
        p.check(input.len(), output.len(), &rows);
        GlobalJob { l, p, red, input, output, rows }
    }
}

impl<L: Lanes> pulp::NullaryFnOnce for GlobalJob<'_, L> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let GlobalJob { l, p, red, input, output, rows } = self;
        let max = red == GlobalReduce::Max;
        match p.layout() {
            Layout::ChannelsFirst => {
                let plane = p.plane();
                for (r, out) in rows.zip(output.iter_mut()) {
                    let x = &input[r * plane..(r + 1) * plane];
                    let folded = if max { plane_lanes::<L, true>(l, x) } else { plane_lanes::<L, false>(l, x) };
                    *out = finish(red, folded, plane);
                }
            }
            Layout::ChannelsLast => {
                if max {
                    channels_last::<L, true>(l, p, red, input, output, rows)
                } else {
                    channels_last::<L, false>(l, p, red, input, output, rows)
                }
            }
        }
    }
}

/// The output of a folded plane: the max, the sum, or the mean.
#[inline(always)]
fn finish<E: LaneElem>(red: GlobalReduce, folded: E, plane: usize) -> E {
    match red {
        GlobalReduce::Max => folded,
        GlobalReduce::Avg => E::mean(folded, plane as i64),
        GlobalReduce::Sum => E::from_sum(folded),
    }
}

/// `l op r` in the canonical fold: the scan rule for max, `l + r` for sums.
#[inline(always)]
fn op<E: LaneElem, const MAX: bool>(l: E, r: E) -> E {
    if MAX { if max_takes(r, l) { r } else { l } } else { l + r }
}

/// The canonical reduction of one contiguous plane (see the module docs).
#[inline(always)]
fn plane_lanes<L: Lanes, const MAX: bool>(l: L, x: &[L::E]) -> L::E {
    const { assert!(GLOBAL_LANES.is_multiple_of(L::N) && GLOBAL_LANES / L::N <= 64) };
    let init = if MAX { L::E::LOWEST } else { L::E::ZERO };
    let mut acc = [l.splat(init); 64];
    let nv = GLOBAL_LANES / L::N;
    let mut chunks = x.chunks_exact(GLOBAL_LANES);
    for chunk in &mut chunks {
        for (v, a) in acc[..nv].iter_mut().enumerate() {
            // SAFETY: `chunk` holds GLOBAL_LANES elements, so `v * N .. (v + 1) * N` is inside it.
            let xv = unsafe { l.load(chunk.as_ptr().add(v * L::N)) };
            *a = if MAX { l.max_rule(*a, xv) } else { l.add(*a, xv) };
        }
    }
    let mut lanes = [init; GLOBAL_LANES];
    for (v, a) in acc[..nv].iter().enumerate() {
        // SAFETY: `lanes` holds GLOBAL_LANES elements, so `v * N .. (v + 1) * N` is inside it.
        unsafe { l.store(lanes.as_mut_ptr().add(v * L::N), *a) };
    }
    for (lane, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *lane = op::<L::E, MAX>(*lane, v);
    }
    let mut h = GLOBAL_LANES / 2;
    while h > 0 {
        for j in 0..h {
            lanes[j] = op::<L::E, MAX>(lanes[j], lanes[j + h]);
        }
        h /= 2;
    }
    lanes[0]
}

/// Channels-last: outputs `rows` (the `(n, c)` pairs in order), each channel folded pixel by
/// pixel, `N` neighbouring channels of one image per vector.
#[inline(always)]
fn channels_last<L: Lanes, const MAX: bool>(
    l: L,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    let (c_count, plane) = (p.channels(), p.plane());
    let init = l.splat(if MAX { L::E::LOWEST } else { L::E::ZERO });
    let mut r = rows.start;
    while r < rows.end {
        let (n, c0) = (r / c_count, r % c_count);
        let width = (c_count - c0).min(rows.end - r).min(L::N);
        let base = n * plane * c_count + c0;
        let tail = (width < L::N).then(|| l.mask(width));
        let mut acc = init;
        for i in 0..plane {
            let at = base + i * c_count;
            // SAFETY: channels `c0 .. c0 + width <= c_count` of pixel `i < plane` of image
            // `n < batch` (`r < rows.end <= p.rows()` by `check`) are inside `input`; with a
            // tail mask only those `width` lanes are read.
            let xv = unsafe {
                match tail {
                    Some(m) => l.load_masked(m, input.as_ptr().add(at)),
                    None => l.load(input.as_ptr().add(at)),
                }
            };
            acc = if MAX { l.max_rule(acc, xv) } else { l.add(acc, xv) };
        }
        let mut folded = [L::E::ZERO; 64];
        // SAFETY: `folded` holds 64 >= N elements.
        unsafe { l.store(folded.as_mut_ptr(), acc) };
        for (out, &v) in output[r - rows.start..r - rows.start + width].iter_mut().zip(&folded[..width]) {
            *out = finish(red, v, plane);
        }
        r += width;
    }
}
