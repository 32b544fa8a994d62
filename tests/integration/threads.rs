//! Thread-count independence: the same plan run inside rayon pools of 1, 2 and 3 threads
//! (`ThreadPool::install`, so the plan splits over the caller's pool) gives bit-identical outputs
//! and indices, for every op, both layouts, spatial ranks 1-3, on inputs large enough to split,
//! for f32 (the SIMD kernels of the detected level) and narrow types (bf16, u8); every op variant
//! and every element type at 1..=8 threads, with the split checked through the
//! `tasks_of_last_run` hook; and one plan shared by 16 std threads over pools of 2, 3 and 5.

use crate::common;

use common::*;
use simdpool::{AvgOptions, Element, Layout, Plan, PlanOptions, PoolOp, TensorShape, Window, bf16, f16};

fn ops(rank: usize) -> Vec<PoolOp> {
    let k = |v: usize| vec![v; rank];
    let w = Window::new(&k(3)).stride(&k(2)).padding(&k(1));
    vec![
        PoolOp::max(w.clone()),
        PoolOp::Avg(w.clone(), AvgOptions { count_include_pad: false, divisor_override: None }),
        PoolOp::lp(Window::new(&k(2)), 2.0),
        PoolOp::GlobalMax,
        PoolOp::GlobalAvg,
        PoolOp::AdaptiveMax(k(5)),
        PoolOp::AdaptiveAvg(k(7)),
    ]
}

/// Shapes of about 128K elements (over the inline threshold), N = 1 and N = 2.
fn shapes(rank: usize, layout: Layout) -> Vec<TensorShape> {
    let sp: &[usize] = match rank {
        1 => &[4096],
        2 => &[64, 64],
        _ => &[16, 32, 32],
    };
    [(2usize, 16usize), (1, 32)].iter().map(|&(n, c)| TensorShape::new(layout, n, c, sp).unwrap()).collect()
}

fn run_in<T: Element>(pool: &rayon::ThreadPool, plan: &Plan<T>, x: &[T], indices: bool) -> (Vec<T>, Vec<i64>) {
    pool.install(|| {
        let mut y = vec![T::zeroed(); plan.output_len()];
        let mut idx = Vec::new();
        if indices {
            idx = vec![-1i64; plan.output_len()];
            plan.run_with_indices(x, &mut y, &mut idx).unwrap();
        } else {
            plan.run(x, &mut y).unwrap();
        }
        (y, idx)
    })
}

