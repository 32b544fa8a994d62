//! The channels-first (NCL, NCHW, NCDHW) windowed loop nest, written once over the vector trait
//! [`FloatLanes`] (with its deinterleaving loads) for every float element type, and instantiated by
//! the AVX-512, AVX2 and NEON modules through [`Nests`] (`f32` on the tokens, `f64` on
//! [`crate::lanes::F64`]).
//!
//! # Algorithm (separable, canonical order)
//! A window's sum is `sum_z(sum_y(sum_x(x)))` (each row folded left to right from `+0.0`) and
//! its max is the same fold by the max rule, so the work splits in two passes that keep exactly
//! that order:
//! * **Horizontal pass**: each input row needed by a column tile of outputs is reduced along x
//!   into a row of `hr[ox]` values (the row fold of output `ox`'s window), vectorised over `ox`:
//!   stride 1 by shifted loads, stride 2 by even/odd deinterleave, anything else (other strides,
//!   adaptive windows) by a per-output table fold. Reduced rows are cached by input-row id, so
//!   overlapping windows (3x3 stride 2, 3x3 stride 1, 5x5 stride 1) reduce each input row once.
//! * **Vertical pass**: each output row folds the cached rows of its window, top to bottom within
//!   a depth plane and the planes front to back, with full-width contiguous loads, then divides
//!   (average) or takes the square root (Lp, `p = 2`).
//!
//! Padding: zero-filled (sums) or `-inf`-filled (max) row buffers are bit-neutral (see the crate
//! docs), so border tiles read from a padded stack copy of the row; interior tiles read the input
//! directly. Nothing is ever read outside the input slice or the stack buffers.
//!
//! # Loop nests
//! Three nests run this algorithm, each a named route ([`route`], picked once by the plan):
//! [`plane`] ([`Route::Plane`]: 2-D and 1-D maps, a band of rows at a time, the horizontal pass
//! flat over the band), [`direct`] ([`Route::Lean`]: 3-D windows that share no rows, and what the
//! plane nest's buffers do not hold) and the general nest here ([`Route::General`]: rows wider
//! than a tile, overlapping 3-D windows, adaptive tables). The plane nest is preferred, then the
//! lean one: each settles more of the geometry once per call.

pub(crate) mod direct;
mod plane;

use crate::lanes::reduction::{AbsSum, FinishKind, MaxRule, PowSum, Reduction, SquareSum, Sum};
use crate::lanes::{FloatElem, FloatLanes, LaneElem};
use crate::problem::{Axis, LpPower, Problem, Reduce};
use crate::route::{Route, SeparableLanes};
use core::marker::PhantomData;
use core::ops::Range;

/// Outputs per column tile (a multiple of every ISA's lane count).
const TILE: usize = 256;
/// Cached horizontally reduced rows (a power of two).
const SLOTS: usize = 16;
/// Elements in the padded row buffer.
const BUF: usize = 2560;

/// Where a level compiles this family's nests: its [`FloatLanes`] plus two entry points.
///
/// [`Nests::nest`] runs [`pool_nests`] inside the token's `vectorize` (one out-of-line copy per
/// reduction, stride and kernel size). [`Nests::plane`] runs the plane nest (2-D and 1-D maps, see
/// [`plane`]) or declines (`false`, nothing written); a level may run it at another vector width
/// (AVX-512 runs the AVX2 one; the folds are the same, so are the bits).
pub(crate) trait Nests: FloatLanes {
    /// Whether the suite's kernel sizes get their own copies of the nests (see `by_shape`); each
    /// copy costs compile time per level and element type.
    const SPECIALISED: bool = true;
    /// Runs [`pool_nests`] for this level inside its token's `vectorize`.
    #[inline(always)]
    fn nest<R: Reduction<Self>, const ST: usize, const K: usize>(self, args: Args<'_, '_, '_, Self::E>) {
        self.vectorize(
            #[inline(always)]
            || pool_nests::<Self, R, ST, K>(self, args),
        )
    }
    /// Runs the plane nest for this level, or declines.
    #[inline(always)]
    fn plane<R: Reduction<Self>, const ST: usize, const K: usize>(self, args: PlaneArgs<'_, '_, '_, Self::E>) -> bool {
        plane_run::<Self, R, ST, K>(self, args)
    }
}

/// How the horizontal pass reduces a row.
#[derive(Clone, Copy)]
pub(crate) enum HMode {
    /// Per-output fold from the axis tables (any window, scalar).
    Table,
    /// Regular window with stride 1, 2 or 4, vectorised over outputs.
    Uniform { k: usize, d: usize, pb: usize },
}

/// Elements of the source row a uniform tile of `nvec` vectors reads, from its first tap.
#[inline(always)]
fn extent(n: usize, nvec: usize, k: usize, s: usize, d: usize) -> usize {
    nvec * n * s + (k - 1) * d + n
}

