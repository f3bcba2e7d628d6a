//! Activation functions f and their derivatives f′.

use serde::{Deserialize, Serialize};

use crate::Real;

/// An activation function, applied element-wise.
///
/// | variant | f(x) | f′ as a function of y = f(x) |
/// |---|---|---|
/// | `Identity` | x | 1 |
/// | `Logistic` | 1 / (1 + e^(−x)) | y (1 − y) |
/// | `Tanh` | tanh x | 1 − y² |
/// | `Relu` | max(0, x) | 1 if y > 0 else 0 |
/// | `Sign` | +1 if x ≥ 0 else −1 (bipolar, Hopfield) | 0 (not trainable by gradient) |
/// | `ScaledLogistic { min, max }` | min + (max − min) / (1 + e^(−x)) | (y − min)(max − y) / (max − min) |
///
/// Every derivative is available from the output y alone, which is what backpropagation keeps.
///
/// ```
/// use rnn_core::Activation;
/// let y = Activation::Logistic.apply(0.0f64);
/// assert_eq!(y, 0.5);
/// assert_eq!(Activation::Logistic.derivative_from_output(y), 0.25);
/// assert_eq!(Activation::Sign.apply(-0.3f32), -1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub enum Activation {
    /// f(x) = x.
    Identity,
    /// The logistic sigmoid 1 / (1 + e^(−x)), range (0, 1).
    Logistic,
    /// The hyperbolic tangent, range (−1, 1).
    #[default]
    Tanh,
    /// The rectifier max(0, x).
    Relu,
    /// The bipolar sign: +1 for x ≥ 0, −1 otherwise. Its derivative is taken as 0.
    Sign,
    /// A logistic stretched to (min, max), as in the 1997 LSTM (g in (−2, 2), h in (−1, 1)).
    ScaledLogistic {
        /// Lower limit of the range.
        min: f64,
        /// Upper limit of the range.
        max: f64,
    },
}

impl Activation {
    /// f(x).
    #[inline]
    pub fn apply<T: Real>(self, x: T) -> T {
        match self {
            Activation::Identity => x,
            Activation::Logistic => logistic(x),
            Activation::Tanh => x.tanh(),
            Activation::Relu => {
                if x > T::zero() {
                    x
                } else {
                    T::zero()
                }
            }
            Activation::Sign => {
                if x >= T::zero() {
                    T::one()
                } else {
                    -T::one()
                }
            }
            Activation::ScaledLogistic { min, max } => T::of_f64(min) + T::of_f64(max - min) * logistic(x),
        }
    }

    /// f′(x) from the output y = f(x).
    #[inline]
    pub fn derivative_from_output<T: Real>(self, y: T) -> T {
        match self {
            Activation::Identity => T::one(),
            Activation::Logistic => y * (T::one() - y),
            Activation::Tanh => T::one() - y * y,
            Activation::Relu => {
                if y > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            Activation::Sign => T::zero(),
            Activation::ScaledLogistic { min, max } => {
                (y - T::of_f64(min)) * (T::of_f64(max) - y) / T::of_f64(max - min)
            }
        }
    }

    /// f′(x) from the net input x.
    #[inline]
    pub fn derivative<T: Real>(self, x: T) -> T {
        self.derivative_from_output(self.apply(x))
    }

    /// Applies f in place to every element of `xs`.
    ///
    /// In `f32`, tanh and the logistic (σ(x) = (1 + tanh(x/2))/2) use a vectorised rational
    /// approximation of tanh, within 4·10⁻⁷ relative error (a few units in the last place);
    /// other types and functions go element by element through [`apply`](Self::apply).
    #[inline]
    pub fn apply_slice<T: Real>(self, xs: &mut [T]) {
        if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
            // SAFETY: T is f32 (checked just above), so the slice has the same layout.
            let xs32 = unsafe { &mut *(xs as *mut [T] as *mut [f32]) };
            match self {
                Activation::Tanh => return crate::fast_tanh::tanh_f32(xs32),
                Activation::Logistic => return crate::fast_tanh::logistic_f32(xs32),
                _ => {}
            }
        }
        match self {
            Activation::Identity => {}
            Activation::Tanh => xs.iter_mut().for_each(|x| *x = x.tanh()),
            _ => xs.iter_mut().for_each(|x| *x = self.apply(*x)),
        }
    }

