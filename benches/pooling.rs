//! `cargo bench --bench pooling`: every case of benches/suite.json, in both layouts, at every ISA
//! level this machine has (plans forced with `PlanOptions::isa(..).calling_thread()`), and the
//! scalar reference; then the memory roofline (read and write bandwidth at each case's footprint)
//! and a summary table of roofline time and the fraction of it each measurement achieved.
//!
//! The backward pass of every f32 case (the gradient of the input; max ops from the forward
//! indices) runs the same way in group `backward/CASE`.
//!
//! Benchmark ids are `CASE/LAYOUT/LEVEL` (`resnet_stem_max/nhwc/avx512`,
//! `resnet_stem_max/nchw/reference`), `backward/CASE/LAYOUT/LEVEL` and `roofline/read/CASE`,
//! `roofline/write/CASE`, `roofline/read/backward/CASE`, `roofline/write/backward/CASE` (the
//! backward pass reads and writes other bytes), so `cargo bench --bench pooling -- resnet_stem`
//! runs one case in both passes with its rooflines, and `-- backward/` every backward pass. Settings are short
//! (10 flat samples, 0.1 s warm-up, 0.5 s measurement, 5000 resamples) so the whole suite takes minutes (the reference
//! is not criterion-benched on inputs above 2^24 elements, see `REFERENCE_MAX_ELEMENTS`); the HTML report
//! is in `target/criterion/report/index.html`. With `--test` every bench runs once and each ISA
//! level's output is checked against the reference.

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use simdpool::{DType, Isa};
use simdpool_bench::estimates::{criterion_dir, median_seconds as estimate};
use simdpool_bench::report::fmt_time;
use simdpool_bench::roofline::{Bandwidth, fill, measure_bandwidth, read_sum};
use simdpool_bench::suite::{Case, LAYOUTS, Suite, layout_name};
use simdpool_bench::timing::Budget;
use simdpool_bench::{Pass, Threads, Workload};
use std::hint::black_box;
use std::time::{Duration, SystemTime};

struct Row {
    case: String,
    pass: Pass,
    layout: &'static str,
    bytes_in: usize,
    bytes_out: usize,
}

/// The criterion group of a case in a pass: `CASE`, or `backward/CASE`.
fn group_name(case: &str, pass: Pass) -> String {
    match pass {
        Pass::Forward => case.to_string(),
        Pass::Backward => format!("backward/{case}"),
    }
}

/// The directory criterion writes a group, function or parameter name to (`/` becomes `_`).
fn dir_name(id: &str) -> String {
    id.replace('/', "_")
}

/// What every case's group needs.
struct Settings {
    isas: Vec<Isa>,
    test_mode: bool,
    full_reference: bool,
}

/// The group of `case` in `pass`: every ISA level and the reference, in both layouts; with
/// `--test`, each level checked against the reference.
fn bench_case(c: &mut Criterion, case: &Case, pass: Pass, settings: &Settings, rows: &mut Vec<Row>) {
    let group_id = group_name(&case.name, pass);
    let mut group = c.benchmark_group(&group_id);
    for layout in LAYOUTS {
        let lname = layout_name(layout);
        let mut w = match Workload::with_pass(case, layout, pass) {
            Ok(w) => w,
            Err(reason) => {
                println!("{group_id}/{lname}: not run: {reason}");
                continue;
            }
        };
        rows.push(Row {
            case: case.name.clone(),
            pass,
            layout: lname,
            bytes_in: w.input_bytes(),
            bytes_out: w.output_bytes(),
        });
        group.throughput(Throughput::Bytes((w.input_bytes() + w.output_bytes()) as u64));
        group.sampling_mode(SamplingMode::Flat);
        for &isa in &settings.isas {
            w.prepare(isa, Threads::One).expect("every available level builds a plan");
            group.bench_function(BenchmarkId::new(lname, isa.name()), |b| b.iter(|| w.run()));
        }
        // The reference is slow on big cases: the biggest leave it to `simdpool bench`, which
        // times it once.
        if w.shape.len() <= REFERENCE_MAX_ELEMENTS || settings.full_reference {
            group.bench_function(BenchmarkId::new(lname, "reference"), |b| b.iter(|| w.run_reference()));
        } else {
            println!(
                "{group_id}/{lname}/reference: not benchmarked here ({} input elements: 11 calls of the scalar \
                 reference take minutes); `simdpool bench --case {}{}` times it once, and \
                 SIMDPOOL_BENCH_FULL_REFERENCE=1 includes it",
                w.shape.len(),
                case.name,
                if pass == Pass::Backward { " --pass backward" } else { "" }
            );
        }
        if settings.test_mode && w.has_reference() {
            for &isa in &settings.isas {
                w.prepare(isa, Threads::One).expect("every available level builds a plan");
                w.run();
                if let Err(e) = w.verify() {
                    panic!("{isa}: {e}");
                }
            }
            println!("{group_id}/{lname}: every ISA level matches the scalar reference");
        }
    }
    group.finish();
}

