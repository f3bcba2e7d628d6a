//! Loss functions with their gradients, over the valid steps of a batch.

use nalgebra::{DMatrix, DMatrixView};
use serde::{Deserialize, Serialize};

use crate::{Real, Result, activation::logistic, error::check_dim};

/// A loss between a model's raw outputs and targets, with its gradient.
///
/// Columns are (step, sequence) pairs; `valid[j]` says whether column j counts. The value is
/// a mean over valid columns:
///
/// - `Mse`: L = 1/(N·O) Σ_j Σ_k (y_kj − t_kj)², the mean over every valid element (as
///   PyTorch's `MSELoss`); ∂L/∂y = 2 (y − t) / (N·O).
/// - `SoftmaxCrossEntropy`: the outputs are logits; p = softmax(y) per column,
///   L = −1/N Σ_j Σ_k t_kj ln p_kj (targets one-hot, a distribution, or any non-negative weights);
///   ∂L/∂y_k = (p_k Σ_i t_i − t_k)/N, which is (p − t)/N for a distribution.
/// - `BinaryCrossEntropy`: the outputs are logits; p = σ(y),
///   L = −1/(N·O) Σ [t ln p + (1 − t) ln(1 − p)]; ∂L/∂y = (p − t)/(N·O).
/// - `SumSquared`: E = ½ Σ_j Σ_k (y_kj − t_kj)², summed, not averaged: the error of the classic
///   papers (Rumelhart et al. 1986, Williams & Zipser 1989, Hochreiter & Schmidhuber 1997), so
///   their learning rates mean the same here; ∂E/∂y = y − t.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::Loss;
/// let y = DMatrix::from_column_slice(1, 2, &[1.0f64, 3.0]);
/// let t = DMatrix::from_column_slice(1, 2, &[0.0f64, 3.0]);
/// let mut g = DMatrix::zeros(1, 2);
/// let l = Loss::Mse.value_and_gradient(y.as_view(), t.as_view(), None, &mut g).unwrap();
/// assert_eq!(l, 0.5);
/// assert_eq!(g.as_slice(), &[1.0, 0.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Loss {
    /// Mean squared error over every valid element.
    #[default]
    Mse,
    /// Softmax over each column's outputs, then cross-entropy against the targets.
    SoftmaxCrossEntropy,
    /// Logistic on each output, then binary cross-entropy against targets in [0, 1].
    BinaryCrossEntropy,
    /// Half the sum of squared errors over every valid element, E = ½ Σ (y − t)².
    SumSquared,
}

impl Loss {
    /// The loss over the valid columns, writing ∂L/∂y into `grad` (zero in invalid columns).
    ///
    /// `valid` is `None` when every column counts. Returns 0 when no column is valid.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) unless `targets` and
    /// `grad` have the shape of `outputs` and `valid` (if given) has one entry per column.
    pub fn value_and_gradient<T: Real>(
        self,
        outputs: DMatrixView<'_, T>,
        targets: DMatrixView<'_, T>,
        valid: Option<&[bool]>,
        grad: &mut DMatrix<T>,
    ) -> Result<T> {
        let (rows, cols) = outputs.shape();
        check_dim("loss target rows", rows, targets.nrows())?;
        check_dim("loss target columns", cols, targets.ncols())?;
        check_dim("loss gradient rows", rows, grad.nrows())?;
        check_dim("loss gradient columns", cols, grad.ncols())?;
        if let Some(v) = valid {
            check_dim("loss validity mask length", cols, v.len())?;
        }
        Ok(self.value_and_gradient_unchecked(outputs, targets, valid, grad))
    }

    /// [`value_and_gradient`](Self::value_and_gradient) for callers that have checked the
    /// shapes (models, inside their time loops).
    ///
    /// # Panics
    /// Panics if the shapes disagree.
    pub fn value_and_gradient_unchecked<T: Real>(
        self,
        outputs: DMatrixView<'_, T>,
        targets: DMatrixView<'_, T>,
        valid: Option<&[bool]>,
        grad: &mut DMatrix<T>,
    ) -> T {
        assert!(
            outputs.shape() == targets.shape() && outputs.shape() == grad.shape(),
            "loss shapes: outputs {:?}, targets {:?}, gradient {:?}",
            outputs.shape(),
            targets.shape(),
            grad.shape()
        );
        grad.fill(T::zero());
        self.evaluate(outputs, targets, valid, Some(grad))
    }

