//! Channels-last global pooling of large planes, split along the pixels.
//!
//! A channels-last image is one contiguous run of pixels, each holding every channel, so a thread
//! given a slice of the channels still streams through all of the image. An image with few
//! channels and many pixels (the `gap_large` case: 256 channels, 56x56 pixels) therefore scales
//! poorly when split by channels. Here the plane is instead cut into a fixed number of equal
//! pixel blocks, each a contiguous slice of the image:
//! * [`blocks`] depends on the plane size alone (never on the thread count), so the order of the
//!   additions is fixed by the shape: each block is reduced by the kernel in the canonical
//!   channels-last order (pixel by pixel), and the block results are combined by a pairwise tree
//!   (`(b0 + b1) + (b2 + b3)` for four blocks). Sums then get `+ 0.0` and the division.
//! * Threads take whole subtrees (`rayon::join`), so 1, 2 or N threads give the same bits.
//! * Max combines block maxima with the scan rule, which is associative over in-order groupings,
//!   so the result is exactly the element a single scan selects.
//!
//! Only `f32` and `f64` take this path: their block sums are exact in their own type. The other
//! types keep a single block (sums in `f32` or `i64` that the output type cannot hold).

use crate::element::{DType, Element};
use crate::parallel::{Threading, record_tasks, worth_splitting};
use simdpool_kernels::{GlobalFn, GlobalProblem, GlobalReduce, Layout, max_takes};
use std::ops::Range;

/// Pixels per block, at least.
const BLOCK_PIXELS: usize = 512;
/// Blocks per plane, at most (a power of two).
const MAX_BLOCKS: usize = 8;
/// Channels combined at once: the length of the stack buffer that holds a subtree's results.
const CHUNK: usize = 512;

/// The number of pixel blocks a channels-last plane of `plane` pixels is cut into: the largest
/// power of two not above `plane / 512`, between 1 and 8.
pub(crate) fn blocks(plane: usize) -> usize {
    let b = (plane / BLOCK_PIXELS).clamp(1, MAX_BLOCKS);
    1 << b.ilog2()
}

/// Whether a global problem over `T` takes the block path.
pub(crate) fn applies<T: Element>(problem: &GlobalProblem) -> bool {
    problem.layout() == Layout::ChannelsLast
        && matches!(T::DTYPE, DType::F32 | DType::F64)
        && blocks(problem.plane()) > 1
}

/// Runs a channels-last global problem (one that [`applies`]) by pixel blocks: `output` holds
/// every `(n, c)` result.
pub(crate) fn pool_by_blocks<T: Element>(
    global: GlobalFn<T>,
    problem: &GlobalProblem,
    reduce: GlobalReduce,
    threading: Threading,
    input: &[T],
    output: &mut [T],
) {
    let (c, plane) = (problem.channels(), problem.plane());
    let image_len = plane * c;
    let tree = Tree {
        global,
        reduce: if reduce == GlobalReduce::Max { GlobalReduce::Max } else { GlobalReduce::Sum },
        channels: c,
        plane,
        blocks: blocks(plane),
        threading,
    };
    // Each call returns how many tasks it ran at once (for the `tasks_of_last_run` test hook).
    let image = |n: usize, out: &mut [T]| {
        let img = &input[n * image_len..(n + 1) * image_len];
        let mut tasks = 1;
        for (k, out) in out.chunks_mut(CHUNK).enumerate() {
            let first = k * CHUNK;
            tasks = tasks.max(tree.fold(img, 0..tree.blocks, first..first + out.len(), out));
            if reduce == GlobalReduce::Avg {
                for o in out.iter_mut() {
                    *o = T::mean(o.to_sum() + T::zero_sum(), plane as i64);
                }
            }
        }
        tasks
    };
    let tasks = if worth_splitting(threading, input.len()) && problem.batch() > 1 {
        use rayon::prelude::*;
        output.par_chunks_mut(c).enumerate().map(|(n, out)| image(n, out)).sum()
    } else {
        output.chunks_mut(c).enumerate().map(|(n, out)| image(n, out)).max().unwrap_or(1)
    };
    record_tasks(tasks);
}

/// The fixed block tree of one image.
struct Tree<T: Element> {
    global: GlobalFn<T>,
    /// `Max`, or `Sum` for averages.
    reduce: GlobalReduce,
    channels: usize,
    plane: usize,
    blocks: usize,
    threading: Threading,
}

impl<T: Element> Tree<T> {
    /// The first pixel of block `b` (`b <= blocks`): blocks differ in size by at most one pixel.
    fn pixel(&self, b: usize) -> usize {
        (b as u128 * self.plane as u128 / self.blocks as u128) as usize
    }

    /// Reduces blocks `bs` of `img` over channels `chans` into `out` (one value per channel);
    /// returns how many tasks ran at once (1 unless the subtree was forked).
    fn fold(&self, img: &[T], bs: Range<usize>, chans: Range<usize>, out: &mut [T]) -> usize {
        let (p0, p1) = (self.pixel(bs.start), self.pixel(bs.end));
        if bs.len() == 1 {
            let c = self.channels;
            let block = GlobalProblem::new(Layout::ChannelsLast, 1, c, p1 - p0)
                .expect("a block is smaller than the validated problem");
            (self.global)(&block, self.reduce, &img[p0 * c..p1 * c], out, chans);
            return 1;
        }
        let mid = bs.start + bs.len() / 2;
        let mut right = [T::LOWEST; CHUNK];
        let right = &mut right[..out.len()];
        let (lb, rb) = (bs.start..mid, mid..bs.end);
        let tasks = if worth_splitting(self.threading, (p1 - p0) * out.len()) {
            let ch = chans.clone();
            let (l, r) = rayon::join(|| self.fold(img, lb, ch, out), || self.fold(img, rb, chans, right));
            l + r
        } else {
            let l = self.fold(img, lb, chans.clone(), out);
            l.max(self.fold(img, rb, chans, right))
        };
        if self.reduce == GlobalReduce::Max {
            for (l, &r) in out.iter_mut().zip(right.iter()) {
                if max_takes(r, *l) {
                    *l = r;
                }
            }
        } else {
            for (l, &r) in out.iter_mut().zip(right.iter()) {
                *l = T::from_sum(l.to_sum() + r.to_sum());
            }
        }
        tasks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_a_power_of_two_set_by_the_plane() {
        assert_eq!(blocks(1), 1);
        assert_eq!(blocks(1023), 1);
        assert_eq!(blocks(1024), 2);
        assert_eq!(blocks(3136), 4);
        assert_eq!(blocks(4096), 8);
        assert_eq!(blocks(1 << 30), 8);
    }
}
