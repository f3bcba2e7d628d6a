//! The multilayer perceptron that Elman and Jordan nets share, forward and backward over a
//! block of columns (one time step of a batch, or every step at once).
//!
//! Activations are kept per layer in column-major buffers, one column per (step, sequence)
//! pair. Layer 0's buffer is shifted by `off0` columns: the model keeps the initial context
//! in front of the first hidden layer's activations there, so that for an Elman net the
//! contexts c(0 … T − 1) of a batch are one contiguous block of that buffer.
//!
//! Forward, for l = 1 … L − 1 and the output:
//!
//! - hˡ = f_l(W_hiddenˡ·hˡ⁻¹ + bˡ),  y = g(W_out·h^(L−1) + b_out)
//!
//! Backward, from δ_out = ∂L/∂y ⊙ g′(y):
//!
//! - δ^(L−1) = W_outᵀ·δ_out ⊙ f′_(L−1),  δ^(l−1) = W_hiddenˡᵀ·δˡ ⊙ f′_(l−1)
//!
//! where the last factor f′₀ is left to the caller, who first adds what reaches the first
//! hidden layer through the context. Weight gradients are outer products summed over columns,
//! one matrix product per block: ∂L/∂W = δ·(input of the layer)ᵀ, ∂L/∂b = Σ_columns δ.

use rnn_core::Real;
use rnn_core::linalg::Op;

use crate::arch::Arch;
use crate::kernels;

/// Columns `c0 .. c0 + n` of a `rows`-row column-major buffer.
#[inline]
pub(crate) fn cols<T>(buf: &[T], rows: usize, c0: usize, n: usize) -> &[T] {
    &buf[c0 * rows..(c0 + n) * rows]
}

/// Columns `c0 .. c0 + n` of a `rows`-row column-major buffer, mutable.
#[inline]
pub(crate) fn cols_mut<T>(buf: &mut [T], rows: usize, c0: usize, n: usize) -> &mut [T] {
    &mut buf[c0 * rows..(c0 + n) * rows]
}

/// The buffer column of logical column `c` in layer `l`.
#[inline]
fn col_of(l: usize, c: usize, off0: usize) -> usize {
    if l == 0 { c + off0 } else { c }
}

/// Hidden layers 1 … L − 1 and the output on logical columns `c0 .. c0 + n`, from layer 0's
/// activations already in `acts[0]`. Writes `acts[1..]` and `out` (`O ×` all columns).
pub(crate) fn forward_upper<T: Real>(
    arch: &Arch,
    p: &[T],
    acts: &mut [Vec<T>],
    off0: usize,
    out: &mut [T],
    c0: usize,
    n: usize,
) {
    let layers = arch.layers();
    for l in 1..layers {
        let (below, here) = acts.split_at_mut(l);
        let (rows_in, rows) = (arch.hidden[l - 1], arch.hidden[l]);
        let input = cols(&below[l - 1], rows_in, col_of(l - 1, c0, off0), n);
        let z = cols_mut(&mut here[0], rows, c0, n);
        kernels::gemm_batch(T::zero(), z, rows, n, rows_in, T::one(), &p[arch.w_hidden(l)], Op::N, input, Op::N);
        kernels::bias_activation(z, rows, &p[arch.b_hidden(l)], arch.activations[l]);
    }
    let last = layers - 1;
    let h = arch.hidden[last];
    let input = cols(&acts[last], h, col_of(last, c0, off0), n);
    let o = arch.outputs;
    let y = cols_mut(out, o, c0, n);
    kernels::gemm_batch(T::zero(), y, o, n, h, T::one(), &p[arch.w_out()], Op::N, input, Op::N);
    kernels::bias_activation(y, o, &p[arch.b_out()], arch.output_activation);
}

/// Backpropagates δ_out (`O × n`, already multiplied by g′) through the output and hidden
/// layers L − 1 … 1 at columns `a0 .. a0 + n` of `acts[1..]` (layer 0 is not read), writing the δ of each hidden
/// layer into columns `d0 .. d0 + n` of `deltas`. `deltas[0]` is left without its factor f′₀.
pub(crate) fn backward_upper<T: Real>(
    arch: &Arch,
    p: &[T],
    acts: &[Vec<T>],
    a0: usize,
    d_out: &[T],
    deltas: &mut [Vec<T>],
    d0: usize,
    n: usize,
) {
    let layers = arch.layers();
    let last = layers - 1;
    let (o, h) = (arch.outputs, arch.hidden[last]);
    let d = cols_mut(&mut deltas[last], h, d0, n);
    kernels::gemm_batch(T::zero(), d, h, n, o, T::one(), &p[arch.w_out()], Op::T, d_out, Op::N);
    for l in (1..layers).rev() {
        let (below, here) = deltas.split_at_mut(l);
        let (rows_in, rows) = (arch.hidden[l - 1], arch.hidden[l]);
        let d = cols_mut(&mut here[0], rows, d0, n);
        kernels::backprop_activation(cols(&acts[l], rows, a0, n), d, arch.activations[l]);
        let d_below = cols_mut(&mut below[l - 1], rows_in, d0, n);
        kernels::gemm_batch(T::zero(), d_below, rows_in, n, rows, T::one(), &p[arch.w_hidden(l)], Op::T, d, Op::N);
    }
}

/// Weight gradients over `n` columns, written (not accumulated) into `grad`: each block is one
/// matrix product, δ·(layer input)ᵀ, and each bias a row sum of δ. `x` (`I × n`) and `ctx`
/// (`C × n`) are the inputs and contexts of those columns; `acts` are read at logical columns
/// `0 .. n`, `deltas` at columns `0 .. n`, and `deltas[0]` must include f′₀.
pub(crate) fn weight_gradients<T: Real>(
    arch: &Arch,
    acts: &[Vec<T>],
    off0: usize,
    x: &[T],
    ctx: &[T],
    deltas: &[Vec<T>],
    d_out: &[T],
    grad: &mut [T],
    n: usize,
) {
    let layers = arch.layers();
    let last = layers - 1;
    let (o, h) = (arch.outputs, arch.hidden[last]);
    let one = T::one();
    let zero = T::zero();
    let h_last = cols(&acts[last], h, col_of(last, 0, off0), n);
    kernels::gemm_batch(zero, &mut grad[arch.w_out()], o, h, n, one, d_out, Op::N, h_last, Op::T);
    kernels::row_sums(&mut grad[arch.b_out()], cols(d_out, o, 0, n), o);
    for l in 1..layers {
        let (rows_in, rows) = (arch.hidden[l - 1], arch.hidden[l]);
        let input = cols(&acts[l - 1], rows_in, col_of(l - 1, 0, off0), n);
        let d = cols(&deltas[l], rows, 0, n);
        kernels::gemm_batch(zero, &mut grad[arch.w_hidden(l)], rows, rows_in, n, one, d, Op::N, input, Op::T);
        kernels::row_sums(&mut grad[arch.b_hidden(l)], d, rows);
    }
    let h0 = arch.hidden[0];
    let d = cols(&deltas[0], h0, 0, n);
    kernels::gemm_batch(zero, &mut grad[arch.w_in()], h0, arch.inputs, n, one, d, Op::N, x, Op::T);
    kernels::gemm_batch(zero, &mut grad[arch.w_context()], h0, arch.context(), n, one, d, Op::N, ctx, Op::T);
    kernels::row_sums(&mut grad[arch.b_hidden(0)], d, h0);
}
