//! The adding and multiplication problems (Hochreiter & Schmidhuber 1997, Experiments 4 and 5).
//!
//! Each step is a pair (value, marker): input row 0 is the value, row 1 the marker. For a
//! minimal length T:
//!
//! - the length L is uniform in [T, T + ⌊T/10⌋];
//! - values are uniform in [−1, 1] (adding) or [0, 1] (multiplication);
//! - exactly two pairs are marked with 1: the first at a position p₁ uniform among the first
//!   10 pairs, the second at a position p₂ uniform among the first ⌊T/2⌋ − 1 pairs that are
//!   still unmarked;
//! - every other marker is 0, except those of the first and the final pair, which are −1; if
//!   the first pair is marked it keeps the marker 1, and its value X₁ is set to 0 (adding) or 1
//!   (multiplication);
//! - the target, present only at the last step, is with X₁, X₂ the values of the marked pairs
//!
//!   adding: d = 0.5 + (X₁ + X₂) / 4.0 ∈ [0, 1],   multiplication: d = X₁ · X₂ ∈ [0, 1].
//!
//! A sequence counts as processed correctly when the absolute error at the end is below 0.04
//! ([`ADDING_TOLERANCE`], [`MULTIPLICATION_TOLERANCE`]). The values between the marks are
//! distractors, and the net must keep a running sum (or product) over at least about T/2 steps
//! (Table 7's "minimal lag", 50 at T = 100) while its state, driven by biased units, drifts.
//!
//! Hochreiter & Schmidhuber, "Long short-term memory", *Neural Computation* 9(8), 1735–1780
//! (1997), Section 5.4 (adding, Table 7: T = 100, 500, 1000) and Section 5.5 (multiplication,
//! Table 8: T = 100).

use std::ops::RangeInclusive;

use rand::RngExt;
use rnn_core::{Error, MaskedSequence, Real, Result, Sequence, rng::Rng};

use super::filled;

/// Absolute error below which an adding-problem sequence counts as processed correctly, 0.04
/// (Hochreiter & Schmidhuber 1997, Experiment 4: "processed correctly" if |error| < 0.04 at the
/// sequence end; [`adding_correct`]).
pub const ADDING_TOLERANCE: f64 = 0.04;

/// Absolute error above which a multiplication-problem sequence counts as wrong, 0.04
/// (Hochreiter & Schmidhuber 1997, Experiment 5, where training stops once fewer than n_seq of
/// the last 2000 sequences have an error above 0.04; [`multiplication_correct`]).
pub const MULTIPLICATION_TOLERANCE: f64 = 0.04;

/// The least minimal length T the generators accept, 11: the first marked pair lies among the
/// first 10 pairs, which must all come before the final pair (marker −1) of a sequence of at
/// least T pairs.
pub const MARKED_PAIRS_MIN_T: usize = 11;

/// Which of the two tasks.
#[derive(Debug, Clone, Copy)]
enum Task {
    Adding,
    Multiplication,
}

impl Task {
    fn name(self) -> &'static str {
        match self {
            Task::Adding => "adding problem",
            Task::Multiplication => "multiplication problem",
        }
    }

    fn values(self) -> RangeInclusive<f64> {
        match self {
            Task::Adding => -1.0..=1.0,
            Task::Multiplication => 0.0..=1.0,
        }
    }

    /// The value a marked first pair gets.
    fn first_value(self) -> f64 {
        match self {
            Task::Adding => 0.0,
            Task::Multiplication => 1.0,
        }
    }

    fn target(self, x1: f64, x2: f64) -> f64 {
        match self {
            Task::Adding => 0.5 + (x1 + x2) / 4.0,
            Task::Multiplication => x1 * x2,
        }
    }
}

