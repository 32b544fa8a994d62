//! `simdpool pool`, `global` and `adaptive`: read a .npy, build a plan, run it (and its backward
//! pass with `--grad-output` / `--grad-input`), write the results.

use crate::args::{self, CliError, Flag, Parsed, runtime, usage};
use crate::output::{self, Dests, Role, Source, Staging};
use crate::usage as help;
use simdpool::npy::{self, NpyDType, NpyElement, NpyError, NpyReader};
use simdpool::{
    AutoPad, AvgOptions, DType, Element, Isa, Layout, Plan, PlanOptions, PoolError, PoolOp, Route, TensorShape,
    Threading, Window, bf16, f16,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const fn flag(name: &'static str, value: bool) -> Flag {
    Flag { name, value }
}

/// More threads than this is surely a typo (and would only spawn idle threads). `simdpool bench`
/// caps its `--threads` with the same number.
pub const MAX_THREADS: usize = 1024;

const COMMON: [Flag; 9] = [
    flag("op", true),
    flag("layout", true),
    flag("isa", true),
    flag("threads", true),
    flag("indices", true),
    flag("grad-output", true),
    flag("grad-input", true),
    flag("quiet", false),
    flag("verbose", false),
];

const POOL_ONLY: [Flag; 10] = [
    flag("kernel", true),
    flag("stride", true),
    flag("padding", true),
    flag("pads", true),
    flag("auto-pad", true),
    flag("dilation", true),
    flag("ceil-mode", false),
    flag("count-include-pad", true),
    flag("divisor-override", true),
    flag("p", true),
];

/// Which pooling command is running.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Pool,
    Global,
    Adaptive,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Pool => "pool",
            Command::Global => "global",
            Command::Adaptive => "adaptive",
        }
    }
    fn flags(self) -> Vec<Flag> {
        let mut flags: Vec<Flag> = COMMON.into_iter().collect();
        match self {
            Command::Pool => flags.extend(POOL_ONLY),
            Command::Global => {}
            Command::Adaptive => flags.push(flag("output-size", true)),
        }
        flags
    }
    /// The help text of this command.
    pub fn help(self) -> String {
        match self {
            Command::Pool => help::pool(),
            Command::Global => help::global(),
            Command::Adaptive => help::adaptive(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Reduction {
    Max,
    Avg,
    Lp,
}

/// How the padding was given on the command line.
enum PadSpec {
    None,
    Symmetric(Vec<usize>),
    Onnx(Vec<usize>),
    Auto(AutoPad),
}

/// `--grad-output GO.npy --grad-input GI.npy`: the backward pass after the forward pass.
struct Grad {
    /// GO.npy, read: the gradient of OUTPUT.npy (its shape, layout and dtype).
    output: PathBuf,
    /// GI.npy, written: the gradient of INPUT.npy (its shape, layout and dtype).
    input: PathBuf,
}

/// Everything the command line says, checked for form but not yet against the input.
struct Job {
    command: Command,
    reduction: Reduction,
    kernel: Vec<usize>,
    stride: Option<Vec<usize>>,
    pads: PadSpec,
    dilation: Option<Vec<usize>>,
    ceil_mode: bool,
    avg: AvgOptions,
    p: f64,
    output_size: Vec<usize>,
    layout: Layout,
    isa: Option<Isa>,
    threads: Option<usize>,
    indices: Option<PathBuf>,
    grad: Option<Grad>,
    quiet: bool,
    /// The summary line also names the kernel family (route) the plan took.
    verbose: bool,
    input: PathBuf,
    output: PathBuf,
}

fn required<'a>(p: &'a Parsed, cmd: Command, name: &str) -> Result<&'a str, CliError> {
    p.value(name).ok_or_else(|| {
        usage(format!("`simdpool {}` needs --{name} (see `simdpool {} --help`)", cmd.name(), cmd.name()))
    })
}

fn parse_layout(text: &str) -> Result<Layout, CliError> {
    match text.to_ascii_lowercase().as_str() {
        "nchw" | "ncl" | "ncw" | "ncdhw" | "channels-first" => Ok(Layout::ChannelsFirst),
        "nhwc" | "nlc" | "nwc" | "ndhwc" | "channels-last" => Ok(Layout::ChannelsLast),
        _ => Err(usage(format!("--layout {text:?} must be nchw or nhwc"))),
    }
}

fn parse_isa(text: &str) -> Result<Option<Isa>, CliError> {
    if text.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    Isa::from_name(text)
        .map(Some)
        .ok_or_else(|| usage(format!("--isa {text:?} must be auto, scalar, avx2, avx512 or neon")))
}

impl Job {
    fn from_args(command: Command, p: &Parsed) -> Result<Job, CliError> {
        let cmd = command.name();
        let op = required(p, command, "op")?;
        let reduction = match (command, op.to_ascii_lowercase().as_str()) {
            (_, "max") => Reduction::Max,
            (_, "avg" | "mean" | "average") => Reduction::Avg,
            (Command::Pool, "lp") => Reduction::Lp,
            (Command::Pool, _) => return Err(usage(format!("--op {op:?} must be max, avg or lp"))),
            _ => return Err(usage(format!("--op {op:?} must be max or avg for `simdpool {cmd}`"))),
        };
        let list = |name: &str| p.value(name).map(|v| args::list(name, v)).transpose();

        let kernel =
            if command == Command::Pool { args::list("kernel", required(p, command, "kernel")?)? } else { vec![] };
        let output_size = if command == Command::Adaptive {
            args::list("output-size", required(p, command, "output-size")?)?
        } else {
            vec![]
        };
        let given: Vec<&str> = ["padding", "pads", "auto-pad"].into_iter().filter(|f| p.has(f)).collect();
        if given.len() > 1 {
            return Err(usage(format!(
                "--{} and --{} exclude each other: give one way of padding",
                given[0], given[1]
            )));
        }
        let pads = if let Some(v) = list("padding")? {
            PadSpec::Symmetric(v)
        } else if let Some(v) = list("pads")? {
            PadSpec::Onnx(v)
        } else if let Some(v) = p.value("auto-pad") {
            PadSpec::Auto(match v.to_ascii_lowercase().replace('_', "-").as_str() {
                "same-upper" => AutoPad::SameUpper,
                "same-lower" => AutoPad::SameLower,
                "valid" => AutoPad::Valid,
                _ => return Err(usage(format!("--auto-pad {v:?} must be same-upper, same-lower or valid"))),
            })
        } else {
            PadSpec::None
        };
        let for_op = |name: &str, wanted: Reduction| {
            if p.has(name) && reduction != wanted {
                Err(usage(format!("--{name} only applies to --op {}", format!("{wanted:?}").to_lowercase())))
            } else {
                Ok(())
            }
        };
        for_op("count-include-pad", Reduction::Avg)?;
        for_op("divisor-override", Reduction::Avg)?;
        for_op("p", Reduction::Lp)?;
        let mut avg = AvgOptions::default();
        if let Some(v) = p.value("count-include-pad") {
            avg.count_include_pad = args::boolean("count-include-pad", v)?;
        }
        if let Some(v) = p.value("divisor-override") {
            avg.divisor_override = Some(
                v.trim().parse::<i64>().map_err(|_| usage(format!("--divisor-override {v:?} is not an integer")))?,
            );
        }
        let p_value = match p.value("p") {
            Some(v) => v.trim().parse::<f64>().map_err(|_| usage(format!("--p {v:?} is not a number")))?,
            None => 2.0,
        };
        let threads = p.value("threads").map(|v| args::count("threads", v)).transpose()?;
        match threads {
            Some(0) => return Err(usage("--threads 0: give at least 1 thread")),
            Some(n) if n > MAX_THREADS => return Err(usage(format!("--threads {n}: at most {MAX_THREADS}"))),
            _ => {}
        }
        let [input, output] = p.positionals.as_slice() else {
            return Err(usage(format!(
                "`simdpool {cmd}` needs exactly two files, INPUT.npy and OUTPUT.npy (got {}; see `simdpool {cmd} --help`)",
                p.positionals.len()
            )));
        };
        let indices = p.value("indices").map(PathBuf::from);
        let grad = match (p.value("grad-output"), p.value("grad-input")) {
            (Some(go), Some(gi)) => Some(Grad { output: PathBuf::from(go), input: PathBuf::from(gi) }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(usage("--grad-output needs --grad-input GI.npy, where the input gradient goes"));
            }
            (None, Some(_)) => {
                return Err(usage("--grad-input needs --grad-output GO.npy, the gradient of OUTPUT.npy"));
            }
        };
        // One file named twice in the same spelling; other spellings are caught by `output::check`.
        let named = [
            (Role::Input, Some(Path::new(input))),
            (Role::GradOutput, grad.as_ref().map(|g| g.output.as_path())),
            (Role::Output, Some(Path::new(output))),
            (Role::Indices, indices.as_deref()),
            (Role::GradInput, grad.as_ref().map(|g| g.input.as_path())),
        ];
        for (i, (role, path)) in named.iter().enumerate() {
            let Some(path) = path else { continue };
            if *role == Role::Input || *role == Role::GradOutput {
                continue;
            }
            if let Some((earlier, _)) = named[..i].iter().find(|(_, p)| *p == Some(*path)) {
                return Err(output::same_file(*role, *earlier));
            }
        }
        Ok(Job {
            command,
            reduction,
            kernel,
            stride: list("stride")?,
            pads,
            dilation: list("dilation")?,
            ceil_mode: p.has("ceil-mode"),
            avg,
            p: p_value,
            output_size,
            layout: p.value("layout").map(parse_layout).transpose()?.unwrap_or(Layout::ChannelsFirst),
            isa: p.value("isa").map(parse_isa).transpose()?.flatten(),
            threads,
            indices,
            grad,
            quiet: p.has("quiet"),
            verbose: p.has("verbose"),
            input: PathBuf::from(input),
            output: PathBuf::from(output),
        })
    }

    /// The op for an input of spatial rank `rank` (one-value lists are broadcast).
    fn op(&self, rank: usize) -> Result<PoolOp, CliError> {
        let all = |v: &[usize]| if v.len() == 1 { vec![v[0]; rank] } else { v.to_vec() };
        match self.command {
            Command::Global => {
                return Ok(if self.reduction == Reduction::Max { PoolOp::GlobalMax } else { PoolOp::GlobalAvg });
            }
            Command::Adaptive => {
                let out = all(&self.output_size);
                return Ok(if self.reduction == Reduction::Max {
                    PoolOp::AdaptiveMax(out)
                } else {
                    PoolOp::AdaptiveAvg(out)
                });
            }
            Command::Pool => {}
        }
        let mut w = Window::new(&all(&self.kernel)).ceil_mode(self.ceil_mode);
        if let Some(s) = &self.stride {
            w = w.stride(&all(s));
        }
        if let Some(d) = &self.dilation {
            w = w.dilation(&all(d));
        }
        w = match &self.pads {
            PadSpec::None => w,
            PadSpec::Symmetric(v) => w.padding(&all(v)),
            PadSpec::Auto(a) => w.auto_pad(*a),
            PadSpec::Onnx(v) if v.len() == 1 => w.onnx_pads(&vec![v[0]; 2 * rank]),
            PadSpec::Onnx(v) if v.len() == 2 * rank => w.onnx_pads(v),
            PadSpec::Onnx(v) => {
                return Err(runtime(format!(
                    "--pads has {} values but the input has {rank} spatial dims: give 1 value or {} (all begins, then all ends)",
                    v.len(),
                    2 * rank
                )));
            }
        };
        Ok(match self.reduction {
            Reduction::Max => PoolOp::Max(w),
            Reduction::Avg => PoolOp::Avg(w, self.avg),
            Reduction::Lp => PoolOp::Lp(w, self.p),
        })
    }
}

/// What a run did, for the summary line (the files are written by then).
struct Outcome {
    output_dims: Vec<usize>,
    indices: bool,
    isa: Isa,
    route: Route,
    elapsed: Duration,
    /// The time of the backward pass, if one ran.
    backward: Option<Duration>,
    dtype: &'static str,
}

fn pool_error(e: PoolError) -> CliError {
    runtime(e.to_string())
}

/// Checks GO.npy's header against the output the plan makes: the same dtype as the input, and the
/// output's shape in the `--layout` of INPUT.npy and OUTPUT.npy.
fn check_grad_output(path: &Path, go: &NpyReader, dtype: NpyDType, out: &TensorShape) -> Result<(), CliError> {
    let want = out.dims();
    let (mut got, mut wanted) = (Vec::new(), Vec::new());
    if go.dtype() != dtype {
        got.push(format!("dtype {}", go.dtype().descr()));
        wanted.push(format!("dtype {}", dtype.descr()));
    }
    let shape_differs = go.shape() != want.as_slice();
    if shape_differs {
        got.push(format!("shape {}", dims_text(go.shape())));
        wanted.push(format!("shape {} ({})", dims_text(&want), layout_name(out.layout())));
    }
    if got.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "--grad-output {} has {} but the output has {}",
        path.display(),
        got.join(" and "),
        wanted.join(" and ")
    );
    let other = match out.layout() {
        Layout::ChannelsFirst => Layout::ChannelsLast,
        Layout::ChannelsLast => Layout::ChannelsFirst,
    };
    if shape_differs && go.shape() == out.with_layout(other).dims().as_slice() {
        msg.push_str(&format!(
            "; that is the output's shape in {} order, but GO.npy and GI.npy take the --layout of IN.npy and OUT.npy",
            layout_name(other)
        ));
    }
    Err(runtime(msg))
}

