//! Plans: validate once, pick the kernel once, run many times without allocating.

use crate::dispatch;
use crate::element::Element;
use crate::error::{PoolError, Result};
use crate::geometry::{AxisTable, three_axes};
use crate::global_tree;
use crate::isa::Isa;
use crate::op::{PoolOp, check_adaptive};
use crate::parallel::{Split, Threading, for_rows, for_rows_indexed};
use crate::shape::TensorShape;
use simdpool_kernels::{GlobalProblem, GlobalReduce, LpPower, Problem, Reduce, Route, TypedKernels, policy, route};
use std::marker::PhantomData;

/// Options of a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PlanOptions {
    /// The instruction-set level to run (default: [`Isa::detected`]). Errors at plan time if the
    /// CPU lacks it.
    pub isa: Option<Isa>,
    /// How to use threads (default: split large problems over the current rayon pool).
    pub threading: Threading,
}

impl PlanOptions {
    /// Options that force an instruction-set level.
    pub fn isa(isa: Isa) -> Self {
        PlanOptions { isa: Some(isa), ..Default::default() }
    }
    /// These options, running strictly on the calling thread.
    pub fn calling_thread(mut self) -> Self {
        self.threading = Threading::CallingThread;
        self
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// Windowed and adaptive ops (and the index path of global max).
    Window { axes: [AxisTable; 3], reduce: Reduce },
    /// Global ops; `axes` covers each plane with one window for the index path.
    Global { problem: GlobalProblem, reduce: GlobalReduce, axes: [AxisTable; 3] },
}

/// A validated pooling operation on inputs of one shape, bound to a kernel.
///
/// Building a plan checks every parameter against the input shape, computes the output shape and
/// the per-axis tap tables, and picks the kernel for the instruction-set level. Running it only
/// checks buffer lengths; it never allocates (the thread split uses rayon's pool).
///
/// ```
/// use simdpool::{Plan, PoolOp, TensorShape, Window};
/// let input = TensorShape::nchw(&[1, 1, 4, 4])?;
/// let plan = Plan::<f32>::new(&PoolOp::max(Window::new(&[2, 2])), &input)?;
/// let x = [1., 3., 2., 4., 5., 6., 1., 2., 7., 8., 9., 0., 4., 3., 2., 1.];
/// let mut y = [0.0f32; 4];
/// let mut idx = [0i64; 4];
/// plan.run_with_indices(&x, &mut y, &mut idx)?;
/// assert_eq!(y, [6., 4., 8., 9.]);
/// assert_eq!(idx, [5, 3, 9, 10]);
/// # Ok::<(), simdpool::PoolError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Plan<T: Element> {
    pub(crate) op: &'static str,
    pub(crate) has_indices: bool,
    pub(crate) input: TensorShape,
    pub(crate) output: TensorShape,
    isa: Isa,
    pub(crate) threading: Threading,
    pub(crate) kernels: &'static TypedKernels<T>,
    pub(crate) body: Body,
    /// The kernel family [`Plan::run`] takes.
    route: Route,
    /// The kernel family [`Plan::run_with_indices`] takes (ops with indices only).
    indices_route: Option<Route>,
    /// The work of one output row of a windowed body ([`policy::window_row_work`]), computed
    /// once: it scans every axis's tap table, which cost about as much as a small run itself.
    row_work: usize,
    _t: PhantomData<fn(&[T])>,
}

impl<T: Element> Plan<T> {
    /// A plan at the detected instruction-set level.
    pub fn new(op: &PoolOp, input: &TensorShape) -> Result<Self> {
        Self::with_options(op, input, PlanOptions::default())
    }

