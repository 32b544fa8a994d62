//! One hand-computed case per semantic rule, through the reference and through plans at every
//! ISA level, in both layouts (1-D cases with one channel are the same buffer in either layout).

use crate::common;

use common::*;
use simdpool::{
    AutoPad, AvgOptions, Element, Isa, Layout, Plan, PlanOptions, PoolError, PoolOp, TensorShape, Window, reference,
};

/// Pools a 1-D signal of one channel; checks reference and every plan agree bit for bit and
/// returns (values, indices).
fn pool1d<T: Element>(op: &PoolOp, x: &[T]) -> (Vec<T>, Option<Vec<i64>>) {
    let mut result = None;
    for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
        let shape = TensorShape::new(layout, 1, 1, &[x.len()]).unwrap();
        let r = reference::pool(op, x, &shape).unwrap();
        for isa in isas() {
            let p = run_plan(op, x, &shape, PlanOptions::isa(isa));
            assert_bits_eq(&p.values, &r.values, &format!("{} {isa} vs reference", op.name()));
            assert_eq!(p.indices, r.indices, "{} {isa} indices", op.name());
        }
        result = Some((r.values, r.indices));
    }
    result.unwrap()
}

fn out_len(op: &PoolOp, len: usize) -> usize {
    op.output_shape(&TensorShape::nchw(&[1, 1, len]).unwrap()).unwrap().spatial()[0]
}

#[test]
fn output_size_is_floor_of_the_formula() {
    // floor((7 + 0 - 3) / 2) + 1 = 3; with padding 1: floor((7 + 2 - 3) / 2) + 1 = 4.
    assert_eq!(out_len(&PoolOp::max(Window::new(&[3]).stride(&[2])), 7), 3);
    assert_eq!(out_len(&PoolOp::max(Window::new(&[3]).stride(&[2]).padding(&[1])), 7), 4);
    // Dilation 2 widens the extent to 5: floor((7 - 5) / 1) + 1 = 3.
    assert_eq!(out_len(&PoolOp::max(Window::new(&[3]).stride(&[1]).dilation(&[2])), 7), 3);
}

#[test]
fn ceil_mode_rounds_up_but_drops_a_window_starting_in_the_end_padding() {
    // L = 6, k = 3, s = 2: floor gives 2, ceil gives 3 (the last window starts at 4 < 6).
    assert_eq!(out_len(&PoolOp::max(Window::new(&[3]).stride(&[2]).ceil_mode(true)), 6), 3);
    // L = 5, k = 2, s = 2, p = 1: ceil((5 + 2 - 2) / 2) + 1 = 4, but window 3 would start at
    // padded position 6 >= 5 + 1, so it is dropped: 3 outputs, as PyTorch.
    let op = PoolOp::max(Window::new(&[2]).stride(&[2]).padding(&[1]).ceil_mode(true));
    assert_eq!(out_len(&op, 5), 3);
    let (v, i) = pool1d::<f32>(&op, &[1., 5., 2., 4., 3.]);
    assert_eq!(v, [1., 5., 4.]);
    assert_eq!(i.unwrap(), [0, 1, 3]);
}

#[test]
fn symmetric_padding_is_at_most_half_the_kernel() {
    let shape = TensorShape::nchw(&[1, 1, 8]).unwrap();
    assert!(Plan::<f32>::new(&PoolOp::max(Window::new(&[3]).padding(&[1])), &shape).is_ok());
    let err = Plan::<f32>::new(&PoolOp::max(Window::new(&[3]).padding(&[2])), &shape).unwrap_err();
    assert_eq!(err, PoolError::PaddingTooLarge { axis: 0, pad: 2, kernel: 3 });
    // Explicit (ONNX) pads are not bound by k/2, only by "no window wholly in padding".
    assert!(Plan::<f32>::new(&PoolOp::max(Window::new(&[3]).stride(&[1]).pads(&[2], &[0])), &shape).is_ok());
    let err = Plan::<f32>::new(&PoolOp::max(Window::new(&[3]).stride(&[1]).pads(&[3], &[0])), &shape).unwrap_err();
    assert_eq!(err, PoolError::WindowInPadding { axis: 0, output: 0 });
}

