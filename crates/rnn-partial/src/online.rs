//! Online learning over a stream: the weights change after every time step, as in Elman's
//! (1990) experiments, while the context is carried from step to step.
//!
//! At step t the net reads x(t) with the context c(t), its loss Lₜ = loss(y(t), d(t)) is
//! differentiated, and the optimizer updates the weights at once. The gradient is
//!
//! - [`Backprop::ContextAsInput`]: ∂Lₜ/∂θ with c(t) held fixed (the classic rule);
//! - [`Backprop::Truncated(k)`](Backprop::Truncated): ∂Lₜ/∂θ through the last k context
//!   transitions, from a ring buffer of the last k + 1 steps' inputs, contexts and activations
//!   (recorded with the weights of their own step, the usual online approximation).
//!
//! [`Backprop::Full`] would need the whole past at every step and is refused. Nothing is
//! allocated per step: the ring buffers (and one copy of the weights) are sized once per call,
//! fallibly ([`Error::Allocation`] if they cannot be had).
//!
//! # Divergence
//!
//! As in [`rnn_core::train()`], with a pass in the place of an epoch: if a step's loss or
//! gradient is NaN or infinite, the optimizer refuses a step whose update would overflow the
//! weights (its [`Error::NonFinite`]), or a pass ends with a mean loss or weights that are not
//! finite, training stops with [`Error::Diverged`] naming the pass (counted from 1) and the
//! offending loss (that of the failing step, or the pass's mean), and the weights are put
//! back as they were at the start of that pass. Any other error of the optimizer during a
//! pass restores them too. The optimizer's own state (momenta, step counts) is not restored.

use nalgebra::{DMatrix, DMatrixView};
use rnn_core::alloc::{checked_size, try_filled};
use rnn_core::linalg::Op;
use rnn_core::{Error, Loss, Optimizer, Real, Result, Sequence, error::check_dim};
use serde::{Deserialize, Serialize};

use crate::arch::ContextSource;
use crate::backprop::Backprop;
use crate::kernels;
use crate::mlp::{self, cols, cols_mut};
use crate::net::Core;

/// Settings of [`train_online`](crate::Elman::train_online).
///
/// ```
/// use rnn_partial::{Backprop, OnlineOptions};
/// let o = OnlineOptions::new(10).backprop(Backprop::Truncated(2)).carry_context(true);
/// assert_eq!((o.passes, o.backprop, o.carry_context), (10, Backprop::Truncated(2), true));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineOptions {
    /// Passes over the stream (at least 1).
    pub passes: usize,
    /// The gradient of each step: [`Backprop::ContextAsInput`] (the default here) or
    /// [`Backprop::Truncated`]. [`Backprop::Full`] — the default of the nets' own batch
    /// gradient — needs the whole future of the stream, so online learning refuses it with
    /// [`Error::InvalidConfig`].
    pub backprop: Backprop,
    /// Whether a pass starts from the context where the previous pass ended (`true`) or from
    /// the initial context (`false`, the default). Either way, a truncated gradient does not
    /// reach back across the start of a pass.
    pub carry_context: bool,
}

impl OnlineOptions {
    /// `passes` passes with the context-as-input gradient, each from the initial context.
    pub fn new(passes: usize) -> Self {
        Self { passes, backprop: Backprop::ContextAsInput, carry_context: false }
    }

    /// Sets the gradient of each step.
    pub fn backprop(mut self, backprop: Backprop) -> Self {
        self.backprop = backprop;
        self
    }

    /// Sets whether the context is carried from one pass to the next.
    pub fn carry_context(mut self, carry: bool) -> Self {
        self.carry_context = carry;
        self
    }

    /// Checks the settings.
    fn validate(&self) -> Result<usize> {
        if self.passes == 0 {
            return Err(Error::config("number of passes", "at least 1", 0));
        }
        match self.backprop {
            Backprop::ContextAsInput => Ok(0),
            Backprop::Truncated(k) => Ok(k),
            Backprop::Full => Err(Error::config(
                "online backpropagation",
                "ContextAsInput or Truncated(k) (full BPTT needs the whole past at every step)",
                "Full",
            )),
        }
    }
}

/// Ring buffers of the last k + 1 steps, slot = step mod (k + 1).
struct Ring<T: Real> {
    x: Vec<T>,
    ctx: Vec<T>,
    acts: Vec<Vec<T>>,
    out: Vec<T>,
    deltas: Vec<Vec<T>>,
    d_out: Vec<T>,
    /// ∂L/∂y of the current step, `O × 1`.
    g: DMatrix<T>,
    /// Per-layer δ of one step (Jordan's chain), `H_l × 1`.
    tmp: Vec<Vec<T>>,
    tmp_out: Vec<T>,
    dc: Vec<T>,
    grad: Vec<T>,
}

