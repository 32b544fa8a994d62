//! Channels-last (NLC, NHWC, NDHWC) windowed and adaptive pooling, written once over [`Lanes`]
//! and instantiated by each ISA module: every reduction for float lanes ([`window`]), max for any
//! lanes ([`window_max`], which the byte types run).
//!
//! Vectorised over channels: every tap of a window is a contiguous run of channels, so a window
//! reduces whole vectors lane by lane and the canonical order per channel falls out unchanged
//! (each window row folded left to right from `+0.0`, rows top to bottom, planes front to back;
//! max as one row-major scan). Register blocking: `P` neighbouring output pixels (with the same
//! number of taps) times `B` channel vectors are reduced together, which gives `P * B`
//! independent dependency chains. The last partial channel vector uses masked loads and stores.
//! Borders cost nothing: the axis tables give each output's first valid tap and tap count, so
//! padded taps are skipped and padding is never read or materialised. The same tables describe
//! adaptive windows, so adaptive pooling takes the same path.
//!
//! Stride-1 windows of 2 to 5 rows (no dilation, one depth tap) take a sliding path instead:
//! consecutive output rows whose windows are the same rows shifted by one are computed column by
//! column, each input row's window-row reduction computed once and kept in a ring of registers
//! (see [`slide`]), about `kx + ky` operations per output instead of `kx * ky`.
//!
//! NaN: max selects an input element, so its NaN bits are exact. A sum's NaN payload (and sign:
//! `inf - inf` gives x86's negative default NaN) depends on which operand the compiler puts first
//! in each IEEE add, which is not fixed by the source; averages and Lp therefore return the
//! canonical NaN of the type (`f32::NAN`, `f64::NAN`) for every NaN output.

use super::reduction::{
    AbsSum, Canon, Finish as _, Keep, MaxRule, Mean, PerOutput, PowRoot, PowSum, Reduction, Root, SquareSum, Sum,
};
use super::{FloatElem, FloatLanes, LaneElem, Lanes};
use crate::lanes::array_of;
use crate::policy::{STRIP, slide_len};
use crate::problem::{Layout, LpPower, Problem, Reduce};
use crate::route::Route;
use core::marker::PhantomData;
use core::ops::Range;

/// One row's window shape, shared by all its output pixels except for the width taps, and the
/// element strides between neighbouring taps.
#[derive(Clone, Copy)]
struct Win {
    zt: usize,
    yt: usize,
    xt: usize,
    sz: usize,
    sy: usize,
    sx: usize,
}

/// Window shapes with their tap counts known at compile time (`SHAPE_ANY`: read from [`Win`]),
/// so the common small windows get fully unrolled tap loops.
const SHAPE_ANY: u8 = 0;
/// 2x2 (one plane).
const SHAPE_2X2: u8 = 1;
/// 3x3 (one plane).
const SHAPE_3X3: u8 = 2;
/// One row of 4 taps (1-D windows of 4).
const SHAPE_1X4: u8 = 3;

impl Win {
    /// The shape code of this window's tap counts.
    #[inline(always)]
    fn shape(&self) -> u8 {
        match (self.zt, self.yt, self.xt) {
            (1, 2, 2) => SHAPE_2X2,
            (1, 3, 3) => SHAPE_3X3,
            (1, 1, 4) => SHAPE_1X4,
            _ => SHAPE_ANY,
        }
    }
    /// `(zt, yt, xt)`, constants for the fixed shapes (equal to the fields by `shape`).
    #[inline(always)]
    fn dims<const S: u8>(&self) -> (usize, usize, usize) {
        match S {
            SHAPE_2X2 => (1, 2, 2),
            SHAPE_3X3 => (1, 3, 3),
            SHAPE_1X4 => (1, 1, 4),
            _ => (self.zt, self.yt, self.xt),
        }
    }
}

