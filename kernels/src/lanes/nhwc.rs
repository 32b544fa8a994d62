//! Channels-last (NLC, NHWC, NDHWC) windowed and adaptive f32 pooling, written once over
//! [`Lanes`] and instantiated by each ISA module.
//!
//! Vectorised over channels: every tap of a window is a contiguous run of channels, so a window
//! reduces whole vectors lane by lane and the canonical order per channel falls out unchanged
//! (each window row folded left to right from `+0.0`, rows top to bottom, planes front to back;
//! max as one row-major scan). Register blocking: `P` neighbouring output pixels (with the same
//! number of taps) times `B` channel vectors are reduced together, which gives `P * B`
//! independent dependency chains. The last partial channel vector uses masked loads and stores.
//! Borders cost nothing: the axis tables give each output's first valid tap and tap count, so
//! padded taps are skipped and padding is never read or materialised. The same tables describe
//! adaptive windows, so adaptive pooling takes the same path.
//!
//! NaN: max selects an input element, so its NaN bits are exact. A sum's NaN payload (and sign:
//! `inf - inf` gives x86's negative default NaN) depends on which operand the compiler puts first
//! in each IEEE add, which is not fixed by the source; averages and Lp therefore return the
//! canonical `f32::NAN` for every NaN output.

use super::Lanes;
use crate::problem::{LpPower, Problem, Reduce};
use core::array::from_fn;
use core::ops::Range;

const MAX: u8 = 0;
const AVG: u8 = 1;
const LP1: u8 = 2;
const LP2: u8 = 3;

/// One row's window shape, shared by all its output pixels except for the width taps, and the
/// element strides between neighbouring taps.
#[derive(Clone, Copy)]
struct Win {
    zt: usize,
    yt: usize,
    xt: usize,
    sz: usize,
    sy: usize,
    sx: usize,
}

/// A channels-last windowed job, runnable inside a token's `vectorize` (which enables the ISA's
/// target features for everything inlined into it).
pub(crate) struct Job<'a, 'p, L, const P: usize, const B: usize> {
    l: L,
    p: &'a Problem<'p>,
    red: &'a Reduce,
    input: &'a [f32],
    output: &'a mut [f32],
    rows: Range<usize>,
}

impl<'a, 'p, L: Lanes, const P: usize, const B: usize> Job<'a, 'p, L, P, B> {
    /// A job over `rows`; the caller has checked the buffers with [`Problem::check`].
    pub(crate) fn new(
        l: L,
        p: &'a Problem<'p>,
        red: &'a Reduce,
        input: &'a [f32],
        output: &'a mut [f32],
        rows: Range<usize>,
    ) -> Self {
        Job { l, p, red, input, output, rows }
    }
}

impl<L: Lanes, const P: usize, const B: usize> pulp::NullaryFnOnce for Job<'_, '_, L, P, B> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let Job { l, p, red, input, output, rows } = self;
        match *red {
            Reduce::Max => run::<L, P, B, MAX>(l, p, None, input, output, rows),
            Reduce::Avg { divisor_override } => run::<L, P, B, AVG>(l, p, divisor_override, input, output, rows),
            Reduce::Lp(LpPower::One) => run::<L, P, B, LP1>(l, p, None, input, output, rows),
            Reduce::Lp(LpPower::Two) => run::<L, P, B, LP2>(l, p, None, input, output, rows),
            // `powf` per element: the portable kernel computes exactly these bits.
            Reduce::Lp(LpPower::General(_)) => crate::portable::window(p, red, input, output, rows),
        }
    }
}

/// The average divisor of one output, as the portable kernel converts it (`i64`, then `f32`).
#[inline(always)]
fn divisor(over: Option<i64>, count_zy: usize, count_x: usize) -> f32 {
    match over {
        Some(d) => d as f32,
        None => (count_zy * count_x) as i64 as f32,
    }
}

