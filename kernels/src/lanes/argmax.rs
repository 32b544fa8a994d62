//! Max pooling with indices, written once over [`LaneIndices`] for every element type: the same
//! selection as the portable
//! kernel (row-major scan of the valid taps, a tap replaces the best when `v > best || isnan(v)`),
//! with the bookkeeping in registers: a compare mask picks both the value and its index (i32
//! lanes, widened to i64 only when stored).
//!
//! * Channels-last: lanes are neighbouring channels of one output pixel; every tap broadcasts its
//!   flat index.
//! * Channels-first, rows of at least `LANES` outputs: lanes are neighbouring outputs of a row;
//!   each lane carries its own window (start and tap count from the axis tables), so borders,
//!   dilation, ceil mode and adaptive windows need no special case. Consecutive windows load
//!   contiguously, others gather.
//! * Channels-first, rows of few outputs with long windows (global-as-one-window, 1-D text):
//!   each output's window splits into contiguous runs; lanes scan a run in parallel (lane `l`
//!   takes elements `l, l + LANES, ...` by the scan rule), and the lanes merge by the rule's
//!   meaning: the last NaN if any, else the largest value at its first index. Runs combine in scan
//!   order by the scan rule.
//!
//! The caller checks the buffers and that a plane has at most `i32::MAX` elements.

use super::{LaneElem, LaneIndices};
use crate::problem::{Layout, Problem};
use crate::scalar::{Scalar, max_takes};
use core::ops::Range;

/// `(start, taps, dilation)` of output `o` along an axis.
#[derive(Clone, Copy)]
struct Span {
    start: usize,
    taps: usize,
    dil: usize,
}

fn span(a: &crate::problem::Axis<'_>, o: usize) -> Span {
    Span { start: a.start()[o], taps: a.taps()[o], dil: a.dilation() }
}

/// A level's argmax entry (see [`crate::ArgmaxFn`]): checks the buffers, then runs the kernel
/// inside `l`'s `vectorize`; planes of more than `i32::MAX` elements take the portable kernel.
pub(crate) fn entry<L: LaneIndices>(
    l: L,
    p: &Problem<'_>,
    input: &[L::E],
    output: &mut [L::E],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    assert!(indices.len() == output.len(), "indices length does not match the output");
    if crate::route::argmax_fits(p) {
        l.vectorize(
            #[inline(always)]
            || argmax(l, p, input, output, indices, rows),
        )
    } else {
        crate::portable::argmax(p, input, output, indices, rows)
    }
}

/// The argmax kernel; the caller has checked the buffers against `p` and `rows`, and
/// `p.in_plane() <= i32::MAX`.
#[inline(always)]
pub(crate) fn argmax<L: LaneIndices>(
    l: L,

    p: &Problem<'_>,
    input: &[L::E],
    output: &mut [L::E],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    let [az, ay, ax] = p.axes();
    let per_image = az.out_len() * ay.out_len();
    let row_len = p.row_len();
    let in_plane = p.in_plane();
    let c_count = p.channels();
    let x0 = span(ax, 0);
    let full_rows = x0.start == 0 && x0.taps == ax.in_len() && (x0.dil == 1 || x0.taps == 1);
    let long = ax.out_len() < L::N && (full_rows || (x0.taps >= L::N && x0.dil == 1));
    if p.layout() == Layout::ChannelsFirst && !long {
        // Rows narrower than a register whose windows would gather take lanes over planes instead
        // (every lane live); everything else takes lanes over the outputs of a row.
        let ow = ax.out_len();
        let irregular = ow > 1 && (1..ow).any(|o| ax.taps()[o] != ax.taps()[0] || ax.start()[o] != ax.start()[0] + o);
        let narrow = ow < L::N && irregular && in_plane.checked_mul(L::N).is_some_and(|v| v <= i32::MAX as usize);
        if narrow {
            lanes_planes::<L>(l, p, input, output, indices, rows);
        } else {
            lanes_outputs::<L>(l, p, input, output, indices, rows);
        }
        return;
    }
    for ((r, out_row), idx_row) in rows.zip(output.chunks_exact_mut(row_len)).zip(indices.chunks_exact_mut(row_len)) {
        let (image, rem) = (r / per_image, r % per_image);
        let (oz, oy) = (rem / ay.out_len(), rem % ay.out_len());
        let geo = Geo { h: ay.in_len(), w: ax.in_len(), z: span(az, oz), y: span(ay, oy) };
        match p.layout() {
            Layout::ChannelsFirst => {
                let plane = &input[image * in_plane..(image + 1) * in_plane];
                for (ox, (o, i)) in out_row.iter_mut().zip(idx_row.iter_mut()).enumerate() {
                    let (v, at) = geo.runs::<L>(l, plane, span(ax, ox));
                    *o = v;
                    *i = at as i64;
                }
            }
            Layout::ChannelsLast => {
                let img = &input[image * in_plane * c_count..(image + 1) * in_plane * c_count];
                for ox in 0..ax.out_len() {
                    let at = ox * c_count;
                    lanes_channels::<L>(
                        l,
                        img,
                        c_count,
                        &geo,
                        span(ax, ox),
                        &mut out_row[at..at + c_count],
                        &mut idx_row[at..at + c_count],
                    );
                }
            }
        }
    }
}

