//! RMSprop: gradients scaled by a running root mean square (Tieleman & Hinton, 2012).

use super::{Optimizer, check_epsilon, check_learning_rate, check_unit_interval, check_update, prepare_step};
use crate::{Real, Result};

/// RMSprop (Tieleman & Hinton, 2012, lecture 6.5), with optional momentum μ:
///
/// - v ← ρ v + (1 − ρ) g²
/// - without momentum: θ ← θ − η g / (√v + ε)
/// - with momentum: b ← μ b + g / (√v + ε), θ ← θ − η b
///
/// Defaults: ρ = 0.9, ε = 10⁻⁸, μ = 0. No bias correction: v starts at zero, so the first
/// steps are larger than later ones (by 1/√(1 − ρ) ≈ 3.2 on the first step).
///
/// ```
/// use rnn_core::{Optimizer, optim::RmsProp};
/// let mut rms = RmsProp::new(0.01).unwrap().with_rho(0.99).unwrap();
/// let mut theta = [1.0f64];
/// rms.step(&mut theta, &[2.0]).unwrap(); // v = 0.01·4, step = 0.01·2/0.2 = 0.1
/// assert!((theta[0] - 0.9).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RmsProp<T: Real> {
    lr: T,
    rho: T,
    epsilon: T,
    momentum: T,
    mean_square: Vec<T>,
    buffer: Vec<T>,
    sized_for: Option<usize>,
}

impl<T: Real> RmsProp<T> {
    /// RMSprop with learning rate η = `lr` and the defaults ρ = 0.9, ε = 10⁻⁸, no momentum.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `lr` is finite and positive.
    pub fn new(lr: T) -> Result<Self> {
        Ok(Self {
            lr: check_learning_rate(lr)?,
            rho: T::of_f64(0.9),
            epsilon: T::of_f64(1e-8),
            momentum: T::zero(),
            mean_square: Vec::new(),
            buffer: Vec::new(),
            sized_for: None,
        })
    }

    /// Sets the decay ρ of the running mean of g².
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `rho` lies in [0, 1).
    pub fn with_rho(mut self, rho: T) -> Result<Self> {
        self.rho = check_unit_interval("RMSprop decay ρ", rho)?;
        Ok(self)
    }

    /// Sets ε, the offset that keeps the denominator √v + ε away from zero.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `epsilon` is finite and
    /// positive.
    pub fn with_epsilon(mut self, epsilon: T) -> Result<Self> {
        self.epsilon = check_epsilon(epsilon)?;
        Ok(self)
    }

    /// Adds momentum μ = `momentum` (0 turns it off).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `momentum` lies in [0, 1).
    pub fn with_momentum(mut self, momentum: T) -> Result<Self> {
        self.momentum = check_unit_interval("momentum μ", momentum)?;
        Ok(self)
    }

    /// The decay ρ.
    pub fn rho(&self) -> T {
        self.rho
    }

    /// The momentum μ.
    pub fn momentum(&self) -> T {
        self.momentum
    }
}

impl<T: Real> Optimizer<T> for RmsProp<T> {
    fn step(&mut self, params: &mut [T], grad: &[T]) -> Result<()> {
        let (lr, rho, eps, mu) = (self.lr, self.rho, self.epsilon, self.momentum);
        let one_rho = T::one() - rho;
        let fresh = self.sized_for.is_none();
        let checked = if mu == T::zero() {
            prepare_step(&mut self.sized_for, params, grad, &mut [&mut self.mean_square])?;
            let update = |p: T, g: T, v: T| {
                let v = rho * v + one_rho * g * g;
                [p - lr * g / (v.sqrt() + eps), v]
            };
            let vs = &self.mean_square;
            let what = ["parameter", "RMSprop mean square"];
            check_update(params.len(), what, |i| update(params[i], grad[i], vs[i])).map(|()| {
                for ((p, &g), v) in params.iter_mut().zip(grad).zip(&mut self.mean_square) {
                    [*p, *v] = update(*p, g, *v);
                }
            })
        } else {
            prepare_step(&mut self.sized_for, params, grad, &mut [&mut self.mean_square, &mut self.buffer])?;
            let update = |p: T, g: T, v: T, b: T| {
                let v = rho * v + one_rho * g * g;
                let b = mu * b + g / (v.sqrt() + eps);
                [p - lr * b, v, b]
            };
            let (vs, bs) = (&self.mean_square, &self.buffer);
            let what = ["parameter", "RMSprop mean square", "RMSprop momentum buffer"];
            check_update(params.len(), what, |i| update(params[i], grad[i], vs[i], bs[i])).map(|()| {
                for (((p, &g), v), b) in params.iter_mut().zip(grad).zip(&mut self.mean_square).zip(&mut self.buffer) {
                    [*p, *v, *b] = update(*p, g, *v, *b);
                }
            })
        };
        if checked.is_err() && fresh {
            self.reset();
        }
        checked
    }

    fn learning_rate(&self) -> T {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: T) -> Result<()> {
        self.lr = check_learning_rate(lr)?;
        Ok(())
    }

    fn reset(&mut self) {
        self.mean_square.clear();
        self.buffer.clear();
        self.sized_for = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_two_steps_by_hand() {
        // ρ = 0.5, μ = 0.5, η = 1, ε ≈ 0: g1 = 2 → v = 2, b = 2/√2 = √2, θ = −√2;
        // g2 = 2 → v = 3, b = √2/2 + 2/√3.
        let mut rms = RmsProp::new(1.0).unwrap().with_rho(0.5).unwrap().with_momentum(0.5).unwrap();
        let mut p = [0.0f64];
        rms.step(&mut p, &[2.0]).unwrap();
        assert!((p[0] + 2f64.sqrt()).abs() < 1e-7);
        rms.step(&mut p, &[2.0]).unwrap();
        let expected = -2f64.sqrt() - (2f64.sqrt() / 2.0 + 2.0 / 3f64.sqrt());
        assert!((p[0] - expected).abs() < 1e-7);
    }

    #[test]
    fn rejects_bad_hyperparameters() {
        assert!(RmsProp::new(-1.0).is_err());
        assert!(RmsProp::new(0.1).unwrap().with_rho(1.0).is_err());
        assert!(RmsProp::new(0.1).unwrap().with_epsilon(-1e-8).is_err());
        assert!(RmsProp::new(0.1).unwrap().with_momentum(1.5).is_err());
    }
}