/// One adding-problem sequence of minimal length `t` (Hochreiter & Schmidhuber 1997,
/// Experiment 4), drawn from `rng`: inputs `2 × L` (row 0 values uniform in [−1, 1], row 1
/// markers in {−1, 0, 1}), target `1 × L` present only at the last step,
///
/// d = 0.5 + (X₁ + X₂) / 4.0 ∈ [0, 1],
///
/// with X₁, X₂ the values of the two pairs marked 1. The length L is uniform in
/// [T, T + ⌊T/10⌋]; one marked pair p₁ is uniform among the first 10 pairs, the other, p₂,
/// uniform among the first ⌊T/2⌋ − 1 pairs other than p₁; the first and the final pair have
/// marker −1 unless marked, every other pair 0. If the first pair is marked, it keeps marker 1
/// and its value is set to 0. The answer lags the second mark by at least about T/2 steps. A
/// sequence is processed correctly when |error| < [`ADDING_TOLERANCE`] = 0.04
/// ([`adding_correct`]).
///
/// Draws, in this order: L; the L values; p₁; p₂ (as an index into the ⌊T/2⌋ − 2 or ⌊T/2⌋ − 1
/// candidates).
///
/// ```
/// use rnn_data::generators::{ADDING_TOLERANCE, adding_problem};
/// let mut rng = rnn_core::rng::seeded(1);
/// let task = adding_problem::<f64>(100, &mut rng).unwrap();
/// let (x, len) = (task.inputs(), task.len());
/// assert!((100..=110).contains(&len));
/// assert_eq!((task.present_count(), task.is_present(0, len - 1)), (1, true));
/// let marked: Vec<usize> = (0..len).filter(|&t| x[(1, t)] == 1.0).collect();
/// assert_eq!(marked.len(), 2);
/// let sum: f64 = marked.iter().map(|&t| x[(0, t)]).sum();
/// assert_eq!(task.targets()[(0, len - 1)], 0.5 + sum / 4.0);
/// assert!(adding_problem::<f64>(10, &mut rng).is_err()); // T below 11
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for `t` < [`MARKED_PAIRS_MIN_T`] or `t + ⌊t/10⌋` past `usize`
/// (nothing is drawn then); [`Error::Allocation`] when the matrices cannot be allocated.
pub fn adding_problem<T: Real>(t: usize, rng: &mut Rng) -> Result<MaskedSequence<T>> {
    marked_pairs(Task::Adding, t, rng)
}

/// One multiplication-problem sequence of minimal length `t` (Hochreiter & Schmidhuber 1997,
/// Experiment 5), drawn from `rng`: as [`adding_problem`] (same draws in the same order), but
/// values uniform in [0, 1], a marked first pair has value 1, and the target is d = X₁ · X₂.
///
/// ```
/// use rnn_data::generators::multiplication_problem;
/// let mut rng = rnn_core::rng::seeded(2);
/// let task = multiplication_problem::<f64>(100, &mut rng).unwrap();
/// let (x, len) = (task.inputs(), task.len());
/// let product: f64 = (0..len).filter(|&t| x[(1, t)] == 1.0).map(|t| x[(0, t)]).product();
/// assert_eq!(task.targets()[(0, len - 1)], product);
/// assert!((0..len).all(|t| (0.0..=1.0).contains(&x[(0, t)])));
/// ```
///
/// # Errors
/// As [`adding_problem`].
pub fn multiplication_problem<T: Real>(t: usize, rng: &mut Rng) -> Result<MaskedSequence<T>> {
    marked_pairs(Task::Multiplication, t, rng)
}

/// `n` adding-problem sequences of minimal length `t`, drawn one after another by
/// [`adding_problem`] from a generator seeded with `seed` (e.g. the 2560 test sequences of
/// Hochreiter & Schmidhuber 1997, Experiment 4).
///
/// ```
/// use rnn_data::generators::adding_set;
/// let test = adding_set::<f32>(2560, 100, 7).unwrap();
/// assert_eq!(test.len(), 2560);
/// assert_eq!(test[..10], adding_set::<f32>(10, 100, 7).unwrap()[..]);
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for `n` = 0, and as [`adding_problem`].
pub fn adding_set<T: Real>(n: usize, t: usize, seed: u64) -> Result<Vec<MaskedSequence<T>>> {
    marked_pairs_set(Task::Adding, n, t, seed)
}

/// `n` multiplication-problem sequences of minimal length `t`, drawn one after another by
/// [`multiplication_problem`] from a generator seeded with `seed` (Hochreiter & Schmidhuber
/// 1997, Experiment 5).
///
/// ```
/// use rnn_data::generators::multiplication_set;
/// let set = multiplication_set::<f64>(20, 100, 3).unwrap();
/// assert!(set.iter().all(|s| (0.0..=1.0).contains(&s.targets()[(0, s.len() - 1)])));
/// ```
///
/// # Errors
/// As [`adding_set`].
pub fn multiplication_set<T: Real>(n: usize, t: usize, seed: u64) -> Result<Vec<MaskedSequence<T>>> {
    marked_pairs_set(Task::Multiplication, n, t, seed)
}

