//! The lean loop nest for the common channels-first shapes: a regular x window with stride 1, 2
//! or 4 whose whole output row fits one tile, windows that either do not overlap along y and z
//! (fused: each window row is reduced straight into registers) or overlap along y only in a 2-D
//! or 1-D problem (a ring of reduced rows). Every suite layer but the adaptive one and the long
//! 1-D rows takes it.
//!
//! Same algorithm and bits as the general nest in the parent module, with its per-row work cut
//! to the minimum: the x geometry is settled once per call, a row is read in place whenever its
//! valid lanes touch no padding and its reads stay inside the input (else it is copied once into
//! a padded stack row), and output rows are walked with counters instead of divisions.

use super::{BUF, Nests, Ring, RowDivisors, Rows, SLOTS, TILE, axis_overlaps, extent, fold_rows, hvec};
use crate::lanes::reduction::{Canon, DivBy, DivTable, Finish, FinishKind, FinishUser, Keep, PowRoot, Reduction, Root};
use crate::lanes::{FloatElem, LaneElem, Lanes};
use crate::problem::Problem;
use core::marker::PhantomData;
use core::ops::Range;

/// Elements on 64-byte lines (cache lines, and whole AVX-512 vectors).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Lines<E, const L: usize>(pub(super) [E; L]);

/// Per-call state of the lean nest.
struct Direct<'a, 'p, E> {
    p: &'p Problem<'a>,
    input: &'p [E],
    finish: FinishKind<E>,
    /// x window: taps, dilation, virtual elements before the row.
    k: usize,
    d: usize,
    pb: usize,
    /// Input row length, output vectors per row, floats a row's vectors read from their first tap.
    w: usize,
    nvec: usize,
    ext: usize,
    /// Rows can be read in place: no left padding, no valid lane reaches past the row, and the
    /// terms are the elements themselves.
    clean: bool,
    /// General Lp: the exponent applied to every element when its row is copied.
    pow: Option<E>,
    /// Padded copies of two rows: `PAD`, then the row at `pb`, then `PAD` (filled on first use).
    /// The row after the one being reduced is copied ahead into the other buffer, so the reads of
    /// a copy do not wait on its fresh stores (a store-forwarding stall when the reads are not
    /// aligned with the stores).
    bufs: [Lines<E, { BUF + 16 }>; 2],
    /// Where a copy's virtual position 0 sits in its buffer: the row itself (at `lead + pb`)
    /// starts on a 64-byte line, so the copy's stores never straddle two lines.
    lead: usize,
    /// The input offset of the row each buffer holds (`usize::MAX`: none).
    staged: [usize; 2],
    buf_ready: bool,
    /// Reduced rows: the ring (rolling) or one slot per window row (fused rows that need copies).
    hr: Lines<E, { SLOTS * TILE }>,
    div: RowDivisors<E>,
}

/// Whether the lean nest takes `p` at `n` lanes, for an x window of `k` taps, dilation `d` and
/// stride `st` (see [`crate::route::separable`]).
pub(super) fn fits(p: &Problem<'_>, (k, d, _pb): (usize, usize, usize), st: usize, n: usize) -> bool {
    shape(p, (k, d), st, n).is_some()
}

/// How the lean nest walks `p` (see [`fits`]): `Some(true)` with a ring of reduced rows (windows
/// overlap along y, in a 2-D or 1-D problem), `Some(false)` fusing each window's rows (windows
/// share no rows), `None` when it does not take `p` (an output row over one tile, or windows of
/// other shapes).
#[inline(always)]
fn shape(p: &Problem<'_>, (k, d): (usize, usize), st: usize, n: usize) -> Option<bool> {
    let [az, ay, ax] = p.axes();
    let nvec = ax.out_len().div_ceil(n);
    if nvec * n > TILE || extent(n, nvec, k, st, d) > BUF {
        return None;
    }
    let z_trivial = az.in_len() == 1 && az.out_len() == 1;
    let (oz_lap, oy_lap) = (axis_overlaps(az), axis_overlaps(ay));
    let max_taps = |a: &crate::problem::Axis<'_>| a.taps().iter().copied().max().unwrap_or(1);
    let span = ay.taps().iter().map(|&t| (t - 1) * ay.dilation() + 1).max().unwrap_or(1);
    let rolling = oy_lap && z_trivial && span <= SLOTS;
    let fused = !oy_lap && !oz_lap && max_taps(az) * max_taps(ay) <= SLOTS;
    (rolling || fused).then_some(rolling)
}