/// The channels-last windowed kernel of float lanes for one level (`P` pixels by `B` channel
/// vectors per block): picks the reduction and finish types and runs each pair in its own call of
/// the token's `vectorize`, so each pair is its own function (its register allocation and code
/// layout do not depend on the other pairs). The caller has checked the buffers with
/// [`Problem::check`].
///
/// Not inlined: levels share lanes (the AVX-512 level's groups run on the AVX2 lanes), and an
/// inlined copy would be compiled again in each level's codegen unit (`level::float_entries!`);
/// out of line, each (lanes, block shape) is compiled once, in this module's unit.
#[inline(never)]
pub(crate) fn window<L: FloatLanes, const P: usize, const B: usize>(
    l: L,
    p: &Problem<'_>,
    red: &Reduce,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    let one = L::Float::ONE;
    match *red {
        Reduce::Max => window_max::<L, P, B>(l, p, input, output, rows),
        Reduce::Avg { divisor_override } => {
            let fin = Mean { over: divisor_override };
            l.vectorize(Rows::<L, Sum, Mean, P, B>::new(l, p, fin, one, input, output, rows))
        }
        Reduce::Lp(LpPower::One) => {
            l.vectorize(Rows::<L, AbsSum, Canon, P, B>::new(l, p, Canon, one, input, output, rows))
        }
        Reduce::Lp(LpPower::Two) => {
            l.vectorize(Rows::<L, SquareSum, Root, P, B>::new(l, p, Root, one, input, output, rows))
        }
        Reduce::Lp(LpPower::General(e)) => {
            // The portable kernel's check and conversions, so the same `powf` calls.
            assert!(e >= 1.0 && e.is_finite(), "Lp exponent must be finite and >= 1");
            let (pw, root) = (L::Float::from_f64(e), L::Float::lp_root_exponent(e));
            let fin = PowRoot(root);
            l.vectorize(Rows::<L, PowSum, PowRoot<L::E>, P, B>::new(l, p, fin, pw, input, output, rows))
        }
    }
}

/// The channels-last max of any lanes (the element types without sums in lanes take only this):
/// [`window`]'s `Reduce::Max` arm.
#[inline(always)]
pub(crate) fn window_max<L: Lanes, const P: usize, const B: usize>(
    l: L,
    p: &Problem<'_>,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    l.vectorize(Rows::<L, MaxRule, Keep, P, B>::new(l, p, Keep, L::E::ZERO, input, output, rows))
}

/// A level's window entry for lanes that take max only ([`crate::route::Families::sums`] false,
/// the byte and half types): channels-last max on the [`Route::Lanes`] route by [`window_max`],
/// channels-first max on the [`Route::Rows`] route by [`crate::lanes::rows`], every other
/// problem on the portable kernels.
pub(crate) fn window_max_entry<L: crate::lanes::rows::RowsMax, const P: usize, const B: usize>(
    l: L,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    match (route, red, p.layout()) {
        (Route::Lanes, Reduce::Max, Layout::ChannelsLast) => {
            p.check(input.len(), output.len(), &rows);
            window_max::<L, P, B>(l, p, input, output, rows)
        }
        (Route::Rows, Reduce::Max, Layout::ChannelsFirst) => {
            crate::lanes::rows::window_max_rows(l, p, input, output, rows)
        }
        _ => crate::portable::window(p, red, input, output, rows),
    }
}

/// Rows `rows` of a channels-last problem by reduction `R` and finish `F`, runnable inside a
/// token's `vectorize` (which enables the level's target features for everything inlined into
/// it).
struct Rows<'a, 'p, L: Lanes, R, F, const P: usize, const B: usize> {
    l: L,
    p: &'a Problem<'p>,
    fin: F,
    /// The general Lp power (unused by the other reductions).
    pw: L::E,
    input: &'a [L::E],
    output: &'a mut [L::E],
    rows: Range<usize>,
    red: PhantomData<R>,
}

