//! The plane nest: small 2-D and 1-D channels-first maps (a regular x window with stride 1, 2
//! or 4), a whole plane at a time.
//!
//! On the suite's small maps (14 to 56 outputs a row) the row-at-a-time nests spend most of
//! their instructions on per-row bookkeeping. Here the horizontal pass runs over the plane as
//! one flat array: with the rows laid out at a pitch `wp` that is a multiple of the stride,
//! output `ox` of row `y` is flat output `y * wp / ST + ox`, so one loop of full vectors reduces
//! every row of the plane (the few lanes past each row's end are computed and never read). The
//! rows are read in place when they are clean and the pitch is the input's own; else they are
//! copied once into a padded stack plane. The vertical pass then folds, for each output row, the
//! reduced rows of its window, finishes and stores.
//!
//! Same folds in the same order as the other nests, so the same bits.

use super::direct::{Lines, copy_row};
use super::{Nests, SLOTS, TILE, extent, hvec};
use crate::lanes::reduction::{Finish, FinishKind, FinishUser, Reduction};
use crate::lanes::{FloatElem, LaneElem};
use crate::problem::Problem;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ops::Range;

/// Floats of padded input rows a band of output rows aims at.
const BAND: usize = 4096;
/// Floats in the padded copy of a band's input rows.
const PCAP: usize = 8192;
/// Floats in the band's horizontally reduced rows.
const HCAP: usize = 8192;
/// Floats in the per-output divisor table of an average.
const DCAP: usize = 4096;
/// Bands of a whole plane settled once per call.
const CUTS: usize = 32;
/// Outputs a row may have refolded in edge mode.
const FIX: usize = 8;
/// Runs of output rows of a plane settled once.
const RUNS: usize = 32;

/// The geometry of one call, settled once.
struct Geo {
    k: usize,
    d: usize,
    pb: usize,
    /// Input row length and the row pitch of the padded plane (`wp / ST` reduced values a row).
    w: usize,
    wp: usize,
    wh: usize,
    /// Output vectors per row.
    nvec: usize,
    /// Rows are read in place at their own pitch (`wp == w`), from `shift` floats before a
    /// band's first row: either no window reaches the padding (`shift == 0`, no fixes), or the
    /// few outputs whose windows do (`fix[..nfix]`, at the row ends) are folded again from
    /// their valid taps once the band is reduced (edge mode). Else rows are copied into padded
    /// rows.
    inplace: bool,
    shift: usize,
    fix: [Refold; FIX],
    nfix: usize,
    /// Floats of the padded rows that the horizontal pass of a band reads or its row copies
    /// write (at most `PCAP`).
    pad_len: usize,
    /// Reduced rows as long as output rows and a y stride of 1: the vertical pass folds runs of
    /// rows as one.
    runs: bool,
    /// With a y stride of 1: the ends of the runs of a whole plane, settled once (`n_ends ==
    /// 0`: too many, each band finds its own, or folds row by row).
    ends: [usize; RUNS],
    n_ends: usize,
    /// Max windows wide enough for the NaN-free fold to repay its check.
    fast_max: bool,
    /// Input rows a band of output rows may take.
    band: usize,
}

/// An output of edge mode whose window reaches past its row: its valid taps are the `n` row
/// elements `off + t * d` (`t < n`, inside the row), the others are padding.
#[derive(Clone, Copy, Default)]
struct Refold {
    ox: usize,
    off: usize,
    n: usize,
}

/// Whether the plane nest's buffers hold `p` at `n` lanes, for the x window `(k, d, pb)` with
/// stride `st`: `pow` for general Lp terms, `table` for an average with a per-output divisor
/// table (see [`crate::route::separable`]).
pub(super) fn fits(p: &Problem<'_>, kdp: (usize, usize, usize), st: usize, n: usize, pow: bool, table: bool) -> bool {
    geometry(p, kdp, st, n, pow, table).is_some()
}

