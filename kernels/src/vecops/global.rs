//! Global max and average over f32, for any [`F32Vec`], in the canonical order.
//!
//! * Channels-first: each plane is reduced into [`GLOBAL_LANES`] interleaved lanes held in
//!   `GLOBAL_LANES / LANES` registers (lane `j` takes elements `j, j + 64, ...`), the plane's tail
//!   enters through a partial load whose missing lanes hold the identity (`+0.0` or `-inf`; the
//!   canonical lanes hold the same values, as the last paragraph shows for `+0.0`). The halving tree
//!   runs between registers down to one register per plane (`h = 32, ..., LANES`), then
//!   [`F32Vec::tree_columns`] finishes `LANES` planes at once with a transpose-and-add network that
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

use super::{F32Vec, add, combine};
use crate::GLOBAL_LANES;
use crate::problem::{GlobalProblem, GlobalReduce, Layout};
use core::ops::Range;

/// Pixels summed per trip through the memory accumulators of [`Block::wide`] (sums only).
const WIDE_PIXELS: usize = 4;

/// Registers of channel accumulators per channels-last block, at most.
const MAX_BLOCK: usize = 16;

/// What a kernel folds, and how it finishes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fold {
    /// The max rule; no finish.
    Max,
    /// Additions; no finish (the plain sum).
    Sum,
    /// Additions, then `+ 0.0` and the division by the plane size.
    Mean,
}

impl Fold {
    fn sums(self) -> bool {
        self != Fold::Max
    }
}

/// The global kernel; the caller has checked the buffers against `p` and `rows`.
#[inline(always)]
pub(crate) fn global<V: F32Vec, const CL_BLOCK: usize>(
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    match (p.layout(), red) {
        (Layout::ChannelsFirst, GlobalReduce::Max) => {
            channels_first::<V>(p.plane(), input, output, rows, f32::NEG_INFINITY, combine::<V>, Fold::Max)
        }
        (Layout::ChannelsFirst, GlobalReduce::Avg) => {
            channels_first::<V>(p.plane(), input, output, rows, 0.0, add::<V>, Fold::Mean)
        }
        (Layout::ChannelsFirst, GlobalReduce::Sum) => {
            channels_first::<V>(p.plane(), input, output, rows, 0.0, add::<V>, Fold::Sum)
        }
        (Layout::ChannelsLast, GlobalReduce::Max) => {
            channels_last::<V, CL_BLOCK>(p, input, output, rows, f32::NEG_INFINITY, combine::<V>, Fold::Max)
        }
        (Layout::ChannelsLast, GlobalReduce::Avg) => {
            channels_last::<V, CL_BLOCK>(p, input, output, rows, 0.0, add::<V>, Fold::Mean)
        }
        (Layout::ChannelsLast, GlobalReduce::Sum) => {
            channels_last::<V, CL_BLOCK>(p, input, output, rows, 0.0, add::<V>, Fold::Sum)
        }
    }
}

/// A plane folded into `GLOBAL_LANES` lanes and reduced by the tree down to one register.
/// Lanes without elements hold `init`; sums omit the leading `+0.0` (see the module docs).
/// With `TRACK`, every vector loaded also goes through [`F32Vec::nan_see`] into `seen` (in pairs;
/// partial loads fill with `init`, never NaN).
#[inline(always)]
fn plane_registers<V: F32Vec, const TRACK: bool>(
    x: &[f32],
    init: f32,
    op: impl Fn(V, V) -> V + Copy,
    seen: &mut V::NanSeen,
) -> V {
    let w = V::LANES;
    let nv = GLOBAL_LANES / w;
    let len = x.len();
    let mut acc = [V::splat(init); GLOBAL_LANES / 4];
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
            *a = unsafe { V::load_part(x.as_ptr().wrapping_add(v * w), n, init) };
        }
        see::<V, TRACK>(seen, &acc);
    } else {
        for (v, a) in acc.iter_mut().enumerate().take(nv) {
            // SAFETY: v * w + w <= 64 <= len.
            *a = unsafe { V::load(x.as_ptr().add(v * w)) };
        }
        see::<V, TRACK>(seen, &acc);
        for chunk in 1..full {
            let mut xs = [V::splat(init); GLOBAL_LANES / 4];
            for (v, xv) in xs.iter_mut().enumerate().take(nv) {
                // SAFETY: chunk * 64 + v * w + w <= full * 64 <= len.
                *xv = unsafe { V::load(x.as_ptr().add(chunk * GLOBAL_LANES + v * w)) };
            }
            for (a, xv) in acc.iter_mut().zip(&xs).take(nv) {
                *a = op(*a, *xv);
            }
            see::<V, TRACK>(seen, &xs);
        }
        if tail > 0 {
            let mut xs = [V::splat(init); GLOBAL_LANES / 4];
            for (v, (a, xv)) in acc.iter_mut().zip(xs.iter_mut()).enumerate().take(nv) {
                let s = v * w;
                if tail >= s + w {
                    // SAFETY: tail_base + s + w <= tail_base + tail = len.
                    *xv = unsafe { V::load(x.as_ptr().add(tail_base + s)) };
                    *a = op(*a, *xv);
                } else if tail > s {
                    // SAFETY: reads tail_base + s .. tail_base + tail = len.
                    *xv = unsafe { V::load_part(x.as_ptr().add(tail_base + s), tail - s, init) };
                    *a = op(*a, *xv);
                }
            }
            see::<V, TRACK>(seen, &xs);
        }
    }
    let mut h = nv / 2;
    while h > 0 {
        for v in 0..h {
            acc[v] = op(acc[v], acc[v + h]);
        }
        h /= 2;
    }
    acc[0]
}