impl<'a, 'p, L: Lanes, R, F, const P: usize, const B: usize> Rows<'a, 'p, L, R, F, P, B> {
    #[inline(always)]
    fn new(
        l: L,
        p: &'a Problem<'p>,
        fin: F,
        pw: L::E,
        input: &'a [L::E],
        output: &'a mut [L::E],
        rows: Range<usize>,
    ) -> Self {
        Rows { l, p, fin, pw, input, output, rows, red: PhantomData }
    }
}

impl<L: Lanes, R: Reduction<L>, F: PerOutput<L>, const P: usize, const B: usize> pulp::NullaryFnOnce
    for Rows<'_, '_, L, R, F, P, B>
{
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let Rows { l, p, fin, pw, input, output, rows, .. } = self;
        pool_rows::<L, P, B, R, F>(l, p, fin, pw, input, output, rows)
    }
}

#[inline(always)]
fn pool_rows<L: Lanes, const P: usize, const B: usize, R: Reduction<L>, F: PerOutput<L>>(
    l: L,
    p: &Problem<'_>,
    fin: F,
    pw: L::E,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    let c = p.channels();
    let [az, ay, ax] = p.axes();
    let (h, w) = (ay.in_len(), ax.in_len());
    let (od, oh, ow) = (az.out_len(), ay.out_len(), ax.out_len());
    let in_image = p.in_plane() * c;
    let (xs, xt, xc) = (ax.start(), ax.taps(), ax.count());
    let (ys, yt, yc) = (ay.start(), ay.taps(), ay.count());
    let row_len = ow * c;
    let src = input.as_ptr();
    let out = output.as_mut_ptr();
    let mut r = rows.start;
    while r < rows.end {
        let (n, rem) = (r / (od * oh), r % (od * oh));
        let (oz, oy) = (rem / oh, rem % oh);
        let row_base = n * in_image + (az.start()[oz] * h + ys[oy]) * w * c;
        // SAFETY: `check` gives `output.len() == rows.len() * row_len`, and `r` is in `rows`.
        let dst = unsafe { out.add((r - rows.start) * row_len) };
        let zt = az.taps()[oz];
        // A run of output rows whose windows are the same `ky` consecutive input rows shifted
        // by one row per output (stride 1, no dilation, no border clipping): reduce each input
        // row once and slide (see `column`).
        let ky = yt[oy];
        let mut run_len = 1;
        if zt == 1 && ay.dilation() == 1 && (2..=5).contains(&ky) {
            while r + run_len < rows.end
                && run_len < slide_len(ky)
                && oy + run_len < oh
                && yt[oy + run_len] == ky
                && ys[oy + run_len] == ys[oy] + run_len
            {
                run_len += 1;
            }
        }
        if run_len >= 2 {
            let g = Slide {
                base: row_base,
                len: run_len,
                c,
                sy: w * c,
                sx: ax.dilation() * c,
                out_stride: row_len,
                cz: az.count()[oz],
                cy: &yc[oy..oy + run_len],
                fin,
                pw,
            };
            // SAFETY: rows `r .. r + run_len` are in `rows` (so their outputs are in `output`),
            // and row `r + t` reads input rows `ys[oy] + t .. ys[oy] + t + ky`, which are its
            // window rows (`ys[oy + t] == ys[oy] + t`, `yt[oy + t] == ky`, dilation 1), inside
            // the input by the axis invariants; see `slide`.
            unsafe {
                match ky {
                    2 => slide::<L, B, R, F, 2>(l, src, dst, &g, xs, xt, xc),
                    3 => slide::<L, B, R, F, 3>(l, src, dst, &g, xs, xt, xc),
                    4 => slide::<L, B, R, F, 4>(l, src, dst, &g, xs, xt, xc),
                    _ => slide::<L, B, R, F, 5>(l, src, dst, &g, xs, xt, xc),
                }
            }
            r += run_len;
            continue;
        }
        let czy = az.count()[oz].saturating_mul(yc[oy]);
        let mut win =
            Win { zt, yt: ky, xt: 0, sz: az.dilation() * h * w * c, sy: ay.dilation() * w * c, sx: ax.dilation() * c };
        let mut ox = 0;
        while ox < ow {
            win.xt = xt[ox];
            if ox + P <= ow && (1..P).all(|j| xt[ox + j] == win.xt) {
                let bases: [usize; P] = array_of(
                    #[inline(always)]
                    |j| row_base + xs[ox + j] * c,
                );
                let fins: [F::Each; P] = array_of(
                    #[inline(always)]
                    |j| fin.each(czy.saturating_mul(xc[ox + j])),
                );
                // SAFETY: see `pixels`: every tap of output `(n, oz, oy, ox + j)` lies inside
                // `input` (axis invariants: `start + (taps - 1) * dilation < in_len` per axis,
                // `n < batch` since `r < p.rows()` by `check`), and pixels `ox .. ox + P` are
                // `P * c` elements of this row's output starting at `ox * c` (`ox + P <= ow`).
                unsafe {
                    let d = dst.add(ox * c);
                    match win.shape() {
                        SHAPE_2X2 => pixels::<L, P, B, R, F, SHAPE_2X2>(l, src, d, bases, win, fins, pw, c),
                        SHAPE_3X3 => pixels::<L, P, B, R, F, SHAPE_3X3>(l, src, d, bases, win, fins, pw, c),
                        SHAPE_1X4 => pixels::<L, P, B, R, F, SHAPE_1X4>(l, src, d, bases, win, fins, pw, c),
                        _ => pixels::<L, P, B, R, F, SHAPE_ANY>(l, src, d, bases, win, fins, pw, c),
                    }
                }
                ox += P;
            } else {
                let fins = [fin.each(czy.saturating_mul(xc[ox]))];
                // SAFETY: as above with one pixel (`ox < ow`).
                unsafe {
                    pixels::<L, 1, B, R, F, SHAPE_ANY>(
                        l,
                        src,
                        dst.add(ox * c),
                        [row_base + xs[ox] * c],
                        win,
                        fins,
                        pw,
                        c,
                    )
                };
                ox += 1;
            }
        }
        r += 1;
    }
}

