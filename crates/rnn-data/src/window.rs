//! Sliding windows over a series: the last `lags` values as input, the next value (one-step)
//! or the next `horizon` values (multi-step) as target.
//!
//! The window whose first target is x(t) has
//!
//! - inputs  x(t − lags), x(t − lags + 1), …, x(t − 1)  (oldest first, most recent last),
//! - targets x(t), x(t + 1), …, x(t + horizon − 1),
//!
//! and is labelled with t and with the series' label of x(t) (its year, say). Windows are
//! chosen by where their *targets* lie, and their lags may reach back before that: the sunspot
//! protocol trains on windows whose targets lie in 1700–1920 and tests on those whose targets
//! lie in 1921–1955, the test inputs reaching back into the training years as they must.
//!
//! ```
//! use rnn_data::{Series, WindowSpec, Windows};
//! let s = Series::new((2000..2006).collect(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
//! let w = Windows::targets_in_labels(&s, WindowSpec::one_step(2).unwrap(), 2004..=2005).unwrap();
//! assert_eq!(w.target_labels(), [2004, 2005]);
//! assert_eq!(w.input(0), Some(&[2.0, 3.0][..])); // 2002 and 2003, before the range
//! assert_eq!(w.target(0), Some(&[4.0][..]));
//! ```

use std::ops::{Range, RangeInclusive};

use nalgebra::DMatrix;
use rnn_core::{
    Error, Real, Result, SeqBatch, Sequence,
    alloc::{checked_size, try_filled},
};

use crate::Series;

/// A `rows × cols` matrix with entry (r, c) = `f(r, c)`, or [`Error::Allocation`] naming `what`
/// if it is too large to allocate.
fn window_matrix<T: Real>(what: &str, rows: usize, cols: usize, f: impl Fn(usize, usize) -> T) -> Result<DMatrix<T>> {
    let len = checked_size(what, rows, cols)?;
    let mut data = try_filled(what, len, T::zero())?;
    for (i, v) in data.iter_mut().enumerate() {
        // Column-major: element i is row i % rows of column i / rows.
        *v = f(i % rows, i / rows);
    }
    Ok(DMatrix::from_vec(rows, cols, data))
}

/// How many past values a window sees (`lags` ≥ 1) and how many future values it predicts
/// (`horizon` ≥ 1; 1 is one-step prediction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WindowSpec {
    lags: usize,
    horizon: usize,
}

impl WindowSpec {
    /// `lags` past values → the next value.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `lags = 0`.
    pub fn one_step(lags: usize) -> Result<Self> {
        Self::multi_step(lags, 1)
    }

    /// `lags` past values → the next `horizon` values.
    ///
    /// ```
    /// use rnn_data::WindowSpec;
    /// assert_eq!(WindowSpec::multi_step(3, 2).unwrap().span(), 5);
    /// assert!(WindowSpec::multi_step(usize::MAX, 1).is_err()); // the span overflows
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `lags = 0` or `horizon = 0`, or if the span
    /// `lags + horizon` overflows `usize`.
    pub fn multi_step(lags: usize, horizon: usize) -> Result<Self> {
        if lags == 0 {
            return Err(Error::config("window lags", "at least 1", lags));
        }
        if horizon == 0 {
            return Err(Error::config("window horizon", "at least 1", horizon));
        }
        if lags.checked_add(horizon).is_none() {
            return Err(Error::config(
                "window span (lags + horizon)",
                format!("at most {} (usize::MAX)", usize::MAX),
                format!("{lags} + {horizon}"),
            ));
        }
        Ok(Self { lags, horizon })
    }

    /// Number of past values, the input width.
    pub fn lags(&self) -> usize {
        self.lags
    }

    /// Number of predicted values, the target width.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// The length of series a window spans, `lags + horizon` (never overflows:
    /// [`multi_step`](Self::multi_step) checks it).
    pub fn span(&self) -> usize {
        self.lags.saturating_add(self.horizon)
    }
}

/// A set of windows over one series, one window per matrix column.
///
/// [`inputs`](Self::inputs) is `lags × n` and [`targets`](Self::targets) `horizon × n`, column k
/// being window k (the workspace's one-sample-per-column layout).
#[derive(Debug, Clone, PartialEq)]
pub struct Windows {
    spec: WindowSpec,
    inputs: DMatrix<f64>,
    targets: DMatrix<f64>,
    target_indices: Vec<usize>,
    target_labels: Vec<i64>,
}

