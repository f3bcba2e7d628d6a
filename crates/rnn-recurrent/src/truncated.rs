//! Truncated backpropagation through time for a continual stream: BPTT(h, h′).

use nalgebra::DMatrix;
use rnn_core::{Error, Optimizer, Parameters, Real, Result};

use crate::{
    FullyRecurrent, OnlineLearner,
    online::check_step,
    trace::{Forcing, Trace},
};

/// BPTT(h, h′) (Williams & Peng 1990): the network runs on; every h′ steps the errors of those
/// h′ steps are backpropagated through the last h steps (h ≥ h′) and the weights change.
/// BPTT(h, 1) is the classic truncated BPTT; BPTT(h, h) is epochwise BPTT over consecutive
/// windows. Steps without any target change nothing.
///
/// ```
/// use rnn_core::Sgd;
/// use rnn_recurrent::{OnlineLearner, RecurrentConfig, TruncatedBptt};
/// let net = RecurrentConfig::new(1, 4, 1).seed(1).build::<f64>().unwrap();
/// let mut learner = TruncatedBptt::new(net, 8, 2).unwrap();
/// let mut sgd = Sgd::new(0.1).unwrap();
/// for t in 0..20 {
///     let x = (t % 2) as f64;
///     learner.step(&[x], &[1.0 - x], &[true], &mut sgd).unwrap();
/// }
/// assert_eq!(learner.updates(), 10);
/// ```
#[derive(Debug, Clone)]
pub struct TruncatedBptt<T: Real> {
    net: FullyRecurrent<T>,
    h: usize,
    h_prime: usize,
    teacher_forcing: bool,
    /// The last `filled` ≤ h steps, oldest in slot 0, and a spare slot for the step running.
    trace: Trace<T>,
    filled: usize,
    /// Steps since the last weight change.
    pending: usize,
    /// Per slot: targets, whether present, and ∂J/∂y_out (zero outside the pending steps).
    targets: DMatrix<T>,
    present: DMatrix<bool>,
    dl: DMatrix<T>,
    grad: Vec<T>,
    updates: usize,
    /// The state before the current step, restored if the step fails.
    saved_state: DMatrix<T>,
}

impl<T: Real> TruncatedBptt<T> {
    /// A learner for `net` that backpropagates through `h` steps every `h_prime` steps.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless 1 ≤ h′ ≤ h; [`Error::Allocation`] for a window too large.
    pub fn new(mut net: FullyRecurrent<T>, h: usize, h_prime: usize) -> Result<Self> {
        if h == 0 {
            return Err(Error::config("truncation depth h", "at least 1", h));
        }
        if h_prime == 0 || h_prime > h {
            return Err(Error::config("update interval h′", format!("in 1..={h} (h)"), h_prime));
        }
        net.sync();
        let slots = h.checked_add(1).ok_or_else(|| Error::config("truncation depth h", "below usize::MAX", h))?;
        let trace = Trace::new(&net, slots, 1)?;
        let k = net.outputs().len();
        let grad = vec![T::zero(); net.num_params()];
        Ok(Self {
            h,
            h_prime,
            teacher_forcing: false,
            trace,
            filled: 0,
            pending: 0,
            targets: DMatrix::zeros(k, slots),
            present: DMatrix::from_element(k, slots, false),
            dl: DMatrix::zeros(k, slots),
            grad,
            updates: 0,
            saved_state: DMatrix::zeros(net.units(), 1),
            net,
        })
    }

    /// With teacher forcing: an output with a target enters the next step as its target.
    pub fn teacher_forcing(mut self, on: bool) -> Self {
        self.teacher_forcing = on;
        self
    }

    /// h, the number of steps backpropagated through.
    pub fn depth(&self) -> usize {
        self.h
    }

    /// h′, the number of steps between weight changes.
    pub fn interval(&self) -> usize {
        self.h_prime
    }

    /// The trained network.
    pub fn into_network(self) -> FullyRecurrent<T> {
        self.net
    }

