//! Runs the real `simdpool` binary on `.npy` files in a temporary directory and checks its output
//! against `simdpool::reference`, the PyTorch golden vectors, and its error behaviour.

use simdpool::npy::{NpyArray, NpyDType, NpyElement};
use simdpool::{AutoPad, AvgOptions, Element, Isa, PoolOp, TensorShape, Window, bf16, f16, reference};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A fresh, empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("simdpool-cli-test-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn s(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }
    /// File names in the directory, sorted.
    fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read temp dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn simdpool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_simdpool")).args(args).output().expect("run simdpool")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts success, an empty stdout, and a one-line summary on stderr.
fn assert_ok(out: &Output, what: &str) {
    let err = text(&out.stderr);
    assert!(out.status.success(), "{what}: exit {:?}, stderr: {err}", out.status.code());
    assert!(out.stdout.is_empty(), "{what}: unexpected stdout: {}", text(&out.stdout));
    let summary: Vec<&str> = err.lines().filter(|l| !l.starts_with("simdpool: note:")).collect();
    assert_eq!(summary.len(), 1, "{what}: expected one summary line, got: {err}");
    assert!(summary[0].starts_with("simdpool: "), "{what}: {err}");
}

/// Asserts failure with `code`, nothing on stdout, and exactly one `simdpool: error:` line on
/// stderr that contains `needle`. Returns the line.
fn assert_fails(out: &Output, code: i32, needle: &str, what: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{what}: stderr: {err}");
    assert!(out.stdout.is_empty(), "{what}: unexpected stdout: {}", text(&out.stdout));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: expected one error line, got: {err}");
    assert!(lines[0].starts_with("simdpool: error: "), "{what}: {err}");
    assert!(lines[0].contains(needle), "{what}: {:?} does not mention {needle:?}", lines[0]);
    lines[0].to_string()
}

fn write<T: NpyElement>(path: &Path, shape: &[usize], data: &[T]) {
    std::fs::write(path, NpyArray::from_slice(shape, data).to_bytes()).expect("write npy");
}

fn read(path: &Path) -> NpyArray {
    NpyArray::parse(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_as<T: NpyElement>(path: &Path) -> (Vec<usize>, Vec<T>) {
    let a = read(path);
    let v = a.to_vec::<T>().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (a.shape, v)
}

/// Deterministic pseudo-random values in [-8, 8) with a few repeats (ties) and, for floats, exact
/// binary fractions.
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 33) % 64) as f64 / 4.0 - 8.0
        })
        .collect()
}

fn input_of<T: Element>(n: usize, seed: u64) -> Vec<T> {
    values(n, seed)
        .into_iter()
        .map(|v| T::from_f64(if T::from_f64(-1.0).to_f64() < 0.0 { v } else { v + 8.0 }))
        .collect()
}

fn assert_close<T: Element>(got: &[T], want: &[T], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64(), w.to_f64());
        let ok = g == w || (g.is_nan() && w.is_nan()) || (g - w).abs() <= rel * w.abs().max(1e-3);
        assert!(ok, "{what}: element {i}: got {g}, want {w}");
    }
}

/// Runs `simdpool` with `args` on `input` (shape `dims`, in `layout` order), checks the output
/// (and indices when `indices`) against the reference, and returns the raw output bytes.
#[allow(clippy::too_many_arguments)]
fn check_against_reference<T: Element + NpyElement>(
    tag: &str,
    args: &[&str],
    shape: &TensorShape,
    op: &PoolOp,
    input: &[T],
    indices: bool,
    rel: f64,
) -> Vec<u8> {
    let dir = TempDir::new(tag);
    write(&dir.path("x.npy"), &shape.dims(), input);
    let (x, y, idx) = (dir.s("x.npy"), dir.s("y.npy"), dir.s("idx.npy"));
    let mut argv: Vec<&str> = args.to_vec();
    if indices {
        argv.extend(["--indices", &idx]);
    }
    argv.extend([x.as_str(), y.as_str()]);
    let out = simdpool(&argv);
    assert_ok(&out, tag);
    let want = reference::pool::<T>(op, input, shape).expect("reference");
    let arr = read(&dir.path("y.npy"));
    assert_eq!(arr.dtype, T::NPY, "{tag}: output dtype");
    assert_eq!(arr.shape, want.shape.dims(), "{tag}: output shape");
    let got: Vec<T> = arr.to_vec().expect("output values");
    if op.has_indices() {
        assert!(
            got.iter().zip(&want.values).all(|(g, w)| g.to_f64() == w.to_f64() || (g.is_nan() && w.is_nan())),
            "{tag}: max values differ from the reference: {got:?} vs {:?}",
            want.values
        );
    } else {
        assert_close(&got, &want.values, rel, tag);
    }
    if indices {
        let (ishape, got_idx) = read_as::<i64>(&dir.path("idx.npy"));
        assert_eq!(ishape, want.shape.dims(), "{tag}: indices shape");
        assert_eq!(got_idx, want.indices.expect("reference indices"), "{tag}: indices");
    }
    arr.data
}

