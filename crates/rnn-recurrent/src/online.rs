//! What every online learner of a [`FullyRecurrent`] network shares.
//!
//! An online learner runs the network one step at a time over a stream, and changes the
//! weights while it runs: real-time recurrent learning ([`Rtrl`](crate::Rtrl)) after every
//! step, truncated backpropagation through time ([`TruncatedBptt`](crate::TruncatedBptt)) every
//! h′ steps. The error of a step is Williams & Zipser's J(t) = ½ Σ_{k ∈ T(t)} e_k(t)², with
//! e_k(t) = d_k(t) − y_k(t+1) over the outputs k that have a target, so a plain
//! [`Sgd`](rnn_core::Sgd) step with learning rate α is their Δw = α Σ_k e_k ∂y_k/∂w.

use nalgebra::DMatrix;
use rnn_core::{MaskedSequence, Optimizer, Real, Result, error::check_dim};

use crate::FullyRecurrent;

/// What a learner saw over one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamReport<T: Real> {
    /// Σ_t J(t): half the summed squared error over present targets.
    pub loss: T,
    /// The largest |e_k(t)| over present targets (0 when none): the success criterion of
    /// Hochreiter & Schmidhuber's long-lag tasks.
    pub max_abs_error: T,
    /// The outputs, `K × L`, column t being y_out(t+1) as computed during learning.
    pub outputs: DMatrix<T>,
    /// How many targets were present (`loss / targets` is the mean of ½e²).
    pub targets: usize,
    /// How many times the weights changed.
    pub updates: usize,
}

/// A learner that trains a [`FullyRecurrent`] network while running it over a stream.
pub trait OnlineLearner<T: Real> {
    /// The network being trained.
    fn network(&self) -> &FullyRecurrent<T>;

    /// Starts a new sequence: the state returns to y(0) and whatever the learner carries
    /// across steps (sensitivities, history) is cleared. Weight changes not yet applied are
    /// dropped; call [`flush`](Self::flush) first to keep them.
    fn reset(&mut self);

    /// Runs one step on input x(t) (M values) and learns from the targets of the outputs that
    /// have one (`targets` and `present`, K values each). Returns J(t).
    ///
    /// # Errors
    /// [`rnn_core::Error::DimensionMismatch`] for slices of the wrong length,
    /// [`rnn_core::Error::NonFinite`] for NaN or infinity in them, and whatever the optimizer
    /// refuses (a diverged gradient); the network is unchanged by a refused update.
    fn step(&mut self, x: &[T], targets: &[T], present: &[bool], opt: &mut dyn Optimizer<T>) -> Result<T>;

    /// The outputs y_out(t+1) of the last step (y_out(0) before any).
    fn outputs(&self) -> Vec<T>;

    /// How many times this learner has changed the weights.
    fn updates(&self) -> usize;

    /// Whether outputs with a target enter the next step as their targets.
    fn uses_teacher_forcing(&self) -> bool;

    /// The state ỹ(t) the next step starts from (N values; teacher-forced outputs hold their
    /// targets): with [`network`](Self::network), enough to run on without learning.
    fn state(&self) -> &[T];

    /// Applies any weight change the learner is still holding (a partial truncation window, an
    /// accumulated gradient). Returns whether the weights changed.
    ///
    /// # Errors
    /// Whatever the optimizer refuses.
    fn flush(&mut self, opt: &mut dyn Optimizer<T>) -> Result<bool>;

    /// Learns one whole sequence: [`reset`](Self::reset), a [`step`](Self::step) per time step,
    /// then [`flush`](Self::flush).
    ///
    /// # Errors
    /// As [`step`](Self::step), with shapes checked before the first step;
    /// [`rnn_core::Error::InvalidConfig`] for teacher forcing on a sequence with no target.
    fn learn(&mut self, seq: &MaskedSequence<T>, opt: &mut dyn Optimizer<T>) -> Result<StreamReport<T>> {
        check_sequence(self.network(), seq)?;
        if self.uses_teacher_forcing() && seq.present_count() == 0 {
            return Err(rnn_core::Error::config(
                "teacher forcing",
                "a sequence with at least one target",
                "none present",
            ));
        }
        self.reset();
        let (k, len) = (seq.target_size(), seq.len());
        let mut outputs = DMatrix::zeros(k, len);
        let (mut loss, mut max_abs_error, updates_before) = (T::zero(), T::zero(), self.updates());
        let mut x = vec![T::zero(); seq.input_size()];
        let mut d = vec![T::zero(); k];
        let mut p = vec![false; k];
        for t in 0..len {
            x.copy_from_slice(seq.inputs().column(t).as_slice());
            d.copy_from_slice(seq.targets().column(t).as_slice());
            p.copy_from_slice(seq.present().column(t).as_slice());
            loss += self.step(&x, &d, &p, opt)?;
            let y = self.outputs();
            for i in 0..k {
                outputs[(i, t)] = y[i];
                if p[i] {
                    max_abs_error = max_abs_error.max((y[i] - d[i]).abs());
                }
            }
        }
        self.flush(opt)?;
        let targets = seq.present_count();
        Ok(StreamReport { loss, max_abs_error, outputs, targets, updates: self.updates() - updates_before })
    }
}

/// Checks that a sequence fits the network: M input rows, K target rows.
pub(crate) fn check_sequence<T: Real>(net: &FullyRecurrent<T>, seq: &MaskedSequence<T>) -> Result<()> {
    check_dim("sequence input rows (network inputs)", net.inputs(), seq.input_size())?;
    check_dim("sequence target rows (network outputs)", net.outputs().len(), seq.target_size())
}

/// Checks one online step's slices.
pub(crate) fn check_step<T: Real>(net: &FullyRecurrent<T>, x: &[T], targets: &[T], present: &[bool]) -> Result<()> {
    check_dim("input values (network inputs)", net.inputs(), x.len())?;
    check_dim("target values (network outputs)", net.outputs().len(), targets.len())?;
    check_dim("target presence flags (network outputs)", net.outputs().len(), present.len())?;
    rnn_core::error::check_finite("inputs", x)?;
    // Absent targets are ignored, so only present ones must be finite.
    for (k, (&d, &p)) in targets.iter().zip(present).enumerate() {
        if p && !d.is_finite() {
            return Err(rnn_core::Error::NonFinite { what: "target".into(), index: k, value: d.as_f64() });
        }
    }
    Ok(())
}
