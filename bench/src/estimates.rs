//! Reads the estimates criterion wrote during this run, for summary tables printed after a
//! criterion run (criterion itself does not hand its results back to the caller).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Where criterion writes its estimates, by criterion's own rule: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the target directory this executable was built in
/// (`target/release/deps/NAME-HASH`).
pub fn criterion_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        return Some(h.into());
    }
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(Path::new(&t).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// Criterion's median estimate, in seconds, of the benchmark `id` (`[group, function, parameter]`)
/// if its estimates file was written at or after `since`.
pub fn median_seconds(dir: &Path, id: &[&str], since: SystemTime) -> Option<f64> {
    let mut p = dir.to_path_buf();
    for part in id {
        p.push(part);
    }
    p.push("new");
    p.push("estimates.json");
    if std::fs::metadata(&p).ok()?.modified().ok()? < since {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&p).ok()?).ok()?;
    Some(v["median"]["point_estimate"].as_f64()? * 1e-9)
}
