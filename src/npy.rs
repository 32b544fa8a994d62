//! Reading and writing NumPy `.npy` files (format versions 1.0 to 3.0), for the CLI, the golden
//! tests and anyone who keeps test vectors in NumPy.
//!
//! Supported element types: little-endian `f4`, `f8`, `f2`, `u1`, `i1`, `i8` (indices) and `u2`
//! (how `bf16` is stored: NumPy has no bf16, so its raw bits are written as `<u2`). C order only.
//!
//! The reader is at least as strict as `numpy.load`: every file NumPy refuses is refused, and a
//! file read here has the shape and dtype NumPy gives it. The header must be the Python dict
//! literal NumPy writes, with exactly the keys `descr` (a string in single or double quotes),
//! `fortran_order` (`True` or `False`) and `shape` (a tuple of non-negative integers: `()`,
//! `(3,)`, `(2, 3)`), Python whitespace between tokens, an optional trailing comma, space
//! padding and a final newline; at most [`MAX_HEADER_LEN`] bytes long; in format version 1.0,
//! 2.0 or 3.0 (the only ones NumPy reads). The data must be exactly as long as the header
//! implies. A few spellings Python would accept but no NumPy writer produces (duplicate keys,
//! escapes in strings, signed or hexadecimal dimensions, comments) are refused too.
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
            "<f4" => NpyDType::F32,
            "<f8" => NpyDType::F64,
            "<f2" => NpyDType::F16,
            "<u2" => NpyDType::U16,
            "|u1" | "<u1" | "=u1" | ">u1" | "u1" => NpyDType::U8,
            "|i1" | "<i1" | "=i1" | ">i1" | "i1" => NpyDType::I8,
            "<i8" => NpyDType::I64,
            // `=` is the byte order of the machine reading the file (as NumPy reads it).
            "=f4" if cfg!(target_endian = "little") => NpyDType::F32,
            "=f8" if cfg!(target_endian = "little") => NpyDType::F64,
            "=f2" if cfg!(target_endian = "little") => NpyDType::F16,
            "=u2" if cfg!(target_endian = "little") => NpyDType::U16,
            "=i8" if cfg!(target_endian = "little") => NpyDType::I64,
            _ => return None,
        })
    }
}

