//! The update dynamics of the discrete network and their kernels.
//!
//! Neuron i looks at its local field hᵢ = Σⱼ wᵢⱼsⱼ and threshold θᵢ:
//!
//! sᵢ ← +1 if hᵢ − θᵢ > τ,  −1 if hᵢ − θᵢ < −τ,  unchanged otherwise,
//!
//! where τ is a tie tolerance of a few rounding errors of the field (4ε·(maxᵢ Σⱼ|wᵢⱼ| + max|θ|),
//! ε the scalar's machine epsilon), so that an exact tie (common with Hebbian weights, whose
//! fields are multiples of 1/n) keeps the state whatever the summation order, and a flip always
//! lowers the energy by more than rounding.
//!
//! - [`Update::Asynchronous`]: one neuron at a time, a sweep visits every neuron once, in a new
//!   random order each sweep ([`Order::Random`]) or in index order ([`Order::Sequential`]). The
//!   local fields are computed once (one matrix-vector product, or one matrix product for a
//!   batch of cues) and then kept up to date: a flip of sᵢ adds 2sᵢ·W₍:,i₎ to h, n operations, so
//!   a sweep costs n + n·flips instead of n² per sweep. The energy never rises.
//! - [`Update::Synchronous`]: every neuron at once, S(t+1) = sign(W S(t) − θ); for a batch of
//!   cues one step is one matrix product W·S. With symmetric weights it ends in a fixed point
//!   or a 2-cycle S(t+1) = S(t−1) ≠ S(t), which is detected and reported.
//!
//! A run stops at a stable state (a sweep or step that changes nothing) or after
//! [`Dynamics::max_sweeps`].

use nalgebra::{DMatrix, DMatrixViewMut};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use rnn_core::linalg::{Op, Threads, gemm, gemm_with};
use rnn_core::{Error, Real, Result, rng::Rng};
use serde::{Deserialize, Serialize};

use crate::energy::{energy_from_fields, energy_from_real_fields};
use crate::recall::Outcome;

/// The order in which an asynchronous sweep visits the neurons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Order {
    /// A fresh random permutation every sweep, drawn from the recall's seed (Hopfield 1982's
    /// random asynchronous updates).
    #[default]
    Random,
    /// Neurons 0, 1, …, n − 1 in every sweep.
    Sequential,
}

/// Asynchronous or synchronous updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Update {
    /// One neuron at a time, every neuron once per sweep, in the given order.
    Asynchronous(Order),
    /// Every neuron at once (one matrix product per step for a batch of cues).
    Synchronous,
}

impl Default for Update {
    fn default() -> Self {
        Update::Asynchronous(Order::Random)
    }
}

/// How a recall runs: the update, the sweep limit and the seed of random orders.
///
/// ```
/// use rnn_hopfield::{Dynamics, Order, Update};
/// let d = Dynamics::default();
/// assert_eq!(d.update, Update::Asynchronous(Order::Random));
/// let sync = Dynamics::synchronous().max_sweeps(20);
/// assert_eq!((sync.update, sync.max_sweeps), (Update::Synchronous, 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dynamics {
    /// Asynchronous (default, random order) or synchronous.
    pub update: Update,
    /// The most sweeps (asynchronous) or steps (synchronous) a recall may take; at least 1.
    /// Default 100.
    pub max_sweeps: usize,
    /// Seed of the random sweep orders. Cue k of a batch draws from
    /// [`rnn_core::rng::derive`]`(seed, k)` (a single recall is cue 0), so results do not depend
    /// on the number of threads.
    pub seed: u64,
}

impl Default for Dynamics {
    fn default() -> Self {
        Dynamics { update: Update::default(), max_sweeps: 100, seed: 0 }
    }
}

impl Dynamics {
    /// Asynchronous updates in random order (the default).
    pub fn asynchronous() -> Self {
        Dynamics::default()
    }

    /// Asynchronous updates in index order.
    pub fn sequential() -> Self {
        Dynamics { update: Update::Asynchronous(Order::Sequential), ..Dynamics::default() }
    }

