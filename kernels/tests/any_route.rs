//! The plan hands its route to every kernel call, and the kernels follow it. A route that does
//! not apply to the problem (a caller's mistake: another family, or a nest whose buffers do not
//! hold the problem) must still give the portable kernel's bits: the kernels fall back to a
//! family that holds every shape. Every route is given to every level, for problems that each
//! nest takes.

mod common;

use simdpool_kernels::{Axis, KernelSet, Layout, LpPower, Problem, Reduce, Route, Uniform, route};

/// The windows of a padded axis of `len` elements, kernel `k`, stride `s`, `pb` padding on
/// both ends (floor mode, padding counted in the divisor).
struct Windowed {
    len: usize,
    uniform: Uniform,
    start: Vec<usize>,
    taps: Vec<usize>,
    count: Vec<usize>,
}

impl Windowed {
    fn new(len: usize, k: usize, s: usize, pb: usize) -> Self {
        let out = (len + 2 * pb - k) / s + 1;
        let (mut start, mut taps) = (vec![], vec![]);
        for o in 0..out {
            let v = (o * s) as isize - pb as isize;
            let lo = v.max(0) as usize;
            let hi = ((v + k as isize) as usize).min(len);
            start.push(lo);
            taps.push(hi - lo);
        }
        let count = vec![k; out];
        Windowed { len, uniform: Uniform { kernel: k, stride: s, pad_begin: pb, pad_end: pb }, start, taps, count }
    }

    fn axis(&self) -> Axis<'_> {
        Axis::new(self.len, 1, Some(self.uniform), &self.start, &self.taps, &self.count).unwrap()
    }
}

const ROUTES: [Route; 10] = [
    Route::Portable,
    Route::Plane,
    Route::Lean,
    Route::General,
    Route::Transposed,
    Route::Lanes,
    Route::Rows,
    Route::Argmax,
    Route::Global,
    Route::GlobalBlocks,
];

const REDUCES: [Reduce; 4] =
    [Reduce::Max, Reduce::Avg { divisor_override: None }, Reduce::Lp(LpPower::Two), Reduce::Lp(LpPower::General(3.0))];

/// Every route on every level gives the portable bits for `p` (`f32`, `f64`, `f16` and `u8`); the route
/// the plan would pick is `expected` for `f32` max, `expected_bytes` for `u8` max.
fn every_route_matches_portable(p: &Problem<'_>, expected: Route, expected_bytes: Route) {
    let x32: Vec<f32> = (0..p.input_len()).map(|i| ((i * 2654435761) % 1013) as f32 * 0.37 - 180.0).collect();
    let x64: Vec<f64> = x32.iter().map(|&v| f64::from(v) * 1.001).collect();
    let x8: Vec<u8> = (0..p.input_len()).map(|i| ((i * 2654435761) % 251) as u8).collect();
    let x16: Vec<half::f16> = x32.iter().map(|&v| half::f16::from_f32(v)).collect();
    let rows = p.rows();
    for red in REDUCES {
        let mut want8 = vec![0u8; p.output_len()];
        (KernelSet::portable().u8.window)(p, &red, Route::Portable, &x8, &mut want8, 0..rows);
        let mut want32 = vec![0.0f32; p.output_len()];
        (KernelSet::portable().f32.window)(p, &red, Route::Portable, &x32, &mut want32, 0..rows);
        let mut want64 = vec![0.0f64; p.output_len()];
        (KernelSet::portable().f64.window)(p, &red, Route::Portable, &x64, &mut want64, 0..rows);
        let mut want16 = vec![half::f16::ZERO; p.output_len()];
        (KernelSet::portable().f16.window)(p, &red, Route::Portable, &x16, &mut want16, 0..rows);
        for (name, set) in common::simd_levels() {
            if red == Reduce::Max {
                assert_eq!(route::window(set.f32.families, p, &red), expected, "{name} {p:?}");
                assert_eq!(route::window(set.u8.families, p, &red), expected_bytes, "{name} u8 {p:?}");
            }
            for r in ROUTES {
                for range in [0..rows, 1..rows] {
                    let (lo, hi) = (range.start * p.row_len(), range.end * p.row_len());
                    let mut got = vec![f32::NAN; hi - lo];
                    (set.f32.window)(p, &red, r, &x32, &mut got, range.clone());
                    let same = got.iter().zip(&want32[lo..hi]).all(|(g, w)| g.to_bits() == w.to_bits());
                    assert!(same, "{name} f32 {red:?} on route {r}, rows {range:?}");
                    let mut got = vec![f64::NAN; hi - lo];
                    (set.f64.window)(p, &red, r, &x64, &mut got, range.clone());
                    let same = got.iter().zip(&want64[lo..hi]).all(|(g, w)| g.to_bits() == w.to_bits());
                    assert!(same, "{name} f64 {red:?} on route {r}, rows {range:?}");
                    let mut got = vec![half::f16::NAN; hi - lo];
                    (set.f16.window)(p, &red, r, &x16, &mut got, range.clone());
                    let same = got.iter().zip(&want16[lo..hi]).all(|(g, w)| g.to_bits() == w.to_bits());
                    assert!(same, "{name} f16 {red:?} on route {r}, rows {range:?}");
                    let mut got = vec![0xa5u8; hi - lo];
                    (set.u8.window)(p, &red, r, &x8, &mut got, range.clone());
                    assert_eq!(got, want8[lo..hi], "{name} u8 {red:?} on route {r}, rows {range:?}");
                }
            }
        }
    }
}

#[test]
fn a_plane_problem_on_every_route() {
    let (y, x) = (Windowed::new(17, 3, 2, 1), Windowed::new(23, 3, 2, 1));
    let p = Problem::new(Layout::ChannelsFirst, 2, 3, [Axis::trivial(), y.axis(), x.axis()]).unwrap();
    every_route_matches_portable(&p, Route::Plane, Route::Rows);
}

#[test]
fn a_lean_problem_on_every_route() {
    let (z, y, x) = (Windowed::new(6, 2, 2, 0), Windowed::new(8, 2, 2, 0), Windowed::new(10, 2, 2, 0));
    let p = Problem::new(Layout::ChannelsFirst, 1, 3, [z.axis(), y.axis(), x.axis()]).unwrap();
    every_route_matches_portable(&p, Route::Lean, Route::Rows);
}

#[test]
fn a_general_problem_on_every_route() {
    // 598 outputs a row: wider than a tile, so neither the plane nor the lean nest holds it.
    let x = Windowed::new(600, 3, 1, 0);
    let p = Problem::new(Layout::ChannelsFirst, 1, 2, [Axis::trivial(), Axis::trivial(), x.axis()]).unwrap();
    every_route_matches_portable(&p, Route::General, Route::Rows);
}

#[test]
fn a_channels_last_problem_on_every_route() {
    let (y, x) = (Windowed::new(9, 3, 1, 1), Windowed::new(11, 2, 2, 0));
    let p = Problem::new(Layout::ChannelsLast, 1, 19, [Axis::trivial(), y.axis(), x.axis()]).unwrap();
    every_route_matches_portable(&p, Route::Lanes, Route::Lanes);
}