/// The geometry of the plane nest for `p` (see [`fits`]), or `None` when its buffers do not hold
/// the problem.
#[inline]
fn geometry(
    p: &Problem<'_>,
    (k, d, pb): (usize, usize, usize),
    st: usize,
    n: usize,
    pow: bool,
    table: bool,
) -> Option<Geo> {
    let [az, ay, ax] = p.axes();
    // Windows that share no rows go to the lean nest's fused rows (no reduced plane to store
    // and reload).
    if az.in_len() != 1 || az.out_len() != 1 {
        return None;
    }
    let (h_in, w, ow) = (ay.in_len(), ax.in_len(), ax.out_len());
    let nvec = ow.div_ceil(n);
    // The last valid lane of a row reads virtual position `reach - 1`.
    let reach = (ow - 1) * st + (k - 1) * d + 1;
    // Edge mode: the outputs at the row ends whose windows reach past the row.
    let (mut fix, mut nfix) = ([Refold::default(); FIX], 0);
    let reaches = |ox: usize| st * ox < pb || st * ox + (k - 1) * d >= pb + w;
    let mut edge = !pow && w % st == 0 && ow <= w / st;
    for ox in (0..ow).take_while(|&ox| reaches(ox)).chain((0..ow).rev().take_while(|&ox| reaches(ox))) {
        if nfix == FIX || fix[..nfix].iter().any(|f| f.ox == ox) {
            edge &= nfix < FIX;
            continue;
        }
        // Taps `lo..hi` fall inside the row (a window is contiguous in its taps).
        let at = |t: usize| (st * ox + t * d).wrapping_sub(pb);
        let lo = (0..k).find(|&t| at(t) < w).unwrap_or(k);
        let hi = (lo..k).find(|&t| at(t) >= w).unwrap_or(k);
        // A window with no element (dilated over the row) keeps the padded copies.
        edge &= lo < hi;
        fix[nfix] = Refold { ox, off: at(lo), n: hi - lo };
        nfix += 1;
    }
    // A refold costs `k` scalar steps and more than one row copy instruction; copying a row
    // costs about `3 w / N` (measured: resnet's stem gains 22%, inception's 3x3 loses 13%).
    edge &= nfix * k <= w * 4 / n;
    let (wp, wh) = if edge {
        (w, w / st)
    } else {
        let wp = (pb + w).max(reach).div_ceil(st) * st;
        (wp, wp / st)
    };
    let (taps, dy) = (ay.taps(), ay.dilation());
    let max_taps = taps.iter().copied().max().unwrap_or(1);
    // Input rows a band of output rows may take: about `BAND` floats of padded rows (the band,
    // its reduced rows and the output stay in the L1 cache), at least one window's rows.
    let span = (max_taps - 1) * dy + 1;
    let band = band_rows(wp, span, h_in);
    // Band buffers: the reduced values (`hv` vectors) and the reads that make them.
    let hv = hvecs(n, band, wh, nvec);
    let pad_len = extent(n, hv, k, st, d).max(band * wp);
    let table = table && ay.out_len() * ow + n > DCAP;
    if nvec * n > TILE || max_taps > SLOTS || hv * n > HCAP || pad_len > PCAP || table {
        return None;
    }
    let (inplace, shift) = if edge { (true, pb) } else { (pb == 0 && wp == w && !pow, 0) };
    let nfix = if edge { nfix } else { 0 };
    let runs = wh == ow && ay.uniform().is_some_and(|u| u.stride == 1);
    // Measured (AVX2, 20x20 maps): 9x9 gains 13%, 5x5 loses 7% (the check reads the band once
    // more), 3x3 stride 2 and 2x2 lose.
    let fast_max = (k - 1) + (max_taps - 1) >= 12;
    // The runs of a whole plane: rows whose windows slide down one row at a time, with as many
    // taps.
    let (mut ends, mut n_ends) = ([0; RUNS], 0);
    if ay.uniform().is_some_and(|u| u.stride == 1) {
        let (starts, taps) = (ay.start(), ay.taps());
        for oy in 1..=ay.out_len() {
            if oy == ay.out_len() || taps[oy] != taps[oy - 1] || starts[oy] != starts[oy - 1] + 1 {
                if n_ends == RUNS {
                    n_ends = 0;
                    break;
                }
                ends[n_ends] = oy;
                n_ends += 1;
            }
        }
    }
    Some(Geo { k, d, pb, w, wp, wh, nvec, inplace, shift, fix, nfix, pad_len, runs, ends, n_ends, fast_max, band })
}

