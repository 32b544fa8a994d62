//! The `.npy` reader against NumPy's rules (`numpy.lib.format`): hand-made headers NumPy refuses,
//! each refused with its own message; hand-made headers NumPy reads, each read with NumPy's shape
//! and dtype, in format versions 1.0, 2.0 and 3.0; the files NumPy itself wrote
//! (tests/data/npy, from scripts/npy_corpus.py); and paths that are not regular files. Every
//! byte string goes through the three entry points, `NpyArray::parse`, `NpyArray::read_file` and
//! `NpyReader` (the header first, then the data straight into a typed buffer), which must agree;
//! and `write_slice` writes the bytes `to_bytes` builds.

use simdpool::npy::{MAX_HEADER_LEN, NpyArray, NpyDType, NpyElement, NpyError, NpyReader, write_slice};
use std::path::{Path, PathBuf};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("simdpool-npy-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file of format `version`.0 whose header is `text` padded with spaces to a multiple of 64
/// bytes and ended with a newline, as NumPy writes it.
fn file(version: u8, text: &str, data: &[u8]) -> Vec<u8> {
    let prefix = if version == 1 { 10 } else { 12 };
    let mut header = text.as_bytes().to_vec();
    while !(prefix + header.len() + 1).is_multiple_of(64) {
        header.push(b' ');
    }
    header.push(b'\n');
    exact(version, &header, data)
}

/// A file of format `version`.0 with exactly these header bytes.
fn exact(version: u8, header: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = b"\x93NUMPY".to_vec();
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header);
    out.extend_from_slice(data);
    out
}

/// Reads `bytes` from memory, from a file, and from a file through the typed reader; all must
/// give the same result.
fn read_both(dir: &TempDir, bytes: &[u8]) -> Result<NpyArray, NpyError> {
    let path = dir.path("case.npy");
    std::fs::write(&path, bytes).unwrap();
    let from_memory = NpyArray::parse(bytes);
    let from_file = NpyArray::read_file(&path);
    assert_eq!(from_memory, from_file, "parse and read_file disagree");
    assert_eq!(read_typed(&path), from_file, "NpyReader and read_file disagree");
    from_memory
}

/// Reads `path` with `NpyReader::read_vec` as the element type its header names.
fn read_typed(path: &Path) -> Result<NpyArray, NpyError> {
    fn read<T: NpyElement>(r: NpyReader) -> Result<NpyArray, NpyError> {
        let shape = r.shape().to_vec();
        let n = r.len();
        let v = r.read_vec::<T>()?;
        assert_eq!(v.len(), n);
        Ok(NpyArray::from_slice(&shape, &v))
    }
    let r = NpyReader::open(path)?;
    match r.dtype() {
        NpyDType::F32 => read::<f32>(r),
        NpyDType::F64 => read::<f64>(r),
        NpyDType::F16 => read::<simdpool::f16>(r),
        NpyDType::U16 => read::<simdpool::bf16>(r),
        NpyDType::U8 => read::<u8>(r),
        NpyDType::I8 => read::<i8>(r),
        NpyDType::I64 => read::<i64>(r),
    }
}

fn header_error(why: &str) -> NpyError {
    NpyError::BadHeader(why.to_string())
}

const EXTRA_KEY: &str = "unexpected key \"x\": a header has exactly the keys 'descr', 'fortran_order' and 'shape'";

/// `{'descr': '<f4', 'fortran_order': False, 'shape': SHAPE, }` with `shape` spliced in.
fn f32_with_shape(shape: &str) -> String {
    format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}")
}

fn f32_with_order(order: &str) -> String {
    format!("{{'descr': '<f4', 'fortran_order': {order}, 'shape': (2, 3), }}")
}