/// What is wrong with a `.npy` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NpyError {
    /// The file does not start with `\x93NUMPY`.
    BadMagic,
    /// A format version other than 1.0, 2.0 or 3.0.
    UnsupportedVersion(u8, u8),
    /// The header is longer than [`MAX_HEADER_LEN`] bytes (NumPy refuses it too).
    HeaderTooLong(usize),
    /// The file ends inside its header.
    Truncated {
        /// Bytes needed for the header.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// The header is not the dictionary NumPy writes; the text says what is wrong.
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
    /// The path is not a regular file (`"a FIFO"`, `"a character device"`, `"a directory"`...).
    NotAFile(&'static str),
    /// The file could not be opened or read (the operating system's message).
    Io(String),
    /// The array needs more bytes than this process can allocate.
    TooLarge(usize),
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NpyError::BadMagic => write!(f, "not a .npy file: it does not start with \\x93NUMPY"),
            NpyError::UnsupportedVersion(a, b) => {
                write!(f, ".npy format version {a}.{b} is not supported (1.0, 2.0 and 3.0 are)")
            }
            NpyError::HeaderTooLong(n) => {
                write!(
                    f,
                    "the .npy header is {n} bytes long; NumPy and this reader refuse headers over {MAX_HEADER_LEN}"
                )
            }
            NpyError::Truncated { needed, got } => {
                write!(f, "the .npy header is truncated: {needed} bytes needed, {got} present")
            }
            NpyError::BadHeader(why) => write!(f, "bad .npy header: {why}"),
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
            NpyError::NotAFile(kind) => write!(f, "not a regular file but {kind}: a .npy input must be a regular file"),
            NpyError::Io(e) => write!(f, "cannot read: {e}"),
            NpyError::TooLarge(n) => write!(f, "the .npy data needs {n} bytes, more than can be allocated"),
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

/// NumPy's default `max_header_size`: `numpy.load` refuses longer headers (unless the file is
/// trusted with `allow_pickle=True`), and so does this reader.
pub const MAX_HEADER_LEN: usize = 10_000;

/// The most dimensions a NumPy array has (`numpy.load` refuses more).
const MAX_DIMS: usize = 64;

/// Where the header of a file lies, from its first 10 or 12 bytes.
struct Preamble {
    major: u8,
    /// Offset of the header (10 for version 1.0, 12 for 2.0 and 3.0).
    start: usize,
    /// Header length in bytes, padding and final newline included.
    len: usize,
}

impl Preamble {
    /// Reads the magic, version and header length from `bytes` (the whole file, or at least its
    /// first 12 bytes if it has them); `file_len` is the length of the whole file.
    fn read(bytes: &[u8], file_len: u64) -> Result<Preamble, NpyError> {
        let got = usize::try_from(file_len).unwrap_or(usize::MAX);
        if bytes.len() < 6 || &bytes[..6] != b"\x93NUMPY" {
            return Err(NpyError::BadMagic);
        }
        if bytes.len() < 8 {
            return Err(NpyError::Truncated { needed: 10, got });
        }
        let (major, minor) = (bytes[6], bytes[7]);
        // numpy.lib.format reads exactly the versions (1, 0), (2, 0) and (3, 0).
        let start = match (major, minor) {
            (1, 0) => 10,
            (2, 0) | (3, 0) => 12,
            _ => return Err(NpyError::UnsupportedVersion(major, minor)),
        };
        if bytes.len() < start {
            return Err(NpyError::Truncated { needed: start, got });
        }
        let len = if major == 1 {
            u16::from_le_bytes([bytes[8], bytes[9]]) as usize
        } else {
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
        };
        if len > MAX_HEADER_LEN {
            return Err(NpyError::HeaderTooLong(len));
        }
        if file_len < (start + len) as u64 {
            return Err(NpyError::Truncated { needed: start + len, got });
        }
        Ok(Preamble { major, start, len })
    }

    /// Offset of the data.
    fn end(&self) -> usize {
        self.start + self.len
    }
}

/// What a header says: the element type, the shape, and the data bytes they imply.
struct Header {
    dtype: NpyDType,
    shape: Vec<usize>,
    data_len: usize,
}

fn bad(why: impl Into<String>) -> NpyError {
    NpyError::BadHeader(why.into())
}

/// Whitespace Python allows between the tokens of a bracketed expression.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c' | '\r' | '\n')
}

/// A strict parser of the header: the Python literal `{'descr': str, 'fortran_order': bool,
/// 'shape': tuple of int}` as `ast.literal_eval` reads it, minus everything `numpy.lib.format`
/// then refuses (other keys, a non-bool order, a shape that is not a tuple of ints), and minus a
/// few legal spellings NumPy never writes: escapes and prefixes in strings, signed, hexadecimal or
/// boolean dimensions, comments, and duplicate keys (Python keeps the last one silently). So
/// whatever it accepts, NumPy reads with the same dtype and shape.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches(is_space).len();
    }

    /// What follows, for an error message: a few characters, or "the end of the header".
    fn found(&self) -> String {
        let rest = self.rest().trim_end_matches(is_space);
        if rest.is_empty() {
            return "the end of the header".into();
        }
        let shown: String = rest.chars().take(16).collect();
        if shown.len() < rest.len() { format!("{shown:?}...") } else { format!("{shown:?}") }
    }

    fn expect(&mut self, c: char, what: &str) -> Result<(), NpyError> {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            Ok(())
        } else {
            Err(bad(format!("expected {what}, found {}", self.found())))
        }
    }

    /// A Python string literal in single or double quotes, without escapes or prefixes.
    fn string(&mut self, what: &str) -> Result<&'a str, NpyError> {
        let Some(q @ ('\'' | '"')) = self.peek() else {
            return Err(bad(format!("expected {what} (a quoted string), found {}", self.found())));
        };
        let body = &self.rest()[1..];
        for (i, c) in body.char_indices() {
            match c {
                c if c == q => {
                    self.pos += 1 + i + 1;
                    return Ok(&body[..i]);
                }
                '\\' => return Err(bad(format!("{what}: escape sequences are not supported in header strings"))),
                '\n' | '\r' => break,
                _ => {}
            }
        }
        Err(bad(format!("{what}: unterminated string")))
    }

    /// A run of characters that could belong to a name or a number (a value, or what an error
    /// message quotes).
    fn word(&mut self) -> &'a str {
        let rest = self.rest();
        let n = rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '+' | '.'))).unwrap_or(rest.len());
        self.pos += n;
        &rest[..n]
    }

    fn boolean(&mut self) -> Result<bool, NpyError> {
        match self.word() {
            "True" => Ok(true),
            "False" => Ok(false),
            "" => Err(bad(format!("fortran_order must be True or False, found {}", self.found()))),
            w => Err(bad(format!("fortran_order must be True or False, found {w:?}"))),
        }
    }

    /// One dimension: a Python decimal integer literal without a sign (underscores between
    /// digits allowed; no leading zeros, except in zero itself).
    fn dimension(&mut self) -> Result<usize, NpyError> {
        if self.peek() == Some(',') {
            return Err(bad("shape has an empty element (a comma with no dimension before it)"));
        }
        let w = self.word();
        if w.is_empty() {
            return Err(bad(format!("expected a dimension in shape, found {}", self.found())));
        }
        let well_formed = w.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            && w.as_bytes()[0].is_ascii_digit()
            && !w.ends_with('_')
            && !w.contains("__");
        if !well_formed {
            return Err(bad(format!("bad dimension {w:?}: shape entries are non-negative decimal integers")));
        }
        let digits: String = w.chars().filter(|&c| c != '_').collect();
        if digits.starts_with('0') && digits.bytes().any(|b| b != b'0') {
            return Err(bad(format!("bad dimension {w:?}: Python does not allow leading zeros")));
        }
        digits.parse::<usize>().map_err(|_| bad(format!("dimension {w} is too large")))
    }

    /// A tuple of dimensions: `()`, `(3,)`, `(2, 3)`, `(2, 3,)`. `(3)` is an int, not a tuple.
    fn shape(&mut self) -> Result<Vec<usize>, NpyError> {
        if self.peek() != Some('(') {
            return Err(bad(format!("shape is not a tuple: expected '(', found {}", self.found())));
        }
        self.pos += 1;
        self.skip_space();
        let mut dims = Vec::new();
        if self.peek() == Some(')') {
            self.pos += 1;
            return Ok(dims);
        }
        loop {
            if dims.len() == MAX_DIMS {
                return Err(bad(format!("shape has more than {MAX_DIMS} dimensions, the most NumPy allows")));
            }
            dims.push(self.dimension()?);
            self.skip_space();
            match self.peek() {
                Some(')') if dims.len() == 1 => {
                    let d = dims[0];
                    return Err(bad(format!(
                        "shape ({d}) is an integer in parentheses, not a tuple: a 1-tuple is written ({d},)"
                    )));
                }
                Some(')') => {
                    self.pos += 1;
                    return Ok(dims);
                }
                Some(',') => {
                    self.pos += 1;
                    self.skip_space();
                    if self.peek() == Some(')') {
                        self.pos += 1;
                        return Ok(dims);
                    }
                }
                _ => return Err(bad(format!("expected ',' or ')' in shape, found {}", self.found()))),
            }
        }
    }

    /// The whole header: `descr`, `fortran_order` and `shape`.
    fn header(&mut self) -> Result<(&'a str, bool, Vec<usize>), NpyError> {
        let (mut descr, mut fortran, mut shape) = (None, None, None);
        self.skip_space();
        self.expect('{', "'{' at the start of the header dictionary")?;
        self.skip_space();
        while self.peek() != Some('}') {
            let key = self.string("a key")?;
            let seen = match key {
                "descr" => descr.is_some(),
                "fortran_order" => fortran.is_some(),
                "shape" => shape.is_some(),
                other => {
                    return Err(bad(format!(
                        "unexpected key {other:?}: a header has exactly the keys 'descr', 'fortran_order' and 'shape'"
                    )));
                }
            };
            if seen {
                return Err(bad(format!("duplicate key {key:?}")));
            }
            self.skip_space();
            self.expect(':', &format!("':' after the key {key:?}"))?;
            self.skip_space();
            match key {
                "descr" => descr = Some(self.string("descr")?),
                "fortran_order" => fortran = Some(self.boolean()?),
                _ => shape = Some(self.shape()?),
            }
            self.skip_space();
            match self.peek() {
                Some(',') => {
                    self.pos += 1;
                    self.skip_space();
                }
                Some('}') => {}
                _ => {
                    return Err(bad(format!(
                        "expected ',' or '}}' after the value of {key:?}, found {}",
                        self.found()
                    )));
                }
            }
        }
        self.pos += 1;
        self.skip_space();
        if !self.rest().is_empty() {
            return Err(bad(format!("unexpected text after the header dictionary: {}", self.found())));
        }
        let missing = |k: &str| bad(format!("missing key '{k}'"));
        Ok((
            descr.ok_or_else(|| missing("descr"))?,
            fortran.ok_or_else(|| missing("fortran_order"))?,
            shape.ok_or_else(|| missing("shape"))?,
        ))
    }
}

