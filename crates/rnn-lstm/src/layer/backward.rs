//! Backpropagation through time in a layer: the errors step by step back in time, then the
//! weights' gradients over every step (see the formulas in the parent module).

use rnn_core::Real;
use rnn_core::linalg::{Op, Threads, transpose};

use super::{BackWork, Pass, Shared, Squash, Tape, resize, reuse, split, tiles_pay};
use crate::geometry::Layer;
use crate::kernels::{Mat, StepA, mm, pack_panels, step_mm};

widest_vectors! {
    /// Backpropagates through the layer: `dy` (`C × TB`) is ∂E/∂y_c(t) from above; adds ∂E/∂θ to
    /// `grad` (the whole flat gradient) and writes ∂E/∂x (`I × TB`) to `dx` if given. The state
    /// the batch started from is a constant.
    pub(crate) fn backward<T: Real>(
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
                reuse(g_second, n_wx + n_wh); // written with β = 0 below
                let (s_wx, s_wh) = g_second.split_at_mut(n_wx);
                let mid = steps / 2;
                rayon::join(
                    || weight_gradients(layer, Threads::Serial, T::one(), g_wx, g_wh, dz_all, x, tape, batch, 0..mid),
                    || weight_gradients(layer, Threads::Serial, T::zero(), s_wx, s_wh, dz_all, x, tape, batch, mid..steps),
                );
                g_wx.iter_mut().zip(&*s_wx).for_each(|(g, &v)| *g += v);
                g_wh.iter_mut().zip(&*s_wh).for_each(|(g, &v)| *g += v);
            }
            _ => weight_gradients(layer, Threads::Auto, T::one(), g_wx, g_wh, dz_all, x, tape, batch, 0..steps),
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
}

/// g_wx ← β·g_wx + Σ_t δ(t) x(t)ᵀ and g_wh ← β·g_wh + Σ_t δ(t) r(t−1)ᵀ over the steps `range`
/// (not empty) of the batch (δ in `dz`, `R × TB`; r(−1) is the tape's starting state). With
/// β = 0 the buffers are written, not read.
#[allow(clippy::too_many_arguments)]
fn weight_gradients<T: Real>(
    layer: &Layer,
    threads: Threads,
    beta: T,
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
    mm(threads, beta, g_wx, r, layer.inputs, dz.columns(c0, n), Op::N, x.columns(c0, n), Op::T);
    let (mut first, mut beta_h) = (range.start, beta);
    if first == 0 && !range.is_empty() {
        mm(
            Threads::Serial,
            beta_h,
            g_wh,
            r,
            hs_n,
            dz.columns(0, batch),
            Op::N,
            Mat::dense(&tape.r0, hs_n, batch),
            Op::T,
        );
        (first, beta_h) = (1, T::one());
    }
    if range.end > first {
        let n = (range.end - first) * batch;
        let earlier = Mat { data: &tape.r[(first - 1) * batch * hs_n..], rows: hs_n, cols: n, stride: hs_n };
        mm(threads, beta_h, g_wh, r, hs_n, dz.columns(first * batch, n), Op::N, earlier.columns(0, n), Op::T);
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
