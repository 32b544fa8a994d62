//! Interleaved A/B timing (min and median of single calls) of the global suite cases per layout,
//! so every variant sees the same machine load: the Scalar level and the chosen level on the
//! calling thread, the chosen level in rayon pools of 1 and 2 threads, and a plain read of the
//! input (xor of its bits, auto-vectorised for the baseline x86-64 target, so only a rough
//! indication of the machine's state, not a roofline).
//! `cargo run --release --example ab_speed` (`ISA=avx2`, `ITERS=n`).
use simdpool::{Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape};
use std::time::Instant;

fn main() {
    let iters: usize = std::env::var("ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(400);
    let isa = std::env::var("ISA").ok().and_then(|s| Isa::from_name(&s)).unwrap_or_else(Isa::detected);
    for (name, op, dims) in [
        ("resnet_gap", PoolOp::GlobalAvg, vec![1usize, 2048, 7, 7]),
        ("gap_large", PoolOp::GlobalAvg, vec![1, 256, 56, 56]),
        ("text_gmp_1d", PoolOp::GlobalMax, vec![32, 256, 512]),
    ] {
        let mut runs = Vec::new();
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            let shape = TensorShape::nchw(&dims).unwrap().with_layout(layout);
            let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 7919) % 1000) as f32 * 0.01 - 5.0).collect();
            for (level, threads) in [(Isa::Scalar, 0), (isa, 0), (isa, 1), (isa, 2)] {
                let opts =
                    if threads == 0 { PlanOptions::isa(level).calling_thread() } else { PlanOptions::isa(level) };
                let plan = Plan::<f32>::with_options(&op, &shape, opts).unwrap();
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build().unwrap();
                let y = vec![0.0f32; plan.output_len()];
                runs.push((layout, level, threads, pool, plan, x.clone(), y, Vec::with_capacity(iters)));
            }
        }
        let x = runs[0].5.clone();
        let mut read = Vec::with_capacity(iters);
        // Calls inside a pool are timed inside one `install` per batch of 10 (the install itself,
        // a hand-off to the pool's thread, is not part of a call).
        for _ in 0..iters / 10 {
            for (_, _, threads, pool, plan, x, y, times) in runs.iter_mut() {
                let mut batch = || {
                    for _ in 0..10 {
                        let t = Instant::now();
                        plan.run(x, y).unwrap();
                        times.push(t.elapsed().as_secs_f64() * 1e6);
                    }
                };
                if *threads == 0 { batch() } else { pool.install(batch) }
            }
            for _ in 0..10 {
                let t = Instant::now();
                std::hint::black_box(x.iter().fold(0u32, |a, v| a ^ v.to_bits()));
                read.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        read.sort_by(f64::total_cmp);
        println!("{name:12} read of the input: min {:8.2}µs  median {:8.2}µs", read[0], read[read.len() / 2]);
        for (layout, level, threads, _, _, _, _, times) in runs.iter_mut() {
            times.sort_by(f64::total_cmp);
            let how = if *threads == 0 { "calling thread".to_string() } else { format!("pool of {threads}") };
            println!(
                "{name:12} {layout:?} {level} {how}: min {:8.2}µs  median {:8.2}µs",
                times[0],
                times[times.len() / 2]
            );
        }
    }
}
