//! Channels-first windowed f32 kernels for AVX2 + FMA.
//!
//! Not vectorised yet: forwards to the portable kernel, which computes the same bits.

pub(crate) use crate::portable::window;
