//! Global kernels for AVX2: the family of [`crate::lanes::global`] on 8 `f32` lanes (8
//! registers per 64-lane plane accumulator, 8 planes per transpose-and-fold network, 8 registers
//! = 64 channels per channels-last block) and on 4 `f64` lanes.

use crate::lanes::F64;
use crate::lanes::global::global as family;
use crate::problem::{GlobalProblem, GlobalReduce};
use core::ops::Range;
use pulp::x86::V3;

/// The global f32 kernel (see [`crate::GlobalFn`]).
pub(crate) fn global(
    simd: V3,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    simd.vectorize(
        #[inline(always)]
        || family::<_, 8>(simd, p, red, input, output, rows),
    )
}

/// The global f64 kernel (see [`crate::GlobalFn`]).
pub(crate) fn global_f64(
    simd: V3,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f64],
    output: &mut [f64],
    rows: Range<usize>,
) {
    simd.vectorize(
        #[inline(always)]
        || family::<_, 8>(F64(simd), p, red, input, output, rows),
    )
}
