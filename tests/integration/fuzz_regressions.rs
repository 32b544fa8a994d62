//! Requests found by `cargo fuzz` (fuzz/fuzz_targets) that once failed, kept as plain tests so they
//! run on stable in every `cargo test`. Each runs through plans at every ISA level, both layouts,
//! and the reference.

use crate::common;

use common::{assert_bits_eq, assert_max_eq, isas, run_plan};
use simdpool::{
    AutoPad, AvgOptions, DType, Element, Layout, PlanOptions, PoolError, PoolOp, TensorShape, Window, bf16, f16,
    reference,
};

fn against_reference<T: Element>(op: &PoolOp, layout: Layout, batch: usize, channels: usize, spatial: &[usize]) {
    let shape = TensorShape::new(layout, batch, channels, spatial).unwrap();
    let x: Vec<T> = (0..shape.len()).map(|i| T::from_f64(((i * 37) % 23) as f64 - 11.0)).collect();
    let want = reference::pool(op, &x, &shape).expect("reference");
    let mut first: Option<Vec<T>> = None;
    for isa in isas() {
        let got = run_plan(op, &x, &shape, PlanOptions::isa(isa));
        assert_eq!(got.shape, want.shape);
        match op {
            PoolOp::Max(_) => {
                assert_max_eq(&got.values, &want.values, &format!("{isa}"));
                assert_eq!(got.indices, want.indices, "{isa}: indices");
            }
            // One tap per window: the mean and Lp are the tap itself (up to the divisor), exactly.
            _ => assert_bits_eq(&got.values, &want.values, &format!("{isa}")),
        }
        match &first {
            None => first = Some(got.values),
            Some(f) => assert_bits_eq(f, &got.values, &format!("{isa} vs Scalar")),
        }
    }
}

/// fuzz/artifacts crash-1f4d19de: a dilation so large that only one tap of each window lands in
/// the input made the kernels overflow computing `dilation * h * w` (a panic in debug builds).
#[test]
fn huge_dilation_with_one_valid_tap_per_window() {
    let d = 1usize << 62;
    let windows = [
        Window::new(&[1]).dilation(&[d]),
        // Extent 2^62 + 1, covered by a begin pad of 2^62: tap 0 in padding, tap 1 on the input.
        Window::new(&[2]).stride(&[1]).dilation(&[d]).pads(&[d], &[0]),
    ];
    for w in windows {
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            let ops = [
                PoolOp::max(w.clone()),
                PoolOp::avg(w.clone()),
                PoolOp::Avg(w.clone(), simdpool::AvgOptions { count_include_pad: false, divisor_override: None }),
                PoolOp::lp(w.clone(), 1.0),
            ];
            for op in &ops {
                against_reference::<f32>(op, layout, 2, 3, &[5]);
                against_reference::<u8>(op, layout, 1, 2, &[4]);
            }
        }
    }
    // The same on the last axis of a 3-D input, where the step is scaled by the plane size.
    let w3 = Window::new(&[1, 1, 2]).stride(&[1, 1, 1]).dilation(&[d, 1, d]).pads(&[0, 0, d], &[0, 0, 0]);
    for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
        against_reference::<f32>(&PoolOp::max(w3.clone()), layout, 1, 3, &[2, 3, 4]);
        against_reference::<bf16>(&PoolOp::avg(w3.clone()), layout, 1, 2, &[3, 2, 5]);
    }
}

/// fuzz/regressions/plan/huge-table-allocation: a plan whose per-axis tables cannot be allocated
/// (here a 2^40 adaptive output of a 1-element axis) is an error, not an allocation abort.
#[test]
fn adaptive_output_too_large_for_memory_is_an_error() {
    if cfg!(miri) {
        return; // Miri stops on allocations this large instead of failing them.
    }
    let shape = TensorShape::nchw(&[1, 1, 1]).unwrap();
    let e = simdpool::Plan::<u8>::new(&PoolOp::AdaptiveAvg(vec![1 << 40]), &shape).unwrap_err();
    assert_eq!(e, PoolError::Overflow { what: "memory for the per-axis tap tables" });
}

