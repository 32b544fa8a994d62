//! `--grad-output GO.npy --grad-input GI.npy` through the real `simdpool` binary: the input
//! gradient it writes against `simdpool::reference::pool_backward` (both layouts, every float type,
//! max with overlapping windows, average with padding, Lp, global and adaptive), against
//! PyTorch's gradients in `tests/data/golden`, and the forward results of the same run.

use simdpool::npy::{NpyArray, NpyElement};
use simdpool::{AvgOptions, Element, Layout, PoolOp, TensorShape, Window, reference};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh, empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("simdpool-grad-test-{}-{tag}-{n}", std::process::id()));
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

/// Asserts success and one summary line on stderr that mentions the gradient (after the note
/// that `bf16` files hold raw bits, which NumPy has no type for).
fn assert_ok(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what}: exit {:?}, stderr: {err}", out.status.code());
    assert!(out.stdout.is_empty(), "{what}: unexpected stdout");
    let bf16_note = |l: &&str| l.starts_with("simdpool: note: ") && l.contains("raw bf16 bits");
    let lines: Vec<&str> = err.lines().filter(|l| !bf16_note(l)).collect();
    assert_eq!(lines.len(), 1, "{what}: expected one summary line, got: {err}");
    assert!(lines[0].contains("(+gradient)") && lines[0].contains("| backward "), "{what}: {err}");
}

fn write<T: NpyElement>(path: &Path, shape: &[usize], data: &[T]) {
    std::fs::write(path, NpyArray::from_slice(shape, data).to_bytes()).expect("write npy");
}

fn read_as<T: NpyElement>(path: &Path) -> (Vec<usize>, Vec<T>) {
    let a = NpyArray::parse(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(a.dtype, T::NPY, "{}: dtype", path.display());
    let v = a.to_vec::<T>().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (a.shape, v)
}

/// Deterministic pseudo-random multiples of 1/4 in [-8, 8): exact in every float type, with
/// repeats (ties for max) and zeros.
fn values<T: Element>(n: usize, seed: u64) -> Vec<T> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            T::from_f64(((s >> 33) % 64) as f64 / 4.0 - 8.0)
        })
        .collect()
}

/// `|got - want| <= rel * max(|want|, 1)` for every element (or both equal). The floor of 1 is the
/// size of the terms (inputs and gradients are at most 8, divided by windows of 9 and more): a
/// sum that cancels to nearly 0 keeps the rounding errors of its terms.
fn assert_close<T: Element>(got: &[T], want: &[T], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g.to_f64(), w.to_f64());
        assert!(g == w || (g - w).abs() <= rel * w.abs().max(1.0), "{what}: element {i}: got {g}, want {w}");
    }
}

/// Data of `shape` (in its layout) reordered channels-first.
fn to_first<T: Copy>(x: &[T], shape: &TensorShape) -> Vec<T> {
    if shape.layout() == Layout::ChannelsFirst {
        return x.to_vec();
    }
    let (c, plane) = (shape.channels(), shape.plane());
    let mut y = x.to_vec();
    for n in 0..shape.batch() {
        for ch in 0..c {
            for p in 0..plane {
                y[(n * c + ch) * plane + p] = x[(n * plane + p) * c + ch];
            }
        }
    }
    y
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

/// The sum of each `(n, c)` plane of `x` (of `shape`), in f64 (exact for these values).
fn plane_sums<T: Element>(x: &[T], shape: &TensorShape) -> Vec<f64> {
    to_first(x, shape).chunks(shape.plane()).map(|p| p.iter().map(|v| v.to_f64()).sum()).collect()
}

/// One gradient case: the CLI flags and the op they describe, on a channels-first input shape.
struct Case {
    tag: &'static str,
    args: &'static [&'static str],
    op: PoolOp,
    dims: &'static [usize],
}

