//! Adam: adaptive moment estimation (Kingma & Ba, 2015).

use super::{Optimizer, check_epsilon, check_learning_rate, check_unit_interval, check_update, prepare_step};
use crate::{Real, Result};

/// Adam with bias correction (Kingma & Ba, 2015, Algorithm 1).
///
/// At step t = 1, 2, …:
///
/// - m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²
/// - m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)
/// - θ ← θ − η m̂ / (√v̂ + ε)
///
/// Defaults: β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸. The first step moves each parameter by about
/// η in the direction opposite its gradient's sign, whatever the gradient's size.
///
/// ```
/// use rnn_core::{Optimizer, optim::Adam};
/// let mut adam = Adam::new(0.01).unwrap();
/// let mut theta = [0.0f64, 0.0];
/// adam.step(&mut theta, &[250.0, -0.003]).unwrap();
/// assert!((theta[0] + 0.01).abs() < 1e-6);
/// assert!((theta[1] - 0.01).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Adam<T: Real> {
    lr: T,
    beta1: T,
    beta2: T,
    epsilon: T,
    t: u64,
    m: Vec<T>,
    v: Vec<T>,
    sized_for: Option<usize>,
}

impl<T: Real> Adam<T> {
    /// Adam with learning rate η = `lr` and the default β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `lr` is finite and positive.
    pub fn new(lr: T) -> Result<Self> {
        Ok(Self {
            lr: check_learning_rate(lr)?,
            beta1: T::of_f64(0.9),
            beta2: T::of_f64(0.999),
            epsilon: T::of_f64(1e-8),
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
            sized_for: None,
        })
    }

    /// Sets the decay rates β₁ (first moment) and β₂ (second moment).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless both lie in [0, 1).
    pub fn with_betas(mut self, beta1: T, beta2: T) -> Result<Self> {
        self.beta1 = check_unit_interval("Adam β₁", beta1)?;
        self.beta2 = check_unit_interval("Adam β₂", beta2)?;
        Ok(self)
    }

    /// Sets ε, the offset that keeps the denominator √v̂ + ε away from zero.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](crate::Error::InvalidConfig) unless `epsilon` is finite and
    /// positive.
    pub fn with_epsilon(mut self, epsilon: T) -> Result<Self> {
        self.epsilon = check_epsilon(epsilon)?;
        Ok(self)
    }

    /// The decay rates (β₁, β₂).
    pub fn betas(&self) -> (T, T) {
        (self.beta1, self.beta2)
    }

    /// The denominator offset ε.
    pub fn epsilon(&self) -> T {
        self.epsilon
    }

    /// Number of steps taken since creation or the last [`reset`](Optimizer::reset).
    pub fn steps_taken(&self) -> u64 {
        self.t
    }
}

impl<T: Real> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut [T], grad: &[T]) -> Result<()> {
        let fresh = self.sized_for.is_none();
        prepare_step(&mut self.sized_for, params, grad, &mut [&mut self.m, &mut self.v])?;
        let t = self.t.saturating_add(1);
        let (b1, b2, eps, lr) = (self.beta1, self.beta2, self.epsilon, self.lr);
        // Bias corrections in f64: β^t for large t underflows gracefully to 0 there.
        let c1 = T::of_f64(1.0 - b1.as_f64().powf(t as f64));
        let c2 = T::of_f64(1.0 - b2.as_f64().powf(t as f64));
        let (one_b1, one_b2) = (T::one() - b1, T::one() - b2);
        let update = |p: T, g: T, m: T, v: T| {
            let m = b1 * m + one_b1 * g;
            let v = b2 * v + one_b2 * g * g;
            let m_hat = m / c1;
            let v_hat = v / c2;
            [p - lr * m_hat / (v_hat.sqrt() + eps), m, v]
        };
        let (ms, vs) = (&self.m, &self.v);
        let what = ["parameter", "Adam first-moment estimate", "Adam second-moment estimate"];
        if let Err(e) = check_update(params.len(), what, |i| update(params[i], grad[i], ms[i], vs[i])) {
            if fresh {
                self.reset();
            }
            return Err(e);
        }
        for (((p, &g), m), v) in params.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            [*p, *m, *v] = update(*p, g, *m, *v);
        }
        self.t = t;
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
        self.t = 0;
        self.m.clear();
        self.v.clear();
        self.sized_for = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_is_lr_times_sign_of_gradient() {
        let mut adam = Adam::new(0.001).unwrap();
        let g = [3.0f64, -0.5, 1e-3, -40.0];
        let mut p = [0.0; 4];
        adam.step(&mut p, &g).unwrap();
        for (p, g) in p.iter().zip(&g) {
            // Exactly −η g / (|g| + ε) ≈ −η sign(g).
            assert!((p + 0.001 * g / (g.abs() + 1e-8)).abs() < 1e-15, "{p} for gradient {g}");
            assert!((p + 0.001 * g.signum()).abs() < 1e-7, "{p} for gradient {g}");
        }
        assert_eq!(adam.steps_taken(), 1);
    }

    #[test]
    fn second_step_matches_the_formula() {
        let (b1, b2, eps, lr) = (0.8f64, 0.9f64, 1e-8f64, 0.1f64);
        let mut adam = Adam::new(lr).unwrap().with_betas(b1, b2).unwrap().with_epsilon(eps).unwrap();
        let mut p = [0.0f64];
        adam.step(&mut p, &[1.0]).unwrap();
        adam.step(&mut p, &[3.0]).unwrap();
        let m = b1 * (1.0 - b1) + (1.0 - b1) * 3.0;
        let v = b2 * (1.0 - b2) + (1.0 - b2) * 9.0;
        let (m_hat, v_hat) = (m / (1.0 - b1 * b1), v / (1.0 - b2 * b2));
        let expected = -lr * 1.0 / (1.0 + eps) - lr * m_hat / (v_hat.sqrt() + eps);
        assert!((p[0] - expected).abs() < 1e-12, "{} vs {expected}", p[0]);
    }

    #[test]
    fn rejects_bad_hyperparameters() {
        assert!(Adam::new(0.0).is_err());
        assert!(Adam::new(0.1).unwrap().with_betas(1.0, 0.9).is_err());
        assert!(Adam::new(0.1).unwrap().with_betas(0.9, -0.1).is_err());
        assert!(Adam::new(0.1).unwrap().with_epsilon(0.0).is_err());
        assert!(Adam::new(0.1).unwrap().with_epsilon(f64::NAN).is_err());
    }
}
