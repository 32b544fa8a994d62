//! f32 max-with-indices kernels for NEON: the shared algorithm of [`crate::vecops::argmax`] on
//! 4-lane registers (bit-select of values and i32 indices; irregular rows gather lane by lane).

use crate::problem::Problem;
use crate::vecops::neon::Q;
use core::ops::Range;

/// The NEON argmax kernel (see [`crate::ArgmaxFn`]).
pub(crate) fn argmax(p: &Problem<'_>, input: &[f32], output: &mut [f32], indices: &mut [i64], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    assert!(indices.len() == output.len(), "indices length does not match the output");
    if p.in_plane() <= i32::MAX as usize && pulp::aarch64::Neon::try_new().is_some() {
        // SAFETY: the Neon token proves the CPU has Advanced SIMD.
        unsafe { run(p, input, output, indices, rows) }
    } else {
        crate::portable::argmax(p, input, output, indices, rows)
    }
}

#[target_feature(enable = "neon")]
fn run(p: &Problem<'_>, input: &[f32], output: &mut [f32], indices: &mut [i64], rows: Range<usize>) {
    crate::vecops::argmax::argmax::<Q>(p, input, output, indices, rows)
}