// ---------------------------------------------------------------------------------------------
// Ops

#[test]
fn seed_example_max_with_indices() {
    let dir = TempDir::new("seed");
    let x = [1., 3., 2., 4., 5., 6., 1., 2., 7., 8., 9., 0., 4., 3., 2., 1.0f32];
    write(&dir.path("x.npy"), &[1, 1, 4, 4], &x);
    let out = simdpool(&[
        "pool",
        "--op",
        "max",
        "--kernel",
        "2",
        "--stride",
        "2",
        "--indices",
        &dir.s("idx.npy"),
        &dir.s("x.npy"),
        &dir.s("y.npy"),
    ]);
    assert_ok(&out, "seed");
    let (shape, y) = read_as::<f32>(&dir.path("y.npy"));
    assert_eq!(shape, [1, 1, 2, 2]);
    assert_eq!(y, [6., 4., 8., 9.]);
    let (shape, idx) = read_as::<i64>(&dir.path("idx.npy"));
    assert_eq!(shape, [1, 1, 2, 2]);
    assert_eq!(idx, [5, 3, 9, 10]);
    assert!(text(&out.stderr).contains("max f32 nchw 1x1x4x4 -> 1x1x2x2"), "{}", text(&out.stderr));
}

#[test]
fn windowed_ops_match_the_reference() {
    let shape = TensorShape::nchw(&[2, 3, 9, 11]).unwrap();
    let x: Vec<f32> = input_of(shape.len(), 1);
    let w = || Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]);
    let cases: Vec<(&str, Vec<&str>, PoolOp, bool)> = vec![
        ("max", vec!["--op", "max", "--kernel", "3", "--stride", "2", "--padding", "1"], PoolOp::max(w()), true),
        (
            "max-dil-ceil",
            vec!["--op", "max", "--kernel", "2,3", "--stride", "2,1", "--dilation", "2", "--ceil-mode"],
            PoolOp::max(Window::new(&[2, 3]).stride(&[2, 1]).dilation(&[2, 2]).ceil_mode(true)),
            true,
        ),
        ("avg", vec!["--op", "avg", "--kernel", "3", "--stride", "2", "--padding", "1"], PoolOp::avg(w()), false),
        (
            "avg-exclude-ceil",
            vec![
                "--op",
                "avg",
                "--kernel",
                "3",
                "--stride",
                "2",
                "--padding",
                "1",
                "--ceil-mode",
                "--count-include-pad",
                "false",
            ],
            PoolOp::Avg(w().ceil_mode(true), AvgOptions { count_include_pad: false, divisor_override: None }),
            false,
        ),
        (
            "avg-divisor",
            vec!["--op", "avg", "--kernel", "3", "--stride", "2", "--padding", "1", "--divisor-override", "7"],
            PoolOp::Avg(w(), AvgOptions { count_include_pad: true, divisor_override: Some(7) }),
            false,
        ),
        (
            "avg-onnx-pads",
            vec!["--op", "avg", "--kernel", "3,2", "--pads", "0,1,2,0", "--count-include-pad=false"],
            PoolOp::Avg(
                Window::new(&[3, 2]).pads(&[0, 1], &[2, 0]),
                AvgOptions { count_include_pad: false, divisor_override: None },
            ),
            false,
        ),
        (
            "max-same-lower",
            vec!["--op", "max", "--kernel", "4", "--stride", "3", "--auto-pad", "same-lower"],
            PoolOp::max(Window::new(&[4, 4]).stride(&[3, 3]).auto_pad(AutoPad::SameLower)),
            true,
        ),
        ("lp-default-p", vec!["--op", "lp", "--kernel", "2"], PoolOp::lp(Window::new(&[2, 2]), 2.0), false),
        (
            "lp3-same-upper",
            vec!["--op", "lp", "--p", "3", "--kernel", "3", "--stride", "2", "--auto-pad", "same-upper"],
            PoolOp::lp(Window::new(&[3, 3]).stride(&[2, 2]).auto_pad(AutoPad::SameUpper), 3.0),
            false,
        ),
    ];
    for (tag, flags, op, idx) in cases {
        let mut args = vec!["pool"];
        args.extend(flags);
        check_against_reference(tag, &args, &shape, &op, &x, idx, 1e-5);
    }
}