/// With `TRACK`, records a chunk's loaded vectors in `seen` (`nv` is even on every level). A
/// function, not a closure: closures are not `inline(always)`, and outside the kernel they lose
/// its target features.
#[inline(always)]
fn see<V: F32Vec, const TRACK: bool>(seen: &mut V::NanSeen, xs: &[V; GLOBAL_LANES / 4]) {
    if TRACK {
        for v in (0..GLOBAL_LANES / V::LANES).step_by(2) {
            *seen = V::nan_see(*seen, xs[v], xs[v + 1]);
        }
    }
}

/// Channels-first: groups of `LANES` planes, each reduced to one register, finished together by
/// the transpose-and-add network. Max runs [`F32Vec::max_num`] (one instruction per vector where
/// the NaN rule of `combine` takes three) and watches for NaNs; a group that holds a NaN is
/// redone with `combine`. Without NaNs both give the same bits, zeros included.
#[inline(always)]
fn channels_first<V: F32Vec>(
    plane: usize,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
    init: f32,
    op: impl Fn(V, V) -> V + Copy,
    fold: Fold,
) {
    let w = V::LANES;
    let divisor = V::splat(plane as f32);
    let mut r = rows.start;
    let mut out = output;
    while r < rows.end {
        let g = w.min(rows.end - r);
        let mut cols = [V::splat(init); 16];
        let x = |k: usize| &input[(r + k) * plane..(r + k + 1) * plane];
        let res = if fold.sums() {
            let mut none = V::nan_none();
            for (k, col) in cols.iter_mut().enumerate().take(g) {
                *col = plane_registers::<V, false>(x(k), init, op, &mut none);
            }
            let sum = V::tree_columns(&cols[..w], op);
            if fold == Fold::Mean { super::mean(V::add(sum, V::splat(0.0)), divisor) } else { sum }
        } else {
            let mut seen = V::nan_none();
            for (k, col) in cols.iter_mut().enumerate().take(g) {
                *col = plane_registers::<V, true>(x(k), init, V::max_num, &mut seen);
            }
            if V::nan_any(seen) {
                for (k, col) in cols.iter_mut().enumerate().take(g) {
                    *col = plane_registers::<V, false>(x(k), init, op, &mut seen);
                }
                V::tree_columns(&cols[..w], op)
            } else {
                V::tree_columns(&cols[..w], V::max_num)
            }
        };
        let (head, rest) = out.split_at_mut(g);
        if g == w {
            // SAFETY: head has exactly w = LANES elements.
            unsafe { V::store(head.as_mut_ptr(), res) };
        } else {
            V::store_part(head, res, g);
        }
        out = rest;
        r += g;
    }
}

