//! Reading and writing NumPy `.npy` files (format versions 1.0 to 3.0), for the CLI, the golden
//! tests and anyone who keeps test vectors in NumPy.
//!
//! Supported element types: little-endian `f4`, `f8`, `f2`, `u1`, `i1`, `i8` (indices) and `u2`
//! (how `bf16` is stored: NumPy has no bf16, so its raw bits are written as `<u2`). C order only.
//!
//! ```
//! use simdpool::npy::{NpyArray, NpyDType};
//! let a = NpyArray::from_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
//! let bytes = a.to_bytes();
//! let b = NpyArray::parse(&bytes)?;
//! assert_eq!(b.dtype, NpyDType::F32);
//! assert_eq!(b.shape, [2, 2]);
//! assert_eq!(b.to_vec::<f32>()?, [1.0, 2.0, 3.0, 4.0]);
//! # Ok::<(), simdpool::npy::NpyError>(())
//! ```

use std::fmt;

/// An element type a `.npy` file can hold here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NpyDType {
    /// `<f4`
    F32,
    /// `<f8`
    F64,
    /// `<f2`
    F16,
    /// `<u2`, read as the raw bits of `bf16`
    U16,
    /// `|u1`
    U8,
    /// `|i1`
    I8,
    /// `<i8` (index arrays)
    I64,
}

impl NpyDType {
    /// The `descr` string.
    pub fn descr(self) -> &'static str {
        match self {
            NpyDType::F32 => "<f4",
            NpyDType::F64 => "<f8",
            NpyDType::F16 => "<f2",
            NpyDType::U16 => "<u2",
            NpyDType::U8 => "|u1",
            NpyDType::I8 => "|i1",
            NpyDType::I64 => "<i8",
        }
    }
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            NpyDType::F32 => 4,
            NpyDType::F64 | NpyDType::I64 => 8,
            NpyDType::F16 | NpyDType::U16 => 2,
            NpyDType::U8 | NpyDType::I8 => 1,
        }
    }
    fn parse(descr: &str) -> Option<Self> {
        Some(match descr {
            "<f4" | "=f4" => NpyDType::F32,
            "<f8" | "=f8" => NpyDType::F64,
            "<f2" | "=f2" => NpyDType::F16,
            "<u2" | "=u2" => NpyDType::U16,
            "|u1" | "<u1" | "=u1" | "u1" => NpyDType::U8,
            "|i1" | "<i1" | "=i1" | "i1" => NpyDType::I8,
            "<i8" | "=i8" => NpyDType::I64,
            _ => return None,
        })
    }
}

/// What is wrong with a `.npy` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NpyError {
    /// The file does not start with `\x93NUMPY`.
    BadMagic,
    /// A format version other than 1, 2 or 3.
    UnsupportedVersion(u8, u8),
    /// The file ends inside its header.
    Truncated {
        /// Bytes needed for the header.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// The header dictionary cannot be parsed.
    BadHeader(String),
    /// `fortran_order` is `True` (only C order is supported).
    FortranOrder,
    /// An element type this crate does not read.
    UnsupportedDType(String),
    /// The data length disagrees with the shape.
    DataLength {
        /// Bytes the shape needs.
        expected: usize,
        /// Bytes present after the header.
        got: usize,
    },
    /// The array holds another element type than the one asked for.
    WrongDType {
        /// The type asked for.
        wanted: NpyDType,
        /// The type in the file.
        found: NpyDType,
    },
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NpyError::BadMagic => write!(f, "not a .npy file: it does not start with \\x93NUMPY"),
            NpyError::UnsupportedVersion(a, b) => {
                write!(f, ".npy format version {a}.{b} is not supported (1.0 to 3.0 are)")
            }
            NpyError::Truncated { needed, got } => {
                write!(f, "the .npy header is truncated: {needed} bytes needed, {got} present")
            }
            NpyError::BadHeader(why) => write!(f, "the .npy header cannot be parsed: {why}"),
            NpyError::FortranOrder => {
                write!(f, "the .npy array is in Fortran order; save it in C order (np.ascontiguousarray)")
            }
            NpyError::UnsupportedDType(d) => {
                write!(f, "unsupported .npy dtype {d:?}: use little-endian f4, f8, f2, u1, i1 (or u2 for bf16 bits)")
            }
            NpyError::DataLength { expected, got } => {
                write!(f, "the .npy data has {got} bytes but its shape needs {expected}")
            }
            NpyError::WrongDType { wanted, found } => {
                write!(f, "expected a {} array, found {}", wanted.descr(), found.descr())
            }
        }
    }
}

impl std::error::Error for NpyError {}

/// An array read from or to be written to a `.npy` file: raw little-endian data plus its shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyArray {
    /// Element type.
    pub dtype: NpyDType,
    /// Shape, C order.
    pub shape: Vec<usize>,
    /// Little-endian element bytes.
    pub data: Vec<u8>,
}

/// Types that can be read from or written to an [`NpyArray`].
pub trait NpyElement: bytemuck::Pod {
    /// The matching `.npy` element type.
    const NPY: NpyDType;
}
impl NpyElement for f32 {
    const NPY: NpyDType = NpyDType::F32;
}
impl NpyElement for f64 {
    const NPY: NpyDType = NpyDType::F64;
}
impl NpyElement for half::f16 {
    const NPY: NpyDType = NpyDType::F16;
}
impl NpyElement for half::bf16 {
    const NPY: NpyDType = NpyDType::U16;
}
impl NpyElement for u8 {
    const NPY: NpyDType = NpyDType::U8;
}
impl NpyElement for i8 {
    const NPY: NpyDType = NpyDType::I8;
}
impl NpyElement for i64 {
    const NPY: NpyDType = NpyDType::I64;
}