    /// A plan with explicit options (e.g. a forced, lower ISA level).
    pub fn with_options(op: &PoolOp, input: &TensorShape, options: PlanOptions) -> Result<Self> {
        let isa = options.isa.unwrap_or_else(Isa::detected);
        let set =
            dispatch::kernel_set(isa).ok_or(PoolError::IsaUnavailable { requested: isa, detected: Isa::detected() })?;
        let output = op.output_shape(input)?;
        let spatial = input.spatial();
        let body = match op {
            PoolOp::Max(w) | PoolOp::Avg(w, _) | PoolOp::Lp(w, _) => {
                let (reduce, include_pad) = match op {
                    PoolOp::Avg(_, o) => (Reduce::Avg { divisor_override: o.divisor_override }, o.count_include_pad),
                    PoolOp::Lp(_, p) => (Reduce::Lp(LpPower::new(*p)), false),
                    _ => (Reduce::Max, false),
                };
                let tables = w
                    .resolve(spatial)?
                    .iter()
                    .enumerate()
                    .map(|(axis, aw)| AxisTable::windowed(aw, axis, include_pad))
                    .collect::<Result<Vec<_>>>()?;
                Body::Window { axes: three_axes(tables), reduce }
            }
            PoolOp::AdaptiveMax(out) | PoolOp::AdaptiveAvg(out) => {
                check_adaptive(out, input.rank())?;
                let tables =
                    spatial.iter().zip(out).map(|(&l, &o)| AxisTable::adaptive(l, o)).collect::<Result<_>>()?;
                let reduce = if matches!(op, PoolOp::AdaptiveMax(_)) {
                    Reduce::Max
                } else {
                    Reduce::Avg { divisor_override: None }
                };
                Body::Window { axes: three_axes(tables), reduce }
            }
            PoolOp::GlobalMax | PoolOp::GlobalAvg => {
                let problem = GlobalProblem::new(input.layout(), input.batch(), input.channels(), input.plane())
                    .ok_or(PoolError::Overflow { what: "global problem size" })?;
                let reduce = if *op == PoolOp::GlobalMax { GlobalReduce::Max } else { GlobalReduce::Avg };
                let tables = spatial.iter().map(|&l| AxisTable::adaptive(l, 1)).collect::<Result<_>>()?;
                Body::Global { problem, reduce, axes: three_axes(tables) }
            }
        };
        let mut plan = Plan {
            op: op.name(),
            has_indices: op.has_indices(),
            input: input.clone(),
            output,
            isa,
            threading: options.threading,
            kernels: T::kernels(set),
            body,
            route: Route::Portable,
            indices_route: None,
            row_work: 0,
            _t: PhantomData,
        };
        let families = plan.kernels.families;
        let (route, indices_route, row_work) = match &plan.body {
            Body::Window { axes, reduce } => {
                let p = plan.problem(axes);
                (route::window(families, &p, reduce), route::argmax(families, &p), policy::window_row_work(&p))
            }
            Body::Global { problem, axes, .. } => (
                route::global(families, global_tree::applies::<T>(problem)),
                route::argmax(families, &plan.problem(axes)),
                0,
            ),
        };
        plan.row_work = row_work;
        plan.route = route;
        plan.indices_route = plan.has_indices.then_some(indices_route);
        Ok(plan)
    }

    /// The kernel family [`Plan::run`] takes at this plan's level (also in the plan's `Debug`):
    /// fixed when the plan is built, from the same rules the kernels branch on.
    ///
    /// ```
    /// use simdpool::{Isa, Plan, PlanOptions, PoolOp, Route, TensorShape, Window};
    /// let input = TensorShape::nhwc(&[1, 8, 8, 32])?;
    /// let op = PoolOp::max(Window::new(&[2, 2]));
    /// let plan = Plan::<f32>::with_options(&op, &input, PlanOptions::isa(Isa::Scalar))?;
    /// assert_eq!(plan.route(), Route::Portable);
    /// if Isa::detected() != Isa::Scalar {
    ///     assert_eq!(Plan::<f32>::new(&op, &input)?.route(), Route::Lanes);
    /// }
    /// # Ok::<(), simdpool::PoolError>(())
    /// ```
    pub fn route(&self) -> Route {
        self.route
    }

    /// The kernel family [`Plan::run_with_indices`] takes, for ops that return indices.
    pub fn indices_route(&self) -> Option<Route> {
        self.indices_route
    }

