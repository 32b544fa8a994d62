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
use crate::problem::{Cover, GradRule, Layout, Problem, Uniform};
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
    backward_body(p, cover, rule, grad_output, grad_input, rows)
}

/// [`backward`], inlined into its caller: the SIMD levels compile it with their target features
/// (`crate::level::backward`).
#[inline(always)]
pub(crate) fn backward_body<T: Scalar>(
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
            avg_rows_in_place(p, divisor_override, grad_output, grad_input, rows);
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

/// The average gradient of rows `rows` for a type that is its own accumulator, by output row:
/// the rows are zeroed, then each output row `(oz, oy)` of each group (plane or image) the rows
/// touch, in increasing order, computes its outputs' shares once (one division per output) and
/// adds them to the taps of every row it holds among `rows`, outputs in increasing order. So
/// each element receives the gather's additions in the gather's order (a window holds an element
/// at most once, and an element's holding outputs arrive in increasing `(oz, oy, ox)`).
#[inline(always)]
fn avg_rows_in_place<T: Scalar>(
    p: &Problem<'_>,
    divisor_override: Option<i64>,
    grad_output: &[T],
    grad_input: &mut [T],
    rows: Range<usize>,
) {
    if whole_group_windows(p) {
        return avg_whole_groups(p, divisor_override, grad_output, grad_input, rows);
    }
    let [az, ay, ax] = p.axes();
    let per_pixel = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
    let (in_h, row_len) = (ay.in_len(), ax.in_len() * per_pixel);
    let group_rows = az.in_len() * in_h;
    let (out_h, out_w) = (ay.out_len(), ax.out_len());
    let out_group = p.out_plane() * per_pixel;
    let (xs, xt, dil) = (ax.start(), ax.taps(), ax.dilation());
    let zero = <T::Grad as GradAcc>::ZERO;
    let mut share = [zero; CHANNEL_RUN];
    let mut q = [zero; SHARE_CHUNK];
    // Tap by tap where the row has more outputs than the window taps (else output by output).
    let passes = match ax.uniform() {
        Some(u) if per_pixel == 1 && out_w > u.kernel => TapPasses::new(u, dil, ax.in_len(), out_w),
        _ => None,
    };
    // Other channels-first windows that overlap their neighbours, with non-decreasing starts and
    // at most `MAX_TAP_PASSES` taps (adaptive pooling): their largest tap count, to go tap by tap.
    let overlap_taps = (per_pixel == 1 && passes.is_none())
        .then(|| {
            let max_taps = xt.iter().copied().max().unwrap_or(0);
            let ordered = xs.windows(2).all(|s| s[0] <= s[1]);
            let overlap = (1..out_w).any(|o| xs[o] <= xs[o - 1] + (xt[o - 1] - 1) * dil);
            (ordered && overlap && max_taps <= MAX_TAP_PASSES).then_some(max_taps)
        })
        .flatten();
    // `grad_input[..zeroed]` is zeroed; `zeroed_base` is where the current group's rows start.
    let (mut zeroed, mut zeroed_base) = (0, 0);
    // Divisors `czy * cx` of rows with `czy <= max_czy_small` fit in an `i32` (see `avg_shares`).
    let max_czy_small = i32::MAX as usize / ax.count().iter().max().copied().unwrap_or(1).max(1);
    let mut r = rows.start;
    while r < rows.end {
        let g = r / group_rows;
        let end = rows.end.min((g + 1) * group_rows);
        // The rows `r..end` of group `g`, as offsets `lo..hi` into the group's rows.
        let (lo, hi) = (r - g * group_rows, end - g * group_rows);
        let out_base = g * out_group;
        for oz in 0..az.out_len() {
            let (zs, zt, zd) = (az.start()[oz], az.taps()[oz], az.dilation());
            // Skip windows entirely before or after the rows (`zs * in_h` fits: `zs < in_len`).
            if (zs + (zt - 1) * zd + 1) * in_h <= lo || zs * in_h >= hi {
                continue;
            }
            for oy in 0..out_h {
                let (ys, yt, yd) = (ay.start()[oy], ay.taps()[oy], ay.dilation());
                let held = |z: usize, y: usize| {
                    let at = z * in_h + y;
                    (lo..hi).contains(&at).then(|| zeroed_base + (at - lo) * row_len)
                };
                let czy = az.count()[oz].saturating_mul(ay.count()[oy]);
                let d = |ox: usize| divisor_override.unwrap_or_else(|| (czy * ax.count()[ox]) as i64);
                let o_row = out_base + (oz * out_h + oy) * out_w * per_pixel;
                // The held rows, up to `HELD_BATCH` at a time (more only in large windows): the
                // window's rows from tap `(tz, ty)` on.
                let mut batch = [0usize; HELD_BATCH];
                let (mut tz, mut ty) = (0, 0);
                loop {
                    let mut n_held = 0;
                    while tz < zt && n_held < HELD_BATCH {
                        if let Some(at) = held(zs + tz * zd, ys + ty * yd) {
                            batch[n_held] = at;
                            n_held += 1;
                        }
                        ty += 1;
                        if ty == yt {
                            (tz, ty) = (tz + 1, 0);
                        }
                    }
                    if n_held == 0 {
                        break;
                    }
                    let held = &batch[..n_held];
                    // Zero the rows up to the last one this window holds, on first use.
                    let last = held.iter().max().map_or(0, |&at| at + row_len);
                    if last > zeroed {
                        grad_input[zeroed..last].fill(T::from_grad(zero));
                        zeroed = last;
                    }
                    if per_pixel == 1 {
                        // Shares a chunk at a time, each chunk to every held row.
                        let go = &grad_output[o_row..o_row + out_w];
                        for o0 in (0..out_w).step_by(SHARE_CHUNK) {
                            let n = SHARE_CHUNK.min(out_w - o0);
                            let q = &mut q[..n];
                            let (go, cx) = (&go[o0..o0 + n], &ax.count()[o0..o0 + n]);
                            avg_shares(q, go, divisor_override, czy, cx, czy <= max_czy_small);
                            for &at in held {
                                let row = &mut grad_input[at..at + row_len];
                                if let Some(passes) = &passes {
                                    passes.add(row, q, o0);
                                    continue;
                                }
                                if let Some(max_taps) = overlap_taps {
                                    // Overlapping windows with non-decreasing starts: tap by tap,
                                    // last tap first, as `TapPasses` (an element's holders arrive
                                    // in increasing order), so no element is added to twice in a
                                    // row through memory.
                                    let (xs, xt) = (&xs[o0..o0 + q.len()], &xt[o0..o0 + q.len()]);
                                    for t in (0..max_taps).rev() {
                                        for ((&x, &n), &s) in xs.iter().zip(xt).zip(q.iter()) {
                                            if t < n {
                                                let e = &mut row[x + t * dil];
                                                *e = T::from_grad(e.grad() + s);
                                            }
                                        }
                                    }
                                    continue;
                                }
                                for (j, &s) in q.iter().enumerate() {
                                    let (x, n) = (xs[o0 + j], xt[o0 + j]);
                                    if dil == 1 {
                                        for e in &mut row[x..x + n] {
                                            *e = T::from_grad(e.grad() + s);
                                        }
                                    } else {
                                        for e in row[x..].iter_mut().step_by(dil).take(n) {
                                            *e = T::from_grad(e.grad() + s);
                                        }
                                    }
                                }
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
                            for &at in held {
                                for t in 0..xt[ox] {
                                    let e0 = at + (xs[ox] + t * dil) * per_pixel + c0;
                                    for (e, &s) in grad_input[e0..e0 + run].iter_mut().zip(share.iter()) {
                                        *e = T::from_grad(e.grad() + s);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Rows no window holds.
        let group_end = (hi - lo) * row_len + zeroed_base;
        grad_input[zeroed..group_end].fill(T::from_grad(zero));
        zeroed = group_end;
        zeroed_base = group_end;
        r = end;
    }
}

/// Whether each group (a plane, channels-first; an image, channels-last) of `p` is one window
/// that holds every element of it once: global pooling, or a window as large as the input.
#[inline(always)]
fn whole_group_windows(p: &Problem<'_>) -> bool {
    p.axes().iter().all(|a| {
        a.out_len() == 1 && a.start()[0] == 0 && a.taps()[0] == a.in_len() && (a.dilation() == 1 || a.in_len() == 1)
    })
}

/// [`avg_rows_in_place`] where each group is one window ([`whole_group_windows`]): every element
/// has one holding output, so its gradient is the in-order sum of one share, `0 + share`,
/// written once (no zeroing pass, no per-row bookkeeping: a 7x7 global average has 49 elements
/// per plane, and the general nest's per-row work outweighed them).
#[inline(always)]
fn avg_whole_groups<T: Scalar>(
    p: &Problem<'_>,
    divisor_override: Option<i64>,
    grad_output: &[T],
    grad_input: &mut [T],
    rows: Range<usize>,
) {
    let [az, ay, ax] = p.axes();
    let per_pixel = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
    let row_len = ax.in_len() * per_pixel;
    let group_rows = az.in_len() * ay.in_len();
    let czy = az.count()[0].saturating_mul(ay.count()[0]);
    let divisor = divisor_override.unwrap_or_else(|| czy.saturating_mul(ax.count()[0]) as i64);
    // The value a zeroed element reads back, which its one share is added to.
    let zero = T::from_grad(<T::Grad as GradAcc>::ZERO).grad();
    let gradient = |g: T| T::from_grad(zero + GradAcc::avg_share(g.grad(), divisor));
    let (mut r, mut at) = (rows.start, 0);
    while r < rows.end {
        let g = r / group_rows;
        let end = rows.end.min((g + 1) * group_rows);
        let n = (end - r) * row_len;
        let out = &mut grad_input[at..at + n];
        if per_pixel == 1 {
            out.fill(gradient(grad_output[g]));
        } else {
            let go = &grad_output[g * per_pixel..(g + 1) * per_pixel];
            for c0 in (0..per_pixel).step_by(CHANNEL_RUN) {
                let run = CHANNEL_RUN.min(per_pixel - c0);
                let mut values = [T::from_grad(zero); CHANNEL_RUN];
                for (v, &g) in values[..run].iter_mut().zip(&go[c0..c0 + run]) {
                    *v = gradient(g);
                }
                for pixel in out.chunks_exact_mut(per_pixel) {
                    pixel[c0..c0 + run].copy_from_slice(&values[..run]);
                }
            }
        }
        (r, at) = (end, at + n);
    }
}

/// Outputs whose shares the channels-first average holds on the stack at once.
const SHARE_CHUNK: usize = 256;
/// The average shares `q = go / divisor` of one channels-first output run: the divisor is
/// `divisor_override`, else `czy * cx[ox]`. Where `small` says every such product fits in an
/// `i32`, it is formed and converted to the float in 32 bits, which vectorises (the conversion
/// of an integer that fits in an `i32` is the same float from 32 or 64 bits); the shares are the
/// same bits as [`GradAcc::avg_share`] of the 64-bit divisor.
#[inline(always)]
fn avg_shares<T: Scalar>(
    q: &mut [T::Grad],
    go: &[T],
    divisor_override: Option<i64>,
    czy: usize,
    cx: &[usize],
    small: bool,
) {
    match divisor_override {
        Some(d) => {
            for (q, g) in q.iter_mut().zip(go) {
                *q = GradAcc::avg_share(g.grad(), d);
            }
        }
        None if small => {
            let czy = czy as u32;
            for ((q, g), &c) in q.iter_mut().zip(go).zip(cx) {
                *q = GradAcc::avg_share(g.grad(), i64::from((czy * c as u32) as i32));
            }
        }
        None => {
            for ((q, g), &c) in q.iter_mut().zip(go).zip(cx) {
                *q = GradAcc::avg_share(g.grad(), (czy * c) as i64);
            }
        }
    }
}

/// Rows an average output row adds to at once (a window of more rows takes several batches).
const HELD_BATCH: usize = 32;
/// The largest window [`TapPasses`] takes tap by tap; larger ones (global and big adaptive
/// windows) go output by output, where each output's taps are one long run.
const MAX_TAP_PASSES: usize = 16;

/// The tap-by-tap form of one regular channels-first axis: for each window tap `kx`, the outputs
/// `lo..hi` whose tap `kx` lies in the input row and the element `x0` the first of them reaches.
///
/// An element is reached by output `ox` through tap `kx` exactly when `ox * stride + kx *
/// dilation` is its padded position, so of the outputs holding it the one with the last tap is
/// the first output: taking taps last to first adds each element's shares in increasing output
/// order, the gather's order, while each pass over a tap is a unit-stride (stride 1) or strided
/// loop over the row with no per-output bookkeeping.
struct TapPasses {
    stride: usize,
    /// `(lo, hi, x0)` per tap, last tap first; only the first `len` are used.
    passes: [(usize, usize, usize); MAX_TAP_PASSES],
    len: usize,
    /// Windows that tile the row (stride = kernel = 2, 3 or 4, no dilation): the outputs
    /// `lo..hi` whose every tap lies in the row, the first at `x0`. Each element then has one
    /// holding output per row, so these outputs write their tiles in one pass.
    tiles: Option<(usize, usize, usize)>,
}

impl TapPasses {
    /// The passes of `u` (taps `dil` apart) over a row of `w` elements, or `None` for a window
    /// of more than [`MAX_TAP_PASSES`] taps.
    fn new(u: Uniform, dil: usize, w: usize, out_w: usize) -> Option<Self> {
        if u.kernel > MAX_TAP_PASSES || u.stride == 0 {
            return None;
        }
        let (s, pb) = (u.stride, u.pad_begin);
        let mut t = TapPasses { stride: s, passes: [(0, 0, 0); MAX_TAP_PASSES], len: 0, tiles: None };
        for kx in (0..u.kernel).rev() {
            // Outputs whose tap `kx` lies in `0..w`: `pb <= ox * s + reach < w + pb`.
            let (lo, hi, x0) = match kx.checked_mul(dil) {
                Some(reach) => {
                    let lo = pb.saturating_sub(reach).div_ceil(s);
                    let hi = w.saturating_add(pb).saturating_sub(reach).div_ceil(s).min(out_w);
                    if lo < hi { (lo, hi, lo * s + reach - pb) } else { (0, 0, 0) }
                }
                None => (0, 0, 0),
            };
            t.passes[t.len] = (lo, hi, x0);
            t.len += 1;
        }
        if (2..=4).contains(&u.kernel) && s == u.kernel && dil == 1 {
            // The first tap's pass is last, the last tap's first.
            let ((lo_last, hi_last, _), (lo_first, hi_first, _)) = (t.passes[0], t.passes[t.len - 1]);
            let (lo, hi) = (lo_last.max(lo_first), hi_last.min(hi_first));
            if lo < hi {
                t.tiles = Some((lo, hi, lo * s - pb));
            }
        }
        Some(t)
    }

    /// Adds the shares `q` of outputs `o0..o0 + q.len()` to the input row `row`.
    #[inline(always)]
    fn add<T: Scalar>(&self, row: &mut [T], q: &[T::Grad], o0: usize) {
        let end = o0 + q.len();
        let Some((lo, hi, x0)) = self.tiles else {
            return self.add_passes(row, q, o0, o0..end);
        };
        let (a, b) = (lo.max(o0), hi.min(end));
        if a >= b {
            return self.add_passes(row, q, o0, o0..end);
        }
        let (x, shares) = (x0 + (a - lo) * self.stride, &q[a - o0..b - o0]);
        match self.stride {
            2 => add_tiles::<T, 2>(&mut row[x..x + 2 * shares.len()], shares),
            3 => add_tiles::<T, 3>(&mut row[x..x + 3 * shares.len()], shares),
            _ => add_tiles::<T, 4>(&mut row[x..x + 4 * shares.len()], shares),
        }
        self.add_passes(row, q, o0, o0..a);
        self.add_passes(row, q, o0, b..end);
    }

    /// Adds the shares of outputs `outs` (within `o0..o0 + q.len()`) to `row`, tap by tap.
    #[inline(always)]
    fn add_passes<T: Scalar>(&self, row: &mut [T], q: &[T::Grad], o0: usize, outs: Range<usize>) {
        let s = self.stride;
        for &(lo, hi, x0) in &self.passes[..self.len] {
            let (a, b) = (lo.max(outs.start), hi.min(outs.end));
            if a >= b {
                continue;
            }
            let x = x0 + (a - lo) * s;
            let shares = &q[a - o0..b - o0];
            if s == 1 {
                for (e, &q) in row[x..x + shares.len()].iter_mut().zip(shares) {
                    *e = T::from_grad(e.grad() + q);
                }
            } else {
                for (e, &q) in row[x..].iter_mut().step_by(s).zip(shares) {
                    *e = T::from_grad(e.grad() + q);
                }
            }
        }
    }
}

/// Adds each share to its tile of `K` elements (`row` holds `K * shares.len()` elements).
#[inline(always)]
fn add_tiles<T: Scalar, const K: usize>(row: &mut [T], shares: &[T::Grad]) {
    for (tile, &q) in row.chunks_exact_mut(K).zip(shares) {
        for e in tile {
            *e = T::from_grad(e.grad() + q);
        }
    }
}
