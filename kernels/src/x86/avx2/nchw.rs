//! Channels-first windowed f32 kernels for AVX2 + FMA: the separable loop nest of
//! [`crate::separable`] over the 8 `f32` lanes of [`V3`] (shuffle + lane permute for the stride-2
//! deinterleave, pieced stores for row tails).

use crate::lanes::reduction::Reduction;
use crate::lanes::{F64, Lanes};
use crate::problem::{Problem, Reduce};
use crate::route::Route;
use crate::separable::{self, Nests, PlaneArgs};
use core::ops::Range;
use pulp::x86::V3;

impl Nests for V3 {
    #[inline(always)]
    fn plane<R: Reduction<Self>, const ST: usize, const K: usize>(self, args: PlaneArgs<'_, '_, '_, f32>) -> bool {
        // One out-of-line copy, shared with the AVX-512 level.
        plane_nest::<R, ST, K>(self, args)
    }
}

/// The channels-first windowed f32 kernel (see [`crate::WindowFn`]).
pub(crate) fn window(
    simd: V3,
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

/// The plane nest at AVX2 width (8 lanes), for this level and the AVX-512 one
/// ([`Nests::plane`]).
#[inline(never)]
pub(crate) fn plane_nest<R: Reduction<V3>, const ST: usize, const K: usize>(
    simd: V3,
    args: PlaneArgs<'_, '_, '_, f32>,
) -> bool {
    simd.vectorize(
        #[inline(always)]
        || separable::plane_run::<V3, R, ST, K>(simd, args),
    )
}

/// `f64`: the nests at 4 lanes (the same code as `f32`), one copy per x stride. Kernel-size
/// copies for `f64` as well measured +27% on the kernel crate's release build (100 vs 79 s) for
/// 1.7x on the suite's one `f64` layer.
impl Nests for F64<V3> {
    const SPECIALISED: bool = false;
}

/// The channels-first windowed f64 kernel (see [`crate::WindowFn`]).
pub(crate) fn window_f64(
    simd: V3,
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
