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
    let (out_h, out_w) = (ay.out_len(), ax.out_len());
    let out_plane = p.out_plane();
    for (r, row) in rows.zip(grad_input.chunks_exact_mut(row_len)) {
        let (image, plane_base, z, y) = locate_input(p, r);
        for x in 0..in_w {
            for c in 0..per_pixel {
                let spatial = (z * ay.in_len() + y) * in_w + x;
                // Where output (oz, oy, ox) of this element's plane lives.
                let (out_base, out_step) = match p.layout() {
                    Layout::ChannelsFirst => (image * out_plane, 1),
                    Layout::ChannelsLast => (image * out_plane * channels + c, channels),
                };
                let mut acc = <T::Grad as GradAcc>::ZERO;
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
                            let flat = (oz * out_h + oy) * out_w + ox;
                            let o = out_base + flat * out_step;
                            let g = grad_output[o].grad();
                            let share = match rule {
                                GradRule::Avg { divisor_override } => {
                                    let d = divisor_override
                                        .unwrap_or_else(|| (az.count()[oz] * ay.count()[oy] * ax.count()[ox]) as i64);
                                    GradAcc::avg_share(g, d)
                                }
                                GradRule::Lp { power, input, output } => {
                                    let at = plane_base + spatial * per_pixel + c;
                                    GradAcc::lp_share(g, input[at].grad(), output[o].grad(), *power)
                                }
                                GradRule::MaxIndices(idx) => {
                                    if idx[o] != spatial as i64 {
                                        continue;
                                    }
                                    g
                                }
                                GradRule::MaxInput(input) => {
                                    let t: Taps = window_of(p, oz, oy, ox, per_pixel);
                                    let base = plane_base + first_offset(p, &t, per_pixel) + c;
                                    if scan_max(input, &t, base) != plane_base + spatial * per_pixel + c {
                                        continue;
                                    }
                                    g
                                }
                            };
                            acc = acc + share;
                        }
                    }
                }
                row[x * per_pixel + c] = T::from_grad(acc);
            }
        }
    }
}
