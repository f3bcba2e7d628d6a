//! Storkey's (1997) rule, one pattern ξ at a time:
//!
//! wᵢⱼ ← wᵢⱼ + (1/n)(ξᵢξⱼ − ξᵢhⱼᵢ − hᵢⱼξⱼ),  hᵢⱼ = Σ_{k≠i,j} wᵢₖξₖ,  wᵢᵢ = 0.
//!
//! # As matrix work
//!
//! With the local fields h = Wξ (wᵢᵢ = 0), hᵢⱼ = hᵢ − wᵢⱼξⱼ and hⱼᵢ = hⱼ − wⱼᵢξᵢ, so for i ≠ j
//! (ξ² = 1, W symmetric)
//!
//! Δwᵢⱼ = (1/n)(ξᵢξⱼ − ξᵢhⱼ − hᵢξⱼ) + (2/n) wᵢⱼ,
//!
//! that is W ← c·W + (1/n)·offdiag(ξξᵀ − ξhᵀ − hξᵀ) with c = 1 + 2/n: one matrix-vector product
//! and one rank-two update, O(n²) per pattern ([`Hopfield::add`](crate::Hopfield::add)).
//!
//! Storing p patterns at once ([`Hopfield::store`](crate::Hopfield::store)) unrolls the recursion: after p patterns
//!
//! W_p = offdiag( Σ_μ (c^{p−μ}/n) M_μ ),  M_μ = ξ^μ(ξ^μ − h^μ)ᵀ − h^μ ξ^μᵀ,
//!
//! where h^μ = W_{μ−1} ξ^μ is itself a sum over the earlier patterns,
//! h^μ = Σ_{ν<μ} κ_ν [ξ^ν (g_νμ − a_νμ) − h^ν g_νμ] − d ∘ ξ^μ, with g = ΞᵀΞ (one product),
//! a_νμ = h^νᵀ ξ^μ, κ_ν = c^{μ−1−ν}/n and d the running diagonal Σ κ_ν (1 − 2 ξ^ν ∘ h^ν). The
//! fields cost O(n p²) in matrix-vector products over the n × p matrices Ξ and H, and W is one
//! n × n × 2p product: 4n²p + O(n p²) flops instead of the ≈ 7n²p of p rank-two updates, and
//! compute-bound instead of memory-bound.

use nalgebra::DMatrix;
use rnn_core::Real;
use rnn_core::linalg::{Op, gemm};

use super::{pattern_matrix, symmetrize, zero_diagonal};
use crate::Pattern;

/// The weights after storing `patterns` in order into an empty network.
pub(crate) fn weights<T: Real>(patterns: &[Pattern], n: usize) -> DMatrix<T> {
    let p = patterns.len();
    let xi = pattern_matrix::<T>(patterns, n);
    let inv_n = T::one() / T::of_usize(n);
    let c = T::one() + T::of_f64(2.0) * inv_n;
    // g = ΞᵀΞ (integers, exact).
    let mut g = DMatrix::<T>::zeros(p, p);
    gemm(T::zero(), &mut g.as_view_mut(), T::one(), &xi.as_view(), Op::T, &xi.as_view(), Op::N);
    // Columns h^μ = W_{μ−1} ξ^μ.
    let mut h = DMatrix::<T>::zeros(n, p);
    // κ_ν for ν < μ, scaled by c after each pattern; d = Σ κ_ν (1 − 2 ξ^ν ∘ h^ν).
    let mut kappa = vec![T::zero(); p];
    let mut d = vec![T::zero(); n];
    let mut a = DMatrix::<T>::zeros(p, 1);
    let mut coef_x = DMatrix::<T>::zeros(p, 1);
    let mut coef_h = DMatrix::<T>::zeros(p, 1);
    let mut col = DMatrix::<T>::zeros(n, 1);
    for mu in 0..p {
        if mu > 0 {
            let x_mu = xi.columns(mu, 1);
            let h_prev = h.columns(0, mu);
            let x_prev = xi.columns(0, mu);
            // a_ν = h^νᵀ ξ^μ.
            gemm(T::zero(), &mut a.rows_mut(0, mu), T::one(), &h_prev, Op::T, &x_mu, Op::N);
            for nu in 0..mu {
                coef_x[nu] = kappa[nu] * (g[(nu, mu)] - a[nu]);
                coef_h[nu] = -kappa[nu] * g[(nu, mu)];
            }
            gemm(T::zero(), &mut col.as_view_mut(), T::one(), &x_prev, Op::N, &coef_x.rows(0, mu), Op::N);
            gemm(T::one(), &mut col.as_view_mut(), T::one(), &h_prev, Op::N, &coef_h.rows(0, mu), Op::N);
            let x_mu = xi.column(mu);
            for i in 0..n {
                col[i] -= d[i] * x_mu[i];
            }
            h.set_column(mu, &col.column(0));
        }
        // The next pattern sees W_μ = c·W_{μ−1} + (1/n)·offdiag(M_μ).
        for k in kappa.iter_mut().take(mu) {
            *k *= c;
        }
        kappa[mu] = inv_n;
        let (x_mu, h_mu) = (xi.column(mu), h.column(mu));
        let two = T::of_f64(2.0);
        for i in 0..n {
            d[i] = c * d[i] + inv_n * (T::one() - two * x_mu[i] * h_mu[i]);
        }
    }
    // W = offdiag( [Ξ∘κ, H∘κ] · [Ξ − H, −Ξ]ᵀ ).
    let mut left = DMatrix::<T>::zeros(n, 2 * p);
    let mut right = DMatrix::<T>::zeros(n, 2 * p);
    for mu in 0..p {
        let (x_mu, h_mu) = (xi.column(mu), h.column(mu));
        for i in 0..n {
            left[(i, mu)] = kappa[mu] * x_mu[i];
            left[(i, p + mu)] = kappa[mu] * h_mu[i];
            right[(i, mu)] = x_mu[i] - h_mu[i];
            right[(i, p + mu)] = -x_mu[i];
        }
    }
    let mut w = DMatrix::<T>::zeros(n, n);
    gemm(T::zero(), &mut w.as_view_mut(), T::one(), &left.as_view(), Op::N, &right.as_view(), Op::T);
    zero_diagonal(&mut w);
    symmetrize(&mut w);
    w
}