fn field<'a>(header: &'a str, key: &str) -> Result<&'a str, NpyError> {
    let pat = format!("'{key}'");
    let at = header.find(&pat).ok_or_else(|| NpyError::BadHeader(format!("no '{key}' key")))?;
    let rest = &header[at + pat.len()..];
    let colon = rest.find(':').ok_or_else(|| NpyError::BadHeader(format!("no ':' after '{key}'")))?;
    Ok(rest[colon + 1..].trim_start())
}

impl NpyArray {
    /// Parses a whole `.npy` file.
    pub fn parse(bytes: &[u8]) -> Result<Self, NpyError> {
        if bytes.len() < 6 || &bytes[..6] != b"\x93NUMPY" {
            return Err(NpyError::BadMagic);
        }
        if bytes.len() < 10 {
            return Err(NpyError::Truncated { needed: 10, got: bytes.len() });
        }
        let (major, minor) = (bytes[6], bytes[7]);
        let (len_bytes, start) = match major {
            1 => (2, 10),
            2 | 3 => (4, 12),
            _ => return Err(NpyError::UnsupportedVersion(major, minor)),
        };
        if bytes.len() < start {
            return Err(NpyError::Truncated { needed: start, got: bytes.len() });
        }
        let header_len = if len_bytes == 2 {
            u16::from_le_bytes([bytes[8], bytes[9]]) as usize
        } else {
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
        };
        let end = start + header_len;
        if bytes.len() < end {
            return Err(NpyError::Truncated { needed: end, got: bytes.len() });
        }
        let header = std::str::from_utf8(&bytes[start..end]).map_err(|_| NpyError::BadHeader("not UTF-8".into()))?;

        let descr = field(header, "descr")?;
        let quote = descr.chars().next().filter(|c| *c == '\'' || *c == '"');
        let descr = match quote {
            Some(q) => descr[1..].split(q).next().unwrap_or(""),
            None => return Err(NpyError::BadHeader("descr is not a string".into())),
        };
        let dtype = NpyDType::parse(descr).ok_or_else(|| NpyError::UnsupportedDType(descr.to_string()))?;

        let fortran = field(header, "fortran_order")?;
        if fortran.starts_with("True") {
            return Err(NpyError::FortranOrder);
        } else if !fortran.starts_with("False") {
            return Err(NpyError::BadHeader("fortran_order is neither True nor False".into()));
        }

        let shape_txt = field(header, "shape")?;
        let shape_txt = shape_txt
            .strip_prefix('(')
            .and_then(|s| s.split(')').next())
            .ok_or_else(|| NpyError::BadHeader("shape is not a tuple".into()))?;
        let mut shape = Vec::new();
        for part in shape_txt.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            shape.push(part.parse::<usize>().map_err(|_| NpyError::BadHeader(format!("bad dimension {part:?}")))?);
        }
        let expected = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| NpyError::BadHeader("shape overflows".into()))?;
        let data = &bytes[end..];
        if data.len() != expected {
            return Err(NpyError::DataLength { expected, got: data.len() });
        }
        Ok(NpyArray { dtype, shape, data: data.to_vec() })
    }

    /// The array as a file (format 1.0, or 2.0 if the header is too long).
    pub fn to_bytes(&self) -> Vec<u8> {
        let dims: Vec<String> = self.shape.iter().map(|d| d.to_string()).collect();
        let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
        let mut header = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}", self.dtype.descr());
        let v1 = header.len() + 11 <= u16::MAX as usize;
        let prefix = if v1 { 10 } else { 12 };
        let total = (prefix + header.len() + 1).div_ceil(64) * 64;
        while prefix + header.len() + 1 < total {
            header.push(' ');
        }
        header.push('\n');
        let mut out = Vec::with_capacity(total + self.data.len());
        out.extend_from_slice(b"\x93NUMPY");
        if v1 {
            out.extend_from_slice(&[1, 0]);
            out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&[2, 0]);
            out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&self.data);
        out
    }

    /// An array of `T` with this shape (the data length must match the shape).
    pub fn from_slice<T: NpyElement>(shape: &[usize], data: &[T]) -> Self {
        let data = if cfg!(target_endian = "little") {
            bytemuck::cast_slice(data).to_vec()
        } else {
            data.iter().flat_map(|v| bytemuck::bytes_of(v).iter().rev().copied()).collect()
        };
        NpyArray { dtype: T::NPY, shape: shape.to_vec(), data }
    }

    /// Shorthand for `from_slice::<f32>`.
    pub fn from_f32(shape: &[usize], data: &[f32]) -> Self {
        Self::from_slice(shape, data)
    }

    /// The elements as `T`; errors if the file holds another type.
    pub fn to_vec<T: NpyElement>(&self) -> Result<Vec<T>, NpyError> {
        if self.dtype != T::NPY {
            return Err(NpyError::WrongDType { wanted: T::NPY, found: self.dtype });
        }
        let size = self.dtype.size();
        Ok(self
            .data
            .chunks_exact(size)
            .map(|c| {
                let mut v = T::zeroed();
                let b = bytemuck::bytes_of_mut(&mut v);
                b.copy_from_slice(c);
                if cfg!(target_endian = "big") {
                    b.reverse();
                }
                v
            })
            .collect())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len() / self.dtype.size()
    }

    /// True if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}
