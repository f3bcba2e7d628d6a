//! Which weights a network has: a mask over W.
//!
//! Williams & Zipser write the net input of unit k as s_k(t) = Σ_l w_kl z_l(t) over
//! z(t) = [x(t); y(t); 1]: M external inputs, the N units' outputs and a bias. W is
//! `N × (M + N + 1)`; a [`Connectivity`] says which of its entries exist. Absent weights are
//! exactly zero and stay so: they are not parameters at all.

use nalgebra::DMatrix;
use rnn_core::{Error, Result};
use serde::{Deserialize, Serialize};

/// Where a weight's signal comes from: one entry of z(t) = [x(t); y(t); 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// External input x_i(t).
    Input(usize),
    /// Unit output y_l(t), the recurrent connections.
    Unit(usize),
    /// The constant 1 (a unit's bias).
    Bias,
}

/// The most entries a mask may have, `units × (inputs + units + 1)`: 2³⁶ (a mask of 64 GiB,
/// and as many weights), far beyond what trains; larger sizes are refused before anything is
/// allocated.
pub const MAX_MASK_ENTRIES: usize = 1 << 36;

/// The mask over W (`units × (inputs + units + 1)`): which weights exist.
///
/// ```
/// use rnn_recurrent::{Connectivity, Source};
/// // One neuron connected to itself, with a bias and no input.
/// let c = Connectivity::none(0, 1)?.with(0, Source::Unit(0))?.with(0, Source::Bias)?;
/// assert_eq!(c.num_weights(), 2);
/// assert!(c.allows(0, Source::Unit(0)));
/// assert_eq!(Connectivity::full(2, 3)?.num_weights(), 3 * (2 + 3 + 1));
/// // Sizes are checked before anything is allocated.
/// assert!(Connectivity::full(1 << 40, 1 << 20).is_err());
/// # Ok::<(), rnn_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawConnectivity")]
pub struct Connectivity {
    inputs: usize,
    units: usize,
    /// Column-major `units × (inputs + units + 1)`.
    allowed: Vec<bool>,
}

/// The entries of a `units × (inputs + units + 1)` mask, or why there cannot be that many.
pub(crate) fn mask_entries(inputs: usize, units: usize) -> Result<usize> {
    let columns = inputs.checked_add(units).and_then(|c| c.checked_add(1));
    match columns.and_then(|c| c.checked_mul(units)) {
        Some(entries) if entries <= MAX_MASK_ENTRIES => Ok(entries),
        _ => Err(Error::config(
            "network size",
            format!("units × (inputs + units + 1) at most 2^36 ({MAX_MASK_ENTRIES})"),
            format!("{units} units and {inputs} inputs"),
        )),
    }
}

impl Connectivity {
    /// Every weight present (the default network).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `units × (inputs + units + 1)` exceeds
    /// [`MAX_MASK_ENTRIES`], [`Error::Allocation`] when the mask cannot be allocated.
    pub fn full(inputs: usize, units: usize) -> Result<Self> {
        Self::from_fn(inputs, units, |_, _| true)
    }

    /// No weight at all; add them with [`with`](Self::with).
    ///
    /// # Errors
    /// As [`full`](Self::full).
    pub fn none(inputs: usize, units: usize) -> Result<Self> {
        Self::from_fn(inputs, units, |_, _| false)
    }

    /// `allow(unit, source)` for every entry.
    ///
    /// # Errors
    /// As [`full`](Self::full).
    ///
    /// ```
    /// use rnn_recurrent::{Connectivity, Source};
    /// // No self-connections.
    /// let c = Connectivity::from_fn(1, 3, |k, s| s != Source::Unit(k))?;
    /// assert_eq!(c.num_weights(), 3 * 5 - 3);
    /// # Ok::<(), rnn_core::Error>(())
    /// ```
    pub fn from_fn(inputs: usize, units: usize, mut allow: impl FnMut(usize, Source) -> bool) -> Result<Self> {
        let entries = mask_entries(inputs, units)?;
        let mut allowed = rnn_core::alloc::try_filled("connectivity mask", entries, false)?;
        let columns = inputs + units + 1;
        for j in 0..columns {
            let source = source_of(inputs, units, j);
            for k in 0..units {
                allowed[j * units + k] = allow(k, source);
            }
        }
        Ok(Self { inputs, units, allowed })
    }

    /// The mask from a `units × (inputs + units + 1)` matrix (columns: inputs, units, bias).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for a matrix of another shape.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_recurrent::Connectivity;
    /// assert!(Connectivity::from_matrix(1, &DMatrix::from_element(2, 4, true)).is_ok());
    /// assert!(Connectivity::from_matrix(1, &DMatrix::from_element(2, 3, true)).is_err());
    /// ```
    pub fn from_matrix(inputs: usize, mask: &DMatrix<bool>) -> Result<Self> {
        let units = mask.nrows();
        mask_entries(inputs, units)?;
        rnn_core::error::check_dim(
            &format!("connectivity mask columns (inputs {inputs} + units {units} + bias)"),
            inputs + units + 1,
            mask.ncols(),
        )?;
        Ok(Self { inputs, units, allowed: mask.as_slice().to_vec() })
    }

    /// The same mask with the weight from `source` into `unit` present.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a unit or source out of range.
    pub fn with(mut self, unit: usize, source: Source) -> Result<Self> {
        let i = self.index(unit, source)?;
        self.allowed[i] = true;
        Ok(self)
    }

    /// The same mask with the weight from `source` into `unit` absent.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a unit or source out of range.
    pub fn without(mut self, unit: usize, source: Source) -> Result<Self> {
        let i = self.index(unit, source)?;
        self.allowed[i] = false;
        Ok(self)
    }

