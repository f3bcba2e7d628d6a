//! Optimizers on flat parameter vectors.
//!
//! An optimizer sees only the flat parameter vector and a gradient in the same layout
//! ([`Parameters`](crate::Parameters)), so one implementation serves every architecture.

use crate::{Real, Result};

/// A first-order optimizer: θ ← update(θ, ∂L/∂θ).
///
/// State (momenta, moment estimates) is sized on the first call and checked on every later
/// call.
pub trait Optimizer<T: Real> {
    /// Applies one update to `params` from `grad` (same length, same layout).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) if `grad` and `params`
    /// differ in length or differ from the length the optimizer's state was sized for;
    /// [`Error::NonFinite`](crate::Error::NonFinite) for a NaN or infinite gradient (the
    /// parameters are unchanged then).
    fn step(&mut self, params: &mut [T], grad: &[T]) -> Result<()>;

    /// The current learning rate η.
    fn learning_rate(&self) -> T;

    /// Sets the learning rate η (used by schedules).
    fn set_learning_rate(&mut self, lr: T);

    /// Forgets all state (momenta, moment estimates, step count).
    fn reset(&mut self);
}
