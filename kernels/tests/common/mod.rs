//! Helpers shared by the kernel crate's tests.

use simdpool_kernels::KernelSet;

/// The SIMD levels this CPU has, by name.
///
/// Miri cannot run CPUID (inline assembly), which the no_std build of pulp's detection uses:
/// there no SIMD level runs (the simdpool crate's Miri passes cover the AVX2 kernels, with std
/// detection).
pub fn simd_levels() -> Vec<(&'static str, &'static KernelSet)> {
    #[allow(unused_mut)]
    let mut v = vec![];
    #[cfg(target_arch = "x86_64")]
    if !cfg!(miri) {
        if let Some(t) = pulp::x86::V3::try_new() {
            v.push(("avx2", KernelSet::avx2(t)));
        }
        if let Some(t) = pulp::x86::V4::try_new() {
            v.push(("avx512", KernelSet::avx512(t)));
        }
    }
    #[cfg(target_arch = "aarch64")]
    if let Some(t) = pulp::aarch64::Neon::try_new() {
        v.push(("neon", KernelSet::neon(t)));
    }
    v
}
