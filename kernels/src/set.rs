//! The small set of kernel signatures, and the per-ISA tables of them.

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use crate::level::FloatLevel;
use crate::portable;
use crate::problem::{Cover, GlobalProblem, GlobalReduce, GradRule, Problem, Reduce};
use crate::route::{Families, Route};
use core::ops::Range;
use half::{bf16, f16};

/// Windowed and adaptive pooling: fills `output` (exactly the outputs of `rows`) from `input`,
/// on the route [`crate::route::window`] picked for the problem (a route that does not apply
/// takes a family that holds every shape: same bits, any route).
pub type WindowFn<T> = fn(&Problem<'_>, &Reduce, Route, &[T], &mut [T], Range<usize>);
/// Max pooling with indices: like [`WindowFn`] for `Reduce::Max` (on the route
/// [`crate::route::argmax`] picked), and also writes each output's argmax (flat over the spatial
/// dims of its `(n, c)` plane) into `indices`.
pub type ArgmaxFn<T> = fn(&Problem<'_>, Route, &[T], &mut [T], &mut [i64], Range<usize>);
/// Global pooling: one output per `(n, c)` row in `rows`.
pub type GlobalFn<T> = fn(&GlobalProblem, GlobalReduce, &[T], &mut [T], Range<usize>);

/// The backward pass as a gather: writes the gradient input of input rows `rows` (see
/// [`portable::backward`]).
pub type BackwardFn<T> = fn(&Problem<'_>, &[Cover<'_>; 3], &GradRule<'_, T>, &[T], &mut [T], Range<usize>);
/// The max backward pass from indices, as a scatter: writes the gradient input of input rows
/// `rows` (see [`portable::scatter_max`]).
pub type ScatterFn<T> = fn(&Problem<'_>, &[i64], &[T], &mut [T], Range<usize>);

/// The kernels for one element type.
#[derive(Debug)]
pub struct TypedKernels<T: 'static> {
    /// Windowed and adaptive max / average / Lp.
    pub window: WindowFn<T>,
    /// Max with indices.
    pub argmax: ArgmaxFn<T>,
    /// Global max / average.
    pub global: GlobalFn<T>,
    /// The backward gather (every op's gradient but max from indices).
    pub backward: BackwardFn<T>,
    /// The max backward scatter from indices.
    pub scatter: ScatterFn<T>,
    /// The families these kernels run with SIMD (the rest run the portable kernels): what
    /// [`crate::route`] needs to name the route.
    pub families: Families,
}

impl<T: crate::Scalar> TypedKernels<T> {
    /// The portable kernels for `T`.
    pub const fn portable() -> Self {
        TypedKernels {
            window: |p, red, _, input, output, rows| portable::window::<T>(p, red, input, output, rows),
            argmax: |p, _, input, output, indices, rows| portable::argmax::<T>(p, input, output, indices, rows),
            global: portable::global::<T>,
            backward: portable::backward::<T>,
            scatter: portable::scatter_max::<T>,
            families: Families::NONE,
        }
    }
}

/// Every kernel of one instruction-set level. Obtained only through a constructor that takes
/// proof the CPU supports the level, so calling any entry is safe.
#[derive(Debug)]
pub struct KernelSet {
    /// `f32` kernels.
    pub f32: TypedKernels<f32>,
    /// `f64` kernels.
    pub f64: TypedKernels<f64>,
    /// `f16` kernels.
    pub f16: TypedKernels<f16>,
    /// `bf16` kernels.
    pub bf16: TypedKernels<bf16>,
    /// `u8` kernels.
    pub u8: TypedKernels<u8>,
    /// `i8` kernels.
    pub i8: TypedKernels<i8>,
}

const fn portable_set() -> KernelSet {
    KernelSet {
        f32: TypedKernels::portable(),
        f64: TypedKernels::portable(),
        f16: TypedKernels::portable(),
        bf16: TypedKernels::portable(),
        u8: TypedKernels::portable(),
        i8: TypedKernels::portable(),
    }
}

/// The table of one SIMD level, keyed by element type: the types listed take that level's entry
/// points, the others the portable kernels. Each listed entry takes the level's `pulp` token by
/// value; the table stores a trampoline in front of it that re-creates the token.
///
/// This is the one place a token is created without detection, and it is sound: `pulp` tokens
/// are zero-sized (the value carries no data, only the proof), and a level's table is reachable
/// only through the [`KernelSet`] constructor that takes a token of that level, so whoever calls
/// a trampoline holds, or held, the proof that this CPU has the level.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
macro_rules! level_set {
    ($token:ty, { $($t:ident => ($window:expr, $argmax:expr, $global:expr, $backward:expr, $scatter:expr, $families:expr)),* $(,)? }) => {{
        // A level that lists every type leaves nothing to the portable default.
        #[allow(clippy::needless_update)]
        let set = KernelSet {
            $($t: {
                fn window(p: &Problem<'_>, red: &Reduce, route: Route, input: &[$t], output: &mut [$t], rows: Range<usize>) {
                    // SAFETY: see `level_set!`: this table is reachable only through a token.
                    let simd = unsafe { <$token>::new_unchecked() };
                    $window(simd, p, red, route, input, output, rows)
                }
                fn argmax(p: &Problem<'_>, route: Route, input: &[$t], output: &mut [$t], indices: &mut [i64], rows: Range<usize>) {
                    // SAFETY: see `level_set!`: this table is reachable only through a token.
                    let simd = unsafe { <$token>::new_unchecked() };
                    $argmax(simd, p, route, input, output, indices, rows)
                }
                fn global(p: &GlobalProblem, red: GlobalReduce, input: &[$t], output: &mut [$t], rows: Range<usize>) {
                    // SAFETY: see `level_set!`: this table is reachable only through a token.
                    let simd = unsafe { <$token>::new_unchecked() };
                    $global(simd, p, red, input, output, rows)
                }
                fn backward(p: &Problem<'_>, cover: &[Cover<'_>; 3], rule: &GradRule<'_, $t>, grad_output: &[$t], grad_input: &mut [$t], rows: Range<usize>) {
                    // SAFETY: see `level_set!`: this table is reachable only through a token.
                    let simd = unsafe { <$token>::new_unchecked() };
                    $backward(simd, p, cover, rule, grad_output, grad_input, rows)
                }
                fn scatter(p: &Problem<'_>, indices: &[i64], grad_output: &[$t], grad_input: &mut [$t], rows: Range<usize>) {
                    // SAFETY: see `level_set!`: this table is reachable only through a token.
                    let simd = unsafe { <$token>::new_unchecked() };
                    $scatter(simd, p, indices, grad_output, grad_input, rows)
                }
                TypedKernels { window, argmax, global, backward, scatter, families: $families }
            },)*
            ..portable_set()
        };
        set
    }};
}

/// Max with indices on the portable kernels, in a level table's entry shape (for element types
/// whose lanes have no argmax family).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn portable_argmax<T: crate::Scalar, S>(
    _: S,
    p: &Problem<'_>,
    _: Route,
    input: &[T],
    output: &mut [T],
    indices: &mut [i64],
    rows: Range<usize>,
) {
    portable::argmax(p, input, output, indices, rows)
}

