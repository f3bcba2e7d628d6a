//! Learning-rate schedules over epochs.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// A learning rate η as a function of the epoch (counted from 1).
///
/// - `Constant(η)`: η at every epoch.
/// - `StepDecay { initial, factor, every_epochs }`:
///   η(e) = initial · factor^⌊(e − 1) / every_epochs⌋.
///
/// The variants are public, so [`validate`](Self::validate) checks a value built by hand; the
/// training loop calls it before the first epoch.
///
/// ```
/// use rnn_core::LearningRate;
/// let lr = LearningRate::step_decay(0.1, 0.5, 10).unwrap();
/// assert_eq!(lr.at_epoch(1), 0.1);
/// assert_eq!(lr.at_epoch(10), 0.1);
/// assert_eq!(lr.at_epoch(11), 0.05);
/// assert_eq!(lr.at_epoch(25), 0.025);
/// assert!(LearningRate::step_decay(0.1, 0.5, 0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LearningRate {
    /// The same η at every epoch.
    Constant(f64),
    /// η multiplied by `factor` after every `every_epochs` epochs.
    StepDecay {
        /// η at epoch 1.
        initial: f64,
        /// Multiplier applied every `every_epochs` epochs, in (0, 1].
        factor: f64,
        /// Number of epochs between two decays, at least 1.
        every_epochs: usize,
    },
}

impl LearningRate {
    /// A validated constant rate.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `lr` is finite and positive.
    pub fn constant(lr: f64) -> Result<Self> {
        let s = LearningRate::Constant(lr);
        s.validate()?;
        Ok(s)
    }

    /// A validated step decay.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `initial` is finite and positive, `factor` lies in
    /// (0, 1] and `every_epochs` is at least 1.
    pub fn step_decay(initial: f64, factor: f64, every_epochs: usize) -> Result<Self> {
        let s = LearningRate::StepDecay { initial, factor, every_epochs };
        s.validate()?;
        Ok(s)
    }

    /// Checks every field (see [`step_decay`](Self::step_decay)).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the bad field.
    pub fn validate(&self) -> Result<()> {
        let positive = |name: &str, x: f64| {
            if x.is_finite() && x > 0.0 { Ok(()) } else { Err(Error::config(name, "a finite value > 0", x)) }
        };
        match *self {
            LearningRate::Constant(lr) => positive("learning rate η", lr),
            LearningRate::StepDecay { initial, factor, every_epochs } => {
                positive("initial learning rate η", initial)?;
                if !(factor > 0.0 && factor <= 1.0) {
                    return Err(Error::config("learning-rate decay factor", "a value in (0, 1]", factor));
                }
                if every_epochs == 0 {
                    return Err(Error::config("learning-rate decay interval (epochs)", "at least 1", every_epochs));
                }
                Ok(())
            }
        }
    }

    /// η at `epoch`, counted from 1 (epoch 0 is read as 1).
    pub fn at_epoch(&self, epoch: usize) -> f64 {
        match *self {
            LearningRate::Constant(lr) => lr,
            LearningRate::StepDecay { initial, factor, every_epochs } => {
                let decays = epoch.saturating_sub(1) / every_epochs.max(1);
                initial * factor.powi(i32::try_from(decays).unwrap_or(i32::MAX))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_is_constant_and_validated() {
        let lr = LearningRate::constant(0.3).unwrap();
        assert_eq!(lr.at_epoch(1), 0.3);
        assert_eq!(lr.at_epoch(1000), 0.3);
        assert!(LearningRate::constant(0.0).is_err());
        assert!(LearningRate::Constant(f64::NAN).validate().is_err());
    }

    #[test]
    fn step_decay_rejects_bad_fields() {
        assert!(LearningRate::step_decay(-0.1, 0.5, 1).is_err());
        assert!(LearningRate::step_decay(0.1, 0.0, 1).is_err());
        assert!(LearningRate::step_decay(0.1, 1.5, 1).is_err());
        assert!(LearningRate::step_decay(0.1, f64::NAN, 1).is_err());
        assert_eq!(LearningRate::step_decay(0.1, 1.0, 1).unwrap().at_epoch(50), 0.1);
    }

    #[test]
    fn epoch_zero_reads_as_one_and_huge_epochs_do_not_panic() {
        let lr = LearningRate::step_decay(1.0, 0.5, 1).unwrap();
        assert_eq!(lr.at_epoch(0), 1.0);
        assert_eq!(lr.at_epoch(usize::MAX), 0.0);
    }
}