#[inline(always)]
fn run<L: Lanes, const P: usize, const B: usize, const K: u8>(
    l: L,
    p: &Problem<'_>,
    over: Option<i64>,
    input: &[f32],
    output: &mut [f32],
    rows: Range<usize>,
) {
    p.check(input.len(), output.len(), &rows);
    let c = p.channels();
    let [az, ay, ax] = p.axes();
    let (h, w) = (ay.in_len(), ax.in_len());
    let (od, oh, ow) = (az.out_len(), ay.out_len(), ax.out_len());
    let in_image = p.in_plane() * c;
    let (xs, xt, xc) = (ax.start(), ax.taps(), ax.count());
    let row_len = ow * c;
    let src = input.as_ptr();
    for (r, out_row) in rows.zip(output.chunks_exact_mut(row_len)) {
        let (n, rem) = (r / (od * oh), r % (od * oh));
        let (oz, oy) = (rem / oh, rem % oh);
        let row_base = n * in_image + (az.start()[oz] * h + ay.start()[oy]) * w * c;
        let czy = az.count()[oz] * ay.count()[oy];
        let mut win = Win {
            zt: az.taps()[oz],
            yt: ay.taps()[oy],
            xt: 0,
            sz: az.dilation() * h * w * c,
            sy: ay.dilation() * w * c,
            sx: ax.dilation() * c,
        };
        let dst = out_row.as_mut_ptr();
        let mut ox = 0;
        while ox < ow {
            win.xt = xt[ox];
            if ox + P <= ow && (1..P).all(|j| xt[ox + j] == win.xt) {
                let bases: [usize; P] = from_fn(|j| row_base + xs[ox + j] * c);
                let divs: [f32; P] = from_fn(|j| divisor(over, czy, xc[ox + j]));
                // SAFETY: see `pixels`: every tap of output `(n, oz, oy, ox + j)` lies inside
                // `input` (axis invariants: `start + (taps - 1) * dilation < in_len` per axis,
                // `n < batch` since `r < p.rows()` by `check`), and pixels `ox .. ox + P` are
                // `P * c` elements of `out_row` starting at `ox * c` (`ox + P <= ow`).
                unsafe { pixels::<L, P, B, K>(l, src, dst.add(ox * c), bases, win, divs, c) };
                ox += P;
            } else {
                let divs = [divisor(over, czy, xc[ox])];
                // SAFETY: as above with one pixel (`ox < ow`).
                unsafe { pixels::<L, 1, B, K>(l, src, dst.add(ox * c), [row_base + xs[ox] * c], win, divs, c) };
                ox += 1;
            }
        }
    }
}

/// Reduces the windows of `P` neighbouring output pixels with the same tap counts, all channels.
///
/// # Safety
/// For each `j`, every tap `bases[j] + z * sz + y * sy + x * sx` (`z < zt`, `y < yt`, `x < xt`)
/// starts `c` readable f32s at `src`, and `dst .. dst + P * c` is writable.
#[inline(always)]
unsafe fn pixels<L: Lanes, const P: usize, const B: usize, const K: u8>(
    l: L,
    src: *const f32,
    dst: *mut f32,
    bases: [usize; P],
    win: Win,
    divs: [f32; P],
    c: usize,
) {
    let n = L::N;
    let mut c0 = 0;
    // SAFETY (all three loops): each block covers channels `c0 .. c0 + width` with
    // `c0 + width <= c`, the last partial vector through a mask of exactly `c - c0` lanes, so with
    // this function's contract every access is in bounds.
    while c0 + B * n <= c {
        unsafe { block::<L, P, B, K>(l, src, dst, bases, win, divs, c, c0, None) };
        c0 += B * n;
    }
    while c0 + n <= c {
        unsafe { block::<L, P, 1, K>(l, src, dst, bases, win, divs, c, c0, None) };
        c0 += n;
    }
    if c0 < c {
        let m = l.mask(c - c0);
        unsafe { block::<L, P, 1, K>(l, src, dst, bases, win, divs, c, c0, Some(m)) };
    }
}

/// Loads vector `b` of a block: full, or masked when it is the block's last and `tail` is set.
///
/// # Safety
/// `ptr .. ptr + N` is readable (or, for the masked case, the mask's lanes are).
#[inline(always)]
unsafe fn ld<L: Lanes, const B: usize>(l: L, ptr: *const f32, b: usize, tail: Option<L::M>) -> L::V {
    match tail {
        // SAFETY: forwarded contract.
        Some(m) if b + 1 == B => unsafe { l.load_masked(m, ptr) },
        // SAFETY: forwarded contract.
        _ => unsafe { l.load(ptr) },
    }
}

/// The per-element term of a sum.
#[inline(always)]
fn term<L: Lanes, const K: u8>(l: L, v: L::V) -> L::V {
    match K {
        LP1 => l.abs(v),
        LP2 => l.mul(v, v),
        _ => v,
    }
}

/// Sums one window row (taps `row + x * sx`) from `+0.0`, left to right, for every accumulator.
///
/// # Safety
/// As [`block`].
#[inline(always)]
unsafe fn row_sum<L: Lanes, const P: usize, const B: usize, const K: u8>(
    l: L,
    src: *const f32,
    bases: [usize; P],
    row: usize,
    win: Win,
    tail: Option<L::M>,
) -> [[L::V; B]; P] {
    let mut s = [[l.zero(); B]; P];
    for x in 0..win.xt {
        let off = row + x * win.sx;
        for j in 0..P {
            for (b, sb) in s[j].iter_mut().enumerate() {
                // SAFETY: the tap is inside the window, so in bounds by the caller's contract.
                let v = unsafe { ld::<L, B>(l, src.add(bases[j] + off + b * L::N), b, tail) };
                *sb = l.add(*sb, term::<L, K>(l, v));
            }
        }
    }
    s
}

