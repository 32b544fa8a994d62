//! The precomputed description of a pooling problem that every kernel takes.
//!
//! Fields are private and the constructors check every invariant kernels rely on (each output's
//! taps lie inside the input, table lengths match), so a safe caller cannot make a kernel read or
//! write out of bounds.

use core::ops::Range;

/// Memory layout of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// `N, C, spatial...` (NCL, NCHW, NCDHW): each channel is a contiguous plane.
    ChannelsFirst,
    /// `N, spatial..., C` (NLC, NHWC, NDHWC): each pixel is a contiguous vector of channels.
    ChannelsLast,
}

/// The regular window an axis was built from, for kernels specialised to common shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uniform {
    /// Taps in the window.
    pub kernel: usize,
    /// Distance between the starts of neighbouring windows.
    pub stride: usize,
    /// Virtual elements before the first input element.
    pub pad_begin: usize,
    /// Virtual elements after the last input element.
    pub pad_end: usize,
}

/// One spatial axis: where each output's window lies in the input.
///
/// For output `o`, the valid taps are `start[o] + t * dilation` for `t in 0..taps[o]`; all lie in
/// `0..in_len` and `taps[o] >= 1`. `count[o]` is this axis' factor of the average divisor (valid
/// taps, or taps inside the padded extent when padding counts).
#[derive(Clone, Copy, Debug)]
pub struct Axis<'a> {
    in_len: usize,
    dilation: usize,
    uniform: Option<Uniform>,
    start: &'a [usize],
    taps: &'a [usize],
    count: &'a [usize],
}

static ZERO: [usize; 1] = [0];
static ONE: [usize; 1] = [1];

impl<'a> Axis<'a> {
    /// Checks the tables and builds the axis; `None` if any output's taps leave `0..in_len`, any
    /// output has no taps or a zero count, the tables differ in length, or a size overflows.
    pub fn new(
        in_len: usize,
        dilation: usize,
        uniform: Option<Uniform>,
        start: &'a [usize],
        taps: &'a [usize],
        count: &'a [usize],
    ) -> Option<Self> {
        let out_len = start.len();
        if out_len == 0 || taps.len() != out_len || count.len() != out_len || dilation == 0 {
            return None;
        }
        for o in 0..out_len {
            let t = taps[o];
            if t == 0 || count[o] == 0 {
                return None;
            }
            let last = (t - 1).checked_mul(dilation)?.checked_add(start[o])?;
            if last >= in_len {
                return None;
            }
        }
        Some(Axis { in_len, dilation, uniform, start, taps, count })
    }

    /// An axis of length one with one output (pads a lower spatial rank up to three axes).
    pub fn trivial() -> Axis<'static> {
        Axis { in_len: 1, dilation: 1, uniform: None, start: &ZERO, taps: &ONE, count: &ONE }
    }

    /// Input length along this axis.
    pub fn in_len(&self) -> usize {
        self.in_len
    }
    /// Output length along this axis.
    pub fn out_len(&self) -> usize {
        self.start.len()
    }
    /// Distance between neighbouring taps.
    pub fn dilation(&self) -> usize {
        self.dilation
    }
    /// The regular window this axis came from, if any (`None` for adaptive pooling).
    pub fn uniform(&self) -> Option<Uniform> {
        self.uniform
    }
    /// First valid input index of each output's window.
    pub fn start(&self) -> &'a [usize] {
        self.start
    }
    /// Number of valid taps of each output's window (at least one).
    pub fn taps(&self) -> &'a [usize] {
        self.taps
    }
    /// This axis' factor of each output's average divisor.
    pub fn count(&self) -> &'a [usize] {
        self.count
    }
    /// True when this axis is the trivial one (one input, one output, one tap).
    pub fn is_trivial(&self) -> bool {
        self.in_len == 1 && self.start.len() == 1
    }
}

/// For each input position of one axis, the outputs whose windows may hold it: `lo[i]..hi[i]`
/// (empty when no window holds `i`). Backward kernels visit these candidates in increasing order
/// and test each against the [`Axis`] tables, so a candidate that does not hold `i` (a dilated
/// window that steps over it) adds nothing.
#[derive(Clone, Copy, Debug)]
pub struct Cover<'a> {
    lo: &'a [usize],
    hi: &'a [usize],
}