/// The row fold of outputs `v * N..(v + 1) * N` of a tile: `ST` is the stride, `K` the kernel
/// when specialised (0: use `k`), `d` the dilation, `sp` the tile's first tap.
///
/// # Safety
/// `sp[0..extent(N, v + 1, k, ST, d)]` must be readable.
#[inline(always)]
unsafe fn hvec<S: Nests, R: Reduction<S>, const ST: usize, const K: usize>(
    s: S,
    sp: *const S::E,
    v: usize,
    k: usize,
    d: usize,
) -> S::V {
    // Specialised kernels come undilated (`by_shape`): the taps' parities are then constants.
    debug_assert!(K == 0 || d == 1);
    let (k, d) = if K > 0 { (K, 1) } else { (k, d) };
    let base = v * S::N * ST;
    // SAFETY (both calls): tap offsets are `<= (k - 1) * d`, so by `tap`'s contract every read
    // ends at or before `extent(N, v + 1, k, ST, d)`, which the caller guarantees readable.
    let mut acc = R::first(s, R::term(s, unsafe { tap::<S, ST>(s, sp, base, 0) }));
    for t in 1..k {
        acc = R::comb(s, acc, R::term(s, unsafe { tap::<S, ST>(s, sp, base, t * d) }));
    }
    // Every tap came in the same lane order and the fold is lane-wise: one fix for all taps.
    s.order::<ST>(acc)
}

/// The elements `sp[base + ST * j + o]`, in the deinterleave order of stride `ST`.
///
/// # Safety
/// Stride 1 reads `sp[base + o..][..N]`, stride 2 `sp[base + (o & !1)..][..2N]`, stride 4
/// `sp[base + (o & !3)..][..4N]`: that range must be readable.
#[inline(always)]
unsafe fn tap<S: Nests, const ST: usize>(s: S, sp: *const S::E, base: usize, o: usize) -> S::V {
    // SAFETY: the caller's contract is exactly the range each branch reads.
    unsafe {
        match ST {
            1 => s.load(sp.add(base + o)),
            2 => {
                let q = sp.add(base + (o & !1));
                if o & 1 == 0 { s.load_even(q) } else { s.load_odd(q) }
            }
            _ => s.load_stride4(sp.add(base + (o & !3)), o & 3),
        }
    }
}

/// Finishes the window values of outputs `off..off + N` (divisors `div[off..]`) and stores
/// the valid ones (`off < nt <= out.len()`).
#[inline(always)]
fn finish_store<S: Nests, R: Reduction<S>>(
    s: S,
    fin: FinishKind<S::E>,
    div: &[S::E; TILE],
    x: S::V,
    off: usize,
    nt: usize,
    out: &mut [S::E],
) {
    let y = match fin {
        _ if R::MAX => x,
        FinishKind::None => x,
        FinishKind::Sum => s.canonical_nan(x),
        FinishKind::Sqrt => s.canonical_nan(s.sqrt(x)),
        FinishKind::Pow(_) => unreachable!("general Lp runs in the lean nest or the portable kernel"),
        FinishKind::Div(Some(d)) => s.canonical_nan(s.div(x, s.splat(d))),
        FinishKind::Div(None) => {
            let d = &div[off..off + S::N];
            // SAFETY: `d` holds N floats.
            s.canonical_nan(s.div(x, unsafe { s.load(d.as_ptr()) }))
        }
    };
    let end = nt.min(out.len());
    if off + S::N <= end {
        let dst = &mut out[off..off + S::N];
        // SAFETY: `dst` holds N floats.
        unsafe { s.store(dst.as_mut_ptr(), y) }
    } else {
        let dst = &mut out[off..end];
        // SAFETY: `dst` holds `dst.len() < N` floats (the callers keep `off < nt`).
        unsafe { s.store_first(dst.as_mut_ptr(), dst.len(), y) }
    }
}

/// Where the rows of one window come from, for [`fold_rows`].
trait Rows<S: Nests> {
    /// Row `i` of the window (rows ordered depth-major; `i = zi * ty + yi`), as a vector of row
    /// folds.
    fn row(&self, s: S, zi: usize, yi: usize, i: usize) -> S::V;
}

/// Rows already reduced into cache slots: `hr + slots[i] * TILE + off`.
struct Cached<'a, E> {
    hr: &'a [E; SLOTS * TILE],
    slots: &'a [usize; SLOTS],
    off: usize,
}

impl<S: Nests> Rows<S> for Cached<'_, S::E> {
    #[inline(always)]
    fn row(&self, s: S, _zi: usize, _yi: usize, i: usize) -> S::V {
        let at = self.slots[i] * TILE + self.off;
        let h = &self.hr[at..at + S::N];
        // SAFETY: `h` holds N floats.
        unsafe { s.load(h.as_ptr()) }
    }
}

/// Rows of the rolling ring: window row `i` is input row `y0 + i * dy`, in slot `y % SLOTS`.
struct Ring<'a, E> {
    hr: &'a [E; SLOTS * TILE],
    y0: usize,
    dy: usize,
    off: usize,
}

