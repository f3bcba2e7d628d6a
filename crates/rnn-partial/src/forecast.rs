//! Free-running forecasts: the net's predictions fed back in as its next inputs.

use nalgebra::DMatrix;
use rnn_core::Real;

use crate::net::Core;
use crate::state::State;

impl<T: Real> Core<T> {
    /// `horizon` steps from `first` (`I × B`), each output becoming the next input (I = O).
    /// Returns `O × horizon·B`, column `h·B + b` = step h of sequence b. Shapes checked by
    /// the caller.
    pub fn forecast_outputs(&self, state: &mut State<T>, first: &[T], horizon: usize) -> DMatrix<T> {
        let b = state.batch_size();
        let ob = self.arch.outputs * b;
        let mut result = DMatrix::zeros(self.arch.outputs, horizon * b);
        let mut x = first.to_vec();
        for h in 0..horizon {
            self.step_into(&x, state);
            result.as_mut_slice()[h * ob..(h + 1) * ob].copy_from_slice(&state.output);
            x.copy_from_slice(&state.output);
        }
        result
    }

    /// `horizon` steps of a univariate series read through a window of its last I values
    /// (oldest first); each prediction is appended to the window and the oldest value drops
    /// out. O = 1 and B = 1, checked by the caller.
    pub fn forecast_window_values(&self, state: &mut State<T>, window: &[T], horizon: usize) -> Vec<T> {
        let mut w = window.to_vec();
        let mut result = Vec::with_capacity(horizon);
        for _ in 0..horizon {
            self.step_into(&w, state);
            let y = state.output[0];
            result.push(y);
            w.rotate_left(1);
            if let Some(last) = w.last_mut() {
                *last = y;
            }
        }
        result
    }

    /// Runs every window of `series` whose next value is known (the windows ending at
    /// I − 1 … n − 2) through the net from the initial state, then forecasts `horizon` values
    /// from the window of the last I values. `series.len() ≥ I`, checked by the caller.
    pub fn forecast_series_values(&self, series: &[T], horizon: usize) -> Vec<T> {
        let i = self.arch.inputs;
        let mut state = self.initial_state(1);
        for end in i..series.len() {
            self.step_into(&series[end - i..end], &mut state);
        }
        self.forecast_window_values(&mut state, &series[series.len() - i..], horizon)
    }
}
