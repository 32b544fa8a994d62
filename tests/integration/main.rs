//! The library's integration tests, compiled as one test binary: one binary links and optimises
//! the library's generic plan code once instead of once per test file (the separate binaries took
//! 2.4x the build CPU time). Each module keeps the scope of the file it is in; run one with a
//! filter, e.g. `cargo test --test integration -- bad_input::`.
//!
//! | module | what it checks |
//! |---|---|
//! | [`differential`] | every op, layout, rank and element type on random shapes: every level against the reference |
//! | [`nchw_kernels`], [`nhwc_kernels`] | the channels-first and channels-last `f32` window kernels, every level against the Scalar level bit for bit |
//! | [`argmax_kernels`] | the `f32` max-with-indices kernels |
//! | [`global_kernels`] | the global kernels and their tie rescan |
//! | [`f64_kernels`], [`narrow_kernels`] | the `f64` SIMD kernels; the max kernels of `u8`, `i8`, `f16` and `bf16` |
//! | [`backward`] | every backward pass against its reference, every level, 1-3 threads |
//! | [`routes`] | each route forced by a shape chosen for it |
//! | [`semantics`], [`golden`] | one hand-computed case per rule; PyTorch's vectors |
//! | [`lp_range`] | Lp at every exponent and magnitude |
//! | [`threads`] | the same bits in rayon pools of 1, 2 and 3 threads |
//! | [`bad_input`], [`fuzz_regressions`] | hostile requests and the fuzzer's finds: exact errors, buffers untouched |
//! | [`guard_page`] | every path on buffers flush against inaccessible pages |
//! | [`detection`], [`levels`] | the level detection picks, and the levels the tests iterate |
//! | [`npy`] | the `.npy` reader against NumPy's rules |
//! | [`mutation_kills`] | rules the broad suites reach only by chance |

mod common;
#[cfg(all(unix, not(miri)))]
mod guard;

mod argmax_kernels;
mod backward;
mod bad_input;
mod detection;
mod differential;
mod f64_kernels;
mod fuzz_regressions;
mod global_kernels;
mod golden;
mod guard_page;
mod levels;
mod lp_range;
mod mutation_kills;
mod narrow_kernels;
mod nchw_kernels;
mod nhwc_kernels;
mod npy;
mod routes;
mod semantics;
mod threads;

/// The libtest name of `test` in the module whose `module_path!()` is `module` (the path without
/// the crate's name), for a child process that re-runs one test with `--exact`.
pub fn test_name(module: &str, test: &str) -> String {
    let within = module.split_once("::").map_or("", |(_, rest)| rest);
    if within.is_empty() { test.to_string() } else { format!("{within}::{test}") }
}
