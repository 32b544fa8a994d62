//! `cargo bench --manifest-path benches/peers/Cargo.toml`: every suite case in both layouts on
//! simdpool (the detected ISA level, calling thread) and on candle-core, burn-ndarray (SIMD on,
//! no rayon) and tract-core, all single-threaded, in one criterion run. Each library's output is
//! checked against `simdpool::reference` before it is timed; a case a library cannot express, or
//! gets wrong, is reported in the summary table instead of timed. Ids: `CASE/LAYOUT/LIBRARY`.

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use simdpool::{DType, Isa};
use simdpool_bench::estimates::{criterion_dir, median_seconds};
use simdpool_bench::report::fmt_time;
use simdpool_bench::suite::{LAYOUTS, Suite, layout_name};
use simdpool_bench::{Threads, Workload};
use simdpool_peers::{PEERS, prepare};
use std::time::{Duration, SystemTime};

enum Status {
    Timed,
    NotExpressible(String),
    Wrong(String),
}

fn check(w: &Workload, got: Result<Vec<f32>, String>) -> Result<(), String> {
    let got = got?;
    match w.dtype {
        DType::U8 => {
            let as_u8: Vec<u8> = got.iter().map(|&v| v as u8).collect();
            if got.iter().zip(&as_u8).any(|(&f, &u)| f != u as f32) {
                return Err("non-integer output for a u8 input".into());
            }
            w.check_against_reference::<u8>(&as_u8)
        }
        _ => w.check_against_reference::<f32>(&got),
    }
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(500))
        .nresamples(5_000)
        .configure_from_args();
    let suite = Suite::embedded();
    let started = SystemTime::now();
    let isa = Isa::detected();
    let mut table: Vec<(String, &'static str, Vec<(&'static str, Status)>)> = Vec::new();

    for case in &suite.cases {
        let mut group = c.benchmark_group(&case.name);
        group.sampling_mode(SamplingMode::Flat);
        for layout in LAYOUTS {
            let lname = layout_name(layout);
            let mut w = match Workload::new(case, layout) {
                Ok(w) => w,
                Err(reason) => {
                    println!("{}/{lname}: not run: {reason}", case.name);
                    continue;
                }
            };
            group.throughput(Throughput::Bytes((w.input_bytes() + w.output_bytes()) as u64));
            w.run_reference();
            let mut row = Vec::new();
            w.prepare(isa, Threads::One).expect("the detected level builds a plan");
            w.run();
            match w.verify() {
                Ok(()) => {
                    group.bench_function(BenchmarkId::new(lname, "simdpool"), |b| b.iter(|| w.run()));
                    row.push(("simdpool", Status::Timed));
                }
                Err(e) => row.push(("simdpool", Status::Wrong(e))),
            }
            for peer in PEERS {
                let status = match prepare(peer, &w) {
                    Err(reason) => Status::NotExpressible(reason),
                    Ok(mut run) => match check(&w, (run.output)()) {
                        Err(e) => Status::Wrong(e),
                        Ok(()) => {
                            group.bench_function(BenchmarkId::new(lname, peer), |b| b.iter(|| (run.run)()));
                            Status::Timed
                        }
                    },
                };
                match &status {
                    Status::NotExpressible(r) => {
                        println!("{}/{lname}/{peer}: cannot express this case: {r}", case.name)
                    }
                    Status::Wrong(e) => println!("{}/{lname}/{peer}: WRONG, not timed: {e}", case.name),
                    Status::Timed => {}
                }
                row.push((peer, status));
            }
            table.push((case.name.clone(), lname, row));
        }
        group.finish();
    }
    c.final_summary();

    let Some(dir) = criterion_dir() else { return };
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    println!("\nPeers (median per call, one thread; in parentheses: time / simdpool's time; simdpool at {isa})\n");
    let mut head = String::from("| case | layout |");
    let mut rule = String::from("|---|---|");
    for lib in std::iter::once("simdpool").chain(PEERS) {
        head += &format!(" {lib} |");
        rule += "---:|";
    }
    println!("{head}\n{rule}");
    for (case, layout, row) in &table {
        let time = |lib: &str| median_seconds(&dir, &[case, layout, lib], started);
        let Some(base) = time("simdpool") else { continue };
        let mut line = format!("| {case} | {layout} |");
        for (lib, status) in row {
            let cell = match status {
                Status::Timed => match time(lib) {
                    Some(t) if *lib == "simdpool" => fmt_time(t),
                    Some(t) => format!("{} ({:.2}x)", fmt_time(t), t / base),
                    None => "filtered out".into(),
                },
                Status::NotExpressible(r) => format!("n/a: {r}"),
                Status::Wrong(e) => format!("WRONG: {}", e.chars().take(60).collect::<String>()),
            };
            line += &format!(" {cell} |");
        }
        println!("{line}");
    }
}
