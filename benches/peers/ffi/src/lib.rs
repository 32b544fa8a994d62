//! A C ABI over one simdpool plan of a suite case, for `py_peers.py --interleave`: Python hands
//! over the input (the same array the peer is given, at an alignment it chooses), then asks for
//! batches of calls timed here, between batches of the peer's calls timed in Python.
//!
//! Every function takes pointers from Python's `ctypes`; a null or mismatched pointer is the
//! caller's error, reported by a negative return where the function can tell.

use simdpool::{DType, Isa, Plan, PlanOptions};
use simdpool_bench::Workload;
use simdpool_bench::suite::{LAYOUTS, Suite, layout_name};
use std::ffi::{CStr, c_char};
use std::time::Instant;

/// One case's plan over an input borrowed from Python, and the output it writes.
pub struct Handle {
    plan: Plan<f32>,
    input: *const f32,
    input_len: usize,
    output: Vec<f32>,
}

fn text(p: *const c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: Python passes a NUL-terminated bytes object that lives across the call.
    Some(unsafe { CStr::from_ptr(p) }.to_str().ok()?.to_owned())
}

/// The plan of suite case `case` in layout `layout` ("nchw" or "nhwc") at the detected ISA level
/// (or the level named by the environment variable `SIMDPOOL_ISA`), on the calling thread, over `input_len` f32 at `input` (which must outlive the handle).
/// Null if the case is unknown, not f32, or the length does not match.
#[unsafe(no_mangle)]
pub extern "C" fn sp_prepare(
    case: *const c_char,
    layout: *const c_char,
    input: *const f32,
    input_len: usize,
) -> *mut Handle {
    let (Some(case), Some(layout)) = (text(case), text(layout)) else { return std::ptr::null_mut() };
    let suite = Suite::embedded();
    let Some(case) = suite.cases.iter().find(|c| c.name == case) else { return std::ptr::null_mut() };
    let Some(&layout) = LAYOUTS.iter().find(|l| layout_name(**l) == layout) else { return std::ptr::null_mut() };
    let Ok(w) = Workload::new(case, layout) else { return std::ptr::null_mut() };
    if w.dtype != DType::F32 {
        return std::ptr::null_mut();
    }
    let isa = match std::env::var("SIMDPOOL_ISA") {
        Ok(name) => match Isa::from_name(&name) {
            Some(isa) => isa,
            None => return std::ptr::null_mut(),
        },
        Err(_) => Isa::detected(),
    };
    let options = PlanOptions::isa(isa).calling_thread();
    let Ok(plan) = Plan::<f32>::with_options(&w.op, &w.shape, options) else { return std::ptr::null_mut() };
    if input.is_null() || input_len != plan.input_len() {
        return std::ptr::null_mut();
    }
    let output = vec![0.0; plan.output_len()];
    Box::into_raw(Box::new(Handle { plan, input, input_len, output }))
}

/// Runs the plan `calls` times and returns the seconds they took (negative on an error).
#[unsafe(no_mangle)]
pub extern "C" fn sp_run(h: *mut Handle, calls: usize) -> f64 {
    // SAFETY: `h` came from `sp_prepare` and has not been freed (the caller's contract).
    let Some(h) = (unsafe { h.as_mut() }) else { return -1.0 };
    // SAFETY: sp_prepare checked the pointer and length; the caller keeps the array alive.
    let input = unsafe { std::slice::from_raw_parts(h.input, h.input_len) };
    let t = Instant::now();
    for _ in 0..calls {
        if h.plan.run(input, &mut h.output).is_err() {
            return -1.0;
        }
    }
    t.elapsed().as_secs_f64()
}

/// Copies the last output into `out` (`len` f32); returns the output's length, or -1 if `len`
/// differs from it.
#[unsafe(no_mangle)]
pub extern "C" fn sp_output(h: *const Handle, out: *mut f32, len: usize) -> isize {
    // SAFETY: as in sp_run.
    let Some(h) = (unsafe { h.as_ref() }) else { return -1 };
    if out.is_null() || len != h.output.len() {
        return -1;
    }
    // SAFETY: the caller passes a writable array of `len` f32, checked equal to the output's.
    unsafe { std::ptr::copy_nonoverlapping(h.output.as_ptr(), out, len) };
    len as isize
}

/// Frees a handle from `sp_prepare`.
#[unsafe(no_mangle)]
pub extern "C" fn sp_free(h: *mut Handle) {
    if !h.is_null() {
        // SAFETY: `h` came from Box::into_raw in sp_prepare and is freed once.
        drop(unsafe { Box::from_raw(h) });
    }
}
