//! `cargo bench --bench instructions`: instruction counts (iai-callgrind 0.16.1, under valgrind's
//! callgrind) for every case of benches/suite.json, in both layouts, on the dispatched path and on
//! the scalar reference. Counts are deterministic, so they guard against regressions on a noisy
//! machine where wall-clock times cannot.
//!
//! * Inputs are scaled down (batch 1, at most 32 channels, spatial dims at most 512 / 24 / 8 for
//!   rank 1 / 2 / 3, never below the window) so the whole run takes well under 2 minutes
//!   (`SIMDPOOL_IAI_SMOKE=1`: smaller still, for the CI smoke run).
//! * Valgrind cannot run AVX-512 code, so the dispatched plan is capped at AVX2 (an AVX-512
//!   machine measures its AVX2 path; NEON and portable machines measure what they dispatch to).
//! * Setup (building the input, the plan) is not counted: only `Plan::run` or
//!   `simdpool::reference::pool` is.
//! * Benchmark ids are `CASE_nchw` / `CASE_nhwc`; every suite case must appear below (a test in
//!   `bench/tests/suite.rs` checks it).
//! * Group `backward` counts the backward pass (the gradient of the input, max ops from the
//!   forward indices) of every f32 case, plan and reference, under the same ids; its setup also
//!   builds the gradient of the output and the forward indices or output, which are not counted.
//!
//! Needs the runner: `cargo install iai-callgrind-runner --version 0.16.1 --locked`.

use iai_callgrind::{LibraryBenchmarkConfig, library_benchmark, library_benchmark_group, main};
use simdpool::Isa;
use simdpool_bench::{Pass, Suite, Threads, Workload, parse_layout};
use std::hint::black_box;

/// Set (to anything) by the CI smoke run (scripts/ci/bench-smoke.sh): inputs of 2 channels and the
/// smallest extents the windows take. Counts measured so are not comparable with the normal ones.
const SMOKE_ENV: &str = "SIMDPOOL_IAI_SMOKE";

/// The level measured: the dispatched one, capped at AVX2 because valgrind has no AVX-512.
fn measured_isa() -> Isa {
    match Isa::detected() {
        Isa::Avx512 => Isa::Avx2,
        isa => isa,
    }
}

/// Builds the scaled-down forward workload of `"case/layout"`.
fn workload(id: &str) -> Workload {
    workload_in(id, Pass::Forward)
}

/// Builds the scaled-down workload of `"case/layout"` in `pass`.
fn workload_in(id: &str, pass: Pass) -> Workload {
    let (name, layout) = id.split_once('/').expect("ids are case/layout");
    let suite = Suite::embedded();
    let case = suite.case(name).unwrap_or_else(|| panic!("case {name} is not in benches/suite.json"));
    // The CI smoke run checks that every benchmark runs, not its counts: there the inputs are
    // the smallest the windows take, so the run costs little more than valgrind's start-ups.
    let smoke = std::env::var_os(SMOKE_ENV).is_some();
    let extent = match (case.rank(), smoke) {
        (_, true) => 1,
        (1, _) => 512,
        (2, _) => 24,
        _ => 8,
    };
    let small = case.scaled(if smoke { 2 } else { 32 }, extent);
    Workload::with_pass(&small, parse_layout(layout).expect("nchw or nhwc"), pass).expect("suite cases are valid")
}

fn prepare_dispatched(id: &str) -> Workload {
    let mut w = workload(id);
    w.prepare(measured_isa(), Threads::One).expect("the measured level is available");
    w
}

fn prepare_reference(id: &str) -> Workload {
    workload(id)
}

fn prepare_backward(id: &str) -> Workload {
    let mut w = workload_in(id, Pass::Backward);
    w.prepare(measured_isa(), Threads::One).expect("the measured level is available");
    w
}

fn prepare_backward_reference(id: &str) -> Workload {
    workload_in(id, Pass::Backward)
}

