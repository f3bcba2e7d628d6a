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

use rnn_core::{Error, Result, error::check_dim};

/// Checks that predictions and targets are non-empty and of the same length.
fn check_pair(predictions: &[f64], targets: &[f64]) -> Result<()> {
    if targets.is_empty() {
        return Err(Error::empty("targets", 1));
    }
    check_dim("predictions (one per target)", targets.len(), predictions.len())
}

/// The mean x̄ = Σ x / n.
///
/// # Errors
/// [`Error::Empty`] for no value.
pub fn mean(xs: &[f64]) -> Result<f64> {
    if xs.is_empty() {
        return Err(Error::empty("values for a mean", 1));
    }
    Ok(xs.iter().sum::<f64>() / xs.len() as f64)
}

/// The population variance σ² = Σ (x − x̄)² / n.
///
/// ```
/// assert_eq!(rnn_data::metrics::variance(&[1.0, 2.0, 3.0, 4.0]).unwrap(), 1.25);
/// ```
///
/// # Errors
/// [`Error::Empty`] for no value.
pub fn variance(xs: &[f64]) -> Result<f64> {
    let m = mean(xs)?;
    Ok(xs.iter().map(|&x| (x - m) * (x - m)).sum::<f64>() / xs.len() as f64)
}

/// The mean squared error Σ (y − d)² / n.
///
/// # Errors
/// [`Error::Empty`] for no target, [`Error::DimensionMismatch`] if the lengths differ.
pub fn mse(predictions: &[f64], targets: &[f64]) -> Result<f64> {
    check_pair(predictions, targets)?;
    Ok(predictions.iter().zip(targets).map(|(&y, &d)| (y - d) * (y - d)).sum::<f64>() / targets.len() as f64)
}

/// The root mean squared error √(Σ (y − d)² / n).
///
/// # Errors
/// As [`mse`].
pub fn rmse(predictions: &[f64], targets: &[f64]) -> Result<f64> {
    mse(predictions, targets).map(f64::sqrt)
}

/// The mean absolute error Σ |y − d| / n.
///
/// # Errors
/// As [`mse`].
pub fn mae(predictions: &[f64], targets: &[f64]) -> Result<f64> {
    check_pair(predictions, targets)?;
    Ok(predictions.iter().zip(targets).map(|(&y, &d)| (y - d).abs()).sum::<f64>() / targets.len() as f64)
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
    Ok(mse(predictions, targets)? / variance)
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
    check_pair(predictions, targets)?;
    nmse(predictions, targets, variance(targets)?)
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
}
