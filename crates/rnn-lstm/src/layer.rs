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

use rnn_core::linalg::{Op, Threads};
use rnn_core::{Activation, Real};

use crate::geometry::Layer;
use rnn_core::linalg::transpose;

use crate::kernels::{Mat, StepA, mm, pack_panels, step_mm};

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
fn resize<T: Real>(v: &mut Vec<T>, len: usize) {
    v.clear();
    v.resize(len, T::zero());
}

/// Gives `v` the length `len`, leaving old values in place: for buffers every element of which
/// the pass writes before reading (a batch of the shape of the last one then costs no zeroing).
fn reuse<T: Real>(v: &mut Vec<T>, len: usize) {
    v.resize(len, T::zero());
}

widest_vectors! {
    /// Runs the layer over `x` (`I × TB`, with column stride `x.stride`) from the state already
    /// in `tape.s0`/`tape.r0`, filling the rest of `tape`.
    forward => forward_impl(
        layer: &Layer,
        params: &[T],
        sq: Squash,
        x: Mat<'_, T>,
        steps: usize,
        lengths: &[usize],
        tape: &mut Tape<T>,
    )
}

widest_vectors! {
    /// Backpropagates through the layer: `dy` (`C × TB`) is ∂E/∂y_c(t) from above; adds ∂E/∂θ
    /// to `grad` (the whole flat gradient) and writes ∂E/∂x (`I × TB`) to `dx` if given. The
    /// state the batch started from is a constant.
    backward => backward_impl(
        layer: &Layer,
        params: &[T],
        sq: Squash,
        x: Mat<'_, T>,
        steps: usize,
        lengths: &[usize],
        tape: &Tape<T>,
        dy: &[T],
        work: &mut BackWork<T>,
        grad: &mut [T],
        dx: Option<&mut [T]>,
    )
}

/// A time loop over a batch of at least this many multiply-adds (R·H_s·B·T) runs its two halves
/// of the batch on two threads, one fork-join per pass. The split depends on sizes alone, never
/// on the number of threads, so the results do not either.
const SPLIT_LOOP: usize = 1 << 22;

/// Where the batch is cut for two threads, if it is.
fn split(layer: &Layer, batch: usize, steps: usize) -> Option<usize> {
    let work = layer.rows().saturating_mul(layer.sources()).saturating_mul(batch).saturating_mul(steps);
    (batch >= 2 && work >= SPLIT_LOOP).then_some(batch / 2)
}

/// Whether every time loop of the pass multiplies at least 8 columns at a step, the width of
/// the packed tiles: else packing W_h for them is wasted.
fn tiles_pay(batch: usize, halves: Option<usize>) -> bool {
    halves.map_or(batch, |h| h.min(batch - h)) >= 8
}

