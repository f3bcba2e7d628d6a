//! Preallocated buffers for a forward and backward pass over a batch of T steps and B
//! sequences, kept in the model between calls and resized only when (T, B) changes.

use nalgebra::DMatrix;
use rnn_core::Real;

use crate::arch::{Arch, ContextSource};

/// Scratch space of a batch pass. Column `t·B + b` holds step t of sequence b everywhere,
/// except in `acts[0]` and `ctx`, which hold one more block of B columns in front (see below).
#[derive(Debug, Clone)]
pub(crate) struct Work<T: Real> {
    steps: usize,
    batch: usize,
    /// Hidden activations: `acts[0]` is `H₀ × (T + 1)·B`, the initial context (Elman) in
    /// columns `0 .. B` and h⁰(t) in block t + 1; `acts[l]` is `H_l × T·B`.
    pub acts: Vec<Vec<T>>,
    /// Outputs y, `O × T·B`.
    pub out: Vec<T>,
    /// Jordan: contexts c(0 … T), `C × (T + 1)·B`; empty for Elman.
    pub ctx: Vec<T>,
    /// δ of each hidden layer, `H_l × T·B`.
    pub deltas: Vec<Vec<T>>,
    /// ∂L/∂y, then δ_out = ∂L/∂y ⊙ g′, `O × T·B`.
    pub d_out: DMatrix<T>,
    /// δ of each hidden layer for one step of the batch, `H_l × B` (truncated BPTT).
    pub tmp: Vec<Vec<T>>,
    /// δ_out for one step, `O × B` (truncated BPTT).
    pub tmp_out: Vec<T>,
    /// ∂L/∂c for one step, `C × B`.
    pub dc: Vec<T>,
    /// W_contextᵀ, `C × H₀`, so that the backward loop multiplies without transposing.
    pub w_t: Vec<T>,
}

impl<T: Real> Default for Work<T> {
    fn default() -> Self {
        Self {
            steps: 0,
            batch: 0,
            acts: Vec::new(),
            out: Vec::new(),
            ctx: Vec::new(),
            deltas: Vec::new(),
            d_out: DMatrix::zeros(0, 0),
            tmp: Vec::new(),
            tmp_out: Vec::new(),
            dc: Vec::new(),
            w_t: Vec::new(),
        }
    }
}

impl<T: Real> Work<T> {
    /// Sizes every buffer for `steps × batch` columns; a no-op when the sizes are unchanged.
    /// Buffers keep their capacity, so switching back to a smaller batch does not allocate.
    pub fn ensure(&mut self, arch: &Arch, steps: usize, batch: usize) {
        if self.steps == steps && self.batch == batch && self.acts.len() == arch.layers() {
            return;
        }
        let n = steps * batch;
        let layers = arch.layers();
        self.acts.resize_with(layers, Vec::new);
        self.deltas.resize_with(layers, Vec::new);
        self.tmp.resize_with(layers, Vec::new);
        for l in 0..layers {
            let h = arch.hidden[l];
            sized(&mut self.acts[l], h * if l == 0 { n + batch } else { n });
            sized(&mut self.deltas[l], h * n);
            sized(&mut self.tmp[l], h * batch);
        }
        sized(&mut self.out, arch.outputs * n);
        let ctx_len = match arch.source {
            ContextSource::Hidden => 0,
            ContextSource::Output => arch.context() * (n + batch),
        };
        sized(&mut self.ctx, ctx_len);
        if self.d_out.shape() != (arch.outputs, n) {
            self.d_out = DMatrix::zeros(arch.outputs, n);
        }
        sized(&mut self.tmp_out, arch.outputs * batch);
        sized(&mut self.dc, arch.context() * batch);
        sized(&mut self.w_t, arch.context() * arch.hidden[0]);
        self.steps = steps;
        self.batch = batch;
    }
}

/// Gives `v` length `len` (zeros), reusing its allocation when it is large enough.
fn sized<T: Real>(v: &mut Vec<T>, len: usize) {
    v.clear();
    v.resize(len, T::zero());
}
