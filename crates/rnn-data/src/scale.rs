//! Scalers: fit on training data, then map any data into the net's range and back.
//!
//! Fit a scaler on the training part only, so that no statistic of the test data leaks into
//! training; then transform training and test data alike, and map predictions back with the
//! inverse.
//!
//! ```
//! use rnn_data::{MinMaxScaler, Scaler};
//! let train = [2.0, 4.0, 6.0];
//! let s = MinMaxScaler::fit(&train).unwrap();
//! assert_eq!(s.transform(&train), [0.0, 0.5, 1.0]);
//! assert_eq!(s.transform_value(8.0), 1.5); // test data may leave [0, 1]
//! assert_eq!(s.inverse_transform(&[0.25]), [3.0]);
//! ```

use rnn_core::{Error, Result, error::check_finite};
use serde::{Deserialize, Serialize};

use crate::Series;

/// An invertible affine map of values, fitted on training data.
pub trait Scaler {
    /// Maps one value into the scaled range.
    fn transform_value(&self, x: f64) -> f64;

    /// Maps one scaled value back.
    fn inverse_value(&self, y: f64) -> f64;

    /// Maps every value.
    fn transform(&self, xs: &[f64]) -> Vec<f64> {
        xs.iter().map(|&x| self.transform_value(x)).collect()
    }

    /// Maps every scaled value back.
    fn inverse_transform(&self, ys: &[f64]) -> Vec<f64> {
        ys.iter().map(|&y| self.inverse_value(y)).collect()
    }

    /// Maps every value in place.
    fn transform_in_place(&self, xs: &mut [f64]) {
        xs.iter_mut().for_each(|x| *x = self.transform_value(*x));
    }

    /// Maps every scaled value back in place.
    fn inverse_transform_in_place(&self, ys: &mut [f64]) {
        ys.iter_mut().for_each(|y| *y = self.inverse_value(*y));
    }

    /// The series with every value mapped, labels unchanged.
    ///
    /// # Errors
    /// [`Error::NonFinite`] if a mapped value overflows.
    fn transform_series(&self, series: &Series) -> Result<Series> {
        series.map(|x| self.transform_value(x))
    }
}

/// Checks that `data` is non-empty and finite.
fn check_data(what: &str, data: &[f64]) -> Result<()> {
    if data.is_empty() {
        return Err(Error::empty(format!("{what} fitting data"), 1));
    }
    check_finite(&format!("{what} fitting data"), data)
}

/// Min-max scaling to [a, b] (by default [0, 1]):
///
/// y = a + (x − min) (b − a) / (max − min),  x = min + (y − a) (max − min) / (b − a),
///
/// with min and max taken over the fitting data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    min: f64,
    max: f64,
    lo: f64,
    hi: f64,
}

impl MinMaxScaler {
    /// Fits the scaler to map `data` onto [0, 1].
    ///
    /// # Errors
    /// [`Error::Empty`] for no data, [`Error::NonFinite`] for NaN or infinity,
    /// [`Error::InvalidConfig`] for constant data (max = min) or data whose range max − min
    /// exceeds `f64::MAX` (e.g. −10³⁰⁸ and 10³⁰⁸).
    pub fn fit(data: &[f64]) -> Result<Self> {
        Self::fit_to_range(data, 0.0, 1.0)
    }