impl Header {
    /// Parses the header bytes of a file of format version `major`.0.
    fn parse(major: u8, raw: &[u8]) -> Result<Header, NpyError> {
        // numpy.lib.format decodes versions 1.0 and 2.0 as latin-1 and 3.0 as UTF-8.
        let latin1: String;
        let text = if major == 3 {
            std::str::from_utf8(raw).map_err(|_| bad("a version 3.0 header must be UTF-8"))?
        } else {
            latin1 = raw.iter().map(|&b| b as char).collect();
            &latin1
        };
        let Some(text) = text.strip_suffix('\n') else {
            return Err(bad("the header does not end with a newline"));
        };
        let (descr, fortran, shape) = Parser { text, pos: 0 }.header()?;
        let dtype = NpyDType::parse(descr).ok_or_else(|| NpyError::UnsupportedDType(descr.to_string()))?;
        if fortran {
            return Err(NpyError::FortranOrder);
        }
        let data_len =
            shape.iter().try_fold(dtype.size(), |acc, &d| acc.checked_mul(d)).ok_or_else(|| bad("shape overflows"))?;
        Ok(Header { dtype, shape, data_len })
    }
}

/// What kind of special file `meta` describes, or `None` for a regular file.
fn special_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO");
        } else if t.is_char_device() {
            return Some("a character device");
        } else if t.is_block_device() {
            return Some("a block device");
        } else if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

