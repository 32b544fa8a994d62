//! Detects the CPU once and hands out the kernel set of an instruction-set level.
//!
//! Kernel sets are built from `pulp` tokens (proof that the CPU has the level), so nothing here
//! needs `unsafe`. A build whose target already guarantees a level (e.g. `-C target-cpu=native`)
//! gets `cfg(simdpool_static_*)` from `build.rs` and resolves that level at compile time.

use crate::isa::Isa;
use simdpool_kernels::KernelSet;

/// Position of a level in its architecture's chain (`None`: not on this architecture).
fn rank(isa: Isa) -> Option<u8> {
    match isa {
        Isa::Scalar => Some(0),
        Isa::Avx2 if cfg!(target_arch = "x86_64") => Some(1),
        Isa::Avx512 if cfg!(target_arch = "x86_64") => Some(2),
        Isa::Neon if cfg!(target_arch = "aarch64") => Some(1),
        _ => None,
    }
}

/// Whether `isa` is at or below `top` on this architecture.
pub(crate) fn at_most(isa: Isa, top: Isa) -> bool {
    matches!((rank(isa), rank(top)), (Some(a), Some(b)) if a <= b)
}

/// Runtime detection of the best level.
pub(crate) fn detect_hardware() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if cfg!(simdpool_static_avx512) || pulp::x86::V4::try_new().is_some() {
            return Isa::Avx512;
        }
        if cfg!(simdpool_static_avx2) || pulp::x86::V3::try_new().is_some() {
            return Isa::Avx2;
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if cfg!(simdpool_static_neon) || pulp::aarch64::Neon::try_new().is_some() {
            return Isa::Neon;
        }
    }
    Isa::Scalar
}

/// Applies a `SIMDPOOL_ISA` value: the lower of the hardware level and the named level. A value
/// that names no level of this architecture is reported on stderr once and ignored.
pub(crate) fn apply_cap(hw: Isa, cap: Option<String>) -> Isa {
    let Some(cap) = cap.filter(|c| !c.trim().is_empty()) else {
        return hw;
    };
    match Isa::from_name(&cap) {
        Some(level) if rank(level).is_some() => {
            if at_most(level, hw) {
                level
            } else {
                hw
            }
        }
        _ => {
            eprintln!(
                "simdpool: ignoring SIMDPOOL_ISA={cap:?}: expected one of scalar, avx2, avx512 (x86-64) or neon (aarch64)"
            );
            hw
        }
    }
}

/// The kernel set of `isa`, if the CPU (and `SIMDPOOL_ISA`) allow it.
pub(crate) fn kernel_set(isa: Isa) -> Option<&'static KernelSet> {
    if !isa.is_available() {
        return None;
    }
    match isa {
        Isa::Scalar => Some(KernelSet::portable()),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => pulp::x86::V3::try_new().map(KernelSet::avx2),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => pulp::x86::V4::try_new().map(KernelSet::avx512),
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => pulp::aarch64::Neon::try_new().map(KernelSet::neon),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// CPU features relevant to this crate that the running CPU has (for `simdpool info`).
pub fn cpu_features() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut seen = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => {$(if std::arch::is_x86_feature_detected!($f) { seen.push($f); })*};
        }
        probe!(
            "sse2",
            "sse4.1",
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "f16c",
            "bmi2",
            "avx512f",
            "avx512bw",
            "avx512cd",
            "avx512dq",
            "avx512vl",
            "avx512vbmi",
            "avx512fp16",
            "avx512bf16"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => {$(if std::arch::is_aarch64_feature_detected!($f) { seen.push($f); })*};
        }
        probe!("neon", "fp16", "dotprod", "sve", "sve2");
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_lowers_but_never_raises() {
        assert_eq!(apply_cap(Isa::Scalar, Some("avx512".into())), Isa::Scalar);
        assert_eq!(apply_cap(Isa::Scalar, None), Isa::Scalar);
        assert_eq!(apply_cap(Isa::Scalar, Some("bogus".into())), Isa::Scalar);
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(apply_cap(Isa::Avx512, Some("avx2".into())), Isa::Avx2);
            assert_eq!(apply_cap(Isa::Avx512, Some("SCALAR".into())), Isa::Scalar);
            assert_eq!(apply_cap(Isa::Avx2, Some("avx512".into())), Isa::Avx2);
            assert_eq!(apply_cap(Isa::Avx512, Some("neon".into())), Isa::Avx512);
        }
    }
}
