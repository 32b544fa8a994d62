//! Every route (the kernel family a plan takes) is forced by a shape chosen for it: the plan
//! reports the route, and its output (values and indices) equals the scalar reference bit for bit
//! at every level this machine has. Max is compared bitwise; the averages here have window sizes
//! whose divisors and sums are exact in f32 (integer inputs), so they are bitwise too. General
//! Lp (`x^p` rounds) equals the scalar level's plan bit for bit and the reference to 1e-5.

use simdpool::{Element, Isa, Plan, PlanOptions, PoolOp, Route, TensorShape, Window, reference};

/// Small integers (exact sums in f32 for the windows here), with repeats so ties occur.
fn input<T: Element>(len: usize) -> Vec<T> {
    (0..len).map(|i| T::from_f64(((i * 7919) % 23) as f64 - 11.0)).collect()
}

/// Builds the plan at `isa`, checks its route (the portable one at the scalar level) and its
/// output against the reference; with `indices`, checks the index route and the indices too.
fn check<T: Element>(op: &PoolOp, shape: &TensorShape, isa: Isa, simd_route: Route, indices: bool) {
    let plan = Plan::<T>::with_options(op, shape, PlanOptions::isa(isa).calling_thread()).unwrap();
    let expected_route = if isa == Isa::Scalar { Route::Portable } else { simd_route };
    let x = input::<T>(shape.len());
    let want = reference::pool::<T>(op, &x, shape).unwrap();
    let mut y = vec![T::from_f64(0.0); plan.output_len()];
    let label = format!("{op:?} {shape:?} at {isa}");
    if indices {
        assert_eq!(plan.indices_route(), Some(expected_route), "{label}");
        let mut idx = vec![0i64; plan.output_len()];
        plan.run_with_indices(&x, &mut y, &mut idx).unwrap();
        assert_eq!(Some(&idx), want.indices.as_ref(), "{label}: indices");
    } else {
        assert_eq!(plan.route(), expected_route, "{label}");
        plan.run(&x, &mut y).unwrap();
    }
    let bits = |v: &[T]| v.iter().map(|e| e.to_f64().to_bits()).collect::<Vec<_>>();
    if let PoolOp::Lp(_, p) = op
        && *p != 1.0
        && *p != 2.0
    {
        let scalar = Plan::<T>::with_options(op, shape, PlanOptions::isa(Isa::Scalar).calling_thread()).unwrap();
        let mut base = vec![T::from_f64(0.0); plan.output_len()];
        scalar.run(&x, &mut base).unwrap();
        assert_eq!(bits(&y), bits(&base), "{label}: values against the scalar level");
        for (g, w) in y.iter().zip(&want.values) {
            let (g, w) = (g.to_f64(), w.to_f64());
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{label}: {g} against the reference {w}");
        }
    } else {
        assert_eq!(bits(&y), bits(&want.values), "{label}: values");
    }
    let shown =
        if indices { format!("indices_route: Some({expected_route:?})") } else { format!("route: {expected_route:?}") };
    assert!(format!("{plan:?}").contains(&shown), "{plan:?}");
}

fn nchw(dims: &[usize]) -> TensorShape {
    TensorShape::nchw(dims).unwrap()
}

fn nhwc(dims: &[usize]) -> TensorShape {
    TensorShape::nhwc(dims).unwrap()
}

#[test]
fn plane_takes_small_channels_first_maps_with_a_regular_x_stride() {
    for isa in Isa::available() {
        let op = PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]));
        check::<f32>(&op, &nchw(&[1, 4, 33, 40]), isa, Route::Plane, false);
        check::<f32>(&PoolOp::avg(Window::new(&[2, 2])), &nchw(&[2, 3, 16, 17]), isa, Route::Plane, false);
        check::<f32>(&PoolOp::max(Window::new(&[4]).stride(&[4])), &nchw(&[2, 3, 64]), isa, Route::Plane, false);
        // General Lp: the plane nest raises each element as it copies the rows.
        check::<f32>(&PoolOp::lp(Window::new(&[2, 2]), 3.0), &nchw(&[1, 2, 12, 12]), isa, Route::Plane, false);
    }
}

