//! f32 max-with-indices kernels for AVX2: the shared algorithm of [`crate::lanes::argmax`] on
//! 8-lane registers (blendv of values and i32 indices, gathers for irregular rows).

use crate::problem::Problem;
use core::ops::Range;
use pulp::x86::V3;

/// The AVX2 argmax kernel (see [`crate::ArgmaxFn`]).
pub(crate) fn argmax(
    simd: V3,
    p: &Problem<'_>,
    input: &[f32],
    output: &mut [f32],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    assert!(indices.len() == output.len(), "indices length does not match the output");
    // The vector kernel keeps indices in i32 lanes; larger planes take the portable kernel.
    if crate::route::argmax_fits(p) {
        simd.vectorize(
            #[inline(always)]
            || crate::lanes::argmax::argmax(simd, p, input, output, indices, rows),
        )
    } else {
        crate::portable::argmax(p, input, output, indices, rows)
    }
}