    /// Multiplies each `delta[i]` by f′ evaluated from the output `ys[i]`: δ ← δ ⊙ f′(y).
    #[inline]
    pub fn backprop_slice<T: Real>(self, ys: &[T], delta: &mut [T]) {
        debug_assert_eq!(ys.len(), delta.len());
        match self {
            Activation::Identity => {}
            Activation::Tanh => delta.iter_mut().zip(ys).for_each(|(d, &y)| *d *= T::one() - y * y),
            _ => delta.iter_mut().zip(ys).for_each(|(d, &y)| *d *= self.derivative_from_output(y)),
        }
    }

    /// Whether a gradient can pass through this function (false only for `Sign`).
    pub fn is_differentiable(self) -> bool {
        !matches!(self, Activation::Sign)
    }
}

/// Checks that gradient training can use `f` (`name()` says where it is used, e.g. "output
/// activation"): every function but [`Activation::Sign`], whose derivative is zero, and for a
/// [`Activation::ScaledLogistic`] finite bounds min < max whose range max − min is finite too.
///
/// # Errors
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming `name()` otherwise.
///
/// ```
/// use rnn_core::{Activation, activation::check_trainable};
/// assert!(check_trainable(|| "hidden".into(), Activation::Tanh).is_ok());
/// assert!(check_trainable(|| "hidden".into(), Activation::Sign).is_err());
/// assert!(check_trainable(|| "hidden".into(), Activation::ScaledLogistic { min: 1.0, max: 1.0 }).is_err());
/// ```
pub fn check_trainable(name: impl Fn() -> String, f: Activation) -> crate::Result<()> {
    if let Activation::ScaledLogistic { min, max } = f
        && !(min.is_finite() && max.is_finite() && min < max && (max - min).is_finite())
    {
        return Err(crate::Error::config(
            name(),
            "ScaledLogistic with finite min < max and a finite range max − min",
            format!("min {}, max {}", short(min), short(max)),
        ));
    }
    if !f.is_differentiable() {
        return Err(crate::Error::config(name(), "a differentiable activation", format!("{f:?}")));
    }
    Ok(())
}

/// Checks that `f`'s constants stay finite in `T`: for a scaled logistic y = min + (max − min)·σ(x)
/// with f′ = (y − min)(max − y)/(max − min), the bounds, the range and the derivative's largest
/// numerator ((max − min)/2)².
///
/// # Errors
/// [`Error::InvalidConfig`](crate::Error::InvalidConfig) naming `name()` otherwise.
///
/// ```
/// use rnn_core::{Activation, activation::check_finite_in};
/// let wide = Activation::ScaledLogistic { min: -1e39, max: 1e39 };
/// assert!(check_finite_in::<f64>(|| "output".into(), wide).is_ok());
/// assert!(check_finite_in::<f32>(|| "output".into(), wide).is_err());
/// ```
pub fn check_finite_in<T: Real>(name: impl Fn() -> String, f: Activation) -> crate::Result<()> {
    if let Activation::ScaledLogistic { min, max } = f {
        let half = T::of_f64((max - min) / 2.0);
        if ![T::of_f64(min), T::of_f64(max), T::of_f64(max - min), half * half].iter().all(|v| v.is_finite()) {
            return Err(crate::Error::config(
                name(),
                format!("ScaledLogistic whose bounds, range and squared half-range are finite in {}", T::NAME),
                format!("min {}, max {}", short(min), short(max)),
            ));
        }
    }
    Ok(())
}

/// A number for an error message: plain when moderate, scientific when tiny or huge.
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e16).contains(&x.abs()) { x.to_string() } else { format!("{x:e}") }
}

/// The logistic sigmoid, computed without overflow for large |x|.
#[inline]
pub fn logistic<T: Real>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        let acts = [
            Activation::Identity,
            Activation::Logistic,
            Activation::Tanh,
            Activation::Relu,
            Activation::ScaledLogistic { min: -2.0, max: 2.0 },
        ];
        for act in acts {
            for &x in &[-2.3f64, -0.4, 0.7, 1.9] {
                let h = 1e-6;
                let numeric = (act.apply(x + h) - act.apply(x - h)) / (2.0 * h);
                let analytic = act.derivative(x);
                assert!((numeric - analytic).abs() < 1e-8, "{act:?} at {x}: {numeric} vs {analytic}");
            }
        }
    }

    #[test]
    fn logistic_is_stable_at_extremes() {
        assert_eq!(logistic(-1000.0f64), 0.0);
        assert_eq!(logistic(1000.0f64), 1.0);
        assert!(logistic(-100.0f32).is_finite());
    }
}
