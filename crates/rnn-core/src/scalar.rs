//! The scalar type every model is generic over.

use serde::{Serialize, de::DeserializeOwned};

/// A floating-point scalar: `f32` (benchmarks, deployment) or `f64` (tests, gradient checks).
///
/// It extends nalgebra's [`RealField`](nalgebra::RealField), so matrices of `T` support the
/// whole of nalgebra, and adds the conversions and names the workspace needs.
///
/// ```
/// use rnn_core::Real;
/// fn half<T: Real>(x: T) -> T { x * T::of_f64(0.5) }
/// assert_eq!(half(3.0f32), 1.5);
/// assert_eq!(<f64 as Real>::NAME, "f64");
/// ```
pub trait Real:
    nalgebra::RealField
    + Copy
    + Default
    + std::fmt::Display
    + std::iter::Sum
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// The type's name as written in saved files: `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Machine epsilon of the type.
    const EPSILON: Self;

    /// Converts from `f64`, rounding to nearest.
    fn of_f64(x: f64) -> Self;
    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;
    /// Converts from `usize` (as `f64` first).
    fn of_usize(n: usize) -> Self {
        Self::of_f64(n as f64)
    }
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    const EPSILON: Self = f32::EPSILON;
    #[inline]
    fn of_f64(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    const EPSILON: Self = f64::EPSILON;
    #[inline]
    fn of_f64(x: f64) -> Self {
        x
    }
    #[inline]
    fn as_f64(self) -> f64 {
        self
    }
}