fn check_type<T: Element>(make: impl Fn(u32) -> T) {
    let pools: Vec<rayon::ThreadPool> =
        [1, 2, 3].iter().map(|&n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()).collect();
    let mut seed = 0x2545_f491u32;
    for rank in 1..=3 {
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            for shape in shapes(rank, layout) {
                let x: Vec<T> = (0..shape.len())
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 17;
                        seed ^= seed << 5;
                        make(seed)
                    })
                    .collect();
                for op in ops(rank) {
                    let plan = Plan::<T>::with_options(&op, &shape, PlanOptions::default()).unwrap();
                    let mut variants = vec![false];
                    if op.has_indices() {
                        variants.push(true);
                    }
                    for indices in variants {
                        let (y1, i1) = run_in(&pools[0], &plan, &x, indices);
                        for pool in &pools[1..] {
                            let (y, i) = run_in(pool, &plan, &x, indices);
                            let what = format!(
                                "{op:?} {shape:?} {} indices={indices} threads={}",
                                T::DTYPE.name(),
                                pool.current_num_threads()
                            );
                            assert_bits_eq(&y, &y1, &what);
                            assert_eq!(i, i1, "{what}: indices");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn f32_outputs_do_not_depend_on_the_thread_count() {
    check_type::<f32>(|r| match r % 211 {
        0 => f32::NAN,
        1 => f32::NEG_INFINITY,
        2 => -0.0,
        k => (k as f32 - 100.0) * 0.173,
    });
}

#[test]
fn bf16_outputs_do_not_depend_on_the_thread_count() {
    check_type::<bf16>(|r| bf16::from_f32(((r % 997) as f32 - 500.0) * 0.01));
}

#[test]
fn u8_outputs_do_not_depend_on_the_thread_count() {
    check_type::<u8>(|r| (r >> 7) as u8);
}

/// `Threading::CallingThread` never splits: the plan gives the same bits inside a 3-thread pool.
#[test]
fn calling_thread_option_matches() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    let shape = TensorShape::new(Layout::ChannelsFirst, 1, 2048, &[7, 7]).unwrap();
    let x: Vec<f32> = (0..shape.len()).map(|i| (i % 113) as f32 * 0.37).collect();
    let auto = Plan::<f32>::new(&PoolOp::GlobalAvg, &shape).unwrap();
    let inline =
        Plan::<f32>::with_options(&PoolOp::GlobalAvg, &shape, PlanOptions::default().calling_thread()).unwrap();
    let (a, _) = run_in(&pool, &auto, &x, false);
    let (b, _) = run_in(&pool, &inline, &x, false);
    assert_bits_eq(&a, &b, "calling thread vs split");
}

/// Global pooling with N = 1 splits channels (channels-first: groups of 16 planes; channels-last:
/// blocks of 128 channels, or pixel blocks for planes of 1024 pixels and more): the same bits for 1, 2 and 3 threads, including partial blocks and
/// tasks that cross an image boundary; and the same bits as the calling thread alone.
#[test]
fn global_channel_splits_match() {
    let pools: Vec<rayon::ThreadPool> =
        [1, 2, 3].iter().map(|&n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()).collect();
    // Channels-last planes of 1024 pixels and more split along the pixels instead (blocks fixed by
    // the plane size: 3072 pixels make 4 blocks, 1100 make 2).
    for (n, sp) in
        [(1usize, &[260usize][..]), (1, &[16, 17]), (1, &[4, 8, 9]), (2, &[11, 13]), (1, &[64, 48]), (2, &[1100])]
    {
        for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
            // N = 2 with 301 channels: channels-last tasks of 128 channels cross the image boundary.
            let shape = TensorShape::new(layout, n, 301, sp).unwrap();
            let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 2654435761) % 1009) as f32 * 0.11 - 50.0).collect();
            let xu: Vec<u8> = (0..shape.len()).map(|i| ((i * 2654435761) >> 9) as u8).collect();
            for op in [PoolOp::GlobalMax, PoolOp::GlobalAvg] {
                let plan = Plan::<f32>::new(&op, &shape).unwrap();
                let plan_u = Plan::<u8>::new(&op, &shape).unwrap();
                let (y1, _) = run_in(&pools[0], &plan, &x, false);
                let (u1, _) = run_in(&pools[0], &plan_u, &xu, false);
                let inline = Plan::<f32>::with_options(&op, &shape, PlanOptions::default().calling_thread()).unwrap();
                let (yi, _) = run_in(&pools[2], &inline, &x, false);
                assert_bits_eq(&yi, &y1, &format!("{op:?} {shape:?} calling thread"));
                for pool in &pools[1..] {
                    let (y, _) = run_in(pool, &plan, &x, false);
                    assert_bits_eq(&y, &y1, &format!("{op:?} {shape:?} f32 threads={}", pool.current_num_threads()));
                    let (u, _) = run_in(pool, &plan_u, &xu, false);
                    assert_eq!(u, u1, "{op:?} {shape:?} u8 threads={}", pool.current_num_threads());
                }
            }
        }
    }
}

/// Test inputs: xorshift values; floats with NaN, -inf and -0 mixed in, integers over their range.
fn values<T: Element>(len: usize, mut seed: u32) -> Vec<T> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let r = seed >> 8;
            let v = match T::DTYPE {
                simdpool::DType::U8 => (r % 256) as f64,
                simdpool::DType::I8 => (r % 256) as f64 - 128.0,
                _ => match r % 211 {
                    0 => f64::NAN,
                    1 => f64::NEG_INFINITY,
                    2 => -0.0,
                    k => (k as f64 - 100.0) * 0.173,
                },
            };
            T::from_f64(v)
        })
        .collect()
}

