//! The discrete Hopfield network: n bipolar neurons, symmetric weights, thresholds.

use nalgebra::DMatrix;
use rayon::prelude::*;
use rnn_core::linalg::{Op, gemm};
use rnn_core::{Error, Persist, Real, Result, rng};
use serde::{Deserialize, Serialize};

use crate::energy::energy_from_fields;
use crate::recall::{Nearest, Recall, classify, classify_with};
use crate::rules::{Rule, hebbian, pattern_matrix, storkey};
use crate::update::{
    Dynamics, PAR_WORK, Run, Update, compute_fields, run_asynchronous, run_synchronous, states_matrix, step_synchronous,
};
use crate::{AssociativeMemory, Pattern};

/// A discrete Hopfield network (Hopfield 1982): n neurons with states sᵢ = ±1, a symmetric
/// weight matrix W (zero diagonal, except for the pseudo-inverse rule with its diagonal kept),
/// thresholds θ (default 0) and the stored patterns.
///
/// The weights are in the scalar `T` (`f32` for speed, `f64` for tests); states are
/// [`Pattern`]s of `i8` (see the [`pattern`](crate::pattern) module for why).
///
/// ```
/// use rnn_hopfield::{Dynamics, Hopfield, Pattern, Rule, StateKind};
/// let mut rng = rnn_core::rng::seeded(1);
/// let patterns: Vec<Pattern> = (0..5).map(|_| Pattern::random(100, &mut rng)).collect::<Result<_, _>>()?;
/// let net = Hopfield::<f32>::with_patterns(Rule::Storkey, &patterns)?;
/// for p in &patterns {
///     assert!(net.is_fixed_point(p)?);
/// }
/// let cue = patterns[3].flipped(15, &mut rng)?;
/// let r = net.recall(&cue)?;
/// assert!(r.converged() && r.is_pattern(3));
/// assert!(r.energy.windows(2).all(|e| e[1] <= e[0]));
/// # Ok::<(), rnn_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "T: Real", deserialize = "T: Real"))]
pub struct Hopfield<T: Real> {
    rule: Rule,
    weights: DMatrix<T>,
    thresholds: Vec<T>,
    patterns: Vec<Pattern>,
    dynamics: Dynamics,
    tie_tolerance: T,
}

impl<T: Real> Hopfield<T> {
    /// An empty network of `n` neurons (W = 0, θ = 0) that stores patterns with `rule`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `n` is 0.
    pub fn new(n: usize, rule: Rule) -> Result<Self> {
        if n == 0 {
            return Err(Error::config("number of neurons n", "at least 1", n));
        }
        Ok(Hopfield {
            rule,
            weights: DMatrix::zeros(n, n),
            thresholds: vec![T::zero(); n],
            patterns: Vec::new(),
            dynamics: Dynamics::default(),
            tie_tolerance: T::zero(),
        })
    }

    /// A network storing `patterns` with `rule`; n is the patterns' length.
    ///
    /// # Errors
    /// As [`store`](Self::store); [`Error::Empty`] for no patterns.
    pub fn with_patterns(rule: Rule, patterns: &[Pattern]) -> Result<Self> {
        let first = patterns.first().ok_or_else(|| Error::empty("pattern set", 1))?;
        let mut net = Hopfield::new(first.len(), rule)?;
        net.store(patterns)?;
        Ok(net)
    }

    /// The same network with other default dynamics (used by [`recall`](Self::recall)).
    ///
    /// # Errors
    /// As [`Dynamics::validate`].
    pub fn with_dynamics(mut self, dynamics: Dynamics) -> Result<Self> {
        self.set_dynamics(dynamics)?;
        Ok(self)
    }

    /// Sets the default dynamics used by [`recall`](Self::recall).
    ///
    /// # Errors
    /// As [`Dynamics::validate`]; the network is unchanged on error.
    pub fn set_dynamics(&mut self, dynamics: Dynamics) -> Result<()> {
        dynamics.validate()?;
        self.dynamics = dynamics;
        Ok(())
    }