/// Runs the lean nest when the problem has its shape; `false` (nothing written) otherwise.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn try_lean_nest<S: Nests, R: Reduction<S>, const ST: usize, const K: usize>(
    s: S,
    p: &Problem<'_>,
    (k, d, pb): (usize, usize, usize),
    finish: FinishKind<S::E>,
    input: &[S::E],
    output: &mut [S::E],
    rows: Range<usize>,
) -> bool {
    let Some(rolling) = shape(p, (k, d), ST, S::N) else {
        return false;
    };
    let (w, ow) = (p.axes()[2].in_len(), p.axes()[2].out_len());
    let nvec = ow.div_ceil(S::N);
    let ext = extent(S::N, nvec, k, ST, d);
    // The last valid lane of a row reads virtual position `reach - 1`.
    let reach = (ow - 1) * ST + (k - 1) * d + 1;
    let mut nest = Direct {
        p,
        input,
        finish,
        k,
        d,
        pb,
        w,
        nvec,
        ext,
        clean: pb == 0 && reach <= w && !matches!(finish, FinishKind::Pow(_)),
        pow: if let FinishKind::Pow(e) = finish { Some(S::E::from_f64(e)) } else { None },
        bufs: [Lines([S::E::ZERO; BUF + 16]); 2],
        lead: (16 - pb % 16) % 16,
        staged: [usize::MAX; 2],
        buf_ready: false,
        hr: Lines([S::E::ZERO; SLOTS * TILE]),
        div: RowDivisors::new(),
    };
    if rolling {
        nest.rolling::<S, R, ST, K>(s, output, rows);
    } else {
        nest.fused::<S, R, ST, K>(s, output, rows);
    }
    true
}

/// Copies `src` to the start of `dst` (`dst.len() >= src.len()`) with full-vector moves.
#[inline(always)]
pub(super) fn copy_row<S: Lanes>(s: S, dst: &mut [S::E], src: &[S::E]) {
    let n = src.len();
    let dst = &mut dst[..n];
    if n < S::N {
        dst.copy_from_slice(src);
        return;
    }
    let (sp, dp) = (src.as_ptr(), dst.as_mut_ptr());
    let mut i = 0;
    while i + S::N <= n {
        // SAFETY: `i + N <= n`, the length of both slices.
        unsafe { s.store(dp.add(i), s.load(sp.add(i))) };
        i += S::N;
    }
    if i < n {
        // SAFETY: `N <= n`, so `n - N .. n` lies inside both slices (it overlaps the last move).
        unsafe { s.store(dp.add(n - S::N), s.load(sp.add(n - S::N))) };
    }
}

impl<E: FloatElem> Direct<'_, '_, E> {
    /// Reduces the row of input that starts at `base` into `hr[slot * TILE..][..nvec * N]`.
    #[inline(always)]
    fn reduce_row<S: Nests<Float = E>, R: Reduction<S>, const ST: usize, const K: usize>(
        &mut self,
        s: S,
        base: usize,
        slot: usize,
    ) {
        let (k, d, nvec) = (self.k, self.d, self.nvec);
        let src = self.row_src::<S, R>(s, base);
        let dst = &mut self.hr.0[slot * TILE..slot * TILE + nvec * S::N];
        let dp = dst.as_mut_ptr();
        for v in 0..nvec {
            // SAFETY: `src[0..ext]` is readable (`row_src`) and `extent(N, v + 1, ..) <= ext`
            // (hvec's contract); `v * N + N <= nvec * N = dst.len()`.
            unsafe { s.store(dp.add(v * S::N), hvec::<S, R, ST, K>(s, src, v, k, d)) }
        }
    }

    /// A pointer to `ext` readable elements holding the row that starts at `base` at virtual
    /// position `pb`: the input itself when that is clean, else a padded copy in `bufs`.
    #[inline(always)]
    fn row_src<S: Nests<Float = E>, R: Reduction<S>>(&mut self, s: S, base: usize) -> *const E {
        if self.clean && base + self.ext <= self.input.len() {
            return self.input[base..base + self.ext].as_ptr();
        }
        if !self.buf_ready {
            for b in &mut self.bufs {
                b.0.fill(R::pad());
            }
            self.buf_ready = true;
        }
        // Rows come in order, alternating between the buffers.
        let b = usize::from(self.staged[1] == base);
        if self.staged[b] != base {
            self.stage(s, b, base);
        }
        // The next row (in the next image after the last row of one) is usually reduced next.
        let next = base + self.w;
        if next < self.input.len() && self.staged[1 - b] != next {
            self.stage(s, 1 - b, next);
        }
        self.bufs[b].0[self.lead..].as_ptr()
    }

