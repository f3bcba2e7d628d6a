//! The record of a forward pass, and backpropagation through it.
//!
//! Forward, for each step t and each sequence b of a batch:
//! z(t) = [x(t); ỹ(t); 1], y(t+1) = f(W z(t)), where ỹ(t+1) is y(t+1) with each teacher-forced
//! output replaced by its target.
//!
//! Backward (Werbos; Williams & Zipser's epochwise BPTT), from the last step of a range down:
//!
//! g(t) = ∂J/∂y(t+1) + [unit not forced at t] · W_recᵀ δ(t+1),  δ(t) = f′(s(t)) ⊙ g(t),
//!
//! with δ(end) = 0, and ∂J/∂W = Σ_t δ(t) z(t)ᵀ: the gradient of each shared weight is the sum
//! over its unrolled copies. A forced unit's later value is its target, which no weight
//! changes, so no gradient flows back through it.

use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut, Dyn, U1};
use rnn_core::{
    Real, Result,
    alloc::{checked_size, try_filled},
    linalg::{Op, Threads, gemm_with},
};

use crate::FullyRecurrent;

/// Targets that replace outputs (teacher forcing): `K × (L·B)` values and which are present.
#[derive(Clone, Copy)]
pub(crate) struct Forcing<'a, T: Real> {
    pub targets: &'a DMatrix<T>,
    pub present: &'a DMatrix<bool>,
}

/// z(t) and y(t+1) for `steps` steps of a batch, column t·B + b, plus backward buffers.
#[derive(Debug, Clone)]
pub(crate) struct Trace<T: Real> {
    pub steps: usize,
    pub batch: usize,
    /// `(M + N + 1) × (L·B)`.
    pub z: DMatrix<T>,
    /// `N × (L·B)`: y(t+1) before forcing.
    pub y: DMatrix<T>,
    /// The forced state ỹ after the last step run, `N × B`: the next z's recurrent part.
    pub state: DMatrix<T>,
    delta: DMatrix<T>,
    future: DMatrix<T>,
    grad_w: DMatrix<T>,
    /// W_recᵀ, so that the backward products read their left operand untransposed (the GEMM
    /// kernel would repack a transposed one at every step).
    w_rec_t: DMatrix<T>,
}

fn zeros<T: Real>(what: &str, rows: usize, cols: usize) -> Result<DMatrix<T>> {
    let len = checked_size(what, rows, cols)?;
    Ok(DMatrix::from_vec(rows, cols, try_filled(what, len, T::zero())?))
}

impl<T: Real> Trace<T> {
    /// Buffers for `steps` steps of `batch` sequences, starting from the net's initial state.
    pub fn new(net: &FullyRecurrent<T>, steps: usize, batch: usize) -> Result<Self> {
        let (c, n) = (net.connectivity().columns(), net.units());
        let cols = checked_size("trace columns (steps × batch)", steps, batch)?;
        Ok(Self {
            steps,
            batch,
            z: zeros("trace of z(t)", c, cols)?,
            y: zeros("trace of y(t)", n, cols)?,
            state: net.initial_states(batch)?,
            delta: zeros("backpropagated errors", n, cols)?,
            future: zeros("backpropagated errors", n, batch)?,
            grad_w: zeros("weight gradient", n, c)?,
            w_rec_t: zeros("transposed recurrent weights", n, n)?,
        })
    }

    /// Whether the buffers fit `steps × batch` for `net`.
    pub fn fits(&self, net: &FullyRecurrent<T>, steps: usize, batch: usize) -> bool {
        self.steps == steps && self.batch == batch && self.z.nrows() == net.connectivity().columns()
    }

    /// Resets the running state to the net's initial state.
    pub fn reset_state(&mut self, net: &FullyRecurrent<T>) {
        for b in 0..self.batch {
            self.state.column_mut(b).copy_from_slice(net.initial_state());
        }
    }