    /// Synchronous updates.
    pub fn synchronous() -> Self {
        Dynamics { update: Update::Synchronous, ..Dynamics::default() }
    }

    /// The same dynamics with another sweep limit.
    pub fn max_sweeps(self, max_sweeps: usize) -> Self {
        Dynamics { max_sweeps, ..self }
    }

    /// The same dynamics with another seed.
    pub fn seed(self, seed: u64) -> Self {
        Dynamics { seed, ..self }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `max_sweeps` is 0.
    pub fn validate(&self) -> Result<()> {
        if self.max_sweeps == 0 {
            return Err(Error::config("max_sweeps", "at least 1", self.max_sweeps));
        }
        Ok(())
    }
}

/// What one run of the dynamics produced (before the nearest pattern is looked up).
pub(crate) struct Run<T> {
    pub state: Vec<i8>,
    pub outcome: Outcome,
    pub sweeps: usize,
    pub flips: usize,
    pub energy: Vec<T>,
}

/// The new state of a neuron with field minus threshold `f`, tie tolerance `tau`, state `s`.
#[inline(always)]
fn decide<T: Real>(f: T, tau: T, s: i8) -> i8 {
    if f > tau {
        1
    } else if f < -tau {
        -1
    } else {
        s
    }
}

/// [`decide`] for a state ±1 held in `T`, written as selects so that a column vectorises.
#[inline(always)]
fn decide_real<T: Real>(f: T, tau: T, s: T) -> T {
    let up = if f > tau { T::one() } else { s };
    if f < -tau { -T::one() } else { up }
}

/// Asynchronous sweeps from state `s` with its local fields `h` = W s, both updated in place.
pub(crate) fn run_asynchronous<T: Real>(
    w: &DMatrix<T>,
    theta: &[T],
    tau: T,
    mut s: Vec<i8>,
    h: &mut [T],
    order: Order,
    max_sweeps: usize,
    rng: &mut Rng,
) -> Run<T> {
    let n = s.len();
    debug_assert!(h.len() == n && theta.len() == n && w.nrows() == n);
    let two = T::one() + T::one();
    let mut visit: Vec<usize> = (0..n).collect();
    let mut energy = Vec::with_capacity(8);
    energy.push(energy_from_fields(&s, h, theta));
    let mut flips = 0;
    let weights = w.as_slice();
    for sweep in 1..=max_sweeps {
        if order == Order::Random {
            visit.shuffle(rng);
        }
        let mut changed = 0;
        for &i in &visit {
            let new = decide(h[i] - theta[i], tau, s[i]);
            if new != s[i] {
                s[i] = new;
                changed += 1;
                // W is symmetric: row i is column i, contiguous in column-major storage.
                let d = if new > 0 { two } else { -two };
                for (hj, &wj) in h.iter_mut().zip(&weights[i * n..(i + 1) * n]) {
                    *hj += d * wj;
                }
            }
        }
        flips += changed;
        energy.push(energy_from_fields(&s, h, theta));
        if changed == 0 {
            return Run { state: s, outcome: Outcome::Stable, sweeps: sweep, flips, energy };
        }
    }
    Run { state: s, outcome: Outcome::SweepLimit, sweeps: max_sweeps, flips, energy }
}

/// Rows per block of [`compute_fields`]' matrix-vector product.
const FIELD_BLOCK: usize = 256;

/// The local fields H ← W·S. One product for a batch; for a single state (a matrix-vector
/// product, bound by reading W from memory) the rows in fixed blocks of [`FIELD_BLOCK`] on every
/// rayon thread, since one core cannot stream W at the full memory bandwidth. The blocks do not
/// depend on the thread count, nor does the result.
pub(crate) fn compute_fields<T: Real>(w: &DMatrix<T>, s: &DMatrix<T>, h: &mut DMatrix<T>) {
    let n = w.nrows();
    if s.ncols() != 1 || n < 4 * FIELD_BLOCK {
        gemm(T::zero(), &mut h.as_view_mut(), T::one(), &w.as_view(), Op::N, &s.as_view(), Op::N);
        return;
    }
    h.as_mut_slice().par_chunks_mut(FIELD_BLOCK).enumerate().for_each(|(k, block)| {
        let rows = block.len();
        let mut out = DMatrixViewMut::from_slice(block, rows, 1);
        let w_rows = w.rows(k * FIELD_BLOCK, rows);
        gemm_with(Threads::Serial, T::zero(), &mut out, T::one(), &w_rows, Op::N, &s.as_view(), Op::N);
    });
}

/// Elements of work (states × neurons, or cues × weights) below which a batch runs on the
/// calling thread: a rayon round-trip from outside the pool costs tens to hundreds of µs, more
/// than a small batch's whole sweep.
pub(crate) const PAR_WORK: usize = 1 << 16;

/// One column of a synchronous sweep: returns E(S(t)) from `s` = S(t) and its fields `h`, and
/// writes S(t + 1) over `next` = S(t − 1), counting the states that changed from S(t) and whether
/// S(t + 1) equals S(t − 1).
fn synchronous_column<T: Real>(s: &[T], next: &mut [T], h: &[T], theta: &[T], tau: T) -> (T, usize, bool) {
    let e = energy_from_real_fields(s, h, theta);
    let (mut changed, mut differs_from_before) = (0usize, 0usize);
    for i in 0..s.len() {
        let new = decide_real(h[i] - theta[i], tau, s[i]);
        changed += usize::from(new != s[i]);
        differs_from_before += usize::from(new != next[i]);
        next[i] = new;
    }
    (e, changed, differs_from_before == 0)
}

/// The cues as the columns of an n × B matrix of ±1 in `T`.
pub(crate) fn states_matrix<T: Real>(cues: &[&[i8]], n: usize) -> DMatrix<T> {
    let mut m = DMatrix::<T>::zeros(n, cues.len());
    if n > 0 {
        for (col, cue) in m.as_mut_slice().chunks_mut(n).zip(cues) {
            for (x, &s) in col.iter_mut().zip(cue.iter()) {
                *x = if s > 0 { T::one() } else { -T::one() };
            }
        }
    }
    m
}

/// Synchronous runs of a batch of cues: one matrix product W·S per step over the cues still
/// running. Finished cues leave the batch, so later steps multiply fewer columns.
pub(crate) fn run_synchronous<T: Real>(
    w: &DMatrix<T>,
    theta: &[T],
    tau: T,
    cues: &[&[i8]],
    max_sweeps: usize,
) -> Vec<Run<T>> {
    let n = w.nrows();
    let b = cues.len();
    let mut cur = states_matrix::<T>(cues, n); // S(t)
    let mut prev = DMatrix::<T>::zeros(n, b); // S(t − 1), then S(t + 1)
    let mut fields = DMatrix::<T>::zeros(n, b);
    let mut active: Vec<usize> = (0..b).collect();
    let mut traces: Vec<Vec<T>> = vec![Vec::new(); b];
    let mut flips = vec![0usize; b];
    let mut done: Vec<Option<Run<T>>> = (0..b).map(|_| None).collect();
    // Per-sweep buffers, reused across sweeps.
    let mut stats: Vec<(T, usize, bool)> = Vec::with_capacity(b);
    let mut keep: Vec<usize> = Vec::with_capacity(b);
    let to_states = |col: &[T]| -> Vec<i8> { col.iter().map(|&x| if x > T::zero() { 1 } else { -1 }).collect() };
    for t in 0..max_sweeps {
        let k = active.len();
        if k == 0 {
            break;
        }
        gemm(T::zero(), &mut fields.columns_mut(0, k), T::one(), &w.as_view(), Op::N, &cur.columns(0, k), Op::N);
        // Per column: E(S(t)), then S(t + 1) written over S(t − 1) while comparing with both.
        // The columns are independent, so the sequential and parallel paths agree bit for bit.
        let columns = (&cur.as_slice()[..k * n], &mut prev.as_mut_slice()[..k * n], &fields.as_slice()[..k * n]);
        stats.clear();
        if k * n < PAR_WORK {
            stats.extend(
                columns
                    .0
                    .chunks(n)
                    .zip(columns.1.chunks_mut(n))
                    .zip(columns.2.chunks(n))
                    .map(|((s, next), h)| synchronous_column(s, next, h, theta, tau)),
            );
        } else {
            stats.par_extend(
                columns
                    .0
                    .par_chunks(n)
                    .zip(columns.1.par_chunks_mut(n))
                    .zip(columns.2.par_chunks(n))
                    .map(|((s, next), h)| synchronous_column(s, next, h, theta, tau)),
            );
        }
        std::mem::swap(&mut cur, &mut prev); // cur = S(t + 1), prev = S(t)
        keep.clear();
        for (c, &(e, changed, same_as_before)) in stats.iter().enumerate() {
            let cue = active[c];
            traces[cue].push(e);
            flips[cue] += changed;
            let outcome = if changed == 0 {
                traces[cue].push(e);
                Some(Outcome::Stable)
            } else if t >= 1 && same_as_before {
                let e_before = traces[cue][t - 1];
                traces[cue].push(e_before);
                Some(Outcome::TwoCycle)
            } else {
                None
            };
            match outcome {
                Some(outcome) => {
                    done[cue] = Some(Run {
                        state: to_states(&cur.as_slice()[c * n..(c + 1) * n]),
                        outcome,
                        sweeps: t + 1,
                        flips: flips[cue],
                        energy: std::mem::take(&mut traces[cue]),
                    });
                }
                None => keep.push(c),
            }
        }
        // Move the running columns to the front.
        for (q, &c) in keep.iter().enumerate() {
            if q != c {
                cur.as_mut_slice().copy_within(c * n..(c + 1) * n, q * n);
                prev.as_mut_slice().copy_within(c * n..(c + 1) * n, q * n);
            }
        }
        // keep is increasing with keep[q] ≥ q, so the move in place reads before it overwrites.
        for (q, &c) in keep.iter().enumerate() {
            active[q] = active[c];
        }
        active.truncate(keep.len());
    }
    // Cues that hit the sweep limit: the energy of their last state needs one more product.
    let k = active.len();
    if k > 0 {
        gemm(T::zero(), &mut fields.columns_mut(0, k), T::one(), &w.as_view(), Op::N, &cur.columns(0, k), Op::N);
        for (c, &cue) in active.iter().enumerate() {
            let (s, h) = (&cur.as_slice()[c * n..(c + 1) * n], &fields.as_slice()[c * n..(c + 1) * n]);
            traces[cue].push(energy_from_real_fields(s, h, theta));
            done[cue] = Some(Run {
                state: to_states(s),
                outcome: Outcome::SweepLimit,
                sweeps: max_sweeps,
                flips: flips[cue],
                energy: std::mem::take(&mut traces[cue]),
            });
        }
    }
    done.into_iter()
        .map(|r| {
            r.unwrap_or(Run {
                state: Vec::new(),
                outcome: Outcome::SweepLimit,
                sweeps: 0,
                flips: 0,
                energy: Vec::new(),
            })
        })
        .collect()
}

/// One synchronous step of a batch in place: `fields` ← W·`states` (one matrix product), then
/// every state takes the sign of its field minus threshold (ties keep the state). Returns the
/// number of states that changed.
pub(crate) fn step_synchronous<T: Real>(
    w: &DMatrix<T>,
    theta: &[T],
    tau: T,
    states: &mut DMatrix<T>,
    fields: &mut DMatrix<T>,
) -> usize {
    let n = w.nrows();
    compute_fields(w, states, fields);
    if n == 0 {
        return 0;
    }
    let step = |(s, h): (&mut [T], &[T])| {
        let mut changed = 0;
        for i in 0..n {
            let new = decide_real(h[i] - theta[i], tau, s[i]);
            changed += usize::from(new != s[i]);
            s[i] = new;
        }
        changed
    };
    // The columns are independent: in parallel only when there is enough work to pay for it.
    if states.len() < PAR_WORK {
        states.as_mut_slice().chunks_mut(n).zip(fields.as_slice().chunks(n)).map(step).sum()
    } else {
        states.as_mut_slice().par_chunks_mut(n).zip(fields.as_slice().par_chunks(n)).map(step).sum()
    }
}