#[test]
fn one_two_and_three_spatial_dims() {
    let s1 = TensorShape::nchw(&[2, 3, 17]).unwrap();
    let x1: Vec<f32> = input_of(s1.len(), 2);
    let op1 = PoolOp::max(Window::new(&[3]).stride(&[2]).padding(&[1]));
    check_against_reference(
        "1d",
        &["pool", "--op", "max", "--kernel", "3", "--stride", "2", "--padding", "1"],
        &s1,
        &op1,
        &x1,
        true,
        0.0,
    );
    let s3 = TensorShape::nchw(&[1, 2, 5, 6, 7]).unwrap();
    let x3: Vec<f32> = input_of(s3.len(), 3);
    let op3 = PoolOp::Avg(
        Window::new(&[3, 3, 3]).stride(&[2, 2, 2]).padding(&[1, 1, 1]).ceil_mode(true),
        AvgOptions { count_include_pad: false, divisor_override: None },
    );
    let args = [
        "pool",
        "--op",
        "avg",
        "--kernel",
        "3",
        "--stride",
        "2",
        "--padding",
        "1",
        "--ceil-mode",
        "--count-include-pad",
        "false",
    ];
    check_against_reference("3d", &args, &s3, &op3, &x3, false, 1e-5);
}

#[test]
fn global_and_adaptive_match_the_reference() {
    let shape = TensorShape::nchw(&[2, 4, 7, 9]).unwrap();
    let x: Vec<f32> = input_of(shape.len(), 4);
    check_against_reference("gmax", &["global", "--op", "max"], &shape, &PoolOp::GlobalMax, &x, true, 0.0);
    check_against_reference("gavg", &["global", "--op", "avg"], &shape, &PoolOp::GlobalAvg, &x, false, 1e-5);
    let amax = PoolOp::AdaptiveMax(vec![3, 4]);
    check_against_reference("amax", &["adaptive", "--op", "max", "--output-size", "3,4"], &shape, &amax, &x, true, 0.0);
    let aavg = PoolOp::AdaptiveAvg(vec![5, 5]);
    check_against_reference("aavg", &["adaptive", "--op", "avg", "--output-size", "5"], &shape, &aavg, &x, false, 1e-5);
    let s3 = TensorShape::nchw(&[1, 2, 5, 6, 7]).unwrap();
    let x3: Vec<f32> = input_of(s3.len(), 5);
    let a3 = PoolOp::AdaptiveAvg(vec![2, 3, 4]);
    check_against_reference(
        "aavg3d",
        &["adaptive", "--op", "avg", "--output-size", "2,3,4"],
        &s3,
        &a3,
        &x3,
        false,
        1e-5,
    );
}

#[test]
fn channels_last_layout() {
    let shape = TensorShape::nhwc(&[2, 9, 11, 5]).unwrap();
    let x: Vec<f32> = input_of(shape.len(), 6);
    let w = Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]);
    let flags = ["--layout", "nhwc", "--kernel", "3", "--stride", "2", "--padding", "1"];
    let with = |op: &'static str| [&["pool", "--op", op][..], &flags[..]].concat();
    check_against_reference("nhwc-max", &with("max"), &shape, &PoolOp::max(w.clone()), &x, true, 0.0);
    check_against_reference("nhwc-avg", &with("avg"), &shape, &PoolOp::avg(w), &x, false, 1e-5);
    check_against_reference(
        "nhwc-gavg",
        &["global", "--op", "avg", "--layout", "nhwc"],
        &shape,
        &PoolOp::GlobalAvg,
        &x,
        false,
        1e-5,
    );
    let amax = PoolOp::AdaptiveMax(vec![4, 4]);
    check_against_reference(
        "nhwc-amax",
        &["adaptive", "--op", "max", "--output-size", "4", "--layout", "nhwc"],
        &shape,
        &amax,
        &x,
        true,
        0.0,
    );
}

#[test]
fn every_isa_level_and_thread_count_gives_the_same_bits() {
    let shape = TensorShape::nchw(&[2, 8, 48, 49]).unwrap();
    let x: Vec<f32> = input_of(shape.len(), 7);
    let runs: [(&str, &[&str], PoolOp, bool); 3] = [
        (
            "max",
            &["pool", "--op", "max", "--kernel", "3", "--stride", "2", "--padding", "1"],
            PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1])),
            true,
        ),
        (
            "avg",
            &["pool", "--op", "avg", "--kernel", "3", "--stride", "1", "--padding", "1"],
            PoolOp::avg(Window::new(&[3, 3]).stride(&[1, 1]).padding(&[1, 1])),
            false,
        ),
        ("gavg", &["global", "--op", "avg"], PoolOp::GlobalAvg, false),
    ];
    for (tag, args, op, idx) in &runs {
        let mut first: Option<Vec<u8>> = None;
        let levels: Vec<&str> = std::iter::once("auto").chain(Isa::available().into_iter().map(Isa::name)).collect();
        for level in levels {
            for threads in ["1", "2", "3"] {
                let mut argv = args.to_vec();
                argv.extend(["--isa", level, "--threads", threads]);
                let what = format!("{tag} isa {level} threads {threads}");
                let bytes = check_against_reference(&what.replace(' ', "-"), &argv, &shape, op, &x, *idx, 1e-5);
                match &first {
                    None => first = Some(bytes),
                    Some(f) => assert!(f == &bytes, "{what}: output bits differ from the first run"),
                }
            }
        }
    }
}

