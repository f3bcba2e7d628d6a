//! The engine Elman and Jordan nets share: weights, scratch, and the batched forward and
//! backward passes.
//!
//! # Forward over a batch (T steps, B sequences, N = T·B columns)
//!
//! 1. The input projection of every column at once, one matrix product:
//!    Z = W_in·X, `H₀ × N`, written where h⁰ will be.
//! 2. The time loop, one product per step: z⁰(t) = Z(t) + W_context·c(t), then
//!    h⁰(t) = f₀(z⁰(t) + b⁰) in one pass over the B columns.
//!    - Elman: c(t) = h⁰(t − 1) is the block just before h⁰(t) in the same buffer (c(0) in
//!      front), so the loop reads and writes one buffer and copies nothing. The further hidden
//!      layers and the output do not feed back, so they run after the loop over all N columns
//!      at once (one product per layer).
//!    - Jordan: the output feeds back, so the whole perceptron runs inside the loop, then
//!      c(t + 1) = μ·c(t) + y(t).
//!
//! # Backward
//!
//! From ∂L/∂y (the loss gradient of every column), δ_out = ∂L/∂y ⊙ g′(y).
//!
//! - Elman, full BPTT: the output and upper layers backpropagate over all N columns at once;
//!   then δ⁰(t) = (∂L/∂h⁰(t) + W_contextᵀ·δ⁰(t + 1)) ⊙ f₀′(h⁰(t)), one product per step.
//! - Jordan, full BPTT: ∂L/∂y(t) gains ∂L/∂c(t + 1), the perceptron backpropagates one step,
//!   and ∂L/∂c(t) = μ·∂L/∂c(t + 1) + W_contextᵀ·δ⁰(t).
//! - Context as input: the same without the terms through the context.
//! - Truncated(k): for each target step t, the term through the context is followed back k
//!   transitions from t and its contributions added to the δ of those steps.
//!
//! Then every weight gradient is one product over all N columns, ∂L/∂W = δ·(layer input)ᵀ:
//! ∂L/∂W_context = δ⁰·[c(0) … c(T − 1)]ᵀ, ∂L/∂W_in = δ⁰·Xᵀ, and biases are row sums of δ.

use nalgebra::{DMatrix, DMatrixView};
use rnn_core::alloc::{checked_size, try_filled};
use rnn_core::linalg::Op;
use rnn_core::{Error, Loss, ParamLayout, Real, Result, SeqBatch, error::check_dim};
use serde::{Deserialize, Serialize};

use crate::arch::{Arch, ContextSource};
use crate::backprop::Path;
use crate::init::Init;
use crate::kernels::{self, add};
use crate::mlp::{self, cols, cols_mut};
use crate::state::State;
use crate::time_loop::Recurrence;
use crate::work::Work;

/// What [`Error::NonFinite`] names for a NaN or infinity among a net's outputs.
pub(crate) const NETWORK_OUTPUT: &str = "network output";

/// A `rows × cols` matrix holding `data` (column-major), allocated fallibly.
///
/// # Errors
/// [`Error::Allocation`] naming `what` if the matrix cannot be had.
pub(crate) fn matrix_from<T: Real>(what: &str, rows: usize, cols: usize, data: &[T]) -> Result<DMatrix<T>> {
    debug_assert_eq!(data.len(), rows * cols);
    let mut v = Vec::new();
    v.try_reserve_exact(data.len())
        .map_err(|_| Error::Allocation { what: what.to_string(), bytes: std::mem::size_of_val(data) as u128 })?;
    v.extend_from_slice(data);
    Ok(DMatrix::from_vec(rows, cols, v))
}

/// Weights, layout and scratch of a partially recurrent net.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub(crate) struct Core<T: Real> {
    pub arch: Arch,
    pub layout: ParamLayout,
    pub params: Vec<T>,
    #[serde(skip)]
    pub work: Work<T>,
}