/// Whether an adding-problem output is correct: |`output` − `target`| < [`ADDING_TOLERANCE`]
/// = 0.04 (Hochreiter & Schmidhuber 1997, Experiment 4). NaN is never correct.
///
/// ```
/// use rnn_data::generators::adding_correct;
/// assert!(adding_correct(0.73, 0.75));
/// assert!(!adding_correct(0.70, 0.75));
/// assert!(!adding_correct(f64::NAN, 0.75));
/// ```
pub fn adding_correct<T: Real>(output: T, target: T) -> bool {
    (output.as_f64() - target.as_f64()).abs() < ADDING_TOLERANCE
}

/// Whether a multiplication-problem output is correct: |`output` − `target`| <
/// [`MULTIPLICATION_TOLERANCE`] = 0.04 (Hochreiter & Schmidhuber 1997, Experiment 5). NaN is
/// never correct.
///
/// ```
/// use rnn_data::generators::multiplication_correct;
/// assert!(multiplication_correct(0.21f32, 0.2));
/// assert!(!multiplication_correct(0.25f32, 0.2));
/// ```
pub fn multiplication_correct<T: Real>(output: T, target: T) -> bool {
    (output.as_f64() - target.as_f64()).abs() < MULTIPLICATION_TOLERANCE
}

/// The longest sequence for minimal length `t`, t + ⌊t/10⌋, after checking `t`.
fn check_t(task: Task, t: usize) -> Result<usize> {
    if t < MARKED_PAIRS_MIN_T {
        return Err(Error::config(
            format!("{} minimal length T", task.name()),
            format!("at least {MARKED_PAIRS_MIN_T} (the first 10 pairs must precede the final one)"),
            t,
        ));
    }
    t.checked_add(t / 10)
        .ok_or_else(|| Error::config(format!("{} minimal length T", task.name()), "T + T/10 within usize", t))
}

fn marked_pairs_set<T: Real>(task: Task, n: usize, t: usize, seed: u64) -> Result<Vec<MaskedSequence<T>>> {
    if n == 0 {
        return Err(Error::config(format!("number of {} sequences", task.name()), "at least 1", n));
    }
    check_t(task, t)?;
    let mut set = Vec::new();
    set.try_reserve_exact(n).map_err(|_| Error::Allocation {
        what: format!("{} sequences", task.name()),
        bytes: (n as u128) * (std::mem::size_of::<MaskedSequence<T>>() as u128),
    })?;
    let mut rng = rnn_core::rng::seeded(seed);
    for _ in 0..n {
        set.push(marked_pairs(task, t, &mut rng)?);
    }
    Ok(set)
}