    /// The instruction-set level this plan runs.
    pub fn isa(&self) -> Isa {
        self.isa
    }
    /// The input shape.
    pub fn input_shape(&self) -> &TensorShape {
        &self.input
    }
    /// The output shape.
    pub fn output_shape(&self) -> &TensorShape {
        &self.output
    }
    /// Elements the input buffer must have.
    pub fn input_len(&self) -> usize {
        self.input.len()
    }
    /// Elements the output (and index) buffer must have.
    pub fn output_len(&self) -> usize {
        self.output.len()
    }
    /// The op's name.
    pub fn op_name(&self) -> &'static str {
        self.op
    }

    fn check(&self, input: &[T], output: &[T]) -> Result<()> {
        if input.len() != self.input.len() {
            return Err(PoolError::BufferLength { buffer: "input", expected: self.input.len(), got: input.len() });
        }
        if output.len() != self.output.len() {
            return Err(PoolError::BufferLength { buffer: "output", expected: self.output.len(), got: output.len() });
        }
        Ok(())
    }

    pub(crate) fn problem<'a>(&self, axes: &'a [AxisTable; 3]) -> Problem<'a> {
        Problem::new(
            self.input.layout(),
            self.input.batch(),
            self.input.channels(),
            [axes[0].axis(), axes[1].axis(), axes[2].axis()],
        )
        .expect("validated at plan time")
    }

    /// How the output rows of a windowed problem split over threads (a global body on its index
    /// path is one window per plane: each row reads whole planes); tasks hold at least
    /// `min_rows` rows where the rows allow one per thread (see [`Split`]).
    fn window_split(&self, p: &Problem<'_>, min_rows: usize) -> Split {
        let row_work = match self.body {
            Body::Window { .. } => self.row_work,
            Body::Global { .. } => p.in_plane().saturating_mul(p.row_len()),
        };
        let granule = policy::window_granule(p);
        Split { threading: self.threading, rows: p.rows(), row_len: p.row_len(), row_work, granule, min_rows }
    }

    /// Pools `input` into `output`. Both must have exactly [`Plan::input_len`] and
    /// [`Plan::output_len`] elements; `output` is untouched on error.
    pub fn run(&self, input: &[T], output: &mut [T]) -> Result<()> {
        self.check(input, output)?;
        match &self.body {
            Body::Window { axes, reduce } => {
                let p = self.problem(axes);
                let window = self.kernels.window;
                // The channels-last kernel slides down runs of rows: tasks keep at least one run.
                let split = self.window_split(&p, policy::slide_rows(&p));
                let route = self.route;
                for_rows(split, output, |rows, out| window(&p, reduce, route, input, out, rows));
            }
            Body::Global { problem, reduce, .. } if global_tree::applies::<T>(problem) => {
                global_tree::pool_by_blocks(self.kernels.global, problem, *reduce, self.threading, input, output);
            }
            Body::Global { problem, reduce, .. } => {
                let global = self.kernels.global;
                // (Channels-last planes of 1024 pixels and more split along the pixels instead:
                // `global_tree`, above.) Rows are (n, c) planes: N = 1 with many channels splits
                // channels. Tasks take whole register groups: 16 planes per transpose network
                // channels-first;
                // channels-last, whole images when they hold at most 256 channels and there are
                // several, else blocks of 128 neighbouring channels (512 B of every pixel).
                let granule = policy::global_granule(problem);
                let split = Split {
                    threading: self.threading,
                    rows: problem.rows(),
                    row_len: 1,
                    row_work: problem.plane(),
                    granule,
                    min_rows: 1,
                };
                for_rows(split, output, |rows, out| global(problem, *reduce, input, out, rows));
            }
        }
        Ok(())
    }

    /// Max pooling that also writes each output's argmax: the flat index over the spatial dims of
    /// its `(n, c)` plane (`(z * H + y) * W + x`), chosen by PyTorch's scan rule (first of equal
    /// maxima, last of several NaNs). Errors for ops other than max.
    pub fn run_with_indices(&self, input: &[T], output: &mut [T], indices: &mut [i64]) -> Result<()> {
        if !self.has_indices {
            return Err(PoolError::IndicesUnsupported { op: self.op });
        }
        self.check(input, output)?;
        if indices.len() != self.output.len() {
            return Err(PoolError::BufferLength { buffer: "indices", expected: self.output.len(), got: indices.len() });
        }
        let axes = match &self.body {
            Body::Window { axes, .. } | Body::Global { axes, .. } => axes,
        };
        let p = self.problem(axes);
        let argmax = self.kernels.argmax;
        let route = self.indices_route.unwrap_or(Route::Portable);
        for_rows_indexed(self.window_split(&p, 1), output, indices, |rows, out, idx| {
            argmax(&p, route, input, out, idx, rows)
        });
        Ok(())
    }
}