/// A run of output rows reduced by sliding down the input rows.
struct Slide<'a, E, F> {
    /// Input offset of the first window row of the run's first output row, at `x = 0`.
    base: usize,
    /// Output rows in the run.
    len: usize,
    c: usize,
    /// Element distance between input rows.
    sy: usize,
    /// Element distance between the taps of a window row.
    sx: usize,
    /// Element distance between output rows.
    out_stride: usize,
    /// Depth count and the run's height counts (average divisors).
    cz: usize,
    cy: &'a [usize],
    /// The finish (before the per-output count).
    fin: F,
    /// The general Lp power.
    pw: E,
}

/// Reduces a run of `g.len` output rows whose windows are `KY` consecutive input rows, moving
/// down one input row per output row: each input row's window-row reduction (per output
/// column) is computed once and kept in a ring of `KY` registers, and each output folds the
/// ring top to bottom, the canonical order (sums: `((R0 + R1) + R2)...` with each `R` folded
/// from `+0.0`; max: an order-preserving regrouping of the row-major scan).
///
/// # Safety
/// For every output row `t < g.len`, column `ox` and tap `x < xt[ox]`, input rows
/// `t .. t + KY` at `g.base + t' * g.sy + xs[ox] * c + x * g.sx` start `c` readable elements, and
/// `dst + t * g.out_stride .. + ow * c` is writable (`ow = xs.len()`).
#[inline(always)]
unsafe fn slide<L: Lanes, const B: usize, R: Reduction<L>, F: PerOutput<L>, const KY: usize>(
    l: L,
    src: *const L::E,
    dst: *mut L::E,
    g: &Slide<'_, L::E, F>,
    xs: &[usize],
    xt: &[usize],
    xc: &[usize],
) {
    let c = g.c;
    let mut ds = [g.fin.each(1); 2 * STRIP];
    for ox in 0..xs.len() {
        let base = g.base + xs[ox] * c;
        let taps = xt[ox];
        let dst = dst.wrapping_add(ox * c);
        if F::COUNTED {
            for (t, d) in ds.iter_mut().enumerate().take(g.len) {
                *d = g.fin.each(g.cz.saturating_mul(g.cy[t]).saturating_mul(xc[ox]));
            }
        }
        // SAFETY: forwarded contract, for this column.
        unsafe {
            // Square windows (the common case) get an unrolled row reduction.
            if taps == KY {
                columns::<L, B, R, F, KY, KY>(l, src, dst, base, taps, &ds, g);
            } else {
                columns::<L, B, R, F, KY, 0>(l, src, dst, base, taps, &ds, g);
            }
        }
    }
}

