//! Times the suite's channels-last windowed cases on every ISA level available here, one thread,
//! against the scalar reference and the Scalar-ISA plan measured in the same run.
//!
//! `cargo run --release --example nhwc_suite [iterations]` (default 200). Prints median µs per call.

use simdpool::{AvgOptions, Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape, Window, reference};
use std::time::Instant;

/// Median wall-clock µs per call (one call per sample, so on a shared machine most samples of a
/// short call run unpreempted and the median ignores the rest). Also records the minimum in `MIN`.
fn median_us(iters: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..iters.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    t.sort_by(f64::total_cmp);
    MIN.with(|m| m.set(t[0]));
    t[t.len() / 2]
}

thread_local! {
    /// The fastest sample of the last `median_us` (calls of milliseconds are often preempted on a
    /// loaded machine; the minimum shows the unpreempted time).
    static MIN: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::NAN) };
}

fn main() {
    let iters: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let nhwc = |n, c, sp: &[usize]| TensorShape::new(Layout::ChannelsLast, n, c, sp).unwrap();
    let excl = AvgOptions { count_include_pad: false, divisor_override: None };
    let cases = [
        (
            "resnet_stem_max",
            PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1])),
            nhwc(1, 64, &[112, 112]),
            135.0,
        ),
        ("vgg_max_2x2", PoolOp::max(Window::new(&[2, 2]).stride(&[2, 2])), nhwc(1, 64, &[224, 224]), 339.6),
        ("vgg_max_deep", PoolOp::max(Window::new(&[2, 2]).stride(&[2, 2])), nhwc(1, 512, &[28, 28]), 37.4),
        (
            "inception_avg_3x3",
            PoolOp::Avg(Window::new(&[3, 3]).stride(&[1, 1]).padding(&[1, 1]), excl),
            nhwc(1, 192, &[35, 35]),
            41.8,
        ),
        ("densenet_avg_2x2", PoolOp::avg(Window::new(&[2, 2]).stride(&[2, 2])), nhwc(1, 128, &[56, 56]), 22.4),
        (
            "sppf_max_5x5",
            PoolOp::max(Window::new(&[5, 5]).stride(&[1, 1]).padding(&[2, 2])),
            nhwc(1, 256, &[20, 20]),
            105.2,
        ),
        ("audio_max_1d", PoolOp::max(Window::new(&[4]).stride(&[4])), nhwc(8, 64, &[16000]), 1671.8),
        ("c3d_max_3d", PoolOp::max(Window::new(&[2, 2, 2]).stride(&[2, 2, 2])), nhwc(1, 64, &[16, 56, 56]), 558.9),
        ("adaptive_avg_odd", PoolOp::AdaptiveAvg(vec![7, 7]), nhwc(1, 512, &[10, 10]), f64::NAN),
    ];
    let only: Option<String> = std::env::args().nth(2);
    println!("| case | isa | median µs | min µs | vs reference | vs Scalar plan | best peer µs |");
    println!("|---|---|---|---|---|---|---|");
    for (name, op, shape, peer) in cases {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 7919) % 1000) as f32 * 0.01 - 5.0).collect();
        let big = shape.len() > 20_000_000;
        let it = |n: usize| if big { (n / 20).max(3) } else { n };
        let t_ref = median_us(3, || {
            std::hint::black_box(reference::pool(&op, &x, &shape).unwrap());
        });
        let mut t_scalar = f64::NAN;
        for isa in Isa::available() {
            let plan = Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(isa).calling_thread()).unwrap();
            let mut y = vec![0.0f32; plan.output_len()];
            let n = if isa == Isa::Scalar { it(iters / 10).max(3) } else { it(iters) };
            let t = median_us(n, || plan.run(std::hint::black_box(&x), &mut y).unwrap());
            if isa == Isa::Scalar {
                t_scalar = t;
            }
            let m = MIN.with(|m| m.get());
            println!("| {name} | {isa} | {t:.1} | {m:.1} | {:.1}x | {:.1}x | {peer} |", t_ref / t, t_scalar / t);
        }
    }
}
