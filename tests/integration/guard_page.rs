//! Guard-page test: every op x layout x rank x element type x ISA level runs on buffers that sit
//! flush against an inaccessible page (tests/integration/guard), at the end and at the start, on shapes whose
//! sizes leave vector tails (1, 7, 9, 15, 17, 31, 33, 65 ... elements, and odd channel counts). A
//! kernel that reads past the end of the input, or writes past the end of the output or index
//! buffer, faults and kills the test; the results must also equal the Scalar level's bit for bit.
//! The backward passes of the float types run the same way, every gradient buffer guarded.
#![cfg(all(unix, not(miri)))]

use crate::common;
use crate::guard;

use common::{assert_bits_eq, isas};
use guard::{Flush, Guarded};
use simdpool::{
    AvgOptions, Element, Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape, Threading, Window, bf16, f16,
};

/// The ops, for a given spatial rank: overlapping and disjoint windows, padding, ceil mode,
/// dilation, every average option, the three Lp exponent paths, global and adaptive.
fn ops(rank: usize) -> Vec<PoolOp> {
    let v = |x: usize| vec![x; rank];
    let w = |k: usize, s: usize| Window::new(&v(k)).stride(&v(s));
    vec![
        PoolOp::max(w(3, 1)),
        PoolOp::max(w(2, 2)),
        PoolOp::max(w(3, 2).padding(&v(1)).ceil_mode(true)),
        PoolOp::max(w(2, 1).dilation(&v(2)).pads(&v(1), &v(0))),
        PoolOp::avg(w(3, 1).padding(&v(1))),
        PoolOp::Avg(w(2, 2).ceil_mode(true), AvgOptions { count_include_pad: false, divisor_override: None }),
        PoolOp::Avg(w(3, 3).padding(&v(1)), AvgOptions { count_include_pad: true, divisor_override: Some(7) }),
        PoolOp::lp(w(2, 1), 2.0),
        PoolOp::lp(w(3, 2).padding(&v(1)), 1.0),
        PoolOp::lp(w(2, 2), 3.0),
        PoolOp::GlobalMax,
        PoolOp::GlobalAvg,
        PoolOp::AdaptiveMax(v(3)),
        PoolOp::AdaptiveAvg(v(2)),
    ]
}

/// Spatial dims per rank, chosen so rows and planes are not multiples of any vector width.
fn spatials(rank: usize) -> Vec<Vec<usize>> {
    match rank {
        1 => [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 65].iter().map(|&w| vec![w]).collect(),
        2 => vec![vec![1, 1], vec![3, 17], vec![5, 9], vec![2, 33], vec![4, 16], vec![7, 7]],
        _ => vec![vec![1, 1, 1], vec![2, 3, 17], vec![3, 3, 9], vec![3, 5, 5]],
    }
}

/// (batch, channels) per layout: channels-last gets odd channel counts around vector widths.
fn batch_channels(layout: Layout) -> Vec<(usize, usize)> {
    match layout {
        Layout::ChannelsFirst => vec![(1, 1), (2, 3)],
        Layout::ChannelsLast => vec![(1, 1), (1, 3), (2, 7), (1, 17), (1, 33)],
    }
}

/// Deterministic values with ties, negatives, zeros of both signs, and some NaN and infinities.
fn values<T: Element>(n: usize, seed: u64) -> Vec<T> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let is_int = matches!(T::DTYPE, simdpool::DType::U8 | simdpool::DType::I8);
            match s % 29 {
                0 if !is_int => T::from_f64(f64::NAN),
                1 if !is_int => T::from_f64(f64::INFINITY),
                2 if !is_int => T::from_f64(-0.0),
                _ if T::DTYPE == simdpool::DType::U8 => T::from_f64(((s >> 8) % 256) as f64),
                _ => T::from_f64(((s >> 8) % 200) as f64 / 4.0 - 25.0),
            }
        })
        .collect()
}

/// The Scalar level's output (and indices) on ordinary, exactly sized buffers.
fn expected<T: Element>(op: &PoolOp, shape: &TensorShape, x: &[T]) -> Option<(Vec<T>, Option<Vec<i64>>)> {
    let plan = Plan::<T>::with_options(op, shape, PlanOptions::isa(Isa::Scalar)).ok()?;
    let mut y = vec![T::zeroed(); plan.output_len()];
    plan.run(x, &mut y).expect("scalar run");
    let idx = op.has_indices().then(|| {
        let mut y2 = vec![T::zeroed(); plan.output_len()];
        let mut i = vec![0i64; plan.output_len()];
        plan.run_with_indices(x, &mut y2, &mut i).expect("scalar run_with_indices");
        i
    });
    Some((y, idx))
}

