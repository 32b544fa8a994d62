//! The CLI rows of the bad-input corpus (tests/integration/bad_input.rs in the library): hostile parameters
//! that once panicked or aborted inside the library must reach the user as exactly one
//! `simdpool: error:` line and a non-zero exit, with no output file written; and a huge dilation
//! that leaves one tap per window runs. Then the destinations: on any error no output, index or
//! gradient file is created or changed (each case with the files absent and present
//! beforehand), aliases of one file under other spellings are refused, symbolic links are
//! written through, special files are never replaced or opened, any valid file name works; the
//! gradient flags (`--grad-output`, `--grad-input`) go through the same checks; and the memory a
//! run takes is its input and output, once.

use simdpool::npy::NpyArray;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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

/// Runs `cmd` with piped output, failing the test rather than hanging if it does not finish
/// within 30 s.
fn timed(cmd: &mut Command, tag: &str) -> Output {
    use std::io::Read;
    let mut child =
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("run simdpool");
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
    Output { status, stdout, stderr }
}

/// Runs simdpool with `input` (a path) as INPUT.npy, within 30 s.
fn run_on(dir: &Dir, input: &str, tag: &str) -> (Output, bool) {
    let y = dir.s("y.npy");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_simdpool"));
    cmd.args(["pool", "--op", "max", "--kernel", "1", input, &y]);
    (timed(&mut cmd, tag), std::path::Path::new(&y).exists())
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

// ---------------------------------------------------------------------------------------------
// Destinations

/// What a directory tree holds: each path's kind and, for files and links, content or target.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    File(Vec<u8>),
    Link(PathBuf),
    Dir,
    Other(String),
}

fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let ft = std::fs::symlink_metadata(&path).unwrap().file_type();
            let entry = if ft.is_symlink() {
                Entry::Link(std::fs::read_link(&path).unwrap())
            } else if ft.is_file() {
                Entry::File(std::fs::read(&path).unwrap())
            } else if ft.is_dir() {
                todo.push(path.clone());
                Entry::Dir
            } else {
                Entry::Other(format!("{ft:?}"))
            };
            out.insert(path.strip_prefix(root).unwrap().to_path_buf(), entry);
        }
    }
    out
}

/// Runs simdpool in `dir` (within 30 s); `@` in an argument stands for `dir`'s absolute path.
fn run_in(dir: &Dir, args: &[&str], tag: &str) -> Output {
    let abs = dir.0.to_string_lossy().into_owned();
    let argv: Vec<String> = args.iter().map(|a| a.replace('@', &abs)).collect();
    timed(Command::new(env!("CARGO_BIN_EXE_simdpool")).current_dir(&dir.0).args(&argv), tag)
}

/// The old bytes of a destination that exists before the run.
const OLD: &[u8] = b"old bytes: must survive a failed run";

/// A setup: prepares `dir`, with the destinations present beforehand or not; false if this
/// system cannot make the case (no mkfifo, not root for mknod).
type Setup = fn(dir: &Path, present: bool) -> bool;

/// Runs a failing command after `setup`, once with the destinations absent and once present, and
/// checks the exit status, the one error line, and that the directory is exactly as it was.
fn dest_fails(tag: &str, setup: Setup, args: &[&str], code: i32, needle: &str) {
    for present in [false, true] {
        let tag = format!("{tag}-{}", if present { "present" } else { "absent" });
        let dir = Dir::new(&tag);
        if !setup(&dir.0, present) {
            eprintln!("{tag}: skipped, this system cannot make the case");
            continue;
        }
        let before = snapshot(&dir.0);
        let out = run_in(&dir, args, &tag);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{tag}: {err}");
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{tag}: expected one error line: {err}");
        assert!(lines[0].starts_with("simdpool: error: ") && lines[0].contains(needle), "{tag}: {err}");
        assert_eq!(snapshot(&dir.0), before, "{tag}: a failed run changed the directory");
    }
}