impl<S: Nests> Rows<S> for Ring<'_, S::E> {
    #[inline(always)]
    fn row(&self, s: S, _zi: usize, _yi: usize, i: usize) -> S::V {
        let at = ((self.y0 + i * self.dy) % SLOTS) * TILE + self.off;
        let h = &self.hr[at..at + S::N];
        // SAFETY: `h` holds N floats.
        unsafe { s.load(h.as_ptr()) }
    }
}

/// Rows reduced on the fly from input rows that start at `src[i]` (each `ext` elements readable).
struct Fused<'a, E, R, const ST: usize, const K: usize> {
    src: &'a [*const E; SLOTS],
    v: usize,
    k: usize,
    d: usize,
    red: PhantomData<R>,
}

impl<S: Nests, R: Reduction<S>, const ST: usize, const K: usize> Rows<S> for Fused<'_, S::E, R, ST, K> {
    #[inline(always)]
    fn row(&self, s: S, _zi: usize, _yi: usize, i: usize) -> S::V {
        // SAFETY: built by `output_row` with `src[i][0..extent(N, nvec, k, ST, d)]` inside the
        // input and `v < nvec`, which is `hvec`'s contract.
        unsafe { hvec::<S, R, ST, K>(s, self.src[i], self.v, self.k, self.d) }
    }
}

/// Folds the rows of one window in the canonical order: rows `0..ty` of each depth plane top to
/// bottom, the planes front to back. `TZ`/`TY` specialise the counts (0: use `tz`, `ty`).
#[inline(always)]
fn fold_rows<S: Nests, R: Reduction<S>, const TZ: usize, const TY: usize>(
    s: S,
    tz: usize,
    ty: usize,
    rows: &impl Rows<S>,
) -> S::V {
    let (tz, ty) = if TZ > 0 { (TZ, TY) } else { (tz, ty) };
    let mut vol = s.zero();
    for zi in 0..tz {
        let mut pl = rows.row(s, zi, 0, zi * ty);
        for yi in 1..ty {
            pl = R::comb(s, pl, rows.row(s, zi, yi, zi * ty + yi));
        }
        vol = if zi == 0 { pl } else { R::comb(s, vol, pl) };
    }
    vol
}

/// The separable nest that takes `p` at the widths `lanes` (see [`crate::route::separable`]):
/// the plane nest when its buffers hold the problem, else the lean nest, else the general one.
/// General Lp has its terms only in the lean nest; the portable kernel takes its other shapes.
pub(crate) fn route(lanes: SeparableLanes, p: &Problem<'_>, red: &Reduce) -> Route {
    let pow = matches!(red, Reduce::Lp(LpPower::General(_)));
    if let (HMode::Uniform { k, d, pb }, _, st) = x_mode(p, lanes.nests) {
        // An average whose outputs have different divisors keeps a per-output table.
        let table = matches!(red, Reduce::Avg { divisor_override: None }) && uniform_count(p).is_none();
        if plane::fits(p, (k, d, pb), st, lanes.plane, pow, table) {
            return Route::Plane;
        }
        if direct::fits(p, (k, d, pb), st, lanes.nests) {
            return Route::Lean;
        }
    }
    if pow { Route::Portable } else { Route::General }
}

/// The channels-first windowed kernel for one ISA: same contract and bits as
/// [`crate::portable::window`], for every [`Reduce`], on the nest `route` names (the plan's
/// [`route`]; any other route takes the general nest).
#[inline(always)]
pub(crate) fn window<S: Nests>(
    s: S,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[S::E],
    output: &mut [S::E],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    // Each arm builds its finish in place: `by_shape` is inlined into each, with the finish's
    // kind known there.
    match *red {
        Reduce::Max => by_shape::<S, MaxRule>(s, p, FinishKind::None, route, input, output, rows),
        Reduce::Avg { divisor_override } => {
            let d = divisor_override.or_else(|| uniform_count(p).map(|c| c as i64)).map(S::E::from_i64);
            by_shape::<S, Sum>(s, p, FinishKind::Div(d), route, input, output, rows)
        }
        Reduce::Lp(LpPower::One) => by_shape::<S, AbsSum>(s, p, FinishKind::Sum, route, input, output, rows),
        Reduce::Lp(LpPower::Two) => by_shape::<S, SquareSum>(s, p, FinishKind::Sqrt, route, input, output, rows),
        Reduce::Lp(LpPower::General(e)) => by_shape::<S, PowSum>(s, p, FinishKind::Pow(e), route, input, output, rows),
    }
}

/// The element count every output of an average shares, when they all share one (no padding
/// counted out, no ceil-mode overhang): the same value the per-output tables would hold, so the
/// same bits, without building a table in every call (each rayon task is a call).
#[inline(always)]
fn uniform_count(p: &Problem<'_>) -> Option<usize> {
    let mut product = 1usize;
    for a in p.axes() {
        let (&first, rest) = a.count().split_first()?;
        if rest.iter().any(|&c| c != first) {
            return None;
        }
        product = product.checked_mul(first)?;
    }
    Some(product)
}