    /// Replaces the stored patterns (and the weights) by `patterns`.
    ///
    /// # Errors
    /// [`Error::Empty`] for no patterns; [`Error::DimensionMismatch`] naming the first pattern
    /// whose length is not n; for [`Rule::PseudoInverse`], [`Error::InvalidConfig`] for more
    /// than n patterns or for a pattern that is a linear combination of the ones before it.
    /// The network is unchanged on error.
    pub fn store(&mut self, patterns: &[Pattern]) -> Result<()> {
        crate::pattern::check_set(patterns, self.size())?;
        let weights = self.rule.weights::<T>(patterns, self.size())?;
        self.weights = weights;
        self.patterns = patterns.to_vec();
        self.update_tie_tolerance();
        Ok(())
    }

    /// Stores one more pattern. Hebbian and Storkey networks update their weights in place
    /// (O(n²), no rebuild); a pseudo-inverse network recomputes its projection from all its
    /// patterns.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the pattern's length is not n; for the pseudo-inverse
    /// rule, the errors of [`store`](Self::store). The network is unchanged on error.
    pub fn add(&mut self, pattern: &Pattern) -> Result<()> {
        rnn_core::error::check_dim("pattern length", self.size(), pattern.len())?;
        match self.rule {
            Rule::Hebbian => hebbian::add(&mut self.weights, pattern),
            Rule::Storkey => storkey::add(&mut self.weights, pattern),
            Rule::PseudoInverse { .. } => {
                let mut all = self.patterns.clone();
                all.push(pattern.clone());
                self.weights = self.rule.weights::<T>(&all, self.size())?;
            }
        }
        self.patterns.push(pattern.clone());
        self.update_tie_tolerance();
        Ok(())
    }

    /// Sets the thresholds θ (one per neuron).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if there are not n; [`Error::NonFinite`] for NaN or
    /// infinity.
    pub fn set_thresholds(&mut self, thresholds: &[T]) -> Result<()> {
        rnn_core::error::check_dim("number of thresholds", self.size(), thresholds.len())?;
        rnn_core::error::check_finite("thresholds", thresholds)?;
        self.thresholds = thresholds.to_vec();
        self.update_tie_tolerance();
        Ok(())
    }

    /// The thresholds θᵢ = −Σⱼ wᵢⱼ under which this ±1 network updates exactly like Hopfield's
    /// (1982) network of 0/1 neurons Vᵢ = (sᵢ + 1)/2 with zero thresholds (Vᵢ ← 1 if
    /// Σⱼ wᵢⱼVⱼ > 0, else 0): Σⱼ wᵢⱼVⱼ = ½(hᵢ + Σⱼ wᵢⱼ), so Vᵢ turns on exactly when
    /// hᵢ − θᵢ > 0. In that form the signal-to-noise ratio is √2 smaller (Hopfield's P = 0.0091
    /// unstable bits at N = 100 with 10 memories, against ≈ 0.0004 in the ±1 form), and
    /// complements are not stored. Recompute them after storing more patterns.
    ///
    /// ```
    /// use rnn_hopfield::{Hopfield, Pattern, Rule};
    /// let ps = [Pattern::binary(&[1, 1, 0, 0])?, Pattern::binary(&[1, 0, 1, 0])?];
    /// let mut net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps)?;
    /// net.set_thresholds(&net.binary_thresholds())?;
    /// assert_eq!(net.thresholds(), &[0.5; 4]);
    /// # Ok::<(), rnn_core::Error>(())
    /// ```
    pub fn binary_thresholds(&self) -> Vec<T> {
        let n = self.size();
        let ones = DMatrix::<T>::from_element(n, 1, T::one());
        let mut sums = DMatrix::<T>::zeros(n, 1);
        gemm(T::zero(), &mut sums.as_view_mut(), -T::one(), &self.weights.as_view(), Op::N, &ones.as_view(), Op::N);
        sums.data.into()
    }

    /// Number of neurons n.
    pub fn size(&self) -> usize {
        self.weights.nrows()
    }

    /// Number of stored patterns p.
    pub fn num_patterns(&self) -> usize {
        self.patterns.len()
    }

    /// The load α = p / n.
    pub fn alpha(&self) -> f64 {
        self.num_patterns() as f64 / self.size() as f64
    }

    /// The storage rule.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The weights W (n × n, symmetric).
    pub fn weights(&self) -> &DMatrix<T> {
        &self.weights
    }

    /// The thresholds θ.
    pub fn thresholds(&self) -> &[T] {
        &self.thresholds
    }

    /// The stored patterns, in the order they were stored.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// The default dynamics of [`recall`](Self::recall).
    pub fn dynamics(&self) -> Dynamics {
        self.dynamics
    }

