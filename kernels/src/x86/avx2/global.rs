//! Global f32 kernels for AVX2: the shared algorithm of [`crate::vecops::global`] on 8-lane
//! registers (8 registers per 64-lane plane accumulator, 8 planes per transpose-and-add network,
//! 8 registers = 64 channels per channels-last block).

use crate::problem::{GlobalProblem, GlobalReduce};
use crate::vecops::avx2::Ymm;
use core::ops::Range;
use pulp::x86::V3;

/// The AVX2 global kernel (see [`crate::GlobalFn`]).
pub(crate) fn global(
    simd: V3,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    simd.vectorize(
        #[inline(always)]
        || crate::vecops::global::global::<Ymm, 8>(p, red, input, output, rows),
    )
}