/// The horizontal mode of `p` at `n` lanes, its column tile, and its x stride (0: table mode):
/// a regular window with stride 1, 2 or 4 is vectorised when a tile of at least one vector has a
/// padded source that fits the row buffer; every other x window folds per output from the table.
#[inline(always)]
fn x_mode(p: &Problem<'_>, n: usize) -> (HMode, usize, usize) {
    let ax = p.axes()[2];
    let round = ax.out_len().div_ceil(n) * n;
    let table = (HMode::Table, TILE.min(round), 0);
    match ax.uniform() {
        Some(u) if matches!(u.stride, 1 | 2 | 4) && u.kernel >= 1 => {
            let (k, st, d) = (u.kernel, u.stride, ax.dilation());
            // Largest tile whose padded source fits the buffer.
            let fixed = (k - 1).saturating_mul(d).saturating_add(n);
            let fit = if fixed < BUF { (BUF - fixed) / (n * st) * n } else { 0 };
            let tile = fit.min(TILE).min(round);
            if tile >= n { (HMode::Uniform { k, d, pb: u.pad_begin }, tile, st) } else { table }
        }
        _ => table,
    }
}

/// Picks the horizontal mode and tile, and the loop nest specialised for the x stride and kernel.
#[inline(always)]
fn by_shape<S: Nests, R: Reduction<S>>(
    s: S,
    p: &Problem<'_>,
    finish: FinishKind<S::E>,
    route: Route,
    input: &[S::E],
    output: &mut [S::E],
    rows: Range<usize>,
) {
    let (mode, tile, st) = x_mode(p, S::N);
    // Only undilated kernels are specialised (the suite's layers).
    let k = match mode {
        HMode::Uniform { k, d: 1, .. } => k,
        _ => 0,
    };
    let args = (p, route, mode, tile, finish, input, output, rows);
    // Kernel sizes are specialised for the suite's max and average layers only (each
    // specialisation is a copy of the loop nest per ISA); Lp and other sizes use the generic tap
    // loop.
    match (st, if R::HOT && S::SPECIALISED { k } else { 0 }) {
        (1, 3) => s.nest::<R, 1, 3>(args),
        (1, 5) => s.nest::<R, 1, 5>(args),
        (1, _) => s.nest::<R, 1, 0>(args),
        (2, 2) => s.nest::<R, 2, 2>(args),
        (2, 3) => s.nest::<R, 2, 3>(args),
        (2, _) => s.nest::<R, 2, 0>(args),
        (4, _) => s.nest::<R, 4, 0>(args),
        _ => s.nest::<R, 1, 0>(args),
    }
}

/// The per-output divisors of an average without a uniform divisor, for one output row of a
/// tile: `key * count_x[ox]`, where `key` is the row's `count_z * count_y`. Rebuilt only when the
/// key changes (most rows of a plane share it).
#[derive(Clone, Copy)]
pub(super) struct RowDivisors<E> {
    pub(super) values: [E; TILE],
    key: usize,
}

impl<E: FloatElem> RowDivisors<E> {
    pub(super) fn new() -> Self {
        RowDivisors { values: [E::ONE; TILE], key: usize::MAX }
    }

    /// Forgets the divisors (the next [`RowDivisors::set`] builds them).
    pub(super) fn reset(&mut self) {
        self.key = usize::MAX;
    }

    /// The divisors `key * counts[i]` for the outputs whose x counts are `counts`.
    #[inline(always)]
    pub(super) fn set(&mut self, key: usize, counts: &[usize]) {
        if key != self.key {
            for (d, &c) in self.values.iter_mut().zip(counts) {
                *d = E::from_i64(key.saturating_mul(c) as i64);
            }
            self.key = key;
        }
    }
}

/// Per-call state: geometry, the row cache and the stack buffers.
struct Nest<'a, 'p, E> {
    p: &'p Problem<'a>,
    input: &'p [E],
    mode: HMode,
    finish: FinishKind<E>,
    /// Whether consecutive output rows share input rows (then rows go through the cache).
    overlap: bool,
    /// Horizontally reduced rows, `SLOTS` slots of `TILE` floats.
    hr: [E; SLOTS * TILE],
    /// Input-row id cached in each slot (`usize::MAX`: empty).
    tags: [usize; SLOTS],
    /// Padded copy of a row segment; its padding is filled once per tile.
    buf: [E; BUF],
    buf_ready: bool,
    /// Per-output divisors of the current tile and the `count_z * count_y` they were built for.
    div: RowDivisors<E>,
    /// Scratch per output row: the window's row ids, their cache slots, their input pointers.
    ids: [usize; SLOTS],
    slots: [usize; SLOTS],
    src: [*const E; SLOTS],
    /// Accumulators for windows with more rows than fit the cache at once.
    plane: [E; TILE],
    vol: [E; TILE],
}

/// The arguments of [`Nests::plane`]: the problem, the x window (`k`, `d`, `pad_begin`), the
/// finish, the input, the output and its rows.
pub(crate) type PlaneArgs<'a, 'p, 'o, E> =
    (&'p Problem<'a>, (usize, usize, usize), FinishKind<E>, &'p [E], &'o mut [E], Range<usize>);

