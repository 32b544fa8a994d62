//! f32 max-with-indices kernels for AVX-512: the shared algorithm of [`crate::lanes::argmax`] on
//! 16-lane registers (mask-register blends of values and i32 indices, gathers for irregular rows).

use crate::problem::Problem;
use core::ops::Range;
use pulp::x86::V4;

/// The AVX-512 argmax kernel (see [`crate::ArgmaxFn`]).
pub(crate) fn argmax(
    simd: V4,
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