fn old(dir: &Path, name: &str, present: bool) {
    if present {
        std::fs::write(dir.join(name), OLD).unwrap();
    }
}

#[cfg(unix)]
fn symlink(to: &str, at: &Path) {
    std::os::unix::fs::symlink(to, at).unwrap();
}

#[cfg(unix)]
fn mkfifo(at: &Path) -> bool {
    Command::new("mkfifo").arg(at).status().is_ok_and(|s| s.success())
}

const MAX_IDX: [&str; 7] = ["pool", "--op", "max", "--kernel", "2", "-q", "--indices"];

fn with_indices(idx: &str, output: &str) -> Vec<&'static str> {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    [&MAX_IDX[..], &[leak(idx), "x.npy", leak(output)]].concat()
}

#[test]
fn one_file_under_two_spellings_is_refused_before_anything_is_written() {
    let same = "name the same file";
    let both: Setup = |d, p| {
        old(d, "y.npy", p);
        true
    };
    dest_fails("alias-dot", both, &with_indices("./y.npy", "y.npy"), 2, same);
    let sub: Setup = |d, p| {
        std::fs::create_dir(d.join("sub")).unwrap();
        old(d, "y.npy", p);
        true
    };
    dest_fails("alias-dotdot", sub, &with_indices("sub/../y.npy", "y.npy"), 2, same);
    dest_fails("alias-absolute", both, &with_indices("@/y.npy", "y.npy"), 2, same);
    dest_fails("alias-absolute-output", both, &with_indices("y.npy", "@/./y.npy"), 2, same);
    dest_fails("output-is-input", both, &["pool", "--op", "max", "--kernel", "2", "x.npy", "./x.npy"], 2, same);
    dest_fails("indices-is-input", both, &with_indices("@/x.npy", "y.npy"), 2, same);
    #[cfg(unix)]
    {
        // A link to y.npy (dangling while y.npy is absent).
        let link: Setup = |d, p| {
            old(d, "y.npy", p);
            symlink("y.npy", &d.join("l.npy"));
            true
        };
        dest_fails("alias-symlink", link, &with_indices("l.npy", "y.npy"), 2, same);
        dest_fails("alias-symlink-output", link, &with_indices("y.npy", "l.npy"), 2, same);
        let dir_link: Setup = |d, p| {
            old(d, "y.npy", p);
            symlink(".", &d.join("here"));
            true
        };
        dest_fails("alias-symlinked-dir", dir_link, &with_indices("here/y.npy", "y.npy"), 2, same);
        let hard: Setup = |d, p| {
            // Only a file that exists has a second name.
            std::fs::write(d.join("y.npy"), OLD).unwrap();
            if p {
                std::fs::hard_link(d.join("y.npy"), d.join("h.npy")).unwrap();
            } else {
                std::fs::write(d.join("h.npy"), OLD).unwrap();
            }
            true
        };
        // Absent: two distinct files, so the run succeeds; checked below. Present: refused.
        dest_fails_present_only("alias-hardlink", hard, &with_indices("h.npy", "y.npy"), 2, same);
        let to_input: Setup = |d, _| {
            symlink("x.npy", &d.join("y.npy"));
            true
        };
        dest_fails("output-symlink-to-input", to_input, &with_indices("idx.npy", "y.npy"), 2, same);
        let hard_input: Setup = |d, _| {
            std::fs::hard_link(d.join("x.npy"), d.join("y.npy")).unwrap();
            true
        };
        dest_fails(
            "output-hardlink-to-input",
            hard_input,
            &["pool", "--op", "max", "--kernel", "2", "x.npy", "y.npy"],
            2,
            same,
        );
    }
}

