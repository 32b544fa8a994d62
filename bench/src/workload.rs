//! A suite case in one layout and pass, with its buffers: runs a plan at a chosen ISA level, or
//! the scalar reference, and checks one against the other.
//!
//! The backward pass of a case runs the plan's gradient for a deterministic gradient of the
//! output: max ops from the forward pass's indices ([`Plan::backward_with_indices`]), averages
//! from the gradient alone ([`Plan::backward`]), Lp (and a max op without indices) from the
//! forward input and output ([`Plan::backward_from_input`]). The indices and the forward output
//! are computed once, by the scalar reference, when the workload is built.

use crate::suite::{Case, layout_name};
use serde::{Deserialize, Serialize};
use simdpool::{DType, Element, Isa, Layout, Plan, PlanOptions, PoolOp, TensorShape, Threading, bf16, f16, reference};

/// Which pass of the op a workload measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pass {
    /// The pooling itself: input to output.
    Forward,
    /// The gradient of the input from the gradient of the output.
    Backward,
}

impl Pass {
    /// Both passes, forward first.
    pub const ALL: [Pass; 2] = [Pass::Forward, Pass::Backward];

    /// `forward` or `backward`.
    pub fn name(self) -> &'static str {
        match self {
            Pass::Forward => "forward",
            Pass::Backward => "backward",
        }
    }

    /// `fwd` or `bwd`, for table columns.
    pub fn short(self) -> &'static str {
        match self {
            Pass::Forward => "fwd",
            Pass::Backward => "bwd",
        }
    }

    /// Parses `forward` or `backward` (also `fwd`, `bwd`; any case).
    pub fn parse(s: &str) -> Result<Pass, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "forward" | "fwd" => Ok(Pass::Forward),
            "backward" | "bwd" => Ok(Pass::Backward),
            other => Err(format!("unknown pass {other:?} (expected forward or backward)")),
        }
    }
}

impl std::fmt::Display for Pass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the backward pass of an op runs: the plan method and what it reads besides the gradient
/// of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradMethod {
    /// Max ops with indices: [`Plan::backward_with_indices`] (reads the indices, 8 bytes each).
    Indices,
    /// Averages: [`Plan::backward`] (reads only the gradient of the output).
    Average,
    /// Lp, and max ops without indices: [`Plan::backward_from_input`] (reads the forward input
    /// and output).
    FromInput,
}

impl GradMethod {
    /// The method of `op`'s backward pass.
    pub fn of(op: &PoolOp) -> GradMethod {
        match op {
            PoolOp::Avg(..) | PoolOp::GlobalAvg | PoolOp::AdaptiveAvg(_) => GradMethod::Average,
            op if op.has_indices() => GradMethod::Indices,
            _ => GradMethod::FromInput,
        }
    }

    /// What the backward pass reads, e.g. `gradient output + indices`.
    pub fn reads(self) -> &'static str {
        match self {
            GradMethod::Indices => "gradient output + indices",
            GradMethod::Average => "gradient output",
            GradMethod::FromInput => "gradient output + forward input and output",
        }
    }
}

/// Whether `case` runs in `pass`: an error naming the case for an element type without a
/// gradient (`u8`, `i8`) in the backward pass.
pub fn pass_applies(case: &Case, pass: Pass) -> Result<(), String> {
    let dtype = case.dtype()?;
    if pass == Pass::Backward && matches!(dtype, DType::U8 | DType::I8) {
        return Err(format!("case {}: {} has no gradient (no backward pass)", case.name, dtype.name()));
    }
    Ok(())
}

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
    fn grad_output_any(&self) -> Option<&dyn std::any::Any>;
    fn compare(&self) -> Result<(), String>;
    fn has_reference(&self) -> bool;
    fn input_any(&self) -> &dyn std::any::Any;
    fn reference_any(&self) -> Option<&dyn std::any::Any>;
}

