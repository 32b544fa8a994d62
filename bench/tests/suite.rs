//! The suite file: in sync with the shared copy, valid in both layouts, and fully covered by the
//! instruction-count bench.

use simdpool::{Isa, Layout, Plan, PlanOptions, bf16, f16};
use simdpool_bench::suite::{LAYOUTS, SUITE_JSON, Suite, layout_name};
use simdpool_bench::{Threads, Workload};
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("bench/ is inside the repository")
}

#[test]
fn suite_file_is_the_embedded_copy_and_parses() {
    let on_disk = std::fs::read(repo().join("benches/suite.json")).expect("benches/suite.json exists");
    assert_eq!(on_disk, SUITE_JSON.as_bytes(), "the embedded suite is stale: rebuild");
    let suite = Suite::from_json(SUITE_JSON).expect("benches/suite.json parses and validates");
    assert!(suite.cases.len() >= 14, "the suite lost cases: {}", suite.cases.len());
}

#[test]
fn every_case_equals_the_shared_case_of_that_name() {
    // The shared copy (../shared/suite.json) lives next to the repository on the machines that
    // maintain the suite and also lists cases for element types and ops this crate does not run
    // yet; each case the project runs must equal the shared case of that name, field by field.
    // Elsewhere only this comparison is skipped.
    let shared = repo().join("../shared/suite.json");
    let text = match std::fs::read_to_string(&shared) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("skipping the comparison with {}: {e}", shared.display());
            return;
        }
    };
    let cases = |json: &str| -> Vec<serde_json::Value> {
        let doc: serde_json::Value = serde_json::from_str(json).expect("a suite file is JSON");
        doc["cases"].as_array().expect("a suite file has a cases array").clone()
    };
    let shared_cases = cases(&text);
    let ours = cases(SUITE_JSON);
    assert!(!ours.is_empty());
    for case in &ours {
        let name = case["name"].as_str().expect("every case has a name");
        let twin = shared_cases
            .iter()
            .find(|c| c["name"] == case["name"])
            .unwrap_or_else(|| panic!("case {name} is not in {}", shared.display()));
        assert_eq!(case, twin, "case {name} differs from the shared case of that name");
    }
}

fn check_plan(case: &simdpool_bench::Case, layout: Layout) {
    let op = case.pool_op().unwrap();
    let shape = case.shape(layout).unwrap();
    let opts = PlanOptions::isa(Isa::detected()).calling_thread();
    let out = match case.dtype().unwrap() {
        simdpool::DType::F32 => Plan::<f32>::with_options(&op, &shape, opts).map(|p| p.output_len()),
        simdpool::DType::F64 => Plan::<f64>::with_options(&op, &shape, opts).map(|p| p.output_len()),
        simdpool::DType::F16 => Plan::<f16>::with_options(&op, &shape, opts).map(|p| p.output_len()),
        simdpool::DType::BF16 => Plan::<bf16>::with_options(&op, &shape, opts).map(|p| p.output_len()),
        simdpool::DType::U8 => Plan::<u8>::with_options(&op, &shape, opts).map(|p| p.output_len()),
        simdpool::DType::I8 => Plan::<i8>::with_options(&op, &shape, opts).map(|p| p.output_len()),
    };
    let out = out.unwrap_or_else(|e| panic!("{} {}: no plan: {e}", case.name, layout_name(layout)));
    assert_eq!(out, op.output_shape(&shape).unwrap().len());
    assert!(out > 0);
}

#[test]
fn every_case_builds_a_plan_in_both_layouts() {
    let suite = Suite::embedded();
    for case in &suite.cases {
        for layout in LAYOUTS {
            case.applies_to(layout).unwrap_or_else(|e| panic!("{e}"));
            check_plan(case, layout);
        }
        // The logical dims are the same in both layouts.
        let first = case.shape(Layout::ChannelsFirst).unwrap();
        let last = case.shape(Layout::ChannelsLast).unwrap();
        assert_eq!(first.len(), last.len());
        assert_eq!(first.spatial(), last.spatial());
        assert_eq!(first.channels(), case.dims[1]);
    }
    assert_eq!(suite.case("resnet_stem_max_u8").unwrap().dtype().unwrap(), simdpool::DType::U8);
}

#[test]
fn scaled_cases_match_the_reference_at_every_level() {
    // The instruction-count bench runs these scaled-down cases; check them here natively.
    let suite = Suite::embedded();
    for case in &suite.cases {
        let small = case.scaled(16, if case.rank() == 1 { 256 } else { 12 });
        for layout in LAYOUTS {
            let mut w = Workload::new(&small, layout).unwrap();
            w.run_reference();
            for isa in Isa::available() {
                w.prepare(isa, Threads::One).unwrap();
                w.run();
                w.verify().unwrap_or_else(|e| panic!("{isa}: {e}"));
            }
        }
    }
}