#[test]
fn an_isa_the_cpu_lacks_is_an_error() {
    let Some(missing) = Isa::ALL.into_iter().find(|i| !i.is_available()) else {
        return; // Every level is available (cannot happen: Neon and the x86 levels exclude each other).
    };
    let dir = TempDir::new("isa-missing");
    write(&dir.path("x.npy"), &[1, 1, 4, 4], &[0.0f32; 16]);
    let out =
        simdpool(&["pool", "--op", "max", "--kernel", "2", "--isa", missing.name(), &dir.s("x.npy"), &dir.s("y.npy")]);
    assert_fails(&out, 1, "not available", "missing isa");
    assert_eq!(dir.listing(), ["x.npy"]);
}

fn dtype_round<T: Element + NpyElement>(tag: &str, avg_rel: f64) {
    let shape = TensorShape::nchw(&[2, 3, 8, 9]).unwrap();
    let x: Vec<T> = input_of(shape.len(), 8);
    let w = Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]);
    let flags = ["--kernel", "3", "--stride", "2", "--padding", "1"];
    let with = |op: &'static str| [&["pool", "--op", op][..], &flags[..]].concat();
    check_against_reference(&format!("{tag}-max"), &with("max"), &shape, &PoolOp::max(w.clone()), &x, true, 0.0);
    check_against_reference(&format!("{tag}-avg"), &with("avg"), &shape, &PoolOp::avg(w), &x, false, avg_rel);
    check_against_reference(
        &format!("{tag}-gavg"),
        &["global", "--op", "avg"],
        &shape,
        &PoolOp::GlobalAvg,
        &x,
        false,
        avg_rel,
    );
}

#[test]
fn every_element_type_keeps_its_type() {
    dtype_round::<f32>("f32", 1e-6);
    dtype_round::<f64>("f64", 1e-12);
    dtype_round::<f16>("f16", 1e-3);
    dtype_round::<bf16>("bf16", 8e-3);
    // Integer averages are exact sums rounded once to nearest, ties to even: no tolerance.
    dtype_round::<u8>("u8", 0.0);
    dtype_round::<i8>("i8", 0.0);
}

#[test]
fn bf16_is_read_and_written_as_raw_u2_bits_with_a_note() {
    let dir = TempDir::new("bf16");
    let x: Vec<u16> = [1.5f32, -2.0, 3.25, 0.5].iter().map(|&v| bf16::from_f32(v).to_bits()).collect();
    std::fs::write(
        dir.path("x.npy"),
        NpyArray::from_slice(&[1, 1, 2, 2], &x.iter().map(|&b| bf16::from_bits(b)).collect::<Vec<_>>()).to_bytes(),
    )
    .unwrap();
    assert_eq!(read(&dir.path("x.npy")).dtype, NpyDType::U16);
    let out = simdpool(&["global", "--op", "max", &dir.s("x.npy"), &dir.s("y.npy")]);
    assert_ok(&out, "bf16");
    assert!(text(&out.stderr).contains("note: <u2"), "{}", text(&out.stderr));
    let y = read(&dir.path("y.npy"));
    assert_eq!(y.dtype, NpyDType::U16);
    assert_eq!(y.data, bf16::from_f32(3.25).to_bits().to_le_bytes());
}

// ---------------------------------------------------------------------------------------------
// PyTorch golden vectors

fn golden(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/golden").join(case)
}

