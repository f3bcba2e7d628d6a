//! The modern continuous Hopfield network (Ramsauer et al. 2020, "Hopfield Networks is All You
//! Need").
//!
//! Stored patterns are the columns x₁ … x_p of a real d × p matrix X; a state ξ ∈ ℝᵈ is updated by
//!
//! ξ ← X softmax(β Xᵀ ξ),
//!
//! the attention of ξ over the patterns. The update minimises the energy
//!
//! E(ξ) = −β⁻¹ ln Σᵢ exp(β xᵢᵀξ) + ½ ξᵀξ + β⁻¹ ln p + ½ M²,  M = maxᵢ ‖xᵢ‖,
//!
//! never raising it, and retrieves a well-separated pattern in one step; the number of patterns
//! it can store grows exponentially with d (Demircigil et al. 2017; Ramsauer et al. 2020). A
//! batch of B states is updated with two matrix products, Xᵀ Ξ (p × B) and X softmax(·).

use nalgebra::{DMatrix, DVector};
use rnn_core::linalg::{Op, gemm};
use rnn_core::{Error, Persist, Real, Result};
use serde::{Deserialize, Serialize};

use crate::{AssociativeMemory, Pattern};

/// When a modern Hopfield recall stops.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModernDynamics {
    /// The most updates; at least 1. Default 16 (retrieval usually takes one).
    pub max_steps: usize,
    /// Stop when no component moves by more than `tolerance`·max(1, maxᵢ|ξᵢ|). Default 1e-5.
    pub tolerance: f64,
}

impl Default for ModernDynamics {
    fn default() -> Self {
        ModernDynamics { max_steps: 16, tolerance: 1e-5 }
    }
}

impl ModernDynamics {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `max_steps` = 0 or a negative or non-finite tolerance.
    pub fn validate(&self) -> Result<()> {
        if self.max_steps == 0 {
            return Err(Error::config("max_steps", "at least 1", self.max_steps));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(Error::config("tolerance", "a finite value ≥ 0", self.tolerance));
        }
        Ok(())
    }
}

/// The result of a modern Hopfield recall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Real", deserialize = "T: Real"))]
pub struct ModernRecall<T: Real> {
    /// The final state ξ.
    pub state: DVector<T>,
    /// Updates applied.
    pub steps: usize,
    /// Whether the last update moved the state by less than the tolerance.
    pub converged: bool,
    /// The energy of the cue (`energy[0]`) and after each update, `steps + 1` values.
    pub energy: Vec<T>,
    /// The pattern with the largest attention weight, argmaxᵢ xᵢᵀξ, for the final state.
    pub nearest: usize,
    /// Its attention weight softmax(β Xᵀξ) at the final state, in (0, 1].
    pub weight: T,
}

/// A modern continuous Hopfield network.
///
/// ```
/// use nalgebra::{DMatrix, DVector};
/// use rnn_hopfield::ModernHopfield;
/// // Three patterns in ℝ⁴, one per column.
/// let x = DMatrix::from_column_slice(4, 3, &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
/// let net = ModernHopfield::new(x.clone(), 8.0)?;
/// let r = net.recall_vector(&DVector::from_vec(vec![0.9, 0.2, 0.1, 0.8]))?;
/// assert_eq!(r.nearest, 0);
/// assert!((&r.state - x.column(0)).amax() < 1e-3);
/// assert!(r.energy.windows(2).all(|e| e[1] <= e[0] + 1e-12));
/// # Ok::<(), rnn_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Real", deserialize = "T: Real"))]
pub struct ModernHopfield<T: Real> {
    patterns: DMatrix<T>,
    beta: T,
    dynamics: ModernDynamics,
}

impl<T: Real> ModernHopfield<T> {
    /// A network storing the columns of `patterns` (d × p) with inverse temperature `beta`.
    ///
    /// # Errors
    /// [`Error::Empty`] for no rows or no columns; [`Error::NonFinite`] for a NaN or infinite
    /// entry; [`Error::InvalidConfig`] unless `beta` is finite and positive.
    pub fn new(patterns: DMatrix<T>, beta: T) -> Result<Self> {
        check_beta(beta)?;
        check_patterns(&patterns)?;
        Ok(ModernHopfield { patterns, beta, dynamics: ModernDynamics::default() })
    }