impl<T: Real> Core<T> {
    /// See [`Elman::train_online`](crate::Elman::train_online).
    pub fn train_online<O: Optimizer<T> + ?Sized>(
        &mut self,
        stream: &Sequence<T>,
        optimizer: &mut O,
        loss: Loss,
        options: &OnlineOptions,
    ) -> Result<Vec<T>> {
        let k = options.validate()?;
        if stream.inputs.ncols() == 0 {
            return Err(Error::empty("stream (time steps)", 1));
        }
        check_dim("input width", self.arch.inputs, stream.inputs.nrows())?;
        check_dim("target width", self.arch.outputs, stream.targets.nrows())?;
        check_dim("target steps", stream.inputs.ncols(), stream.targets.ncols())?;
        rnn_core::error::check_finite("stream inputs", stream.inputs.as_slice())?;
        rnn_core::error::check_finite("stream targets", stream.targets.as_slice())?;
        let arch = self.arch.clone();
        let (ni, no, nc, h0) = (arch.inputs, arch.outputs, arch.context(), arch.hidden[0]);
        let steps = stream.inputs.ncols();
        // No chain reaches further back than the start of the stream.
        let k = k.min(steps - 1);
        let r = k + 1;
        let zero = T::zero();
        let one = T::one();
        let mu = T::of_f64(arch.mu);
        // The ring holds r ≤ T steps of every layer: sized from the stream, so fallibly.
        let ring_of = |what: &str, rows: usize| try_filled(what, checked_size(what, rows, r)?, zero);
        let per_layer = |what: &str, ring: bool| -> Result<Vec<Vec<T>>> {
            arch.hidden.iter().map(|&h| if ring { ring_of(what, h) } else { try_filled(what, h, zero) }).collect()
        };
        let mut ring = Ring {
            x: ring_of("online ring buffer (inputs)", ni)?,
            ctx: ring_of("online ring buffer (contexts)", nc)?,
            acts: per_layer("online ring buffer (activations)", true)?,
            out: ring_of("online ring buffer (outputs)", no)?,
            deltas: per_layer("online ring buffer (deltas)", true)?,
            d_out: ring_of("online ring buffer (output deltas)", no)?,
            g: DMatrix::zeros(no, 1),
            tmp: per_layer("online deltas of one step", false)?,
            tmp_out: try_filled("online output deltas of one step", no, zero)?,
            dc: try_filled("online context gradient", nc, zero)?,
            grad: try_filled("online gradient", arch.num_params(), zero)?,
        };
        // The weights at the start of the pass, put back if the pass fails.
        let mut pass_start = try_filled("weights at the start of a pass", self.params.len(), zero)?;
        let mut context = try_filled("online context", nc, T::of_f64(arch.initial_context))?;
        let mut pass_losses = Vec::new();
        let (f0, g_act) = (arch.activations[0], arch.output_activation);
        for pass in 0..options.passes {
            let epoch = pass + 1;
            if pass > 0 && !options.carry_context {
                context.fill(T::of_f64(arch.initial_context));
            }
            pass_start.copy_from_slice(&self.params);
            let mut total = zero;
            for t in 0..steps {
                let j = t % r;
                let p = &self.params;
                // Record the step's input and context, and run it forward.
                cols_mut(&mut ring.x, ni, j, 1).copy_from_slice(stream.inputs.column(t).as_slice());
                cols_mut(&mut ring.ctx, nc, j, 1).copy_from_slice(&context);
                {
                    let a0 = cols_mut(&mut ring.acts[0], h0, j, 1);
                    kernels::gemm(zero, a0, h0, 1, ni, one, &p[arch.w_in()], Op::N, cols(&ring.x, ni, j, 1), Op::N);
                    kernels::gemm(one, a0, h0, 1, nc, one, &p[arch.w_context()], Op::N, &context, Op::N);
                    kernels::bias_activation(a0, h0, &p[arch.b_hidden(0)], f0);
                }
                mlp::forward_upper(&arch, p, &mut ring.acts, 0, &mut ring.out, j, 1);
                let y = cols(&ring.out, no, j, 1);
                let target = stream.targets.column(t);
                let lt = loss.value_and_gradient_unchecked(
                    DMatrixView::from_slice(y, no, 1),
                    DMatrixView::from_slice(target.as_slice(), no, 1),
                    None,
                    &mut ring.g,
                );
                total += lt;
                // The context of the next step, from this step's activations.
                match arch.source {
                    ContextSource::Hidden => context.copy_from_slice(cols(&ring.acts[0], h0, j, 1)),
                    ContextSource::Output => kernels::decay_add(&mut context, mu, y),
                }
                // Local δ of this step; every other slot starts at zero.
                ring.deltas.iter_mut().for_each(|d| d.fill(zero));
                ring.d_out.fill(zero);
                let dy = cols_mut(&mut ring.d_out, no, j, 1);
                dy.copy_from_slice(ring.g.as_slice());
                kernels::backprop_activation(y, dy, g_act);
                mlp::backward_upper(&arch, p, &ring.acts, j, dy, &mut ring.deltas, j, 1);
                kernels::backprop_activation(
                    cols(&ring.acts[0], h0, j, 1),
                    cols_mut(&mut ring.deltas[0], h0, j, 1),
                    f0,
                );
                // Follow the context back through the ring, at most k transitions.
                let back = k.min(t);
                if back > 0 {
                    self.chain(&mut ring, j, back, r);
                }
                mlp::weight_gradients(
                    &arch,
                    &ring.acts,
                    0,
                    &ring.x,
                    &ring.ctx,
                    &ring.deltas,
                    &ring.d_out,
                    &mut ring.grad,
                    r,
                );
                if !lt.is_finite() || ring.grad.iter().any(|g| !g.is_finite()) {
                    self.params.copy_from_slice(&pass_start);
                    return Err(Error::Diverged { epoch, loss: lt.as_f64() });
                }
                if let Err(e) = optimizer.step(&mut self.params, &ring.grad) {
                    self.params.copy_from_slice(&pass_start);
                    // The gradient is finite: a NaN or infinity the optimizer reports is the
                    // update overflowing the weights, which is divergence too.
                    return Err(match e {
                        Error::NonFinite { .. } => Error::Diverged { epoch, loss: lt.as_f64() },
                        other => other,
                    });
                }
            }
            let mean = total / T::of_usize(steps);
            if !mean.is_finite() || self.params.iter().any(|p| !p.is_finite()) {
                self.params.copy_from_slice(&pass_start);
                return Err(Error::Diverged { epoch, loss: mean.as_f64() });
            }
            pass_losses.push(mean);
        }
        Ok(pass_losses)
    }

