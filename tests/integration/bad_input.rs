//! The bad-input corpus: hostile requests through every public entry point (shape constructors,
//! the window builder, plans at every ISA level, the one-call functions, the reference oracle and
//! the `.npy` reader), each with the exact error expected. Buffers handed to a failing call are
//! filled with a sentinel first and must come back untouched.
//!
//! Every row runs even if an earlier one fails (each is caught separately), so one run lists every
//! broken row.

use crate::common;

use common::isas;
use simdpool::npy::{NpyArray, NpyDType, NpyError, NpyReader, write_slice};
use simdpool::{
    AvgOptions, Element, Isa, Layout, Plan, PlanOptions, PoolError, PoolOp, TensorShape, Window, bf16, f16, pool,
    pool_with_indices, reference,
};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// An output value no kernel computes from the inputs used here.
const SENTINEL: f32 = -12345.5;
/// An index no kernel writes.
const SENTINEL_IDX: i64 = -777;

/// Error equality that treats two `InvalidLpPower { p: NaN }` as equal (NaN != NaN otherwise).
fn same(a: &PoolError, b: &PoolError) -> bool {
    match (a, b) {
        (PoolError::InvalidLpPower { p: x }, PoolError::InvalidLpPower { p: y }) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => a == b,
    }
}

fn assert_same(got: &PoolError, want: &PoolError, what: &str) {
    assert!(same(got, want), "{what}: got {got:?}, want {want:?}");
    // Every message names something a user can act on.
    assert!(!got.to_string().is_empty(), "{what}: empty message");
}

/// Plan construction must fail with `want` for every element type at every ISA level (with and
/// without threads); the one-call functions and the reference must fail the same way (the
/// reference when its input can be built).
fn plan_fails(op: &PoolOp, shape: &TensorShape, want: PoolError) {
    plan_fails_as::<f32>(op, shape, &want);
    plan_fails_as::<f64>(op, shape, &want);
    plan_fails_as::<f16>(op, shape, &want);
    plan_fails_as::<bf16>(op, shape, &want);
    plan_fails_as::<u8>(op, shape, &want);
    plan_fails_as::<i8>(op, shape, &want);
}

fn plan_fails_as<T: Element>(op: &PoolOp, shape: &TensorShape, want: &PoolError) {
    let ty = T::DTYPE;
    for isa in isas() {
        for opts in [PlanOptions::isa(isa), PlanOptions::isa(isa).calling_thread()] {
            let e = Plan::<T>::with_options(op, shape, opts).unwrap_err();
            assert_same(&e, want, &format!("Plan::<{ty}> at {isa}"));
        }
    }
    assert_same(&Plan::<T>::new(op, shape).unwrap_err(), want, &format!("Plan::<{ty}>::new"));
    if shape.len() <= 1 << 16 {
        let x = vec![T::from_f64(1.0); shape.len()];
        assert_same(&pool(op, &x, shape).unwrap_err(), want, &format!("pool::<{ty}>()"));
        if op.has_indices() {
            assert_same(&pool_with_indices(op, &x, shape).unwrap_err(), want, &format!("pool_with_indices::<{ty}>()"));
        }
        assert_same(&reference::pool(op, &x, shape).unwrap_err(), want, &format!("reference::pool::<{ty}>"));
    }
}

/// A valid request that hostile parameters might break: for every element type at every level
/// (one thread and the default threading), the outputs and indices must be the reference's, bit
/// for bit, on an input of zeros, halves, ones, twos and (floats) NaN and infinities.
fn matches_reference(op: &PoolOp, shape: &TensorShape) {
    matches_reference_as::<f32>(op, shape);
    matches_reference_as::<f64>(op, shape);
    matches_reference_as::<f16>(op, shape);
    matches_reference_as::<bf16>(op, shape);
    matches_reference_as::<u8>(op, shape);
    matches_reference_as::<i8>(op, shape);
}

fn matches_reference_as<T: Element>(op: &PoolOp, shape: &TensorShape) {
    let ty = T::DTYPE;
    let pattern = [0.0, 0.5, 1.0, -1.0, 2.0, -0.5, 1.0, 0.0, f64::INFINITY, -2.0, 1.0, f64::NAN, -0.0, 1.0, 0.25];
    let x: Vec<T> = (0..shape.len()).map(|i| T::from_f64(pattern[(i * 7 + i / 5) % pattern.len()])).collect();
    let want = reference::pool(op, &x, shape).expect("reference");
    for isa in isas() {
        for opts in [PlanOptions::isa(isa), PlanOptions::isa(isa).calling_thread()] {
            let got = common::run_plan(op, &x, shape, opts);
            common::assert_bits_eq(&got.values, &want.values, &format!("{op:?} {ty} at {isa}"));
            assert_eq!(got.indices, want.indices, "{op:?} {ty} at {isa}: indices");
        }
    }
}

fn nchw(dims: &[usize]) -> TensorShape {
    TensorShape::nchw(dims).expect("a valid test shape")
}

fn max(w: Window) -> PoolOp {
    PoolOp::max(w)
}