#[test]
fn lean_takes_windows_that_share_no_rows_in_depth() {
    for isa in Isa::available() {
        let op = PoolOp::max(Window::new(&[2, 2, 2]).stride(&[2, 2, 2]));
        check::<f32>(&op, &nchw(&[1, 3, 8, 10, 12]), isa, Route::Lean, false);
        check::<f32>(&PoolOp::avg(Window::new(&[2, 2, 2])), &nchw(&[2, 2, 6, 6, 6]), isa, Route::Lean, false);
        check::<f32>(&PoolOp::lp(Window::new(&[2, 2, 2]), 3.0), &nchw(&[1, 2, 4, 6, 8]), isa, Route::Lean, false);
    }
}

#[test]
fn general_takes_wide_rows_overlapping_depth_windows_and_irregular_x_windows() {
    for isa in Isa::available() {
        // 598 outputs a row: wider than a tile.
        let wide = nchw(&[1, 3, 600]);
        check::<f32>(&PoolOp::max(Window::new(&[3]).stride(&[1])), &wide, isa, Route::General, false);
        // 3-D windows that share rows along depth.
        let op = PoolOp::avg(Window::new(&[3, 3, 3]).stride(&[1, 1, 1]));
        check::<f32>(&op, &nchw(&[1, 2, 6, 7, 8]), isa, Route::General, false);
        // Adaptive x windows on planes too large for the transposed groups.
        check::<f32>(&PoolOp::AdaptiveMax(vec![7, 7]), &nchw(&[1, 2, 40, 40]), isa, Route::General, false);
    }
}

#[test]
fn portable_takes_general_lp_on_shapes_no_nest_applies_it_to() {
    for isa in Isa::available() {
        let wide = nchw(&[1, 3, 600]);
        check::<f32>(&PoolOp::lp(Window::new(&[3]).stride(&[1]), 3.0), &wide, isa, Route::Portable, false);
    }
}

#[test]
fn transposed_takes_small_channels_first_planes_with_irregular_x_windows() {
    for isa in Isa::available() {
        // Adaptive 10 -> 7: windows of 2 and 3 along x, no uniform stride.
        let op = PoolOp::AdaptiveMax(vec![7, 7]);
        check::<f32>(&op, &nchw(&[1, 16, 10, 10]), isa, Route::Transposed, false);
        check::<f32>(&op, &nchw(&[1, 16, 10, 10]), isa, Route::Transposed, true);
        check::<f32>(&PoolOp::AdaptiveAvg(vec![5, 3]), &nchw(&[2, 9, 8, 8]), isa, Route::Transposed, false);
    }
}

#[test]
fn lanes_take_channels_last_windows() {
    for isa in Isa::available() {
        let op = PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]));
        check::<f32>(&op, &nhwc(&[1, 12, 12, 19]), isa, Route::Lanes, false);
        check::<f32>(&PoolOp::AdaptiveAvg(vec![3, 5]), &nhwc(&[1, 7, 9, 20]), isa, Route::Lanes, false);
    }
}

#[test]
fn argmax_takes_max_with_indices_outside_the_transposed_route() {
    for isa in Isa::available() {
        let op = PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]));
        check::<f32>(&op, &nchw(&[1, 4, 33, 40]), isa, Route::Argmax, true);
        check::<f32>(&op, &nhwc(&[1, 15, 15, 18]), isa, Route::Argmax, true);
    }
}

#[test]
fn global_takes_global_ops_and_blocks_take_large_channels_last_planes() {
    for isa in Isa::available() {
        check::<f32>(&PoolOp::GlobalAvg, &nchw(&[2, 20, 7, 7]), isa, Route::Global, false);
        check::<f32>(&PoolOp::GlobalMax, &nhwc(&[1, 7, 7, 33]), isa, Route::Global, false);
        // 1024 pixels: two pixel blocks per plane.
        check::<f32>(&PoolOp::GlobalAvg, &nhwc(&[1, 32, 32, 9]), isa, Route::GlobalBlocks, false);
    }
}