fn layout_name(layout: Layout) -> &'static str {
    if layout == Layout::ChannelsFirst { "nchw" } else { "nhwc" }
}

/// Builds the plan, reads the input (and GO.npy) straight into the buffers the plan reads, runs
/// the forward pass (and the backward pass), and writes the results. Nothing is read past the
/// headers before the plan and every result buffer exist, and the only full-size buffers are the
/// input, the output, the indices, and with gradients GO and GI.
fn execute<T: Element + NpyElement>(
    job: &Job,
    op: &PoolOp,
    shape: &TensorShape,
    reader: NpyReader,
    grad_output: Option<NpyReader>,
    dests: &Dests,
) -> Result<Outcome, CliError> {
    let threading = if job.threads == Some(1) { Threading::CallingThread } else { Threading::Auto };
    let plan = Plan::<T>::with_options(op, shape, PlanOptions { isa: job.isa, threading }).map_err(pool_error)?;
    if let (Some(go), Some(grad)) = (&grad_output, &job.grad) {
        if matches!(T::DTYPE, DType::U8 | DType::I8) {
            return Err(pool_error(PoolError::NoGradient { dtype: T::DTYPE.name() }));
        }
        check_grad_output(&grad.output, go, T::NPY, plan.output_shape())?;
    }
    // Max gradients follow the forward pass's argmax: the indices are computed whenever a max
    // op has a backward pass, and written only with --indices.
    let with_indices = job.indices.is_some() || (grad_output.is_some() && op.has_indices());
    let mut values = alloc(plan.output_len(), T::zeroed(), "output")?;
    let mut indices = with_indices.then(|| alloc(plan.output_len(), 0i64, "indices")).transpose()?;
    let mut grad_input =
        grad_output.as_ref().map(|_| alloc(plan.input_len(), T::zeroed(), "input gradient")).transpose()?;
    let input: Vec<T> = reader.read_vec().map_err(|e| input_error(&job.input, e))?;
    let grad_output: Option<Vec<T>> = match (grad_output, &job.grad) {
        (Some(go), Some(grad)) => Some(go.read_vec().map_err(|e| input_error(&grad.output, e))?),
        _ => None,
    };
    let mut forward = || match indices.as_mut() {
        Some(idx) => plan.run_with_indices(&input, &mut values, idx),
        None => plan.run(&input, &mut values),
    };
    // The thread pool is started before the clock so the summary times only the pooling.
    let pool = match job.threads {
        Some(n) if n > 1 => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| runtime(format!("cannot start {n} threads: {e}")))?,
        ),
        _ => None,
    };
    let start = Instant::now();
    in_pool(pool.as_ref(), &mut forward).map_err(pool_error)?;
    let elapsed = start.elapsed();
    let backward = match (&grad_output, grad_input.as_mut()) {
        (Some(go), Some(gi)) => {
            let work = || match (op.has_indices(), indices.as_deref()) {
                (true, Some(idx)) => plan.backward_with_indices(idx, go, gi),
                _ => plan.backward_from_input(&input, &values, go, gi),
            };
            let start = Instant::now();
            in_pool(pool.as_ref(), work).map_err(pool_error)?;
            Some(start.elapsed())
        }
        _ => None,
    };
    drop(input);
    drop(grad_output);
    let dims = plan.output_shape().dims();
    let mut staging = Staging::default();
    staging.add(&dests.output, |w| npy::write_slice(w, &dims, &values))?;
    if let (Some(dest), Some(idx)) = (&dests.indices, &indices) {
        staging.add(dest, |w| npy::write_slice(w, &dims, idx))?;
    }
    if let (Some(dest), Some(gi)) = (&dests.grad_input, &grad_input) {
        staging.add(dest, |w| npy::write_slice(w, &shape.dims(), gi))?;
    }
    staging.commit()?;
    Ok(Outcome {
        output_dims: dims,
        indices: job.indices.is_some(),
        isa: plan.isa(),
        route: if with_indices { plan.indices_route().unwrap_or(plan.route()) } else { plan.route() },
        elapsed,
        backward,
        dtype: T::DTYPE.name(),
    })
}