/// Global pooling on the portable kernels, in a level table's entry shape.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn portable_global<T: crate::Scalar, S>(
    _: S,
    p: &GlobalProblem,
    red: GlobalReduce,
    input: &[T],
    output: &mut [T],
    rows: Range<usize>,
) {
    portable::global(p, red, input, output, rows)
}

/// The backward gather on the portable kernels, in a level table's entry shape (for the types
/// with no gradient).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn portable_backward<T: crate::Scalar, S>(
    _: S,
    p: &Problem<'_>,
    cover: &[Cover<'_>; 3],
    rule: &GradRule<'_, T>,
    grad_output: &[T],
    grad_input: &mut [T],
    rows: Range<usize>,
) {
    portable::backward(p, cover, rule, grad_output, grad_input, rows)
}

/// The max backward scatter on the portable kernels, in a level table's entry shape.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn portable_scatter<T: crate::Scalar, S>(
    _: S,
    p: &Problem<'_>,
    indices: &[i64],
    grad_output: &[T],
    grad_input: &mut [T],
    rows: Range<usize>,
) {
    portable::scatter_max(p, indices, grad_output, grad_input, rows)
}

/// Every family of a [`FloatLevel`], with its separable nests' widths.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const fn families<K: FloatLevel>() -> Families {
    Families::all(K::SEPARABLE)
}