/// The extra buffers of a backward workload.
struct Grad<T: Element> {
    method: GradMethod,
    /// The gradient of the output (deterministic data).
    grad_output: Vec<T>,
    /// The forward output ([`GradMethod::FromInput`]; empty otherwise).
    forward: Vec<T>,
    /// The forward indices ([`GradMethod::Indices`]; empty otherwise).
    indices: Vec<i64>,
    /// The output shape.
    output_shape: TensorShape,
    /// The reference gradient of `|grad_output|` (and `|input|` for Lp): per element, the sum of
    /// the magnitudes of the terms the gradient adds, which bounds its rounding error. Computed
    /// with the first reference run.
    magnitude: Vec<T>,
}

struct Typed<T: Element> {
    input: Vec<T>,
    /// What the plan writes: the output (forward), or the gradient of the input (backward).
    output: Vec<T>,
    plan: Option<Plan<T>>,
    reference: Option<Vec<T>>,
    exact: bool,
    grad: Option<Grad<T>>,
}

impl<T: Element + Send> Buffers for Typed<T> {
    fn prepare(&mut self, op: &PoolOp, shape: &TensorShape, options: PlanOptions) -> Result<(), String> {
        let plan = Plan::<T>::with_options(op, shape, options).map_err(|e| e.to_string())?;
        let (len, what) = match self.grad {
            None => (plan.output_len(), "output"),
            Some(_) => (plan.input_len(), "gradient of the input"),
        };
        if self.output.len() != len {
            self.output = room_for(len, what)?;
            self.output.resize(len, T::zeroed());
        }
        self.plan = Some(plan);
        Ok(())
    }

    fn run(&mut self) {
        let plan = self.plan.as_ref().expect("prepare() before run()");
        let done = match &self.grad {
            None => plan.run(&self.input, &mut self.output),
            Some(g) => match g.method {
                GradMethod::Indices => plan.backward_with_indices(&g.indices, &g.grad_output, &mut self.output),
                GradMethod::Average => plan.backward(&g.grad_output, &mut self.output),
                GradMethod::FromInput => {
                    plan.backward_from_input(&self.input, &g.forward, &g.grad_output, &mut self.output)
                }
            },
        };
        done.expect("buffer lengths match the plan");
    }

    fn route(&self) -> Option<simdpool::Route> {
        self.plan.as_ref().map(Plan::route)
    }