/// Runs a valid plan with buffers of the given lengths (filled with sentinels), expecting `want`
/// for every element type at every ISA level and the output and index buffers untouched.
fn run_fails(op: &PoolOp, shape: &TensorShape, lens: (isize, isize, Option<isize>), want: PoolError) {
    run_fails_as::<f32>(op, shape, lens, &want);
    run_fails_as::<f64>(op, shape, lens, &want);
    run_fails_as::<f16>(op, shape, lens, &want);
    run_fails_as::<bf16>(op, shape, lens, &want);
    run_fails_as::<u8>(op, shape, lens, &want);
    run_fails_as::<i8>(op, shape, lens, &want);
}

fn run_fails_as<T: Element>(op: &PoolOp, shape: &TensorShape, lens: (isize, isize, Option<isize>), want: &PoolError) {
    // 99: no kernel computes it from inputs of ones, and every element type holds it exactly.
    let sentinel = T::from_f64(99.0);
    let ty = T::DTYPE;
    for isa in isas() {
        let plan = Plan::<T>::with_options(op, shape, PlanOptions::isa(isa)).expect("a valid plan");
        let len = |base: usize, delta: isize| base.checked_add_signed(delta).expect("length");
        let x = vec![T::from_f64(1.0); len(plan.input_len(), lens.0)];
        let mut y = vec![sentinel; len(plan.output_len(), lens.1)];
        let got = match lens.2 {
            None => plan.run(&x, &mut y).unwrap_err(),
            Some(d) => {
                let mut idx = vec![SENTINEL_IDX; len(plan.output_len(), d)];
                let e = plan.run_with_indices(&x, &mut y, &mut idx).unwrap_err();
                assert!(idx.iter().all(|&i| i == SENTINEL_IDX), "{ty} at {isa}: the index buffer was written");
                e
            }
        };
        assert_same(&got, want, &format!("run::<{ty}> at {isa}"));
        assert!(
            y.iter().all(|v| bytemuck::bytes_of(v) == bytemuck::bytes_of(&sentinel)),
            "{ty} at {isa}: the output buffer was written"
        );
    }
}

/// Asks for indices from an op without them, with otherwise exact buffers.
fn indices_fail(op: &PoolOp, shape: &TensorShape, name: &'static str) {
    run_fails(op, shape, (0, 0, Some(0)), PoolError::IndicesUnsupported { op: name });
    let x = vec![1.0f32; shape.len()];
    assert_same(
        &pool_with_indices(op, &x, shape).unwrap_err(),
        &PoolError::IndicesUnsupported { op: name },
        "pool_with_indices()",
    );
}

fn shape_fails(got: Result<TensorShape, PoolError>, want: PoolError) {
    assert_same(&got.unwrap_err(), &want, "shape constructor");
}

fn lp_fails(p: f64) {
    let shape = nchw(&[1, 2, 5, 5]);
    let w = Window::new(&[2, 2]);
    let want = PoolError::InvalidLpPower { p };
    plan_fails(&PoolOp::lp(w.clone(), p), &shape, want.clone());
    let x = vec![1.0f32; shape.len()];
    assert_same(&reference::lp_pool(&x, &shape, &w, p).unwrap_err(), &want, "reference::lp_pool");
}

/// A version 1.0 `.npy` file with this header dictionary (padded as NumPy pads it) and data.
fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
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

/// A file in the temp dir holding `bytes`, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(tag: &str, bytes: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!("simdpool-bad-input-{}-{tag}.npy", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn npy_fails(bytes: &[u8], want: NpyError) {
    let got = NpyArray::parse(bytes).unwrap_err();
    assert_eq!(got, want);
    assert!(!got.to_string().is_empty());
}

const F32_2X3: &str = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";

