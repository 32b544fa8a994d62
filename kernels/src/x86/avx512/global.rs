//! Global f32 kernels for AVX-512: the shared algorithm of [`crate::vecops::global`] on 16-lane
//! registers (4 registers per 64-lane plane accumulator, 16 planes per transpose-and-add network,
//! 16 registers = 256 channels per channels-last block).

use crate::problem::{GlobalProblem, GlobalReduce};
use crate::vecops::avx512::Zmm;
use core::ops::Range;

/// The AVX-512 global kernel (see [`crate::GlobalFn`]).
pub(crate) fn global(p: &GlobalProblem, red: GlobalReduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    if pulp::x86::V4::try_new().is_some() {
        // SAFETY: the V4 token proves the CPU has AVX-512 F/BW/CD/DQ/VL.
        unsafe { run(p, red, input, output, rows) }
    } else {
        crate::portable::global(p, red, input, output, rows)
    }
}

#[target_feature(enable = "avx512f,avx512bw,avx512cd,avx512dq,avx512vl")]
fn run(p: &GlobalProblem, red: GlobalReduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    crate::vecops::global::global::<Zmm, 16>(p, red, input, output, rows)
}
