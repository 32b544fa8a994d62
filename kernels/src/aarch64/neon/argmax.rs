//! f32 max-with-indices kernels for NEON: the shared algorithm of [`crate::lanes::argmax`] on
//! 4-lane registers (bit-select of values and i32 indices; irregular rows gather lane by lane).

use crate::problem::Problem;
use core::ops::Range;
use pulp::aarch64::Neon;

/// The NEON argmax kernel (see [`crate::ArgmaxFn`]).
pub(crate) fn argmax(
    simd: Neon,
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