    /// Fits the scaler to map `data` onto [lo, hi], e.g. [−1, 1] for tanh units or
    /// [0.1, 0.9] to keep a logistic output off its asymptotes.
    ///
    /// ```
    /// use rnn_data::{MinMaxScaler, Scaler};
    /// let s = MinMaxScaler::fit_to_range(&[0.0, 10.0], -1.0, 1.0).unwrap();
    /// assert_eq!(s.transform_value(5.0), 0.0);
    /// assert_eq!(s.inverse_value(1.0), 10.0);
    /// ```
    ///
    /// # Errors
    /// As [`fit`](Self::fit), and [`Error::InvalidConfig`] unless lo < hi, both finite, with a
    /// finite width hi − lo.
    pub fn fit_to_range(data: &[f64], lo: f64, hi: f64) -> Result<Self> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi && (hi - lo).is_finite()) {
            return Err(Error::config(
                "min-max target range [lo, hi]",
                "finite lo < hi with a finite width hi − lo",
                format!("[{lo}, {hi}]"),
            ));
        }
        check_data("min-max scaler", data)?;
        let min = data.iter().copied().fold(f64::INFINITY, f64::min);
        let max = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if max <= min {
            return Err(Error::config("min-max scaler data range (max − min)", "positive (non-constant data)", 0));
        }
        if !(max - min).is_finite() {
            return Err(Error::config(
                "min-max scaler data range (max − min)",
                "at most f64::MAX",
                format!("{max} − {min}"),
            ));
        }
        Ok(Self { min, max, lo, hi })
    }

    /// The smallest fitting value, mapped to `lo`.
    pub fn data_min(&self) -> f64 {
        self.min
    }

    /// The largest fitting value, mapped to `hi`.
    pub fn data_max(&self) -> f64 {
        self.max
    }

    /// The target range [lo, hi].
    pub fn range(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }
}

impl Scaler for MinMaxScaler {
    // Dividing first keeps the fitting data's image within [lo, hi] whatever the two widths.
    fn transform_value(&self, x: f64) -> f64 {
        self.lo + (x - self.min) / (self.max - self.min) * (self.hi - self.lo)
    }

    fn inverse_value(&self, y: f64) -> f64 {
        self.min + (y - self.lo) / (self.hi - self.lo) * (self.max - self.min)
    }
}

/// Z-score standardisation: y = (x − μ) / σ, x = μ + σ y, with the mean μ and the population
/// standard deviation σ = √(Σ (x − μ)² / n) of the fitting data.
///
/// ```
/// use rnn_data::{Scaler, ZScoreScaler};
/// let s = ZScoreScaler::fit(&[1.0, 3.0]).unwrap();
/// assert_eq!((s.mean(), s.std_dev()), (2.0, 1.0));
/// assert_eq!(s.transform(&[1.0, 3.0, 5.0]), [-1.0, 1.0, 3.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ZScoreScaler {
    mean: f64,
    std_dev: f64,
}

impl ZScoreScaler {
    /// Fits μ and σ to `data`.
    ///
    /// # Errors
    /// [`Error::Empty`] for no data, [`Error::NonFinite`] for NaN or infinity,
    /// [`Error::InvalidConfig`] for constant data (σ = 0) or data whose variance σ² exceeds
    /// `f64::MAX` (values far apart, above about 10¹⁵⁴).
    pub fn fit(data: &[f64]) -> Result<Self> {
        check_data("z-score scaler", data)?;
        let mean = crate::metrics::mean(data)?;
        let variance = crate::metrics::variance(data).map_err(|_| {
            Error::config(
                "z-score scaler variance σ²",
                "at most f64::MAX",
                "a larger value (the data lie too far apart)",
            )
        })?;
        let std_dev = variance.sqrt();
        if !(std_dev > 0.0 && std_dev.is_finite()) {
            return Err(Error::config(
                "z-score scaler standard deviation",
                "positive and finite (non-constant data)",
                std_dev,
            ));
        }
        Ok(Self { mean, std_dev })
    }

    /// The fitted mean μ.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The fitted population standard deviation σ.
    pub fn std_dev(&self) -> f64 {
        self.std_dev
    }
}

impl Scaler for ZScoreScaler {
    fn transform_value(&self, x: f64) -> f64 {
        (x - self.mean) / self.std_dev
    }