impl Windows {
    /// Every window of the series: first targets x(lags), …, x(n − horizon).
    ///
    /// ```
    /// use rnn_data::{Series, WindowSpec, Windows};
    /// let s = Series::from_values(vec![1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    /// let w = Windows::all(&s, WindowSpec::multi_step(2, 2).unwrap()).unwrap();
    /// assert_eq!(w.len(), 2);
    /// assert_eq!((w.input(1).unwrap(), w.target(1).unwrap()), (&[2.0, 3.0][..], &[4.0, 5.0][..]));
    /// assert_eq!(w.target_indices(), [2, 3]);
    /// ```
    ///
    /// # Errors
    /// [`Error::NotEnoughData`] for a series shorter than `lags + horizon`,
    /// [`Error::Allocation`] if the `lags × n` inputs cannot be allocated.
    pub fn all(series: &Series, spec: WindowSpec) -> Result<Self> {
        if series.len() < spec.span() {
            return Err(Error::NotEnoughData {
                what: format!("windows of {} lags and horizon {}", spec.lags, spec.horizon),
                needed: spec.span(),
                got: series.len(),
            });
        }
        Self::build(series, spec, spec.lags..series.len() - spec.horizon + 1)
    }

    /// The windows all of whose targets have labels in `labels`; their lags may lie before it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty range (start after end), [`Error::NotEnoughData`]
    /// if no window has all its targets in the range with all its lags in the series,
    /// [`Error::Allocation`] if the windows cannot be allocated.
    pub fn targets_in_labels(series: &Series, spec: WindowSpec, labels: RangeInclusive<i64>) -> Result<Self> {
        crate::series::check_label_range(&labels)?;
        let ls = series.labels();
        let lo = ls.partition_point(|&l| l < *labels.start());
        let hi = ls.partition_point(|&l| l <= *labels.end());
        Self::targets_in(series, spec, lo..hi, || format!("labels {}..={}", labels.start(), labels.end()))
    }

    /// The windows all of whose targets have positions in `indices`; their lags may lie before
    /// it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty range, [`Error::NotEnoughData`] if no window has
    /// all its targets in the range with all its lags in the series, [`Error::Allocation`] if
    /// the windows cannot be allocated.
    pub fn targets_in_indices(series: &Series, spec: WindowSpec, indices: Range<usize>) -> Result<Self> {
        if indices.start >= indices.end {
            return Err(Error::config("target index range", "a non-empty range start..end", format!("{indices:?}")));
        }
        let hi = indices.end.min(series.len());
        Self::targets_in(series, spec, indices.start..hi, || format!("positions {indices:?}"))
    }

    /// The windows whose targets all lie at positions `range` (clipped to the series).
    fn targets_in(series: &Series, spec: WindowSpec, range: Range<usize>, what: impl Fn() -> String) -> Result<Self> {
        // First target t needs t ≥ lags, and t + horizon ≤ min(range.end, n).
        let range = range.start..range.end.min(series.len());
        let first = range.start.max(spec.lags);
        let end = (range.end + 1).saturating_sub(spec.horizon);
        if first >= end {
            return Err(Error::NotEnoughData {
                what: format!(
                    "windows of {} lags and horizon {} with targets at {} ({} values there, {} before)",
                    spec.lags,
                    spec.horizon,
                    what(),
                    range.end.saturating_sub(range.start),
                    range.start
                ),
                needed: 1,
                got: 0,
            });
        }
        Self::build(series, spec, first..end)
    }

    /// The windows with first targets at `first_targets`, all valid: `lags ≤ start` and
    /// `end + horizon − 1 ≤ n`.
    fn build(series: &Series, spec: WindowSpec, first_targets: Range<usize>) -> Result<Self> {
        let x = series.values();
        let n = first_targets.len();
        // n · lags grows as the square of the series (lags up to n/2): size it fallibly.
        let inputs = window_matrix("window inputs", spec.lags, n, |r, k| x[first_targets.start + k - spec.lags + r])?;
        let targets = window_matrix("window targets", spec.horizon, n, |r, k| x[first_targets.start + k + r])?;
        let target_labels = series.labels()[first_targets.clone()].to_vec();
        Ok(Self { spec, inputs, targets, target_indices: first_targets.collect(), target_labels })
    }

