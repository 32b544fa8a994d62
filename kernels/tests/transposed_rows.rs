//! Channels-first problems with small planes and irregular x windows run through the
//! channels-last kernel on transposed groups of planes; row ranges that start or end inside a
//! plane send those rows to the channels-first kernel. Through the public plans such ranges do
//! not occur for these shapes (they are too small to split inside planes), so this test calls the
//! kernels directly: every range must give the portable kernel's bits, on every level here.

mod common;

use simdpool_kernels::{ArgmaxFn, Axis, KernelSet, Layout, Problem, Reduce, Route, WindowFn, route};

/// Adaptive windows `[floor(i*L/O), ceil((i+1)*L/O))` as tables.
fn adaptive(l: usize, o: usize) -> (Vec<usize>, Vec<usize>) {
    (0..o).map(|i| (i * l / o, ((i + 1) * l).div_ceil(o) - i * l / o)).unzip()
}

/// The portable level, then every SIMD level here.
fn levels() -> Vec<(&'static str, &'static KernelSet)> {
    let mut v = vec![("portable", KernelSet::portable())];
    v.extend(common::simd_levels());
    v
}

#[test]
fn partial_planes_and_groups_match_portable() {
    // 37 planes (groups of 64 leave one partial group; 37 is no multiple of 8), 9x11 -> 4x5.
    let (c, (h, w), (oh, ow)) = (37usize, (9usize, 11usize), (4usize, 5usize));
    let ((sy, ty), (sx, tx)) = (adaptive(h, oh), adaptive(w, ow));
    let ay = Axis::new(h, 1, None, &sy, &ty, &ty).unwrap();
    let ax = Axis::new(w, 1, None, &sx, &tx, &tx).unwrap();
    let p = Problem::new(Layout::ChannelsFirst, 1, c, [Axis::trivial(), ay, ax]).unwrap();
    let x: Vec<f32> = (0..p.input_len()).map(|i| ((i * 2654435761) % 1013) as f32 * 0.37 - 180.0).collect();
    let rows = p.rows();
    for red in [Reduce::Max, Reduce::Avg { divisor_override: None }] {
        let portable: WindowFn<f32> = KernelSet::portable().f32.window;
        let mut want = vec![0.0f32; p.output_len()];
        portable(&p, &red, Route::Portable, &x, &mut want, 0..rows);
        for (name, set) in levels() {
            let route = route::window(set.f32.families, &p, &red);
            assert_eq!(route, if name == "portable" { Route::Portable } else { Route::Transposed }, "{name}");
            for range in [0..rows, 1..rows - 1, 5..7, 3..40, 4..rows, 0..oh * 9 + 2, 40..41] {
                let mut got = vec![f32::NAN; range.len() * ow];
                (set.f32.window)(&p, &red, route, &x, &mut got, range.clone());
                let want = &want[range.start * ow..range.end * ow];
                let same = got.iter().zip(want).all(|(g, w)| g.to_bits() == w.to_bits());
                assert!(same, "{name} {red:?} rows {range:?}:\n got {got:?}\nwant {want:?}");
            }
        }
    }
}

/// Max with indices takes the same route (the channels-last argmax kernel on transposed groups,
/// indices transposed back): every range gives the portable kernel's values and indices, with
/// ties (values on a coarse grid) and NaNs (the scan rule keeps the last NaN) in the windows.
#[test]
fn argmax_partial_planes_and_groups_match_portable() {
    // The last shape grows the plane (3x3 -> 4x5): the output scratch is larger than the input.
    let shapes = [
        (37usize, (9usize, 11usize), (4usize, 5usize)),
        (70, (10, 10), (7, 7)),
        (8, (3, 17), (2, 6)),
        (20, (3, 3), (4, 5)),
    ];
    // Under Miri only the portable level runs (see `levels`), which the other tests cover; one
    // small shape keeps this test's Miri time to seconds.
    let shapes = if cfg!(miri) { &shapes[2..3] } else { &shapes[..] };
    for &(c, (h, w), (oh, ow)) in shapes {
        let ((sy, ty), (sx, tx)) = (adaptive(h, oh), adaptive(w, ow));
        let ay = Axis::new(h, 1, None, &sy, &ty, &ty).unwrap();
        let ax = Axis::new(w, 1, None, &sx, &tx, &tx).unwrap();
        let p = Problem::new(Layout::ChannelsFirst, 1, c, [Axis::trivial(), ay, ax]).unwrap();
        let x: Vec<f32> = (0..p.input_len())
            .map(|i| match (i * 2654435761) % 97 {
                0 => f32::NAN,
                r => (r % 7) as f32 - 3.0,
            })
            .collect();
        let rows = p.rows();
        let portable: ArgmaxFn<f32> = KernelSet::portable().f32.argmax;
        let mut want = vec![0.0f32; p.output_len()];
        let mut want_idx = vec![-1i64; p.output_len()];
        portable(&p, Route::Portable, &x, &mut want, &mut want_idx, 0..rows);
        for (name, set) in levels() {
            let route = route::argmax(set.f32.families, &p);
            assert_eq!(route, if name == "portable" { Route::Portable } else { Route::Transposed }, "{name}");
            let ranges = [0..rows, 1..rows - 1, 5..7, 3..40, oh..rows, 0..oh * 9 + 2, rows - 1..rows];
            for range in ranges.into_iter().map(|r| r.start..r.end.min(rows)) {
                let mut got = vec![f32::NAN; range.len() * ow];
                let mut got_idx = vec![-1i64; range.len() * ow];
                (set.f32.argmax)(&p, route, &x, &mut got, &mut got_idx, range.clone());
                let (lo, hi) = (range.start * ow, range.end * ow);
                let same = got.iter().zip(&want[lo..hi]).all(|(g, w)| g.to_bits() == w.to_bits());
                assert!(same, "{name} {c} planes rows {range:?}: values differ");
                assert_eq!(got_idx, want_idx[lo..hi], "{name} {c} planes rows {range:?}: indices");
            }
        }
    }
}