#[inline(always)]
fn channels_last<V: F32Vec, const BIG: usize>(
    p: &GlobalProblem,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
    init: f32,
    op: impl Fn(V, V) -> V + Copy,
    fold: Fold,
) {
    let cc = p.channels();
    let plane = p.plane();
    let divisor = V::splat(plane as f32);
    let mut r = rows.start;
    let mut out = output;
    while r < rows.end {
        let n = r / cc;
        let c0 = r % cc;
        let c1 = cc.min(c0 + (rows.end - r));
        let img = &input[n * plane * cc..(n + 1) * plane * cc];
        let (head, rest) = out.split_at_mut(c1 - c0);
        let block = Block { img, plane, cc, init, divisor, fold };
        let mut c = c0;
        let mut o = head;
        let w = V::LANES;
        // A register block narrower than 256 channels (1 KB per pixel) reads short strided pieces
        // of each pixel; streaming whole pixels through memory accumulators measured faster then.
        if BIG * w < 256 && c1 - c0 > BIG * w {
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
struct Block<'a, V> {
    img: &'a [f32],
    plane: usize,
    cc: usize,
    init: f32,
    divisor: V,
    fold: Fold,
}

impl<V: F32Vec> Block<'_, V> {
    /// Reduces channels `c .. c + NB * LANES` into `out`'s first outputs; returns the rest of `out`.
    #[inline(always)]
    fn reduce_into<'o, const NB: usize>(
        &self,
        c: usize,
        out: &'o mut [f32],
        op: impl Fn(V, V) -> V + Copy,
    ) -> &'o mut [f32] {
        let w = V::LANES;
        assert!(NB <= MAX_BLOCK && c + NB * w <= self.cc && self.img.len() == self.plane * self.cc);
        let mut acc = [V::splat(self.init); NB];
        let base = self.img.as_ptr();
        for (b, a) in acc.iter_mut().enumerate() {
            // SAFETY: c + b * w + w <= cc <= img.len() (asserted, plane >= 1).
            *a = unsafe { V::load(base.add(c + b * w)) };
        }
        for pix in 1..self.plane {
            let at = pix * self.cc + c;
            for (b, a) in acc.iter_mut().enumerate() {
                // SAFETY: at + b * w + w <= pix * cc + cc <= plane * cc = img.len() (asserted).
                *a = op(*a, unsafe { V::load(base.add(at + b * w)) });
            }
        }
        let (head, rest) = out.split_at_mut(NB * w);
        for (b, a) in acc.iter().enumerate() {
            let v = self.finish(*a);
            // SAFETY: head has NB * w elements, so b * w + w <= head.len().
            unsafe { V::store(head.as_mut_ptr().add(b * w), v) };
        }
        rest
    }

    /// Reduces the last `n < LANES` channels starting at `c` into `out[..n]`.
    #[inline(always)]
    fn tail(&self, c: usize, n: usize, out: &mut [f32], op: impl Fn(V, V) -> V + Copy) {
        assert!(n < V::LANES && c + n <= self.cc && self.img.len() == self.plane * self.cc && out.len() >= n);
        let mut acc = V::splat(self.init);
        let base = self.img.as_ptr();
        for pix in 0..self.plane {
            // SAFETY: reads pix * cc + c .. pix * cc + c + n <= plane * cc = img.len() (asserted).
            acc = op(acc, unsafe { V::load_part(base.add(pix * self.cc + c), n, self.init) });
        }
        let v = if self.fold == Fold::Mean { super::mean(acc, self.divisor) } else { acc };
        V::store_part(out, v, n);
    }

    /// The output of an accumulator: means get `+ 0.0` (module docs) and the division.
    #[inline(always)]
    fn finish(&self, a: V) -> V {
        if self.fold == Fold::Mean { super::mean(V::add(a, V::splat(0.0)), self.divisor) } else { a }
    }

    /// Folds pixels `pix .. pix + K` (in order) of channels `c .. c + out.len()` into `out`.
    #[inline(always)]
    fn wide_pixels<const K: usize>(&self, pix: usize, c: usize, out: &mut [f32], op: impl Fn(V, V) -> V + Copy) {
        let w = V::LANES;
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
                let mut a = V::load(acc.add(v * w));
                for k in 0..K {
                    a = op(a, V::load(base.add(at + k * self.cc + v * w)));
                }
                V::store(acc.add(v * w), a);
            }
        }
        if part > 0 {
            let s = full * w;
            // SAFETY: reads img[at + k * cc + s .. at + k * cc + len] for k < K and out[s .. len],
            // in bounds as above.
            let mut a = unsafe { V::load_part(acc.add(s), part, self.init) };
            for k in 0..K {
                // SAFETY: as above.
                a = op(a, unsafe { V::load_part(base.add(at + k * self.cc + s), part, self.init) });
            }
            V::store_part(&mut out[s..], a, part);
        }
    }

    /// Channels `c .. c + out.len()`, with `out` as the accumulators: pixel by pixel, each
    /// pixel's channels stream through once.
    #[inline(always)]
    fn wide(&self, c: usize, out: &mut [f32], op: impl Fn(V, V) -> V + Copy) {
        let w = V::LANES;
        let len = out.len();
        assert!(c + len <= self.cc && self.img.len() == self.plane * self.cc);
        out.copy_from_slice(&self.img[c..c + len]);
        // Sums take WIDE_PIXELS pixels per trip through the accumulators: each accumulator is
        // loaded and stored once per group, not once per pixel (the same additions in the same
        // order). Max keeps one pixel per trip (the longer chains of the NaN rule measured slower).
        let mut pix = 1;
        while self.fold.sums() && pix + WIDE_PIXELS <= self.plane {
            self.wide_pixels::<WIDE_PIXELS>(pix, c, out, op);
            pix += WIDE_PIXELS;
        }
        while pix < self.plane {
            self.wide_pixels::<1>(pix, c, out, op);
            pix += 1;
        }
        if self.fold == Fold::Mean {
            for v in out.chunks_mut(w) {
                let n = v.len();
                // SAFETY: reads v[..n], n <= w.
                let a = unsafe { V::load_part(v.as_ptr(), n, 0.0) };
                V::store_part(v, self.finish(a), n);
            }
        }
    }
}