/// The plane nest for lanes `S` (what [`Nests::plane`] runs by default).
#[inline(always)]
pub(crate) fn plane_run<S: Nests, R: Reduction<S>, const ST: usize, const K: usize>(
    s: S,
    args: PlaneArgs<'_, '_, '_, S::E>,
) -> bool {
    let (p, kdp, finish, input, output, rows) = args;
    plane::try_plane_nest::<S, R, ST, K>(s, p, kdp, finish, input, output, rows)
}

/// The arguments of [`pool_nests`].
pub(crate) type Args<'a, 'p, 'o, E> =
    (&'p Problem<'a>, Route, HMode, usize, FinishKind<E>, &'p [E], &'o mut [E], Range<usize>);

/// Input-row ids (over `(image, z, y)`) of the rows of one window, depth-major.
#[derive(Clone, Copy)]
struct RowIds {
    plane0: usize,
    dz: usize,
    h_in: usize,
    sy: usize,
    dy: usize,
    ty: usize,
}

impl RowIds {
    #[inline(always)]
    fn of(&self, i: usize) -> usize {
        (self.plane0 + (i / self.ty) * self.dz) * self.h_in + self.sy + (i % self.ty) * self.dy
    }
}

/// Whether the windows of neighbouring outputs along a (depth or height) axis share input rows.
fn axis_overlaps(a: &Axis<'_>) -> bool {
    match a.uniform() {
        Some(u) => u.stride < (u.kernel - 1) * a.dilation() + 1,
        None => a.out_len() > 1,
    }
}

/// The loop nest for one ISA, reduction, x stride `ST` and x kernel `K` (0: any); each ISA
/// instantiates it inside its token's `vectorize` ([`Nests::nest`]).
#[inline(always)]
pub(crate) fn pool_nests<S: Nests, R: Reduction<S>, const ST: usize, const K: usize>(
    s: S,
    args: Args<'_, '_, '_, S::E>,
) {
    let (p, route, mode, tile, finish, input, output, rows) = args;
    // Each nest still checks that its buffers hold the problem (a route the problem does not fit
    // falls through to the general nest, which holds every shape).
    if let HMode::Uniform { k, d, pb } = mode
        && match route {
            Route::Plane => s.plane::<R, ST, K>((p, (k, d, pb), finish, input, &mut *output, rows.clone())),
            Route::Lean => direct::try_lean_nest::<S, R, ST, K>(s, p, (k, d, pb), finish, input, output, rows.clone()),
            _ => false,
        }
    {
        return;
    }
    if let FinishKind::Pow(e) = finish {
        // Only the lean nest applies the general Lp terms; other shapes take the portable kernel.
        return crate::portable::window(p, &Reduce::Lp(LpPower::General(e)), input, output, rows);
    }
    if K != 0 {
        // The general nest is compiled once per stride (kernel unspecialised): the shapes that
        // reach it (rows over one tile, 3-D overlapping windows) are rare, and the copies per
        // kernel size cost compile time.
        return s.nest::<R, ST, 0>((p, Route::General, mode, tile, finish, input, output, rows));
    }
    let [az, ay, ax] = p.axes();
    let ow = ax.out_len();
    let mut nest = Nest {
        p,
        input,
        mode,
        finish,
        overlap: axis_overlaps(az) || axis_overlaps(ay),
        hr: [S::E::ZERO; SLOTS * TILE],
        tags: [usize::MAX; SLOTS],
        buf: [R::pad(); BUF],
        buf_ready: false,
        div: RowDivisors::new(),
        ids: [0; SLOTS],
        slots: [0; SLOTS],
        src: [input.as_ptr(); SLOTS],
        plane: [S::E::ZERO; TILE],
        vol: [S::E::ZERO; TILE],
    };
    let (od, oh) = (az.out_len(), ay.out_len());
    let per_image = od * oh;
    // Rolling rows: 2-D (or 1-D) problems whose windows overlap along y and span at most
    // `SLOTS` input rows keep a ring of reduced rows indexed by input row.
    let span = ay.taps().iter().map(|&t| (t - 1) * ay.dilation() + 1).max().unwrap_or(1);
    let rolling = az.in_len() == 1 && od == 1 && nest.overlap && span <= SLOTS;
    let mut r = rows.start;
    while r < rows.end {
        let image = r / per_image;
        let first = r % per_image;
        let last = per_image.min(first + (rows.end - r));
        let out_base = (r - rows.start) * ow;
        let mut ox0 = 0;
        while ox0 < ow {
            let nt = tile.min(ow - ox0);
            nest.tags = [usize::MAX; SLOTS];
            nest.div.reset();
            nest.buf_ready = false;
            if rolling {
                let out = &mut output[out_base..out_base + (last - first) * ow];
                nest.rolling_rows::<S, R, ST, 0>(s, image, first..last, ox0, nt, out);
            } else {
                for q in first..last {
                    let (oz, oy) = (q / oh, q % oh);
                    let at = out_base + (q - first) * ow + ox0;
                    nest.output_row::<S, R, ST, 0>(s, (image, oz, oy), ox0, nt, &mut output[at..at + nt]);
                }
            }
            ox0 += nt;
        }
        r += last - first;
    }
}