/// All channels of one output column of a [`slide`] run (`KX`: the tap count when non-zero).
///
/// # Safety
/// As [`slide`], for this column: input taps from `base`, outputs from `dst`.
#[inline(always)]
unsafe fn columns<L: Lanes, const B: usize, R: Reduction<L>, F: PerOutput<L>, const KY: usize, const KX: usize>(
    l: L,
    src: *const L::E,
    dst: *mut L::E,
    base: usize,
    taps: usize,
    ds: &[F::Each; 2 * STRIP],
    g: &Slide<'_, L::E, F>,
) {
    let (c, n) = (g.c, L::N);
    let mut c0 = 0;
    // SAFETY (three loops): channels `c0 .. c0 + width <= c` of this column, the partial
    // vector masked to exactly `c - c0` lanes: in bounds by this function's contract.
    while c0 + B * n <= c {
        // SAFETY: `B` full vectors, channels `c0 .. c0 + B * n <= c`.
        unsafe { column::<L, B, R, F, KY, KX>(l, src, dst, base + c0, taps, c0, ds, g, None) };
        c0 += B * n;
    }
    while c0 + n <= c {
        // SAFETY: one full vector, channels `c0 .. c0 + n <= c` (see above).
        unsafe { column::<L, 1, R, F, KY, KX>(l, src, dst, base + c0, taps, c0, ds, g, None) };
        c0 += n;
    }
    if c0 < c {
        let m = l.mask(c - c0);
        // SAFETY: the mask covers exactly channels `c0 .. c` (see above).
        unsafe { column::<L, 1, R, F, KY, KX>(l, src, dst, base + c0, taps, c0, ds, g, Some(m)) };
    }
}

/// Reduces one window row (`taps` taps from `at`, `sx` apart) of `B` vectors: max by the scan
/// rule from the first tap, sums from `+0.0` left to right.
///
/// # Safety
/// Every tap starts `B * N` readable lanes (the mask's lanes for the last vector with `tail`).
#[inline(always)]
unsafe fn row_reduce<L: Lanes, const B: usize, R: Reduction<L>, const KX: usize>(
    l: L,
    src: *const L::E,
    at: usize,
    taps: usize,
    sx: usize,
    pw: L::E,
    tail: Option<L::M>,
) -> [L::V; B] {
    let taps = if KX == 0 { taps } else { KX };
    if R::MAX {
        // SAFETY: the first tap, in bounds by the contract.
        let mut acc: [L::V; B] = array_of(
            #[inline(always)]
            |b| unsafe { ld::<L, B>(l, src.add(at + b * L::N), b, tail) },
        );
        for x in 1..taps {
            for (b, ab) in acc.iter_mut().enumerate() {
                // SAFETY: tap `x < taps`, in bounds by the contract.
                let v = unsafe { ld::<L, B>(l, src.add(at + x * sx + b * L::N), b, tail) };
                *ab = R::comb(l, *ab, v);
            }
        }
        acc
    } else {
        // From the first term, not from `+0.0`: Lp terms are never `-0.0`, and averages add the
        // `+0.0` once per output (see `block`).
        // SAFETY: the first tap, in bounds by the contract.
        let mut acc: [L::V; B] = array_of(
            #[inline(always)]
            |b| R::raw_term(l, unsafe { ld::<L, B>(l, src.add(at + b * L::N), b, tail) }, pw),
        );
        for x in 1..taps {
            for (b, ab) in acc.iter_mut().enumerate() {
                // SAFETY: tap `x < taps`, in bounds by the contract.
                let v = unsafe { ld::<L, B>(l, src.add(at + x * sx + b * L::N), b, tail) };
                *ab = R::comb(l, *ab, R::raw_term(l, v, pw));
            }
        }
        acc
    }
}