/// Runs a golden case through the CLI (in `layout`) and compares with PyTorch's output/indices.
fn run_golden(case: &str, args: &[&str], nhwc: bool) {
    let g = golden(case);
    let json = std::fs::read_to_string(g.join("case.json")).expect("case.json");
    let (in_shape, x) = read_as::<f32>(&g.join("input.npy"));
    let (out_shape, want) = read_as::<f32>(&g.join("output.npy"));
    let want_idx = g.join("indices.npy").exists().then(|| read_as::<i64>(&g.join("indices.npy")).1);
    // The flags must describe the case's op.
    let op = match args[0] {
        "pool" => format!("{}_pool{}d", args[2], in_shape.len() - 2),
        "adaptive" => format!("adaptive_{}_pool{}d", args[2], in_shape.len() - 2),
        _ => format!("global_{}_pool{}d", args[2], in_shape.len() - 2),
    };
    assert!(json.contains(&format!("\"op\": \"{op}\"")), "{case}: case.json is not {op}");

    let dir = TempDir::new(&format!("golden-{case}"));
    let nchw = TensorShape::nchw(&in_shape).unwrap();
    let (x, in_dims) = if nhwc {
        (to_last(&x, &nchw), nchw.with_layout(simdpool::Layout::ChannelsLast).dims())
    } else {
        (x, in_shape.clone())
    };
    write(&dir.path("x.npy"), &in_dims, &x);
    let mut argv = args.to_vec();
    let idx = dir.s("idx.npy");
    if want_idx.is_some() {
        argv.extend(["--indices", &idx]);
    }
    if nhwc {
        argv.extend(["--layout", "nhwc"]);
    }
    let (xs, ys) = (dir.s("x.npy"), dir.s("y.npy"));
    argv.extend([xs.as_str(), ys.as_str()]);
    let out = simdpool(&argv);
    assert_ok(&out, case);
    let (shape, got) = read_as::<f32>(&dir.path("y.npy"));
    let out_nchw = TensorShape::nchw(&out_shape).unwrap();
    let got = if nhwc {
        assert_eq!(shape, out_nchw.with_layout(simdpool::Layout::ChannelsLast).dims(), "{case}: nhwc output shape");
        to_first(&got, &out_nchw)
    } else {
        assert_eq!(shape, out_shape, "{case}: output shape");
        got
    };
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let ok = g == w || (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-6 || (g - w).abs() <= 1e-5 * w.abs();
        assert!(ok, "{case}: element {i}: got {g}, PyTorch {w}");
    }
    if let Some(want_idx) = want_idx {
        let (_, got_idx) = read_as::<i64>(&dir.path("idx.npy"));
        let got_idx = if nhwc { to_first(&got_idx, &out_nchw) } else { got_idx };
        assert_eq!(got_idx, want_idx, "{case}: indices");
    }
}

/// Channels-first data of `shape` reordered channels-last.
fn to_last<T: Copy>(x: &[T], shape: &TensorShape) -> Vec<T> {
    let (c, plane) = (shape.channels(), shape.plane());
    let mut y = x.to_vec();
    for n in 0..shape.batch() {
        for ch in 0..c {
            for p in 0..plane {
                y[(n * plane + p) * c + ch] = x[(n * c + ch) * plane + p];
            }
        }
    }
    y
}

/// Channels-last data of the channels-first `shape` reordered channels-first.
fn to_first<T: Copy>(y: &[T], shape: &TensorShape) -> Vec<T> {
    let (c, plane) = (shape.channels(), shape.plane());
    let mut x = y.to_vec();
    for n in 0..shape.batch() {
        for ch in 0..c {
            for p in 0..plane {
                x[(n * c + ch) * plane + p] = y[(n * plane + p) * c + ch];
            }
        }
    }
    x
}

#[test]
fn golden_cases_match_pytorch() {
    let cases: [(&str, &[&str]); 8] = [
        ("seed_example_max_2x2", &["pool", "--op", "max", "--kernel", "2", "--stride", "2"]),
        ("max2d_3x3s2p1", &["pool", "--op", "max", "--kernel", "3", "--stride", "2", "--padding", "1"]),
        ("max2d_nan_propagates", &["pool", "--op", "max", "--kernel", "2"]),
        (
            "max1d_ceil_dil",
            &[
                "pool",
                "--op",
                "max",
                "--kernel",
                "4",
                "--stride",
                "3",
                "--padding",
                "1",
                "--dilation",
                "2",
                "--ceil-mode",
            ],
        ),
        ("max3d_pad_ceil", &["pool", "--op", "max", "--kernel", "3", "--stride", "2", "--padding", "1", "--ceil-mode"]),
        (
            "avg2d_ceil_exclude",
            &[
                "pool",
                "--op",
                "avg",
                "--kernel",
                "3",
                "--stride",
                "2",
                "--padding",
                "1",
                "--ceil-mode",
                "--count-include-pad",
                "false",
            ],
        ),
        (
            "avg2d_divisor_override",
            &["pool", "--op", "avg", "--kernel", "3", "--stride", "1", "--padding", "1", "--divisor-override", "7"],
        ),
        (
            "avg3d_pad_exclude_ceil",
            &[
                "pool",
                "--op",
                "avg",
                "--kernel",
                "3",
                "--stride",
                "2",
                "--padding",
                "1",
                "--ceil-mode",
                "--count-include-pad",
                "false",
            ],
        ),
    ];
    let more: [(&str, &[&str]); 4] = [
        ("adaptive_max2d", &["adaptive", "--op", "max", "--output-size", "4,5"]),
        ("adaptive_avg3d", &["adaptive", "--op", "avg", "--output-size", "2,3,4"]),
        ("global_avg2d", &["global", "--op", "avg"]),
        ("global_max3d", &["global", "--op", "max"]),
    ];
    for (case, args) in cases.iter().chain(&more) {
        run_golden(case, args, false);
        run_golden(case, args, true);
    }
}