macro_rules! suite_benches {
    ($($id:ident = $arg:tt),* $(,)?) => {
        // The plan at the measured level, on the calling thread.
        #[library_benchmark]
        $(#[bench::$id(args = ($arg), setup = prepare_dispatched)])*
        fn dispatched(mut w: Workload) -> Workload {
            w.run();
            black_box(w)
        }

        // The scalar reference (`simdpool::reference::pool`).
        #[library_benchmark]
        $(#[bench::$id(args = ($arg), setup = prepare_reference)])*
        fn reference(mut w: Workload) -> Workload {
            w.run_reference();
            black_box(w)
        }
    };
}

suite_benches!(
    resnet_stem_max_nchw = "resnet_stem_max/nchw",
    resnet_stem_max_nhwc = "resnet_stem_max/nhwc",
    vgg_max_2x2_nchw = "vgg_max_2x2/nchw",
    vgg_max_2x2_nhwc = "vgg_max_2x2/nhwc",
    vgg_max_deep_nchw = "vgg_max_deep/nchw",
    vgg_max_deep_nhwc = "vgg_max_deep/nhwc",
    inception_avg_3x3_nchw = "inception_avg_3x3/nchw",
    inception_avg_3x3_nhwc = "inception_avg_3x3/nhwc",
    densenet_avg_2x2_nchw = "densenet_avg_2x2/nchw",
    densenet_avg_2x2_nhwc = "densenet_avg_2x2/nhwc",
    sppf_max_5x5_nchw = "sppf_max_5x5/nchw",
    sppf_max_5x5_nhwc = "sppf_max_5x5/nhwc",
    resnet_gap_nchw = "resnet_gap/nchw",
    resnet_gap_nhwc = "resnet_gap/nhwc",
    gap_large_nchw = "gap_large/nchw",
    gap_large_nhwc = "gap_large/nhwc",
    batch_stem_max_nchw = "batch_stem_max/nchw",
    batch_stem_max_nhwc = "batch_stem_max/nhwc",
    text_gmp_1d_nchw = "text_gmp_1d/nchw",
    text_gmp_1d_nhwc = "text_gmp_1d/nhwc",
    audio_max_1d_nchw = "audio_max_1d/nchw",
    audio_max_1d_nhwc = "audio_max_1d/nhwc",
    c3d_max_3d_nchw = "c3d_max_3d/nchw",
    c3d_max_3d_nhwc = "c3d_max_3d/nhwc",
    adaptive_avg_odd_nchw = "adaptive_avg_odd/nchw",
    adaptive_avg_odd_nhwc = "adaptive_avg_odd/nhwc",
    resnet_stem_max_u8_nchw = "resnet_stem_max_u8/nchw",
    resnet_stem_max_u8_nhwc = "resnet_stem_max_u8/nhwc",
    resnet_stem_max_f64_nchw = "resnet_stem_max_f64/nchw",
    resnet_stem_max_f64_nhwc = "resnet_stem_max_f64/nhwc",
    vgg_max_deep_i8_nchw = "vgg_max_deep_i8/nchw",
    vgg_max_deep_i8_nhwc = "vgg_max_deep_i8/nhwc",
    resnet_stem_max_bf16_nchw = "resnet_stem_max_bf16/nchw",
    resnet_stem_max_bf16_nhwc = "resnet_stem_max_bf16/nhwc",
    vgg_max_2x2_f16_nchw = "vgg_max_2x2_f16/nchw",
    vgg_max_2x2_f16_nhwc = "vgg_max_2x2_f16/nhwc",
);

macro_rules! backward_benches {
    ($($id:ident = $arg:tt),* $(,)?) => {
        // The plan's backward pass at the measured level, on the calling thread.
        #[library_benchmark]
        $(#[bench::$id(args = ($arg), setup = prepare_backward)])*
        fn backward_dispatched(mut w: Workload) -> Workload {
            w.run();
            black_box(w)
        }

        // The scalar reference of the backward pass (`max_pool_backward_with_indices` for max
        // ops, `pool_backward` for the others).
        #[library_benchmark]
        $(#[bench::$id(args = ($arg), setup = prepare_backward_reference)])*
        fn backward_reference(mut w: Workload) -> Workload {
            w.run_reference();
            black_box(w)
        }
    };
}

// Every f32 case of the suite (u8 and i8 have no gradient).
backward_benches!(
    resnet_stem_max_nchw = "resnet_stem_max/nchw",
    resnet_stem_max_nhwc = "resnet_stem_max/nhwc",
    vgg_max_2x2_nchw = "vgg_max_2x2/nchw",
    vgg_max_2x2_nhwc = "vgg_max_2x2/nhwc",
    vgg_max_deep_nchw = "vgg_max_deep/nchw",
    vgg_max_deep_nhwc = "vgg_max_deep/nhwc",
    inception_avg_3x3_nchw = "inception_avg_3x3/nchw",
    inception_avg_3x3_nhwc = "inception_avg_3x3/nhwc",
    densenet_avg_2x2_nchw = "densenet_avg_2x2/nchw",
    densenet_avg_2x2_nhwc = "densenet_avg_2x2/nhwc",
    sppf_max_5x5_nchw = "sppf_max_5x5/nchw",
    sppf_max_5x5_nhwc = "sppf_max_5x5/nhwc",
    resnet_gap_nchw = "resnet_gap/nchw",
    resnet_gap_nhwc = "resnet_gap/nhwc",
    gap_large_nchw = "gap_large/nchw",
    gap_large_nhwc = "gap_large/nhwc",
    batch_stem_max_nchw = "batch_stem_max/nchw",
    batch_stem_max_nhwc = "batch_stem_max/nhwc",
    text_gmp_1d_nchw = "text_gmp_1d/nchw",
    text_gmp_1d_nhwc = "text_gmp_1d/nhwc",
    audio_max_1d_nchw = "audio_max_1d/nchw",
    audio_max_1d_nhwc = "audio_max_1d/nhwc",
    c3d_max_3d_nchw = "c3d_max_3d/nchw",
    c3d_max_3d_nhwc = "c3d_max_3d/nhwc",
    adaptive_avg_odd_nchw = "adaptive_avg_odd/nchw",
    adaptive_avg_odd_nhwc = "adaptive_avg_odd/nhwc",
);

library_benchmark_group!(
    name = suite;
    benchmarks = dispatched, reference
);

library_benchmark_group!(
    name = backward;
    benchmarks = backward_dispatched, backward_reference
);

main!(
    config = LibraryBenchmarkConfig::default().pass_through_env(SMOKE_ENV);
    library_benchmark_groups = suite, backward
);