    /// The tie tolerance τ of the update rule (see the [`update`](crate::update) module).
    pub fn tie_tolerance(&self) -> T {
        self.tie_tolerance
    }

    /// The local fields h = W s.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the state's length is not n.
    pub fn local_fields(&self, state: &Pattern) -> Result<Vec<T>> {
        rnn_core::error::check_dim("state length", self.size(), state.len())?;
        let s = states_matrix::<T>(&[state.as_slice()], self.size());
        let mut h = DMatrix::<T>::zeros(self.size(), 1);
        compute_fields(&self.weights, &s, &mut h);
        Ok(h.data.into())
    }

    /// The energy E(s) = −½ sᵀWs + θᵀs.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the state's length is not n.
    pub fn energy(&self, state: &Pattern) -> Result<T> {
        let h = self.local_fields(state)?;
        Ok(energy_from_fields(state.as_slice(), &h, &self.thresholds))
    }

    /// Whether no neuron would change in `state`: sign(hᵢ − θᵢ) = sᵢ or a tie, for every i.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the state's length is not n.
    pub fn is_fixed_point(&self, state: &Pattern) -> Result<bool> {
        Ok(self.fixed_points(std::slice::from_ref(state))?.first().copied().unwrap_or(false))
    }

    /// [`is_fixed_point`](Self::is_fixed_point) for many states at once: one matrix product.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] naming the first state whose length is not n.
    pub fn fixed_points(&self, states: &[Pattern]) -> Result<Vec<bool>> {
        let cues = self.check_cues(states)?;
        let n = self.size();
        let mut s = states_matrix::<T>(&cues, n);
        let mut h = DMatrix::<T>::zeros(n, states.len());
        step_synchronous(&self.weights, &self.thresholds, self.tie_tolerance, &mut s, &mut h);
        Ok(cues
            .iter()
            .zip(s.as_slice().chunks(n))
            .map(|(cue, col)| cue.iter().zip(col).all(|(&a, &b)| (a > 0) == (b > T::zero())))
            .collect())
    }

    /// The stored pattern nearest to `state` (counting complements) and what the state is
    /// (stored, complement, mixture or spurious); `None` if no pattern is stored.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the state's length is not n.
    pub fn nearest(&self, state: &Pattern) -> Result<Option<Nearest>> {
        rnn_core::error::check_dim("state length", self.size(), state.len())?;
        Ok(classify(state.as_slice(), &self.patterns))
    }

    /// Recalls from `cue` with the network's default [`Dynamics`].
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the cue's length is not n.
    pub fn recall(&self, cue: &Pattern) -> Result<Recall<T>> {
        self.recall_with(cue, &self.dynamics)
    }

    /// Recalls from `cue` with the given dynamics: runs until a stable state, a 2-cycle
    /// (synchronous) or the sweep limit, and reports the final state, how the run ended, the
    /// sweeps, the energy after each sweep and the nearest stored pattern. Asynchronous random
    /// orders draw from [`rnn_core::rng::derive`]`(dynamics.seed, 0)`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the cue's length is not n; [`Error::InvalidConfig`] for
    /// invalid dynamics.
    pub fn recall_with(&self, cue: &Pattern, dynamics: &Dynamics) -> Result<Recall<T>> {
        let mut out = self.recall_batch(std::slice::from_ref(cue), dynamics)?;
        out.pop().ok_or_else(|| Error::empty("recall result", 1))
    }

