//! Free-running forecasts: the net's predictions fed back in as its next inputs.
//!
//! Every buffer is sized from the horizon the caller asks for, so each is allocated fallibly
//! ([`Error::Allocation`](rnn_core::Error::Allocation)) before the loop; the outputs are
//! checked for NaN and infinity once, after it
//! ([`Error::NonFinite`](rnn_core::Error::NonFinite), `"network output"`).

use nalgebra::DMatrix;
use rnn_core::alloc::{checked_size, try_filled};
use rnn_core::error::check_finite;
use rnn_core::{Real, Result};

use crate::net::{Core, NETWORK_OUTPUT};
use crate::state::State;

impl<T: Real> Core<T> {
    /// `horizon` steps from `first` (`I × B`), each output becoming the next input (I = O).
    /// Returns `O × horizon·B`, column `h·B + b` = step h of sequence b. Shapes checked by
    /// the caller.
    ///
    /// # Errors
    /// [`Error::Allocation`](rnn_core::Error::Allocation) if the result cannot be had;
    /// [`Error::NonFinite`](rnn_core::Error::NonFinite) at the first non-finite output (flat
    /// index into the result), the state then having advanced `horizon` steps.
    pub fn forecast_outputs(&self, state: &mut State<T>, first: &[T], horizon: usize) -> Result<DMatrix<T>> {
        let b = state.batch_size();
        let ob = self.arch.outputs * b;
        let len = checked_size("forecast outputs", ob, horizon)?;
        let mut result = try_filled("forecast outputs", len, T::zero())?;
        self.prepare_step(state)?;
        let mut x = first.to_vec();
        for h in 0..horizon {
            self.step_into(&x, state);
            result[h * ob..(h + 1) * ob].copy_from_slice(&state.output);
            x.copy_from_slice(&state.output);
        }
        check_finite(NETWORK_OUTPUT, &result)?;
        Ok(DMatrix::from_vec(self.arch.outputs, horizon * b, result))
    }

    /// `horizon` steps of a univariate series read through a window of its last I values
    /// (oldest first); each prediction is appended to the window and the oldest value drops
    /// out. O = 1 and B = 1, checked by the caller.
    ///
    /// # Errors
    /// As [`forecast_outputs`](Self::forecast_outputs).
    pub fn forecast_window_values(&self, state: &mut State<T>, window: &[T], horizon: usize) -> Result<Vec<T>> {
        let mut result = try_filled("forecast values", horizon, T::zero())?;
        self.prepare_step(state)?;
        let mut w = window.to_vec();
        for r in result.iter_mut() {
            self.step_into(&w, state);
            let y = state.output[0];
            *r = y;
            w.rotate_left(1);
            if let Some(last) = w.last_mut() {
                *last = y;
            }
        }
        check_finite(NETWORK_OUTPUT, &result)?;
        Ok(result)
    }

    /// Runs every window of `series` whose next value is known (the windows ending at
    /// I − 1 … n − 2) through the net from the initial state, then forecasts `horizon` values
    /// from the window of the last I values. `series.len() ≥ I`, checked by the caller.
    ///
    /// # Errors
    /// As [`forecast_outputs`](Self::forecast_outputs).
    pub fn forecast_series_values(&self, series: &[T], horizon: usize) -> Result<Vec<T>> {
        let i = self.arch.inputs;
        let mut state = self.initial_state(1)?;
        self.prepare_step(&mut state)?;
        for end in i..series.len() {
            self.step_into(&series[end - i..end], &mut state);
        }
        self.forecast_window_values(&mut state, &series[series.len() - i..], horizon)
    }
}
