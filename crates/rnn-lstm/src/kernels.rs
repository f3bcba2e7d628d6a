//! Matrix products on column-major slices (through [`rnn_core::linalg`]), the step tiles and
//! their packing, and the parallel passes over long buffers.
//!
//! Shapes are internal invariants here (the network checks user input at its boundary), so the
//! views panic on a mismatch rather than return errors.

use nalgebra::{DMatrixView, DMatrixViewMut, Dyn, U1};
use rnn_core::Real;
pub(crate) use rnn_core::linalg::add_row_sums;
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

/// Packs the whole 32-row panels of A for the `f32` AVX-512 tiles: element (32p + l, kk) goes
/// to `out[(p·k + kk)·32 + l]`, k the columns of A. Returns whether it packed: only `f32` on a
/// CPU with AVX-512 has those tiles.
pub(crate) fn pack_panels<T: Real>(a: Mat<'_, T>, out: &mut Vec<T>) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && std::arch::is_x86_feature_detected!("avx512f") {
        let (panels, k) = (a.rows / 32, a.cols);
        out.resize(panels * k * 32, T::zero());
        let pack = |first: usize, dst: &mut [T]| {
            for (p, panel) in (first..).zip(dst.chunks_exact_mut(32 * k)) {
                for (kk, d) in panel.chunks_exact_mut(32).enumerate() {
                    d.copy_from_slice(&a.data[kk * a.stride + 32 * p..kk * a.stride + 32 * p + 32]);
                }
            }
        };
        if out.len() >= PARALLEL_PASS && panels >= 2 {
            let (d1, d2) = out.split_at_mut(panels / 2 * 32 * k);
            rayon::join(|| pack(0, d1), || pack(panels / 2, d2));
        } else {
            pack(0, out);
        }
        return true;
    }
    let _ = (a, out);
    false
}

/// Slices of at least this many elements are checked, copied and packed in two halves on two
/// threads: below, a fork-join costs about what it saves.
const PARALLEL_PASS: usize = 1 << 19;

/// [`rnn_core::error::check_finite`] in two halves on two threads for a long slice: the same
/// answer, the first offender in order.
pub(crate) fn check_finite_par<T: Real>(what: &str, values: &[T]) -> rnn_core::Result<()> {
    checked_halves(what, values, None)
}

/// A copy of `values` once they are checked finite (as [`check_finite_par`]); for a long slice
/// both in two halves on two threads (the new buffer's pages first touched there too).
pub(crate) fn checked_copy_par<T: Real>(what: &str, values: &[T]) -> rnn_core::Result<Vec<T>> {
    let mut out = vec![T::zero(); values.len()];
    checked_halves(what, values, Some(&mut out))?;
    Ok(out)
}

/// Checks `values` and copies them into `out` if given, in two halves on two threads for a long
/// slice.
fn checked_halves<T: Real>(what: &str, values: &[T], out: Option<&mut [T]>) -> rnn_core::Result<()> {
    let run = |v: &[T], o: Option<&mut [T]>| {
        if let Some(o) = o {
            o.copy_from_slice(v);
        }
        rnn_core::error::check_finite(what, v)
    };
    if values.len() < PARALLEL_PASS {
        return run(values, out);
    }
    let half = values.len() / 2;
    let (a, b) = values.split_at(half);
    let (oa, ob) = match out {
        Some(o) => {
            let (x, y) = o.split_at_mut(half);
            (Some(x), Some(y))
        }
        None => (None, None),
    };
    match rayon::join(|| run(a, oa), || run(b, ob)) {
        (Err(e), _) => Err(e),
        (Ok(()), Err(rnn_core::Error::NonFinite { what, index, value })) => {
            Err(rnn_core::Error::NonFinite { what, index: index + half, value })
        }
        (Ok(()), other) => other,
    }
}