#[test]
fn instruction_bench_covers_every_case_and_layout() {
    let src = std::fs::read_to_string(repo().join("benches/instructions.rs")).unwrap();
    for case in &Suite::embedded().cases {
        for layout in LAYOUTS {
            let id = format!("\"{}/{}\"", case.name, layout_name(layout));
            assert!(src.contains(&id), "benches/instructions.rs does not bench {id}");
        }
    }
}

#[test]
fn bad_suites_are_rejected_with_the_case_name() {
    let e = Suite::from_json(r#"{"cases": [{"name": "x", "op": "max", "dims": [1, 2, 4, 4]}]}"#).unwrap_err();
    assert!(e.contains("case x") && e.contains("k is required"), "{e}");
    let e = Suite::from_json(r#"{"cases": [{"name": "x", "op": "maxx", "dims": [1, 2, 4]}]}"#).unwrap_err();
    assert!(e.contains("unknown op"), "{e}");
    let dup = r#"{"cases": [{"name": "g", "op": "gmax", "dims": [1, 2, 4]}, {"name": "g", "op": "gavg", "dims": [1, 2, 4]}]}"#;
    assert!(Suite::from_json(dup).unwrap_err().contains("twice"));
    let e = Suite::from_json(r#"{"cases": [{"name": "x", "op": "max", "dims": [1, 2, 4], "k": [8]}]}"#).unwrap_err();
    assert!(e.contains("case x"), "{e}");
    let one = r#"{"cases": [{"name": "g", "op": "gmax", "dims": [1, 2, 4], "layouts": ["nchw"]}]}"#;
    let s = Suite::from_json(one).unwrap();
    assert!(s.cases[0].applies_to(Layout::ChannelsFirst).is_ok());
    let why = s.cases[0].applies_to(Layout::ChannelsLast).unwrap_err();
    assert!(why.contains("nhwc does not apply to g"), "{why}");
    assert!(Workload::new(&s.cases[0], Layout::ChannelsLast).is_err());
}

#[test]
fn a_run_reports_every_layout_level_and_thread_count_as_json() {
    use simdpool_bench::runner::{IsaChoice, Options, run};
    let suite = Suite::embedded();
    let opts = Options {
        cases: vec!["resnet_gap".into(), "adaptive_avg_odd".into()],
        isa: IsaChoice::All,
        threads: vec![1, 2],
        layouts: LAYOUTS.to_vec(),
        passes: vec![simdpool_bench::Pass::Forward],
        time_scale: 0.01,
        repeat: 2,
    };
    let mut steps = Vec::new();
    let report = run(&suite, &opts, &mut |i, n, what: &str| steps.push(format!("[{i}/{n}] {what}"))).unwrap();
    let levels = Isa::available().len();
    assert_eq!(report.records.len(), 2 * 2 * levels * 2);
    assert_eq!(steps.len(), 2 * 2 * (1 + levels * 2 * 2));
    assert_eq!(steps[0], format!("[1/{}] resnet_gap nchw reference", steps.len()));
    assert!(report.records.iter().all(|r| r.verified), "{:?}", report.records.iter().find(|r| !r.verified));
    let json: serde_json::Value = serde_json::from_str(&simdpool_bench::report::json(&report)).unwrap();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), report.records.len());
    for r in arr {
        for key in
            ["case", "layout", "isa", "threads", "median_us", "min_us", "repeats", "gbps", "roofline_us", "scalar_us"]
        {
            assert!(r.get(key).is_some(), "missing {key} in {r}");
        }
        assert!(["nchw", "nhwc"].contains(&r["layout"].as_str().unwrap()));
        assert!(r["median_us"].as_f64().unwrap() > 0.0 && r["roofline_us"].as_f64().unwrap() > 0.0);
    }
    let text = simdpool_bench::report::tables(&report);
    assert!(text.contains("resnet_gap: global avg") && text.contains("Summary") == (levels > 1), "{text}");
    assert!(text.contains("Thread scaling") && text.contains("resnet_gap           nchw"), "{text}");
    assert!(report.records.iter().all(|r| r.repeats == 2 && r.min_us <= r.median_us));
    // Unknown names and unavailable levels are errors, not panics.
    let bad = Options { cases: vec!["nope".into()], ..Options::default() };
    assert!(run(&suite, &bad, &mut |_, _, _: &str| {}).unwrap_err().contains("unknown case"));
    assert!(IsaChoice::parse("avx9").is_err());
}

#[test]
fn cases_too_large_to_allocate_and_thread_counts_past_the_cap_are_errors() {
    use simdpool_bench::runner::{MAX_THREADS, Options, run};
    use simdpool_bench::workload::memory_needed;
    let suite = Suite::from_json(
        r#"{"cases": [
            {"name": "huge_global", "op": "gmax", "dims": [1, 1, 1024, 1024, 1048576]},
            {"name": "huge_adaptive", "op": "adaptive_avg", "dims": [1, 1, 4, 4], "out": [100000, 100000]},
            {"name": "tiny", "op": "max", "dims": [1, 1, 4, 4], "k": [2, 2]}
        ]}"#,
    )
    .unwrap();
    // 2^40 elements: 4 TiB of input. Refused (by the machine's memory, or by the allocator),
    // never an abort while filling it.
    let e = Workload::new(&suite.cases[0], Layout::ChannelsFirst).err().expect("a 4 TiB input was allocated");
    assert!(e.contains("huge_global"), "{e}");
    // 10^10 outputs: 37 GiB. Refused by Workload::new where the machine has less memory than a
    // run needs, else by the fallible allocation of the output in prepare().
    let adaptive = &suite.cases[1];
    if memory_needed(adaptive, Layout::ChannelsFirst).is_err() {
        let e = Workload::new(adaptive, Layout::ChannelsFirst).err().expect("refused up front");
        assert!(e.contains("huge_adaptive") && e.contains("more than this machine's"), "{e}");
    }
    let mut progress = |_: usize, _: usize, _: &str| {};
    let opts = Options { cases: vec!["huge_global".into()], time_scale: 0.01, ..Options::default() };
    assert!(run(&suite, &opts, &mut progress).unwrap_err().contains("huge_global"));
    // The thread cap is checked before any pool is built.
    let opts = Options { cases: vec!["tiny".into()], threads: vec![2, MAX_THREADS + 1], ..Options::default() };
    let e = run(&suite, &opts, &mut progress).unwrap_err();
    assert!(e.contains(&format!("at most {MAX_THREADS}")), "{e}");
}

