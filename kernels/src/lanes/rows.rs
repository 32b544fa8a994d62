//! Channels-first (NCL, NCHW, NCDHW) max on max-only lanes: the byte and half types.
//!
//! # Algorithm
//! An output row `(plane, oz, oy)` is computed a chunk of outputs at a time; a chunk's x windows
//! span input columns `lo..hi` (at most [`COLS`]). Lanes whose max is order-free (the byte types:
//! [`RowsMax::ORDER_FREE`]) fold the window rows first:
//! 1. **Vertical fold**: `col[x] = max` over the window's `(z, y)` input rows of `in[z][y][x]`,
//!    for `x` in `lo..hi`, `N` lanes at a time with contiguous loads (the row tail through a mask).
//! 2. **Horizontal fold** of `col`: an output whose x window is whole (all `k` taps inside the
//!    input) is `max_t col[start + t * d]`. With stride 1, `N` neighbouring whole outputs are one
//!    vector per tap (shifted loads) stored in place; with stride 2, one deinterleaving load per
//!    tap; with any other stride the stride-1 window max `h[x]` is computed `N` at a time and each
//!    output copies `h[start - start_first]`. Outputs whose window is cut by padding, and
//!    adaptive windows, fold their taps from the tables.
//!
//! Lanes whose max needs the scan order (the half types: the rule picks the first of equal zeros
//! and the last of several NaNs) fold each window row horizontally instead (step 2 on a copy of
//! the input row) and then the row results top to bottom, front to back: the row-major scan,
//! grouped by rows, which the rule's associativity allows.
//!
//! ```text
//! for row in rows:                        # (plane, oz, oy)
//!     for chunk of outputs (columns lo..hi):
//!         order-free:  col[lo..hi] = max over window rows r of in[r][lo..hi]   # N lanes at a time
//!                      out[chunk] = fold_x(col)
//!         scan order:  out[chunk] = fold_x(in[r0][lo..hi])
//!                      for later window rows r: out[chunk] = max(out[chunk], fold_x(in[r][lo..hi]))
//! fold_x, whole outputs, stride 1: out[o..o+N] = max_t col[start[o] + t*d ..][..N]
//!         whole outputs, stride 2: out[o..o+N] = max_t even(col[start[o] + t*d ..][..2N])
//!         whole outputs, stride s: h[x] = max_t col[x + t*d];  out[o] = h[start[o]]
//!         other outputs:           out[o] = max over the taps of o in col, in order
//! ```
//!
//! Same bits as the portable kernel: every fold applies the scan rule `r > l || r.is_nan()` with
//! the earlier element on the left, so the scan-order path selects the scan's element; the maximum
//! of integers is associative and commutative and integers have no NaN, so for them every fold
//! order gives the same value (and equal maxima are the same bits). Only valid taps are read (the
//! tables hold no padding).

use crate::lanes::{LaneElem, Lanes};
use crate::problem::{Axis, Problem};
use core::ops::Range;

/// Input columns one chunk folds: 4 KiB of bytes, in L1 with the rows it reads.
const COLS: usize = 4096;
/// Room after the folded columns for the last vector of the horizontal pass, which may read up
/// to two vectors past the columns a chunk needs (those lanes are never stored).
const SLACK: usize = 128;

/// Lanes this family takes, and the fold order their max needs.
pub(crate) trait RowsMax: Lanes {
    /// Whether the max is the same whatever the order of the fold: integer elements (no NaN,
    /// and equal values are equal bits), so the window rows may be folded first.
    const ORDER_FREE: bool;
}

/// Whether this family takes `p`: every x window fits one chunk of [`COLS`] columns.
pub(crate) fn fits(p: &Problem<'_>) -> bool {
    let ax = &p.axes()[2];
    (0..ax.out_len()).all(|o| span(ax, o) <= COLS)
}

/// Columns `start .. start + span` that output `o`'s x window covers.
#[inline(always)]
fn span(ax: &Axis<'_>, o: usize) -> usize {
    (ax.taps()[o] - 1) * ax.dilation() + 1
}

