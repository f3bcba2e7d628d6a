//! Hebb's rule: W = (1/n) Σ_μ ξ^μ ξ^μᵀ = (1/n) Ξ Ξᵀ, wᵢᵢ = 0.
//!
//! Storing p patterns is one n × n × p matrix product (2n²p flops). Adding a pattern is a
//! rank-one update W ← W + (1/n) ξ ξᵀ (2n² flops). With ±1 patterns the product ΞΞᵀ is a matrix
//! of integers, computed exactly and scaled once, so W is exactly symmetric.

use nalgebra::DMatrix;
use rnn_core::Real;
use rnn_core::linalg::{Op, gemm};

use super::{pattern_matrix, zero_diagonal};
use crate::Pattern;

/// W = (1/n) Ξ Ξᵀ with a zero diagonal.
pub(crate) fn weights<T: Real>(patterns: &[Pattern], n: usize) -> DMatrix<T> {
    let xi = pattern_matrix::<T>(patterns, n);
    let mut w = DMatrix::<T>::zeros(n, n);
    let scale = T::one() / T::of_usize(n);
    gemm(T::zero(), &mut w.as_view_mut(), scale, &xi.as_view(), Op::N, &xi.as_view(), Op::T);
    zero_diagonal(&mut w);
    w
}

/// W ← W + (1/n) ξ ξᵀ, the diagonal kept at zero.
pub(crate) fn add<T: Real>(w: &mut DMatrix<T>, pattern: &Pattern) {
    let n = w.nrows();
    let xi = pattern_matrix::<T>(std::slice::from_ref(pattern), n);
    let scale = T::one() / T::of_usize(n);
    gemm(T::one(), &mut w.as_view_mut(), scale, &xi.as_view(), Op::N, &xi.as_view(), Op::T);
    zero_diagonal(w);
}
