//! Runs one global suite case many times on one ISA level and the calling thread, for profilers
//! (`perf stat`, `valgrind --tool=callgrind`): `CASE=text_gmp_1d LAYOUT=nchw ISA=avx2 ITERS=2000
//! cargo run --release --example prof_global`. Prints min and median µs per call.
use simdpool::{Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape};
use std::time::Instant;

fn main() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let iters: usize = env("ITERS", "1000").parse().expect("ITERS");
    let isas: Vec<Isa> = env("ISA", "avx2").split(',').map(|n| Isa::from_name(n).expect("ISA")).collect();
    let layout = if env("LAYOUT", "nchw") == "nhwc" { Layout::ChannelsLast } else { Layout::ChannelsFirst };
    let (op, dims) = match env("CASE", "text_gmp_1d").as_str() {
        "resnet_gap" => (PoolOp::GlobalAvg, vec![1usize, 2048, 7, 7]),
        "gap_large" => (PoolOp::GlobalAvg, vec![1, 256, 56, 56]),
        "text_gmp_1d" => (PoolOp::GlobalMax, vec![32, 256, 512]),
        c => panic!("unknown case {c}"),
    };
    // DIMS=2,256,512 overrides the dims (e.g. a cache-resident size to see the compute bound).
    let dims: Vec<usize> =
        std::env::var("DIMS").map(|d| d.split(',').map(|v| v.parse().expect("DIMS")).collect()).unwrap_or(dims);
    let shape = TensorShape::nchw(&dims).unwrap().with_layout(layout);
    // ALIGN=k starts the input k floats past a 64-byte boundary (default: wherever Vec puts it).
    let mut storage: Vec<f32> = vec![0.0; shape.len() + 16];
    let skip = match std::env::var("ALIGN") {
        Ok(a) => (16 - (storage.as_ptr() as usize % 64) / 4 + a.parse::<usize>().expect("ALIGN")) % 16,
        Err(_) => 0,
    };
    let x = &mut storage[skip..skip + shape.len()];
    for (i, v) in x.iter_mut().enumerate() {
        *v = ((i * 7919) % 1000) as f32 * 0.01 - 5.0;
    }
    let x = &*x;
    // Several levels (ISA=avx2,avx512) alternate call by call, so they see the same machine load.
    let plans: Vec<Plan<f32>> = isas
        .iter()
        .map(|&isa| Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(isa).calling_thread()).unwrap())
        .collect();
    let mut y = vec![0.0f32; plans[0].output_len()];
    let mut times = vec![Vec::with_capacity(iters); plans.len()];
    let mut read = Vec::with_capacity(iters);
    for _ in 0..iters {
        for (plan, t_plan) in plans.iter().zip(times.iter_mut()) {
            let t = Instant::now();
            plan.run(x, &mut y).unwrap();
            t_plan.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let t = Instant::now();
        std::hint::black_box(simdpool_bench::roofline::read_sum(x));
        read.push(t.elapsed().as_secs_f64() * 1e6);
    }
    read.sort_by(f64::total_cmp);
    let mut line = String::new();
    for (isa, t) in isas.iter().zip(times.iter_mut()) {
        t.sort_by(f64::total_cmp);
        line += &format!("{isa}: min {:.2}µs median {:.2}µs | ", t[0], t[t.len() / 2]);
    }
    println!(
        "{line}widest read_sum: min {:.2}µs median {:.2}µs | input at {:#x}, output at {:#x} ({})",
        read[0],
        read[read.len() / 2],
        x.as_ptr() as usize % 64,
        y.as_ptr() as usize % 64,
        y[0]
    );
}