#[test]
fn headers_numpy_refuses_are_refused_with_their_reason() {
    // Every row is refused by numpy.load too (checked with NumPy 2.4), except those marked
    // [numpy reads it]: legal Python that no NumPy writer produces (duplicate keys, escapes,
    // signed or hexadecimal dimensions, comments, dtype names), trailing data NumPy ignores, and
    // Fortran order, which this crate does not read. Refusing those is allowed: a file is read
    // as NumPy reads it, or refused.
    let dir = TempDir::new("refused");
    let d24 = [0u8; 24];
    let bad_dim =
        |d: &str| header_error(&format!("bad dimension {d:?}: shape entries are non-negative decimal integers"));
    let order = |w: &str| header_error(&format!("fortran_order must be True or False, found {w}"));
    let cases: Vec<(&str, Vec<u8>, NpyError)> = vec![
        // ---- the format version: numpy.lib.format reads 1.0, 2.0 and 3.0 only
        (
            "version 1.7",
            {
                let mut f = file(1, &f32_with_shape("(2, 3)"), &d24);
                f[7] = 7;
                f
            },
            NpyError::UnsupportedVersion(1, 7),
        ),
        (
            "version 2.1",
            {
                let mut f = file(2, &f32_with_shape("(2, 3)"), &d24);
                f[7] = 1;
                f
            },
            NpyError::UnsupportedVersion(2, 1),
        ),
        (
            "version 0.0",
            {
                let mut f = file(1, &f32_with_shape("(2, 3)"), &d24);
                f[6] = 0;
                f
            },
            NpyError::UnsupportedVersion(0, 0),
        ),
        (
            "version 4.0",
            {
                let mut f = file(3, &f32_with_shape("(2, 3)"), &d24);
                f[6] = 4;
                f
            },
            NpyError::UnsupportedVersion(4, 0),
        ),
        // ---- the keys: exactly descr, fortran_order and shape
        (
            "duplicate shape (Python keeps the last) [numpy reads it]",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'shape': (2, 3), }", &d24),
            header_error("duplicate key \"shape\""),
        ),
        (
            "duplicate descr [numpy reads it]",
            file(2, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", &d24),
            header_error("duplicate key \"descr\""),
        ),
        (
            "duplicate fortran_order [numpy reads it]",
            file(3, "{'descr': '<f4', 'fortran_order': True, 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("duplicate key \"fortran_order\""),
        ),
        (
            "an extra key whose string spells a shape",
            file(1, "{'descr': '<f4', 'x': \"'shape': (6,)\", 'fortran_order': False, 'shape': (2, 3), }", &d24),
            header_error(EXTRA_KEY),
        ),
        (
            "an extra key at the end",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", &d24),
            header_error(EXTRA_KEY),
        ),
        ("no shape", file(1, "{'descr': '<f4', 'fortran_order': False, }", &d24), header_error("missing key 'shape'")),
        ("no descr", file(1, "{'fortran_order': False, 'shape': (2, 3)}", &d24), header_error("missing key 'descr'")),
        (
            "no fortran_order",
            file(1, "{'descr': '<f4', 'shape': (2, 3)}", &d24),
            header_error("missing key 'fortran_order'"),
        ),
        ("an empty dict", file(1, "{}", &d24), header_error("missing key 'descr'")),
        (
            "a key without quotes",
            file(1, "{descr: '<f4', 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("expected a key (a quoted string), found \"descr: '<f4', 'f\"..."),
        ),
        // ---- fortran_order: a real bool
        ("fortran_order Falsehood", file(1, &f32_with_order("Falsehood"), &d24), order("\"Falsehood\"")),
        ("fortran_order false", file(1, &f32_with_order("false"), &d24), order("\"false\"")),
        ("fortran_order 0", file(1, &f32_with_order("0"), &d24), order("\"0\"")),
        ("fortran_order as a string", file(1, &f32_with_order("'False'"), &d24), order("\"'False', 'shape'\"...")),
        ("fortran_order missing", file(1, &f32_with_order(""), &d24), order("\", 'shape': (2, 3\"...")),
        // ---- shape: a tuple of non-negative ints
        (
            "shape (1,,, 1,,4 ,4)",
            file(1, &f32_with_shape("(1,,, 1,,4 ,4)"), &[0; 64]),
            header_error("shape has an empty element (a comma with no dimension before it)"),
        ),
        (
            "shape (,)",
            file(1, &f32_with_shape("(,)"), &[0; 4]),
            header_error("shape has an empty element (a comma with no dimension before it)"),
        ),
        (
            "shape (2,,)",
            file(1, &f32_with_shape("(2,,)"), &[0; 8]),
            header_error("shape has an empty element (a comma with no dimension before it)"),
        ),
        (
            "junk after the shape tuple",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 4, 4, ) junk}", &[0; 64]),
            header_error("expected ',' or '}' after the value of \"shape\", found \"junk}\""),
        ),
        (
            "junk after the dict",
            file(1, &format!("{} junk", f32_with_shape("(1, 1, 4, 4, )")), &[0; 64]),
            header_error("unexpected text after the header dictionary: \"junk\""),
        ),
        (
            "a comment after the dict [numpy reads it]",
            file(1, &format!("{} # note", f32_with_shape("(2, 3)")), &d24),
            header_error("unexpected text after the header dictionary: \"# note\""),
        ),
        (
            "a second dict",
            file(1, &format!("{} {{}}", f32_with_shape("(2, 3)")), &d24),
            header_error("unexpected text after the header dictionary: \"{}\""),
        ),
        (
            "shape (6) is an int",
            file(1, &f32_with_shape("(6)"), &d24),
            header_error("shape (6) is an integer in parentheses, not a tuple: a 1-tuple is written (6,)"),
        ),
        (
            "shape 6",
            file(1, &f32_with_shape("6"), &d24),
            header_error("shape is not a tuple: expected '(', found \"6, }\""),
        ),
        (
            "shape [2, 3]",
            file(1, &f32_with_shape("[2, 3]"), &d24),
            header_error("shape is not a tuple: expected '(', found \"[2, 3], }\""),
        ),
        (
            "shape ((2, 3),)",
            file(1, &f32_with_shape("((2, 3),)"), &d24),
            header_error("expected a dimension in shape, found \"(2, 3),), }\""),
        ),
        (
            "shape (2, 3 without its parenthesis",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}", &d24),
            header_error("expected ',' or ')' in shape, found \"}\""),
        ),
        ("dimension -1", file(1, &f32_with_shape("(-1, 3)"), &d24), bad_dim("-1")),
        ("dimension +2 [numpy reads it]", file(1, &f32_with_shape("(+2, 3)"), &d24), bad_dim("+2")),
        ("dimension 0x2 [numpy reads it]", file(1, &f32_with_shape("(0x2, 3)"), &d24), bad_dim("0x2")),
        ("dimension 2.0", file(1, &f32_with_shape("(2.0, 3)"), &d24), bad_dim("2.0")),
        ("dimension 2e0", file(1, &f32_with_shape("(2e0, 3)"), &d24), bad_dim("2e0")),
        ("dimension 2L (Python 2) [numpy reads it]", file(1, &f32_with_shape("(2L, 3L)"), &d24), bad_dim("2L")),
        ("dimension True", file(1, &f32_with_shape("(True, 6)"), &d24), bad_dim("True")),
        ("dimension 1__0", file(1, &f32_with_shape("(1__0,)"), &[0; 40]), bad_dim("1__0")),
        ("dimension 10_", file(1, &f32_with_shape("(10_,)"), &[0; 40]), bad_dim("10_")),
        (
            "dimension 02 (leading zero)",
            file(1, &f32_with_shape("(02, 3)"), &d24),
            header_error("bad dimension \"02\": Python does not allow leading zeros"),
        ),
        (
            "a dimension past 64 bits",
            file(1, &f32_with_shape("(99999999999999999999999,)"), &[]),
            header_error("dimension 99999999999999999999999 is too large"),
        ),
        (
            "65 dimensions",
            file(1, &f32_with_shape(&format!("({})", "1, ".repeat(65))), &[0; 4]),
            header_error("shape has more than 64 dimensions, the most NumPy allows"),
        ),
        (
            "a shape whose size overflows",
            file(1, &f32_with_shape(&format!("({}, 4)", usize::MAX / 2)), &[]),
            header_error("shape overflows"),
        ),
        // ---- strings
        (
            "descr not a string",
            file(1, "{'descr': 4, 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("expected descr (a quoted string), found \"4, 'fortran_orde\"..."),
        ),
        (
            "descr with an escape [numpy reads it]",
            file(1, "{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("descr: escape sequences are not supported in header strings"),
        ),
        (
            "descr as bytes b'<f4' [numpy reads it]",
            file(1, "{'descr': b'<f4', 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("expected descr (a quoted string), found \"b'<f4', 'fortran\"..."),
        ),
        (
            "descr unterminated",
            file(1, "{'descr': '<f4, 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("expected ',' or '}' after the value of \"descr\", found \"fortran_order': \"..."),
        ),
        (
            "a string across lines",
            file(1, "{'descr': '<f4\n', 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("descr: unterminated string"),
        ),
        (
            "mixed quotes",
            file(1, "{'descr\": '<f4', 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error(
                "unexpected key \"descr\\\": \": a header has exactly the keys 'descr', 'fortran_order' and 'shape'",
            ),
        ),
        // ---- the dict's punctuation and whitespace
        (
            "no colon",
            file(1, "{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("expected ':' after the key \"descr\", found \"'<f4', 'fortran_\"..."),
        ),
        (
            "no comma between entries",
            file(1, "{'descr': '<f4' 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("expected ',' or '}' after the value of \"descr\", found \"'fortran_order':\"..."),
        ),
        (
            "two commas between entries",
            file(1, "{'descr': '<f4',, 'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("expected a key (a quoted string), found \", 'fortran_order\"..."),
        ),
        (
            "no closing brace",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", &d24),
            header_error("expected a key (a quoted string), found the end of the header"),
        ),
        (
            "a list, not a dict",
            file(1, "['descr', '<f4']", &d24),
            header_error("expected '{' at the start of the header dictionary, found \"['descr', '<f4']\""),
        ),
        (
            "a vertical tab (not Python whitespace)",
            file(1, "{'descr': '<f4',\x0b'fortran_order': False, 'shape': (2, 3)}", &d24),
            header_error("expected a key (a quoted string), found \"\\u{b}'fortran_order'\"..."),
        ),
        (
            "a NUL byte",
            file(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\0", &d24),
            header_error("unexpected text after the header dictionary: \"\\0\""),
        ),
        (
            "no newline at the end",
            exact(1, f32_with_shape("(2, 3)").as_bytes(), &d24),
            header_error("the header does not end with a newline"),
        ),
        ("an empty header", exact(1, b"", &d24), header_error("the header does not end with a newline")),
        (
            "a header of one newline",
            exact(1, b"\n", &d24),
            header_error("expected '{' at the start of the header dictionary, found the end of the header"),
        ),
        (
            "a version 3.0 header that is not UTF-8",
            exact(3, b"{'descr': '\xff', 'fortran_order': False, 'shape': ()}\n", &[0; 4]),
            header_error("a version 3.0 header must be UTF-8"),
        ),
        (
            "a latin-1 byte in a version 1.0 key",
            file(1, "{'descr': '<f4', 'fortran_\u{e9}rder': False, 'shape': (2, 3)}", &d24),
            {
                // The Rust string is UTF-8 (two bytes for é), read back as latin-1 (two characters).
                header_error(
                    "unexpected key \"fortran_\u{c3}\u{a9}rder\": a header has exactly the keys 'descr', 'fortran_order' and 'shape'",
                )
            },
        ),
        // ---- header length
        (
            "a header over NumPy's 10000-byte limit",
            exact(2, format!("{}{}\n", f32_with_shape("(2, 3)"), " ".repeat(MAX_HEADER_LEN)).as_bytes(), &d24),
            NpyError::HeaderTooLong(MAX_HEADER_LEN + 60),
        ),
        (
            "a header length past the end of the file",
            {
                let mut f = file(1, &f32_with_shape("(2, 3)"), &[]);
                f[8..10].copy_from_slice(&5000u16.to_le_bytes());
                f
            },
            NpyError::Truncated { needed: 5010, got: 128 },
        ),
        (
            "a file ending in the preamble",
            b"\x93NUMPY\x03\x00\x10\x00".to_vec(),
            NpyError::Truncated { needed: 12, got: 10 },
        ),
        ("a file ending after the magic", b"\x93NUMPY\x01".to_vec(), NpyError::Truncated { needed: 10, got: 7 }),
        ("no magic", b"NUMPY\x01\x00".to_vec(), NpyError::BadMagic),
        // ---- dtype and order
        ("Fortran order [numpy reads it]", file(1, &f32_with_order("True"), &d24), NpyError::FortranOrder),
        (
            "big-endian f4",
            file(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3)}", &d24),
            NpyError::UnsupportedDType(">f4".into()),
        ),
        (
            "complex",
            file(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}", &d24),
            NpyError::UnsupportedDType("<c8".into()),
        ),
        (
            "a dtype name [numpy reads it]",
            file(1, "{'descr': 'float32', 'fortran_order': False, 'shape': (2, 3)}", &d24),
            NpyError::UnsupportedDType("float32".into()),
        ),
        (
            "a descr with a space",
            file(1, "{'descr': '<f4 ', 'fortran_order': False, 'shape': (2, 3)}", &d24),
            NpyError::UnsupportedDType("<f4 ".into()),
        ),
        // ---- data length against the header
        (
            "data one byte short",
            file(1, &f32_with_shape("(2, 3)"), &[0; 23]),
            NpyError::DataLength { expected: 24, got: 23 },
        ),
        (
            "data one byte long [numpy reads it]",
            file(1, &f32_with_shape("(2, 3)"), &[0; 25]),
            NpyError::DataLength { expected: 24, got: 25 },
        ),
        (
            "a () shape without its element",
            file(1, &f32_with_shape("()"), &[]),
            NpyError::DataLength { expected: 4, got: 0 },
        ),
        (
            "4 TB claimed by a small file",
            file(2, &f32_with_shape("(1000, 1000, 1000, 1000)"), &[0; 100]),
            NpyError::DataLength { expected: 4_000_000_000_000, got: 100 },
        ),
    ];
    let mut failed = Vec::new();
    for (name, bytes, want) in &cases {
        match read_both(&dir, bytes) {
            Ok(a) => failed.push(format!("{name}: accepted as {:?} {:?}", a.dtype, a.shape)),
            Err(got) if got != *want => failed.push(format!("{name}:\n  got  {got:?}\n  want {want:?}")),
            Err(got) => assert!(!got.to_string().is_empty()),
        }
    }
    assert!(failed.is_empty(), "{} of {} cases:\n{}", failed.len(), cases.len(), failed.join("\n"));
}

