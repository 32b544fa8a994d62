//! Reductions and finishes as types, shared by every SIMD family (the channels-first nests,
//! channels-last windows and global pooling).
//!
//! A pooled value is `finish(fold(term(x0), term(x1), ...))` in the portable kernel's order:
//!
//! * [`Reduction`] is what each element contributes (`term`: `x`, `|x|`, `x * x`), how a fold
//!   starts (`first`: `+0.0 + t` for sums, `t` for max) and steps (`comb`), and the value padding
//!   stands for. The max rule and the plain sum are the two folds; every Lp is a sum of terms.
//! * [`Finish`] is what happens to a folded vector before it is stored: nothing ([`Keep`]), NaN
//!   canonicalised ([`Canon`]), a square root ([`Root`]), the general root ([`PowRoot`]), a
//!   division ([`DivBy`], [`DivTable`], [`DivExact`]).
//!
//! Both are types, so a family compiles one loop body per pair with no run-time branch per
//! vector. [`FinishKind`] is the run-time description a kernel entry builds from the problem's
//! `Reduce`; [`Reduction::with_finish`] turns it into the finish types that reduction can have, so
//! no other pair is compiled. An improvement to a reduction or a finish (the exact power-of-two
//! divisor of [`DivExact`], say) reaches every family that uses it.

use super::{Divisor, FloatElem, FloatLanes, LaneElem, Lanes};
use crate::Scalar;

/// A fold as a type: the per-element term, the start of a fold and its step, in vector and scalar
/// form (the scalar form serves the lanes a family folds one by one, with the same bits).
pub(crate) trait Reduction<L: Lanes> {
    /// The value padding stands for, neutral to the fold (`-inf` for max, `+0.0` for sums).
    fn pad() -> L::E;
    /// Whether this is a max (finished by [`Keep`]).
    const MAX: bool = false;
    /// Whether the terms are `pow(|x|, p)`: the family raises each element to the plan's
    /// exponent before [`Reduction::term`] (the channels-first nests when they copy a row, the
    /// channels-last family per load), with the portable kernel's `pow`.
    const POWERED: bool = false;
    /// Whether the channels-first nests compile a copy per suite kernel size (max and average:
    /// the hot reductions; each copy costs compile time per level and element type).
    const HOT: bool = false;
    /// The same reduction for inputs known to hold no NaN (the max without its NaN lanes
    /// check; sums are their own).
    type Fast: Reduction<L>;
    /// The same reduction at other float lanes (a level may run a nest at another level's
    /// width: the AVX-512 level runs the AVX2 plane nest).
    type At<M: FloatLanes>: Reduction<M>;
    /// The term an input element contributes.
    fn term(l: L, v: L::V) -> L::V;
    /// The term of an element a family has not raised to the power yet: [`Reduction::term`], after
    /// `pow(|x|, pw)` for a [`Reduction::POWERED`] reduction (one scalar `pow` per lane, the
    /// portable kernel's call).
    #[inline(always)]
    fn raw_term(l: L, v: L::V, pw: L::E) -> L::V {
        let _ = pw;
        Self::term(l, v)
    }
    /// A fold's value after its first term (`+0.0 + t` for sums, `t` for max).
    fn first(l: L, t: L::V) -> L::V;
    /// One fold step.
    fn comb(l: L, a: L::V, b: L::V) -> L::V;
    /// Scalar [`Reduction::term`].
    fn term1(x: L::E) -> L::E;
    /// Scalar [`Reduction::first`].
    fn first1(t: L::E) -> L::E;
    /// Scalar [`Reduction::comb`].
    fn comb1(a: L::E, b: L::E) -> L::E;
    /// Runs `user` with the finish `fin` describes, among those this reduction can have (max:
    /// [`Keep`]; [`Sum`]: a division; [`AbsSum`]: [`Canon`]; [`SquareSum`]: [`Root`];
    /// [`PowSum`]: [`PowRoot`]), so only those loop bodies are compiled. `div` holds per-output
    /// divisors for [`FinishKind::Div`]`(None)`.
    fn with_finish<U: FinishUser<L>>(l: L, fin: FinishKind<L::E>, div: &[L::E], user: U);
}

/// Max by the scan rule: `v > best || v.is_nan()` takes `v` (NaN propagates, the first of equal
/// maxima stays).
pub(crate) struct MaxRule;
/// Max over inputs free of NaN: the same values as [`MaxRule`] there, in fewer instructions.
pub(crate) struct MaxFast;
/// Plain sum (average).
pub(crate) struct Sum;
/// Sum of absolute values (Lp, `p = 1`).
pub(crate) struct AbsSum;
/// Sum of squares (Lp, `p = 2`).
pub(crate) struct SquareSum;
/// Sum of `pow(|x|, p)` (Lp with any other `p`; see [`Reduction::POWERED`]).
pub(crate) struct PowSum;

