//! Global f32 kernels for NEON: the shared algorithm of [`crate::vecops::global`] on 4-lane
//! registers (16 q-registers per 64-lane plane accumulator, 4 planes per transpose-and-add
//! network, 16 registers = 64 channels per channels-last block).

use crate::problem::{GlobalProblem, GlobalReduce};
use crate::vecops::neon::Q;
use core::ops::Range;
use pulp::aarch64::Neon;

/// The NEON global kernel (see [`crate::GlobalFn`]).
pub(crate) fn global(
    simd: Neon,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    simd.vectorize(
        #[inline(always)]
        || crate::vecops::global::global::<Q, 16>(p, red, input, output, rows),
    )
}