    /// A network storing bipolar patterns as ±1 vectors.
    ///
    /// # Errors
    /// [`Error::Empty`] for no patterns; [`Error::DimensionMismatch`] for patterns of unequal
    /// length; [`Error::InvalidConfig`] for a bad `beta`.
    pub fn from_patterns(patterns: &[Pattern], beta: T) -> Result<Self> {
        let first = patterns.first().ok_or_else(|| Error::empty("pattern set", 1))?;
        crate::pattern::check_set(patterns, first.len())?;
        Self::new(crate::rules::pattern_matrix(patterns, first.len()), beta)
    }

    /// The same network with other dynamics.
    ///
    /// # Errors
    /// As [`ModernDynamics::validate`].
    pub fn with_dynamics(mut self, dynamics: ModernDynamics) -> Result<Self> {
        dynamics.validate()?;
        self.dynamics = dynamics;
        Ok(self)
    }

    /// The stored patterns X, one per column.
    pub fn patterns(&self) -> &DMatrix<T> {
        &self.patterns
    }

    /// The inverse temperature β.
    pub fn beta(&self) -> T {
        self.beta
    }

    /// Sets β.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `beta` is finite and positive.
    pub fn set_beta(&mut self, beta: T) -> Result<()> {
        check_beta(beta)?;
        self.beta = beta;
        Ok(())
    }

    /// The dynamics used by [`recall_vector`](Self::recall_vector).
    pub fn dynamics(&self) -> ModernDynamics {
        self.dynamics
    }

    /// The dimension d of a pattern.
    pub fn dim(&self) -> usize {
        self.patterns.nrows()
    }

    /// The number of stored patterns p.
    pub fn num_patterns(&self) -> usize {
        self.patterns.ncols()
    }

    /// Replaces the stored patterns by the columns of `patterns`.
    ///
    /// # Errors
    /// As [`new`](Self::new); the network is unchanged on error.
    pub fn store_matrix(&mut self, patterns: DMatrix<T>) -> Result<()> {
        check_patterns(&patterns)?;
        self.patterns = patterns;
        Ok(())
    }

    /// Appends one pattern.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless its length is d; [`Error::NonFinite`].
    pub fn add_vector(&mut self, pattern: &[T]) -> Result<()> {
        rnn_core::error::check_dim("pattern length", self.dim(), pattern.len())?;
        rnn_core::error::check_finite("pattern", pattern)?;
        let (d, p) = self.patterns.shape();
        let mut data: Vec<T> = std::mem::replace(&mut self.patterns, DMatrix::zeros(0, 0)).data.into();
        data.extend_from_slice(pattern);
        self.patterns = DMatrix::from_vec(d, p + 1, data);
        Ok(())
    }

    /// The attention softmax(β Xᵀ ξ) of a state over the patterns.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless the state has length d.
    pub fn attention(&self, state: &[T]) -> Result<DVector<T>> {
        self.check_state(state)?;
        let xi = DMatrix::from_column_slice(self.dim(), 1, state);
        let mut scores = DMatrix::zeros(self.num_patterns(), 1);
        self.scores(&xi, &mut scores);
        softmax_columns(&mut scores, self.beta);
        Ok(DVector::from_vec(scores.data.into()))
    }

    /// E(ξ) = −β⁻¹ ln Σᵢ exp(β xᵢᵀξ) + ½ ξᵀξ + β⁻¹ ln p + ½ M².
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless the state has length d; [`Error::NonFinite`].
    pub fn energy(&self, state: &[T]) -> Result<T> {
        self.check_state(state)?;
        let xi = DMatrix::from_column_slice(self.dim(), 1, state);
        let mut scores = DMatrix::zeros(self.num_patterns(), 1);
        self.scores(&xi, &mut scores);
        Ok(self.energy_from_scores(state, scores.as_slice(), self.max_norm_sq()))
    }

    /// One update of a batch of states (d × B): `scores` ← Xᵀ Ξ, softmax over each column,
    /// `out` ← X · softmax — two matrix products, no allocation.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for buffers of the wrong shape.
    pub fn step_batch(&self, states: &DMatrix<T>, scores: &mut DMatrix<T>, out: &mut DMatrix<T>) -> Result<()> {
        let b = states.ncols();
        rnn_core::error::check_dim("state rows", self.dim(), states.nrows())?;
        rnn_core::error::check_dim("score rows", self.num_patterns(), scores.nrows())?;
        rnn_core::error::check_dim("score columns", b, scores.ncols())?;
        rnn_core::error::check_dim("output rows", self.dim(), out.nrows())?;
        rnn_core::error::check_dim("output columns", b, out.ncols())?;
        self.scores(states, scores);
        softmax_columns(scores, self.beta);
        gemm(T::zero(), &mut out.as_view_mut(), T::one(), &self.patterns.as_view(), Op::N, &scores.as_view(), Op::N);
        Ok(())
    }

