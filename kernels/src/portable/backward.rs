//! The backward pass of windowed, adaptive and global pooling, as a gather.
//!
//! Each input element visits the outputs whose windows hold it, in increasing output order
//! (depth, then height, then width), adds each one's share of its gradient in the type's
//! gradient accumulator ([`Scalar::Grad`]), and is written once:
//!
//! ```text
//! for each input element i (any order, any split over threads):
//!     acc = 0
//!     for oz in cover_z(z), oy in cover_y(y), ox in cover_x(x), ascending:
//!         if the window of (oz, oy, ox) holds i:
//!             acc += share(o, i)        // avg: g/d; Lp: g sign(x) (|x|/y)^(p-1);
//!                                       // max: g if o's argmax is i
//!     grad_input[i] = round(acc)
//! ```
//!
//! So the order of additions into one element is fixed by the definition (increasing output
//! order), the result does not depend on how rows are split, nothing is zeroed first, no two
//! tasks write the same element, and narrow types accumulate in `f32` and round once.

use super::window::{Taps, first_offset, scan_max, window_of};
use crate::problem::{Cover, GradRule, Layout, Problem};
use crate::scalar::{GradAcc, Scalar};
use core::ops::Range;

/// Where input row `r` lives: its image (channels-last) or plane (channels-first) number, the
/// input offset of that image or plane, and `(z, y)`.
fn locate_input(p: &Problem<'_>, r: usize) -> (usize, usize, usize, usize) {
    let [az, ay, _] = p.axes();
    let per_image = az.in_len() * ay.in_len();
    let (image, rem) = (r / per_image, r % per_image);
    let (z, y) = (rem / ay.in_len(), rem % ay.in_len());
    let base = match p.layout() {
        Layout::ChannelsFirst => image * p.in_plane(),
        Layout::ChannelsLast => image * p.in_plane() * p.channels(),
    };
    (image, base, z, y)
}

