//! Per-axis tap tables, computed once per plan and handed to the kernels.

use crate::error::{PoolError, Result};
use crate::op::adaptive_range;
use crate::window::AxisWindow;
use simdpool_kernels::{Axis, Cover, Uniform};

/// A table of `n` entries, or an error instead of an allocation failure for absurd sizes.
fn table(n: usize) -> Result<Vec<usize>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| PoolError::Overflow { what: "memory for the per-axis tap tables" })?;
    Ok(v)
}

/// Owned tables behind a [`simdpool_kernels::Axis`].
#[derive(Clone, Debug)]
pub(crate) struct AxisTable {
    in_len: usize,
    dilation: usize,
    uniform: Option<Uniform>,
    start: Vec<usize>,
    taps: Vec<usize>,
    count: Vec<usize>,
    /// Per input position, the outputs whose windows may hold it (`cover_lo..cover_hi`), for the
    /// backward pass's gather.
    cover_lo: Vec<usize>,
    cover_hi: Vec<usize>,
}

impl AxisTable {
    /// The trivial axis (length 1) that pads lower ranks up to three.
    pub fn trivial() -> Self {
        AxisTable {
            in_len: 1,
            dilation: 1,
            uniform: None,
            start: vec![0],
            taps: vec![1],
            count: vec![1],
            cover_lo: vec![0],
            cover_hi: vec![1],
        }
    }

    /// Tables of a windowed axis. `count` is the number of valid taps, or with
    /// `count_include_pad` the taps inside the padded extent. Errors if a window is all padding.
    pub fn windowed(w: &AxisWindow, axis: usize, count_include_pad: bool) -> Result<Self> {
        let mut t = AxisTable {
            in_len: w.input,
            dilation: w.dilation,
            uniform: Some(Uniform { kernel: w.kernel, stride: w.stride, pad_begin: w.pad_begin, pad_end: w.pad_end }),
            start: table(w.output)?,
            taps: table(w.output)?,
            count: table(w.output)?,
            cover_lo: Vec::new(),
            cover_hi: Vec::new(),
        };
        // i128: `-s0 + d` can exceed i64 when both the begin pad and the dilation are near 2^62.
        let d = w.dilation as i128;
        let k = w.kernel as i128;
        let len = w.input as i128;
        for o in 0..w.output {
            let s0 = w.position(o, 0) as i128;
            // First and last tap index j with 0 <= s0 + j*d < len.
            let first = if s0 >= 0 { 0 } else { (-s0 + d - 1) / d };
            let last = ((len - 1 - s0).div_euclid(d)).min(k - 1);
            if last < first {
                return Err(PoolError::WindowInPadding { axis, output: o });
            }
            let taps = (last - first + 1) as usize;
            let count = if count_include_pad {
                // Taps before the padded end; the start is never before -pad_begin.
                let padded_end = (w.input + w.pad_end) as i128;
                ((padded_end - 1 - s0).div_euclid(d)).min(k - 1) as usize + 1
            } else {
                taps
            };
            t.start.push((s0 + first * d) as usize);
            t.taps.push(taps);
            t.count.push(count);
        }
        // With at most one valid tap per window the dilation is never stepped over, but kernels
        // still scale it by the plane strides (`dilation * h * w * channels`), which overflows for
        // a huge dilation that only one tap survives. Normalise it to 1 (and drop the uniform
        // description, which would no longer match) so every step fits in the input.
        if t.dilation > 1 && t.taps.iter().all(|&n| n == 1) {
            t.dilation = 1;
            if w.kernel > 1 {
                t.uniform = None;
            }
        }
        t.fill_cover()?;
        Ok(t)
    }

    /// Tables of an adaptive axis pooling `input` to `output`.
    pub fn adaptive(input: usize, output: usize) -> Result<Self> {
        let mut t = AxisTable {
            in_len: input,
            dilation: 1,
            uniform: None,
            start: table(output)?,
            taps: table(output)?,
            count: table(output)?,
            cover_lo: Vec::new(),
            cover_hi: Vec::new(),
        };
        for o in 0..output {
            let (b, e) = adaptive_range(o, input, output);
            t.start.push(b);
            t.taps.push(e - b);
            t.count.push(e - b);
        }
        // Evenly divisible adaptive pooling is a regular window: let kernels specialise on it.
        if input.is_multiple_of(output) {
            let k = input / output;
            t.uniform = Some(Uniform { kernel: k, stride: k, pad_begin: 0, pad_end: 0 });
        }
        t.fill_cover()?;
        Ok(t)
    }

    /// Fills the cover tables from the windows: position `i` gets the range from the first to
    /// the last output with a tap on it (both empty where none has). Costs one step per tap.
    fn fill_cover(&mut self) -> Result<()> {
        let mut lo = table(self.in_len)?;
        let mut hi = table(self.in_len)?;
        lo.resize(self.in_len, usize::MAX);
        hi.resize(self.in_len, 0);
        for (o, (&start, &taps)) in self.start.iter().zip(&self.taps).enumerate() {
            for t in 0..taps {
                let i = start + t * self.dilation;
                lo[i] = lo[i].min(o);
                hi[i] = hi[i].max(o + 1);
            }
        }
        for (l, h) in lo.iter_mut().zip(&hi) {
            if *h == 0 {
                *l = 0;
            }
        }
        (self.cover_lo, self.cover_hi) = (lo, hi);
        Ok(())
    }

    /// The backward kernels' view of the cover tables.
    pub fn cover(&self) -> Cover<'_> {
        Cover::new(&self.axis(), &self.cover_lo, &self.cover_hi).expect("cover tables are consistent by construction")
    }

    /// The kernel view of these tables.
    pub fn axis(&self) -> Axis<'_> {
        Axis::new(self.in_len, self.dilation, self.uniform, &self.start, &self.taps, &self.count)
            .expect("tables are consistent by construction")
    }
}

/// Pads a list of up to three axis tables to exactly three, trivial axes first.
pub(crate) fn three_axes(mut tables: Vec<AxisTable>) -> [AxisTable; 3] {
    while tables.len() < 3 {
        tables.insert(0, AxisTable::trivial());
    }
    let [a, b, c]: [AxisTable; 3] = tables.try_into().expect("at most three spatial axes");
    [a, b, c]
}
