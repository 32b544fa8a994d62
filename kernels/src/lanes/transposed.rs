//! Channels-first problems with small planes and irregular windows, run by the channels-last
//! kernel on transposed groups of planes.
//!
//! The separable channels-first nest vectorises along a row of outputs. When the windows along x
//! are irregular (adaptive pooling, x strides other than 1, 2 and 4) its horizontal pass folds
//! one output at a time from the per-axis tables, and on small planes (torchvision's adaptive
//! average pool, 10x10 to 7x7) that scalar pass and the per-row set-up are nearly all the work.
//! Here up to [`GROUP`] whole planes are transposed into a channels-last scratch (pixel-major,
//! the planes as channels), pooled by the channels-last kernel (vectorised over the planes, which
//! handles irregular windows at full speed), and the results transposed back.
//!
//! Same bits: the channels-last kernel follows the same canonical order per output (each window
//! row folded left to right, rows top to bottom, planes front to back; max as one row-major scan).
//! Rows of a range that start or end inside a plane go to the channels-first kernel.
//!
//! Max with indices takes the same route ([`pool_groups_argmax`]): adaptive max with indices, 512 planes
//! of 10x10 to 7x7, went from 74 µs on the channels-first argmax kernel (per-output gathers) to
//! 33 µs (AVX-512 level, docs/design-argmax.md; the channels-last layout itself takes 10.7 µs).

use crate::lanes::{FloatElem, FloatLanes, LaneElem, Lanes};
use crate::problem::{Layout, Problem, Reduce};
use core::ops::Range;

/// Planes per group, at most.
const GROUP: usize = 64;
/// Elements in each scratch buffer (input and output): 32 KB of `f32` (64 KB of `f64`), in L1 or
/// L2 while the group is pooled.
const SCRATCH: usize = 8192;