    /// Recalls from many cues. Synchronous dynamics step the whole batch with one matrix product
    /// W·S per step; asynchronous dynamics compute every cue's initial fields with one matrix
    /// product and then run the cues in parallel (rayon), cue k drawing its sweep orders from
    /// [`rnn_core::rng::derive`]`(dynamics.seed, k)`. The result is the same on any number of
    /// threads.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] naming the first cue whose length is not n;
    /// [`Error::InvalidConfig`] for invalid dynamics.
    pub fn recall_batch(&self, cues: &[Pattern], dynamics: &Dynamics) -> Result<Vec<Recall<T>>> {
        dynamics.validate()?;
        let states = self.check_cues(cues)?;
        let n = self.size();
        // A single cue or a small batch runs on the calling thread: a rayon round-trip costs more
        // than its whole recall. Each cue's work and random stream are its own either way.
        let sequential = cues.len() <= 1 || cues.len().saturating_mul(n.saturating_mul(n)) < PAR_WORK;
        let runs: Vec<Run<T>> = match dynamics.update {
            Update::Synchronous => {
                run_synchronous(&self.weights, &self.thresholds, self.tie_tolerance, &states, dynamics.max_sweeps)
            }
            Update::Asynchronous(order) => {
                let s = states_matrix::<T>(&states, n);
                let mut h = DMatrix::<T>::zeros(n, cues.len());
                compute_fields(&self.weights, &s, &mut h);
                drop(s);
                let run = |(k, (h, cue)): (usize, (&mut [T], &&[i8]))| {
                    let mut rng = rng::derive(dynamics.seed, k as u64);
                    let (theta, tau) = (&self.thresholds, self.tie_tolerance);
                    run_asynchronous(&self.weights, theta, tau, cue.to_vec(), h, order, dynamics.max_sweeps, &mut rng)
                };
                if sequential {
                    h.as_mut_slice().chunks_mut(n).zip(states.iter()).enumerate().map(run).collect()
                } else {
                    h.as_mut_slice().par_chunks_mut(n).zip(states.par_iter()).enumerate().map(run).collect()
                }
            }
        };
        // Overlaps of every final state with every stored pattern: for a batch one product Ξᵀ·S,
        // for a few states byte compares (cheaper than converting Ξ).
        let p = self.patterns.len();
        let overlaps = if runs.len() >= 16 {
            let finals: Vec<&[i8]> = runs.iter().map(|r| r.state.as_slice()).collect();
            self.overlaps(&finals)
        } else {
            Vec::new()
        };
        let finish = |(k, run): (usize, Run<T>)| {
            let nearest = match overlaps.get(k * p..(k + 1) * p) {
                Some(o) if p > 0 => classify_with(&run.state, &self.patterns, o),
                _ => classify(&run.state, &self.patterns),
            };
            Recall {
                state: Pattern::from_states_unchecked(run.state),
                outcome: run.outcome,
                sweeps: run.sweeps,
                flips: run.flips,
                energy: run.energy,
                nearest,
            }
        };
        Ok(if sequential {
            runs.into_iter().enumerate().map(finish).collect()
        } else {
            runs.into_par_iter().enumerate().map(finish).collect()
        })
    }

    /// One synchronous step for a batch held as an n × B matrix of ±1 states: `fields` ← W·S
    /// (one matrix product), then S ← sign(fields − θ) with ties keeping the state. Returns the
    /// number of states that changed. Allocates nothing.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_hopfield::{Hopfield, Pattern, Rule};
    /// let p = Pattern::bipolar(&[1, -1, 1, -1, 1, -1])?;
    /// let net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &[p])?;
    /// let mut s = DMatrix::from_column_slice(6, 2, &[1.0, -1.0, 1.0, -1.0, 1.0, 1.0, /**/ -1.0, 1.0, -1.0, 1.0, -1.0, 1.0]);
    /// let mut h = DMatrix::zeros(6, 2);
    /// assert_eq!(net.synchronous_step(&mut s, &mut h)?, 1);
    /// assert_eq!(s.column(0).as_slice(), &[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]);
    /// # Ok::<(), rnn_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `states` does not have n rows or `fields` is not the
    /// same shape; [`Error::InvalidConfig`] for a state that is not ±1.
    pub fn synchronous_step(&self, states: &mut DMatrix<T>, fields: &mut DMatrix<T>) -> Result<usize> {
        let n = self.size();
        rnn_core::error::check_dim("state rows", n, states.nrows())?;
        rnn_core::error::check_dim("field rows", n, fields.nrows())?;
        rnn_core::error::check_dim("field columns", states.ncols(), fields.ncols())?;
        let (one, values) = (T::one(), states.as_slice());
        // A branch-free scan (it vectorises); the position only on error.
        if values.iter().fold(false, |bad, &x| bad | ((x != one) & (x != -one))) {
            let i = values.iter().position(|&x| x != one && x != -one).unwrap_or(0);
            return Err(Error::config(format!("state at (row {}, column {})", i % n, i / n), "−1 or +1", values[i]));
        }
        Ok(step_synchronous(&self.weights, &self.thresholds, self.tie_tolerance, states, fields))
    }