fn cases() -> Vec<Case> {
    let avg = |include| AvgOptions { count_include_pad: include, divisor_override: None };
    vec![
        Case {
            tag: "max-overlap",
            args: &["pool", "--op", "max", "--kernel", "3", "--stride", "2", "--padding", "1"],
            op: PoolOp::Max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1])),
            dims: &[2, 3, 9, 8],
        },
        Case {
            tag: "max-overlap-1d-stride-1",
            args: &["pool", "--op", "max", "--kernel", "4", "--stride", "1", "--dilation", "2"],
            op: PoolOp::Max(Window::new(&[4]).stride(&[1]).dilation(&[2])),
            dims: &[1, 5, 23],
        },
        Case {
            tag: "avg-pad-include-ceil",
            args: &[
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
                "true",
            ],
            op: PoolOp::Avg(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]).ceil_mode(true), avg(true)),
            dims: &[1, 3, 8, 10],
        },
        Case {
            tag: "avg-pad-exclude",
            args: &[
                "pool",
                "--op",
                "avg",
                "--kernel",
                "3",
                "--stride",
                "2",
                "--padding",
                "1",
                "--count-include-pad",
                "false",
            ],
            op: PoolOp::Avg(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]), avg(false)),
            dims: &[2, 2, 7, 9],
        },
        Case {
            tag: "lp-p3",
            args: &["pool", "--op", "lp", "--p", "3", "--kernel", "2,3", "--stride", "1,2"],
            op: PoolOp::Lp(Window::new(&[2, 3]).stride(&[1, 2]), 3.0),
            dims: &[1, 4, 6, 9],
        },
        Case { tag: "global-avg", args: &["global", "--op", "avg"], op: PoolOp::GlobalAvg, dims: &[2, 3, 5, 7] },
        Case {
            tag: "adaptive-max",
            args: &["adaptive", "--op", "max", "--output-size", "3,4"],
            op: PoolOp::AdaptiveMax(vec![3, 4]),
            dims: &[1, 3, 7, 9],
        },
    ]
}

/// Runs one case in one layout for element type `T` and checks OUT, GI (and, for max, the
/// indices when `indices`) against the reference.
fn run_case<T: Element + NpyElement>(case: &Case, layout: Layout, indices: bool, rel: f64) {
    let tag = format!("{}-{}-{:?}{}", case.tag, T::DTYPE.name(), layout, if indices { "-indices" } else { "" });
    let shape = TensorShape::nchw(case.dims).unwrap().with_layout(layout);
    let out_shape = case.op.output_shape(&shape).unwrap();
    let x: Vec<T> = values(shape.len(), 7 + shape.len() as u64);
    let go: Vec<T> = values(out_shape.len(), 11 + out_shape.len() as u64);
    let dir = TempDir::new(&tag);
    write(&dir.path("x.npy"), &shape.dims(), &x);
    write(&dir.path("go.npy"), &out_shape.dims(), &go);
    let (xs, ys, gos, gis, idx) = (dir.s("x.npy"), dir.s("y.npy"), dir.s("go.npy"), dir.s("gi.npy"), dir.s("idx.npy"));
    let mut argv = case.args.to_vec();
    argv.extend(["--layout", if layout == Layout::ChannelsFirst { "nchw" } else { "nhwc" }]);
    argv.extend(["--grad-output", &gos, "--grad-input", &gis]);
    if indices {
        argv.extend(["--indices", &idx]);
    }
    argv.extend([xs.as_str(), ys.as_str()]);
    assert_ok(&simdpool(&argv), &tag);

    // The forward pass, as without the gradient flags.
    let fwd = reference::pool::<T>(&case.op, &x, &shape).unwrap();
    let (y_dims, y) = read_as::<T>(&dir.path("y.npy"));
    assert_eq!(y_dims, out_shape.dims(), "{tag}: output shape");
    assert_close(&y, &fwd.values, rel, &format!("{tag}: output"));
    if indices {
        let (i_dims, got_idx) = read_as::<i64>(&dir.path("idx.npy"));
        assert_eq!(i_dims, out_shape.dims(), "{tag}: indices shape");
        assert_eq!(Some(got_idx), fwd.indices, "{tag}: indices");
    }
    let mut want_files = vec!["gi.npy", "go.npy", "x.npy", "y.npy"];
    if indices {
        want_files.insert(2, "idx.npy");
    }
    assert_eq!(dir.listing(), want_files, "{tag}: files written");

    // The gradient: the input's shape, layout and dtype, and the reference's values.
    let (gi_dims, gi) = read_as::<T>(&dir.path("gi.npy"));
    assert_eq!(gi_dims, shape.dims(), "{tag}: gradient shape");
    let want = reference::pool_backward(&case.op, &x, &shape, &go).unwrap();
    assert_close(&gi, &want, rel, &format!("{tag}: gradient"));
    if case.op.has_indices() {
        // Every output gradient lands on exactly one element of its own plane, and these values
        // add exactly.
        assert_eq!(plane_sums(&gi, &shape), plane_sums(&go, &out_shape), "{tag}: plane sums of GI and GO");
        // Something actually moved: overlapping windows share argmaxes.
        assert!(gi.iter().any(|v| v.to_f64() != 0.0), "{tag}: an all-zero gradient");
    }
}