/// The gradient input of input rows `rows` (a row is one `(plane, z, y)` channels-first, one
/// `(n, z, y)` channels-last: `in_w` or `in_w * channels` elements), written to `grad_input`.
///
/// `grad_output` holds the whole output gradient, in the problem's layout. With
/// [`GradRule::MaxIndices`], every index must lie in `0..in_plane` (the plan checks); an index
/// outside it holds no input element and so adds nothing.
pub fn backward<T: Scalar>(
    p: &Problem<'_>,
    cover: &[Cover<'_>; 3],
    rule: &GradRule<'_, T>,
    grad_output: &[T],
    grad_input: &mut [T],
    rows: Range<usize>,
) {
    let [az, ay, ax] = p.axes();
    let (in_w, channels) = (ax.in_len(), p.channels());
    let per_pixel = if p.layout() == Layout::ChannelsFirst { 1 } else { channels };
    let row_len = in_w * per_pixel;
    assert!(grad_output.len() == p.output_len(), "output gradient length does not match the problem");
    assert!(
        rows.start <= rows.end
            && rows.end <= p.input_len() / row_len
            && grad_input.len() == (rows.end - rows.start) * row_len,
        "gradient input rows out of bounds"
    );
    match rule {
        GradRule::Lp { input, output, .. } => {
            assert!(input.len() == p.input_len() && output.len() == p.output_len(), "Lp buffers do not match");
        }
        GradRule::MaxIndices(idx) => assert!(idx.len() == p.output_len(), "index length does not match"),
        GradRule::MaxInput(input) => assert!(input.len() == p.input_len(), "input length does not match"),
        GradRule::Avg { .. } => {}
    }
    let out_group = p.out_plane() * per_pixel;
    // One loop nest per rule: `per_output` runs once per holding output, `share` once per
    // element of it (a channel run, channels-last).
    match *rule {
        GradRule::Avg { divisor_override } if T::GRAD_IN_PLACE => {
            avg_rows_in_place(p, cover, divisor_override, grad_output, grad_input, rows);
        }
        GradRule::Avg { divisor_override } => {
            let divisor = |oz: usize, oy: usize, ox: usize| {
                divisor_override.unwrap_or_else(|| (az.count()[oz] * ay.count()[oy] * ax.count()[ox]) as i64)
            };
            gather(p, cover, grad_output, grad_input, rows, divisor, |d, _, _, _, g| Some(GradAcc::avg_share(g, d)));
        }
        GradRule::Lp { power, input, output } => {
            let share =
                |_, o: usize, at: usize, _, g| Some(GradAcc::lp_share(g, input[at].grad(), output[o].grad(), power));
            gather(p, cover, grad_output, grad_input, rows, |_, _, _| (), share);
        }
        GradRule::MaxIndices(idx) => {
            let share = |_, o: usize, _, spatial: usize, g| (idx[o] == spatial as i64).then_some(g);
            gather(p, cover, grad_output, grad_input, rows, |_, _, _| (), share);
        }
        GradRule::MaxInput(input) => {
            // The window's taps and first element; each channel's scan starts there.
            let window = |oz, oy, ox| {
                let t: Taps = window_of(p, oz, oy, ox, per_pixel);
                (t, first_offset(p, &t, per_pixel))
            };
            let share = |(t, first): (Taps, usize), o: usize, at: usize, _, g| {
                let (image, c) = (o / out_group, o % per_pixel);
                let plane_base = match p.layout() {
                    Layout::ChannelsFirst => image * p.in_plane(),
                    Layout::ChannelsLast => image * p.in_plane() * per_pixel,
                };
                (scan_max(input, &t, plane_base + first + c) == at).then_some(g)
            };
            gather(p, cover, grad_output, grad_input, rows, window, share);
        }
    }
}

/// Channels a channels-last pixel accumulates at once, on the stack.
const CHANNEL_RUN: usize = 64;

/// The gather loop nest of [`backward`] for one rule: per input element (channels-last: per run
/// of up to [`CHANNEL_RUN`] channels of one pixel), every holding output in increasing order adds
/// `share(per_output(oz, oy, ox), output element, input element, spatial index, g)` unless it is
/// `None`.
#[inline(always)]
fn gather<T: Scalar, W: Copy>(
    p: &Problem<'_>,
    cover: &[Cover<'_>; 3],
    grad_output: &[T],
    grad_input: &mut [T],
    rows: Range<usize>,
    per_output: impl Fn(usize, usize, usize) -> W,
    share: impl Fn(W, usize, usize, usize, T::Grad) -> Option<T::Grad>,
) {
    let [az, ay, ax] = p.axes();
    let in_w = ax.in_len();
    let per_pixel = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
    let row_len = in_w * per_pixel;
    let (out_h, out_w) = (ay.out_len(), ax.out_len());
    let out_group = p.out_plane() * per_pixel;
    let mut acc = [<T::Grad as GradAcc>::ZERO; CHANNEL_RUN];
    for (r, row) in rows.zip(grad_input.chunks_exact_mut(row_len)) {
        let (image, plane_base, z, y) = locate_input(p, r);
        let out_base = image * out_group;
        for x in 0..in_w {
            let spatial = (z * ay.in_len() + y) * in_w + x;
            for c0 in (0..per_pixel).step_by(CHANNEL_RUN) {
                let run = CHANNEL_RUN.min(per_pixel - c0);
                let acc = &mut acc[..run];
                acc.fill(<T::Grad as GradAcc>::ZERO);
                let at = plane_base + spatial * per_pixel + c0;
                for oz in cover[0].outputs(z) {
                    if !az.holds(oz, z) {
                        continue;
                    }
                    for oy in cover[1].outputs(y) {
                        if !ay.holds(oy, y) {
                            continue;
                        }
                        for ox in cover[2].outputs(x) {
                            if !ax.holds(ox, x) {
                                continue;
                            }
                            let w = per_output(oz, oy, ox);
                            let o = out_base + ((oz * out_h + oy) * out_w + ox) * per_pixel + c0;
                            for (j, (a, g)) in acc.iter_mut().zip(&grad_output[o..o + run]).enumerate() {
                                if let Some(s) = share(w, o + j, at + j, spatial, g.grad()) {
                                    *a = *a + s;
                                }
                            }
                        }
                    }
                }
                for (d, &a) in row[x * per_pixel + c0..x * per_pixel + c0 + run].iter_mut().zip(acc.iter()) {
                    *d = T::from_grad(a);
                }
            }
        }
    }
}

/// The average gradient of rows `rows` for a type that is its own accumulator, by output: each
/// row is zeroed, then every output whose window holds the row adds its share to its taps in
/// the row, outputs in increasing order. So each element receives the gather's additions in the
/// gather's order (a window holds an element at most once), and the share is divided once per
/// output rather than once per tap.
fn avg_rows_in_place<T: Scalar>(
    p: &Problem<'_>,
    cover: &[Cover<'_>; 3],
    divisor_override: Option<i64>,
    grad_output: &[T],
    grad_input: &mut [T],
    rows: Range<usize>,
) {
    let [az, ay, ax] = p.axes();
    let per_pixel = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
    let row_len = ax.in_len() * per_pixel;
    let (out_h, out_w) = (ay.out_len(), ax.out_len());
    let out_group = p.out_plane() * per_pixel;
    let (xs, xt, dil) = (ax.start(), ax.taps(), ax.dilation());
    let zero = <T::Grad as GradAcc>::ZERO;
    let mut share = [zero; CHANNEL_RUN];
    for (r, row) in rows.zip(grad_input.chunks_exact_mut(row_len)) {
        let (image, _, z, y) = locate_input(p, r);
        row.fill(T::from_grad(zero));
        let out_base = image * out_group;
        for oz in cover[0].outputs(z) {
            if !az.holds(oz, z) {
                continue;
            }
            for oy in cover[1].outputs(y) {
                if !ay.holds(oy, y) {
                    continue;
                }
                let o_row = out_base + (oz * out_h + oy) * out_w * per_pixel;
                let d = |ox: usize| {
                    divisor_override.unwrap_or_else(|| (az.count()[oz] * ay.count()[oy] * ax.count()[ox]) as i64)
                };
                if per_pixel == 1 {
                    // Channels-first: one element per output.
                    let go = &grad_output[o_row..o_row + out_w];
                    for (ox, g) in go.iter().enumerate() {
                        let s = GradAcc::avg_share(g.grad(), d(ox));
                        for e in row[xs[ox]..].iter_mut().step_by(dil).take(xt[ox]) {
                            *e = T::from_grad(e.grad() + s);
                        }
                    }
                    continue;
                }
                for ox in 0..out_w {
                    let d = d(ox);
                    let o = o_row + ox * per_pixel;
                    for c0 in (0..per_pixel).step_by(CHANNEL_RUN) {
                        let run = CHANNEL_RUN.min(per_pixel - c0);
                        let share = &mut share[..run];
                        for (s, g) in share.iter_mut().zip(&grad_output[o + c0..o + c0 + run]) {
                            *s = GradAcc::avg_share(g.grad(), d);
                        }
                        for t in 0..xt[ox] {
                            let at = (xs[ox] + t * dil) * per_pixel + c0;
                            for (e, &s) in row[at..at + run].iter_mut().zip(share.iter()) {
                                *e = T::from_grad(e.grad() + s);
                            }
                        }
                    }
                }
            }
        }
    }
}
