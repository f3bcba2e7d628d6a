//! One step of the sensitivity recursion, block by block.
//!
//! P(t+1) = diag(f′(s(t))) · (W̃_rec · P(t) + E(t)), where W̃_rec is W_rec with the columns of
//! the units teacher-forced at t zeroed (the same as zeroing their rows of P(t), but O(N²)
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
}

/// Computes P(t+1) into `new` from P(t) in `old` (both `N × Wc`, column-major) and, when
/// `grad` is given, ∂J(t)/∂w_a = Σ_k e_k P(t+1)[unit_k, a] into it. Returns the first column
/// whose sensitivities or gradient are not finite, if any.
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
) -> Option<usize> {
    let n = inputs.units;
    let wc = weights.len();
    debug_assert!(old.len() == n * wc && new.len() == n * wc);
    let bw = block_columns.min(wc).max(1);
    let chunk = n * bw;
    debug_assert!(grad.as_ref().is_none_or(|g| g.len() == wc));
    let blocks = wc.div_ceil(bw);
    let at = |b: usize, bad: Option<usize>| bad.map(|c| b * bw + c);
    if parallel && blocks > 1 && n.saturating_mul(n).saturating_mul(wc) >= PARALLEL_MIN_WORK {
        match grad {
            Some(g) => new
                .par_chunks_mut(chunk)
                .zip(old.par_chunks(chunk))
                .zip(weights.par_chunks(bw))
                .zip(g.par_chunks_mut(bw))
                .enumerate()
                .filter_map(|(b, (((new, old), w), g))| at(b, block(inputs, w, old, new, Some(g))))
                .min(),
            None => new
                .par_chunks_mut(chunk)
                .zip(old.par_chunks(chunk))
                .zip(weights.par_chunks(bw))
                .enumerate()
                .filter_map(|(b, ((new, old), w))| at(b, block(inputs, w, old, new, None)))
                .min(),
        }
    } else {
        let mut first = None;
        let mut grads = grad.map(|g| g.chunks_mut(bw));
        for (b, ((new, old), w)) in new.chunks_mut(chunk).zip(old.chunks(chunk)).zip(weights.chunks(bw)).enumerate() {
            let g = grads.as_mut().and_then(|it| it.next());
            let bad = at(b, block(inputs, w, old, new, g));
            first = first.or(bad);
        }
        first
    }
}

/// One block of columns: `new = A old + diag(f′) E`, then the gradient of its columns. Returns
/// the first column (within the block) with a non-finite sensitivity or gradient.
fn block<T: Real>(
    inputs: &StepInputs<'_, T>,
    weights: &[(usize, usize)],
    old: &[T],
    new: &mut [T],
    grad: Option<&mut [T]>,
) -> Option<usize> {
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
    // Overflow shows as a non-finite sum: one pass over the block, still in cache.
    let mut bad =
        new.chunks_exact(n).position(|col| !col.iter().fold(T::zero(), |s, &v| s + v * T::zero()).is_finite());
    if let Some(grad) = grad {
        for (col, g) in new.chunks_exact(n).zip(grad.iter_mut()) {
            let mut s = T::zero();
            for &(unit, e) in inputs.errors {
                s += e * col[unit];
            }
            *g = s;
        }
        let bad_grad = grad.iter().position(|g| !g.is_finite());
        bad = match (bad, bad_grad) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    bad
}
