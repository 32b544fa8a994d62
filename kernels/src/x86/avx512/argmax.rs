//! f32 max-with-indices kernels for AVX-512.
//!
//! Not vectorised yet: forwards to the portable kernel, which computes the same bits.

pub(crate) use crate::portable::argmax;
