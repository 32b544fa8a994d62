//! Focused tests for rules that the broader suites reach only by chance: each was written for a
//! mutant that survived them (docs/mutation-testing.md lists which). Every expectation is the
//! reference's result or a rule stated in the docs, never an implementation constant.

mod common;

use common::*;
use simdpool::{Layout, PoolOp, TensorShape, reference};

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