const DTYPES: [(NpyDType, &str); 7] = [
    (NpyDType::F32, "<f4"),
    (NpyDType::F64, "<f8"),
    (NpyDType::F16, "<f2"),
    (NpyDType::U16, "<u2"),
    (NpyDType::U8, "|u1"),
    (NpyDType::I8, "|i1"),
    (NpyDType::I64, "<i8"),
];

#[test]
fn headers_numpy_reads_are_read_with_its_shape_and_dtype() {
    let dir = TempDir::new("read");
    // Every dtype (and the other spellings of the one-byte types), every version, and shapes
    // from () up, in NumPy's own spelling.
    let mut cases: Vec<(String, u8, String, NpyDType, Vec<usize>)> = Vec::new();
    let mut descrs: Vec<(NpyDType, &str)> = DTYPES.to_vec();
    descrs.extend([(NpyDType::U8, "<u1"), (NpyDType::U8, "u1"), (NpyDType::I8, "<i1"), (NpyDType::I8, "i1")]);
    for version in 1..=3u8 {
        for &(dtype, descr) in &descrs {
            for (text, dims) in [
                ("()", vec![]),
                ("(3,)", vec![3]),
                ("(2, 3)", vec![2, 3]),
                ("(0, 5)", vec![0, 5]),
                ("(1, 2, 2, 2, 1)", vec![1, 2, 2, 2, 1]),
            ]
            .into_iter()
            .chain([(&*format!("({})", "1, ".repeat(64)), vec![1; 64])])
            {
                let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {text}, }}");
                cases.push((format!("{descr} {text} v{version}"), version, header, dtype, dims));
            }
        }
        // Odd but legal spellings (each checked with numpy.load when this table was written).
        let odd: [(&str, &str, Vec<usize>); 14] = [
            ("double quotes", "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}", vec![2, 3]),
            ("no spaces", "{'descr':'<f4','fortran_order':False,'shape':(2,3)}", vec![2, 3]),
            ("no trailing comma in the tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", vec![2, 3]),
            (
                "a trailing comma in the tuple",
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3,),}",
                vec![2, 3],
            ),
            (
                "tabs and newlines",
                "{'descr':\t'<f4',\n 'fortran_order':\tFalse,\r\n 'shape': (\n2,\n3\n)\n}",
                vec![2, 3],
            ),
            ("form feeds", "{'descr': '<f4',\x0c'fortran_order': False, 'shape': (2,\x0c3)}", vec![2, 3]),
            ("leading whitespace", " \t\n{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", vec![2, 3]),
            (
                "spaces inside the tuple",
                "{'descr': '<f4', 'fortran_order': False, 'shape': ( 2 , 3 , ) , }",
                vec![2, 3],
            ),
            ("another key order", "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", vec![2, 3]),
            ("a spaced empty tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': ( ), }", vec![]),
            ("a spaced 1-tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': ( 6 , ), }", vec![6]),
            ("an underscore in a dimension", "{'descr': '<f4', 'fortran_order': False, 'shape': (1_2,), }", vec![12]),
            ("00 (zero)", "{'descr': '<f4', 'fortran_order': False, 'shape': (00, 3), }", vec![0, 3]),
            (
                "newlines before the padding",
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}\n\n",
                vec![2, 3],
            ),
        ];
        for (name, header, dims) in odd {
            cases.push((format!("{name} v{version}"), version, header.to_string(), NpyDType::F32, dims));
        }
    }
    let mut failed = Vec::new();
    for (name, version, header, dtype, dims) in &cases {
        let n = dims.iter().product::<usize>() * dtype.size();
        let data: Vec<u8> = (0..n).map(|i| (i * 7 + 1) as u8).collect();
        match read_both(&dir, &file(*version, header, &data)) {
            Ok(a) if a.dtype == *dtype && a.shape == *dims && a.data == data => {}
            Ok(a) => failed.push(format!("{name}: read as {:?} {:?} ({} bytes)", a.dtype, a.shape, a.data.len())),
            Err(e) => failed.push(format!("{name}: {e}")),
        }
    }
    assert!(failed.is_empty(), "{} of {} cases:\n{}", failed.len(), cases.len(), failed.join("\n"));
}

