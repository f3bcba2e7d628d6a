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
        }
    }
}

impl<T: Real> Work<T> {
    /// Sizes every buffer for `steps × batch` columns; a no-op when the sizes are unchanged.
    pub fn ensure(&mut self, arch: &Arch, steps: usize, batch: usize) {
        if self.steps == steps && self.batch == batch && self.acts.len() == arch.layers() {
            return;
        }
        let n = steps * batch;
        let zero = T::zero();
        let layers = arch.layers();
        self.acts = (0..layers).map(|l| vec![zero; arch.hidden[l] * if l == 0 { n + batch } else { n }]).collect();
        self.deltas = (0..layers).map(|l| vec![zero; arch.hidden[l] * n]).collect();
        self.tmp = (0..layers).map(|l| vec![zero; arch.hidden[l] * batch]).collect();
        self.out = vec![zero; arch.outputs * n];
        self.ctx = match arch.source {
            ContextSource::Hidden => Vec::new(),
            ContextSource::Output => vec![zero; arch.context() * (n + batch)],
        };
        self.d_out = DMatrix::zeros(arch.outputs, n);
        self.tmp_out = vec![zero; arch.outputs * batch];
        self.dc = vec![zero; arch.context() * batch];
        self.steps = steps;
        self.batch = batch;
    }
}