impl NpyArray {
    /// Parses a whole `.npy` file.
    pub fn parse(bytes: &[u8]) -> Result<Self, NpyError> {
        let pre = Preamble::read(bytes, bytes.len() as u64)?;
        let header = Header::parse(pre.major, &bytes[pre.start..pre.end()])?;
        let data = &bytes[pre.end()..];
        if data.len() != header.data_len {
            return Err(NpyError::DataLength { expected: header.data_len, got: data.len() });
        }
        Ok(NpyArray { dtype: header.dtype, shape: header.shape, data: data.to_vec() })
    }

    /// Reads a `.npy` file. Only a regular file is read: a FIFO, a device such as `/dev/zero` or
    /// a directory is refused before anything is read from it. The data size the header implies
    /// is checked against the file's length before the data is read, so a file whose header lies
    /// costs no more memory than its header. ([`NpyReader`] reads the data straight into a typed
    /// buffer instead.)
    pub fn read_file(path: impl AsRef<std::path::Path>) -> Result<Self, NpyError> {
        let mut reader = NpyReader::open(path)?;
        let mut data = Vec::new();
        data.try_reserve_exact(reader.data_len).map_err(|_| NpyError::TooLarge(reader.data_len))?;
        data.resize(reader.data_len, 0);
        reader.fill(&mut data)?;
        Ok(NpyArray { dtype: reader.dtype, shape: reader.shape, data })
    }

