//! Building a [`FullyRecurrent`] network.

use rnn_core::{Activation, Error, Real, Result};
use serde::{Deserialize, Serialize};

use crate::{Connectivity, FullyRecurrent};

/// The shape and initialisation of a fully recurrent network.
///
/// M inputs, N units, and K of the units are outputs (by default units 0..K). Every unit uses
/// the logistic function unless told otherwise (Williams & Zipser's choice), every weight is
/// present unless a [`Connectivity`] says otherwise, and weights start uniform in
/// [−0.1, 0.1].
///
/// ```
/// use rnn_core::Activation;
/// use rnn_recurrent::RecurrentConfig;
/// let net = RecurrentConfig::new(2, 4, 1).activation(Activation::Tanh).init_range(0.2).seed(3).build::<f64>().unwrap();
/// assert_eq!((net.inputs(), net.units(), net.outputs()), (2, 4, &[0][..]));
/// assert_eq!(net.num_weights(), 4 * (2 + 4 + 1));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecurrentConfig {
    inputs: usize,
    units: usize,
    outputs: Vec<usize>,
    activation: Activation,
    unit_activations: Option<Vec<Activation>>,
    connectivity: Option<Connectivity>,
    init_range: f64,
    seed: u64,
}

impl RecurrentConfig {
    /// `inputs` external inputs, `units` units, the first `outputs` of which are outputs.
    pub fn new(inputs: usize, units: usize, outputs: usize) -> Self {
        Self {
            inputs,
            units,
            outputs: (0..outputs).collect(),
            activation: Activation::Logistic,
            unit_activations: None,
            connectivity: None,
            init_range: 0.1,
            seed: 0,
        }
    }

    /// Which units are outputs, in the order of the targets (replaces the first K).
    ///
    /// ```
    /// use rnn_recurrent::RecurrentConfig;
    /// let net = RecurrentConfig::new(1, 3, 1).output_units([2]).build::<f64>().unwrap();
    /// assert_eq!(net.outputs(), &[2]);
    /// ```
    pub fn output_units(mut self, units: impl IntoIterator<Item = usize>) -> Self {
        self.outputs = units.into_iter().collect();
        self
    }

    /// The activation f of every unit.
    pub fn activation(mut self, f: Activation) -> Self {
        self.activation = f;
        self.unit_activations = None;
        self
    }

    /// One activation per unit.
    pub fn unit_activations(mut self, fs: Vec<Activation>) -> Self {
        self.unit_activations = Some(fs);
        self
    }

    /// Which weights exist (all by default).
    pub fn connectivity(mut self, connectivity: Connectivity) -> Self {
        self.connectivity = Some(connectivity);
        self
    }

    /// Initial weights uniform in [−r, r].
    pub fn init_range(mut self, r: f64) -> Self {
        self.init_range = r;
        self
    }

    /// The seed of the initial weights.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for no unit, a size whose mask would exceed
    /// [`MAX_MASK_ENTRIES`](crate::MAX_MASK_ENTRIES), no output, an output index out of range
    /// or repeated, an activation with no useful derivative ([`Activation::Sign`]) or a
    /// [`Activation::ScaledLogistic`] whose bounds are not finite with min < max, a negative or
    /// non-finite initial range; [`Error::DimensionMismatch`] for per-unit activations or a
    /// connectivity of another size; [`Error::Empty`] for a connectivity with no weight.
    pub fn validate(&self) -> Result<()> {
        if self.units == 0 {
            return Err(Error::config("units", "at least 1", 0));
        }
        // Sizes first, with checked arithmetic, before anything is allocated.
        crate::connectivity::mask_entries(self.inputs, self.units)?;
        if self.outputs.is_empty() {
            return Err(Error::config("outputs", format!("at least 1 of the {} units", self.units), 0));
        }
        let mut sorted = self.outputs.clone();
        sorted.sort_unstable();
        if let Some(&k) = sorted.last().filter(|&&k| k >= self.units) {
            return Err(Error::config("output unit", format!("an index below {}", self.units), k));
        }
        if let Some(pair) = sorted.windows(2).find(|p| p[0] == p[1]) {
            return Err(Error::config("output units", "each unit at most once", format!("unit {} twice", pair[0])));
        }
        if let Some(fs) = &self.unit_activations {
            rnn_core::error::check_dim("per-unit activations (units)", self.units, fs.len())?;
            fs.iter().try_for_each(|&f| check_activation(f))?;
        } else {
            check_activation(self.activation)?;
        }
        if !(self.init_range.is_finite() && self.init_range >= 0.0) {
            return Err(Error::config("initial weight range", "a finite r ≥ 0", self.init_range));
        }
        if let Some(c) = &self.connectivity {
            rnn_core::error::check_dim("connectivity inputs", self.inputs, c.inputs())?;
            rnn_core::error::check_dim("connectivity units", self.units, c.units())?;
            c.validate()?;
            if c.num_weights() == 0 {
                return Err(Error::empty("connectivity (weights)", 1));
            }
        }
        Ok(())
    }

    /// [`validate`](Self::validate), and that the initial range and the activations' bounds
    /// are finite in `T` (1e300 is a valid `f64` but infinite as `f32`).
    fn validate_in<T: Real>(&self) -> Result<()> {
        self.validate()?;
        if !T::of_f64(self.init_range).is_finite() {
            return Err(Error::config(
                "initial weight range",
                format!("a value finite in {}", T::NAME),
                self.init_range,
            ));
        }
        match &self.unit_activations {
            Some(fs) => fs.iter().try_for_each(|&f| check_activation_in::<T>(f)),
            None => check_activation_in::<T>(self.activation),
        }
    }

