//! Optimizers on flat parameter vectors.
//!
//! An optimizer sees only the flat parameter vector and a gradient in the same layout
//! ([`Parameters`](crate::Parameters)), so one implementation serves every architecture.
//!
//! - [`Sgd`]: gradient descent, with optional classical or Nesterov momentum.
//! - [`Adam`]: adaptive moment estimation with bias correction.
//! - [`RmsProp`]: gradient scaled by a running root mean square, with optional momentum.
//! - [`clip_grad_norm`]: rescales a gradient whose Euclidean norm exceeds a limit.
//! - [`LearningRate`]: a learning-rate schedule over epochs.
//!
//! Every optimizer sizes its state on the first [`step`](Optimizer::step) and rejects a later
//! step with another length; a NaN or infinite gradient is rejected before any parameter moves.
//!
//! ```
//! use rnn_core::{Optimizer, optim::Adam};
//! // Minimise f(θ) = (θ − 3)².
//! let mut theta = [0.0f64];
//! let mut adam = Adam::new(0.1).unwrap();
//! for _ in 0..500 {
//!     let grad = [2.0 * (theta[0] - 3.0)];
//!     adam.step(&mut theta, &grad).unwrap();
//! }
//! assert!((theta[0] - 3.0).abs() < 1e-3);
//! ```

mod adam;
mod clip;
mod rmsprop;
mod schedule;
mod sgd;

pub use adam::Adam;
pub use clip::{clip_grad_norm, grad_norm};
pub use rmsprop::RmsProp;
pub use schedule::LearningRate;
pub use sgd::Sgd;

use crate::{
    Error, Real, Result,
    error::{check_dim, check_finite},
};

/// A first-order optimizer: θ ← update(θ, ∂L/∂θ).
///
/// State (momenta, moment estimates) is sized on the first call and checked on every later
/// call.
pub trait Optimizer<T: Real> {
    /// Applies one update to `params` from `grad` (same length, same layout).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `grad` and `params`
    /// differ in length or differ from the length the optimizer's state was sized for;
    /// [`Error::NonFinite`] for a NaN or infinite gradient (the
    /// parameters are unchanged then).
    fn step(&mut self, params: &mut [T], grad: &[T]) -> Result<()>;

    /// The current learning rate η.
    fn learning_rate(&self) -> T;

    /// Sets the learning rate η (used by schedules).
    fn set_learning_rate(&mut self, lr: T);

    /// Forgets all state (momenta, moment estimates, step count).
    fn reset(&mut self);
}

/// Checks one step's inputs against each other and against the length the state was sized
/// for; on the first step sizes every buffer in `buffers` to zeros of that length.
///
/// Nothing is changed when an error is returned.
fn prepare_step<T: Real>(
    sized_for: &mut Option<usize>,
    params: &[T],
    grad: &[T],
    buffers: &mut [&mut Vec<T>],
) -> Result<()> {
    check_dim("gradient length (parameter count)", params.len(), grad.len())?;
    if let Some(n) = *sized_for {
        check_dim("parameter count (optimizer state)", n, params.len())?;
    }
    check_finite("gradient", grad)?;
    if sized_for.is_none() {
        for buffer in buffers.iter_mut() {
            buffer.clear();
            buffer.resize(params.len(), T::zero());
        }
        *sized_for = Some(params.len());
    }
    Ok(())
}

/// [`Error::InvalidConfig`] unless `lr` is finite and positive.
fn check_learning_rate<T: Real>(lr: T) -> Result<T> {
    if lr.is_finite() && lr > T::zero() {
        Ok(lr)
    } else {
        Err(Error::config("learning rate η", "a finite value > 0", lr))
    }
}

/// [`Error::InvalidConfig`] unless `value` lies in [0, 1).
fn check_unit_interval<T: Real>(name: &str, value: T) -> Result<T> {
    if value >= T::zero() && value < T::one() {
        Ok(value)
    } else {
        Err(Error::config(name, "a value in [0, 1)", value))
    }
}

