//! Splits independent output rows over rayon. Reductions are never split by the thread count, so
//! results do not depend on it (the one split reduction, channels-last global pooling of large
//! planes, cuts its planes by their size alone: see `global_tree`).

use rayon::prelude::*;
use std::cell::Cell;
use std::ops::Range;

thread_local! {
    /// The task count of the last run started on this thread (see [`tasks_of_last_run`]).
    static LAST_TASKS: Cell<usize> = const { Cell::new(0) };
}

/// Notes that the run this thread just finished was cut into `tasks` tasks: one thread-local
/// store per run, nothing per task, no synchronisation.
pub(crate) fn record_tasks(tasks: usize) {
    LAST_TASKS.with(|t| t.set(tasks));
}

/// Test hook: how many tasks the last `Plan::run` / `Plan::run_with_indices` that returned on
/// the calling thread was split into (at most that many could run at once): 1 when it ran on
/// the calling thread alone, 0 before any run. Read it on the thread that ran the plan (inside
/// `ThreadPool::install`, within the same closure), with no other work queued on that pool: a
/// thread waiting for its tasks may run other jobs of its pool, whose runs would overwrite it.
#[doc(hidden)]
pub fn tasks_of_last_run() -> usize {
    LAST_TASKS.with(Cell::get)
}

/// How a plan uses threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Threading {
    /// Split large problems over the current rayon pool (the global one, or the caller's inside
    /// `ThreadPool::install`); small problems run on the calling thread.
    #[default]
    Auto,
    /// Always run on the calling thread.
    CallingThread,
}

/// Work (in input elements touched) below which a problem stays on the calling thread: waking
/// another thread costs microseconds, more than such a problem takes.
const INLINE_WORK: usize = 1 << 16;
/// The least work per task when a problem is split: 64 KB of f32 input, so scheduling a task
/// costs little next to running it.
const MIN_TASK_WORK: usize = 1 << 14;
/// The most work per task: 512 KB of f32 input, several microseconds at these kernels' speed.
/// A problem is cut into as few rounds of one task per thread as keep tasks under this, so
/// every thread works and no task count is small enough to leave a core idle for long. Measured
/// on 2 cores (docs/threads.md, "Task sizes"): tasks of 2^14 gave densenet NCHW 1.58-1.59x at 2
/// threads, tasks of 2^17 1.74-1.80x, one task per thread 1.77-1.82x.
const MAX_TASK_WORK: usize = 1 << 17;

/// Whether work of `work` input elements is worth handing to another thread of the current pool.
pub(crate) fn worth_splitting(threading: Threading, work: usize) -> bool {
    threading == Threading::Auto && work >= INLINE_WORK && rayon::current_num_threads() >= 2
}

/// Rows per task for a problem of `rows` rows costing `row_work` each, or `None` to run inline.
/// Tasks are whole multiples of `granule` rows (except the last), hold at least
/// [`MIN_TASK_WORK`] and at least `min_rows` rows (unless that would leave a thread without a
/// task), and come in whole rounds of the pool's threads, as few rounds as keep each task under
/// [`MAX_TASK_WORK`]. The count that matters is the one the rows actually fall into (`rows /
/// per`, rounded up): it is kept a multiple of the threads where the rows allow, so no thread
/// idles at the end.
fn rows_per_task(
    threading: Threading,
    rows: usize,
    row_work: usize,
    (granule, min_rows): (usize, usize),
) -> Option<usize> {
    let row_work = row_work.max(1);
    let granule = granule.max(1);
    let total = rows.saturating_mul(row_work);
    if threading == Threading::CallingThread || total < INLINE_WORK || rows < 2 {
        return None;
    }
    let threads = rayon::current_num_threads();
    if threads < 2 {
        return None;
    }
    let mut max_tasks = rows.div_ceil(granule).min(total / MIN_TASK_WORK);
    if min_rows > 1 {
        max_tasks = max_tasks.min(rows.div_ceil(min_rows).max(threads));
    }
    if max_tasks < 2 {
        return None;
    }
    let rounds = total.div_ceil(threads.saturating_mul(MAX_TASK_WORK)).max(1);
    let want = threads.saturating_mul(rounds).clamp(2, max_tasks);
    let per_for = |tasks: usize| rows.div_ceil(tasks).div_ceil(granule) * granule;
    // The most tasks up to `want` that the rows split into evenly over the threads.
    let even = (threads.min(want)..=want).rev().map(per_for).find(|&per| rows.div_ceil(per).is_multiple_of(threads));
    Some(even.unwrap_or_else(|| per_for(want)).clamp(1, rows))
}

/// How a plan's output rows split: `rows` rows of `row_len` outputs, each touching about
/// `row_work` input elements; tasks hold multiples of `granule` rows (a kernel's natural block,
/// e.g. the channels one register group reduces) and, where the rows allow one per thread, at
/// least `min_rows` (a kernel that shares work between neighbouring rows, such as the
/// channels-last slide, repeats that work in every task).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Split {
    pub threading: Threading,
    pub rows: usize,
    pub row_len: usize,
    pub row_work: usize,
    pub granule: usize,
    pub min_rows: usize,
}