// ---------------------------------------------------------------------------------------------
// Errors: one line, non-zero exit, nothing written

/// Runs a failing command in a dir holding `x.npy` (from `input` bytes) and checks the error and
/// that the directory still holds only `x.npy`.
fn fails_with(tag: &str, input: Option<Vec<u8>>, args: &[&str], code: i32, needle: &str) {
    let dir = TempDir::new(tag);
    if let Some(bytes) = input {
        std::fs::write(dir.path("x.npy"), bytes).unwrap();
    }
    let (x, y, idx) = (dir.s("x.npy"), dir.s("y.npy"), dir.s("idx.npy"));
    let argv: Vec<&str> = args
        .iter()
        .map(|a| match *a {
            "X" => x.as_str(),
            "Y" => y.as_str(),
            "IDX" => idx.as_str(),
            a => a,
        })
        .collect();
    let before = dir.listing();
    let out = simdpool(&argv);
    assert_fails(&out, code, needle, tag);
    assert_eq!(dir.listing(), before, "{tag}: the command must not write any file");
}

fn good_input() -> Vec<u8> {
    NpyArray::from_f32(&[1, 2, 4, 4], &(0..32).map(|v| v as f32).collect::<Vec<_>>()).to_bytes()
}

const MAX2: [&str; 6] = ["pool", "--op", "max", "--kernel", "2", "--stride"];

#[test]
fn bad_files_fail_cleanly() {
    let args = [&MAX2[..], &["2", "X", "Y"]].concat();
    fails_with("missing", None, &args, 1, "cannot read");
    let good = good_input();
    fails_with("truncated-header", Some(good[..20].to_vec()), &args, 1, "truncated");
    fails_with("truncated-data", Some(good[..good.len() - 3].to_vec()), &args, 1, "bytes but its shape needs");
    let mut magic = good.clone();
    magic[1] = b'X';
    fails_with("magic", Some(magic), &args, 1, "not a .npy file");
    fails_with("empty", Some(vec![]), &args, 1, "not a .npy file");
    let header = |descr: &str, fortran: &str, shape: &str, data: usize| {
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend((h.len() as u16).to_le_bytes());
        b.extend(h.as_bytes());
        b.extend(vec![0u8; data]);
        b
    };
    fails_with("fortran", Some(header("<f4", "True", "(1, 1, 4, 4)", 64)), &args, 1, "Fortran order");
    fails_with("i4", Some(header("<i4", "False", "(1, 1, 4, 4)", 64)), &args, 1, "unsupported .npy dtype \"<i4\"");
    fails_with("big-endian", Some(header(">f4", "False", "(1, 1, 4, 4)", 64)), &args, 1, "unsupported .npy dtype");
    fails_with("i8-input", Some(header("<i8", "False", "(1, 1, 2, 2)", 32)), &args, 1, "int64");
    fails_with("rank-2", Some(header("<f4", "False", "(4, 4)", 64)), &args, 1, "spatial rank");
    fails_with("zero-dim", Some(header("<f4", "False", "(1, 0, 4, 4)", 0)), &args, 1, "channels dimension is 0");
}

