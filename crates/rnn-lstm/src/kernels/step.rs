//! The products of one time step, C ← β·C + A·B with A = W_h (forward) or W_hᵀ (backward):
//! register tiles on the calling thread, A packed once per pass for the `f32` AVX-512 tiles.

use rnn_core::Real;
use rnn_core::linalg::{Op, Threads};

#[cfg(target_arch = "x86_64")]
use super::avx512;
use super::passes::PARALLEL_PASS;
use super::{Mat, mm};

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

widest_vectors! {
    /// C ← β·C + A·B for one time step, B dense. A product of [`PARALLEL_STEP`] multiply-adds or
    /// more that may use every thread goes through [`mm`]; the rest, on the calling thread,
    /// through register tiles of C: 32 × 8 in `f32` with AVX-512 (A from its packed panels), else
    /// 16 rows × 4 columns or 128 rows of one column (A read in place: a step's product is too
    /// small for packing it at every step to pay).
    pub(crate) fn step_mm<T: Real>(beta: T, c: &mut [T], m: usize, n: usize, a: StepA<'_, T>, b: Mat<'_, T>) {
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
