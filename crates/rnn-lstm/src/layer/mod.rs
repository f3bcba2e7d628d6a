//! One layer of memory blocks over a batch of sequences: the forward pass, which records what
//! the backward pass needs, and backpropagation through time.
//!
//! Columns are time-major, column t·B + b for step t of sequence b. A sequence of length
//! L_b < T is padding from step L_b on: there its state is frozen (s(t) = s(t−1),
//! r(t) = r(t−1)), so the layer's final state is the sequence's own last real step, and its
//! error signals are zero, so padding adds nothing to any gradient.
//!
//! Backward, at step t of a real column, with e_c the error on y_c(t) (from above and from
//! r(t) through W_h), ε the error on the gate activations through W_h (gate recurrence) and
//! σ_c the error carried on s_c(t) from step t + 1:
//!
//! - δ_out = f′(y_out) (Σ_c e_c h(s_c) + ε_out),
//! - ∂E/∂s_c = σ_c + e_c y_out h′(s_c) + p_out,c δ_out,
//! - δ_c = g′ · y_in ∂E/∂s_c,  δ_in = f′(y_in) (Σ_c ∂E/∂s_c g_c + ε_in),
//!   δ_φ = f′(y_φ) (Σ_c ∂E/∂s_c s_c(t−1) + ε_φ),
//! - σ_c(t−1) = y_φ ∂E/∂s_c + p_in,c δ_in + p_φ,c δ_φ,
//! - ∂E/∂r(t−1) = W_hᵀ δ(t); then ∂E/∂W_x = Σ_t δ(t) x(t)ᵀ, ∂E/∂W_h = Σ_t δ(t) r(t−1)ᵀ.

use rnn_core::{Activation, Real};

use crate::geometry::Layer;
use crate::kernels::{Mat, StepA};

mod backward;
mod forward;

pub(crate) use backward::backward;
pub(crate) use forward::forward;

/// The layer's squashing functions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Squash {
    /// f, the gates.
    pub f: Activation,
    /// g, the cell input.
    pub g: Activation,
    /// h, the cell output.
    pub h: Activation,
}

/// What a layer's forward pass records for one batch.
#[derive(Debug, Clone)]
pub(crate) struct Tape<T> {
    /// `R × TB`: g(net_c) in the cell rows, the gate activations in the gate rows.
    pub a: Vec<T>,
    /// s(t), `C × TB`.
    pub s: Vec<T>,
    /// h(s(t)), `C × TB`.
    pub hs: Vec<T>,
    /// r(t), `H_s × TB`: the cell outputs y_c(t), then (with gate recurrence) the gates.
    pub r: Vec<T>,
    /// s(−1), `C × B`.
    pub s0: Vec<T>,
    /// r(−1), `H_s × B`.
    pub r0: Vec<T>,
    /// W_h's 32-row panels packed for the step tiles (`f32` with AVX-512 only), once per pass.
    pub w_panels: Vec<T>,
    /// W_x's, where the time loop computes W_x x(t) itself.
    pub wx_panels: Vec<T>,
}

/// Scratch of a layer's backward pass.
#[derive(Debug, Clone)]
pub(crate) struct BackWork<T> {
    /// δ, `R × TB`.
    pub dz: Vec<T>,
    /// ∂E/∂r(t), `H_s × B`.
    pub dr: Vec<T>,
    /// σ, the error carried on s, `C × B`.
    pub ds: Vec<T>,
    /// W_hᵀ, `H_s × R`, copied once per backward pass: each step's ∂E/∂r(t−1) = W_hᵀ δ(t) then
    /// reads A untransposed, as the forward product does.
    pub w_h_t: Vec<T>,
    /// W_hᵀ's 32-row panels packed for the step tiles (`f32` with AVX-512 only).
    pub w_panels: Vec<T>,
    /// ∂E/∂W_x and ∂E/∂W_h over the second half of the steps, when two threads share them.
    pub g_second: Vec<T>,
}

impl<T> Default for Tape<T> {
    fn default() -> Self {
        Self {
            a: Vec::new(),
            s: Vec::new(),
            hs: Vec::new(),
            r: Vec::new(),
            s0: Vec::new(),
            r0: Vec::new(),
            w_panels: Vec::new(),
            wx_panels: Vec::new(),
        }
    }
}

impl<T> Default for BackWork<T> {
    fn default() -> Self {
        Self {
            dz: Vec::new(),
            dr: Vec::new(),
            ds: Vec::new(),
            w_h_t: Vec::new(),
            w_panels: Vec::new(),
            g_second: Vec::new(),
        }
    }
}