/// fuzz/regressions/plan/avg-override-include-pad-count-overflow: an include-pad average with a
/// divisor override over a 2^62 x 4 window (the stride defaults to the kernel; SAME_UPPER pads the
/// 5 x 4 input to one window of all 20 pixels, 2^64 taps with the padding). The override makes
/// the tap count irrelevant, so the plan is valid (the kernel-size product is checked only
/// without an override), but the channels-last SIMD kernels still multiplied the per-axis
/// include-pad counts for the divisor (`czy * xc` in `kernels/src/lanes/nhwc.rs`): an overflow
/// panic in debug builds at the Avx2 level. Every count product the kernels form now saturates;
/// it is used only without an override, where the plan has bounded it. The reference would visit every tap, so the expected
/// values are summed here.
#[test]
fn avg_divisor_override_with_a_huge_include_pad_count() {
    fn check<T: Element>(layout: Layout) {
        let (c, h, w) = (3, 5, 4);
        let op = PoolOp::Avg(
            Window::new(&[1 << 62, 4]).auto_pad(AutoPad::SameUpper).ceil_mode(true),
            AvgOptions { count_include_pad: true, divisor_override: Some(i64::MIN) },
        );
        let shape = TensorShape::new(layout, 1, c, &[h, w]).unwrap();
        let x: Vec<T> = (0..shape.len()).map(|i| T::from_f64(((i * 37) % 23) as f64 - 11.0)).collect();
        let at = |ch: usize, y: usize, xx: usize| match layout {
            Layout::ChannelsLast => (y * w + xx) * c + ch,
            Layout::ChannelsFirst => (ch * h + y) * w + xx,
        };
        let mut first: Option<Vec<T>> = None;
        for isa in isas() {
            let got = run_plan(&op, &x, &shape, PlanOptions::isa(isa));
            assert_eq!(got.values.len(), c, "{isa}: one output per channel");
            if matches!(T::DTYPE, DType::F32 | DType::F64) {
                for ch in 0..c {
                    let sum: f64 = (0..h)
                        .flat_map(|y| (0..w).map(move |xx| (y, xx)))
                        .map(|(y, xx)| x[at(ch, y, xx)].to_f64())
                        .sum();
                    let want = sum / i64::MIN as f64;
                    let g = got.values[ch].to_f64();
                    assert!((g - want).abs() <= want.abs() * 1e-6, "{isa}: channel {ch}: {g} vs {want}");
                }
            }
            match &first {
                None => first = Some(got.values),
                Some(f) => assert_bits_eq(f, &got.values, &format!("{isa} vs Scalar")),
            }
        }
        // The backward pass shares the rule: each pixel of the one window gets its channel's
        // gradient over the override, and the tap count is never formed.
        if matches!(T::DTYPE, DType::U8 | DType::I8) {
            return;
        }
        let plan = simdpool::Plan::<T>::new(&op, &shape).unwrap();
        let go: Vec<T> = (0..c).map(|ch| T::from_f64(ch as f64 + 1.0)).collect();
        let mut gi = vec![T::zeroed(); shape.len()];
        plan.backward(&go, &mut gi).unwrap();
        for ch in 0..c {
            let want = T::from_f64((ch as f64 + 1.0) / i64::MIN as f64);
            for y in 0..h {
                for xx in 0..w {
                    assert_bits_eq(&[want], &[gi[at(ch, y, xx)]], &format!("grad_input ({ch}, {y}, {xx})"));
                }
            }
        }
    }
    for layout in [Layout::ChannelsLast, Layout::ChannelsFirst] {
        check::<f32>(layout);
        check::<f64>(layout);
        check::<bf16>(layout);
        check::<f16>(layout);
        check::<u8>(layout);
        check::<i8>(layout);
    }
}
