//! Epochwise backpropagation through time over one whole sequence.

use nalgebra::DMatrix;
use rnn_core::{Error, MaskedSequence, Optimizer, Parameters, Real, Result, error::check_dim};
use serde::{Deserialize, Serialize};

use crate::{
    FullyRecurrent,
    online::check_sequence,
    trace::{Forcing, Trace, squared_error},
};

/// Epochwise BPTT (Williams & Zipser's "epochwise" training; Werbos 1990): run the whole
/// sequence from y(0), then backpropagate through every step and sum each shared weight's
/// gradient over its unrolled copies, for J = ½ Σ_t Σ_{k ∈ T(t)} (y_k(t+1) − d_k(t))².
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::{MaskedSequence, Parameters, Sequence, Sgd};
/// use rnn_recurrent::{Bptt, RecurrentConfig};
/// let mut net = RecurrentConfig::new(1, 3, 1).seed(4).build::<f64>().unwrap();
/// let seq = Sequence::new(DMatrix::from_row_slice(1, 4, &[1.0, 0.0, 0.0, 0.0]),
///                         DMatrix::from_row_slice(1, 4, &[0.0, 1.0, 0.0, 0.0])).unwrap();
/// let seq = MaskedSequence::all_present(seq).unwrap();
/// let mut grad = vec![0.0; net.num_params()];
/// let j = Bptt::new().gradient(&mut net, &seq, &mut grad).unwrap();
/// let mut sgd = Sgd::new(0.5).unwrap();
/// for _ in 0..200 {
///     Bptt::new().train_sequence(&mut net, &seq, &mut sgd).unwrap();
/// }
/// assert!(Bptt::new().gradient(&mut net, &seq, &mut grad).unwrap() < j);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bptt {
    teacher_forcing: bool,
}

impl Bptt {
    /// Epochwise BPTT without teacher forcing.
    pub fn new() -> Self {
        Self::default()
    }

    /// With teacher forcing: an output with a target at step t enters the next step as its
    /// target instead of its value.
    pub fn teacher_forcing(mut self, on: bool) -> Self {
        self.teacher_forcing = on;
        self
    }

    /// J over `seq` from the initial state, and ∂J/∂w for every weight into `grad`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for a sequence of the wrong width or a `grad` of the wrong
    /// length, [`Error::InvalidConfig`] for teacher forcing on a sequence with no target,
    /// [`Error::Allocation`] for a sequence too long to record, [`Error::NonFinite`] for an
    /// output, the error or a gradient that overflowed.
    pub fn gradient<T: Real>(&self, net: &mut FullyRecurrent<T>, seq: &MaskedSequence<T>, grad: &mut [T]) -> Result<T> {
        check_sequence(net, seq)?;
        check_dim("gradient length (parameters)", net.num_params(), grad.len())?;
        if self.teacher_forcing && seq.present_count() == 0 {
            return Err(Error::config("teacher forcing", "a sequence with at least one target", "none present"));
        }
        net.sync();
        let mut trace = Trace::new(net, seq.len(), 1)?;
        let forcing = self.teacher_forcing.then_some(Forcing { targets: seq.targets(), present: seq.present() });
        trace.forward(net, seq.inputs(), forcing);
        let outputs = trace.outputs(net);
        rnn_core::error::check_finite("network output", outputs.as_slice())?;
        let mut dl = DMatrix::zeros(outputs.nrows(), outputs.ncols());
        let loss = squared_error(&outputs, seq.targets(), seq.present(), &mut dl);
        let forced = self.teacher_forcing.then_some(seq.present());
        trace.backward(net, 0..seq.len(), &dl, forced, grad);
        rnn_core::error::check_finite("sequence error J", &[loss])?;
        rnn_core::error::check_finite("gradient", grad)?;
        Ok(loss)
    }

    /// One gradient step on `seq`; returns J before the step.
    ///
    /// # Errors
    /// As [`gradient`](Self::gradient), and whatever the optimizer refuses (the weights are
    /// unchanged then).
    pub fn train_sequence<T: Real, O: Optimizer<T> + ?Sized>(
        &self,
        net: &mut FullyRecurrent<T>,
        seq: &MaskedSequence<T>,
        opt: &mut O,
    ) -> Result<T> {
        let mut grad = vec![T::zero(); net.num_params()];
        let loss = self.gradient(net, seq, &mut grad)?;
        opt.step(net.params_mut(), &grad)?;
        Ok(loss)
    }
}