/// Adds one pattern to the weights `w` (zero diagonal) by the explicit update
/// W ← c·W + (1/n)·offdiag(ξξᵀ − ξhᵀ − hξᵀ), h = Wξ.
pub(crate) fn add<T: Real>(w: &mut DMatrix<T>, pattern: &Pattern) {
    let n = w.nrows();
    let xi = pattern_matrix::<T>(std::slice::from_ref(pattern), n);
    let mut h = DMatrix::<T>::zeros(n, 1);
    gemm(T::zero(), &mut h.as_view_mut(), T::one(), &w.as_view(), Op::N, &xi.as_view(), Op::N);
    let inv_n = T::one() / T::of_usize(n);
    let c = T::one() + T::of_f64(2.0) * inv_n;
    // ξξᵀ − ξhᵀ − hξᵀ = [ξ, h] · [ξ − h, −ξ]ᵀ.
    let mut u = DMatrix::<T>::zeros(n, 2);
    let mut v = DMatrix::<T>::zeros(n, 2);
    for i in 0..n {
        u[(i, 0)] = xi[i];
        u[(i, 1)] = h[i];
        v[(i, 0)] = xi[i] - h[i];
        v[(i, 1)] = -xi[i];
    }
    gemm(c, &mut w.as_view_mut(), inv_n, &u.as_view(), Op::N, &v.as_view(), Op::T);
    zero_diagonal(w);
    symmetrize(w);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Storkey's rule written out entry by entry, O(n³) per pattern.
    fn naive(patterns: &[Pattern], n: usize) -> DMatrix<f64> {
        let mut w = DMatrix::<f64>::zeros(n, n);
        for p in patterns {
            let x: Vec<f64> = p.to_real();
            let h = |w: &DMatrix<f64>, i: usize, j: usize| -> f64 {
                (0..n).filter(|&k| k != i && k != j).map(|k| w[(i, k)] * x[k]).sum()
            };
            let mut next = w.clone();
            for i in 0..n {
                for j in 0..n {
                    if i != j {
                        next[(i, j)] += (x[i] * x[j] - x[i] * h(&w, j, i) - h(&w, i, j) * x[j]) / n as f64;
                    }
                }
            }
            w = next;
        }
        w
    }

    #[test]
    fn batch_and_incremental_agree_with_the_definition() {
        let mut rng = rnn_core::rng::seeded(5);
        let n = 23;
        let patterns: Vec<Pattern> = (0..9).map(|_| Pattern::random(n, &mut rng).unwrap()).collect();
        let expected = naive(&patterns, n);
        let batch = weights::<f64>(&patterns, n);
        assert!((&batch - &expected).abs().max() < 1e-12, "{}", (&batch - &expected).abs().max());
        let mut inc = DMatrix::<f64>::zeros(n, n);
        for p in &patterns {
            add(&mut inc, p);
        }
        assert!((&inc - &expected).abs().max() < 1e-12);
        assert_eq!(batch, batch.transpose());
    }
}
