//! Routes: the kernel family a problem takes at a level. The SIMD entry points branch on the
//! same functions, so the route a plan reports is the one that runs.

use crate::problem::{Layout, Problem};
use core::fmt;

/// The kernel family that runs a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// The portable kernels: the scalar level, element types without SIMD kernels at the level,
    /// and max with indices over planes of more than `i32::MAX` elements.
    Portable,
    /// Channels-first windows: the separable nests, vectorised along a row of outputs (the
    /// plane, lean or general nest, picked per call by the window's shape).
    Separable,
    /// Channels-first problems with small planes and irregular x windows: groups of whole planes
    /// transposed into channels-last scratch and pooled by the channels-last kernel.
    Transposed,
    /// Channels-last windows, vectorised over channels.
    Lanes,
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
            Route::Separable => "separable",
            Route::Transposed => "transposed",
            Route::Lanes => "lanes",
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

/// The kernel families a level has SIMD kernels of, for one element type (the others run the
/// portable kernels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Families {
    /// Channels-first separable nests.
    pub separable: bool,
    /// Channels-first small planes through transposed groups.
    pub transposed: bool,
    /// Channels-last windows.
    pub lanes: bool,
    /// Max with indices.
    pub argmax: bool,
    /// Global pooling.
    pub global: bool,
}

impl Families {
    /// No SIMD family: the portable kernels serve every route.
    pub const NONE: Families =
        Families { separable: false, transposed: false, lanes: false, argmax: false, global: false };
    /// Every family.
    pub const ALL: Families = Families { separable: true, transposed: true, lanes: true, argmax: true, global: true };
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

/// The route of a windowed or adaptive problem at a level with the SIMD families `f`.
pub fn window(f: Families, p: &Problem<'_>) -> Route {
    match p.layout() {
        Layout::ChannelsFirst if f.transposed && transposed_group(p).is_some() => Route::Transposed,
        Layout::ChannelsFirst if f.separable => Route::Separable,
        Layout::ChannelsLast if f.lanes => Route::Lanes,
        _ => Route::Portable,
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