#[test]
fn bad_command_lines_are_usage_errors() {
    let g = || Some(good_input());
    fails_with(
        "bad-flag",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--bogus", "X", "Y"],
        2,
        "unknown flag --bogus",
    );
    fails_with("no-op", g(), &["pool", "--kernel", "2", "X", "Y"], 2, "needs --op");
    fails_with("no-kernel", g(), &["pool", "--op", "max", "X", "Y"], 2, "needs --kernel");
    fails_with("bad-op", g(), &["pool", "--op", "min", "--kernel", "2", "X", "Y"], 2, "--op \"min\"");
    fails_with("lp-global", g(), &["global", "--op", "lp", "X", "Y"], 2, "max or avg");
    fails_with("bad-list", g(), &["pool", "--op", "max", "--kernel", "2,x", "X", "Y"], 2, "not a non-negative integer");
    fails_with(
        "neg-kernel",
        g(),
        &["pool", "--op", "max", "--kernel", "-2", "X", "Y"],
        2,
        "not a non-negative integer",
    );
    fails_with("one-file", g(), &["pool", "--op", "max", "--kernel", "2", "X"], 2, "exactly two files");
    fails_with(
        "dup-flag",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--kernel", "3", "X", "Y"],
        2,
        "more than once",
    );
    fails_with("no-value", g(), &["pool", "--op", "max", "X", "Y", "--kernel"], 2, "needs a value");
    fails_with(
        "two-pads",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--padding", "1", "--pads", "1", "X", "Y"],
        2,
        "exclude each other",
    );
    fails_with(
        "bad-auto-pad",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--auto-pad", "same", "X", "Y"],
        2,
        "--auto-pad",
    );
    fails_with(
        "bad-layout",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--layout", "nwhc", "X", "Y"],
        2,
        "--layout",
    );
    fails_with("bad-isa", g(), &["pool", "--op", "max", "--kernel", "2", "--isa", "sse9", "X", "Y"], 2, "--isa");
    fails_with(
        "threads-0",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--threads", "0", "X", "Y"],
        2,
        "--threads 0",
    );
    fails_with(
        "bad-bool",
        g(),
        &["pool", "--op", "avg", "--kernel", "2", "--count-include-pad", "maybe", "X", "Y"],
        2,
        "true or false",
    );
    fails_with(
        "p-for-max",
        g(),
        &["pool", "--op", "max", "--p", "2", "--kernel", "2", "X", "Y"],
        2,
        "--p only applies to --op lp",
    );
    fails_with(
        "cip-for-max",
        g(),
        &["pool", "--op", "max", "--count-include-pad", "true", "--kernel", "2", "X", "Y"],
        2,
        "only applies to --op avg",
    );
    fails_with(
        "kernel-for-global",
        g(),
        &["global", "--op", "max", "--kernel", "2", "X", "Y"],
        2,
        "unknown flag --kernel",
    );
    fails_with(
        "same-idx-out",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--indices", "Y", "X", "Y"],
        2,
        "same file",
    );
    fails_with("unknown-cmd", g(), &["poll", "X", "Y"], 2, "unknown command");
    let out = simdpool(&[]);
    assert_fails(&out, 2, "no command", "no args");
}

#[test]
fn parameters_the_input_rejects_are_runtime_errors() {
    let g = || Some(good_input());
    fails_with(
        "kernel-0",
        g(),
        &["pool", "--op", "max", "--kernel", "0", "X", "Y"],
        1,
        "kernel is 0 on spatial axis 0",
    );
    fails_with(
        "stride-0",
        g(),
        &["pool", "--op", "avg", "--kernel", "2", "--stride", "1,0", "X", "Y"],
        1,
        "stride is 0 on spatial axis 1",
    );
    fails_with(
        "pad-too-large",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--padding", "2", "X", "Y"],
        1,
        "more than half the kernel",
    );
    fails_with("kernel-too-big", g(), &["pool", "--op", "max", "--kernel", "5", "X", "Y"], 1, "output would be empty");
    fails_with(
        "window-in-pad",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--pads", "3,0,0,0", "X", "Y"],
        1,
        "only of padding",
    );
    fails_with(
        "indices-avg",
        g(),
        &["pool", "--op", "avg", "--kernel", "2", "--indices", "IDX", "X", "Y"],
        1,
        "only max pooling produces indices",
    );
    fails_with(
        "indices-gavg",
        g(),
        &["global", "--op", "avg", "--indices", "IDX", "X", "Y"],
        1,
        "only max pooling produces indices",
    );
    fails_with("kernel-count", g(), &["pool", "--op", "max", "--kernel", "2,2,2", "X", "Y"], 1, "kernel has 3 entries");
    fails_with(
        "pads-count",
        g(),
        &["pool", "--op", "max", "--kernel", "2", "--pads", "1,1,1", "X", "Y"],
        1,
        "--pads has 3 values",
    );
    fails_with(
        "lp-p",
        g(),
        &["pool", "--op", "lp", "--p", "0.5", "--kernel", "2", "X", "Y"],
        1,
        "p must be a finite number >= 1",
    );
    fails_with(
        "divisor-0",
        g(),
        &["pool", "--op", "avg", "--kernel", "2", "--divisor-override", "0", "X", "Y"],
        1,
        "divisor_override is 0",
    );
    let huge = ["adaptive", "--op", "max", "--output-size", "1000000", "--indices", "IDX", "X", "Y"];
    fails_with("huge-output", g(), &huge, 1, "cannot allocate the output");
    fails_with("adaptive-0", g(), &["adaptive", "--op", "avg", "--output-size", "0", "X", "Y"], 1, "output size is 0");
}

