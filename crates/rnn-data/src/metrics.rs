//! Error measures for predictions y against targets d, n values each.
//!
//! | measure | formula |
//! |---|---|
//! | [`mse`] | Σ (y − d)² / n |
//! | [`rmse`] | √MSE |
//! | [`mae`] | Σ \|y − d\| / n |
//! | [`nmse`] | MSE / σ², σ² given (the sunspot convention: the variance of the whole series) |
//! | [`nmse_own_variance`] | MSE / σ²(d), the variance of the targets themselves |
//! | [`variance`] | Σ (x − x̄)² / n (population) |
//!
//! An NMSE of 1 is what always predicting the mean scores; the sunspot literature (Weigend,
//! Huberman & Rumelhart 1990) reports NMSE against the variance of the whole 1700–1979 series.
//!
//! ```
//! use rnn_data::metrics;
//! let (y, d) = ([1.0, 2.0, 5.0, 0.0], [1.0, 4.0, 4.0, 0.0]);
//! assert_eq!(metrics::mse(&y, &d).unwrap(), 1.25); // (0 + 4 + 1 + 0) / 4
//! assert_eq!(metrics::mae(&y, &d).unwrap(), 0.75); // (0 + 2 + 1 + 0) / 4
//! assert_eq!(metrics::nmse(&y, &d, 2.5).unwrap(), 0.5);
//! ```

use rnn_core::{
    Error, Result,
    error::{check_dim, check_finite},
};

/// Checks that predictions and targets are non-empty, of the same length and finite.
fn check_pair(predictions: &[f64], targets: &[f64]) -> Result<()> {
    if targets.is_empty() {
        return Err(Error::empty("targets", 1));
    }
    check_dim("predictions (one per target)", targets.len(), predictions.len())?;
    check_finite("predictions", predictions)?;
    check_finite("targets", targets)
}

/// The mean of finite values, which is always finite: the plain Σ x / n, or, when the sum
/// overflows, Σ (x / n), whose partial sums stay within the largest |x|.
pub(crate) fn finite_mean(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let plain = xs.iter().sum::<f64>() / n;
    if plain.is_finite() { plain } else { xs.iter().map(|&x| x / n).sum() }
}

/// A mean square Σ (a − b)² / n of finite pairs, computed so that no intermediate overflows.
#[derive(Clone, Copy)]
enum MeanSquare {
    /// The plain sum did not overflow: the exact value.
    Plain(f64),
    /// The root mean square of the half-differences (a − b)/2, which never overflows: the mean
    /// square is four times its square (which may exceed `f64::MAX`).
    HalfRms(f64),
}

impl MeanSquare {
    /// Over `n` finite pairs.
    fn of(pairs: impl Iterator<Item = (f64, f64)> + Clone, n: usize) -> Self {
        let n = n as f64;
        let plain = pairs.clone().map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / n;
        if plain.is_finite() {
            return MeanSquare::Plain(plain);
        }
        // Halves of finite values differ by at most f64::MAX; scaling by the largest difference
        // keeps every square in [0, 1].
        let half = |(a, b): (f64, f64)| a / 2.0 - b / 2.0;
        let scale = pairs.clone().map(|p| half(p).abs()).fold(0.0, f64::max);
        let mean = pairs.map(|p| (half(p) / scale).powi(2)).sum::<f64>() / n;
        MeanSquare::HalfRms(scale * mean.sqrt())
    }

    /// The mean square itself, if it is at most `f64::MAX`.
    fn value(self) -> Option<f64> {
        let v = match self {
            MeanSquare::Plain(v) => v,
            MeanSquare::HalfRms(t) => 4.0 * t * t,
        };
        v.is_finite().then_some(v)
    }

    /// Its square root, if it is at most `f64::MAX`.
    fn root(self) -> Option<f64> {
        let r = match self {
            MeanSquare::Plain(v) => v.sqrt(),
            MeanSquare::HalfRms(t) => 2.0 * t,
        };
        r.is_finite().then_some(r)
    }

    /// `self / other`, if it is at most `f64::MAX`.
    fn ratio(self, other: MeanSquare) -> Option<f64> {
        let r = match (self, other) {
            (MeanSquare::Plain(a), MeanSquare::Plain(b)) => a / b,
            (a, b) => (a.half_rms() / b.half_rms()).powi(2),
        };
        r.is_finite().then_some(r)
    }

    fn half_rms(self) -> f64 {
        match self {
            MeanSquare::Plain(v) => v.sqrt() / 2.0,
            MeanSquare::HalfRms(t) => t,
        }
    }
}

/// The error for a measure of finite values whose result exceeds `f64::MAX`; `index` is the
/// position of the largest difference.
fn overflow(what: &str, index: usize) -> Error {
    Error::NonFinite { what: format!("{what} (the result exceeds the largest f64)"), index, value: f64::INFINITY }
}

/// The position of the largest |a − b|, compared by halves so that nothing overflows.
fn largest_difference(a: &[f64], b: impl Fn(usize) -> f64) -> usize {
    (0..a.len()).map(|i| (i, (a[i] / 2.0 - b(i) / 2.0).abs())).fold((0, -1.0), |m, x| if x.1 > m.1 { x } else { m }).0
}

