//! Storage rules: how a set of patterns becomes a symmetric weight matrix W.
//!
//! | rule | W | capacity (random patterns, exact fixed points) |
//! |---|---|---|
//! | [`Rule::Hebbian`] | (1/n) Σ_μ ξ^μ ξ^μᵀ, diagonal zeroed | ≈ n / (2 ln n) (McEliece et al. 1987) |
//! | [`Rule::Storkey`] | incremental, local, one pattern at a time (Storkey 1997) | ≈ n / √(2 ln n) |
//! | [`Rule::PseudoInverse`] | Ξ (ΞᵀΞ)⁻¹ Ξᵀ, the projection onto the patterns' span | any ≤ n linearly independent patterns |
//!
//! Every rule is built from matrix products through [`rnn_core::linalg::gemm`]; see each
//! module for its formula and cost.

pub mod hebbian;
pub mod pseudo_inverse;
pub mod storkey;

use nalgebra::DMatrix;
use rnn_core::{Real, Result};
use serde::{Deserialize, Serialize};

use crate::Pattern;

/// A storage (learning) rule of the discrete network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rule {
    /// Hebb's rule W = (1/n) Σ_μ ξ^μ ξ^μᵀ with wᵢᵢ = 0 (Hopfield 1982, normalised by n).
    /// Patterns can be added one at a time ([`Hopfield::add`](crate::Hopfield::add), a rank-one
    /// update).
    Hebbian,
    /// Storkey's (1997) incremental rule, for each new pattern ξ:
    /// wᵢⱼ ← wᵢⱼ + (1/n)(ξᵢξⱼ − ξᵢhⱼᵢ − hᵢⱼξⱼ), hᵢⱼ = Σ_{k≠i,j} wᵢₖξₖ, wᵢᵢ = 0.
    /// Local and incremental like Hebb's, with a higher capacity and larger basins, and far
    /// better on correlated patterns.
    Storkey,
    /// The pseudo-inverse (projection) rule W = Ξ (ΞᵀΞ)⁻¹ Ξᵀ (Personnaz, Guyon & Dreyfus
    /// 1986): every linearly independent set of at most n patterns is stored exactly.
    ///
    /// `keep_diagonal: false` (the default of [`Rule::pseudo_inverse`]) removes the
    /// self-couplings wᵢᵢ, as Kanter & Sompolinsky (1987) recommend: the patterns stay fixed
    /// points (for p < n, wᵢᵢ < 1, so sign((W − diag W)ξ)ᵢ = sign((1 − wᵢᵢ)ξᵢ) = ξᵢ) and the
    /// basins of attraction are much larger, useful up to p ≈ n/2. `keep_diagonal: true` is
    /// Personnaz's projection W ξ = ξ, whose self-couplings pin almost any state near a stored
    /// one (tiny basins).
    PseudoInverse {
        /// Keep the self-couplings wᵢᵢ of the projection (Personnaz et al.) instead of zeroing
        /// them (Kanter & Sompolinsky).
        keep_diagonal: bool,
    },
}

impl Rule {
    /// The pseudo-inverse rule with the self-couplings removed (Kanter & Sompolinsky 1987).
    pub const fn pseudo_inverse() -> Rule {
        Rule::PseudoInverse { keep_diagonal: false }
    }