    fn run_reference(&mut self, op: &PoolOp, shape: &TensorShape) -> Result<(), String> {
        let values = match &self.grad {
            None => reference::pool::<T>(op, &self.input, shape).map(|p| p.values),
            Some(g) if g.method == GradMethod::Indices => {
                reference::max_pool_backward_with_indices(shape, &g.output_shape, &g.indices, &g.grad_output)
            }
            Some(g) => reference::pool_backward(op, &self.input, shape, &g.grad_output),
        }
        .map_err(|e| e.to_string())?;
        self.reference = Some(std::hint::black_box(values));
        if let Some(g) = self.grad.as_mut().filter(|g| g.magnitude.is_empty()) {
            let abs = |v: &[T]| v.iter().map(|e| T::from_f64(e.to_f64().abs())).collect::<Vec<T>>();
            let go = abs(&g.grad_output);
            g.magnitude = match g.method {
                GradMethod::Indices => {
                    reference::max_pool_backward_with_indices(shape, &g.output_shape, &g.indices, &go)
                }
                _ if matches!(op, PoolOp::Lp(..)) => reference::pool_backward(op, &abs(&self.input), shape, &go),
                _ => reference::pool_backward(op, &self.input, shape, &go),
            }
            .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn grad_output_any(&self) -> Option<&dyn std::any::Any> {
        self.grad.as_ref().map(|g| &g.grad_output as &dyn std::any::Any)
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
        match &self.grad {
            Some(g) => compare_gradient(&self.output, want, &g.magnitude),
            None => compare(&self.output, want, self.exact),
        }
    }
}

/// A gradient sums up to one term per window holding the element, in the accumulator (`f32`, or
/// `f64` for `f64`) in the kernels and in `f64` in the reference: they agree within the
/// tolerance of [`compare`] plus `32 eps_acc` times the sum of the terms' magnitudes (`m`, from
/// [`Grad::magnitude`]), a bound on a sum of up to 33 terms (the suite's windows hold an element
/// in at most 25).
fn compare_gradient<T: Element>(got: &[T], want: &[T], magnitude: &[T]) -> Result<(), String> {
    if want.len() != got.len() || magnitude.len() != want.len() {
        return Err(format!("gradient length {} != reference length {}", got.len(), want.len()));
    }
    let eps = if T::DTYPE == DType::F64 { f64::EPSILON } else { f32::EPSILON as f64 };
    let mut bad = 0usize;
    let mut first = None;
    for (i, ((&g, &e), &m)) in got.iter().zip(want).zip(magnitude).enumerate() {
        let (g, e, m) = (g.to_f64(), e.to_f64(), m.to_f64().abs());
        let ok = (g.is_nan() && e.is_nan()) || (g - e).abs() <= 1e-6_f64.max(1e-5 * e.abs()) + 32.0 * eps * m;
        if !ok {
            bad += 1;
            first.get_or_insert((i, g, e));
        }
    }
    match first {
        None => Ok(()),
        Some((i, g, e)) => {
            Err(format!("{bad} of {} gradients differ from the reference (first at {i}: {g} vs {e})", want.len()))
        }
    }
}

fn is_exact(op: &PoolOp) -> bool {
    matches!(op, PoolOp::Max(_) | PoolOp::GlobalMax | PoolOp::AdaptiveMax(_))
}

/// Max (and every integer result) exactly; averages and every gradient accumulate in f32 in the
/// kernels and in f64 in the reference, so they must agree within the tolerance of the golden
/// tests (1e-5 relative or 1e-6 absolute; NaN equals NaN).
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

/// The seed of the gradient of the output, from the input's.
fn grad_seed(seed: u64) -> u64 {
    seed ^ 0x6772_6164_5f6f_7574 // "grad_out"
}

fn typed<T: Element + Send>(
    op: &PoolOp,
    shape: &TensorShape,
    seed: u64,
    pass: Pass,
) -> Result<Box<dyn Buffers>, String> {
    let input = fill(shape.len(), seed, T::DTYPE)?;
    let grad = match pass {
        Pass::Forward => None,
        Pass::Backward => {
            // The forward pass once, by the reference: its output and indices are deterministic.
            let method = GradMethod::of(op);
            let pooled = reference::pool::<T>(op, &input, shape).map_err(|e| format!("forward reference: {e}"))?;
            let grad_output = fill(pooled.values.len(), grad_seed(seed), T::DTYPE)?;
            let (forward, indices) = match method {
                GradMethod::Indices => (Vec::new(), pooled.indices.ok_or("the forward reference returned no indices")?),
                GradMethod::Average => (Vec::new(), Vec::new()),
                GradMethod::FromInput => (pooled.values, Vec::new()),
            };
            Some(Grad { method, grad_output, forward, indices, output_shape: pooled.shape, magnitude: Vec::new() })
        }
    };
    let exact = pass == Pass::Forward && is_exact(op);
    Ok(Box::new(Typed::<T> { input, output: Vec::new(), plan: None, reference: None, exact, grad }))
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

/// The bytes a forward run of this case needs at its peak: [`memory_needed_for`] the forward
/// pass.
pub fn memory_needed(case: &Case, layout: Layout) -> Result<u128, String> {
    memory_needed_for(case, layout, Pass::Forward)
}

/// The bytes a run of this case in `pass` needs at its peak, and errors if that overflows or
/// exceeds this machine's memory, so that a case too large to run fails with a message before
/// anything is allocated, rather than being killed halfway by the out-of-memory killer.
///
/// * Forward: the input, the plan's output, the reference's output (twice while the reference
///   replaces its previous result), and the roofline's buffer of input + output bytes.
/// * Backward: the input, the forward reference's output and indices (built once), the gradient
///   of the output, the plan's gradient of the input, the reference's (twice, with its `f64`
///   accumulator and, for [`reference::pool_backward`], its own forward pass), and the
///   roofline's buffer of the bytes read and written. A pass that does not apply (no gradient)
///   needs nothing.
pub fn memory_needed_for(case: &Case, layout: Layout, pass: Pass) -> Result<u128, String> {
    let dtype = case.dtype()?;
    let shape = case.shape(layout)?;
    let op = case.pool_op()?;
    let output = op.output_shape(&shape).map_err(|e| format!("case {}: {e}", case.name))?;
    if pass_applies(case, pass).is_err() {
        return Ok(0);
    }
    let size = dtype.size() as u128;
    let (elements, outputs) = (shape.len() as u128, output.len() as u128);
    let (input, output) = (elements * size, outputs * size);
    let need = match pass {
        Pass::Forward => 2 * input + 4 * output,
        Pass::Backward => {
            let indices = 8 * outputs;
            // Input, forward output + indices, gradient output, plan's gradient input.
            let buffers = input + (output + indices) + output + input;
            // Two reference results, its f64 accumulator, its forward pass.
            let reference = 2 * input + 8 * elements + (output + indices);
            // Read (at most the gradient output, indices or forward input and output) + written.
            let roofline = output + indices + input + output + input;
            buffers + reference + roofline
        }
    };
    if let Some(total) = physical_memory().filter(|&t| need > t as u128) {
        return Err(format!(
            "case {} ({}{}): its buffers need {} ({} of input, {} of output, kept more than once), \
             more than this machine's {} of memory",
            case.name,
            layout_name(layout),
            if pass == Pass::Forward { "" } else { ", backward" },
            human(need),
            human(input),
            human(output),
            human(total as u128)
        ));
    }
    let addressed = match pass {
        Pass::Forward => input + output,
        Pass::Backward => (8 * elements).max(input + output + 8 * outputs),
    };
    if addressed > isize::MAX as u128 {
        return Err(format!("case {}: {} of input and output cannot be addressed", case.name, human(addressed)));
    }
    Ok(need)
}

/// One suite case in one layout and pass, with its buffers.
pub struct Workload {
    /// The case.
    pub case: Case,
    /// The layout.
    pub layout: Layout,
    /// The pass measured.
    pub pass: Pass,
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
    /// The forward pass of the case in `layout` (deterministic input). Errors if the layout
    /// does not apply to the case or the case is invalid.
    pub fn new(case: &Case, layout: Layout) -> Result<Workload, String> {
        Workload::with_pass(case, layout, Pass::Forward)
    }

    /// The case in `layout` and `pass` (deterministic input, and for the backward pass a
    /// deterministic gradient of the output, with the forward output and indices it needs
    /// computed once by the reference). Errors if the layout does not apply to the case, the
    /// case is invalid, or the pass is backward and the element type has no gradient.
    pub fn with_pass(case: &Case, layout: Layout, pass: Pass) -> Result<Workload, String> {
        case.applies_to(layout)?;
        pass_applies(case, pass)?;
        let op = case.pool_op()?;
        let shape = case.shape(layout)?;
        let output_shape = op.output_shape(&shape).map_err(|e| format!("case {}: {e}", case.name))?;
        let dtype = case.dtype()?;
        memory_needed_for(case, layout, pass)?;
        let seed = case.name.bytes().fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        let buffers = match dtype {
            DType::F32 => typed::<f32>(&op, &shape, seed, pass),
            DType::F64 => typed::<f64>(&op, &shape, seed, pass),
            DType::F16 => typed::<f16>(&op, &shape, seed, pass),
            DType::BF16 => typed::<bf16>(&op, &shape, seed, pass),
            DType::U8 => typed::<u8>(&op, &shape, seed, pass),
            DType::I8 => typed::<i8>(&op, &shape, seed, pass),
        }
        .map_err(|e| format!("case {} ({}): {e}", case.name, layout_name(layout)))?;
        Ok(Workload { case: case.clone(), layout, pass, op, shape, output_shape, dtype, buffers })
    }

    /// `case/layout` for the forward pass (e.g. `resnet_stem_max/nhwc`), `case/layout/backward`
    /// for the backward pass.
    pub fn label(&self) -> String {
        match self.pass {
            Pass::Forward => format!("{}/{}", self.case.name, layout_name(self.layout)),
            Pass::Backward => format!("{}/{}/backward", self.case.name, layout_name(self.layout)),
        }
    }

    /// How the backward pass runs (`None` for the forward pass).
    pub fn grad_method(&self) -> Option<GradMethod> {
        (self.pass == Pass::Backward).then(|| GradMethod::of(&self.op))
    }

    /// Bytes the pass reads: the input (forward); the gradient of the output, plus the indices
    /// (8 bytes per output) for max ops or the forward input and output for Lp (backward).
    pub fn input_bytes(&self) -> usize {
        let (input, output) = (self.shape.len() * self.dtype.size(), self.output_shape.len() * self.dtype.size());
        match self.grad_method() {
            None => input,
            Some(GradMethod::Average) => output,
            Some(GradMethod::Indices) => output + 8 * self.output_shape.len(),
            Some(GradMethod::FromInput) => output + input + output,
        }
    }

    /// Bytes the pass writes: the output (forward), the gradient of the input (backward).
    pub fn output_bytes(&self) -> usize {
        match self.pass {
            Pass::Forward => self.output_shape.len() * self.dtype.size(),
            Pass::Backward => self.shape.len() * self.dtype.size(),
        }
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

    /// Runs the prepared plan once: the forward pass into the output buffer, or the backward pass
    /// into the gradient of the input.
    pub fn run(&mut self) {
        self.buffers.run()
    }

    /// Runs the scalar reference of the pass once, keeping its output for [`Workload::verify`]:
    /// [`reference::pool`] (forward), [`reference::max_pool_backward_with_indices`] (backward,
    /// max ops) or [`reference::pool_backward`] (backward, other ops).
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

    /// The gradient of the output of a backward workload, if the element type is `T`.
    pub fn grad_output<T: Element>(&self) -> Option<&[T]> {
        self.buffers.grad_output_any()?.downcast_ref::<Vec<T>>().map(Vec::as_slice)
    }

    /// The output of the last [`Workload::run_reference`] (the gradient of the input for the
    /// backward pass), if it ran and the element type is `T`.
    pub fn reference_output<T: Element>(&self) -> Option<&[T]> {
        self.buffers.reference_any()?.downcast_ref::<Vec<T>>().map(Vec::as_slice)
    }

    /// Checks `got` (in this workload's output layout) against the last reference output, with
    /// the rule of [`Workload::verify`].
    pub fn check_against_reference<T: Element>(&self, got: &[T]) -> Result<(), String> {
        let want = self.reference_output::<T>().ok_or("run_reference() first, with the case's element type")?;
        compare(got, want, self.pass == Pass::Forward && is_exact(&self.op))
            .map_err(|e| format!("{}: {e}", self.label()))
    }

    /// Whether [`Workload::run_reference`] has run.
    pub fn has_reference(&self) -> bool {
        self.buffers.has_reference()
    }

    /// Checks the last plan output against the last reference output (forward max exactly;
    /// averages, Lp and every gradient within 1e-5 relative or 1e-6 absolute).
    pub fn verify(&self) -> Result<(), String> {
        self.buffers.compare().map_err(|e| format!("{}: {e}", self.label()))
    }
}