/// Runs the plane nest when its buffers hold the problem; `false` (nothing written) otherwise.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(super) fn try_plane_nest<S: Nests, R: Reduction<S>, const ST: usize, const K: usize>(
    s: S,
    p: &Problem<'_>,
    kdp: (usize, usize, usize),
    finish: FinishKind<S::E>,
    input: &[S::E],
    output: &mut [S::E],
    rows: Range<usize>,
) -> bool {
    let (pow, table) = (matches!(finish, FinishKind::Pow(_)), matches!(finish, FinishKind::Div(None)));
    let Some(g) = geometry(p, kdp, ST, S::N, pow, table) else {
        return false;
    };
    let [az, ay, ax] = p.axes();
    let (ow, band) = (ax.out_len(), g.band);
    let mut nest = Plane {
        g,
        input,
        finish,
        pow: if let FinishKind::Pow(e) = finish { Some(S::E::from_f64(e)) } else { None },
        padded: MaybeUninit::uninit(),
        padded_ready: false,
        hr: MaybeUninit::uninit(),
        divs: MaybeUninit::uninit(),
        red: PhantomData::<R>,
    };
    let oh = ay.out_len();
    if let FinishKind::Div(None) = finish {
        let (cz, cy, cx) = (az.count()[0], ay.count(), ax.count());
        let dp = nest.divs.as_mut_ptr().cast::<S::E>();
        for (oy, &c) in cy.iter().enumerate() {
            if oy > 0 && c == cy[oy - 1] {
                // Most rows count as many rows as the one before (a call per task builds this,
                // so the copy matters for threaded runs).
                // SAFETY: rows `oy - 1` and `oy` lie inside the table (`oh * ow <= DCAP`) and do
                // not overlap.
                unsafe { core::ptr::copy_nonoverlapping(dp.add((oy - 1) * ow), dp.add(oy * ow), ow) };
                continue;
            }
            for (ox, &x) in cx.iter().enumerate() {
                // SAFETY: `oy * ow + ox < oh * ow <= DCAP` (checked above).
                unsafe { dp.add(oy * ow + ox).write(S::E::from_i64((cz * c * x) as i64)) };
            }
        }
        for i in 0..S::N {
            // SAFETY: `oh * ow + i < oh * ow + N <= DCAP`; the lanes past the last row read
            // these.
            unsafe { dp.add(oh * ow + i).write(S::E::ONE) };
        }
    }
    // The bands of a whole plane (when there are at most `CUTS`; else each is found in turn).
    let mut cuts = [(0, 0, 0); CUTS];
    let mut n_cuts = 0;
    let mut oa = 0;
    while oa < oh && n_cuts < CUTS {
        cuts[n_cuts] = next_band(ay, band, oa, oh);
        oa = cuts[n_cuts].0;
        n_cuts += 1;
    }
    if oa < oh {
        n_cuts = 0;
    }
    let mut r = rows.start;
    let mut out = output;
    while r < rows.end {
        let (image, first) = (r / oh, r % oh);
        let last = oh.min(first + (rows.end - r));
        let mut oa = first;
        let mut cut = 0;
        while oa < last {
            // The bands of whole planes are the same for every plane: settled once.
            let (ob, ylo, yhi) = if first == 0 && last == oh && n_cuts > 0 {
                cut += 1;
                cuts[cut - 1]
            } else {
                next_band(ay, band, oa, last)
            };
            let (now, rest) = core::mem::take(&mut out).split_at_mut((ob - oa) * ow);
            nest.plane::<S, ST, K>(s, p, image, (oa..ob, ylo, yhi), now);
            out = rest;
            oa = ob;
        }
        r += last - first;
    }
    true
}

/// Input rows a band of output rows may take: about `BAND` floats of padded rows at the pitch
/// `wp` (the band, its reduced rows and the output stay in the L1 cache), at least one window's
/// `span` rows, at most the `h_in` rows of the plane.
#[inline(always)]
fn band_rows(wp: usize, span: usize, h_in: usize) -> usize {
    (BAND / wp).max(span).min(h_in)
}

/// The band of output rows that starts at `oa` and ends at most at `last`: consecutive rows
/// whose windows lie within `band` input rows (the first rows of dilated windows need not grow
/// with the output row). Returns the band's end and its input rows `ylo..yhi`.
#[inline(always)]
fn next_band(ay: &crate::problem::Axis<'_>, band: usize, oa: usize, last: usize) -> (usize, usize, usize) {
    let (starts, taps, dy) = (ay.start(), ay.taps(), ay.dilation());
    let end = |oy: usize| starts[oy] + (taps[oy] - 1) * dy + 1;
    let (mut lo, mut hi) = (starts[oa], end(oa));
    let mut ob = oa + 1;
    while ob < last && hi.max(end(ob)) - lo.min(starts[ob]) <= band {
        (lo, hi) = (lo.min(starts[ob]), hi.max(end(ob)));
        ob += 1;
    }
    (ob, lo, hi)
}