/// The mean x̄ = Σ x / n; finite for any finite values (no overflow when Σ x exceeds
/// `f64::MAX`).
///
/// ```
/// assert_eq!(rnn_data::metrics::mean(&[1e308, 1e308]).unwrap(), 1e308);
/// assert!(rnn_data::metrics::mean(&[1.0, f64::NAN]).is_err());
/// ```
///
/// # Errors
/// [`Error::Empty`] for no value, [`Error::NonFinite`] naming the index of a NaN or infinity.
pub fn mean(xs: &[f64]) -> Result<f64> {
    if xs.is_empty() {
        return Err(Error::empty("values for a mean", 1));
    }
    check_finite("values", xs)?;
    Ok(finite_mean(xs))
}

/// The population variance σ² = Σ (x − x̄)² / n, computed without intermediate overflow.
///
/// ```
/// assert_eq!(rnn_data::metrics::variance(&[1.0, 2.0, 3.0, 4.0]).unwrap(), 1.25);
/// assert_eq!(rnn_data::metrics::variance(&[1e308, 1e308]).unwrap(), 0.0);
/// assert!(rnn_data::metrics::variance(&[-1e308, 1e308]).is_err()); // 10⁶¹⁶
/// ```
///
/// # Errors
/// [`Error::Empty`] for no value, [`Error::NonFinite`] naming the index of a NaN or infinity,
/// or when the variance itself exceeds `f64::MAX`.
pub fn variance(xs: &[f64]) -> Result<f64> {
    let m = mean(xs)?;
    MeanSquare::of(xs.iter().map(|&x| (x, m)), xs.len())
        .value()
        .ok_or_else(|| overflow("variance", largest_difference(xs, |_| m)))
}

/// The mean squared error Σ (y − d)² / n.
///
/// # Errors
/// [`Error::Empty`] for no target, [`Error::DimensionMismatch`] if the lengths differ,
/// [`Error::NonFinite`] naming the argument (`predictions` or `targets`) and index of a NaN or
/// infinity, or when the result exceeds `f64::MAX`.
pub fn mse(predictions: &[f64], targets: &[f64]) -> Result<f64> {
    squared_errors(predictions, targets)?
        .value()
        .ok_or_else(|| overflow("mean squared error", largest_difference(predictions, |i| targets[i])))
}

/// The checked mean square of the errors y − d.
fn squared_errors(predictions: &[f64], targets: &[f64]) -> Result<MeanSquare> {
    check_pair(predictions, targets)?;
    Ok(MeanSquare::of(predictions.iter().copied().zip(targets.iter().copied()), targets.len()))
}

/// The root mean squared error √(Σ (y − d)² / n).
///
/// # Errors
/// As [`mse`] (finite whenever the root is, even if the mean square is not).
pub fn rmse(predictions: &[f64], targets: &[f64]) -> Result<f64> {
    squared_errors(predictions, targets)?
        .root()
        .ok_or_else(|| overflow("root mean squared error", largest_difference(predictions, |i| targets[i])))
}

/// The mean absolute error Σ |y − d| / n.
///
/// # Errors
/// As [`mse`].
pub fn mae(predictions: &[f64], targets: &[f64]) -> Result<f64> {
    check_pair(predictions, targets)?;
    let n = targets.len() as f64;
    let pairs = predictions.iter().zip(targets);
    let plain = pairs.clone().map(|(&y, &d)| (y - d).abs()).sum::<f64>() / n;
    if plain.is_finite() {
        return Ok(plain);
    }
    // Half-differences never overflow, nor do their means.
    let half = pairs.map(|(&y, &d)| (y / 2.0 - d / 2.0).abs() / n).sum::<f64>();
    let mae = 2.0 * half;
    if mae.is_finite() {
        Ok(mae)
    } else {
        Err(overflow("mean absolute error", largest_difference(predictions, |i| targets[i])))
    }
}

/// The normalised mean squared error MSE / σ², with σ² given: for the sunspots, the variance
/// of the whole series ([`Series::variance`](crate::Series::variance)).
///
/// # Errors
/// As [`mse`], and [`Error::InvalidConfig`] unless σ² is positive and finite.
pub fn nmse(predictions: &[f64], targets: &[f64], variance: f64) -> Result<f64> {
    if !(variance > 0.0 && variance.is_finite()) {
        return Err(Error::config("NMSE variance σ²", "positive and finite", variance));
    }
    squared_errors(predictions, targets)?
        .ratio(MeanSquare::Plain(variance))
        .ok_or_else(|| overflow("normalised mean squared error", largest_difference(predictions, |i| targets[i])))
}