    /// The loss, and ∂L/∂y into `grad` when it is given (shapes checked by the caller).
    fn evaluate<T: Real>(
        self,
        outputs: DMatrixView<'_, T>,
        targets: DMatrixView<'_, T>,
        valid: Option<&[bool]>,
        mut grad: Option<&mut DMatrix<T>>,
    ) -> T {
        let (rows, cols) = outputs.shape();
        let is_valid = |j: usize| valid.is_none_or(|v| v[j]);
        let n = (0..cols).filter(|&j| is_valid(j)).count();
        if n == 0 || rows == 0 {
            return T::zero();
        }
        let mut write = |k: usize, j: usize, g: T| {
            if let Some(grad) = grad.as_deref_mut() {
                grad[(k, j)] = g;
            }
        };
        let mut total = T::zero();
        match self {
            Loss::Mse => {
                let scale = T::one() / T::of_usize(n * rows);
                let two = T::of_f64(2.0) * scale;
                for j in (0..cols).filter(|&j| is_valid(j)) {
                    let g = grad.as_deref_mut().map(|g| &mut g.as_mut_slice()[j * rows..(j + 1) * rows]);
                    total += squared_errors(column(&outputs, j), column(&targets, j), g, two);
                }
                total * scale
            }
            Loss::SoftmaxCrossEntropy => {
                let scale = T::one() / T::of_usize(n);
                for j in (0..cols).filter(|&j| is_valid(j)) {
                    let col = outputs.column(j);
                    let m = col.max();
                    let z: T = col.iter().map(|&v| (v - m).exp()).sum();
                    let log_z = z.ln() + m;
                    // ∂/∂y_k of −Σ_i t_i ln p_i is p_k·Σ_i t_i − t_k (= p_k − t_k for a distribution).
                    let t_sum: T = targets.column(j).iter().copied().sum();
                    for k in 0..rows {
                        let t = targets[(k, j)];
                        let log_p = outputs[(k, j)] - log_z;
                        if t != T::zero() {
                            total -= t * log_p;
                        }
                        write(k, j, (log_p.exp() * t_sum - t) * scale);
                    }
                }
                total * scale
            }
            Loss::BinaryCrossEntropy => {
                let scale = T::one() / T::of_usize(n * rows);
                for j in (0..cols).filter(|&j| is_valid(j)) {
                    for k in 0..rows {
                        let (y, t) = (outputs[(k, j)], targets[(k, j)]);
                        // ln σ(y) = −softplus(−y), ln(1 − σ(y)) = −softplus(y), computed stably.
                        total += t * softplus(-y) + (T::one() - t) * softplus(y);
                        write(k, j, (logistic(y) - t) * scale);
                    }
                }
                total * scale
            }
            Loss::SumSquared => {
                for j in (0..cols).filter(|&j| is_valid(j)) {
                    let g = grad.as_deref_mut().map(|g| &mut g.as_mut_slice()[j * rows..(j + 1) * rows]);
                    total += squared_errors(column(&outputs, j), column(&targets, j), g, T::one());
                }
                T::of_f64(0.5) * total
            }
        }
    }

    /// The loss value alone (no gradient), over the valid columns.
    ///
    /// # Errors
    /// As [`value_and_gradient`](Self::value_and_gradient).
    pub fn value<T: Real>(
        self,
        outputs: DMatrixView<'_, T>,
        targets: DMatrixView<'_, T>,
        valid: Option<&[bool]>,
    ) -> Result<T> {
        let (rows, cols) = outputs.shape();
        check_dim("loss target rows", rows, targets.nrows())?;
        check_dim("loss target columns", cols, targets.ncols())?;
        if let Some(v) = valid {
            check_dim("loss validity mask length", cols, v.len())?;
        }
        Ok(self.evaluate(outputs, targets, valid, None))
    }
}

/// Column `j` of `m` as a slice (a `DMatrixView`'s rows are contiguous).
fn column<'a, T: Real>(m: &DMatrixView<'a, T>, j: usize) -> &'a [T] {
    let rows = m.nrows();
    let (row_stride, col_stride) = m.strides();
    assert!(row_stride == 1 && j < m.ncols(), "a column of a column-major view");
    if rows == 0 {
        return &[];
    }
    // SAFETY: the view owns (borrows for 'a) `rows` contiguous elements from column j's start,
    // j being in bounds (asserted).
    unsafe { std::slice::from_raw_parts(m.as_ptr().add(j * col_stride), rows) }
}

