//! Gradient-norm clipping.

use crate::Real;

/// The Euclidean norm ‖g‖₂ = √(Σᵢ gᵢ²), computed without overflow or underflow for large or
/// tiny entries (scaled by the largest |gᵢ|).
///
/// Returns NaN if `grad` holds a NaN, +∞ if it holds an infinity, and 0 for an empty slice.
///
/// ```
/// assert_eq!(rnn_core::optim::grad_norm(&[3.0f64, -4.0]), 5.0);
/// assert_eq!(rnn_core::optim::grad_norm(&[3e30f32, 4e30]), 5e30);
/// ```
pub fn grad_norm<T: Real>(grad: &[T]) -> T {
    let mut scale = T::zero();
    let mut infinite = false;
    for &g in grad {
        if g.is_finite() {
            scale = scale.max(g.abs());
        } else if g.as_f64().is_nan() {
            return g;
        } else {
            infinite = true;
        }
    }
    if infinite {
        return T::of_f64(f64::INFINITY);
    }
    if scale == T::zero() {
        return scale;
    }
    let sum: T = grad.iter().map(|&g| (g / scale) * (g / scale)).sum();
    scale * sum.sqrt()
}

/// Rescales `grad` in place so that its Euclidean norm is at most `max_norm`, and returns the
/// norm before clipping.
///
/// If ‖g‖₂ > c = `max_norm`: g ← g · c / ‖g‖₂ (the direction is kept). A gradient holding NaN
/// or infinity is left as it is (its norm, NaN or +∞, is returned so that the caller can
/// stop); a negative `max_norm` counts as 0 and a NaN `max_norm` clips nothing. The training
/// loop validates its own limit, so neither case arises there.
///
/// ```
/// use rnn_core::optim::clip_grad_norm;
/// let mut g = [3.0f64, 4.0];
/// assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
/// assert!((g[0] - 0.6).abs() < 1e-15 && (g[1] - 0.8).abs() < 1e-15);
/// let mut small = [0.3f64, 0.4];
/// assert_eq!(clip_grad_norm(&mut small, 1.0), 0.5);
/// assert_eq!(small, [0.3, 0.4]);
/// ```
pub fn clip_grad_norm<T: Real>(grad: &mut [T], max_norm: T) -> T {
    let norm = grad_norm(grad);
    if !norm.is_finite() || max_norm.as_f64().is_nan() {
        return norm;
    }
    let limit = if max_norm < T::zero() { T::zero() } else { max_norm };
    if norm > limit {
        let factor = limit / norm;
        grad.iter_mut().for_each(|g| *g *= factor);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_gradient_has_the_limit_as_norm() {
        let mut g = [1.0f64, -2.0, 3.0, -4.0];
        let before = clip_grad_norm(&mut g, 0.5);
        assert!((before - 30f64.sqrt()).abs() < 1e-12);
        assert!((grad_norm(&g) - 0.5).abs() < 1e-12);
        assert!(g[3] < 0.0 && g[0] > 0.0);
    }

    #[test]
    fn non_finite_gradients_are_left_alone() {
        let mut g = [1.0f64, f64::NAN];
        assert!(clip_grad_norm(&mut g, 1.0).is_nan());
        assert_eq!(g[0], 1.0);
        let mut g = [1.0f64, f64::INFINITY];
        assert_eq!(clip_grad_norm(&mut g, 1.0), f64::INFINITY);
        assert_eq!(g[0], 1.0);
    }

    #[test]
    fn odd_limits_do_not_flip_or_poison_the_gradient() {
        let mut g = [3.0f64, 4.0];
        clip_grad_norm(&mut g, -1.0);
        assert_eq!(g, [0.0, 0.0]);
        let mut g = [3.0f64, 4.0];
        clip_grad_norm(&mut g, f64::NAN);
        assert_eq!(g, [3.0, 4.0]);
        let mut empty: [f64; 0] = [];
        assert_eq!(clip_grad_norm(&mut empty, 1.0), 0.0);
    }
}