/// Cases with more input elements skip the criterion bench of the scalar reference (unless
/// `SIMDPOOL_BENCH_FULL_REFERENCE=1`): only `batch_stem_max` in the suite.
const REFERENCE_MAX_ELEMENTS: usize = 1 << 24;

/// `roofline/read/ID` and `roofline/write/ID` over a buffer of `footprint` bytes.
fn bench_roofline(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    footprint: usize,
) {
    let mut buf = vec![1.0f32; (footprint / 4).max(1024)];
    group.throughput(Throughput::Bytes((buf.len() * 4) as u64));
    group.bench_function(BenchmarkId::new("read", id), |b| b.iter(|| black_box(read_sum(&buf))));
    let mut v = 0.0f32;
    group.bench_function(BenchmarkId::new("write", id), |b| {
        b.iter(|| {
            v += 1.0;
            fill(&mut buf, v);
            black_box(&mut buf);
        })
    });
}

fn main() {
    let full_reference = std::env::var_os("SIMDPOOL_BENCH_FULL_REFERENCE").is_some_and(|v| v == "1");
    let test_mode = std::env::args().any(|a| a == "--test");
    // Short settings: flat sampling (10 samples of equal iteration counts, so a slow case needs
    // 10 calls rather than linear sampling's 55), 5000 bootstrap resamples instead of 100000.
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(500))
        .nresamples(5_000)
        .configure_from_args();
    let suite = Suite::embedded();
    let started = SystemTime::now();
    let isas = Isa::available();
    let mut rows = Vec::new();

    let settings = Settings { isas: isas.clone(), test_mode, full_reference };
    for case in &suite.cases {
        bench_case(&mut c, case, Pass::Forward, &settings, &mut rows);
    }
    // The backward pass of the f32 cases (u8 and i8 have no gradient).
    for case in suite.cases.iter().filter(|c| c.dtype().is_ok_and(|d| d == DType::F32)) {
        bench_case(&mut c, case, Pass::Backward, &settings, &mut rows);
    }

    // The roofline: read and write bandwidth over a buffer of each case's footprint in each pass
    // (bytes read + written; the same in both layouts), with the widest vectors the CPU has.
    let mut group = c.benchmark_group("roofline");
    group.sampling_mode(SamplingMode::Flat);
    for pass in Pass::ALL {
        for case in &suite.cases {
            let Some(row) = rows.iter().find(|r| r.case == case.name && r.pass == pass) else { continue };
            bench_roofline(&mut group, &group_name(&case.name, pass), row.bytes_in + row.bytes_out);
        }
    }
    group.finish();
    c.final_summary();

    if test_mode {
        return;
    }
    let Some(dir) = criterion_dir() else {
        println!("roofline summary: cannot locate criterion's output directory");
        return;
    };
    println!(
        "\nRoofline summary (medians from this run; roofline = bytes read / read bandwidth + bytes written / write \
         bandwidth; backward reads the gradient output and the indices or forward tensors, writes the gradient input)"
    );
    println!(
        "{:<20} {:<8} {:<6} {:<10} {:>10} {:>8} {:>10} {:>8}",
        "case", "pass", "layout", "level", "median", "GB/s", "roofline", "of roof"
    );
    let mut printed = 0;
    for row in &rows {
        let footprint = row.bytes_in + row.bytes_out;
        let buf_bytes = ((footprint / 4).max(1024) * 4) as f64;
        let levels: Vec<&str> = isas.iter().map(|i| i.name()).chain(["reference"]).collect();
        let group = dir_name(&group_name(&row.case, row.pass));
        let times: Vec<(&str, f64)> =
            levels.iter().filter_map(|l| estimate(&dir, &[&group, row.layout, l], started).map(|t| (*l, t))).collect();
        if times.is_empty() {
            continue;
        }
        // Bandwidth from this run's roofline benches, or measured now if they were filtered out.
        let bw = match (
            estimate(&dir, &["roofline", "read", &group], started),
            estimate(&dir, &["roofline", "write", &group], started),
        ) {
            (Some(r), Some(w)) => (buf_bytes / r, buf_bytes / w),
            _ => {
                let b: Bandwidth = measure_bandwidth(footprint, 1, &Budget::BANDWIDTH);
                (b.read, b.write)
            }
        };
        let roof = row.bytes_in as f64 / bw.0 + row.bytes_out as f64 / bw.1;
        for (level, t) in times {
            printed += 1;
            println!(
                "{:<20} {:<8} {:<6} {:<10} {:>10} {:>8.2} {:>10} {:>7.1}%",
                row.case,
                row.pass.name(),
                row.layout,
                level,
                fmt_time(t),
                footprint as f64 / t / 1e9,
                fmt_time(roof),
                100.0 * roof / t
            );
        }
    }
    if printed == 0 {
        println!("(no estimates written by this run: everything was filtered out)");
    }
}