    /// Runs all steps from the net's initial state; `inputs` is `M × (L·B)`. The net must be
    /// synced and the shapes checked.
    ///
    /// The input part W_in x(t) + b of every step is one product over the whole batch; the
    /// time loop then adds W_rec ỹ(t) step by step, on two halves of the batch on two threads
    /// when the loop is long enough (sequences do not interact).
    pub fn forward(&mut self, net: &FullyRecurrent<T>, inputs: &DMatrix<T>, forcing: Option<Forcing<'_, T>>) {
        let (m, n, b, l) = (net.inputs(), net.units(), self.batch, self.steps);
        let c = m + n + 1;
        for j in 0..l * b {
            let col = &mut self.z.as_mut_slice()[j * c..(j + 1) * c];
            col[..m].copy_from_slice(inputs.column(j).as_slice());
            col[m + n] = T::one();
        }
        for j in 0..b {
            self.z.as_mut_slice()[j * c + m..j * c + m + n].copy_from_slice(net.initial_state());
        }
        // y ← W_in X + b for every step at once.
        let w = net.dense();
        let bias = w.column(m + n);
        for col in self.y.as_mut_slice().chunks_exact_mut(n) {
            col.copy_from_slice(bias.as_slice());
        }
        if m > 0 {
            let x = self.z.rows(0, m);
            gemm_with(Threads::Auto, T::one(), &mut self.y.as_view_mut(), T::one(), &w.columns(0, m), Op::N, &x, Op::N);
        }
        let loop_ = TimeLoop { net, batch: b, forcing };
        let (ys, zs) = (self.y.as_mut_slice(), self.z.as_mut_slice());
        if split_batch(net, l, b) {
            let b1 = b / 2;
            let (mut y1, mut y2): (Vec<_>, Vec<_>) = ys.chunks_exact_mut(n * b).map(|s| s.split_at_mut(n * b1)).unzip();
            let (mut z1, mut z2): (Vec<_>, Vec<_>) = zs.chunks_exact_mut(c * b).map(|s| s.split_at_mut(c * b1)).unzip();
            rayon::join(|| loop_.forward(&mut y1, &mut z1, 0, b1), || loop_.forward(&mut y2, &mut z2, b1, b - b1));
        } else {
            let mut y: Vec<_> = ys.chunks_exact_mut(n * b).collect();
            let mut z: Vec<_> = zs.chunks_exact_mut(c * b).collect();
            loop_.forward(&mut y, &mut z, 0, b);
        }
        // The running state: ỹ(L).
        self.state.copy_from(&self.y.columns((l - 1) * b, b));
        if let Some(f) = forcing {
            for j in 0..b {
                for (k, &unit) in net.outputs().iter().enumerate() {
                    if f.present[(k, (l - 1) * b + j)] {
                        self.state[(unit, j)] = f.targets[(k, (l - 1) * b + j)];
                    }
                }
            }
        }
    }

    /// Runs one step into trace slot `slot` from the running state; `forcing` columns are read
    /// at `target_step`.
    pub fn forward_step(
        &mut self,
        net: &FullyRecurrent<T>,
        slot: usize,
        x: &DMatrixView<'_, T>,
        forcing: Option<Forcing<'_, T>>,
        target_step: usize,
    ) {
        let b = self.batch;
        let mut z = self.z.columns_mut(slot * b, b);
        net.fill_z(&mut z, x, &self.state.as_view());
        let n = net.units();
        let y = &mut self.y.as_mut_slice()[slot * b * n..(slot + 1) * b * n];
        net.step_into(&self.z.columns(slot * b, b), y, threads_for(net, b));
        self.state.copy_from(&self.y.columns(slot * b, b));
        if let Some(f) = forcing {
            for j in 0..b {
                for (k, &unit) in net.outputs().iter().enumerate() {
                    if f.present[(k, target_step * b + j)] {
                        self.state[(unit, j)] = f.targets[(k, target_step * b + j)];
                    }
                }
            }
        }
    }

