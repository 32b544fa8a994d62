//! Channels-last windowed f32 kernels for NEON.
//!
//! Not vectorised yet: forwards to the portable kernel, which computes the same bits.

pub(crate) use crate::portable::window;