/// Σ_k (y_k − t_k)², and g_k = scale·(y_k − t_k) when `g` is given: eight running sums, added in
/// a fixed order, so that the loop vectorises and the result is the same on every run.
fn squared_errors<T: Real>(y: &[T], t: &[T], g: Option<&mut [T]>, scale: T) -> T {
    const LANES: usize = 8;
    let mut acc = [T::zero(); LANES];
    let whole = y.len() / LANES * LANES;
    let mut tail = T::zero();
    match g {
        Some(g) => {
            for ((yc, tc), gc) in y.chunks_exact(LANES).zip(t.chunks_exact(LANES)).zip(g.chunks_exact_mut(LANES)) {
                for l in 0..LANES {
                    let d = yc[l] - tc[l];
                    acc[l] += d * d;
                    gc[l] = scale * d;
                }
            }
            for k in whole..y.len() {
                let d = y[k] - t[k];
                tail += d * d;
                g[k] = scale * d;
            }
        }
        None => {
            for (yc, tc) in y.chunks_exact(LANES).zip(t.chunks_exact(LANES)) {
                for l in 0..LANES {
                    let d = yc[l] - tc[l];
                    acc[l] += d * d;
                }
            }
            for k in whole..y.len() {
                let d = y[k] - t[k];
                tail += d * d;
            }
        }
    }
    acc.iter().fold(T::zero(), |s, &v| s + v) + tail
}

/// softplus(x) = ln(1 + eˣ), computed without overflow.
fn softplus<T: Real>(x: T) -> T {
    if x > T::zero() { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(loss: Loss, y: &[f64], t: &[f64], rows: usize, valid: Option<&[bool]>) {
        let cols = y.len() / rows;
        let y = DMatrix::from_column_slice(rows, cols, y);
        let t = DMatrix::from_column_slice(rows, cols, t);
        let mut g = DMatrix::zeros(rows, cols);
        loss.value_and_gradient(y.as_view(), t.as_view(), valid, &mut g).unwrap();
        for i in 0..y.len() {
            let h = 1e-6;
            let (mut a, mut b) = (y.clone(), y.clone());
            a[i] += h;
            b[i] -= h;
            let num = (loss.value(a.as_view(), t.as_view(), valid).unwrap()
                - loss.value(b.as_view(), t.as_view(), valid).unwrap())
                / (2.0 * h);
            assert!((num - g[i]).abs() < 1e-8, "{loss:?} element {i}: numeric {num}, analytic {}", g[i]);
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let y = [0.3, -1.2, 2.0, 0.1, -0.5, 0.8];
        check(Loss::Mse, &y, &[0.0, 1.0, 0.5, 0.2, 0.1, -0.3], 3, None);
        check(Loss::SoftmaxCrossEntropy, &y, &[0.0, 1.0, 0.0, 1.0, 0.0, 0.0], 3, Some(&[true, false]));
        check(Loss::SoftmaxCrossEntropy, &y, &[0.2, 0.5, 0.0, 1.0, 0.7, 0.3], 3, None);
        check(Loss::BinaryCrossEntropy, &y, &[0.0, 1.0, 1.0, 0.0, 1.0, 0.0], 3, None);
        check(Loss::SumSquared, &y, &[0.0, 1.0, 0.5, 0.2, 0.1, -0.3], 3, Some(&[false, true]));
    }

    #[test]
    fn sum_squared_is_half_the_summed_squares() {
        let y = DMatrix::from_column_slice(2, 2, &[1.0f64, 2.0, 3.0, 4.0]);
        let t = DMatrix::zeros(2, 2);
        assert_eq!(Loss::SumSquared.value(y.as_view(), t.as_view(), None).unwrap(), 15.0);
        assert_eq!(Loss::SumSquared.value(y.as_view(), t.as_view(), Some(&[true, false])).unwrap(), 2.5);
    }

    #[test]
    fn cross_entropy_is_finite_for_large_logits() {
        let y = DMatrix::from_column_slice(2, 1, &[1000.0f64, -1000.0]);
        let t = DMatrix::from_column_slice(2, 1, &[0.0f64, 1.0]);
        assert!(Loss::SoftmaxCrossEntropy.value(y.as_view(), t.as_view(), None).unwrap().is_finite());
        assert!(Loss::BinaryCrossEntropy.value(y.as_view(), t.as_view(), None).unwrap().is_finite());
    }

    #[test]
    fn mismatched_shapes_are_errors() {
        let y = DMatrix::<f64>::zeros(1, 3);
        let mut g = DMatrix::zeros(1, 3);
        assert!(Loss::Mse.value(y.as_view(), DMatrix::zeros(2, 3).as_view(), None).is_err());
        assert!(Loss::Mse.value(y.as_view(), y.as_view(), Some(&[true])).is_err());
        assert!(Loss::Mse.value_and_gradient(y.as_view(), y.as_view(), None, &mut DMatrix::zeros(1, 2)).is_err());
        assert!(Loss::Mse.value_and_gradient(y.as_view(), y.as_view(), None, &mut g).is_ok());
    }
}
