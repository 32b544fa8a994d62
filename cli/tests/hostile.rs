//! The CLI rows of the bad-input corpus (tests/bad_input.rs in the library): hostile parameters
//! that once panicked or aborted inside the library must reach the user as exactly one
//! `simdpool: error:` line and a non-zero exit, with no output file written; and a huge dilation
//! that leaves one tap per window runs.

use simdpool::npy::NpyArray;
use std::path::PathBuf;
use std::process::{Command, Output};

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("simdpool-hostile-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("x.npy"),
            NpyArray::from_f32(&[1, 2, 5], &[1., 2., 3., 4., 5., 6., 7., 8., 9., 0.]).to_bytes(),
        )
        .unwrap();
        std::fs::write(d.join("x5.npy"), NpyArray::from_f32(&[1, 1, 1, 1, 1], &[3.0]).to_bytes()).unwrap();
        Dir(d)
    }
    fn s(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(tag: &str, args: &[&str]) -> (Output, bool) {
    let dir = Dir::new(tag);
    let (x, x5, y) = (dir.s("x.npy"), dir.s("x5.npy"), dir.s("y.npy"));
    let argv: Vec<&str> = args
        .iter()
        .map(|a| match *a {
            "X" => x.as_str(),
            "X5" => x5.as_str(),
            "Y" => y.as_str(),
            a => a,
        })
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_simdpool")).args(&argv).output().expect("run simdpool");
    let wrote = std::path::Path::new(&y).exists();
    (out, wrote)
}

fn fails(tag: &str, args: &[&str], needle: &str) {
    let (out, wrote) = run(tag, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{tag}: succeeded: {err}");
    assert!(out.status.code().is_some(), "{tag}: killed by a signal: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{tag}: expected one error line: {err}");
    assert!(lines[0].starts_with("simdpool: error: ") && lines[0].contains(needle), "{tag}: {err}");
    assert!(!wrote, "{tag}: wrote an output file");
}

#[test]
fn hostile_geometry_is_one_error_line() {
    let big = (1u64 << 63).to_string();
    let kernel = ((1u64 << 63) + 2).to_string();
    fails(
        "pads-past-i64",
        &["pool", "--op", "max", "--kernel", &kernel, "--pads", &format!("{big},0"), "X", "Y"],
        "overflows",
    );
    let end = (1u64 << 50).to_string();
    fails(
        "huge-end-pad",
        &["pool", "--op", "max", "--kernel", "1", "--pads", &format!("0,{end}"), "X", "Y"],
        "only of padding",
    );
    // One output of a 1x1x1 volume whose include-pad divisor (2^22)^3 overflows i64.
    let (k, p, s) = ((1u64 << 22).to_string(), ((1u64 << 22) - 1).to_string(), (1u64 << 23).to_string());
    let pads = [p.as_str(); 6].join(",");
    let args = ["pool", "--op", "avg", "--kernel", &k, "--stride", &s, "--pads", &pads, "X5", "Y"];
    fails("include-pad-divisor", &args, "average divisor");
    fails(
        "dilation-overflow",
        &["pool", "--op", "max", "--kernel", "3", "--dilation", &u64::MAX.to_string(), "X", "Y"],
        "overflows",
    );
}

#[test]
fn a_huge_dilation_with_one_tap_per_window_runs() {
    // Kernel 1 with dilation 2^62: a plain copy. It used to overflow `dilation * plane` in the kernels.
    let (out, wrote) = run(
        "huge-dilation",
        &["pool", "--op", "max", "--kernel", "1", "--dilation", &(1u64 << 62).to_string(), "X", "Y"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(wrote);
}

/// Runs simdpool with `input` (a path) as INPUT.npy, failing the test rather than hanging if it
/// does not finish within 30 s.
fn run_on(dir: &Dir, input: &str, tag: &str) -> (Output, bool) {
    use std::io::Read;
    let y = dir.s("y.npy");
    let mut child = Command::new(env!("CARGO_BIN_EXE_simdpool"))
        .args(["pool", "--op", "max", "--kernel", "1", input, &y])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run simdpool");
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{tag}: simdpool did not finish in 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    (Output { status, stdout, stderr }, std::path::Path::new(&y).exists())
}

fn input_fails(dir: &Dir, input: &str, tag: &str, needle: &str) {
    let (out, wrote) = run_on(dir, input, tag);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{tag}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{tag}: expected one error line: {err}");
    assert!(lines[0].starts_with("simdpool: error: ") && lines[0].contains(needle), "{tag}: {err}");
    assert!(!wrote, "{tag}: wrote an output file");
}

/// A version 1.0 `.npy` file with this header text (padded as NumPy pads it) and data.
fn npy_file(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

#[test]
fn hostile_npy_inputs_are_one_error_line() {
    let dir = Dir::new("npy");
    let write = |name: &str, bytes: Vec<u8>| {
        std::fs::write(dir.0.join(name), bytes).unwrap();
        dir.s(name)
    };
    let dict = |order: &str, shape: &str| format!("{{'descr': '<f4', 'fortran_order': {order}, 'shape': {shape}, }}");
    let cases = [
        ("falsehood", npy_file(&dict("Falsehood", "(1, 1, 4, 4)"), &[0; 64]), "fortran_order must be True or False"),
        ("empty-dims", npy_file(&dict("False", "(1,,, 1,,4 ,4)"), &[0; 64]), "shape has an empty element"),
        (
            "junk",
            npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4, ) junk}", &[0; 64]),
            "found \"junk}\"",
        ),
        (
            "version-1.7",
            {
                let mut f = npy_file(&dict("False", "(1, 1, 4, 4)"), &[0; 64]);
                f[7] = 7;
                f
            },
            "version 1.7 is not supported",
        ),
        (
            "duplicate-key",
            npy_file(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 8, 2), 'shape': (1, 1, 4, 4)}",
                &[0; 64],
            ),
            "duplicate key \"shape\"",
        ),
        (
            "extra-key-spelling-a-shape",
            npy_file(
                "{'descr': '<f4', 'x': \"'shape': (1, 1, 16)\", 'fortran_order': False, 'shape': (1, 1, 4, 4)}",
                &[0; 64],
            ),
            "unexpected key \"x\"",
        ),
        (
            "4-tb-claimed",
            npy_file(&dict("False", "(1000, 1000, 1000, 1000)"), &[0; 64]),
            "has 64 bytes but its shape needs 4000000000000",
        ),
    ];
    for (tag, bytes, needle) in cases {
        let path = write(&format!("{tag}.npy"), bytes);
        input_fails(&dir, &path, tag, needle);
    }
    input_fails(&dir, &dir.s(""), "directory", "not a regular file but a directory");
    #[cfg(unix)]
    {
        if std::path::Path::new("/dev/zero").exists() {
            input_fails(&dir, "/dev/zero", "dev-zero", "not a regular file but a character device");
        }
        let fifo = dir.s("fifo.npy");
        if Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
            input_fails(&dir, &fifo, "fifo", "not a regular file but a FIFO");
        }
    }
}