/// One column (output `ox`, channels `c0 ..`) of a [`slide`] run.
///
/// # Safety
/// As [`slide`], for this column's `B` vectors at `at` (input) and `dst + c0` (output).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn column<L: Lanes, const B: usize, R: Reduction<L>, F: PerOutput<L>, const KY: usize, const KX: usize>(
    l: L,
    src: *const L::E,
    dst: *mut L::E,
    at: usize,
    taps: usize,
    c0: usize,
    ds: &[F::Each; 2 * STRIP],
    g: &Slide<'_, L::E, F>,
    tail: Option<L::M>,
) {
    let mut ring = [[l.zero(); B]; KY];
    for (k, rk) in ring.iter_mut().enumerate().take(KY - 1) {
        // SAFETY: input row `k < KY` of the run's first window.
        *rk = unsafe { row_reduce::<L, B, R, KX>(l, src, at + k * g.sy, taps, g.sx, g.pw, tail) };
    }
    for (t, &dt) in ds.iter().enumerate().take(g.len) {
        // SAFETY: input row `t + KY - 1`, the last window row of output row `t`.
        ring[KY - 1] = unsafe { row_reduce::<L, B, R, KX>(l, src, at + (t + KY - 1) * g.sy, taps, g.sx, g.pw, tail) };
        let mut acc = ring[0];
        for rk in &ring[1..] {
            for (a, &v) in acc.iter_mut().zip(rk) {
                *a = R::comb(l, *a, v);
            }
        }
        let acc = dt.apply_all(l, acc);
        for (b, &v) in acc.iter().enumerate() {
            let ptr = dst.wrapping_add(t * g.out_stride + c0 + b * L::N);
            match tail {
                // SAFETY: the mask's lanes of this output's channels: writable by the contract.
                Some(m) if b + 1 == B => unsafe { l.store_masked(m, ptr, v) },
                // SAFETY: a full vector of this output's channels: writable by the contract.
                _ => unsafe { l.store(ptr, v) },
            }
        }
        for k in 0..KY - 1 {
            ring[k] = ring[k + 1];
        }
    }
}

/// Reduces the windows of `P` neighbouring output pixels with the same tap counts, all channels.
///
/// # Safety
/// For each `j`, every tap `bases[j] + z * sz + y * sy + x * sx` (`z < zt`, `y < yt`, `x < xt`)
/// starts `c` readable elements at `src`, and `dst .. dst + P * c` is writable.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn pixels<L: Lanes, const P: usize, const B: usize, R: Reduction<L>, F: PerOutput<L>, const S: u8>(
    l: L,
    src: *const L::E,
    dst: *mut L::E,
    bases: [usize; P],
    win: Win,
    fins: [F::Each; P],
    pw: L::E,
    c: usize,
) {
    let n = L::N;
    let mut c0 = 0;
    // SAFETY (all three loops): each block covers channels `c0 .. c0 + width` with
    // `c0 + width <= c`, the last partial vector through a mask of exactly `c - c0` lanes, so with
    // this function's contract every access is in bounds.
    while c0 + B * n <= c {
        // SAFETY: `B` full vectors, channels `c0 .. c0 + B * n <= c`.
        unsafe { block::<L, P, B, R, F, S>(l, src, dst, bases, win, fins, pw, c, c0, None) };
        c0 += B * n;
    }
    while c0 + n <= c {
        // SAFETY: one full vector, channels `c0 .. c0 + n <= c` (see above).
        unsafe { block::<L, P, 1, R, F, S>(l, src, dst, bases, win, fins, pw, c, c0, None) };
        c0 += n;
    }
    if c0 < c {
        let m = l.mask(c - c0);
        // SAFETY: the mask covers exactly channels `c0 .. c` (see above).
        unsafe { block::<L, P, 1, R, F, S>(l, src, dst, bases, win, fins, pw, c, c0, Some(m)) };
    }
}