#[test]
fn passes_parse_and_serialise_by_name() {
    use simdpool_bench::Pass;
    for pass in Pass::ALL {
        assert_eq!(Pass::parse(pass.name()), Ok(pass));
        assert_eq!(serde_json::to_string(&pass).unwrap(), format!("\"{}\"", pass.name()));
    }
    assert_eq!(Pass::parse("BWD"), Ok(Pass::Backward));
    assert!(Pass::parse("sideways").unwrap_err().contains("forward or backward"));
}

/// Every element type of the suite that has a gradient, scaled down as in the
/// instruction-count bench, plus an Lp case (the suite has none): the backward pass at every
/// level matches the reference backward pass, and reads and writes the documented bytes.
#[test]
fn scaled_backward_passes_match_the_reference_at_every_level() {
    use simdpool_bench::Pass;
    use simdpool_bench::workload::GradMethod;
    let extra = Suite::from_json(
        r#"{"cases": [
            {"name": "lp_3x3", "op": "lp", "dims": [2, 5, 13, 11], "k": [3, 3], "s": [2, 2], "norm": 3},
            {"name": "avg_pad_ceil", "op": "avg", "dims": [1, 7, 10, 9], "k": [3, 3], "s": [2, 2], "p": [1, 1], "ceil_mode": true}
        ]}"#,
    )
    .unwrap();
    let suite = Suite::embedded();
    for case in suite.cases.iter().chain(&extra.cases) {
        let small = case.scaled(16, if case.rank() == 1 { 256 } else { 12 });
        let dtype = small.dtype().unwrap();
        for layout in LAYOUTS {
            if matches!(dtype, simdpool::DType::U8 | simdpool::DType::I8) {
                let e = Workload::with_pass(&small, layout, Pass::Backward).err().expect("integers have no gradient");
                assert!(e.contains("has no gradient") && e.contains(&case.name), "{e}");
                continue;
            }
            let mut w = Workload::with_pass(&small, layout, Pass::Backward).unwrap();
            let (inputs, outputs, size) = (w.shape.len(), w.output_shape.len(), dtype.size());
            let method = GradMethod::of(&w.op);
            let read = match method {
                GradMethod::Indices => outputs * size + 8 * outputs,
                GradMethod::Average => outputs * size,
                GradMethod::FromInput => outputs * size + inputs * size + outputs * size,
            };
            assert_eq!((w.input_bytes(), w.output_bytes()), (read, inputs * size), "{}", w.label());
            assert_eq!(w.grad_method(), Some(method));
            assert_eq!(w.label(), format!("{}/{}/backward", small.name, layout_name(layout)));
            w.run_reference();
            for isa in Isa::available() {
                w.prepare(isa, Threads::One).unwrap();
                w.run();
                w.verify().unwrap_or_else(|e| panic!("{isa}: {e}"));
            }
            // The gradient of the output differs from the input's data.
            if dtype == simdpool::DType::F32 {
                let (x, g) = (w.input::<f32>().unwrap(), w.grad_output::<f32>().unwrap());
                assert_eq!(g.len(), outputs);
                assert_ne!(&x[..outputs.min(8)], &g[..outputs.min(8)]);
            }
        }
        if case.name == "lp_3x3" {
            let w = Workload::with_pass(&small, Layout::ChannelsFirst, Pass::Backward).unwrap();
            assert_eq!(w.grad_method(), Some(GradMethod::FromInput));
        }
    }
    // The forward pass is unchanged by the backward machinery.
    let w = Workload::new(&suite.cases[0], Layout::ChannelsFirst).unwrap();
    assert_eq!(w.pass, Pass::Forward);
    assert_eq!(w.grad_method(), None);
    assert!(w.grad_output::<f32>().is_none());
}