impl<T: Real> Core<T> {
    /// A net of shape `arch` with weights drawn by `init` from `seed`.
    ///
    /// # Errors
    /// As [`Arch::validate_for`]; [`Error::Allocation`] if the parameters cannot be had;
    /// [`Error::InvalidConfig`] if `init` draws a weight that is not finite in `T`.
    pub fn build(arch: Arch, init: Init, seed: u64) -> Result<Self> {
        arch.validate_for::<T>()?;
        let params = init.draw(&arch, seed)?;
        let layout = arch.layout();
        Ok(Self { arch, layout, params, work: Work::default() })
    }

    /// Checks a decoded net: shape valid, layout and parameter count as the shape requires,
    /// every weight finite.
    pub fn validate(&self) -> Result<()> {
        self.arch.validate_for::<T>()?;
        let expected = self.arch.layout();
        if self.layout != expected {
            return Err(Error::Corrupt("parameter layout does not match the configuration".into()));
        }
        check_dim("parameter count", expected.len(), self.params.len())?;
        rnn_core::error::check_finite("parameters", &self.params)
    }

    /// Every context unit of `batch` sequences at the configured initial value.
    ///
    /// # Errors
    /// [`Error::Allocation`] if the `C × batch` context cannot be had.
    pub fn initial_state(&self, batch: usize) -> Result<State<T>> {
        let c = self.arch.context();
        let len = checked_size("state context (context units × batch)", c, batch)?;
        let data = try_filled("state context", len, T::of_f64(self.arch.initial_context))?;
        Ok(State::from_context(DMatrix::from_vec(c, batch, data)))
    }

    /// Sets every context unit of `state` back to the initial value.
    pub fn reset_state(&self, state: &mut State<T>) {
        state.context.fill(T::of_f64(self.arch.initial_context));
    }

    /// Checks a batch's input width (and target width, when `targets` is asked for).
    pub fn check_batch(&self, batch: &SeqBatch<T>, targets: bool) -> Result<()> {
        check_dim("input width", self.arch.inputs, batch.input_size())?;
        if targets {
            let t = batch.require_targets()?;
            check_dim("target width", self.arch.outputs, t.nrows())?;
        }
        Ok(())
    }

    /// Checks that `state` fits this net and a batch of `batch` sequences.
    pub fn check_state(&self, state: &State<T>, batch: usize) -> Result<()> {
        check_dim("context units in the state", self.arch.context(), state.context.nrows())?;
        check_dim("sequences in the state (batch size)", batch, state.batch_size())?;
        rnn_core::error::check_finite("state context", state.context.as_slice())
    }

    /// Runs the batch forward from the contexts `c0` (`C × B`), filling the scratch buffers.
    ///
    /// # Errors
    /// [`Error::Allocation`] if the scratch for the batch cannot be had (checked before the
    /// time loop; nothing is allocated inside it).
    pub fn forward_batch(&mut self, batch: &SeqBatch<T>, c0: &[T]) -> Result<()> {
        let (steps, b) = (batch.steps(), batch.batch_size());
        let Core { arch, params: p, work, .. } = self;
        work.ensure(arch, steps, b)?;
        let (one, zero) = (T::one(), T::zero());
        let (h0, ni, nc, n) = (arch.hidden[0], arch.inputs, arch.context(), steps * b);
        let blk = h0 * b;
        let (w_ctx, b0, f0) = (&p[arch.w_context()], &p[arch.b_hidden(0)], arch.activations[0]);
        debug_assert_eq!(c0.len(), nc * b);
        // Input projection of every step at once.
        let x = batch.inputs().as_slice();
        kernels::gemm_batch(zero, &mut work.acts[0][blk..], h0, n, ni, one, &p[arch.w_in()], Op::N, x, Op::N);
        match arch.source {
            ContextSource::Hidden => {
                let a0 = &mut work.acts[0];
                a0[..blk].copy_from_slice(c0);
                Recurrence { h0, batch: b, w: w_ctx, bias: b0, f: f0 }.forward(a0);
                mlp::forward_upper(arch, p, &mut work.acts, b, &mut work.out, 0, n);
            }
            ContextSource::Output => {
                let cb = nc * b;
                let mu = T::of_f64(arch.mu);
                work.ctx[..cb].copy_from_slice(c0);
                for t in 0..steps {
                    let z = cols_mut(&mut work.acts[0], h0, (t + 1) * b, b);
                    kernels::gemm(one, z, h0, b, nc, one, w_ctx, Op::N, cols(&work.ctx, nc, t * b, b), Op::N);
                    kernels::bias_activation(z, h0, b0, f0);
                    mlp::forward_upper(arch, p, &mut work.acts, b, &mut work.out, t * b, b);
                    let (before, from) = work.ctx.split_at_mut((t + 1) * cb);
                    let y = cols(&work.out, nc, t * b, b);
                    for ((next, &prev), &yi) in from[..cb].iter_mut().zip(&before[t * cb..]).zip(y) {
                        *next = mu * prev + yi;
                    }
                }
            }
        }
        Ok(())
    }

