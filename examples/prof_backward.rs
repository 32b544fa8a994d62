//! Runs the backward pass of one suite case many times on one ISA level and the calling thread,
//! for profilers (`perf record`, `valgrind --tool=callgrind`): `CASE=inception_avg_3x3
//! LAYOUT=nchw ISA=avx2 ITERS=500 cargo run --release --example prof_backward`. Prints min and
//! median µs per call.
use simdpool::{Isa, Layout};
use simdpool_bench::suite::Suite;
use simdpool_bench::workload::{Pass, Threads, Workload};
use std::time::Instant;

fn main() {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_string());
    let iters: usize = env("ITERS", "500").parse().expect("ITERS");
    let isa = Isa::from_name(&env("ISA", "avx2")).expect("ISA");
    let layout = if env("LAYOUT", "nchw") == "nhwc" { Layout::ChannelsLast } else { Layout::ChannelsFirst };
    let suite = Suite::embedded();
    let case = suite.case(&env("CASE", "inception_avg_3x3")).expect("CASE names a suite case");
    let mut w = Workload::with_pass(case, layout, Pass::Backward).expect("workload");
    w.prepare(isa, Threads::One).expect("plan");
    let mut times = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        w.run();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    println!("{}: min {:.1} µs, median {:.1} µs", w.label(), times[0], times[iters / 2]);
}
