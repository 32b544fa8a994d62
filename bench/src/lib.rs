//! The simdpool benchmark suite, shared by `cargo bench --bench pooling` (criterion),
//! `cargo bench --bench instructions` (iai-callgrind) and `simdpool bench`:
//! * [`suite`]: `benches/suite.json`, real layers from published networks;
//! * [`workload`]: a case in one layout and pass (forward or backward) with deterministic data,
//!   run through a plan forced to an ISA level or through the scalar reference, and checked
//!   against it;
//! * [`roofline`]: read and write bandwidth at a case's footprint, with the widest vectors;
//! * [`timing`]: warm-up, timed batches, median and interquartile spread;
//! * [`runner`] and [`report`]: what `simdpool bench` runs and prints.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod estimates;
pub mod report;
pub mod roofline;
pub mod runner;
pub mod suite;
pub mod timing;
pub mod workload;

pub use runner::{IsaChoice, Options, Record, Report};
pub use suite::{Case, LAYOUTS, Suite, layout_name, parse_layout};
pub use workload::{Pass, Threads, Workload};
