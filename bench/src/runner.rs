//! Runs the suite the way `simdpool bench` does: per pass (forward first), case and layout, the
//! scalar reference once (cached across ISA levels and thread counts), the memory roofline at the
//! bytes the pass reads and writes, and a plan per ISA level and thread count, each checked
//! against the reference.

use crate::roofline::{Bandwidth, try_measure_bandwidth};
use crate::suite::{LAYOUTS, Suite, layout_name};
use crate::timing::{Budget, measure};
use crate::workload::{GradMethod, Pass, Threads, Workload, pass_applies};
use serde::Serialize;
use simdpool::{Isa, Layout};
use std::collections::HashMap;

/// Which ISA levels to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IsaChoice {
    /// The level plans use by default ([`Isa::detected`]).
    Auto,
    /// Every level available here, lowest first ([`Isa::available`]).
    All,
    /// These levels (each must be available).
    Levels(Vec<Isa>),
}

impl IsaChoice {
    /// Parses `auto`, `all`, or a comma-separated list of level names.
    pub fn parse(s: &str) -> Result<IsaChoice, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(IsaChoice::Auto),
            "all" => Ok(IsaChoice::All),
            list => list
                .split(',')
                .map(|n| {
                    Isa::from_name(n).ok_or_else(|| {
                        format!("unknown ISA level {n:?} (expected auto, all, scalar, avx2, avx512 or neon)")
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(IsaChoice::Levels),
        }
    }

    /// The levels to run, checked against this machine.
    pub fn levels(&self) -> Result<Vec<Isa>, String> {
        match self {
            IsaChoice::Auto => Ok(vec![Isa::detected()]),
            IsaChoice::All => Ok(Isa::available()),
            IsaChoice::Levels(l) => {
                for isa in l {
                    if !isa.is_available() {
                        let avail: Vec<&str> = Isa::available().iter().map(|i| i.name()).collect();
                        return Err(format!(
                            "ISA level {isa} is not available here (detected {}; available: {})",
                            Isa::detected(),
                            avail.join(", ")
                        ));
                    }
                }
                Ok(l.clone())
            }
        }
    }
}

/// The most threads a measurement may use (as `simdpool pool --threads`): more is surely a typo,
/// and would only spawn idle threads, or fail to spawn them.
pub const MAX_THREADS: usize = 1024;

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Case names (empty: the whole suite).
    pub cases: Vec<String>,
    /// ISA levels.
    pub isa: IsaChoice,
    /// Thread counts (1 runs on the calling thread; `N > 1` in a rayon pool of `N` threads), at
    /// most [`MAX_THREADS`].
    pub threads: Vec<usize>,
    /// Layouts.
    pub layouts: Vec<Layout>,
    /// Passes, run in this order (default: forward only). A case whose element type has no
    /// gradient is listed as not run in the backward pass.
    pub passes: Vec<Pass>,
    /// Scales every timing budget (1.0 = the default, about 0.2 s per measurement).
    pub time_scale: f64,
    /// Measurements per case, layout, level and thread count (at least 1). With several, the
    /// thread counts alternate (1, 2, 1, 2, ...) so each sees the same machine load, and a record
    /// reports the median of the medians and the fastest batch of all.
    pub repeat: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cases: Vec::new(),
            isa: IsaChoice::Auto,
            threads: vec![1],
            layouts: LAYOUTS.to_vec(),
            passes: vec![Pass::Forward],
            time_scale: 1.0,
            repeat: 1,
        }
    }
}

/// One measurement: a case in a layout and pass at an ISA level and thread count. Serialises to
/// the object `--json` prints.
#[derive(Clone, Debug, Serialize)]
pub struct Record {
    /// Case name.
    pub case: String,
    /// `forward` or `backward` ([`Pass::name`]).
    pub pass: String,
    /// `nchw` (channels-first) or `nhwc` (channels-last), whatever the rank.
    pub layout: String,
    /// ISA level of the plan.
    pub isa: String,
    /// The kernel family the plan takes (`simdpool::Route`, e.g. `separable`, `lanes`).
    pub route: String,
    /// Threads.
    pub threads: usize,
    /// Median time per call, microseconds (with repeats, the median of the medians).
    pub median_us: f64,
    /// Fastest batch, microseconds per call (with repeats, the fastest of all).
    pub min_us: f64,
    /// Measurements taken (`Options::repeat`).
    pub repeats: usize,
    /// Interquartile range / median, percent.
    pub spread_pct: f64,
    /// (bytes read + bytes written) / median time, GB/s (10^9 bytes per second).
    pub gbps: f64,
    /// Roofline time at this footprint and thread count, microseconds.
    pub roofline_us: f64,
    /// roofline_us / median_us.
    pub roofline_fraction: f64,
    /// Median time of the scalar reference (`simdpool::reference`, one thread), microseconds.
    pub scalar_us: f64,
    /// scalar_us / median_us.
    pub speedup: f64,
    /// Whether the plan's output matched the reference.
    pub verified: bool,
    /// The mismatch, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<String>,
    /// Element type.
    pub dtype: String,
    /// Bytes read: the input (forward); the gradient of the output, and the indices (max) or the
    /// forward input and output (Lp) (backward).
    pub input_bytes: usize,
    /// Bytes written: the output (forward), the gradient of the input (backward).
    pub output_bytes: usize,
    /// Timed batches.
    pub samples: usize,
    /// Calls per batch.
    pub calls_per_sample: usize,
}

