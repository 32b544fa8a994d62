//! The element types kernels work on, and how each one accumulates and rounds.

use crate::problem::LpPower;
use crate::set::{KernelSet, TypedKernels};
use core::ops::Add;
use half::{bf16, f16};

/// An element type kernels can pool. Implemented for `f32`, `f64`, `f16`, `bf16`, `u8` and `i8`.
///
/// * Max is exact for every type.
/// * Sums accumulate in `f32` for `f32`, `f16` and `bf16` (narrow inputs are widened once, partial
///   sums are never rounded to the narrow type), in `f64` for `f64`, and exactly in `i64` for the
///   integer types, whose means round to nearest, ties to even, and saturate to the type's range.
/// * Lp sums accumulate like averages for floats and in `f64` for integers (rounded like means).
/// * A NaN average or Lp result is always the canonical quiet NaN (`f32::NAN`, `f64::NAN`, or
///   their conversion to the narrow type); a NaN max is the selected input element itself.
pub trait Scalar: Copy + PartialOrd + Send + Sync + 'static {
    /// Accumulator for sums.
    type Sum: Copy + Add<Output = Self::Sum>;
    /// Accumulator for Lp sums.
    type LpSum: Copy + Default + PartialOrd + Add<Output = Self::LpSum>;
    /// The smallest value (`-inf` for floats): the identity of max.
    const LOWEST: Self;
    /// True for NaN (never for integers).
    fn is_nan(self) -> bool;
    /// The value as a sum term.
    fn to_sum(self) -> Self::Sum;
    /// The empty sum.
    fn zero_sum() -> Self::Sum;
    /// `|x|^p` as an Lp sum term.
    fn lp_term(self, p: LpPower) -> Self::LpSum;
    /// `sum / divisor`, rounded to this type (`divisor != 0`). Integer types round to nearest,
    /// ties to even, and saturate:
    ///
    /// ```
    /// use simdpool_kernels::Scalar;
    /// let m = |s: i64, d: i64| <i8 as Scalar>::mean(s, d);
    /// assert_eq!([m(5, 2), m(7, 2), m(-5, 2), m(-7, 2)], [2, 4, -2, -4]); // 2.5, 3.5, -2.5, -3.5
    /// assert_eq!([m(10, 4), m(11, 4), m(9, -2), m(1, 3), m(2, 3)], [2, 3, -4, 0, 1]);
    /// assert_eq!([m(1000, 1), m(-1000, 1)], [127, -128]);
    /// assert_eq!(<u8 as Scalar>::mean(-3, 1), 0);
    /// ```
    fn mean(sum: Self::Sum, divisor: i64) -> Self;
    /// A plain sum as this type: unchanged for `f32` and `f64` (their sums are kept in their own
    /// type); narrow floats round to nearest; integers saturate.
    fn from_sum(sum: Self::Sum) -> Self;
    /// `sum^(1/p)`, rounded to this type.
    fn lp_root(sum: Self::LpSum, p: LpPower) -> Self;
    /// The least Lp result whose sum certainly kept its precision: `lp_root` of the sum floor,
    /// `2^-100` for `f32`, `f16` and `bf16` sums and `2^-960` for `f64` sums, widened to `f64`;
    /// `0` for the integer types, whose nonzero terms are at least `1`.
    fn lp_floor(p: LpPower) -> f64;
    /// Whether the directly evaluated Lp result `y` may have lost range, so the window is
    /// evaluated again scaled by its largest magnitude: `y` is `+inf` or below `floor`
    /// ([`Scalar::lp_floor`]); for the integer types, `y` is the type's maximum (a saturated or
    /// overflowed sum).
    fn lp_out_of_range(y: Self, floor: f64) -> bool;
    /// Whether no element of `ys` is [`Scalar::lp_out_of_range`]: `f32` and `f64` test the bit
    /// patterns branch-free, so the loop vectorises (it runs over every Lp output).
    #[inline(always)]
    fn lp_all_in_range(ys: &[Self], floor: f64) -> bool {
        ys.iter().all(|&y| !Self::lp_out_of_range(y, floor))
    }
    /// `|x|` in the Lp sum type.
    fn lp_magnitude(self) -> Self::LpSum;
    /// Whether a window's largest magnitude `m` can scale it: finite and nonzero. (With `m = 0`
    /// every term is `0`; with `m = inf` the direct result `inf` stands.)
    fn lp_scalable(m: Self::LpSum) -> bool;
    /// `(|x| / m)^p` as an Lp sum term: at most `1`, so it never overflows.
    fn lp_scaled_term(self, m: Self::LpSum, p: LpPower) -> Self::LpSum;
    /// `m * sum^(1/p)`, rounded to this type (`sum` of [`Scalar::lp_scaled_term`]s).
    fn lp_scaled_root(m: Self::LpSum, sum: Self::LpSum, p: LpPower) -> Self;
    /// Accumulator of gradients: `f32` for `f32`, `f16` and `bf16`, `f64` for `f64` (and for the
    /// integer types, which have no gradient: plans refuse them).
    type Grad: GradAcc;
    /// The value as a gradient term (exact).
    fn grad(self) -> Self::Grad;
    /// An accumulated gradient rounded once to this type (integers: to nearest, ties to even,
    /// saturating).
    fn from_grad(g: Self::Grad) -> Self;
    /// Whether the type is its own gradient accumulator (`f32`, `f64`): a gradient buffer of this
    /// type can then accumulate in place, each addition rounding exactly as in `Self::Grad`.
    const GRAD_IN_PLACE: bool;
    /// This type's kernels in a kernel set.
    fn kernels(set: &KernelSet) -> &TypedKernels<Self>;
}

