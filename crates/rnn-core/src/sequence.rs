//! Sequences and batches of sequences, laid out for one GEMM per time step.

use nalgebra::{DMatrix, DMatrixView};

use crate::{Error, Real, Result, error::check_finite};

/// One sequence: inputs `I × len` and targets `O × len`, one time step per column.
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
        if inputs.ncols() == 0 {
            return Err(Error::empty("sequence (time steps)", 1));
        }
        crate::error::check_dim("target sequence length", inputs.ncols(), targets.ncols())?;
        check_finite("sequence inputs", inputs.as_slice())?;
        check_finite("sequence targets", targets.as_slice())?;
        Ok(Self { inputs, targets })
    }

    /// Number of time steps.
    pub fn len(&self) -> usize {
        self.inputs.ncols()
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
    /// [`Error::Empty`] if `steps` or `batch` is 0, [`Error::DimensionMismatch`] if a matrix
    /// has another number of columns, [`Error::NonFinite`] for NaN or infinity.
    pub fn new(inputs: DMatrix<T>, targets: Option<DMatrix<T>>, steps: usize, batch: usize) -> Result<Self> {
        if steps == 0 {
            return Err(Error::empty("batch (time steps)", 1));
        }
        if batch == 0 {
            return Err(Error::empty("batch (sequences)", 1));
        }
        crate::error::check_dim("input columns (steps × batch)", steps * batch, inputs.ncols())?;
        check_finite("batch inputs", inputs.as_slice())?;
        if let Some(t) = &targets {
            crate::error::check_dim("target columns (steps × batch)", steps * batch, t.ncols())?;
            check_finite("batch targets", t.as_slice())?;
        }
        Ok(Self {
            inputs,
            targets,
            steps,
            batch,
            lengths: vec![steps; batch],
            valid: vec![true; steps * batch],
            all_valid: true,
        })
    }

    /// Packs sequences of possibly different lengths into one batch, padding with zeros.
    ///
    /// # Errors
    /// [`Error::Empty`] for no sequence, [`Error::DimensionMismatch`] if the sequences differ
    /// in input or output width.
    pub fn from_sequences(seqs: &[&Sequence<T>]) -> Result<Self> {
        let first = seqs.first().ok_or_else(|| Error::empty("batch (sequences)", 1))?;
        let (ni, no) = (first.inputs.nrows(), first.targets.nrows());
        let steps = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        if steps == 0 {
            return Err(Error::empty("batch (time steps)", 1));
        }
        let batch = seqs.len();
        let mut inputs = DMatrix::zeros(ni, steps * batch);
        let mut targets = DMatrix::zeros(no, steps * batch);
        let mut valid = vec![false; steps * batch];
        for (b, s) in seqs.iter().enumerate() {
            crate::error::check_dim("input width of a sequence in the batch", ni, s.inputs.nrows())?;
            crate::error::check_dim("target width of a sequence in the batch", no, s.targets.nrows())?;
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
