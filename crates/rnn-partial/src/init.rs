//! How the weights of a new net are drawn.

use nalgebra::DMatrixViewMut;
use rnn_core::{Error, Real, Result, alloc, init, rng};
use serde::{Deserialize, Serialize};

use crate::arch::{Arch, num};

/// The initialisation scheme of a new net; every draw comes from the config's seed.
///
/// Layer 0 reads the input and the context side by side, so its fan-in is I + C for both
/// `w_in` and `w_context`.
///
/// ```
/// use rnn_partial::{ElmanConfig, Init};
/// use rnn_core::Parameters;
/// let net = ElmanConfig::new(1, &[4], 1).init(Init::Uniform(0.1)).seed(7).build::<f64>().unwrap();
/// assert!(net.params().iter().all(|w| w.abs() <= 0.1));
/// assert!(ElmanConfig::new(1, &[4], 1).init(Init::Uniform(-1.0)).build::<f64>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub enum Init {
    /// Every weight and bias from U(−a, a), as in the early papers (Elman 1990 drew from a
    /// small symmetric range).
    Uniform(f64),
    /// Glorot (Xavier) uniform for every weight matrix, U(−a, a) with
    /// a = √(6 / (fan_in + fan_out)); biases 0.
    #[default]
    Glorot,
    /// Glorot uniform for `w_in`, the further hidden layers and `w_out`, `gain` times a random
    /// orthogonal matrix for `w_context` (Saxe et al. 2014); biases 0.
    Orthogonal(f64),
}

impl Init {
    /// Checks the scheme's own number.
    pub(crate) fn validate(self) -> Result<()> {
        match self {
            Init::Uniform(a) if !(a.is_finite() && a >= 0.0) => {
                Err(Error::config("uniform initialisation limit a", "a finite value ≥ 0", a))
            }
            Init::Orthogonal(g) if !g.is_finite() => {
                Err(Error::config("orthogonal initialisation gain", "a finite value", g))
            }
            _ => Ok(()),
        }
    }

    /// A parameter vector for `arch` (validated), drawn with `seed`.
    ///
    /// # Errors
    /// [`Error::Allocation`] if the vector cannot be had;
    /// [`Error::InvalidConfig`] naming the scheme's number if a weight drawn is not finite in
    /// `T` (`Uniform(1e39)` overflows `f32`).
    pub(crate) fn draw<T: Real>(self, arch: &Arch, seed: u64) -> Result<Vec<T>> {
        self.validate()?;
        let mut p = alloc::try_filled("parameters", arch.num_params(), T::zero())?;
        self.fill(&mut p, arch, seed)?;
        if let Some(i) = p.iter().position(|w| !w.is_finite()) {
            let (name, value) = match self {
                Init::Uniform(a) => ("uniform initialisation limit a", num(a)),
                Init::Orthogonal(g) => ("orthogonal initialisation gain", num(g)),
                Init::Glorot => ("initialisation", "Glorot".to_string()),
            };
            return Err(Error::config(
                name,
                format!("a value whose weights are finite in {} (weight {i} drew {})", T::NAME, p[i]),
                value,
            ));
        }
        Ok(p)
    }

    fn fill<T: Real>(self, p: &mut [T], arch: &Arch, seed: u64) -> Result<()> {
        let mut rng = rng::seeded(seed);
        if let Init::Uniform(a) = self {
            return init::uniform(p, a, &mut rng);
        }
        let h0 = arch.hidden[0];
        let fan_in0 = arch.inputs + arch.context();
        init::glorot_uniform(&mut p[arch.w_in()], fan_in0, h0, &mut rng)?;
        match self {
            Init::Orthogonal(gain) => {
                let mut w = DMatrixViewMut::from_slice(&mut p[arch.w_context()], h0, arch.context());
                init::orthogonal(&mut w, gain, &mut rng)?;
            }
            _ => init::glorot_uniform(&mut p[arch.w_context()], fan_in0, h0, &mut rng)?,
        }
        for l in 1..arch.layers() {
            init::glorot_uniform(&mut p[arch.w_hidden(l)], arch.hidden[l - 1], arch.hidden[l], &mut rng)?;
        }
        init::glorot_uniform(&mut p[arch.w_out()], arch.last_hidden(), arch.outputs, &mut rng)
    }
}
