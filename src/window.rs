//! Pooling windows: kernel, stride, padding, dilation, ceil mode, and the output-size arithmetic.

use crate::error::{PoolError, Result};

/// ONNX `auto_pad`: padding chosen from the input size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AutoPad {
    /// Output length `ceil(L / stride)`; the odd padding element goes at the end.
    SameUpper,
    /// Output length `ceil(L / stride)`; the odd padding element goes at the beginning.
    SameLower,
    /// No padding.
    Valid,
}

/// How a window is padded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Padding {
    /// PyTorch padding: the same amount at both ends of each axis, at most `kernel / 2`.
    Symmetric(Vec<usize>),
    /// ONNX `pads`: per axis, a beginning and an end amount. Any amounts are accepted as long as
    /// no output's window lies wholly in padding.
    Explicit {
        /// Padding before the first element, per axis.
        begin: Vec<usize>,
        /// Padding after the last element, per axis.
        end: Vec<usize>,
    },
    /// ONNX `auto_pad`.
    Auto(AutoPad),
}

/// A pooling window over 1 to 3 spatial axes, built PyTorch style and resolved against an input.
///
/// Rules, per axis with input length `L`, kernel `k`, stride `s`, dilation `d` and padding
/// `pb` / `pe`:
/// * `k`, `s`, `d` are at least 1; the stride defaults to the kernel, the dilation to 1.
/// * Output length: `floor((L + pb + pe - d*(k-1) - 1) / s) + 1`. In ceil mode, `ceil(...)` instead,
///   minus one if the last window would start at or beyond `L + pb` (in the end padding).
/// * Symmetric padding must satisfy `pad <= k / 2` (PyTorch's check, before dilation).
/// * `auto_pad` SAME_UPPER / SAME_LOWER give `ceil(L / s)` outputs with total padding
///   `max((out - 1) * s + d*(k-1) + 1 - L, 0)` split evenly, the odd element at the end (upper) or
///   the beginning (lower); VALID means no padding. Ceil mode does not apply to `auto_pad`.
/// * No output's window may lie wholly in padding; such requests are rejected.
///
/// ```
/// use simdpool::Window;
/// let w = Window::new(&[3, 3]).stride(&[2, 2]).padding(&[1, 1]);
/// let axes = w.resolve(&[112, 112]).unwrap();
/// assert_eq!(axes[0].output, 56);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    kernel: Vec<usize>,
    stride: Option<Vec<usize>>,
    padding: Padding,
    dilation: Option<Vec<usize>>,
    ceil_mode: bool,
}

/// A window resolved on one axis of a given input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AxisWindow {
    /// Input length.
    pub input: usize,
    /// Output length.
    pub output: usize,
    /// Taps in the window.
    pub kernel: usize,
    /// Distance between window starts.
    pub stride: usize,
    /// Distance between taps.
    pub dilation: usize,
    /// Padding before the input.
    pub pad_begin: usize,
    /// Padding after the input.
    pub pad_end: usize,
}

impl AxisWindow {
    /// Input position of tap `j` of output `o` (negative or `>= input` means padding).
    pub fn position(&self, o: usize, j: usize) -> i64 {
        (o * self.stride) as i64 - self.pad_begin as i64 + (j * self.dilation) as i64
    }
    /// True if that position holds an input element.
    pub fn is_valid(&self, o: usize, j: usize) -> bool {
        let p = self.position(o, j);
        p >= 0 && (p as u64) < self.input as u64
    }
    /// True if output `o`'s window has at least one tap inside the input (computed in closed form,
    /// without visiting the taps).
    pub(crate) fn has_valid_tap(&self, o: usize) -> bool {
        let (d, len) = (self.dilation as i128, self.input as i128);
        let s0 = (o as i128) * (self.stride as i128) - self.pad_begin as i128;
        // First and last tap index j with 0 <= s0 + j*d < len.
        let first = if s0 >= 0 { 0 } else { (-s0 + d - 1) / d };
        let last = (len - 1 - s0).div_euclid(d).min(self.kernel as i128 - 1);
        first <= last
    }
    /// True if that position lies inside the padded extent `[-pad_begin, input + pad_end)`, which
    /// is what `count_include_pad` counts (the ceil-mode overhang beyond it never counts).
    pub fn is_in_padded(&self, o: usize, j: usize) -> bool {
        let p = self.position(o, j);
        p < (self.input + self.pad_end) as i64
    }
}

