//! Sequences and batches of sequences, laid out for one GEMM per time step.

use nalgebra::{DMatrix, DMatrixView};

use crate::{
    Error, Real, Result,
    alloc::{checked_size, try_filled},
    error::check_finite,
};

/// A `rows × columns` matrix of zeros, or [`Error::Allocation`] naming `what`.
fn padded<T: Real>(what: &str, rows: usize, columns: usize) -> Result<DMatrix<T>> {
    let len = checked_size(what, rows, columns)?;
    Ok(DMatrix::from_vec(rows, columns, try_filled(what, len, T::zero())?))
}

/// One sequence: inputs `I × len` and targets `O × len`, one time step per column.
///
/// The fields are public, so a sequence can be built without [`Sequence::new`]; such a value
/// is checked where it is used ([`SeqBatch::from_sequences`], [`train`](crate::train())), and
/// [`validate`](Self::validate) checks it on request.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::Sequence;
/// let s = Sequence::new(DMatrix::<f64>::zeros(2, 5), DMatrix::zeros(1, 5)).unwrap();
/// assert_eq!(s.len(), 5);
/// assert!(Sequence::new(DMatrix::<f64>::zeros(2, 5), DMatrix::zeros(1, 4)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence<T: Real> {
    /// Inputs, `input_size × len`: column t is x(t).
    pub inputs: DMatrix<T>,
    /// Targets, `output_size × len`: column t is the target for the output at step t.
    pub targets: DMatrix<T>,
}

impl<T: Real> Sequence<T> {
    /// A sequence from its inputs and targets.
    ///
    /// # Errors
    /// [`Error::Empty`] for a sequence of no step, [`Error::DimensionMismatch`] if inputs and
    /// targets differ in length, [`Error::NonFinite`] for NaN or infinity in either.
    pub fn new(inputs: DMatrix<T>, targets: DMatrix<T>) -> Result<Self> {
        let s = Self { inputs, targets };
        s.validate()?;
        Ok(s)
    }

    /// Checks what [`Sequence::new`] checks, for a sequence built from its public fields.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_core::{Error, Sequence};
    /// let s = Sequence { inputs: DMatrix::<f64>::zeros(1, 5), targets: DMatrix::zeros(1, 3) };
    /// assert!(matches!(s.validate(), Err(Error::DimensionMismatch { expected: 5, got: 3, .. })));
    /// ```
    ///
    /// # Errors
    /// As [`Sequence::new`].
    pub fn validate(&self) -> Result<()> {
        self.check(|| "sequence".to_string())
    }

    /// [`validate`](Self::validate), with errors naming the sequence `name` (e.g.
    /// `"training sequence 3"`).
    /// Checks the sequence; `name` is formatted only when there is an error, so the check
    /// allocates nothing on the success path (it runs for every batch of every epoch).
    pub(crate) fn check(&self, name: impl Fn() -> String) -> Result<()> {
        if self.inputs.ncols() == 0 {
            return Err(Error::empty(format!("{} (time steps)", name()), 1));
        }
        if self.inputs.ncols() != self.targets.ncols() {
            let what = format!("target length of {} (its number of input steps)", name());
            return Err(Error::dim(what, self.inputs.ncols(), self.targets.ncols()));
        }
        let renamed = |part: &str, e: Error| match e {
            Error::NonFinite { index, value, .. } => {
                Error::NonFinite { what: format!("{part} of {}", name()), index, value }
            }
            other => other,
        };
        check_finite("", self.inputs.as_slice()).map_err(|e| renamed("inputs", e))?;
        check_finite("", self.targets.as_slice()).map_err(|e| renamed("targets", e))?;
        Ok(())
    }

    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.inputs.ncols()
    }

    /// Splits the sequence at step `t`: steps `0..t` and `t..len`, e.g. a training stream and
    /// the validation stream that follows it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `0 < t < len` (both parts must hold a step).
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_core::Sequence;
    /// let s = Sequence::new(DMatrix::from_fn(1, 5, |_, t| t as f64), DMatrix::zeros(1, 5)).unwrap();
    /// let (head, tail) = s.split_at(3).unwrap();
    /// assert_eq!((head.len(), tail.len()), (3, 2));
    /// assert_eq!(tail.inputs[(0, 0)], 3.0);
    /// assert!(s.split_at(5).is_err());
    /// ```
    pub fn split_at(&self, t: usize) -> Result<(Self, Self)> {
        if t == 0 || t >= self.len() {
            return Err(Error::config("split step", format!("a step in 1..{}", self.len()), t));
        }
        let n = self.len() - t;
        let head =
            Self { inputs: self.inputs.columns(0, t).into_owned(), targets: self.targets.columns(0, t).into_owned() };
        let tail =
            Self { inputs: self.inputs.columns(t, n).into_owned(), targets: self.targets.columns(t, n).into_owned() };
        Ok((head, tail))
    }

    /// Consecutive pieces of at most `len` steps (the last may be shorter), for mini-batches of
    /// one long stream.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `len == 0`.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_core::Sequence;
    /// let s = Sequence::new(DMatrix::<f64>::zeros(1, 7), DMatrix::zeros(1, 7)).unwrap();
    /// let pieces = s.chunks(3).unwrap();
    /// assert_eq!(pieces.iter().map(|p| p.len()).collect::<Vec<_>>(), [3, 3, 1]);
    /// ```
    pub fn chunks(&self, len: usize) -> Result<Vec<Self>> {
        if len == 0 {
            return Err(Error::config("chunk length", "at least 1", len));
        }
        Ok((0..self.len())
            .step_by(len)
            .map(|start| {
                let n = len.min(self.len() - start);
                Self {
                    inputs: self.inputs.columns(start, n).into_owned(),
                    targets: self.targets.columns(start, n).into_owned(),
                }
            })
            .collect())
    }

    /// Whether the sequence has no step (never true for a sequence built by [`Sequence::new`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A batch of B sequences padded to `steps` time steps.
