//! The backward pass of max pooling from indices, as a scatter.
//!
//! Each output's gradient goes to the input element its index names, wherever that lies in its
//! `(n, c)` plane (PyTorch's rule: the index need not lie in the output's window). A group is
//! one plane (channels-first) or one image (channels-last); a task owns a range of input rows
//! and so a range of elements of each group it touches:
//!
//! ```text
//! for each group touched by the task, elements lo..hi of it:
//!     dst[lo..hi] = 0
//!     for each output o of the group, in increasing order (channels-last: pixel, then channel):
//!         e = index[o] * channels_per_pixel + channel(o)
//!         if lo <= e < hi: dst[e] += grad_output[o]
//! ```
//!
//! Contributions to one element are added in increasing output order, starting from `+0`: the
//! same additions as the gather of [`super::backward`], so the same bits, whatever the split.
//! `f32` and `f64` accumulate in the gradient buffer itself ([`Scalar::GRAD_IN_PLACE`]); the
//! narrow types accumulate `SPAN` elements at a time in an `f32` stack buffer and round once, each
//! span scanning the group's outputs again (so they use [`super::backward`] whenever every index
//! lies in its window: see [`indices_in_windows`]). A task that owns part of a group scans all of
//! the group's outputs: an index may point anywhere in its plane.

use crate::problem::{Layout, Problem};
use crate::scalar::{GradAcc, Scalar};
use core::ops::Range;

/// Elements one span of a narrow type accumulates on the stack (16 KiB of `f32`).
const SPAN: usize = 4096;

/// The gradient input of input rows `rows` of a max op (rows as in [`super::backward`]) from the
/// forward pass's indices, written to `grad_input`. Indices outside their plane add nothing (the
/// plan refuses them before this runs).
pub fn scatter_max<T: Scalar>(
    p: &Problem<'_>,
    indices: &[i64],
    grad_output: &[T],
    grad_input: &mut [T],
    rows: Range<usize>,
) {
    scatter_max_body(p, indices, grad_output, grad_input, rows)
}

/// [`scatter_max`], inlined into its caller: the SIMD levels compile it with their target
/// features (`crate::level::scatter`).
#[inline(always)]
pub(crate) fn scatter_max_body<T: Scalar>(
    p: &Problem<'_>,
    indices: &[i64],
    grad_output: &[T],
    grad_input: &mut [T],
    rows: Range<usize>,
) {
    let [az, ay, ax] = p.axes();
    let per_pixel = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
    let row_len = ax.in_len() * per_pixel;
    let group_rows = az.in_len() * ay.in_len();
    let out_group = p.out_plane() * per_pixel;
    assert!(grad_output.len() == p.output_len() && indices.len() == p.output_len(), "output buffers do not match");
    assert!(
        rows.start <= rows.end
            && rows.end <= p.input_len() / row_len
            && grad_input.len() == (rows.end - rows.start) * row_len,
        "gradient input rows out of bounds"
    );
    let mut r = rows.start;
    while r < rows.end {
        let g = r / group_rows;
        let end = rows.end.min((g + 1) * group_rows);
        let (lo, hi) = ((r - g * group_rows) * row_len, (end - g * group_rows) * row_len);
        let dst = &mut grad_input[(r - rows.start) * row_len..(end - rows.start) * row_len];
        let outs = g * out_group..(g + 1) * out_group;
        let (idx, go) = (&indices[outs.clone()], &grad_output[outs]);
        if T::GRAD_IN_PLACE {
            if !scatter_by_rows(p, idx, go, dst, lo, per_pixel) {
                scatter_in_place(idx, go, dst, lo, per_pixel);
            }
        } else {
            for (k, span) in dst.chunks_mut(SPAN).enumerate() {
                scatter_span(idx, go, span, lo + k * SPAN, per_pixel);
            }
        }
        debug_assert!(hi - lo == dst.len());
        r = end;
    }
}

