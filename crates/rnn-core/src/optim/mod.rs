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
//! step with another length; a NaN or infinite gradient is rejected before any parameter moves,
//! and so is a step whose result would not be finite (a finite but huge learning rate or
//! gradient that overflows): the parameters and the optimizer's state stay as they were.
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
    /// [`Error::NonFinite`] for a NaN or infinite gradient, or when the update would make a
    /// parameter (or the optimizer's state) NaN or infinite. In every error case the parameters
    /// and the optimizer's state are unchanged.
    fn step(&mut self, params: &mut [T], grad: &[T]) -> Result<()>;

    /// The current learning rate η.
    fn learning_rate(&self) -> T;

    /// Sets the learning rate η (used by schedules).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `lr` is finite and positive, as in the constructors;
    /// the learning rate is unchanged then.
    fn set_learning_rate(&mut self, lr: T) -> Result<()>;

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

/// Checks that the update of every element is finite before any is applied.
///
/// `update(i)` computes the new values of element `i` (parameter first, then any state) without
/// storing them; the first non-finite one gives [`Error::NonFinite`] naming the parameter index.
/// Optimizers call this, then apply the same (deterministic) update: a rejected step changes
/// nothing, at the cost of computing the update twice and without any allocation.
fn check_update<T: Real, const K: usize>(n: usize, what: [&str; K], update: impl Fn(usize) -> [T; K]) -> Result<()> {
    for i in 0..n {
        let values = update(i);
        if let Some(k) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: format!("{} after the optimizer step (the update overflows)", what[k]),
                index: i,
                value: values[k].as_f64(),
            });
        }
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
            opt.set_learning_rate(0.25).unwrap();
            assert_eq!(opt.learning_rate(), 0.25);
        }
    }

    #[test]
    fn set_learning_rate_refuses_what_the_constructors_refuse() {
        for (k, mut opt) in every_optimizer().into_iter().enumerate() {
            let lr = opt.learning_rate();
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 0.0, -0.0] {
                match opt.set_learning_rate(bad) {
                    Err(Error::InvalidConfig { name, .. }) => assert!(name.contains("learning rate"), "{name}"),
                    other => panic!("optimizer {k}: set_learning_rate({bad}) gave {other:?}"),
                }
                assert_eq!(opt.learning_rate(), lr, "optimizer {k}: a refused rate was kept");
            }
            let mut p = [1.0, 2.0];
            opt.step(&mut p, &[0.5, -0.5]).unwrap();
            assert!(p.iter().all(|x| x.is_finite()), "optimizer {k}: {p:?}");
        }
    }

    #[test]
    fn an_overflowing_step_is_refused_and_changes_nothing() {
        // A finite learning rate and gradient whose product overflows.
        for (k, mut opt) in every_optimizer().into_iter().enumerate() {
            opt.set_learning_rate(1e308).unwrap();
            let mut p = [1.0, 2.0];
            // A first good step sizes the state; the second overflows.
            let first = opt.step(&mut p, &[1e-300, 0.0]);
            let before = p;
            let err = match first {
                Ok(()) => opt.step(&mut p, &[10.0, 1e300]).unwrap_err(),
                Err(e) => e,
            };
            assert!(matches!(err, Error::NonFinite { .. }), "optimizer {k}: {err:?}");
            assert_eq!(p, before, "optimizer {k} moved on a refused step");
        }
        let mut sgd = Sgd::new(1e308).unwrap();
        let mut p = [1.0f64];
        match sgd.step(&mut p, &[10.0]) {
            Err(Error::NonFinite { index: 0, value, .. }) => assert_eq!(value, f64::NEG_INFINITY),
            other => panic!("expected NonFinite, got {other:?}"),
        }
        assert_eq!(p, [1.0]);
    }

    #[test]
    fn a_refused_step_leaves_the_state_as_it_was() {
        let twins = || {
            vec![
                Box::new(Sgd::new(10.0).unwrap().with_momentum(0.9).unwrap()) as Box<dyn Optimizer<f64>>,
                Box::new(Adam::new(0.1).unwrap()),
                Box::new(RmsProp::new(0.1).unwrap().with_momentum(0.5).unwrap()),
            ]
        };
        for (k, (mut a, mut b)) in twins().into_iter().zip(twins()).enumerate() {
            let (mut pa, mut pb) = ([1.0, 2.0], [1.0, 2.0]);
            a.step(&mut pa, &[0.5, -0.25]).unwrap();
            b.step(&mut pb, &[0.5, -0.25]).unwrap();
            // `a` is asked for a step that overflows (η·v for SGD, g² for the others).
            assert!(matches!(a.step(&mut pa, &[1e308, 0.0]), Err(Error::NonFinite { .. })), "optimizer {k}");
            assert_eq!(pa, pb, "optimizer {k}");
            a.step(&mut pa, &[0.125, 0.5]).unwrap();
            b.step(&mut pb, &[0.125, 0.5]).unwrap();
            assert_eq!(pa, pb, "optimizer {k}: the refused step left a trace in the state");
        }
        // A refused first step leaves a fresh optimizer: it may then be sized for another length.
        let mut sgd = Sgd::new(1e308).unwrap();
        assert!(sgd.step(&mut [1.0, 1.0], &[10.0, 10.0]).is_err());
        sgd.set_learning_rate(0.5).unwrap();
        let mut q = [1.0];
        sgd.step(&mut q, &[1.0]).unwrap();
        assert_eq!(q, [0.5]);
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
