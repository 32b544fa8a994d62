//! The entry points of one float element type at one level, written once: a level describes
//! which lanes each family runs on ([`FloatLevel`]), and [`window`] and [`argmax`] follow the
//! plan's route to the family.
//!
//! The lanes differ by family at one level where measurement said so (the AVX-512 level runs the
//! AVX2 plane nest, transposes and channels-last groups for `f32`, and the AVX2 channels-first
//! kernels for `f64`); the families give the same bits at every width, so the choice is speed
//! only. The channels-last block shape (`P` pixels by `B` vectors) is a const parameter of the
//! entries, given in the level's table line.

use crate::lanes::transposed;
use crate::lanes::{Bf16, F16, FloatElem, FloatLanes, I8, LaneIndices, Lanes, U8};
use crate::portable;
use crate::problem::{Cover, GlobalProblem, GlobalReduce, GradRule, Layout, Problem, Reduce};
use crate::route::{Route, SeparableLanes};
use crate::separable::{self, Nests};
use core::ops::Range;

/// The lanes each family of one float element type runs on at one level. Built from the level's
/// token (the proof), so holding one is holding the token.
pub(crate) trait FloatLevel: Copy {
    /// The element type.
    type E: FloatElem;
    /// The level's token.
    type Token: Copy;
    /// Channels-last windows, max with indices and global pooling.
    type Lanes: FloatLanes<Float = Self::E> + LaneIndices;
    /// The channels-last kernel inside transposed groups of small channels-first planes.
    type Group: FloatLanes<Float = Self::E>;
    /// The 8x8 transposes of those groups.
    type Transpose: FloatLanes<Float = Self::E>;
    /// The channels-first separable nests.
    type Nests: Nests<Float = Self::E>;
    /// The widths of [`FloatLevel::Nests`] (which nest fits a problem depends on them).
    const SEPARABLE: SeparableLanes;
    /// The level's lanes, from its token.
    fn new(token: Self::Token) -> Self;
    /// [`FloatLevel::Lanes`].
    fn lanes(self) -> Self::Lanes;
    /// [`FloatLevel::Group`].
    fn group(self) -> Self::Group;
    /// [`FloatLevel::Transpose`].
    fn transpose(self) -> Self::Transpose;
    /// [`FloatLevel::Nests`].
    fn nests(self) -> Self::Nests;
}

/// The separable nests on `route`, inside the nests' `vectorize`.
#[inline]
fn nests<K: FloatLevel>(
    k: K,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[K::E],
    output: &mut [K::E],
    rows: Range<usize>,
) {
    let s = k.nests();
    s.vectorize(
        #[inline(always)]
        || separable::window(s, p, red, route, input, output, rows),
    )
}

/// Windowed and adaptive pooling on `route` (the plan's): the channels-last family
/// (`P` pixels by `B` vectors per block), transposed groups of small channels-first planes, or the
/// separable nests; a route that does not apply takes a family that holds every shape.
#[inline]
pub(crate) fn window<K: FloatLevel, const P: usize, const B: usize>(
    token: K::Token,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[K::E],
    output: &mut [K::E],
    rows: Range<usize>,
) {
    let k = K::new(token);
    let written = rows.clone();
    match (p.layout(), route) {
        (_, Route::Portable) => return portable::window(p, red, input, output, rows),
        (Layout::ChannelsLast, _) => {
            p.check(input.len(), output.len(), &rows);
            crate::lanes::nhwc::window::<_, P, B>(k.lanes(), p, red, input, output, rows)
        }
        (Layout::ChannelsFirst, Route::Transposed) => {
            // The nests of a plane the transposed groups leave (and of a route that does not
            // apply).
            let rest = |p: &Problem<'_>, red: &Reduce, i: &[K::E], o: &mut [K::E], r: Range<usize>| {
                nests(k, p, red, separable::route(K::SEPARABLE, p, red), i, o, r)
            };
            match crate::route::transposed_group(p) {
                Some(g) => {
                    let last = |p: &Problem<'_>, red: &Reduce, i: &[K::E], o: &mut [K::E], r: Range<usize>| {
                        p.check(i.len(), o.len(), &r);
                        crate::lanes::nhwc::window::<_, P, B>(k.group(), p, red, i, o, r)
                    };
                    let t = k.transpose();
                    t.vectorize(
                        #[inline(always)]
                        || transposed::pool_groups(t, p, red, input, output, rows, g, rest, last),
                    )
                }
                None => rest(p, red, input, output, rows),
            }
        }
        (Layout::ChannelsFirst, route) => nests(k, p, red, route, input, output, rows),
    }
    // Lp results that lost range, as every level finishes them (a no-op for other reductions);
    // with the level's target features, so the range test over the outputs vectorises.
    let l = k.lanes();
    l.vectorize(
        #[inline(always)]
        || portable::rescale_lp(p, red, input, output, written),
    )
}