    /// Whether the weight from `source` into `unit` exists (false when out of range).
    pub fn allows(&self, unit: usize, source: Source) -> bool {
        self.index(unit, source).map(|i| self.allowed[i]).unwrap_or(false)
    }

    /// M, the number of external inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// N, the number of units.
    pub fn units(&self) -> usize {
        self.units
    }

    /// Columns of W: M + N + 1.
    pub fn columns(&self) -> usize {
        self.inputs + self.units + 1
    }

    /// The number of weights present (the network's parameter count).
    pub fn num_weights(&self) -> usize {
        self.allowed.iter().filter(|&&a| a).count()
    }

    /// The mask as a `units × (inputs + units + 1)` matrix.
    pub fn to_matrix(&self) -> DMatrix<bool> {
        DMatrix::from_column_slice(self.units, self.columns(), &self.allowed)
    }

    /// The column of W fed by `source`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a source out of range.
    pub fn column_of(&self, source: Source) -> Result<usize> {
        match source {
            Source::Input(i) if i < self.inputs => Ok(i),
            Source::Unit(l) if l < self.units => Ok(self.inputs + l),
            Source::Bias => Ok(self.inputs + self.units),
            Source::Input(i) => Err(Error::config("input index", format!("below {}", self.inputs), i)),
            Source::Unit(l) => Err(Error::config("unit index", format!("below {}", self.units), l)),
        }
    }

    /// The present weights as (unit k, column j) of W, in parameter order: column-major, so
    /// input weights come first, then recurrent weights, then biases.
    pub fn weight_positions(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let n = self.units.max(1);
        self.allowed.iter().enumerate().filter(|(_, a)| **a).map(move |(i, _)| (i % n, i / n))
    }

    /// Number of present weights in columns `range` of W.
    pub(crate) fn count_in_columns(&self, range: std::ops::Range<usize>) -> usize {
        self.allowed[range.start * self.units..range.end * self.units].iter().filter(|&&a| a).count()
    }

    /// Checks the sizes and the stored length (for values read from a file).
    pub(crate) fn validate(&self) -> Result<()> {
        let expected = mask_entries(self.inputs, self.units)?;
        rnn_core::error::check_dim("connectivity mask entries", expected, self.allowed.len())
    }

    fn index(&self, unit: usize, source: Source) -> Result<usize> {
        if unit >= self.units {
            return Err(Error::config("unit index", format!("below {}", self.units), unit));
        }
        Ok(self.column_of(source)? * self.units + unit)
    }
}

/// A mask as read from a file, checked before it becomes a [`Connectivity`].
#[derive(Deserialize)]
struct RawConnectivity {
    inputs: usize,
    units: usize,
    allowed: Vec<bool>,
}

impl TryFrom<RawConnectivity> for Connectivity {
    type Error = Error;

    fn try_from(raw: RawConnectivity) -> Result<Self> {
        let c = Self { inputs: raw.inputs, units: raw.units, allowed: raw.allowed };
        c.validate()?;
        Ok(c)
    }
}

/// The source feeding column `j` of W.
pub(crate) fn source_of(inputs: usize, units: usize, j: usize) -> Source {
    if j < inputs {
        Source::Input(j)
    } else if j < inputs + units {
        Source::Unit(j - inputs)
    } else {
        Source::Bias
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_column_major_and_sources_round_trip() {
        let c = Connectivity::from_fn(1, 2, |k, s| !(k == 1 && s == Source::Input(0))).unwrap();
        let positions: Vec<_> = c.weight_positions().collect();
        assert_eq!(positions, [(0, 0), (0, 1), (1, 1), (0, 2), (1, 2), (0, 3), (1, 3)]);
        assert_eq!(c.count_in_columns(0..1), 1);
        assert_eq!(c.count_in_columns(1..3), 4);
        for j in 0..c.columns() {
            assert_eq!(c.column_of(source_of(1, 2, j)).unwrap(), j);
        }
        assert!(c.column_of(Source::Input(1)).is_err());
        assert!(c.column_of(Source::Unit(2)).is_err());
    }

    #[test]
    fn with_and_without_check_their_indices() {
        let c = Connectivity::none(2, 2).unwrap();
        assert!(matches!(c.clone().with(2, Source::Bias), Err(Error::InvalidConfig { .. })));
        assert!(matches!(c.clone().with(0, Source::Input(2)), Err(Error::InvalidConfig { .. })));
        let c = c.with(1, Source::Input(1)).unwrap();
        assert!(c.allows(1, Source::Input(1)) && !c.allows(0, Source::Input(1)) && !c.allows(9, Source::Bias));
        assert_eq!(c.clone().without(1, Source::Input(1)).unwrap().num_weights(), 0);
        assert_eq!(Connectivity::from_matrix(2, &c.to_matrix()).unwrap(), c);
    }

    #[test]
    fn sizes_that_overflow_or_exceed_the_cap_are_refused_before_allocating() {
        for (inputs, units) in [(usize::MAX, 1), (usize::MAX - 1, 1), (1, usize::MAX / 2), (1 << 40, 1), (1, 1 << 20)] {
            assert!(matches!(Connectivity::full(inputs, units), Err(Error::InvalidConfig { .. })), "{inputs} {units}");
        }
        assert!(Connectivity::from_matrix(usize::MAX, &DMatrix::from_element(1, 1, true)).is_err());
        let short = serde_json::json!({ "inputs": 1, "units": 2, "allowed": [true] });
        assert!(serde_json::from_value::<Connectivity>(short).is_err());
        let wrapping = serde_json::json!({ "inputs": usize::MAX, "units": 1, "allowed": [true] });
        assert!(serde_json::from_value::<Connectivity>(wrapping).is_err());
    }
}
