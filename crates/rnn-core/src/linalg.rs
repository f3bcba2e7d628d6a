//! Dense matrix kernels behind one small API.
//!
//! nalgebra's own `gemm` is portable but slow on wide SIMD units; the products here go through
//! the [`gemm`](https://docs.rs/gemm) crate (AVX-512 / AVX2 / NEON kernels chosen at run time)
//! for `f32` and `f64`, and fall back to nalgebra for any other [`Real`]. Switching kernels
//! touches this file alone.

use std::any::TypeId;

use nalgebra::{DMatrixView, DMatrixViewMut};

use crate::Real;

/// Products of at least this many multiply-adds use every rayon thread under
/// [`Threads::Auto`]; smaller ones run on the calling thread, where a fork-join would cost
/// more than it saves.
pub const PARALLEL_THRESHOLD: usize = 1 << 20;

/// Which threads may compute a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Threads {
    /// Every rayon thread for products of at least [`PARALLEL_THRESHOLD`] multiply-adds, the
    /// calling thread for smaller ones.
    #[default]
    Auto,
    /// The calling thread only: for callers that split work across threads themselves, or
    /// whose products are too short for a fork-join to pay (one step of a time loop).
    Serial,
}

/// Whether to transpose an operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Use the matrix as it is.
    N,
    /// Use its transpose.
    T,
}

/// C ← β·C + α·op(A)·op(B), the BLAS `gemm` contract. When β = 0, C is never read (NaN in C is
/// overwritten).
///
/// The result does not depend on the number of threads: the parallel kernel splits C into
/// blocks and never splits a dot product.
///
/// # Panics
/// Panics if the shapes do not agree (an internal invariant: models check user shapes first).
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::linalg::{gemm, Op};
/// let a = DMatrix::from_row_slice(2, 2, &[1.0f32, 2.0, 3.0, 4.0]);
/// let b = DMatrix::from_row_slice(2, 1, &[1.0f32, 1.0]);
/// let mut c = DMatrix::from_element(2, 1, 10.0f32);
/// gemm(1.0, &mut c.as_view_mut(), 2.0, &a.as_view(), Op::N, &b.as_view(), Op::N);
/// assert_eq!(c.as_slice(), &[16.0, 24.0]);
/// gemm(0.0, &mut c.as_view_mut(), 1.0, &a.as_view(), Op::T, &b.as_view(), Op::N);
/// assert_eq!(c.as_slice(), &[4.0, 6.0]);
/// ```
pub fn gemm<T: Real>(
    beta: T,
    c: &mut DMatrixViewMut<'_, T>,
    alpha: T,
    a: &DMatrixView<'_, T>,
    op_a: Op,
    b: &DMatrixView<'_, T>,
    op_b: Op,
) {
    gemm_with(Threads::Auto, beta, c, alpha, a, op_a, b, op_b);
}

/// [`gemm()`] with a choice of [`Threads`]: C ← β·C + α·op(A)·op(B). The result does not depend
/// on `threads`.
///
/// # Panics
/// Panics if the shapes do not agree (an internal invariant: models check user shapes first).
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::linalg::{gemm_with, Op, Threads};
/// let a = DMatrix::from_row_slice(2, 2, &[1.0f64, 2.0, 3.0, 4.0]);
/// let b = DMatrix::from_row_slice(2, 1, &[1.0f64, 1.0]);
/// let mut c = DMatrix::zeros(2, 1);
/// gemm_with(Threads::Serial, 0.0, &mut c.as_view_mut(), 1.0, &a.as_view(), Op::N, &b.as_view(), Op::N);
/// assert_eq!(c.as_slice(), &[3.0, 7.0]);
/// ```
pub fn gemm_with<T: Real>(
    threads: Threads,
    beta: T,
    c: &mut DMatrixViewMut<'_, T>,
    alpha: T,
    a: &DMatrixView<'_, T>,
    op_a: Op,
    b: &DMatrixView<'_, T>,
    op_b: Op,
) {
    let (m, n) = c.shape();
    let (am, ak) = if op_a == Op::N { a.shape() } else { (a.ncols(), a.nrows()) };
    let (bk, bn) = if op_b == Op::N { b.shape() } else { (b.ncols(), b.nrows()) };
    assert!(am == m && bn == n && ak == bk, "gemm shapes: C {m}×{n}, op(A) {am}×{ak}, op(B) {bk}×{bn}");
    let k = ak;
    if m == 0 || n == 0 {
        return;
    }
    let is_native = TypeId::of::<T>() == TypeId::of::<f32>() || TypeId::of::<T>() == TypeId::of::<f64>();
    if !is_native {
        fallback(beta, c, alpha, a, op_a, b, op_b);
        return;
    }
    // nalgebra views are column-major: row stride 1, column stride = leading dimension.
    let (a_rs, a_cs) = strides(a.strides(), op_a);
    let (b_rs, b_cs) = strides(b.strides(), op_b);
    let (c_rs, c_cs) = (c.strides().0 as isize, c.strides().1 as isize);
    let parallelism = if threads == Threads::Auto && m * n * k >= PARALLEL_THRESHOLD {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    let read_dst = beta != T::zero();
    // SAFETY: the pointers and strides describe the three views exactly (checked shapes above);
    // C does not alias A or B because it is borrowed mutably while they are borrowed shared;
    // T is f32 or f64 (checked above), the types the gemm crate supports.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            read_dst,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            beta,
            alpha,
            false,
            false,
            false,
            parallelism,
        );
    }
}