/// Rows `rows` of the channels-first max problem `p` (see the module docs), inside the lanes'
/// `vectorize`. `p` must fit ([`fits`]); a problem that does not runs the portable kernel.
pub(crate) fn window_max_rows<L: RowsMax>(
    l: L,
    p: &Problem<'_>,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    if !fits(p) {
        return crate::portable::window(p, &crate::problem::Reduce::Max, input, output, rows);
    }
    l.vectorize(
        #[inline(always)]
        || rows_body(l, p, input, output, rows),
    )
}

/// The outputs of one row whose x windows are whole, `first..end`, with their shape: `k` taps
/// `d` apart, stride `s`.
#[derive(Clone, Copy)]
struct Whole {
    first: usize,
    end: usize,
    k: usize,
    d: usize,
    s: usize,
}

impl Whole {
    /// The whole outputs of a regular x axis (none for adaptive windows): the outputs with `k`
    /// taps form one run, since padding only cuts windows at the ends of the row.
    fn of(ax: &Axis<'_>) -> Whole {
        let none = Whole { first: 0, end: 0, k: 1, d: 1, s: 1 };
        let Some(u) = ax.uniform() else { return none };
        let taps = ax.taps();
        let Some(first) = taps.iter().position(|&t| t == u.kernel) else { return none };
        let end = first + taps[first..].iter().take_while(|&&t| t == u.kernel).count();
        Whole { first, end, k: u.kernel, d: ax.dilation(), s: u.stride }
    }
}

#[inline(always)]
fn rows_body<L: RowsMax>(l: L, p: &Problem<'_>, input: &[L::E], output: &mut [L::E], rows: Range<usize>) {
    const { assert!(L::N <= SLACK) };
    let [az, ay, ax] = *p.axes();
    let (oh, ow) = (ay.out_len(), ax.out_len());
    let per_plane = az.out_len() * oh;
    let whole = Whole::of(&ax);
    let mut col = [L::E::ZERO; COLS + SLACK];
    let mut h = [L::E::ZERO; COLS + SLACK];
    // One window row's outputs (the scan-order path), with room for whole-vector stores.
    let mut row_out = [L::E::ZERO; COLS + SLACK];
    // A row whose windows all fit one chunk (most) is one chunk, found once.
    let first = chunk(&ax, 0);
    // The first row's (plane, oz, oy), then counted on (no division per row).
    let (plane, within) = (rows.start / per_plane, rows.start % per_plane);
    let mut rows_of = WindowRows { p, az, ay, oz: within / oh, oy: within % oh, base: plane * p.in_plane() };
    for (i, _) in rows.enumerate() {
        if i > 0 {
            rows_of.oy += 1;
            if rows_of.oy == oh {
                rows_of.oy = 0;
                rows_of.oz += 1;
                if rows_of.oz == az.out_len() {
                    rows_of.oz = 0;
                    rows_of.base += p.in_plane();
                }
            }
        }
        // This row's outputs and every later one: a vector store may spill past the row into
        // outputs written after it.
        let out = &mut output[i * ow..];
        let mut o0 = 0;
        while o0 < ow {
            let (o1, lo, hi) = if o0 == 0 { first } else { chunk(&ax, o0) };
            if L::ORDER_FREE {
                rows_of.fold(l, input, lo, hi, &mut col);
                fold_x(l, &ax, whole, o0..o1, lo, &col, &mut h, &mut out[o0..]);
            } else {
                let steps = rows_of.steps();
                for z in 0..steps.tz {
                    for y in 0..steps.ty {
                        // Every window row lies inside the input (the tables hold only valid
                        // taps), and `lo..hi` inside the row.
                        let at = steps.offset(z, y);
                        col[..hi - lo].copy_from_slice(&input[at + lo..at + hi]);
                        if z + y == 0 {
                            fold_x(l, &ax, whole, o0..o1, lo, &col, &mut h, &mut out[o0..]);
                        } else {
                            fold_x(l, &ax, whole, o0..o1, lo, &col, &mut h, &mut row_out);
                            later_row(l, &mut out[o0..o1], &row_out[..o1 - o0]);
                        }
                    }
                }
            }
            o0 = o1;
        }
    }
}