impl<E: FloatElem> Nest<'_, '_, E> {
    /// Output rows `oys` (all in the plane `image`, depth 1) for outputs `ox0..ox0 + nt`, with a
    /// ring of reduced input rows: input row `y` lives in slot `y % SLOTS`, and the ring holds
    /// rows `lo..hi`. Window starts and ends never decrease with `oy` (windowed and adaptive
    /// axes), so each input row is reduced once per tile. `out` holds the rows' full outputs.
    #[inline(always)]
    fn rolling_rows<S: Nests<Float = E>, R: Reduction<S>, const ST: usize, const K: usize>(
        &mut self,
        s: S,
        image: usize,
        oys: Range<usize>,
        ox0: usize,
        nt: usize,
        out: &mut [E],
    ) {
        let [az, ay, ax] = self.p.axes();
        let (dy, h_in, ow) = (ay.dilation(), ay.in_len(), ax.out_len());
        // A depth axis of length 1 can still count padding in the divisor.
        let cz = az.count()[0];
        let nvec = nt.div_ceil(S::N);
        let fin = self.finish;
        let (mut lo, mut hi) = (0usize, 0usize);
        let first = oys.start;
        for oy in oys {
            let (y0, ty) = (ay.start()[oy], ay.taps()[oy]);
            let y1 = y0 + (ty - 1) * dy + 1;
            if y0 < lo || y0 >= hi {
                (lo, hi) = (y0, y0);
            }
            while hi < y1 {
                self.hrow::<S, R, ST, K>(s, image * h_in + hi, ox0, nt, hi % SLOTS);
                hi += 1;
            }
            lo = lo.max(hi.saturating_sub(SLOTS));
            if let FinishKind::Div(None) = self.finish {
                self.div.set(cz.saturating_mul(ay.count()[oy]), &self.p.axes()[2].count()[ox0..ox0 + nt]);
            }
            let at = (oy - first) * ow + ox0;
            let out = &mut out[at..at + nt];
            for v in 0..nvec {
                let off = v * S::N;
                let rows = Ring { hr: &self.hr, y0, dy, off };
                let x = match ty {
                    3 => fold_rows::<S, R, 1, 3>(s, 1, ty, &rows),
                    2 => fold_rows::<S, R, 1, 2>(s, 1, ty, &rows),
                    5 => fold_rows::<S, R, 1, 5>(s, 1, ty, &rows),
                    _ => fold_rows::<S, R, 0, 0>(s, 1, ty, &rows),
                };
                finish_store::<S, R>(s, fin, &self.div.values, x, off, nt, out);
            }
        }
    }