/// Reduced vectors that cover rows `0..n` of `wh` values (the last row read `nvec` vectors wide,
/// and one vector more).
#[inline(always)]
fn hvecs(lanes: usize, n: usize, wh: usize, nvec: usize) -> usize {
    // One more: the flat vertical pass's last vector may start in the last row's last one.
    ((n - 1) * wh + nvec * lanes).div_ceil(lanes) + 1
}

/// Per-call state of the plane nest.
struct Plane<'p, E, R> {
    g: Geo,
    input: &'p [E],
    finish: FinishKind<E>,
    pow: Option<E>,
    /// The padded plane: rows at pitch `wp`, each at `pb` within its pitch, the rest `R::PAD`
    /// (written on first use, up to the extent the horizontal pass reads; rows are copied into
    /// their own places only, so the padding stays).
    padded: MaybeUninit<Lines<E, PCAP>>,
    padded_ready: bool,
    /// The reduced plane: row `y - ylo` at `(y - ylo) * wh` (written before it is read).
    hr: MaybeUninit<Lines<E, HCAP>>,
    /// Average without an override: output `(oy, ox)`'s divisor at `oy * ow + ox`, then `N` ones
    /// (written by `run` for every output row).
    divs: MaybeUninit<[E; DCAP]>,
    red: PhantomData<R>,
}