/// The normalised mean squared error MSE / σ²(d), normalised by the targets' own population
/// variance.
///
/// ```
/// let d = [1.0, 3.0];
/// assert_eq!(rnn_data::metrics::nmse_own_variance(&[2.0, 2.0], &d).unwrap(), 1.0);
/// ```
///
/// # Errors
/// As [`nmse`]; [`Error::InvalidConfig`] for constant targets.
pub fn nmse_own_variance(predictions: &[f64], targets: &[f64]) -> Result<f64> {
    let errors = squared_errors(predictions, targets)?;
    let m = finite_mean(targets);
    let spread = MeanSquare::of(targets.iter().map(|&x| (x, m)), targets.len());
    if spread.half_rms() <= 0.0 {
        return Err(Error::config("NMSE variance σ²", "positive and finite", 0));
    }
    errors
        .ratio(spread)
        .ok_or_else(|| overflow("normalised mean squared error", largest_difference(predictions, |i| targets[i])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_example() {
        // Targets 2, 4, 6, 8 (mean 5, population variance 5); predictions off by 1, −1, 2, 0.
        let d = [2.0, 4.0, 6.0, 8.0];
        let y = [3.0, 3.0, 8.0, 8.0];
        assert_eq!(variance(&d).unwrap(), 5.0);
        assert_eq!(mse(&y, &d).unwrap(), 1.5);
        assert_eq!(nmse_own_variance(&y, &d).unwrap(), 0.3);
        assert_eq!(nmse(&y, &d, 3.0).unwrap(), 0.5);
        assert_eq!(mae(&y, &d).unwrap(), 1.0);
        assert_eq!(rmse(&y, &d).unwrap(), 1.5f64.sqrt());
        // Predicting the mean scores NMSE 1.
        assert_eq!(nmse_own_variance(&[5.0; 4], &d).unwrap(), 1.0);
    }

    #[test]
    fn bad_input() {
        assert!(matches!(mse(&[], &[]), Err(Error::Empty { .. })));
        assert!(matches!(mae(&[1.0], &[1.0, 2.0]), Err(Error::DimensionMismatch { .. })));
        assert!(matches!(nmse(&[1.0], &[1.0], 0.0), Err(Error::InvalidConfig { .. })));
        assert!(matches!(nmse(&[1.0], &[1.0], f64::NAN), Err(Error::InvalidConfig { .. })));
        assert!(matches!(nmse_own_variance(&[1.0, 2.0], &[3.0, 3.0]), Err(Error::InvalidConfig { .. })));
        assert!(matches!(variance(&[]), Err(Error::Empty { .. })));
    }

    #[test]
    fn non_finite_input_is_an_error_naming_argument_and_index() {
        let check = |r: Result<f64>, arg: &str, at: usize| match r {
            Err(Error::NonFinite { what, index, .. }) => assert_eq!((what.as_str(), index), (arg, at)),
            other => panic!("expected NonFinite in {arg}[{at}], got {other:?}"),
        };
        check(mse(&[f64::NAN, 1.0], &[1.0, 1.0]), "predictions", 0);
        check(rmse(&[1.0, 1.0], &[1.0, f64::INFINITY]), "targets", 1);
        check(mae(&[f64::INFINITY], &[f64::INFINITY]), "predictions", 0);
        check(nmse(&[f64::NAN], &[1.0], 2.0), "predictions", 0);
        check(nmse_own_variance(&[1.0, 2.0], &[f64::NAN, 1.0]), "targets", 0);
        check(variance(&[1.0, f64::NAN]), "values", 1);
        check(mean(&[f64::NEG_INFINITY]), "values", 0);
    }

    #[test]
    fn finite_data_gives_finite_answers_or_an_error() {
        // Sums that overflow, results that do not.
        assert_eq!(mean(&[1e308, 1e308]).unwrap(), 1e308);
        assert_eq!(variance(&[1e308, 1e308]).unwrap(), 0.0);
        assert_eq!(mean(&[1e308, 1e308, -1e308]).unwrap(), 1e308 / 3.0);
        let v = variance(&[1e200, -1e200]);
        assert!(matches!(v, Err(Error::NonFinite { .. })), "10⁴⁰⁰ is not an f64: {v:?}");
        let r = rmse(&[1e200, -1e200], &[-1e200, 1e200]).unwrap();
        assert!((r / 2e200 - 1.0).abs() < 1e-15, "{r}");
        assert!((rmse(&[1e308], &[-1e308]).unwrap_err()).to_string().contains("exceeds"));
        assert!((mae(&[1e308, 0.0], &[-1e308, 0.0]).unwrap() / 1e308 - 1.0).abs() < 1e-15);
        assert!(matches!(mae(&[1.5e308], &[-1.5e308]), Err(Error::NonFinite { index: 0, .. })));
        match mse(&[0.0, 1e200], &[0.0, -1e200]) {
            Err(Error::NonFinite { what, index: 1, value }) => {
                assert!(what.contains("mean squared error"), "{what}");
                assert_eq!(value, f64::INFINITY);
            }
            other => panic!("expected NonFinite, got {other:?}"),
        }
        // A ratio of two huge mean squares.
        let d = [1e200, -1e200];
        assert!((nmse_own_variance(&[0.0, 0.0], &d).unwrap() - 1.0).abs() < 1e-15);
        assert!((nmse(&[1e200], &[-1e200], 1e300).unwrap() - 4e100).abs() < 1e86);
    }
}
