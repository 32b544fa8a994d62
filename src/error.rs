//! The one error type of the crate.

use crate::Isa;
use core::fmt;

/// Everything that can be wrong with a pooling request. Each variant names the parameter, the
/// axis and the values involved, so the message says what to change.
///
/// Spatial axes are numbered from 0 in the order the spatial dims are given (depth, height,
/// width for 3-D).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PoolError {
    /// The input's spatial rank is not 1, 2 or 3.
    UnsupportedRank {
        /// The spatial rank (tensor rank minus 2).
        rank: usize,
    },
    /// A per-axis parameter list has the wrong number of entries.
    ParamCount {
        /// The parameter (`"kernel"`, `"stride"`, `"padding"`, ...).
        param: &'static str,
        /// Entries needed (the spatial rank).
        expected: usize,
        /// Entries given.
        got: usize,
    },
    /// A tensor dimension is zero.
    ZeroDim {
        /// Which dimension (`"batch"`, `"channels"`, `"spatial 1"`, ...).
        dim: String,
    },
    /// A window parameter that must be at least 1 is 0 (kernel, stride, dilation, output size).
    ZeroParam {
        /// The parameter.
        param: &'static str,
        /// The spatial axis.
        axis: usize,
    },
    /// Symmetric padding larger than half the kernel (PyTorch's rule `pad <= kernel / 2`).
    PaddingTooLarge {
        /// The spatial axis.
        axis: usize,
        /// The padding.
        pad: usize,
        /// The kernel.
        kernel: usize,
    },
    /// The (dilated) window does not fit in the padded input: the output would be empty.
    EmptyOutput {
        /// The spatial axis.
        axis: usize,
        /// Input length along the axis.
        input: usize,
        /// Padded length (`input + pad_begin + pad_end`).
        padded: usize,
        /// Window extent (`dilation * (kernel - 1) + 1`).
        extent: usize,
    },
    /// Some output's window holds only padding (asymmetric pads, or dilation skipping the input).
    WindowInPadding {
        /// The spatial axis.
        axis: usize,
        /// The output index along that axis whose window is all padding.
        output: usize,
    },
    /// A size computed from the dims overflows `usize`.
    Overflow {
        /// What was being computed.
        what: &'static str,
    },
    /// A buffer has the wrong number of elements.
    BufferLength {
        /// `"input"`, `"output"` or `"indices"`.
        buffer: &'static str,
        /// Elements required.
        expected: usize,
        /// Elements given.
        got: usize,
    },
    /// Indices were requested from an op that has none (only max ops produce indices).
    IndicesUnsupported {
        /// The op's name.
        op: &'static str,
    },
    /// A backward pass for an element type without gradients (`u8`, `i8`).
    NoGradient {
        /// The element type.
        dtype: &'static str,
    },
    /// A backward pass that needs more than the output gradient: max and Lp need the forward
    /// input (and Lp its output), or max the forward indices.
    BackwardNeeds {
        /// The op's name.
        op: &'static str,
        /// What else it needs.
        what: &'static str,
    },
    /// A max index (as the forward pass writes them, flat over the spatial dims of the plane)
    /// outside its `(n, c)` plane.
    IndexOutOfPlane {
        /// Position of the index in the index buffer.
        position: usize,
        /// The index.
        index: i64,
        /// Elements per plane.
        plane: usize,
    },
    /// The Lp exponent is not a finite number `>= 1`.
    InvalidLpPower {
        /// The exponent given.
        p: f64,
    },
    /// `divisor_override` is zero.
    ZeroDivisor,
    /// A plan was requested for an instruction set this CPU (or `SIMDPOOL_ISA`) does not allow.
    IsaUnavailable {
        /// The level requested.
        requested: Isa,
        /// The best level available.
        detected: Isa,
    },
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use PoolError::*;
        match self {
            UnsupportedRank { rank } => write!(
                f,
                "spatial rank {rank} is not supported: the input needs 3, 4 or 5 dims (N, C and 1 to 3 spatial dims)"
            ),
            ParamCount { param, expected, got } => write!(
                f,
                "{param} has {got} entries but the input has {expected} spatial dims: give one entry per spatial dim"
            ),
            ZeroDim { dim } => write!(f, "the {dim} dimension is 0: every dimension must be at least 1"),
            ZeroParam { param, axis } => write!(f, "{param} is 0 on spatial axis {axis}: it must be at least 1"),
            PaddingTooLarge { axis, pad, kernel } => write!(
                f,
                "padding {pad} on spatial axis {axis} is more than half the kernel {kernel}: pad must be at most {}",
                kernel / 2
            ),
            EmptyOutput { axis, input, padded, extent } => write!(
                f,
                "on spatial axis {axis} the window extent {extent} is larger than the padded input {padded} (input {input}): the output would be empty"
            ),
            WindowInPadding { axis, output } => write!(
                f,
                "output {output} on spatial axis {axis} has a window made only of padding: reduce the padding or the dilation"
            ),
            Overflow { what } => write!(f, "the {what} overflows usize"),
            BufferLength { buffer, expected, got } => {
                write!(f, "the {buffer} buffer has {got} elements but this plan needs exactly {expected}")
            }
            IndicesUnsupported { op } => {
                write!(f, "indices were requested from {op} pooling, but only max pooling produces indices")
            }
            NoGradient { dtype } => {
                write!(f, "{dtype} has no gradient: backward passes take f32, f64, f16 or bf16")
            }
            BackwardNeeds { op, what } => write!(f, "the backward pass of {op} pooling needs {what}"),
            IndexOutOfPlane { position, index, plane } => {
                write!(f, "index {index} at position {position} lies outside its plane: indices must be in 0..{plane}")
            }
            InvalidLpPower { p } => write!(f, "Lp exponent p = {p} is invalid: p must be a finite number >= 1"),
            ZeroDivisor => write!(f, "divisor_override is 0: it must be non-zero"),
            IsaUnavailable { requested, detected } => write!(
                f,
                "instruction set {requested} is not available here (best available: {detected}; SIMDPOOL_ISA may cap it)"
            ),
        }
    }
}

impl std::error::Error for PoolError {}

/// Shorthand for results of this crate.
pub type Result<T, E = PoolError> = core::result::Result<T, E>;