#[test]
fn a_run_of_both_passes_reports_backward_rows_and_lists_integers_as_not_run() {
    use simdpool_bench::Pass;
    use simdpool_bench::runner::{IsaChoice, Options, run};
    let suite = Suite::from_json(
        r#"{"cases": [
            {"name": "small_avg", "op": "avg", "dims": [1, 8, 12, 12], "k": [3, 3], "s": [2, 2], "p": [1, 1]},
            {"name": "small_max", "op": "max", "dims": [1, 8, 12, 12], "k": [3, 3], "s": [2, 2], "p": [1, 1]},
            {"name": "small_u8", "op": "max", "dims": [1, 8, 12, 12], "k": [2, 2], "dtype": "u8"}
        ]}"#,
    )
    .unwrap();
    let opts = Options {
        isa: IsaChoice::All,
        threads: vec![1, 2],
        passes: Pass::ALL.to_vec(),
        time_scale: 0.01,
        ..Options::default()
    };
    let mut steps = Vec::new();
    let report = run(&suite, &opts, &mut |i, n, what: &str| steps.push(format!("[{i}/{n}] {what}"))).unwrap();
    let levels = Isa::available().len();
    // Forward: 3 cases; backward: 2 (u8 has no gradient); 2 layouts, every level, 2 thread counts.
    assert_eq!(report.records.len(), (3 + 2) * 2 * levels * 2);
    assert!(report.records.iter().all(|r| r.verified), "{:?}", report.records.iter().find(|r| !r.verified));
    let first_backward = report.records.iter().position(|r| r.pass == "backward").expect("backward rows");
    assert!(report.records[..first_backward].iter().all(|r| r.pass == "forward"));
    assert!(report.records[first_backward..].iter().all(|r| r.pass == "backward"));
    assert!(steps.iter().any(|s| s.ends_with("small_max nchw backward reference")), "{steps:?}");
    for r in report.records.iter().filter(|r| r.pass == "backward") {
        assert_ne!(r.case, "small_u8");
        // Bytes written: the gradient of the input; read: the gradient of the output, and for
        // max the indices.
        assert_eq!(r.output_bytes, 8 * 12 * 12 * 4, "{r:?}");
        let per_output = if r.case == "small_max" { 4 + 8 } else { 4 };
        assert_eq!(r.input_bytes, 8 * 6 * 6 * per_output, "{r:?}");
    }
    assert_eq!(report.skipped.len(), 2, "{:?}", report.skipped);
    assert!(report.skipped.iter().all(|s| s.case == "small_u8" && s.pass == "backward"));
    let json: serde_json::Value = serde_json::from_str(&simdpool_bench::report::json(&report)).unwrap();
    let rows = json.as_array().unwrap();
    assert!(rows.iter().any(|r| r["pass"] == "backward") && rows.iter().any(|r| r["pass"] == "forward"));
    let text = simdpool_bench::report::tables(&report);
    for needle in [
        "\nsmall_avg: avg",
        "\nsmall_avg (backward): avg",
        "MB (gradient output + indices), writes",
        "not run: small_u8 nchw backward: case small_u8: u8 has no gradient",
        "small_max/bwd",
        "small_max/fwd",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert!(!text.contains("MISMATCH"), "{text}");
}

#[test]
fn instruction_bench_covers_the_backward_pass_of_every_f32_case() {
    let src = std::fs::read_to_string(repo().join("benches/instructions.rs")).unwrap();
    let backward = &src[src.find("backward_benches!(\n").expect("benches/instructions.rs has backward benches")..];
    for case in Suite::embedded().cases.iter().filter(|c| c.dtype().unwrap() == simdpool::DType::F32) {
        for layout in LAYOUTS {
            let id = format!("\"{}/{}\"", case.name, layout_name(layout));
            assert!(backward.contains(&id), "benches/instructions.rs does not bench the backward pass of {id}");
        }
    }
}
