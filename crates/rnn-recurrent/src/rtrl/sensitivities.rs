//! One step of the sensitivity recursion, block by block.
//!
//! P(t+1) = diag(f′(s(t))) · (W̃_rec · P(t) + E(t)), where W̃_rec is W_rec with the columns of
//! the units forced in ỹ(t) zeroed (the same as zeroing their rows of P(t), but O(N²)
//! instead of O(N·Wc)), and E(t)[i_a, a] = z_{j_a}(t). It is computed as
//! A · P(t) + diag(f′) E(t) with A = diag(f′) W̃_rec formed once per step (O(N²)), so the only
//! O(N·Wc) work beside the product is writing it; diag(f′) E(t) has one nonzero per column,
//! f′_{i_a} z_{j_a}.
//!
//! Columns of P are split into blocks of a fixed width that depends on the sizes alone; every
//! block is one serial GEMM followed by the O(1 + K) work of each of its columns (the E term and
//! the gradient over the K outputs with a target), so the result does not depend on which
//! thread runs which block.

use nalgebra::{DMatrixView, DMatrixViewMut};
use rayon::prelude::*;
use rnn_core::{
    Real,
    linalg::{Op, Threads, gemm_with},
};

/// The fewest multiply-adds (N²·Wc) per step for which the blocks go to the rayon pool: below
/// it a fork-join costs about what it saves (measured on 2 cores: at N = 32, 1.2·10⁶
/// multiply-adds, a parallel step took 41 µs against 32 µs on one thread). Like the block width it depends on the
/// sizes alone, so it changes who computes a block, never what is computed.
pub(super) const PARALLEL_MIN_WORK: usize = 1 << 22;

/// What every block of one step reads.
pub(super) struct StepInputs<'a, T: Real> {
    /// N, the number of units (rows of P).
    pub units: usize,
    /// A = diag(f′) W̃_rec, `N × N`.
    pub a: DMatrixView<'a, T>,
    /// z(t) = [x(t); ỹ(t); 1].
    pub z: &'a [T],
    /// f′(s_k(t)) for every unit.
    pub derivative: &'a [T],
    /// (unit, y_unit(t+1) − d(t)) for every output with a target at t.
    pub errors: &'a [(usize, T)],
    /// Whether to scan P(t+1) for overflow (skipped when a bound shows it cannot overflow).
    pub scan: bool,
}

/// What a step's blocks found: the first column with a non-finite sensitivity or gradient, and
/// the largest |P(t+1)| in the scanned blocks (0 when not scanned).
#[derive(Debug, Clone, Copy)]
pub(super) struct Scan<T> {
    pub bad: Option<usize>,
    pub max_abs: T,
}

impl<T: Real> Scan<T> {
    fn merge(self, other: Self) -> Self {
        let bad = match (self.bad, other.bad) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Self { bad, max_abs: self.max_abs.max(other.max_abs) }
    }

    fn offset(mut self, by: usize) -> Self {
        self.bad = self.bad.map(|c| c + by);
        self
    }
}

/// Computes P(t+1) into `new` from P(t) in `old` (both `N × Wc`, column-major) and, when
/// `grad` is given, ∂J(t)/∂w_a = Σ_k e_k P(t+1)[unit_k, a] into it. Reports the first column
/// whose sensitivities (when scanned) or gradient are not finite, and the largest |P(t+1)|.
///
/// `weights[a]` is (i_a, j_a), the row and column of W of parameter a. Blocks of
/// `block_columns` columns run on the rayon pool when `parallel` and the step is large enough
/// ([`PARALLEL_MIN_WORK`]), else in order here.
pub(super) fn advance<T: Real>(
    inputs: &StepInputs<'_, T>,
    weights: &[(usize, usize)],
    old: &[T],
    new: &mut [T],
    grad: Option<&mut [T]>,
    block_columns: usize,
    parallel: bool,
) -> Scan<T> {
    let n = inputs.units;
    let wc = weights.len();
    debug_assert!(old.len() == n * wc && new.len() == n * wc);
    let bw = block_columns.min(wc).max(1);
    let chunk = n * bw;
    debug_assert!(grad.as_ref().is_none_or(|g| g.len() == wc));
    let blocks = wc.div_ceil(bw);
    let clean = Scan { bad: None, max_abs: T::zero() };
    if parallel && blocks > 1 && n.saturating_mul(n).saturating_mul(wc) >= PARALLEL_MIN_WORK {
        match grad {
            Some(g) => new
                .par_chunks_mut(chunk)
                .zip(old.par_chunks(chunk))
                .zip(weights.par_chunks(bw))
                .zip(g.par_chunks_mut(bw))
                .enumerate()
                .map(|(b, (((new, old), w), g))| block(inputs, w, old, new, Some(g)).offset(b * bw))
                .reduce(|| clean, Scan::merge),
            None => new
                .par_chunks_mut(chunk)
                .zip(old.par_chunks(chunk))
                .zip(weights.par_chunks(bw))
                .enumerate()
                .map(|(b, ((new, old), w))| block(inputs, w, old, new, None).offset(b * bw))
                .reduce(|| clean, Scan::merge),
        }
    } else {
        let mut found = clean;
        let mut grads = grad.map(|g| g.chunks_mut(bw));
        for (b, ((new, old), w)) in new.chunks_mut(chunk).zip(old.chunks(chunk)).zip(weights.chunks(bw)).enumerate() {
            let g = grads.as_mut().and_then(|it| it.next());
            found = found.merge(block(inputs, w, old, new, g).offset(b * bw));
        }
        found
    }
}