    /// Copies the row that starts at `base` (or its part that `ext` covers) into buffer `b`.
    #[inline(always)]
    fn stage<S: Nests<Float = E>>(&mut self, s: S, b: usize, base: usize) {
        // Only `pb..pb + n` (after `lead`) is ever written, so the rest of the `ext` floats from
        // `lead` keeps the padding;
        // the lanes that read it are padding or unused (`pb <= (k - 1) * d < ext`, as every
        // window has a valid tap). `base` starts a whole row of the input.
        let n = self.w.min(self.ext - self.pb);
        let (at, end) = (self.lead + self.pb, self.lead + self.ext);
        let (dst, src) = (&mut self.bufs[b].0[at..end], &self.input[base..base + n]);
        match self.pow {
            None => copy_row(s, dst, src),
            // The portable kernel's term, element by element (padding stays `+0.0`, the term
            // of a zero).
            Some(e) => {
                for (d, &x) in dst.iter_mut().zip(src) {
                    *d = E::pow(x.abs(), e);
                }
            }
        }
        self.staged[b] = base;
    }

    /// Output rows whose windows share no input rows: each window row is reduced into registers.
    #[inline(always)]
    fn fused<S: Nests<Float = E>, R: Reduction<S>, const ST: usize, const K: usize>(
        &mut self,
        s: S,
        output: &mut [E],
        rows: Range<usize>,
    ) {
        let [az, ay, ax] = *self.p.axes();
        let (od, oh, ow) = (az.out_len(), ay.out_len(), ax.out_len());
        let (d_in, h_in, w) = (az.in_len(), ay.in_len(), self.w);
        let (dz, dy) = (az.dilation(), ay.dilation());
        // Distance between the window's neighbouring rows and planes.
        let (pitch, zpitch) = (dy * w, dz * h_in * w);
        let per_image = od * oh;
        let (mut image, q) = (rows.start / per_image, rows.start % per_image);
        let (mut oz, mut oy) = (q / oh, q % oh);
        let len = self.input.len();
        for out in output.chunks_exact_mut(ow) {
            let (sz, tz) = (az.start()[oz], az.taps()[oz]);
            let (sy, ty) = (ay.start()[oy], ay.taps()[oy]);
            if let FinishKind::Div(None) = self.finish {
                self.div.set(az.count()[oz].saturating_mul(ay.count()[oy]), self.p.axes()[2].count());
            }
            let base = ((image * d_in + sz) * h_in + sy) * w;
            // The last window row starts furthest in; if its reads fit, all rows' do.
            let last = base + (tz - 1) * zpitch + (ty - 1) * pitch;
            if self.clean && last + self.ext <= len {
                let src = Strided::<E, R, ST, K> {
                    p: self.input[base..].as_ptr(),
                    pitch,
                    zpitch,
                    v: 0,
                    k: self.k,
                    d: self.d,
                    red: PhantomData,
                };
                let user = FusedRows { src, tz, ty, nvec: self.nvec, out };
                R::with_finish(s, self.finish, &self.div.values, user);
            } else {
                // Some row needs its padded copy: reduce the window's rows into slots 0..count.
                for zi in 0..tz {
                    for yi in 0..ty {
                        let at = base + zi * zpitch + yi * pitch;
                        self.reduce_row::<S, R, ST, K>(s, at, zi * ty + yi);
                    }
                }
                // Slot `i` holds window row `i` (depth-major), folded in the canonical grouping.
                let (nvec, hr) = (self.nvec, &self.hr.0);
                let f = AnyFinish { fin: self.finish, div: &self.div.values };
                for v in 0..nvec {
                    let rows = Ring { hr, y0: 0, dy: 1, off: v * S::N };
                    let x = fold_rows::<S, R, 0, 0>(s, tz, ty, &rows);
                    store_vec(s, f.apply(s, x, v * S::N), v, out);
                }
            }
            oy += 1;
            if oy == oh {
                oy = 0;
                oz += 1;
                if oz == od {
                    oz = 0;
                    image += 1;
                }
            }
        }
    }

