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

/// A product of one time step of at least this many multiply-adds runs on every rayon thread;
/// below, on the calling thread. A fork-join costs tens of microseconds when the workers
/// sleep, more than it saves on a product that takes that long on one core.
pub(crate) const PARALLEL_STEP: usize = 1 << 24;

/// Batches this narrow take the matrix-vector path of [`step_mm`].
const NARROW: usize = 4;

/// C ← β·C + op(A)·B for one time step, B dense: narrow batches (≤ 4 columns) through plain
/// vectorisable loops (column updates for `A`, dot products for `Aᵀ`), whose cost per call is a
/// few nanoseconds; wider ones through [`mm`], on every thread from [`PARALLEL_STEP`]
/// multiply-adds.
#[inline]
pub(crate) fn step_mm<T: Real>(beta: T, c: &mut [T], m: usize, n: usize, a: Mat<'_, T>, op_a: Op, b: Mat<'_, T>) {
    let k = if op_a == Op::N { a.cols } else { a.rows };
    if n > NARROW {
        let threads = if m * n * k >= PARALLEL_STEP { Threads::Auto } else { Threads::Serial };
        return mm(threads, beta, c, m, n, a, op_a, b, Op::N);
    }
    for j in 0..n {
        let cj = &mut c[j * m..(j + 1) * m];
        let bj = &b.data[j * b.stride..j * b.stride + k];
        if beta == T::zero() {
            cj.fill(T::zero());
        } else if beta != T::one() {
            cj.iter_mut().for_each(|v| *v *= beta);
        }
        match op_a {
            Op::N => {
                for (kk, &w) in bj.iter().enumerate() {
                    let col = &a.data[kk * a.stride..kk * a.stride + m];
                    cj.iter_mut().zip(col).for_each(|(v, &x)| *v += w * x);
                }
            }
            Op::T => {
                for (i, v) in cj.iter_mut().enumerate() {
                    *v += dot(&a.data[i * a.stride..i * a.stride + k], bj);
                }
            }
        }
    }
}

/// Σ x_i y_i in eight interleaved partial sums (so that it vectorises), added in a fixed order.
#[inline]
fn dot<T: Real>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let (xc, yc) = (x.chunks_exact(8), y.chunks_exact(8));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for l in 0..8 {
            acc[l] += a[l] * b[l];
        }
    }
    let mut tail = T::zero();
    for (a, b) in xr.iter().zip(yr) {
        tail += *a * *b;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}
