//! Windowed and adaptive pooling over a [`Problem`], one output at a time.

use crate::problem::{Layout, LpPower, Problem, Reduce};
use crate::scalar::{Scalar, max_takes};
use core::ops::Range;

/// Where one output's window lies: per axis `(start, taps, dilation)` and the input strides.
#[derive(Clone, Copy)]
pub(super) struct Taps {
    start: [usize; 3],
    taps: [usize; 3],
    step: [usize; 3],
}

/// Where row `row` lives: the input offset of its image or plane, the element stride between
/// neighbouring spatial positions, and `(oz, oy)`.
fn locate(p: &Problem<'_>, row: usize) -> (usize, usize, usize, usize) {
    let [az, ay, _] = p.axes();
    let per_image = az.out_len() * ay.out_len();
    let (image, rem) = (row / per_image, row % per_image);
    let (oz, oy) = (rem / ay.out_len(), rem % ay.out_len());
    match p.layout() {
        Layout::ChannelsFirst => (image * p.in_plane(), 1, oz, oy),
        Layout::ChannelsLast => (image * p.in_plane() * p.channels(), p.channels(), oz, oy),
    }
}

pub(super) fn window_of(p: &Problem<'_>, oz: usize, oy: usize, ox: usize, stride: usize) -> Taps {
    let [az, ay, ax] = p.axes();
    let (h, w) = (ay.in_len(), ax.in_len());
    Taps {
        start: [az.start()[oz], ay.start()[oy], ax.start()[ox]],
        taps: [az.taps()[oz], ay.taps()[oy], ax.taps()[ox]],
        step: [az.dilation() * h * w * stride, ay.dilation() * w * stride, ax.dilation() * stride],
    }
}

/// Offset of the first tap of the window relative to the plane base.
pub(super) fn first_offset(p: &Problem<'_>, t: &Taps, stride: usize) -> usize {
    let [_, ay, ax] = p.axes();
    ((t.start[0] * ay.in_len() + t.start[1]) * ax.in_len() + t.start[2]) * stride
}

/// Folds `term` over a window in the canonical order: each row left to right starting from
/// `zero`, then the rows top to bottom, then the planes front to back.
#[inline(always)]
fn nested_sum<A: Copy + core::ops::Add<Output = A>>(t: &Taps, base: usize, zero: A, term: impl Fn(usize) -> A) -> A {
    let mut vol: Option<A> = None;
    for z in 0..t.taps[0] {
        let mut plane: Option<A> = None;
        for y in 0..t.taps[1] {
            let row0 = base + z * t.step[0] + y * t.step[1];
            let mut row = zero;
            for x in 0..t.taps[2] {
                row = row + term(row0 + x * t.step[2]);
            }
            plane = Some(match plane {
                None => row,
                Some(s) => s + row,
            });
        }
        let plane = plane.expect("taps >= 1");
        vol = Some(match vol {
            None => plane,
            Some(s) => s + plane,
        });
    }
    vol.expect("taps >= 1")
}

/// Scans a window in row-major order by the max rule; returns the offset of the selected tap.
#[inline(always)]
pub(super) fn scan_max<T: Scalar>(input: &[T], t: &Taps, base: usize) -> usize {
    let mut best_at = base;
    let mut best = input[base];
    for z in 0..t.taps[0] {
        for y in 0..t.taps[1] {
            let row0 = base + z * t.step[0] + y * t.step[1];
            for x in 0..t.taps[2] {
                let at = row0 + x * t.step[2];
                let v = input[at];
                if max_takes(v, best) {
                    best = v;
                    best_at = at;
                }
            }
        }
    }
    best_at
}

fn reduce_one<T: Scalar>(p: &Problem<'_>, red: &Reduce, input: &[T], t: &Taps, base: usize, idx: [usize; 3]) -> T {
    match *red {
        Reduce::Max => input[scan_max(input, t, base)],
        Reduce::Avg { divisor_override } => {
            let sum = nested_sum(t, base, T::zero_sum(), |i| input[i].to_sum());
            let divisor = match divisor_override {
                Some(d) => d,
                None => {
                    let [az, ay, ax] = p.axes();
                    az.count()[idx[0]].saturating_mul(ay.count()[idx[1]]).saturating_mul(ax.count()[idx[2]]) as i64
                }
            };
            T::mean(sum, divisor)
        }
        Reduce::Lp(power) => {
            let sum = nested_sum(t, base, T::LpSum::default(), |i| input[i].lp_term(power));
            T::lp_root(sum, power)
        }
    }
}

/// The portable windowed kernel (see [`crate::WindowFn`]).
pub fn window<T: Scalar>(p: &Problem<'_>, red: &Reduce, input: &[T], output: &mut [T], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    window_direct(p, red, input, output, rows.clone());
    rescale_lp(p, red, input, output, rows);
}

