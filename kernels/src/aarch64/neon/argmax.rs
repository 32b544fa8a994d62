//! Max-with-indices kernels for NEON: the family of [`crate::lanes::argmax`] on the level's
//! `f32` lanes (4) and `f64` lanes (half as many, with 64-bit index lanes).

use crate::lanes::F64;
use crate::lanes::argmax::entry;
use crate::problem::Problem;
use core::ops::Range;
use pulp::aarch64::Neon;

/// The NEON f32 argmax kernel (see [`crate::ArgmaxFn`]).
pub(crate) fn argmax(
    simd: Neon,
    p: &Problem<'_>,
    input: &[f32],
    output: &mut [f32],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    entry(simd, p, input, output, indices, rows)
}

/// The NEON f64 argmax kernel (see [`crate::ArgmaxFn`]).
pub(crate) fn argmax_f64(
    simd: Neon,
    p: &Problem<'_>,
    input: &[f64],
    output: &mut [f64],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    entry(F64(simd), p, input, output, indices, rows)
}