/// The Scalar level's backward passes (float types): the output gradient, then the gradient
/// input from the forward input, from the indices (max) and from the output gradient alone
/// (averages).
struct Grads<T> {
    grad_output: Vec<T>,
    from_input: Vec<T>,
    from_indices_or_alone: Option<Vec<T>>,
}

fn expected_backward<T: Element>(
    op: &PoolOp,
    shape: &TensorShape,
    x: &[T],
    y: &[T],
    idx: Option<&[i64]>,
) -> Option<Grads<T>> {
    if matches!(T::DTYPE, simdpool::DType::U8 | simdpool::DType::I8) {
        return None;
    }
    let plan = Plan::<T>::with_options(op, shape, PlanOptions::isa(Isa::Scalar)).ok()?;
    let grad_output = values::<T>(plan.output_len(), plan.output_len() as u64 + 5);
    let mut from_input = vec![T::zeroed(); plan.input_len()];
    plan.backward_from_input(x, y, &grad_output, &mut from_input).expect("scalar backward_from_input");
    let mut other = vec![T::zeroed(); plan.input_len()];
    let from_indices_or_alone = match idx {
        Some(idx) => plan.backward_with_indices(idx, &grad_output, &mut other).ok().map(|()| other),
        None => plan.backward(&grad_output, &mut other).ok().map(|()| other),
    };
    Some(Grads { grad_output, from_input, from_indices_or_alone })
}

/// The backward passes of `plan` with every buffer flush against a guard page.
fn check_backward_guarded<T: Element>(
    plan: &Plan<T>,
    x: &[T],
    y: &[T],
    idx: Option<&[i64]>,
    want: &Grads<T>,
    flush: Flush,
    what: &str,
) {
    let input = Guarded::from_slice(x, flush);
    let output = Guarded::from_slice(y, flush);
    let go = Guarded::from_slice(&want.grad_output, flush);
    let mut gi = Guarded::<T>::new(plan.input_len(), flush);
    plan.backward_from_input(input.as_slice(), output.as_slice(), go.as_slice(), gi.as_mut_slice())
        .expect("backward_from_input");
    assert_bits_eq(gi.as_slice(), &want.from_input, &format!("{what}: backward from the input"));
    if let Some(w) = &want.from_indices_or_alone {
        let mut gi = Guarded::<T>::new(plan.input_len(), flush);
        match idx {
            Some(idx) => {
                let idx = Guarded::from_slice(idx, flush);
                plan.backward_with_indices(idx.as_slice(), go.as_slice(), gi.as_mut_slice())
                    .expect("backward_with_indices");
            }
            None => plan.backward(go.as_slice(), gi.as_mut_slice()).expect("backward"),
        }
        assert_bits_eq(gi.as_slice(), w, &format!("{what}: backward from indices or the gradient alone"));
    }
}

/// Set (to anything) to guard every level but Scalar. The emulated NEON run sets it: the Scalar
/// level runs the portable kernels, the same source the native run guards, and under emulation
/// its guarded runs cost about as much as the NEON level's.
const SIMD_ONLY_ENV: &str = "SIMDPOOL_GUARD_SIMD_ONLY";

/// The levels whose runs are guarded: every level this machine has, or under
/// [`SIMD_ONLY_ENV`] every level above Scalar (Scalar when it is the only one).
fn guarded_levels() -> Vec<Isa> {
    let all = isas();
    if std::env::var_os(SIMD_ONLY_ENV).is_some() && all.len() > 1 {
        all.into_iter().filter(|&isa| isa != Isa::Scalar).collect()
    } else {
        all
    }
}

/// Runs `op` at every level with input, output and indices flush against guard pages, and the
/// backward passes (float types) with every gradient buffer flush against one too.
fn check_guarded<T: Element>(op: &PoolOp, shape: &TensorShape, x: &[T], threading: Threading) -> usize {
    let Some((want, want_idx)) = expected(op, shape, x) else { return 0 };
    let want_grads = expected_backward(op, shape, x, &want, want_idx.as_deref());
    let mut runs = 0;
    for isa in guarded_levels() {
        let opts = PlanOptions { isa: Some(isa), threading };
        let plan = Plan::<T>::with_options(op, shape, opts).expect("plan valid at Scalar is valid at every level");
        for flush in [Flush::End, Flush::Start] {
            let what =
                format!("{} {:?} {:?} {} {isa} flush {flush:?}", op.name(), shape.dims(), shape.layout(), T::DTYPE);
            let input = Guarded::from_slice(x, flush);
            let mut out = Guarded::<T>::new(plan.output_len(), flush);
            plan.run(input.as_slice(), out.as_mut_slice()).expect("run");
            assert_bits_eq(out.as_slice(), &want, &what);
            if let Some(want_idx) = &want_idx {
                let mut out = Guarded::<T>::new(plan.output_len(), flush);
                let mut idx = Guarded::<i64>::new(plan.output_len(), flush);
                plan.run_with_indices(input.as_slice(), out.as_mut_slice(), idx.as_mut_slice())
                    .expect("run_with_indices");
                assert_bits_eq(out.as_slice(), &want, &format!("{what} (with indices)"));
                assert_eq!(idx.as_slice(), want_idx.as_slice(), "{what}: indices");
            }
            if let Some(grads) = &want_grads {
                check_backward_guarded(&plan, x, &want, want_idx.as_deref(), grads, flush, &what);
            }
            runs += 1;
        }
    }
    runs
}