/// Plane geometry and the depth and height windows of one output row.
struct Geo {
    h: usize,
    w: usize,
    z: Span,
    y: Span,
}

impl Geo {
    /// Offset of tap `(zi, yi)`'s row in the plane.
    #[inline(always)]
    fn row(&self, zi: usize, yi: usize) -> usize {
        ((self.z.start + zi * self.z.dil) * self.h + self.y.start + yi * self.y.dil) * self.w
    }

    /// Whether whole input rows of the window are contiguous, and whole planes too.
    #[inline(always)]
    fn merges(&self, x: Span) -> (bool, bool) {
        let rows = x.start == 0 && x.taps == self.w && (self.y.dil == 1 || self.y.taps == 1);
        let planes = rows && self.y.start == 0 && self.y.taps == self.h && (self.z.dil == 1 || self.z.taps == 1);
        (rows, planes)
    }

    /// The selected `(value, index)` of one window, run by run in scan order.
    #[inline(always)]
    fn runs<L: LaneIndices>(&self, l: L, plane: &[L::E], x: Span) -> (L::E, usize) {
        let mut best: Option<(L::E, usize)> = None;
        let mut take = |cand: (L::E, usize)| {
            best = Some(match best {
                Some(b) if !max_takes(cand.0, b.0) => b,
                _ => cand,
            });
        };
        if x.dil != 1 && x.taps > 1 {
            for zi in 0..self.z.taps {
                for yi in 0..self.y.taps {
                    let row = self.row(zi, yi) + x.start;
                    take(scan_strided(plane, row, x.taps, x.dil));
                }
            }
        } else {
            match self.merges(x) {
                (_, true) => take(scan_run::<L>(l, plane, self.row(0, 0), x.taps * self.y.taps * self.z.taps)),
                (true, false) => {
                    for zi in 0..self.z.taps {
                        take(scan_run::<L>(l, plane, self.row(zi, 0), x.taps * self.y.taps));
                    }
                }
                _ => {
                    for zi in 0..self.z.taps {
                        for yi in 0..self.y.taps {
                            take(scan_run::<L>(l, plane, self.row(zi, yi) + x.start, x.taps));
                        }
                    }
                }
            }
        }
        best.expect("every window has a tap")
    }
}

/// The scan rule over `plane[at + k * step]`, `k < taps`.
#[inline(always)]
fn scan_strided<E: Scalar>(plane: &[E], at: usize, taps: usize, step: usize) -> (E, usize) {
    let mut best = (plane[at], at);
    for k in 0..taps {
        let i = at + k * step;
        let v = plane[i];
        if max_takes(v, best.0) {
            best = (v, i);
        }
    }
    best
}

