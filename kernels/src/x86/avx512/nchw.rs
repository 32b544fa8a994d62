//! Channels-first windowed f32 kernels for AVX-512: the separable loop nest of
//! [`crate::separable`] over the 16 `f32` lanes of [`V4`] (two-source permutes for the stride-2
//! deinterleave, mask stores for row tails). 2-D and 1-D maps run the plane nest at AVX2 width
//! instead ([`Nests::plane`] below: measured faster), 3-D windows and the rest at 16 lanes.

use crate::lanes::reduction::Reduction;
use crate::separable::{Nests, PlaneArgs};
use pulp::x86::{V3, V4};

impl Nests for V4 {
    #[inline(always)]
    fn plane<R: Reduction<Self>, const ST: usize, const K: usize>(self, args: PlaneArgs<'_, '_, '_, f32>) -> bool {
        // The plane nest's loops are shifted and deinterleaving loads of rows in the L1 cache. At
        // 16 lanes every unaligned load splits a cache line, and the 8-lane AVX2 nest measured
        // faster on the suite's 2-D and 1-D maps (Zen 5, `simdpool bench --isa all`: resnet stem
        // 96 vs 103 us, vgg 2x2 323 vs 384, inception 64 vs 71, sppf 63 vs 74), as LLVM prefers
        // 256-bit vectors on AVX-512 CPUs. The 3-D and general nests stay at 16 lanes (C3D: 294
        // vs 351 us).
        crate::x86::avx2::plane_nest::<R::At<V3>, ST, K>(*self, args)
    }
}