/// Max pooling with indices on `route` (the plan's): the argmax family, or transposed groups of
/// small channels-first planes pooled by it.
#[inline]
pub(crate) fn argmax<K: FloatLevel>(
    token: K::Token,
    p: &Problem<'_>,
    route: Route,
    input: &[K::E],
    output: &mut [K::E],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    let k = K::new(token);
    let kernel = |p: &Problem<'_>, i: &[K::E], o: &mut [K::E], x: &mut [i64], r: Range<usize>| {
        crate::lanes::argmax::entry(k.lanes(), p, i, o, x, r)
    };
    // The groups are sized only on the route that uses them.
    let group = if route == Route::Transposed { crate::route::transposed_group(p) } else { None };
    match (route, group) {
        (Route::Portable, _) => portable::argmax(p, input, output, indices, rows),
        (Route::Transposed, Some(g)) => {
            let t = k.transpose();
            t.vectorize(
                #[inline(always)]
                || transposed::pool_groups_argmax(t, p, input, output, indices, rows, g, kernel, kernel),
            )
        }
        _ => kernel(p, input, output, indices, rows),
    }
}

/// Global pooling: the global family on [`FloatLevel::Lanes`], at most `CL_BLOCK` vectors of
/// channels per channels-last pass.
#[inline]
pub(crate) fn global<K: FloatLevel, const CL_BLOCK: usize>(
    token: K::Token,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[K::E],
    output: &mut [K::E],
    rows: Range<usize>,
) {
    crate::lanes::global::entry::<_, CL_BLOCK>(K::new(token).lanes(), p, red, input, output, rows)
}

