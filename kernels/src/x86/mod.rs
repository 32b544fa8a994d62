//! x86-64 kernels: AVX2 + FMA (x86-64-v3) and AVX-512 (x86-64-v4).
//!
//! Every public-in-crate function here is safe to call only because it is reachable solely
//! through the [`crate::KernelSet`] of its level, which is handed out only for a `pulp` token
//! proving the CPU has that level.

pub(crate) mod avx2;
pub(crate) mod avx512;