/// Sets `v` to `len` zeros.
pub(super) fn resize<T: Real>(v: &mut Vec<T>, len: usize) {
    v.clear();
    v.resize(len, T::zero());
}

/// Gives `v` the length `len`, leaving old values in place: for buffers every element of which
/// the pass writes before reading (a batch of the shape of the last one then costs no zeroing).
pub(super) fn reuse<T: Real>(v: &mut Vec<T>, len: usize) {
    v.resize(len, T::zero());
}

/// A time loop over a batch of at least this many multiply-adds (R·H_s·B·T) runs its two halves
/// of the batch on two threads, one fork-join per pass. The split depends on sizes alone, never
/// on the number of threads, so the results do not either.
pub(super) const SPLIT_LOOP: usize = 1 << 22;

/// Where the batch is cut for two threads, if it is.
pub(super) fn split(layer: &Layer, batch: usize, steps: usize) -> Option<usize> {
    let work = layer.rows().saturating_mul(layer.sources()).saturating_mul(batch).saturating_mul(steps);
    (batch >= 2 && work >= SPLIT_LOOP).then_some(batch / 2)
}

/// Whether every time loop of the pass multiplies at least 8 columns at a step, the width of
/// the packed tiles: else packing W_h for them is wasted.
pub(super) fn tiles_pay(batch: usize, halves: Option<usize>) -> bool {
    halves.map_or(batch, |h| h.min(batch - h)) >= 8
}

/// A buffer the two halves of a batch write at once, each only the columns of its own
/// sequences, which are disjoint.
pub(super) struct Shared<T> {
    ptr: *mut T,
    len: usize,
}

// SAFETY: `Shared` hands out only the ranges its callers prove disjoint (see `slice`).
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    fn new(v: &mut [T]) -> Self {
        Self { ptr: v.as_mut_ptr(), len: v.len() }
    }

    /// The elements `range`.
    ///
    /// # Safety
    /// No other reference to any element of `range` may be alive while the slice is.
    #[allow(clippy::mut_from_ref)]
    unsafe fn slice(&self, range: std::ops::Range<usize>) -> &mut [T] {
        assert!(range.start <= range.end && range.end <= self.len, "column range out of the buffer");
        // SAFETY: in bounds (asserted); exclusive by the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(range.start), range.len()) }
    }
}

/// What every step of a pass reads: the layer, its weights and the batch's shape.
pub(super) struct Pass<'a, T> {
    layer: &'a Layer,
    sq: Squash,
    steps: usize,
    lengths: &'a [usize],
    /// W_h (forward) or W_hᵀ (backward), with its packed panels.
    w: StepA<'a, T>,
    /// W_x and the input, where the forward loop computes W_x x(t) at each step itself.
    input: Option<(StepA<'a, T>, Mat<'a, T>)>,
    p_in: &'a [T],
    p_f: &'a [T],
    p_out: &'a [T],
    peep: bool,
    /// The biases and the first row they add to.
    bias: Option<(&'a [T], usize)>,
    /// The modern cell (PyTorch's): one cell per block, forget gates, logistic gates, g = h =
    /// tanh, no peepholes, no gate recurrence. Its column updates run as whole-slice loops that
    /// vectorise, with the same arithmetic as the general loops.
    modern: bool,
}

impl<'a, T: Real> Pass<'a, T> {
    fn new(layer: &'a Layer, params: &'a [T], sq: Squash, steps: usize, lengths: &'a [usize], w: StepA<'a, T>) -> Self {
        let c = layer.cells();
        let peep = layer.peep.as_ref().map(|range| &params[range.clone()]);
        let (p_in, p_f, p_out) = match peep {
            Some(p) if layer.forget => (&p[..c], &p[c..2 * c], &p[2 * c..]),
            Some(p) => (&p[..c], &p[..0], &p[c..]),
            None => (&[][..], &[][..], &[][..]),
        };
        let modern = layer.cells_per_block == 1
            && layer.forget
            && !layer.gate_recurrence
            && peep.is_none()
            && sq.f == Activation::Logistic
            && sq.g == Activation::Tanh
            && sq.h == Activation::Tanh;
        let bias = layer.bias.as_ref().map(|(range, row0)| (&params[range.clone()], *row0));
        Self { layer, sq, steps, lengths, w, input: None, p_in, p_f, p_out, peep: peep.is_some(), bias, modern }
    }
}