/// `dest_fails` for the `present` case only.
fn dest_fails_present_only(tag: &str, setup: Setup, args: &[&str], code: i32, needle: &str) {
    let tag = format!("{tag}-present");
    let dir = Dir::new(&tag);
    assert!(setup(&dir.0, true));
    let before = snapshot(&dir.0);
    let out = run_in(&dir, args, &tag);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{tag}: {err}");
    assert!(err.lines().count() == 1 && err.contains(needle), "{tag}: {err}");
    assert_eq!(snapshot(&dir.0), before, "{tag}: a failed run changed the directory");
}

/// A directory `name` in `d`, holding a file.
fn dir_at(d: &Path, name: &str) {
    std::fs::create_dir(d.join(name)).unwrap();
    std::fs::write(d.join(name).join("inside"), b"kept").unwrap();
}

#[test]
fn a_bad_destination_fails_before_any_file_is_written() {
    let idx_dir: Setup = |d, p| {
        dir_at(d, "d");
        old(d, "y.npy", p);
        true
    };
    dest_fails("indices-directory", idx_dir, &with_indices("d", "y.npy"), 1, "cannot write d: it is a directory");
    let out_dir: Setup = |d, p| {
        dir_at(d, "d");
        old(d, "idx.npy", p);
        true
    };
    dest_fails("output-directory", out_dir, &with_indices("idx.npy", "d"), 1, "cannot write d: it is a directory");
    let no_dir: Setup = |d, p| {
        old(d, "y.npy", p);
        true
    };
    dest_fails("indices-missing-dir", no_dir, &with_indices("nodir/idx.npy", "y.npy"), 1, "cannot write nodir/idx.npy");
    dest_fails(
        "output-missing-dir",
        |d, p| {
            old(d, "idx.npy", p);
            true
        },
        &with_indices("idx.npy", "nodir/y.npy"),
        1,
        "cannot write nodir/y.npy",
    );
    let file_dir: Setup = |d, p| {
        std::fs::write(d.join("f"), b"a file").unwrap();
        old(d, "y.npy", p);
        true
    };
    dest_fails("indices-under-a-file", file_dir, &with_indices("f/idx.npy", "y.npy"), 1, "cannot write f/idx.npy");
    dest_fails("trailing-slash", no_dir, &with_indices("idx.npy/", "y.npy"), 1, "names a directory");
    dest_fails("empty-name", no_dir, &with_indices("", "y.npy"), 1, "an empty path is not a file name");
    // NAME_MAX is 255 on the usual file systems.
    let long = format!("{}.npy", "i".repeat(252));
    dest_fails("name-too-long", no_dir, &with_indices(&long, "y.npy"), 1, "cannot write iii");
    // A failure after the destinations were checked (the plan refuses indices for avg pooling;
    // the input's dtype): nothing written either.
    let both: Setup = |d, p| {
        old(d, "y.npy", p);
        old(d, "idx.npy", p);
        true
    };
    let avg = ["pool", "--op", "avg", "--kernel", "2", "--indices", "idx.npy", "x.npy", "y.npy"];
    dest_fails("late-plan-error", both, &avg, 1, "indices");
    let i64_input: Setup = |d, p| {
        std::fs::write(d.join("x.npy"), NpyArray::from_slice(&[1, 1, 4], &[1i64, 2, 3, 4]).to_bytes()).unwrap();
        old(d, "y.npy", p);
        old(d, "idx.npy", p);
        true
    };
    dest_fails("late-dtype-error", i64_input, &with_indices("idx.npy", "y.npy"), 1, "int64");
}

