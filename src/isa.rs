/// An instruction-set level that kernels can be built for.
///
/// On x86-64 the levels are ordered `Scalar < Avx2 < Avx512`; `Neon` exists only on AArch64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// Portable Rust, no SIMD intrinsics. Runs everywhere.
    Scalar,
    /// x86-64-v3: AVX2 + FMA (256-bit vectors).
    Avx2,
    /// x86-64-v4: AVX-512 F/BW/CD/DQ/VL (512-bit vectors, mask registers).
    Avx512,
    /// AArch64 Advanced SIMD (128-bit vectors).
    Neon,
}

impl Isa {
    /// Every level, in the order `Scalar, Avx2, Avx512, Neon`.
    pub const ALL: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon];

    /// The lowercase name used by `SIMDPOOL_ISA`, the CLI and reports.
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
        }
    }

    /// Parses a name as printed by [`Isa::name`] (case-insensitive).
    pub fn from_name(name: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|isa| isa.name().eq_ignore_ascii_case(name.trim()))
    }
}

impl core::fmt::Display for Isa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

use std::sync::OnceLock;

impl Isa {
    /// The best level this CPU supports, detected once per process (ignores `SIMDPOOL_ISA`).
    pub fn hardware() -> Isa {
        static HW: OnceLock<Isa> = OnceLock::new();
        *HW.get_or_init(crate::dispatch::detect_hardware)
    }

    /// The level plans use by default: [`Isa::hardware`], capped by the environment variable
    /// `SIMDPOOL_ISA=scalar|avx2|avx512|neon` if set. Read once per process.
    pub fn detected() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| crate::dispatch::apply_cap(Isa::hardware(), std::env::var("SIMDPOOL_ISA").ok()))
    }

    /// Every level a plan can be built for here, lowest first (always starts with `Scalar`).
    pub fn available() -> Vec<Isa> {
        let top = Isa::detected();
        Isa::ALL.into_iter().filter(|&isa| crate::dispatch::at_most(isa, top)).collect()
    }

    /// Whether a plan can be built for this level here.
    pub fn is_available(self) -> bool {
        crate::dispatch::at_most(self, Isa::detected())
    }
}
