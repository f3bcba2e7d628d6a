//! The methods and trait implementations Elman and Jordan nets share, written once and
//! stamped onto both types by a macro (the two types differ only in their configuration and
//! in where the context comes from, which the shared engine reads from the net's shape).

/// Implements the shared inherent methods and the `rnn_core` traits for `$model<T>`, whose
/// fields are `config: $config` and `core: Core<T>`.
macro_rules! partial_net_api {
    // The expansion calls `$crate::api::check_horizon`.
    ($model:ident, $config:ident, $kind:literal) => {
        impl<T: rnn_core::Real> $model<T> {
            /// The configuration the net was built from.
            pub fn config(&self) -> &$config {
                &self.config
            }

            /// The gradient mode of [`loss_and_gradient`](rnn_core::Differentiable::loss_and_gradient).
            pub fn backprop(&self) -> $crate::Backprop {
                self.config.backprop
            }

            /// Changes the gradient mode (the weights stay as they are).
            ///
            /// ```
            #[doc = concat!("use rnn_partial::{Backprop, ", stringify!($config), "};")]
            #[doc = concat!("let mut net = ", stringify!($config), "::new(1, &[3], 1).build::<f64>().unwrap();")]
            /// net.set_backprop(Backprop::Truncated(4));
            /// assert_eq!(net.backprop(), Backprop::Truncated(4));
            /// ```
            pub fn set_backprop(&mut self, backprop: $crate::Backprop) {
                self.config.backprop = backprop;
            }

            /// Number of context units C.
            pub fn context_size(&self) -> usize {
                self.core.arch.context()
            }

            /// A state for `batch` sequences with every context unit at the configured initial
            /// value (0 unless set; Elman used 0.5).
            ///
            /// # Errors
            /// [`Error::Allocation`](rnn_core::Error::Allocation) if the `C × batch` context
            /// cannot be allocated (or its size overflows).
            ///
            /// ```
            #[doc = concat!("let net = rnn_partial::", stringify!($config), "::new(2, &[3], 1).initial_context(0.5).build::<f32>().unwrap();")]
            /// let state = net.initial_state(4).unwrap();
            /// assert_eq!(state.batch_size(), 4);
            /// assert_eq!(state.context().nrows(), net.context_size());
            /// assert!(state.context().iter().all(|&c| c == 0.5));
            /// assert!(matches!(net.initial_state(usize::MAX), Err(rnn_core::Error::Allocation { .. })));
            /// ```
            pub fn initial_state(&self, batch: usize) -> rnn_core::Result<$crate::State<T>> {
                self.core.initial_state(batch)
            }

            /// Sets every context unit of `state` back to its initial value.
            pub fn reset_state(&self, state: &mut $crate::State<T>) {
                self.core.reset_state(state)
            }

            /// One time step of B sequences: inputs `x` (`I × B`, one column per sequence),
            /// outputs `O × B`; `state` advances by one step. Allocates only the returned
            /// matrix (and the state's scratch on its first step).
            ///
            /// # Errors
            /// [`Error::DimensionMismatch`](rnn_core::Error::DimensionMismatch) if `x` is not
            /// `I × B` for the state's B or the state has the wrong number of context units;
            /// [`Error::NonFinite`](rnn_core::Error::NonFinite) for NaN or infinity in `x` or
            /// the state, or (what `"network output"`, flat index into the `O × B` outputs)
            /// if an output overflows to infinity or NaN (finite weights can do that), the
            /// state's context then left as it was;
            /// [`Error::Allocation`](rnn_core::Error::Allocation) if the state's scratch
            /// cannot be had.
            ///
            /// ```
            /// use nalgebra::DMatrix;
            #[doc = concat!("let net = rnn_partial::", stringify!($config), "::new(2, &[3], 1).seed(1).build::<f64>().unwrap();")]
            /// let mut state = net.initial_state(1).unwrap();
            /// let x = DMatrix::from_column_slice(2, 1, &[0.5, -1.0]);
            /// let y1 = net.step(&x, &mut state).unwrap();
            /// let y2 = net.step(&x, &mut state).unwrap();
            /// assert_eq!(y1.shape(), (1, 1));
            /// assert_ne!(y1, y2); // the context changed in between
            /// assert!(net.step(&DMatrix::zeros(3, 1), &mut state).is_err());
            /// ```
            pub fn step(
                &self,
                x: &nalgebra::DMatrix<T>,
                state: &mut $crate::State<T>,
            ) -> rnn_core::Result<nalgebra::DMatrix<T>> {
                self.check_step_input(x, state)?;
                self.core.prepare_step(state)?;
                self.core.step_outputs(x.as_slice(), state);
                rnn_core::error::check_finite($crate::net::NETWORK_OUTPUT, &state.output)?;
                self.core.advance_context(state);
                $crate::net::matrix_from("network outputs", self.core.arch.outputs, state.batch_size(), &state.output)
            }

            fn check_step_input(&self, x: &nalgebra::DMatrix<T>, state: &$crate::State<T>) -> rnn_core::Result<()> {
                if state.batch_size() == 0 {
                    return Err(rnn_core::Error::empty("state (sequences)", 1));
                }
                self.core.check_state(state, state.batch_size())?;
                rnn_core::error::check_dim("input width", self.core.arch.inputs, x.nrows())?;
                rnn_core::error::check_dim("input columns (batch size)", state.batch_size(), x.ncols())?;
                rnn_core::error::check_finite("inputs", x.as_slice())
            }

            /// Runs a batch from `state` (one context column per sequence) and leaves in
            /// `state` each sequence's context after its last valid step, so that the next call
            /// continues the sequences: running a sequence in two calls gives the outputs of
            /// one call. Returns the outputs, `O × T·B` in the batch's column order.
            ///
            /// # Errors
            /// [`Error::DimensionMismatch`](rnn_core::Error::DimensionMismatch) for a batch of
            /// the wrong input width or a state of the wrong shape;
            /// [`Error::NonFinite`](rnn_core::Error::NonFinite) for NaN or infinity in the
            /// state, or (what `"network output"`, flat index into the `O × T·B` outputs) if
            /// an output overflows, `state` then left as it was;
            /// [`Error::Allocation`](rnn_core::Error::Allocation) if the scratch for the batch
            /// (`H × T·B` per hidden layer, kept in the net) or the outputs cannot be had.
            ///
            /// ```
            /// use nalgebra::DMatrix;
            /// use rnn_core::SeqBatch;
            #[doc = concat!("let mut net = rnn_partial::", stringify!($config), "::new(1, &[4], 1).seed(3).build::<f64>().unwrap();")]
            /// let x = DMatrix::from_fn(1, 6, |_, t| (t as f64).sin());
            /// let whole = SeqBatch::new(x.clone(), None, 6, 1).unwrap();
            /// let first = SeqBatch::new(x.columns(0, 4).into_owned(), None, 4, 1).unwrap();
            /// let rest = SeqBatch::new(x.columns(4, 2).into_owned(), None, 2, 1).unwrap();
            /// let mut state = net.initial_state(1).unwrap();
            /// let all = net.forward_from(&whole, &mut state).unwrap();
            /// let mut state = net.initial_state(1).unwrap();
            /// let a = net.forward_from(&first, &mut state).unwrap();
            /// let b = net.forward_from(&rest, &mut state).unwrap();
            /// assert_eq!(all.columns(0, 4), a);
            /// assert!((all.columns(4, 2) - b).abs().max() < 1e-15);
            /// ```
            pub fn forward_from(
                &mut self,
                batch: &rnn_core::SeqBatch<T>,
                state: &mut $crate::State<T>,
            ) -> rnn_core::Result<nalgebra::DMatrix<T>> {
                self.core.check_batch(batch, false)?;
                self.core.check_state(state, batch.batch_size())?;
                self.core.forward_batch(batch, state.context.as_slice())?;
                let n = batch.steps() * batch.batch_size();
                self.core.check_outputs(n)?;
                let outputs = self.core.outputs(n)?;
                self.core.store_final_context(batch, state);
                Ok(outputs)
            }

            /// Runs one sequence (`I × T`, a column per step) from `state`, which then holds
            /// the context after the last step. Returns the outputs, `O × T`.
            ///
            /// # Errors
            /// As [`forward_from`](Self::forward_from); [`Error::Empty`](rnn_core::Error::Empty)
            /// for a sequence of no step, [`Error::NonFinite`](rnn_core::Error::NonFinite) for
            /// NaN or infinity in the inputs or (`"network output"`) the outputs.
            pub fn run_sequence(
                &mut self,
                inputs: &nalgebra::DMatrix<T>,
                state: &mut $crate::State<T>,
            ) -> rnn_core::Result<nalgebra::DMatrix<T>> {
                let steps = inputs.ncols();
                let batch = rnn_core::SeqBatch::new(inputs.clone(), None, steps, 1)?;
                self.forward_from(&batch, state)
            }

            /// The loss over `batch` from the contexts in `state` and its gradient (by the
            /// configured [`Backprop`](crate::Backprop) mode) into `grad`; `state` then holds
            /// the contexts after the batch, for truncated training across consecutive chunks
            /// of long sequences.
            ///
            /// A loss or gradient that overflows is returned as it is, not as an error, so that
            /// a training loop can tell divergence ([`rnn_core::train()`] stops with
            /// [`Error::Diverged`](rnn_core::Error::Diverged) naming the epoch).
            ///
            /// # Errors
            /// As [`loss_and_gradient`](rnn_core::Differentiable::loss_and_gradient), and
            /// [`Error::DimensionMismatch`](rnn_core::Error::DimensionMismatch) for a state of
            /// the wrong shape; [`Error::Allocation`](rnn_core::Error::Allocation) if the
            /// scratch for the batch cannot be had.
            pub fn loss_and_gradient_from(
                &mut self,
                batch: &rnn_core::SeqBatch<T>,
                state: &mut $crate::State<T>,
                loss: rnn_core::Loss,
                grad: &mut [T],
            ) -> rnn_core::Result<T> {
                rnn_core::error::check_dim("gradient length (parameter count)", self.core.params.len(), grad.len())?;
                self.core.check_batch(batch, true)?;
                self.core.check_state(state, batch.batch_size())?;
                self.core.forward_batch(batch, state.context.as_slice())?;
                let path = self.config.backprop.path(batch.steps());
                let value = self.core.loss_and_gradient(batch, loss, path, grad)?;
                self.core.store_final_context(batch, state);
                Ok(value)
            }

            /// Free-running forecast for nets with I = O: `horizon` steps from the inputs
            /// `first` (`I × B`), each step's output becoming the next step's input. Returns
            /// `O × horizon·B`, column `h·B + b` for step h of sequence b; `state` advances by
            /// `horizon` steps.
            ///
            /// # Errors
            /// [`Error::InvalidConfig`](rnn_core::Error::InvalidConfig) if I ≠ O, and as
            /// [`step`](Self::step) for `first` and `state`;
            /// [`Error::Allocation`](rnn_core::Error::Allocation) if the `O × horizon·B` result
            /// cannot be had; [`Error::NonFinite`](rnn_core::Error::NonFinite) (what
            /// `"network output"`, flat index into the result) if the forecast overflows to
            /// infinity or NaN, `state` then having advanced `horizon` steps (reset it).
            ///
            /// ```
            /// use nalgebra::DMatrix;
            #[doc = concat!("let net = rnn_partial::", stringify!($config), "::new(2, &[5], 2).seed(4).build::<f64>().unwrap();")]
            /// let first = DMatrix::from_column_slice(2, 1, &[0.1, 0.2]);
            /// let mut state = net.initial_state(1).unwrap();
            /// let free = net.forecast(&mut state, &first, 3).unwrap();
            /// // The same by hand: feed each output back in.
            /// let mut state = net.initial_state(1).unwrap();
            /// let y0 = net.step(&first, &mut state).unwrap();
            /// let y1 = net.step(&y0, &mut state).unwrap();
            /// let y2 = net.step(&y1, &mut state).unwrap();
            /// assert_eq!(free.column(0), y0.column(0));
            /// assert_eq!(free.column(2), y2.column(0));
            /// ```
            pub fn forecast(
                &self,
                state: &mut $crate::State<T>,
                first: &nalgebra::DMatrix<T>,
                horizon: usize,
            ) -> rnn_core::Result<nalgebra::DMatrix<T>> {
                let arch = &self.core.arch;
                if arch.inputs != arch.outputs {
                    return Err(rnn_core::Error::config(
                        "free-running forecast (output fed back as input)",
                        format!("as many outputs as inputs ({})", arch.inputs),
                        format!("{} outputs", arch.outputs),
                    ));
                }
                self.check_step_input(first, state)?;
                $crate::api::check_horizon::<T>(horizon, arch.outputs.saturating_mul(state.batch_size()))?;
                self.core.forecast_outputs(state, first.as_slice(), horizon)
            }

            /// Free-running forecast of a univariate series read through a window of its last
            /// I values (a net with I inputs and 1 output): `window` holds the last I values,
            /// oldest first, not yet fed to the net; each prediction is appended to the window
            /// and its oldest value dropped. `state` (one sequence) advances by `horizon`
            /// steps.
            ///
            /// # Errors
            /// [`Error::InvalidConfig`](rnn_core::Error::InvalidConfig) unless O = 1;
            /// [`Error::DimensionMismatch`](rnn_core::Error::DimensionMismatch) unless
            /// `window` has I values and `state` one sequence;
            /// [`Error::NonFinite`](rnn_core::Error::NonFinite) for NaN in `window` or, as in
            /// [`forecast`](Self::forecast), in the forecast;
            /// [`Error::Allocation`](rnn_core::Error::Allocation) if `horizon` values cannot be
            /// had.
            pub fn forecast_window(
                &self,
                state: &mut $crate::State<T>,
                window: &[T],
                horizon: usize,
            ) -> rnn_core::Result<Vec<T>> {
                self.check_univariate()?;
                rnn_core::error::check_dim("window length (inputs)", self.core.arch.inputs, window.len())?;
                rnn_core::error::check_finite("window", window)?;
                self.core.check_state(state, 1)?;
                $crate::api::check_horizon::<T>(horizon, 1)?;
                self.core.forecast_window_values(state, window, horizon)
            }

            /// Forecasts `horizon` values after the end of a univariate `series`, for a net
            /// with I inputs and 1 output trained to predict s(t + 1) from the window
            /// s(t − I + 1 … t): runs every window of the series whose successor is known from
            /// the initial state, then forecasts freely from the window of its last I values
            /// (see [`forecast_window`](Self::forecast_window)).
            ///
            /// # Errors
            /// [`Error::InvalidConfig`](rnn_core::Error::InvalidConfig) unless O = 1;
            /// [`Error::NotEnoughData`](rnn_core::Error::NotEnoughData) for a series shorter
            /// than I; [`Error::NonFinite`](rnn_core::Error::NonFinite) for NaN in it or, as in
            /// [`forecast`](Self::forecast), in the forecast;
            /// [`Error::Allocation`](rnn_core::Error::Allocation) if `horizon` values cannot be
            /// had.
            ///
            /// ```
            #[doc = concat!("let net = rnn_partial::", stringify!($config), "::new(3, &[4], 1).seed(2).build::<f64>().unwrap();")]
            /// let series: Vec<f64> = (0..20).map(|t| (t as f64 * 0.3).sin()).collect();
            /// let next = net.forecast_series(&series, 5).unwrap();
            /// assert_eq!(next.len(), 5);
            /// assert!(net.forecast_series(&series[..2], 5).is_err());
            /// ```
            pub fn forecast_series(&self, series: &[T], horizon: usize) -> rnn_core::Result<Vec<T>> {
                let i = self.core.arch.inputs;
                self.check_univariate()?;
                if series.len() < i {
                    return Err(rnn_core::Error::NotEnoughData {
                        what: "forecast from a series (one window of inputs)".into(),
                        needed: i,
                        got: series.len(),
                    });
                }
                rnn_core::error::check_finite("series", series)?;
                $crate::api::check_horizon::<T>(horizon, 1)?;
                self.core.forecast_series_values(series, horizon)
            }

            fn check_univariate(&self) -> rnn_core::Result<()> {
                if self.core.arch.outputs != 1 {
                    return Err(rnn_core::Error::config(
                        "windowed forecast (prediction appended to the input window)",
                        "a net with 1 output",
                        format!("{} outputs", self.core.arch.outputs),
                    ));
                }
                Ok(())
            }

            /// Online learning over one long stream (Elman 1990): `options.passes` passes, the
            /// weights updated by `optimizer` after every time step, the context carried from
            /// step to step; the gradient of each step is taken by `options.backprop`
            /// (context as input, or truncated BPTT through a ring buffer of the last k
            /// steps). Returns the mean loss of each pass. See [`online`](crate::online).
            ///
            /// # Errors
            /// [`Error::InvalidConfig`](rnn_core::Error::InvalidConfig) for 0 passes or
            /// [`Backprop::Full`](crate::Backprop::Full);
            /// [`Error::Empty`](rnn_core::Error::Empty) for a stream of no step;
            /// [`Error::DimensionMismatch`](rnn_core::Error::DimensionMismatch) for a stream of
            /// the wrong width; [`Error::Diverged`](rnn_core::Error::Diverged) naming the pass
            /// (`epoch`, counted from 1) and the offending loss when a step's loss or gradient,
            /// an update or the pass's mean loss is not finite, the weights then put back as
            /// they were at the start of that pass (see [online](crate::online#divergence));
            /// [`Error::Allocation`](rnn_core::Error::Allocation) if the ring buffers cannot be
            /// had; the optimizer's other errors (weights restored likewise).
            ///
            /// ```
            /// use rnn_core::{Loss, Sequence, optim::Sgd};
            /// use nalgebra::DMatrix;
            /// use rnn_partial::OnlineOptions;
            #[doc = concat!("let mut net = rnn_partial::", stringify!($config), "::new(1, &[4], 1).seed(5).build::<f64>().unwrap();")]
            /// // Predict the next value of an alternating stream.
            /// let x = DMatrix::from_fn(1, 40, |_, t| (t % 2) as f64);
            /// let d = DMatrix::from_fn(1, 40, |_, t| ((t + 1) % 2) as f64);
            /// let stream = Sequence::new(x, d).unwrap();
            /// let mut sgd = Sgd::new(0.1).unwrap();
            /// let losses = net.train_online(&stream, &mut sgd, Loss::Mse, &OnlineOptions::new(30)).unwrap();
            /// assert!(losses[29] < losses[0]);
            /// ```
            pub fn train_online<O: rnn_core::Optimizer<T> + ?Sized>(
                &mut self,
                stream: &rnn_core::Sequence<T>,
                optimizer: &mut O,
                loss: rnn_core::Loss,
                options: &$crate::OnlineOptions,
            ) -> rnn_core::Result<Vec<T>> {
                self.core.train_online(stream, optimizer, loss, options)
            }
        }

        impl<T: rnn_core::Real> rnn_core::Parameters<T> for $model<T> {
            fn layout(&self) -> &rnn_core::ParamLayout {
                &self.core.layout
            }
            fn params(&self) -> &[T] {
                &self.core.params
            }
            fn params_mut(&mut self) -> &mut [T] {
                &mut self.core.params
            }
        }

        impl<T: rnn_core::Real> rnn_core::SequenceModel<T> for $model<T> {
            fn input_size(&self) -> usize {
                self.core.arch.inputs
            }
            fn output_size(&self) -> usize {
                self.core.arch.outputs
            }
            /// The outputs from the initial context; errors as
            /// [`forward_from`](Self::forward_from).
            fn forward(&mut self, batch: &rnn_core::SeqBatch<T>) -> rnn_core::Result<nalgebra::DMatrix<T>> {
                let mut state = self.initial_state(batch.batch_size())?;
                self.forward_from(batch, &mut state)
            }
        }

        impl<T: rnn_core::Real> rnn_core::Differentiable<T> for $model<T> {
            /// The loss from the initial context and its gradient by the configured
            /// [`Backprop`](crate::Backprop) mode (the exact gradient for
            /// [`Backprop::Full`](crate::Backprop::Full)).
            fn loss_and_gradient(
                &mut self,
                batch: &rnn_core::SeqBatch<T>,
                loss: rnn_core::Loss,
                grad: &mut [T],
            ) -> rnn_core::Result<T> {
                let mut state = self.initial_state(batch.batch_size())?;
                self.loss_and_gradient_from(batch, &mut state, loss, grad)
            }

            /// The loss from the initial context, computed on the outputs in place. Like
            /// [`loss_and_gradient`](rnn_core::Differentiable::loss_and_gradient), and unlike
            /// [`forward`](rnn_core::SequenceModel::forward), it returns a loss that overflows
            /// as it is, so that [`rnn_core::train()`] can report
            /// [`Error::Diverged`](rnn_core::Error::Diverged).
            fn loss(&mut self, batch: &rnn_core::SeqBatch<T>, loss: rnn_core::Loss) -> rnn_core::Result<T> {
                self.core.check_batch(batch, true)?;
                let state = self.initial_state(batch.batch_size())?;
                self.core.forward_batch(batch, state.context.as_slice())?;
                self.core.loss_of_outputs(batch, loss)
            }
        }

        impl<T: rnn_core::Real> rnn_core::Persist for $model<T> {
            const KIND: &'static str = $kind;
            fn scalar_name() -> &'static str {
                T::NAME
            }
            /// Checks the configuration, that it describes the stored shape, and the parameter
            /// count and values.
            fn validate(&self) -> rnn_core::Result<()> {
                self.config.validate()?;
                if self.config.arch() != self.core.arch {
                    return Err(rnn_core::Error::Corrupt("configuration and net shape disagree".into()));
                }
                self.core.validate()
            }
        }
    };
}

pub(crate) use partial_net_api;

/// [`Error::InvalidConfig`](rnn_core::Error::InvalidConfig) if a forecast of `horizon` steps
/// of `per_step` values each could not be held in memory.
pub(crate) fn check_horizon<T>(horizon: usize, per_step: usize) -> rnn_core::Result<()> {
    let limit = isize::MAX as usize / std::mem::size_of::<T>().max(1);
    match horizon.checked_mul(per_step) {
        Some(n) if n <= limit => Ok(()),
        _ => Err(rnn_core::Error::config(
            "forecast horizon",
            format!("at most {} values in all", limit),
            format!("{horizon} steps of {per_step} values"),
        )),
    }
}