    /// A short name: `"hebbian"`, `"storkey"`, `"pseudo-inverse"` (or
    /// `"pseudo-inverse (diagonal kept)"`).
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Hebbian => "hebbian",
            Rule::Storkey => "storkey",
            Rule::PseudoInverse { keep_diagonal: false } => "pseudo-inverse",
            Rule::PseudoInverse { keep_diagonal: true } => "pseudo-inverse (diagonal kept)",
        }
    }

    /// Whether the rule leaves a zero diagonal (all but the pseudo-inverse with
    /// `keep_diagonal: true`).
    pub fn zero_diagonal(&self) -> bool {
        !matches!(self, Rule::PseudoInverse { keep_diagonal: true })
    }

    /// The weights for `patterns` (already checked: non-empty, each of length `n`).
    pub(crate) fn weights<T: Real>(&self, patterns: &[Pattern], n: usize) -> Result<DMatrix<T>> {
        match self {
            Rule::Hebbian => Ok(hebbian::weights(patterns, n)),
            Rule::Storkey => Ok(storkey::weights(patterns, n)),
            Rule::PseudoInverse { keep_diagonal } => pseudo_inverse::weights(patterns, n, *keep_diagonal),
        }
    }
}

/// The patterns as the columns of an n × p matrix of ±1 in `T`.
pub(crate) fn pattern_matrix<T: Real>(patterns: &[Pattern], n: usize) -> DMatrix<T> {
    let mut m = DMatrix::<T>::zeros(n, patterns.len());
    for (col, p) in m.as_mut_slice().chunks_mut(n.max(1)).zip(patterns) {
        for (x, &s) in col.iter_mut().zip(p.as_slice()) {
            *x = if s > 0 { T::one() } else { -T::one() };
        }
    }
    m
}

/// Sets wᵢᵢ = 0.
pub(crate) fn zero_diagonal<T: Real>(w: &mut DMatrix<T>) {
    for i in 0..w.nrows().min(w.ncols()) {
        w[(i, i)] = T::zero();
    }
}

/// W ← (W + Wᵀ)/2, so that the matrix is exactly symmetric after products whose rounding
/// differs between (i, j) and (j, i). Works on pairs of square tiles (a tile below the diagonal
/// and its mirror above) to stay in cache.
pub(crate) fn symmetrize<T: Real>(w: &mut DMatrix<T>) {
    const TILE: usize = 32;
    let n = w.nrows();
    debug_assert_eq!(n, w.ncols());
    let half = T::of_f64(0.5);
    let data = w.as_mut_slice();
    for jb in (0..n).step_by(TILE) {
        let je = (jb + TILE).min(n);
        // The tile on the diagonal, in place: (i, j) at j·n + i, (j, i) at i·n + j.
        for j in jb..je {
            for i in j + 1..je {
                let avg = (data[j * n + i] + data[i * n + j]) * half;
                data[j * n + i] = avg;
                data[i * n + j] = avg;
            }
        }
        // Rows ib..ie of columns jb..je, and their mirror: rows jb..je of columns ib..ie, which
        // lie in the second half of a split at column ib.
        for ib in (je..n).step_by(TILE) {
            let ie = (ib + TILE).min(n);
            let (left, right) = data.split_at_mut(ib * n);
            for j in jb..je {
                let lower = &mut left[j * n + ib..j * n + ie];
                for (k, x) in lower.iter_mut().enumerate() {
                    let u = &mut right[k * n + j];
                    let avg = (*x + *u) * half;
                    *x = avg;
                    *u = avg;
                }
            }
        }
    }
}

/// Σ |xᵢ| with eight partial sums, so that the loop vectorises.
pub(crate) fn abs_sum<T: Real>(xs: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x.abs();
        }
    }
    acc.iter().copied().sum::<T>() + rest.iter().map(|x| x.abs()).sum::<T>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetrize_averages_every_pair() {
        for n in [1, 5, 31, 32, 33, 64, 65, 130] {
            let mut w = DMatrix::<f64>::from_fn(n, n, |i, j| (i * 3 + j * 7) as f64);
            let expected = (&w + w.transpose()) * 0.5;
            symmetrize(&mut w);
            assert_eq!(w, expected);
        }
    }

    #[test]
    fn abs_sum_adds_magnitudes() {
        let xs: Vec<f64> = (0..21).map(|i| if i % 2 == 0 { i as f64 } else { -(i as f64) }).collect();
        assert_eq!(abs_sum(&xs), 210.0);
    }
}
