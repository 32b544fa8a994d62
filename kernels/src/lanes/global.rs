//! Global max, sum and average, written once over [`Lanes`] for every element type, in the
//! canonical order (so the portable kernel's bits).
//!
//! * Channels-first: each plane is reduced into [`GLOBAL_LANES`] interleaved lanes held in
//!   `GLOBAL_LANES / LANES` registers (lane `j` takes elements `j, j + 64, ...`), the plane's tail
//!   enters through a partial load whose missing lanes hold the identity (`+0.0` or `-inf`; the
//!   canonical lanes hold the same values, as the last paragraph shows for `+0.0`). The halving tree
//!   runs between registers down to one register per plane (`h = 32, ..., LANES`), then
//!   [`Lanes::tree_columns`] finishes `LANES` planes at once with a transpose-and-add network that
//!   performs exactly the remaining steps `h = LANES/2, ..., 1`: no horizontal reduction per plane.
//! * Channels-last: each channel is folded pixel by pixel from the identity; registers hold
//!   neighbouring channels, blocked so one pass over the pixels serves many registers. When a
//!   register block is narrower than 256 channels (AVX2, NEON) and the channels span more than
//!   one block, the output itself holds the accumulators and each pixel's channels stream through
//!   once (contiguous reads instead of short strided pieces).
//!
//! Sums skip the canonical `+0.0 +` of each lane's first element and add `+0.0` once to the
//! result instead. Both give the same bits: a partial sum can differ from the canonical one only
//! by being `-0.0` where the canonical is `+0.0`, which happens only when every element under it
//! is `-0.0`; such a partial added to anything else leaves the same value as `+0.0` would (the
//! other operand, canonical, is never `-0.0`), so only an all-`-0.0` result differs, and the final
//! `+ 0.0` maps it to `+0.0` while leaving every other value (NaN payloads too) unchanged.

use super::reduction::{DivExact, Finish, Keep, MaxFast, MaxRule, Reduction, Sum};
use super::{FloatLanes, LaneElem, Lanes};
use crate::GLOBAL_LANES;
use crate::problem::{GlobalProblem, GlobalReduce, Layout};
use core::marker::PhantomData;
use core::ops::Range;

/// Pixels summed per trip through the memory accumulators of [`Block::wide`] (sums only).
const WIDE_PIXELS: usize = 4;

/// Registers of channel accumulators per channels-last block, at most.
const MAX_BLOCK: usize = 16;

/// Vectors of interleaved partials per plane, at most ([`GLOBAL_LANES`] over 2 lanes).
const MAX_VECS: usize = GLOBAL_LANES / 2;

/// The fold step, as a [`Reduction::comb`] function item (`MaxFast::comb` for NaN-free groups): a
/// function item, not a closure, so it inlines into the kernel with its target features.
pub(crate) trait Op<L: Lanes>: Fn(L, L::V, L::V) -> L::V + Copy {}
impl<L: Lanes, F: Fn(L, L::V, L::V) -> L::V + Copy> Op<L> for F {}

/// A level's global entry (see [`crate::GlobalFn`]): [`global`] inside `l`'s `vectorize`.
pub(crate) fn entry<L: FloatLanes, const CL_BLOCK: usize>(
    l: L,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    l.vectorize(
        #[inline(always)]
        || global::<L, CL_BLOCK>(l, p, red, input, output, rows),
    )
}