    /// 2-D and 1-D output rows whose windows overlap along y: input row `y` of the current image
    /// is reduced once into ring slot `y % SLOTS` and folded by every window that covers it.
    #[inline(always)]
    fn rolling<S: Nests<Float = E>, R: Reduction<S>, const ST: usize, const K: usize>(
        &mut self,
        s: S,
        output: &mut [E],
        rows: Range<usize>,
    ) {
        let [az, ay, ax] = *self.p.axes();
        let (oh, ow, h_in, dy) = (ay.out_len(), ax.out_len(), ay.in_len(), ay.dilation());
        let cz = az.count()[0];
        let fin = self.finish;
        let mut r = rows.start;
        let mut out_rows = output.chunks_exact_mut(ow);
        while r < rows.end {
            let (image, first) = (r / oh, r % oh);
            let last = oh.min(first + (rows.end - r));
            let (mut lo, mut hi) = (0usize, 0usize);
            for oy in first..last {
                let out = out_rows.next().expect("one output row per problem row");
                let (y0, ty) = (ay.start()[oy], ay.taps()[oy]);
                let y1 = y0 + (ty - 1) * dy + 1;
                if y0 < lo || y0 >= hi {
                    (lo, hi) = (y0, y0);
                }
                while hi < y1 {
                    self.reduce_row::<S, R, ST, K>(s, (image * h_in + hi) * self.w, hi % SLOTS);
                    hi += 1;
                }
                lo = lo.max(hi.saturating_sub(SLOTS));
                if let FinishKind::Div(None) = self.finish {
                    // A depth axis of length 1 can still count padding in the divisor.
                    self.div.set(cz.saturating_mul(ay.count()[oy]), self.p.axes()[2].count());
                }
                let mut ring = [self.hr.0.as_ptr(); SLOTS];
                for (i, r) in ring.iter_mut().enumerate().take(ty) {
                    let slot = (y0 + i * dy) % SLOTS;
                    *r = self.hr.0[slot * TILE..(slot + 1) * TILE].as_ptr();
                }
                let user = RingRows::<E, R> { ring: &ring, ty, nvec: self.nvec, out, red: PhantomData };
                R::with_finish(s, fin, &self.div.values, user);
            }
            r += last - first;
        }
    }
}

/// Window rows read in place: row `(zi, yi)` starts at `p + zi * zpitch + yi * pitch`, and
/// output vector `v` of it is reduced on the fly.
#[derive(Clone, Copy)]
struct Strided<E, R, const ST: usize, const K: usize> {
    p: *const E,
    pitch: usize,
    zpitch: usize,
    v: usize,
    k: usize,
    d: usize,
    red: PhantomData<R>,
}

impl<S: Nests, R: Reduction<S>, const ST: usize, const K: usize> Rows<S> for Strided<S::E, R, ST, K> {
    #[inline(always)]
    fn row(&self, s: S, zi: usize, yi: usize, _i: usize) -> S::V {
        // SAFETY: built only by `Direct::fused` after checking that the window's last row
        // (`zi = tz - 1`, `yi = ty - 1`, the furthest from `p`) has `ext` readable floats, so
        // every window row has; `v < nvec` makes the reads end within `ext` (hvec's contract).
        unsafe {
            let row = self.p.add(zi * self.zpitch + yi * self.pitch);
            hvec::<S, R, ST, K>(s, row, self.v, self.k, self.d)
        }
    }
}

/// One fused output row read in place through `src` (window rows `tz x ty`).
struct FusedRows<'o, E, R, const ST: usize, const K: usize> {
    src: Strided<E, R, ST, K>,
    tz: usize,
    ty: usize,
    nvec: usize,
    out: &'o mut [E],
}

impl<S: Nests, R: Reduction<S>, const ST: usize, const K: usize> FinishUser<S> for FusedRows<'_, S::E, R, ST, K> {
    #[inline(always)]
    fn use_finish<F: Finish<S>>(self, s: S, f: F) {
        let Self { src, tz, ty, nvec, out } = self;
        match (tz, ty) {
            (1, 1) => fused_row::<S, R, F, ST, K, 1, 1>(s, f, src, (tz, ty, nvec), out),
            (1, 2) => fused_row::<S, R, F, ST, K, 1, 2>(s, f, src, (tz, ty, nvec), out),
            (2, 2) => fused_row::<S, R, F, ST, K, 2, 2>(s, f, src, (tz, ty, nvec), out),
            _ => fused_row::<S, R, F, ST, K, 0, 0>(s, f, src, (tz, ty, nvec), out),
        }
    }
}