#[test]
fn f64_takes_every_simd_route() {
    for isa in Isa::available() {
        let max = PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]));
        check::<f64>(&max, &nhwc(&[1, 12, 12, 19]), isa, Route::Lanes, false);
        check::<f64>(&PoolOp::avg(Window::new(&[3, 3])), &nhwc(&[2, 9, 9, 5]), isa, Route::Lanes, false);
        check::<f64>(&PoolOp::lp(Window::new(&[2, 2]), 2.0), &nhwc(&[1, 8, 8, 3]), isa, Route::Lanes, false);
        check::<f64>(&max, &nchw(&[1, 4, 12, 12]), isa, Route::Plane, false);
        check::<f64>(
            &PoolOp::max(Window::new(&[2, 2, 2]).stride(&[2, 2, 2])),
            &nchw(&[1, 2, 4, 6, 8]),
            isa,
            Route::Lean,
            false,
        );
        // Small planes with irregular x windows: transposed groups, as for f32.
        check::<f64>(&PoolOp::AdaptiveMax(vec![7, 7]), &nchw(&[1, 16, 10, 10]), isa, Route::Transposed, false);
        check::<f64>(&PoolOp::AdaptiveAvg(vec![5, 3]), &nchw(&[2, 9, 8, 8]), isa, Route::Transposed, false);
        // Planes too large for the groups: the general nest.
        check::<f64>(&PoolOp::AdaptiveMax(vec![7, 7]), &nchw(&[1, 2, 100, 100]), isa, Route::General, false);
        check::<f64>(&max, &nchw(&[1, 4, 12, 12]), isa, Route::Argmax, true);
        check::<f64>(&max, &nhwc(&[1, 12, 12, 19]), isa, Route::Argmax, true);
        // Small irregular planes with indices: transposed groups through the argmax family.
        check::<f64>(&PoolOp::AdaptiveMax(vec![7, 7]), &nchw(&[1, 16, 10, 10]), isa, Route::Transposed, true);
        check::<f64>(&PoolOp::GlobalMax, &nchw(&[2, 5, 11, 13]), isa, Route::Global, false);
        check::<f64>(&PoolOp::GlobalAvg, &nchw(&[1, 3, 8, 8]), isa, Route::Global, false);
        check::<f64>(&PoolOp::GlobalAvg, &nhwc(&[2, 5, 7, 11]), isa, Route::Global, false);
        check::<f64>(&PoolOp::GlobalMax, &nhwc(&[1, 6, 6, 17]), isa, Route::Global, false);
        check::<f64>(&PoolOp::GlobalAvg, &nhwc(&[1, 32, 48, 7]), isa, Route::GlobalBlocks, false);
    }
}

#[test]
fn portable_serves_ops_a_type_has_no_simd_kernel_for() {
    // The half types run max in lanes only: their averages run the portable kernels at every
    // level.
    for isa in Isa::available() {
        check::<simdpool::f16>(&PoolOp::avg(Window::new(&[2, 2])), &nchw(&[1, 2, 8, 8]), isa, Route::Portable, false);
        check::<simdpool::bf16>(&PoolOp::avg(Window::new(&[2, 2])), &nhwc(&[1, 8, 8, 3]), isa, Route::Portable, false);
    }
}

#[test]
fn lanes_and_rows_take_half_max() {
    let op = PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]));
    for isa in Isa::available() {
        check::<simdpool::f16>(&op, &nhwc(&[1, 12, 12, 19]), isa, Route::Lanes, false);
        check::<simdpool::bf16>(&PoolOp::AdaptiveMax(vec![5, 3]), &nhwc(&[2, 12, 9, 33]), isa, Route::Lanes, false);
        check::<simdpool::f16>(&op, &nchw(&[1, 4, 33, 40]), isa, Route::Rows, false);
        check::<simdpool::bf16>(
            &PoolOp::max(Window::new(&[2, 2, 2])),
            &nchw(&[1, 2, 4, 6, 8]),
            isa,
            Route::Rows,
            false,
        );
    }
}

#[test]
fn rows_take_channels_first_byte_max_and_lanes_channels_last() {
    // The byte types' max: folded rows channels-first, the channels-last lanes channels-last;
    // their sums and indices run the portable kernels.
    let op = PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]));
    for isa in Isa::available() {
        check::<u8>(&op, &nchw(&[1, 4, 33, 40]), isa, Route::Rows, false);
        check::<i8>(&PoolOp::AdaptiveMax(vec![5, 3]), &nchw(&[2, 3, 12, 9]), isa, Route::Rows, false);
        check::<u8>(&PoolOp::max(Window::new(&[2, 2, 2])), &nchw(&[1, 2, 4, 6, 8]), isa, Route::Rows, false);
        check::<i8>(&op, &nhwc(&[1, 12, 12, 19]), isa, Route::Lanes, false);
        check::<u8>(&PoolOp::avg(Window::new(&[2, 2])), &nchw(&[1, 2, 8, 8]), isa, Route::Portable, false);
        check::<u8>(&op, &nchw(&[1, 2, 8, 8]), isa, Route::Portable, true);
    }
}