///
/// Column `t·B + b` of [`inputs`](Self::inputs) is x_b(t), so the B columns of one time step are
/// contiguous: one step of the whole batch is the `I × B` matrix [`input_step`](Self::input_step)
/// and a weight matrix times it is one GEMM. Sequences shorter than `steps` are padded with
/// zeros; their padded columns are invalid and count in no loss.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::{SeqBatch, Sequence};
/// let a = Sequence::new(DMatrix::from_element(1, 3, 1.0f64), DMatrix::zeros(1, 3)).unwrap();
/// let b = Sequence::new(DMatrix::from_element(1, 2, 2.0f64), DMatrix::zeros(1, 2)).unwrap();
/// let batch = SeqBatch::from_sequences(&[&a, &b]).unwrap();
/// assert_eq!((batch.steps(), batch.batch_size()), (3, 2));
/// assert_eq!(batch.input_step(1).iter().copied().collect::<Vec<_>>(), [1.0, 2.0]);
/// assert_eq!(batch.input_step(2).iter().copied().collect::<Vec<_>>(), [1.0, 0.0]);
/// assert_eq!(batch.lengths(), &[3, 2]);
/// assert!(!batch.is_valid(2, 1));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SeqBatch<T: Real> {
    inputs: DMatrix<T>,
    targets: Option<DMatrix<T>>,
    steps: usize,
    batch: usize,
    lengths: Vec<usize>,
    valid: Vec<bool>,
    all_valid: bool,
}

impl<T: Real> SeqBatch<T> {
    /// A batch of full-length sequences from step-major matrices: `inputs` is
    /// `I × (steps·batch)` and `targets`, if any, `O × (steps·batch)`, column `t·batch + b`.
    ///
    /// # Errors
    /// [`Error::Empty`] if `steps` or `batch` is 0, [`Error::Allocation`] if `steps · batch`
    /// overflows `usize` (or its buffers cannot be allocated), [`Error::DimensionMismatch`] if
    /// a matrix has another number of columns, [`Error::NonFinite`] for NaN or infinity.
    pub fn new(inputs: DMatrix<T>, targets: Option<DMatrix<T>>, steps: usize, batch: usize) -> Result<Self> {
        if steps == 0 {
            return Err(Error::empty("batch (time steps)", 1));
        }
        if batch == 0 {
            return Err(Error::empty("batch (sequences)", 1));
        }
        let columns = checked_size("batch columns (steps × batch)", steps, batch)?;
        crate::error::check_dim("input columns (steps × batch)", columns, inputs.ncols())?;
        check_finite("batch inputs", inputs.as_slice())?;
        if let Some(t) = &targets {
            crate::error::check_dim("target columns (steps × batch)", columns, t.ncols())?;
            check_finite("batch targets", t.as_slice())?;
        }
        // A matrix of no rows may claim any number of columns without holding memory: size
        // the bookkeeping fallibly.
        Ok(Self {
            inputs,
            targets,
            steps,
            batch,
            lengths: try_filled("batch sequence lengths", batch, steps)?,
            valid: try_filled("batch validity mask", columns, true)?,
            all_valid: true,
        })
    }