/// The float a gradient accumulates in (`f32` or `f64`), with what backward kernels compute.
pub trait GradAcc: Copy + PartialEq + Add<Output = Self> + Send + Sync + 'static {
    /// `+0.0`.
    const ZERO: Self;
    /// `g / divisor`: an average's share of its output gradient.
    fn avg_share(g: Self, divisor: i64) -> Self;
    /// `g * sign(x) * (|x| / y)^(p - 1)`: an Lp tap's share (`0` where `y = 0`; `sign(0) = 0`).
    /// The quotient form keeps `|x|^(p-1)` and `y^(p-1)` from overflowing separately.
    fn lp_share(g: Self, x: Self, y: Self, p: LpPower) -> Self;
}

impl GradAcc for f32 {
    const ZERO: f32 = 0.0;
    #[inline(always)]
    fn avg_share(g: f32, divisor: i64) -> f32 {
        g / divisor as f32
    }
    #[inline(always)]
    fn lp_share(g: f32, x: f32, y: f32, p: LpPower) -> f32 {
        if y == 0.0 || x == 0.0 {
            return 0.0;
        }
        let sign = if x.is_nan() {
            x
        } else if x < 0.0 {
            -1.0
        } else {
            1.0
        };
        match p {
            LpPower::One => g * sign,
            LpPower::Two => g * (x / y),
            LpPower::General(p) => g * sign * libm::powf(abs32(x) / y, (p - 1.0) as f32),
        }
    }
}

impl GradAcc for f64 {
    const ZERO: f64 = 0.0;
    #[inline(always)]
    fn avg_share(g: f64, divisor: i64) -> f64 {
        g / divisor as f64
    }
    #[inline(always)]
    fn lp_share(g: f64, x: f64, y: f64, p: LpPower) -> f64 {
        if y == 0.0 || x == 0.0 {
            return 0.0;
        }
        let sign = if x.is_nan() {
            x
        } else if x < 0.0 {
            -1.0
        } else {
            1.0
        };
        match p {
            LpPower::One => g * sign,
            LpPower::Two => g * (x / y),
            LpPower::General(p) => g * sign * libm::pow(abs64(x) / y, p - 1.0),
        }
    }
}

/// PyTorch's scan rule: does `v` replace the running maximum `best`? (`v > best || isnan(v)`)
#[inline(always)]
pub fn max_takes<T: Scalar>(v: T, best: T) -> bool {
    v > best || v.is_nan()
}

/// Any NaN becomes the canonical quiet NaN. Which NaN survives an addition of two NaNs (and the
/// sign of `inf + -inf`) depends on operand order the compiler may commute, so sums and means
/// canonicalise NaN to stay bit-identical on every path.
#[inline(always)]
pub fn canon32(x: f32) -> f32 {
    if x.is_nan() { f32::NAN } else { x }
}

/// [`canon32`] for `f64`.
#[inline(always)]
pub fn canon64(x: f64) -> f64 {
    if x.is_nan() { f64::NAN } else { x }
}

#[inline(always)]
fn abs32(x: f32) -> f32 {
    f32::from_bits(x.to_bits() & 0x7fff_ffff)
}

#[inline(always)]
fn abs64(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & 0x7fff_ffff_ffff_ffff)
}

#[inline(always)]
fn lp_term32(x: f32, p: LpPower) -> f32 {
    match p {
        LpPower::One => abs32(x),
        LpPower::Two => x * x,
        LpPower::General(p) => libm::powf(abs32(x), p as f32),
    }
}