/// The global kernel, run inside `l`'s `vectorize`; checks the buffers against `p` and `rows`.
/// `CL_BLOCK` is the most vectors of channels one channels-last pass holds.
#[inline(always)]
pub(crate) fn global<L: FloatLanes, const CL_BLOCK: usize>(
    l: L,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    // The reduction and its finish as types; the plane size is every output's divisor.
    let mean = DivExact::new(p.plane() as i64);
    match (p.layout(), red) {
        (Layout::ChannelsFirst, GlobalReduce::Max) => {
            channels_first::<L, MaxRule, Keep>(l, p.plane(), input, &mut *output, rows.clone(), Keep);
            // The tree's zero and NaN maxima may be another bit pattern than the scan rule's.
            crate::portable::settle_max_ties(p.plane(), input, output, rows)
        }
        (Layout::ChannelsFirst, GlobalReduce::Avg) => {
            channels_first::<L, Sum, DivExact<L::E>>(l, p.plane(), input, output, rows, mean)
        }
        (Layout::ChannelsFirst, GlobalReduce::Sum) => {
            channels_first::<L, Sum, Keep>(l, p.plane(), input, output, rows, Keep)
        }
        (Layout::ChannelsLast, GlobalReduce::Max) => {
            channels_last::<L, MaxRule, Keep, CL_BLOCK>(l, p, input, output, rows, Keep)
        }
        (Layout::ChannelsLast, GlobalReduce::Avg) => {
            channels_last::<L, Sum, DivExact<L::E>, CL_BLOCK>(l, p, input, output, rows, mean)
        }
        (Layout::ChannelsLast, GlobalReduce::Sum) => {
            channels_last::<L, Sum, Keep, CL_BLOCK>(l, p, input, output, rows, Keep)
        }
    }
}

/// Stores the first `n <= N` lanes of `v` into `out[..n]`.
#[inline(always)]
fn store_part<L: Lanes>(l: L, out: &mut [L::E], v: L::V, n: usize) {
    assert!(n <= L::N && n <= out.len());
    // SAFETY: `out[..n]` is writable (asserted); `store` writes exactly `N` elements when `n == N`,
    // `store_first` the first `n < N`.
    unsafe { if n == L::N { l.store(out.as_mut_ptr(), v) } else { l.store_first(out.as_mut_ptr(), n, v) } }
}

/// A plane folded into `GLOBAL_LANES` lanes and reduced by the tree down to one register.
/// Lanes without elements hold `init`; sums omit the leading `+0.0` (see the module docs).
/// With `TRACK`, every vector loaded also goes through [`Lanes::see_nans`] into `seen` (in pairs;
/// partial loads fill with `init`, never NaN).
#[inline(always)]
fn plane_registers<L: Lanes, const TRACK: bool>(
    l: L,
    x: &[L::E],
    init: L::E,
    op: impl Op<L>,
    seen: &mut L::Seen,
) -> L::V {
    const { assert!(GLOBAL_LANES.is_multiple_of(2 * L::N) && GLOBAL_LANES / L::N <= MAX_VECS) };
    let w = L::N;
    let nv = GLOBAL_LANES / w;
    let len = x.len();
    let mut acc = [l.splat(init); MAX_VECS];
    let full = len / GLOBAL_LANES;
    let tail_base = full * GLOBAL_LANES;
    let tail = len - tail_base;
    if full == 0 {
        // One partial chunk: every register takes a (possibly empty) partial load, no branches.
        for (v, a) in acc.iter_mut().enumerate().take(nv) {
            let n = tail.saturating_sub(v * w).min(w);
            // SAFETY: reads x[v * w .. v * w + n], in bounds (v * w + n <= tail = len when
            // n > 0); with n = 0 nothing is read, and wrapping_add forms the address without
            // dereferencing it.
            *a = unsafe { l.load_part(x.as_ptr().wrapping_add(v * w), n, init) };
        }
        see::<L, TRACK>(l, seen, &acc);
    } else {
        for (v, a) in acc.iter_mut().enumerate().take(nv) {
            // SAFETY: v * w + w <= GLOBAL_LANES <= len.
            *a = unsafe { l.load(x.as_ptr().add(v * w)) };
        }
        see::<L, TRACK>(l, seen, &acc);
        for chunk in 1..full {
            let mut xs = [l.splat(init); MAX_VECS];
            for (v, xv) in xs.iter_mut().enumerate().take(nv) {
                // SAFETY: chunk * GLOBAL_LANES + v * w + w <= full * GLOBAL_LANES <= len.
                *xv = unsafe { l.load(x.as_ptr().add(chunk * GLOBAL_LANES + v * w)) };
            }
            for (a, xv) in acc.iter_mut().zip(&xs).take(nv) {
                *a = op(l, *a, *xv);
            }
            see::<L, TRACK>(l, seen, &xs);
        }
        if tail > 0 {
            let mut xs = [l.splat(init); MAX_VECS];
            for (v, (a, xv)) in acc.iter_mut().zip(xs.iter_mut()).enumerate().take(nv) {
                let s = v * w;
                if tail >= s + w {
                    // SAFETY: tail_base + s + w <= tail_base + tail = len.
                    *xv = unsafe { l.load(x.as_ptr().add(tail_base + s)) };
                    *a = op(l, *a, *xv);
                } else if tail > s {
                    // SAFETY: reads tail_base + s .. tail_base + tail = len.
                    *xv = unsafe { l.load_part(x.as_ptr().add(tail_base + s), tail - s, init) };
                    *a = op(l, *a, *xv);
                }
            }
            see::<L, TRACK>(l, seen, &xs);
        }
    }
    let mut h = nv / 2;
    while h > 0 {
        for v in 0..h {
            acc[v] = op(l, acc[v], acc[v + h]);
        }
        h /= 2;
    }
    acc[0]
}

