//! The arithmetic of the time loop on contiguous column-major slices: matrix products
//! (through [`rnn_core::linalg`]), bias and activation fused in one pass (vectorised in
//! [`Activation::apply_slice`]), δ ⊙ f′, and row sums.
//!
//! Shapes are internal invariants here (the models check user input at their boundary), so
//! they are `debug_assert!`ed, not returned as errors.

use nalgebra::{DMatrixView, DMatrixViewMut, Dyn, U1};
use rnn_core::linalg::{self, Op, Threads};
use rnn_core::{Activation, Real};

/// A product over a whole batch of at least this many multiply-adds is split in two halves
/// that [`rayon::join`] runs on two threads (when the pool has two). Below it, handing work to
/// another thread costs about what it saves: a `join` from outside the pool waits for a
/// sleeping worker to wake, 15–200 µs on the 2-core machine this was tuned on. Splits depend on
/// sizes alone, never on the number of threads, so results do not either.
pub(crate) const SPLIT_PRODUCT: usize = 1 << 24;

/// A time loop of at least this many multiply-adds runs its two halves of the batch on two
/// threads. Higher than [`SPLIT_PRODUCT`]: each half multiplies narrower blocks, which the
/// kernel runs less efficiently.
pub(crate) const SPLIT_LOOP: usize = 1 << 25;

/// C ← β·C + α·op(A)·op(B) on contiguous column-major slices, where C is `m × n`, op(A) is
/// `m × k` and op(B) is `k × n`. A is stored `m × k` for [`Op::N`] and `k × m` for [`Op::T`];
/// B is stored `k × n` for [`Op::N`] and `n × k` for [`Op::T`]. When β = 0, C is not read.
///
/// Runs on the calling thread ([`Threads::Serial`]): the models split work across threads
/// themselves, by sequences of the batch, where no step waits for another thread.
#[inline]
pub(crate) fn gemm<T: Real>(
    beta: T,
    c: &mut [T],
    m: usize,
    n: usize,
    k: usize,
    alpha: T,
    a: &[T],
    op_a: Op,
    b: &[T],
    op_b: Op,
) {
    debug_assert_eq!(c.len(), m * n);
    debug_assert_eq!(a.len(), m * k);
    debug_assert_eq!(b.len(), k * n);
    let (ar, ac) = if op_a == Op::N { (m, k) } else { (k, m) };
    let (br, bc) = if op_b == Op::N { (k, n) } else { (n, k) };
    let av = DMatrixView::from_slice(a, ar, ac);
    let bv = DMatrixView::from_slice(b, br, bc);
    gemm_views(beta, c, m, n, alpha, &av, op_a, &bv, op_b);
}

/// [`gemm`] with A and B as views (B possibly strided).
#[inline]
fn gemm_views<T: Real>(
    beta: T,
    c: &mut [T],
    m: usize,
    n: usize,
    alpha: T,
    a: &DMatrixView<'_, T>,
    op_a: Op,
    b: &DMatrixView<'_, T>,
    op_b: Op,
) {
    if m == 0 || n == 0 {
        return;
    }
    let mut cv = DMatrixViewMut::from_slice(c, m, n);
    linalg::gemm_with(Threads::Serial, beta, &mut cv, alpha, a, op_a, b, op_b);
}

/// [`gemm`] for a product over a whole batch: with at least [`SPLIT_PRODUCT`] multiply-adds, the
/// columns of C are split in two halves computed on two threads.
#[inline]
pub(crate) fn gemm_batch<T: Real>(
    beta: T,
    c: &mut [T],
    m: usize,
    n: usize,
    k: usize,
    alpha: T,
    a: &[T],
    op_a: Op,
    b: &[T],
    op_b: Op,
) {
    if n < 2 || m * n * k < SPLIT_PRODUCT {
        gemm(beta, c, m, n, k, alpha, a, op_a, b, op_b);
        return;
    }
    let n1 = n / 2;
    let (c1, c2) = c.split_at_mut(m * n1);
    let (ar, ac) = if op_a == Op::N { (m, k) } else { (k, m) };
    let av = DMatrixView::from_slice(a, ar, ac);
    // The columns of op(B) that make the columns of each half of C.
    let (b1, b2) = match op_b {
        Op::N => (DMatrixView::from_slice(&b[..k * n1], k, n1), DMatrixView::from_slice(&b[k * n1..], k, n - n1)),
        Op::T => (rows_of(b, n, k, 0, n1), rows_of(b, n, k, n1, n - n1)),
    };
    rayon::join(
        || gemm_views(beta, c1, m, n1, alpha, &av, op_a, &b1, op_b),
        || gemm_views(beta, c2, m, n - n1, alpha, &av, op_a, &b2, op_b),
    );
}

/// Rows `r0 .. r0 + nr` of the column-major `rows × cols` matrix in `m`, as a strided view.
fn rows_of<T: Real>(m: &[T], rows: usize, cols: usize, r0: usize, nr: usize) -> DMatrixView<'_, T> {
    let end = if cols == 0 { r0 } else { r0 + (cols - 1) * rows + nr };
    DMatrixView::from_slice_with_strides_generic(&m[r0..end], Dyn(nr), Dyn(cols), U1, Dyn(rows))
}

/// `out` (`cols × rows`) ← the transpose of `m` (`rows × cols`), both column-major.
pub(crate) use rnn_core::linalg::transpose;

