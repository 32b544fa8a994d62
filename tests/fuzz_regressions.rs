//! Requests found by `cargo fuzz` (fuzz/fuzz_targets) that once failed, kept as plain tests so they
//! run on stable in every `cargo test`. Each runs through plans at every ISA level, both layouts,
//! and the reference.

mod common;

use common::{assert_bits_eq, assert_max_eq, isas, run_plan};
use simdpool::{Element, Layout, PlanOptions, PoolError, PoolOp, TensorShape, Window, bf16, reference};

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
