//! Differential tests of the f32 max-with-indices kernels: windowed max (any kernel, stride,
//! padding, dilation, ceil mode), adaptive max and global max, ranks 1-3, both layouts, with NaN,
//! +-inf, -0.0 and many ties mixed in. Every ISA level available here, forced through
//! `PlanOptions::isa`, must give the same values (bitwise) and indices as the `Scalar` level; the
//! values must be the reference's, bit for bit (zero signs, NaN payloads), and the indices exactly the reference's
//! (PyTorch's scan rule: first of equal maxima, last of several NaNs).

use crate::common;

use common::*;
use proptest::prelude::*;
use simdpool::{Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape, Window, reference};

/// Values with ties or not, and specials at a chosen rate (see `common::special_values`).
fn values(len: usize) -> impl Strategy<Value = Vec<f32>> {
    special_values(len, 250.0)
}

/// One axis: input length, kernel, stride, padding (<= kernel / 2), dilation.
fn axis(max_len: usize) -> impl Strategy<Value = (usize, usize, usize, usize, usize)> {
    (1usize..=max_len, 1usize..=5, 1usize..=3, 1usize..=2)
        .prop_flat_map(|(len, k, s, d)| (Just(len), Just(k), Just(s), 0..=k / 2, Just(d)))
}

#[derive(Clone, Debug)]
enum Kind {
    Windowed(Vec<(usize, usize, usize, usize, usize)>, bool),
    Adaptive(Vec<usize>, Vec<usize>),
    Global(Vec<usize>),
}

fn kind() -> impl Strategy<Value = Kind> {
    let rank = 1usize..=3;
    rank.prop_flat_map(|r| {
        let max_len = [0, 70, 40, 7][r];
        prop_oneof![
            3 => (prop::collection::vec(axis(max_len), r), any::<bool>()).prop_map(|(a, c)| Kind::Windowed(a, c)),
            2 => prop::collection::vec(1usize..=max_len, r)
                .prop_flat_map(|sp| {
                    let outs = sp.iter().map(|&l| 1usize..=l + 1).collect::<Vec<_>>();
                    (Just(sp), outs)
                })
                .prop_map(|(sp, o)| Kind::Adaptive(sp, o)),
            1 => prop::collection::vec(1usize..=max_len, r).prop_map(Kind::Global),
        ]
    })
}

fn op_and_spatial(k: &Kind) -> (PoolOp, Vec<usize>) {
    match k {
        Kind::Windowed(axes, ceil) => {
            let sp: Vec<usize> = axes.iter().map(|a| a.0).collect();
            let kernel: Vec<usize> = axes.iter().map(|a| a.1).collect();
            let stride: Vec<usize> = axes.iter().map(|a| a.2).collect();
            let pad: Vec<usize> = axes.iter().map(|a| a.3).collect();
            let dil: Vec<usize> = axes.iter().map(|a| a.4).collect();
            let w = Window::new(&kernel).stride(&stride).padding(&pad).dilation(&dil).ceil_mode(*ceil);
            (PoolOp::max(w), sp)
        }
        Kind::Adaptive(sp, out) => (PoolOp::AdaptiveMax(out.clone()), sp.clone()),
        Kind::Global(sp) => (PoolOp::GlobalMax, sp.clone()),
    }
}

fn case() -> impl Strategy<Value = (PoolOp, TensorShape, Vec<f32>)> {
    (kind(), 1usize..=3, 1usize..=70, any::<bool>()).prop_flat_map(|(k, n, c, last)| {
        let (op, sp) = op_and_spatial(&k);
        let layout = if last { Layout::ChannelsLast } else { Layout::ChannelsFirst };
        let shape = fit_spatial(&op, &TensorShape::new(layout, n, c, &sp).expect("shape"));
        let len = shape.len();
        (Just(op), Just(shape), values(len))
    })
}

/// Values and indices of `op` on one ISA level, on the calling thread. Every case is a valid
/// request (the shapes are fitted to the windows), so every case compares outputs.
fn run(op: &PoolOp, x: &[f32], shape: &TensorShape, isa: Isa) -> (Vec<f32>, Vec<i64>) {
    let plan = Plan::<f32>::with_options(op, shape, PlanOptions::isa(isa).calling_thread())
        .unwrap_or_else(|e| panic!("{op:?} on {shape:?} is not a valid request: {e}"));
    assert_eq!(plan.isa(), isa);
    let mut v = vec![0.0f32; plan.output_len()];
    let mut i = vec![-1i64; plan.output_len()];
    plan.run_with_indices(x, &mut v, &mut i).expect("run_with_indices");
    let mut plain = vec![0.0f32; plan.output_len()];
    plan.run(x, &mut plain).expect("run");
    // Every max op, global max included: `run` gives the element the scan selects.
    assert_bits_eq(&plain, &v, "run vs run_with_indices");
    (v, i)
}

fn check(op: &PoolOp, shape: &TensorShape, x: &[f32]) {
    let (sv, si) = run(op, x, shape, Isa::Scalar);
    for isa in isas() {
        let (v, i) = run(op, x, shape, isa);
        assert_bits_eq(&v, &sv, &format!("{op:?} {shape:?} {isa}: values vs scalar"));
        assert_eq!(i, si, "{op:?} {shape:?} {isa}: indices vs scalar");
    }
    let want = reference::pool(op, x, shape).expect("reference");
    assert_max_eq(&sv, &want.values, "values vs reference");
    assert_eq!(Some(si), want.indices, "{op:?} {shape:?}: indices vs reference");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn argmax_every_isa_matches_scalar_and_reference((op, shape, x) in case()) {
        check(&op, &shape, &x);
    }
}

/// Rows of every width around the register widths, with borders (padding), stride 2 and 3,
/// dilation, ceil mode, in both layouts; channels around every register width.
#[test]
fn row_and_channel_tails() {
    let mut seed = 0x1234_5678u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let windows = [
        Window::new(&[2, 3]).stride(&[1, 1]).padding(&[1, 1]),
        Window::new(&[2, 2]).stride(&[2, 2]),
        Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]).ceil_mode(true),
        Window::new(&[1, 3]).stride(&[1, 3]).dilation(&[1, 2]).padding(&[0, 1]),
        Window::new(&[2, 20]).stride(&[1, 1]).padding(&[0, 10]),
        // Dilated and padded with stride 1: window starts decrease at the left border.
        Window::new(&[1, 3]).stride(&[1, 1]).dilation(&[1, 2]).padding(&[0, 1]),
    ];
    for len in [1usize, 5, 8, 9, 16, 17, 31, 33, 40, 67] {
        for c in [1usize, 4, 7, 8, 16, 17, 65, 130] {
            for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
                let ops = windows.iter().map(|w| PoolOp::max(w.clone())).chain([
                    PoolOp::AdaptiveMax(vec![2, len.div_ceil(3)]),
                    PoolOp::AdaptiveMax(vec![1, 1]),
                    PoolOp::GlobalMax,
                ]);
                for op in ops {
                    // Rows too short for a window grow to the shortest that fits it.
                    let shape = fit_spatial(&op, &TensorShape::new(layout, 2, c, &[3, len]).unwrap());
                    let x: Vec<f32> = (0..shape.len())
                        .map(|_| match next() % 61 {
                            0 => f32::NAN,
                            1 => f32::NEG_INFINITY,
                            2 => -0.0,
                            3 => 0.0,
                            k => ((k % 7) as f32) - 3.0,
                        })
                        .collect();
                    check(&op, &shape, &x);
                }
            }
        }
    }
}
