//! Channels-first windowed f32 kernels for NEON: the separable loop nest of
//! [`crate::separable`] over the 4 `f32` lanes of the `Neon` token (`vld2q`/`vld4q` for the
//! deinterleaves).

use crate::problem::{Problem, Reduce};
use crate::separable::{self, Nests};
use core::ops::Range;
use pulp::aarch64::Neon;

/// Both nests at 4 lanes (the trait's defaults).
impl Nests for Neon {}

/// The channels-first windowed f32 kernel (see [`crate::WindowFn`]).
pub(crate) fn window(simd: Neon, p: &Problem<'_>, red: &Reduce, input: &[f32], output: &mut [f32], rows: Range<usize>) {
    simd.vectorize(
        #[inline(always)]
        || separable::window(simd, p, red, input, output, rows),
    )
}
