//! Focused tests for rules that the broader suites reach only by chance: each was written for a
//! mutant that survived them (docs/mutation-testing.md lists which). Every expectation is the
//! reference's result or a rule stated in the docs, never an implementation constant.

use crate::common;

use common::*;
use simdpool::{AutoPad, Layout, Padding, Plan, PlanOptions, PoolError, PoolOp, TensorShape, Window, reference};

/// Channels-last global max over planes that are cut into pixel blocks (1024 pixels and more):
/// a single maximum placed on each side of every possible block boundary (and at both ends of
/// the plane) must be found, whatever the block count. A block that loses or repeats a pixel at
/// its edge misses it.
#[test]
fn global_max_finds_a_maximum_at_every_block_edge() {
    for plane in [1024usize, 1025, 2047, 2048, 3136, 4096, 4100] {
        let c = 3;
        let shape = TensorShape::new(Layout::ChannelsLast, 1, c, &[plane]).unwrap();
        let mut edges = vec![0, plane - 1];
        for blocks in [2usize, 4, 8] {
            for b in 1..blocks {
                let first = b * plane / blocks;
                edges.extend([first - 1, first]);
            }
        }
        for &p in &edges {
            let mut x = vec![-1.0f32; shape.len()];
            x[p * c + 1] = 5.0;
            let got = simdpool::global_max_pool(&x, &shape).unwrap();
            assert_eq!(got.values, [-1.0, 5.0, -1.0], "plane {plane}, maximum at pixel {p}");
            let want = reference::pool(&PoolOp::GlobalMax, &x, &shape).unwrap();
            assert_bits_eq(&got.values, &want.values, &format!("plane {plane}, pixel {p}"));
        }
    }
}

/// A value with a full 24-bit mantissa, so that sums round and their order shows in the bits.
fn inexact(seed: &mut u32) -> f32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    (*seed >> 8) as f32 / (1u32 << 24) as f32 * 200.0 - 100.0 + 1.0 / 3.0
}

/// The channels-last global average of large planes in the order the design fixes
/// (`src/global_tree.rs`, docs/design-global.md): the plane is cut into the largest power of two
/// of blocks not above `plane / 512` (1 to 8), block `b` holding pixels
/// `[b * plane / blocks, (b + 1) * plane / blocks)`; each block is summed pixel by pixel from
/// `0.0`, the block sums are combined by the pairwise tree `(b0 + b1) + (b2 + b3)`, then `+ 0.0`
/// and one division by the plane size.
fn block_order_mean(x: &[f32], c: usize, ch: usize, plane: usize) -> f32 {
    let blocks = 1usize << (plane / 512).clamp(1, 8).ilog2();
    let edge = |b: usize| b * plane / blocks;
    let block = |b: usize| (edge(b)..edge(b + 1)).fold(0.0f32, |s, p| s + x[p * c + ch]);
    fn tree(bs: std::ops::Range<usize>, block: &dyn Fn(usize) -> f32) -> f32 {
        if bs.len() == 1 {
            return block(bs.start);
        }
        let mid = bs.start + bs.len() / 2;
        tree(bs.start..mid, block) + tree(mid..bs.end, block)
    }
    (tree(0..blocks, &block) + 0.0) / plane as f32
}

/// Channels-last f32 global averages of planes cut into 2, 4 and 8 pixel blocks have exactly the
/// bits of the fixed block order on every level, and those bits are within rounding of the
/// reference. Inputs with full mantissas make every change of grouping visible.
#[test]
fn global_avg_channels_last_follows_the_fixed_block_order() {
    let mut seed = 0x1234_5677u32;
    for (plane, c) in [(1024usize, 3usize), (1500, 5), (2048, 2), (3136, 7), (4100, 3), (9000, 2)] {
        let shape = TensorShape::new(Layout::ChannelsLast, 2, c, &[plane]).unwrap();
        let x: Vec<f32> = (0..shape.len()).map(|_| inexact(&mut seed)).collect();
        let want: Vec<f32> = (0..2)
            .flat_map(|n| {
                let img = &x[n * plane * c..(n + 1) * plane * c];
                (0..c).map(move |ch| block_order_mean(img, c, ch, plane))
            })
            .collect();
        let reference = reference::pool(&PoolOp::GlobalAvg, &x, &shape).unwrap().values;
        for (w, r) in want.iter().zip(&reference) {
            assert!((w - r).abs() <= 1e-3, "plane {plane}: block order {w} vs reference {r}");
        }
        for isa in isas() {
            let got = run_plan(&PoolOp::GlobalAvg, &x, &shape, PlanOptions::isa(isa));
            assert_bits_eq(&got.values, &want, &format!("plane {plane}, {c} channels at {isa}"));
        }
    }
}