/// Runs `work` inside `pool`, or on the calling thread's pool when there is none.
fn in_pool<R: Send>(pool: Option<&rayon::ThreadPool>, work: impl FnOnce() -> R + Send) -> R {
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// A buffer of `n` copies of `v`, or an error (not an abort) if memory cannot hold it, e.g. for
/// `--output-size 1000000,1000000`.
fn alloc<T: Clone>(n: usize, v: T, what: &str) -> Result<Vec<T>, CliError> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(n).map_err(|_| {
        runtime(format!("cannot allocate the {what} ({n} elements of {} bytes)", std::mem::size_of::<T>()))
    })?;
    buf.resize(n, v);
    Ok(buf)
}

fn input_error(path: &Path, e: NpyError) -> CliError {
    match e {
        NpyError::Io(why) => runtime(format!("cannot read {}: {why}", path.display())),
        e => runtime(format!("{}: {e}", path.display())),
    }
}

fn dims_text(dims: &[usize]) -> String {
    if dims.is_empty() {
        return "()".to_string();
    }
    dims.iter().map(usize::to_string).collect::<Vec<_>>().join("x")
}

/// Runs `simdpool pool|global|adaptive` with the arguments after the command name.
pub fn run(command: Command, argv: &[String]) -> Result<(), CliError> {
    let parsed = args::parse(command.name(), argv, &command.flags())?;
    if parsed.help {
        crate::emit(&command.help());
        return Ok(());
    }
    let job = Job::from_args(command, &parsed)?;
    // The headers of the files read are read and checked (regular files only, their data size
    // against their length), and so is every destination, before any data is read or anything
    // written.
    let reader = NpyReader::open(&job.input).map_err(|e| input_error(&job.input, e))?;
    let grad_output = match &job.grad {
        Some(g) => Some(NpyReader::open(&g.output).map_err(|e| input_error(&g.output, e))?),
        None => None,
    };
    let mut sources = vec![Source { role: Role::Input, path: &job.input, file: reader.file() }];
    if let (Some(g), Some(r)) = (&job.grad, &grad_output) {
        sources.push(Source { role: Role::GradOutput, path: &g.output, file: r.file() });
    }
    let grad_input = job.grad.as_ref().map(|g| g.input.as_path());
    let dests = output::check(&job.output, job.indices.as_deref(), grad_input, &sources)?;
    drop(sources);
    let (dtype, in_dims) = (reader.dtype(), reader.shape().to_vec());
    let shape = TensorShape::from_dims(job.layout, &in_dims)
        .map_err(|e| runtime(format!("{} (shape {:?}): {e}", job.input.display(), in_dims)))?;
    let op = job.op(shape.rank())?;
    let go = grad_output;
    let outcome = match dtype {
        NpyDType::F32 => execute::<f32>(&job, &op, &shape, reader, go, &dests),
        NpyDType::F64 => execute::<f64>(&job, &op, &shape, reader, go, &dests),
        NpyDType::F16 => execute::<f16>(&job, &op, &shape, reader, go, &dests),
        NpyDType::U16 => execute::<bf16>(&job, &op, &shape, reader, go, &dests),
        NpyDType::U8 => execute::<u8>(&job, &op, &shape, reader, go, &dests),
        NpyDType::I8 => execute::<i8>(&job, &op, &shape, reader, go, &dests),
        NpyDType::I64 => Err(runtime(format!(
            "{}: int64 (<i8) input is not supported: use f4, f8, f2, u2 (bf16 bits), u1 or i1",
            job.input.display()
        ))),
    }?;
    if !job.quiet {
        if dtype == NpyDType::U16 {
            let also = job.grad.as_ref().map_or_else(String::new, |g| format!(" (and {})", g.input.display()));
            eprintln!(
                "simdpool: note: <u2 data was read as raw bf16 bits and {}{also} holds raw bf16 bits as <u2 (NumPy has no bf16)",
                job.output.display()
            );
        }
        let threads = job.threads.map_or_else(|| "auto".to_string(), |n| n.to_string());
        eprintln!(
            "simdpool: {} {} {} {} -> {}{}{} | isa {}{} | threads {} | {:.3} ms{}",
            op_label(&op),
            outcome.dtype,
            layout_name(job.layout),
            dims_text(&in_dims),
            dims_text(&outcome.output_dims),
            if outcome.indices { " (+indices)" } else { "" },
            if outcome.backward.is_some() { " (+gradient)" } else { "" },
            outcome.isa,
            if job.verbose { format!(" | route {}", outcome.route) } else { String::new() },
            threads,
            outcome.elapsed.as_secs_f64() * 1e3,
            outcome.backward.map_or_else(String::new, |b| format!(" | backward {:.3} ms", b.as_secs_f64() * 1e3)),
        );
    }
    Ok(())
}

fn op_label(op: &PoolOp) -> String {
    match op {
        PoolOp::Lp(_, p) => format!("lp(p={p})"),
        other => other.name().to_string(),
    }
}
