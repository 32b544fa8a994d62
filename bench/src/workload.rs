//! A suite case in one layout, with its buffers: runs a plan at a chosen ISA level, or the scalar
//! reference, and checks one against the other.

use crate::suite::{Case, layout_name};
use simdpool::{DType, Element, Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape, Threading, bf16, f16, reference};

/// How a plan uses threads in a measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    /// Strictly on the calling thread (`PlanOptions::calling_thread`).
    One,
    /// Split over the current rayon pool (run the measurement inside `ThreadPool::install`).
    Pool,
}

/// An empty vector with room for exactly `len` elements, or an error naming `what` if memory
/// cannot hold them (never an abort in the allocator).
fn room_for<T>(len: usize, what: &str) -> Result<Vec<T>, String> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| format!("cannot allocate the {what}: {len} elements of {} bytes", std::mem::size_of::<T>()))?;
    Ok(v)
}

/// Deterministic input data: a 64-bit LCG, so every run and every tool sees the same values.
fn fill<T: Element>(len: usize, seed: u64, dtype: DType) -> Result<Vec<T>, String> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut input = room_for(len, "input")?;
    input.extend((0..len).map(|_| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let bits = (state >> 40) as u32; // 24 random bits
        let v = match dtype {
            DType::U8 => (bits & 0xff) as f64,
            DType::I8 => (bits & 0xff) as f64 - 128.0,
            // Floats: [-8, 8) on a 1/2^20 grid, exactly representable in every float type
            // after rounding.
            _ => (bits as f64 / (1u64 << 20) as f64) - 8.0,
        };
        T::from_f64(v)
    }));
    Ok(input)
}

/// Type-erased operations on a workload's buffers.
trait Buffers: Send {
    fn prepare(&mut self, op: &PoolOp, shape: &TensorShape, options: PlanOptions) -> Result<(), String>;
    fn run(&mut self);
    fn route(&self) -> Option<simdpool::Route>;
    fn run_reference(&mut self, op: &PoolOp, shape: &TensorShape) -> Result<(), String>;
    fn compare(&self) -> Result<(), String>;
    fn has_reference(&self) -> bool;
    fn input_any(&self) -> &dyn std::any::Any;
    fn reference_any(&self) -> Option<&dyn std::any::Any>;
}

struct Typed<T: Element> {
    input: Vec<T>,
    output: Vec<T>,
    plan: Option<Plan<T>>,
    reference: Option<Vec<T>>,
    exact: bool,
}

impl<T: Element + Send> Buffers for Typed<T> {
    fn prepare(&mut self, op: &PoolOp, shape: &TensorShape, options: PlanOptions) -> Result<(), String> {
        let plan = Plan::<T>::with_options(op, shape, options).map_err(|e| e.to_string())?;
        if self.output.len() != plan.output_len() {
            self.output = room_for(plan.output_len(), "output")?;
            self.output.resize(plan.output_len(), T::zeroed());
        }
        self.plan = Some(plan);
        Ok(())
    }

    fn run(&mut self) {
        let plan = self.plan.as_ref().expect("prepare() before run()");
        plan.run(&self.input, &mut self.output).expect("buffer lengths match the plan");
    }

    fn route(&self) -> Option<simdpool::Route> {
        self.plan.as_ref().map(Plan::route)
    }

    fn run_reference(&mut self, op: &PoolOp, shape: &TensorShape) -> Result<(), String> {
        let pooled = reference::pool::<T>(op, &self.input, shape).map_err(|e| e.to_string())?;
        self.reference = Some(std::hint::black_box(pooled.values));
        Ok(())
    }

    fn has_reference(&self) -> bool {
        self.reference.is_some()
    }

    fn input_any(&self) -> &dyn std::any::Any {
        &self.input
    }

    fn reference_any(&self) -> Option<&dyn std::any::Any> {
        self.reference.as_ref().map(|r| r as &dyn std::any::Any)
    }

    fn compare(&self) -> Result<(), String> {
        let want = self.reference.as_ref().ok_or("reference not computed")?;
        compare(&self.output, want, self.exact)
    }
}