impl<E: FloatElem, R> Plane<'_, E, R> {
    /// Output rows `oys` of plane `image` into `out` (`oys.len()` rows of `ow`).
    #[inline(always)]
    fn plane<S: Nests<Float = E>, const ST: usize, const K: usize>(
        &mut self,
        s: S,
        p: &Problem<'_>,
        image: usize,
        (oys, ylo, yhi): (Range<usize>, usize, usize),
        out: &mut [E],
    ) where
        R: Reduction<S>,
    {
        let ay = p.axes()[1];
        let h_in = ay.in_len();
        // Input rows `ylo..yhi` hold every window of these outputs (`next_band`).
        let g = &self.g;
        let hv = hvecs(S::N, yhi - ylo, g.wh, g.nvec);
        let ext = extent(S::N, hv, g.k, ST, g.d);
        let base = (image * h_in + ylo) * g.w;
        // Where the band's reads start: in the input (`Some`), or in the padded buffer. (Its
        // pointer is taken in `reduce`, after `&mut self` is reborrowed, so the borrow stays
        // valid.)
        let src = if g.inplace && base >= g.shift && base - g.shift + ext <= self.input.len() {
            Some(base - g.shift)
        } else if g.inplace {
            self.copy_flat::<S>(base as isize - g.shift as isize, ext);
            None
        } else {
            self.copy_rows(s, base, yhi - ylo);
            None
        };
        // Wide max windows over rows free of NaN (the usual case) take the plain max rule: a
        // third of the instructions per step, the same values when there is no NaN. The check
        // reads the band once more, which narrow windows do not repay.
        let rows = &self.input[base..base + (yhi - ylo) * self.g.w];
        let band = (base, oys, ylo, yhi);
        if R::MAX && self.g.fast_max && !has_nan(s, rows) {
            self.reduce::<S, R::Fast, ST, K>(s, p, src, band, out)
        } else {
            self.reduce::<S, R, ST, K>(s, p, src, band, out)
        }
    }

    /// The horizontal pass of a band (reading `src`) and its vertical pass, by the reduction
    /// `R2` (`R` itself, or its NaN-free form).
    #[inline(always)]
    fn reduce<S: Nests<Float = E>, R2: Reduction<S>, const ST: usize, const K: usize>(
        &mut self,
        s: S,
        p: &Problem<'_>,
        src: Option<usize>,
        (base, oys, ylo, yhi): (usize, Range<usize>, usize, usize),
        out: &mut [E],
    ) {
        let ay = p.axes()[1];
        let (starts, taps, dy) = (ay.start(), ay.taps(), ay.dilation());
        let hv = hvecs(S::N, yhi - ylo, self.g.wh, self.g.nvec);
        let (k, d, wh) = (self.g.k, self.g.d, self.g.wh);
        let ext = extent(S::N, hv, k, ST, d);
        let src = match src {
            Some(at) => self.input[at..at + ext].as_ptr(),
            None => self.padded.as_ptr().cast::<E>(),
        };
        let hp = self.hr.as_mut_ptr().cast::<E>();
        for v in 0..hv {
            // SAFETY: `src[0..extent(N, hv, ..)]` is readable (`plane` checked the input range,
            // or the padded buffer is initialised up to `pad_len`, which covers every band), and
            // `extent(N, v + 1, ..)` is no more (hvec's contract); `(v + 1) * N <= hv * N <= HCAP`.
            unsafe { s.store(hp.add(v * S::N), hvec::<S, R2, ST, K>(s, src, v, k, d)) }
        }
        if self.g.nfix > 0 {
            Self::refold::<S, R2>(&self.g, self.input, (base, yhi - ylo), hp);
        }
        let ow = p.axes()[2].out_len();
        let divs = if let FinishKind::Div(None) = self.finish {
            // SAFETY: `run` wrote `oh * ow + N` divisors (and checked that they fit).
            unsafe { core::slice::from_raw_parts(self.divs.as_ptr().cast::<E>(), ay.out_len() * ow + S::N) }
        } else {
            &[]
        };
        let rows = BandRows { hp, wh, ylo, dy, starts, taps, first: oys.start, ow, nvec: self.g.nvec };
        let ends = &self.g.ends[..self.g.n_ends];
        let band = Band::<E, R2> { rows, oys, runs: self.g.runs, ends, out, red: PhantomData };
        R2::with_finish(s, self.finish, divs, band);
    }

    /// Edge mode: folds again the outputs whose windows reach past their row (the flat pass
    /// read the neighbouring rows there), from the row's own elements, with the scalar forms of
    /// the same fold steps. The padding value is neutral in the fold (a max starting at `-inf`,
    /// a sum at `+0.0`, see the crate docs), so the fold of the valid taps alone has the bits of
    /// the fold over the padded row.
    #[inline(always)]
    /// (An associated function: `hp` points into `self`'s buffer, so `self` is not borrowed.)
    fn refold<S: Nests<Float = E>, R2: Reduction<S>>(g: &Geo, input: &[E], (base, n): (usize, usize), hp: *mut E) {
        let Geo { d, w, wh, nfix, .. } = *g;
        let rows = &input[base..base + n * w];
        /// Refold `f` in rows `0..n`, with `T` taps when not 0.
        #[inline(always)]
        fn each_row<S: Nests, R: Reduction<S>, const T: usize>(
            rows: &[S::E],
            (w, wh, d, n): Dims,
            f: &Refold,
            hp: *mut S::E,
        ) {
            let taps = if T > 0 { T } else { f.n };
            for y in 0..n {
                // SAFETY: `run` built the refold with `f.n >= 1` taps at `off + t * d < w` for
                // `t < f.n`, inside row `y < n` of `rows`.
                let tap = |t: usize| R::term1(unsafe { *rows.get_unchecked(y * w + f.off + t * d) });
                let mut acc = R::first1(tap(0));
                for t in 1..taps {
                    acc = R::comb1(acc, tap(t));
                }
                // SAFETY: `y * wh + ox < (n - 1) * wh + ow <= hv * N`, inside the reduced rows
                // the horizontal pass just wrote (`hvecs`).
                unsafe { hp.add(y * wh + f.ox).write(acc) };
            }
        }
        type Dims = (usize, usize, usize, usize);
        for f in &g.fix[..nfix] {
            let dims = (w, wh, d, n);
            match f.n {
                1 => each_row::<S, R2, 1>(rows, dims, f, hp),
                2 => each_row::<S, R2, 2>(rows, dims, f, hp),
                3 => each_row::<S, R2, 3>(rows, dims, f, hp),
                4 => each_row::<S, R2, 4>(rows, dims, f, hp),
                _ => each_row::<S, R2, 0>(rows, dims, f, hp),
            }
        }
    }

    /// Edge mode, a band whose flat reads would leave the input: copies `input[start..][..n]`
    /// into the padded buffer, the padding value outside the input.
    #[inline(always)]
    fn copy_flat<S: Nests<Float = E>>(&mut self, start: isize, n: usize)
    where
        R: Reduction<S>,
    {
        // The last band of the input reads up to a vector past its end, so this copies a whole
        // band: `lead` padding values before the input's start, then one block copy of the
        // `mid` elements inside it, then padding (it was element by element: 30 thousand
        // instructions for a 56x56 plane, in the task that holds the last plane).
        let pp = self.padded.as_mut_ptr().cast::<E>();
        let lead = if start < 0 { start.unsigned_abs().min(n) } else { 0 };
        let from = usize::try_from(start).unwrap_or(0).min(self.input.len());
        let src = &self.input[from..];
        let mid = (n - lead).min(src.len());
        for i in (0..lead).chain(lead + mid..n) {
            // SAFETY: `i < n = ext <= pad_len <= PCAP` (`run`'s checks cover every band).
            unsafe { pp.add(i).write(R::pad()) };
        }
        // SAFETY: `src[..mid]` is inside the input (`mid <= src.len()`), and the destination
        // `lead..lead + mid` lies inside `0..n`, which is inside the buffer (as above); the
        // input and the stack buffer do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), pp.add(lead), mid) };
    }

    /// Copies input rows `base..` (`n` of them) into the padded plane.
    #[inline(always)]
    fn copy_rows<S: Nests<Float = E>>(&mut self, s: S, base: usize, n: usize)
    where
        R: Reduction<S>,
    {
        let pp = self.padded.as_mut_ptr().cast::<E>();
        if !self.padded_ready {
            for i in 0..self.g.pad_len {
                // SAFETY: `i < pad_len <= PCAP` (checked in `run`), inside the buffer.
                unsafe { pp.add(i).write(R::pad()) };
            }
            self.padded_ready = true;
        }
        let Geo { w, wp, pb, .. } = self.g;
        if self.pow.is_none() && w >= S::N {
            // Rows of at least one vector: whole vectors and one overlapping the row's end, with
            // the row bounds checked once for the band (the per-row setup was most of a copy).
            let rows = &self.input[base..base + n * w];
            let (sp, tail) = (rows.as_ptr(), w - S::N);
            for y in 0..n {
                // SAFETY: `rows` holds rows `0..n` of `w` floats, so `src[0..w]` is readable;
                // row `y < n <= band` (`run` groups the bands so) of the padded plane spans
                // `y * wp + pb..+ w`, which ends at or before `band * wp <= pad_len <= PCAP`
                // (`pb + w <= wp`), so `dst[0..w]` is writable. Every move is `N` floats from
                // `i <= tail = w - N`.
                unsafe {
                    let (src, dst) = (sp.add(y * w), pp.add(y * wp + pb));
                    let mut i = 0;
                    while i < tail {
                        s.store(dst.add(i), s.load(src.add(i)));
                        i += S::N;
                    }
                    s.store(dst.add(tail), s.load(src.add(tail)));
                }
            }
            return;
        }
        for y in 0..n {
            let src = &self.input[base + y * w..base + (y + 1) * w];
            // SAFETY: row `y < n <= band` (`run` groups the bands so) of the padded plane spans
            // `y * wp + pb..+ w`, which ends at or before `band * wp <= pad_len <= PCAP`
            // (`pb + w <= wp`); the buffer
            // holds no references, and `dst` is the only view of it while it lives.
            let dst = unsafe { core::slice::from_raw_parts_mut(pp.add(y * wp + pb), w) };
            match self.pow {
                None => copy_row(s, dst, src),
                Some(e) => {
                    for (d, &x) in dst.iter_mut().zip(src) {
                        *d = E::pow(x.abs(), e);
                    }
                }
            }
        }
    }
}

