//! Saving and loading a running [`Rtrl`] learner: the network (weights and mask), the options,
//! and everything a step carries over — P(t), y(t), ỹ(t), which units are forced, the pending
//! gradient — so a loaded learner continues exactly where the saved one stood.

use rnn_core::{
    Error, Persist, Real, Result,
    error::{check_dim, check_finite},
};
use serde::{Deserialize, Serialize, Serializer};

use super::{Rtrl, RtrlOptions, Work, check_memory};
use crate::FullyRecurrent;

/// What a file holds, borrowed for writing. The fields and their order are those of [`Saved`].
#[derive(Serialize)]
#[serde(bound = "")]
struct SavedRef<'a, T: Real> {
    net: &'a FullyRecurrent<T>,
    options: &'a RtrlOptions,
    p: &'a [T],
    y: &'a [T],
    state: &'a [T],
    forced: &'a [bool],
    grad: &'a [T],
    pending: bool,
    updates: usize,
}

/// What a file holds, owned for reading.
#[derive(Deserialize)]
#[serde(bound = "")]
struct Saved<T: Real> {
    net: FullyRecurrent<T>,
    options: RtrlOptions,
    p: Vec<T>,
    y: Vec<T>,
    state: Vec<T>,
    forced: Vec<bool>,
    grad: Vec<T>,
    pending: bool,
    updates: usize,
}

impl<T: Real> SavedRef<'_, T> {
    /// Checks the network, the options and every carried buffer's length and values.
    fn validate(&self) -> Result<()> {
        <FullyRecurrent<T> as Persist>::validate(self.net)?;
        self.options.validate()?;
        check_memory(self.net, self.options)?;
        let (n, wc) = (self.net.units(), self.net.num_weights());
        let len =
            n.checked_mul(wc).ok_or_else(|| Error::config("RTRL sensitivities", "units × weights within usize", n))?;
        check_dim("RTRL sensitivities (units × weights)", len, self.p.len())?;
        check_dim("RTRL outputs y(t) (units)", n, self.y.len())?;
        check_dim("RTRL state ỹ(t) (units)", n, self.state.len())?;
        check_dim("RTRL forced units (units)", n, self.forced.len())?;
        check_dim("RTRL pending gradient (weights)", wc, self.grad.len())?;
        check_finite("RTRL sensitivities", self.p)?;
        check_finite("RTRL outputs y(t)", self.y)?;
        check_finite("RTRL state ỹ(t)", self.state)?;
        check_finite("RTRL pending gradient", self.grad)
    }
}

impl<T: Real> Rtrl<T> {
    fn saved(&self) -> SavedRef<'_, T> {
        SavedRef {
            net: &self.net,
            options: &self.options,
            p: &self.p,
            y: &self.y,
            state: &self.state,
            forced: &self.forced,
            grad: &self.grad,
            pending: self.pending,
            updates: self.updates,
        }
    }
}

impl<T: Real> Serialize for Rtrl<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.saved().serialize(serializer)
    }
}

impl<'de, T: Real> Deserialize<'de> for Rtrl<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let saved = Saved::<T>::deserialize(deserializer)?;
        Self::try_from(saved).map_err(serde::de::Error::custom)
    }
}

impl<T: Real> TryFrom<Saved<T>> for Rtrl<T> {
    type Error = Error;

    /// Validates what was read, then rebuilds the step buffers.
    fn try_from(s: Saved<T>) -> Result<Self> {
        let check = SavedRef {
            net: &s.net,
            options: &s.options,
            p: &s.p,
            y: &s.y,
            state: &s.state,
            forced: &s.forced,
            grad: &s.grad,
            pending: s.pending,
            updates: s.updates,
        };
        check.validate()?;
        let mut net = s.net;
        net.sync();
        let work = Work::new(&net)?;
        Ok(Self {
            net,
            options: s.options,
            p: s.p,
            y: s.y,
            state: s.state,
            forced: s.forced,
            grad: s.grad,
            pending: s.pending,
            updates: s.updates,
            has_step_gradient: false,
            // Unknown until the first step scans P.
            p_bound: T::of_f64(f64::INFINITY),
            work,
        })
    }
}

/// Saves the network, its mask, the options and the running sensitivities and state; a loaded
/// learner's next steps are bit-identical to the saved one's.
///
/// ```
/// use rnn_core::{Persist, Sgd, persist};
/// use rnn_recurrent::{OnlineLearner, RecurrentConfig, Rtrl, RtrlOptions};
/// let net = RecurrentConfig::new(1, 2, 1).seed(3).build::<f64>().unwrap();
/// let mut learner = Rtrl::new(net, RtrlOptions::default()).unwrap();
/// let mut sgd = Sgd::new(0.1).unwrap();
/// learner.step(&[1.0], &[0.5], &[true], &mut sgd).unwrap();
/// let bytes = persist::to_bytes(&learner).unwrap();
/// let loaded: Rtrl<f64> = persist::from_bytes(&bytes).unwrap();
/// assert_eq!(loaded.sensitivities(), learner.sensitivities());
/// assert_eq!(loaded.state(), learner.state());
/// ```
impl<T: Real> Persist for Rtrl<T> {
    const KIND: &'static str = "rnn-recurrent/rtrl";

    fn scalar_name() -> &'static str {
        T::NAME
    }

    /// Checks the network, the options (and that the sensitivities fit their memory limit), the
    /// shapes of P (`N × Wc`), y, ỹ, the forced flags (N each) and the pending gradient (Wc),
    /// and that every value is finite.
    fn validate(&self) -> Result<()> {
        self.saved().validate()
    }
}