impl Window {
    /// A window with these kernel sizes, stride equal to the kernel, no padding, no dilation.
    pub fn new(kernel: &[usize]) -> Self {
        Window {
            kernel: kernel.to_vec(),
            stride: None,
            padding: Padding::Symmetric(vec![0; kernel.len()]),
            dilation: None,
            ceil_mode: false,
        }
    }
    /// Sets the strides.
    pub fn stride(mut self, stride: &[usize]) -> Self {
        self.stride = Some(stride.to_vec());
        self
    }
    /// Sets symmetric (PyTorch) padding.
    pub fn padding(mut self, padding: &[usize]) -> Self {
        self.padding = Padding::Symmetric(padding.to_vec());
        self
    }
    /// Sets asymmetric padding: `begin` and `end` per axis.
    pub fn pads(mut self, begin: &[usize], end: &[usize]) -> Self {
        self.padding = Padding::Explicit { begin: begin.to_vec(), end: end.to_vec() };
        self
    }
    /// Sets padding in ONNX `pads` order: all beginnings, then all ends.
    pub fn onnx_pads(self, pads: &[usize]) -> Self {
        let half = pads.len() / 2;
        if !pads.len().is_multiple_of(2) {
            // Odd counts can never match a rank; resolve() reports the mismatch.
            return self.pads(pads, &[]);
        }
        self.pads(&pads[..half], &pads[half..])
    }
    /// Sets ONNX `auto_pad`.
    pub fn auto_pad(mut self, auto: AutoPad) -> Self {
        self.padding = Padding::Auto(auto);
        self
    }
    /// Sets the dilations.
    pub fn dilation(mut self, dilation: &[usize]) -> Self {
        self.dilation = Some(dilation.to_vec());
        self
    }
    /// Sets ceil mode (round the output length up).
    pub fn ceil_mode(mut self, ceil: bool) -> Self {
        self.ceil_mode = ceil;
        self
    }
    /// The kernel sizes.
    pub fn kernel(&self) -> &[usize] {
        &self.kernel
    }
    /// The padding.
    pub fn padding_spec(&self) -> &Padding {
        &self.padding
    }
    /// Whether ceil mode is on.
    pub fn is_ceil_mode(&self) -> bool {
        self.ceil_mode
    }
    /// Number of spatial axes.
    pub fn rank(&self) -> usize {
        self.kernel.len()
    }

    /// Validates the window against an input's spatial dims and computes each axis' geometry.
    pub fn resolve(&self, spatial: &[usize]) -> Result<Vec<AxisWindow>> {
        let rank = spatial.len();
        let count = |param: &'static str, v: &[usize]| {
            if v.len() == rank { Ok(()) } else { Err(PoolError::ParamCount { param, expected: rank, got: v.len() }) }
        };
        count("kernel", &self.kernel)?;
        if let Some(s) = &self.stride {
            count("stride", s)?;
        }
        if let Some(d) = &self.dilation {
            count("dilation", d)?;
        }
        match &self.padding {
            Padding::Symmetric(p) => count("padding", p)?,
            Padding::Explicit { begin, end } => {
                count("pads (begin)", begin)?;
                count("pads (end)", end)?;
            }
            Padding::Auto(_) => {}
        }
        (0..rank).map(|axis| self.resolve_axis(axis, spatial[axis])).collect()
    }

    fn resolve_axis(&self, axis: usize, input: usize) -> Result<AxisWindow> {
        let overflow = PoolError::Overflow { what: "window geometry" };
        let kernel = self.kernel[axis];
        let stride = self.stride.as_ref().map_or(kernel, |s| s[axis]);
        let dilation = self.dilation.as_ref().map_or(1, |d| d[axis]);
        for (param, v) in [("kernel", kernel), ("stride", stride), ("dilation", dilation)] {
            if v == 0 {
                return Err(PoolError::ZeroParam { param, axis });
            }
        }
        if input == 0 {
            return Err(PoolError::ZeroDim { dim: format!("spatial {axis}") });
        }
        let extent = dilation.checked_mul(kernel - 1).and_then(|e| e.checked_add(1)).ok_or(overflow.clone())?;
        let mut ceil = self.ceil_mode;
        let (pad_begin, pad_end) = match &self.padding {
            Padding::Symmetric(p) => {
                if p[axis] > kernel / 2 {
                    return Err(PoolError::PaddingTooLarge { axis, pad: p[axis], kernel });
                }
                (p[axis], p[axis])
            }
            Padding::Explicit { begin, end } => (begin[axis], end[axis]),
            Padding::Auto(auto) => {
                ceil = false;
                match auto {
                    AutoPad::Valid => (0, 0),
                    AutoPad::SameUpper | AutoPad::SameLower => {
                        let out = input.div_ceil(stride);
                        let total = ((out - 1).checked_mul(stride).and_then(|v| v.checked_add(extent)))
                            .ok_or(overflow.clone())?
                            .saturating_sub(input);
                        if *auto == AutoPad::SameUpper {
                            (total / 2, total - total / 2)
                        } else {
                            (total - total / 2, total / 2)
                        }
                    }
                }
            }
        };
        let padded = input.checked_add(pad_begin).and_then(|v| v.checked_add(pad_end)).ok_or(overflow.clone())?;
        if padded < extent {
            return Err(PoolError::EmptyOutput { axis, input, padded, extent });
        }
        // Tap positions (`AxisWindow::position`) are `i64` in `[-pad_begin, input + pad_end)`.
        if padded > i64::MAX as usize {
            return Err(overflow);
        }
        let span = padded - extent;
        let mut output = if ceil { span.div_ceil(stride) + 1 } else { span / stride + 1 };
        // Ceil mode: drop a last window that would start in the end padding.
        if ceil && output > 1 && (output - 1).checked_mul(stride).ok_or(overflow.clone())? >= input + pad_begin {
            output -= 1;
        }
        let window = AxisWindow { input, output, kernel, stride, dilation, pad_begin, pad_end };
        // Windows wholly in padding at either end (the usual cause: large asymmetric pads) are
        // rejected here, before anyone allocates per-output tables for a huge padded length.
        // Windows that skip the input by dilation in the middle are found when tables are built.
        for o in [0, output - 1] {
            if !window.has_valid_tap(o) {
                return Err(PoolError::WindowInPadding { axis, output: o });
            }
        }
        Ok(window)
    }
}
