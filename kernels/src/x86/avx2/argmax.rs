//! f32 max-with-indices kernels for AVX2: the shared algorithm of [`crate::vecops::argmax`] on
//! 8-lane registers (blendv of values and i32 indices, gathers for irregular rows).

use crate::problem::Problem;
use crate::vecops::avx2::Ymm;
use core::ops::Range;

/// The AVX2 argmax kernel (see [`crate::ArgmaxFn`]).
pub(crate) fn argmax(p: &Problem<'_>, input: &[f32], output: &mut [f32], indices: &mut [i64], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    assert!(indices.len() == output.len(), "indices length does not match the output");
    if p.in_plane() <= i32::MAX as usize && pulp::x86::V3::try_new().is_some() {
        // SAFETY: the V3 token proves the CPU has AVX2 and FMA.
        unsafe { run(p, input, output, indices, rows) }
    } else {
        crate::portable::argmax(p, input, output, indices, rows)
    }
}

#[target_feature(enable = "avx2,fma")]
fn run(p: &Problem<'_>, input: &[f32], output: &mut [f32], indices: &mut [i64], rows: Range<usize>) {
    crate::vecops::argmax::argmax::<Ymm>(p, input, output, indices, rows)
}
