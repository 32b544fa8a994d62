//! Global kernels for AVX-512: the family of [`crate::lanes::global`] on 16 `f32` lanes (4
//! registers per 64-lane plane accumulator, 16 planes per transpose-and-fold network, 16
//! registers = 256 channels per channels-last block) and on 8 `f64` lanes.
//!
//! Channels-first `f32` planes of 256 elements or more run the 8-lane (AVX2 register)
//! instantiation instead, with the AVX-512 features on: both give the same bits (the canonical
//! order does not depend on the register width), and on the CPU measured (Zen 4, which splits
//! 512-bit operations) the streaming reduction of large planes was about 8% faster with 256-bit
//! loads (text_gmp_1d, gap_large), while small planes (resnet_gap, 49 elements) gain from the
//! 16-plane network and the masked loads of AVX-512.

use crate::lanes::F64;
use crate::lanes::global::global as family;
use crate::problem::{GlobalProblem, GlobalReduce, Layout};
use core::ops::Range;
use pulp::x86::V4;

/// The global f32 kernel (see [`crate::GlobalFn`]).
pub(crate) fn global(
    simd: V4,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    simd.vectorize(
        #[inline(always)]
        || {
            if p.layout() == Layout::ChannelsFirst && p.plane() >= 256 {
                family::<_, 8>(*simd, p, red, input, output, rows)
            } else {
                family::<_, 16>(simd, p, red, input, output, rows)
            }
        },
    )
}

/// The global f64 kernel (see [`crate::GlobalFn`]).
pub(crate) fn global_f64(
    simd: V4,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f64],
    output: &mut [f64],
    rows: Range<usize>,
) {
    simd.vectorize(
        #[inline(always)]
        || family::<_, 16>(F64(simd), p, red, input, output, rows),
    )
}