/// A buffer the two halves of a batch write at once, each only the columns of its own
/// sequences, which are disjoint.
struct Shared<T> {
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
struct Pass<'a, T> {
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

/// Runs the layer over `x` (`I × TB`, with column stride `x.stride`) from the state already in
/// `tape.s0`/`tape.r0`, filling the rest of `tape`.
#[inline(always)]
fn forward_impl<T: Real>(
    layer: &Layer,
    params: &[T],
    sq: Squash,
    x: Mat<'_, T>,
    steps: usize,
    lengths: &[usize],
    tape: &mut Tape<T>,
) {
    let batch = lengths.len();
    let (c, r, hs_n) = (layer.cells(), layer.rows(), layer.sources());
    let cols = steps * batch;
    // Every column of a, s and r is written (padding copies the state); h(s) is read at real
    // steps only, where it is written.
    reuse(&mut tape.a, r * cols);
    reuse(&mut tape.s, c * cols);
    reuse(&mut tape.hs, c * cols);
    reuse(&mut tape.r, hs_n * cols);
    let w_x = Mat::dense(&params[layer.w_x.clone()], r, layer.inputs);
    let halves = split(layer, batch, steps);
    // W_x x(t) for every step at once, one product on every thread; or, where the time loop
    // runs in two halves of the batch, at each step inside them (no product of its own to wait
    // for). The biases are added in the time loop, column by column, where the column is in
    // cache.
    if halves.is_none() {
        mm(Threads::Auto, T::zero(), &mut tape.a, r, cols, w_x, Op::N, x, Op::N);
    }
    let Tape { a, s, hs, r: rs, s0, r0, w_panels, wx_panels } = tape;
    let w_h = Mat::dense(&params[layer.w_h.clone()], r, hs_n);
    let tiles = tiles_pay(batch, halves);
    let packed = tiles && pack_panels(w_h, w_panels);
    let w = StepA { plain: w_h, panels: packed.then_some(&w_panels[..]), threads: halves.is_none() };
    let packed_x = halves.is_some() && tiles && pack_panels(w_x, wx_panels);
    let wx = halves.map(|_| (StepA { plain: w_x, panels: packed_x.then_some(&wx_panels[..]), threads: false }, x));
    let mut pass = Pass::new(layer, params, sq, steps, lengths, w);
    pass.input = wx;
    let bufs = [Shared::new(a), Shared::new(s), Shared::new(hs), Shared::new(rs)];
    match halves {
        // SAFETY (both arms): each call writes only the columns of its own sequences.
        Some(h) => {
            rayon::join(
                || unsafe { forward_steps(&pass, 0..h, &bufs, s0, r0) },
                || unsafe { forward_steps(&pass, h..batch, &bufs, s0, r0) },
            );
        }
        None => unsafe { forward_steps(&pass, 0..batch, &bufs, s0, r0) },
    }
}

/// The time loop of the forward pass for sequences `seqs` of the batch.
///
/// # Safety
/// No other live reference may touch these sequences' columns of the buffers `[a, s, hs, r]`.
#[inline(always)]
unsafe fn forward_steps<T: Real>(
    pass: &Pass<'_, T>,
    seqs: std::ops::Range<usize>,
    [a, s, hs, rs]: &[Shared<T>; 4],
    s0: &[T],
    r0: &[T],
) {
    let layer = pass.layer;
    let (sq, lengths) = (pass.sq, pass.lengths);
    let batch = lengths.len();
    let (c, r, hs_n, nb, cpb) = (layer.cells(), layer.rows(), layer.sources(), layer.blocks, layer.cells_per_block);
    let (in_row, f_row, out_row) = (layer.in_row(), layer.forget_row(), layer.out_row());
    let (p_in, p_f, p_out) = (pass.p_in, pass.p_f, pass.p_out);
    let (b0, n) = (seqs.start, seqs.len());
    for t in 0..pass.steps {
        let col0 = t * batch + b0;
        // SAFETY: step t's and step t − 1's columns of these sequences, disjoint, ours alone.
        let (a_t, s_t, hs_t, r_t, prev_s, prev_r) = unsafe {
            let (prev_s, prev_r): (&[T], &[T]) = if t == 0 {
                (&s0[b0 * c..(b0 + n) * c], &r0[b0 * hs_n..(b0 + n) * hs_n])
            } else {
                let p = col0 - batch;
                (s.slice(p * c..(p + n) * c), rs.slice(p * hs_n..(p + n) * hs_n))
            };
            (
                a.slice(col0 * r..(col0 + n) * r),
                s.slice(col0 * c..(col0 + n) * c),
                hs.slice(col0 * c..(col0 + n) * c),
                rs.slice(col0 * hs_n..(col0 + n) * hs_n),
                prev_s,
                prev_r,
            )
        };
        if let Some((w_x, x)) = pass.input {
            step_mm(T::zero(), a_t, r, n, w_x, x.columns(col0, n));
        }
        step_mm(T::one(), a_t, r, n, pass.w, Mat::dense(prev_r, hs_n, n));
        for bl in 0..n {
            let s_b = &mut s_t[bl * c..(bl + 1) * c];
            let r_b = &mut r_t[bl * hs_n..(bl + 1) * hs_n];
            let ps = &prev_s[bl * c..(bl + 1) * c];
            if t >= lengths[b0 + bl] {
                s_b.copy_from_slice(ps);
                r_b.copy_from_slice(&prev_r[bl * hs_n..(bl + 1) * hs_n]);
                continue;
            }
            let z = &mut a_t[bl * r..(bl + 1) * r];
            if let Some((b, row0)) = pass.bias {
                z[row0..row0 + b.len()].iter_mut().zip(b).for_each(|(z, &bk)| *z += bk);
            }
            if pass.modern && crate::kernels::modern_cell(z, ps, s_b, &mut hs_t[bl * c..(bl + 1) * c], r_b) {
                continue;
            }
            if pass.modern {
                sq.f.apply_slice(&mut z[c..]);
                sq.g.apply_slice(&mut z[..c]);
                let (g, gates) = z.split_at(c);
                let (y_in, rest) = gates.split_at(c);
                let (y_f, y_out) = rest.split_at(c);
                for k in 0..c {
                    s_b[k] = y_f[k] * ps[k] + y_in[k] * g[k];
                }
                let h_b = &mut hs_t[bl * c..(bl + 1) * c];
                h_b.copy_from_slice(s_b);
                sq.h.apply_slice(h_b);
                for k in 0..c {
                    r_b[k] = y_out[k] * h_b[k];
                }
                continue;
            }
            if pass.peep {
                for j in 0..nb {
                    for k in j * cpb..(j + 1) * cpb {
                        z[in_row + j] += p_in[k] * ps[k];
                        if layer.forget {
                            z[f_row + j] += p_f[k] * ps[k];
                        }
                    }
                }
            }
            sq.f.apply_slice(&mut z[in_row..out_row]);
            sq.g.apply_slice(&mut z[..c]);
            for j in 0..nb {
                let y_in = z[in_row + j];
                let y_f = if layer.forget { z[f_row + j] } else { T::one() };
                for k in j * cpb..(j + 1) * cpb {
                    s_b[k] = y_f * ps[k] + y_in * z[k];
                }
                if pass.peep {
                    for k in j * cpb..(j + 1) * cpb {
                        z[out_row + j] += p_out[k] * s_b[k];
                    }
                }
            }
            sq.f.apply_slice(&mut z[out_row..r]);
            let h_b = &mut hs_t[bl * c..(bl + 1) * c];
            h_b.copy_from_slice(s_b);
            sq.h.apply_slice(h_b);
            for j in 0..nb {
                let y_out = z[out_row + j];
                for k in j * cpb..(j + 1) * cpb {
                    r_b[k] = y_out * h_b[k];
                }
            }
            if layer.gate_recurrence {
                r_b[c..].copy_from_slice(&z[c..]);
            }
        }
    }
}

/// Backpropagates through the layer: `dy` (`C × TB`) is ∂E/∂y_c(t) from above; adds ∂E/∂θ to
/// `grad` (the whole flat gradient) and writes ∂E/∂x (`I × TB`) to `dx` if given. The state
/// the batch started from is a constant.
#[inline(always)]
fn backward_impl<T: Real>(
    layer: &Layer,
    params: &[T],
    sq: Squash,
    x: Mat<'_, T>,
    steps: usize,
    lengths: &[usize],
    tape: &Tape<T>,
    dy: &[T],
    work: &mut BackWork<T>,
    grad: &mut [T],
    dx: Option<&mut [T]>,
) {
    let batch = lengths.len();
    let (c, r, hs_n) = (layer.cells(), layer.rows(), layer.sources());
    let cols = steps * batch;
    reuse(&mut work.dz, r * cols); // every column written: δ, or 0 at padding
    resize(&mut work.dr, hs_n * batch);
    resize(&mut work.ds, c * batch);
    let BackWork { dz, dr, ds, w_h_t, w_panels, g_second } = work;
    let w_h = &params[layer.w_h.clone()];
    reuse(w_h_t, hs_n * r);
    transpose(w_h_t, w_h, r, hs_n);
    let halves = split(layer, batch, steps);
    let packed = tiles_pay(batch, halves) && pack_panels(Mat::dense(w_h_t, hs_n, r), w_panels);
    let w =
        StepA { plain: Mat::dense(w_h_t, hs_n, r), panels: packed.then_some(&w_panels[..]), threads: halves.is_none() };
    let pass = Pass::new(layer, params, sq, steps, lengths, w);
    let bufs = [Shared::new(dz), Shared::new(dr), Shared::new(ds)];
    let g_local = match halves {
        // SAFETY (both arms): each call writes only the columns of its own sequences.
        Some(h) => {
            let (mut first, second) = rayon::join(
                || unsafe { backward_steps(&pass, 0..h, tape, dy, &bufs) },
                || unsafe { backward_steps(&pass, h..batch, tape, dy, &bufs) },
            );
            first.iter_mut().zip(&second).for_each(|(g, &v)| *g += v);
            first
        }
        None => unsafe { backward_steps(&pass, 0..batch, tape, dy, &bufs) },
    };
    // ∂E/∂W_x = δ xᵀ, ∂E/∂W_h = Σ_t δ(t) r(t−1)ᵀ, biases and peepholes.
    // When the time loop ran on two threads, so do these products: the first half of the steps
    // into the gradient, the second into scratch added after it (a split fixed by the sizes, so
    // the sums' order, and the result, do not depend on the threads).
    let dz_all = Mat::dense(&dz[..], r, cols);
    let (n_wx, n_wh) = (r * layer.inputs, r * hs_n);
    let (g_wx, g_wh) = two_mut(grad, layer.w_x.clone(), layer.w_h.clone());
    match halves {
        Some(_) if steps >= 2 => {
            resize(g_second, n_wx + n_wh);
            let (s_wx, s_wh) = g_second.split_at_mut(n_wx);
            let mid = steps / 2;
            rayon::join(
                || weight_gradients(layer, Threads::Serial, g_wx, g_wh, dz_all, x, tape, batch, 0..mid),
                || weight_gradients(layer, Threads::Serial, s_wx, s_wh, dz_all, x, tape, batch, mid..steps),
            );
            g_wx.iter_mut().zip(&*s_wx).for_each(|(g, &v)| *g += v);
            g_wh.iter_mut().zip(&*s_wh).for_each(|(g, &v)| *g += v);
        }
        _ => weight_gradients(layer, Threads::Auto, g_wx, g_wh, dz_all, x, tape, batch, 0..steps),
    }
    let (g_peep, g_bias) = g_local.split_at(g_local.len() - layer.bias.as_ref().map_or(0, |(range, _)| range.len()));
    if let Some((range, _)) = &layer.bias {
        grad[range.clone()].iter_mut().zip(g_bias).for_each(|(g, &v)| *g += v);
    }
    if let Some(range) = &layer.peep {
        grad[range.clone()].iter_mut().zip(g_peep).for_each(|(g, &v)| *g += v);
    }
    if let Some(dx) = dx {
        let w_x = Mat::dense(&params[layer.w_x.clone()], r, layer.inputs);
        mm(Threads::Auto, T::zero(), dx, layer.inputs, cols, w_x, Op::T, dz_all, Op::N);
    }
}

/// ∂E/∂W_x += Σ_t δ(t) x(t)ᵀ into `g_wx` and ∂E/∂W_h += Σ_t δ(t) r(t−1)ᵀ into `g_wh`, over the
/// steps `range` of the batch (δ in `dz`, `R × TB`; r(−1) is the tape's starting state).
#[allow(clippy::too_many_arguments)]
fn weight_gradients<T: Real>(
    layer: &Layer,
    threads: Threads,
    g_wx: &mut [T],
    g_wh: &mut [T],
    dz: Mat<'_, T>,
    x: Mat<'_, T>,
    tape: &Tape<T>,
    batch: usize,
    range: std::ops::Range<usize>,
) {
    let (r, hs_n) = (layer.rows(), layer.sources());
    let (c0, n) = (range.start * batch, range.len() * batch);
    mm(threads, T::one(), g_wx, r, layer.inputs, dz.columns(c0, n), Op::N, x.columns(c0, n), Op::T);
    let mut first = range.start;
    if first == 0 && !range.is_empty() {
        mm(
            Threads::Serial,
            T::one(),
            g_wh,
            r,
            hs_n,
            dz.columns(0, batch),
            Op::N,
            Mat::dense(&tape.r0, hs_n, batch),
            Op::T,
        );
        first = 1;
    }
    if range.end > first {
        let n = (range.end - first) * batch;
        let earlier = Mat { data: &tape.r[(first - 1) * batch * hs_n..], rows: hs_n, cols: n, stride: hs_n };
        mm(threads, T::one(), g_wh, r, hs_n, dz.columns(first * batch, n), Op::N, earlier.columns(0, n), Op::T);
    }
}

/// The two disjoint ranges `a` and `b` of `v`, mutable at once.
fn two_mut<T>(v: &mut [T], a: std::ops::Range<usize>, b: std::ops::Range<usize>) -> (&mut [T], &mut [T]) {
    assert!(a.end <= b.start || b.end <= a.start, "overlapping parameter ranges");
    if a.start < b.start {
        let (lo, hi) = v.split_at_mut(b.start);
        (&mut lo[a], &mut hi[..b.end - b.start])
    } else {
        let (lo, hi) = v.split_at_mut(a.start);
        (&mut hi[..a.end - a.start], &mut lo[b])
    }
}

/// The time loop of the backward pass for sequences `seqs`: fills their columns of δ (`dz`),
/// using `dr` and `ds` (their columns) as the errors carried back one step; returns their
/// share of the peepholes' gradient followed by their share of the biases' (Σ_t δ(t), summed
/// here while each column of δ is in cache).
///
/// # Safety
/// No other live reference may touch these sequences' columns of `[dz, dr, ds]`.
#[inline(always)]
unsafe fn backward_steps<T: Real>(
    pass: &Pass<'_, T>,
    seqs: std::ops::Range<usize>,
    tape: &Tape<T>,
    dy: &[T],
    [dz, dr, ds]: &[Shared<T>; 3],
) -> Vec<T> {
    let layer = pass.layer;
    let lengths = pass.lengths;
    let batch = lengths.len();
    let (c, r, hs_n) = (layer.cells(), layer.rows(), layer.sources());
    let n_peep = layer.peep.as_ref().map_or(0, |p| p.len());
    let mut g_local = vec![T::zero(); n_peep + pass.bias.map_or(0, |(b, _)| b.len())];
    let (g_peep, g_bias) = g_local.split_at_mut(n_peep);
    let (b0, n) = (seqs.start, seqs.len());
    // SAFETY: these sequences' columns of the carried errors, ours alone.
    let (dr, ds) = unsafe { (dr.slice(b0 * hs_n..(b0 + n) * hs_n), ds.slice(b0 * c..(b0 + n) * c)) };
    for t in (0..pass.steps).rev() {
        let col0 = t * batch + b0;
        // SAFETY: step t's columns of these sequences, ours alone.
        let dz_t = unsafe { dz.slice(col0 * r..(col0 + n) * r) };
        for bl in 0..n {
            let (b, col) = (b0 + bl, col0 + bl);
            let dz_b = &mut dz_t[bl * r..(bl + 1) * r];
            if t >= lengths[b] {
                dz_b.fill(T::zero()); // nothing flows back from padding
                continue;
            }
            let a_b = &tape.a[col * r..(col + 1) * r];
            let s_b = &tape.s[col * c..(col + 1) * c];
            let h_b = &tape.hs[col * c..(col + 1) * c];
            let ps =
                if t == 0 { &tape.s0[b * c..(b + 1) * c] } else { &tape.s[(col - batch) * c..(col - batch + 1) * c] };
            let dr_b = &dr[bl * hs_n..(bl + 1) * hs_n];
            let ds_b = &mut ds[bl * c..(bl + 1) * c];
            let dy_b = &dy[col * c..(col + 1) * c];
            if pass.modern {
                let one = T::one();
                let (g, gates) = a_b.split_at(c);
                let (y_in, rest) = gates.split_at(c);
                let (y_f, y_out) = rest.split_at(c);
                let (dz_g, dz_gates) = dz_b.split_at_mut(c);
                let (dz_in, rest) = dz_gates.split_at_mut(c);
                let (dz_f, dz_out) = rest.split_at_mut(c);
                for k in 0..c {
                    let e = dy_b[k] + dr_b[k];
                    dz_out[k] = (e * h_b[k]) * (y_out[k] * (one - y_out[k]));
                    let d_s = ds_b[k] + e * y_out[k] * (one - h_b[k] * h_b[k]);
                    dz_g[k] = d_s * y_in[k] * (one - g[k] * g[k]);
                    dz_in[k] = (d_s * g[k]) * (y_in[k] * (one - y_in[k]));
                    dz_f[k] = (d_s * ps[k]) * (y_f[k] * (one - y_f[k]));
                    ds_b[k] = d_s * y_f[k];
                }
            } else {
                backward_column(pass, a_b, s_b, h_b, ps, dr_b, ds_b, dy_b, dz_b, g_peep);
            }
            if let Some((_, row0)) = pass.bias {
                g_bias.iter_mut().zip(&dz_b[row0..]).for_each(|(g, &d)| *g += d);
            }
        }
        if t > 0 {
            step_mm(T::zero(), dr, hs_n, n, pass.w, Mat::dense(dz_t, r, n));
        }
    }
    g_local
}

/// δ at one real column of a general layer (any S, gates, peepholes, gate recurrence): see the
/// module's formulas. `ds_b` holds σ(t) on entry and σ(t − 1) on return; the peepholes'
/// gradient is added to `g_peep`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn backward_column<T: Real>(
    pass: &Pass<'_, T>,
    a_b: &[T],
    s_b: &[T],
    h_b: &[T],
    ps: &[T],
    dr_b: &[T],
    ds_b: &mut [T],
    dy_b: &[T],
    dz_b: &mut [T],
    g_peep: &mut [T],
) {
    let (layer, sq) = (pass.layer, pass.sq);
    let (c, nb, cpb) = (layer.cells(), layer.blocks, layer.cells_per_block);
    let (in_row, f_row, out_row) = (layer.in_row(), layer.forget_row(), layer.out_row());
    let (p_in, p_f, p_out) = (pass.p_in, pass.p_f, pass.p_out);
    let gate_err = |row: usize| if layer.gate_recurrence { dr_b[row] } else { T::zero() };
    for j in 0..nb {
        let cells = j * cpb..(j + 1) * cpb;
        let y_out = a_b[out_row + j];
        let mut d_out = gate_err(out_row + j);
        for k in cells.clone() {
            d_out += (dy_b[k] + dr_b[k]) * h_b[k];
        }
        let dz_out = d_out * sq.f.derivative_from_output(y_out);
        dz_b[out_row + j] = dz_out;
        let y_in = a_b[in_row + j];
        let y_f = if layer.forget { a_b[f_row + j] } else { T::one() };
        let mut d_in = gate_err(in_row + j);
        let mut d_f = if layer.forget { gate_err(f_row + j) } else { T::zero() };
        for k in cells.clone() {
            let e = dy_b[k] + dr_b[k];
            let mut d_s = ds_b[k] + e * y_out * sq.h.derivative_from_output(h_b[k]);
            if pass.peep {
                d_s += p_out[k] * dz_out;
            }
            dz_b[k] = d_s * y_in * sq.g.derivative_from_output(a_b[k]);
            d_in += d_s * a_b[k];
            d_f += d_s * ps[k];
            ds_b[k] = d_s; // ∂E/∂s(t) until the gates' δ are known
        }
        let dz_in = d_in * sq.f.derivative_from_output(y_in);
        dz_b[in_row + j] = dz_in;
        let dz_f = if layer.forget {
            let v = d_f * sq.f.derivative_from_output(y_f);
            dz_b[f_row + j] = v;
            v
        } else {
            T::zero()
        };
        for k in cells {
            ds_b[k] *= y_f;
            if pass.peep {
                ds_b[k] += p_in[k] * dz_in;
                g_peep[k] += dz_in * ps[k];
                if layer.forget {
                    ds_b[k] += p_f[k] * dz_f;
                    g_peep[c + k] += dz_f * ps[k];
                }
                let out_at = if layer.forget { 2 * c } else { c };
                g_peep[out_at + k] += dz_out * s_b[k];
            }
        }
    }
}
