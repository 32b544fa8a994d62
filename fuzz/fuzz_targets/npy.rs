//! Arbitrary bytes into the `.npy` reader: it never panics, and whatever it accepts survives a
//! write and a second read unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use simdpool::npy::{NpyArray, NpyDType};

fuzz_target!(|data: &[u8]| {
    let Ok(a) = NpyArray::parse(data) else { return };
    assert_eq!(a.data.len(), a.shape.iter().product::<usize>() * a.dtype.size());
    let b = NpyArray::parse(&a.to_bytes()).expect("a parsed array must round-trip");
    assert_eq!(a, b);
    // Reading as the stored type works; any other type is a WrongDType error.
    let n = a.len();
    match a.dtype {
        NpyDType::F32 => assert_eq!(a.to_vec::<f32>().unwrap().len(), n),
        NpyDType::F64 => assert_eq!(a.to_vec::<f64>().unwrap().len(), n),
        NpyDType::F16 => assert_eq!(a.to_vec::<simdpool::f16>().unwrap().len(), n),
        NpyDType::U16 => assert_eq!(a.to_vec::<simdpool::bf16>().unwrap().len(), n),
        NpyDType::U8 => assert_eq!(a.to_vec::<u8>().unwrap().len(), n),
        NpyDType::I8 => assert_eq!(a.to_vec::<i8>().unwrap().len(), n),
        NpyDType::I64 => assert_eq!(a.to_vec::<i64>().unwrap().len(), n),
    }
    if a.dtype != NpyDType::F32 {
        assert!(a.to_vec::<f32>().is_err());
    }
});