macro_rules! max_reduction {
    ($t:ty, $comb:ident) => {
        impl<L: Lanes> Reduction<L> for $t {
            const MAX: bool = true;
            const HOT: bool = true;
            type Fast = MaxFast;
            type At<M: FloatLanes> = $t;
            #[inline(always)]
            fn pad() -> L::E {
                L::E::LOWEST
            }
            #[inline(always)]
            fn term(_: L, v: L::V) -> L::V {
                v
            }
            #[inline(always)]
            fn first(_: L, t: L::V) -> L::V {
                t
            }
            #[inline(always)]
            fn comb(l: L, a: L::V, b: L::V) -> L::V {
                l.$comb(a, b)
            }
            #[inline(always)]
            fn term1(x: L::E) -> L::E {
                x
            }
            #[inline(always)]
            fn first1(t: L::E) -> L::E {
                t
            }
            #[inline(always)]
            fn comb1(a: L::E, b: L::E) -> L::E {
                if crate::max_takes(b, a) { b } else { a }
            }
            #[inline(always)]
            fn with_finish<U: FinishUser<L>>(l: L, _: FinishKind<L::E>, _: &[L::E], user: U) {
                user.use_finish(l, Keep)
            }
        }
    };
}

max_reduction!(MaxRule, max_rule);
max_reduction!(MaxFast, max_fast);

macro_rules! sum_reduction {
    ($t:ty, hot: $hot:expr, powered: $pow:expr, |$l:ident, $v:ident| $term:expr, |$x:ident| $term1:expr,
     |$fl:ident, $fin:ident, $div:ident, $user:ident| $with:expr) => {
        impl<L: FloatLanes> Reduction<L> for $t {
            const HOT: bool = $hot;
            const POWERED: bool = $pow;
            type Fast = $t;
            type At<M: FloatLanes> = $t;
            #[inline(always)]
            fn pad() -> L::E {
                L::Float::ZERO
            }
            #[inline(always)]
            fn term($l: L, $v: L::V) -> L::V {
                $term
            }
            #[inline(always)]
            fn first(l: L, t: L::V) -> L::V {
                l.add(l.zero(), t)
            }
            #[inline(always)]
            fn raw_term(l: L, v: L::V, pw: L::E) -> L::V {
                if <Self as Reduction<L>>::POWERED {
                    Self::term(l, pow_lanes(l, l.abs(v), pw))
                } else {
                    Self::term(l, v)
                }
            }
            #[inline(always)]
            fn comb(l: L, a: L::V, b: L::V) -> L::V {
                l.add(a, b)
            }
            #[inline(always)]
            fn term1($x: L::E) -> L::E {
                $term1
            }
            #[inline(always)]
            fn first1(t: L::E) -> L::E {
                L::Float::ZERO + t
            }
            #[inline(always)]
            fn comb1(a: L::E, b: L::E) -> L::E {
                a + b
            }
            #[inline(always)]
            fn with_finish<U: FinishUser<L>>($fl: L, $fin: FinishKind<L::E>, $div: &[L::E], $user: U) {
                $with
            }
        }
    };
}

sum_reduction!(Sum, hot: true, powered: false, |_l, v| v, |x| x, |l, fin, div, user| match fin {
    FinishKind::Div(Some(d)) => user.use_finish(l, DivBy(l.splat(d))),
    _ => user.use_finish(l, DivTable(div)),
});
sum_reduction!(AbsSum, hot: false, powered: false, |l, v| l.abs(v), |x| x.abs(), |l, _fin, _div, user| {
    user.use_finish(l, Canon)
});
sum_reduction!(SquareSum, hot: false, powered: false, |l, v| l.mul(v, v), |x| x * x, |l, _fin, _div, user| {
    user.use_finish(l, Root)
});
// The family has raised `|x|` to `p` already: the term is the element itself.
sum_reduction!(PowSum, hot: false, powered: true, |_l, v| v, |x| x, |l, fin, _div, user| match fin {
    FinishKind::Pow(e) => user.use_finish(l, PowRoot(L::Float::lp_root_exponent(e))),
    _ => unreachable!("PowSum is finished by FinishKind::Pow"),
});