/// Sums one window plane: its rows top to bottom.
///
/// # Safety
/// As [`block`].
#[inline(always)]
unsafe fn plane_sum<L: Lanes, const P: usize, const B: usize, const K: u8>(
    l: L,
    src: *const f32,
    bases: [usize; P],
    plane: usize,
    win: Win,
    tail: Option<L::M>,
) -> [[L::V; B]; P] {
    // SAFETY: forwarded contract (rows `y < yt` of this plane).
    let mut acc = unsafe { row_sum::<L, P, B, K>(l, src, bases, plane, win, tail) };
    for y in 1..win.yt {
        // SAFETY: as above.
        let r = unsafe { row_sum::<L, P, B, K>(l, src, bases, plane + y * win.sy, win, tail) };
        for j in 0..P {
            for b in 0..B {
                acc[j][b] = l.add(acc[j][b], r[j][b]);
            }
        }
    }
    acc
}

/// Reduces channels `c0 ..` (`B` vectors, the last one masked by `tail`) of `P` pixels and
/// stores the results.
///
/// # Safety
/// `src + bases[j] + tap + c0 ..` is readable for `B * N` lanes (the last vector only for the
/// mask's lanes when `tail` is set) for every tap of the window, and `dst + j * c + c0 ..` is
/// writable for the same lanes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn block<L: Lanes, const P: usize, const B: usize, const K: u8>(
    l: L,
    src: *const f32,
    dst: *mut f32,
    bases: [usize; P],
    win: Win,
    divs: [f32; P],
    c: usize,
    c0: usize,
    tail: Option<L::M>,
) {
    let bases: [usize; P] = from_fn(|j| bases[j] + c0);
    let out: [[L::V; B]; P] = if K == MAX {
        // SAFETY: the first tap of each window (offset 0) is in bounds by the contract.
        let mut acc: [[L::V; B]; P] =
            from_fn(|j| from_fn(|b| unsafe { ld::<L, B>(l, src.add(bases[j] + b * L::N), b, tail) }));
        for z in 0..win.zt {
            for y in 0..win.yt {
                let row = z * win.sz + y * win.sy;
                let x0 = usize::from(z == 0 && y == 0);
                for x in x0..win.xt {
                    let off = row + x * win.sx;
                    for j in 0..P {
                        for (b, ab) in acc[j].iter_mut().enumerate() {
                            // SAFETY: a tap of the window: in bounds by the contract.
                            let v = unsafe { ld::<L, B>(l, src.add(bases[j] + off + b * L::N), b, tail) };
                            *ab = l.max_rule(*ab, v);
                        }
                    }
                }
            }
        }
        acc
    } else {
        // SAFETY: planes `z < zt` of the window: in bounds by the contract.
        let mut vol = unsafe { plane_sum::<L, P, B, K>(l, src, bases, 0, win, tail) };
        for z in 1..win.zt {
            // SAFETY: as above.
            let s = unsafe { plane_sum::<L, P, B, K>(l, src, bases, z * win.sz, win, tail) };
            for j in 0..P {
                for b in 0..B {
                    vol[j][b] = l.add(vol[j][b], s[j][b]);
                }
            }
        }
        for (j, vj) in vol.iter_mut().enumerate() {
            let d = l.splat(divs[j]);
            for vb in vj.iter_mut() {
                let v = match K {
                    AVG => l.div(*vb, d),
                    LP2 => l.sqrt(*vb),
                    _ => *vb,
                };
                // Which NaN an add returns when both operands are NaN depends on the operand
                // order the compiler picks; a canonical NaN makes every path agree.
                *vb = l.canonical_nan(v);
            }
        }
        vol
    };
    for (j, oj) in out.iter().enumerate() {
        for (b, &v) in oj.iter().enumerate() {
            let ptr = dst.wrapping_add(j * c + c0 + b * L::N);
            match tail {
                // SAFETY: the mask's lanes of this pixel's channels: writable by the contract.
                Some(m) if b + 1 == B => unsafe { l.store_masked(m, ptr, v) },
                // SAFETY: a full vector of this pixel's channels: writable by the contract.
                _ => unsafe { l.store(ptr, v) },
            }
        }
    }
}