/// The scan rule over the contiguous run `plane[at..at + len]`, lanes in parallel.
#[inline(always)]
fn scan_run<L: LaneIndices>(l: L, plane: &[L::E], at: usize, len: usize) -> (L::E, usize) {
    let w = L::N;
    let run = &plane[at..at + len];
    if len < w {
        let (v, i) = scan_strided(run, 0, len, 1);
        return (v, at + i);
    }
    let ptr = run.as_ptr();
    let mut best = l.splat(L::E::LOWEST);
    let mut cur = l.add_idx(l.iota(), l.splat_idx(at as i32));
    let mut bidx = cur;
    let step = l.splat_idx(w as i32);
    let full = len / w;
    for k in 0..full {
        // SAFETY: k * w + w <= full * w <= len = run.len().
        let v = unsafe { l.load(ptr.add(k * w)) };
        let m = l.takes(v, best);
        best = l.select(m, v, best);
        bidx = l.select_idx(m, cur, bidx);
        cur = l.add_idx(cur, step);
    }
    let tail = len - full * w;
    if tail > 0 {
        // SAFETY: reads full * w .. len = run.len(). Missing lanes are -inf and never taken.
        let v = unsafe { l.load_part(ptr.add(full * w), tail, L::E::LOWEST) };
        let m = l.takes(v, best);
        best = l.select(m, v, best);
        bidx = l.select_idx(m, cur, bidx);
    }
    let mut vals = [L::E::ZERO; 16];
    let mut idx = [0i32; 16];
    l.spill(best, bidx, &mut vals, &mut idx);
    // Every lane saw at least one element (len >= LANES). Merge by the scan rule's meaning: the
    // last NaN in scan order if any, else the largest value at its first position.
    let (mut bv, mut bi) = (vals[0], idx[0]);
    for l in 1..w {
        let (v, i) = (vals[l], idx[l]);
        let take = if bv.is_nan() { v.is_nan() && i > bi } else { v.is_nan() || v > bv || (v == bv && i < bi) };
        if take {
            bv = v;
            bi = i;
        }
    }
    (bv, bi as usize)
}

/// The horizontal windows of `LANES` neighbouring outputs, shared by every row.
#[derive(Clone, Copy)]
struct LaneBlock {
    /// First output.
    ox: usize,
    /// Live lanes.
    n: usize,
    /// Window start and taps per lane (taps 0 for dead lanes).
    xs: [i32; 16],
    tx: [i32; 16],
    max_tx: usize,
    /// Distance between neighbouring starts when `regular` (equal taps, starts step 1 or 2).
    step: usize,
    regular: bool,
}

/// Blocks prepared at once, then applied to every row (about 4 KB of stack).
const GROUP: usize = 32;

/// Channels-first: lanes are `LANES` neighbouring outputs of a row. Each block's windows come
/// from the axis tables once per call, then serve every row of the range.
#[inline(always)]
fn lanes_outputs<L: LaneIndices>(
    l: L,

    p: &Problem<'_>,
    input: &[L::E],
    output: &mut [L::E],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    let [az, ay, ax] = p.axes();
    let w = L::N;
    let ow = ax.out_len();
    let per_image = az.out_len() * ay.out_len();
    let in_plane = p.in_plane();
    let blocks = ow.div_ceil(w);
    let mut g0 = 0;
    while g0 < blocks {
        let g1 = blocks.min(g0 + GROUP);
        let mut setup =
            [LaneBlock { ox: 0, n: 0, xs: [0; 16], tx: [0; 16], max_tx: 0, step: 1, regular: false }; GROUP];
        for (b, s) in (g0..g1).zip(setup.iter_mut()) {
            let ox = b * w;
            let n = w.min(ow - ox);
            let step = if n > 1 { ax.start()[ox + 1].wrapping_sub(ax.start()[ox]) } else { 1 };
            let mut regular = step == 1 || step == 2;
            s.ox = ox;
            s.n = n;
            s.step = step;
            for l in 0..n {
                let x = span(ax, ox + l);
                s.xs[l] = x.start as i32;
                s.tx[l] = x.taps as i32;
                s.max_tx = s.max_tx.max(x.taps);
                // Short-circuits before `l * step` for a step that is neither 1 nor 2 (starts may
                // decrease at a dilated, padded border).
                regular = regular && x.taps == ax.taps()[ox] && x.start == ax.start()[ox] + l * step;
            }
            s.regular = regular;
        }
        for (k, r) in rows.clone().enumerate() {
            let (image, rem) = (r / per_image, r % per_image);
            let (oz, oy) = (rem / ay.out_len(), rem % ay.out_len());
            let geo = Geo { h: ay.in_len(), w: ax.in_len(), z: span(az, oz), y: span(ay, oy) };
            let plane = &input[image * in_plane..(image + 1) * in_plane];
            let out_row = &mut output[k * ow..(k + 1) * ow];
            let idx_row = &mut indices[k * ow..(k + 1) * ow];
            for s in &setup[..g1 - g0] {
                lane_block::<L>(l, plane, &geo, ax.dilation(), s, out_row, idx_row);
            }
        }
        g0 = g1;
    }
}