/// Loads vector `b` of a block: full, or masked when it is the block's last and `tail` is set.
///
/// # Safety
/// `ptr .. ptr + N` is readable (or, for the masked case, the mask's lanes are).
#[inline(always)]
unsafe fn ld<L: Lanes, const B: usize>(l: L, ptr: *const L::E, b: usize, tail: Option<L::M>) -> L::V {
    match tail {
        // SAFETY: forwarded contract.
        Some(m) if b + 1 == B => unsafe { l.load_masked(m, ptr) },
        // SAFETY: forwarded contract.
        _ => unsafe { l.load(ptr) },
    }
}

/// Sums one window row (taps `row + x * sx`) left to right from its first term, for every
/// accumulator (the caller adds the canonical `+0.0` once at the end).
///
/// # Safety
/// As [`block`].
#[inline(always)]
unsafe fn row_sum<L: Lanes, const P: usize, const B: usize, R: Reduction<L>, const S: u8>(
    l: L,
    src: *const L::E,
    bases: [usize; P],
    row: usize,
    win: Win,
    pw: L::E,
    tail: Option<L::M>,
) -> [[L::V; B]; P] {
    // Starts from the first term, not from `+0.0`: see `block` for why adding `+0.0` once at
    // the end gives the canonical bits.
    // SAFETY: tap 0 is inside the window, so in bounds by the caller's contract.
    let mut s: [[L::V; B]; P] = array_of(
        #[inline(always)]
        |j| {
            array_of(
                #[inline(always)]
                |b| R::raw_term(l, unsafe { ld::<L, B>(l, src.add(bases[j] + row + b * L::N), b, tail) }, pw),
            )
        },
    );
    for x in 1..win.dims::<S>().2 {
        let off = row + x * win.sx;
        for j in 0..P {
            for (b, sb) in s[j].iter_mut().enumerate() {
                // SAFETY: the tap is inside the window, so in bounds by the caller's contract.
                let v = unsafe { ld::<L, B>(l, src.add(bases[j] + off + b * L::N), b, tail) };
                *sb = R::comb(l, *sb, R::raw_term(l, v, pw));
            }
        }
    }
    s
}

/// Sums one window plane: its rows top to bottom.
///
/// # Safety
/// As [`block`].
#[inline(always)]
unsafe fn plane_sum<L: Lanes, const P: usize, const B: usize, R: Reduction<L>, const S: u8>(
    l: L,
    src: *const L::E,
    bases: [usize; P],
    plane: usize,
    win: Win,
    pw: L::E,
    tail: Option<L::M>,
) -> [[L::V; B]; P] {
    // SAFETY: forwarded contract (rows `y < yt` of this plane).
    let mut acc = unsafe { row_sum::<L, P, B, R, S>(l, src, bases, plane, win, pw, tail) };
    for y in 1..win.dims::<S>().1 {
        // SAFETY: as above.
        let r = unsafe { row_sum::<L, P, B, R, S>(l, src, bases, plane + y * win.sy, win, pw, tail) };
        for j in 0..P {
            for b in 0..B {
                acc[j][b] = R::comb(l, acc[j][b], r[j][b]);
            }
        }
    }
    acc
}