/// The exponent of the Lp root, `1 / p`, as the `f32` every `f32`, `f16` and `bf16` path raises
/// the sum to. Above `p = 2^150` the quotient rounds to `0` in `f32`, and `powf(s, 0)` is `1` for
/// every `s`, where `s^(1/p)` is `0` for `s = 0`, `inf` for `s = inf` and NaN for NaN. The
/// exponent is therefore at least the smallest positive subnormal, `2^-149`: `powf(s, 2^-149)`
/// keeps those three cases, and for every finite positive `f32` sum it is `1` (its logarithm is
/// below 104 in magnitude, so `s^(2^-149)` is within `2^-140` of `1`), as is `s^(1/p)` for any
/// `p > 2^150`, and as the reference's `f64` root rounds to.
#[inline(always)]
pub(crate) fn lp_root_exponent32(p: f64) -> f32 {
    let r = (1.0 / p) as f32;
    if r == 0.0 { f32::from_bits(1) } else { r }
}

#[inline(always)]
fn lp_root32(s: f32, p: LpPower) -> f32 {
    match p {
        LpPower::One => s,
        LpPower::Two => libm::sqrtf(s),
        LpPower::General(p) => libm::powf(s, lp_root_exponent32(p)),
    }
}

#[inline(always)]
fn lp_term64(x: f64, p: LpPower) -> f64 {
    match p {
        LpPower::One => abs64(x),
        LpPower::Two => x * x,
        LpPower::General(p) => libm::pow(abs64(x), p),
    }
}

#[inline(always)]
fn lp_root64(s: f64, p: LpPower) -> f64 {
    match p {
        LpPower::One => s,
        LpPower::Two => libm::sqrt(s),
        LpPower::General(p) => libm::pow(s, 1.0 / p),
    }
}

/// Lp sums of `f32`, `f16` and `bf16` windows at or above `2^-100` kept their precision: every
/// term below the smallest normal `f32` (`2^-126`), rounded to a multiple of `2^-149`, moves such a
/// sum by at most `2^-49` of itself. Smaller sums, and sums that overflowed, are evaluated again
/// scaled (see [`Scalar::lp_out_of_range`]).
pub const LP_SUM_FLOOR_32: f32 = f32::from_bits(27 << 23); // 2^-100: biased exponent 127 - 100
/// [`LP_SUM_FLOOR_32`] for `f64` sums: `2^-960`, so a subnormal term moves it by at most
/// `2^-114` of itself.
pub const LP_SUM_FLOOR_64: f64 = f64::from_bits(63 << 52); // 2^-960: biased exponent 1023 - 960

#[inline(always)]
fn lp_scaled_term32(x: f32, m: f32, p: LpPower) -> f32 {
    lp_term32(abs32(x) / m, p)
}

#[inline(always)]
fn lp_scaled_term64(x: f64, m: f64, p: LpPower) -> f64 {
    lp_term64(abs64(x) / m, p)
}

