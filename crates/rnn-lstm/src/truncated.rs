//! Truncated backpropagation through time: a long batch cut into windows of k steps, one weight
//! update per window, the state carried from each window into the next.

use nalgebra::DMatrix;
use rnn_core::{Error, Loss, Optimizer, Parameters, Real, Result, SeqBatch, clip_grad_norm};

use crate::{Lstm, LstmState, Readout};

/// Truncated BPTT (Williams & Peng 1990; the "BPTT(k)" of Williams & Zipser 1995): the stream
/// is cut into windows of `window` steps; each window's gradient flows back only within the
/// window (its initial state, carried from the previous window, is a constant), and the
/// weights are updated after each window.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::{Loss, SeqBatch, Sgd};
/// use rnn_lstm::{Head, LstmConfig, TruncatedBptt};
/// let mut net = LstmConfig::new(1, 4, 1).head(Head::new(1)).seed(3).build::<f64>().unwrap();
/// let x = DMatrix::from_fn(1, 200, |_, t| (0.3 * t as f64).sin());
/// let y = DMatrix::from_fn(1, 200, |_, t| (0.3 * (t + 1) as f64).sin());
/// let stream = SeqBatch::new(x, Some(y), 200, 1).unwrap();
/// let tbptt = TruncatedBptt::new(20).unwrap();
/// let mut sgd = Sgd::new(0.05).unwrap();
/// let first = tbptt.train_epoch(&mut net, &stream, Loss::Mse, &mut sgd).unwrap();
/// for _ in 0..30 {
///     tbptt.train_epoch(&mut net, &stream, Loss::Mse, &mut sgd).unwrap();
/// }
/// let last = tbptt.train_epoch(&mut net, &stream, Loss::Mse, &mut sgd).unwrap();
/// assert!(last < first);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TruncatedBptt {
    window: usize,
    clip_norm: Option<f64>,
}

impl TruncatedBptt {
    /// Windows of `window` steps.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a window of 0 steps.
    pub fn new(window: usize) -> Result<Self> {
        if window == 0 {
            return Err(Error::config("truncated BPTT window", "at least 1 step", 0));
        }
        Ok(Self { window, clip_norm: None })
    }

    /// Rescales each window's gradient to at most this Euclidean norm before the update.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `max_norm` is finite and positive.
    pub fn clip_norm(mut self, max_norm: f64) -> Result<Self> {
        if !(max_norm.is_finite() && max_norm > 0.0) {
            return Err(Error::config("gradient clipping norm", "finite and > 0", max_norm));
        }
        self.clip_norm = Some(max_norm);
        Ok(self)
    }

    /// The window length k.
    pub fn window(&self) -> usize {
        self.window
    }

    /// The windows of `batch`: steps `t0..t0 + k`, each sequence's length cut to the window
    /// (0 once it has ended).
    ///
    /// # Errors
    /// [`Error::Allocation`] if a window does not fit in memory.
    pub fn windows<T: Real>(&self, batch: &SeqBatch<T>) -> Result<Vec<SeqBatch<T>>> {
        let (steps, b) = (batch.steps(), batch.batch_size());
        let mut out = Vec::with_capacity(steps.div_ceil(self.window));
        for t0 in (0..steps).step_by(self.window) {
            let k = self.window.min(steps - t0);
            let cols = |m: &DMatrix<T>| m.columns(t0 * b, k * b).into_owned();
            let targets = batch.targets().map(cols);
            let mut window = SeqBatch::new(cols(batch.inputs()), targets, k, b)?;
            if let Some(mask) = batch.valid_mask() {
                window = window.with_valid_mask(mask[t0 * b..(t0 + k) * b].to_vec())?;
            }
            let lengths = batch.lengths().iter().map(|&len| len.saturating_sub(t0).min(k)).collect();
            out.push(window.with_lengths(lengths)?);
        }
        Ok(out)
    }

    /// One pass over `batch` from the zero state: for each window, the loss and its gradient
    /// from the carried state, then one optimizer step. Returns the mean of the windows' losses.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a network whose head reads only the last step (truncation
    /// needs a loss at every step); otherwise the errors of
    /// [`Lstm::loss_and_gradient_from`] and of the optimizer. A window that fails leaves the
    /// weights as the previous windows left them.
    pub fn train_epoch<T: Real, O: Optimizer<T> + ?Sized>(
        &self,
        net: &mut Lstm<T>,
        batch: &SeqBatch<T>,
        loss: Loss,
        optimizer: &mut O,
    ) -> Result<T> {
        let mut state = net.zero_state(batch.batch_size());
        self.train_epoch_from(net, batch, loss, optimizer, &mut state)
    }

    /// [`train_epoch`](Self::train_epoch) from `state`, leaving the final state in it (for a
    /// stream that goes on in the next batch).
    ///
    /// # Errors
    /// As [`train_epoch`](Self::train_epoch).
    pub fn train_epoch_from<T: Real, O: Optimizer<T> + ?Sized>(
        &self,
        net: &mut Lstm<T>,
        batch: &SeqBatch<T>,
        loss: Loss,
        optimizer: &mut O,
        state: &mut LstmState<T>,
    ) -> Result<T> {
        if net.config().head.is_some_and(|h| h.readout == Readout::LastStep) {
            return Err(Error::config("readout for truncated BPTT", "every step", "the last step only"));
        }
        let windows = self.windows(batch)?;
        let mut grad = vec![T::zero(); net.num_params()];
        let mut total = T::zero();
        for window in &windows {
            total += net.loss_and_gradient_from(window, loss, &mut grad, state)?;
            if let Some(max) = self.clip_norm {
                clip_grad_norm(&mut grad, T::of_f64(max));
            }
            optimizer.step(net.params_mut(), &grad)?;
        }
        Ok(total / T::of_usize(windows.len()))
    }
}