type Row = (&'static str, fn());

/// The corpus. Each row names the hostile request; its body states the exact error.
const ROWS: &[Row] = &[
    // ---- window parameters -------------------------------------------------------------------
    ("zero kernel", || {
        plan_fails(&max(Window::new(&[2, 0])), &nchw(&[1, 1, 4, 4]), PoolError::ZeroParam { param: "kernel", axis: 1 })
    }),
    ("zero stride", || {
        let op = PoolOp::avg(Window::new(&[2, 2]).stride(&[0, 1]));
        plan_fails(&op, &nchw(&[1, 1, 4, 4]), PoolError::ZeroParam { param: "stride", axis: 0 })
    }),
    ("zero dilation", || {
        let op = PoolOp::lp(Window::new(&[2, 2, 2]).dilation(&[1, 1, 0]), 2.0);
        plan_fails(&op, &nchw(&[1, 1, 4, 4, 4]), PoolError::ZeroParam { param: "dilation", axis: 2 })
    }),
    ("kernel larger than the padded input", || {
        let op = max(Window::new(&[3, 6]).padding(&[1, 1]));
        let want = PoolError::EmptyOutput { axis: 1, input: 3, padded: 5, extent: 6 };
        plan_fails(&op, &nchw(&[1, 1, 3, 3]), want)
    }),
    ("dilated extent larger than the input", || {
        let op = max(Window::new(&[3]).dilation(&[4]));
        plan_fails(&op, &nchw(&[1, 1, 8]), PoolError::EmptyOutput { axis: 0, input: 8, padded: 8, extent: 9 })
    }),
    ("padding over half the kernel", || {
        let op = PoolOp::avg(Window::new(&[3, 3]).padding(&[1, 2]));
        plan_fails(&op, &nchw(&[1, 1, 6, 6]), PoolError::PaddingTooLarge { axis: 1, pad: 2, kernel: 3 })
    }),
    ("padding over half an even kernel", || {
        let op = max(Window::new(&[2]).padding(&[2]));
        plan_fails(&op, &nchw(&[1, 1, 6]), PoolError::PaddingTooLarge { axis: 0, pad: 2, kernel: 2 })
    }),
    ("asymmetric begin pad: first window wholly in padding", || {
        let op = PoolOp::avg(Window::new(&[2]).pads(&[3], &[0]));
        plan_fails(&op, &nchw(&[1, 1, 4]), PoolError::WindowInPadding { axis: 0, output: 0 })
    }),
    ("asymmetric end pad: last window wholly in padding", || {
        let op = max(Window::new(&[2, 2]).stride(&[1, 1]).pads(&[0, 0], &[0, 2]));
        plan_fails(&op, &nchw(&[1, 1, 3, 3]), PoolError::WindowInPadding { axis: 1, output: 3 })
    }),
    ("huge end pad: windows in padding, rejected before allocating tables", || {
        let op = max(Window::new(&[1]).pads(&[0], &[1 << 44]));
        plan_fails(&op, &nchw(&[1, 1, 1]), PoolError::WindowInPadding { axis: 0, output: 1 << 44 })
    }),
    ("dilation that skips the whole input", || {
        // Taps at -1 and 2 of an input of length 2: no tap lands on an element.
        let op = PoolOp::lp(Window::new(&[2]).dilation(&[3]).pads(&[1], &[1]), 2.0);
        plan_fails(&op, &nchw(&[1, 1, 2]), PoolError::WindowInPadding { axis: 0, output: 0 })
    }),
    ("dilation that skips the input in a middle window", || {
        // Input 1, taps s0 and s0 + 3 for s0 in -3..=0: windows 1 and 2 miss the element.
        let op = max(Window::new(&[2]).dilation(&[3]).stride(&[1]).pads(&[3], &[3]));
        let want = PoolError::WindowInPadding { axis: 0, output: 1 };
        for isa in isas() {
            let e = Plan::<f32>::with_options(&op, &nchw(&[1, 1, 1]), PlanOptions::isa(isa)).unwrap_err();
            assert_same(&e, &want, "plan");
        }
        let e = reference::pool(&op, &[1.0f32], &nchw(&[1, 1, 1])).unwrap_err();
        assert_same(&e, &want, "reference");
    }),
    ("pads past i64 (tap positions would overflow)", || {
        let op = max(Window::new(&[(1 << 63) + 2]).pads(&[1 << 63], &[0]));
        plan_fails(&op, &nchw(&[1, 1, 2]), PoolError::Overflow { what: "window geometry" })
    }),
    ("padded length overflows usize", || {
        let op = max(Window::new(&[1]).pads(&[usize::MAX], &[1]));
        plan_fails(&op, &nchw(&[1, 1, 2]), PoolError::Overflow { what: "window geometry" })
    }),
    ("dilated extent overflows usize", || {
        let op = max(Window::new(&[3]).dilation(&[usize::MAX]));
        plan_fails(&op, &nchw(&[1, 1, 2]), PoolError::Overflow { what: "window geometry" })
    }),
    ("output element count overflows usize", || {
        // Every window touches the one input element, so only the count is wrong.
        let (k, p) = (1 << 33, (1 << 33) - 1);
        let op = PoolOp::max(Window::new(&[k, k]).stride(&[1, 1]).pads(&[p, p], &[p, p]));
        plan_fails(&op, &nchw(&[1, 1, 1, 1]), PoolError::Overflow { what: "element count of the tensor" })
    }),
    ("include-pad divisor overflows i64", || {
        // One output whose window counts 2^66 padded taps: the kernels' divisor would overflow.
        let (k, p, s) = (1 << 22, (1 << 22) - 1, 1 << 23);
        let op = PoolOp::avg(Window::new(&[k, k, k]).stride(&[s, s, s]).pads(&[p, p, p], &[p, p, p]));
        let want = PoolError::Overflow { what: "average divisor (the product of the kernel sizes)" };
        plan_fails(&op, &nchw(&[1, 1, 1, 1, 1]), want)
    }),
    // ---- parameter list lengths --------------------------------------------------------------
    ("kernel list too short", || {
        let want = PoolError::ParamCount { param: "kernel", expected: 2, got: 1 };
        plan_fails(&max(Window::new(&[2])), &nchw(&[1, 1, 4, 4]), want)
    }),
    ("stride list too long", || {
        let want = PoolError::ParamCount { param: "stride", expected: 1, got: 2 };
        plan_fails(&max(Window::new(&[2]).stride(&[1, 1])), &nchw(&[1, 1, 4]), want)
    }),
    ("dilation list too short", || {
        let want = PoolError::ParamCount { param: "dilation", expected: 3, got: 2 };
        plan_fails(&max(Window::new(&[1, 1, 1]).dilation(&[1, 1])), &nchw(&[1, 1, 2, 2, 2]), want)
    }),
    ("padding list too long", || {
        let want = PoolError::ParamCount { param: "padding", expected: 2, got: 3 };
        plan_fails(&max(Window::new(&[2, 2]).padding(&[0, 0, 0])), &nchw(&[1, 1, 4, 4]), want)
    }),
    ("pads end list too short", || {
        let want = PoolError::ParamCount { param: "pads (end)", expected: 2, got: 1 };
        plan_fails(&max(Window::new(&[2, 2]).pads(&[0, 0], &[0])), &nchw(&[1, 1, 4, 4]), want)
    }),
    ("ONNX pads of odd length", || {
        let want = PoolError::ParamCount { param: "pads (begin)", expected: 1, got: 3 };
        plan_fails(&max(Window::new(&[2]).onnx_pads(&[0, 0, 0])), &nchw(&[1, 1, 4]), want)
    }),
    ("adaptive output size list of the wrong length", || {
        let want = PoolError::ParamCount { param: "output size", expected: 2, got: 3 };
        plan_fails(&PoolOp::AdaptiveMax(vec![1, 1, 1]), &nchw(&[1, 1, 4, 4]), want)
    }),
    ("Window::resolve with a rank mismatch", || {
        let e = Window::new(&[2, 2]).resolve(&[4]).unwrap_err();
        assert_same(&e, &PoolError::ParamCount { param: "kernel", expected: 1, got: 2 }, "resolve");
    }),
    ("Window::resolve with a zero spatial dim", || {
        let e = Window::new(&[1]).resolve(&[0]).unwrap_err();
        assert_same(&e, &PoolError::ZeroDim { dim: "spatial 0".into() }, "resolve");
    }),
    // ---- shapes ------------------------------------------------------------------------------
    ("rank 0 (two dims)", || shape_fails(TensorShape::nchw(&[1, 1]), PoolError::UnsupportedRank { rank: 0 })),
    ("rank 0 (no spatial dims)", || {
        shape_fails(TensorShape::new(Layout::ChannelsLast, 1, 1, &[]), PoolError::UnsupportedRank { rank: 0 })
    }),
    ("rank 4", || shape_fails(TensorShape::nhwc(&[1, 2, 2, 2, 2, 1]), PoolError::UnsupportedRank { rank: 4 })),
    ("empty dims", || shape_fails(TensorShape::nchw(&[]), PoolError::UnsupportedRank { rank: 0 })),
    ("zero batch", || shape_fails(TensorShape::nchw(&[0, 1, 4]), PoolError::ZeroDim { dim: "batch".into() })),
    ("zero channels (channels-last)", || {
        shape_fails(TensorShape::nhwc(&[1, 4, 4, 0]), PoolError::ZeroDim { dim: "channels".into() })
    }),
    ("zero spatial dim", || {
        shape_fails(TensorShape::nchw(&[1, 1, 4, 0, 4]), PoolError::ZeroDim { dim: "spatial 1".into() })
    }),
    ("batch times channels overflows usize", || {
        let want = PoolError::Overflow { what: "element count of the tensor" };
        shape_fails(TensorShape::nchw(&[usize::MAX, 2, 1]), want)
    }),
    ("spatial product overflows usize", || {
        let want = PoolError::Overflow { what: "element count of the tensor" };
        shape_fails(TensorShape::nchw(&[1, 1, 1 << 32, 1 << 32]), want)
    }),
    ("element count above isize::MAX", || {
        let want = PoolError::Overflow { what: "element count of the tensor" };
        shape_fails(TensorShape::nhwc(&[1, 1 << 62, 2]), want)
    }),
    // ---- buffer lengths ----------------------------------------------------------------------
    ("output one element short", || {
        let want = PoolError::BufferLength { buffer: "output", expected: 8, got: 7 };
        run_fails(&max(Window::new(&[2, 2])), &nchw(&[1, 2, 4, 4]), (0, -1, None), want)
    }),
    ("output one element long", || {
        let want = PoolError::BufferLength { buffer: "output", expected: 18, got: 19 };
        run_fails(&PoolOp::avg(Window::new(&[2, 2]).stride(&[1, 1])), &nchw(&[2, 1, 4, 4]), (0, 1, None), want)
    }),
    ("input one element short", || {
        let want = PoolError::BufferLength { buffer: "input", expected: 48, got: 47 };
        run_fails(&PoolOp::GlobalAvg, &TensorShape::nhwc(&[1, 4, 4, 3]).unwrap(), (-1, 0, None), want)
    }),
    ("input one element long", || {
        let want = PoolError::BufferLength { buffer: "input", expected: 27, got: 28 };
        run_fails(&PoolOp::lp(Window::new(&[3, 3, 3]), 2.0), &nchw(&[1, 1, 3, 3, 3]), (1, 0, None), want)
    }),
    ("index buffer one element short", || {
        let want = PoolError::BufferLength { buffer: "indices", expected: 9, got: 8 };
        run_fails(&max(Window::new(&[2, 2]).stride(&[1, 1])), &nchw(&[1, 1, 4, 4]), (0, 0, Some(-1)), want)
    }),
    ("index buffer one element long", || {
        let want = PoolError::BufferLength { buffer: "indices", expected: 6, got: 7 };
        run_fails(&PoolOp::AdaptiveMax(vec![3]), &nchw(&[1, 2, 5]), (0, 0, Some(1)), want)
    }),
    ("index buffer right, output short, with indices", || {
        let want = PoolError::BufferLength { buffer: "output", expected: 3, got: 2 };
        run_fails(&PoolOp::GlobalMax, &nchw(&[1, 3, 7]), (0, -1, Some(0)), want)
    }),
    ("reference with an input one element short", || {
        let shape = nchw(&[1, 1, 4, 4]);
        let want = PoolError::BufferLength { buffer: "input", expected: 16, got: 15 };
        let x = vec![0.0f32; 15];
        assert_same(&reference::max_pool(&x, &shape, &Window::new(&[2, 2])).unwrap_err(), &want, "max_pool");
        assert_same(&reference::global_avg_pool(&x, &shape).unwrap_err(), &want, "global_avg_pool");
        assert_same(&pool(&PoolOp::GlobalAvg, &x, &shape).unwrap_err(), &want, "pool()");
    }),
    ("empty input and output buffers", || {
        let shape = nchw(&[1, 2, 4, 4]);
        let want = PoolError::BufferLength { buffer: "input", expected: 32, got: 0 };
        run_fails(&max(Window::new(&[2, 2])), &shape, (-32, -8, None), want.clone());
        run_fails(&max(Window::new(&[2, 2])), &shape, (-32, -8, Some(-8)), want.clone());
        run_fails(&PoolOp::GlobalAvg, &shape, (-32, -2, None), want.clone());
        assert_same(&pool::<f32>(&PoolOp::GlobalMax, &[], &shape).unwrap_err(), &want, "pool()");
        assert_same(&reference::pool::<u8>(&PoolOp::GlobalMax, &[], &shape).unwrap_err(), &want, "reference");
    }),
    ("empty output buffer with a right input", || {
        let want = PoolError::BufferLength { buffer: "output", expected: 8, got: 0 };
        run_fails(&PoolOp::lp(Window::new(&[2, 2]), 3.0), &nchw(&[1, 2, 4, 4]), (0, -8, None), want)
    }),
    ("empty index buffer", || {
        let want = PoolError::BufferLength { buffer: "indices", expected: 6, got: 0 };
        run_fails(&PoolOp::AdaptiveMax(vec![3]), &nchw(&[1, 2, 5]), (0, 0, Some(-6)), want)
    }),
    // ---- indices from ops without them -------------------------------------------------------
    ("indices requested for avg", || indices_fail(&PoolOp::avg(Window::new(&[2])), &nchw(&[1, 1, 4]), "avg")),
    ("indices requested for lp", || indices_fail(&PoolOp::lp(Window::new(&[2]), 2.0), &nchw(&[1, 1, 4]), "lp")),
    ("indices requested for global avg", || indices_fail(&PoolOp::GlobalAvg, &nchw(&[1, 1, 4]), "global avg")),
    ("indices requested for adaptive avg", || {
        indices_fail(&PoolOp::AdaptiveAvg(vec![2]), &nchw(&[1, 1, 4]), "adaptive avg")
    }),
    ("indices for avg with a wrong output buffer too: the op error comes first", || {
        let want = PoolError::IndicesUnsupported { op: "avg" };
        run_fails(&PoolOp::avg(Window::new(&[2])), &nchw(&[1, 1, 4]), (0, 1, Some(-1)), want)
    }),
    // ---- op parameters -----------------------------------------------------------------------
    ("adaptive output size 0", || {
        let want = PoolError::ZeroParam { param: "output size", axis: 1 };
        plan_fails(&PoolOp::AdaptiveAvg(vec![2, 0]), &nchw(&[1, 1, 4, 4]), want)
    }),
    ("adaptive output size too large to allocate", || {
        if cfg!(miri) {
            // Miri stops the whole run on an allocation this large instead of failing it.
            return;
        }
        let want = PoolError::Overflow { what: "memory for the per-axis tap tables" };
        for isa in isas() {
            let e = Plan::<f32>::with_options(
                &PoolOp::AdaptiveMax(vec![1 << 58]),
                &nchw(&[1, 1, 1]),
                PlanOptions::isa(isa),
            )
            .unwrap_err();
            assert_same(&e, &want, "plan");
        }
        let e = reference::adaptive_max_pool(&[1.0f32], &nchw(&[1, 1, 1]), &[1 << 58]).unwrap_err();
        assert_same(&e, &PoolError::Overflow { what: "memory for the reference output" }, "reference");
    }),
    ("Lp with p = NaN", || lp_fails(f64::NAN)),
    ("Lp with negative p", || lp_fails(-2.0)),
    ("Lp with p = 0.5", || lp_fails(0.5)),
    ("Lp with p = 0", || lp_fails(0.0)),
    ("Lp with p = +inf", || lp_fails(f64::INFINITY)),
    ("Lp with p = -inf", || lp_fails(f64::NEG_INFINITY)),
    ("divisor_override 0", || {
        let op = PoolOp::Avg(Window::new(&[2, 2]), AvgOptions { count_include_pad: false, divisor_override: Some(0) });
        let shape = nchw(&[1, 1, 4, 4]);
        plan_fails(&op, &shape, PoolError::ZeroDivisor);
        let x = vec![1.0f32; 16];
        let opts = AvgOptions { count_include_pad: true, divisor_override: Some(0) };
        assert_same(
            &reference::avg_pool(&x, &shape, &Window::new(&[2, 2]), &opts).unwrap_err(),
            &PoolError::ZeroDivisor,
            "reference::avg_pool",
        );
    }),
    ("divisor_override i64::MIN: valid, the reference's bits", || {
        let shape = nchw(&[2, 3, 5, 7]);
        for include_pad in [false, true] {
            let opts = AvgOptions { count_include_pad: include_pad, divisor_override: Some(i64::MIN) };
            matches_reference(&PoolOp::Avg(Window::new(&[3, 3]).stride(&[1, 2]).padding(&[1, 1]), opts), &shape);
            matches_reference(&PoolOp::Avg(Window::new(&[2, 2]), opts), &shape.with_layout(Layout::ChannelsLast));
        }
    }),
    ("divisor_override i64::MAX and -1: valid, the reference's bits", || {
        for d in [i64::MAX, -1, i64::MIN + 1] {
            let opts = AvgOptions { count_include_pad: true, divisor_override: Some(d) };
            let op = PoolOp::Avg(Window::new(&[2, 3]).stride(&[1, 1]), opts);
            matches_reference(&op, &nchw(&[1, 2, 4, 9]));
            matches_reference(&op, &TensorShape::nhwc(&[1, 4, 9, 19]).unwrap());
        }
    }),
    ("Lp with a huge finite p: valid, the reference's bits", || {
        // 1 / p rounds to 0 in f32 above 2^150: the root must still give 0, 1, inf or NaN as
        // the reference's f64 root does (never 1 for a zero, infinite or NaN sum).
        for p in [1e20, 1e40, 2f64.powi(150), 3.0 * 2f64.powi(150), 1e300, f64::MAX] {
            for w in [Window::new(&[2, 2]), Window::new(&[3, 3]).stride(&[1, 1]).padding(&[1, 1])] {
                matches_reference(&PoolOp::lp(w.clone(), p), &nchw(&[1, 3, 5, 6]));
                matches_reference(&PoolOp::lp(w, p), &TensorShape::nhwc(&[1, 5, 6, 37]).unwrap());
            }
            matches_reference(&PoolOp::lp(Window::new(&[3]).stride(&[1]), p), &nchw(&[2, 2, 300]));
        }
    }),
    ("Lp whose powers overflow or vanish: the norm, not inf, 1 or 0", || {
        // 6^200 overflows f32 (inf^(1/p) is not the answer); at p = 1e308, |x|^p is inf for
        // |x| > 1 (the root then gave 1); 1e-30^2 vanishes in f32. The result is the norm.
        let shape = nchw(&[1, 1, 6]);
        let w = Window::new(&[2]);
        for (x, p, want) in [
            ([5.0, 6.0, 1.0, 2.0, 0.5, 0.25], 200.0, [6.0, 2.0, 0.5]),
            ([5.0, 6.0, 1.0, 2.0, 0.5, 0.25], 1e308, [6.0, 2.0, 0.5]),
            ([3e-30, 4e-30, 3e20, 4e20, 0.0, 5.0], 2.0, [5e-30, 5e20, 5.0]),
        ] {
            let op = PoolOp::lp(w.clone(), p);
            for isa in isas() {
                let got = common::run_plan(&op, &x.map(|v| v as f32), &shape, PlanOptions::isa(isa)).values;
                common::assert_close(&got, &want.map(|v| v as f32), 1e-5, 0.0, &format!("p = {p:e} at {isa}"));
            }
            let r = reference::lp_pool(&x, &shape, &w, p).unwrap().values;
            common::assert_close(&r, &want, 1e-12, 0.0, &format!("reference, p = {p:e}"));
        }
    }),
    ("backward: an index outside its plane, before anything is written", || {
        let shape = nchw(&[1, 2, 4, 4]);
        let plan = Plan::<f32>::new(&max(Window::new(&[2, 2])), &shape).unwrap();
        let mut gx = [5.0f32; 32];
        for bad in [-1, 16, i64::MIN, i64::MAX] {
            let e = plan.backward_with_indices(&[0, 0, bad, 0, 0, 0, 0, 0], &[1.0; 8], &mut gx).unwrap_err();
            assert_same(&e, &PoolError::IndexOutOfPlane { position: 2, index: bad, plane: 16 }, "plan");
        }
        assert_eq!(gx, [5.0; 32]);
    }),
    ("backward: u8 and i8 have no gradient", || {
        let shape = nchw(&[1, 1, 4]);
        let op = PoolOp::Avg(Window::new(&[2]), AvgOptions::default());
        let e = Plan::<u8>::new(&op, &shape).unwrap().backward(&[1, 1], &mut [0; 4]).unwrap_err();
        assert_same(&e, &PoolError::NoGradient { dtype: "u8" }, "u8");
        let e = reference::pool_backward::<i8>(&op, &[0; 4], &shape, &[1, 1]).unwrap_err();
        assert_same(&e, &PoolError::NoGradient { dtype: "i8" }, "reference i8");
    }),
    ("backward: max and Lp from the output gradient alone", || {
        let shape = nchw(&[1, 1, 4]);
        for (op, name) in [(max(Window::new(&[2])), "max"), (PoolOp::lp(Window::new(&[2]), 3.0), "lp")] {
            let e = Plan::<f32>::new(&op, &shape).unwrap().backward(&[1.0, 1.0], &mut [0.0; 4]).unwrap_err();
            assert!(matches!(e, PoolError::BackwardNeeds { op, .. } if op == name), "{e}");
        }
    }),
    ("an ISA this machine lacks", || {
        let missing = if cfg!(target_arch = "aarch64") { Isa::Avx2 } else { Isa::Neon };
        let shape = nchw(&[1, 1, 4]);
        for op in [max(Window::new(&[2])), PoolOp::GlobalAvg, PoolOp::AdaptiveAvg(vec![2])] {
            let e = Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(missing)).unwrap_err();
            assert_same(&e, &PoolError::IsaUnavailable { requested: missing, detected: Isa::detected() }, "plan");
        }
        // A level above the detected one (under a SIMDPOOL_ISA cap or on a smaller CPU) too.
        for isa in Isa::ALL.into_iter().filter(|i| !i.is_available()) {
            let e = Plan::<u8>::with_options(&PoolOp::GlobalMax, &shape, PlanOptions::isa(isa)).unwrap_err();
            assert_same(&e, &PoolError::IsaUnavailable { requested: isa, detected: Isa::detected() }, "plan");
        }
    }),
    // ---- .npy files --------------------------------------------------------------------------
    ("npy: empty file", || npy_fails(b"", NpyError::BadMagic)),
    ("npy: wrong magic", || {
        let mut f = npy(F32_2X3, &[0; 24]);
        f[1] = b'n';
        npy_fails(&f, NpyError::BadMagic)
    }),
    ("npy: truncated inside the preamble", || {
        npy_fails(b"\x93NUMPY\x01\x00\x76", NpyError::Truncated { needed: 10, got: 9 })
    }),
    ("npy: truncated inside the header", || {
        let f = npy(F32_2X3, &[0; 24]);
        npy_fails(&f[..40], NpyError::Truncated { needed: 128, got: 40 })
    }),
    ("npy: version 2 preamble truncated", || {
        npy_fails(b"\x93NUMPY\x02\x00\x00\x00", NpyError::Truncated { needed: 12, got: 10 })
    }),
    ("npy: unsupported version", || {
        let mut f = npy(F32_2X3, &[0; 24]);
        f[6] = 4;
        npy_fails(&f, NpyError::UnsupportedVersion(4, 0))
    }),
    ("npy: fortran order", || {
        npy_fails(&npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", &[0; 24]), NpyError::FortranOrder)
    }),
    ("npy: unsupported dtype (complex)", || {
        let f = npy("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", &[0; 16]);
        npy_fails(&f, NpyError::UnsupportedDType("<c8".into()))
    }),
    ("npy: big-endian floats", || {
        let f = npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", &[0; 24]);
        npy_fails(&f, NpyError::UnsupportedDType(">f4".into()))
    }),
    ("npy: data shorter than the shape", || {
        npy_fails(&npy(F32_2X3, &[0; 23]), NpyError::DataLength { expected: 24, got: 23 })
    }),
    ("npy: data longer than the shape", || {
        npy_fails(&npy(F32_2X3, &[0; 28]), NpyError::DataLength { expected: 24, got: 28 })
    }),
    ("npy: shape product overflows", || {
        let dict = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, 2), }}", usize::MAX / 2);
        npy_fails(&npy(&dict, &[]), NpyError::BadHeader("shape overflows".into()))
    }),
    ("npy: version 3.0 header that is not UTF-8", || {
        let mut f = npy(F32_2X3, &[0; 24]);
        // Version 3.0: a 4-byte header length (the header shifts by 2 bytes; its end stays put
        // because the padding shrinks by 2).
        let len = u16::from_le_bytes([f[8], f[9]]) as u32 - 2;
        f[6] = 3;
        f.splice(8..10, len.to_le_bytes());
        f.remove(12 + len as usize - 2);
        f.remove(12 + len as usize - 2);
        f[14] = 0xff;
        npy_fails(&f, NpyError::BadHeader("a version 3.0 header must be UTF-8".into()))
    }),
    ("npy: version 1.0 header with a latin-1 byte in a key", || {
        let mut f = npy(F32_2X3, &[0; 24]);
        f[12] = 0xff;
        let want = "unexpected key \"\u{ff}escr\": a header has exactly the keys 'descr', 'fortran_order' and 'shape'";
        npy_fails(&f, NpyError::BadHeader(want.into()))
    }),
    ("npy: garbage header without keys", || {
        let want = "expected '{' at the start of the header dictionary, found \"garbage garbage \"...";
        npy_fails(&npy("garbage garbage garbage", &[]), NpyError::BadHeader(want.into()))
    }),
    ("npy: descr that is not a string", || {
        let f = npy("{'descr': 4, 'fortran_order': False, 'shape': (2, 3), }", &[0; 24]);
        let want = "expected descr (a quoted string), found \"4, 'fortran_orde\"...";
        npy_fails(&f, NpyError::BadHeader(want.into()))
    }),
    ("npy: fortran_order neither True nor False", || {
        let f = npy("{'descr': '<f4', 'fortran_order': maybe, 'shape': (2, 3), }", &[0; 24]);
        npy_fails(&f, NpyError::BadHeader("fortran_order must be True or False, found \"maybe\"".into()))
    }),
    ("npy: fortran_order that only starts like False", || {
        let f = npy("{'descr': '<f4', 'fortran_order': Falsehood, 'shape': (2, 3), }", &[0; 24]);
        npy_fails(&f, NpyError::BadHeader("fortran_order must be True or False, found \"Falsehood\"".into()))
    }),
    ("npy: shape that is not a tuple", || {
        let f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }", &[0; 24]);
        npy_fails(&f, NpyError::BadHeader("shape is not a tuple: expected '(', found \"[2, 3], }\"".into()))
    }),
    ("npy: negative dimension", || {
        let f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", &[0; 24]);
        let want = "bad dimension \"-3\": shape entries are non-negative decimal integers";
        npy_fails(&f, NpyError::BadHeader(want.into()))
    }),
    ("npy: shape with empty elements", || {
        let f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,,, 1,,4 ,4), }", &[0; 64]);
        let want = "shape has an empty element (a comma with no dimension before it)";
        npy_fails(&f, NpyError::BadHeader(want.into()))
    }),
    ("npy: junk after the shape", || {
        let f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4, ) junk}", &[0; 64]);
        let want = "expected ',' or '}' after the value of \"shape\", found \"junk}\"";
        npy_fails(&f, NpyError::BadHeader(want.into()))
    }),
    ("npy: junk after the dictionary", || {
        let f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4), } junk", &[0; 64]);
        let want = "unexpected text after the header dictionary: \"junk\"";
        npy_fails(&f, NpyError::BadHeader(want.into()))
    }),
    ("npy: version 1.7", || {
        let mut f = npy(F32_2X3, &[0; 24]);
        f[7] = 7;
        npy_fails(&f, NpyError::UnsupportedVersion(1, 7))
    }),
    ("npy: duplicate key", || {
        let f = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'shape': (6,), }", &[0; 24]);
        npy_fails(&f, NpyError::BadHeader("duplicate key \"shape\"".into()))
    }),
    ("npy: extra key whose value spells a shape", || {
        let dict = "{'descr': '<f4', 'x': \"'shape': (6,)\", 'fortran_order': False, 'shape': (2, 3), }";
        let want = "unexpected key \"x\": a header has exactly the keys 'descr', 'fortran_order' and 'shape'";
        npy_fails(&npy(dict, &[0; 24]), NpyError::BadHeader(want.into()))
    }),
    ("npy: header length pointing past the end", || {
        let mut f = npy(F32_2X3, &[]);
        f[8..10].copy_from_slice(&9000u16.to_le_bytes());
        npy_fails(&f, NpyError::Truncated { needed: 9010, got: 128 })
    }),
    ("npy: header longer than NumPy allows", || {
        let mut f = npy(F32_2X3, &[]);
        f[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
        npy_fails(&f, NpyError::HeaderTooLong(u16::MAX as usize))
    }),
    ("npy: reading another dtype than stored", || {
        let a = NpyArray::parse(&npy(F32_2X3, &[0; 24])).unwrap();
        assert_eq!(a.to_vec::<u8>().unwrap_err(), NpyError::WrongDType { wanted: NpyDType::U8, found: NpyDType::F32 });
    }),
    ("npy: typed reader, another dtype than stored", || {
        let f = TempFile::new("typed-dtype", &npy(F32_2X3, &[0; 24]));
        let got = NpyReader::open(&f.0).unwrap().read_vec::<i8>().unwrap_err();
        assert_eq!(got, NpyError::WrongDType { wanted: NpyDType::I8, found: NpyDType::F32 });
    }),
    ("npy: typed reader, header claiming more data than the file holds", || {
        // Refused on opening, before any buffer for the data exists.
        let f = TempFile::new(
            "typed-lying",
            &npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000), }", &[0; 24]),
        );
        assert_eq!(NpyReader::open(&f.0).unwrap_err(), NpyError::DataLength { expected: 8_000_000_000_000, got: 24 });
    }),
    ("npy: write_slice with data that does not fill the shape", || {
        let mut out = Vec::new();
        let err = write_slice(&mut out, &[2, 3], &[0u8; 7]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(out.is_empty());
    }),
];