/// `pow(x, y)` for every lane `x` of `v`, one scalar call per lane: the same bits as the portable
/// kernel's call on that element.
#[inline(always)]
fn pow_lanes<L: FloatLanes>(l: L, v: L::V, y: L::E) -> L::V {
    const { assert!(L::N <= 16) };
    let mut buf = [L::Float::ZERO; 16];
    // SAFETY: `buf` holds 16 >= N writable elements.
    unsafe { l.store(buf.as_mut_ptr(), v) };
    // A loop, not a closure (see `Finish::apply_all`).
    for x in &mut buf[..L::N] {
        *x = L::Float::pow(*x, y);
    }
    // SAFETY: `buf` holds 16 >= N readable elements.
    unsafe { l.load(buf.as_ptr()) }
}

/// What happens to a window's folded value before it is stored, as a value: the plan's
/// reduction maps to one, and [`Reduction::with_finish`] turns it into a [`Finish`] type.
#[derive(Clone, Copy)]
pub(crate) enum FinishKind<E> {
    /// Max: the selected element, untouched.
    None,
    /// Lp with `p = 1`: the sum, NaN canonicalised.
    Sum,
    /// Average: divided by the override or the per-output divisors, NaN canonicalised.
    Div(Option<E>),
    /// Lp with `p = 2`: square root, NaN canonicalised.
    Sqrt,
    /// Lp with a general exponent `p`: the terms are `pow(|x|, p)` (see [`PowSum`]), the result `pow(sum, 1 / p)`, NaN canonicalised:
    /// the portable kernel's functions and conversions ([`FloatElem`]), element by element.
    Pow(f64),
}

/// The code that runs once the finish is known: see [`Reduction::with_finish`], which picks among the
/// finishes its reduction can have, so no other combination is compiled.
pub(crate) trait FinishUser<L: Lanes> {
    /// Runs with finish `f`.
    fn use_finish<F: Finish<L>>(self, l: L, f: F);
}

/// What happens to a folded window vector before it is stored: [`FinishKind`] as a type, so the
/// vector loops are specialised to it.
pub(crate) trait Finish<L: Lanes>: Copy {
    /// The finished values of outputs `off..off + N` of the row.
    fn apply(self, l: L, x: L::V, off: usize) -> L::V;
    /// [`Finish::apply`] without its bounds check, for loops that checked their whole range once.
    ///
    /// # Safety
    /// [`Finish::covers`]`(off + N)` must hold.
    #[inline(always)]
    unsafe fn apply_unchecked(self, l: L, x: L::V, off: usize) -> L::V {
        self.apply(l, x, off)
    }
    /// [`Finish::apply`] to `B` vectors of one output (channels-last: a pixel's channels).
    #[inline(always)]
    fn apply_all<const B: usize>(self, l: L, mut xs: [L::V; B]) -> [L::V; B] {
        // Loops, not `map` with a closure: a closure is not `inline(always)`, and compiled
        // outside the kernel it loses the token's target features.
        for x in &mut xs {
            *x = self.apply(l, *x, 0);
        }
        xs
    }
    /// Whether outputs `0..end` have what the finish needs (their divisors).
    #[inline(always)]
    fn covers(self, _end: usize) -> bool {
        true
    }
    /// Whether [`Finish::apply`] returns its input unchanged (families skip a finishing pass).
    const IDENTITY: bool = false;
}

/// A finish that may depend on each output's element count (averages without a divisor
/// override): what families that finish one output per vector group (channels-last pixels)
/// hold, turned into each output's [`Finish`] by [`PerOutput::each`].
pub(crate) trait PerOutput<L: Lanes>: Copy {
    /// The finish of one output.
    type Each: Finish<L>;
    /// Whether [`PerOutput::each`] depends on the count (else families build it once).
    const COUNTED: bool = false;
    /// The finish of an output of `count` elements.
    fn each(self, count: usize) -> Self::Each;
}

macro_rules! fixed_per_output {
    ($($t:ty),*) => {$(
        impl<L: FloatLanes> PerOutput<L> for $t {
            type Each = Self;
            #[inline(always)]
            fn each(self, _count: usize) -> Self {
                self
            }
        }
    )*};
}
impl<L: Lanes> PerOutput<L> for Keep {
    type Each = Self;
    #[inline(always)]
    fn each(self, _count: usize) -> Self {
        self
    }
}
fixed_per_output!(Canon, Root, PowRoot<L::E>);

