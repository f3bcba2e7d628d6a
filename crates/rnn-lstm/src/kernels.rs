//! Matrix products on column-major slices (through [`rnn_core::linalg`]) and row sums.
//!
//! Shapes are internal invariants here (the network checks user input at its boundary), so the
//! views panic on a mismatch rather than return errors.

use nalgebra::{DMatrixView, DMatrixViewMut, Dyn, U1};
use rnn_core::Real;
use rnn_core::linalg::{Op, Threads, gemm_with};

/// A column-major `rows × cols` matrix in `data`, whose columns start `stride` apart
/// (`stride ≥ rows`): the first `rows` rows of a taller matrix.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub stride: usize,
}

impl<'a, T: Real> Mat<'a, T> {
    /// A dense matrix.
    pub fn dense(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self { data, rows, cols, stride: rows }
    }

    /// Columns `start..start + n`.
    pub fn columns(&self, start: usize, n: usize) -> Self {
        let end = if n == 0 { start * self.stride } else { (start + n - 1) * self.stride + self.rows };
        Self { data: &self.data[start * self.stride..end], rows: self.rows, cols: n, stride: self.stride }
    }

    fn view(&self) -> DMatrixView<'a, T> {
        let len = if self.cols == 0 { 0 } else { (self.cols - 1) * self.stride + self.rows };
        nalgebra::MatrixView::from_slice_with_strides_generic(
            &self.data[..len],
            Dyn(self.rows),
            Dyn(self.cols),
            U1,
            Dyn(self.stride),
        )
    }
}

/// C ← β·C + op(A)·op(B), C dense `m × n` in `c`.
#[inline]
pub(crate) fn mm<T: Real>(
    threads: Threads,
    beta: T,
    c: &mut [T],
    m: usize,
    n: usize,
    a: Mat<'_, T>,
    op_a: Op,
    b: Mat<'_, T>,
    op_b: Op,
) {
    if m == 0 || n == 0 {
        return;
    }
    let mut cv = DMatrixViewMut::from_slice(&mut c[..m * n], m, n);
    gemm_with(threads, beta, &mut cv, T::one(), &a.view(), op_a, &b.view(), op_b);
}

/// sums[k] += Σ_j m[row0 + k, j] over the `cols` columns of the `rows`-row matrix `m`.
pub(crate) fn add_row_sums<T: Real>(sums: &mut [T], m: &[T], rows: usize, row0: usize) {
    let n = sums.len();
    for col in m.chunks_exact(rows) {
        for (s, &v) in sums.iter_mut().zip(&col[row0..row0 + n]) {
            *s += v;
        }
    }
}
