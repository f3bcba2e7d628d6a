//! Noise-free sequences with long time lags (Hochreiter & Schmidhuber 1997, Task 2a).
//!
//! An alphabet of p + 1 symbols a₁, …, a_(p−1), a_p = x, a_(p+1) = y, each coded one-hot
//! (symbol a_i on unit i − 1, so x is unit p − 1 and y unit p). There are two sequences of
//! p + 1 symbols,
//!
//! (y, a₁, a₂, …, a_(p−1), y)   and   (x, a₁, a₂, …, a_(p−1), x),
//!
//! each drawn with probability ½. The net reads one symbol per step and predicts the next, so
//! a sequence s₀ … s_p gives p steps with input x(t) = s_t and target d(t) = s_(t+1) for
//! t = 0 … p − 1, every target present. All targets but the last follow from the current
//! symbol alone; the last, d(p − 1) = s₀, repeats the input of p − 1 steps before, so the net
//! must hold the first symbol while it reads a₁ … a_(p−1), which are the same in both
//! sequences.
//!
//! Hochreiter & Schmidhuber, "Long short-term memory", *Neural Computation* 9(8), 1735–1780
//! (1997), Section 5.2, Experiment 2, Task 2a: at p = 100 neither BPTT nor RTRL solved it;
//! LSTM did.

use nalgebra::DMatrix;
use rand::RngExt;
use rnn_core::{Error, MaskedSequence, Real, Result, Sequence};

use super::filled;

/// The sequence of Hochreiter & Schmidhuber's (1997) Task 2a for lag `p` that starts (and ends) with y when `starts_with_y`, else
/// with x: inputs and targets both `(p + 1) × p`, one-hot, input t = symbol t and target
/// t = symbol t + 1, all present. Symbol a_i is unit i − 1 (x = a_p is unit p − 1, y = a_(p+1)
/// unit p); the sequence is (y, a₁, …, a_(p−1), y) or (x, a₁, …, a_(p−1), x), and only its last
/// target needs memory: it repeats the first input, p − 1 steps back.
///
/// ```
/// use rnn_data::generators::long_lag;
/// // p = 3: the symbols are a₁ (unit 0), a₂ (unit 1), x (unit 2), y (unit 3).
/// let task = long_lag::<f64>(3, true).unwrap(); // y a₁ a₂ y
/// let unit = |m: &nalgebra::DMatrix<f64>, t: usize| m.column(t).iamax();
/// assert_eq!(task.inputs().shape(), (4, 3));
/// assert_eq!((0..3).map(|t| unit(task.inputs(), t)).collect::<Vec<_>>(), [3, 0, 1]);
/// assert_eq!((0..3).map(|t| unit(task.targets(), t)).collect::<Vec<_>>(), [0, 1, 3]);
/// let other = long_lag::<f64>(3, false).unwrap(); // x a₁ a₂ x
/// assert_eq!((unit(other.inputs(), 0), unit(other.targets(), 2)), (2, 2));
/// assert!(long_lag::<f64>(1, true).is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for `p` < 2; [`Error::Allocation`] when the `(p + 1) × p`
/// matrices cannot be allocated.
pub fn long_lag<T: Real>(p: usize, starts_with_y: bool) -> Result<MaskedSequence<T>> {
    check_p(p)?;
    let symbols = p + 1; // cannot overflow: check_p refused usize::MAX
    // Symbol s_t of the sequence, as its unit: the end symbol at 0 and p, a_t (unit t − 1) between.
    let end = if starts_with_y { p } else { p - 1 };
    let unit = |t: usize| if t == 0 || t == p { end } else { t - 1 };
    let inputs = one_hot::<T>("long-lag inputs", symbols, p, unit)?;
    let targets = one_hot::<T>("long-lag targets", symbols, p, |t| unit(t + 1))?;
    MaskedSequence::all_present(Sequence::new(inputs, targets)?)
}

/// [`long_lag`] with the first symbol drawn from `rng`: y or x with probability ½ each (one
/// `bool` drawn, true for y). Nothing is drawn when `p` is refused.
///
/// ```
/// use rnn_data::generators::{long_lag, long_lag_random};
/// let mut rng = rnn_core::rng::seeded(3);
/// let tasks: Vec<_> = (0..20).map(|_| long_lag_random::<f32>(10, &mut rng).unwrap()).collect();
/// let y_first = tasks.iter().filter(|s| s.inputs()[(10, 0)] == 1.0).count();
/// assert!(y_first > 0 && y_first < 20);
/// assert!(tasks.iter().all(|s| *s == long_lag(10, true).unwrap() || *s == long_lag(10, false).unwrap()));
/// ```
///
/// # Errors
/// As [`long_lag`].
pub fn long_lag_random<T: Real>(p: usize, rng: &mut rnn_core::rng::Rng) -> Result<MaskedSequence<T>> {
    check_p(p)?;
    long_lag(p, rng.random::<bool>())
}

