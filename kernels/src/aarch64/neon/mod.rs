//! NEON kernels, one file per job; the entries below are what the kernel set points at.

mod bytes;
mod halves;
mod lanes;
mod nchw;

use crate::lanes::F64;
use crate::level::float_level;
use crate::route::SeparableLanes;
use pulp::aarch64::Neon;

float_level!(
    /// `f32` at this level: every family on the 4 lanes of the token.
    mod f32_level: NeonF32(Neon): f32 {
        lanes: Neon = |t| t,
        group: Neon = |t| t,
        transpose: Neon = |t| t,
        nests: Neon = |t| t,
        separable: SeparableLanes { plane: 4, nests: 4 },
    }
);

float_level!(
    /// `f64` at this level: every family on 2 lanes.
    mod f64_level: NeonF64(Neon): f64 {
        lanes: F64<Neon> = |t| F64(t),
        group: F64<Neon> = |t| F64(t),
        transpose: F64<Neon> = |t| F64(t),
        nests: F64<Neon> = |t| F64(t),
        separable: SeparableLanes { plane: 2, nests: 2 },
    }
);
