//! The `f32` AVX-512 kernels: the fused modern cell, and the step tile, 32 rows × 8 columns of C
//! in 16 vector registers, enough independent chains of fused multiply-adds to keep both FMA
//! units busy (the compiler will not keep more than 128 sums of the generic tile in registers).
//! Up to a depth of `KC`, each sum is the same chain, in the same order, as the generic tile's,
//! so the result does not depend on which path ran.

use std::arch::x86_64::{
    __m512, _mm512_add_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_mul_ps, _mm512_set1_ps, _mm512_setzero_ps,
    _mm512_storeu_ps,
};

use rnn_core::simd::{logistic_avx512, tanh_avx512};

use super::Mat;

/// See [`super::modern_cell`]; C = `s.len()`, a multiple of 16.
#[target_feature(enable = "avx512f")]
pub(super) fn modern_cell(z: &mut [f32], s_prev: &[f32], s: &mut [f32], h: &mut [f32], r: &mut [f32]) -> bool {
    let c = s.len();
    assert!(c.is_multiple_of(16) && z.len() == 4 * c && s_prev.len() == c && h.len() == c && r.len() == c);
    let (zg, gates) = z.split_at_mut(c);
    let (zi, rest) = gates.split_at_mut(c);
    let (zf, zo) = rest.split_at_mut(c);
    // z·0 summed: NaN if any net input overflowed (or was NaN), which the activations would hide.
    let mut check = _mm512_setzero_ps();
    for k in (0..c).step_by(16) {
        // SAFETY: every slice holds c values and k + 16 ≤ c (asserted above).
        unsafe {
            let mut act = |v: &mut [f32], f: fn(__m512) -> __m512| {
                let x = _mm512_loadu_ps(v.as_ptr().add(k));
                check = _mm512_fmadd_ps(x, _mm512_setzero_ps(), check);
                let y = f(x);
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
    let mut lanes = [0.0f32; 16];
    // SAFETY: `lanes` holds 16 values.
    unsafe { _mm512_storeu_ps(lanes.as_mut_ptr(), check) };
    lanes.iter().all(|v| v.is_finite())
}

/// The depth of a block of k: a tile's slice of its A panel (32 × 512 values, 64 KiB) is
/// read from memory once and from the L2 cache for the next column blocks, and B's (8 × 512,
/// 16 KiB) stays in the L1 cache. Only the backward products (k = 4H) go over it.
const KC: usize = 512;

/// C += A·B over every whole tile: rows `0..32⌊m/32⌋` × columns `0..8⌊n/8⌋`, which it
/// returns, A from its packed panels (see `pack_panels`), B read in place; with
/// `overwrite` (β = 0 and all of C in whole tiles), C is written, not read. Blocks
/// of [`KC`] of the depth outside, then row panels, then column blocks: each block of a
/// panel of A is read from memory once per call and reused from the L1 cache for every
/// column block, and the block of B stays in cache for every panel. Each block's sum starts
/// from zero and is then added to C, so a product deeper than [`KC`] rounds differently from
/// one chain; the blocking is fixed by the sizes, so the result does not depend on the threads.
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
                    let (a0, a1) = unsafe { (_mm512_loadu_ps(col.as_ptr()), _mm512_loadu_ps(col.as_ptr().add(16))) };
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