/// Max: the selected element.
#[derive(Clone, Copy)]
pub(crate) struct Keep;
/// Lp with `p = 1`: the sum, NaN canonicalised.
#[derive(Clone, Copy)]
pub(crate) struct Canon;
/// Lp with `p = 2`: the square root, NaN canonicalised.
#[derive(Clone, Copy)]
pub(crate) struct Root;
/// Average with a divisor override.
#[derive(Clone, Copy)]
pub(crate) struct DivBy<V>(pub(crate) V);
/// Lp with a general exponent: `pow(sum, 1 / p)` per lane (the exponent as [`FloatElem`]
/// converts it), NaN canonicalised.
#[derive(Clone, Copy)]
pub(crate) struct PowRoot<E>(pub(crate) E);
/// Average by per-output divisors.
#[derive(Clone, Copy)]
pub(crate) struct DivTable<'a, E>(pub(crate) &'a [E]);
/// Average of one output per vector lane group (channels-last pixels, global planes), by its
/// [`Divisor`], for sums folded from their first term instead of from `+0.0`:
/// `canonical_nan((x + 0.0) / d)` per lane, the division as an exact multiply when `d` is a
/// power of two. The `+ 0.0` turns a `-0.0` sum into the canonical `+0.0` and leaves every other
/// value unchanged, so it is also right for sums folded from `+0.0`.
#[derive(Clone, Copy)]
pub(crate) struct DivExact<E>(pub(crate) Divisor<E>);

impl<E: FloatElem> DivExact<E> {
    /// Division by `d` (the portable kernel's conversion from `i64`).
    #[inline(always)]
    pub(crate) fn new(d: i64) -> Self {
        DivExact(Divisor::new(E::from_i64(d)))
    }
}

/// The average's [`PerOutput`]: [`DivExact`] by the override when there is one, else by each
/// output's element count.
#[derive(Clone, Copy)]
pub(crate) struct Mean {
    /// The divisor override.
    pub(crate) over: Option<i64>,
}

impl<L: FloatLanes> PerOutput<L> for Mean {
    type Each = DivExact<L::E>;
    const COUNTED: bool = true;
    #[inline(always)]
    fn each(self, count: usize) -> DivExact<L::E> {
        DivExact::new(self.over.unwrap_or(count as i64))
    }
}

impl<L: Lanes> Finish<L> for Keep {
    const IDENTITY: bool = true;
    #[inline(always)]
    fn apply(self, _: L, x: L::V, _: usize) -> L::V {
        x
    }
}
impl<L: FloatLanes> Finish<L> for Canon {
    #[inline(always)]
    fn apply(self, l: L, x: L::V, _: usize) -> L::V {
        l.canonical_nan(x)
    }
}
impl<L: FloatLanes> Finish<L> for Root {
    #[inline(always)]
    fn apply(self, l: L, x: L::V, _: usize) -> L::V {
        l.canonical_nan(l.sqrt(x))
    }
}
impl<L: FloatLanes> Finish<L> for DivBy<L::V> {
    #[inline(always)]
    fn apply(self, l: L, x: L::V, _: usize) -> L::V {
        l.canonical_nan(l.div(x, self.0))
    }
}
impl<L: FloatLanes> Finish<L> for PowRoot<L::E> {
    #[inline(always)]
    fn apply(self, l: L, x: L::V, _: usize) -> L::V {
        l.canonical_nan(pow_lanes(l, x, self.0))
    }
}
impl<L: FloatLanes> Finish<L> for DivTable<'_, L::E> {
    #[inline(always)]
    fn apply(self, l: L, x: L::V, off: usize) -> L::V {
        let d = &self.0[off..off + L::N];
        // SAFETY: `d` holds N floats.
        l.canonical_nan(l.div(x, unsafe { l.load(d.as_ptr()) }))
    }
    #[inline(always)]
    unsafe fn apply_unchecked(self, l: L, x: L::V, off: usize) -> L::V {
        debug_assert!(off + L::N <= self.0.len());
        // SAFETY: the caller guarantees `covers(off + N)`: the table holds `off + N` divisors.
        l.canonical_nan(l.div(x, unsafe { l.load(self.0.as_ptr().add(off)) }))
    }
    #[inline(always)]
    fn covers(self, end: usize) -> bool {
        end <= self.0.len()
    }
}
impl<L: FloatLanes> Finish<L> for DivExact<L::E> {
    #[inline(always)]
    fn apply_all<const B: usize>(self, l: L, mut xs: [L::V; B]) -> [L::V; B] {
        // One splat and one test of the kind for all `B` vectors.
        let (by, pow2) = self.0.parts();
        let (d, zero) = (l.splat(by), l.zero());
        for x in &mut xs {
            let y = l.add(*x, zero);
            *x = l.canonical_nan(if pow2 { l.mul(y, d) } else { l.div(y, d) });
        }
        xs
    }
    #[inline(always)]
    fn apply(self, l: L, x: L::V, _: usize) -> L::V {
        let (by, pow2) = self.0.parts();
        let x = l.add(x, l.zero());
        l.canonical_nan(if pow2 { l.mul(x, l.splat(by)) } else { l.div(x, l.splat(by)) })
    }
}