/// With `TRACK`, records a chunk's loaded vectors in `seen` (`nv` is even on every level). A
/// function, not a closure: closures are not `inline(always)`, and outside the kernel they lose
/// its target features.
#[inline(always)]
fn see<L: Lanes, const TRACK: bool>(l: L, seen: &mut L::Seen, xs: &[L::V; MAX_VECS]) {
    if TRACK {
        for v in (0..GLOBAL_LANES / L::N).step_by(2) {
            *seen = l.see_nans(*seen, xs[v], xs[v + 1]);
        }
    }
}

/// Channels-first: groups of `N` planes, each reduced to one register, finished together by
/// [`Lanes::tree_columns`]. Max runs [`Lanes::max_fast`] (one instruction per vector where the
/// NaN rule of `max_rule` takes three) and watches for NaNs; a group that holds a NaN is redone
/// with `max_rule`. Without NaNs both give the same bits, zeros included.
#[inline(always)]
fn channels_first<L: Lanes, R: Reduction<L>, F: Finish<L>>(
    l: L,
    plane: usize,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
    fin: F,
) {
    let (init, op) = (R::pad(), R::comb);
    let w = L::N;
    let mut r = rows.start;
    let mut out = output;
    while r < rows.end {
        let g = w.min(rows.end - r);
        let mut cols = [l.splat(init); 16];
        let x = |k: usize| &input[(r + k) * plane..(r + k + 1) * plane];
        let res = if !R::MAX {
            let mut none = l.seen_none();
            for (k, col) in cols.iter_mut().enumerate().take(g) {
                *col = plane_registers::<L, false>(l, x(k), init, op, &mut none);
            }
            // Sums skip the leading `+0.0`: the finish adds it (module docs).
            fin.apply(l, l.tree_columns(&cols[..w], op), 0)
        } else {
            let mut seen = l.seen_none();
            for (k, col) in cols.iter_mut().enumerate().take(g) {
                *col = plane_registers::<L, true>(l, x(k), init, <MaxFast as Reduction<L>>::comb, &mut seen);
            }
            if l.seen_any(seen) {
                for (k, col) in cols.iter_mut().enumerate().take(g) {
                    *col = plane_registers::<L, false>(l, x(k), init, op, &mut seen);
                }
                l.tree_columns(&cols[..w], op)
            } else {
                l.tree_columns(&cols[..w], <MaxFast as Reduction<L>>::comb)
            }
        };
        let (head, rest) = out.split_at_mut(g);
        store_part(l, head, res, g);
        out = rest;
        r += g;
    }
}

