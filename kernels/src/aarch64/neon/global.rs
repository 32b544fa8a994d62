//! Global f32 kernels for NEON: the shared algorithm of [`crate::vecops::global`] on 4-lane
//! registers (16 q-registers per 64-lane plane accumulator, 4 planes per transpose-and-add
//! network, 16 registers = 64 channels per channels-last block).

use crate::problem::{GlobalProblem, GlobalReduce};
use crate::vecops::neon::Q;
use core::ops::Range;

/// The NEON global kernel (see [`crate::GlobalFn`]).
pub(crate) fn global(p: &GlobalProblem, red: GlobalReduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    if pulp::aarch64::Neon::try_new().is_some() {
        // SAFETY: the Neon token proves the CPU has Advanced SIMD.
        unsafe { run(p, red, input, output, rows) }
    } else {
        crate::portable::global(p, red, input, output, rows)
    }
}

#[target_feature(enable = "neon")]
fn run(p: &GlobalProblem, red: GlobalReduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    crate::vecops::global::global::<Q, 16>(p, red, input, output, rows)
}
