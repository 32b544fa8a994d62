//! `simdpool bench`: runs the workload suite (benches/suite.json, embedded) on this machine and
//! prints, per case, pass and layout, the median time, spread, GB/s, fraction of the memory
//! roofline and speed-up over the scalar reference; `--json` prints the same as one JSON array on
//! stdout.

use crate::args::{CliError, runtime, usage};
use crate::run::MAX_THREADS;
use simdpool_bench::report::{json, machine_lines, tables};
use simdpool_bench::runner::{IsaChoice, Options, run as run_suite};
use simdpool_bench::suite::{LAYOUTS, Suite, parse_layout};
use simdpool_bench::workload::{Pass, memory_needed_for};
use std::io::Write;
use std::path::Path;

const USAGE: &str = "\
usage: simdpool bench [--case NAME[,NAME..]] [--suite FILE] [--isa all|auto|LEVEL[,LEVEL..]]
                      [--threads N[,N..]] [--repeat R] [--layout nchw|nhwc|both]
                      [--pass forward|backward|both] [--time-scale F] [--json] [--list]

Runs the benchmark suite (default: the copy of benches/suite.json built into this binary) and
prints per case, pass and layout: median time, spread (interquartile range / median, shown as
±half), GB/s of bytes read + written, the memory roofline time (bytes read / read bandwidth +
bytes written / write bandwidth, measured at the case's footprint) and the fraction of it
achieved, and the speed-up over the scalar reference (simdpool::reference, measured once per
case, pass and layout).

  --case NAME     only these cases (repeat or separate with commas)
  --suite FILE    another suite file (same format as benches/suite.json)
  --isa LEVEL     auto (default: the detected level), all (every level here, one column each),
                  or scalar, avx2, avx512, neon (comma-separated)
  --threads N     thread counts from 1 to 1024 (default 1 = the calling thread; N > 1 runs in a
                  pool of N threads);
                  with several (e.g. 1,2) a table of time ratios between them follows the others
  --repeat R      measure each case, layout, level and thread count R times (default 1), the
                  thread counts alternating (1, 2, 1, 2, ...) so they share the machine's load;
                  reports the median of the medians and the fastest batch of all
  --layout L      nchw, nhwc or both (default both); nchw means channels-first at every rank
  --pass P        forward, backward or both (default forward). The backward pass computes the
                  gradient of the input from a gradient of the output: max ops from the forward
                  indices (reads the gradient output and the indices, 8 bytes each), averages
                  from the gradient output alone, Lp from the forward input and output too; it
                  writes the gradient input. u8 and i8 cases have no gradient and are listed as
                  not run
  --time-scale F  scale every timing budget (default 1; 0.2 for a quick look, 5 for steadier numbers)
  --json          print one JSON array on stdout (one object per case x pass x layout x isa x
                  threads, with \"pass\": \"forward\" or \"backward\");
                  progress and the machine description go to stderr
  --list          list the suite's cases and exit

A case whose buffers do not fit in this machine's memory is an error, before anything runs.";

fn value<'a>(args: &'a [String], i: &mut usize, flag: &str) -> Result<&'a str, String> {
    *i += 1;
    args.get(*i).map(String::as_str).ok_or_else(|| format!("{flag} needs a value (see `simdpool bench --help`)"))
}

/// Thread counts: each from 1 to [`MAX_THREADS`], the cap of `simdpool pool --threads`.
fn thread_counts(text: &str) -> Result<Vec<usize>, String> {
    text.split(',')
        .map(|t| match t.trim().parse::<usize>() {
            Ok(0) => Err("--threads 0: give at least 1 thread".to_string()),
            Ok(n) if n > MAX_THREADS => Err(format!("--threads {n}: at most {MAX_THREADS}")),
            Ok(n) => Ok(n),
            Err(_) => Err(format!("--threads: expected counts from 1 to {MAX_THREADS}, got {t:?}")),
        })
        .collect()
}

/// Runs `simdpool bench` with the arguments after `bench`. A malformed command line is a usage
/// error (exit 2); anything that fails after it (the suite file, a case too large for memory, an
/// ISA this CPU lacks, a mismatch) is a runtime error (exit 1). Nothing panics: sizes are checked
/// and buffers allocated fallibly, and a closed stdout is ignored.
pub fn run(args: &[String]) -> Result<(), CliError> {
    let opts = match parse(args)? {
        Some(parsed) => parsed,
        None => return Ok(()),
    };
    execute(opts).map_err(runtime)
}

/// What the command line asks for.
struct Request {
    opts: Options,
    suite_path: Option<String>,
    as_json: bool,
    list: bool,
}

