//! Quick timing of the global-pooling suite cases (and max with indices) per ISA level, single
//! thread, against the scalar reference and the Scalar-level plan; then 1 vs 2 rayon threads.
//! `cargo run --release --example global_speed`
use simdpool::{Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape, Window, reference};
use std::time::Instant;

/// Median over batches of the mean time per call (µs); `MIN=1` reports the fastest batch instead
/// (less sensitive to other processes on a shared machine).
fn time(mut f: impl FnMut(), budget_ms: f64) -> f64 {
    let t0 = Instant::now();
    f();
    let once = t0.elapsed().as_secs_f64() * 1e6;
    let batches = 31;
    let per_batch = ((budget_ms * 1e3 / batches as f64) / once.max(0.01)).clamp(1.0, 10_000.0) as usize;
    let mut samples: Vec<f64> = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / per_batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    if std::env::var("MIN").is_ok() { samples[0] } else { samples[samples.len() / 2] }
}

fn main() {
    let cases: Vec<(&str, PoolOp, Vec<usize>, bool)> = vec![
        ("resnet_gap", PoolOp::GlobalAvg, vec![1, 2048, 7, 7], false),
        ("gap_large", PoolOp::GlobalAvg, vec![1, 256, 56, 56], false),
        ("text_gmp_1d", PoolOp::GlobalMax, vec![32, 256, 512], false),
        ("text_gmp_1d+idx", PoolOp::GlobalMax, vec![32, 256, 512], true),
        ("adaptive_max_odd+idx", PoolOp::AdaptiveMax(vec![7, 7]), vec![1, 512, 10, 10], true),
        (
            "stem_max+idx",
            PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1])),
            vec![1, 64, 112, 112],
            true,
        ),
    ];
    let budget = std::env::var("BUDGET_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(300.0);
    let pool1 = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let pool2 = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    let only = std::env::var("CASE").ok();
    for (name, op, dims, idx) in &cases {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            let shape = TensorShape::nchw(dims).unwrap().with_layout(layout);
            let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 7919) % 1000) as f32 * 0.01 - 5.0).collect();
            let t_ref = if *idx && op.window().is_some() && shape.len() > 1 << 20 {
                f64::NAN
            } else {
                time(|| drop(reference::pool(op, &x, &shape).unwrap()), budget)
            };
            let mut line = format!(
                "{name:16} {:5} ref {t_ref:9.1}µs",
                if layout == Layout::ChannelsFirst { "NCHW" } else { "NHWC" }
            );
            let mut scalar_t = f64::NAN;
            for isa in Isa::available() {
                let plan = Plan::<f32>::with_options(op, &shape, PlanOptions::isa(isa).calling_thread()).unwrap();
                let mut y = vec![0.0f32; plan.output_len()];
                let mut ix = vec![0i64; plan.output_len()];
                let t = time(
                    || {
                        if *idx {
                            plan.run_with_indices(&x, &mut y, &mut ix).unwrap()
                        } else {
                            plan.run(&x, &mut y).unwrap()
                        }
                    },
                    budget,
                );
                if isa == Isa::Scalar {
                    scalar_t = t;
                }
                line += &format!(" | {isa} {t:8.2}µs (x{:.1} ref, x{:.1} scalar)", t_ref / t, scalar_t / t);
            }
            // Threads: the detected level in pools of 1 and 2 threads.
            let plan = Plan::<f32>::new(op, &shape).unwrap();
            let mut y = vec![0.0f32; plan.output_len()];
            let mut ix = vec![0i64; plan.output_len()];
            let mut go = |pool: &rayon::ThreadPool| {
                pool.install(|| {
                    time(
                        || {
                            if *idx {
                                plan.run_with_indices(&x, &mut y, &mut ix).unwrap()
                            } else {
                                plan.run(&x, &mut y).unwrap()
                            }
                        },
                        budget,
                    )
                })
            };
            let (t1, t2) = (go(&pool1), go(&pool2));
            line +=
                &format!(" || {} MB: 1 thr {t1:.2}µs, 2 thr {t2:.2}µs (x{:.2})", shape.len() * 4 / 1_000_000, t1 / t2);
            println!("{line}");
        }
    }
}