    /// The output units' rows of y: `K × (L·B)`.
    pub fn outputs(&self, net: &FullyRecurrent<T>) -> DMatrix<T> {
        let (n, k) = (net.units(), net.outputs().len());
        let mut out = DMatrix::zeros(k, self.y.ncols());
        let leading = net.outputs_are_leading();
        for (o, y) in out.as_mut_slice().chunks_exact_mut(k).zip(self.y.as_slice().chunks_exact(n)) {
            if leading {
                o.copy_from_slice(&y[..k]);
            } else {
                for (v, &unit) in o.iter_mut().zip(net.outputs()) {
                    *v = y[unit];
                }
            }
        }
        out
    }

    /// Moves slots `shift..steps` to `0..steps − shift` (a sliding window over a stream).
    pub fn shift_left(&mut self, shift: usize) {
        let b = self.batch;
        let keep = (self.steps - shift) * b;
        for j in 0..keep {
            self.z.swap_columns(j, j + shift * b);
            self.y.swap_columns(j, j + shift * b);
        }
    }

    /// Backpropagates through slots `start..end` and writes ∂J/∂w for each parameter into
    /// `grad`. `dl_dout` is `K × (L·B)`, ∂J/∂y_out(t+1) in slot t (zero where no target counts);
    /// `forced[(k, t·B + b)]` says whether output k was teacher-forced at slot t.
    pub fn backward(
        &mut self,
        net: &FullyRecurrent<T>,
        range: std::ops::Range<usize>,
        dl_dout: &DMatrix<T>,
        forced: Option<&DMatrix<bool>>,
        grad: &mut [T],
    ) {
        let (n, b) = (net.units(), self.batch);
        net.recurrent_block().transpose_to(&mut self.w_rec_t);
        let loop_ = BackLoop {
            net,
            w_rec_t: self.w_rec_t.as_view(),
            batch: b,
            dl_dout,
            forced,
            y: self.y.as_slice(),
            start: range.start,
        };
        let deltas = &mut self.delta.as_mut_slice()[range.start * n * b..range.end * n * b];
        if split_batch(net, range.len(), b) {
            let b1 = b / 2;
            let (mut d1, mut d2): (Vec<_>, Vec<_>) =
                deltas.chunks_exact_mut(n * b).map(|s| s.split_at_mut(n * b1)).unzip();
            let (f1, f2) = self.future.as_mut_slice().split_at_mut(n * b1);
            rayon::join(|| loop_.backward(&mut d1, f1, 0, b1), || loop_.backward(&mut d2, f2, b1, b - b1));
        } else {
            let mut d: Vec<_> = deltas.chunks_exact_mut(n * b).collect();
            loop_.backward(&mut d, self.future.as_mut_slice(), 0, b);
        }
        // ∂J/∂W = Σ_t δ(t) z(t)ᵀ, one product over the whole range.
        let cols = range.start * b..range.end * b;
        let d = self.delta.columns(cols.start, cols.len());
        let z = self.z.columns(cols.start, cols.len());
        gemm_with(Threads::Auto, T::zero(), &mut self.grad_w.as_view_mut(), T::one(), &d, Op::N, &z, Op::T);
        net.gather(self.grad_w.as_slice(), grad);
    }
}

/// Whether a time loop of `steps` steps runs two halves of the batch on two threads: enough
/// work that a fork-join (15–200 µs to wake a worker on a small machine) pays. The choice
/// depends on sizes alone, so results do not depend on the thread count.
fn split_batch<T: Real>(net: &FullyRecurrent<T>, steps: usize, batch: usize) -> bool {
    const SPLIT_LOOP: usize = 1 << 25;
    batch >= 2 && steps * net.units() * net.units() * batch >= SPLIT_LOOP
}

/// The forward recurrence for a block of sequences (columns `first..first + width` of each
/// step), on per-step slices of the trace.
struct TimeLoop<'a, T: Real> {
    net: &'a FullyRecurrent<T>,
    batch: usize,
    forcing: Option<Forcing<'a, T>>,
}