#[test]
fn what_the_writer_writes_the_reader_reads() {
    let dir = TempDir::new("roundtrip");
    for shape in [vec![], vec![4], vec![1, 2, 3], vec![0]] {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|i| i as f32 - 1.5).collect();
        let a = NpyArray::from_f32(&shape, &values);
        let b = read_both(&dir, &a.to_bytes()).unwrap();
        assert_eq!(a, b);
        assert_eq!(b.to_vec::<f32>().unwrap(), values);
    }
}

/// The data of element k of every corpus array: (k % 7) - 3, or k % 7 for u1, as the element
/// type (for <u2, the bf16 bits of that value).
fn corpus_data(dtype: NpyDType, n: usize) -> Vec<u8> {
    let v = |k: usize| (k % 7) as i64 - 3;
    match dtype {
        NpyDType::F32 => NpyArray::from_slice(&[n], &(0..n).map(|k| v(k) as f32).collect::<Vec<_>>()).data,
        NpyDType::F64 => NpyArray::from_slice(&[n], &(0..n).map(|k| v(k) as f64).collect::<Vec<_>>()).data,
        NpyDType::F16 => {
            NpyArray::from_slice(&[n], &(0..n).map(|k| simdpool::f16::from_f64(v(k) as f64)).collect::<Vec<_>>()).data
        }
        NpyDType::U16 => {
            NpyArray::from_slice(&[n], &(0..n).map(|k| simdpool::bf16::from_f64(v(k) as f64)).collect::<Vec<_>>()).data
        }
        NpyDType::U8 => (0..n).map(|k| (k % 7) as u8).collect(),
        NpyDType::I8 => (0..n).map(|k| v(k) as i8 as u8).collect(),
        NpyDType::I64 => NpyArray::from_slice(&[n], &(0..n).map(v).collect::<Vec<_>>()).data,
    }
}

