//! Thread-count independence: the same plan run inside rayon pools of 1, 2 and 3 threads
//! (`ThreadPool::install`, so the plan splits over the caller's pool) gives bit-identical outputs
//! and indices, for every op, both layouts, spatial ranks 1-3, on inputs large enough to split,
//! for f32 (the SIMD kernels of the detected level) and narrow types (bf16, u8).

mod common;

use common::*;
use simdpool::{AvgOptions, Element, Layout, Plan, PlanOptions, PoolOp, TensorShape, Window, bf16};

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