/// Checks the lag: at least 2 (one a-symbol between the ends), and p + 1 symbols countable.
fn check_p(p: usize) -> Result<()> {
    if p < 2 || p == usize::MAX {
        return Err(Error::config("long-lag task lag p", "at least 2 (p + 1 symbols, sequences of p + 1 symbols)", p));
    }
    Ok(())
}

/// A `rows × len` matrix whose column t is one-hot at row `unit(t)`.
fn one_hot<T: Real>(what: &str, rows: usize, len: usize, unit: impl Fn(usize) -> usize) -> Result<DMatrix<T>> {
    let mut m = filled(what, rows, len, T::zero())?;
    for t in 0..len {
        m[(unit(t), t)] = T::one();
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The unit that is on in each column, checking the column is one-hot.
    fn units(m: &DMatrix<f64>) -> Vec<usize> {
        (0..m.ncols())
            .map(|t| {
                let col = m.column(t);
                assert_eq!(col.iter().filter(|&&v| v == 1.0).count(), 1, "column {t}");
                assert_eq!(col.iter().filter(|&&v| v == 0.0).count(), m.nrows() - 1, "column {t}");
                col.iamax()
            })
            .collect()
    }

    #[test]
    fn the_smallest_sequences_exactly() {
        // p = 2: symbols a₁ (unit 0), x (unit 1), y (unit 2).
        let y = long_lag::<f64>(2, true).unwrap(); // y a₁ y
        assert_eq!(*y.inputs(), DMatrix::from_row_slice(3, 2, &[0.0, 1.0, 0.0, 0.0, 1.0, 0.0]));
        assert_eq!(*y.targets(), DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]));
        let x = long_lag::<f64>(2, false).unwrap(); // x a₁ x
        assert_eq!(*x.inputs(), DMatrix::from_row_slice(3, 2, &[0.0, 1.0, 1.0, 0.0, 0.0, 0.0]));
        assert_eq!(*x.targets(), DMatrix::from_row_slice(3, 2, &[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]));
        assert_eq!(y.present_count(), 6);
    }

    #[test]
    fn next_symbol_prediction_with_the_first_symbol_at_the_end() {
        let p = 6;
        for (starts_with_y, end) in [(true, p), (false, p - 1)] {
            let task = long_lag::<f64>(p, starts_with_y).unwrap();
            assert_eq!((task.inputs().shape(), task.targets().shape()), ((p + 1, p), (p + 1, p)));
            let (x, d) = (units(task.inputs()), units(task.targets()));
            assert_eq!(x, [end, 0, 1, 2, 3, 4]);
            assert_eq!(d, [0, 1, 2, 3, 4, end]);
            // The target of each step is the input of the next.
            assert_eq!(d[..p - 1], x[1..]);
            assert_eq!((task.present_count(), task.input_size(), task.target_size()), ((p + 1) * p, p + 1, p + 1));
        }
        // The two sequences differ only in the first input and the last target.
        let (y, x) = (long_lag::<f64>(p, true).unwrap(), long_lag::<f64>(p, false).unwrap());
        assert_eq!(y.inputs().columns(1, p - 1), x.inputs().columns(1, p - 1));
        assert_eq!(y.targets().columns(0, p - 1), x.targets().columns(0, p - 1));
        assert_ne!(y.inputs().column(0), x.inputs().column(0));
        assert_ne!(y.targets().column(p - 1), x.targets().column(p - 1));
    }

    #[test]
    fn random_draws_one_fair_bool() {
        let mut rng = rnn_core::rng::seeded(17);
        let mut twin = rng.clone();
        let mut y_first = 0;
        for _ in 0..400 {
            let task = long_lag_random::<f64>(4, &mut rng).unwrap();
            let y = twin.random::<bool>();
            assert_eq!(task, long_lag(4, y).unwrap());
            y_first += usize::from(y);
        }
        assert!((150..250).contains(&y_first), "{y_first}");
        // Same seed, same draws.
        let draw = |seed| {
            let mut r = rnn_core::rng::seeded(seed);
            (0..32).map(|_| long_lag_random::<f64>(3, &mut r).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }

    #[test]
    fn refuses_a_lag_below_two_without_drawing() {
        for p in [0, 1, usize::MAX] {
            assert!(matches!(long_lag::<f64>(p, true), Err(Error::InvalidConfig { .. })), "p = {p}");
        }
        let mut rng = rnn_core::rng::seeded(1);
        let mut twin = rng.clone();
        assert!(matches!(long_lag_random::<f64>(1, &mut rng), Err(Error::InvalidConfig { .. })));
        assert_eq!(rng.random::<u64>(), twin.random::<u64>());
        assert!(matches!(long_lag::<f64>(usize::MAX - 1, true), Err(Error::Allocation { .. })));
    }
}