fn marked_pairs<T: Real>(task: Task, t: usize, rng: &mut Rng) -> Result<MaskedSequence<T>> {
    let longest = check_t(task, t)?;
    let len = rng.random_range(t..=longest);
    let mut inputs = filled("marked-pair inputs", 2, len, T::zero())?;
    for step in 0..len {
        inputs[(0, step)] = T::of_f64(rng.random_range(task.values()));
    }
    // p₁ among the first 10 pairs, p₂ among the other first ⌊T/2⌋ − 1 (t ≥ 11: at least 4).
    let head = t / 2 - 1;
    let p1 = rng.random_range(0..10);
    let p2 = if p1 < head {
        let j = rng.random_range(0..head - 1);
        if j >= p1 { j + 1 } else { j }
    } else {
        rng.random_range(0..head)
    };
    inputs[(1, 0)] = -T::one();
    inputs[(1, len - 1)] = -T::one();
    for p in [p1, p2] {
        inputs[(1, p)] = T::one();
        if p == 0 {
            inputs[(0, 0)] = T::of_f64(task.first_value());
        }
    }
    let mut targets = filled("marked-pair targets", 1, len, T::zero())?;
    targets[(0, len - 1)] = T::of_f64(task.target(inputs[(0, p1)].as_f64(), inputs[(0, p2)].as_f64()));
    MaskedSequence::targets_from(Sequence::new(inputs, targets)?, len - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The marked positions, checking the markers: two 1s, −1 at both ends unless marked, 0
    /// elsewhere.
    fn marks(task: &MaskedSequence<f64>) -> Vec<usize> {
        let (x, len) = (task.inputs(), task.len());
        let marked: Vec<usize> = (0..len).filter(|&s| x[(1, s)] == 1.0).collect();
        assert_eq!(marked.len(), 2);
        for s in 0..len {
            let m = x[(1, s)];
            if !marked.contains(&s) {
                assert_eq!(m, if s == 0 || s == len - 1 { -1.0 } else { 0.0 }, "marker at {s}");
            }
        }
        marked
    }

    #[test]
    fn adding_sequences_follow_the_definition() {
        let mut rng = rnn_core::rng::seeded(3);
        let mut lengths = std::collections::BTreeSet::new();
        let (mut marked_first, mut positions) = (0, vec![0usize; 49]);
        for _ in 0..3000 {
            let task = adding_problem::<f64>(100, &mut rng).unwrap();
            let (x, d, len) = (task.inputs(), task.targets(), task.len());
            assert!((100..=110).contains(&len), "{len}");
            lengths.insert(len);
            assert_eq!((task.input_size(), task.target_size(), task.present_count()), (2, 1, 1));
            assert!(task.is_present(0, len - 1));
            assert!((0..len - 1).all(|s| d[(0, s)] == 0.0));
            assert!((0..len).all(|s| (-1.0..=1.0).contains(&x[(0, s)])));
            let m = marks(&task);
            // One mark among the first 10 pairs, the other among the first T/2 − 1 = 49.
            assert!(m.iter().all(|&p| p < 49), "{m:?}");
            assert!(m[0] < 10);
            for &p in &m {
                positions[p] += 1;
            }
            if m[0] == 0 {
                marked_first += 1;
                assert_eq!(x[(0, 0)], 0.0);
            }
            let expected = 0.5 + (x[(0, m[0])] + x[(0, m[1])]) / 4.0;
            assert_eq!(d[(0, len - 1)], expected);
            assert!((0.0..=1.0).contains(&expected));
        }
        assert_eq!(lengths.len(), 11); // every length in 100..=110 occurs
        // P(first pair marked) = 1/10 + 9/10 · 1/48 ≈ 0.119.
        assert!((270..450).contains(&marked_first), "{marked_first}");
        // Every position of the first 49 gets marked; the first 10 far more often.
        assert!(positions.iter().all(|&c| c > 0), "{positions:?}");
        assert!(positions[5] > 3 * positions[30], "{positions:?}");
    }

    #[test]
    fn the_draws_in_the_documented_order() {
        let t = 30;
        let mut rng = rnn_core::rng::seeded(12);
        let mut twin = rng.clone();
        for _ in 0..200 {
            let task = multiplication_problem::<f64>(t, &mut rng).unwrap();
            let len = twin.random_range(t..=t + 3);
            let values: Vec<f64> = (0..len).map(|_| twin.random_range(0.0..=1.0)).collect();
            let p1 = twin.random_range(0..10usize);
            let p2 = if p1 < 14 {
                let j = twin.random_range(0..13usize);
                if j >= p1 { j + 1 } else { j }
            } else {
                twin.random_range(0..14usize)
            };
            assert_ne!(p1, p2);
            assert_eq!(task.len(), len);
            let mut m = vec![p1, p2];
            m.sort();
            assert_eq!(marks(&task), m);
            let value = |p: usize| if p == 0 && m[0] == 0 { 1.0 } else { values[p] };
            for s in 1..len {
                assert_eq!(task.inputs()[(0, s)], values[s]);
            }
            assert_eq!(task.inputs()[(0, 0)], value(0));
            assert_eq!(task.targets()[(0, len - 1)], value(p1) * value(p2));
        }
    }

    #[test]
    fn multiplication_sequences_follow_the_definition() {
        let set = multiplication_set::<f64>(2000, 100, 5).unwrap();
        let mut marked_first = 0;
        for task in &set {
            let (x, len) = (task.inputs(), task.len());
            assert!((0..len).all(|s| (0.0..=1.0).contains(&x[(0, s)])));
            let m = marks(task);
            if m[0] == 0 {
                marked_first += 1;
                assert_eq!(x[(0, 0)], 1.0);
            }
            let d = task.targets()[(0, len - 1)];
            assert_eq!(d, x[(0, m[0])] * x[(0, m[1])]);
            assert!((0.0..=1.0).contains(&d));
        }
        assert!(marked_first > 150, "{marked_first}");
        let mean = set.iter().map(|s| s.targets()[(0, s.len() - 1)]).sum::<f64>() / 2000.0;
        // E[X₁X₂] ≈ 1/4 (a little more from the marked first pairs).
        assert!((0.22..0.32).contains(&mean), "{mean}");
    }

    #[test]
    fn f32_targets_agree_with_the_rounded_inputs() {
        for task in adding_set::<f32>(100, 500, 1).unwrap() {
            let (x, len) = (task.inputs(), task.len());
            assert!((500..=550).contains(&len));
            let m: Vec<usize> = (0..len).filter(|&s| x[(1, s)] == 1.0).collect();
            let expected = (0.5 + (f64::from(x[(0, m[0])]) + f64::from(x[(0, m[1])])) / 4.0) as f32;
            assert_eq!(task.targets()[(0, len - 1)], expected);
            assert!(m.iter().all(|&p| p < 249));
        }
    }

    #[test]
    fn determined_by_the_seed() {
        let a = adding_set::<f64>(20, 50, 4).unwrap();
        assert_eq!(a, adding_set::<f64>(20, 50, 4).unwrap());
        assert_ne!(a, adding_set::<f64>(20, 50, 5).unwrap());
        let mut rng = rnn_core::rng::seeded(4);
        for s in &a {
            assert_eq!(*s, adding_problem::<f64>(50, &mut rng).unwrap());
        }
        // The same draws give both tasks the same lengths and marks.
        let m = multiplication_set::<f64>(20, 50, 4).unwrap();
        for (x, y) in a.iter().zip(&m) {
            assert_eq!(x.len(), y.len());
            assert_eq!(x.inputs().row(1), y.inputs().row(1));
        }
    }

    #[test]
    fn the_smallest_t_and_invalid_arguments() {
        let mut rng = rnn_core::rng::seeded(0);
        for _ in 0..500 {
            let task = adding_problem::<f64>(MARKED_PAIRS_MIN_T, &mut rng).unwrap();
            assert!((11..=12).contains(&task.len()));
            let m = marks(&task);
            assert!(m[1] < 10 && m[0] < 4, "{m:?}"); // among the first 10 and the first 4
        }
        let mut twin = rng.clone();
        for t in [0, 1, 2, 10] {
            assert!(matches!(adding_problem::<f64>(t, &mut rng), Err(Error::InvalidConfig { .. })), "T = {t}");
            assert!(matches!(multiplication_problem::<f64>(t, &mut rng), Err(Error::InvalidConfig { .. })));
            assert!(matches!(adding_set::<f64>(3, t, 0), Err(Error::InvalidConfig { .. })));
        }
        assert!(matches!(adding_problem::<f64>(usize::MAX, &mut rng), Err(Error::InvalidConfig { .. })));
        // Nothing was drawn.
        assert_eq!(rng.random::<u64>(), twin.random::<u64>());
        assert!(matches!(adding_set::<f64>(0, 100, 0), Err(Error::InvalidConfig { .. })));
        assert!(matches!(multiplication_set::<f64>(0, 100, 0), Err(Error::InvalidConfig { .. })));
        assert!(matches!(adding_set::<f64>(usize::MAX, 100, 0), Err(Error::Allocation { .. })));
        assert!(matches!(adding_problem::<f64>(usize::MAX / 2, &mut rng), Err(Error::Allocation { .. })));
    }

    #[test]
    fn the_correctness_criterion() {
        assert!(adding_correct(0.5, 0.5) && adding_correct(0.539, 0.5) && adding_correct(0.461, 0.5));
        assert!(!adding_correct(0.541, 0.5) && !adding_correct(0.459, 0.5));
        assert!(!adding_correct(f64::NAN, 0.5) && !adding_correct(0.5, f64::NAN));
        assert!(!adding_correct(f64::INFINITY, 0.5));
        assert!(multiplication_correct(0.0f32, 0.039) && !multiplication_correct(0.0f32, 0.041));
        assert_eq!((ADDING_TOLERANCE, MULTIPLICATION_TOLERANCE), (0.04, 0.04));
    }
}