/// One block of `LANES` outputs of one row.
#[inline(always)]
fn lane_block<L: LaneIndices>(
    l: L,
    plane: &[L::E],
    geo: &Geo,
    dx: usize,
    s: &LaneBlock,
    out_row: &mut [L::E],
    idx_row: &mut [i64],
) {
    let w = L::N;
    let base = plane.as_ptr();
    let n = s.n;
    let xsv = l.idx_from(&s.xs);
    let txv = l.idx_from(&s.tx);
    let mut best = l.splat(L::E::LOWEST);
    let mut bidx = l.add_idx(xsv, l.splat_idx(geo.row(0, 0) as i32));
    for zi in 0..geo.z.taps {
        for yi in 0..geo.y.taps {
            let row = geo.row(zi, yi);
            for t in 0..s.max_tx {
                let off = row + t * dx;
                let offs = l.add_idx(xsv, l.splat_idx(off as i32));
                let at = off + s.xs[0] as usize;
                let v = if s.regular && s.step == 1 {
                    assert!(at + n <= plane.len());
                    // SAFETY: lanes l < n read at + l = row + start[ox + l] + t * dx, a valid tap
                    // of output ox + l (t < taps), inside the plane (asserted too).
                    unsafe { if n == w { l.load(base.add(at)) } else { l.load_part(base.add(at), n, L::E::LOWEST) } }
                } else if s.regular && at + 2 * w <= plane.len() {
                    // SAFETY: reads at .. at + 2 * LANES, inside the plane (checked). Lanes l < n
                    // hold at + 2 * l, the tap of output ox + l; lanes >= n are never stored.
                    unsafe { l.order::<2>(l.load_even(base.add(at))) }
                } else {
                    let live = l.lt_idx(l.splat_idx(t as i32), txv);
                    // SAFETY: live lanes have t < taps[ox + l], so offs[l] is a valid tap of that
                    // output, inside the plane (Axis invariant); lanes >= n have taps 0.
                    unsafe { l.gather(base, offs, live, L::E::LOWEST) }
                };
                // Lanes without this tap hold -inf (or are dead), which never changes a live lane.
                let m = l.takes(v, best);
                best = l.select(m, v, best);
                bidx = l.select_idx(m, offs, bidx);
            }
        }
    }
    let ox = s.ox;
    l.store_with_indices(&mut out_row[ox..ox + n], &mut idx_row[ox..ox + n], best, bidx, n);
}

/// Channels-first rows narrower than a register: lanes are `LANES` planes (channels) at the same
/// output position, each gathering its plane's taps; the tap's index is common to all lanes. For
/// each output position `(oz, oy)`, the planes whose row lies in `rows` are a contiguous range.
/// The caller checked `in_plane * LANES <= i32::MAX`.
#[inline(always)]
fn lanes_planes<L: LaneIndices>(
    l: L,

    p: &Problem<'_>,
    input: &[L::E],
    output: &mut [L::E],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    let [az, ay, ax] = p.axes();
    let w = L::N;
    let ow = ax.out_len();
    let per_image = az.out_len() * ay.out_len();
    let in_plane = p.in_plane();
    let planes = input.len() / in_plane;
    let lane_offs = {
        let mut o = [0i32; 16];
        for (l, v) in o.iter_mut().enumerate().take(w) {
            *v = (l * in_plane) as i32;
        }
        l.idx_from(&o)
    };
    let base = input.as_ptr();
    for rem in 0..per_image {
        // Planes q with rows.start <= q * per_image + rem < rows.end.
        let q0 = rows.start.saturating_sub(rem).div_ceil(per_image);
        let q1 = if rows.end > rem { (rows.end - 1 - rem) / per_image + 1 } else { 0 };
        let q1 = q1.min(planes);
        let (oz, oy) = (rem / ay.out_len(), rem % ay.out_len());
        let geo = Geo { h: ay.in_len(), w: ax.in_len(), z: span(az, oz), y: span(ay, oy) };
        let mut q = q0;
        while q < q1 {
            let n = w.min(q1 - q);
            let live = l.lt_idx(l.iota(), l.splat_idx(n as i32));
            for ox in 0..ow {
                let x = span(ax, ox);
                let first = (geo.row(0, 0) + x.start) as i32;
                let mut best = l.splat(L::E::LOWEST);
                let mut bidx = l.splat_idx(first);
                for zi in 0..geo.z.taps {
                    for yi in 0..geo.y.taps {
                        let row = geo.row(zi, yi) + x.start;
                        for xi in 0..x.taps {
                            let tap = row + xi * x.dil;
                            assert!(tap < in_plane && (q + n) * in_plane <= input.len());
                            // SAFETY: live lanes l < n read plane q + l at tap < in_plane, inside
                            // input (asserted); offsets l * in_plane fit i32 (checked by the caller)
                            // and wrapping_add only forms the base address.
                            let v = unsafe {
                                l.gather(base.wrapping_add(q * in_plane + tap), lane_offs, live, L::E::LOWEST)
                            };
                            let m = l.takes(v, best);
                            best = l.select(m, v, best);
                            bidx = l.select_idx(m, l.splat_idx(tap as i32), bidx);
                        }
                    }
                }
                let mut vals = [L::E::ZERO; 16];
                let mut idx = [0i32; 16];
                l.spill(best, bidx, &mut vals, &mut idx);
                for l in 0..n {
                    let at = ((q + l) * per_image + rem - rows.start) * ow + ox;
                    output[at] = vals[l];
                    indices[at] = idx[l] as i64;
                }
            }
            q += n;
        }
    }
}

