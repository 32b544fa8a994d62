//! Tensor shapes: batch, channels, 1 to 3 spatial dims, and a memory layout.

use crate::error::{PoolError, Result};
pub use simdpool_kernels::Layout;

/// The shape and memory layout of an input or output tensor.
///
/// Dims are kept logically (batch, channels, spatial); [`TensorShape::dims`] lists them in memory
/// order: `[N, C, D?, H?, W]` for [`Layout::ChannelsFirst`], `[N, D?, H?, W, C]` for
/// [`Layout::ChannelsLast`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TensorShape {
    layout: Layout,
    batch: usize,
    channels: usize,
    spatial: Vec<usize>,
    len: usize,
}

impl TensorShape {
    /// A shape from its logical parts. Errors if the spatial rank is not 1 to 3, a dim is zero, or
    /// the element count overflows.
    pub fn new(layout: Layout, batch: usize, channels: usize, spatial: &[usize]) -> Result<Self> {
        if spatial.is_empty() || spatial.len() > 3 {
            return Err(PoolError::UnsupportedRank { rank: spatial.len() });
        }
        if batch == 0 {
            return Err(PoolError::ZeroDim { dim: "batch".into() });
        }
        if channels == 0 {
            return Err(PoolError::ZeroDim { dim: "channels".into() });
        }
        let mut len = batch.checked_mul(channels).ok_or(PoolError::Overflow { what: "element count of the tensor" })?;
        for (i, &d) in spatial.iter().enumerate() {
            if d == 0 {
                return Err(PoolError::ZeroDim { dim: format!("spatial {i}") });
            }
            len = len.checked_mul(d).ok_or(PoolError::Overflow { what: "element count of the tensor" })?;
        }
        if len > isize::MAX as usize {
            return Err(PoolError::Overflow { what: "element count of the tensor" });
        }
        Ok(TensorShape { layout, batch, channels, spatial: spatial.to_vec(), len })
    }

    /// A shape from dims in memory order for `layout` (see the type's docs); 3 to 5 dims.
    pub fn from_dims(layout: Layout, dims: &[usize]) -> Result<Self> {
        if dims.len() < 3 || dims.len() > 5 {
            return Err(PoolError::UnsupportedRank { rank: dims.len().saturating_sub(2) });
        }
        let r = dims.len();
        match layout {
            Layout::ChannelsFirst => Self::new(layout, dims[0], dims[1], &dims[2..]),
            Layout::ChannelsLast => Self::new(layout, dims[0], dims[r - 1], &dims[1..r - 1]),
        }
    }

    /// Channels-first dims in memory order: `[N, C, L]`, `[N, C, H, W]` or `[N, C, D, H, W]`.
    pub fn nchw(dims: &[usize]) -> Result<Self> {
        Self::from_dims(Layout::ChannelsFirst, dims)
    }

    /// Channels-last dims in memory order: `[N, L, C]`, `[N, H, W, C]` or `[N, D, H, W, C]`.
    pub fn nhwc(dims: &[usize]) -> Result<Self> {
        Self::from_dims(Layout::ChannelsLast, dims)
    }

    /// The same logical shape with other spatial dims (used for outputs).
    pub(crate) fn with_spatial(&self, spatial: &[usize]) -> Result<Self> {
        Self::new(self.layout, self.batch, self.channels, spatial)
    }

    /// The same logical dims in another layout.
    pub fn with_layout(&self, layout: Layout) -> Self {
        TensorShape { layout, ..self.clone() }
    }

    /// Memory layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }
    /// Batch size `N`.
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Channels `C`.
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// Spatial dims (outermost first).
    pub fn spatial(&self) -> &[usize] {
        &self.spatial
    }
    /// Number of spatial dims (1 to 3).
    pub fn rank(&self) -> usize {
        self.spatial.len()
    }
    /// Elements in the tensor.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Always false: every dim is at least 1.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// Elements in one spatial plane.
    pub fn plane(&self) -> usize {
        self.spatial.iter().product()
    }
    /// Dims in memory order.
    pub fn dims(&self) -> Vec<usize> {
        let mut d = vec![self.batch];
        match self.layout {
            Layout::ChannelsFirst => {
                d.push(self.channels);
                d.extend_from_slice(&self.spatial);
            }
            Layout::ChannelsLast => {
                d.extend_from_slice(&self.spatial);
                d.push(self.channels);
            }
        }
        d
    }
    /// Offset of element `(n, c, spatial position)` in a buffer of this shape.
    pub fn offset(&self, n: usize, c: usize, pos: &[usize]) -> usize {
        let mut flat = 0;
        for (p, d) in pos.iter().zip(&self.spatial) {
            flat = flat * d + p;
        }
        match self.layout {
            Layout::ChannelsFirst => (n * self.channels + c) * self.plane() + flat,
            Layout::ChannelsLast => (n * self.plane() + flat) * self.channels + c,
        }
    }
}
