//! The pseudo-inverse (projection) rule: W = Ξ (ΞᵀΞ)⁻¹ Ξᵀ, the orthogonal projection onto the
//! span of the patterns, so that W ξ^μ = ξ^μ for every stored pattern (Personnaz, Guyon &
//! Dreyfus 1986; Kanter & Sompolinsky 1987).
//!
//! # Computation
//!
//! 1. The Gram matrix G = ΞᵀΞ (p × p, one product, exact integers).
//! 2. Its Cholesky factor G = L Lᵀ, computed in `f64` whatever the network's scalar. The j-th
//!    pivot d_j = L_jj² is the squared distance of pattern j from the span of patterns
//!    0..j; a pivot below 10⁻⁹·n (the squared norm of a ±1 pattern) means pattern j is a linear
//!    combination of the earlier ones, and storing fails with an error naming it.
//! 3. Q = Ξ L⁻ᵀ (n × p, orthonormal columns spanning the patterns), one product.
//! 4. W = Q Qᵀ, one n × n × p product in the network's scalar, then the diagonal is zeroed
//!    unless it is kept (see [`Rule::PseudoInverse`](super::Rule::PseudoInverse)).
//!
//! Cost: 2n²p + 4np² + p³/3·2 flops; more than n patterns are refused before any work.

use nalgebra::DMatrix;
use rnn_core::linalg::{Op, gemm};
use rnn_core::{Error, Real, Result};

use super::{pattern_matrix, symmetrize, zero_diagonal};
use crate::Pattern;

/// A Cholesky pivot below this fraction of a pattern's squared norm marks the pattern as
/// linearly dependent on the earlier ones.
pub const DEPENDENCE_TOLERANCE: f64 = 1e-9;

/// The projection weights for `patterns` (non-empty, each of length `n`).
pub(crate) fn weights<T: Real>(patterns: &[Pattern], n: usize, keep_diagonal: bool) -> Result<DMatrix<T>> {
    let p = patterns.len();
    if p > n {
        return Err(Error::config(
            "number of patterns for the pseudo-inverse rule",
            format!("at most n = {n} (linearly independent patterns)"),
            p,
        ));
    }
    let xi = pattern_matrix::<f64>(patterns, n);
    let mut g = DMatrix::<f64>::zeros(p, p);
    gemm(0.0, &mut g.as_view_mut(), 1.0, &xi.as_view(), Op::T, &xi.as_view(), Op::N);
    let l = cholesky(g, n as f64)?;
    let l_inv = lower_inverse(&l);
    // Q = Ξ L⁻ᵀ.
    let mut q = DMatrix::<f64>::zeros(n, p);
    gemm(0.0, &mut q.as_view_mut(), 1.0, &xi.as_view(), Op::N, &l_inv.as_view(), Op::T);
    let q: DMatrix<T> = q.map(T::of_f64);
    let mut w = DMatrix::<T>::zeros(n, n);
    gemm(T::zero(), &mut w.as_view_mut(), T::one(), &q.as_view(), Op::N, &q.as_view(), Op::T);
    if !keep_diagonal {
        zero_diagonal(&mut w);
    }
    symmetrize(&mut w);
    Ok(w)
}

/// The lower Cholesky factor of the Gram matrix `g` of patterns of squared norm `norm2`, or an
/// error naming the first pattern whose pivot (squared distance from the span of the earlier
/// patterns) is below [`DEPENDENCE_TOLERANCE`]·`norm2`.
fn cholesky(mut g: DMatrix<f64>, norm2: f64) -> Result<DMatrix<f64>> {
    let p = g.nrows();
    let tolerance = norm2 * DEPENDENCE_TOLERANCE;
    // Right-looking, column by column: after step j, column j holds L's column j and the
    // trailing block holds the Schur complement (only its lower triangle is used).
    for j in 0..p {
        let d = g[(j, j)];
        if d.is_nan() || d <= tolerance {
            return Err(Error::config(
                "pattern set for the pseudo-inverse rule",
                "linearly independent patterns",
                format!(
                    "pattern {j} lies in the span of patterns 0..{j} (squared distance {:.1e} of its squared norm)",
                    d.max(0.0) / norm2
                ),
            ));
        }
        let root = d.sqrt();
        g[(j, j)] = root;
        for i in j + 1..p {
            g[(i, j)] /= root;
        }
        for k in j + 1..p {
            let l_kj = g[(k, j)];
            if l_kj == 0.0 {
                continue;
            }
            let (left, mut right) = g.columns_range_pair_mut(j, k);
            let src = &left.as_slice()[k..p];
            let dst = &mut right.as_mut_slice()[k..p];
            for (x, &y) in dst.iter_mut().zip(src) {
                *x -= l_kj * y;
            }
        }
    }
    // Clear the (unused) strict upper triangle.
    for j in 1..p {
        for i in 0..j {
            g[(i, j)] = 0.0;
        }
    }
    Ok(g)
}

/// L⁻¹ for a lower-triangular `l` with a positive diagonal, by forward substitution on the
/// columns of the identity.
fn lower_inverse(l: &DMatrix<f64>) -> DMatrix<f64> {
    let p = l.nrows();
    let mut x = DMatrix::<f64>::zeros(p, p);
    for j in 0..p {
        let col = &mut x.as_mut_slice()[j * p..(j + 1) * p];
        col[j] = 1.0;
        for k in j..p {
            let xk = col[k] / l[(k, k)];
            col[k] = xk;
            if xk != 0.0 {
                let lk = &l.as_slice()[k * p..(k + 1) * p];
                for i in k + 1..p {
                    col[i] -= xk * lk[i];
                }
            }
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_and_inverse_match_nalgebra() {
        let a =
            DMatrix::<f64>::from_fn(6, 4, |i, j| ((i * 7 + j * 3) % 5) as f64 - 2.0 + if i == j { 3.0 } else { 0.0 });
        let g = a.transpose() * &a;
        let l = cholesky(g.clone(), 1.0).unwrap();
        assert!((&l * l.transpose() - &g).abs().max() < 1e-10);
        let inv = lower_inverse(&l);
        assert!((&inv * &l - DMatrix::identity(4, 4)).abs().max() < 1e-12);
    }

    #[test]
    fn projection_fixes_every_pattern() {
        let mut rng = rnn_core::rng::seeded(2);
        let n = 40;
        let patterns: Vec<Pattern> = (0..20).map(|_| Pattern::random(n, &mut rng).unwrap()).collect();
        let w = weights::<f64>(&patterns, n, true).unwrap();
        for p in &patterns {
            let x = nalgebra::DVector::from_vec(p.to_real::<f64>());
            assert!((&w * &x - &x).abs().max() < 1e-10);
        }
        assert!((&w * &w - &w).abs().max() < 1e-10, "a projection is idempotent");
    }

    #[test]
    fn dependent_patterns_are_named() {
        let a = Pattern::bipolar(&[1, 1, -1, -1]).unwrap();
        let b = Pattern::bipolar(&[1, -1, 1, -1]).unwrap();
        let c = Pattern::bipolar(&[1, -1, -1, 1]).unwrap();
        let d = Pattern::bipolar(&[-1, 1, 1, -1]).unwrap(); // −c
        let e = weights::<f64>(&[a, b, c, d], 4, false).unwrap_err().to_string();
        assert!(e.contains("pattern 3 lies in the span"), "{e}");
    }
}