    /// Packs sequences of possibly different lengths into one batch, padding with zeros.
    ///
    /// Each sequence is checked as [`Sequence::new`] would (its fields are public, so it may
    /// have been built without it).
    ///
    /// # Errors
    /// [`Error::Empty`] for no sequence or a sequence of no step, [`Error::DimensionMismatch`]
    /// if the sequences differ in input or output width or a sequence's targets are not as long
    /// as its inputs, [`Error::NonFinite`] for NaN or infinity in a sequence (each naming the
    /// sequence's index in `seqs`), [`Error::Allocation`] if the padded batch is too large to
    /// allocate.
    pub fn from_sequences(seqs: &[&Sequence<T>]) -> Result<Self> {
        let first = seqs.first().ok_or_else(|| Error::empty("batch (sequences)", 1))?;
        let (ni, no) = (first.inputs.nrows(), first.targets.nrows());
        for (b, s) in seqs.iter().enumerate() {
            if s.inputs.nrows() != ni {
                return Err(Error::dim(format!("input width of sequence {b} of the batch"), ni, s.inputs.nrows()));
            }
            if s.targets.nrows() != no {
                return Err(Error::dim(format!("target width of sequence {b} of the batch"), no, s.targets.nrows()));
            }
            s.check(|| format!("sequence {b} of the batch"))?;
        }
        let steps = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        let batch = seqs.len();
        let columns = checked_size("batch columns (steps × batch)", steps, batch)?;
        let mut inputs = padded("batch inputs", ni, columns)?;
        let mut targets = padded("batch targets", no, columns)?;
        let mut valid = try_filled("batch validity mask", columns, false)?;
        for (b, s) in seqs.iter().enumerate() {
            for t in 0..s.len() {
                inputs.column_mut(t * batch + b).copy_from(&s.inputs.column(t));
                targets.column_mut(t * batch + b).copy_from(&s.targets.column(t));
                valid[t * batch + b] = true;
            }
        }
        let lengths = seqs.iter().map(|s| s.len()).collect();
        let all_valid = valid.iter().all(|&v| v);
        Ok(Self { inputs, targets: Some(targets), steps, batch, lengths, valid, all_valid })
    }

    /// Replaces the validity of each column, for targets that are absent at some steps.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `valid` has `steps · batch` entries.
    pub fn with_valid_mask(mut self, valid: Vec<bool>) -> Result<Self> {
        crate::error::check_dim("validity mask length (steps × batch)", self.steps * self.batch, valid.len())?;
        self.all_valid = valid.iter().all(|&v| v);
        self.valid = valid;
        Ok(self)
    }

    /// Sets each sequence's length: sequence b is real for steps `0..lengths[b]` and padding
    /// after, so its padded columns stop counting in the loss (they are marked invalid, on top of
    /// any mask already set). A length of 0 leaves a sequence out of this batch (a window of a
    /// stream that has ended). Recurrent models freeze a sequence's state after its last real
    /// step.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_core::SeqBatch;
    /// let batch = SeqBatch::new(DMatrix::<f64>::zeros(1, 6), None, 3, 2).unwrap();
    /// let batch = batch.with_lengths(vec![3, 1]).unwrap();
    /// assert_eq!(batch.lengths(), [3, 1]);
    /// assert!(batch.is_valid(0, 1) && !batch.is_valid(1, 1));
    /// ```
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless there is one length per sequence, and
    /// [`Error::InvalidConfig`] naming the sequence for a length longer than the batch's steps.
    pub fn with_lengths(mut self, lengths: Vec<usize>) -> Result<Self> {
        crate::error::check_dim("sequence lengths (one per sequence of the batch)", self.batch, lengths.len())?;
        for (b, &len) in lengths.iter().enumerate() {
            if len > self.steps {
                return Err(Error::config(
                    format!("length of sequence {b} of the batch"),
                    format!("at most the batch's {} steps", self.steps),
                    len,
                ));
            }
        }
        for t in 0..self.steps {
            for (b, &len) in lengths.iter().enumerate() {
                if t >= len {
                    self.valid[t * self.batch + b] = false;
                }
            }
        }
        self.all_valid = self.valid.iter().all(|&v| v);
        self.lengths = lengths;
        Ok(self)
    }

    /// Number of time steps (the longest sequence).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Number of sequences B.
    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// Input width I.
    pub fn input_size(&self) -> usize {
        self.inputs.nrows()
    }

    /// All inputs, `I × (steps·B)`.
    pub fn inputs(&self) -> &DMatrix<T> {
        &self.inputs
    }

    /// All targets, `O × (steps·B)`, if the batch has any.
    pub fn targets(&self) -> Option<&DMatrix<T>> {
        self.targets.as_ref()
    }