    /// [`Error::NonFinite`] (`"network output"`, flat index into the `O × n` outputs) at the
    /// first NaN or infinity among the outputs of the last forward pass over `n` columns: one
    /// scan after the time loop.
    pub fn check_outputs(&self, n: usize) -> Result<()> {
        rnn_core::error::check_finite(NETWORK_OUTPUT, &self.work.out[..self.arch.outputs * n])
    }

    /// The outputs of the last forward pass, `O × n`.
    ///
    /// # Errors
    /// [`Error::Allocation`] if the copy cannot be had.
    pub fn outputs(&self, n: usize) -> Result<DMatrix<T>> {
        matrix_from("network outputs", self.arch.outputs, n, &self.work.out[..self.arch.outputs * n])
    }

    /// The loss of the last forward pass over `batch` (targets checked), computed on the
    /// outputs in place; a non-finite value is returned as it is.
    pub fn loss_of_outputs(&self, batch: &SeqBatch<T>, loss: Loss) -> Result<T> {
        let targets = batch.require_targets()?;
        let n = batch.steps() * batch.batch_size();
        let out = DMatrixView::from_slice(&self.work.out[..self.arch.outputs * n], self.arch.outputs, n);
        loss.value(out, targets.as_view(), batch.valid_mask())
    }

    /// Writes into `state` each sequence's context after its last valid step.
    pub fn store_final_context(&self, batch: &SeqBatch<T>, state: &mut State<T>) {
        let (b, nc) = (batch.batch_size(), self.arch.context());
        let src = match self.arch.source {
            ContextSource::Hidden => &self.work.acts[0],
            ContextSource::Output => &self.work.ctx,
        };
        let dst = state.context.as_mut_slice();
        for (j, &len) in batch.lengths().iter().enumerate() {
            // h⁰(len − 1) (Elman) and c(len) (Jordan) both sit in column len·B + j.
            let col = len * b + j;
            dst[j * nc..(j + 1) * nc].copy_from_slice(&src[col * nc..(col + 1) * nc]);
        }
    }

    /// The loss of the last forward pass over `batch`, and its gradient along `path` into
    /// `grad`. The batch's targets must have been checked.
    pub fn loss_and_gradient(&mut self, batch: &SeqBatch<T>, loss: Loss, path: Path, grad: &mut [T]) -> Result<T> {
        let targets = batch.require_targets()?;
        let n = batch.steps() * batch.batch_size();
        let value = {
            let out = DMatrixView::from_slice(&self.work.out[..self.arch.outputs * n], self.arch.outputs, n);
            loss.value_and_gradient(out, targets.as_view(), batch.valid_mask(), &mut self.work.d_out)?
        };
        match self.arch.source {
            ContextSource::Hidden => self.backward_elman(batch, path, grad),
            ContextSource::Output => self.backward_jordan(batch, path, grad),
        }
        Ok(value)
    }