/// Parses the command line; `None` if it asked for help (printed here).
fn parse(args: &[String]) -> Result<Option<Request>, CliError> {
    // Accept being handed the whole argument list after the program name, too.
    let args = match args.first() {
        Some(a) if a == "bench" => &args[1..],
        _ => args,
    };
    let mut opts = Options::default();
    let mut suite_path = None;
    let mut as_json = false;
    let mut list = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (a, None),
        };
        let val = |i: &mut usize| -> Result<String, String> {
            match inline {
                Some(v) => Ok(v.to_string()),
                None => value(args, i, flag).map(str::to_string),
            }
        };
        match flag {
            "-h" | "--help" => {
                crate::emit(&format!("{USAGE}\n"));
                return Ok(None);
            }
            "--json" => as_json = true,
            "--list" => list = true,
            "--case" => {
                opts.cases.extend(val(&mut i).map_err(usage)?.split(',').filter(|s| !s.is_empty()).map(str::to_string))
            }
            "--suite" => suite_path = Some(val(&mut i).map_err(usage)?),
            "--isa" => opts.isa = IsaChoice::parse(&val(&mut i).map_err(usage)?).map_err(usage)?,
            "--threads" => opts.threads = thread_counts(&val(&mut i).map_err(usage)?).map_err(usage)?,
            "--repeat" => {
                let v = val(&mut i).map_err(usage)?;
                opts.repeat = match v.parse::<usize>() {
                    Ok(r) if (1..=1000).contains(&r) => r,
                    _ => return Err(usage(format!("--repeat: expected a count from 1 to 1000, got {v:?}"))),
                };
            }
            "--layout" => {
                let v = val(&mut i).map_err(usage)?;
                opts.layouts = match v.as_str() {
                    "both" | "all" => LAYOUTS.to_vec(),
                    l => vec![
                        parse_layout(l)
                            .ok_or_else(|| usage(format!("--layout: expected nchw, nhwc or both, got {l:?}")))?,
                    ],
                };
            }
            "--pass" => {
                let v = val(&mut i).map_err(usage)?;
                opts.passes = match v.trim().to_ascii_lowercase().as_str() {
                    "both" | "all" => Pass::ALL.to_vec(),
                    p => vec![
                        Pass::parse(p)
                            .map_err(|_| usage(format!("--pass: expected forward, backward or both, got {v:?}")))?,
                    ],
                };
            }
            "--time-scale" => {
                let v = val(&mut i).map_err(usage)?;
                opts.time_scale = match v.parse::<f64>() {
                    Ok(f) if f.is_finite() && f > 0.0 && f <= 100.0 => f,
                    _ => return Err(usage(format!("--time-scale: expected a number in (0, 100], got {v:?}"))),
                };
            }
            other => {
                return Err(usage(format!(
                    "unknown argument {other:?} to `simdpool bench` (see `simdpool bench --help`)"
                )));
            }
        }
        i += 1;
    }
    Ok(Some(Request { opts, suite_path, as_json, list }))
}

/// Runs what the command line asked for.
fn execute(req: Request) -> Result<(), String> {
    let Request { opts, suite_path, as_json, list } = req;
    let suite = match &suite_path {
        Some(p) => Suite::load(Path::new(p))?,
        None => Suite::embedded(),
    };
    if list {
        let mut text = String::new();
        for c in &suite.cases {
            text += &format!("{:<20} {}\n", c.name, c.describe());
        }
        crate::emit(&text);
        return Ok(());
    }

    // Bad case names, unavailable levels and cases too large for this machine fail before
    // anything is printed.
    for case in suite.select(&opts.cases)? {
        for &layout in &opts.layouts {
            if case.applies_to(layout).is_ok() {
                for &pass in &opts.passes {
                    memory_needed_for(&case, layout, pass)?;
                }
            }
        }
    }
    opts.isa.levels()?;
    let machine = machine_lines();
    let suite_name = suite_path.as_deref().unwrap_or("built-in benches/suite.json");
    {
        // With --json, stdout carries only the JSON array; everything else goes to stderr.
        let mut head = String::new();
        head += &format!("simdpool bench: suite {suite_name}\n");
        for l in &machine {
            head += &format!("  {l}\n");
        }
        if as_json {
            eprint!("{head}");
        } else {
            crate::emit(&head);
        }
    }
    let stderr = std::io::stderr();
    let mut progress = |step: usize, total: usize, what: &str| {
        let mut e = stderr.lock();
        let _ = writeln!(e, "[{step}/{total}] {what}");
    };
    let report = run_suite(&suite, &opts, &mut progress)?;
    if as_json {
        crate::emit(&format!("{}\n", json(&report)));
    } else {
        crate::emit(&format!(
            "{}\nspread = interquartile range / median, shown as ±half; GB/s counts bytes read + written; \
             of roof = roofline time / median; vs ref = scalar reference time / median\n",
            tables(&report)
        ));
    }
    if report.records.iter().any(|r| !r.verified) {
        return Err("some outputs differ from the scalar reference (see MISMATCH above)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bench_library_caps_threads_as_the_cli_does() {
        assert_eq!(simdpool_bench::runner::MAX_THREADS, crate::run::MAX_THREADS);
    }
}