#[test]
fn files_numpy_wrote_are_read_with_its_shape_and_dtype() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/npy");
    let manifest = std::fs::read_to_string(root.join("MANIFEST")).expect("tests/data/npy/MANIFEST");
    let mut listed = Vec::new();
    for line in manifest.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut parts = line.split(' ');
        let (name, descr, dims) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap_or(""));
        let shape: Vec<usize> = dims.split(',').filter(|d| !d.is_empty()).map(|d| d.parse().unwrap()).collect();
        let dtype = DTYPES.iter().find(|d| d.1 == descr).unwrap_or_else(|| panic!("{name}: dtype {descr}")).0;
        let path = root.join(name);
        let a = NpyArray::read_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a, NpyArray::parse(&std::fs::read(&path).unwrap()).unwrap(), "{name}");
        assert_eq!((a.dtype, &a.shape), (dtype, &shape), "{name}");
        assert_eq!(a.data, corpus_data(dtype, shape.iter().product()), "{name}: data");
        listed.push(name.to_string());
    }
    // Every dtype in every version is there, and nothing unlisted.
    for (_, descr) in DTYPES {
        for v in 1..=3 {
            let prefix = format!("{}_v{v}_", &descr[1..]);
            assert!(listed.iter().any(|n| n.starts_with(&prefix)), "no {prefix}* file");
        }
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".npy"))
        .collect();
    on_disk.sort();
    listed.sort();
    assert_eq!(on_disk, listed, "tests/data/npy and its MANIFEST disagree");
}

