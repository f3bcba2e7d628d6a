//! Matrix products on column-major slices (through [`rnn_core::linalg`]): [`mm`] for whole
//! passes, [`step`] for the products of one time step, [`passes`] for long buffers in two halves
//! on two threads, and the `f32` AVX-512 tiles and fused cell in `avx512`.
//!
//! Shapes are internal invariants here (the network checks user input at its boundary), so the
//! views panic on a mismatch rather than return errors.

use nalgebra::{DMatrixView, DMatrixViewMut, Dyn, U1};
use rnn_core::Real;
pub(crate) use rnn_core::linalg::add_row_sums;
use rnn_core::linalg::{Op, Threads, gemm_with};

/// Defines the function written inside it so that its body runs compiled for the widest
/// vector unit the CPU has (AVX-512, AVX2 + FMA, or the baseline), chosen at run time: the time
/// loops are plain slice loops, vectorised by the compiler, and the baseline x86-64 target has
/// only SSE2. The arithmetic, and so the result, is the same on every path (no reassociation,
/// no fused multiply-add the code does not write).
macro_rules! widest_vectors {
    (
        $(#[$doc:meta])*
        pub(crate) fn $name:ident<T: Real>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$doc])*
        pub(crate) fn $name<T: Real>($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body<T: Real>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                fn avx512<T: Real>($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2<T: Real>($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked just above), and AVX2 and FMA with it.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod avx512;
mod passes;
mod step;

pub(crate) use passes::{check_finite_par, checked_copy_par};
pub(crate) use step::{StepA, pack_panels, step_mm};

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

/// The modern cell's update of one column (one sequence at one step), fused into one pass
/// where it can run on AVX-512 in `f32` with C a multiple of 16: `z` holds the net inputs
/// \[g; i; f; o\] (4C) and gets their activations, then s = f ⊙ s(t−1) + i ⊙ g, h = tanh(s),
/// r = o ⊙ h. The same operations, in the same order, as the unfused loop on such a CPU, so the
/// same results. Returns whether every net input was finite, or `None` (touching nothing) where
/// it cannot run.
#[inline(always)]
pub(crate) fn modern_cell<T: Real>(z: &mut [T], s_prev: &[T], s: &mut [T], h: &mut [T], r: &mut [T]) -> Option<bool> {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && s.len().is_multiple_of(16)
        && std::arch::is_x86_feature_detected!("avx512f")
    {
        let f32s = |v: &[T]| -> &[f32] {
            // SAFETY: T is f32 (checked above), so the slices have the same layout.
            unsafe { &*(v as *const [T] as *const [f32]) }
        };
        #[allow(clippy::type_complexity)]
        let f32m = |v: &mut [T]| -> &mut [f32] {
            // SAFETY: as above.
            unsafe { &mut *(v as *mut [T] as *mut [f32]) }
        };
        // SAFETY: the CPU has AVX-512F (checked above).
        return Some(unsafe { avx512::modern_cell(f32m(z), f32s(s_prev), f32m(s), f32m(h), f32m(r)) });
    }
    let _ = (z, s_prev, s, h, r);
    None
}

pub(crate) use rnn_core::error::all_finite as finite;