    /// Backward pass of an Elman net (context from the first hidden layer).
    fn backward_elman(&mut self, batch: &SeqBatch<T>, path: Path, grad: &mut [T]) {
        let (steps, b) = (batch.steps(), batch.batch_size());
        let Core { arch, params: p, work, .. } = self;
        let Work { acts, out, deltas, d_out, tmp, dc, w_t, .. } = work;
        let (one, zero) = (T::one(), T::zero());
        let (h0, n) = (arch.hidden[0], steps * b);
        let blk = h0 * b;
        let (w_ctx, f0) = (&p[arch.w_context()], arch.activations[0]);
        if path != Path::Local {
            kernels::transpose(w_t, w_ctx, h0, h0);
        }
        let d_out = d_out.as_mut_slice();
        kernels::backprop_activation(out, d_out, arch.output_activation);
        mlp::backward_upper(arch, p, acts, 0, d_out, deltas, 0, n);
        let a0 = &acts[0];
        let d0 = &mut deltas[0];
        match path {
            Path::Local => kernels::backprop_activation(&a0[blk..], d0, f0),
            Path::Full => {
                Recurrence { h0, batch: b, w: w_t, bias: &[], f: f0 }.backward(d0, a0);
            }
            Path::Truncated(k) => {
                kernels::backprop_activation(&a0[blk..], d0, f0);
                // Contributions to step s come only from targets t > s, so the δ of step t is
                // still its local value when target t is followed back.
                let (mut r, mut r_next) = (&mut tmp[0], dc);
                for t in 1..steps {
                    let stop = t.saturating_sub(k);
                    kernels::gemm(zero, r, h0, b, h0, one, w_t, Op::N, cols(d0, h0, t * b, b), Op::N);
                    let mut s = t - 1;
                    loop {
                        kernels::backprop_activation(cols(a0, h0, (s + 1) * b, b), r, f0);
                        add(cols_mut(d0, h0, s * b, b), r);
                        if s == stop {
                            break;
                        }
                        kernels::gemm(zero, r_next, h0, b, h0, one, w_t, Op::N, r, Op::N);
                        std::mem::swap(&mut r, &mut r_next);
                        s -= 1;
                    }
                }
            }
        }
        let ctx = &acts[0][..n * h0];
        mlp::weight_gradients(arch, acts, b, batch.inputs().as_slice(), ctx, deltas, d_out, grad, n);
    }