#[inline(always)]
fn channels_last<L: Lanes, R: Reduction<L>, F: Finish<L>, const BIG: usize>(
    l: L,
    p: &GlobalProblem,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
    fin: F,
) {
    let (init, op) = (R::pad(), R::comb);
    let cc = p.channels();
    let plane = p.plane();
    let mut r = rows.start;
    let mut out = output;
    while r < rows.end {
        let n = r / cc;
        let c0 = r % cc;
        let c1 = cc.min(c0 + (rows.end - r));
        let img = &input[n * plane * cc..(n + 1) * plane * cc];
        let (head, rest) = out.split_at_mut(c1 - c0);
        let block = Block::<L, R, F> { l, img, plane, cc, init, fin, red: PhantomData };
        let mut c = c0;
        let mut o = head;
        let w = L::N;
        // A register block narrower than 256 `f32` channels (1 KB per pixel) reads short strided
        // pieces of each pixel; streaming whole pixels through memory accumulators measured
        // faster then.
        if BIG * w * size_of::<L::E>() < 1024 && c1 - c0 > BIG * w {
            block.wide(c0, o, op);
            out = rest;
            r += c1 - c0;
            continue;
        }
        while c1 - c >= BIG * w {
            o = block.reduce_into::<BIG>(c, o, op);
            c += BIG * w;
        }
        if BIG > 8 && c1 - c >= 8 * w {
            o = block.reduce_into::<8>(c, o, op);
            c += 8 * w;
        }
        while c1 - c >= 4 * w {
            o = block.reduce_into::<4>(c, o, op);
            c += 4 * w;
        }
        while c1 - c >= w {
            o = block.reduce_into::<1>(c, o, op);
            c += w;
        }
        if c < c1 {
            block.tail(c, c1 - c, o, op);
        }
        out = rest;
        r += c1 - c0;
    }
}

/// One image of a channels-last problem.
struct Block<'a, L: Lanes, R, F> {
    l: L,
    img: &'a [L::E],
    plane: usize,
    cc: usize,
    /// The reduction's padding value: the identity of the fold.
    init: L::E,
    fin: F,
    red: PhantomData<R>,
}

