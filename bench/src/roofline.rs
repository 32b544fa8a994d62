//! The memory roofline: this machine's read and write bandwidth at a given footprint, measured
//! with the widest vector loads and stores the CPU has, and the time a case would take if it only
//! moved its bytes: `roofline = input bytes / read bandwidth + output bytes / write bandwidth`.
//!
//! The loops are safe code: `pulp::Arch::dispatch` runs them with the target features of the best
//! level the CPU has (AVX-512 with `x86-v4`, else AVX2, NEON, or scalar), and `as_simd_f32s` splits
//! the buffer into whole vectors. Reads sum into 8 independent accumulators, so the loop is bound
//! by loads, not by the latency of additions; writes store one splatted vector. Both touch the
//! whole buffer on every pass, so a footprint that fits in a cache level measures that level,
//! which is also where a repeated benchmark of that case finds its data.

use crate::timing::{Budget, Stats, measure};
use pulp::{Simd, WithSimd};
use rayon::prelude::*;

struct ReadSum<'a>(&'a [f32]);

impl WithSimd for ReadSum<'_> {
    type Output = f32;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f32 {
        let (head, tail) = S::as_simd_f32s(self.0);
        let zero = simd.splat_f32s(0.0);
        let mut acc = [zero; 8];
        let mut chunks = head.chunks_exact(8);
        for c in &mut chunks {
            for (a, &v) in acc.iter_mut().zip(c) {
                *a = simd.add_f32s(*a, v);
            }
        }
        for &v in chunks.remainder() {
            acc[0] = simd.add_f32s(acc[0], v);
        }
        let s = simd.add_f32s(
            simd.add_f32s(simd.add_f32s(acc[0], acc[1]), simd.add_f32s(acc[2], acc[3])),
            simd.add_f32s(simd.add_f32s(acc[4], acc[5]), simd.add_f32s(acc[6], acc[7])),
        );
        simd.reduce_sum_f32s(s) + tail.iter().sum::<f32>()
    }
}

struct Fill<'a>(&'a mut [f32], f32);

impl WithSimd for Fill<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (head, tail) = S::as_mut_simd_f32s(self.0);
        let v = simd.splat_f32s(self.1);
        for h in head {
            *h = v;
        }
        tail.fill(self.1);
    }
}

struct Lanes;

impl WithSimd for Lanes {
    type Output = usize;
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> usize {
        core::mem::size_of::<S::f32s>() / 4
    }
}

/// Sums `buf` with the widest vector loads available.
pub fn read_sum(buf: &[f32]) -> f32 {
    pulp::Arch::new().dispatch(ReadSum(buf))
}

/// Fills `buf` with `value` using the widest vector stores available.
pub fn fill(buf: &mut [f32], value: f32) {
    pulp::Arch::new().dispatch(Fill(buf, value))
}

/// The f32 lanes of the widest vectors used (16 with AVX-512, 8 with AVX2, 4 with NEON).
pub fn vector_lanes() -> usize {
    pulp::Arch::new().dispatch(Lanes)
}

/// Read and write bandwidth at one footprint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bandwidth {
    /// The footprint asked for, bytes.
    pub requested: usize,
    /// Bytes of the buffer measured (at least 4 KiB).
    pub footprint: usize,
    /// Threads used.
    pub threads: usize,
    /// Read bandwidth, bytes per second (median).
    pub read: f64,
    /// Write bandwidth, bytes per second (median).
    pub write: f64,
    /// The read measurement.
    pub read_stats: Stats,
    /// The write measurement.
    pub write_stats: Stats,
}

impl Bandwidth {
    /// `input / read + output / write`, in seconds.
    pub fn roofline_seconds(&self, input_bytes: usize, output_bytes: usize) -> f64 {
        input_bytes as f64 / self.read + output_bytes as f64 / self.write
    }
}

/// Measures read and write bandwidth over a buffer of `footprint` bytes (at least 4 KiB) on the
/// calling thread, or split over the current rayon pool when `threads > 1` (call it inside
/// `ThreadPool::install`).
///
/// # Panics
///
/// If the buffer cannot be allocated; [`try_measure_bandwidth`] returns that as an error.
pub fn measure_bandwidth(footprint: usize, threads: usize, budget: &Budget) -> Bandwidth {
    try_measure_bandwidth(footprint, threads, budget).unwrap_or_else(|e| panic!("{e}"))
}

/// [`measure_bandwidth`], with an error instead of an abort if the buffer cannot be allocated.
pub fn try_measure_bandwidth(footprint: usize, threads: usize, budget: &Budget) -> Result<Bandwidth, String> {
    let len = (footprint / 4).max(1024);
    let mut buf = Vec::new();
    buf.try_reserve_exact(len)
        .map_err(|_| format!("cannot allocate the {footprint}-byte buffer of the bandwidth measurement"))?;
    buf.resize(len, 1.0f32);
    let bytes = (len * 4) as f64;
    let chunk = len.div_ceil(threads.max(1));
    let read_stats = measure(budget, || {
        let s = if threads > 1 { buf.par_chunks(chunk).map(read_sum).sum::<f32>() } else { read_sum(&buf) };
        std::hint::black_box(s);
    });
    let mut v = 0.0f32;
    let write_stats = measure(budget, || {
        v += 1.0;
        if threads > 1 {
            buf.par_chunks_mut(chunk).for_each(|c| fill(c, v));
        } else {
            fill(&mut buf, v);
        }
        std::hint::black_box(&mut buf);
    });
    Ok(Bandwidth {
        requested: footprint,
        footprint: len * 4,
        threads,
        read: bytes / read_stats.median,
        write: bytes / write_stats.median,
        read_stats,
        write_stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_sum_and_fill_cover_every_element() {
        for len in [0usize, 1, 15, 16, 17, 127, 128, 129, 1000] {
            let mut buf = vec![0.0f32; len];
            fill(&mut buf, 2.0);
            assert!(buf.iter().all(|&x| x == 2.0), "len {len}");
            assert_eq!(read_sum(&buf), 2.0 * len as f32, "len {len}");
        }
        assert!(vector_lanes() >= 1);
    }
}
