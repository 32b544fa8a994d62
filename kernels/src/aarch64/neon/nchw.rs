//! Channels-first windowed f32 kernels for NEON: the separable loop nest of
//! [`crate::separable`] over the 4 `f32` lanes of the `Neon` token (`vld2q`/`vld4q` for the
//! deinterleaves).

use crate::lanes::F64;
use crate::separable::Nests;
use pulp::aarch64::Neon;

/// Both nests at 4 lanes (the trait's defaults).
impl Nests for Neon {}

/// `f64`: the nests at 2 lanes (the same code as `f32`), one copy per x stride. Kernel-size
/// copies for `f64` as well measured +27% on the kernel crate's release build (100 vs 79 s) for
/// 1.7x on the suite's one `f64` layer.
impl Nests for F64<Neon> {
    const SPECIALISED: bool = false;
}