/// The taps `at`, `at + d`, ... (`k` of them) folded by the scan rule left to right, each tap
/// `N` lanes from there (`EVEN`: the `N` even elements of `2N`, [`Lanes::load_even`]). A plain
/// loop in an inlined function: an `Iterator::fold` or a closure the optimiser leaves out of line
/// takes the loads and maxima with it, out of the token's target features.
///
/// # Safety
/// Each tap's `N` (`EVEN`: `2N`) elements must be readable.
#[inline(always)]
unsafe fn taps_max<L: Lanes, const EVEN: bool>(l: L, at: *const L::E, k: usize, d: usize) -> L::V {
    // SAFETY: the caller's contract, for the first tap.
    let mut acc = unsafe { tap::<L, EVEN>(l, at) };
    for t in 1..k {
        // SAFETY: the caller's contract, for tap `t < k`.
        acc = l.max_rule(acc, unsafe { tap::<L, EVEN>(l, at.wrapping_add(t * d)) });
    }
    acc
}

/// One tap of [`taps_max`].
///
/// # Safety
/// `N` (`EVEN`: `2N`) elements at `p` must be readable.
#[inline(always)]
unsafe fn tap<L: Lanes, const EVEN: bool>(l: L, p: *const L::E) -> L::V {
    // SAFETY: forwarded contract.
    unsafe { if EVEN { l.load_even(p) } else { l.load(p) } }
}

/// `acc[o] = max(acc[o], later[o])` by the scan rule: the outputs folded from the window rows
/// so far, then a later window row's (`acc.len() == later.len()`).
#[inline(always)]
fn later_row<L: RowsMax>(l: L, acc: &mut [L::E], later: &[L::E]) {
    assert_eq!(acc.len(), later.len());
    let (n, ap, lp) = (acc.len(), acc.as_mut_ptr(), later.as_ptr());
    let mut x = 0;
    while x + L::N <= n {
        // SAFETY: `x + N <= n`: `N` elements of each slice.
        unsafe { l.store(ap.add(x), l.max_rule(l.load(ap.add(x)), l.load(lp.add(x)))) };
        x += L::N;
    }
    if x < n {
        let m = l.mask(n - x);
        // SAFETY: the mask selects the `n - x < N` elements left in each slice, which the masked
        // load and store alone touch.
        unsafe { l.store_masked(m, ap.add(x), l.max_rule(l.load_masked(m, ap.add(x)), l.load_masked(m, lp.add(x)))) };
    }
}

/// The outputs `o0..o1` from `o0` on whose x windows lie in columns `lo..hi` with
/// `hi - lo <= COLS` (at least output `o0`, which [`fits`] guarantees).
#[inline(always)]
fn chunk(ax: &Axis<'_>, o0: usize) -> (usize, usize, usize) {
    let start = ax.start();
    let (mut lo, mut hi) = (start[o0], start[o0] + span(ax, o0));
    let mut o1 = o0 + 1;
    while o1 < ax.out_len() {
        let (l, h) = (lo.min(start[o1]), hi.max(start[o1] + span(ax, o1)));
        if h - l > COLS {
            break;
        }
        (lo, hi, o1) = (l, h, o1 + 1);
    }
    (o1, lo, hi)
}

/// The input rows of one output row's window: depth taps of `az` at output `oz`, height taps of
/// `ay` at `oy`, in the plane starting at element `base`.
struct WindowRows<'a, 'p> {
    p: &'a Problem<'p>,
    az: Axis<'p>,
    ay: Axis<'p>,
    oz: usize,
    oy: usize,
    base: usize,
}

/// Where one output row's window rows are: `tz x ty` rows, the first at element `first`, the
/// next depth tap `step_z` elements on, the next height tap `step_y` on.
#[derive(Clone, Copy)]
struct RowSteps {
    first: usize,
    step_z: usize,
    step_y: usize,
    tz: usize,
    ty: usize,
}

impl RowSteps {
    /// Element offset of window row `(z, y)`.
    #[inline(always)]
    fn offset(&self, z: usize, y: usize) -> usize {
        self.first + z * self.step_z + y * self.step_y
    }
}

