//! Ad-hoc speed check of the channels-first windowed suite cases, single thread:
//! `cargo run --release --example nchw_speed [filter]`. Prints the median time per call of the
//! scalar reference, and of plans at each available ISA level, with ratios (`NCHW_SPEED_MIN=1`:
//! the fastest call instead of the median, less sensitive to other load on the machine).

use simdpool::{AvgOptions, Isa, Plan, PlanOptions, PoolOp, TensorShape, Window, reference};
use std::time::{Duration, Instant};

fn median(mut f: impl FnMut(), budget: Duration) -> Duration {
    f();
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed() < budget && times.len() < 2000) {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
    }
    times.sort();
    if std::env::var("NCHW_SPEED_MIN").is_ok() { times[0] } else { times[times.len() / 2] }
}

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let w = |k: &[usize], s: &[usize], p: &[usize]| Window::new(k).stride(s).padding(p);
    let cases: Vec<(&str, PoolOp, Vec<usize>)> = vec![
        ("resnet_stem_max", PoolOp::max(w(&[3, 3], &[2, 2], &[1, 1])), vec![1, 64, 112, 112]),
        ("vgg_max_2x2", PoolOp::max(w(&[2, 2], &[2, 2], &[0, 0])), vec![1, 64, 224, 224]),
        ("vgg_max_deep", PoolOp::max(w(&[2, 2], &[2, 2], &[0, 0])), vec![1, 512, 28, 28]),
        (
            "inception_avg_3x3",
            PoolOp::Avg(w(&[3, 3], &[1, 1], &[1, 1]), AvgOptions { count_include_pad: false, divisor_override: None }),
            vec![1, 192, 35, 35],
        ),
        ("densenet_avg_2x2", PoolOp::avg(w(&[2, 2], &[2, 2], &[0, 0])), vec![1, 128, 56, 56]),
        ("sppf_max_5x5", PoolOp::max(w(&[5, 5], &[1, 1], &[2, 2])), vec![1, 256, 20, 20]),
        // Not suite cases: the larger SPP windows (YOLOv3-SPP, 9 and 13), for the running max.
        ("spp_max_9x9", PoolOp::max(w(&[9, 9], &[1, 1], &[4, 4])), vec![1, 256, 20, 20]),
        ("spp_max_13x13", PoolOp::max(w(&[13, 13], &[1, 1], &[6, 6])), vec![1, 256, 20, 20]),
        ("batch_stem_max", PoolOp::max(w(&[3, 3], &[2, 2], &[1, 1])), vec![32, 64, 112, 112]),
        ("audio_max_1d", PoolOp::max(w(&[4], &[4], &[0])), vec![8, 64, 16000]),
        ("c3d_max_3d", PoolOp::max(w(&[2, 2, 2], &[2, 2, 2], &[0, 0, 0])), vec![1, 64, 16, 56, 56]),
        ("adaptive_avg_odd", PoolOp::AdaptiveAvg(vec![7, 7]), vec![1, 512, 10, 10]),
    ];
    println!(
        "{:<18} {:>12} {:>12} {:>12} {:>12}  {:>8} {:>8}",
        "case", "reference", "scalar", "avx2", "avx512", "ref/best", "sc/best"
    );
    for (name, op, dims) in cases {
        if !name.contains(&filter) {
            continue;
        }
        let shape = TensorShape::nchw(&dims).unwrap();
        let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 5.0).collect();
        if let Ok(only) = std::env::var("NCHW_ONLY") {
            // Instruction-count mode (for callgrind): 10 calls of one ISA's plan, nothing else.
            let isa = Isa::from_name(&only).expect("isa name");
            let plan = Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(isa).calling_thread()).unwrap();
            let mut y = vec![0.0f32; plan.output_len()];
            for _ in 0..std::env::var("NCHW_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(10) {
                plan.run(std::hint::black_box(&x), &mut y).unwrap();
            }
            continue;
        }
        let budget = Duration::from_millis(400);
        let r = median(|| drop(std::hint::black_box(reference::pool(&op, &x, &shape).unwrap())), budget);
        let mut row = vec![r];
        for isa in [Isa::Scalar, Isa::Avx2, Isa::Avx512] {
            if !isa.is_available() {
                row.push(Duration::ZERO);
                continue;
            }
            let plan = Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(isa).calling_thread()).unwrap();
            let mut y = vec![0.0f32; plan.output_len()];
            row.push(median(|| plan.run(std::hint::black_box(&x), &mut y).unwrap(), budget));
        }
        let best = row[2..].iter().filter(|d| !d.is_zero()).min().copied().unwrap_or(row[1]);
        let us = |d: &Duration| format!("{:.1}", d.as_secs_f64() * 1e6);
        println!(
            "{:<18} {:>12} {:>12} {:>12} {:>12}  {:>8.1} {:>8.1}",
            name,
            us(&row[0]),
            us(&row[1]),
            us(&row[2]),
            us(&row[3]),
            row[0].as_secs_f64() / best.as_secs_f64(),
            row[1].as_secs_f64() / best.as_secs_f64()
        );
    }
}
