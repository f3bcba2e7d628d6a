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
use crate::kernels::{Mat, add_row_sums, mm, step_mm};

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
}

impl<T> Default for Tape<T> {
    fn default() -> Self {
        Self { a: Vec::new(), s: Vec::new(), hs: Vec::new(), r: Vec::new(), s0: Vec::new(), r0: Vec::new() }
    }
}

impl<T> Default for BackWork<T> {
    fn default() -> Self {
        Self { dz: Vec::new(), dr: Vec::new(), ds: Vec::new(), w_h_t: Vec::new() }
    }
}

fn resize<T: Real>(v: &mut Vec<T>, len: usize) {
    v.clear();
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
    let (c, r, hs_n, nb, cpb) = (layer.cells(), layer.rows(), layer.sources(), layer.blocks, layer.cells_per_block);
    let (in_row, f_row, out_row) = (layer.in_row(), layer.forget_row(), layer.out_row());
    let cols = steps * batch;
    resize(&mut tape.a, r * cols);
    resize(&mut tape.s, c * cols);
    resize(&mut tape.hs, c * cols);
    resize(&mut tape.r, hs_n * cols);
    let w_x = Mat::dense(&params[layer.w_x.clone()], r, layer.inputs);
    let w_h = Mat::dense(&params[layer.w_h.clone()], r, hs_n);
    mm(Threads::Auto, T::zero(), &mut tape.a, r, cols, w_x, Op::N, x, Op::N);
    if let Some((range, row0)) = &layer.bias {
        let b = &params[range.clone()];
        for col in tape.a.chunks_exact_mut(r) {
            for (z, &bk) in col[*row0..*row0 + b.len()].iter_mut().zip(b) {
                *z += bk;
            }
        }
    }
    let peep = layer.peep.as_ref().map(|range| &params[range.clone()]);
    let (p_in, p_f, p_out) = match peep {
        Some(p) if layer.forget => (&p[..c], &p[c..2 * c], &p[2 * c..]),
        Some(p) => (&p[..c], &p[..0], &p[c..]),
        None => (&[][..], &[][..], &[][..]),
    };
    let Tape { a, s, hs, r: rs, s0, r0 } = tape;
    for t in 0..steps {
        let (s_done, s_rest) = s.split_at_mut(t * batch * c);
        let (r_done, r_rest) = rs.split_at_mut(t * batch * hs_n);
        let prev_s: &[T] = if t == 0 { s0 } else { &s_done[(t - 1) * batch * c..] };
        let prev_r: &[T] = if t == 0 { r0 } else { &r_done[(t - 1) * batch * hs_n..] };
        let a_t = &mut a[t * batch * r..(t + 1) * batch * r];
        step_mm(T::one(), a_t, r, batch, w_h, Op::N, Mat::dense(prev_r, hs_n, batch));
        let hs_t = &mut hs[t * batch * c..(t + 1) * batch * c];
        for b in 0..batch {
            let s_b = &mut s_rest[b * c..(b + 1) * c];
            let r_b = &mut r_rest[b * hs_n..(b + 1) * hs_n];
            let ps = &prev_s[b * c..(b + 1) * c];
            if t >= lengths[b] {
                s_b.copy_from_slice(ps);
                r_b.copy_from_slice(&prev_r[b * hs_n..(b + 1) * hs_n]);
                continue;
            }
            let z = &mut a_t[b * r..(b + 1) * r];
            if peep.is_some() {
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
                if peep.is_some() {
                    for k in j * cpb..(j + 1) * cpb {
                        z[out_row + j] += p_out[k] * s_b[k];
                    }
                }
            }
            sq.f.apply_slice(&mut z[out_row..r]);
            let h_b = &mut hs_t[b * c..(b + 1) * c];
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
    let (c, r, hs_n, nb, cpb) = (layer.cells(), layer.rows(), layer.sources(), layer.blocks, layer.cells_per_block);
    let (in_row, f_row, out_row) = (layer.in_row(), layer.forget_row(), layer.out_row());
    let cols = steps * batch;
    resize(&mut work.dz, r * cols);
    resize(&mut work.dr, hs_n * batch);
    resize(&mut work.ds, c * batch);
    let w_h = Mat::dense(&params[layer.w_h.clone()], r, hs_n);
    let peep = layer.peep.as_ref().map(|range| &params[range.clone()]);
    let (p_in, p_f, p_out) = match peep {
        Some(p) if layer.forget => (&p[..c], &p[c..2 * c], &p[2 * c..]),
        Some(p) => (&p[..c], &p[..0], &p[c..]),
        None => (&[][..], &[][..], &[][..]),
    };
    let mut g_peep = vec![T::zero(); layer.peep.as_ref().map_or(0, |p| p.len())];
    let gate_err = |dr: &[T], row: usize| if layer.gate_recurrence { dr[row] } else { T::zero() };
    let BackWork { dz, dr, ds, w_h_t } = work;
    {
        w_h_t.clear();
        w_h_t.resize(hs_n * r, T::zero());
        for (i, row) in w_h_t.chunks_exact_mut(hs_n).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = w_h.data[j * r + i];
            }
        }
    }
    for t in (0..steps).rev() {
        for b in 0..batch {
            let col = t * batch + b;
            let dz_b = &mut dz[col * r..(col + 1) * r];
            if t >= lengths[b] {
                continue; // δ stays 0; nothing flows back from padding.
            }
            let a_b = &tape.a[col * r..(col + 1) * r];
            let s_b = &tape.s[col * c..(col + 1) * c];
            let h_b = &tape.hs[col * c..(col + 1) * c];
            let ps =
                if t == 0 { &tape.s0[b * c..(b + 1) * c] } else { &tape.s[(col - batch) * c..(col - batch + 1) * c] };
            let dr_b = &dr[b * hs_n..(b + 1) * hs_n];
            let ds_b = &mut ds[b * c..(b + 1) * c];
            let dy_b = &dy[col * c..(col + 1) * c];
            for j in 0..nb {
                let cells = j * cpb..(j + 1) * cpb;
                let y_out = a_b[out_row + j];
                let mut d_out = gate_err(dr_b, out_row + j);
                for k in cells.clone() {
                    d_out += (dy_b[k] + dr_b[k]) * h_b[k];
                }
                let dz_out = d_out * sq.f.derivative_from_output(y_out);
                dz_b[out_row + j] = dz_out;
                let y_in = a_b[in_row + j];
                let y_f = if layer.forget { a_b[f_row + j] } else { T::one() };
                let mut d_in = gate_err(dr_b, in_row + j);
                let mut d_f = if layer.forget { gate_err(dr_b, f_row + j) } else { T::zero() };
                for k in cells.clone() {
                    let e = dy_b[k] + dr_b[k];
                    let mut d_s = ds_b[k] + e * y_out * sq.h.derivative_from_output(h_b[k]);
                    if peep.is_some() {
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
                    if peep.is_some() {
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
        if t > 0 {
            let dz_t = Mat::dense(&dz[t * batch * r..(t + 1) * batch * r], r, batch);
            step_mm(T::zero(), dr, hs_n, batch, Mat::dense(w_h_t, hs_n, r), Op::N, dz_t);
        }
    }
    // ∂E/∂W_x = δ xᵀ, ∂E/∂W_h = Σ_t δ(t) r(t−1)ᵀ, biases and peepholes.
    let dz_all = Mat::dense(&dz[..], r, cols);
    let g_wx = &mut grad[layer.w_x.clone()];
    mm(Threads::Auto, T::one(), g_wx, r, layer.inputs, dz_all, Op::N, x, Op::T);
    let g_wh = &mut grad[layer.w_h.clone()];
    let dz_first = dz_all.columns(0, batch);
    mm(Threads::Serial, T::one(), g_wh, r, hs_n, dz_first, Op::N, Mat::dense(&tape.r0, hs_n, batch), Op::T);
    if steps > 1 {
        let later = dz_all.columns(batch, cols - batch);
        let earlier = Mat::dense(&tape.r[..(cols - batch) * hs_n], hs_n, cols - batch);
        mm(Threads::Auto, T::one(), g_wh, r, hs_n, later, Op::N, earlier, Op::T);
    }
    if let Some((range, row0)) = &layer.bias {
        add_row_sums(&mut grad[range.clone()], dz, r, *row0);
    }
    if let Some(range) = &layer.peep {
        for (g, v) in grad[range.clone()].iter_mut().zip(&g_peep) {
            *g += *v;
        }
    }
    if let Some(dx) = dx {
        let w_x = Mat::dense(&params[layer.w_x.clone()], r, layer.inputs);
        mm(Threads::Auto, T::zero(), dx, layer.inputs, cols, w_x, Op::T, dz_all, Op::N);
    }
}
