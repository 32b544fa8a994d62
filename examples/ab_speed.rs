//! Interleaved A/B timing (min and median of single calls) of the global suite cases per layout,
//! so both layouts see the same machine load. `cargo run --release --example ab_speed`
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
            for level in [Isa::Scalar, isa] {
                let shape = TensorShape::nchw(&dims).unwrap().with_layout(layout);
                let plan = Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(level).calling_thread()).unwrap();
                let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 7919) % 1000) as f32 * 0.01 - 5.0).collect();
                let y = vec![0.0f32; plan.output_len()];
                runs.push((layout, level, plan, x, y, Vec::with_capacity(iters)));
            }
        }
        for _ in 0..iters {
            for (_, _, plan, x, y, times) in runs.iter_mut() {
                let t = Instant::now();
                plan.run(x, y).unwrap();
                times.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        for (layout, level, _, _, _, times) in runs.iter_mut() {
            times.sort_by(f64::total_cmp);
            println!("{name:12} {layout:?} {level}: min {:8.2}µs  median {:8.2}µs", times[0], times[times.len() / 2]);
        }
    }
}