/// One block of columns: `new = A old + diag(f′) E`, then the gradient of its columns, and the
/// scan (columns within the block).
fn block<T: Real>(
    inputs: &StepInputs<'_, T>,
    weights: &[(usize, usize)],
    old: &[T],
    new: &mut [T],
    grad: Option<&mut [T]>,
) -> Scan<T> {
    let n = inputs.units;
    let cols = weights.len();
    {
        let old = DMatrixView::from_slice(old, n, cols);
        let mut new = DMatrixViewMut::from_slice(new, n, cols);
        gemm_with(Threads::Serial, T::zero(), &mut new, T::one(), &inputs.a, Op::N, &old, Op::N);
    }
    let (z, fp) = (inputs.z, inputs.derivative);
    for (col, &(i, j)) in new.chunks_exact_mut(n).zip(weights) {
        col[i] += fp[i] * z[j];
    }
    let mut scan = Scan { bad: None, max_abs: T::zero() };
    if inputs.scan {
        // One vectorised pass over the block, still in cache.
        let (finite, max_abs) = finite_max_abs(new);
        scan.max_abs = max_abs;
        if !finite {
            scan.bad = Some(new.chunks_exact(n).position(|col| !finite_max_abs(col).0).unwrap_or(0));
        }
    }
    if let Some(grad) = grad {
        for (col, g) in new.chunks_exact(n).zip(grad.iter_mut()) {
            let mut s = T::zero();
            for &(unit, e) in inputs.errors {
                s += e * col[unit];
            }
            *g = s;
        }
        if let Some(c) = grad.iter().position(|g| !g.is_finite()) {
            scan.bad = Some(scan.bad.map_or(c, |b| b.min(c)));
        }
    }
    scan
}

/// Whether every value is finite, and the largest |v|: v·0 is 0 for a finite v and NaN
/// otherwise, both kept in 16 independent lanes so that the loop vectorises.
pub(super) fn finite_max_abs<T: Real>(xs: &[T]) -> (bool, T) {
    const LANES: usize = 16;
    let mut nan = [T::zero(); LANES];
    let mut max = [T::zero(); LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for ((s, m), &v) in nan.iter_mut().zip(max.iter_mut()).zip(chunk) {
            *s += v * T::zero();
            let a = v.abs();
            *m = if a > *m { a } else { *m };
        }
    }
    let rest = chunks.remainder();
    let finite = rest.iter().all(|v| v.is_finite()) && nan.iter().all(|s| s.is_finite());
    let max_abs = rest.iter().chain(&max).fold(T::zero(), |m, v| m.max(v.abs()));
    (finite, max_abs)
}

#[cfg(test)]
mod tests {
    use super::finite_max_abs;

    #[test]
    fn the_scan_finds_any_infinity_or_nan_and_the_largest_value() {
        let mut xs: Vec<f64> = (0..100).map(|i| (i as f64 - 40.0) * 0.5).collect();
        assert_eq!(finite_max_abs(&xs), (true, 29.5));
        xs[97] = -31.0;
        assert_eq!(finite_max_abs(&xs), (true, 31.0));
        for i in [0, 15, 16, 63, 95, 96, 99] {
            for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
                let keep = xs[i];
                xs[i] = bad;
                assert!(!finite_max_abs(&xs).0, "{bad} at {i}");
                xs[i] = keep;
            }
        }
        assert_eq!(finite_max_abs::<f32>(&[]), (true, 0.0));
    }
}