/// A plan reports the buffer lengths it checks and the name of its op: the lengths `run` accepts
/// are exactly `input_len` and `output_len`, and one element more or less is an error.
#[test]
fn plan_lengths_and_name_are_the_ones_it_checks() {
    let shape = TensorShape::nchw(&[2, 3, 9, 8]).unwrap();
    let ops = [PoolOp::max(Window::new(&[3, 2])), PoolOp::avg(Window::new(&[2, 2])), PoolOp::GlobalAvg];
    for op in ops {
        let plan = Plan::<f32>::new(&op, &shape).unwrap();
        assert_eq!(plan.op_name(), op.name());
        assert_eq!(plan.input_len(), shape.len());
        assert_eq!(plan.output_len(), plan.output_shape().len());
        let x = vec![1.0f32; plan.input_len()];
        let mut y = vec![0.0f32; plan.output_len()];
        plan.run(&x, &mut y).unwrap();
        assert!(y.iter().all(|&v| v == 1.0), "{op:?}");
        assert!(plan.run(&x[1..], &mut y).is_err());
        assert!(plan.run(&x, &mut y[1..]).is_err());
    }
}

/// Channels-first global max whose maxima are zeros of both signs in every plane: the scan rule
/// selects the first zero of each plane (`-0.0` or `+0.0`, alternating from plane to plane, the
/// other sign last), so the rescan of tied planes must read exactly that plane's elements.
#[test]
fn global_max_zero_ties_take_the_first_zero_of_their_own_plane() {
    for dims in [[1usize, 40, 7, 7], [2, 17, 16, 16], [1, 5, 1, 1000]] {
        let shape = TensorShape::nchw(&dims).unwrap();
        let plane = shape.plane();
        let mut x = vec![-1.0f32; shape.len()];
        for (k, p) in x.chunks_mut(plane).enumerate() {
            let first = if k % 2 == 0 { 0.0 } else { -0.0 };
            p[0] = first;
            p[plane - 1] = -first;
        }
        let want: Vec<f32> = (0..shape.len() / plane).map(|k| if k % 2 == 0 { 0.0 } else { -0.0 }).collect();
        let reference = reference::pool(&PoolOp::GlobalMax, &x, &shape).unwrap().values;
        assert_bits_eq(&reference, &want, "reference");
        for isa in isas() {
            for opts in [PlanOptions::isa(isa), PlanOptions::isa(isa).calling_thread()] {
                let got = run_plan(&PoolOp::GlobalMax, &x, &shape, opts);
                assert_bits_eq(&got.values, &want, &format!("{dims:?} at {isa}"));
            }
        }
    }
}

/// A window reports the kernel, padding and ceil mode it was built with.
#[test]
fn window_reports_what_it_was_built_with() {
    let w = Window::new(&[3, 2]).stride(&[2, 1]).padding(&[1, 0]).ceil_mode(true);
    assert_eq!(w.kernel(), [3, 2]);
    assert_eq!(w.rank(), 2);
    assert_eq!(*w.padding_spec(), Padding::Symmetric(vec![1, 0]));
    assert!(w.is_ceil_mode());
    let w = Window::new(&[4]).pads(&[1], &[2]);
    assert_eq!(w.kernel(), [4]);
    assert_eq!(*w.padding_spec(), Padding::Explicit { begin: vec![1], end: vec![2] });
    assert!(!w.is_ceil_mode());
}

