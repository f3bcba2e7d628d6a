//! One step at a time, and free-running forecasts that feed each output back as the next input.

use nalgebra::DMatrix;
use rnn_core::{Error, Real, Result, SeqBatch, SequenceModel};

use crate::{Lstm, LstmState, Readout};

impl<T: Real> Lstm<T> {
    /// One step for B sequences: `x` is `I × B`, the state advances by one step; returns the
    /// outputs, `O × B`.
    ///
    /// # Errors
    /// As [`forward_from`](Self::forward_from).
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_lstm::{Head, LstmConfig};
    /// let mut net = LstmConfig::new(2, 4, 1).head(Head::new(2)).seed(1).build::<f64>().unwrap();
    /// let mut state = net.zero_state(1);
    /// let y = net.step(&DMatrix::from_column_slice(2, 1, &[0.5, -0.5]), &mut state).unwrap();
    /// assert_eq!(y.shape(), (2, 1));
    /// ```
    pub fn step(&mut self, x: &DMatrix<T>, state: &mut LstmState<T>) -> Result<DMatrix<T>> {
        let batch = SeqBatch::new(x.clone(), None, 1, x.ncols())?;
        self.forward_from(&batch, state)
    }

    /// Runs free for `horizon` steps from `first` (`I × B`, the input of the first step), each
    /// output fed back as the next step's input (a network with as many outputs as inputs, read
    /// at every step). Returns `O × horizon·B`, column h·B + b for step h of sequence b; `state`
    /// advances by `horizon` steps.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the outputs are not as wide as the inputs, the head reads only
    /// the last step, or `horizon` is 0; otherwise as [`step`](Self::step) (a forecast that
    /// overflows is [`Error::NonFinite`], `state` then having advanced).
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_lstm::{Head, LstmConfig};
    /// let mut net = LstmConfig::new(1, 4, 1).head(Head::new(1)).seed(1).build::<f64>().unwrap();
    /// let first = DMatrix::from_element(1, 1, 0.3);
    /// let mut state = net.zero_state(1);
    /// let free = net.forecast(&mut state, &first, 3).unwrap();
    /// // The same by hand.
    /// let mut state = net.zero_state(1);
    /// let y0 = net.step(&first, &mut state).unwrap();
    /// let y1 = net.step(&y0, &mut state).unwrap();
    /// assert_eq!(free.column(1), y1.column(0));
    /// ```
    pub fn forecast(&mut self, state: &mut LstmState<T>, first: &DMatrix<T>, horizon: usize) -> Result<DMatrix<T>> {
        if self.output_size() != self.input_size() {
            return Err(Error::config(
                "outputs of a free-running network",
                format!("as many as its inputs ({})", self.input_size()),
                self.output_size(),
            ));
        }
        if self.config().head.is_some_and(|h| h.readout == Readout::LastStep) {
            return Err(Error::config("readout of a free-running network", "every step", "the last step only"));
        }
        if horizon == 0 {
            return Err(Error::config("forecast horizon", "at least 1 step", 0));
        }
        let b = first.ncols();
        let columns = rnn_core::alloc::checked_size("forecast (horizon × sequences)", horizon, b)?;
        let mut out = DMatrix::from_vec(
            self.output_size(),
            columns,
            rnn_core::alloc::try_filled("forecast", self.output_size() * columns, T::zero())?,
        );
        let mut x = first.clone();
        for h in 0..horizon {
            x = self.step(&x, state)?;
            out.columns_mut(h * b, b).copy_from(&x);
        }
        Ok(out)
    }
}