/// Channels-last: lanes are neighbouring channels of output pixel with horizontal span `x`.
#[inline(always)]
fn lanes_channels<L: LaneIndices>(
    l: L,
    img: &[L::E],
    cc: usize,
    geo: &Geo,
    x: Span,
    out: &mut [L::E],
    idx: &mut [i64],
) {
    let w = L::N;
    // The window's last tap has the largest offset; every read below ends by (last + 1) * cc.
    let last = geo.row(geo.z.taps - 1, geo.y.taps - 1) + x.start + (x.taps - 1) * x.dil;
    assert!((last + 1) * cc <= img.len() && out.len() == cc && idx.len() == cc);
    let mut c = 0;
    // Eight registers of values and eight of indices fit a 32-register file (AVX-512, NEON).
    while L::REGISTERS >= 32 && cc - c >= 8 * w {
        channel_block::<L, 8>(l, img, cc, geo, x, c, w, out, idx);
        c += 8 * w;
    }
    while cc - c >= 4 * w {
        channel_block::<L, 4>(l, img, cc, geo, x, c, w, out, idx);
        c += 4 * w;
    }
    while cc - c >= w {
        channel_block::<L, 1>(l, img, cc, geo, x, c, w, out, idx);
        c += w;
    }
    if c < cc {
        channel_block::<L, 1>(l, img, cc, geo, x, c, cc - c, out, idx);
    }
}

/// Channels `c .. c + (NB - 1) * LANES + part` of one output pixel (`part < LANES` only when
/// `NB == 1`); the caller checked that the window's last tap ends inside `img`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn channel_block<L: LaneIndices, const NB: usize>(
    l: L,

    img: &[L::E],
    cc: usize,
    geo: &Geo,
    x: Span,
    c: usize,
    part: usize,
    out: &mut [L::E],
    idx: &mut [i64],
) {
    let w = L::N;
    assert!(c + (NB - 1) * w + part <= cc && (part == w || NB == 1));
    let base = img.as_ptr();
    let first = (geo.row(0, 0) + x.start) as i32;
    let mut best = [l.splat(L::E::LOWEST); NB];
    let mut bidx = [l.splat_idx(first); NB];
    for zi in 0..geo.z.taps {
        for yi in 0..geo.y.taps {
            let row = geo.row(zi, yi) + x.start;
            for xi in 0..x.taps {
                let pix = row + xi * x.dil;
                let pv = l.splat_idx(pix as i32);
                let at = pix * cc + c;
                for b in 0..NB {
                    // SAFETY: pix is a tap of the window, at most its last tap, and
                    // c + b * w + part <= cc, so the read ends by (last + 1) * cc <= img.len().
                    let v = unsafe {
                        if part == w {
                            l.load(base.add(at + b * w))
                        } else {
                            l.load_part(base.add(at + b * w), part, L::E::LOWEST)
                        }
                    };
                    let m = l.takes(v, best[b]);
                    best[b] = l.select(m, v, best[b]);
                    bidx[b] = l.select_idx(m, pv, bidx[b]);
                }
            }
        }
    }
    for b in 0..NB {
        let at = c + b * w;
        l.store_with_indices(&mut out[at..at + part], &mut idx[at..at + part], best[b], bidx[b], part);
    }
}
