//! The recurrent state of a batch of sequences: the context units.

use nalgebra::{DMatrix, DMatrixView};
use rnn_core::alloc::{checked_size, try_resize};
use rnn_core::{Real, Result};

use crate::arch::Arch;

/// The state a partially recurrent net carries from one step to the next: the context units
/// of each sequence of a batch, a `C × B` matrix (one column per sequence).
///
/// A state is a plain value that the caller keeps (as in candle's `rnn` module): make one with
/// the model's `initial_state(batch)`, pass it by `&mut` to `step`, `forward_from` or
/// `forecast`, and each call continues where the last one stopped. Reset it with the model's
/// `reset_state`, or start over with a new one. It also holds the scratch space of a single
/// step, so stepping does not allocate.
///
/// - Elman: C = H₀ and the context is the first hidden layer's last activations, c(t) = h⁰(t − 1).
/// - Jordan: C = O and the context is the decaying output trace, c(t) = μ·c(t − 1) + y(t − 1).
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_partial::State;
/// let state = State::from_context(DMatrix::<f64>::from_element(3, 2, 0.5));
/// assert_eq!(state.batch_size(), 2);
/// assert_eq!(state.context()[(2, 1)], 0.5);
/// ```
#[derive(Debug, Clone)]
pub struct State<T: Real> {
    pub(crate) context: DMatrix<T>,
    /// Activations of each hidden layer for one step, `H_l × B`.
    pub(crate) acts: Vec<Vec<T>>,
    /// The outputs of the last step, `O × B`.
    pub(crate) output: Vec<T>,
}

impl<T: Real> State<T> {
    /// A state holding `context` (`C × B`). The model checks C and B when the state is used.
    pub fn from_context(context: DMatrix<T>) -> Self {
        Self { context, acts: Vec::new(), output: Vec::new() }
    }

    /// Number of sequences B.
    pub fn batch_size(&self) -> usize {
        self.context.ncols()
    }

    /// The context units, `C × B`.
    pub fn context(&self) -> &DMatrix<T> {
        &self.context
    }

    /// The context units, mutable (to set them by hand).
    pub fn context_mut(&mut self) -> &mut DMatrix<T> {
        &mut self.context
    }

    /// The outputs of the last single step (`O × B`), or `None` before the first step.
    ///
    /// Only `step` and the forecasts set it; `forward_from` returns its outputs instead.
    pub fn last_output(&self) -> Option<DMatrixView<'_, T>> {
        if self.output.is_empty() || self.batch_size() == 0 {
            return None;
        }
        let rows = self.output.len() / self.batch_size();
        Some(DMatrixView::from_slice(&self.output, rows, self.batch_size()))
    }

    /// The context, consuming the state.
    pub fn into_context(self) -> DMatrix<T> {
        self.context
    }

    /// Sizes the scratch space of one step for `arch` (allocates only on first use).
    ///
    /// # Errors
    /// [`Error::Allocation`](rnn_core::Error::Allocation) if it cannot be had (a batch of
    /// many sequences through wide layers); the scratch may then be partly sized, which the
    /// next call mends.
    pub(crate) fn ensure_scratch(&mut self, arch: &Arch) -> Result<()> {
        let b = self.batch_size();
        if self.acts.len() != arch.layers() {
            self.acts.clear();
            self.acts.resize_with(arch.layers(), Vec::new);
        }
        for (a, &h) in self.acts.iter_mut().zip(&arch.hidden) {
            let len = checked_size("hidden activations of one step (state scratch)", h, b)?;
            try_resize("hidden activations of one step (state scratch)", a, len, T::zero())?;
        }
        let len = checked_size("outputs of one step (state scratch)", arch.outputs, b)?;
        try_resize("outputs of one step (state scratch)", &mut self.output, len, T::zero())
    }
}

impl<T: Real> PartialEq for State<T> {
    /// Two states are equal when their contexts are (scratch space does not count).
    fn eq(&self, other: &Self) -> bool {
        self.context == other.context
    }
}