/// Every op the plans run, with the variants that change the kernels' paths: max (plain,
/// dilated with ceil mode), average (count_include_pad on and off, ceil mode, dilation,
/// divisor_override), Lp with a general and an integer power, global and adaptive.
fn all_ops() -> Vec<PoolOp> {
    let w = || Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]);
    let avg = |w: Window, count_include_pad, divisor_override| {
        PoolOp::Avg(w, AvgOptions { count_include_pad, divisor_override })
    };
    vec![
        PoolOp::max(w()),
        PoolOp::max(Window::new(&[3, 2]).stride(&[2, 1]).padding(&[1, 1]).dilation(&[2, 3]).ceil_mode(true)),
        avg(w(), true, None),
        avg(w().ceil_mode(true), false, None),
        avg(Window::new(&[2, 3]).stride(&[1, 2]).dilation(&[3, 2]).ceil_mode(true), true, None),
        avg(w(), true, Some(7)),
        PoolOp::lp(Window::new(&[3, 2]).stride(&[2, 2]).padding(&[1, 1]), 2.5),
        PoolOp::lp(Window::new(&[2, 2]), 1.0),
        PoolOp::GlobalMax,
        PoolOp::GlobalAvg,
        PoolOp::AdaptiveMax(vec![7, 5]),
        PoolOp::AdaptiveAvg(vec![5, 9]),
    ]
}

/// Runs `plan` inside `pool` and returns its outputs (and indices, with `indices`) with the
/// number of tasks the run was split into.
fn run_counted<T: Element>(
    pool: &rayon::ThreadPool,
    plan: &Plan<T>,
    x: &[T],
    indices: bool,
) -> (Vec<T>, Vec<i64>, usize) {
    pool.install(|| {
        let (y, idx) = run_here(plan, x, indices);
        (y, idx, simdpool::tasks_of_last_run())
    })
}

fn run_here<T: Element>(plan: &Plan<T>, x: &[T], indices: bool) -> (Vec<T>, Vec<i64>) {
    let mut y = vec![T::zeroed(); plan.output_len()];
    let mut idx = Vec::new();
    if indices {
        idx = vec![-1i64; plan.output_len()];
        plan.run_with_indices(x, &mut y, &mut idx).unwrap();
    } else {
        plan.run(x, &mut y).unwrap();
    }
    (y, idx)
}

/// Pools of 1..=8 threads, each used by one test thread at a time (the task counts read from
/// them are then those of the test's own runs).
fn pools_1_to_8() -> Vec<rayon::ThreadPool> {
    (1..=8).map(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()).collect()
}