/// Every op x layout x rank x shape for one element type; returns the number of guarded runs.
fn sweep<T: Element>(threading: Threading) -> usize {
    let mut runs = 0;
    for rank in 1..=3 {
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            for spatial in spatials(rank) {
                for (batch, channels) in batch_channels(layout) {
                    let shape = TensorShape::new(layout, batch, channels, &spatial).unwrap();
                    let x = values::<T>(shape.len(), shape.len() as u64 + rank as u64);
                    for op in ops(rank) {
                        runs += check_guarded(&op, &shape, &x, threading);
                    }
                }
            }
        }
    }
    runs
}

#[test]
fn guard_pages_prove_no_out_of_bounds_access_f32() {
    let runs = sweep::<f32>(Threading::CallingThread);
    // Most (op, shape) pairs are valid; a collapse here means the sweep silently stopped running.
    assert!(runs >= 2000 * guarded_levels().len() / 3, "only {runs} guarded runs");
}

#[test]
fn guard_pages_prove_no_out_of_bounds_access_f64_f16_bf16() {
    assert!(sweep::<f64>(Threading::CallingThread) > 0);
    assert!(sweep::<f16>(Threading::CallingThread) > 0);
    assert!(sweep::<bf16>(Threading::CallingThread) > 0);
}

#[test]
fn guard_pages_prove_no_out_of_bounds_access_u8_i8() {
    assert!(sweep::<u8>(Threading::CallingThread) > 0);
    assert!(sweep::<i8>(Threading::CallingThread) > 0);
}

#[test]
fn guard_pages_with_thread_splits() {
    // Problems large enough to be split over rayon's pool: each task's output chunk ends inside the
    // buffer, the last one at the guard page.
    for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
        for spatial in [vec![4099], vec![61, 67], vec![9, 23, 29]] {
            let shape = TensorShape::new(layout, 2, 19, &spatial).unwrap();
            let x = values::<f32>(shape.len(), 7);
            let ops = ops(spatial.len());
            // Overlapping max (with indices), padded avg, Lp 2, global avg, adaptive max.
            for i in [0, 4, 7, 11, 12] {
                assert!(check_guarded(&ops[i], &shape, &x, Threading::Auto) > 0);
            }
        }
    }
}

/// Set in the child process of `reading_past_the_end_faults`.
const CHILD_ENV: &str = "SIMDPOOL_GUARD_PAGE_CHILD";

#[test]
fn reading_past_the_end_faults() {
    // Proof the guard works: a child process (this test binary, this test only) reads one element
    // past a buffer placed with Flush::End and must die of SIGSEGV, not print anything.
    if std::env::var_os(CHILD_ENV).is_some() {
        let g = Guarded::<f32>::filled(5, 1.0, Flush::End);
        let past = g.end_addr() as *const f32;
        // SAFETY: deliberately NOT safe: this reads the guard page to prove it faults. It runs only
        // in the child process spawned below, which is expected to be killed by SIGSEGV here.
        let v = unsafe { std::ptr::read_volatile(past) };
        println!("read {v} past the end without a fault");
        std::process::exit(0);
    }
    use std::os::unix::process::ExitStatusExt;
    let exe = std::env::current_exe().expect("test binary path");
    let name = crate::test_name(module_path!(), "reading_past_the_end_faults");
    let out = std::process::Command::new(exe)
        .args(["--exact", &name, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("spawn the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains("without a fault"), "the guard page did not fault: {stdout}");
    // Killed by SIGSEGV; under AddressSanitizer, its SEGV report and a failing exit instead.
    let segv = out.status.signal() == Some(libc::SIGSEGV) || (!out.status.success() && stderr.contains("SEGV"));
    assert!(segv, "the child did not die of SIGSEGV: {:?}\n{stderr}", out.status);
}

#[test]
fn the_guard_helper_places_buffers_flush() {
    for len in [1usize, 3, 1023, 1024, 1025, 5000] {
        let g = Guarded::<f32>::filled(len, 1.5, Flush::End);
        assert_eq!(g.end_addr(), g.trailing_guard());
        assert!(g.as_slice().iter().all(|&v| v == 1.5));
        let g = Guarded::<u8>::new(len, Flush::Start);
        assert_eq!(g.start_addr(), g.after_leading_guard());
        assert_eq!(g.as_slice().len(), len);
    }
}
