//! Portable kernels: plain Rust, any element type, the canonical order of operations.
//!
//! These are the kernels of the `Scalar` level and the fallback for element types and ops a SIMD
//! level has no kernel for. They follow the same order of combination as the SIMD kernels, so
//! every level gives the same bits.

mod backward;
mod global;
mod scatter;
mod window;

pub use backward::backward;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use backward::backward_body;
pub use global::global;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use scatter::scatter_max_body;
pub use scatter::{indices_in_windows, scatter_max};
// The SIMD global family ends with it too (x86-64 and aarch64 only).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use global::settle_max_ties;
// The SIMD levels end their Lp windows with it (x86-64 and aarch64 only).
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use window::rescale_lp;
pub use window::{argmax, window};
