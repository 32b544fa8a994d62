//! Text tables and JSON for a [`Report`], and a description of the machine.

use crate::roofline::vector_lanes;
use crate::runner::{CaseInfo, Record, Report};
use crate::workload::Pass;
use simdpool::Isa;
use std::fmt::Write as _;

/// A time in seconds with a readable unit (`812 ns`, `12.3 us`, `4.56 ms`, `1.23 s`).
pub fn fmt_time(seconds: f64) -> String {
    let (v, unit) = if seconds < 1e-6 {
        (seconds * 1e9, "ns")
    } else if seconds < 1e-3 {
        (seconds * 1e6, "us")
    } else if seconds < 1.0 {
        (seconds * 1e3, "ms")
    } else {
        (seconds, "s")
    };
    let digits = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {unit}")
}

/// The CPU model name (Linux `/proc/cpuinfo`), or `unknown CPU`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model") || l.starts_with("Hardware"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The current UTC date and time, `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86400, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, (rem % 3600) / 60)
}

/// Lines describing the machine and build: CPU, logical CPUs, detected ISA, features, compiler.
pub fn machine_lines() -> Vec<String> {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let avail: Vec<&str> = Isa::available().iter().map(|i| i.name()).collect();
    vec![
        format!("date: {}", utc_now()),
        format!("cpu: {} ({cpus} logical CPUs)", cpu_model()),
        format!(
            "detected: {} (hardware {}{}); available: {}",
            Isa::detected(),
            Isa::hardware(),
            std::env::var("SIMDPOOL_ISA").map(|v| format!(", SIMDPOOL_ISA={v}")).unwrap_or_default(),
            avail.join(", ")
        ),
        format!("cpu features: {}", simdpool::cpu_features().join(" ")),
        format!(
            "build: simdpool {} rustc {} {} profile {} opt-level {}",
            env!("CARGO_PKG_VERSION"),
            simdpool::build_info::RUSTC,
            simdpool::build_info::TARGET,
            simdpool::build_info::PROFILE,
            simdpool::build_info::OPT_LEVEL
        ),
        format!(
            "roofline: read/write bandwidth measured with {}-lane f32 vectors at each case's footprint",
            vector_lanes()
        ),
    ]
}

fn pad(s: &str, w: usize) -> String {
    format!("{s:<w$}")
}

fn rpad(s: &str, w: usize) -> String {
    format!("{s:>w$}")
}

fn records_for<'a>(report: &'a Report, case: &str, pass: Pass, layout: &str) -> Vec<&'a Record> {
    report.records.iter().filter(|r| r.case == case && r.pass == pass.name() && r.layout == layout).collect()
}

/// ` backward` for the backward pass, nothing for the forward pass.
fn pass_suffix(pass: &str) -> &'static str {
    if pass == Pass::Backward.name() { " backward" } else { "" }
}

/// The case column of the summary tables: `name`, or `name/fwd` and `name/bwd` when the report
/// has backward rows.
struct CaseColumn {
    passes: bool,
    width: usize,
}

impl CaseColumn {
    fn new(report: &Report) -> CaseColumn {
        let passes = report.records.iter().any(|r| r.pass == Pass::Backward.name());
        let longest = report.cases.iter().map(|c| c.name.len() + if passes { 4 } else { 0 }).max().unwrap_or(0);
        CaseColumn { passes, width: longest.max(20) }
    }

    fn label(&self, name: &str, pass: Pass) -> String {
        pad(&if self.passes { format!("{name}/{}", pass.short()) } else { name.to_string() }, self.width)
    }

    fn header(&self) -> String {
        pad("case", self.width)
    }
}