fn window_direct<T: Scalar>(p: &Problem<'_>, red: &Reduce, input: &[T], output: &mut [T], rows: Range<usize>) {
    if let Reduce::Lp(LpPower::General(e)) = red {
        assert!(*e >= 1.0 && e.is_finite(), "Lp exponent must be finite and >= 1");
    }
    let ow = p.axes()[2].out_len();
    let row_len = p.row_len();
    for (r, out_row) in rows.zip(output.chunks_exact_mut(row_len)) {
        let (image_base, stride, oz, oy) = locate(p, r);
        match p.layout() {
            Layout::ChannelsFirst => {
                for (ox, out) in out_row.iter_mut().enumerate() {
                    let t = window_of(p, oz, oy, ox, 1);
                    let base = image_base + first_offset(p, &t, 1);
                    *out = reduce_one(p, red, input, &t, base, [oz, oy, ox]);
                }
            }
            Layout::ChannelsLast => {
                let c_count = p.channels();
                for ox in 0..ow {
                    let t = window_of(p, oz, oy, ox, stride);
                    let base = image_base + first_offset(p, &t, stride);
                    for c in 0..c_count {
                        out_row[ox * c_count + c] = reduce_one(p, red, input, &t, base + c, [oz, oy, ox]);
                    }
                }
            }
        }
    }
}

/// Lp windows whose direct result lost range, evaluated again scaled by their largest magnitude.
///
/// Every Lp kernel first evaluates `y = (sum |x|^p)^(1/p)` directly, in the sum type (`f32` for
/// `f32`, `f16` and `bf16`; `f64` for `f64` and the integer types). At large `p` or extreme
/// magnitudes the sum overflows to `inf` (`6^200` in `f32`) or falls to subnormals or zero
/// (`(10^-3)^20`), and `y` is wrong by any factor. So every kernel of every level ends with this
/// pass over the rows it wrote: an output with [`Scalar::lp_out_of_range`] (`y = inf`, `y` below
/// the root of the sum floor, or an integer maximum) whose window's largest magnitude `m` is finite
/// and nonzero becomes
///
/// ```text
/// y = m * (sum over the valid taps of (|x| / m)^p)^(1/p)
/// ```
///
/// summed in the canonical order. Each scaled term is at most `1` and the largest is exactly `1`,
/// so the sum lies in `[1, taps]`: no overflow, no loss to subnormals, at any `p` up to `f64::MAX`
/// (as `p` grows the result tends to `m`, the L-infinity norm). The test is on the output each
/// level computed bit-identically, and the pass is scalar code, so every level and thread count
/// keep the same bits. Windows that need it cost two scalar passes; the others, one comparison.
/// Lp with `p = 1` never needs it: its sum overflows only when the result does.
///
/// The test over every output is one branch-free pass ([`Scalar::lp_all_in_range`]); the SIMD
/// levels run it with their target features, where it vectorises.
#[inline(always)]
pub(crate) fn rescale_lp<T: Scalar>(p: &Problem<'_>, red: &Reduce, input: &[T], output: &mut [T], rows: Range<usize>) {
    let power = match *red {
        Reduce::Lp(LpPower::One) | Reduce::Max | Reduce::Avg { .. } => return,
        Reduce::Lp(power) => power,
    };
    let floor = T::lp_floor(power);
    if !T::lp_all_in_range(output, floor) {
        rescale_rows(p, power, floor, input, output, rows);
    }
}

/// The rows of [`rescale_lp`] that hold an output out of range.
#[inline(never)]
fn rescale_rows<T: Scalar>(
    p: &Problem<'_>,
    power: LpPower,
    floor: f64,
    input: &[T],
    output: &mut [T],
    rows: Range<usize>,
) {
    let row_len = p.row_len();
    let c_count = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
    for (r, out_row) in rows.zip(output.chunks_exact_mut(row_len)) {
        let (image_base, stride, oz, oy) = locate(p, r);
        for (i, out) in out_row.iter_mut().enumerate() {
            if !T::lp_out_of_range(*out, floor) {
                continue;
            }
            let (ox, c) = (i / c_count, i % c_count);
            let t = window_of(p, oz, oy, ox, stride);
            let base = image_base + first_offset(p, &t, stride) + c;
            let mut m = T::LpSum::default();
            for z in 0..t.taps[0] {
                for y in 0..t.taps[1] {
                    let row0 = base + z * t.step[0] + y * t.step[1];
                    for x in 0..t.taps[2] {
                        let a = input[row0 + x * t.step[2]].lp_magnitude();
                        if a > m {
                            m = a;
                        }
                    }
                }
            }
            if T::lp_scalable(m) {
                let sum = nested_sum(&t, base, T::LpSum::default(), |i| input[i].lp_scaled_term(m, power));
                *out = T::lp_scaled_root(m, sum, power);
            }
        }
    }
}

/// The portable max-with-indices kernel (see [`crate::ArgmaxFn`]).
pub fn argmax<T: Scalar>(p: &Problem<'_>, input: &[T], output: &mut [T], indices: &mut [i64], rows: Range<usize>) {
    p.check(input.len(), output.len(), &rows);
    assert!(indices.len() == output.len(), "indices length does not match the output");
    let ow = p.axes()[2].out_len();
    let row_len = p.row_len();
    for ((r, out_row), idx_row) in rows.zip(output.chunks_exact_mut(row_len)).zip(indices.chunks_exact_mut(row_len)) {
        let (image_base, stride, oz, oy) = locate(p, r);
        let c_count = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
        for ox in 0..ow {
            let t = window_of(p, oz, oy, ox, stride);
            let base = image_base + first_offset(p, &t, stride);
            for c in 0..c_count {
                let at = scan_max(input, &t, base + c);
                out_row[ox * c_count + c] = input[at];
                // Position inside the (n, c) plane: undo the image base, the channel and the stride.
                idx_row[ox * c_count + c] = ((at - image_base - c) / stride) as i64;
            }
        }
    }
}