    /// The array as a file (format 1.0, or 2.0 if the header is too long).
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = header_bytes(self.dtype, &self.shape);
        let mut out = Vec::with_capacity(header.len() + self.data.len());
        out.extend_from_slice(&header);
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

/// The preamble and header of a file holding an array of `dtype` and `shape`: format 1.0, or 2.0
/// if the header is too long for 1.0, padded to a multiple of 64 bytes as NumPy pads it.
fn header_bytes(dtype: NpyDType, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}", dtype.descr());
    let v1 = header.len() + 11 <= u16::MAX as usize;
    let prefix = if v1 { 10 } else { 12 };
    let total = (prefix + header.len() + 1).div_ceil(64) * 64;
    while prefix + header.len() + 1 < total {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"\x93NUMPY");
    if v1 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    out
}

/// Writes `data` as a `.npy` file of this `shape` to `w`, the same bytes as
/// [`NpyArray::from_slice`]`(shape, data).to_bytes()` but without building them in memory: on a
/// little-endian machine the elements go to `w` as they lie in `data`. An `InvalidInput` error if
/// `data.len()` is not the product of `shape`. Wrap a file in a `BufWriter` (the header is small
/// writes).
pub fn write_slice<T: NpyElement, W: std::io::Write>(w: &mut W, shape: &[usize], data: &[T]) -> std::io::Result<()> {
    let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if n != Some(data.len()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} elements do not fill the shape {shape:?}", data.len()),
        ));
    }
    w.write_all(&header_bytes(T::NPY, shape))?;
    if cfg!(target_endian = "little") {
        return w.write_all(bytemuck::cast_slice(data));
    }
    // Big-endian: byte-swap a bounded chunk at a time.
    let mut buf = Vec::with_capacity(CHUNK.min(std::mem::size_of_val(data)));
    for part in data.chunks((CHUNK / std::mem::size_of::<T>().max(1)).max(1)) {
        buf.clear();
        for v in part {
            buf.extend(bytemuck::bytes_of(v).iter().rev());
        }
        w.write_all(&buf)?;
    }
    Ok(())
}

/// Bytes written per step when elements must be converted on the way (big-endian machines).
const CHUNK: usize = 1 << 20;

/// A `.npy` file whose header has been read and checked, and whose data has not been read yet:
/// look at [`dtype`](Self::dtype) and [`shape`](Self::shape) (say, to validate a request), then
/// read the data straight into the buffer that will use it with [`read_vec`](Self::read_vec),
/// with no intermediate copy: the memory a file costs is its data, once.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use simdpool::npy::{NpyArray, NpyDType, NpyReader};
/// let path = std::env::temp_dir().join(format!("npy-reader-doc-{}.npy", std::process::id()));
/// std::fs::write(&path, NpyArray::from_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0]).to_bytes())?;
/// let r = NpyReader::open(&path)?;
/// assert_eq!((r.dtype(), r.shape()), (NpyDType::F32, &[2, 2][..]));
/// assert_eq!(r.read_vec::<f32>()?, [1.0, 2.0, 3.0, 4.0]);
/// # std::fs::remove_file(&path)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct NpyReader {
    file: std::fs::File,
    dtype: NpyDType,
    shape: Vec<usize>,
    /// Data bytes the header says follow it (checked against the file's length on opening).
    data_len: usize,
    /// Data bytes already read along with the header.
    pending: Vec<u8>,
}

