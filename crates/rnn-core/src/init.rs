//! Seeded weight initialisation into flat slices and matrix views.
//!
//! Every function draws from an explicit [`Rng`], so the same seed gives the
//! same weights. A model initialises each block of its flat vector through
//! [`ParamLayout::view_mut`](crate::ParamLayout::view_mut) or the block's index range:
//!
//! ```
//! use rnn_core::{ParamLayout, init, rng};
//! let mut layout = ParamLayout::new();
//! let w_rec = layout.push("w_rec", 4, 4);
//! let w_in = layout.push("w_in", 4, 2);
//! let mut flat = vec![0.0f64; layout.len()];
//! let mut rng = rng::seeded(42);
//! init::orthogonal(&mut layout.view_mut(&mut flat, &w_rec), 1.0, &mut rng).unwrap();
//! init::glorot_uniform(&mut flat[w_in.range()], 2, 4, &mut rng).unwrap();
//! assert!(flat.iter().all(|w| w.abs() <= 1.0));
//! ```

use nalgebra::{DMatrix, DMatrixViewMut};
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::{Error, Real, Result, rng::Rng};

/// Fills `values` with independent draws from U(−`limit`, `limit`).
///
/// # Errors
/// [`Error::InvalidConfig`] unless `limit` is finite and non-negative.
///
/// ```
/// let mut w = [0.0f32; 100];
/// rnn_core::init::uniform(&mut w, 0.1, &mut rnn_core::rng::seeded(1)).unwrap();
/// assert!(w.iter().all(|x| x.abs() <= 0.1));
/// ```
pub fn uniform<T: Real>(values: &mut [T], limit: f64, rng: &mut Rng) -> Result<()> {
    if !(limit.is_finite() && limit >= 0.0) {
        return Err(Error::config("uniform initialisation limit a", "a finite value ≥ 0", limit));
    }
    for v in values {
        *v = T::of_f64((2.0 * rng.random::<f64>() - 1.0) * limit);
    }
    Ok(())
}

/// Fills `values` with independent draws from N(0, `std_dev`²).
///
/// # Errors
/// [`Error::InvalidConfig`] unless `std_dev` is finite and non-negative.
///
/// ```
/// let mut w = [0.0f64; 1000];
/// rnn_core::init::normal(&mut w, 0.5, &mut rnn_core::rng::seeded(1)).unwrap();
/// let var = w.iter().map(|x| x * x).sum::<f64>() / 1000.0;
/// assert!((var.sqrt() - 0.5).abs() < 0.05);
/// ```
pub fn normal<T: Real>(values: &mut [T], std_dev: f64, rng: &mut Rng) -> Result<()> {
    if !(std_dev.is_finite() && std_dev >= 0.0) {
        return Err(Error::config("normal initialisation standard deviation σ", "a finite value ≥ 0", std_dev));
    }
    for v in values {
        *v = T::of_f64(std_dev * rng.sample::<f64, _>(StandardNormal));
    }
    Ok(())
}

/// The Glorot (Xavier) uniform limit a = √(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).
///
/// # Errors
/// [`Error::InvalidConfig`] if `fan_in + fan_out` is 0.
///
/// ```
/// assert_eq!(rnn_core::init::glorot_limit(2, 1).unwrap(), 2f64.sqrt());
/// ```
pub fn glorot_limit(fan_in: usize, fan_out: usize) -> Result<f64> {
    let fans = fan_in.saturating_add(fan_out);
    if fans == 0 {
        return Err(Error::config("fan_in + fan_out", "at least 1", fans));
    }
    Ok((6.0 / fans as f64).sqrt())
}

/// Fills `values` from U(−a, a) with the Glorot (Xavier) limit a = √(6 / (fan_in + fan_out)),
/// which keeps the variance of activations and gradients about constant across layers.
///
/// For a weight matrix `rows × cols` that multiplies column vectors, fan_in = cols and
/// fan_out = rows.
///
/// # Errors
/// [`Error::InvalidConfig`] if `fan_in + fan_out` is 0.
///
/// ```
/// let mut w = [0.0f64; 12];
/// rnn_core::init::glorot_uniform(&mut w, 4, 3, &mut rnn_core::rng::seeded(3)).unwrap();
/// assert!(w.iter().all(|x| x.abs() <= (6.0f64 / 7.0).sqrt()));
/// ```
pub fn glorot_uniform<T: Real>(values: &mut [T], fan_in: usize, fan_out: usize, rng: &mut Rng) -> Result<()> {
    uniform(values, glorot_limit(fan_in, fan_out)?, rng)
}