    /// The targets, or [`Error::Empty`] for a batch built without them.
    pub fn require_targets(&self) -> Result<&DMatrix<T>> {
        self.targets.as_ref().ok_or_else(|| Error::empty("batch targets", 1))
    }

    /// The `I × B` inputs of time step `t`.
    pub fn input_step(&self, t: usize) -> DMatrixView<'_, T> {
        self.inputs.columns(t * self.batch, self.batch)
    }

    /// Each sequence's real length.
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    /// Whether step `t` of sequence `b` counts in the loss.
    pub fn is_valid(&self, t: usize, b: usize) -> bool {
        self.valid[t * self.batch + b]
    }

    /// The validity of every column, or `None` when every column is valid.
    pub fn valid_mask(&self) -> Option<&[bool]> {
        if self.all_valid { None } else { Some(&self.valid) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: usize, cols: usize, v: f64) -> DMatrix<f64> {
        DMatrix::from_element(rows, cols, v)
    }

    #[test]
    fn steps_times_batch_may_not_overflow() {
        // 2⁶³ · 2 wraps to 0 = the columns of a 1×0 matrix.
        match SeqBatch::new(m(1, 0, 0.0), None, 1 << 63, 2) {
            Err(Error::Allocation { what, bytes }) => {
                assert!(what.contains("steps × batch"), "{what}");
                assert_eq!(bytes, 1u128 << 64);
            }
            other => panic!("expected Allocation, got {other:?}"),
        }
        // usize::MAX² ≡ 1 (mod 2⁶⁴) = the columns of a 1×1 matrix.
        assert!(matches!(SeqBatch::new(m(1, 1, 0.0), None, usize::MAX, usize::MAX), Err(Error::Allocation { .. })));
        assert!(matches!(
            SeqBatch::new(m(1, 1, 0.0), Some(m(1, 1, 0.0)), usize::MAX, usize::MAX),
            Err(Error::Allocation { .. })
        ));
        // A matrix of no rows holds no memory but may claim many columns: the bookkeeping is
        // sized fallibly.
        let wide = DMatrix::<f64>::zeros(0, 1 << 62);
        assert!(matches!(SeqBatch::new(wide, None, 1 << 61, 2), Err(Error::Allocation { .. })));
        assert_eq!(SeqBatch::new(m(2, 6, 1.0), None, 3, 2).unwrap().lengths(), [3, 3]);
    }

    #[test]
    fn from_sequences_checks_sequences_built_by_hand() {
        let good = Sequence::new(m(1, 3, 0.5), m(1, 3, 0.0)).unwrap();
        let short_targets = Sequence { inputs: m(1, 5, 0.0), targets: m(1, 3, 0.0) };
        match SeqBatch::from_sequences(&[&good, &short_targets]) {
            Err(Error::DimensionMismatch { what, expected: 5, got: 3 }) => {
                assert!(what.contains("sequence 1 of the batch"), "{what}")
            }
            other => panic!("expected DimensionMismatch, got {other:?}"),
        }
        let long_targets = Sequence { inputs: m(1, 2, 0.0), targets: m(1, 5, 1.0) };
        assert!(matches!(
            SeqBatch::from_sequences(&[&long_targets]),
            Err(Error::DimensionMismatch { expected: 2, got: 5, .. })
        ));
        let nan = Sequence { inputs: m(1, 2, f64::NAN), targets: m(1, 2, 0.0) };
        match SeqBatch::from_sequences(&[&good, &good, &nan]) {
            Err(Error::NonFinite { what, index: 0, .. }) => assert_eq!(what, "inputs of sequence 2 of the batch"),
            other => panic!("expected NonFinite, got {other:?}"),
        }
        let inf = Sequence { inputs: m(1, 2, 0.0), targets: m(1, 2, f64::NEG_INFINITY) };
        assert!(matches!(SeqBatch::from_sequences(&[&inf]), Err(Error::NonFinite { .. })));
        let empty = Sequence { inputs: m(1, 0, 0.0), targets: m(1, 0, 0.0) };
        match SeqBatch::from_sequences(&[&good, &empty]) {
            Err(Error::Empty { what, .. }) => assert!(what.contains("sequence 1"), "{what}"),
            other => panic!("expected Empty, got {other:?}"),
        }
        let wide = Sequence::new(m(2, 3, 0.0), m(1, 3, 0.0)).unwrap();
        match SeqBatch::from_sequences(&[&good, &wide]) {
            Err(Error::DimensionMismatch { what, .. }) => assert!(what.contains("sequence 1"), "{what}"),
            other => panic!("expected DimensionMismatch, got {other:?}"),
        }
        assert!(short_targets.validate().is_err());
        assert!(good.validate().is_ok());
    }
}
