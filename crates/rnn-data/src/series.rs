//! A univariate time series whose values carry integer labels (years, or plain indices).

use std::ops::{Range, RangeInclusive};

use rnn_core::{Error, Result, error::check_finite};

/// A time series x(0), x(1), …, x(n−1) with a strictly increasing integer label per value:
/// the year for yearly data such as the [`sunspots`](crate::sunspots), the index otherwise.
///
/// Labels let splits be written in the data's own terms ("train on 1700–1920") and let every
/// prediction be traced back to the time it predicts.
///
/// ```
/// use rnn_data::Series;
/// let s = Series::new(vec![1990, 1991, 1992, 1993], vec![1.0, 3.0, 2.0, 6.0]).unwrap();
/// assert_eq!(s.index_of(1992), Some(2));
/// let late = s.between(1992..=2000).unwrap();
/// assert_eq!((late.labels(), late.values()), (&[1992, 1993][..], &[2.0, 6.0][..]));
/// assert_eq!(s.mean(), 3.0);
/// assert_eq!(s.variance().unwrap(), 3.5); // population variance: Σ(x − x̄)² / n
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    labels: Vec<i64>,
    values: Vec<f64>,
}

impl Series {
    /// A series from labels and values of the same length.
    ///
    /// # Errors
    /// [`Error::Empty`] for no value, [`Error::DimensionMismatch`] if the lengths differ,
    /// [`Error::NonFinite`] for NaN or infinity, [`Error::InvalidConfig`] if the labels do not
    /// strictly increase.
    pub fn new(labels: Vec<i64>, values: Vec<f64>) -> Result<Self> {
        if values.is_empty() {
            return Err(Error::empty("series", 1));
        }
        rnn_core::error::check_dim("series labels (one per value)", values.len(), labels.len())?;
        check_finite("series values", &values)?;
        if let Some(i) = labels.windows(2).position(|w| w[0] >= w[1]) {
            return Err(Error::config(
                format!("series label at index {}", i + 1),
                format!("a label greater than the previous one, {}", labels[i]),
                labels[i + 1],
            ));
        }
        Ok(Self { labels, values })
    }

    /// A series labelled by index: 0, 1, …, n−1.
    ///
    /// # Errors
    /// [`Error::Empty`] for no value, [`Error::NonFinite`] for NaN or infinity.
    pub fn from_values(values: Vec<f64>) -> Result<Self> {
        let labels = (0..values.len() as i64).collect();
        Self::new(labels, values)
    }

    /// The labels, one per value, strictly increasing.
    pub fn labels(&self) -> &[i64] {
        &self.labels
    }

    /// The values x(0), …, x(n−1).
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Number of values n.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the series has no value (never true: [`Series::new`] refuses it).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The position of `label`, if the series has it.
    pub fn index_of(&self, label: i64) -> Option<usize> {
        self.labels.binary_search(&label).ok()
    }

    /// The value labelled `label`, if any.
    pub fn get(&self, label: i64) -> Option<f64> {
        self.index_of(label).map(|i| self.values[i])
    }

    /// The positions of the values whose labels lie in `labels`, as an index range.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty range (start after end), [`Error::Empty`] if no
    /// label of the series lies in it.
    pub fn index_range(&self, labels: RangeInclusive<i64>) -> Result<Range<usize>> {
        check_label_range(&labels)?;
        let start = self.labels.partition_point(|&l| l < *labels.start());
        let end = self.labels.partition_point(|&l| l <= *labels.end());
        if start >= end {
            return Err(Error::empty(
                format!(
                    "series between labels {} and {} (the series spans {} to {})",
                    labels.start(),
                    labels.end(),
                    self.labels[0],
                    self.labels[self.len() - 1]
                ),
                1,
            ));
        }
        Ok(start..end)
    }

    /// The part of the series whose labels lie in `labels`.
    ///
    /// # Errors
    /// As [`index_range`](Self::index_range).
    pub fn between(&self, labels: RangeInclusive<i64>) -> Result<Series> {
        let r = self.index_range(labels)?;
        Ok(Series { labels: self.labels[r.clone()].to_vec(), values: self.values[r].to_vec() })
    }

    /// The part of the series at positions `range`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty range or one that reaches past the end.
    pub fn slice(&self, range: Range<usize>) -> Result<Series> {
        if range.start >= range.end || range.end > self.len() {
            return Err(Error::config(
                "series index range",
                format!("a non-empty range within 0..{}", self.len()),
                format!("{range:?}"),
            ));
        }
        Ok(Series { labels: self.labels[range.clone()].to_vec(), values: self.values[range].to_vec() })
    }