/// Fills `matrix` (`rows × cols`) with `gain` times a random orthogonal matrix (Saxe et al.,
/// 2014): its columns are orthonormal if rows ≥ cols (QᵀQ = I), its rows if rows < cols
/// (QQᵀ = I).
///
/// Construction: draw a Gaussian matrix A of size max(rows, cols) × min(rows, cols), factor
/// A = QR, multiply each column of Q by the sign of the matching diagonal entry of R (so that Q
/// is uniformly distributed over orthogonal matrices, not biased by the QR convention), and
/// transpose Q when rows < cols. The arithmetic runs in `f64` for either scalar type.
///
/// # Errors
/// [`Error::InvalidConfig`] unless `gain` is finite.
///
/// ```
/// use nalgebra::DMatrix;
/// let mut w = DMatrix::<f64>::zeros(3, 3);
/// rnn_core::init::orthogonal(&mut w.as_view_mut(), 1.0, &mut rnn_core::rng::seeded(5)).unwrap();
/// let qtq = w.transpose() * &w;
/// assert!((qtq - DMatrix::identity(3, 3)).abs().max() < 1e-12);
/// ```
pub fn orthogonal<T: Real>(matrix: &mut DMatrixViewMut<'_, T>, gain: f64, rng: &mut Rng) -> Result<()> {
    if !gain.is_finite() {
        return Err(Error::config("orthogonal initialisation gain", "a finite value", gain));
    }
    let (rows, cols) = matrix.shape();
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let (tall, short) = (rows.max(cols), rows.min(cols));
    let a = DMatrix::<f64>::from_fn(tall, short, |_, _| rng.sample(StandardNormal));
    let qr = a.qr();
    let mut q = qr.q();
    let r = qr.r();
    for j in 0..short {
        if r[(j, j)] < 0.0 {
            q.column_mut(j).neg_mut();
        }
    }
    for i in 0..rows {
        for j in 0..cols {
            let x = if rows >= cols { q[(i, j)] } else { q[(j, i)] };
            matrix[(i, j)] = T::of_f64(gain * x);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::seeded;

    #[test]
    fn uniform_covers_its_range_and_nothing_else() {
        let mut w = vec![0.0f64; 10_000];
        uniform(&mut w, 0.3, &mut seeded(0)).unwrap();
        assert!(w.iter().all(|x| x.abs() <= 0.3));
        assert!(w.iter().any(|&x| x > 0.29) && w.iter().any(|&x| x < -0.29));
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        assert!(mean.abs() < 0.01);
        assert!(uniform(&mut w, -1.0, &mut seeded(0)).is_err());
        assert!(uniform(&mut w, f64::NAN, &mut seeded(0)).is_err());
    }

    #[test]
    fn glorot_uses_the_fans() {
        let mut w = vec![0.0f32; 1000];
        glorot_uniform(&mut w, 10, 20, &mut seeded(1)).unwrap();
        let a = (6.0f32 / 30.0).sqrt();
        assert!(w.iter().all(|x| x.abs() <= a));
        assert!(w.iter().any(|x| x.abs() > 0.9 * a));
        assert!(glorot_uniform(&mut w, 0, 0, &mut seeded(1)).is_err());
    }

    #[test]
    fn orthogonal_is_orthogonal_in_every_shape() {
        for (rows, cols) in [(5, 5), (7, 3), (3, 7), (1, 4), (4, 1)] {
            let mut w = DMatrix::<f64>::zeros(rows, cols);
            orthogonal(&mut w.as_view_mut(), 2.0, &mut seeded(9)).unwrap();
            let gram = if rows >= cols { w.transpose() * &w } else { &w * w.transpose() };
            let n = rows.min(cols);
            let err = (gram - DMatrix::identity(n, n) * 4.0).abs().max();
            assert!(err < 1e-12, "{rows}×{cols}: ‖QᵀQ − g²I‖ = {err}");
        }
    }

    #[test]
    fn orthogonal_fills_a_block_of_a_flat_vector_in_f32() {
        let mut flat = [7.0f32; 4 + 9 + 2];
        orthogonal(&mut DMatrixViewMut::from_slice(&mut flat[4..13], 3, 3), 1.0, &mut seeded(2)).unwrap();
        assert_eq!(&flat[..4], &[7.0; 4]);
        assert_eq!(&flat[13..], &[7.0; 2]);
        let q = DMatrix::from_column_slice(3, 3, &flat[4..13]);
        assert!((q.transpose() * &q - DMatrix::identity(3, 3)).abs().max() < 1e-6);
        assert!(orthogonal(&mut DMatrixViewMut::from_slice(&mut flat[..4], 2, 2), f64::NAN, &mut seeded(2)).is_err());
    }

    #[test]
    fn same_seed_same_weights_other_seed_other_weights() {
        let draw = |seed| {
            let mut w = DMatrix::<f64>::zeros(4, 6);
            orthogonal(&mut w.as_view_mut(), 1.0, &mut seeded(seed)).unwrap();
            let mut u = [0.0f64; 8];
            uniform(&mut u, 1.0, &mut seeded(seed)).unwrap();
            let mut g = [0.0f64; 8];
            normal(&mut g, 1.0, &mut seeded(seed)).unwrap();
            (w, u, g)
        };
        assert_eq!(draw(11), draw(11));
        let (a, b) = (draw(11), draw(12));
        assert_ne!(a.0, b.0);
        assert_ne!(a.1, b.1);
        assert_ne!(a.2, b.2);
    }
}