fn is_exact(op: &PoolOp) -> bool {
    matches!(op, PoolOp::Max(_) | PoolOp::GlobalMax | PoolOp::AdaptiveMax(_))
}

/// Max (and every integer result) exactly; averages accumulate in f32 in the kernels and in f64 in
/// the reference, so they must agree within the tolerance of the golden tests (1e-5 relative or
/// 1e-6 absolute).
fn compare<T: Element>(got: &[T], want: &[T], exact: bool) -> Result<(), String> {
    if want.len() != got.len() {
        return Err(format!("output length {} != reference length {}", got.len(), want.len()));
    }
    let mut bad = 0usize;
    let mut first = None;
    for (i, (&g, &e)) in got.iter().zip(want).enumerate() {
        let ok = if exact || T::DTYPE == DType::U8 || T::DTYPE == DType::I8 {
            bytemuck::bytes_of(&g) == bytemuck::bytes_of(&e)
        } else {
            let (g, e) = (g.to_f64(), e.to_f64());
            (g.is_nan() && e.is_nan()) || (g - e).abs() <= 1e-6_f64.max(1e-5 * e.abs())
        };
        if !ok {
            bad += 1;
            first.get_or_insert((i, g.to_f64(), e.to_f64()));
        }
    }
    match first {
        None => Ok(()),
        Some((i, g, e)) => {
            Err(format!("{bad} of {} outputs differ from the reference (first at {i}: {g} vs {e})", want.len()))
        }
    }
}

fn typed<T: Element + Send>(len: usize, seed: u64, exact: bool) -> Result<Box<dyn Buffers>, String> {
    let input = fill(len, seed, T::DTYPE)?;
    Ok(Box::new(Typed::<T> { input, output: Vec::new(), plan: None, reference: None, exact }))
}

/// This machine's physical memory in bytes, where the system says (Linux: `/proc/meminfo`).
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `512 B`, `3.0 MiB`, `37.3 GiB`...
fn human(bytes: u128) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{bytes} B") } else { format!("{v:.1} {}", units[u]) }
}

/// The bytes a run of this case needs at its peak: the input, the plan's output, the
/// reference's output (twice while the reference replaces its previous result), and the
/// roofline's buffer of input + output bytes. Errors if that overflows or exceeds this machine's
/// memory, so that a case too large to run fails with a message before anything is allocated,
/// rather than being killed halfway by the out-of-memory killer.
pub fn memory_needed(case: &Case, layout: Layout) -> Result<u128, String> {
    let dtype = case.dtype()?;
    let shape = case.shape(layout)?;
    let op = case.pool_op()?;
    let output = op.output_shape(&shape).map_err(|e| format!("case {}: {e}", case.name))?;
    let size = dtype.size() as u128;
    let (input, output) = (shape.len() as u128 * size, output.len() as u128 * size);
    let need = 2 * input + 4 * output;
    if let Some(total) = physical_memory().filter(|&t| need > t as u128) {
        return Err(format!(
            "case {} ({}): its buffers need {} ({} of input, {} of output, kept more than once), \
             more than this machine's {} of memory",
            case.name,
            layout_name(layout),
            human(need),
            human(input),
            human(output),
            human(total as u128)
        ));
    }
    if input + output > isize::MAX as u128 {
        return Err(format!("case {}: {} of input and output cannot be addressed", case.name, human(input + output)));
    }
    Ok(need)
}

/// One suite case in one layout, with its input buffer.
pub struct Workload {
    /// The case.
    pub case: Case,
    /// The layout.
    pub layout: Layout,
    /// The op.
    pub op: PoolOp,
    /// Input shape.
    pub shape: TensorShape,
    /// Output shape.
    pub output_shape: TensorShape,
    /// Element type.
    pub dtype: DType,
    buffers: Box<dyn Buffers>,
}