    /// Computes the outputs `ox0..ox0 + nt` of output row `(image, oz, oy)` into `out`.
    #[inline(always)]
    fn output_row<S: Nests<Float = E>, R: Reduction<S>, const ST: usize, const K: usize>(
        &mut self,
        s: S,
        (image, oz, oy): (usize, usize, usize),
        ox0: usize,
        nt: usize,
        out: &mut [E],
    ) {
        let [az, ay, ax] = self.p.axes();
        let (tz, ty) = (az.taps()[oz], ay.taps()[oy]);
        let (sz, sy) = (az.start()[oz], ay.start()[oy]);
        let (dz, dy) = (az.dilation(), ay.dilation());
        let (d_in, h_in, w) = (az.in_len(), ay.in_len(), ax.in_len());
        let id_of = RowIds { plane0: image * d_in + sz, dz, h_in, sy, dy, ty };
        let count = tz * ty;
        if let FinishKind::Div(None) = self.finish {
            self.div.set(az.count()[oz].saturating_mul(ay.count()[oy]), &self.p.axes()[2].count()[ox0..ox0 + nt]);
        }
        // Ids of the window's rows when they fit the fixed arrays (no divisions per row). The
        // arrays live in `self`, so nothing is zeroed per row.
        let ids = &mut self.ids;
        if count <= SLOTS {
            let mut i = 0;
            for zi in 0..tz {
                let plane = (id_of.plane0 + zi * dz) * h_in + sy;
                for yi in 0..ty {
                    ids[i] = plane + yi * dy;
                    i += 1;
                }
            }
        }

        let nvec = nt.div_ceil(S::N);
        let fin = self.finish;

        // Fused mode: windows of neighbouring output rows share no input rows, and every row of
        // this window can be read in place; reduce each row straight into registers.
        if let HMode::Uniform { k, d, pb } = self.mode
            && !self.overlap
            && count <= SLOTS
        {
            let ext = extent(S::N, nvec, k, ST, d);
            let v0 = ox0 * ST;
            let last_tap = (ox0 + nt - 1) * ST + (k - 1) * d;
            let last_row = ids[count - 1] * w;
            if v0 >= pb && last_tap < w + pb && last_row + (v0 - pb) + ext <= self.input.len() {
                let mut src = self.src;
                for (i, sp) in src[..count].iter_mut().enumerate() {
                    // Rows ids grow with `i`, so every row's `ext` elements lie before the last
                    // row's end, which was checked against the input length just above.
                    *sp = self.input[ids[i] * w + (v0 - pb)..].as_ptr();
                }
                for v in 0..nvec {
                    // Each `src[i][0..ext]` is inside `input` (checked above), and
                    // `extent(N, v + 1, ..) <= extent(N, nvec, ..) = ext`.
                    let rows = Fused::<E, R, ST, K> { src: &src, v, k, d, red: PhantomData };
                    let x = match (tz, ty) {
                        (1, 1) => fold_rows::<S, R, 1, 1>(s, tz, ty, &rows),
                        (1, 2) => fold_rows::<S, R, 1, 2>(s, tz, ty, &rows),
                        (2, 2) => fold_rows::<S, R, 2, 2>(s, tz, ty, &rows),
                        _ => fold_rows::<S, R, 0, 0>(s, tz, ty, &rows),
                    };
                    finish_store::<S, R>(s, fin, &self.div.values, x, v * S::N, nt, out);
                }
                return;
            }
        }

        // Register mode: every row of the window sits in its own cache slot.
        let ids = self.ids;
        let mut slots = self.slots;
        let mut fits = count <= SLOTS;
        if fits {
            let mut used = 0u32;
            for (i, sl) in slots[..count].iter_mut().enumerate() {
                let slot = ids[i] % SLOTS;
                fits &= used & (1 << slot) == 0;
                used |= 1 << slot;
                *sl = slot;
            }
        }
        if fits {
            for (i, &slot) in slots[..count].iter().enumerate() {
                let id = ids[i];
                if self.tags[slot] != id {
                    self.tags[slot] = id;
                    self.hrow::<S, R, ST, K>(s, id, ox0, nt, slot);
                }
            }
            for v in 0..nvec {
                let off = v * S::N;
                let rows = Cached { hr: &self.hr, slots: &slots, off };
                let x = match (tz, ty) {
                    (1, 3) => fold_rows::<S, R, 1, 3>(s, tz, ty, &rows),
                    (1, 5) => fold_rows::<S, R, 1, 5>(s, tz, ty, &rows),
                    (1, 2) => fold_rows::<S, R, 1, 2>(s, tz, ty, &rows),
                    _ => fold_rows::<S, R, 0, 0>(s, tz, ty, &rows),
                };
                finish_store::<S, R>(s, fin, &self.div.values, x, off, nt, out);
            }
        } else {
            // Memory mode: fold one reduced row at a time into `plane` and `vol`.
            for zi in 0..tz {
                for yi in 0..ty {
                    let id = id_of.of(zi * ty + yi);
                    let slot = id % SLOTS;
                    if self.tags[slot] != id {
                        self.tags[slot] = id;
                        self.hrow::<S, R, ST, K>(s, id, ox0, nt, slot);
                    }
                    let h = &self.hr[slot * TILE..slot * TILE + nvec * S::N];
                    let pl = &mut self.plane[..nvec * S::N];
                    for (a, b) in pl.chunks_exact_mut(S::N).zip(h.chunks_exact(S::N)) {
                        // SAFETY: both chunks hold exactly N floats.
                        unsafe {
                            let x = s.load(b.as_ptr());
                            let y = if yi == 0 { x } else { R::comb(s, s.load(a.as_ptr()), x) };
                            s.store(a.as_mut_ptr(), y);
                        }
                    }
                }
                let (pl, vo) = (&self.plane[..nvec * S::N], &mut self.vol[..nvec * S::N]);
                for (a, b) in vo.chunks_exact_mut(S::N).zip(pl.chunks_exact(S::N)) {
                    // SAFETY: both chunks hold exactly N floats.
                    unsafe {
                        let x = s.load(b.as_ptr());
                        let y = if zi == 0 { x } else { R::comb(s, s.load(a.as_ptr()), x) };
                        s.store(a.as_mut_ptr(), y);
                    }
                }
            }
            for v in 0..nvec {
                let off = v * S::N;
                // SAFETY: `off + N <= nvec * N <= TILE`.
                let x = unsafe { s.load(self.vol.as_ptr().add(off)) };
                finish_store::<S, R>(s, fin, &self.div.values, x, off, nt, out);
            }
        }
    }

