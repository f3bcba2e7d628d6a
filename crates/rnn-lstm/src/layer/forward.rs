//! The forward pass of a layer: the input and recurrent products and the cell updates, step by
//! step, recording what the backward pass needs.

use rnn_core::Real;
use rnn_core::linalg::{Op, Threads};

use super::{Pass, Shared, Squash, Tape, reuse, split, tiles_pay};
use crate::geometry::Layer;
use crate::kernels::{Mat, StepA, finite, mm, pack_panels, step_mm};

widest_vectors! {
    /// Runs the layer over `x` (`I × TB`, with column stride `x.stride`) from the state already in
    /// `tape.s0`/`tape.r0`, filling the rest of `tape`.
    pub(crate) fn forward<T: Real>(
        layer: &Layer,
        params: &[T],
        sq: Squash,
        x: Mat<'_, T>,
        steps: usize,
        lengths: &[usize],
        tape: &mut Tape<T>,
    ) -> Option<usize> {
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
                let (first, second) = rayon::join(
                    || unsafe { forward_steps(&pass, 0..h, &bufs, s0, r0) },
                    || unsafe { forward_steps(&pass, h..batch, &bufs, s0, r0) },
                );
                first.into_iter().chain(second).min()
            }
            None => unsafe { forward_steps(&pass, 0..batch, &bufs, s0, r0) },
        }
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
) -> Option<usize> {
    let layer = pass.layer;
    let (sq, lengths) = (pass.sq, pass.lengths);
    let batch = lengths.len();
    let (c, r, hs_n, nb, cpb) = (layer.cells(), layer.rows(), layer.sources(), layer.blocks, layer.cells_per_block);
    let (in_row, f_row, out_row) = (layer.in_row(), layer.forget_row(), layer.out_row());
    let (p_in, p_f, p_out) = (pass.p_in, pass.p_f, pass.p_out);
    let (b0, n) = (seqs.start, seqs.len());
    // The first column whose net inputs overflowed (its gates would squash ±∞ to finite values).
    let mut overflow: Option<usize> = None;
    let mut flag = |col: usize| {
        overflow.get_or_insert(col);
    };
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
            if pass.modern
                && let Some(finite) = crate::kernels::modern_cell(z, ps, s_b, &mut hs_t[bl * c..(bl + 1) * c], r_b)
            {
                if !finite {
                    flag(col0 + bl);
                }
                continue;
            }
            if pass.modern {
                if !finite(z) {
                    flag(col0 + bl);
                }
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
            if !finite(&z[..out_row]) {
                flag(col0 + bl);
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
            if !finite(&z[out_row..r]) {
                flag(col0 + bl);
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
    overflow
}