/// [`scatter_in_place`] output row by output row, zeroing `dst` only as far as the rows the
/// windows so far reach, so each row is zeroed just before its additions (in cache) rather than
/// the whole group first. The additions are the same, in the same order. Returns false, with
/// `dst` partly written, as soon as an index names an element of `dst` not zeroed yet (an index
/// beyond its window's rows): the caller then runs [`scatter_in_place`], which rewrites `dst`.
#[inline(always)]
fn scatter_by_rows<T: Scalar>(
    p: &Problem<'_>,
    idx: &[i64],
    go: &[T],
    dst: &mut [T],
    lo: usize,
    per_pixel: usize,
) -> bool {
    let [az, ay, ax] = p.axes();
    let (in_h, row_len, out_row) = (ay.in_len(), ax.in_len() * per_pixel, ax.out_len() * per_pixel);
    let zero = T::from_grad(<T::Grad as GradAcc>::ZERO);
    let len = dst.len();
    let (mut zeroed, mut o) = (0, 0);
    let last = |a: &crate::problem::Axis<'_>, o: usize| a.start()[o] + (a.taps()[o] - 1) * a.dilation();
    for oz in 0..az.out_len() {
        let z_last = last(az, oz);
        for oy in 0..ay.out_len() {
            // The end of the last row this output row's windows hold, in `dst`.
            let reach = ((z_last * in_h + last(ay, oy) + 1) * row_len).saturating_sub(lo).min(len);
            if reach > zeroed {
                dst[zeroed..reach].fill(zero);
                zeroed = reach;
            }
            let (row_idx, row_go) = (&idx[o..o + out_row], &go[o..o + out_row]);
            o += out_row;
            if per_pixel == 1 {
                for (&i, &g) in row_idx.iter().zip(row_go) {
                    let e = (i as usize).wrapping_sub(lo);
                    if e < zeroed {
                        dst[e] = T::from_grad(dst[e].grad() + g.grad());
                    } else if e < len {
                        return false;
                    }
                }
                continue;
            }
            for (pix_idx, pix_go) in row_idx.chunks_exact(per_pixel).zip(row_go.chunks_exact(per_pixel)) {
                for (c, (&i, &g)) in pix_idx.iter().zip(pix_go).enumerate() {
                    let e = (i as usize).wrapping_mul(per_pixel).wrapping_add(c).wrapping_sub(lo);
                    if e < zeroed {
                        dst[e] = T::from_grad(dst[e].grad() + g.grad());
                    } else if e < len {
                        return false;
                    }
                }
            }
        }
    }
    dst[zeroed..].fill(zero);
    true
}

/// Elements `lo..lo + dst.len()` of one group, accumulated in `dst` (a type that is its own
/// gradient accumulator).
#[inline(always)]
fn scatter_in_place<T: Scalar>(idx: &[i64], go: &[T], dst: &mut [T], lo: usize, per_pixel: usize) {
    let zero = T::from_grad(<T::Grad as GradAcc>::ZERO);
    dst.fill(zero);
    let len = dst.len();
    if per_pixel == 1 {
        for (&i, &g) in idx.iter().zip(go) {
            let e = (i as usize).wrapping_sub(lo);
            if e < len {
                dst[e] = T::from_grad(dst[e].grad() + g.grad());
            }
        }
        return;
    }
    for (pix_idx, pix_go) in idx.chunks_exact(per_pixel).zip(go.chunks_exact(per_pixel)) {
        for (c, (&i, &g)) in pix_idx.iter().zip(pix_go).enumerate() {
            let e = (i as usize).wrapping_mul(per_pixel).wrapping_add(c).wrapping_sub(lo);
            if e < len {
                dst[e] = T::from_grad(dst[e].grad() + g.grad());
            }
        }
    }
}

/// Elements `lo..lo + dst.len()` (at most [`SPAN`]) of one group, accumulated in the gradient
/// type on the stack and rounded once.
fn scatter_span<T: Scalar>(idx: &[i64], go: &[T], dst: &mut [T], lo: usize, per_pixel: usize) {
    let mut acc = [<T::Grad as GradAcc>::ZERO; SPAN];
    let len = dst.len();
    for (pix_idx, pix_go) in idx.chunks_exact(per_pixel).zip(go.chunks_exact(per_pixel)) {
        for (c, (&i, &g)) in pix_idx.iter().zip(pix_go).enumerate() {
            let e = (i as usize).wrapping_mul(per_pixel).wrapping_add(c).wrapping_sub(lo);
            if e < len {
                acc[e] = acc[e] + g.grad();
            }
        }
    }
    for (d, &a) in dst.iter_mut().zip(&acc) {
        *d = T::from_grad(a);
    }
}

/// Whether every index lies in its own output's window (as the forward pass writes them). Then
/// the gather of [`super::backward`] with [`crate::GradRule::MaxIndices`] gives the scatter's
/// bits.
pub fn indices_in_windows(p: &Problem<'_>, indices: &[i64]) -> bool {
    let [az, ay, ax] = p.axes();
    let per_pixel = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
    let (h, w) = (ay.in_len(), ax.in_len());
    let (od, oh, ow) = (az.out_len(), ay.out_len(), ax.out_len());
    assert!(indices.len() == p.output_len(), "index length does not match");
    let mut pixels = indices.chunks_exact(per_pixel);
    for _group in 0..p.output_len() / (p.out_plane() * per_pixel) {
        for oz in 0..od {
            for oy in 0..oh {
                for ox in 0..ow {
                    let Some(pixel) = pixels.next() else { return false };
                    for &i in pixel {
                        let Ok(i) = usize::try_from(i) else { return false };
                        let (z, y, x) = (i / (h * w), i / w % h, i % w);
                        if !(az.holds(oz, z) && ay.holds(oy, y) && ax.holds(ox, x)) {
                            return false;
                        }
                    }
                }
            }
        }
    }
    true
}