/// A case and layout that did not run in a pass, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Skipped {
    /// Case name.
    pub case: String,
    /// `forward` or `backward`.
    pub pass: String,
    /// Layout name.
    pub layout: String,
    /// Why.
    pub reason: String,
}

/// The case header used by tables.
#[derive(Clone, Debug)]
pub struct CaseInfo {
    /// Case name.
    pub name: String,
    /// `max 3x3 /2x2 pad 1x1, f32 [1x64x112x112]`.
    pub description: String,
    /// Where it comes from.
    pub from: String,
    /// What its backward pass reads (`gradient output + indices`...).
    pub backward_reads: String,
}

/// Everything a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Measurements, in run order.
    pub records: Vec<Record>,
    /// Cases and layouts that did not run.
    pub skipped: Vec<Skipped>,
    /// The ISA levels run.
    pub isas: Vec<Isa>,
    /// The thread counts run.
    pub threads: Vec<usize>,
    /// The passes run, in order.
    pub passes: Vec<Pass>,
    /// The cases run, in order.
    pub cases: Vec<CaseInfo>,
    /// Bandwidth measured per (footprint, threads).
    pub bandwidth: Vec<Bandwidth>,
}

/// Progress of a run: `(step, total, what)`, e.g. `(3, 28, "resnet_stem_max nhwc avx512")`.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, &str);

/// Runs `f` inside the pool of `t` threads (on the calling thread for `t == 1`).
fn install<R: Send>(pools: &HashMap<usize, rayon::ThreadPool>, t: usize, f: impl FnOnce() -> R + Send) -> R {
    match pools.get(&t) {
        Some(p) => p.install(f),
        None => f(),
    }
}

fn us(s: f64) -> f64 {
    s * 1e6
}

/// One measurement's figures from several: the median of the medians (and of the quartiles),
/// the fastest batch of all, the samples of all.
fn combine_stats(runs: &[crate::timing::Stats]) -> crate::timing::Stats {
    let mid = |f: fn(&crate::timing::Stats) -> f64| {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
    };
    crate::timing::Stats {
        median: mid(|s| s.median),
        q1: mid(|s| s.q1),
        q3: mid(|s| s.q3),
        min: runs.iter().map(|s| s.min).fold(f64::INFINITY, f64::min),
        samples: runs.iter().map(|s| s.samples).sum(),
        calls_per_sample: runs[0].calls_per_sample,
    }
}