#[test]
fn only_regular_files_are_read() {
    let dir = TempDir::new("special");
    assert_eq!(NpyArray::read_file(&dir.0), Err(NpyError::NotAFile("a directory")));
    assert!(matches!(NpyArray::read_file(dir.path("missing.npy")), Err(NpyError::Io(_))));
    #[cfg(unix)]
    {
        // Would read forever.
        if Path::new("/dev/zero").exists() {
            assert_eq!(NpyArray::read_file("/dev/zero"), Err(NpyError::NotAFile("a character device")));
        }
        // Would block until a writer opens it.
        let fifo = dir.path("fifo.npy");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
        if made {
            assert_eq!(NpyArray::read_file(&fifo), Err(NpyError::NotAFile("a FIFO")));
        }
        // A symlink to a regular file is read through.
        let target = dir.path("real.npy");
        std::fs::write(&target, NpyArray::from_f32(&[2], &[1.0, 2.0]).to_bytes()).unwrap();
        let link = dir.path("link.npy");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(NpyArray::read_file(&link).unwrap().shape, [2]);
    }
}

#[test]
fn a_lying_header_on_a_large_sparse_file_is_refused_before_reading() {
    // 4 TB claimed, 1 GiB present (sparse: no disk used). Refused from the file's length alone;
    // reading it would take a second and a gigabyte.
    let dir = TempDir::new("sparse");
    let path = dir.path("big.npy");
    let head = file(1, &f32_with_shape("(1000, 1000, 1000, 1000)"), &[]);
    std::fs::write(&path, &head).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(head.len() as u64 + (1 << 30)).unwrap();
    drop(f);
    assert_eq!(NpyArray::read_file(&path), Err(NpyError::DataLength { expected: 4_000_000_000_000, got: 1 << 30 }));
}