/// Every op, both layouts, at 1..=8 threads: outputs and indices bit-identical to one thread,
/// and every run on 2 threads or more really split (at least two tasks; one on a single thread).
/// Inputs of 72,960 and 524,288 elements (over the 65,536-element inline threshold); the
/// second shape is for global pooling with N = 1: channels-first it splits groups of 16 planes,
/// channels-last f32/f64 take the pixel-block tree (2048 pixels: 4 blocks, forked at both
/// levels), the other types blocks of 128 channels.
fn thread_count_identity<T: Element>(seed: u32) {
    let pools = pools_1_to_8();
    let mut runs = 0;
    for layout in [Layout::ChannelsFirst, Layout::ChannelsLast] {
        for (n, c, sp) in [(2usize, 19usize, [48usize, 40usize]), (1, 256, [32, 64])] {
            let shape = TensorShape::new(layout, n, c, &sp).unwrap();
            assert!(shape.len() > 1 << 16);
            let x = values::<T>(shape.len(), seed ^ shape.len() as u32);
            let global = |op: &PoolOp| matches!(op, PoolOp::GlobalMax | PoolOp::GlobalAvg);
            // The larger shape is for the global tree; the windowed ops run on the first.
            for op in all_ops().into_iter().filter(|op| global(op) || c == 19) {
                let plan = Plan::<T>::new(&op, &shape).unwrap();
                let single = Plan::<T>::with_options(&op, &shape, PlanOptions::default().calling_thread()).unwrap();
                for indices in [false, true].into_iter().filter(|&i| !i || op.has_indices()) {
                    // The index path splits a problem by output rows; channels-last global max has
                    // one row per image (all channels of its single pixel), so with N = 1 it stays
                    // on one thread. Its bits are still checked at every thread count.
                    let one_row = indices && global(&op) && layout == Layout::ChannelsLast && n == 1;
                    let what = |t: usize| format!("{op:?} {shape:?} {} indices={indices} threads={t}", T::DTYPE.name());
                    let (y1, i1) = run_here(&single, &x, indices);
                    assert_eq!(simdpool::tasks_of_last_run(), 1, "{}: calling thread", what(1));
                    for pool in &pools {
                        let t = pool.current_num_threads();
                        let (y, i, tasks) = run_counted(pool, &plan, &x, indices);
                        assert_bits_eq(&y, &y1, &what(t));
                        assert_eq!(i, i1, "{}: indices", what(t));
                        if t == 1 || one_row {
                            assert_eq!(tasks, 1, "{}: one thread or one row never splits", what(t));
                        } else {
                            assert!(tasks >= 2, "{}: the work was not split ({tasks} task)", what(t));
                        }
                        let tree = matches!(T::DTYPE, simdpool::DType::F32 | simdpool::DType::F64);
                        if tree && global(&op) && !indices && layout == Layout::ChannelsLast && n == 1 && t > 1 {
                            assert_eq!(tasks, 4, "{}: the block tree forks at both levels", what(t));
                        }
                        runs += 1;
                    }
                }
            }
        }
    }
    // 2 layouts x (12 ops + 4 index variants (two max, global max, adaptive max) on the first
    // shape + 2 global ops and global max's indices on the second) x 8 thread counts.
    assert_eq!(runs, 2 * (12 + 4 + 3) * 8);
}

#[test]
fn f32_every_op_is_thread_count_independent() {
    thread_count_identity::<f32>(0x9e37_79b9);
}

#[test]
fn f64_every_op_is_thread_count_independent() {
    thread_count_identity::<f64>(0x85eb_ca6b);
}

#[test]
fn f16_every_op_is_thread_count_independent() {
    thread_count_identity::<f16>(0xc2b2_ae35);
}

#[test]
fn bf16_every_op_is_thread_count_independent() {
    thread_count_identity::<bf16>(0x27d4_eb2f);
}

#[test]
fn u8_every_op_is_thread_count_independent() {
    thread_count_identity::<u8>(0x1656_67b1);
}

#[test]
fn i8_every_op_is_thread_count_independent() {
    thread_count_identity::<i8>(0xd3a2_646c);
}

