//! f32 max-with-indices kernels for AVX-512: the shared algorithm of [`crate::vecops::argmax`] on
//! 16-lane registers (mask-register blends of values and i32 indices, gathers for irregular rows).

use crate::problem::Problem;
use crate::vecops::avx512::Zmm;
use core::ops::Range;

/// The AVX-512 argmax kernel (see [`crate::ArgmaxFn`]).
pub(crate) fn argmax(p: &Problem<'_>, input: &[f32], output: &mut [f32], indices: &mut [i64], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    assert!(indices.len() == output.len(), "indices length does not match the output");
    if p.in_plane() <= i32::MAX as usize && pulp::x86::V4::try_new().is_some() {
        // SAFETY: the V4 token proves the CPU has AVX-512 F/BW/CD/DQ/VL.
        unsafe { run(p, input, output, indices, rows) }
    } else {
        crate::portable::argmax(p, input, output, indices, rows)
    }
}

#[target_feature(enable = "avx512f,avx512bw,avx512cd,avx512dq,avx512vl")]
fn run(p: &Problem<'_>, input: &[f32], output: &mut [f32], indices: &mut [i64], rows: Range<usize>) {
    crate::vecops::argmax::argmax::<Zmm>(p, input, output, indices, rows)
}
