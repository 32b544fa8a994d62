//! Global pooling in the canonical order.

use crate::GLOBAL_LANES;
use crate::problem::{GlobalProblem, GlobalReduce, Layout};
use crate::scalar::{Scalar, max_takes};
use core::ops::Range;

#[inline(always)]
fn max_of<T: Scalar>(l: T, r: T) -> T {
    if max_takes(r, l) { r } else { l }
}

/// The canonical reduction of one contiguous plane: [`GLOBAL_LANES`] interleaved partials, then a
/// halving tree (`lane[j] = lane[j] op lane[j + h]` for `h = 32, 16, ..., 1`).
fn plane_lanes<T: Scalar, A: Copy>(plane: &[T], init: A, op: impl Fn(A, T) -> A, merge: impl Fn(A, A) -> A) -> A {
    let mut lanes = [init; GLOBAL_LANES];
    for chunk in plane.chunks(GLOBAL_LANES) {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = op(*lane, v);
        }
    }
    let mut h = GLOBAL_LANES / 2;
    while h > 0 {
        for j in 0..h {
            lanes[j] = merge(lanes[j], lanes[j + h]);
        }
        h /= 2;
    }
    lanes[0]
}

/// The element the scan rule selects from `plane` given its maximum `m` found by a grouping that
/// is not in scan order (the channels-first halving tree). Only ties between distinguishable bit
/// patterns can differ: zeros (`+0 == -0`, the first wins) and NaNs (the last wins); any other
/// maximum has one bit pattern, so `m` is already right.
fn scan_rule_tie<T: Scalar>(plane: &[T], m: T) -> T {
    if m.is_nan() {
        plane.iter().rev().copied().find(|v| v.is_nan()).unwrap_or(m)
    } else {
        plane.iter().copied().find(|&v| v == m).unwrap_or(m)
    }
}

/// Channels-first global max, after the tree: each output `r` of `rows` whose maximum is a zero
/// or a NaN becomes the element the scan rule selects from its plane (`plane` elements at
/// `r * plane`). A branch-free test of the whole block comes first (it vectorises), so blocks
/// without such maxima cost one pass over their outputs.
pub(crate) fn settle_max_ties<T: Scalar>(plane: usize, input: &[T], output: &mut [T], rows: Range<usize>) {
    let zero = T::from_sum(T::zero_sum());
    let tie = |v: &T| v.is_nan() | (*v == zero);
    if !output.iter().fold(false, |any, v| any | tie(v)) {
        return;
    }
    for (r, v) in rows.zip(output.iter_mut()) {
        if tie(v) {
            *v = scan_rule_tie(&input[r * plane..(r + 1) * plane], *v);
        }
    }
}

/// The portable global kernel (see [`crate::GlobalFn`]).
pub fn global<T: Scalar>(p: &GlobalProblem, red: GlobalReduce, input: &[T], output: &mut [T], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    let plane = p.plane();
    let divisor = plane as i64;
    match p.layout() {
        Layout::ChannelsFirst => {
            for (r, out) in rows.clone().zip(output.iter_mut()) {
                let x = &input[r * plane..(r + 1) * plane];
                *out = match red {
                    GlobalReduce::Max => plane_lanes(x, T::LOWEST, max_of, max_of),
                    GlobalReduce::Avg => {
                        T::mean(plane_lanes(x, T::zero_sum(), |a, v| a + v.to_sum(), |a, b| a + b), divisor)
                    }
                    GlobalReduce::Sum => {
                        T::from_sum(plane_lanes(x, T::zero_sum(), |a, v| a + v.to_sum(), |a, b| a + b))
                    }
                };
            }
            if red == GlobalReduce::Max {
                settle_max_ties(plane, input, output, rows);
            }
        }
        Layout::ChannelsLast => {
            let c_count = p.channels();
            for (r, out) in rows.zip(output.iter_mut()) {
                let (n, c) = (r / c_count, r % c_count);
                let base = n * plane * c_count + c;
                let pixels = (0..plane).map(|i| input[base + i * c_count]);
                *out = match red {
                    GlobalReduce::Max => pixels.fold(T::LOWEST, max_of),
                    GlobalReduce::Avg => T::mean(pixels.fold(T::zero_sum(), |a, v| a + v.to_sum()), divisor),
                    GlobalReduce::Sum => T::from_sum(pixels.fold(T::zero_sum(), |a, v| a + v.to_sum())),
                };
            }
        }
    }
}