#[test]
fn max_propagates_nan_and_indexes_the_last_nan() {
    let a = f32::from_bits(0x7fc0_0001);
    let b = f32::from_bits(0x7fc0_0002);
    let (v, i) = pool1d::<f32>(&PoolOp::max(Window::new(&[4])), &[a, 7.0, b, 1.0]);
    assert_eq!(v[0].to_bits(), b.to_bits(), "the selected NaN is the last one");
    assert_eq!(i.unwrap(), [2]);
    // A NaN before a larger number still wins.
    let (v, i) = pool1d::<f32>(&PoolOp::max(Window::new(&[3])), &[f32::NAN, 1e30, 2.0]);
    assert!(v[0].is_nan());
    assert_eq!(i.unwrap(), [0]);
}

#[test]
fn max_indexes_the_first_of_equal_maxima() {
    let (v, i) = pool1d::<f32>(&PoolOp::max(Window::new(&[4])), &[3.0, 5.0, 5.0, 1.0]);
    assert_eq!((v[0], i.unwrap()[0]), (5.0, 1));
    // +0 and -0 are equal: the first one is selected, bits included.
    let (v, i) = pool1d::<f32>(&PoolOp::max(Window::new(&[2])), &[-0.0, 0.0]);
    assert_eq!((v[0].to_bits(), i.unwrap()[0]), ((-0.0f32).to_bits(), 0));
}

#[test]
fn padding_never_wins_a_max() {
    let op = PoolOp::max(Window::new(&[3]).stride(&[1]).padding(&[1]));
    let (v, i) = pool1d::<f32>(&op, &[-5.0, -7.0]);
    assert_eq!(v, [-5.0, -5.0]);
    assert_eq!(i.unwrap(), [0, 0]);
    let (v, _) = pool1d::<f32>(&op, &[f32::NEG_INFINITY, f32::NEG_INFINITY]);
    assert_eq!(v, [f32::NEG_INFINITY, f32::NEG_INFINITY]);
    let (v, _) = pool1d::<i8>(&op, &[-128, -100]);
    assert_eq!(v, [-100, -100]);
}

#[test]
fn indices_are_flat_over_the_spatial_dims_of_each_plane() {
    // 2 channels of 2x3, channels-last; max over 2x2 windows with stride 1.
    let shape = TensorShape::nhwc(&[1, 2, 3, 2]).unwrap();
    #[rustfmt::skip]
    let x = [
        0., 9.,   1., 8.,   2., 7.,
        5., 0.,   4., 1.,   3., 2.,
    ];
    let op = PoolOp::max(Window::new(&[2, 2]).stride(&[1, 1]));
    let r = reference::pool::<f32>(&op, &x, &shape).unwrap();
    // Channel 0 plane: [[0,1,2],[5,4,3]]; channel 1 plane: [[9,8,7],[0,1,2]]; output NHWC (1,1,2,2).
    assert_eq!(r.values, [5., 9., 4., 8.]);
    assert_eq!(r.indices.clone().unwrap(), [3, 0, 4, 1]);
    for isa in isas() {
        let p = run_plan(&op, &x, &shape, PlanOptions::isa(isa));
        assert_eq!(p.indices, r.indices, "{isa}");
    }
}

#[test]
fn count_include_pad_counts_padding_but_never_the_ceil_overhang() {
    // L = 4, k = 3, s = 2, p = 1, ceil: 3 outputs; the last window covers positions 3, 4, 5 where 3
    // is input, 4 is padding and 5 is overhang beyond the padded end 5: divisor 2.
    let w = Window::new(&[3]).stride(&[2]).padding(&[1]).ceil_mode(true);
    let include = PoolOp::Avg(w.clone(), AvgOptions { count_include_pad: true, divisor_override: None });
    let exclude = PoolOp::Avg(w, AvgOptions { count_include_pad: false, divisor_override: None });
    let x = [1.0f32, 2.0, 3.0, 4.0];
    assert_eq!(pool1d(&include, &x).0, [1.0, 3.0, 2.0]); // (0+1+2)/3, (2+3+4)/3, (4+0)/2
    assert_eq!(pool1d(&exclude, &x).0, [1.5, 3.0, 4.0]); // (1+2)/2, (2+3+4)/3, 4/1
}

