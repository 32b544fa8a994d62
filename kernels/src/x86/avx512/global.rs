//! Global f32 kernels for AVX-512: the shared algorithm of [`crate::vecops::global`] on 16-lane
//! registers (4 registers per 64-lane plane accumulator, 16 planes per transpose-and-add network,
//! 16 registers = 256 channels per channels-last block).
//!
//! Channels-first planes of 256 elements or more run the 8-lane (AVX2 register) instantiation
//! instead, with the AVX-512 features on: both give the same bits (the canonical order does not
//! depend on the register width), and on the CPU measured (Zen 4, which splits 512-bit operations)
//! the streaming reduction of large planes was about 8% faster with 256-bit loads (text_gmp_1d,
//! gap_large), while small planes (resnet_gap, 49 elements) gain from the 16-plane network and the
//! masked loads of AVX-512.

use crate::problem::{GlobalProblem, GlobalReduce, Layout};
use crate::vecops::avx2::Ymm;
use crate::vecops::avx512::Zmm;
use core::ops::Range;
use pulp::x86::V4;

/// The AVX-512 global kernel (see [`crate::GlobalFn`]).
pub(crate) fn global(
    simd: V4,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    simd.vectorize(
        #[inline(always)]
        || {
            if p.layout() == Layout::ChannelsFirst && p.plane() >= 256 {
                crate::vecops::global::global::<Ymm, 8>(p, red, input, output, rows)
            } else {
                crate::vecops::global::global::<Zmm, 16>(p, red, input, output, rows)
            }
        },
    )
}