    /// Reduces input row `id` (over `(image, z, y)`) along x for outputs `ox0..ox0 + nt` into
    /// cache slot `slot` (lanes past `nt` get unspecified values).
    #[inline(always)]
    fn hrow<S: Nests<Float = E>, R: Reduction<S>, const ST: usize, const K: usize>(
        &mut self,
        s: S,
        id: usize,
        ox0: usize,
        nt: usize,
        slot: usize,
    ) {
        let ax: Axis<'_> = self.p.axes()[2];
        let w = ax.in_len();
        let row_base = id * w;
        let dst = &mut self.hr[slot * TILE..(slot + 1) * TILE];
        match self.mode {
            HMode::Table => {
                let row = &self.input[row_base..row_base + w];
                let d = ax.dilation();
                let (st, tp) = (&ax.start()[ox0..ox0 + nt], &ax.taps()[ox0..ox0 + nt]);
                for ((o, &b), &t) in dst.iter_mut().zip(st).zip(tp) {
                    let mut acc = R::first1(R::term1(row[b]));
                    for i in 1..t {
                        acc = R::comb1(acc, R::term1(row[b + i * d]));
                    }
                    *o = acc;
                }
            }
            HMode::Uniform { k, d, pb } => {
                let nvec = nt.div_ceil(S::N);
                let ext = extent(S::N, nvec, k, ST, d);
                // Vector `v` reads virtual positions `v0 + v * step..` for `e1` floats
                // (`extent(N, v + 1, ..) = v * step + e1`).
                let step = S::N * ST;
                let e1 = extent(S::N, 1, k, ST, d);
                let v0 = (ox0 * ST) as isize - pb as isize;
                let len = self.input.len();
                // Vectors `va..vb` read the input in place: their range starts inside the row
                // (`v >= va`), ends inside the input slice, and every tap of their valid lanes
                // lies inside the row (no padding). Both conditions are monotone in `v`.
                let va = if v0 >= 0 { 0 } else { v0.unsigned_abs().div_ceil(step).min(nvec) };
                let direct = |v: usize| {
                    let a = (v0 + (v * step) as isize) as usize;
                    let lane = nt.min((v + 1) * S::N) - 1;
                    row_base + a + e1 <= len && (ox0 + lane) * ST + (k - 1) * d < w + pb
                };
                let mut vb = nvec;
                while vb > va && !direct(vb - 1) {
                    vb -= 1;
                }
                let dp = dst.as_mut_ptr();
                // Short in-place runs between two borders do not pay for a second copy: then the
                // whole range is copied once.
                let split = va < vb && ((va == 0 && vb == nvec) || (vb - va) * step >= 64);
                let (head, tail) = if split { (va, vb) } else { (nvec, nvec) };
                if head > 0 || tail < nvec {
                    // Border vectors read a padded copy of virtual positions v0..v0 + ext
                    // (ext <= BUF by the tile choice). Its padding is the same for every row of
                    // the tile; only the row parts the border vectors read are copied.
                    let buf = &mut self.buf[..ext];
                    if !self.buf_ready {
                        buf.fill(R::pad());
                        self.buf_ready = true;
                    }
                    let input = self.input;
                    let mut copy = |from: usize, to: usize| {
                        let lo = (v0 + from as isize).clamp(0, w as isize) as usize;
                        let hi = (v0 + to as isize).clamp(0, w as isize) as usize;
                        if lo < hi {
                            let at = (lo as isize - v0) as usize;
                            buf[at..at + (hi - lo)].copy_from_slice(&input[row_base + lo..row_base + hi]);
                        }
                    };
                    if head > 0 {
                        copy(0, (head - 1) * step + e1);
                    }
                    if tail < nvec {
                        copy(tail * step, ext);
                    }
                    let bp = buf.as_ptr();
                    for v in 0..head {
                        // SAFETY: `buf` holds `ext = extent(N, nvec, ..)` floats and
                        // `v * step + e1 = extent(N, v + 1, ..) <= ext` (hvec's contract), and
                        // `v * N + N <= nvec * N <= TILE = dst.len()`.
                        unsafe { s.store(dp.add(v * S::N), hvec::<S, R, ST, K>(s, bp.add(v * step), 0, k, d)) }
                    }
                    for v in tail.max(head)..nvec {
                        // SAFETY: `buf` holds `ext = extent(N, nvec, ..)` floats and
                        // `v * step + e1 = extent(N, v + 1, ..) <= ext` (hvec's contract), and
                        // `v * N + N <= nvec * N <= TILE = dst.len()`.
                        unsafe { s.store(dp.add(v * S::N), hvec::<S, R, ST, K>(s, bp.add(v * step), 0, k, d)) }
                    }
                }
                if split {
                    // `direct(vb - 1)` holds, so the last in-place vector's range ends inside
                    // the input, and `va`'s range starts at or after the row start.
                    let b = (row_base as isize + v0 + (va * step) as isize) as usize;
                    let src = &self.input[b..b + (vb - 1 - va) * step + e1];
                    let sp = src.as_ptr();
                    for v in va..vb {
                        // SAFETY: vector `v` reads `src[(v - va) * step..][..e1]`, which ends
                        // at or before `(vb - 1 - va) * step + e1 = src.len()` (hvec's contract
                        // with `v = 0`); `v * N + N <= nvec * N <= TILE = dst.len()`.
                        unsafe { s.store(dp.add(v * S::N), hvec::<S, R, ST, K>(s, sp.add((v - va) * step), 0, k, d)) }
                    }
                }
            }
        }
    }
}