    /// The window shape.
    pub fn spec(&self) -> WindowSpec {
        self.spec
    }

    /// Number of windows.
    pub fn len(&self) -> usize {
        self.target_indices.len()
    }

    /// Whether there is no window (never true for windows built by this module).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The inputs, `lags × n`: column k holds window k's past values, oldest first.
    pub fn inputs(&self) -> &DMatrix<f64> {
        &self.inputs
    }

    /// The targets, `horizon × n`: column k holds window k's future values, nearest first.
    pub fn targets(&self) -> &DMatrix<f64> {
        &self.targets
    }

    /// Window k's inputs x(t − lags), …, x(t − 1), or `None` past the end.
    pub fn input(&self, k: usize) -> Option<&[f64]> {
        let start = k.checked_mul(self.spec.lags)?;
        self.inputs.as_slice().get(start..start.checked_add(self.spec.lags)?)
    }

    /// Window k's targets x(t), …, x(t + horizon − 1), or `None` past the end.
    pub fn target(&self, k: usize) -> Option<&[f64]> {
        let start = k.checked_mul(self.spec.horizon)?;
        self.targets.as_slice().get(start..start.checked_add(self.spec.horizon)?)
    }

    /// The one-step targets x(t) of every window (the first target row), for metrics.
    pub fn next_values(&self) -> Vec<f64> {
        self.targets.row(0).iter().copied().collect()
    }

    /// The position t in the series of each window's first target.
    pub fn target_indices(&self) -> &[usize] {
        &self.target_indices
    }

    /// The series label (e.g. year) of each window's first target.
    pub fn target_labels(&self) -> &[i64] {
        &self.target_labels
    }

    /// The windows as one sequence read as a stream, one window per time step: input x(k) is
    /// window k's `lags` values, target y(k) its `horizon` values. This is how a feed-forward
    /// or Elman net with a tapped delay line reads a series.
    ///
    /// ```
    /// use rnn_data::{Series, WindowSpec, Windows};
    /// let s = Series::from_values(vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    /// let seq = Windows::all(&s, WindowSpec::one_step(1).unwrap()).unwrap().to_sequence::<f32>().unwrap();
    /// assert_eq!((seq.inputs.nrows(), seq.len()), (1, 3));
    /// assert_eq!(seq.targets[(0, 2)], 4.0f32);
    /// ```
    ///
    /// # Errors
    /// [`Error::Empty`] for no window.
    pub fn to_sequence<T: Real>(&self) -> Result<Sequence<T>> {
        Sequence::new(self.inputs.map(T::of_f64), self.targets.map(T::of_f64))
    }