    /// Recalls from `cue` with the network's [`ModernDynamics`].
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless the cue has length d; [`Error::NonFinite`].
    pub fn recall_vector(&self, cue: &DVector<T>) -> Result<ModernRecall<T>> {
        let cues = DMatrix::from_column_slice(cue.len(), 1, cue.as_slice());
        let mut out = self.recall_batch(&cues)?;
        out.pop().ok_or_else(|| Error::empty("recall result", 1))
    }

    /// Recalls from every column of `cues` (d × B), updating the whole batch with two matrix
    /// products per step until every column has converged or the step limit.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `cues` has d rows; [`Error::NonFinite`].
    pub fn recall_batch(&self, cues: &DMatrix<T>) -> Result<Vec<ModernRecall<T>>> {
        rnn_core::error::check_dim("cue length", self.dim(), cues.nrows())?;
        rnn_core::error::check_finite("cues", cues.as_slice())?;
        let (d, b, p) = (self.dim(), cues.ncols(), self.num_patterns());
        let m2 = self.max_norm_sq();
        let tol = T::of_f64(self.dynamics.tolerance);
        let mut state = cues.clone();
        let mut next = DMatrix::<T>::zeros(d, b);
        let mut scores = DMatrix::<T>::zeros(p, b);
        let mut energy: Vec<Vec<T>> = vec![Vec::new(); b];
        let mut steps = vec![0usize; b];
        let mut converged = vec![false; b];
        for _ in 0..self.dynamics.max_steps {
            self.scores(&state, &mut scores);
            for c in 0..b {
                if !converged[c] {
                    let e = self.energy_from_scores(state.column(c).as_slice(), scores.column(c).as_slice(), m2);
                    energy[c].push(e);
                }
            }
            softmax_columns(&mut scores, self.beta);
            gemm(
                T::zero(),
                &mut next.as_view_mut(),
                T::one(),
                &self.patterns.as_view(),
                Op::N,
                &scores.as_view(),
                Op::N,
            );
            for c in 0..b {
                if converged[c] {
                    continue;
                }
                let (old, new) = (state.column(c), next.column(c));
                let scale = old.amax().max(T::one());
                let change = old.iter().zip(new.iter()).fold(T::zero(), |m, (&a, &b)| m.max((b - a).abs()));
                converged[c] = change <= tol * scale;
                steps[c] += 1;
                state.set_column(c, &new);
            }
            if converged.iter().all(|&c| c) {
                break;
            }
        }
        // Energy and nearest pattern of the final states.
        self.scores(&state, &mut scores);
        let mut out = Vec::with_capacity(b);
        for c in 0..b {
            let col = scores.column(c);
            energy[c].push(self.energy_from_scores(state.column(c).as_slice(), col.as_slice(), m2));
            let nearest = col.iter().enumerate().fold(0, |best, (i, &v)| if v > col[best] { i } else { best });
            let mut weights = DMatrix::from_column_slice(p, 1, col.as_slice());
            softmax_columns(&mut weights, self.beta);
            out.push(ModernRecall {
                state: state.column(c).into_owned(),
                steps: steps[c],
                converged: converged[c],
                energy: std::mem::take(&mut energy[c]),
                nearest,
                weight: weights[nearest],
            });
        }
        Ok(out)
    }

    /// Recalls bipolar cues and returns the signs of the final states (+1 for a component
    /// ≥ 0): the classic-network view of a modern network storing ±1 patterns.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] naming the first cue whose length is not d.
    pub fn recall_signs(&self, cues: &[Pattern]) -> Result<Vec<Pattern>> {
        for (k, c) in cues.iter().enumerate() {
            rnn_core::error::check_dim(&format!("length of cue {k}"), self.dim(), c.len())?;
        }
        if cues.is_empty() {
            return Ok(Vec::new());
        }
        let cue_matrix = crate::rules::pattern_matrix::<T>(cues, self.dim());
        let out = self.recall_batch(&cue_matrix)?;
        Ok(out
            .iter()
            .map(|r| {
                Pattern::from_states_unchecked(r.state.iter().map(|&x| if x >= T::zero() { 1 } else { -1 }).collect())
            })
            .collect())
    }

