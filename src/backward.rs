//! The backward pass of every op, on the forward pass's [`Plan`]: the rules are in the crate
//! docs (Backward passes).

use crate::element::DType;
use crate::element::Element;
use crate::error::{PoolError, Result};
use crate::geometry::AxisTable;
use crate::parallel::{Split, for_rows};
use crate::plan::{Body, Plan};
use simdpool_kernels::{GlobalReduce, GradRule, Layout, Problem, Reduce, portable};

/// The op's gradient, as the plan body describes it.
enum Kind {
    Max,
    Avg(Option<i64>),
    Lp(simdpool_kernels::LpPower),
}

impl<T: Element> Plan<T> {
    fn grad_kind(&self) -> (&[AxisTable; 3], Kind) {
        match &self.body {
            Body::Window { axes, reduce } => (
                axes,
                match *reduce {
                    Reduce::Max => Kind::Max,
                    Reduce::Avg { divisor_override } => Kind::Avg(divisor_override),
                    Reduce::Lp(power) => Kind::Lp(power),
                },
            ),
            Body::Global { axes, reduce, .. } => {
                (axes, if *reduce == GlobalReduce::Max { Kind::Max } else { Kind::Avg(None) })
            }
        }
    }

    fn check_grad_buffers(&self, grad_output: &[T], grad_input: &[T]) -> Result<()> {
        if matches!(T::DTYPE, DType::U8 | DType::I8) {
            return Err(PoolError::NoGradient { dtype: T::DTYPE.name() });
        }
        let lens =
            [("grad_output", self.output.len(), grad_output.len()), ("grad_input", self.input.len(), grad_input.len())];
        for (buffer, expected, got) in lens {
            if expected != got {
                return Err(PoolError::BufferLength { buffer, expected, got });
            }
        }
        Ok(())
    }

    /// Runs the gather kernel over every input row, split like the forward pass.
    fn gather(&self, axes: &[AxisTable; 3], rule: GradRule<'_, T>, grad_output: &[T], grad_input: &mut [T]) {
        let p: Problem<'_> = self.problem(axes);
        let cover = [axes[0].cover(), axes[1].cover(), axes[2].cover()];
        let [az, ay, ax] = p.axes();
        let per_pixel = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
        let row_len = ax.in_len() * per_pixel;
        let rows = p.input_len() / row_len;
        // Work per input row: its elements times the windows that may hold each.
        let overlap = [az, ay, ax].iter().map(|a| a.out_len().div_ceil(a.in_len()).max(1) + 1).product::<usize>();
        let split =
            Split { threading: self.threading, rows, row_len, row_work: row_len * overlap, granule: 1, min_rows: 1 };
        let backward = self.kernels.backward;
        for_rows(split, grad_input, |r, out| backward(&p, &cover, &rule, grad_output, out, r));
    }

    /// The backward pass of an average op (windowed, adaptive or global average): writes
    /// every element of `grad_input` (the input's shape and layout) from `grad_output` (the
    /// output's). Max and Lp need more: see [`Plan::backward_from_input`] and
    /// [`Plan::backward_with_indices`].
    pub fn backward(&self, grad_output: &[T], grad_input: &mut [T]) -> Result<()> {
        self.check_grad_buffers(grad_output, grad_input)?;
        let (axes, kind) = self.grad_kind();
        let rule = match kind {
            Kind::Avg(divisor_override) => GradRule::Avg { divisor_override },
            Kind::Max => return Err(PoolError::BackwardNeeds { op: self.op, what: "the forward input or indices" }),
            Kind::Lp(_) => return Err(PoolError::BackwardNeeds { op: self.op, what: "the forward input and output" }),
        };
        self.gather(axes, rule, grad_output, grad_input);
        Ok(())
    }

    /// The backward pass of any op from the forward pass's `input` and `output` (max finds each
    /// window's argmax again by the forward scan rule; Lp uses both; averages use neither, but
    /// the lengths are still checked). Writes every element of `grad_input`.
    pub fn backward_from_input(
        &self,
        input: &[T],
        output: &[T],
        grad_output: &[T],
        grad_input: &mut [T],
    ) -> Result<()> {
        self.check_grad_buffers(grad_output, grad_input)?;
        if input.len() != self.input.len() {
            return Err(PoolError::BufferLength { buffer: "input", expected: self.input.len(), got: input.len() });
        }
        if output.len() != self.output.len() {
            return Err(PoolError::BufferLength { buffer: "output", expected: self.output.len(), got: output.len() });
        }
        let (axes, kind) = self.grad_kind();
        let rule = match kind {
            Kind::Avg(divisor_override) => GradRule::Avg { divisor_override },
            Kind::Max => GradRule::MaxInput(input),
            Kind::Lp(power) => GradRule::Lp { power, input, output },
        };
        self.gather(axes, rule, grad_output, grad_input);
        Ok(())
    }

    /// The backward pass of a max op (windowed, adaptive or global) from the indices
    /// [`Plan::run_with_indices`] wrote: each output's gradient goes to the input element at its
    /// index. Every index must lie in its `(n, c)` plane ([`PoolError::IndexOutOfPlane`],
    /// checked before anything is written). Writes every element of `grad_input`.
    pub fn backward_with_indices(&self, indices: &[i64], grad_output: &[T], grad_input: &mut [T]) -> Result<()> {
        if !self.has_indices {
            return Err(PoolError::IndicesUnsupported { op: self.op });
        }
        self.check_grad_buffers(grad_output, grad_input)?;
        if indices.len() != self.output.len() {
            return Err(PoolError::BufferLength { buffer: "indices", expected: self.output.len(), got: indices.len() });
        }
        let plane = self.input.plane();
        if let Some(position) = indices.iter().position(|&i| i < 0 || i as u64 >= plane as u64) {
            return Err(PoolError::IndexOutOfPlane { position, index: indices[position], plane });
        }
        let (axes, _) = self.grad_kind();
        let p: Problem<'_> = self.problem(axes);
        if !T::GRAD_IN_PLACE && portable::indices_in_windows(&p, indices) {
            // The narrow types rescan the outputs per span in the scatter; the gather's bits are
            // the same when every index lies in its window, as the forward pass writes them.
            self.gather(axes, GradRule::MaxIndices(indices), grad_output, grad_input);
            return Ok(());
        }
        let [az, ay, ax] = p.axes();
        let per_pixel = if p.layout() == Layout::ChannelsFirst { 1 } else { p.channels() };
        let row_len = ax.in_len() * per_pixel;
        let rows = p.input_len() / row_len;
        // A task reads every output of the planes (images) it touches, so tasks hold whole
        // planes, and one plane (image) is one task: split into rows, every task would read all
        // of its outputs again. Measured with 2 threads (`simdpool bench --pass backward
        // --threads 1,2`, AVX2): row tasks took vgg_max_2x2 channels-last (one 224x224x64
        // image) from 2.05 ms to 20 ms; even two tasks, one per thread, ran 0.47-0.95x the
        // speed of one on the suite's single-image channels-last cases.
        let per_group = az.in_len() * ay.in_len();
        let threading = if rows / per_group >= 2 { self.threading } else { crate::Threading::CallingThread };
        let row_work = row_len + p.out_plane() * per_pixel / per_group;
        let split = Split { threading, rows, row_len, row_work, granule: per_group, min_rows: 1 };
        let scatter = self.kernels.scatter;
        for_rows(split, grad_input, |r, out| scatter(&p, indices, grad_output, out, r));
        Ok(())
    }
}
