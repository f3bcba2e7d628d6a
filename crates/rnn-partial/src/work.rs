//! Preallocated buffers for a forward and backward pass over a batch of T steps and B
//! sequences, kept in the model between calls and resized only when (T, B) changes.

use nalgebra::DMatrix;
use rnn_core::alloc::{checked_size, try_resize};
use rnn_core::{Real, Result};

use crate::arch::{Arch, ContextSource};

/// Scratch space of a batch pass. Column `t·B + b` holds step t of sequence b everywhere,
/// except in `acts[0]` and `ctx`, which hold one more block of B columns in front (see below).
///
/// Every buffer is sized from the batch the caller hands in, so it is allocated fallibly: a
/// batch whose scratch does not fit in memory gives
/// [`Error::Allocation`](rnn_core::Error::Allocation), not an abort. Cloning gives empty
/// scratch (a copy of the net does not copy its buffers; they are sized again on first use).
#[derive(Debug)]
pub(crate) struct Work<T: Real> {
    /// The (T, B) every buffer is sized for; `None` before the first pass and after a failed
    /// resize (when the buffers may be of mixed sizes).
    shape: Option<(usize, usize)>,
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
            shape: None,
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

impl<T: Real> Clone for Work<T> {
    /// Empty scratch: buffers are sized again by the next pass.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T: Real> Work<T> {
    /// Sizes every buffer for `steps × batch` columns; a no-op when the sizes are unchanged.
    /// Buffers keep their capacity, so switching back to a smaller batch does not allocate.
    ///
    /// # Errors
    /// [`Error::Allocation`](rnn_core::Error::Allocation) naming the buffer that cannot be
    /// had; the scratch is then marked unsized, so the next call sizes it again.
    pub fn ensure(&mut self, arch: &Arch, steps: usize, batch: usize) -> Result<()> {
        if self.shape == Some((steps, batch)) && self.acts.len() == arch.layers() {
            return Ok(());
        }
        self.shape = None;
        let n = checked_size("scratch columns (steps × batch)", steps, batch)?;
        let n_front = checked_size("scratch columns ((steps + 1) × batch)", steps.saturating_add(1), batch)?;
        let layers = arch.layers();
        self.acts.resize_with(layers, Vec::new);
        self.deltas.resize_with(layers, Vec::new);
        self.tmp.resize_with(layers, Vec::new);
        for l in 0..layers {
            let h = arch.hidden[l];
            let cols = if l == 0 { n_front } else { n };
            sized(
                "hidden activations (scratch)",
                &mut self.acts[l],
                checked_size("hidden activations (scratch)", h, cols)?,
            )?;
            sized("hidden deltas (scratch)", &mut self.deltas[l], checked_size("hidden deltas (scratch)", h, n)?)?;
            sized(
                "hidden deltas of one step (scratch)",
                &mut self.tmp[l],
                checked_size("hidden deltas of one step (scratch)", h, batch)?,
            )?;
        }
        let out_len = checked_size("outputs (scratch)", arch.outputs, n)?;
        sized("outputs (scratch)", &mut self.out, out_len)?;
        let ctx_len = match arch.source {
            ContextSource::Hidden => 0,
            ContextSource::Output => checked_size("contexts (scratch)", arch.context(), n_front)?,
        };
        sized("contexts (scratch)", &mut self.ctx, ctx_len)?;
        if self.d_out.shape() != (arch.outputs, n) {
            // Reuse the old matrix's allocation when it is large enough.
            let old = std::mem::replace(&mut self.d_out, DMatrix::zeros(0, 0));
            let mut data: Vec<T> = old.data.into();
            sized("output gradients (scratch)", &mut data, out_len)?;
            self.d_out = DMatrix::from_vec(arch.outputs, n, data);
        }
        sized(
            "output deltas of one step (scratch)",
            &mut self.tmp_out,
            checked_size("output deltas of one step (scratch)", arch.outputs, batch)?,
        )?;
        sized(
            "context gradients of one step (scratch)",
            &mut self.dc,
            checked_size("context gradients of one step (scratch)", arch.context(), batch)?,
        )?;
        sized("transposed context weights (scratch)", &mut self.w_t, arch.context() * arch.hidden[0])?;
        self.shape = Some((steps, batch));
        Ok(())
    }
}

/// Gives `v` length `len` (zeros), reusing its allocation when it is large enough.
fn sized<T: Real>(what: &str, v: &mut Vec<T>, len: usize) -> Result<()> {
    v.clear();
    try_resize(what, v, len, T::zero())
}

#[cfg(test)]
mod tests {
    use rnn_core::{Activation, Error};

    use super::*;

    #[test]
    fn scratch_too_large_is_an_allocation_error_and_is_sized_again_after() {
        let arch = Arch::new(
            1,
            vec![1 << 20],
            1,
            vec![Activation::Tanh],
            Activation::Identity,
            ContextSource::Output,
            0.5,
            0.0,
        );
        arch.validate().unwrap();
        let mut work = Work::<f64>::default();
        work.ensure(&arch, 3, 2).unwrap();
        assert_eq!((work.acts[0].len(), work.out.len(), work.ctx.len()), ((1 << 20) * 8, 6, 8));
        // H₀ × (T + 1)·B = 2²⁰ × (2⁴⁰ + 1) values of 8 bytes: beyond any address space.
        assert!(matches!(work.ensure(&arch, 1 << 40, 1), Err(Error::Allocation { .. })));
        assert_eq!(work.shape, None, "a failed resize leaves the scratch marked unsized");
        // T·B overflows usize.
        assert!(matches!(work.ensure(&arch, usize::MAX, 2), Err(Error::Allocation { .. })));
        work.ensure(&arch, 3, 2).unwrap();
        assert_eq!((work.acts[0].len(), work.out.len(), work.d_out.shape()), ((1 << 20) * 8, 6, (1, 6)));
        // A clone of a net does not copy its scratch.
        assert!(work.clone().acts.is_empty());
    }
}