#[test]
fn divisor_override_wins() {
    let w = Window::new(&[2]).stride(&[2]).padding(&[1]);
    for include in [true, false] {
        let op = PoolOp::Avg(w.clone(), AvgOptions { count_include_pad: include, divisor_override: Some(4) });
        assert_eq!(pool1d::<f32>(&op, &[1., 2., 3.]).0, [0.25, 1.25]);
    }
    let op = PoolOp::Avg(Window::new(&[2]), AvgOptions { count_include_pad: true, divisor_override: Some(-2) });
    assert_eq!(pool1d::<f32>(&op, &[1., 2.]).0, [-1.5]);
}

#[test]
fn adaptive_windows_are_floor_and_ceil_of_the_proportional_bounds() {
    assert_eq!(simdpool::adaptive_range(0, 5, 3), (0, 2));
    assert_eq!(simdpool::adaptive_range(1, 5, 3), (1, 4));
    assert_eq!(simdpool::adaptive_range(2, 5, 3), (3, 5));
    let x = [1.0f32, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(pool1d(&PoolOp::AdaptiveAvg(vec![3]), &x).0, [1.5, 3.0, 4.5]);
    let (v, i) = pool1d(&PoolOp::AdaptiveMax(vec![3]), &x);
    assert_eq!((v, i.unwrap()), (vec![2.0, 4.0, 5.0], vec![1, 3, 4]));
    // Upsampling repeats inputs.
    assert_eq!(pool1d(&PoolOp::AdaptiveAvg(vec![4]), &[1.0f32, 2.0]).0, [1.0, 1.0, 2.0, 2.0]);
}

#[test]
fn lp_is_the_p_norm_of_the_window() {
    assert_eq!(pool1d(&PoolOp::lp(Window::new(&[2]), 2.0), &[3.0f32, -4.0]).0, [5.0]);
    assert_eq!(pool1d(&PoolOp::lp(Window::new(&[2]), 1.0), &[-1.0f32, 2.0]).0, [3.0]);
    let v = pool1d(&PoolOp::lp(Window::new(&[2]), 3.0), &[1.0f64, 2.0]).0[0];
    assert!((v - 9f64.cbrt()).abs() < 1e-12);
    // Padding adds nothing to an Lp sum.
    let op = PoolOp::lp(Window::new(&[3]).stride(&[1]).padding(&[1]), 2.0);
    assert_eq!(pool1d(&op, &[3.0f32, 4.0]).0, [5.0, 5.0]);
}

#[test]
fn auto_pad_same_upper_and_lower_place_the_odd_element() {
    let x = [1.0f32, 2.0, 3.0, 4.0, 5.0];
    let w = Window::new(&[2]).stride(&[1]);
    // Total padding 1: SAME_UPPER puts it at the end, SAME_LOWER at the beginning.
    assert_eq!(pool1d(&PoolOp::max(w.clone().auto_pad(AutoPad::SameUpper)), &x).0, [2., 3., 4., 5., 5.]);
    assert_eq!(pool1d(&PoolOp::max(w.clone().auto_pad(AutoPad::SameLower)), &x).0, [1., 2., 3., 4., 5.]);
    assert_eq!(pool1d(&PoolOp::max(w.auto_pad(AutoPad::Valid)), &x).0, [2., 3., 4., 5.]);
    // SAME gives ceil(L / s) outputs.
    assert_eq!(out_len(&PoolOp::max(Window::new(&[3]).stride(&[2]).auto_pad(AutoPad::SameUpper)), 5), 3);
}

#[test]
fn asymmetric_pads_apply_to_the_right_side() {
    let x = [1.0f32, 2.0, 3.0];
    // ONNX pads [2, 0]: two padding elements before, none after.
    let op = PoolOp::Avg(Window::new(&[3]).stride(&[1]).pads(&[2], &[0]), AvgOptions::default());
    assert_eq!(pool1d(&op, &x).0, [1.0 / 3.0, 1.0, 2.0]);
    let op = PoolOp::Avg(Window::new(&[3]).stride(&[1]).onnx_pads(&[0, 2]), AvgOptions::default());
    assert_eq!(pool1d(&op, &x).0, [2.0, 5.0 / 3.0, 1.0]);
}

#[test]
fn dilation_spaces_the_taps() {
    let op = PoolOp::max(Window::new(&[2]).stride(&[1]).dilation(&[3]));
    let (v, i) = pool1d::<f32>(&op, &[1., 9., 2., 3., 4.]);
    assert_eq!(v, [3., 9.]); // taps (0, 3) and (1, 4)
    assert_eq!(i.unwrap(), [3, 1]);
    let op = PoolOp::Avg(Window::new(&[2]).stride(&[1]).dilation(&[3]), AvgOptions::default());
    assert_eq!(pool1d::<f32>(&op, &[1., 9., 2., 3., 4.]).0, [2.0, 6.5]);
}

#[test]
fn integer_averages_round_to_nearest_even_and_saturate() {
    let op = PoolOp::avg(Window::new(&[2]));
    assert_eq!(pool1d::<u8>(&op, &[1, 2, 2, 3, 254, 255]).0, [2, 2, 254]); // 1.5 -> 2, 2.5 -> 2, 254.5 -> 254
    assert_eq!(pool1d::<i8>(&op, &[-1, -2, -2, -3, 127, 127]).0, [-2, -2, 127]);
    let op = PoolOp::Avg(Window::new(&[2]), AvgOptions { count_include_pad: true, divisor_override: Some(1) });
    assert_eq!(pool1d::<u8>(&op, &[200, 100]).0, [255]); // 300 saturates
    assert_eq!(pool1d::<u8>(&PoolOp::lp(Window::new(&[2]), 2.0), &[255, 255]).0, [255]);
}

#[test]
fn narrow_floats_accumulate_in_f32() {
    // In f16, 2048 + 1 = 2048 (the spacing there is 2); an f32 accumulator keeps the ones.
    use simdpool::f16;
    let x = [2048.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0].map(f16::from_f32);
    let v = pool1d(&PoolOp::avg(Window::new(&[8])), &x).0[0];
    assert_eq!(v, f16::from_f32(2055.0 / 8.0));
}

#[test]
fn global_ops_reduce_whole_planes() {
    let x = [3.0f32, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
    assert_eq!(pool1d(&PoolOp::GlobalAvg, &x).0, [31.0 / 8.0]);
    let (v, i) = pool1d(&PoolOp::GlobalMax, &x);
    assert_eq!((v, i.unwrap()), (vec![9.0], vec![5]));
}

#[test]
fn indices_only_for_max_ops() {
    let shape = TensorShape::nchw(&[1, 1, 4]).unwrap();
    for op in [
        PoolOp::avg(Window::new(&[2])),
        PoolOp::lp(Window::new(&[2]), 2.0),
        PoolOp::GlobalAvg,
        PoolOp::AdaptiveAvg(vec![2]),
    ] {
        let plan = Plan::<f32>::new(&op, &shape).unwrap();
        let mut out = vec![7.0f32; plan.output_len()];
        let mut idx = vec![0i64; plan.output_len()];
        let err = plan.run_with_indices(&[1., 2., 3., 4.], &mut out, &mut idx).unwrap_err();
        assert!(matches!(err, PoolError::IndicesUnsupported { .. }), "{err}");
        assert!(out.iter().all(|&v| v == 7.0), "output untouched");
    }
}

#[test]
fn a_missing_isa_is_an_error() {
    let shape = TensorShape::nchw(&[1, 1, 4]).unwrap();
    let missing = Isa::ALL.into_iter().find(|i| !i.is_available()).expect("some level is always missing");
    let err = Plan::<f32>::with_options(&PoolOp::GlobalMax, &shape, PlanOptions::isa(missing)).unwrap_err();
    assert_eq!(err, PoolError::IsaUnavailable { requested: missing, detected: Isa::detected() });
}

#[test]
fn errors_say_what_to_change() {
    let shape = TensorShape::nchw(&[1, 1, 4, 4]).unwrap();
    let msg = |op: PoolOp| Plan::<f32>::new(&op, &shape).unwrap_err().to_string();
    assert!(msg(PoolOp::max(Window::new(&[3, 3]).padding(&[2, 1]))).contains("at most 1"));
    assert!(msg(PoolOp::max(Window::new(&[3]))).contains("kernel has 1 entries but the input has 2 spatial dims"));
    assert!(msg(PoolOp::max(Window::new(&[0, 2]))).contains("kernel is 0 on spatial axis 0"));
    assert!(msg(PoolOp::max(Window::new(&[5, 2]))).contains("window extent 5 is larger than the padded input 4"));
    assert!(msg(PoolOp::lp(Window::new(&[2, 2]), 0.5)).contains("p must be a finite number >= 1"));
    let plan = Plan::<f32>::new(&PoolOp::max(Window::new(&[2, 2])), &shape).unwrap();
    let err = plan.run(&[0.0; 15], &mut [0.0; 4]).unwrap_err().to_string();
    assert_eq!(err, "the input buffer has 15 elements but this plan needs exactly 16");
}

#[test]
fn absurd_sizes_are_errors_not_aborts() {
    // An adaptive output of 2^50 per axis fits usize but not in memory: the plan says so.
    let shape = TensorShape::nchw(&[1, 1, 4]).unwrap();
    let err = Plan::<f32>::new(&PoolOp::AdaptiveAvg(vec![1 << 50]), &shape).unwrap_err();
    assert!(matches!(err, PoolError::Overflow { .. }), "{err}");
    // Huge end padding leaves windows wholly in padding: that is found in closed form before any
    // table is allocated, and named as such.
    let big = PoolOp::max(Window::new(&[1]).pads(&[0], &[1 << 50]));
    let err = Plan::<f32>::new(&big, &shape).unwrap_err();
    assert_eq!(err, PoolError::WindowInPadding { axis: 0, output: (1 << 50) + 3 }, "{err}");
}

#[test]
fn nan_sums_are_the_canonical_nan() {
    let odd = f32::from_bits(0xffc0_1234); // negative NaN with a payload
    for x in [[odd, 1.0], [f32::INFINITY, f32::NEG_INFINITY]] {
        let v = pool1d(&PoolOp::avg(Window::new(&[2])), &x).0[0];
        assert_eq!(v.to_bits(), f32::NAN.to_bits());
        let v = pool1d(&PoolOp::GlobalAvg, &x).0[0];
        assert_eq!(v.to_bits(), f32::NAN.to_bits());
    }
}

#[test]
fn global_max_selects_like_the_scan_rule() {
    // Many planes of 70 elements: zeros of both signs and several NaNs, spread over the 64 lanes of
    // the channels-first tree; the value must be the scan rule's element, bits included.
    let a = f32::from_bits(0x7fc0_0001);
    let b = f32::from_bits(0xffc0_0002);
    let mut x = vec![-1.0f32; 70 * 4];
    x[3] = 0.0;
    x[67] = -0.0; // plane 0: +0 first
    x[70 + 5] = -0.0;
    x[70 + 66] = 0.0; // plane 1: -0 first
    x[140 + 2] = a;
    x[140 + 69] = b; // plane 2: last NaN is b
    x[210 + 68] = a;
    x[210 + 4] = b; // plane 3: last NaN is a
    let shape = TensorShape::nchw(&[1, 4, 70]).unwrap();
    let want = reference::pool(&PoolOp::GlobalMax, &x, &shape).unwrap();
    assert_eq!(want.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), [0, 0x8000_0000, b.to_bits(), a.to_bits()]);
    for isa in isas() {
        let got = run_plan(&PoolOp::GlobalMax, &x, &shape, PlanOptions::isa(isa));
        assert_bits_eq(&got.values, &want.values, &format!("{isa}"));
    }
}