#[cfg(unix)]
#[test]
fn special_files_are_never_replaced_or_opened() {
    let fifo_out: Setup = |d, p| {
        old(d, "idx.npy", p);
        mkfifo(&d.join("y.npy"))
    };
    dest_fails("output-fifo", fifo_out, &with_indices("idx.npy", "y.npy"), 1, "not a regular file but a FIFO");
    let fifo_idx: Setup = |d, p| {
        old(d, "y.npy", p);
        mkfifo(&d.join("idx.npy"))
    };
    dest_fails("indices-fifo", fifo_idx, &with_indices("idx.npy", "y.npy"), 1, "not a regular file but a FIFO");
    let link_fifo: Setup = |d, p| {
        old(d, "idx.npy", p);
        symlink("f", &d.join("y.npy"));
        mkfifo(&d.join("f"))
    };
    dest_fails("output-symlink-to-fifo", link_fifo, &with_indices("idx.npy", "y.npy"), 1, "a FIFO");
    let socket: Setup = |d, p| {
        old(d, "idx.npy", p);
        std::os::unix::net::UnixListener::bind(d.join("y.npy")).is_ok()
    };
    dest_fails("output-socket", socket, &with_indices("idx.npy", "y.npy"), 1, "not a regular file but a socket");
    // A character device (the null device's numbers) made in the test directory: only root can.
    let device: Setup = |d, p| {
        old(d, "idx.npy", p);
        Command::new("mknod")
            .arg(d.join("y.npy"))
            .args(["c", "1", "3"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    dest_fails(
        "output-device",
        device,
        &with_indices("idx.npy", "y.npy"),
        1,
        "not a regular file but a character device",
    );
    let loop_: Setup = |d, p| {
        old(d, "idx.npy", p);
        symlink("y2.npy", &d.join("y.npy"));
        symlink("y.npy", &d.join("y2.npy"));
        true
    };
    dest_fails("output-symlink-loop", loop_, &with_indices("idx.npy", "y.npy"), 1, "too many levels of symbolic links");
    // An input behind a symbolic link to a FIFO: refused from its metadata, never opened.
    let dir = Dir::new("input-link-fifo");
    if mkfifo(&dir.0.join("f")) {
        symlink("f", &dir.0.join("in.npy"));
        input_fails(&dir, &dir.s("in.npy"), "input-link-fifo", "not a regular file but a FIFO");
    }
}

/// The output of max pooling x.npy (1x2x5) with kernel 2, and its indices.
fn expected() -> (NpyArray, NpyArray) {
    (NpyArray::from_f32(&[1, 2, 2], &[2., 4., 7., 9.]), NpyArray::from_slice(&[1, 2, 2], &[1i64, 3, 1, 3]))
}

fn read(path: &Path) -> NpyArray {
    NpyArray::parse(&std::fs::read(path).unwrap()).unwrap()
}

fn succeeds(dir: &Dir, args: &[&str], tag: &str) {
    let out = run_in(dir, args, tag);
    assert!(out.status.success(), "{tag}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The entries of a directory, sorted: no temporary is left behind.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[cfg(unix)]
#[test]
fn a_symlinked_output_is_written_through_to_its_target() {
    use std::os::unix::fs::PermissionsExt;
    for present in [false, true] {
        let tag = format!("symlink-through-{present}");
        let dir = Dir::new(&tag);
        let d = &dir.0;
        std::fs::create_dir(d.join("sub")).unwrap();
        symlink("real.npy", &d.join("link.npy"));
        // Relative to the link's own directory, through a second link.
        symlink("../chain.npy", &d.join("sub/idx-link.npy"));
        symlink("real-idx.npy", &d.join("chain.npy"));
        if present {
            std::fs::write(d.join("real.npy"), OLD).unwrap();
            std::fs::set_permissions(d.join("real.npy"), std::fs::Permissions::from_mode(0o640)).unwrap();
            std::fs::write(d.join("real-idx.npy"), OLD).unwrap();
        }
        succeeds(&dir, &with_indices("sub/idx-link.npy", "link.npy"), &tag);
        let (y, idx) = expected();
        assert_eq!(std::fs::read_link(d.join("link.npy")).unwrap(), Path::new("real.npy"), "{tag}");
        assert_eq!(std::fs::read_link(d.join("sub/idx-link.npy")).unwrap(), Path::new("../chain.npy"), "{tag}");
        assert_eq!(std::fs::read_link(d.join("chain.npy")).unwrap(), Path::new("real-idx.npy"), "{tag}");
        assert_eq!(read(&d.join("real.npy")), y, "{tag}");
        assert_eq!(read(&d.join("real-idx.npy")), idx, "{tag}");
        if present {
            // The replaced file keeps its mode.
            let mode = std::fs::metadata(d.join("real.npy")).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o640, "{tag}");
        }
        assert_eq!(
            listing(d),
            ["chain.npy", "link.npy", "real-idx.npy", "real.npy", "sub", "x.npy", "x5.npy"],
            "{tag}"
        );
        assert_eq!(listing(&d.join("sub")), ["idx-link.npy"], "{tag}");
    }
    // Two names of one file are refused (above), but two different files are fine while absent.
    let dir = Dir::new("hardlink-absent");
    std::fs::write(dir.0.join("h.npy"), OLD).unwrap();
    succeeds(&dir, &with_indices("h.npy", "y.npy"), "hardlink-absent");
    assert_eq!(read(&dir.0.join("y.npy")), expected().0);
}

#[test]
fn any_valid_file_name_works() {
    // 255 bytes, NAME_MAX on the usual file systems: the temporary files must not lengthen it.
    let (out_name, idx_name) = (format!("{}.npy", "y".repeat(251)), format!("{}.npy", "i".repeat(251)));
    for present in [false, true] {
        let tag = format!("long-names-{present}");
        let dir = Dir::new(&tag);
        old(&dir.0, &out_name, present);
        old(&dir.0, &idx_name, present);
        succeeds(&dir, &with_indices(&idx_name, &out_name), &tag);
        let (y, idx) = expected();
        assert_eq!(read(&dir.0.join(&out_name)), y, "{tag}");
        assert_eq!(read(&dir.0.join(&idx_name)), idx, "{tag}");
        let mut want = vec![idx_name.clone(), "x.npy".into(), "x5.npy".into(), out_name.clone()];
        want.sort();
        assert_eq!(listing(&dir.0), want, "{tag}");
    }
}

// ---------------------------------------------------------------------------------------------
// Memory

/// Runs simdpool under an address-space limit of `kib` KiB (`ulimit -v`), on the calling thread.
#[cfg(unix)]
fn limited(dir: &Dir, kib: u64, args: &[&str]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.current_dir(&dir.0)
        .arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_simdpool"))
        .args(args);
    timed(&mut cmd, "ulimit")
}

#[cfg(unix)]
#[test]
fn a_run_holds_its_input_and_output_once() {
    // 32 MiB in, 32 MiB out (kernel 1 copies): the run needs 64 MiB of data. Reading the input
    // into a byte buffer and converting it, or building the output file in memory, is one more
    // 32 MiB copy. The limit leaves 24 MiB for the program, its libraries and stacks (it needs
    // about 14 MiB on x86-64 Linux: the same run passes at 78 MiB and fails at 76).
    let dir = Dir::new("memory");
    let n = 8 << 20;
    let x: Vec<f32> = (0..n).map(|i| (i % 1000) as f32).collect();
    std::fs::write(dir.0.join("big.npy"), NpyArray::from_f32(&[1, 8, 1024, 1024], &x).to_bytes()).unwrap();
    drop(x);
    let args = ["pool", "--op", "max", "--kernel", "1", "--threads", "1", "-q", "big.npy", "y.npy"];
    let out = limited(&dir, (64 + 24) << 10, &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        std::fs::metadata(dir.0.join("y.npy")).unwrap().len(),
        std::fs::metadata(dir.0.join("big.npy")).unwrap().len()
    );
    // A header claiming 16 GB over a 1 GiB sparse file is refused under 64 MiB.
    let mut head = NpyArray::from_f32(&[1, 4, 1_000_000, 1000], &[]).to_bytes();
    head.truncate(128);
    std::fs::write(dir.0.join("lie.npy"), &head).unwrap();
    std::fs::OpenOptions::new().write(true).open(dir.0.join("lie.npy")).unwrap().set_len(1 << 30).unwrap();
    let out = limited(&dir, 64 << 10, &["pool", "--op", "max", "--kernel", "2", "--threads", "1", "lie.npy", "z.npy"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("its shape needs 16000000000"), "{err}");
    assert!(!dir.0.join("z.npy").exists());
}

// ---------------------------------------------------------------------------------------------
// Gradients

/// `pool --op max --kernel 2` on x.npy with indices and gradients: GO.npy `go`, GI.npy `gi`,
/// OUT.npy `output`.
fn with_grad(go: &str, gi: &str, output: &str) -> Vec<&'static str> {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    [&MAX_IDX[..], &["idx.npy", "--grad-output", leak(go), "--grad-input", leak(gi), "x.npy", leak(output)]].concat()
}

/// A good GO.npy for `with_grad` (the output of x.npy is 1x2x2), and old destinations if
/// `present`.
fn grad_setup(d: &Path, present: bool) -> bool {
    std::fs::write(d.join("go.npy"), NpyArray::from_f32(&[1, 2, 2], &[1., 2., 3., 4.]).to_bytes()).unwrap();
    for name in ["y.npy", "idx.npy", "gi.npy"] {
        old(d, name, present);
    }
    true
}

#[test]
fn a_bad_gradient_request_writes_nothing() {
    let wrong_shape: Setup = |d, p| {
        grad_setup(d, p);
        std::fs::write(d.join("go.npy"), NpyArray::from_f32(&[1, 2, 3], &[0.; 6]).to_bytes()).unwrap();
        true
    };
    let args = with_grad("go.npy", "gi.npy", "y.npy");
    dest_fails("grad-output-shape", wrong_shape, &args, 1, "has shape 1x2x3 but the output has shape 1x2x2 (nchw)");
    let wrong_dtype: Setup = |d, p| {
        grad_setup(d, p);
        std::fs::write(d.join("go.npy"), NpyArray::from_slice(&[1, 2, 2], &[1f64, 2., 3., 4.]).to_bytes()).unwrap();
        true
    };
    dest_fails("grad-output-dtype", wrong_dtype, &args, 1, "has dtype <f8 but the output has dtype <f4");
    // x.npy read channels-last is N=1, L=2, C=5: its output is 1x1x5, and GO in channels-first
    // order is refused with a word on the layout.
    let other_layout: Setup = |d, p| {
        grad_setup(d, p);
        std::fs::write(d.join("go.npy"), NpyArray::from_f32(&[1, 5, 1], &[0.; 5]).to_bytes()).unwrap();
        true
    };
    let nhwc = [&args[..], &["--layout", "nhwc"]].concat();
    dest_fails("grad-output-layout", other_layout, &nhwc, 1, "that is the output's shape in nchw order");
    let fortran: Setup = |d, p| {
        grad_setup(d, p);
        let mut bytes = NpyArray::from_f32(&[1, 2, 2], &[1., 2., 3., 4.]).to_bytes();
        let at = bytes.windows(5).position(|w| w == b"False").unwrap();
        bytes[at..at + 5].copy_from_slice(b"True ");
        std::fs::write(d.join("go.npy"), bytes).unwrap();
        true
    };
    dest_fails("grad-output-fortran", fortran, &args, 1, "Fortran order");
    dest_fails(
        "grad-output-missing",
        |d, p| {
            grad_setup(d, p);
            std::fs::remove_file(d.join("go.npy")).unwrap();
            true
        },
        &args,
        1,
        "cannot read go.npy",
    );
    // Only one of the two flags: a usage error.
    let only_go = ["pool", "--op", "max", "--kernel", "2", "-q", "--grad-output", "go.npy", "x.npy", "y.npy"];
    dest_fails("grad-output-alone", grad_setup, &only_go, 2, "--grad-output needs --grad-input");
    let only_gi = ["pool", "--op", "max", "--kernel", "2", "-q", "--grad-input", "gi.npy", "x.npy", "y.npy"];
    dest_fails("grad-input-alone", grad_setup, &only_gi, 2, "--grad-input needs --grad-output");
    // u8 and i8 have no gradient (whatever GO holds).
    let u8_input: Setup = |d, p| {
        grad_setup(d, p);
        std::fs::write(d.join("x.npy"), NpyArray::from_slice(&[1, 2, 5], &[1u8, 2, 3, 4, 5, 6, 7, 8, 9, 0]).to_bytes())
            .unwrap();
        std::fs::write(d.join("go.npy"), NpyArray::from_slice(&[1, 2, 2], &[1u8, 2, 3, 4]).to_bytes()).unwrap();
        true
    };
    dest_fails("grad-u8", u8_input, &args, 1, "u8 has no gradient");
    let i8_input: Setup = |d, p| {
        grad_setup(d, p);
        std::fs::write(d.join("x.npy"), NpyArray::from_slice(&[1, 2, 5], &[1i8, 2, 3, 4, 5, 6, 7, 8, 9, 0]).to_bytes())
            .unwrap();
        true
    };
    dest_fails("grad-i8", i8_input, &args, 1, "i8 has no gradient");
    // A failure after every check passed (the plan refuses indices for avg): nothing either.
    let avg = [
        "pool",
        "--op",
        "avg",
        "--kernel",
        "2",
        "--indices",
        "idx.npy",
        "--grad-output",
        "go.npy",
        "--grad-input",
        "gi.npy",
        "x.npy",
        "y.npy",
    ];
    dest_fails("grad-late-plan-error", grad_setup, &avg, 1, "indices");
}

#[test]
fn a_gradient_destination_naming_another_file_is_refused() {
    let same = "name the same file";
    let out = "--grad-input and OUTPUT.npy name the same file";
    dest_fails("gi-is-output", grad_setup, &with_grad("go.npy", "y.npy", "y.npy"), 2, out);
    dest_fails("gi-is-output-dot", grad_setup, &with_grad("go.npy", "./y.npy", "y.npy"), 2, out);
    dest_fails("gi-is-output-abs", grad_setup, &with_grad("go.npy", "@/y.npy", "y.npy"), 2, out);
    let sub: Setup = |d, p| {
        std::fs::create_dir(d.join("sub")).unwrap();
        grad_setup(d, p)
    };
    dest_fails("gi-is-output-dotdot", sub, &with_grad("go.npy", "sub/../y.npy", "y.npy"), 2, out);
    dest_fails(
        "gi-is-indices",
        grad_setup,
        &with_grad("go.npy", "./idx.npy", "y.npy"),
        2,
        "--grad-input and --indices",
    );
    dest_fails(
        "gi-is-input",
        grad_setup,
        &with_grad("go.npy", "@/x.npy", "y.npy"),
        2,
        "--grad-input and INPUT.npy name the same file: the input gradient would overwrite the input",
    );
    dest_fails(
        "gi-is-grad-output",
        grad_setup,
        &with_grad("go.npy", "./go.npy", "y.npy"),
        2,
        "--grad-input and --grad-output name the same file",
    );
    dest_fails(
        "gi-is-grad-output-literally",
        grad_setup,
        &with_grad("go.npy", "go.npy", "y.npy"),
        2,
        "--grad-input and --grad-output name the same file",
    );
    dest_fails(
        "output-is-grad-output",
        grad_setup,
        &with_grad("go.npy", "gi.npy", "./go.npy"),
        2,
        "OUTPUT.npy and --grad-output name the same file",
    );
    #[cfg(unix)]
    {
        let link: Setup = |d, p| {
            grad_setup(d, p);
            symlink("y.npy", &d.join("l.npy"));
            true
        };
        dest_fails("gi-symlink-to-output", link, &with_grad("go.npy", "l.npy", "y.npy"), 2, out);
        let hard: Setup = |d, _| {
            grad_setup(d, true);
            std::fs::hard_link(d.join("y.npy"), d.join("h.npy")).unwrap();
            true
        };
        dest_fails_present_only("gi-hardlink-to-output", hard, &with_grad("go.npy", "h.npy", "y.npy"), 2, same);
        let hard_go: Setup = |d, p| {
            grad_setup(d, p);
            std::fs::hard_link(d.join("go.npy"), d.join("h.npy")).unwrap();
            true
        };
        dest_fails("gi-hardlink-to-grad-output", hard_go, &with_grad("go.npy", "h.npy", "y.npy"), 2, same);
    }
}

#[cfg(unix)]
#[test]
fn gradient_files_are_never_special() {
    let args = with_grad("go.npy", "gi.npy", "y.npy");
    let fifo_gi: Setup = |d, p| {
        grad_setup(d, p);
        std::fs::remove_file(d.join("gi.npy")).ok();
        mkfifo(&d.join("gi.npy"))
    };
    dest_fails("grad-input-fifo", fifo_gi, &args, 1, "cannot write gi.npy: not a regular file but a FIFO");
    let dir_gi: Setup = |d, p| {
        grad_setup(d, p);
        std::fs::remove_file(d.join("gi.npy")).ok();
        dir_at(d, "gi.npy");
        true
    };
    dest_fails("grad-input-directory", dir_gi, &args, 1, "cannot write gi.npy: it is a directory");
    dest_fails(
        "grad-input-missing-dir",
        grad_setup,
        &with_grad("go.npy", "nodir/gi.npy", "y.npy"),
        1,
        "cannot write nodir/gi.npy",
    );
    // GO.npy behind a FIFO is refused from its metadata, never opened (which would block).
    let fifo_go: Setup = |d, p| {
        grad_setup(d, p);
        std::fs::remove_file(d.join("go.npy")).unwrap();
        mkfifo(&d.join("go.npy"))
    };
    dest_fails("grad-output-fifo", fifo_go, &args, 1, "not a regular file but a FIFO");
    let dir_go: Setup = |d, p| {
        grad_setup(d, p);
        std::fs::remove_file(d.join("go.npy")).unwrap();
        dir_at(d, "go.npy");
        true
    };
    dest_fails("grad-output-directory", dir_go, &args, 1, "not a regular file but a directory");
}

#[cfg(unix)]
#[test]
fn a_gradient_run_replaces_every_destination_together() {
    for present in [false, true] {
        let tag = format!("grad-ok-{present}");
        let dir = Dir::new(&tag);
        let d = &dir.0;
        grad_setup(d, present);
        // GI through a symbolic link: written through to its target.
        if present {
            std::fs::rename(d.join("gi.npy"), d.join("gi-real.npy")).unwrap();
        }
        symlink("gi-real.npy", &d.join("gi.npy"));
        succeeds(&dir, &with_grad("go.npy", "gi.npy", "y.npy"), &tag);
        let (y, idx) = expected();
        assert_eq!(read(&d.join("y.npy")), y, "{tag}");
        assert_eq!(read(&d.join("idx.npy")), idx, "{tag}");
        // Max kernel 2 on [1 2 3 4 5 | 6 7 8 9 0]: argmaxes 1, 3 in each plane.
        let gi = NpyArray::from_f32(&[1, 2, 5], &[0., 1., 0., 2., 0., 0., 3., 0., 4., 0.]);
        assert_eq!(read(&d.join("gi-real.npy")), gi, "{tag}");
        assert_eq!(std::fs::read_link(d.join("gi.npy")).unwrap(), Path::new("gi-real.npy"), "{tag}");
        assert_eq!(listing(d), ["gi-real.npy", "gi.npy", "go.npy", "idx.npy", "x.npy", "x5.npy", "y.npy"], "{tag}");
    }
}