    /// The windows as a batch of n sequences of `lags` steps, one value per step: sequence k
    /// reads window k's past values one at a time, x_k(j) = x(t − lags + j), and only its last
    /// step j = lags − 1 has a target, the `horizon` values to predict (the other steps are
    /// masked out of the loss). This is how an LSTM reads a window.
    ///
    /// ```
    /// use rnn_data::{Series, WindowSpec, Windows};
    /// let s = Series::from_values(vec![1.0, 2.0, 3.0, 4.0]).unwrap();
    /// let w = Windows::all(&s, WindowSpec::one_step(2).unwrap()).unwrap();
    /// let batch = w.to_batch::<f64>().unwrap();
    /// assert_eq!((batch.steps(), batch.batch_size(), batch.input_size()), (2, 2, 1));
    /// assert_eq!(batch.input_step(1).iter().copied().collect::<Vec<_>>(), [2.0, 3.0]);
    /// assert!(!batch.is_valid(0, 0) && batch.is_valid(1, 0));
    /// assert_eq!(batch.targets().unwrap()[(0, 3)], 4.0); // step 1, sequence 1
    /// ```
    ///
    /// # Errors
    /// [`Error::Empty`] for no window, [`Error::Allocation`] if the batch (its targets are
    /// `horizon × lags·n`) cannot be allocated.
    pub fn to_batch<T: Real>(&self) -> Result<SeqBatch<T>> {
        let (n, lags, h) = (self.len(), self.spec.lags, self.spec.horizon);
        if n == 0 {
            return Err(Error::empty("windows", 1));
        }
        let columns = checked_size("window batch columns (lags × windows)", lags, n)?;
        let inputs = window_matrix("window batch inputs", 1, columns, |_, c| T::of_f64(self.inputs[(c / n, c % n)]))?;
        let last = (lags - 1) * n;
        let targets = window_matrix("window batch targets", h, columns, |r, c| {
            if c >= last { T::of_f64(self.targets[(r, c - last)]) } else { T::zero() }
        })?;
        let mut valid = try_filled("window batch validity mask", columns, false)?;
        valid[last..].fill(true);
        SeqBatch::new(inputs, Some(targets), lags, n)?.with_valid_mask(valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn years() -> Series {
        // x(year) = year − 1700, so every value names its own year.
        Series::new((1700..=1730).collect(), (0..=30).map(f64::from).collect()).unwrap()
    }

    #[test]
    fn spec_is_checked() {
        assert!(matches!(WindowSpec::one_step(0), Err(Error::InvalidConfig { .. })));
        assert!(matches!(WindowSpec::multi_step(3, 0), Err(Error::InvalidConfig { .. })));
        assert_eq!(WindowSpec::multi_step(3, 2).unwrap().span(), 5);
    }

    #[test]
    fn spans_that_overflow_are_refused_and_huge_ones_find_no_window() {
        for (lags, horizon) in [(usize::MAX, 1), (usize::MAX, 2), (2, usize::MAX), (1 << 63, 1 << 63)] {
            match WindowSpec::multi_step(lags, horizon) {
                Err(Error::InvalidConfig { name, .. }) => assert!(name.contains("span"), "{name}"),
                other => panic!("({lags}, {horizon}): expected InvalidConfig, got {other:?}"),
            }
        }
        let s = Series::from_values(vec![1.0, 2.0, 3.0]).unwrap();
        for (lags, horizon) in [(usize::MAX - 1, 1), (1, usize::MAX - 1), (usize::MAX / 2, usize::MAX / 2)] {
            let spec = WindowSpec::multi_step(lags, horizon).unwrap();
            assert_eq!(spec.span(), lags + horizon);
            assert!(matches!(Windows::all(&s, spec), Err(Error::NotEnoughData { .. })));
            assert!(matches!(Windows::targets_in_labels(&s, spec, 0..=2), Err(Error::NotEnoughData { .. })));
            assert!(matches!(Windows::targets_in_indices(&s, spec, 0..usize::MAX), Err(Error::NotEnoughData { .. })));
        }
        let w = Windows::all(&s, WindowSpec::one_step(1).unwrap()).unwrap();
        assert_eq!((w.input(usize::MAX), w.target(usize::MAX)), (None, None));
    }

    #[test]
    fn one_step_windows_are_aligned_with_years() {
        let s = years();
        let w = Windows::all(&s, WindowSpec::one_step(4).unwrap()).unwrap();
        assert_eq!(w.len(), 31 - 4);
        assert_eq!(w.inputs().shape(), (4, 27));
        assert_eq!(w.targets().shape(), (1, 27));
        for k in 0..w.len() {
            let year = w.target_labels()[k];
            assert_eq!(w.target(k).unwrap(), [(year - 1700) as f64]);
            let expected: Vec<f64> = (year - 4..year).map(|y| (y - 1700) as f64).collect();
            assert_eq!(w.input(k).unwrap(), expected.as_slice());
            assert_eq!(w.target_indices()[k] as i64, year - 1700);
        }
        assert_eq!(w.target_labels()[0], 1704);
        assert_eq!(w.input(27), None);
        assert_eq!(w.next_values().len(), 27);
    }

    #[test]
    fn multi_step_windows() {
        let s = years();
        let w = Windows::all(&s, WindowSpec::multi_step(3, 5).unwrap()).unwrap();
        assert_eq!(w.len(), 31 - 8 + 1);
        assert_eq!(w.target(0).unwrap(), [3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(w.target(w.len() - 1).unwrap(), [26.0, 27.0, 28.0, 29.0, 30.0]);
        assert_eq!(w.next_values()[..2], [3.0, 4.0]);
    }

    #[test]
    fn splits_by_target_year_let_lags_reach_back() {
        let s = years();
        let spec = WindowSpec::one_step(5).unwrap();
        let train = Windows::targets_in_labels(&s, spec, 1700..=1720).unwrap();
        assert_eq!(train.target_labels().first(), Some(&1705)); // 1700–1704 are only lags
        assert_eq!(train.target_labels().last(), Some(&1720));
        let test = Windows::targets_in_labels(&s, spec, 1721..=1725).unwrap();
        assert_eq!(test.target_labels(), [1721, 1722, 1723, 1724, 1725]);
        assert_eq!(test.input(0).unwrap(), [16.0, 17.0, 18.0, 19.0, 20.0]);
        // Multi-step: every target inside the range.
        let ms = Windows::targets_in_labels(&s, WindowSpec::multi_step(2, 3).unwrap(), 1721..=1725).unwrap();
        assert_eq!(ms.target_labels(), [1721, 1722, 1723]);
        // Beyond the series end the range is clipped.
        assert_eq!(Windows::targets_in_labels(&s, spec, 1729..=3000).unwrap().len(), 2);
        // The same by index.
        let by_index = Windows::targets_in_indices(&s, spec, 21..26).unwrap();
        assert_eq!(by_index, test);
    }

    #[test]
    fn empty_or_unreachable_ranges_are_errors() {
        let s = years();
        let spec = WindowSpec::one_step(5).unwrap();
        assert!(matches!(
            Windows::targets_in_labels(&s, spec, RangeInclusive::new(1725, 1720)),
            Err(Error::InvalidConfig { .. })
        ));
        assert!(matches!(Windows::targets_in_labels(&s, spec, 1800..=1900), Err(Error::NotEnoughData { .. })));
        assert!(matches!(Windows::targets_in_labels(&s, spec, 1700..=1704), Err(Error::NotEnoughData { .. })));
        let wide = WindowSpec::multi_step(1, 4).unwrap();
        assert!(matches!(Windows::targets_in_labels(&s, wide, 1710..=1712), Err(Error::NotEnoughData { .. })));
        #[allow(clippy::reversed_empty_ranges)]
        let empty = 5..5;
        assert!(matches!(Windows::targets_in_indices(&s, spec, empty), Err(Error::InvalidConfig { .. })));
        assert!(matches!(Windows::targets_in_indices(&s, spec, 40..50), Err(Error::NotEnoughData { .. })));
        let short = Series::from_values(vec![1.0; 5]).unwrap();
        match Windows::all(&short, spec) {
            Err(Error::NotEnoughData { needed, got, .. }) => assert_eq!((needed, got), (6, 5)),
            other => panic!("expected NotEnoughData, got {other:?}"),
        }
    }

    #[test]
    fn batch_reads_each_window_step_by_step() {
        let s = years();
        let w = Windows::targets_in_labels(&s, WindowSpec::multi_step(3, 2).unwrap(), 1710..=1713).unwrap();
        let b = w.to_batch::<f64>().unwrap();
        let n = w.len();
        assert_eq!((b.steps(), b.batch_size(), n), (3, 3, 3));
        for k in 0..n {
            for j in 0..3 {
                assert_eq!(b.inputs()[(0, j * n + k)], w.input(k).unwrap()[j]);
                assert_eq!(b.is_valid(j, k), j == 2);
            }
            let t = b.targets().unwrap();
            assert_eq!([t[(0, 2 * n + k)], t[(1, 2 * n + k)]], w.target(k).unwrap());
        }
        let seq = w.to_sequence::<f32>().unwrap();
        assert_eq!((seq.inputs.nrows(), seq.targets.nrows(), seq.len()), (3, 2, 3));
    }

    proptest::proptest! {
        #[test]
        fn every_window_matches_the_series(n in 1usize..60, lags in 1usize..10, horizon in 1usize..5) {
            let s = Series::new((100..100 + n as i64).collect(), (0..n).map(|i| (i * i) as f64).collect()).unwrap();
            let spec = WindowSpec::multi_step(lags, horizon).unwrap();
            match Windows::all(&s, spec) {
                Err(Error::NotEnoughData { .. }) => proptest::prop_assert!(n < lags + horizon),
                Err(e) => proptest::prop_assert!(false, "unexpected {e}"),
                Ok(w) => {
                    proptest::prop_assert_eq!(w.len(), n - lags - horizon + 1);
                    for k in 0..w.len() {
                        let t = w.target_indices()[k];
                        proptest::prop_assert_eq!(w.target_labels()[k], 100 + t as i64);
                        proptest::prop_assert_eq!(w.input(k).unwrap(), &s.values()[t - lags..t]);
                        proptest::prop_assert_eq!(w.target(k).unwrap(), &s.values()[t..t + horizon]);
                    }
                }
            }
        }
    }
}