/// The vertical pass of one output row from ring rows (`ty` of them).
pub(super) struct RingRows<'a, 'o, E, R> {
    pub(super) ring: &'a [*const E; SLOTS],
    pub(super) ty: usize,
    pub(super) nvec: usize,
    pub(super) out: &'o mut [E],
    pub(super) red: PhantomData<R>,
}

impl<S: Nests, R: Reduction<S>> FinishUser<S> for RingRows<'_, '_, S::E, R> {
    #[inline(always)]
    fn use_finish<F: Finish<S>>(self, s: S, f: F) {
        let Self { ring, ty, nvec, out, .. } = self;
        match ty {
            3 => vfold::<S, R, F, 3>(s, f, ring, ty, nvec, out),
            2 => vfold::<S, R, F, 2>(s, f, ring, ty, nvec, out),
            5 => vfold::<S, R, F, 5>(s, f, ring, ty, nvec, out),
            _ => vfold::<S, R, F, 0>(s, f, ring, ty, nvec, out),
        }
    }
}

/// One fused output row with `TZ x TY` window rows (0: `tz x ty`) read in place through `src`.
#[inline(always)]
fn fused_row<
    S: Nests,
    R: Reduction<S>,
    F: Finish<S>,
    const ST: usize,
    const K: usize,
    const TZ: usize,
    const TY: usize,
>(
    s: S,
    f: F,
    mut src: Strided<S::E, R, ST, K>,
    (tz, ty, nvec): (usize, usize, usize),
    out: &mut [S::E],
) {
    for v in 0..nvec {
        src.v = v;
        let x = fold_rows::<S, R, TZ, TY>(s, tz, ty, &src);
        store_vec(s, f.apply(s, x, v * S::N), v, out);
    }
}

/// The vertical pass of one output row: output vector `v` folds `rows[i][v * N..][..N]` for
/// `i < ty` (`TY` when not 0), finishes and stores it. Each `rows[i]` starts a ring slot.
#[inline(always)]
fn vfold<S: Nests, R: Reduction<S>, F: Finish<S>, const TY: usize>(
    s: S,
    f: F,
    rows: &[*const S::E; SLOTS],
    ty: usize,
    nvec: usize,
    out: &mut [S::E],
) {
    let ty = if TY > 0 { TY } else { ty };
    for v in 0..nvec {
        let off = v * S::N;
        // SAFETY: every `rows[i]` (`i < ty <= SLOTS`) starts a slot of `TILE` floats in `hr`,
        // and `off + N <= nvec * N <= TILE`.
        let mut x = unsafe { s.load(rows[0].add(off)) };
        for r in &rows[1..ty] {
            // SAFETY: as above.
            x = R::comb(s, x, unsafe { s.load(r.add(off)) });
        }
        store_vec(s, f.apply(s, x, off), v, out);
    }
}

/// Stores output vector `v` of a row (`v * N < out.len()`): whole, or its lanes inside `out`.
#[inline(always)]
fn store_vec<S: Nests>(s: S, y: S::V, v: usize, out: &mut [S::E]) {
    let off = v * S::N;
    let dst = &mut out[off..];
    if dst.len() >= S::N {
        // SAFETY: `dst` holds at least N floats.
        unsafe { s.store(dst.as_mut_ptr(), y) }
    } else {
        // SAFETY: `dst` holds `dst.len() < N` floats, at least one (`off < out.len()`).
        unsafe { s.store_first(dst.as_mut_ptr(), dst.len(), y) }
    }
}

/// Any finish, chosen per vector at run time (the rare fused rows that need row copies).
#[derive(Clone, Copy)]
struct AnyFinish<'a, E> {
    fin: FinishKind<E>,
    div: &'a [E; TILE],
}

impl<S: Nests> Finish<S> for AnyFinish<'_, S::E> {
    #[inline(always)]
    fn apply(self, s: S, x: S::V, off: usize) -> S::V {
        match self.fin {
            FinishKind::None => Keep.apply(s, x, off),
            FinishKind::Sum => Canon.apply(s, x, off),
            FinishKind::Sqrt => Root.apply(s, x, off),
            FinishKind::Div(Some(d)) => DivBy(s.splat(d)).apply(s, x, off),
            FinishKind::Div(None) => DivTable(&self.div[..]).apply(s, x, off),
            FinishKind::Pow(e) => PowRoot(S::E::lp_root_exponent(e)).apply(s, x, off),
        }
    }
}