impl WindowRows<'_, '_> {
    /// The window rows of the current output row.
    #[inline(always)]
    fn steps(&self) -> RowSteps {
        let (h, w) = (self.ay.in_len(), self.p.axes()[2].in_len());
        let (z, y) = (self.az.start()[self.oz], self.ay.start()[self.oy]);
        RowSteps {
            first: self.base + (z * h + y) * w,
            step_z: self.az.dilation() * h * w,
            step_y: self.ay.dilation() * w,
            tz: self.az.taps()[self.oz],
            ty: self.ay.taps()[self.oy],
        }
    }

    /// `col[x - lo] = max` over the window rows of column `x`, for `x` in `lo..hi`.
    #[inline(always)]
    fn fold<L: RowsMax>(&self, l: L, input: &[L::E], lo: usize, hi: usize, col: &mut [L::E; COLS + SLACK]) {
        let steps = self.steps();
        let w = self.p.axes()[2].in_len();
        debug_assert!(lo < hi && hi <= w && hi - lo <= COLS);
        // Every window row lies inside the input: its offset plus `w` is at most the input
        // length (the axis tables hold only valid taps, and `base` starts a plane).
        let last = steps.offset(steps.tz - 1, steps.ty - 1);
        assert!(last + w <= input.len());
        let (ip, cp) = (input.as_ptr(), col.as_mut_ptr());
        let n = hi - lo;
        let mut x = 0;
        // Elements readable from the start of the last window row (the rows before it start
        // earlier): whole vectors past `hi` read the next row or plane, inside the input, into
        // lanes no output uses.
        let room = input.len() - last;
        if lo + n.div_ceil(L::N) * L::N <= room {
            while x < n {
                // SAFETY: `lo + x + N <= room`, so each load reads `N` elements inside `input`
                // (every window row starts at or before `last`).
                let v = fold_column(l, steps, |row| unsafe { l.load(ip.add(row + lo + x)) });
                // SAFETY: `x + N < n + N <= COLS + SLACK` elements of `col`.
                unsafe { l.store(cp.add(x), v) };
                x += L::N;
            }
            return;
        }
        while x < n && n >= L::N {
            // The last vector ends at `n`, overlapping its predecessor (the same values again).
            x = x.min(n - L::N);
            // SAFETY: `lo + x + N <= hi <= w`, so each load reads `N` elements of one window row
            // (offset + w <= input.len(), checked above).
            let v = fold_column(l, steps, |row| unsafe { l.load(ip.add(row + lo + x)) });
            // SAFETY: `x + N <= n <= COLS` elements of `col`.
            unsafe { l.store(cp.add(x), v) };
            x += L::N;
        }
        if x < n {
            let m = l.mask(n - x);
            // SAFETY: as above for the `n - x < N` selected lanes, which the masked load reads
            // alone.
            let v = fold_column(l, steps, |row| unsafe { l.load_masked(m, ip.add(row + lo + x)) });
            // SAFETY: the selected lanes `x .. n` lie in `col`.
            unsafe { l.store_masked(m, cp.add(x), v) };
        }
    }
}

/// The max over the window rows of `load(offset of the row)`.
#[inline(always)]
fn fold_column<L: RowsMax>(l: L, steps: RowSteps, load: impl Fn(usize) -> L::V) -> L::V {
    let mut acc = load(steps.first);
    for z in 0..steps.tz {
        for y in 0..steps.ty {
            if z + y > 0 {
                acc = l.max_rule(acc, load(steps.offset(z, y)));
            }
        }
    }
    acc
}