/// The tables: one per case and pass (a row per layout, ISA level and thread count), then with
/// several ISA levels a summary with one column per level, with several thread counts a table of
/// time ratios, then skipped cases and mismatches. With backward rows, the summary tables name
/// each case's pass (`name/fwd`, `name/bwd`).
pub fn tables(report: &Report) -> String {
    let mut out = String::new();
    let column = CaseColumn::new(report);
    let header = format!(
        "  {} {} {} {} {} {} {} {} {}",
        pad("layout", 6),
        pad("isa", 9),
        rpad("thr", 3),
        rpad("median", 10),
        rpad("spread", 7),
        rpad("GB/s", 7),
        rpad("roofline", 10),
        rpad("of roof", 7),
        rpad("vs ref", 8)
    );
    for info in &report.cases {
        for pass in Pass::ALL {
            let rows: Vec<&Record> =
                report.records.iter().filter(|r| r.case == info.name && r.pass == pass.name()).collect();
            if rows.is_empty() {
                continue;
            }
            case_table(&mut out, info, pass, &rows, &header);
        }
    }
    if report.isas.len() > 1 {
        let _ = writeln!(out, "\nSummary: median time per ISA level (speed-up over the scalar reference)");
        let mut line =
            format!("  {} {} {} {}", column.header(), pad("layout", 6), rpad("thr", 3), rpad("reference", 10));
        for isa in &report.isas {
            line += &format!(" {}", rpad(isa.name(), 19));
        }
        let _ = writeln!(out, "{line}");
        for info in &report.cases {
            for pass in Pass::ALL {
                for layout in ["nchw", "nhwc"] {
                    let rows = records_for(report, &info.name, pass, layout);
                    for &t in &report.threads {
                        let Some(first) = rows.iter().find(|r| r.threads == t) else { continue };
                        let mut line = format!(
                            "  {} {} {} {}",
                            column.label(&info.name, pass),
                            pad(layout, 6),
                            rpad(&t.to_string(), 3),
                            rpad(&fmt_time(first.scalar_us * 1e-6), 10)
                        );
                        for isa in &report.isas {
                            let cell = rows
                                .iter()
                                .find(|r| r.threads == t && r.isa == isa.name())
                                .map(|r| format!("{} ({:.1}x)", fmt_time(r.median_us * 1e-6), r.speedup))
                                .unwrap_or_else(|| "-".into());
                            line += &format!(" {}", rpad(&cell, 19));
                        }
                        let _ = writeln!(out, "{line}");
                    }
                }
            }
        }
    }
    if report.threads.len() > 1 {
        let base = report.threads[0];
        let _ = writeln!(
            out,
            "\nThread scaling: time with {base} thread{} / time with N (median of medians; min = fastest batches)",
            if base == 1 { "" } else { "s" }
        );
        let _ = writeln!(
            out,
            "  {} {} {} {} {} {} {} {} {}",
            column.header(),
            pad("layout", 6),
            pad("isa", 9),
            rpad("MB in", 7),
            rpad("N", 3),
            rpad(&format!("median {base}"), 10),
            rpad("median N", 10),
            rpad("ratio", 6),
            rpad("min ratio", 9)
        );
        for info in &report.cases {
            for pass in Pass::ALL {
                for layout in ["nchw", "nhwc"] {
                    let rows = records_for(report, &info.name, pass, layout);
                    for isa in &report.isas {
                        let at = |t: usize| rows.iter().find(|r| r.threads == t && r.isa == isa.name());
                        let Some(one) = at(base) else { continue };
                        for &t in &report.threads[1..] {
                            let Some(n) = at(t) else { continue };
                            let _ = writeln!(
                                out,
                                "  {} {} {} {} {} {} {} {} {}",
                                column.label(&info.name, pass),
                                pad(layout, 6),
                                pad(isa.name(), 9),
                                rpad(&format!("{:.1}", one.input_bytes as f64 / 1e6), 7),
                                rpad(&t.to_string(), 3),
                                rpad(&fmt_time(one.median_us * 1e-6), 10),
                                rpad(&fmt_time(n.median_us * 1e-6), 10),
                                rpad(&format!("{:.2}x", one.median_us / n.median_us), 6),
                                rpad(&format!("{:.2}x", one.min_us / n.min_us), 9)
                            );
                        }
                    }
                }
            }
        }
    }
    for s in &report.skipped {
        let _ = writeln!(out, "\nnot run: {} {}{}: {}", s.case, s.layout, pass_suffix(&s.pass), s.reason);
    }
    let bad: Vec<&Record> = report.records.iter().filter(|r| !r.verified).collect();
    if !bad.is_empty() {
        let _ = writeln!(out, "\nMISMATCH: {} measurement(s) disagree with the scalar reference:", bad.len());
        for r in bad {
            let _ = writeln!(
                out,
                "  {} {}{} {}: {}",
                r.case,
                r.layout,
                pass_suffix(&r.pass),
                r.isa,
                r.mismatch.as_deref().unwrap_or("?")
            );
        }
    }
    out
}

/// The table of one case in one pass: a header naming the case (and the backward pass), the bytes
/// read and written and the reference's time, then a row per layout, ISA level and thread count.
fn case_table(out: &mut String, info: &CaseInfo, pass: Pass, rows: &[&Record], header: &str) {
    let from = if info.from.is_empty() { String::new() } else { format!(" ({})", info.from) };
    let title = match pass {
        Pass::Forward => info.name.clone(),
        Pass::Backward => format!("{} (backward)", info.name),
    };
    let _ = writeln!(out, "\n{title}: {}{from}", info.description);
    let mut layouts: Vec<&str> = Vec::new();
    for r in rows {
        if !layouts.contains(&r.layout.as_str()) {
            layouts.push(&r.layout);
        }
    }
    let reference = layouts
        .iter()
        .map(|l| {
            let r = rows.iter().find(|r| r.layout == *l).expect("listed");
            format!("{l} {}", fmt_time(r.scalar_us * 1e-6))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let r0 = rows[0];
    let (read, written) = (r0.input_bytes as f64 / 1e6, r0.output_bytes as f64 / 1e6);
    let _ = match pass {
        Pass::Forward => {
            writeln!(out, "  in {read:.2} MB, out {written:.2} MB; scalar reference {reference}")
        }
        Pass::Backward => writeln!(
            out,
            "  reads {read:.2} MB ({}), writes {written:.2} MB (gradient input); scalar reference {reference}",
            info.backward_reads
        ),
    };
    let _ = writeln!(out, "{header}");
    for r in rows {
        let _ = writeln!(
            out,
            "  {} {} {} {} {} {} {} {} {}{}",
            pad(&r.layout, 6),
            pad(&r.isa, 9),
            rpad(&r.threads.to_string(), 3),
            rpad(&fmt_time(r.median_us * 1e-6), 10),
            rpad(&format!("±{:.1}%", r.spread_pct / 2.0), 7),
            rpad(&format!("{:.2}", r.gbps), 7),
            rpad(&fmt_time(r.roofline_us * 1e-6), 10),
            rpad(&format!("{:.1}%", 100.0 * r.roofline_fraction), 7),
            rpad(&format!("{:.1}x", r.speedup), 8),
            if r.verified { "" } else { "  MISMATCH" }
        );
    }
}

/// The records as one JSON array.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(&report.records).expect("records serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_pick_a_unit() {
        assert_eq!(fmt_time(812e-9), "812 ns");
        assert_eq!(fmt_time(12.34e-6), "12.3 us");
        assert_eq!(fmt_time(4.561e-3), "4.56 ms");
        assert_eq!(fmt_time(1.5), "1.50 s");
    }

    #[test]
    fn utc_date_is_well_formed() {
        let d = utc_now();
        assert_eq!(d.len(), "2026-01-01 00:00 UTC".len(), "{d}");
        assert!(d.starts_with("20"), "{d}");
    }
}