/// The vertical pass of a band: output row `oys.start + i` (into `out[i * ow..][..ow]`) folds
/// reduced rows `starts[oy] + t * dy` (`t < taps[oy]`), which sit at `hp + (row - ylo) * wh`.
struct Band<'a, 'o, E, R> {
    rows: BandRows<'a, E>,
    oys: Range<usize>,
    /// Output rows may slide down one input row at a time with `wh == ow` (flat runs).
    runs: bool,
    /// The ends of the runs of the whole plane, ascending, the last `oh` (empty: not known).
    ends: &'a [usize],
    out: &'o mut [E],
    red: PhantomData<R>,
}

impl<S: Nests, R: Reduction<S>> FinishUser<S> for Band<'_, '_, S::E, R> {
    #[inline(always)]
    fn use_finish<F: Finish<S>>(self, s: S, f: F) {
        let Self { rows: band, oys, runs, ends, out, .. } = self;
        if !runs {
            if !ends.is_empty() {
                // Rows of a run have as many taps and slide down one reduced row at a time: one
                // dispatch a run, a short loop a row.
                let mut oy = oys.start;
                for &end in ends {
                    if oy == oys.end {
                        break;
                    }
                    if end > oy {
                        let end = end.min(oys.end);
                        match band.taps[oy] {
                            3 => vrows::<S, R, F, 3>(s, f, &band, (oy, end), out),
                            2 => vrows::<S, R, F, 2>(s, f, &band, (oy, end), out),
                            5 => vrows::<S, R, F, 5>(s, f, &band, (oy, end), out),
                            _ => vrows::<S, R, F, 0>(s, f, &band, (oy, end), out),
                        }
                        oy = end;
                    }
                }
                return;
            }
            for oy in oys {
                vrun::<S, R, F>(s, f, &band, (oy, oy + 1), out);
            }
            return;
        }
        if !ends.is_empty() {
            // The plane's runs, cut to this band.
            let mut oy = oys.start;
            for &end in ends {
                if oy == oys.end {
                    break;
                }
                if end > oy {
                    let end = end.min(oys.end);
                    vrun::<S, R, F>(s, f, &band, (oy, end), out);
                    oy = end;
                }
            }
            return;
        }
        // Rows whose windows slide down one row at a time, with reduced rows exactly as long as
        // output rows: the outputs of such a run and their window rows are flat arrays at the
        // same pitch, folded as one long row.
        let (starts, taps) = (band.starts, band.taps);
        let mut oy = oys.start;
        while oy < oys.end {
            let mut end = oy + 1;
            while end < oys.end && taps[end] == taps[oy] && starts[end] == starts[end - 1] + 1 {
                end += 1;
            }
            vrun::<S, R, F>(s, f, &band, (oy, end), out);
            oy = end;
        }
    }
}

