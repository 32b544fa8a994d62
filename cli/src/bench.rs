//! `simdpool bench`: runs the workload suite (benches/suite.json, embedded) on this machine and
//! prints, per case and layout, the median time, spread, GB/s, fraction of the memory roofline
//! and speed-up over the scalar reference; `--json` prints the same as one JSON array on stdout.

use simdpool_bench::report::{json, machine_lines, tables};
use simdpool_bench::runner::{IsaChoice, Options, run as run_suite};
use simdpool_bench::suite::{LAYOUTS, Suite, parse_layout};
use std::io::Write;

const USAGE: &str = "\
usage: simdpool bench [--case NAME[,NAME..]] [--suite FILE] [--isa all|auto|LEVEL[,LEVEL..]]
                      [--threads N[,N..]] [--repeat R] [--layout nchw|nhwc|both] [--time-scale F]
                      [--json] [--list]

Runs the benchmark suite (default: the copy of benches/suite.json built into this binary) and
prints per case and layout: median time, spread (interquartile range / median, shown as ±half),
GB/s of input + output, the memory roofline time (input / read bandwidth + output / write
bandwidth, measured at the case's footprint) and the fraction of it achieved, and the speed-up
over the scalar reference (simdpool::reference, measured once per case and layout).

  --case NAME     only these cases (repeat or separate with commas)
  --suite FILE    another suite file (same format as benches/suite.json)
  --isa LEVEL     auto (default: the detected level), all (every level here, one column each),
                  or scalar, avx2, avx512, neon (comma-separated)
  --threads N     thread counts (default 1 = the calling thread; N > 1 runs in a pool of N threads);
                  with several (e.g. 1,2) a table of time ratios between them follows the others
  --repeat R      measure each case, layout, level and thread count R times (default 1), the
                  thread counts alternating (1, 2, 1, 2, ...) so they share the machine's load;
                  reports the median of the medians and the fastest batch of all
  --layout L      nchw, nhwc or both (default both); nchw means channels-first at every rank
  --time-scale F  scale every timing budget (default 1; 0.2 for a quick look, 5 for steadier numbers)
  --json          print one JSON array on stdout (one object per case x layout x isa x threads);
                  progress and the machine description go to stderr
  --list          list the suite's cases and exit";

fn value<'a>(args: &'a [String], i: &mut usize, flag: &str) -> Result<&'a str, String> {
    *i += 1;
    args.get(*i).map(String::as_str).ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
}

/// Runs `simdpool bench` with the arguments after `bench`.
pub fn run(args: &[String]) -> Result<(), String> {
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
                println!("{USAGE}");
                return Ok(());
            }
            "--json" => as_json = true,
            "--list" => list = true,
            "--case" => opts.cases.extend(val(&mut i)?.split(',').filter(|s| !s.is_empty()).map(str::to_string)),
            "--suite" => suite_path = Some(val(&mut i)?),
            "--isa" => opts.isa = IsaChoice::parse(&val(&mut i)?)?,
            "--threads" => {
                opts.threads = val(&mut i)?
                    .split(',')
                    .map(|t| match t.trim().parse::<usize>() {
                        Ok(n) if n >= 1 => Ok(n),
                        _ => Err(format!("--threads: expected counts of at least 1, got {t:?}")),
                    })
                    .collect::<Result<_, _>>()?
            }
            "--repeat" => {
                let v = val(&mut i)?;
                opts.repeat = match v.parse::<usize>() {
                    Ok(r) if (1..=1000).contains(&r) => r,
                    _ => return Err(format!("--repeat: expected a count from 1 to 1000, got {v:?}")),
                };
            }
            "--layout" => {
                let v = val(&mut i)?;
                opts.layouts = match v.as_str() {
                    "both" | "all" => LAYOUTS.to_vec(),
                    l => vec![
                        parse_layout(l).ok_or_else(|| format!("--layout: expected nchw, nhwc or both, got {l:?}"))?,
                    ],
                };
            }
            "--time-scale" => {
                let v = val(&mut i)?;
                opts.time_scale = match v.parse::<f64>() {
                    Ok(f) if f.is_finite() && f > 0.0 && f <= 100.0 => f,
                    _ => return Err(format!("--time-scale: expected a number in (0, 100], got {v:?}")),
                };
            }
            other => return Err(format!("simdpool bench: unknown argument {other:?}\n\n{USAGE}")),
        }
        i += 1;
    }
    let suite = match &suite_path {
        Some(p) => Suite::load(std::path::Path::new(p))?,
        None => Suite::embedded(),
    };
    if list {
        for c in &suite.cases {
            println!("{:<20} {}", c.name, c.describe());
        }
        return Ok(());
    }

    // Bad case names and unavailable levels fail before anything is printed.
    suite.select(&opts.cases)?;
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
            print!("{head}");
        }
    }
    let stderr = std::io::stderr();
    let mut progress = |step: usize, total: usize, what: &str| {
        let mut e = stderr.lock();
        let _ = writeln!(e, "[{step}/{total}] {what}");
    };
    let report = run_suite(&suite, &opts, &mut progress)?;
    if as_json {
        println!("{}", json(&report));
    } else {
        print!("{}", tables(&report));
        println!(
            "\nspread = interquartile range / median, shown as ±half; GB/s counts input + output bytes; \
             of roof = roofline time / median; vs ref = scalar reference time / median"
        );
    }
    if report.records.iter().any(|r| !r.verified) {
        return Err("some outputs differ from the scalar reference (see MISMATCH above)".into());
    }
    Ok(())
}