    /// The series with `f` applied to every value, labels unchanged (e.g. a scaler's
    /// [`transform_value`](crate::Scaler::transform_value)).
    ///
    /// # Errors
    /// [`Error::NonFinite`] if `f` gives NaN or infinity.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Result<Series> {
        let values: Vec<f64> = self.values.iter().map(|&x| f(x)).collect();
        check_finite("mapped series values", &values)?;
        Ok(Series { labels: self.labels.clone(), values })
    }

    /// The mean x̄ = Σ x(t) / n, always finite (computed without overflow when Σ x(t)
    /// exceeds `f64::MAX`).
    ///
    /// ```
    /// let s = rnn_data::Series::from_values(vec![1e308, 1e308]).unwrap();
    /// assert_eq!(s.mean(), 1e308);
    /// ```
    pub fn mean(&self) -> f64 {
        crate::metrics::finite_mean(&self.values)
    }

    /// The population variance σ² = Σ (x(t) − x̄)² / n, the denominator of the sunspot NMSE,
    /// computed without intermediate overflow ([`metrics::variance`](crate::metrics::variance)).
    ///
    /// ```
    /// let s = rnn_data::Series::from_values(vec![1e308, 1e308]).unwrap();
    /// assert_eq!(s.variance().unwrap(), 0.0);
    /// let wide = rnn_data::Series::from_values(vec![-1e308, 1e308]).unwrap();
    /// assert!(wide.variance().is_err()); // 10⁶¹⁶ is not an f64
    /// ```
    ///
    /// # Errors
    /// [`Error::NonFinite`] if the variance exceeds `f64::MAX` (values far apart, above
    /// about 10¹⁵⁴).
    pub fn variance(&self) -> Result<f64> {
        crate::metrics::variance(&self.values)
    }
}

/// [`Error::InvalidConfig`] for a label range whose start is after its end.
pub(crate) fn check_label_range(labels: &RangeInclusive<i64>) -> Result<()> {
    if labels.start() > labels.end() {
        return Err(Error::config(
            "label range",
            "a non-empty range start..=end with start ≤ end",
            format!("{}..={}", labels.start(), labels.end()),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn construction_is_checked() {
        assert!(matches!(Series::new(vec![], vec![]), Err(Error::Empty { .. })));
        assert!(matches!(Series::new(vec![1], vec![1.0, 2.0]), Err(Error::DimensionMismatch { .. })));
        assert!(matches!(Series::new(vec![1, 1], vec![1.0, 2.0]), Err(Error::InvalidConfig { .. })));
        assert!(matches!(Series::new(vec![2, 1], vec![1.0, 2.0]), Err(Error::InvalidConfig { .. })));
        assert!(matches!(Series::from_values(vec![1.0, f64::NAN]), Err(Error::NonFinite { index: 1, .. })));
        let s = Series::from_values(vec![4.0, 5.0]).unwrap();
        assert_eq!(s.labels(), [0, 1]);
        assert_eq!(s.get(1), Some(5.0));
        assert_eq!(s.get(2), None);
    }

    #[test]
    fn mean_and_variance_of_huge_values_do_not_overflow() {
        let s = Series::from_values(vec![1e308, 1e308]).unwrap();
        assert_eq!((s.mean(), s.variance().unwrap()), (1e308, 0.0));
        let s = Series::from_values(vec![1.5e308, 1.5e308, -1.5e308]).unwrap();
        assert_eq!(s.mean(), 0.5e308);
        assert!(matches!(s.variance(), Err(Error::NonFinite { .. })));
        let s = Series::from_values(vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!((s.mean(), s.variance().unwrap()), (2.5, 1.25));
    }

    #[test]
    fn ranges_by_label_and_index() {
        let s = Series::new(vec![10, 12, 14, 16], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(s.index_range(11..=15).unwrap(), 1..3);
        assert_eq!(s.index_range(0..=100).unwrap(), 0..4);
        assert!(matches!(s.index_range(RangeInclusive::new(15, 11)), Err(Error::InvalidConfig { .. })));
        assert!(matches!(s.index_range(17..=20), Err(Error::Empty { .. })));
        assert!(matches!(s.index_range(13..=13), Err(Error::Empty { .. })));
        assert_eq!(s.slice(2..4).unwrap().labels(), [14, 16]);
        assert!(s.slice(2..5).is_err());
        #[allow(clippy::reversed_empty_ranges)]
        let empty = 3..3;
        assert!(s.slice(empty).is_err());
        assert_eq!(s.map(|x| 2.0 * x).unwrap().values(), [2.0, 4.0, 6.0, 8.0]);
        assert!(s.map(|x| x / 0.0).is_err());
    }
}
