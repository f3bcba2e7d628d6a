//! Stochastic gradient descent with optional classical or Nesterov momentum.

use super::{Optimizer, check_learning_rate, check_unit_interval, check_update, prepare_step};
use crate::{Real, Result};

/// Stochastic gradient descent, θ ← θ − η g, with optional momentum μ.
///
/// With momentum (the formulation of PyTorch's `SGD` without dampening, so that a change of
/// η takes effect at once):
///
/// - classical: v ← μ v + g, θ ← θ − η v;
/// - Nesterov: v ← μ v + g, θ ← θ − η (g + μ v).
///
/// The velocity v starts at zero and is sized on the first step.
///
/// ```
/// use rnn_core::{Optimizer, optim::Sgd};
/// let mut sgd = Sgd::new(0.1).unwrap().with_momentum(0.9).unwrap();
/// let mut theta = [1.0f64];
/// sgd.step(&mut theta, &[1.0]).unwrap(); // v = 1,   θ = 1 − 0.1·1
/// sgd.step(&mut theta, &[2.0]).unwrap(); // v = 2.9, θ = 0.9 − 0.1·2.9
/// assert!((theta[0] - 0.61).abs() < 1e-12);
/// assert!(Sgd::new(-0.1f64).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sgd<T: Real> {
    lr: T,
    momentum: T,
    nesterov: bool,
    velocity: Vec<T>,
    sized_for: Option<usize>,
}

impl<T: Real> Sgd<T> {
    /// Plain gradient descent with learning rate η = `lr`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `lr` is finite and positive.
    pub fn new(lr: T) -> Result<Self> {
        Ok(Self {
            lr: check_learning_rate(lr)?,
            momentum: T::zero(),
            nesterov: false,
            velocity: Vec::new(),
            sized_for: None,
        })
    }

    /// Adds momentum μ = `momentum` (0 turns it off).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `momentum` lies in [0, 1).
    pub fn with_momentum(mut self, momentum: T) -> Result<Self> {
        self.momentum = check_unit_interval("momentum μ", momentum)?;
        Ok(self)
    }

    /// Uses Nesterov's look-ahead form of momentum; without momentum (μ = 0) this is plain
    /// gradient descent.
    pub fn with_nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// The momentum μ.
    pub fn momentum(&self) -> T {
        self.momentum
    }

    /// Whether the momentum is Nesterov's.
    pub fn is_nesterov(&self) -> bool {
        self.nesterov
    }
}

impl<T: Real> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut [T], grad: &[T]) -> Result<()> {
        let (lr, mu, nesterov) = (self.lr, self.momentum, self.nesterov);
        let fresh = self.sized_for.is_none();
        if mu == T::zero() {
            prepare_step(&mut self.sized_for, params, grad, &mut [])?;
            let update = |i: usize| [params[i] - lr * grad[i]];
            if let Err(e) = check_update(params.len(), ["parameter"], update) {
                if fresh {
                    self.reset();
                }
                return Err(e);
            }
            params.iter_mut().zip(grad).for_each(|(p, &g)| *p -= lr * g);
            return Ok(());
        }
        prepare_step(&mut self.sized_for, params, grad, &mut [&mut self.velocity])?;
        // v ← μ v + g, θ ← θ − η (Nesterov: g + μ v, classical: v).
        let update = |p: T, g: T, v: T| {
            let v = mu * v + g;
            (p - lr * if nesterov { g + mu * v } else { v }, v)
        };
        let velocity = &self.velocity;
        let checked = check_update(params.len(), ["parameter", "SGD velocity"], |i| {
            let (p, v) = update(params[i], grad[i], velocity[i]);
            [p, v]
        });
        if let Err(e) = checked {
            if fresh {
                self.reset();
            }
            return Err(e);
        }
        for ((p, &g), v) in params.iter_mut().zip(grad).zip(&mut self.velocity) {
            (*p, *v) = update(*p, g, *v);
        }
        Ok(())
    }

    fn learning_rate(&self) -> T {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: T) -> Result<()> {
        self.lr = check_learning_rate(lr)?;
        Ok(())
    }

    fn reset(&mut self) {
        self.velocity.clear();
        self.sized_for = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_step_is_lr_times_gradient() {
        let mut sgd = Sgd::new(0.5).unwrap();
        let mut p = [1.0f64, -1.0];
        sgd.step(&mut p, &[2.0, -4.0]).unwrap();
        assert_eq!(p, [0.0, 1.0]);
    }

    #[test]
    fn classical_momentum_two_steps_by_hand() {
        // v1 = 1, θ1 = 1 − 0.1 = 0.9; v2 = 0.9·1 + 2 = 2.9, θ2 = 0.9 − 0.29 = 0.61.
        let mut sgd = Sgd::new(0.1).unwrap().with_momentum(0.9).unwrap();
        let mut p = [1.0f64];
        sgd.step(&mut p, &[1.0]).unwrap();
        assert!((p[0] - 0.9).abs() < 1e-15);
        sgd.step(&mut p, &[2.0]).unwrap();
        assert!((p[0] - 0.61).abs() < 1e-15);
    }

    #[test]
    fn nesterov_momentum_two_steps_by_hand() {
        // v1 = 1, θ1 = 1 − 0.1·(1 + 0.9·1) = 0.81;
        // v2 = 2.9, θ2 = 0.81 − 0.1·(2 + 0.9·2.9) = 0.81 − 0.461 = 0.349.
        let mut sgd = Sgd::new(0.1).unwrap().with_momentum(0.9).unwrap().with_nesterov(true);
        let mut p = [1.0f64];
        sgd.step(&mut p, &[1.0]).unwrap();
        assert!((p[0] - 0.81).abs() < 1e-15);
        sgd.step(&mut p, &[2.0]).unwrap();
        assert!((p[0] - 0.349).abs() < 1e-15);
    }

    #[test]
    fn rejects_bad_hyperparameters() {
        assert!(Sgd::new(0.0).is_err());
        assert!(Sgd::new(f64::NAN).is_err());
        assert!(Sgd::new(f64::INFINITY).is_err());
        assert!(Sgd::new(0.1).unwrap().with_momentum(1.0).is_err());
        assert!(Sgd::new(0.1).unwrap().with_momentum(-0.1).is_err());
        assert!(Sgd::new(0.1).unwrap().with_momentum(f64::NAN).is_err());
    }

    #[test]
    fn reset_forgets_velocity() {
        let mut sgd = Sgd::new(0.1).unwrap().with_momentum(0.9).unwrap();
        let mut p = [1.0f64];
        sgd.step(&mut p, &[1.0]).unwrap();
        sgd.reset();
        let mut q = [1.0f64];
        sgd.step(&mut q, &[1.0]).unwrap();
        assert_eq!(q, [0.9]);
    }
}
