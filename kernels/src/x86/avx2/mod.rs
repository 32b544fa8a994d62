//! AVX2 + FMA kernels, one file per job; the types and entries below are what the kernel set
//! points at.

mod bytes;
mod halves;
mod lanes;
mod nchw;

pub(crate) use nchw::plane_nest;

use crate::lanes::F64;
use crate::level::float_level;
use crate::route::SeparableLanes;
use pulp::x86::V3;

float_level!(
    /// `f32` at this level: every family on the 8 lanes of the token.
    mod f32_level: Avx2F32(V3): f32 {
        lanes: V3 = |t| t,
        group: V3 = |t| t,
        transpose: V3 = |t| t,
        nests: V3 = |t| t,
        separable: SeparableLanes { plane: 8, nests: 8 },
    }
);

float_level!(
    /// `f64` at this level: every family on 4 lanes.
    mod f64_level: Avx2F64(V3): f64 {
        lanes: F64<V3> = |t| F64(t),
        group: F64<V3> = |t| F64(t),
        transpose: F64<V3> = |t| F64(t),
        nests: F64<V3> = |t| F64(t),
        separable: SeparableLanes { plane: 4, nests: 4 },
    }
);