/// The backward gather ([`portable::backward`]) of averages and max from indices compiled with
/// the level's target features: the same loop nest and the same operations in the same order as
/// the portable kernel (so the same bits), its element loops vectorised at the level's width.
/// Lp and max from the input run the portable kernel itself: their shares go through `pow` and
/// NaN tests whose NaN payloads the compiler may combine differently once vectorised (measured:
/// a NaN input's gradient differed in payload between the portable and AVX2 builds of the Lp
/// share), and neither vectorises along the row.
#[inline]
pub(crate) fn backward<K: FloatLevel>(
    token: K::Token,
    p: &Problem<'_>,
    cover: &[Cover<'_>; 3],
    rule: &GradRule<'_, K::E>,
    grad_output: &[K::E],
    grad_input: &mut [K::E],
    rows: Range<usize>,
) {
    if matches!(rule, GradRule::Lp { .. } | GradRule::MaxInput(_)) {
        return portable::backward(p, cover, rule, grad_output, grad_input, rows);
    }
    K::new(token).lanes().vectorize(
        #[inline(always)]
        || portable::backward_body(p, cover, rule, grad_output, grad_input, rows),
    )
}

/// The max backward scatter ([`portable::scatter_max`]) compiled with the level's target
/// features, as [`backward`].
#[inline]
pub(crate) fn scatter<K: FloatLevel>(
    token: K::Token,
    p: &Problem<'_>,
    indices: &[i64],
    grad_output: &[K::E],
    grad_input: &mut [K::E],
    rows: Range<usize>,
) {
    K::new(token).lanes().vectorize(
        #[inline(always)]
        || portable::scatter_max_body(p, indices, grad_output, grad_input, rows),
    )
}

/// Lanes built from a level's token by wrapping it (the byte lanes [`U8`] and [`I8`]).
pub(crate) trait OnToken: Lanes {
    /// The level's token.
    type Token: Copy;
    /// The lanes of `token`.
    fn on(token: Self::Token) -> Self;
}

macro_rules! on_token {
    ($($wrapper:ident),*) => {$(
        impl<S: Copy> OnToken for $wrapper<S>
        where
            $wrapper<S>: Lanes,
        {
            type Token = S;
            #[inline(always)]
            fn on(token: S) -> Self {
                $wrapper(token)
            }
        }
    )*};
}
on_token!(U8, I8, F16, Bf16);

/// Windowed and adaptive pooling for lanes that take max only ([`Families`]`::sums` false, the
/// byte and half types): channels-last max on `L` in blocks of `P` pixels by `B` vectors and
/// channels-first max by rows (see [`crate::lanes::nhwc::window_max_entry`]), everything
/// else on the portable kernels.
///
/// [`Families`]: crate::route::Families
pub(crate) fn window_max<L: OnToken + crate::lanes::rows::RowsMax, const P: usize, const B: usize>(
    token: L::Token,
    p: &Problem<'_>,
    red: &Reduce,
    route: Route,
    input: &[L::E],
    output: &mut [L::E],
    rows: Range<usize>,
) {
    crate::lanes::nhwc::window_max_entry::<L, P, B>(L::on(token), p, red, route, input, output, rows)
}

/// A [`FloatLevel`]: `float_level!(mod m: Name(Token): E { lanes: L = |t| expr, ... })` defines
/// the struct `Name` around the token in a module `m` of its own (one codegen unit per level
/// type: see `float_entries!`) and builds each family's lanes from it with `expr`.
macro_rules! float_level {
    ($(#[$doc:meta])* mod $module:ident: $name:ident($token:ty): $e:ty {
        lanes: $l:ty = |$t1:ident| $lf:expr,
        group: $g:ty = |$t2:ident| $gf:expr,
        transpose: $x:ty = |$t3:ident| $xf:expr,
        nests: $n:ty = |$t4:ident| $nf:expr,
        separable: $sep:expr $(,)?
    }) => {
        mod $module {
        #[allow(unused_imports)]
        use super::*;

        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub(crate) struct $name($token);
        $crate::level::float_entries!($name);

        impl $crate::level::FloatLevel for $name {
            type E = $e;
            type Token = $token;
            type Lanes = $l;
            type Group = $g;
            type Transpose = $x;
            type Nests = $n;
            const SEPARABLE: $crate::route::SeparableLanes = $sep;
            #[inline(always)]
            fn new(token: $token) -> Self {
                $name(token)
            }
            #[inline(always)]
            fn lanes(self) -> $l {
                let $t1 = self.0;
                $lf
            }
            #[inline(always)]
            fn group(self) -> $g {
                let $t2 = self.0;
                $gf
            }
            #[inline(always)]
            fn transpose(self) -> $x {
                let $t3 = self.0;
                $xf
            }
            #[inline(always)]
            fn nests(self) -> $n {
                let $t4 = self.0;
                $nf
            }
        }
        }
        pub(crate) use $module::$name;
    };
}
pub(crate) use float_level;

/// The entry points of a level type, which its table points at: [`window`], [`argmax`],
/// [`global`], [`backward`] and [`scatter`] for `Self`, as inherent methods.
///
/// The compiler places a method's instances in the codegen unit of its self type's module, and
/// those functions are `#[inline]`, so each is compiled into that unit; `float_level!` gives each
/// level type a module of its own. Each (level, element type) is then one unit, optimised in
/// parallel with the others: as plain generic functions, every level's nests landed in one unit
/// (this module's), which one core optimised alone for about 85 s of a 320 s test build of the
/// crate on 2 cores.
macro_rules! float_entries {
    ($name:ident) => {
        impl $name {
            pub(crate) fn window<const P: usize, const B: usize>(
                token: <Self as $crate::level::FloatLevel>::Token,
                p: &$crate::problem::Problem<'_>,
                red: &$crate::problem::Reduce,
                route: $crate::route::Route,
                input: &[<Self as $crate::level::FloatLevel>::E],
                output: &mut [<Self as $crate::level::FloatLevel>::E],
                rows: ::core::ops::Range<usize>,
            ) {
                $crate::level::window::<Self, P, B>(token, p, red, route, input, output, rows)
            }
            pub(crate) fn argmax(
                token: <Self as $crate::level::FloatLevel>::Token,
                p: &$crate::problem::Problem<'_>,
                route: $crate::route::Route,
                input: &[<Self as $crate::level::FloatLevel>::E],
                output: &mut [<Self as $crate::level::FloatLevel>::E],
                indices: &mut [i64],
                rows: ::core::ops::Range<usize>,
            ) {
                $crate::level::argmax::<Self>(token, p, route, input, output, indices, rows)
            }
            // A level may point its table at a global kernel of its own (AVX-512 `f32` does).
            #[allow(dead_code)]
            pub(crate) fn global<const CL_BLOCK: usize>(
                token: <Self as $crate::level::FloatLevel>::Token,
                p: &$crate::problem::GlobalProblem,
                red: $crate::problem::GlobalReduce,
                input: &[<Self as $crate::level::FloatLevel>::E],
                output: &mut [<Self as $crate::level::FloatLevel>::E],
                rows: ::core::ops::Range<usize>,
            ) {
                $crate::level::global::<Self, CL_BLOCK>(token, p, red, input, output, rows)
            }
            pub(crate) fn backward(
                token: <Self as $crate::level::FloatLevel>::Token,
                p: &$crate::problem::Problem<'_>,
                cover: &[$crate::problem::Cover<'_>; 3],
                rule: &$crate::problem::GradRule<'_, <Self as $crate::level::FloatLevel>::E>,
                grad_output: &[<Self as $crate::level::FloatLevel>::E],
                grad_input: &mut [<Self as $crate::level::FloatLevel>::E],
                rows: ::core::ops::Range<usize>,
            ) {
                $crate::level::backward::<Self>(token, p, cover, rule, grad_output, grad_input, rows)
            }
            pub(crate) fn scatter(
                token: <Self as $crate::level::FloatLevel>::Token,
                p: &$crate::problem::Problem<'_>,
                indices: &[i64],
                grad_output: &[<Self as $crate::level::FloatLevel>::E],
                grad_input: &mut [<Self as $crate::level::FloatLevel>::E],
                rows: ::core::ops::Range<usize>,
            ) {
                $crate::level::scatter::<Self>(token, p, indices, grad_output, grad_input, rows)
            }
        }
    };
}
pub(crate) use float_entries;