impl<L: Lanes, R: Reduction<L>, F: Finish<L>> Block<'_, L, R, F> {
    /// Reduces channels `c .. c + NB * N` into `out`'s first outputs; returns the rest of `out`.
    #[inline(always)]
    fn reduce_into<'o, const NB: usize>(&self, c: usize, out: &'o mut [L::E], op: impl Op<L>) -> &'o mut [L::E] {
        let (l, w) = (self.l, L::N);
        assert!(NB <= MAX_BLOCK && c + NB * w <= self.cc && self.img.len() == self.plane * self.cc);
        let mut acc = [l.splat(self.init); NB];
        let base = self.img.as_ptr();
        for (b, a) in acc.iter_mut().enumerate() {
            // SAFETY: c + b * w + w <= cc <= img.len() (asserted, plane >= 1).
            *a = unsafe { l.load(base.add(c + b * w)) };
        }
        for pix in 1..self.plane {
            let at = pix * self.cc + c;
            for (b, a) in acc.iter_mut().enumerate() {
                // SAFETY: at + b * w + w <= pix * cc + cc <= plane * cc = img.len() (asserted).
                *a = op(l, *a, unsafe { l.load(base.add(at + b * w)) });
            }
        }
        let (head, rest) = out.split_at_mut(NB * w);
        for (b, a) in acc.iter().enumerate() {
            let v = self.finish(*a);
            // SAFETY: head has NB * w elements, so b * w + w <= head.len().
            unsafe { l.store(head.as_mut_ptr().add(b * w), v) };
        }
        rest
    }

    /// Reduces the last `n < N` channels starting at `c` into `out[..n]`.
    #[inline(always)]
    fn tail(&self, c: usize, n: usize, out: &mut [L::E], op: impl Op<L>) {
        let l = self.l;
        assert!(n < L::N && c + n <= self.cc && self.img.len() == self.plane * self.cc && out.len() >= n);
        let mut acc = l.splat(self.init);
        let base = self.img.as_ptr();
        for pix in 0..self.plane {
            // SAFETY: reads pix * cc + c .. pix * cc + c + n <= plane * cc = img.len() (asserted).
            acc = op(l, acc, unsafe { l.load_part(base.add(pix * self.cc + c), n, self.init) });
        }
        store_part(l, out, self.fin.apply(l, acc, 0), n);
    }

    /// The output of an accumulator: the finish (means: `+ 0.0`, see the module docs, and the
    /// division).
    #[inline(always)]
    fn finish(&self, a: L::V) -> L::V {
        self.fin.apply(self.l, a, 0)
    }

    /// Folds pixels `pix .. pix + K` (in order) of channels `c .. c + out.len()` into `out`.
    #[inline(always)]
    fn wide_pixels<const K: usize>(&self, pix: usize, c: usize, out: &mut [L::E], op: impl Op<L>) {
        let (l, w) = (self.l, L::N);
        let len = out.len();
        assert!(pix + K <= self.plane && c + len <= self.cc && self.img.len() == self.plane * self.cc);
        let full = len / w;
        let part = len - full * w;
        let at = pix * self.cc + c;
        let base = self.img.as_ptr();
        let acc = out.as_mut_ptr();
        for v in 0..full {
            // SAFETY: reads img[at + k * cc + v * w ..][..w] for k < K, within pixel pix + k < plane
            // (at + k * cc + len <= (pix + k) * cc + cc <= img.len(), asserted), and
            // out[v * w .. v * w + w] with v * w + w <= len.
            unsafe {
                let mut a = l.load(acc.add(v * w));
                for k in 0..K {
                    a = op(l, a, l.load(base.add(at + k * self.cc + v * w)));
                }
                l.store(acc.add(v * w), a);
            }
        }
        if part > 0 {
            let s = full * w;
            // SAFETY: reads img[at + k * cc + s .. at + k * cc + len] for k < K and out[s .. len],
            // in bounds as above.
            let mut a = unsafe { l.load_part(acc.add(s), part, self.init) };
            for k in 0..K {
                // SAFETY: as above.
                a = op(l, a, unsafe { l.load_part(base.add(at + k * self.cc + s), part, self.init) });
            }
            store_part(l, &mut out[s..], a, part);
        }
    }

    /// Channels `c .. c + out.len()`, with `out` as the accumulators: pixel by pixel, each
    /// pixel's channels stream through once.
    #[inline(always)]
    fn wide(&self, c: usize, out: &mut [L::E], op: impl Op<L>) {
        let (l, w) = (self.l, L::N);
        let len = out.len();
        assert!(c + len <= self.cc && self.img.len() == self.plane * self.cc);
        out.copy_from_slice(&self.img[c..c + len]);
        // Sums take WIDE_PIXELS pixels per trip through the accumulators: each accumulator is
        // loaded and stored once per group, not once per pixel (the same additions in the same
        // order). Max keeps one pixel per trip (the longer chains of the NaN rule measured slower).
        let mut pix = 1;
        while !R::MAX && pix + WIDE_PIXELS <= self.plane {
            self.wide_pixels::<WIDE_PIXELS>(pix, c, out, op);
            pix += WIDE_PIXELS;
        }
        while pix < self.plane {
            self.wide_pixels::<1>(pix, c, out, op);
            pix += 1;
        }
        if !F::IDENTITY {
            for v in out.chunks_mut(w) {
                let n = v.len();
                // SAFETY: reads v[..n], n <= w.
                let a = unsafe { l.load_part(v.as_ptr(), n, L::E::ZERO) };
                store_part(l, v, self.finish(a), n);
            }
        }
    }
}
