//! The element types the crate pools.

use half::{bf16, f16};
use simdpool_kernels::Scalar;

/// Names an element type at run time (for files and reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 8-bit integer.
    I8,
}

impl DType {
    /// Lowercase name (`"f32"`, `"bf16"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::F16 => "f16",
            DType::BF16 => "bf16",
            DType::U8 => "u8",
            DType::I8 => "i8",
        }
    }
    /// Bytes per element.
    pub const fn size(self) -> usize {
        match self {
            DType::F32 => 4,
            DType::F64 => 8,
            DType::F16 | DType::BF16 => 2,
            DType::U8 | DType::I8 => 1,
        }
    }
}

impl core::fmt::Display for DType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// An element type simdpool pools: `f32`, `f64`, [`f16`](half::f16), [`bf16`](half::bf16), `u8` and `i8`.
///
/// Max pooling is exact for every type. Averages and Lp sums accumulate in `f32` for `f32`, `f16`
/// and `bf16` (narrow inputs are widened once; partial sums are never rounded to the narrow type),
/// in `f64` for `f64`, and exactly in `i64` for `u8` and `i8`, whose results round to nearest, ties
/// to even, and saturate to the type's range (Lp sums of integers accumulate in `f64`).
pub trait Element: Scalar + bytemuck::Pod + core::fmt::Debug + sealed::Sealed {
    /// The run-time name of this type.
    const DTYPE: DType;
    /// The value as `f64` (exact for every supported type).
    fn to_f64(self) -> f64;
    /// Rounds an `f64` to this type: nearest, ties to even; integers saturate (NaN becomes 0).
    fn from_f64(x: f64) -> Self;
}

macro_rules! float_element {
    ($t:ty, $d:ident, |$x:ident| $to:expr, |$y:ident| $from:expr) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_f64(self) -> f64 {
                let $x = self;
                $to
            }
            fn from_f64($y: f64) -> Self {
                $from
            }
        }
    };
}
float_element!(f32, F32, |x| x as f64, |y| y as f32);
float_element!(f64, F64, |x| x, |y| y);
float_element!(f16, F16, |x| x.to_f64(), |y| f16::from_f64(y));
float_element!(bf16, BF16, |x| x.to_f64(), |y| bf16_from_f64(y));

/// `x` rounded to `bf16`, nearest, ties to even: through `f32` rounded to odd (toward zero, the
/// last bit set when inexact), which keeps a value just above or below a tie on its side, so the
/// second rounding is the only one that decides. `half`'s `bf16::from_f64` rounds some values
/// just above a tie down (`1.0039064` to `1.0`, where `bf16::from_f32` gives `1.0078125`).
fn bf16_from_f64(x: f64) -> bf16 {
    let f = x as f32;
    if f64::from(f) == x || (!f.is_finite() && !x.is_finite()) {
        return bf16::from_f32(f);
    }
    let mut bits = f.to_bits();
    if f64::from(f).abs() > x.abs() {
        bits -= 1;
    }
    bf16::from_f32(f32::from_bits(bits | 1))
}

macro_rules! int_element {
    ($t:ty, $d:ident) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_f64(x: f64) -> Self {
                if x.is_nan() { 0 } else { x.round_ties_even().clamp(<$t>::MIN as f64, <$t>::MAX as f64) as $t }
            }
        }
    };
}
int_element!(u8, U8);
int_element!(i8, I8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_from_f64_rounds_to_nearest_even() {
        // f32 values at, above and below ties: the same as the `f32` rounding.
        for bits in [0x3f80_8000u32, 0x3f80_8001, 0x3f80_7fff, 0x3f81_8000, 0xbd9c_8001, 0x7f7f_ffff, 0x0000_0001] {
            let v = f32::from_bits(bits);
            assert_eq!(bf16_from_f64(f64::from(v)).to_bits(), bf16::from_f32(v).to_bits(), "{bits:08x}");
        }
        // Values between f32 values, a hair either side of a tie.
        let tie = f64::from(f32::from_bits(0x3f80_8000));
        assert_eq!(bf16_from_f64(tie + 1e-12).to_bits(), 0x3f81);
        assert_eq!(bf16_from_f64(tie - 1e-12).to_bits(), 0x3f80);
        assert_eq!(bf16_from_f64(-(tie + 1e-12)).to_bits(), 0xbf81);
        assert_eq!(bf16_from_f64(1e300).to_bits(), 0x7f80);
        assert_eq!(bf16_from_f64(-1e-300).to_bits(), 0x8000);
        assert!(bf16_from_f64(f64::NAN).is_nan());
    }
}
