//! Routes: the kernel family (and, channels-first, the loop nest) a problem takes at a level.
//! The plan picks the route once, from the functions here, and hands it to every kernel call:
//! the kernels follow it and never choose again.

use crate::problem::{Layout, Problem, Reduce};
use core::fmt;

/// The kernel family that runs a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// The portable kernels: the scalar level, element types without SIMD kernels at the level,
    /// and max with indices over planes of more than `i32::MAX` elements.
    Portable,
    /// Channels-first windows, separable nests: small 2-D and 1-D maps with a regular x window
    /// (stride 1, 2 or 4), a band of rows at a time with the horizontal pass flat over the band.
    Plane,
    /// Channels-first windows, separable nests: a regular x window whose output row fits one
    /// tile and windows that share no rows (3-D included), or share rows along y only; each row
    /// is settled once per call.
    Lean,
    /// Channels-first windows, separable nests: every other shape (rows wider than a tile,
    /// irregular x windows such as adaptive ones, overlapping 3-D windows), a column tile at a
    /// time with a cache of reduced rows.
    General,
    /// Channels-first problems with small planes and irregular x windows: groups of whole planes
    /// transposed into channels-last scratch and pooled by the channels-last kernel.
    Transposed,
    /// Channels-last windows, vectorised over channels.
    Lanes,
    /// Channels-first max on max-only lanes (the byte and half types): the window rows folded at
    /// full width, then the folded row along x (order-free max), or each window row along x,
    /// then the rows in scan order.
    Rows,
    /// Channels-first or channels-last max with indices: vector values and index lanes.
    Argmax,
    /// Global pooling: one vector reduction per `(n, c)` plane.
    Global,
    /// Global pooling over large channels-last planes: the planner cuts each plane into pixel
    /// blocks (which threads can share) and the global kernel reduces each block.
    GlobalBlocks,
}

impl Route {
    /// The route's name, as `simdpool bench --json` and `simdpool pool -v` print it.
    pub const fn name(self) -> &'static str {
        match self {
            Route::Portable => "portable",
            Route::Plane => "plane",
            Route::Lean => "lean",
            Route::General => "general",
            Route::Transposed => "transposed",
            Route::Lanes => "lanes",
            Route::Rows => "rows",
            Route::Argmax => "argmax",
            Route::Global => "global",
            Route::GlobalBlocks => "global-blocks",
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The vector widths (elements per vector) of a level's separable nests for one element type:
/// which nest fits a problem depends on them (a row of outputs must fit a tile of vectors).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeparableLanes {
    /// Width of the plane nest.
    pub plane: usize,
    /// Width of the lean and general nests.
    pub nests: usize,
}

/// The kernel families a level has SIMD kernels of, for one element type (the others run the
/// portable kernels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Families {
    /// Channels-first separable nests, and their widths.
    pub separable: Option<SeparableLanes>,
    /// Channels-first small planes through transposed groups.
    pub transposed: bool,
    /// Channels-last windows.
    pub lanes: bool,
    /// Channels-first max by rows (max-only lanes).
    pub rows: bool,
    /// Max with indices.
    pub argmax: bool,
    /// Global pooling.
    pub global: bool,
    /// Whether the families take sums (average, Lp) as well as max; lanes without float
    /// arithmetic (the byte types) take max only, and their sums run the portable kernels.
    pub sums: bool,
}

impl Families {
    /// No SIMD family: the portable kernels serve every route.
    pub const NONE: Families = Families {
        separable: None,
        transposed: false,
        lanes: false,
        rows: false,
        argmax: false,
        global: false,
        sums: false,
    };
    /// Max only (the byte and half types): the channels-last family and the channels-first rows,
    /// without sums.
    pub const MAX_ONLY: Families = Families { lanes: true, rows: true, ..Families::NONE };
    /// Every family, with separable nests of the given widths.
    pub const fn all(separable: SeparableLanes) -> Families {
        Families {
            separable: Some(separable),
            transposed: true,
            lanes: true,
            rows: false,
            argmax: true,
            global: true,
            sums: true,
        }
    }
}

/// Planes per transposed group for `p`, or `None` when the problem does not take that route.
#[inline]
pub(crate) fn transposed_group(p: &Problem<'_>) -> Option<usize> {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        crate::lanes::transposed::group(p)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = p;
        None
    }
}

/// The route of a windowed or adaptive problem reduced by `red` at a level with the SIMD
/// families `f`.
pub fn window(f: Families, p: &Problem<'_>, red: &Reduce) -> Route {
    match (p.layout(), f.separable) {
        (Layout::ChannelsFirst, _) if f.transposed && transposed_group(p).is_some() => Route::Transposed,
        (Layout::ChannelsFirst, Some(lanes)) => separable(lanes, p, red),
        (Layout::ChannelsFirst, None) if f.rows && *red == Reduce::Max && rows_fit(p) => Route::Rows,
        (Layout::ChannelsLast, _) if f.lanes && (f.sums || *red == Reduce::Max) => Route::Lanes,
        _ => Route::Portable,
    }
}

/// Whether the channels-first rows family takes `p` (every x window fits its column chunk).
#[inline]
fn rows_fit(p: &Problem<'_>) -> bool {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        crate::lanes::rows::fits(p)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = p;
        false
    }
}

/// The separable nest that takes a channels-first problem ([`Route::Plane`], [`Route::Lean`] or
/// [`Route::General`]), or [`Route::Portable`] for the general-Lp shapes no nest takes.
#[inline]
pub fn separable(lanes: SeparableLanes, p: &Problem<'_>, red: &Reduce) -> Route {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        crate::separable::route(lanes, p, red)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = (lanes, p, red);
        Route::Portable
    }
}

/// The route of max with indices (see [`window`]).
pub fn argmax(f: Families, p: &Problem<'_>) -> Route {
    if !f.argmax || !argmax_fits(p) {
        Route::Portable
    } else if f.transposed && transposed_group(p).is_some() {
        Route::Transposed
    } else {
        Route::Argmax
    }
}

/// Whether the vector argmax kernels take `p`: they keep indices in `i32` lanes.
#[inline]
pub(crate) fn argmax_fits(p: &Problem<'_>) -> bool {
    p.in_plane() <= i32::MAX as usize
}

/// The route of a global problem (see [`window`]); `blocks` when the planner cuts its planes
/// into pixel blocks.
pub fn global(f: Families, blocks: bool) -> Route {
    match (f.global, blocks) {
        (false, _) => Route::Portable,
        (true, true) => Route::GlobalBlocks,
        (true, false) => Route::Global,
    }
}