/// Runs the suite.
pub fn run(suite: &Suite, opts: &Options, progress: Progress<'_>) -> Result<Report, String> {
    let cases = suite.select(&opts.cases)?;
    let isas = opts.isa.levels()?;
    if opts.threads.is_empty() || opts.threads.contains(&0) {
        return Err("--threads needs counts of at least 1".into());
    }
    if let Some(t) = opts.threads.iter().find(|&&t| t > MAX_THREADS) {
        return Err(format!("--threads {t}: at most {MAX_THREADS}"));
    }
    if opts.layouts.is_empty() {
        return Err("no layout selected".into());
    }
    if opts.passes.is_empty() {
        return Err("no pass selected".into());
    }
    let mut pools: HashMap<usize, rayon::ThreadPool> = HashMap::new();
    for &t in opts.threads.iter().filter(|&&t| t > 1) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .map_err(|e| format!("cannot start {t} threads: {e}"))?;
        pools.insert(t, pool);
    }
    let kernel_budget = Budget::KERNEL.scaled(opts.time_scale);
    let reference_budget = Budget::REFERENCE.scaled(opts.time_scale);
    let bandwidth_budget = Budget::BANDWIDTH.scaled(opts.time_scale);

    let mut pairs = Vec::new();
    let mut skipped = Vec::new();
    for &pass in &opts.passes {
        for case in &cases {
            for &layout in &opts.layouts {
                match case.applies_to(layout).and_then(|()| pass_applies(case, pass)) {
                    Ok(()) => pairs.push((pass, case, layout)),
                    // A layout that does not apply is listed once, not once per pass.
                    Err(reason)
                        if skipped.iter().any(|s: &Skipped| {
                            s.case == case.name && s.layout == layout_name(layout) && s.reason == reason
                        }) => {}
                    Err(reason) => skipped.push(Skipped {
                        case: case.name.clone(),
                        pass: pass.name().into(),
                        layout: layout_name(layout).into(),
                        reason,
                    }),
                }
            }
        }
    }
    let repeat = opts.repeat.max(1);
    let total = pairs.len() * (1 + isas.len() * opts.threads.len() * repeat);
    let mut step = 0;
    let mut bandwidth: Vec<Bandwidth> = Vec::new();
    let mut records = Vec::new();
    for (pass, case, layout) in pairs {
        let lname = layout_name(layout);
        // Progress names the pass only when it is the backward one.
        let pname = match pass {
            Pass::Forward => String::new(),
            Pass::Backward => " backward".into(),
        };
        let mut w = Workload::with_pass(case, layout, pass)?;
        step += 1;
        progress(step, total, &format!("{} {lname}{pname} reference", case.name));
        // A reference that cannot allocate its output is an error (after its first attempt).
        let mut failed = None;
        let reference = measure(&reference_budget, || {
            if let Err(e) = w.try_run_reference() {
                failed.get_or_insert(e);
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        let footprint = w.input_bytes() + w.output_bytes();
        let mut rooflines = Vec::new();
        for &t in &opts.threads {
            let bw = match bandwidth.iter().find(|b| b.threads == t && b.requested == footprint) {
                Some(b) => *b,
                None => {
                    let b = install(&pools, t, || try_measure_bandwidth(footprint, t, &bandwidth_budget))?;
                    bandwidth.push(b);
                    b
                }
            };
            rooflines.push(bw.roofline_seconds(w.input_bytes(), w.output_bytes()));
        }
        for &isa in &isas {
            // Thread counts alternate within each repeat, so each sees the same machine load.
            let mut runs: Vec<Vec<crate::timing::Stats>> = vec![Vec::new(); opts.threads.len()];
            let mut checks: Vec<Result<(), String>> = vec![Ok(()); opts.threads.len()];
            let mut routes = vec![String::new(); opts.threads.len()];
            for _ in 0..repeat {
                for (k, &t) in opts.threads.iter().enumerate() {
                    step += 1;
                    progress(
                        step,
                        total,
                        &format!(
                            "{} {lname}{pname} {isa}{}",
                            case.name,
                            if t > 1 { format!(" x{t}") } else { String::new() }
                        ),
                    );
                    w.prepare(isa, if t > 1 { Threads::Pool } else { Threads::One })?;
                    routes[k] = w.route().map(|r| r.name().to_string()).unwrap_or_default();
                    runs[k].push(install(&pools, t, || measure(&kernel_budget, || w.run())));
                    let check = w.verify();
                    if checks[k].is_ok() {
                        checks[k] = check;
                    }
                }
            }
            for (k, &t) in opts.threads.iter().enumerate() {
                let stats = combine_stats(&runs[k]);
                let roofline = rooflines[k];
                let check = std::mem::replace(&mut checks[k], Ok(()));
                records.push(Record {
                    case: case.name.clone(),
                    pass: pass.name().into(),
                    layout: lname.into(),
                    isa: isa.name().into(),
                    route: routes[k].clone(),
                    threads: t,
                    median_us: us(stats.median),
                    min_us: us(stats.min),
                    repeats: runs[k].len(),
                    spread_pct: stats.spread_pct(),
                    gbps: footprint as f64 / stats.median / 1e9,
                    roofline_us: us(roofline),
                    roofline_fraction: roofline / stats.median,
                    scalar_us: us(reference.median),
                    speedup: reference.median / stats.median,
                    verified: check.is_ok(),
                    mismatch: check.err(),
                    dtype: w.dtype.name().into(),
                    input_bytes: w.input_bytes(),
                    output_bytes: w.output_bytes(),
                    samples: stats.samples,
                    calls_per_sample: stats.calls_per_sample,
                });
            }
        }
    }
    let cases = cases
        .iter()
        .map(|c| CaseInfo {
            name: c.name.clone(),
            description: c.describe(),
            from: c.from.clone().unwrap_or_default(),
            backward_reads: c.pool_op().map(|op| GradMethod::of(&op).reads().to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(Report { records, skipped, isas, threads: opts.threads.clone(), passes: opts.passes.clone(), cases, bandwidth })
}