impl NpyReader {
    /// Opens a `.npy` file and reads and checks its header, as [`NpyArray::read_file`] does:
    /// only a regular file is opened (a FIFO, a device or a directory is refused from its
    /// metadata, before it is opened, since opening a FIFO blocks until a writer opens it, and
    /// again from the opened file's metadata), and the data size the header implies must be the
    /// rest of the file's length. Nothing past the header is read.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self, NpyError> {
        use std::io::Read;
        let io = |e: std::io::Error| NpyError::Io(e.to_string());
        // Checked before opening, because opening a FIFO blocks until a writer opens it too...
        if let Some(kind) = special_kind(&std::fs::metadata(&path).map_err(io)?) {
            return Err(NpyError::NotAFile(kind));
        }
        let mut file = std::fs::File::open(&path).map_err(io)?;
        // ...and again on what was opened, in case the path was replaced in between.
        let meta = file.metadata().map_err(io)?;
        if let Some(kind) = special_kind(&meta) {
            return Err(NpyError::NotAFile(kind));
        }
        let file_len = meta.len();
        let mut head = Vec::with_capacity(12);
        (&mut file).take(12).read_to_end(&mut head).map_err(io)?;
        let pre = Preamble::read(&head, file_len)?;
        // The header is at most MAX_HEADER_LEN bytes and lies inside the file (both checked).
        // A version 1.0 file's first 12 bytes already hold 2 bytes past the preamble.
        let mut raw = head.split_off(pre.start);
        let mut pending = raw.split_off(raw.len().min(pre.len));
        (&mut file).take((pre.len - raw.len()) as u64).read_to_end(&mut raw).map_err(io)?;
        if raw.len() < pre.len {
            // The file shrank while it was read.
            return Err(NpyError::Truncated { needed: pre.end(), got: pre.start + raw.len() });
        }
        let header = Header::parse(pre.major, &raw)?;
        let on_disk = file_len - pre.end() as u64;
        if on_disk != header.data_len as u64 {
            let got = usize::try_from(on_disk).unwrap_or(usize::MAX);
            return Err(NpyError::DataLength { expected: header.data_len, got });
        }
        pending.truncate(header.data_len);
        Ok(NpyReader { file, dtype: header.dtype, shape: header.shape, data_len: header.data_len, pending })
    }

    /// The element type the header names.
    pub fn dtype(&self) -> NpyDType {
        self.dtype
    }

    /// The shape the header names (C order).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data_len / self.dtype.size()
    }

    /// True if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.data_len == 0
    }

    /// The open file (to compare it with other paths, say: its metadata is the file read, even
    /// if the path was replaced since).
    pub fn file(&self) -> &std::fs::File {
        &self.file
    }

    /// Reads the data into a new `Vec<T>`: one allocation of exactly the data's size
    /// ([`NpyError::TooLarge`] if it fails), filled from the file directly; no other copy of the
    /// data is made. [`NpyError::WrongDType`] if the file holds another type;
    /// [`NpyError::DataLength`] if the file shrank since it was opened.
    pub fn read_vec<T: NpyElement>(mut self) -> Result<Vec<T>, NpyError> {
        if self.dtype != T::NPY || std::mem::size_of::<T>() != self.dtype.size() {
            return Err(NpyError::WrongDType { wanted: T::NPY, found: self.dtype });
        }
        let n = self.len();
        let mut out: Vec<T> = Vec::new();
        out.try_reserve_exact(n).map_err(|_| NpyError::TooLarge(self.data_len))?;
        out.resize(n, T::zeroed());
        self.fill(bytemuck::cast_slice_mut(&mut out))?;
        if cfg!(target_endian = "big") {
            for v in &mut out {
                bytemuck::bytes_of_mut(v).reverse();
            }
        }
        Ok(out)
    }

    /// Fills `buf` (exactly `data_len` bytes) with the data.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), NpyError> {
        use std::io::Read;
        let k = self.pending.len().min(buf.len());
        buf[..k].copy_from_slice(&self.pending[..k]);
        let mut got = k;
        while got < buf.len() {
            match self.file.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(r) => got += r,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(NpyError::Io(e.to_string())),
            }
        }
        if got != self.data_len {
            // The file shrank while it was read.
            return Err(NpyError::DataLength { expected: self.data_len, got });
        }
        Ok(())
    }
}