/// Reduces channels `c0 ..` (`B` vectors, the last one masked by `tail`) of `P` pixels and
/// stores the results.
///
/// # Safety
/// `src + bases[j] + tap + c0 ..` is readable for `B * N` lanes (the last vector only for the
/// mask's lanes when `tail` is set) for every tap of the window, and `dst + j * c + c0 ..` is
/// writable for the same lanes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn block<L: Lanes, const P: usize, const B: usize, R: Reduction<L>, F: PerOutput<L>, const S: u8>(
    l: L,
    src: *const L::E,
    dst: *mut L::E,
    bases: [usize; P],
    win: Win,
    fins: [F::Each; P],
    pw: L::E,
    c: usize,
    c0: usize,
    tail: Option<L::M>,
) {
    let bases: [usize; P] = array_of(
        #[inline(always)]
        |j| bases[j] + c0,
    );
    let out: [[L::V; B]; P] = if R::MAX {
        // SAFETY: the first tap of each window (offset 0) is in bounds by the contract.
        let mut acc: [[L::V; B]; P] = array_of(
            #[inline(always)]
            |j| {
                array_of(
                    #[inline(always)]
                    |b| unsafe { ld::<L, B>(l, src.add(bases[j] + b * L::N), b, tail) },
                )
            },
        );
        let (zt, yt, xt) = win.dims::<S>();
        for z in 0..zt {
            for y in 0..yt {
                let row = z * win.sz + y * win.sy;
                let x0 = usize::from(z == 0 && y == 0);
                for x in x0..xt {
                    let off = row + x * win.sx;
                    for j in 0..P {
                        for (b, ab) in acc[j].iter_mut().enumerate() {
                            // SAFETY: a tap of the window: in bounds by the contract.
                            let v = unsafe { ld::<L, B>(l, src.add(bases[j] + off + b * L::N), b, tail) };
                            *ab = R::comb(l, *ab, v);
                        }
                    }
                }
            }
        }
        acc
    } else {
        // SAFETY: planes `z < zt` of the window: in bounds by the contract.
        let mut vol = unsafe { plane_sum::<L, P, B, R, S>(l, src, bases, 0, win, pw, tail) };
        for z in 1..win.dims::<S>().0 {
            // SAFETY: as above.
            let s = unsafe { plane_sum::<L, P, B, R, S>(l, src, bases, z * win.sz, win, pw, tail) };
            for j in 0..P {
                for b in 0..B {
                    vol[j][b] = R::comb(l, vol[j][b], s[j][b]);
                }
            }
        }
        // The canonical sum starts every window row at `+0.0`; the rows above started at their
        // first term instead. With `f(x) = x + 0.0` (`-0.0` to `+0.0`, every other value,
        // NaN and inf included, unchanged), round-to-nearest gives `f(a) + b == f(a + b)`
        // (`a + b` is `-0.0` only when both are), so the canonical sum is `f` of this one:
        // one add per output (inside the average's finish, [`DivExact`]) instead of one per
        // window row. Lp terms are never `-0.0`, so neither are their sums.
        for (vj, fj) in vol.iter_mut().zip(&fins) {
            *vj = fj.apply_all(l, *vj);
        }
        vol
    };
    for (j, oj) in out.iter().enumerate() {
        for (b, &v) in oj.iter().enumerate() {
            let ptr = dst.wrapping_add(j * c + c0 + b * L::N);
            match tail {
                // SAFETY: the mask's lanes of this pixel's channels: writable by the contract.
                Some(m) if b + 1 == B => unsafe { l.store_masked(m, ptr, v) },
                // SAFETY: a full vector of this pixel's channels: writable by the contract.
                _ => unsafe { l.store(ptr, v) },
            }
        }
    }
}