/// One plan shared by 16 std threads at once, each running it repeatedly on the global rayon
/// pool and inside pools of 2, 3 and 5 threads that the std threads share (so several runs split
/// over one pool at the same time): every output and index buffer is bit-identical to a run on
/// the calling thread alone.
fn shared_plan<T: Element>(op: PoolOp, shape: TensorShape, indices: bool) {
    let pools: Vec<rayon::ThreadPool> =
        [2, 3, 5].iter().map(|&n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap()).collect();
    let x = values::<T>(shape.len(), 0x5bd1_e995);
    let plan = Plan::<T>::new(&op, &shape).unwrap();
    let single = Plan::<T>::with_options(&op, &shape, PlanOptions::default().calling_thread()).unwrap();
    let (y1, i1) = run_here(&single, &x, indices);
    // The shared runs really split: alone on a 2-thread pool, the plan makes several tasks.
    let (_, _, tasks) = run_counted(&pools[0], &plan, &x, indices);
    assert!(tasks >= 2, "{op:?} {shape:?}: {tasks} task on 2 threads");
    let what = format!("{op:?} {shape:?} {} indices={indices}", T::DTYPE.name());
    let checked = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..16usize {
            let (plan, x, y1, i1, pools, what, checked) = (&plan, &x, &y1, &i1, &pools, &what, &checked);
            s.spawn(move || {
                for round in 0..8 {
                    // Thread t starts at a different pool each round; slot 3 is the global pool.
                    let (y, i) = match (t + round) % 4 {
                        3 => run_here(plan, x, indices),
                        k => pools[k].install(|| run_here(plan, x, indices)),
                    };
                    assert_bits_eq(&y, y1, &format!("{what}: std thread {t}, round {round}"));
                    assert_eq!(&i, i1, "{what}: std thread {t}, round {round}: indices");
                    checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(checked.into_inner(), 16 * 8);
}

#[test]
fn one_plan_shared_by_16_threads_and_pools_of_2_3_5() {
    let nchw = |n, c, sp: &[usize]| TensorShape::new(Layout::ChannelsFirst, n, c, sp).unwrap();
    let nhwc = |n, c, sp: &[usize]| TensorShape::new(Layout::ChannelsLast, n, c, sp).unwrap();
    let w = Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]);
    shared_plan::<f32>(PoolOp::max(w.clone()), nchw(2, 19, &[48, 40]), true);
    shared_plan::<f32>(PoolOp::avg(w.clone()), nhwc(2, 19, &[48, 40]), false);
    shared_plan::<f64>(PoolOp::GlobalAvg, nhwc(1, 32, &[64, 64]), false);
    shared_plan::<bf16>(PoolOp::lp(w.clone(), 2.5), nchw(2, 19, &[48, 40]), false);
    shared_plan::<u8>(PoolOp::AdaptiveMax(vec![7, 5]), nhwc(2, 19, &[48, 40]), true);
    shared_plan::<i8>(PoolOp::GlobalMax, nchw(1, 32, &[64, 64]), false);
}

#[test]
fn max_backward_from_indices_over_one_image_runs_one_task() {
    // A task over rows of a single image (plane) reads all of its outputs: more tasks would only
    // repeat that read. Two images are two tasks. The gradient is the same at every count.
    let op = PoolOp::max(Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]));
    for (shape, most) in [
        (TensorShape::nhwc(&[1, 112, 112, 64]).unwrap(), 1),
        (TensorShape::nchw(&[1, 1, 512, 512]).unwrap(), 1),
        (TensorShape::nhwc(&[2, 112, 112, 64]).unwrap(), 2),
    ] {
        let plan = Plan::<f32>::new(&op, &shape).unwrap();
        let x: Vec<f32> = (0..shape.len()).map(|i| ((i * 7919) % 1009) as f32).collect();
        let (mut y, mut idx) = (vec![0.0; plan.output_len()], vec![0i64; plan.output_len()]);
        plan.run_with_indices(&x, &mut y, &mut idx).unwrap();
        let g: Vec<f32> = (0..plan.output_len()).map(|i| (i % 7) as f32).collect();
        let mut want = vec![f32::NAN; shape.len()];
        let inline =
            Plan::<f32>::with_options(&op, &shape, PlanOptions::isa(simdpool::Isa::detected()).calling_thread());
        inline.unwrap().backward_with_indices(&idx, &g, &mut want).unwrap();
        for pool in pools_1_to_8() {
            let mut got = vec![f32::NAN; shape.len()];
            let tasks = pool.install(|| {
                plan.backward_with_indices(&idx, &g, &mut got).unwrap();
                simdpool::tasks_of_last_run()
            });
            let threads = pool.current_num_threads();
            assert!(tasks <= most, "{shape:?}: {tasks} tasks on {threads} threads");
            assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "{shape:?}, {threads} threads");
        }
    }
}