/// `sum / divisor` rounded to nearest, ties to even, exactly (`divisor != 0`).
pub(crate) fn div_round_even(sum: i64, divisor: i64) -> i64 {
    let (n, d) = if divisor < 0 { (-(sum as i128), -(divisor as i128)) } else { (sum as i128, divisor as i128) };
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    let up = r > d - r || (r == d - r && q % 2 != 0);
    let q = if up { q + 1 } else { q };
    q.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Rounds a non-negative float to nearest, ties to even, saturating to `0..=max`.
fn round_even_sat(x: f64, min: f64, max: f64) -> f64 {
    if x.is_nan() {
        return 0.0;
    }
    let r = libm::rint(x);
    r.clamp(min, max)
}

impl Scalar for f32 {
    type Sum = f32;
    type LpSum = f32;
    const LOWEST: Self = f32::NEG_INFINITY;
    #[inline(always)]
    fn is_nan(self) -> bool {
        <Self>::is_nan(self)
    }
    #[inline(always)]
    fn to_sum(self) -> f32 {
        self
    }
    #[inline(always)]
    fn zero_sum() -> f32 {
        0.0
    }
    #[inline(always)]
    fn lp_term(self, p: LpPower) -> f32 {
        lp_term32(self, p)
    }
    #[inline(always)]
    fn mean(sum: f32, divisor: i64) -> f32 {
        canon32(sum / divisor as f32)
    }
    #[inline(always)]
    fn from_sum(sum: f32) -> f32 {
        sum
    }
    #[inline(always)]
    fn lp_root(sum: f32, p: LpPower) -> f32 {
        canon32(lp_root32(sum, p))
    }
    fn lp_floor(p: LpPower) -> f64 {
        lp_root32(LP_SUM_FLOOR_32, p) as f64
    }
    #[inline(always)]
    fn lp_out_of_range(y: f32, floor: f64) -> bool {
        y == f32::INFINITY || (y as f64) < floor
    }
    #[inline(always)]
    fn lp_all_in_range(ys: &[f32], floor: f64) -> bool {
        // In range: `floor <= y < inf`, i.e. `lo <= bits < inf` for the least `f32` `lo` at or
        // above `floor`; NaN, `-0.0` and the rest fall outside (the exact test then sorts them).
        let mut lo = floor as f32;
        if (lo as f64) < floor {
            lo = f32::from_bits(lo.to_bits() + 1);
        }
        let (lo, span) = (lo.to_bits(), f32::INFINITY.to_bits() - lo.to_bits());
        // A loop, not a closure: it must inline into the caller's target features.
        let mut out = false;
        for y in ys {
            out |= y.to_bits().wrapping_sub(lo) >= span;
        }
        !out
    }
    #[inline(always)]
    fn lp_magnitude(self) -> f32 {
        abs32(self)
    }
    #[inline(always)]
    fn lp_scalable(m: f32) -> bool {
        m.is_finite() && m > 0.0
    }
    #[inline(always)]
    fn lp_scaled_term(self, m: f32, p: LpPower) -> f32 {
        lp_scaled_term32(self, m, p)
    }
    #[inline(always)]
    fn lp_scaled_root(m: f32, sum: f32, p: LpPower) -> f32 {
        canon32(m * lp_root32(sum, p))
    }
    type Grad = f32;
    #[inline(always)]
    fn grad(self) -> f32 {
        self
    }
    #[inline(always)]
    fn from_grad(g: f32) -> f32 {
        g
    }
    const GRAD_IN_PLACE: bool = true;
    fn kernels(set: &KernelSet) -> &TypedKernels<Self> {
        &set.f32
    }
}

impl Scalar for f64 {
    type Sum = f64;
    type LpSum = f64;
    const LOWEST: Self = f64::NEG_INFINITY;
    #[inline(always)]
    fn is_nan(self) -> bool {
        <Self>::is_nan(self)
    }
    #[inline(always)]
    fn to_sum(self) -> f64 {
        self
    }
    #[inline(always)]
    fn zero_sum() -> f64 {
        0.0
    }
    #[inline(always)]
    fn lp_term(self, p: LpPower) -> f64 {
        lp_term64(self, p)
    }
    #[inline(always)]
    fn mean(sum: f64, divisor: i64) -> f64 {
        canon64(sum / divisor as f64)
    }
    #[inline(always)]
    fn from_sum(sum: f64) -> f64 {
        sum
    }
    #[inline(always)]
    fn lp_root(sum: f64, p: LpPower) -> f64 {
        canon64(lp_root64(sum, p))
    }
    fn lp_floor(p: LpPower) -> f64 {
        lp_root64(LP_SUM_FLOOR_64, p)
    }
    #[inline(always)]
    fn lp_out_of_range(y: f64, floor: f64) -> bool {
        y == f64::INFINITY || y < floor
    }
    #[inline(always)]
    fn lp_all_in_range(ys: &[f64], floor: f64) -> bool {
        // As for `f32`: `floor <= y < inf` on the bit patterns.
        let (lo, span) = (floor.to_bits(), f64::INFINITY.to_bits() - floor.to_bits());
        // A loop, not a closure: it must inline into the caller's target features.
        let mut out = false;
        for y in ys {
            out |= y.to_bits().wrapping_sub(lo) >= span;
        }
        !out
    }
    #[inline(always)]
    fn lp_magnitude(self) -> f64 {
        abs64(self)
    }
    #[inline(always)]
    fn lp_scalable(m: f64) -> bool {
        m.is_finite() && m > 0.0
    }
    #[inline(always)]
    fn lp_scaled_term(self, m: f64, p: LpPower) -> f64 {
        lp_scaled_term64(self, m, p)
    }
    #[inline(always)]
    fn lp_scaled_root(m: f64, sum: f64, p: LpPower) -> f64 {
        canon64(m * lp_root64(sum, p))
    }
    type Grad = f64;
    #[inline(always)]
    fn grad(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_grad(g: f64) -> f64 {
        g
    }
    const GRAD_IN_PLACE: bool = true;
    fn kernels(set: &KernelSet) -> &TypedKernels<Self> {
        &set.f64
    }
}

macro_rules! narrow_float {
    ($t:ty, $field:ident) => {
        impl Scalar for $t {
            type Sum = f32;
            type LpSum = f32;
            const LOWEST: Self = <$t>::NEG_INFINITY;
            #[inline(always)]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn to_sum(self) -> f32 {
                self.to_f32()
            }
            #[inline(always)]
            fn zero_sum() -> f32 {
                0.0
            }
            #[inline(always)]
            fn lp_term(self, p: LpPower) -> f32 {
                lp_term32(self.to_f32(), p)
            }
            #[inline(always)]
            fn mean(sum: f32, divisor: i64) -> Self {
                <$t>::from_f32(canon32(sum / divisor as f32))
            }
            #[inline(always)]
            fn from_sum(sum: f32) -> Self {
                <$t>::from_f32(sum)
            }
            #[inline(always)]
            fn lp_root(sum: f32, p: LpPower) -> Self {
                <$t>::from_f32(canon32(lp_root32(sum, p)))
            }
            fn lp_floor(p: LpPower) -> f64 {
                lp_root32(LP_SUM_FLOOR_32, p) as f64
            }
            #[inline(always)]
            fn lp_out_of_range(y: Self, floor: f64) -> bool {
                let y = y.to_f32();
                y == f32::INFINITY || (y as f64) < floor
            }
            #[inline(always)]
            fn lp_magnitude(self) -> f32 {
                abs32(self.to_f32())
            }
            #[inline(always)]
            fn lp_scalable(m: f32) -> bool {
                m.is_finite() && m > 0.0
            }
            #[inline(always)]
            fn lp_scaled_term(self, m: f32, p: LpPower) -> f32 {
                lp_scaled_term32(self.to_f32(), m, p)
            }
            #[inline(always)]
            fn lp_scaled_root(m: f32, sum: f32, p: LpPower) -> Self {
                <$t>::from_f32(canon32(m * lp_root32(sum, p)))
            }
            type Grad = f32;
            #[inline(always)]
            fn grad(self) -> f32 {
                self.to_f32()
            }
            #[inline(always)]
            fn from_grad(g: f32) -> Self {
                <$t>::from_f32(g)
            }
            const GRAD_IN_PLACE: bool = false;
            fn kernels(set: &KernelSet) -> &TypedKernels<Self> {
                &set.$field
            }
        }
    };
}
narrow_float!(f16, f16);
narrow_float!(bf16, bf16);

macro_rules! integer {
    ($t:ty, $field:ident) => {
        impl Scalar for $t {
            type Sum = i64;
            type LpSum = f64;
            const LOWEST: Self = <$t>::MIN;
            #[inline(always)]
            fn is_nan(self) -> bool {
                false
            }
            #[inline(always)]
            fn to_sum(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn zero_sum() -> i64 {
                0
            }
            #[inline(always)]
            fn lp_term(self, p: LpPower) -> f64 {
                lp_term64(self as f64, p)
            }
            #[inline(always)]
            fn mean(sum: i64, divisor: i64) -> Self {
                div_round_even(sum, divisor).clamp(<$t>::MIN as i64, <$t>::MAX as i64) as $t
            }
            #[inline(always)]
            fn from_sum(sum: i64) -> Self {
                sum.clamp(<$t>::MIN as i64, <$t>::MAX as i64) as $t
            }
            #[inline(always)]
            fn lp_root(sum: f64, p: LpPower) -> Self {
                round_even_sat(lp_root64(sum, p), <$t>::MIN as f64, <$t>::MAX as f64) as $t
            }
            fn lp_floor(_p: LpPower) -> f64 {
                0.0
            }
            #[inline(always)]
            fn lp_out_of_range(y: Self, _floor: f64) -> bool {
                y == <$t>::MAX
            }
            #[inline(always)]
            fn lp_magnitude(self) -> f64 {
                abs64(self as f64)
            }
            #[inline(always)]
            fn lp_scalable(m: f64) -> bool {
                m.is_finite() && m > 0.0
            }
            #[inline(always)]
            fn lp_scaled_term(self, m: f64, p: LpPower) -> f64 {
                lp_scaled_term64(self as f64, m, p)
            }
            #[inline(always)]
            fn lp_scaled_root(m: f64, sum: f64, p: LpPower) -> Self {
                round_even_sat(m * lp_root64(sum, p), <$t>::MIN as f64, <$t>::MAX as f64) as $t
            }
            type Grad = f64;
            #[inline(always)]
            fn grad(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn from_grad(g: f64) -> Self {
                round_even_sat(g, <$t>::MIN as f64, <$t>::MAX as f64) as $t
            }
            const GRAD_IN_PLACE: bool = false;
            fn kernels(set: &KernelSet) -> &TypedKernels<Self> {
                &set.$field
            }
        }
    };
}
integer!(u8, u8);
integer!(i8, i8);
