//! AVX-512 kernels, one file per job; the types and entries below are what the kernel set
//! points at.

mod bytes;
mod halves;
mod lanes;
mod nchw;

use crate::lanes::F64;
use crate::level::float_level;
use crate::problem::{GlobalProblem, GlobalReduce, Layout};
use crate::route::SeparableLanes;
use core::ops::Range;
use pulp::x86::{V3, V4};

float_level!(
    /// `f32` at this level: channels-last windows, indices and global pooling on 16 lanes, the
    /// separable nests at 16 (the plane nest at 8, see `nchw.rs`). Small channels-first planes
    /// with irregular x windows go through the AVX2 transposes and channels-last kernel (measured
    /// faster here than at 16 lanes on Zen 5: adaptive_avg_odd 17.2-18.6 vs 20.9-25.6 µs; same
    /// folds, same bits).
    mod f32_level: Avx512F32(V4): f32 {
        lanes: V4 = |t| t,
        group: V3 = |t| *t,
        transpose: V3 = |t| *t,
        nests: V4 = |t| t,
        separable: SeparableLanes { plane: 8, nests: 16 },
    }
);

float_level!(
    /// `f64` at this level: channels-last windows, indices and global pooling on 8 lanes; the
    /// channels-first windows on the AVX2 level's 4-lane kernels with the AVX-512 features on
    /// (within 4% of 8 lanes on the suite's `f64` layer, and one instantiation of the nests
    /// instead of two: build time).
    mod f64_level: Avx512F64(V4): f64 {
        lanes: F64<V4> = |t| F64(t),
        group: F64<V3> = |t| F64(*t),
        transpose: F64<V3> = |t| F64(*t),
        nests: F64<V3> = |t| F64(*t),
        separable: SeparableLanes { plane: 4, nests: 4 },
    }
);

/// Global f32 pooling: the global family at 16 lanes (16 registers = 256 channels per
/// channels-last block).
///
/// Channels-first planes of 256 elements or more run the 8-lane (AVX2 register) instantiation
/// instead, with the AVX-512 features on: both give the same bits (the canonical order does not
/// depend on the register width), and on the CPU measured (Zen 4, which splits 512-bit
/// operations) the streaming reduction of large planes was about 8% faster with 256-bit loads
/// (text_gmp_1d, gap_large), while small planes (resnet_gap, 49 elements) gain from the 16-plane
/// network and the masked loads of AVX-512.
pub(crate) fn global_f32(
    simd: V4,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    use crate::lanes::global::global;
    simd.vectorize(
        #[inline(always)]
        || {
            if p.layout() == Layout::ChannelsFirst && p.plane() >= 256 {
                global::<_, 8>(*simd, p, red, input, output, rows)
            } else {
                global::<_, 16>(simd, p, red, input, output, rows)
            }
        },
    )
}