    /// Builds the network.
    ///
    /// # Errors
    /// As [`validate`](Self::validate), and [`Error::InvalidConfig`] for an initial range or
    /// activation bounds that are not finite in `T`; [`Error::Allocation`] for a network too
    /// large to hold.
    pub fn build<T: Real>(&self) -> Result<FullyRecurrent<T>> {
        self.validate_in::<T>()?;
        let connectivity = match &self.connectivity {
            Some(c) => c.clone(),
            None => Connectivity::full(self.inputs, self.units)?,
        };
        let mut net = FullyRecurrent::from_parts(connectivity, self.outputs.clone(), self.activations())?;
        let mut rng = rnn_core::rng::seeded(self.seed);
        rnn_core::init::uniform(rnn_core::Parameters::params_mut(&mut net), self.init_range, &mut rng)?;
        Ok(net)
    }

    fn activations(&self) -> Vec<Activation> {
        self.unit_activations.clone().unwrap_or_else(|| vec![self.activation; self.units])
    }
}

/// An activation this crate can train ([`rnn_core::activation::check_trainable`]).
pub(crate) fn check_activation(f: Activation) -> Result<()> {
    rnn_core::activation::check_trainable(|| "activation".into(), f)
}

/// An activation whose constants are finite in `T` ([`rnn_core::activation::check_finite_in`]).
pub(crate) fn check_activation_in<T: Real>(f: Activation) -> Result<()> {
    rnn_core::activation::check_finite_in::<T>(|| "activation".into(), f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Source;

    #[test]
    fn bad_configurations_are_refused_with_what_was_expected() {
        let bad = [
            RecurrentConfig::new(1, 0, 1),
            RecurrentConfig::new(1, 2, 0),
            RecurrentConfig::new(1, 2, 1).output_units([2]),
            RecurrentConfig::new(1, 2, 1).output_units([1, 1]),
            RecurrentConfig::new(1, 2, 1).activation(Activation::Sign),
            RecurrentConfig::new(1, 2, 1).init_range(f64::NAN),
            RecurrentConfig::new(1, 2, 1).init_range(-1.0),
            RecurrentConfig::new(usize::MAX, 1, 1),
            RecurrentConfig::new(usize::MAX - 1, 1, 1),
            RecurrentConfig::new(1, 1 << 40, 1),
            RecurrentConfig::new(1, usize::MAX / 2, 1),
            RecurrentConfig::new(1, 2, 1).activation(Activation::ScaledLogistic { min: 1.0, max: 1.0 }),
            RecurrentConfig::new(1, 2, 1).activation(Activation::ScaledLogistic { min: f64::NAN, max: 1.0 }),
            RecurrentConfig::new(1, 2, 1).activation(Activation::ScaledLogistic { min: -1e308, max: 1e308 }),
        ];
        for c in bad {
            assert!(matches!(c.build::<f64>(), Err(Error::InvalidConfig { .. })), "{c:?}");
        }
        let c = RecurrentConfig::new(1, 2, 1).unit_activations(vec![Activation::Tanh]);
        assert!(matches!(c.build::<f64>(), Err(Error::DimensionMismatch { expected: 2, got: 1, .. })));
        let c = RecurrentConfig::new(1, 2, 1).connectivity(Connectivity::full(2, 2).unwrap());
        assert!(matches!(c.build::<f64>(), Err(Error::DimensionMismatch { .. })));
        let c = RecurrentConfig::new(1, 2, 1).connectivity(Connectivity::none(1, 2).unwrap());
        assert!(matches!(c.build::<f64>(), Err(Error::Empty { .. })));
        // Finite in f64, not in f32.
        assert!(RecurrentConfig::new(1, 3, 1).init_range(1e300).build::<f64>().is_ok());
        assert!(matches!(
            RecurrentConfig::new(1, 3, 1).init_range(1e300).build::<f32>(),
            Err(Error::InvalidConfig { .. })
        ));
        let wide = Activation::ScaledLogistic { min: -1e39, max: 1e39 };
        assert!(matches!(
            RecurrentConfig::new(1, 3, 1).activation(wide).build::<f32>(),
            Err(Error::InvalidConfig { .. })
        ));
        // A connectivity read from a file with a short mask.
        let mut v = serde_json::to_value(RecurrentConfig::new(1, 2, 1).connectivity(Connectivity::full(1, 2).unwrap()))
            .unwrap();
        v["connectivity"]["allowed"] = serde_json::json!([true]);
        assert!(serde_json::from_value::<RecurrentConfig>(v).is_err());
    }

    #[test]
    fn the_seed_decides_the_weights_and_masked_weights_are_zero() {
        let c = Connectivity::full(1, 2).unwrap().without(0, Source::Unit(1)).unwrap();
        let a = RecurrentConfig::new(1, 2, 1).connectivity(c.clone()).seed(5).build::<f64>().unwrap();
        let b = RecurrentConfig::new(1, 2, 1).connectivity(c).seed(5).build::<f64>().unwrap();
        let other = RecurrentConfig::new(1, 2, 1).seed(6).build::<f64>().unwrap();
        assert_eq!(rnn_core::Parameters::params(&a), rnn_core::Parameters::params(&b));
        assert_ne!(rnn_core::Parameters::params(&a)[..7], rnn_core::Parameters::params(&other)[..7]);
        assert_eq!(a.weights()[(0, 2)], 0.0);
        assert!(rnn_core::Parameters::params(&a).iter().all(|w| w.abs() <= 0.1));
    }
}