#[test]
fn the_typed_reader_refuses_special_files_and_lying_sizes_unread() {
    let dir = TempDir::new("typed-special");
    assert_eq!(NpyReader::open(&dir.0).unwrap_err(), NpyError::NotAFile("a directory"));
    #[cfg(unix)]
    {
        if Path::new("/dev/zero").exists() {
            assert_eq!(NpyReader::open("/dev/zero").unwrap_err(), NpyError::NotAFile("a character device"));
        }
        let fifo = dir.path("fifo.npy");
        if std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success()) {
            // Through a symbolic link too: the link is followed, the FIFO never opened.
            let link = dir.path("link.npy");
            std::os::unix::fs::symlink(&fifo, &link).unwrap();
            assert_eq!(NpyReader::open(&fifo).unwrap_err(), NpyError::NotAFile("a FIFO"));
            assert_eq!(NpyReader::open(&link).unwrap_err(), NpyError::NotAFile("a FIFO"));
        }
    }
    // 4 TB claimed, 1 GiB present (sparse): refused on opening, from the length alone.
    let path = dir.path("big.npy");
    let head = file(1, &f32_with_shape("(1000, 1000, 1000, 1000)"), &[]);
    std::fs::write(&path, &head).unwrap();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(head.len() as u64 + (1 << 30)).unwrap();
    assert_eq!(NpyReader::open(&path).unwrap_err(), NpyError::DataLength { expected: 4_000_000_000_000, got: 1 << 30 });
}