    /// Backpropagates the pending steps' errors through the window and updates the weights;
    /// pending steps without a target change nothing. Returns whether the weights changed. When
    /// the optimizer refuses, the weights stay as they were and the pending errors are kept for
    /// the next update.
    fn update(&mut self, opt: &mut dyn Optimizer<T>) -> Result<bool> {
        let pending = self.filled.saturating_sub(self.pending)..self.filled;
        if !pending.clone().any(|slot| self.present.column(slot).iter().any(|&p| p)) {
            self.pending = 0;
            return Ok(false);
        }
        let outputs = self.net.outputs().to_vec();
        self.dl.fill(T::zero());
        for slot in pending {
            for (k, &unit) in outputs.iter().enumerate() {
                if self.present[(k, slot)] {
                    self.dl[(k, slot)] = self.trace.y[(unit, slot)] - self.targets[(k, slot)];
                }
            }
        }
        let forced = self.teacher_forcing.then_some(&self.present);
        self.trace.backward(&self.net, 0..self.filled, &self.dl, forced, &mut self.grad);
        let refused = opt.step(self.net.params_mut(), &self.grad);
        self.net.sync();
        refused?;
        self.pending = 0;
        self.updates += 1;
        Ok(true)
    }

    /// Drops the oldest slot once the window holds h + 1 steps.
    fn trim(&mut self) {
        if self.filled <= self.h {
            return;
        }
        self.trace.shift_left(1);
        for j in 0..self.h {
            self.targets.swap_columns(j, j + 1);
            self.present.swap_columns(j, j + 1);
        }
        self.filled -= 1;
    }
}

impl<T: Real> OnlineLearner<T> for TruncatedBptt<T> {
    fn network(&self) -> &FullyRecurrent<T> {
        &self.net
    }

    fn reset(&mut self) {
        self.trace.reset_state(&self.net);
        self.filled = 0;
        self.pending = 0;
    }

    fn step(&mut self, x: &[T], targets: &[T], present: &[bool], opt: &mut dyn Optimizer<T>) -> Result<T> {
        check_step(&self.net, x, targets, present)?;
        // The window holds at most h steps between calls; the new one goes into the next free
        // slot (the spare one when the window is full), so a step that fails leaves the window
        // as it was.
        let slot = self.filled;
        for k in 0..targets.len() {
            self.targets[(k, slot)] = if present[k] { targets[k] } else { T::zero() };
            self.present[(k, slot)] = present[k];
        }
        let x = nalgebra::DMatrixView::from_slice(x, x.len(), 1);
        let forcing = self.teacher_forcing.then_some(Forcing { targets: &self.targets, present: &self.present });
        self.saved_state.copy_from(&self.trace.state);
        self.trace.forward_step(&self.net, slot, &x, forcing, slot);
        let half = T::of_f64(0.5);
        let mut loss = T::zero();
        for (k, &unit) in self.net.outputs().iter().enumerate() {
            if present[k] {
                let e = self.trace.y[(unit, slot)] - targets[k];
                loss += half * e * e;
            }
        }
        let checked = rnn_core::error::check_finite("network output", self.trace.y.column(slot).as_slice())
            .and_then(|()| rnn_core::error::check_finite("step error J(t)", &[loss]));
        if let Err(e) = checked {
            // Forget the step: the window and the state stay as they were before it.
            self.trace.state.copy_from(&self.saved_state);
            return Err(e);
        }
        self.filled += 1;
        self.pending += 1;
        self.trim();
        if self.pending >= self.h_prime {
            self.update(opt)?;
        }
        Ok(loss)
    }

    fn outputs(&self) -> Vec<T> {
        let y = &self.trace.y;
        match self.filled {
            0 => self.net.outputs().iter().map(|&k| self.trace.state[(k, 0)]).collect(),
            f => self.net.outputs().iter().map(|&k| y[(k, f - 1)]).collect(),
        }
    }

    fn updates(&self) -> usize {
        self.updates
    }

    fn state(&self) -> &[T] {
        self.trace.state.as_slice()
    }

    fn uses_teacher_forcing(&self) -> bool {
        self.teacher_forcing
    }

    fn flush(&mut self, opt: &mut dyn Optimizer<T>) -> Result<bool> {
        if self.pending == 0 {
            return Ok(false);
        }
        self.update(opt)
    }
}