impl<'a> Cover<'a> {
    /// Checks the tables against `axis` and builds the cover; `None` unless both hold one entry
    /// per input position and every range lies in `0..out_len`.
    pub fn new(axis: &Axis<'_>, lo: &'a [usize], hi: &'a [usize]) -> Option<Self> {
        let ok = lo.len() == axis.in_len()
            && hi.len() == axis.in_len()
            && lo.iter().zip(hi).all(|(&l, &h)| l <= h && h <= axis.out_len());
        ok.then_some(Cover { lo, hi })
    }
    /// The candidate outputs of input position `i`.
    pub fn outputs(&self, i: usize) -> Range<usize> {
        self.lo[i]..self.hi[i]
    }
}

impl Axis<'_> {
    /// Whether output `o`'s window holds input position `i`.
    #[inline(always)]
    pub fn holds(&self, o: usize, i: usize) -> bool {
        let s = self.start[o];
        // Without dilation, two comparisons instead of two divisions (most windows).
        if self.dilation == 1 {
            return i >= s && i - s < self.taps[o];
        }
        i >= s && (i - s).is_multiple_of(self.dilation) && (i - s) / self.dilation < self.taps[o]
    }
}

/// What a backward kernel distributes each output's gradient by.
#[derive(Clone, Copy, Debug)]
pub enum GradRule<'a, T> {
    /// Average: `g / divisor` to every valid tap (the divisor as in [`Reduce::Avg`]).
    Avg {
        /// Replaces the computed divisor when set (never zero).
        divisor_override: Option<i64>,
    },
    /// Lp: `g * sign(x) * (|x| / y)^(p - 1)` to every valid tap, nothing where `y = 0`; `input`
    /// and `output` are the forward pass's.
    Lp {
        /// The exponent.
        power: LpPower,
        /// The forward input.
        input: &'a [T],
        /// The forward output `y`.
        output: &'a [T],
    },
    /// Max: `g` to the tap at the output's index (flat over the spatial dims of its plane, as
    /// the forward pass writes them; the caller has checked every index lies in its plane).
    MaxIndices(&'a [i64]),
    /// Max: `g` to the tap the forward scan rule selects, found again in `input`.
    MaxInput(&'a [T]),
}

/// The exponent of Lp pooling, with the cases that have fast exact paths split out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LpPower {
    /// `p = 1`: sum of absolute values.
    One,
    /// `p = 2`: square root of the sum of squares.
    Two,
    /// Any other finite `p >= 1`: `(sum |x|^p)^(1/p)` with a software `pow`.
    General(f64),
}

impl LpPower {
    /// Classifies a validated exponent.
    pub fn new(p: f64) -> Self {
        if p == 1.0 {
            LpPower::One
        } else if p == 2.0 {
            LpPower::Two
        } else {
            LpPower::General(p)
        }
    }
}

/// What a windowed kernel computes over each window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reduce {
    /// Maximum by PyTorch's scan rule (NaN propagates).
    Max,
    /// Sum divided by `divisor_override`, or by the product of the axes' counts.
    Avg {
        /// Replaces the computed divisor when set (never zero).
        divisor_override: Option<i64>,
    },
    /// `(sum |x|^p)^(1/p)`.
    Lp(LpPower),
}

/// What a global kernel computes over each plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalReduce {
    /// Maximum (NaN propagates).
    Max,
    /// Mean.
    Avg,
    /// The plain sum (no `+ 0.0`, no division), rounded to the element type by
    /// [`Scalar::from_sum`](crate::Scalar::from_sum): exact for `f32` and `f64`, whose sums are
    /// kept in their own type. The partial sums of a pixel block that `simdpool` combines itself
    /// (see the crate docs on the canonical order).
    Sum,
}

/// A windowed or adaptive pooling problem, normalised to three spatial axes (depth, height,
/// width); lower ranks have trivial leading axes.
///
/// Work is split in *output rows*: a row is one `(plane, oz, oy)` in channels-first layout
/// (`out_w` outputs) and one `(n, oz, oy)` in channels-last layout (`out_w * channels` outputs).
/// The outputs of a range of rows are contiguous in either layout.
#[derive(Clone, Copy, Debug)]
pub struct Problem<'a> {
    layout: Layout,
    batch: usize,
    channels: usize,
    axes: [Axis<'a>; 3],
    input_len: usize,
    output_len: usize,
}