#[test]
fn gradients_match_the_reference() {
    for case in cases() {
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            run_case::<f32>(&case, layout, false, 1e-5);
            run_case::<f64>(&case, layout, false, 1e-12);
        }
    }
}

/// Half precision: the binary reads and writes `f16` and `bf16` files, and its gradients (summed
/// in `f32`, rounded once) are the reference's within two units in the last place of the type.
#[test]
fn half_precision_gradients_match_the_reference() {
    for case in cases() {
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            run_case::<simdpool::f16>(&case, layout, false, 2.0 * f64::from(simdpool::f16::EPSILON));
            run_case::<simdpool::bf16>(&case, layout, false, 2.0 * f64::from(simdpool::bf16::EPSILON));
        }
    }
}

#[test]
fn max_gradients_with_written_indices() {
    for case in cases().iter().filter(|c| c.op.has_indices()) {
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            run_case::<f32>(case, layout, true, 1e-5);
        }
    }
}

#[test]
fn every_isa_level_and_thread_count_gives_the_same_gradient() {
    let dir = TempDir::new("isa-threads");
    let shape = TensorShape::nchw(&[2, 8, 17, 19]).unwrap();
    let x: Vec<f32> = values(shape.len(), 3);
    write(&dir.path("x.npy"), &shape.dims(), &x);
    let ops: [&[&str]; 3] = [
        &["pool", "--op", "max", "--kernel", "3", "--stride", "2"],
        &["pool", "--op", "avg", "--kernel", "3", "--stride", "1", "--padding", "1"],
        &["pool", "--op", "lp", "--p", "3", "--kernel", "3", "--stride", "2"],
    ];
    for (k, args) in ops.iter().enumerate() {
        let out_shape = TensorShape::nchw(&[2, 8, if k == 1 { 17 } else { 8 }, if k == 1 { 19 } else { 9 }]).unwrap();
        let go: Vec<f32> = values(out_shape.len(), 5);
        write(&dir.path("go.npy"), &out_shape.dims(), &go);
        let mut first: Option<Vec<u8>> = None;
        let isas: Vec<String> = simdpool::Isa::available().iter().map(|i| i.name().to_string()).collect();
        for isa in &isas {
            for threads in ["1", "2", "3"] {
                let (x, y, go, gi) = (dir.s("x.npy"), dir.s("y.npy"), dir.s("go.npy"), dir.s("gi.npy"));
                let mut argv = args.to_vec();
                argv.extend(["--isa", isa, "--threads", threads, "--grad-output", &go, "--grad-input", &gi, &x, &y]);
                assert_ok(&simdpool(&argv), &format!("{args:?} {isa} {threads}"));
                let bytes = std::fs::read(dir.path("gi.npy")).unwrap();
                match &first {
                    None => first = Some(bytes),
                    Some(f) => assert!(f == &bytes, "{args:?}: --isa {isa} --threads {threads} gives other bits"),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PyTorch's gradients

fn golden(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/golden").join(case)
}

/// Runs a golden case with its `grad_output.npy` through the CLI in `layout` and compares GI
/// with PyTorch's `grad_input.npy` (within 1e-5 relative, 1e-6 absolute: PyTorch adds in its own
/// order), and OUT with its `output.npy`.
fn run_golden(case: &str, args: &[&str], layout: Layout) {
    let g = golden(case);
    let json = std::fs::read_to_string(g.join("case.json")).expect("case.json");
    let (in_dims, x) = read_as::<f32>(&g.join("input.npy"));
    let (out_dims, want_y) = read_as::<f32>(&g.join("output.npy"));
    let (go_dims, go) = read_as::<f32>(&g.join("grad_output.npy"));
    let (gi_dims, want) = read_as::<f32>(&g.join("grad_input.npy"));
    assert_eq!((&go_dims, &gi_dims), (&out_dims, &in_dims), "{case}: golden gradient shapes");
    // The flags must describe the case's op.
    let op = match args[0] {
        "pool" => format!("{}_pool{}d", args[2], in_dims.len() - 2),
        "adaptive" => format!("adaptive_{}_pool{}d", args[2], in_dims.len() - 2),
        _ => format!("global_{}_pool{}d", args[2], in_dims.len() - 2),
    };
    assert!(json.contains(&format!("\"op\": \"{op}\"")), "{case}: case.json is not {op}");

    let tag = format!("golden-{case}-{layout:?}");
    let dir = TempDir::new(&tag);
    let (shape, out) = (TensorShape::nchw(&in_dims).unwrap(), TensorShape::nchw(&out_dims).unwrap());
    let (x, go) = if layout == Layout::ChannelsLast { (to_last(&x, &shape), to_last(&go, &out)) } else { (x, go) };
    let (shape, out) = (shape.with_layout(layout), out.with_layout(layout));
    write(&dir.path("x.npy"), &shape.dims(), &x);
    write(&dir.path("go.npy"), &out.dims(), &go);
    let (xs, ys, gos, gis) = (dir.s("x.npy"), dir.s("y.npy"), dir.s("go.npy"), dir.s("gi.npy"));
    let mut argv = args.to_vec();
    argv.extend(["--layout", if layout == Layout::ChannelsFirst { "nchw" } else { "nhwc" }]);
    argv.extend(["--grad-output", &gos, "--grad-input", &gis, &xs, &ys]);
    assert_ok(&simdpool(&argv), &tag);
    let close = |got: &[f32], want: &[f32], what: &str| {
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            let ok = g == w || (g - w).abs() <= 1e-6 || (g - w).abs() <= 1e-5 * w.abs();
            assert!(ok, "{tag}: {what} element {i}: got {g}, PyTorch {w}");
        }
    };
    let (y_dims, y) = read_as::<f32>(&dir.path("y.npy"));
    assert_eq!(y_dims, out.dims(), "{tag}: output shape");
    close(&to_first(&y, &out), &want_y, "output");
    let (got_dims, gi) = read_as::<f32>(&dir.path("gi.npy"));
    assert_eq!(got_dims, shape.dims(), "{tag}: gradient shape");
    assert_eq!(gi.len(), want.len(), "{tag}: gradient length");
    close(&to_first(&gi, &shape), &want, "gradient");
}

#[test]
fn golden_gradients_match_pytorch() {
    let cases: [(&str, &[&str]); 7] = [
        ("max2d_3x3s2p1", &["pool", "--op", "max", "--kernel", "3", "--stride", "2", "--padding", "1"]),
        (
            "avg2d_ceil_include",
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
                "true",
            ],
        ),
        ("adaptive_avg2d_odd", &["adaptive", "--op", "avg", "--output-size", "7"]),
        ("adaptive_max2d", &["adaptive", "--op", "max", "--output-size", "4,5"]),
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
            "avg2d_divisor_override",
            &["pool", "--op", "avg", "--kernel", "3", "--stride", "1", "--padding", "1", "--divisor-override", "7"],
        ),
    ];
    for (case, args) in cases {
        run_golden(case, args, Layout::ChannelsFirst);
        run_golden(case, args, Layout::ChannelsLast);
    }
}
