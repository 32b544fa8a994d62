//! Times the suite's channels-last windowed cases on every ISA level available here, one thread,
//! against the scalar reference and the Scalar-ISA plan measured in the same run.
//!
//! `cargo run --release --example nhwc_suite [iterations]` (default 200). Prints median µs per call.

use simdpool::{AvgOptions, Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape, Window, reference};
use std::time::Instant;

/// This thread's CPU time in ns (`/proc/thread-self/schedstat`, Linux), so time spent preempted by
/// other processes on a shared machine is not counted; wall time elsewhere.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Median µs per call over batches of calls (each batch at least ~2 ms), by CPU time when the OS
/// reports it.
fn median_us(iters: usize, mut f: impl FnMut()) -> f64 {
    let s = Instant::now();
    f();
    let once = s.elapsed().as_secs_f64();
    let batch = ((2e-3 / once.max(1e-9)) as usize).clamp(1, 1000);
    let batches = (iters / batch).max(3);
    let mut t: Vec<f64> = (0..batches)
        .map(|_| {
            let (c0, w0) = (cpu_ns(), Instant::now());
            for _ in 0..batch {
                f();
            }
            match (c0, cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64 / 1e3 / batch as f64,
                _ => w0.elapsed().as_secs_f64() * 1e6 / batch as f64,
            }
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
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
    println!("| case | isa | median µs | vs reference | vs Scalar plan | best peer µs |");
    println!("|---|---|---|---|---|---|");
    for (name, op, shape, peer) in cases {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 7919) % 1000) as f32 * 0.01 - 5.0).collect();
        let big = shape.len() > 20_000_000;
        let it = |n: usize| if big { (n / 20).max(3) } else { n };
        let t_ref = median_us(1, || {
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
            println!("| {name} | {isa} | {t:.1} | {:.1}x | {:.1}x | {peer} |", t_ref / t, t_scalar / t);
        }
    }
}