impl<'a> Problem<'a> {
    /// Builds a problem; `None` if a dimension is zero or a size overflows `usize`.
    pub fn new(layout: Layout, batch: usize, channels: usize, axes: [Axis<'a>; 3]) -> Option<Self> {
        if batch == 0 || channels == 0 {
            return None;
        }
        let mut input_len = batch.checked_mul(channels)?;
        let mut output_len = input_len;
        for a in &axes {
            input_len = input_len.checked_mul(a.in_len())?;
            output_len = output_len.checked_mul(a.out_len())?;
        }
        Some(Problem { layout, batch, channels, axes, input_len, output_len })
    }

    /// Memory layout of input and output.
    pub fn layout(&self) -> Layout {
        self.layout
    }
    /// Batch size `N`.
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Channels `C`.
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// The depth, height and width axes.
    pub fn axes(&self) -> &[Axis<'a>; 3] {
        &self.axes
    }
    /// Elements in the input.
    pub fn input_len(&self) -> usize {
        self.input_len
    }
    /// Elements in the output.
    pub fn output_len(&self) -> usize {
        self.output_len
    }
    /// Input elements in one spatial plane (`d * h * w`).
    pub fn in_plane(&self) -> usize {
        self.axes[0].in_len() * self.axes[1].in_len() * self.axes[2].in_len()
    }
    /// Output elements in one spatial plane.
    pub fn out_plane(&self) -> usize {
        self.axes[0].out_len() * self.axes[1].out_len() * self.axes[2].out_len()
    }
    /// Output rows in the whole problem (see the type's docs).
    pub fn rows(&self) -> usize {
        let per_image = self.axes[0].out_len() * self.axes[1].out_len();
        match self.layout {
            Layout::ChannelsFirst => self.batch * self.channels * per_image,
            Layout::ChannelsLast => self.batch * per_image,
        }
    }
    /// Output elements per row.
    pub fn row_len(&self) -> usize {
        match self.layout {
            Layout::ChannelsFirst => self.axes[2].out_len(),
            Layout::ChannelsLast => self.axes[2].out_len() * self.channels,
        }
    }
    /// Panics unless the buffers fit this problem and `rows`; kernels call it on entry.
    pub fn check(&self, input: usize, output: usize, rows: &Range<usize>) {
        assert!(input == self.input_len, "input length does not match the problem");
        assert!(rows.start <= rows.end && rows.end <= self.rows(), "row range out of bounds");
        assert!(output == (rows.end - rows.start) * self.row_len(), "output length does not match the rows");
    }
}

/// A global pooling problem: one output per `(n, c)`. Work is split in rows, one row per `(n, c)`
/// (a contiguous range of outputs in either layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalProblem {
    layout: Layout,
    batch: usize,
    channels: usize,
    plane: usize,
    input_len: usize,
}

impl GlobalProblem {
    /// Builds a problem over planes of `plane` elements; `None` if a dimension is zero or a size
    /// overflows.
    pub fn new(layout: Layout, batch: usize, channels: usize, plane: usize) -> Option<Self> {
        if batch == 0 || channels == 0 || plane == 0 {
            return None;
        }
        let input_len = batch.checked_mul(channels)?.checked_mul(plane)?;
        Some(GlobalProblem { layout, batch, channels, plane, input_len })
    }
    /// Memory layout of the input.
    pub fn layout(&self) -> Layout {
        self.layout
    }
    /// Batch size.
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Channels.
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// Spatial elements per plane.
    pub fn plane(&self) -> usize {
        self.plane
    }
    /// Elements in the input.
    pub fn input_len(&self) -> usize {
        self.input_len
    }
    /// Rows (= outputs) in the whole problem.
    pub fn rows(&self) -> usize {
        self.batch * self.channels
    }
    /// Panics unless the buffers fit this problem and `rows`; kernels call it on entry.
    pub fn check(&self, input: usize, output: usize, rows: &Range<usize>) {
        assert!(input == self.input_len, "input length does not match the problem");
        assert!(rows.start <= rows.end && rows.end <= self.rows(), "row range out of bounds");
        assert!(output == rows.end - rows.start, "output length does not match the rows");
    }
}
