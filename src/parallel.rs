//! Splits independent output rows over rayon. Reductions are never split, so results do not
//! depend on the thread count.

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

/// Work (in input elements touched) below which a problem stays on the calling thread.
const INLINE_WORK: usize = 1 << 16;
/// Work per task when a problem is split: tens of KB of input, so scheduling costs nothing.
const TASK_WORK: usize = 1 << 15;

/// Rows per task for a problem of `rows` rows costing `row_work` each, or `None` to run inline.
fn rows_per_task(threading: Threading, rows: usize, row_work: usize) -> Option<usize> {
    let total = rows.saturating_mul(row_work.max(1));
    if threading == Threading::CallingThread || total < INLINE_WORK || rows < 2 || rayon::current_num_threads() < 2 {
        return None;
    }
    Some(TASK_WORK.div_ceil(row_work.max(1)).clamp(1, rows.div_ceil(2)))
}

/// Runs `kernel(rows, output_of_rows)` over all rows; `row_len` outputs per row.
pub(crate) fn for_rows<T: Send>(
    threading: Threading,
    rows: usize,
    row_len: usize,
    row_work: usize,
    output: &mut [T],
    kernel: impl Fn(Range<usize>, &mut [T]) + Sync,
) {
    match rows_per_task(threading, rows, row_work) {
        None => kernel(0..rows, output),
        Some(per) => output.par_chunks_mut(per * row_len).enumerate().for_each(|(i, out)| {
            let first = i * per;
            kernel(first..first + out.len() / row_len, out)
        }),
    }
}

/// Like [`for_rows`] with an index buffer split the same way.
pub(crate) fn for_rows_indexed<T: Send>(
    threading: Threading,
    rows: usize,
    row_len: usize,
    row_work: usize,
    output: &mut [T],
    indices: &mut [i64],
    kernel: impl Fn(Range<usize>, &mut [T], &mut [i64]) + Sync,
) {
    match rows_per_task(threading, rows, row_work) {
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