/// [`Error::InvalidConfig`] unless `eps` is finite and positive.
fn check_epsilon<T: Real>(eps: T) -> Result<T> {
    if eps.is_finite() && eps > T::zero() {
        Ok(eps)
    } else {
        Err(Error::config("ε (denominator offset)", "a finite value > 0", eps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Minimises f(θ) = ½ Σ aᵢ (θᵢ − cᵢ)² from θ = 0 and returns the final distance to c.
    pub(super) fn quadratic_distance<O: Optimizer<f64> + ?Sized>(opt: &mut O, steps: usize) -> f64 {
        let a = [1.0, 4.0, 0.5];
        let c = [3.0, -2.0, 0.5];
        let mut theta = [0.0; 3];
        let mut grad = [0.0; 3];
        for _ in 0..steps {
            for i in 0..3 {
                grad[i] = a[i] * (theta[i] - c[i]);
            }
            opt.step(&mut theta, &grad).unwrap();
        }
        theta.iter().zip(&c).map(|(t, c)| (t - c).powi(2)).sum::<f64>().sqrt()
    }

    fn every_optimizer() -> Vec<Box<dyn Optimizer<f64>>> {
        vec![
            Box::new(Sgd::new(0.1).unwrap()),
            Box::new(Sgd::new(0.05).unwrap().with_momentum(0.9).unwrap()),
            Box::new(Sgd::new(0.05).unwrap().with_momentum(0.9).unwrap().with_nesterov(true)),
            Box::new(Adam::new(0.1).unwrap()),
            Box::new(RmsProp::new(0.01).unwrap()),
            Box::new(RmsProp::new(0.01).unwrap().with_momentum(0.5).unwrap()),
        ]
    }

    #[test]
    fn every_optimizer_minimises_a_quadratic() {
        for (k, mut opt) in every_optimizer().into_iter().enumerate() {
            let d = quadratic_distance(opt.as_mut(), 2000);
            assert!(d < 1e-2, "optimizer {k} ended {d} from the minimum");
        }
    }

    #[test]
    fn every_optimizer_rejects_bad_steps_and_leaves_params_untouched() {
        for (k, mut opt) in every_optimizer().into_iter().enumerate() {
            let mut p = [1.0, 2.0];
            assert!(matches!(opt.step(&mut p, &[0.1]), Err(Error::DimensionMismatch { .. })), "optimizer {k}");
            assert!(
                matches!(opt.step(&mut p, &[0.1, f64::NAN]), Err(Error::NonFinite { index: 1, .. })),
                "optimizer {k}"
            );
            assert_eq!(p, [1.0, 2.0], "optimizer {k} moved on a rejected step");
            opt.step(&mut p, &[0.1, 0.2]).unwrap();
            let mut q = [1.0, 2.0, 3.0];
            match opt.step(&mut q, &[0.1, 0.2, 0.3]) {
                Err(Error::DimensionMismatch { expected: 2, got: 3, .. }) => {}
                other => panic!("optimizer {k}: expected a state-size mismatch, got {other:?}"),
            }
            assert_eq!(q, [1.0, 2.0, 3.0]);
            opt.reset();
            opt.step(&mut q, &[0.1, 0.2, 0.3]).unwrap();
        }
    }

    #[test]
    fn learning_rate_can_be_read_and_set() {
        for mut opt in every_optimizer() {
            opt.set_learning_rate(0.25);
            assert_eq!(opt.learning_rate(), 0.25);
        }
    }

    #[test]
    fn works_in_f32() {
        let mut opt = Adam::<f32>::new(0.05).unwrap();
        let mut theta = [0.0f32];
        for _ in 0..1000 {
            let g = [2.0 * (theta[0] - 1.5)];
            opt.step(&mut theta, &g).unwrap();
        }
        assert!((theta[0] - 1.5).abs() < 1e-2);
    }
}
