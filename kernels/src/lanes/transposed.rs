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

use crate::problem::{Layout, Problem, Reduce};
use core::ops::Range;

/// Planes per group, at most.
const GROUP: usize = 64;
/// Floats in each scratch buffer (input and output): 32 KB, in L1 while the group is pooled.
const SCRATCH: usize = 8192;

/// A window kernel of one layout (the shape of [`crate::WindowFn`] for `f32`).
pub(crate) type Kernel = fn(&Problem<'_>, &Reduce, &[f32], &mut [f32], Range<usize>);

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

/// 8x8 blocks of a matrix transpose, one implementation per ISA.
pub(crate) trait Block8: Copy {
    /// Writes `dst[(c * ds) + r] = src[(r * ss) + c]` for `r, c < 8`.
    ///
    /// # Safety
    /// `src[r * ss .. r * ss + 8]` must be readable and `dst[c * ds .. c * ds + 8]` writable for
    /// every `r, c < 8`, and the two ranges must not overlap.
    unsafe fn block8(self, src: *const f32, ss: usize, dst: *mut f32, ds: usize);
}

/// Element by element (NEON, and any level without a vector block).
#[derive(Clone, Copy)]
pub(crate) struct Plain;

impl Block8 for Plain {
    #[inline(always)]
    unsafe fn block8(self, src: *const f32, ss: usize, dst: *mut f32, ds: usize) {
        for r in 0..8 {
            for c in 0..8 {
                // SAFETY: the caller guarantees both 8x8 ranges (r, c < 8).
                unsafe { *dst.add(c * ds + r) = *src.add(r * ss + c) };
            }
        }
    }
}

/// `dst[c * rows + r] = src[r * cols + c]`: the `rows x cols` matrix `src`, transposed.
#[inline(always)]
fn transpose<B: Block8>(b: B, src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    assert!(src.len() == rows * cols && dst.len() == rows * cols);
    let (r8, c8) = (rows / 8 * 8, cols / 8 * 8);
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    for r0 in (0..r8).step_by(8) {
        for c0 in (0..c8).step_by(8) {
            // SAFETY: r0 + 8 <= rows and c0 + 8 <= cols, so source rows r0 + r (r < 8) hold
            // columns c0..c0 + 8 inside `src` ((r0 + r) * cols + c0 + 8 <= rows * cols), and
            // destination rows c0 + c hold r0..r0 + 8 inside `dst` likewise; `src` and `dst` are
            // distinct slices.
            unsafe { b.block8(sp.add(r0 * cols + c0), cols, dp.add(c0 * rows + r0), rows) };
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

/// Runs `p` (with [`group`] `Some(g)`): whole planes of `rows` by groups through `last`, the rest
/// through `first`. Transposes use `b`'s 8x8 blocks.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn run<B: Block8>(
    b: B,
    p: &Problem<'_>,
    red: &Reduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
    g: usize,
    first: Kernel,
    last: Kernel,
) {
    p.check(input.len(), output.len(), &rows);
    let per_plane = p.axes()[0].out_len() * p.axes()[1].out_len();
    let (ip, op) = (p.in_plane(), p.out_plane());
    let row_len = p.row_len();
    let plane0 = rows.start.div_ceil(per_plane);
    let plane1 = (rows.end / per_plane).max(plane0);
    let (head, body_end) = if plane0 < plane1 {
        (plane0 * per_plane, plane1 * per_plane)
    } else {
        // No whole plane: everything goes to the channels-first kernel.
        (rows.end, rows.end)
    };
    let (out_head, rest) = output.split_at_mut((head - rows.start) * row_len);
    let (out_body, out_tail) = rest.split_at_mut((body_end - head) * row_len);
    if head > rows.start {
        first(p, red, input, out_head, rows.start..head);
    }
    let mut xs = [0.0f32; SCRATCH];
    let mut ys = [0.0f32; SCRATCH];
    let mut pl = plane0;
    for out in out_body.chunks_mut(g * op) {
        let n = out.len() / op;
        let sub = Problem::new(Layout::ChannelsLast, 1, n, *p.axes()).expect("a group is smaller than the problem");
        let (xs, ys) = (&mut xs[..n * ip], &mut ys[..n * op]);
        transpose(b, &input[pl * ip..(pl + n) * ip], n, ip, xs);
        last(&sub, red, xs, ys, 0..per_plane);
        transpose(b, ys, op, n, out);
        pl += n;
    }
    if rows.end > body_end {
        first(p, red, input, out_tail, body_end..rows.end);
    }
}
