//! The small set of kernel signatures, and the per-ISA tables of them.

use crate::portable;
use crate::problem::{GlobalProblem, GlobalReduce, Problem, Reduce};
use core::ops::Range;
use half::{bf16, f16};

/// Windowed and adaptive pooling: fills `output` (exactly the outputs of `rows`) from `input`.
pub type WindowFn<T> = fn(&Problem<'_>, &Reduce, &[T], &mut [T], Range<usize>);
/// Max pooling with indices: like [`WindowFn`] for `Reduce::Max`, and also writes each output's
/// argmax (flat over the spatial dims of its `(n, c)` plane) into `indices`.
pub type ArgmaxFn<T> = fn(&Problem<'_>, &[T], &mut [T], &mut [i64], Range<usize>);
/// Global pooling: one output per `(n, c)` row in `rows`.
pub type GlobalFn<T> = fn(&GlobalProblem, GlobalReduce, &[T], &mut [T], Range<usize>);

/// The kernels for one element type.
#[derive(Debug)]
pub struct TypedKernels<T: 'static> {
    /// Windowed and adaptive max / average / Lp.
    pub window: WindowFn<T>,
    /// Max with indices.
    pub argmax: ArgmaxFn<T>,
    /// Global max / average.
    pub global: GlobalFn<T>,
}

impl<T: crate::Scalar> TypedKernels<T> {
    /// The portable kernels for `T`.
    pub const fn portable() -> Self {
        TypedKernels { window: portable::window::<T>, argmax: portable::argmax::<T>, global: portable::global::<T> }
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

/// A set whose f32 kernels come from one ISA module; other types use the portable kernels.
macro_rules! simd_set {
    ($m:path) => {{
        use $m as isa;
        KernelSet {
            f32: TypedKernels { window: isa::window_f32, argmax: isa::argmax_f32, global: isa::global_f32 },
            ..portable_set()
        }
    }};
}

static PORTABLE: KernelSet = portable_set();
#[cfg(target_arch = "x86_64")]
static AVX2: KernelSet = simd_set!(crate::x86::avx2);
#[cfg(target_arch = "x86_64")]
static AVX512: KernelSet = simd_set!(crate::x86::avx512);
#[cfg(target_arch = "aarch64")]
static NEON: KernelSet = simd_set!(crate::aarch64::neon);

impl KernelSet {
    /// The portable kernels: no SIMD intrinsics, same results as every other level.
    pub fn portable() -> &'static KernelSet {
        &PORTABLE
    }

    /// The AVX2 + FMA kernels; the token proves the CPU has them.
    #[cfg(target_arch = "x86_64")]
    pub fn avx2(_proof: pulp::x86::V3) -> &'static KernelSet {
        &AVX2
    }

    /// The AVX-512 kernels; the token proves the CPU has AVX-512 F/BW/CD/DQ/VL.
    #[cfg(target_arch = "x86_64")]
    pub fn avx512(_proof: pulp::x86::V4) -> &'static KernelSet {
        &AVX512
    }

    /// The NEON kernels; the token proves the CPU has Advanced SIMD.
    #[cfg(target_arch = "aarch64")]
    pub fn neon(_proof: pulp::aarch64::Neon) -> &'static KernelSet {
        &NEON
    }
}
