//! Matrix products on column-major slices (through [`rnn_core::linalg`]) and row sums.
//!
//! Shapes are internal invariants here (the network checks user input at its boundary), so the
//! views panic on a mismatch rather than return errors.

use nalgebra::{DMatrixView, DMatrixViewMut, Dyn, U1};
use rnn_core::Real;
use rnn_core::linalg::{Op, Threads, gemm_with};

/// Generates `$name`, which runs `$body` compiled for the widest vector unit the CPU has
/// (AVX-512, AVX2 + FMA, or the baseline): the time loops are plain slice loops, vectorised by
/// the compiler, and the baseline x86-64 target has only SSE2. The arithmetic, and so the
/// result, is the same on every path (no reassociation, no fused multiply-add).
macro_rules! widest_vectors {
    ($(#[$doc:meta])* $name:ident => $body:ident ($($arg:ident: $ty:ty),* $(,)?)) => {
        $(#[$doc])*
        pub(crate) fn $name<T: Real>($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                fn avx512<T: Real>($($arg: $ty),*) {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2<T: Real>($($arg: $ty),*) {
                    $body($($arg),*)
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
            $body($($arg),*)
        }
    };
}

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

/// A product of one time step of at least this many multiply-adds, in a time loop that runs on
/// one thread (no batch split), goes to the `gemm` crate on every rayon thread; below, and in
/// each half of a split batch (already one thread per half), to the register tiles on the
/// calling thread. A fork-join costs tens of microseconds when the workers sleep, more than it
/// saves on a product that takes that long on one core.
pub(crate) const PARALLEL_STEP: usize = 1 << 24;

/// The A of the time steps' products C ← β·C + A·B (W_h forward, W_hᵀ backward): the matrix
/// itself and, in `f32` on a CPU with AVX-512, its 32-row panels packed once per pass by
/// [`pack_panels`], which the tiles then read contiguously.
#[derive(Clone, Copy)]
pub(crate) struct StepA<'a, T> {
    /// A, column-major.
    pub plain: Mat<'a, T>,
    /// A's whole 32-row panels, packed; `None` where the tiles read `plain`.
    pub panels: Option<&'a [T]>,
    /// Whether a large product may use every thread (false inside a split batch's half).
    pub threads: bool,
}

/// Packs the whole 32-row panels of op(A) (`op_a` = [`Op::T`] packs Aᵀ) for the `f32` AVX-512
/// tiles: element (32p + l, kk) of op(A) goes to `out[(p·k + kk)·32 + l]`, k the columns of
/// op(A). Returns whether it packed: only `f32` on a CPU with AVX-512 has those tiles.
pub(crate) fn pack_panels<T: Real>(a: Mat<'_, T>, op_a: Op, out: &mut Vec<T>) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && std::arch::is_x86_feature_detected!("avx512f") {
        let (m, k) = if op_a == Op::N { (a.rows, a.cols) } else { (a.cols, a.rows) };
        let panels = m / 32;
        out.clear();
        out.resize(panels * k * 32, T::zero());
        for p in 0..panels {
            let panel = &mut out[p * k * 32..(p + 1) * k * 32];
            match op_a {
                Op::N => {
                    for (kk, dst) in panel.chunks_exact_mut(32).enumerate() {
                        dst.copy_from_slice(&a.data[kk * a.stride + 32 * p..kk * a.stride + 32 * p + 32]);
                    }
                }
                Op::T => {
                    for l in 0..32 {
                        let row = &a.data[(32 * p + l) * a.stride..(32 * p + l) * a.stride + k];
                        for (kk, &v) in row.iter().enumerate() {
                            panel[kk * 32 + l] = v;
                        }
                    }
                }
            }
        }
        return true;
    }
    let _ = (a, op_a, out);
    false
}

widest_vectors! {
    /// C ← β·C + A·B for one time step, B dense: see [`step_mm_impl`].
    step_mm => step_mm_impl(beta: T, c: &mut [T], m: usize, n: usize, a: StepA<'_, T>, b: Mat<'_, T>)
}

/// C ← β·C + A·B for one time step, B dense. A product of [`PARALLEL_STEP`] multiply-adds or
/// more that may use every thread goes through [`mm`]; the rest, on the calling thread,
/// through register tiles of C: 32 × 8 in `f32` with AVX-512 (A from its packed panels), else
/// 16 rows × 4 columns or 128 rows of one column (A read in place: a step's product is too
/// small for packing it at every step to pay).
#[inline(always)]
fn step_mm_impl<T: Real>(beta: T, c: &mut [T], m: usize, n: usize, a: StepA<'_, T>, b: Mat<'_, T>) {
    let plain = a.plain;
    let k = plain.cols;
    if a.threads && m * n * k >= PARALLEL_STEP {
        return mm(Threads::Auto, beta, c, m, n, plain, Op::N, b, Op::N);
    }
    if beta == T::zero() {
        c[..m * n].fill(T::zero());
    } else if beta != T::one() {
        c[..m * n].iter_mut().for_each(|v| *v *= beta);
    }
    let mut j = 0;
    #[cfg(target_arch = "x86_64")]
    if let Some(panels) = a.panels
        && std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && std::arch::is_x86_feature_detected!("avx512f")
    {
        // SAFETY: T is f32 (checked just above), so the slices have the same layout.
        let (c32, p32, b32) = unsafe {
            (
                &mut *(c as *mut [T] as *mut [f32]),
                &*(panels as *const [T] as *const [f32]),
                Mat { data: &*(b.data as *const [T] as *const [f32]), rows: b.rows, cols: b.cols, stride: b.stride },
            )
        };
        // SAFETY: the CPU has AVX-512F (checked above).
        let (done_rows, done_cols) = unsafe { avx512::tiles_32x8(c32, m, n, p32, b32, k) };
        let mut jj = 0;
        while jj < done_cols {
            rows_from::<T, 16, 4>(c, m, done_rows, jj, plain, b, k);
            jj += 4;
        }
        j = done_cols;
    }
    while j + 4 <= n {
        rows_from::<T, 16, 4>(c, m, 0, j, plain, b, k);
        j += 4;
    }
    while j < n {
        rows_from::<T, 128, 1>(c, m, 0, j, plain, b, k);
        j += 1;
    }
}

/// Columns `j..j + NR` of C from row `i` on: row tiles of `MR`, then 8, then 1.
#[inline(always)]
fn rows_from<T: Real, const MR: usize, const NR: usize>(
    c: &mut [T],
    m: usize,
    mut i: usize,
    j: usize,
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    k: usize,
) {
    while i + MR <= m {
        tile::<T, MR, NR>(c, m, i, j, a, b, k);
        i += MR;
    }
    while i + 8 <= m {
        tile::<T, 8, NR>(c, m, i, j, a, b, k);
        i += 8;
    }
    while i < m {
        tile::<T, 1, NR>(c, m, i, j, a, b, k);
        i += 1;
    }
}

/// C[i..i + MR, j..j + NR] += A[i..i + MR, :]·B[:, j..j + NR], the tile's sums in registers,
/// each a fused multiply-add chain over k in order.
#[inline(always)]
fn tile<T: Real, const MR: usize, const NR: usize>(
    c: &mut [T],
    ldc: usize,
    i: usize,
    j: usize,
    a: Mat<'_, T>,
    b: Mat<'_, T>,
    k: usize,
) {
    let mut acc = [[T::zero(); MR]; NR];
    let bq: [&[T]; NR] = std::array::from_fn(|q| &b.data[(j + q) * b.stride..(j + q) * b.stride + k]);
    for kk in 0..k {
        let col = &a.data[kk * a.stride + i..kk * a.stride + i + MR];
        for q in 0..NR {
            let w = bq[q][kk];
            for l in 0..MR {
                acc[q][l] = w.mul_add(col[l], acc[q][l]);
            }
        }
    }
    for q in 0..NR {
        let cq = &mut c[(j + q) * ldc + i..(j + q) * ldc + i + MR];
        for l in 0..MR {
            cq[l] += acc[q][l];
        }
    }
}

/// The `f32` AVX-512 tile: 32 rows × 8 columns of C in 16 vector registers, enough independent
/// chains of fused multiply-adds to keep both FMA units busy (the compiler will not keep more
/// than 128 sums of the generic tile in registers). Each sum is the same chain, in the same
/// order, as the generic tile's, so the result does not depend on which path ran.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{
        __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
    };

    use super::Mat;

    /// C += A·B over every whole tile: rows `0..32⌊m/32⌋` × columns `0..8⌊n/8⌋`, which it
    /// returns, A from its packed panels (see [`super::pack_panels`]). Row blocks outside,
    /// column blocks inside: each panel of A is read once per call and reused from the cache
    /// for every column block.
    #[target_feature(enable = "avx512f")]
    pub(super) fn tiles_32x8(
        c: &mut [f32],
        m: usize,
        n: usize,
        a: &[f32],
        b: Mat<'_, f32>,
        k: usize,
    ) -> (usize, usize) {
        let (rows, blocks) = (m / 32 * 32, n / 8);
        // B's columns interleaved eight by eight: b8[(jb·k + kk)·8 + q] = B[kk, 8·jb + q], in a
        // buffer of the thread's kept from call to call (this runs at every time step).
        thread_local! {
            static PACKED: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        PACKED.with_borrow_mut(|b8| {
            b8.clear();
            b8.resize(blocks * k * 8, 0.0);
            for jb in 0..blocks {
                for q in 0..8 {
                    let col = &b.data[(8 * jb + q) * b.stride..(8 * jb + q) * b.stride + k];
                    for (kk, &v) in col.iter().enumerate() {
                        b8[(jb * k + kk) * 8 + q] = v;
                    }
                }
            }
            panels(c, m, rows, blocks, a, b8, k);
        });
        (rows, blocks * 8)
    }

    /// The tiles of [`tiles_32x8`] from the packed A and B.
    #[target_feature(enable = "avx512f")]
    fn panels(c: &mut [f32], m: usize, rows: usize, blocks: usize, a: &[f32], b8: &[f32], k: usize) {
        for i in (0..rows).step_by(32) {
            let panel = &a[i * k..(i + 32) * k];
            for jb in 0..blocks {
                let w_block = &b8[jb * k * 8..(jb + 1) * k * 8];
                let mut acc: [__m512; 16] = [_mm512_setzero_ps(); 16];
                for (col, w) in panel.chunks_exact(32).zip(w_block.chunks_exact(8)) {
                    // SAFETY: `col` holds 32 values, read as two vectors of 16.
                    let (a0, a1) = unsafe { (_mm512_loadu_ps(col.as_ptr()), _mm512_loadu_ps(col.as_ptr().add(16))) };
                    for q in 0..8 {
                        let wq = _mm512_set1_ps(w[q]);
                        acc[2 * q] = _mm512_fmadd_ps(wq, a0, acc[2 * q]);
                        acc[2 * q + 1] = _mm512_fmadd_ps(wq, a1, acc[2 * q + 1]);
                    }
                }
                for q in 0..8 {
                    let j = 8 * jb + q;
                    let cq = &mut c[j * m + i..j * m + i + 32];
                    // SAFETY: `cq` holds 32 values, read and written as two vectors of 16.
                    unsafe {
                        let p = cq.as_mut_ptr();
                        _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[2 * q]));
                        _mm512_storeu_ps(p.add(16), _mm512_add_ps(_mm512_loadu_ps(p.add(16)), acc[2 * q + 1]));
                    }
                }
            }
        }
    }
}