/// Runs `kernel(rows, output_of_rows)` over all rows, split over the current rayon pool (the
/// caller's inside `ThreadPool::install`) or inline. Kernels compute each row independently, so
/// the result does not depend on the split.
pub(crate) fn for_rows<T: Send>(s: Split, output: &mut [T], kernel: impl Fn(Range<usize>, &mut [T]) + Sync) {
    let Split { threading, rows, row_len, row_work, granule, min_rows } = s;
    match rows_per_task(threading, rows, row_work, (granule, min_rows)) {
        None => {
            kernel(0..rows, output);
            record_tasks(1);
        }
        Some(per) => {
            output.par_chunks_mut(per * row_len).enumerate().for_each(|(i, out)| {
                let first = i * per;
                kernel(first..first + out.len() / row_len, out)
            });
            record_tasks(rows.div_ceil(per));
        }
    }
}

/// Like [`for_rows`] with an index buffer split the same way.
pub(crate) fn for_rows_indexed<T: Send>(
    s: Split,
    output: &mut [T],
    indices: &mut [i64],
    kernel: impl Fn(Range<usize>, &mut [T], &mut [i64]) + Sync,
) {
    let Split { threading, rows, row_len, row_work, granule, min_rows } = s;
    match rows_per_task(threading, rows, row_work, (granule, min_rows)) {
        None => {
            kernel(0..rows, output, indices);
            record_tasks(1);
        }
        Some(per) => {
            output.par_chunks_mut(per * row_len).zip(indices.par_chunks_mut(per * row_len)).enumerate().for_each(
                |(i, (out, idx))| {
                    let first = i * per;
                    kernel(first..first + out.len() / row_len, out, idx)
                },
            );
            record_tasks(rows.div_ceil(per));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_or_inline_problems_do_not_split() {
        assert_eq!(rows_per_task(Threading::CallingThread, 1 << 20, 1 << 10, (1, 1)), None);
        assert_eq!(rows_per_task(Threading::Auto, 100, 10, (1, 1)), None);
        assert_eq!(rows_per_task(Threading::Auto, 1, 1 << 30, (1, 1)), None);
    }

    #[test]
    fn splits_are_granular_balanced_and_sized() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        pool.install(|| {
            // resnet_gap: 2048 channel planes of 49 elements.
            let per = rows_per_task(Threading::Auto, 2048, 49, (16, 1)).unwrap();
            assert_eq!(per % 16, 0);
            let tasks = 2048usize.div_ceil(per);
            assert!(tasks >= 2 && tasks.is_multiple_of(2), "{tasks} tasks");
            assert!(per * 49 >= MIN_TASK_WORK, "{per} rows per task");
            // One huge plane per row: one row per task.
            assert_eq!(rows_per_task(Threading::Auto, 8, 1 << 20, (1, 1)), Some(1));
            // Rows that slide (sppf channels-last: 20 rows, slides of 16): one task per thread,
            // not 20 one-row tasks that each redo the window rows of their neighbours.
            assert_eq!(rows_per_task(Threading::Auto, 20, 1 << 17, (1, 16)), Some(10));
            // 35 rows in slides of 8: 4 tasks of 9 rows (5 would leave one thread 3 of them).
            assert_eq!(rows_per_task(Threading::Auto, 35, 1 << 16, (1, 8)), Some(9));
            // densenet NHWC, 28 rows of 14336: 4 tasks of 7 rows (8 tasks would be rows of 4,
            // which fall into 7 tasks: one thread runs 4 of them, the other 3).
            assert_eq!(rows_per_task(Threading::Auto, 28, 14336, (1, 1)), Some(7));
            // Just over the inline threshold: one task per thread, not one per MIN_TASK_WORK.
            assert_eq!(rows_per_task(Threading::Auto, 64, 1 << 10, (1, 1)), Some(32));
        });
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        pool.install(|| {
            // gap_large NCHW on 3 threads: whole rounds of 3 tasks, each under about MAX_TASK_WORK.
            let per = rows_per_task(Threading::Auto, 256, 3136, (16, 1)).unwrap();
            assert_eq!(256usize.div_ceil(per) % 3, 0, "{per} rows per task");
            assert!(per * 3136 <= MAX_TASK_WORK * 2, "{per} rows per task");
        });
    }

    /// The rules of `rows_per_task` over a grid of shapes and 2, 3, 4 and 8 threads: problems
    /// under INLINE_WORK stay inline; tasks are granular, never under MIN_TASK_WORK (which binds
    /// only with more threads than INLINE_WORK / MIN_TASK_WORK), at least two, no more than the
    /// slides, and their count is a multiple of the threads whenever some count the rows allow is.
    #[test]
    fn split_rules_hold_on_a_grid() {
        for threads in [2usize, 3, 4, 8] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                for rows in (2usize..=70).chain([128, 255, 256, 2048, 8192]) {
                    for row_work in [1usize, 49, 512, 1000, 3136, 14336, 1 << 17, 1 << 20] {
                        for (granule, min_rows) in [(1, 1), (16, 1), (8, 1), (1, 8), (1, 16)] {
                            let got = rows_per_task(Threading::Auto, rows, row_work, (granule, min_rows));
                            let total = rows * row_work;
                            let Some(per) = got else {
                                let max_tasks = rows.div_ceil(granule).min(total / MIN_TASK_WORK);
                                assert!(total < INLINE_WORK || max_tasks < 2, "{rows}x{row_work} /{granule}: inline");
                                continue;
                            };
                            let what = format!(
                                "{threads} threads, {rows} rows x {row_work}, granule {granule}, min {min_rows}: {per}"
                            );
                            assert!(total >= INLINE_WORK, "{what}: split under INLINE_WORK");
                            assert!((1..=rows).contains(&per), "{what}");
                            assert!(per % granule == 0 || per == rows, "{what}");
                            let tasks = rows.div_ceil(per);
                            assert!(tasks >= 2, "{what}");
                            assert!(per * row_work >= MIN_TASK_WORK, "{what}: task under MIN_TASK_WORK");
                            // No more tasks than slides, unless that would leave a thread idle.
                            assert!(tasks <= rows.div_ceil(min_rows).max(threads), "{what}: {tasks} tasks");
                            let max_tasks = rows.div_ceil(granule).min(total / MIN_TASK_WORK);
                            let fits = (threads..=max_tasks).any(|t| {
                                let p = rows.div_ceil(t).div_ceil(granule) * granule;
                                rows.div_ceil(p).is_multiple_of(threads)
                            });
                            if fits && min_rows == 1 {
                                assert!(tasks.is_multiple_of(threads), "{what}: {tasks} tasks");
                            }
                        }
                    }
                }
            });
        }
    }

    /// The documented thread rules: `CallingThread` never hands work to another thread, `Auto`
    /// keeps problems under `INLINE_WORK` inline and splits larger ones only when the pool has
    /// a second thread.
    #[test]
    fn worth_splitting_follows_the_threading_rules() {
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        two.install(|| {
            assert!(!worth_splitting(Threading::CallingThread, usize::MAX));
            assert!(!worth_splitting(Threading::Auto, INLINE_WORK - 1));
            assert!(worth_splitting(Threading::Auto, INLINE_WORK));
        });
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        one.install(|| assert!(!worth_splitting(Threading::Auto, usize::MAX)));
    }

    /// `for_rows` and `for_rows_indexed` hand every row to exactly one kernel call, with the
    /// output (and index) slice of exactly those rows; `CallingThread` makes one call for all.
    #[test]
    fn every_row_reaches_one_kernel_call_with_its_own_slice() {
        use std::sync::Mutex;
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        for threading in [Threading::Auto, Threading::CallingThread] {
            for (rows, row_len, granule, min_rows) in
                [(1000usize, 3usize, 1usize, 1usize), (257, 2, 16, 1), (70, 5, 1, 8)]
            {
                let s = Split { threading, rows, row_len, row_work: 1 << 12, granule, min_rows };
                let calls = Mutex::new(Vec::new());
                let mut out = vec![usize::MAX; rows * row_len];
                pool.install(|| {
                    for_rows(s, &mut out, |r, o| {
                        assert_eq!(o.len(), r.len() * row_len);
                        for (k, v) in o.iter_mut().enumerate() {
                            *v = r.start + k / row_len;
                        }
                        calls.lock().unwrap().push(r);
                    })
                });
                let what = format!("{threading:?} {rows}x{row_len} /{granule} min {min_rows}");
                assert!(out.iter().enumerate().all(|(i, &v)| v == i / row_len), "{what}");
                let calls = calls.into_inner().unwrap();
                assert_eq!(calls.iter().map(|r| r.len()).sum::<usize>(), rows, "{what}");
                if threading == Threading::CallingThread {
                    assert!(calls.len() == 1 && calls[0] == (0..rows), "{what}: {calls:?}");
                } else {
                    assert!(calls.len() >= 2, "{what}: {} calls", calls.len());
                }
                let mut out = vec![usize::MAX; rows * row_len];
                let mut idx = vec![-1i64; rows * row_len];
                pool.install(|| {
                    for_rows_indexed(s, &mut out, &mut idx, |r, o, i| {
                        assert_eq!((o.len(), i.len()), (r.len() * row_len, r.len() * row_len));
                        for k in 0..o.len() {
                            o[k] = r.start + k / row_len;
                            i[k] = (r.start * row_len + k) as i64;
                        }
                    })
                });
                assert!(out.iter().enumerate().all(|(i, &v)| v == i / row_len), "{what}: indexed");
                assert!(idx.iter().enumerate().all(|(i, &v)| v == i as i64), "{what}: indices");
            }
        }
    }
}
