//! Splits independent output rows over rayon. Reductions are never split by the thread count, so
//! results do not depend on it (the one split reduction, channels-last global pooling of large
//! planes, cuts its planes by their size alone: see `global_tree`).

use rayon::prelude::*;
use std::ops::Range;

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
/// Work per task when a problem is split: tens of KB of input (64 KB of f32), so scheduling
/// costs nothing next to the task, and there are enough tasks to balance the threads.
const TASK_WORK: usize = 1 << 14;

/// Whether work of `work` input elements is worth handing to another thread of the current pool.
pub(crate) fn worth_splitting(threading: Threading, work: usize) -> bool {
    threading == Threading::Auto && work >= INLINE_WORK && rayon::current_num_threads() >= 2
}

/// Rows per task for a problem of `rows` rows costing `row_work` each, or `None` to run inline.
/// Tasks are whole multiples of `granule` rows (except the last), at least `min_rows` long
/// unless that would leave a thread without a task, and their number is a multiple of the
/// pool's thread count when the problem allows (rounded down when rounding up would pass the
/// most tasks the rows allow), so no thread idles at the end.
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
    let mut max_tasks = rows.div_ceil(granule);
    if min_rows > 1 {
        max_tasks = max_tasks.min(rows.div_ceil(min_rows).max(threads));
    }
    if max_tasks < 2 {
        return None;
    }
    let mut tasks = total.div_ceil(TASK_WORK).clamp(2, max_tasks);
    let balanced = tasks.div_ceil(threads) * threads;
    if balanced <= max_tasks {
        tasks = balanced;
    } else if tasks > threads {
        tasks = tasks / threads * threads;
    }
    let per = rows.div_ceil(tasks).div_ceil(granule) * granule;
    Some(per.clamp(1, rows))
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
        None => kernel(0..rows, output),
        Some(per) => output.par_chunks_mut(per * row_len).enumerate().for_each(|(i, out)| {
            let first = i * per;
            kernel(first..first + out.len() / row_len, out)
        }),
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
        None => kernel(0..rows, output, indices),
        Some(per) => {
            output.par_chunks_mut(per * row_len).zip(indices.par_chunks_mut(per * row_len)).enumerate().for_each(
                |(i, (out, idx))| {
                    let first = i * per;
                    kernel(first..first + out.len() / row_len, out, idx)
                },
            )
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
    fn splits_are_granular_balanced_and_tens_of_kb() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        pool.install(|| {
            // resnet_gap: 2048 channel planes of 49 elements.
            let per = rows_per_task(Threading::Auto, 2048, 49, (16, 1)).unwrap();
            assert_eq!(per % 16, 0);
            let tasks = 2048usize.div_ceil(per);
            assert!(tasks >= 2 && tasks.is_multiple_of(2), "{tasks} tasks");
            assert!(per * 49 >= TASK_WORK / 2, "{per} rows per task");
            // One huge plane per row: one row per task.
            assert_eq!(rows_per_task(Threading::Auto, 8, 1 << 20, (1, 1)), Some(1));
            // Rows that slide (sppf channels-last: 20 rows, slides of 16): one task per thread,
            // not 20 one-row tasks that each redo the window rows of their neighbours.
            assert_eq!(rows_per_task(Threading::Auto, 20, 1 << 17, (1, 16)), Some(10));
            // 35 rows in slides of 8: 4 tasks of 9 rows (5 would leave one thread 3 of them).
            assert_eq!(rows_per_task(Threading::Auto, 35, 1 << 16, (1, 8)), Some(9));
        });
    }
}
