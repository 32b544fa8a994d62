//! `simdpool bench`: a small built-in demo until the suite benchmark lands (it will replace this
//! file; `main.rs` only calls [`run`]).
//!
//! For a few suite-like f32 NCHW cases it times a plan at the detected ISA, a plan forced to the
//! portable (`scalar`) level, and the scalar reference oracle, all on one thread, checks that the
//! plan agrees with the reference, and prints medians and ratios measured in this run.

use simdpool::{Isa, Plan, PlanOptions, PoolOp, TensorShape, Window, reference};
use std::io::Write;
use std::time::Instant;

const HELP: &str = "\
Usage: simdpool bench [--iters N]

A small built-in demo (the full benchmark suite comes later): for a few suite-like f32 NCHW cases,
times a plan at the detected ISA, a plan at the portable scalar level and the scalar reference
(`simdpool::reference`), all on one thread, and prints the median time of each and the plan's
speed-up over the reference. It also checks that the plan's output equals the reference's.

  --iters N     timed runs of each plan (default 20; the reference runs min(N, 3) times)
  -h, --help    this text
";

struct Case {
    name: &'static str,
    dims: [usize; 4],
    op: fn() -> PoolOp,
}

const CASES: [Case; 3] = [
    Case {
        name: "max 3x3 s2 p1 (ResNet stem)",
        dims: [1, 64, 112, 112],
        op: || PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1])),
    },
    Case { name: "avg 2x2 s2 (DenseNet transition)", dims: [1, 128, 56, 56], op: || PoolOp::avg(Window::new(&[2, 2])) },
    Case { name: "global avg (ResNet head)", dims: [1, 2048, 7, 7], op: || PoolOp::GlobalAvg },
];

fn median_us(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Times `f` `iters` times after one warm-up run; returns the median in microseconds.
fn time(iters: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<f64, String> {
    f()?;
    let mut samples = Vec::with_capacity(iters);
    for _ in 0..iters {
        let start = Instant::now();
        f()?;
        samples.push(start.elapsed().as_secs_f64() * 1e6);
    }
    Ok(median_us(samples))
}

fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes()).and_then(|()| o.flush());
}

/// Runs the demo with the arguments after `bench`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut iters = 20usize;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                out(HELP);
                return Ok(());
            }
            "--iters" => {
                let v = it.next().ok_or("--iters needs a value")?;
                iters = v.parse().ok().filter(|&n| n >= 1).ok_or(format!("--iters {v:?} must be an integer >= 1"))?;
            }
            other => {
                return Err(format!("unknown argument {other:?} for `simdpool bench` (see `simdpool bench --help`)"));
            }
        }
    }
    let isa = Isa::detected();
    let ref_iters = iters.min(3);
    out(&format!(
        "simdpool bench: built-in demo, f32 NCHW, 1 thread, median of {iters} runs (reference: {ref_iters})\n\
         detected ISA: {isa}; columns: plan at {isa}, plan at the portable scalar level, scalar reference\n\n"
    ));
    out(&format!(
        "{:<34} {:>14} {:>12} {:>12} {:>14} {:>13}\n",
        "case",
        "input",
        format!("{isa} µs"),
        "scalar µs",
        "reference µs",
        "vs reference"
    ));
    for case in &CASES {
        let shape = TensorShape::nchw(&case.dims).map_err(|e| e.to_string())?;
        let op = (case.op)();
        let x: Vec<f32> = {
            // A fixed pseudo-random input (xorshift), so runs are comparable.
            let mut s = 0x9e37_79b9_7f4a_7c15u64;
            (0..shape.len())
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
                })
                .collect()
        };
        let plan_at = |level: Isa| {
            Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(level).calling_thread()).map_err(|e| e.to_string())
        };
        let (fast, portable) = (plan_at(isa)?, plan_at(Isa::Scalar)?);
        let mut y = vec![0.0f32; fast.output_len()];
        let t_fast = time(iters, || fast.run(&x, &mut y).map_err(|e| e.to_string()))?;
        let t_portable = time(iters, || portable.run(&x, &mut y).map_err(|e| e.to_string()))?;
        fast.run(&x, &mut y).map_err(|e| e.to_string())?;
        let mut want = Vec::new();
        let t_ref = time(ref_iters, || {
            want = reference::pool::<f32>(&op, &x, &shape).map_err(|e| e.to_string())?.values;
            Ok(())
        })?;
        // Max is exact; averages accumulate in f32 (plan) vs f64 (reference).
        let agree = y.len() == want.len()
            && y.iter().zip(&want).all(|(a, b)| a == b || (a - b).abs() <= 1e-5 * b.abs().max(1e-1));
        if !agree {
            return Err(format!("{}: the plan's output differs from the reference", case.name));
        }
        let dims = case.dims.iter().map(usize::to_string).collect::<Vec<_>>().join("x");
        out(&format!(
            "{:<34} {:>14} {:>12.1} {:>12.1} {:>14.1} {:>12.1}x\n",
            case.name,
            dims,
            t_fast,
            t_portable,
            t_ref,
            t_ref / t_fast
        ));
    }
    out("\nAll outputs match the reference. Ratios are from this run on this machine only.\n");
    Ok(())
}