/// Runs `simdpool bench ARGS` (through `sh -c PREFIX` when a shell prefix such as a `ulimit` is
/// given) and checks one `simdpool: error:` line containing one of `needles`, and exit `code`.
fn bench_fails(tag: &str, prefix: Option<&str>, args: &[&str], code: i32, needles: &[&str]) {
    let bin = env!("CARGO_BIN_EXE_simdpool");
    let out = match prefix {
        None => Command::new(bin).arg("bench").args(args).output(),
        Some(p) => {
            Command::new("sh").arg("-c").arg(format!("{p} && exec \"$0\" bench \"$@\"")).arg(bin).args(args).output()
        }
    }
    .expect("run simdpool bench");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{tag}: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{tag}: expected one error line: {err}");
    assert!(lines[0].starts_with("simdpool: error: "), "{tag}: {err}");
    assert!(needles.iter().any(|n| lines[0].contains(n)), "{tag}: {err}");
}

#[test]
fn bench_never_panics_or_aborts() {
    let dir = Dir::new("bench");
    let suite = dir.s("suite.json");
    std::fs::write(
        &suite,
        r#"{"cases": [
            {"name": "huge_adaptive", "op": "adaptive_avg", "dims": [1, 1, 4, 4], "out": [100000, 100000]},
            {"name": "huge_global", "op": "gmax", "dims": [1, 1, 1024, 1024, 1048576]},
            {"name": "two_gib", "op": "gavg", "dims": [1, 1, 1024, 1024, 512]}
        ]}"#,
    )
    .unwrap();
    let refused = ["more than this machine's", "cannot allocate"];
    for case in ["huge_adaptive", "huge_global"] {
        bench_fails(case, None, &["--suite", &suite, "--case", case, "--time-scale", "0.01"], 1, &refused);
    }
    // A case the machine may hold but the process may not: 2 GiB of input under a 1 GiB
    // address-space limit fails in the fallible allocation, not in an abort.
    #[cfg(unix)]
    bench_fails(
        "address-space-limit",
        Some("ulimit -v 1048576"),
        &["--suite", &suite, "--case", "two_gib", "--layout", "nchw", "--time-scale", "0.01"],
        1,
        &refused,
    );
    // The thread cap of `pool`, as a usage error.
    bench_fails("threads-100000", None, &["--threads", "100000"], 2, &["--threads 100000: at most 1024"]);
    bench_fails("threads-1025", None, &["--threads", "1,1025"], 2, &["--threads 1025: at most 1024"]);
    bench_fails("threads-0", None, &["--threads", "0"], 2, &["at least 1 thread"]);
    bench_fails("unknown-flag", None, &["--bogus"], 2, &["unknown argument \"--bogus\""]);
    bench_fails("missing-value", None, &["--suite"], 2, &["--suite needs a value"]);
    // A closed stdout is not a panic.
    for args in [&["--list"][..], &["--help"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_simdpool"))
            .arg("bench")
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
