//! The network as an [`rnn_core::Differentiable`] model: batches of sequences, any
//! [`Loss`], the workspace's training loop.

use nalgebra::DMatrix;
use rnn_core::{Differentiable, Loss, Parameters, Real, Result, SeqBatch, SequenceModel, error::check_dim};

use crate::{FullyRecurrent, trace::Trace};

impl<T: Real> FullyRecurrent<T> {
    /// Runs a batch from the initial state into the cached trace.
    fn run_batch(&mut self, batch: &SeqBatch<T>) -> Result<Trace<T>> {
        check_dim("batch input rows (network inputs)", self.inputs(), batch.input_size())?;
        let (steps, b) = (batch.steps(), batch.batch_size());
        let mut trace = match self.take_trace() {
            Some(t) if t.fits(self, steps, b) => t,
            _ => Trace::new(self, steps, b)?,
        };
        self.sync();
        trace.forward(self, batch.inputs(), None);
        Ok(trace)
    }
}

impl<T: Real> SequenceModel<T> for FullyRecurrent<T> {
    fn input_size(&self) -> usize {
        self.inputs()
    }

    fn output_size(&self) -> usize {
        self.outputs().len()
    }

    /// The outputs `K × (steps·B)`, column t·B + b being y_out(t+1) of sequence b;
    /// [`Error::NonFinite`](rnn_core::Error::NonFinite) if one overflowed.
    fn forward(&mut self, batch: &SeqBatch<T>) -> Result<DMatrix<T>> {
        let trace = self.run_batch(batch)?;
        let out = trace.outputs(self);
        self.keep_trace(trace);
        rnn_core::error::check_finite("network output", out.as_slice())?;
        Ok(out)
    }
}

impl<T: Real> Differentiable<T> for FullyRecurrent<T> {
    /// Epochwise BPTT over every sequence of the batch, with `loss` over the valid steps. A
    /// loss that overflowed is returned as it is, so that [`rnn_core::train()`] stops with
    /// [`Error::Diverged`](rnn_core::Error::Diverged) naming the epoch.
    fn loss_and_gradient(&mut self, batch: &SeqBatch<T>, loss: Loss, grad: &mut [T]) -> Result<T> {
        let targets = batch.require_targets()?;
        check_dim("target rows (network outputs)", self.outputs().len(), targets.nrows())?;
        check_dim("gradient length (parameters)", self.num_params(), grad.len())?;
        let mut trace = self.run_batch(batch)?;
        let out = trace.outputs(self);
        let mut dl = DMatrix::zeros(out.nrows(), out.ncols());
        let value = loss.value_and_gradient_unchecked(out.as_view(), targets.as_view(), batch.valid_mask(), &mut dl);
        trace.backward(self, 0..batch.steps(), &dl, None, grad);
        self.keep_trace(trace);
        Ok(value)
    }
}
