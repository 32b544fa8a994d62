//! Channels-first windowed f32 kernels for AVX2 + FMA: the separable loop nest of
//! [`crate::separable`] over the 8 `f32` lanes of [`V3`] (shuffle + lane permute for the stride-2
//! deinterleave, pieced stores for row tails).

use crate::lanes::reduction::Reduction;
use crate::lanes::{F64, Lanes};
use crate::separable::{self, Nests, PlaneArgs};
use pulp::x86::V3;

impl Nests for V3 {
    #[inline(always)]
    fn plane<R: Reduction<Self>, const ST: usize, const K: usize>(self, args: PlaneArgs<'_, '_, '_, f32>) -> bool {
        // One out-of-line copy, shared with the AVX-512 level.
        plane_nest::<R, ST, K>(self, args)
    }
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
    /// The trait's nest, not inlined: the AVX2 and AVX-512 `f64` levels both run these nests,
    /// and an inlined copy would be compiled again in each level's codegen unit
    /// (`level::float_entries!`); out of line, each is compiled once, in the unit of [`F64`]'s module.
    #[inline(never)]
    fn nest<R: Reduction<Self>, const ST: usize, const K: usize>(self, args: separable::Args<'_, '_, '_, f64>) {
        self.vectorize(
            #[inline(always)]
            || separable::pool_nests::<Self, R, ST, K>(self, args),
        )
    }
}