#[test]
fn an_unwritable_output_fails_and_leaves_nothing() {
    let dir = TempDir::new("unwritable");
    std::fs::write(dir.path("x.npy"), good_input()).unwrap();
    let y = dir.path("no-such-dir").join("y.npy");
    let out = simdpool(&["pool", "--op", "max", "--kernel", "2", &dir.s("x.npy"), &y.to_string_lossy()]);
    assert_fails(&out, 1, "cannot write", "unwritable");
    assert_eq!(dir.listing(), ["x.npy"]);
    // An unwritable indices file: the output must not appear either.
    let idx = dir.path("no-such-dir").join("idx.npy");
    let out = simdpool(&[
        "pool",
        "--op",
        "max",
        "--kernel",
        "2",
        "--indices",
        &idx.to_string_lossy(),
        &dir.s("x.npy"),
        &dir.s("y.npy"),
    ]);
    assert_fails(&out, 1, "cannot write", "unwritable indices");
    assert_eq!(dir.listing(), ["x.npy"]);
}

// ---------------------------------------------------------------------------------------------
// info, help, version

#[test]
fn info_reports_the_detected_isa_and_build() {
    let out = simdpool(&["info"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.lines().any(|l| l == format!("detected: {}", Isa::detected())), "{stdout}");
    let available = Isa::available().iter().map(|i| i.name()).collect::<Vec<_>>().join(" ");
    assert!(stdout.lines().any(|l| l == format!("available: {available}")), "{stdout}");
    for key in ["cpu features: ", "rustc: ", "target: ", "profile: ", "target features: ", "static isa: "] {
        assert!(stdout.lines().any(|l| l.starts_with(key)), "missing {key:?}: {stdout}");
    }
    // SIMDPOOL_ISA=scalar caps the level and info names the hardware level.
    let out = Command::new(env!("CARGO_BIN_EXE_simdpool")).arg("info").env("SIMDPOOL_ISA", "scalar").output().unwrap();
    let stdout = text(&out.stdout);
    assert!(stdout.lines().any(|l| l == "detected: scalar"), "{stdout}");
    if Isa::hardware() != Isa::Scalar {
        assert!(stdout.contains(&format!("hardware: {} (capped by SIMDPOOL_ISA=scalar)", Isa::hardware())), "{stdout}");
    }
}

#[test]
fn help_lists_every_flag() {
    let main = text(&simdpool(&["--help"]).stdout);
    for cmd in ["info", "pool", "global", "adaptive", "bench", "help", "--version", "SIMDPOOL_ISA"] {
        assert!(main.contains(cmd), "main help lacks {cmd}");
    }
    let pool_flags = [
        "--op",
        "--kernel",
        "--stride",
        "--padding",
        "--pads",
        "--auto-pad",
        "--dilation",
        "--ceil-mode",
        "--count-include-pad",
        "--divisor-override",
        "--p ",
        "--indices",
        "--grad-output",
        "--grad-input",
        "--layout",
        "--isa",
        "--threads",
        "--quiet",
    ];
    for form in [&["help", "pool"][..], &["pool", "--help"], &["pool", "-h"]] {
        let out = simdpool(form);
        assert!(out.status.success(), "{form:?}");
        let h = text(&out.stdout);
        for f in pool_flags {
            assert!(h.contains(f), "{form:?} lacks {f}");
        }
        assert!(!h.lines().any(|l| l.starts_with('-')), "{form:?}: a flag line lost its indentation:\n{h}");
    }
    let global = text(&simdpool(&["help", "global"]).stdout);
    for f in ["--op", "--indices", "--grad-output", "--grad-input", "--layout", "--isa", "--threads"] {
        assert!(global.contains(f), "global help lacks {f}");
    }
    assert!(!global.lines().any(|l| l.starts_with('-')), "global help: a flag line lost its indentation");
    let adaptive = text(&simdpool(&["adaptive", "--help"]).stdout);
    assert!(!adaptive.lines().any(|l| l.starts_with('-')), "adaptive help: a flag line lost its indentation");
    for f in ["--op", "--output-size", "--indices", "--grad-output", "--grad-input", "--layout", "--isa", "--threads"] {
        assert!(adaptive.contains(f), "adaptive help lacks {f}");
    }
    assert!(text(&simdpool(&["help", "info"]).stdout).contains("detected: ISA"));
    let v = simdpool(&["--version"]);
    assert_eq!(text(&v.stdout).trim(), format!("simdpool {}", env!("CARGO_PKG_VERSION")));
    assert_fails(&simdpool(&["help", "nope"]), 2, "unknown command", "help nope");
}

#[test]
fn quiet_prints_nothing() {
    let dir = TempDir::new("quiet");
    std::fs::write(dir.path("x.npy"), good_input()).unwrap();
    let out = simdpool(&["global", "-q", "--op", "max", &dir.s("x.npy"), &dir.s("y.npy")]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{}", text(&out.stderr));
    let (shape, y) = read_as::<f32>(&dir.path("y.npy"));
    assert_eq!((shape, y), (vec![1, 2, 1, 1], vec![15.0, 31.0]));
}
