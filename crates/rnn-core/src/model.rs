//! The traits a recurrent model implements to get training, gradient checks, persistence,
//! evolution and benchmarks from the rest of the workspace.

use nalgebra::DMatrix;

use crate::{Loss, Parameters, Real, Result, SeqBatch};

/// A recurrent model mapping a batch of input sequences to output sequences.
///
/// Every call to [`forward`](Self::forward) starts each sequence from the model's initial state;
/// stateful use (carrying state across calls) is each architecture's own step API.
/// `&mut self` lets a model keep preallocated scratch buffers between calls, so the time loop
/// never allocates.
pub trait SequenceModel<T: Real>: Parameters<T> {
    /// Width of x(t).
    fn input_size(&self) -> usize;
    /// Width of y(t).
    fn output_size(&self) -> usize;

    /// Outputs for every step of every sequence, `O × (steps·B)` in the batch's column order.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) if the batch's input width
    /// is not [`input_size`](Self::input_size).
    fn forward(&mut self, batch: &SeqBatch<T>) -> Result<DMatrix<T>>;
}

/// A model that computes the gradient of a loss over a batch with respect to its flat
/// parameter vector.
///
/// The training loop ([`train`](crate::train::train)), the gradient checker
/// ([`check_gradient`](crate::gradcheck::check_gradient)) and the optimizers need nothing else.
pub trait Differentiable<T: Real>: SequenceModel<T> {
    /// The loss over the valid steps of `batch` (its targets required), with ∂L/∂θ written into
    /// `grad` in the layout of [`Parameters::layout`]. `grad` is overwritten, not accumulated.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for a batch or `grad` of the
    /// wrong shape, [`Error::Empty`](crate::Error::Empty) for a batch without targets.
    fn loss_and_gradient(&mut self, batch: &SeqBatch<T>, loss: Loss, grad: &mut [T]) -> Result<T>;

    /// The loss alone. The default runs [`forward`](SequenceModel::forward).
    fn loss(&mut self, batch: &SeqBatch<T>, loss: Loss) -> Result<T> {
        let targets = batch.require_targets()?;
        crate::error::check_dim("target width", self.output_size(), targets.nrows())?;
        let out = self.forward(batch)?;
        loss.value(out.as_view(), targets.as_view(), batch.valid_mask())
    }
}
