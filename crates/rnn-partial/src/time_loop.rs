//! The Elman recurrence over time, forward and backward, for a block of sequences.
//!
//! Sequences of a batch do not interact, so the time loop can run for two halves of the batch
//! on two threads with no synchronisation between steps: each half is a list of per-step
//! blocks (`H₀ × B_half` slices) of the shared column-major buffers.

use rnn_core::linalg::Op;
use rnn_core::{Activation, Real};

use crate::kernels::{self, SPLIT_LOOP};

/// The weights and sizes the loops read.
pub(crate) struct Recurrence<'a, T> {
    /// Units H₀ of the first hidden layer (= context units).
    pub h0: usize,
    /// Sequences B of the whole batch.
    pub batch: usize,
    /// W_context (forward) or W_contextᵀ (backward), `H₀ × H₀`.
    pub w: &'a [T],
    /// b⁰ (forward).
    pub bias: &'a [T],
    /// f₀.
    pub f: Activation,
}

impl<T: Real> Recurrence<'_, T> {
    /// h⁰(t) = f₀(z(t) + W_context·h⁰(t − 1) + b⁰) for t = 0 … T − 1, where `buf`
    /// (`H₀ × (T + 1)·B`) holds c(0) in its first block and the input projections z(t) in
    /// block t + 1, which the loop overwrites with h⁰(t).
    pub fn forward(&self, buf: &mut [T]) {
        let steps = buf.len() / (self.h0 * self.batch) - 1;
        self.split(buf, steps, |blocks, width, _| self.forward_blocks(blocks, width));
    }

    /// δ⁰(t) = (g(t) + W_contextᵀ·δ⁰(t + 1)) ⊙ f₀′(h⁰(t)) for t = T − 1 … 0, where `deltas`
    /// (`H₀ × T·B`) holds the gradient g(t) arriving from above in block t, overwritten with
    /// δ⁰(t), and `acts` is the forward buffer (h⁰(t) in block t + 1). `self.w` is W_contextᵀ.
    pub fn backward(&self, deltas: &mut [T], acts: &[T]) {
        let steps = deltas.len() / (self.h0 * self.batch);
        self.split(deltas, steps, |blocks, width, first| self.backward_blocks(blocks, width, first, acts));
    }

    /// Runs `run` on every sequence, or on two halves of the batch on two threads when the
    /// loop is long enough.
    fn split<F>(&self, buf: &mut [T], steps: usize, run: F)
    where
        F: Fn(&mut [&mut [T]], usize, usize) + Sync,
    {
        let (h, b) = (self.h0, self.batch);
        let work = steps * h * h * b;
        if b < 2 || work < SPLIT_LOOP {
            let mut blocks: Vec<&mut [T]> = buf.chunks_exact_mut(h * b).collect();
            run(&mut blocks, b, 0);
            return;
        }
        let b1 = b / 2;
        let (mut left, mut right): (Vec<&mut [T]>, Vec<&mut [T]>) =
            buf.chunks_exact_mut(h * b).map(|block| block.split_at_mut(h * b1)).unzip();
        rayon::join(|| run(&mut left, b1, 0), || run(&mut right, b - b1, b1));
    }

    fn forward_blocks(&self, blocks: &mut [&mut [T]], width: usize) {
        let (one, h) = (T::one(), self.h0);
        for t in 1..blocks.len() {
            let (before, from) = blocks.split_at_mut(t);
            let z = &mut *from[0];
            kernels::gemm(one, z, h, width, h, one, self.w, Op::N, before[t - 1], Op::N);
            kernels::bias_activation(z, h, self.bias, self.f);
        }
    }

    fn backward_blocks(&self, blocks: &mut [&mut [T]], width: usize, first: usize, acts: &[T]) {
        let (one, h, b) = (T::one(), self.h0, self.batch);
        let steps = blocks.len();
        for t in (0..steps).rev() {
            let (upto, after) = blocks.split_at_mut(t + 1);
            let d = &mut *upto[t];
            if let Some(next) = after.first() {
                kernels::gemm(one, d, h, width, h, one, self.w, Op::N, next, Op::N);
            }
            let col = (t + 1) * b + first;
            kernels::backprop_activation(&acts[col * h..(col + width) * h], d, self.f);
        }
    }
}