    /// ξ^μ·s for every stored pattern μ and state s, column-major p × B, by one matrix product
    /// (exact: sums of ±1 are integers, exactly represented up to 2²⁴).
    fn overlaps(&self, states: &[&[i8]]) -> Vec<i64> {
        let (n, p) = (self.size(), self.patterns.len());
        if p == 0 || states.is_empty() {
            return Vec::new();
        }
        let xi = pattern_matrix::<T>(&self.patterns, n);
        let s = states_matrix::<T>(states, n);
        let mut o = DMatrix::<T>::zeros(p, states.len());
        gemm(T::zero(), &mut o.as_view_mut(), T::one(), &xi.as_view(), Op::T, &s.as_view(), Op::N);
        o.iter().map(|v| v.as_f64().round() as i64).collect()
    }

    /// The cues as slices, each checked for length n.
    fn check_cues<'a>(&self, cues: &'a [Pattern]) -> Result<Vec<&'a [i8]>> {
        cues.iter()
            .enumerate()
            .map(|(k, c)| {
                rnn_core::error::check_dim(&format!("length of cue {k}"), self.size(), c.len())?;
                Ok(c.as_slice())
            })
            .collect()
    }

    /// τ = 4ε·(maxᵢ Σⱼ|wᵢⱼ| + max|θ|).
    fn update_tie_tolerance(&mut self) {
        self.tie_tolerance = tie_tolerance(&self.weights, &self.thresholds);
    }
}

fn tie_tolerance<T: Real>(w: &DMatrix<T>, theta: &[T]) -> T {
    let n = w.nrows().max(1);
    let row_sum = w.as_slice().par_chunks(n).map(crate::rules::abs_sum).reduce(T::zero, T::max);
    let theta_max = theta.iter().fold(T::zero(), |m, t| m.max(t.abs()));
    T::of_f64(4.0) * T::EPSILON * (row_sum + theta_max)
}

impl<T: Real> AssociativeMemory<T> for Hopfield<T> {
    type Pattern = Pattern;
    type Recall = Recall<T>;

    fn dim(&self) -> usize {
        self.size()
    }

    fn num_patterns(&self) -> usize {
        self.patterns.len()
    }

    fn store(&mut self, patterns: &[Pattern]) -> Result<()> {
        Hopfield::store(self, patterns)
    }

    fn add(&mut self, pattern: &Pattern) -> Result<()> {
        Hopfield::add(self, pattern)
    }

    fn recall(&self, cue: &Pattern) -> Result<Recall<T>> {
        Hopfield::recall(self, cue)
    }

    fn energy(&self, state: &Pattern) -> Result<T> {
        Hopfield::energy(self, state)
    }
}

impl<T: Real> Persist for Hopfield<T> {
    const KIND: &'static str = "rnn-hopfield/hopfield";

    fn scalar_name() -> &'static str {
        T::NAME
    }

    fn validate(&self) -> Result<()> {
        let n = self.weights.nrows();
        if n == 0 {
            return Err(Error::config("number of neurons n", "at least 1", n));
        }
        rnn_core::error::check_dim("weight columns", n, self.weights.ncols())?;
        rnn_core::error::check_dim("weight entries", n * n, self.weights.as_slice().len())?;
        rnn_core::error::check_dim("number of thresholds", n, self.thresholds.len())?;
        rnn_core::error::check_finite("weights", self.weights.as_slice())?;
        rnn_core::error::check_finite("thresholds", &self.thresholds)?;
        rnn_core::error::check_finite("tie tolerance", &[self.tie_tolerance])?;
        if self.tie_tolerance < T::zero() {
            return Err(Error::config("tie tolerance", "≥ 0", self.tie_tolerance));
        }
        for j in 0..n {
            for i in j..n {
                if self.weights[(i, j)] != self.weights[(j, i)] {
                    return Err(Error::config("weights", "a symmetric matrix", format!("w[{i},{j}] ≠ w[{j},{i}]")));
                }
            }
            if self.rule.zero_diagonal() && self.weights[(j, j)] != T::zero() {
                return Err(Error::config(
                    "weights",
                    "a zero diagonal",
                    format!("w[{j},{j}] = {}", self.weights[(j, j)]),
                ));
            }
        }
        for (k, p) in self.patterns.iter().enumerate() {
            p.validate(&format!("stored pattern {k}"))?;
            rnn_core::error::check_dim(&format!("length of stored pattern {k}"), n, p.len())?;
        }
        self.dynamics.validate()
    }
}