    /// Adds to the ring's δ the terms of the current step's loss that flow back through the
    /// context, `back` transitions from slot `j`.
    fn chain(&self, ring: &mut Ring<T>, j: usize, back: usize, r: usize) {
        let arch = &self.arch;
        let p = &self.params;
        let (one, zero) = (T::one(), T::zero());
        let (h0, no, nc) = (arch.hidden[0], arch.outputs, arch.context());
        let w_ctx = &p[arch.w_context()];
        let mu = T::of_f64(arch.mu);
        let (f0, g) = (arch.activations[0], arch.output_activation);
        // ∂L/∂c of the current step.
        kernels::gemm(zero, &mut ring.dc, nc, 1, h0, one, w_ctx, Op::T, cols(&ring.deltas[0], h0, j, 1), Op::N);
        for back_step in 1..=back {
            let s = (j + r - back_step) % r;
            match arch.source {
                ContextSource::Hidden => {
                    // c(s + 1) = h⁰(s): δ⁰(s) = ∂L/∂c(s + 1) ⊙ f₀′.
                    let d0 = cols_mut(&mut ring.deltas[0], h0, s, 1);
                    d0.copy_from_slice(&ring.dc);
                    kernels::backprop_activation(cols(&ring.acts[0], h0, s, 1), d0, f0);
                    if back_step < back {
                        kernels::gemm(zero, &mut ring.dc, nc, 1, h0, one, w_ctx, Op::T, d0, Op::N);
                    }
                }
                ContextSource::Output => {
                    // c(s + 1) = μ·c(s) + y(s): ∂L/∂y(s) = ∂L/∂c(s + 1).
                    ring.tmp_out.copy_from_slice(&ring.dc);
                    kernels::backprop_activation(cols(&ring.out, no, s, 1), &mut ring.tmp_out, g);
                    mlp::backward_upper(arch, p, &ring.acts, s, &ring.tmp_out, &mut ring.tmp, 0, 1);
                    kernels::backprop_activation(cols(&ring.acts[0], h0, s, 1), &mut ring.tmp[0], f0);
                    cols_mut(&mut ring.d_out, no, s, 1).copy_from_slice(&ring.tmp_out);
                    for (l, t_l) in ring.tmp.iter().enumerate() {
                        cols_mut(&mut ring.deltas[l], arch.hidden[l], s, 1).copy_from_slice(t_l);
                    }
                    if back_step < back {
                        kernels::gemm(mu, &mut ring.dc, nc, 1, h0, one, w_ctx, Op::T, &ring.tmp[0], Op::N);
                    }
                }
            }
        }
    }
}