    /// Backward pass of a Jordan net (context from the output).
    fn backward_jordan(&mut self, batch: &SeqBatch<T>, path: Path, grad: &mut [T]) {
        let (steps, b) = (batch.steps(), batch.batch_size());
        let Core { arch, params: p, work, .. } = self;
        let Work { acts, out, ctx, deltas, d_out, tmp, tmp_out, dc, w_t, .. } = work;
        let (one, zero) = (T::one(), T::zero());
        let (h0, o, nc, n) = (arch.hidden[0], arch.outputs, arch.context(), steps * b);
        let mu = T::of_f64(arch.mu);
        let (w_ctx, f0, g) = (&p[arch.w_context()], arch.activations[0], arch.output_activation);
        if path != Path::Local {
            kernels::transpose(w_t, w_ctx, h0, nc);
        }
        let d_out = d_out.as_mut_slice();
        match path {
            Path::Full => {
                dc.fill(zero);
                for t in (0..steps).rev() {
                    let dy = cols_mut(d_out, o, t * b, b);
                    if t + 1 < steps {
                        add(dy, dc);
                    }
                    kernels::backprop_activation(cols(out, o, t * b, b), dy, g);
                    mlp::backward_upper(arch, p, acts, t * b, dy, deltas, t * b, b);
                    let d0 = cols_mut(&mut deltas[0], h0, t * b, b);
                    kernels::backprop_activation(cols(&acts[0], h0, (t + 1) * b, b), d0, f0);
                    if t > 0 {
                        kernels::gemm(mu, dc, nc, b, h0, one, w_t, Op::N, d0, Op::N);
                    }
                }
            }
            Path::Local | Path::Truncated(_) => {
                kernels::backprop_activation(out, d_out, g);
                mlp::backward_upper(arch, p, acts, 0, d_out, deltas, 0, n);
                kernels::backprop_activation(&acts[0][h0 * b..], &mut deltas[0], f0);
            }
        }
        if let Path::Truncated(k) = path {
            // As for Elman: δ of step t is still local when target t is followed back.
            for t in 1..steps {
                let stop = t.saturating_sub(k);
                kernels::gemm(zero, dc, nc, b, h0, one, w_t, Op::N, cols(&deltas[0], h0, t * b, b), Op::N);
                let mut s = t - 1;
                loop {
                    tmp_out.copy_from_slice(dc);
                    kernels::backprop_activation(cols(out, o, s * b, b), tmp_out, g);
                    mlp::backward_upper(arch, p, acts, s * b, tmp_out, tmp, 0, b);
                    kernels::backprop_activation(cols(&acts[0], h0, (s + 1) * b, b), &mut tmp[0], f0);
                    add(cols_mut(d_out, o, s * b, b), tmp_out);
                    for (l, t_l) in tmp.iter().enumerate() {
                        add(cols_mut(&mut deltas[l], arch.hidden[l], s * b, b), t_l);
                    }
                    if s == stop {
                        break;
                    }
                    kernels::gemm(mu, dc, nc, b, h0, one, w_t, Op::N, &tmp[0], Op::N);
                    s -= 1;
                }
            }
        }
        let c = &ctx[..n * nc];
        mlp::weight_gradients(arch, acts, b, batch.inputs().as_slice(), c, deltas, d_out, grad, n);
    }

    /// Sizes the state's scratch for single steps of this net.
    ///
    /// # Errors
    /// [`Error::Allocation`] if it cannot be had.
    pub fn prepare_step(&self, state: &mut State<T>) -> Result<()> {
        state.ensure_scratch(&self.arch)
    }

    /// One step of `state.batch_size()` sequences from inputs `x` (`I × B`): writes the
    /// outputs into the state and advances its context. Shapes must have been checked and the
    /// scratch sized by [`prepare_step`](Self::prepare_step).
    #[inline]
    pub fn step_into(&self, x: &[T], state: &mut State<T>) {
        self.step_outputs(x, state);
        self.advance_context(state);
    }

    /// The activations and outputs of one step into the state's scratch; the context is left
    /// as it is.
    pub fn step_outputs(&self, x: &[T], state: &mut State<T>) {
        let arch = &self.arch;
        let p = &self.params;
        let b = state.batch_size();
        let State { context, acts, output } = state;
        let (one, zero) = (T::one(), T::zero());
        let (h0, nc) = (arch.hidden[0], arch.context());
        let a0 = &mut acts[0];
        kernels::gemm(zero, a0, h0, b, arch.inputs, one, &p[arch.w_in()], Op::N, x, Op::N);
        kernels::gemm(one, a0, h0, b, nc, one, &p[arch.w_context()], Op::N, context.as_slice(), Op::N);
        kernels::bias_activation(a0, h0, &p[arch.b_hidden(0)], arch.activations[0]);
        mlp::forward_upper(arch, p, acts, 0, output, 0, b);
    }

    /// Advances the state's context from the step [`step_outputs`](Self::step_outputs) left
    /// in its scratch.
    pub fn advance_context(&self, state: &mut State<T>) {
        let arch = &self.arch;
        let State { context, acts, output } = state;
        match arch.source {
            ContextSource::Hidden => context.as_mut_slice().copy_from_slice(&acts[0]),
            ContextSource::Output => kernels::decay_add(context.as_mut_slice(), T::of_f64(arch.mu), output),
        }
    }
}