/// The modern cell's update of one column (one sequence at one step), fused into one pass
/// where it can run on AVX-512 in `f32` with C a multiple of 16: `z` holds the net inputs
/// \[g; i; f; o\] (4C) and gets their activations, then s = f ⊙ s(t−1) + i ⊙ g, h = tanh(s),
/// r = o ⊙ h. The same operations, in the same order, as the unfused loop on such a CPU, so the
/// same results. Returns false (touching nothing) where it cannot run.
#[inline(always)]
pub(crate) fn modern_cell<T: Real>(z: &mut [T], s_prev: &[T], s: &mut [T], h: &mut [T], r: &mut [T]) -> bool {
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
        unsafe { avx512::modern_cell(f32m(z), f32s(s_prev), f32m(s), f32m(h), f32m(r)) };
        return true;
    }
    let _ = (z, s_prev, s, h, r);
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
    #[cfg(target_arch = "x86_64")]
    let tiles = a.panels.is_some()
        && std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && std::arch::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    let tiles = false;
    // With β = 0 and every element of C in a whole tile, the tiles write C without reading it.
    let overwrite = tiles && beta == T::zero() && m.is_multiple_of(32) && n.is_multiple_of(8);
    if beta == T::zero() && !overwrite {
        c[..m * n].fill(T::zero());
    } else if beta != T::zero() && beta != T::one() {
        c[..m * n].iter_mut().for_each(|v| *v *= beta);
    }
    let mut j = 0;
    #[cfg(target_arch = "x86_64")]
    if let Some(panels) = a.panels
        && tiles
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
        let (done_rows, done_cols) = unsafe { avx512::tiles_32x8(c32, m, n, p32, b32, k, overwrite) };
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
        __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps,
        _mm512_storeu_ps,
    };

    use rnn_core::simd::{logistic_avx512, tanh_avx512};

    use super::Mat;

    /// See [`super::modern_cell`]; C = `s.len()`, a multiple of 16.
    #[target_feature(enable = "avx512f")]
    pub(super) fn modern_cell(z: &mut [f32], s_prev: &[f32], s: &mut [f32], h: &mut [f32], r: &mut [f32]) {
        let c = s.len();
        assert!(c.is_multiple_of(16) && z.len() == 4 * c && s_prev.len() == c && h.len() == c && r.len() == c);
        let (zg, gates) = z.split_at_mut(c);
        let (zi, rest) = gates.split_at_mut(c);
        let (zf, zo) = rest.split_at_mut(c);
        for k in (0..c).step_by(16) {
            // SAFETY: every slice holds c values and k + 16 ≤ c (asserted above).
            unsafe {
                let act = |v: &mut [f32], f: fn(__m512) -> __m512| {
                    let y = f(_mm512_loadu_ps(v.as_ptr().add(k)));
                    _mm512_storeu_ps(v.as_mut_ptr().add(k), y);
                    y
                };
                let g = act(zg, tanh_avx512);
                let i = act(zi, logistic_avx512);
                let f = act(zf, logistic_avx512);
                let o = act(zo, logistic_avx512);
                let sv = _mm512_add_ps(_mm512_mul_ps(f, _mm512_loadu_ps(s_prev.as_ptr().add(k))), _mm512_mul_ps(i, g));
                _mm512_storeu_ps(s.as_mut_ptr().add(k), sv);
                let hv = tanh_avx512(sv);
                _mm512_storeu_ps(h.as_mut_ptr().add(k), hv);
                _mm512_storeu_ps(r.as_mut_ptr().add(k), _mm512_mul_ps(o, hv));
            }
        }
    }

    /// The depth of a block of k: a tile's slice of its A panel (32 × 512 values, 64 KiB) is
    /// read from memory once and from the L2 cache for the next column blocks, and B's (8 × 512,
    /// 16 KiB) stays in the L1 cache. Only the backward products (k = 4H) go over it.
    const KC: usize = 512;

    /// C += A·B over every whole tile: rows `0..32⌊m/32⌋` × columns `0..8⌊n/8⌋`, which it
    /// returns, A from its packed panels (see [`super::pack_panels`]), B read in place; with
    /// `overwrite` (β = 0 and all of C in whole tiles), C is written, not read. Blocks
    /// of [`KC`] of the depth outside, then row panels, then column blocks: each block of a
    /// panel of A is read from memory once per call and reused from the L1 cache for every
    /// column block, and the block of B stays in cache for every panel. Each sum is still one
    /// chain over k in order (the tile's partial sums go through C between blocks), so the
    /// result does not depend on the blocking.
    #[target_feature(enable = "avx512f")]
    pub(super) fn tiles_32x8(
        c: &mut [f32],
        m: usize,
        n: usize,
        a: &[f32],
        b: Mat<'_, f32>,
        k: usize,
        overwrite: bool,
    ) -> (usize, usize) {
        let (rows, blocks) = (m / 32 * 32, n / 8);
        assert!(
            blocks == 0 || (8 * blocks - 1) * b.stride + k <= b.data.len(),
            "B holds the tiles' {} columns of {k} rows",
            8 * blocks
        );
        assert!(a.len() >= rows * k, "A's packed panels hold {rows} rows of {k} columns");
        for k0 in (0..k).step_by(KC) {
            let kc = KC.min(k - k0);
            for i in (0..rows).step_by(32) {
                let panel = &a[(i * k + 32 * k0)..(i * k + 32 * (k0 + kc))];
                for jb in 0..blocks {
                    // B[k0 + kk, 8·jb + q] is at b0[q·stride + kk], in bounds for kk < kc (asserted
                    // at the top).
                    let b0 = b.data[(8 * jb) * b.stride + k0..].as_ptr();
                    let mut acc: [__m512; 16] = [_mm512_setzero_ps(); 16];
                    for (kk, col) in panel.chunks_exact(32).enumerate() {
                        // SAFETY: `col` holds 32 values, read as two vectors of 16.
                        let (a0, a1) =
                            unsafe { (_mm512_loadu_ps(col.as_ptr()), _mm512_loadu_ps(col.as_ptr().add(16))) };
                        for q in 0..8 {
                            // SAFETY: in bounds (see `b0`).
                            let wq = _mm512_set1_ps(unsafe { *b0.add(q * b.stride + kk) });
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
                            if overwrite && k0 == 0 {
                                _mm512_storeu_ps(p, acc[2 * q]);
                                _mm512_storeu_ps(p.add(16), acc[2 * q + 1]);
                            } else {
                                _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[2 * q]));
                                _mm512_storeu_ps(p.add(16), _mm512_add_ps(_mm512_loadu_ps(p.add(16)), acc[2 * q + 1]));
                            }
                        }
                    }
                }
            }
        }
        (rows, blocks * 8)
    }
}