#[test]
fn the_typed_reader_reads_the_stored_type_only_and_notices_a_shrunk_file() {
    let dir = TempDir::new("typed");
    let path = dir.path("a.npy");
    std::fs::write(&path, NpyArray::from_f32(&[2, 3], &[1., 2., 3., 4., 5., 6.]).to_bytes()).unwrap();
    let r = NpyReader::open(&path).unwrap();
    assert_eq!((r.dtype(), r.shape(), r.len(), r.is_empty()), (NpyDType::F32, &[2, 3][..], 6, false));
    assert_eq!(r.read_vec::<u8>(), Err(NpyError::WrongDType { wanted: NpyDType::U8, found: NpyDType::F32 }));
    assert_eq!(NpyReader::open(&path).unwrap().read_vec::<f32>().unwrap(), [1., 2., 3., 4., 5., 6.]);
    // The file loses its last element after the header was checked.
    let r = NpyReader::open(&path).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len - 4).unwrap();
    assert_eq!(r.read_vec::<f32>(), Err(NpyError::DataLength { expected: 24, got: 20 }));
    // An empty array reads as an empty buffer.
    std::fs::write(&path, NpyArray::from_f32(&[0, 3], &[]).to_bytes()).unwrap();
    let r = NpyReader::open(&path).unwrap();
    assert!(r.is_empty());
    assert_eq!(r.read_vec::<f32>().unwrap(), Vec::<f32>::new());
}

#[test]
fn write_slice_writes_what_to_bytes_builds() {
    fn same<T: NpyElement>(shape: &[usize], data: &[T]) {
        let mut streamed = Vec::new();
        write_slice(&mut streamed, shape, data).unwrap();
        assert_eq!(streamed, NpyArray::from_slice(shape, data).to_bytes(), "{:?} {shape:?}", T::NPY);
    }
    let vals: Vec<f64> = (0..24).map(|k| k as f64 * 0.75 - 4.0).collect();
    for shape in [&[24][..], &[2, 3, 4], &[1, 1, 1, 2, 3, 4], &[0, 5], &[]] {
        let n: usize = shape.iter().product();
        let v = &vals[..n];
        same(shape, &v.iter().map(|&x| x as f32).collect::<Vec<_>>());
        same(shape, v);
        same(shape, &v.iter().map(|&x| simdpool::f16::from_f64(x)).collect::<Vec<_>>());
        same(shape, &v.iter().map(|&x| simdpool::bf16::from_f64(x)).collect::<Vec<_>>());
        same(shape, &v.iter().map(|&x| x as i64 as u8).collect::<Vec<_>>());
        same(shape, &v.iter().map(|&x| x as i8).collect::<Vec<_>>());
        same(shape, &v.iter().map(|&x| x as i64).collect::<Vec<_>>());
    }
    // A header over 65535 bytes is written as format 2.0, as to_bytes writes it.
    let long: Vec<usize> = [1; 30_000].iter().chain(&[0]).copied().collect();
    let mut streamed = Vec::new();
    write_slice(&mut streamed, &long, &[0f32; 0]).unwrap();
    assert_eq!(&streamed[6..8], [2, 0]);
    same(&long, &[0f32; 0]);
    // Data that does not fill the shape is an error, and nothing is written.
    let mut out = Vec::new();
    let err = write_slice(&mut out, &[2, 3], &[0f32; 5]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(out.is_empty());
}
