//! Channels-first windowed f32 kernels for NEON: the separable loop nest of
//! [`crate::separable`] over the 4 `f32` lanes of the `Neon` token (`vld2q`/`vld4q` for the
//! deinterleaves).

use crate::lanes::{F64, Lanes};
use crate::problem::{Problem, Reduce};
use crate::route::Route;
use crate::separable::{self, Nests};
use core::ops::Range;
use pulp::aarch64::Neon;

/// Both nests at 4 lanes (the trait's defaults).
impl Nests for Neon {}

/// The channels-first windowed f32 kernel (see [`crate::WindowFn`]).
pub(crate) fn window(
    simd: Neon,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    simd.vectorize(
        #[inline(always)]
        || separable::window(simd, p, red, route, input, output, rows),
    )
}

/// `f64`: the nests at 2 lanes (the same code as `f32`), one copy per x stride. Kernel-size
/// copies for `f64` as well measured +27% on the kernel crate's release build (100 vs 79 s) for
/// 1.7x on the suite's one `f64` layer.
impl Nests for F64<Neon> {
    const SPECIALISED: bool = false;
}

/// The channels-first windowed f64 kernel (see [`crate::WindowFn`]).
pub(crate) fn window_f64(
    simd: Neon,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[f64],
    output: &mut [f64],
    rows: Range<usize>,
) {
    let l = F64(simd);
    l.vectorize(
        #[inline(always)]
        || separable::window(l, p, red, route, input, output, rows),
    )
}
