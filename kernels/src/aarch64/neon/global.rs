//! Global kernels for NEON: the family of [`crate::lanes::global`] on 4 `f32` lanes (16
//! q-registers per 64-lane plane accumulator, 4 planes per transpose-and-fold network, 16
//! registers = 64 channels per channels-last block) and on 2 `f64` lanes.

use crate::lanes::F64;
use crate::lanes::global::global as family;
use crate::problem::{GlobalProblem, GlobalReduce};
use core::ops::Range;
use pulp::aarch64::Neon;

/// The global f32 kernel (see [`crate::GlobalFn`]).
pub(crate) fn global(
    simd: Neon,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    simd.vectorize(
        #[inline(always)]
        || family::<_, 16>(simd, p, red, input, output, rows),
    )
}

/// The global f64 kernel (see [`crate::GlobalFn`]).
pub(crate) fn global_f64(
    simd: Neon,
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