    fn inverse_value(&self, y: f64) -> f64 {
        self.mean + self.std_dev * y
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn degenerate_data_is_refused() {
        assert!(matches!(MinMaxScaler::fit(&[]), Err(Error::Empty { .. })));
        assert!(matches!(ZScoreScaler::fit(&[]), Err(Error::Empty { .. })));
        assert!(matches!(MinMaxScaler::fit(&[3.0, 3.0]), Err(Error::InvalidConfig { .. })));
        assert!(matches!(ZScoreScaler::fit(&[3.0]), Err(Error::InvalidConfig { .. })));
        assert!(matches!(MinMaxScaler::fit(&[1.0, f64::NAN]), Err(Error::NonFinite { .. })));
        assert!(matches!(ZScoreScaler::fit(&[f64::INFINITY, 1.0]), Err(Error::NonFinite { .. })));
        assert!(matches!(MinMaxScaler::fit_to_range(&[1.0, 2.0], 1.0, 1.0), Err(Error::InvalidConfig { .. })));
        assert!(matches!(MinMaxScaler::fit_to_range(&[1.0, 2.0], 0.0, f64::NAN), Err(Error::InvalidConfig { .. })));
    }

    #[test]
    fn ranges_that_overflow_are_refused() {
        match MinMaxScaler::fit(&[-1e308, 1e308]) {
            Err(Error::InvalidConfig { name, .. }) => assert!(name.contains("data range"), "{name}"),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
        match MinMaxScaler::fit_to_range(&[0.0, 1.0], -1e308, 1e308) {
            Err(Error::InvalidConfig { name, .. }) => assert!(name.contains("target range"), "{name}"),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
        // Wide but finite ranges on both sides map the fitting data exactly onto [lo, hi].
        let s = MinMaxScaler::fit_to_range(&[-8e307, 8e307, 0.0], -8e307, 8e307).unwrap();
        assert_eq!(s.transform(&[-8e307, 0.0, 8e307]), [-8e307, 0.0, 8e307]);
        let s = MinMaxScaler::fit(&[-1e200, 1e200]).unwrap();
        assert_eq!(s.transform(&[-1e200, 0.0, 1e200]), [0.0, 0.5, 1.0]);
        assert_eq!(s.inverse_transform(&[0.0, 0.5, 1.0]), [-1e200, 0.0, 1e200]);
        // The z-score scaler needs a representable variance; its mean never overflows.
        assert!(matches!(ZScoreScaler::fit(&[1e200, -1e200]), Err(Error::InvalidConfig { .. })));
        let z = ZScoreScaler::fit(&[1e150, 3e150]).unwrap();
        assert_eq!((z.mean(), z.std_dev()), (2e150, 1e150));
    }

    #[test]
    fn in_place_and_series() {
        let s = ZScoreScaler::fit(&[0.0, 2.0, 4.0]).unwrap();
        let mut v = vec![0.0, 2.0, 4.0];
        s.transform_in_place(&mut v);
        let sd = (8.0f64 / 3.0).sqrt();
        assert_eq!(v, [-2.0 / sd, 0.0, 2.0 / sd]);
        s.inverse_transform_in_place(&mut v);
        assert!(v.iter().zip([0.0, 2.0, 4.0]).all(|(a, b)| (a - b).abs() < 1e-12));
        let series = Series::new(vec![5, 6], vec![0.0, 4.0]).unwrap();
        let m = MinMaxScaler::fit(series.values()).unwrap();
        let scaled = m.transform_series(&series).unwrap();
        assert_eq!((scaled.labels(), scaled.values()), (&[5, 6][..], &[0.0, 1.0][..]));
    }

    proptest! {
        #[test]
        fn round_trips(data in proptest::collection::vec(-1e6f64..1e6, 2..50), lo in -5.0f64..0.0, width in 0.1f64..10.0) {
            prop_assume!(data.iter().any(|&x| x != data[0]));
            let m = MinMaxScaler::fit_to_range(&data, lo, lo + width).unwrap();
            let z = ZScoreScaler::fit(&data).unwrap();
            let scale = data.iter().fold(1.0f64, |a, &x| a.max(x.abs()));
            for (scaler, name) in [(&m as &dyn Scaler, "min-max"), (&z, "z-score")] {
                let back = scaler.inverse_transform(&scaler.transform(&data));
                for (a, b) in back.iter().zip(&data) {
                    prop_assert!((a - b).abs() <= 1e-9 * scale, "{name}: {a} vs {b}");
                }
            }
            let y = m.transform(&data);
            prop_assert!(y.iter().all(|&v| v >= lo - 1e-12 && v <= lo + width + 1e-12));
        }
    }
}