static PORTABLE: KernelSet = portable_set();
#[cfg(target_arch = "x86_64")]
static AVX2: KernelSet = {
    use crate::lanes::{Bf16, F16, I8, U8};
    use crate::x86::avx2 as isa;
    // Bytes in blocks of 4 pixels x 2 vectors of 32 (AVX2) and 4 x 1 vector of 64 (AVX-512):
    // 10-11% faster than 2 x 2 on `resnet_stem_max_u8`, whose 64 channels are two vectors (one):
    // the pixels supply the independent chains.
    level_set!(pulp::x86::V3, {
        f32 => (isa::Avx2F32::window::<1, 4>, isa::Avx2F32::argmax, isa::Avx2F32::global::<8>, isa::Avx2F32::backward, isa::Avx2F32::scatter, families::<isa::Avx2F32>()),
        f64 => (isa::Avx2F64::window::<1, 4>, isa::Avx2F64::argmax, isa::Avx2F64::global::<8>, isa::Avx2F64::backward, isa::Avx2F64::scatter, families::<isa::Avx2F64>()),
        u8 => (crate::level::window_max::<U8<pulp::x86::V3>, 4, 2>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
        i8 => (crate::level::window_max::<I8<pulp::x86::V3>, 4, 2>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
        f16 => (crate::level::window_max::<F16<pulp::x86::V3>, 1, 4>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
        bf16 => (crate::level::window_max::<Bf16<pulp::x86::V3>, 1, 4>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
    })
};
#[cfg(target_arch = "x86_64")]
static AVX512: KernelSet = {
    use crate::lanes::{Bf16, F16, I8, U8};
    use crate::x86::avx512 as isa;
    level_set!(pulp::x86::V4, {
        f32 => (isa::Avx512F32::window::<1, 4>, isa::Avx512F32::argmax, isa::global_f32, isa::Avx512F32::backward, isa::Avx512F32::scatter, families::<isa::Avx512F32>()),
        f64 => (isa::Avx512F64::window::<1, 4>, isa::Avx512F64::argmax, isa::Avx512F64::global::<16>, isa::Avx512F64::backward, isa::Avx512F64::scatter, families::<isa::Avx512F64>()),
        u8 => (crate::level::window_max::<U8<pulp::x86::V4>, 4, 1>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
        i8 => (crate::level::window_max::<I8<pulp::x86::V4>, 4, 1>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
        f16 => (crate::level::window_max::<F16<pulp::x86::V4>, 1, 4>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
        bf16 => (crate::level::window_max::<Bf16<pulp::x86::V4>, 1, 4>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
    })
};
#[cfg(target_arch = "aarch64")]
static NEON: KernelSet = {
    use crate::aarch64::neon as isa;
    use crate::lanes::{Bf16, F16, I8, U8};
    // Bytes in the `f32` block shape, 2 pixels x 4 vectors (not measured on NEON hardware).
    level_set!(pulp::aarch64::Neon, {
        f32 => (isa::NeonF32::window::<2, 4>, isa::NeonF32::argmax, isa::NeonF32::global::<16>, isa::NeonF32::backward, isa::NeonF32::scatter, families::<isa::NeonF32>()),
        f64 => (isa::NeonF64::window::<2, 4>, isa::NeonF64::argmax, isa::NeonF64::global::<16>, isa::NeonF64::backward, isa::NeonF64::scatter, families::<isa::NeonF64>()),
        u8 => (crate::level::window_max::<U8<pulp::aarch64::Neon>, 2, 4>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
        i8 => (crate::level::window_max::<I8<pulp::aarch64::Neon>, 2, 4>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
        f16 => (crate::level::window_max::<F16<pulp::aarch64::Neon>, 2, 4>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
        bf16 => (crate::level::window_max::<Bf16<pulp::aarch64::Neon>, 2, 4>, portable_argmax, portable_global, portable_backward, portable_scatter, Families::MAX_ONLY),
    })
};

impl KernelSet {
    /// The portable kernels: no SIMD intrinsics, same results as every other level.
    pub fn portable() -> &'static KernelSet {
        &PORTABLE
    }

    /// The AVX2 + FMA (x86-64-v3) kernels; the token proves the CPU has them, and the returned
    /// table carries that proof (see `level_set!`).
    #[cfg(target_arch = "x86_64")]
    pub fn avx2(_proof: pulp::x86::V3) -> &'static KernelSet {
        &AVX2
    }

    /// The AVX-512 (x86-64-v4) kernels; the token proves the CPU has AVX-512 F/BW/CD/DQ/VL, and
    /// the returned table carries that proof.
    #[cfg(target_arch = "x86_64")]
    pub fn avx512(_proof: pulp::x86::V4) -> &'static KernelSet {
        &AVX512
    }

    /// The NEON kernels; the token proves the CPU has Advanced SIMD, and the returned table
    /// carries that proof.
    #[cfg(target_arch = "aarch64")]
    pub fn neon(_proof: pulp::aarch64::Neon) -> &'static KernelSet {
        &NEON
    }
}