/// A band's reduced rows and output geometry (`first`: the band's first output row).
struct BandRows<'a, E> {
    hp: *const E,
    wh: usize,
    ylo: usize,
    dy: usize,
    starts: &'a [usize],
    taps: &'a [usize],
    first: usize,
    ow: usize,
    nvec: usize,
}

/// Output rows `oy..end` of a band (one row, or a run whose window rows slide down one row at a
/// time, at the reduced rows' pitch) into the band's `out`.
#[inline(always)]
fn vrun<S: Nests, R: Reduction<S>, F: Finish<S>>(
    s: S,
    f: F,
    b: &BandRows<'_, S::E>,
    (oy, end): (usize, usize),
    out: &mut [S::E],
) {
    let ty = b.taps[oy];
    // SAFETY (pointer arithmetic only): `ylo <= starts[oy]` and the window's last row is below
    // the band's `yhi`, so every row `vrow` reads was reduced (`hvecs` counts `nvec` vectors
    // from each row's start, and one more).
    let r0 = unsafe { b.hp.add((b.starts[oy] - b.ylo) * b.wh) };
    let n = (end - oy) * b.ow;
    let nv = if end == oy + 1 { b.nvec } else { n.div_ceil(S::N) };
    // The rows and the rows after them in this band: whole vectors may spill into the next
    // rows, which are stored later.
    let out = &mut out[(oy - b.first) * b.ow..];
    let v = (r0, b.dy * b.wh, (n, nv), oy * b.ow);
    match ty {
        3 => vrow::<S, R, F, 3>(s, f, v, ty, out),
        2 => vrow::<S, R, F, 2>(s, f, v, ty, out),
        5 => vrow::<S, R, F, 5>(s, f, v, ty, out),
        _ => vrow::<S, R, F, 0>(s, f, v, ty, out),
    }
}

/// Output rows `oy..end` of a band, a run (as many taps, windows one row apart), row by row
/// into the band's `out` (reduced rows longer than output rows).
#[inline(always)]
fn vrows<S: Nests, R: Reduction<S>, F: Finish<S>, const TY: usize>(
    s: S,
    f: F,
    b: &BandRows<'_, S::E>,
    (oy, end): (usize, usize),
    out: &mut [S::E],
) {
    let ty = b.taps[oy];
    let first = b.starts[oy] - b.ylo;
    for r in oy..end {
        // SAFETY (pointer arithmetic only): row `r`'s window starts at reduced row
        // `starts[oy] + (r - oy) = starts[r]` (a run), at or after `ylo`, and its last row is
        // below the band's `yhi`, so every row `vrow` reads was reduced (as in `vrun`).
        let r0 = unsafe { b.hp.add((first + (r - oy)) * b.wh) };
        let v = (r0, b.dy * b.wh, (b.ow, b.nvec), r * b.ow);
        vrow::<S, R, F, TY>(s, f, v, ty, &mut out[(r - b.first) * b.ow..]);
    }
}