/// A window kernel of one layout (the shape of [`crate::WindowFn`] for `E`), holding its level.
pub(crate) trait Kernel<E>: Fn(&Problem<'_>, &Reduce, &[E], &mut [E], Range<usize>) {}
impl<E, F: Fn(&Problem<'_>, &Reduce, &[E], &mut [E], Range<usize>)> Kernel<E> for F {}

/// Planes per group for `p`, or `None` when the channels-first nest should run `p` itself: the
/// x windows are regular with a stride of 1, 2 or 4 (the nest's vector horizontal pass), or
/// fewer than 8 planes fit the scratch.
pub(crate) fn group(p: &Problem<'_>) -> Option<usize> {
    if p.layout() != Layout::ChannelsFirst {
        return None;
    }
    if let Some(u) = p.axes()[2].uniform()
        && matches!(u.stride, 1 | 2 | 4)
    {
        return None;
    }
    let g = (SCRATCH / p.in_plane().max(p.out_plane())).min(GROUP) / 8 * 8;
    (g >= 8).then_some(g)
}

/// `dst[c * rows + r] = src[r * cols + c]`: the `rows x cols` matrix `src`, transposed.
#[inline(always)]
fn transpose<V: Lanes>(v: V, src: &[V::E], rows: usize, cols: usize, dst: &mut [V::E]) {
    assert!(src.len() == rows * cols && dst.len() == rows * cols);
    let (r8, c8) = (rows / 8 * 8, cols / 8 * 8);
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    for r0 in (0..r8).step_by(8) {
        for c0 in (0..c8).step_by(8) {
            // SAFETY: r0 + 8 <= rows and c0 + 8 <= cols, so source rows r0 + r (r < 8) hold
            // columns c0..c0 + 8 inside `src` ((r0 + r) * cols + c0 + 8 <= rows * cols), and
            // destination rows c0 + c hold r0..r0 + 8 inside `dst` likewise; `src` and `dst` are
            // distinct slices.
            unsafe { v.transpose8(sp.add(r0 * cols + c0), cols, dp.add(c0 * rows + r0), rows) };
        }
        for c in c8..cols {
            for r in r0..r0 + 8 {
                dst[c * rows + r] = src[r * cols + c];
            }
        }
    }
    for r in r8..rows {
        for c in 0..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

/// A row range of `p` cut where whole planes begin and end: rows `start..head` and
/// `body_end..end` are parts of planes (for the channels-first kernel), `head..body_end` whole
/// planes from `plane0` on, `per_plane` rows each.
struct Cut {
    head: usize,
    body_end: usize,
    plane0: usize,
    per_plane: usize,
}

impl Cut {
    fn new(p: &Problem<'_>, rows: &Range<usize>) -> Cut {
        let per_plane = p.axes()[0].out_len() * p.axes()[1].out_len();
        let plane0 = rows.start.div_ceil(per_plane);
        let plane1 = (rows.end / per_plane).max(plane0);
        let (head, body_end) = if plane0 < plane1 {
            (plane0 * per_plane, plane1 * per_plane)
        } else {
            // No whole plane: everything goes to the channels-first kernel.
            (rows.end, rows.end)
        };
        Cut { head, body_end, plane0, per_plane }
    }

    /// `buf`, the outputs of `rows` (`row_len` per row), cut the same way: head, body, tail.
    fn parts<'a, T>(&self, rows: &Range<usize>, row_len: usize, buf: &'a mut [T]) -> [&'a mut [T]; 3] {
        let (head, rest) = buf.split_at_mut((self.head - rows.start) * row_len);
        let (body, tail) = rest.split_at_mut((self.body_end - self.head) * row_len);
        [head, body, tail]
    }
}

/// Runs `p` (with [`group`] `Some(g)`): whole planes of `rows` by groups through `last`, the rest
/// through `first`. Transposes use `v`'s 8x8 blocks ([`Lanes::transpose8`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn pool_groups<V: Lanes, F: Kernel<V::E>, L: Kernel<V::E>>(
    v: V,
    p: &Problem<'_>,
    red: &Reduce,
    input: &[V::E],
    output: &mut [V::E],
    rows: Range<usize>,
    g: usize,
    first: F,
    last: L,
) {
    p.check(input.len(), output.len(), &rows);
    let (ip, op) = (p.in_plane(), p.out_plane());
    let cut = Cut::new(p, &rows);
    let [out_head, out_body, out_tail] = cut.parts(&rows, p.row_len(), output);
    if cut.head > rows.start {
        first(p, red, input, out_head, rows.start..cut.head);
    }
    let mut xs = [V::E::ZERO; SCRATCH];
    let mut ys = [V::E::ZERO; SCRATCH];
    for (k, out) in out_body.chunks_mut(g * op).enumerate() {
        let (pl, n) = (cut.plane0 + k * g, out.len() / op);
        let sub = Problem::new(Layout::ChannelsLast, 1, n, *p.axes()).expect("a group is smaller than the problem");
        let (xs, ys) = (&mut xs[..n * ip], &mut ys[..n * op]);
        transpose(v, &input[pl * ip..(pl + n) * ip], n, ip, xs);
        last(&sub, red, xs, ys, 0..cut.per_plane);
        transpose(v, ys, op, n, out);
    }
    if rows.end > cut.body_end {
        first(p, red, input, out_tail, cut.body_end..rows.end);
    }
}

/// An argmax kernel of one layout (the shape of [`crate::ArgmaxFn`] for `E`), holding its level.
pub(crate) trait ArgKernel<E>: Fn(&Problem<'_>, &[E], &mut [E], &mut [i64], Range<usize>) {}
impl<E, F: Fn(&Problem<'_>, &[E], &mut [E], &mut [i64], Range<usize>)> ArgKernel<E> for F {}

/// [`pool_groups`] for max with indices: the channels-last argmax kernel pools each transposed group, and
/// its values and indices are transposed back. Indices count positions inside a plane, the same
/// in both layouts, so they need no translation; the scan order per output is the same too
/// (window rows top to bottom, each left to right), so the selected element is the same.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn pool_groups_argmax<V: FloatLanes, F: ArgKernel<V::E>, L: ArgKernel<V::E>>(
    v: V,
    p: &Problem<'_>,
    input: &[V::E],
    output: &mut [V::E],
    indices: &mut [i64],
    rows: Range<usize>,
    g: usize,
    first: F,
    last: L,
) {
    p.check(input.len(), output.len(), &rows);
    assert!(indices.len() == output.len(), "indices length does not match the output");
    let (ip, op) = (p.in_plane(), p.out_plane());
    let cut = Cut::new(p, &rows);
    let [out_head, out_body, out_tail] = cut.parts(&rows, p.row_len(), output);
    let [idx_head, idx_body, idx_tail] = cut.parts(&rows, p.row_len(), indices);
    if cut.head > rows.start {
        first(p, input, out_head, idx_head, rows.start..cut.head);
    }
    let mut xs = [V::E::ZERO; SCRATCH];
    let mut ys = [V::E::ZERO; SCRATCH];
    let mut is = [0i64; SCRATCH];
    for (k, (out, idx)) in out_body.chunks_mut(g * op).zip(idx_body.chunks_mut(g * op)).enumerate() {
        let (pl, n) = (cut.plane0 + k * g, out.len() / op);
        let sub = Problem::new(Layout::ChannelsLast, 1, n, *p.axes()).expect("a group is smaller than the problem");
        let is = &mut is[..n * op];
        {
            let (xg, yg) = (&mut xs[..n * ip], &mut ys[..n * op]);
            transpose(v, &input[pl * ip..(pl + n) * ip], n, ip, xg);
            last(&sub, xg, yg, is, 0..cut.per_plane);
            transpose(v, yg, op, n, out);
        }
        // The indices go back through the same transpose as bit patterns of the element type (a
        // transpose only moves bits): they are below 2^31 (the argmax kernels take planes of at
        // most i32::MAX elements, and a group's planes fit the scratch), so 32 bits hold them
        // whole. Both scratch buffers are free again, and each holds n * op elements (`group`).
        let (bits, back) = (&mut xs[..n * op], &mut ys[..n * op]);
        for (b, &i) in bits.iter_mut().zip(is.iter()) {
            *b = V::E::from_index_bits(i as u32);
        }
        transpose(v, bits, op, n, back);
        for (v, y) in idx.iter_mut().zip(back.iter()) {
            *v = i64::from(y.index_bits());
        }
    }
    if rows.end > cut.body_end {
        first(p, input, out_tail, idx_tail, cut.body_end..rows.end);
    }
}