#[test]
fn every_hostile_request_returns_its_exact_error() {
    assert!(ROWS.len() >= 40, "the corpus has {} rows", ROWS.len());
    let mut failed = Vec::new();
    for (name, row) in ROWS {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(row)) {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{name}: {msg}"));
        }
    }
    assert!(failed.is_empty(), "{} of {} rows failed:\n{}", failed.len(), ROWS.len(), failed.join("\n"));
}

#[test]
fn row_names_are_unique() {
    let mut names: Vec<&str> = ROWS.iter().map(|r| r.0).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ROWS.len());
}

#[test]
fn a_failed_run_leaves_a_reused_plan_working() {
    // After rejecting bad buffers, the same plan still computes the right answer.
    let shape = nchw(&[1, 1, 4, 4]);
    let x: Vec<f32> = (0..16).map(|v| v as f32).collect();
    for isa in isas() {
        let plan = Plan::<f32>::with_options(&max(Window::new(&[2, 2])), &shape, PlanOptions::isa(isa)).unwrap();
        let mut short = vec![SENTINEL; 3];
        assert!(plan.run(&x, &mut short).is_err());
        let mut y = vec![SENTINEL; 4];
        let mut idx = vec![SENTINEL_IDX; 4];
        plan.run_with_indices(&x, &mut y, &mut idx).unwrap();
        assert_eq!(y, [5.0, 7.0, 13.0, 15.0]);
        assert_eq!(idx, [5, 7, 13, 15]);
    }
}

#[test]
fn available_levels_are_the_expected_ones() {
    // scripts/miri.sh sets SIMDPOOL_EXPECT_ISAS per pass ("scalar", "scalar,avx2"), so a build
    // whose AVX2 level silently vanished (Miri sees only compile-time features) fails here.
    let Some(want) = std::env::var_os("SIMDPOOL_EXPECT_ISAS") else { return };
    let got: Vec<&str> = Isa::available().iter().map(|i| i.name()).collect();
    assert_eq!(got.join(","), want.to_string_lossy(), "Isa::available()");
}