/// Outputs `outs` of one row from the folded columns `col` (column `lo` first), into `out`
/// (output `outs.start` first). Elements of `out` past the row's outputs may be overwritten: the
/// caller writes them afterwards.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn fold_x<L: RowsMax>(
    l: L,
    ax: &Axis<'_>,
    whole: Whole,
    outs: Range<usize>,
    lo: usize,
    col: &[L::E; COLS + SLACK],
    h: &mut [L::E; COLS + SLACK],
    out: &mut [L::E],
) {
    let (start, taps, d) = (ax.start(), ax.taps(), ax.dilation());
    let scalar = |o: usize| {
        let at = start[o] - lo;
        (1..taps[o]).fold(col[at], |acc, t| {
            let v = col[at + t * d];
            if crate::max_takes(v, acc) { v } else { acc }
        })
    };
    // The whole outputs of this chunk.
    let (a, b) = (whole.first.max(outs.start), whole.end.min(outs.end));
    let o0 = outs.start;
    if a >= b {
        for o in outs {
            out[o - o0] = scalar(o);
        }
        return;
    }
    for o in o0..a {
        out[o - o0] = scalar(o);
    }
    let (k, wd) = (whole.k, whole.d);
    let cp = col.as_ptr();
    let mut o = a;
    if whole.s == 1 && b - a >= L::N {
        // Outputs o..o + N are whole with consecutive starts, so window column x of output
        // o + j is start[o] + j + t * d: one load per tap.
        while o < b {
            // The last vector ends at `b`, overlapping its predecessor (`b - a >= N`).
            o = o.min(b - L::N);
            // SAFETY: the window max at column `start[o] - lo`, `N` neighbouring columns:
            // `start[o + N - 1] - lo + (k - 1) * d < hi - lo <= COLS`, the loads stay in `col`.
            let v = unsafe { taps_max::<L, false>(l, cp.add(start[o] - lo), k, wd) };
            // SAFETY: `o + N <= b <= outs.end`: `N` outputs of `out`.
            unsafe { l.store(out.as_mut_ptr().add(o - o0), v) };
            o += L::N;
        }
    } else if whole.s == 2 {
        // Outputs o..o + N are whole with starts two apart: tap t of output o + j is the even
        // element j of the `2N` columns from start[o] + t * d (one deinterleaving load per tap).
        // At a whole output's start `x`: `x + (k - 1) * d < COLS` (a whole window inside the
        // columns) and each load reads `2N <= SLACK` elements from there, inside `col`.
        if b - a < L::N {
            // SAFETY: see above, at output `a`'s start.
            let v = unsafe { taps_max::<L, true>(l, cp.add(start[a] - lo), k, wd) };
            let at = out.as_mut_ptr().wrapping_add(a - o0);
            if a - o0 + L::N <= out.len() {
                // SAFETY: `N` elements of `out` from `a - o0`; those past `b` are written later.
                unsafe { l.store(at, v) };
            } else {
                // SAFETY: `b - a < N` outputs from `a` lie in `out`.
                unsafe { l.store_first(at, b - a, v) };
            }
        }
        while o < b && b - a >= L::N {
            // The last vector ends at `b`, overlapping its predecessor.
            o = o.min(b - L::N);
            // SAFETY: see above, at output `o`'s start.
            let v = unsafe { taps_max::<L, true>(l, cp.add(start[o] - lo), k, wd) };
            // SAFETY: `o + N <= b <= outs.end`: `N` outputs of `out`.
            unsafe { l.store(out.as_mut_ptr().add(o - o0), v) };
            o += L::N;
        }
        o = b;
    } else {
        // The stride-1 window max at every column from the first whole output's start to the
        // last one's (whole vectors: the lanes past the last one are never copied), then one
        // copy per output.
        let (x0, x1) = (start[a] - lo, start[b - 1] - lo + 1);
        let hp = h.as_mut_ptr();
        let mut x = x0;
        while x < x1 {
            // SAFETY: `x < x1 <= COLS - (k - 1) * d` (the last window ends inside the columns),
            // so the loads end before `COLS + N`; `h` receives `x - x0 + N <= COLS + N` elements.
            let v = unsafe { taps_max::<L, false>(l, cp.add(x), k, wd) };
            // SAFETY: see above: `x - x0 + N <= COLS + SLACK`.
            unsafe { l.store(hp.add(x - x0), v) };
            x += L::N;
        }
        // Whole outputs start `s` columns apart: output `a + j` copies `h[j * s]`.
        let (dst, s) = (&mut out[a - o0..b - o0], whole.s);
        if s == 2 {
            for (d, pair) in dst.iter_mut().zip(h.chunks_exact(2)) {
                *d = pair[0];
            }
        } else {
            for (d, &v) in dst.iter_mut().zip(h.iter().step_by(s)) {
                *d = v;
            }
        }
        o = b;
    }
    for o in o..outs.end {
        out[o - o0] = scalar(o);
    }
}