/// z ← f(z + b) column by column: `z` is `rows × n`, `bias` has `rows` entries.
#[inline]
pub(crate) fn bias_activation<T: Real>(z: &mut [T], rows: usize, bias: &[T], f: Activation) {
    debug_assert_eq!(bias.len(), rows);
    debug_assert_eq!(z.len() % rows, 0);
    for col in z.chunks_exact_mut(rows) {
        for (zi, &bi) in col.iter_mut().zip(bias) {
            *zi += bi;
        }
    }
    activate(z, f);
}

/// x ← f(x) element-wise ([`Activation::apply_slice`], vectorised for tanh and the logistic in
/// `f32`).
#[inline]
pub(crate) fn activate<T: Real>(xs: &mut [T], f: Activation) {
    f.apply_slice(xs);
}

/// δ ← δ ⊙ f′(y), f′ written in terms of the output y.
#[inline]
pub(crate) fn backprop_activation<T: Real>(y: &[T], delta: &mut [T], f: Activation) {
    debug_assert_eq!(y.len(), delta.len());
    f.backprop_slice(y, delta);
}

/// out ← Σ_j m[:, j]: the row sums of the `rows × n` matrix `m`.
#[inline]
pub(crate) fn row_sums<T: Real>(out: &mut [T], m: &[T], rows: usize) {
    debug_assert_eq!(out.len(), rows);
    out.fill(T::zero());
    linalg::add_row_sums(out, m, rows, 0);
}

/// y ← y + x.
#[inline]
pub(crate) fn add<T: Real>(y: &mut [T], x: &[T]) {
    debug_assert_eq!(y.len(), x.len());
    y.iter_mut().zip(x).for_each(|(a, &b)| *a += b);
}

/// y ← μ·y + x.
#[inline]
pub(crate) fn decay_add<T: Real>(y: &mut [T], mu: T, x: &[T]) {
    debug_assert_eq!(y.len(), x.len());
    y.iter_mut().zip(x).for_each(|(a, &b)| *a = mu * *a + b);
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn gemm_matches_nalgebra_small_and_large() {
        for &(m, n, k) in &[(3, 1, 2), (7, 3, 5), (32, 1, 32), (33, 2, 17), (64, 64, 64), (5, 40, 300)] {
            let a = DMatrix::<f64>::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 11) as f64 * 0.1 - 0.5);
            let b = DMatrix::<f64>::from_fn(k, n, |i, j| ((i * 5 + j) % 7) as f64 * 0.2 - 0.6);
            let c0 = DMatrix::<f64>::from_fn(m, n, |i, j| (i + j) as f64 * 0.01);
            let expected = &c0 * 0.5 + (&a * &b) * 2.0;
            let at = a.transpose();
            let bt = b.transpose();
            for (aa, oa) in [(&a, Op::N), (&at, Op::T)] {
                for (bb, ob) in [(&b, Op::N), (&bt, Op::T)] {
                    let mut c = c0.clone();
                    gemm(0.5, c.as_mut_slice(), m, n, k, 2.0, aa.as_slice(), oa, bb.as_slice(), ob);
                    assert!((&c - &expected).abs().max() < 1e-12, "{m}×{n}×{k} {oa:?}{ob:?}");
                    let mut c = DMatrix::from_element(m, n, f64::NAN);
                    gemm(0.0, c.as_mut_slice(), m, n, k, 1.0, aa.as_slice(), oa, bb.as_slice(), ob);
                    assert!((&c - &a * &b).abs().max() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn batch_gemm_splits_without_changing_the_result() {
        for &(m, n, k) in &[(520, 520, 64), (64, 531, 520), (2, 4, 8)] {
            assert_eq!(m * n * k >= SPLIT_PRODUCT, m > 2);
            let a = DMatrix::<f64>::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 11) as f64 * 0.1 - 0.5);
            let b = DMatrix::<f64>::from_fn(k, n, |i, j| ((i * 5 + j) % 7) as f64 * 0.2 - 0.6);
            let expected = &a * &b;
            let (at, bt) = (a.transpose(), b.transpose());
            for (aa, oa) in [(&a, Op::N), (&at, Op::T)] {
                for (bb, ob) in [(&b, Op::N), (&bt, Op::T)] {
                    let mut c = DMatrix::from_element(m, n, f64::NAN);
                    gemm_batch(0.0, c.as_mut_slice(), m, n, k, 1.0, aa.as_slice(), oa, bb.as_slice(), ob);
                    assert!((&c - &expected).abs().max() < 1e-10, "{m}×{n}×{k} {oa:?}{ob:?}");
                }
            }
        }
        let m = DMatrix::<f64>::from_fn(3, 5, |i, j| (i * 5 + j) as f64);
        let mut t = vec![0.0; 15];
        transpose(&mut t, m.as_slice(), 3, 5);
        assert_eq!(DMatrix::from_column_slice(5, 3, &t), m.transpose());
    }

    #[test]
    fn row_sums_and_bias_activation() {
        let m = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut s = [9.0; 2];
        row_sums(&mut s, &m, 2);
        assert_eq!(s, [9.0, 12.0]);
        let mut z = [0.0f64, 1.0, 2.0, 3.0];
        bias_activation(&mut z, 2, &[1.0, -1.0], Activation::Identity);
        assert_eq!(z, [1.0, 0.0, 3.0, 2.0]);
    }
}
