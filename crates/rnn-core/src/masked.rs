//! Sequences whose targets are present only at some steps, for some outputs.

use nalgebra::DMatrix;

use crate::{Error, Real, Result, Sequence, error::check_dim};

/// A [`Sequence`] with a mask saying which targets are present: `present[(k, t)]` is true when
/// output k has a target at step t.
///
/// Williams & Zipser's T(t), "the set of units with a target at time t": a delayed task has no
/// target in its first steps, the adding problem only at the last one. Only present targets
/// count in a loss and its gradient; the values of absent targets are ignored (they are kept
/// finite, so a [`Sequence`] check still holds).
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::{MaskedSequence, Sequence};
/// let seq = Sequence::new(DMatrix::<f64>::zeros(2, 5), DMatrix::zeros(1, 5)).unwrap();
/// // A target from step 2 on (a delay of 2).
/// let masked = MaskedSequence::targets_from(seq, 2).unwrap();
/// assert!(!masked.is_present(0, 1));
/// assert!(masked.is_present(0, 2));
/// assert_eq!(masked.present_count(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MaskedSequence<T: Real> {
    sequence: Sequence<T>,
    present: DMatrix<bool>,
}

impl<T: Real> MaskedSequence<T> {
    /// A sequence and its mask, `targets × len` like the sequence's targets.
    ///
    /// # Errors
    /// What [`Sequence::validate`] finds, and [`Error::DimensionMismatch`] if the mask's shape
    /// differs from the targets'.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_core::{MaskedSequence, Sequence};
    /// let seq = Sequence::new(DMatrix::<f64>::zeros(1, 3), DMatrix::zeros(2, 3)).unwrap();
    /// let wrong = DMatrix::from_element(2, 4, true);
    /// assert!(MaskedSequence::new(seq, wrong).is_err());
    /// ```
    pub fn new(sequence: Sequence<T>, present: DMatrix<bool>) -> Result<Self> {
        sequence.validate()?;
        check_dim("target mask rows (target width)", sequence.targets.nrows(), present.nrows())?;
        check_dim("target mask columns (sequence length)", sequence.len(), present.ncols())?;
        Ok(Self { sequence, present })
    }

    /// Every target present.
    ///
    /// # Errors
    /// What [`Sequence::validate`] finds.
    pub fn all_present(sequence: Sequence<T>) -> Result<Self> {
        let present = DMatrix::from_element(sequence.targets.nrows(), sequence.len(), true);
        Self::new(sequence, present)
    }

    /// Targets present from step `first` on (a task whose answer lags its input by `first`).
    ///
    /// # Errors
    /// What [`Sequence::validate`] finds; [`Error::InvalidConfig`] if `first` leaves no target
    /// (`first ≥ len`).
    pub fn targets_from(sequence: Sequence<T>, first: usize) -> Result<Self> {
        if first >= sequence.len() {
            return Err(Error::config(
                "first target step",
                format!("a step in 0..{} (the sequence length)", sequence.len()),
                first,
            ));
        }
        let present = DMatrix::from_fn(sequence.targets.nrows(), sequence.len(), |_, t| t >= first);
        Self::new(sequence, present)
    }

    /// The sequence.
    pub fn sequence(&self) -> &Sequence<T> {
        &self.sequence
    }

    /// Inputs, `input_size × len`.
    pub fn inputs(&self) -> &DMatrix<T> {
        &self.sequence.inputs
    }

    /// Targets, `target_size × len` (values of absent targets mean nothing).
    pub fn targets(&self) -> &DMatrix<T> {
        &self.sequence.targets
    }

    /// The mask, `target_size × len`.
    pub fn present(&self) -> &DMatrix<bool> {
        &self.present
    }

    /// Whether output `k` has a target at step `t` (false outside the sequence).
    pub fn is_present(&self, k: usize, t: usize) -> bool {
        k < self.present.nrows() && t < self.present.ncols() && self.present[(k, t)]
    }

    /// Number of present targets.
    pub fn present_count(&self) -> usize {
        self.present.iter().filter(|&&p| p).count()
    }

    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.sequence.len()
    }

    /// Whether the sequence has no step (never true for a checked sequence).
    pub fn is_empty(&self) -> bool {
        self.sequence.is_empty()
    }

    /// Number of inputs per step.
    pub fn input_size(&self) -> usize {
        self.sequence.inputs.nrows()
    }

    /// Number of targets per step.
    pub fn target_size(&self) -> usize {
        self.sequence.targets.nrows()
    }

    /// The sequence and the mask.
    pub fn into_parts(self) -> (Sequence<T>, DMatrix<bool>) {
        (self.sequence, self.present)
    }
}

impl<T: Real> TryFrom<Sequence<T>> for MaskedSequence<T> {
    type Error = Error;

    /// [`MaskedSequence::all_present`].
    fn try_from(sequence: Sequence<T>) -> Result<Self> {
        Self::all_present(sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(len: usize) -> Sequence<f64> {
        Sequence::new(DMatrix::zeros(1, len), DMatrix::zeros(2, len)).unwrap()
    }

    #[test]
    fn masks_must_match_the_targets() {
        assert!(matches!(
            MaskedSequence::new(seq(3), DMatrix::from_element(1, 3, true)),
            Err(Error::DimensionMismatch { expected: 2, got: 1, .. })
        ));
        assert!(MaskedSequence::new(seq(3), DMatrix::from_element(2, 3, false)).is_ok());
        let bad = Sequence { inputs: DMatrix::from_element(1, 2, f64::NAN), targets: DMatrix::zeros(2, 2) };
        assert!(matches!(MaskedSequence::all_present(bad), Err(Error::NonFinite { .. })));
    }

    #[test]
    fn targets_from_counts_and_refuses_a_mask_with_nothing() {
        let m = MaskedSequence::targets_from(seq(4), 1).unwrap();
        assert_eq!(m.present_count(), 6);
        assert!(!m.is_present(1, 0) && m.is_present(1, 3) && !m.is_present(2, 3) && !m.is_present(0, 4));
        assert!(matches!(MaskedSequence::targets_from(seq(4), 4), Err(Error::InvalidConfig { .. })));
        let all: MaskedSequence<f64> = seq(2).try_into().unwrap();
        assert_eq!((all.present_count(), all.len(), all.input_size(), all.target_size()), (4, 2, 1, 2));
    }
}