/// The rule "no output's window may lie wholly in padding", at both ends of an axis, against a
/// brute force over the taps: for every small length, kernel, stride, dilation and pair of pads,
/// `resolve` rejects exactly the geometries whose first or last window has no tap inside the
/// input, naming that output; the others resolve to the documented floor-mode output length.
#[test]
fn windows_wholly_in_padding_are_rejected_exactly() {
    for len in 1usize..=7 {
        for k in 1usize..=4 {
            for s in 1usize..=3 {
                for d in 1usize..=3 {
                    for pb in 0usize..=6 {
                        for pe in 0usize..=6 {
                            let w = Window::new(&[k]).stride(&[s]).dilation(&[d]).pads(&[pb], &[pe]);
                            let (padded, extent) = (len + pb + pe, d * (k - 1) + 1);
                            let got = w.resolve(&[len]);
                            if padded < extent {
                                assert!(
                                    matches!(got, Err(PoolError::EmptyOutput { .. })),
                                    "{len} {k} {s} {d} {pb} {pe}"
                                );
                                continue;
                            }
                            let out = (padded - extent) / s + 1;
                            let valid = |o: usize| {
                                (0..k).any(|j| {
                                    let p = (o * s + j * d) as i64 - pb as i64;
                                    (0..len as i64).contains(&p)
                                })
                            };
                            let what = format!("L {len}, k {k}, s {s}, d {d}, pads {pb} {pe}");
                            match [0, out - 1].into_iter().find(|&o| !valid(o)) {
                                Some(o) => assert_eq!(
                                    got.unwrap_err(),
                                    PoolError::WindowInPadding { axis: 0, output: o },
                                    "{what}"
                                ),
                                None => assert_eq!(got.expect(&what)[0].output, out, "{what}"),
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `auto_pad` SAME_UPPER / SAME_LOWER against the documented rule: `ceil(L / s)` outputs, total
/// padding `max((out - 1) * s + d * (k - 1) + 1 - L, 0)`, the odd element at the end (upper) or
/// at the beginning (lower); VALID pads nothing.
#[test]
fn auto_pad_splits_the_total_padding_by_the_rule() {
    for len in 1usize..=9 {
        for k in 1usize..=5 {
            for s in 1usize..=3 {
                for d in 1usize..=2 {
                    let out = len.div_ceil(s);
                    let total = ((out - 1) * s + d * (k - 1) + 1).saturating_sub(len);
                    for (auto, begin, end) in [
                        (AutoPad::SameUpper, total / 2, total - total / 2),
                        (AutoPad::SameLower, total - total / 2, total / 2),
                    ] {
                        let what = format!("{auto:?}: L {len}, k {k}, s {s}, d {d}");
                        let w = Window::new(&[k]).stride(&[s]).dilation(&[d]).auto_pad(auto);
                        let Ok(axes) = w.resolve(&[len]) else {
                            // Only a window wholly in padding may be refused.
                            assert!(matches!(w.resolve(&[len]), Err(PoolError::WindowInPadding { .. })), "{what}");
                            continue;
                        };
                        assert_eq!((axes[0].pad_begin, axes[0].pad_end, axes[0].output), (begin, end, out), "{what}");
                    }
                    let w = Window::new(&[k]).stride(&[s]).dilation(&[d]).auto_pad(AutoPad::Valid);
                    if let Ok(axes) = w.resolve(&[len]) {
                        assert_eq!((axes[0].pad_begin, axes[0].pad_end), (0, 0));
                    }
                }
            }
        }
    }
}

/// Tap positions are `i64`: a padded length of exactly `i64::MAX` is accepted (and here rejected
/// only because its last window lies wholly in padding), one more is an overflow error.
#[test]
fn padded_length_limit_is_i64_max() {
    let len = 4usize;
    let at_limit = Window::new(&[1]).pads(&[0], &[i64::MAX as usize - len]);
    assert_eq!(
        at_limit.resolve(&[len]).unwrap_err(),
        PoolError::WindowInPadding { axis: 0, output: i64::MAX as usize - 1 }
    );
    let over = Window::new(&[1]).pads(&[0], &[i64::MAX as usize - len + 1]);
    assert!(matches!(over.resolve(&[len]), Err(PoolError::Overflow { .. })));
}