    /// scores ← Xᵀ Ξ.
    fn scores(&self, states: &DMatrix<T>, scores: &mut DMatrix<T>) {
        gemm(T::zero(), &mut scores.as_view_mut(), T::one(), &self.patterns.as_view(), Op::T, &states.as_view(), Op::N);
    }

    /// maxᵢ ‖xᵢ‖².
    fn max_norm_sq(&self) -> T {
        self.patterns.column_iter().map(|c| c.norm_squared()).fold(T::zero(), T::max)
    }

    /// The energy from the scores Xᵀξ of a state.
    fn energy_from_scores(&self, state: &[T], scores: &[T], max_norm_sq: T) -> T {
        let half = T::of_f64(0.5);
        let top = scores.iter().copied().fold(scores.first().copied().unwrap_or(T::zero()), T::max);
        let sum: T = scores.iter().map(|&s| (self.beta * (s - top)).exp()).sum();
        let lse = top + sum.ln() / self.beta;
        let sq: T = state.iter().map(|&x| x * x).sum();
        -lse + half * sq + T::of_usize(self.num_patterns()).ln() / self.beta + half * max_norm_sq
    }

    fn check_state(&self, state: &[T]) -> Result<()> {
        rnn_core::error::check_dim("state length", self.dim(), state.len())?;
        rnn_core::error::check_finite("state", state)
    }
}

/// Softmax of β·column over every column, stabilised by the column's maximum.
fn softmax_columns<T: Real>(scores: &mut DMatrix<T>, beta: T) {
    let p = scores.nrows();
    if p == 0 {
        return;
    }
    for col in scores.as_mut_slice().chunks_mut(p) {
        let top = col.iter().copied().fold(col[0], T::max);
        let mut sum = T::zero();
        for v in col.iter_mut() {
            *v = (beta * (*v - top)).exp();
            sum += *v;
        }
        for v in col.iter_mut() {
            *v /= sum;
        }
    }
}

fn check_beta<T: Real>(beta: T) -> Result<()> {
    if !(beta.is_finite() && beta > T::zero()) {
        return Err(Error::config("inverse temperature β", "a finite value > 0", beta));
    }
    Ok(())
}

fn check_patterns<T: Real>(patterns: &DMatrix<T>) -> Result<()> {
    if patterns.nrows() == 0 {
        return Err(Error::empty("pattern dimension d", 1));
    }
    if patterns.ncols() == 0 {
        return Err(Error::empty("pattern set", 1));
    }
    rnn_core::error::check_finite("patterns", patterns.as_slice())
}

impl<T: Real> AssociativeMemory<T> for ModernHopfield<T> {
    type Pattern = DVector<T>;
    type Recall = ModernRecall<T>;

    fn dim(&self) -> usize {
        self.patterns.nrows()
    }

    fn num_patterns(&self) -> usize {
        self.patterns.ncols()
    }

    fn store(&mut self, patterns: &[DVector<T>]) -> Result<()> {
        let first = patterns.first().ok_or_else(|| Error::empty("pattern set", 1))?;
        for (k, p) in patterns.iter().enumerate() {
            rnn_core::error::check_dim(&format!("length of pattern {k}"), first.len(), p.len())?;
        }
        self.store_matrix(DMatrix::from_columns(patterns))
    }

    fn add(&mut self, pattern: &DVector<T>) -> Result<()> {
        self.add_vector(pattern.as_slice())
    }

    fn recall(&self, cue: &DVector<T>) -> Result<ModernRecall<T>> {
        self.recall_vector(cue)
    }

    fn energy(&self, state: &DVector<T>) -> Result<T> {
        ModernHopfield::energy(self, state.as_slice())
    }
}

impl<T: Real> Persist for ModernHopfield<T> {
    const KIND: &'static str = "rnn-hopfield/modern";

    fn scalar_name() -> &'static str {
        T::NAME
    }

    fn validate(&self) -> Result<()> {
        check_patterns(&self.patterns)?;
        let (d, p) = self.patterns.shape();
        rnn_core::error::check_dim("pattern entries", d * p, self.patterns.as_slice().len())?;
        check_beta(self.beta)?;
        self.dynamics.validate()
    }
}