/// `n` outputs at the start of `out` (one row, or a run of rows at the reduced rows' pitch), in
/// `nv` vectors:
/// vector `v` folds `r0[t * step + v * N..][..N]` for `t < ty` (`TY` when not 0), is finished
/// with divisor offset `foff + v * N` and stored; as whole vectors when `out` has room for them
/// (the lanes past the run land on later rows, which their own stores overwrite), else exactly.
#[inline(always)]
fn vrow<S: Nests, R: Reduction<S>, F: Finish<S>, const TY: usize>(
    s: S,
    f: F,
    (r0, step, (n, nv), foff): (*const S::E, usize, (usize, usize), usize),
    ty: usize,
    out: &mut [S::E],
) {
    let ty = if TY > 0 { TY } else { ty };
    debug_assert!(n <= out.len());
    // (A function, not a closure: closures do not inherit the ISA's target features.)
    #[inline(always)]
    fn fold<S: Nests, R: Reduction<S>, F: Finish<S>>(
        s: S,
        f: F,
        (r0, step, foff): (*const S::E, usize, usize),
        ty: usize,
        v: usize,
    ) -> S::V {
        // SAFETY: rows `r0 + t * step` (`t < ty`) are reduced rows of the band, readable for the
        // run's `n` values rounded up to whole vectors (`Band`'s contract); `vrow` checked that
        // the finish covers `foff + nv * N > foff + v * N`.
        unsafe {
            let mut x = s.load(r0.add(v * S::N));
            for t in 1..ty {
                x = R::comb(s, x, s.load(r0.add(t * step + v * S::N)));
            }
            f.apply_unchecked(s, x, foff + v * S::N)
        }
    }
    // The divisor table holds `oh * ow + N` values (`reduce`), and `foff + nv * N` is at most
    // `oy * ow + n + N - 1 <= oh * ow + N - 1`: this holds by construction.
    if !f.covers(foff + nv * S::N) {
        debug_assert!(false, "divisor table too short");
        return;
    }
    let at = (r0, step, foff);
    let op = out.as_mut_ptr();
    // `nv = ceil(n / N)`.
    let room = if out.len() >= nv * S::N { nv } else { n / S::N };
    for v in 0..room {
        // SAFETY: `(v + 1) * N <= room * N <= out.len()`.
        unsafe { s.store(op.add(v * S::N), fold::<S, R, F>(s, f, at, ty, v)) }
    }
    if room < nv {
        // SAFETY: `out[room * N..n]` holds `n - room * N < N` floats (`room = n / N` here).
        unsafe { s.store_first(op.add(room * S::N), n - room * S::N, fold::<S, R, F>(s, f, at, ty, room)) }
    }
}

/// Whether `x` may hold a NaN: its sum is not finite (a NaN anywhere makes it NaN; an infinity
/// or an overflow also answers yes, which only costs the NaN-propagating fold).
#[inline(always)]
fn has_nan<S: Nests>(s: S, x: &[S::E]) -> bool {
    let n = x.len();
    let p = x.as_ptr();
    let mut acc = [s.zero(); 4];
    let mut i = 0;
    while i + 4 * S::N <= n {
        for (j, a) in acc.iter_mut().enumerate() {
            // SAFETY: `i + (j + 1) * N <= i + 4N <= n`.
            *a = s.add(*a, unsafe { s.load(p.add(i + j * S::N)) });
        }
        i += 4 * S::N;
    }
    while i + S::N <= n {
        // SAFETY: `i + N <= n`.
        acc[0] = s.add(acc[0], unsafe { s.load(p.add(i)) });
        i += S::N;
    }
    let sum = s.add(s.add(acc[0], acc[1]), s.add(acc[2], acc[3]));
    let mut lanes = [S::E::ZERO; 16];
    // SAFETY: `lanes` holds 16 >= N elements.
    unsafe { s.store(lanes.as_mut_ptr(), sum) };
    let total = lanes[..S::N].iter().chain(&x[i..]).fold(S::E::ZERO, |a, &b| a + b);
    !total.is_finite()
}