fn strides((rs, cs): (usize, usize), op: Op) -> (isize, isize) {
    match op {
        Op::N => (rs as isize, cs as isize),
        Op::T => (cs as isize, rs as isize),
    }
}

fn fallback<T: Real>(
    beta: T,
    c: &mut DMatrixViewMut<'_, T>,
    alpha: T,
    a: &DMatrixView<'_, T>,
    op_a: Op,
    b: &DMatrixView<'_, T>,
    op_b: Op,
) {
    let a = if op_a == Op::N { a.clone_owned() } else { a.transpose() };
    let b = if op_b == Op::N { b.clone_owned() } else { b.transpose() };
    if beta == T::zero() {
        c.fill(T::zero());
    }
    c.gemm(alpha, &a, &b, beta);
}

/// `out` (`cols × rows`) ← the transpose of the column-major `rows × cols` matrix `m`, in
/// 32 × 32 blocks that stay in the L1 cache (an unblocked loop touches one cache line per
/// element on one side, and takes milliseconds at 2048 × 512).
///
/// # Panics
/// Panics if `m` or `out` holds fewer than `rows · cols` elements.
///
/// ```
/// // [1 3 5; 2 4 6] (2 × 3, column-major) → [1 2; 3 4; 5 6].
/// let mut t = [0.0; 6];
/// rnn_core::linalg::transpose(&mut t, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3);
/// assert_eq!(t, [1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
/// ```
pub fn transpose<T: Real>(out: &mut [T], m: &[T], rows: usize, cols: usize) {
    const BLOCK: usize = 32;
    assert!(m.len() >= rows * cols && out.len() >= rows * cols, "transpose of {rows} × {cols}");
    for i0 in (0..rows).step_by(BLOCK) {
        for j0 in (0..cols).step_by(BLOCK) {
            for i in i0..(i0 + BLOCK).min(rows) {
                for j in j0..(j0 + BLOCK).min(cols) {
                    out[i * cols + j] = m[j * rows + i];
                }
            }
        }
    }
}

/// sums\[k\] += Σ_j m\[row0 + k, j\] over the columns of the column-major matrix `m` of `rows`
/// rows: the bias gradient Σ_t δ(t) of a batch of errors (`row0` picks the biased rows).
///
/// # Panics
/// Panics if `row0 + sums.len() > rows`.
///
/// ```
/// let mut s = [1.0, 0.0];
/// rnn_core::linalg::add_row_sums(&mut s, &[1.0, 2.0, 3.0, 4.0], 2, 0);
/// assert_eq!(s, [5.0, 6.0]);
/// ```
pub fn add_row_sums<T: Real>(sums: &mut [T], m: &[T], rows: usize, row0: usize) {
    let n = sums.len();
    assert!(row0 + n <= rows, "rows {row0}..{} of {rows}", row0 + n);
    for col in m.chunks_exact(rows) {
        for (s, &v) in sums.iter_mut().zip(&col[row0..row0 + n]) {
            *s += v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn matches_nalgebra_for_every_transpose() {
        let a = DMatrix::<f64>::from_fn(7, 5, |i, j| (i * 5 + j) as f64 * 0.1 - 1.0);
        let b = DMatrix::<f64>::from_fn(5, 3, |i, j| (i as f64 - j as f64) * 0.3);
        let expected = &a * &b * 2.0 + DMatrix::from_element(7, 3, 0.5);
        let at = a.transpose();
        let bt = b.transpose();
        for (aa, oa) in [(&a, Op::N), (&at, Op::T)] {
            for (bb, ob) in [(&b, Op::N), (&bt, Op::T)] {
                let mut c = DMatrix::from_element(7, 3, 1.0);
                gemm(0.5, &mut c.as_view_mut(), 2.0, &aa.as_view(), oa, &bb.as_view(), ob);
                assert!((c - &expected).abs().max() < 1e-12);
                let mut c = DMatrix::from_element(7, 3, 1.0);
                gemm_with(Threads::Serial, 0.5, &mut c.as_view_mut(), 2.0, &aa.as_view(), oa, &bb.as_view(), ob);
                assert!((c - &expected).abs().max() < 1e-12);
            }
        }
    }

    #[test]
    fn works_on_sub_views() {
        let big = DMatrix::<f32>::from_fn(6, 6, |i, j| (i + 2 * j) as f32);
        let a = big.view((1, 1), (3, 2));
        let b = big.view((0, 3), (2, 2));
        let mut c = DMatrix::<f32>::from_element(3, 2, f32::NAN);
        gemm(0.0, &mut c.as_view_mut(), 1.0, &a, Op::N, &b, Op::N);
        assert_eq!(c, a.clone_owned() * b.clone_owned());
    }
}