impl<T: Real> TimeLoop<'_, T> {
    /// ys[t] holds W_in x(t) + b on entry, y(t+1) on exit; zs[t] gets ỹ(t) (zs[0]'s is set).
    fn forward(&self, ys: &mut [&mut [T]], zs: &mut [&mut [T]], first: usize, width: usize) {
        let net = self.net;
        let (m, n) = (net.inputs(), net.units());
        let c = m + n + 1;
        let w_rec = net.recurrent_block();
        for t in 0..ys.len() {
            let z_rec = DMatrixView::from_slice_with_strides_generic(&zs[t][m..], Dyn(n), Dyn(width), U1, Dyn(c));
            let mut y = DMatrixViewMut::from_slice(ys[t], n, width);
            gemm_with(Threads::Serial, T::one(), &mut y, T::one(), &w_rec, Op::N, &z_rec, Op::N);
            net.activate(ys[t]);
            if t + 1 < ys.len() {
                let next = &mut zs[t + 1];
                for j in 0..width {
                    next[j * c + m..j * c + m + n].copy_from_slice(&ys[t][j * n..(j + 1) * n]);
                    if let Some(f) = self.forcing {
                        let col = t * self.batch + first + j;
                        for (k, &unit) in net.outputs().iter().enumerate() {
                            if f.present[(k, col)] {
                                next[j * c + m + unit] = f.targets[(k, col)];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The backward recurrence for a block of sequences.
struct BackLoop<'a, T: Real> {
    net: &'a FullyRecurrent<T>,
    w_rec_t: DMatrixView<'a, T>,
    batch: usize,
    dl_dout: &'a DMatrix<T>,
    forced: Option<&'a DMatrix<bool>>,
    /// The whole trace's y.
    y: &'a [T],
    /// The slot of `deltas[0]`.
    start: usize,
}

impl<T: Real> BackLoop<'_, T> {
    /// deltas[i] gets δ(start + i) for columns `first..first + width`; `future` is scratch.
    fn backward(&self, deltas: &mut [&mut [T]], future: &mut [T], first: usize, width: usize) {
        let (net, b) = (self.net, self.batch);
        let n = net.units();
        future.fill(T::zero());
        for i in (0..deltas.len()).rev() {
            let t = self.start + i;
            let delta = &mut *deltas[i];
            delta.copy_from_slice(future);
            let outputs = net.outputs();
            let kk = outputs.len();
            for j in 0..width {
                let col = t * b + first + j;
                let dl = &self.dl_dout.as_slice()[col * kk..(col + 1) * kk];
                let d = &mut delta[j * n..(j + 1) * n];
                match self.forced {
                    None if net.outputs_are_leading() => d[..kk].iter_mut().zip(dl).for_each(|(d, &g)| *d += g),
                    _ => {
                        for (k, &unit) in outputs.iter().enumerate() {
                            if self.forced.is_some_and(|f| f[(k, col)]) {
                                d[unit] = T::zero();
                            }
                            d[unit] += dl[k];
                        }
                    }
                }
            }
            let y0 = (t * b + first) * n;
            net.backprop_activation(&self.y[y0..y0 + width * n], delta);
            if i > 0 {
                let d = DMatrixView::from_slice(delta, n, width);
                let mut fut = DMatrixViewMut::from_slice(future, n, width);
                gemm_with(Threads::Serial, T::zero(), &mut fut, T::one(), &self.w_rec_t, Op::N, &d, Op::N);
            }
        }
    }
}

/// Serial products for the small per-step products of single sequences; the kernel decides
/// for batches.
fn threads_for<T: Real>(net: &FullyRecurrent<T>, batch: usize) -> Threads {
    if batch == 1 || net.units() < 64 { Threads::Serial } else { Threads::Auto }
}

/// J = ½ Σ over present targets (y − d)², writing ∂J/∂y = y − d (zero where absent) into
/// `grad` (all `K × cols`).
pub(crate) fn squared_error<T: Real>(
    outputs: &DMatrix<T>,
    targets: &DMatrix<T>,
    present: &DMatrix<bool>,
    grad: &mut DMatrix<T>,
) -> T {
    let half = T::of_f64(0.5);
    let mut loss = T::zero();
    for ((g, (&y, &d)), &p) in grad.iter_mut().zip(outputs.iter().zip(targets.iter())).zip(present.iter()) {
        *g = if p { y - d } else { T::zero() };
        loss += half * *g * *g;
    }
    loss
}