impl Workload {
    /// Builds the case's input in `layout` (deterministic data). Errors if the layout does not
    /// apply to the case or the case is invalid.
    pub fn new(case: &Case, layout: Layout) -> Result<Workload, String> {
        case.applies_to(layout)?;
        let op = case.pool_op()?;
        let shape = case.shape(layout)?;
        let output_shape = op.output_shape(&shape).map_err(|e| format!("case {}: {e}", case.name))?;
        let dtype = case.dtype()?;
        memory_needed(case, layout)?;
        let seed = case.name.bytes().fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        let exact = is_exact(&op);
        let n = shape.len();
        let buffers = match dtype {
            DType::F32 => typed::<f32>(n, seed, exact),
            DType::F64 => typed::<f64>(n, seed, exact),
            DType::F16 => typed::<f16>(n, seed, exact),
            DType::BF16 => typed::<bf16>(n, seed, exact),
            DType::U8 => typed::<u8>(n, seed, exact),
            DType::I8 => typed::<i8>(n, seed, exact),
        }
        .map_err(|e| format!("case {} ({}): {e}", case.name, layout_name(layout)))?;
        Ok(Workload { case: case.clone(), layout, op, shape, output_shape, dtype, buffers })
    }

    /// `case/layout`, e.g. `resnet_stem_max/nhwc`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.case.name, layout_name(self.layout))
    }

    /// Bytes of input the op reads.
    pub fn input_bytes(&self) -> usize {
        self.shape.len() * self.dtype.size()
    }

    /// Bytes of output the op writes.
    pub fn output_bytes(&self) -> usize {
        self.output_shape.len() * self.dtype.size()
    }

    /// Builds the plan for `isa` (an error if this CPU or `SIMDPOOL_ISA` does not allow it);
    /// [`Workload::run`] then runs it.
    pub fn prepare(&mut self, isa: Isa, threads: Threads) -> Result<(), String> {
        let options = match threads {
            Threads::One => PlanOptions::isa(isa).calling_thread(),
            Threads::Pool => PlanOptions { isa: Some(isa), threading: Threading::Auto },
        };
        self.buffers.prepare(&self.op, &self.shape, options).map_err(|e| format!("{}: {e}", self.label()))
    }

    /// The kernel family of the prepared plan (`None` before [`Workload::prepare`]).
    pub fn route(&self) -> Option<simdpool::Route> {
        self.buffers.route()
    }

    /// Runs the prepared plan once into the output buffer.
    pub fn run(&mut self) {
        self.buffers.run()
    }

    /// Runs the scalar reference once, keeping its output for [`Workload::verify`].
    ///
    /// # Panics
    ///
    /// If the reference fails, which for a case that [`Workload::new`] accepted means its output
    /// cannot be allocated; [`Workload::try_run_reference`] returns that as an error.
    pub fn run_reference(&mut self) {
        if let Err(e) = self.try_run_reference() {
            panic!("{e}");
        }
    }

    /// Runs the scalar reference once, keeping its output for [`Workload::verify`]; an error if
    /// it fails (its output cannot be allocated).
    pub fn try_run_reference(&mut self) -> Result<(), String> {
        self.buffers.run_reference(&self.op, &self.shape).map_err(|e| format!("{}: reference: {e}", self.label()))
    }

    /// The input data in this workload's layout, if its element type is `T`.
    pub fn input<T: Element>(&self) -> Option<&[T]> {
        self.buffers.input_any().downcast_ref::<Vec<T>>().map(Vec::as_slice)
    }

    /// The output of the last [`Workload::run_reference`], if it ran and the element type is `T`.
    pub fn reference_output<T: Element>(&self) -> Option<&[T]> {
        self.buffers.reference_any()?.downcast_ref::<Vec<T>>().map(Vec::as_slice)
    }

    /// Checks `got` (in this workload's output layout) against the last reference output, with
    /// the rule of [`Workload::verify`].
    pub fn check_against_reference<T: Element>(&self, got: &[T]) -> Result<(), String> {
        let want = self.reference_output::<T>().ok_or("run_reference() first, with the case's element type")?;
        compare(got, want, is_exact(&self.op)).map_err(|e| format!("{}: {e}", self.label()))
    }

    /// Whether [`Workload::run_reference`] has run.
    pub fn has_reference(&self) -> bool {
        self.buffers.has_reference()
    }

    /// Checks the last plan output against the last reference output (max exactly; averages
    /// within 1e-5 relative or 1e-6 absolute).
    pub fn verify(&self) -> Result<(), String> {
        self.buffers.compare().map_err(|e| format!("{}: {e}", self.label()))
    }
}
