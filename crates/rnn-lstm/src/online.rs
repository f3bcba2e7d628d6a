//! LSTM's own learning rule: the truncated gradient of Hochreiter & Schmidhuber (1997), computed
//! forward in time RTRL-style, with a weight change at every time step.

use nalgebra::DMatrix;
use rnn_core::{
    Activation, Error, Parameters, Real, Result,
    error::{check_dim, check_finite},
};

use crate::geometry::Geometry;
use crate::{Lstm, LstmConfig, Readout};

/// Truncated real-time recurrent learning, the learning algorithm of the original LSTM papers
/// (Hochreiter & Schmidhuber 1997, "Long short-term memory", Neural Computation 9(8), §4 and
/// Appendix A.1; with forget gates, Gers, Schmidhuber & Cummins 2000, "Learning to forget",
/// Neural Computation 12(10), Appendix): the network is trained online, the weights change at
/// every time step, and the gradient is truncated so that error flows back through time only
/// along the cell states s_c, the constant error carousel.
///
/// For a single layer with a head read at every step, the sources of every cell-input and gate
/// unit at step t are v(t) = \[x(t); r(t−1); 1\] (the input, the recurrent sources, the bias).
/// For each cell c (in block j) the learner carries, from the start of the sequence, the
/// partial derivatives of s_c with respect to the weights into c's cell input and into its
/// block's input and forget gates:
///
/// ```text
/// ∂s_c/∂w_cm(t)  = y_φ(t) ∂s_c/∂w_cm(t−1)  + g′(net_c(t)) y_in(t) v_m(t)
/// ∂s_c/∂w_in,m(t) = y_φ(t) ∂s_c/∂w_in,m(t−1) + g(net_c(t)) f′(net_in(t)) v_m(t)
/// ∂s_c/∂w_φm(t)  = y_φ(t) ∂s_c/∂w_φm(t−1)  + s_c(t−1) f′(net_φ(t)) v_m(t)
/// ```
///
/// (y_φ ≡ 1 without forget gates). At a step with a target d, with E(t) = ½ Σ_k (y_k − d_k)²
/// (the [`Loss::SumSquared`](rnn_core::Loss::SumSquared) of the classic papers):
///
/// ```text
/// δ_k      = f_o′(net_k) (y_k − d_k)                      (output units)
/// e_c      = Σ_k w_kc δ_k                                 (error on y_c)
/// δ_out,j  = f′(net_out,j) Σ_{c ∈ j} e_c h(s_c)           (output gates, one step only)
/// e_s,c    = e_c y_out,j h′(s_c)                          (error on s_c)
/// ∂E(t)/∂w_km = δ_k y_m (head), δ_out,j v_m (output gates), Σ_c e_s,c ∂s_c/∂w (cells, gates)
/// ```
///
/// and Δw = −η ∂E(t)/∂w is applied at once (the stored partials go on with the new weights,
/// as in RTRL). Errors arriving at the cell-input and gate net inputs are not propagated back
/// through the recurrent weights W_h; only the carousel carries error back in time. With W_h = 0
/// nothing is truncated and the accumulated gradient of a sequence is the full BPTT gradient.
///
/// [`accumulating`](Self::accumulating) turns the updates off: the per-step gradients are then
/// summed in [`gradient`](Self::gradient) (for a weight change per sequence, or for testing).
/// [`step`](Self::step) may be called across sequence boundaries without [`reset`](Self::reset),
/// for continual streams (Gers et al. 2000 reset only after an error).
///
/// Supported: one layer, a head read at every step (with or without bias and shortcut), forget
/// gates or not, gate recurrence or not, cell and gate biases or not. Not supported (an
/// [`Error::InvalidConfig`] at construction): stacked layers, no head, a last-step readout,
/// peepholes.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_lstm::{LstmConfig, TruncatedRtrl};
/// let mut net = LstmConfig::hochreiter1997(2, 2, 1, 1).seed(3).build::<f64>().unwrap();
/// let mut rtrl = TruncatedRtrl::new(&net, 0.5).unwrap();
/// let x = DMatrix::from_fn(2, 6, |i, t| ((i + t) % 2) as f64);
/// let d = DMatrix::from_fn(1, 6, |_, t| (t % 2) as f64);
/// let first = rtrl.train_sequence(&mut net, &x, &d, None).unwrap();
/// for _ in 0..200 {
///     rtrl.train_sequence(&mut net, &x, &d, None).unwrap();
/// }
/// assert!(rtrl.train_sequence(&mut net, &x, &d, None).unwrap() < first);
/// ```
#[derive(Debug, Clone)]
pub struct TruncatedRtrl<T: Real> {
    config: LstmConfig,
    lr: T,
    accumulate: bool,
    dims: Dims,
    f: Activation,
    g: Activation,
    h: Activation,
    fo: Activation,
    /// Parameter offsets.
    w_x: usize,
    w_h: usize,
    /// The bias of row k is at `bias.0 + k − bias.1` for `bias.1 ≤ k < bias.1 + bias.2`.
    bias: Option<(usize, usize, usize)>,
    head_w: usize,
    head_shortcut: Option<usize>,
    head_bias: Option<usize>,
    num_params: usize,
    /// s(t), `C`; s(t−1) during a step.
    s: Vec<T>,
    s_prev: Vec<T>,
    /// r(t), `H_s`.
    r: Vec<T>,
    /// v(t) = [x(t); r(t−1); 1], `V`.
    v: Vec<T>,
    /// Activations of the rows: g(net_c) in the cell rows, the gates after, `R`.
    a: Vec<T>,
    /// h(s_c(t)), `C`.
    hs: Vec<T>,
    /// Outputs y_k(t), `O`, and their δ_k.
    y: Vec<T>,
    dk: Vec<T>,
    /// e_s,c, `C`; δ_out, `nb`.
    es: Vec<T>,
    d_out: Vec<T>,
    /// ∂s_c/∂w for the cell-input, input-gate and forget-gate rows of c: `C × V` each (row c
    /// at `c·V`).
    pc: Vec<T>,
    pin: Vec<T>,
    pf: Vec<T>,
    /// The summed gradient (accumulating mode).
    grad: Vec<T>,
    last_error: T,
}

#[derive(Debug, Clone, Copy)]
struct Dims {
    inputs: usize,
    blocks: usize,
    cpb: usize,
    cells: usize,
    rows: usize,
    sources: usize,
    /// V = I + H_s + 1.
    width: usize,
    outputs: usize,
    forget: bool,
    gate_recurrence: bool,
}

impl Dims {
    fn in_row(&self) -> usize {
        self.cells
    }
    fn forget_row(&self) -> usize {
        self.cells + self.blocks
    }
    fn out_row(&self) -> usize {
        self.cells + self.blocks * (1 + self.forget as usize)
    }
}

/// Where the gradient of one step goes: summed, or straight into the weights.
enum Sink<'a, T> {
    Sum(&'a mut [T]),
    Update(&'a mut [T], T),
}

impl<T: Real> Sink<'_, T> {
    #[inline]
    fn add(&mut self, i: usize, g: T) {
        match self {
            Sink::Sum(grad) => grad[i] += g,
            Sink::Update(params, lr) => params[i] -= *lr * g,
        }
    }
}

impl<T: Real> TruncatedRtrl<T> {
    /// A learner for `net` with learning rate η = `learning_rate`, changing the weights at
    /// every step with a target.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a learning rate that is not finite and ≥ 0, or a network
    /// that is not one layer with a head read at every step and without peepholes.
    pub fn new(net: &Lstm<T>, learning_rate: f64) -> Result<Self> {
        if !(learning_rate.is_finite() && learning_rate >= 0.0) {
            return Err(Error::config("truncated RTRL learning rate", "finite and ≥ 0", learning_rate));
        }
        let config = net.config().clone();
        if config.blocks.len() != 1 {
            return Err(Error::config(
                "layers for truncated RTRL",
                "a single layer of memory blocks",
                format!("{} layers", config.blocks.len()),
            ));
        }
        let Some(head) = config.head else {
            return Err(Error::config("head for truncated RTRL", "an output head read at every step", "no head"));
        };
        if head.readout != Readout::EveryStep {
            return Err(Error::config("readout for truncated RTRL", "every step", "the last step only"));
        }
        if config.peepholes {
            return Err(Error::config("peepholes for truncated RTRL", "none (not supported)", "peepholes"));
        }
        let geometry = Geometry::of(&config)?;
        let layer = geometry.top().clone();
        let hs = geometry.head.clone().expect("the configuration has a head");
        let dims = Dims {
            inputs: layer.inputs,
            blocks: layer.blocks,
            cpb: layer.cells_per_block,
            cells: layer.cells(),
            rows: layer.rows(),
            sources: layer.sources(),
            width: layer.inputs + layer.sources() + 1,
            outputs: hs.outputs,
            forget: layer.forget,
            gate_recurrence: layer.gate_recurrence,
        };
        let (c, v) = (dims.cells, dims.width);
        let alloc = |n: usize, what: &str| rnn_core::alloc::try_filled(what, n, T::zero());
        let cv = rnn_core::alloc::checked_size("truncated RTRL partials", c, v)?;
        Ok(Self {
            lr: T::of_f64(learning_rate),
            accumulate: false,
            f: config.gate_activation,
            g: config.cell_input_activation,
            h: config.cell_output_activation,
            fo: head.activation,
            w_x: layer.w_x.start,
            w_h: layer.w_h.start,
            bias: layer.bias.as_ref().map(|(range, row0)| (range.start, *row0, range.len())),
            head_w: hs.w.start,
            head_shortcut: hs.shortcut.as_ref().map(|r| r.start),
            head_bias: hs.bias.as_ref().map(|r| r.start),
            num_params: geometry.layout.len(),
            s: alloc(c, "truncated RTRL cell states")?,
            s_prev: alloc(c, "truncated RTRL cell states")?,
            r: alloc(dims.sources, "truncated RTRL recurrent sources")?,
            v: alloc(v, "truncated RTRL sources")?,
            a: alloc(dims.rows, "truncated RTRL activations")?,
            hs: alloc(c, "truncated RTRL cell outputs")?,
            y: alloc(dims.outputs, "truncated RTRL outputs")?,
            dk: alloc(dims.outputs, "truncated RTRL output errors")?,
            es: alloc(c, "truncated RTRL state errors")?,
            d_out: alloc(dims.blocks, "truncated RTRL output-gate errors")?,
            pc: alloc(cv, "truncated RTRL partials")?,
            pin: alloc(cv, "truncated RTRL partials")?,
            pf: alloc(if dims.forget { cv } else { 0 }, "truncated RTRL partials")?,
            grad: alloc(geometry.layout.len(), "truncated RTRL gradient")?,
            last_error: T::zero(),
            dims,
            config,
        })
    }

    /// Only sums the gradient (in [`gradient`](Self::gradient)) instead of changing the
    /// weights (`true`), or changes them at every step (`false`, the default).
    pub fn accumulating(mut self, on: bool) -> Self {
        self.accumulate = on;
        self
    }

    /// Whether the learner only sums the gradient.
    pub fn is_accumulating(&self) -> bool {
        self.accumulate
    }

    /// The learning rate η.
    pub fn learning_rate(&self) -> T {
        self.lr
    }

    /// Sets the learning rate η (e.g. for a decay schedule).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless it is finite and ≥ 0.
    pub fn set_learning_rate(&mut self, learning_rate: f64) -> Result<()> {
        if !(learning_rate.is_finite() && learning_rate >= 0.0) {
            return Err(Error::config("truncated RTRL learning rate", "finite and ≥ 0", learning_rate));
        }
        self.lr = T::of_f64(learning_rate);
        Ok(())
    }

    /// Zeroes the state (s and r) and the carried partials: the start of a sequence.
    pub fn reset(&mut self) {
        for buf in [&mut self.s, &mut self.s_prev, &mut self.r, &mut self.pc, &mut self.pin, &mut self.pf] {
            buf.fill(T::zero());
        }
    }

    /// The gradient summed since the last [`zero_gradient`](Self::zero_gradient) (only in the
    /// accumulating mode; zero otherwise), laid out as the network's parameters.
    pub fn gradient(&self) -> &[T] {
        &self.grad
    }

    /// Zeroes the summed gradient.
    pub fn zero_gradient(&mut self) {
        self.grad.fill(T::zero());
    }

    /// The cell states s(t) after the last step.
    pub fn cell_states(&self) -> &[T] {
        &self.s
    }

    /// E(t) = ½ Σ_k (y_k − d_k)² of the last step (0 without a target).
    pub fn last_error(&self) -> T {
        self.last_error
    }

    /// One time step from the carried state: the forward pass with the current weights, then,
    /// if `target` is given, the error, its truncated gradient and (unless accumulating) the
    /// weight change. Returns the outputs y(t), computed before the change.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `net` is not the network the learner was made for (its
    /// configuration), [`Error::DimensionMismatch`] for an input or target of the wrong width,
    /// [`Error::NonFinite`] for a non-finite input or target, or if the outputs or cell states
    /// overflow. The weights change only after every check has passed.
    pub fn step<'a>(&'a mut self, net: &mut Lstm<T>, x: &[T], target: Option<&[T]>) -> Result<&'a [T]> {
        self.step_masked(net, x, target, None)
    }

    fn check_net(&self, net: &Lstm<T>) -> Result<()> {
        if net.config() != &self.config {
            return Err(Error::config(
                "network for truncated RTRL",
                "the configuration the learner was made for",
                "another configuration",
            ));
        }
        check_dim("LSTM parameters", self.num_params, net.params().len())
    }

    /// [`step`](Self::step) with `present[k]` saying whether output k has a target.
    fn step_masked(
        &mut self,
        net: &mut Lstm<T>,
        x: &[T],
        target: Option<&[T]>,
        present: Option<&[bool]>,
    ) -> Result<&[T]> {
        self.check_net(net)?;
        let d = self.dims;
        check_dim("truncated RTRL input width", d.inputs, x.len())?;
        check_finite("truncated RTRL input", x)?;
        if let Some(t) = target {
            check_dim("truncated RTRL target width", d.outputs, t.len())?;
            check_finite("truncated RTRL target", t)?;
        }
        self.forward(net.params(), x);
        check_finite("truncated RTRL outputs", &self.y)?;
        check_finite("truncated RTRL cell states", &self.s)?;
        self.last_error = T::zero();
        let Some(t) = target else { return Ok(&self.y) };
        let half = T::of_f64(0.5);
        for k in 0..d.outputs {
            if present.is_some_and(|p| !p[k]) {
                self.dk[k] = T::zero();
                continue;
            }
            let e = self.y[k] - t[k];
            self.last_error += half * e * e;
            self.dk[k] = e * self.fo.derivative_from_output(self.y[k]);
        }
        // The errors come from the weights before the change.
        self.errors(net.params());
        if self.accumulate {
            let mut grad = std::mem::take(&mut self.grad);
            self.gradient_into(x, &mut Sink::Sum(&mut grad));
            self.grad = grad;
        } else {
            let lr = self.lr;
            self.gradient_into(x, &mut Sink::Update(net.params_mut(), lr));
        }
        Ok(&self.y)
    }

    /// The forward pass of one step from the carried state, updating the partials.
    fn forward(&mut self, p: &[T], x: &[T]) {
        let d = self.dims;
        let (c, rr, hsn, vw) = (d.cells, d.rows, d.sources, d.width);
        self.v[..d.inputs].copy_from_slice(x);
        self.v[d.inputs..d.inputs + hsn].copy_from_slice(&self.r);
        self.v[vw - 1] = T::one();
        let a = &mut self.a;
        a.fill(T::zero());
        for (m, &vm) in self.v[..d.inputs].iter().enumerate() {
            let col = &p[self.w_x + m * rr..self.w_x + (m + 1) * rr];
            a.iter_mut().zip(col).for_each(|(z, &w)| *z += w * vm);
        }
        for (m, &vm) in self.v[d.inputs..d.inputs + hsn].iter().enumerate() {
            let col = &p[self.w_h + m * rr..self.w_h + (m + 1) * rr];
            a.iter_mut().zip(col).for_each(|(z, &w)| *z += w * vm);
        }
        if let Some((start, row0, len)) = self.bias {
            a[row0..row0 + len].iter_mut().zip(&p[start..start + len]).for_each(|(z, &b)| *z += b);
        }
        let (in_row, f_row, out_row) = (d.in_row(), d.forget_row(), d.out_row());
        for z in &mut a[in_row..] {
            *z = self.f.apply(*z);
        }
        for z in &mut a[..c] {
            *z = self.g.apply(*z);
        }
        std::mem::swap(&mut self.s, &mut self.s_prev);
        let v = &self.v;
        for j in 0..d.blocks {
            let y_in = a[in_row + j];
            let (y_f, df) = if d.forget {
                (a[f_row + j], self.f.derivative_from_output(a[f_row + j]))
            } else {
                (T::one(), T::zero())
            };
            let din = self.f.derivative_from_output(y_in);
            let y_out = a[out_row + j];
            for k in j * d.cpb..(j + 1) * d.cpb {
                let ps = self.s_prev[k];
                let gc = a[k];
                self.s[k] = y_f * ps + y_in * gc;
                let h = self.h.apply(self.s[k]);
                self.hs[k] = h;
                self.r[k] = y_out * h;
                let (cc, ci) = (self.g.derivative_from_output(gc) * y_in, gc * din);
                let row = k * vw..(k + 1) * vw;
                for (q, &vm) in self.pc[row.clone()].iter_mut().zip(v) {
                    *q = y_f * *q + cc * vm;
                }
                for (q, &vm) in self.pin[row.clone()].iter_mut().zip(v) {
                    *q = y_f * *q + ci * vm;
                }
                if d.forget {
                    let cf = ps * df;
                    for (q, &vm) in self.pf[row].iter_mut().zip(v) {
                        *q = y_f * *q + cf * vm;
                    }
                }
            }
        }
        if d.gate_recurrence {
            self.r[c..].copy_from_slice(&a[c..]);
        }
        // The head.
        let o = d.outputs;
        self.y.fill(T::zero());
        for m in 0..c {
            let ym = self.r[m];
            let col = &p[self.head_w + m * o..self.head_w + (m + 1) * o];
            self.y.iter_mut().zip(col).for_each(|(y, &w)| *y += w * ym);
        }
        if let Some(start) = self.head_shortcut {
            for (i, &xi) in x.iter().enumerate() {
                let col = &p[start + i * o..start + (i + 1) * o];
                self.y.iter_mut().zip(col).for_each(|(y, &w)| *y += w * xi);
            }
        }
        if let Some(start) = self.head_bias {
            self.y.iter_mut().zip(&p[start..start + o]).for_each(|(y, &b)| *y += b);
        }
        for y in &mut self.y {
            *y = self.fo.apply(*y);
        }
    }

    /// e_s,c and δ_out from δ_k, with the head weights of the step.
    fn errors(&mut self, p: &[T]) {
        let d = self.dims;
        let o = d.outputs;
        let out_row = d.out_row();
        for j in 0..d.blocks {
            let y_out = self.a[out_row + j];
            let mut acc = T::zero();
            for k in j * d.cpb..(j + 1) * d.cpb {
                let col = &p[self.head_w + k * o..self.head_w + (k + 1) * o];
                let e_c = col.iter().zip(&self.dk).fold(T::zero(), |s, (&w, &dk)| s + w * dk);
                acc += e_c * self.hs[k];
                self.es[k] = e_c * y_out * self.h.derivative_from_output(self.hs[k]);
            }
            self.d_out[j] = acc * self.f.derivative_from_output(y_out);
        }
    }

    /// Sends ∂E(t)/∂w of every weight to `sink` (the errors already computed).
    fn gradient_into(&self, x: &[T], sink: &mut Sink<'_, T>) {
        let d = self.dims;
        let (c, o, rr, vw) = (d.cells, d.outputs, d.rows, d.width);
        // The head.
        for m in 0..c {
            let ym = self.r[m];
            for k in 0..o {
                sink.add(self.head_w + m * o + k, self.dk[k] * ym);
            }
        }
        if let Some(start) = self.head_shortcut {
            for (i, &xi) in x.iter().enumerate() {
                for k in 0..o {
                    sink.add(start + i * o + k, self.dk[k] * xi);
                }
            }
        }
        if let Some(start) = self.head_bias {
            for k in 0..o {
                sink.add(start + k, self.dk[k]);
            }
        }
        // Row `row` of the layer gets g_m for its sources m.
        let (w_x, w_h, bias, inputs, hsn) = (self.w_x, self.w_h, self.bias, d.inputs, d.sources);
        let add_row = |sink: &mut Sink<'_, T>, row: usize, g: &dyn Fn(usize) -> T| {
            for m in 0..inputs {
                sink.add(w_x + m * rr + row, g(m));
            }
            for m in 0..hsn {
                sink.add(w_h + m * rr + row, g(inputs + m));
            }
            if let Some((start, row0, len)) = bias
                && (row0..row0 + len).contains(&row)
            {
                sink.add(start + row - row0, g(vw - 1));
            }
        };
        let (in_row, f_row, out_row) = (d.in_row(), d.forget_row(), d.out_row());
        for j in 0..d.blocks {
            let cells = j * d.cpb..(j + 1) * d.cpb;
            for k in cells.clone() {
                let e = self.es[k];
                let pc = &self.pc[k * vw..(k + 1) * vw];
                add_row(sink, k, &|m| e * pc[m]);
            }
            let sum_over =
                |part: &[T], m: usize| cells.clone().fold(T::zero(), |s, k| s + self.es[k] * part[k * vw + m]);
            add_row(sink, in_row + j, &|m| sum_over(&self.pin, m));
            if d.forget {
                add_row(sink, f_row + j, &|m| sum_over(&self.pf, m));
            }
            let dout = self.d_out[j];
            add_row(sink, out_row + j, &|m| dout * self.v[m]);
        }
    }

    /// One sequence from the zero state: [`reset`](Self::reset), then a [`step`](Self::step) per
    /// column of `inputs` (`I × T`) with the column of `targets` (`O × T`) as its target.
    /// `present` (`1 × T`, or `O × T` for single outputs) says which targets exist; without it
    /// every one does. Returns the summed error Σ_t E(t). The accumulated gradient is not
    /// zeroed first (see [`zero_gradient`](Self::zero_gradient)).
    ///
    /// # Errors
    /// As [`step`](Self::step), [`Error::DimensionMismatch`] if the matrices do not fit each
    /// other, and [`Error::Empty`] for a sequence of no step. A failing step leaves the weights
    /// as the steps before it left them.
    pub fn train_sequence(
        &mut self,
        net: &mut Lstm<T>,
        inputs: &DMatrix<T>,
        targets: &DMatrix<T>,
        present: Option<&DMatrix<bool>>,
    ) -> Result<T> {
        self.check_net(net)?;
        let steps = inputs.ncols();
        if steps == 0 {
            return Err(Error::empty("truncated RTRL input sequence", 1));
        }
        check_dim("truncated RTRL input width", self.dims.inputs, inputs.nrows())?;
        check_dim("truncated RTRL target width", self.dims.outputs, targets.nrows())?;
        check_dim("truncated RTRL target steps", steps, targets.ncols())?;
        if let Some(p) = present {
            if p.nrows() != 1 {
                check_dim("truncated RTRL target mask rows (1 or the outputs)", self.dims.outputs, p.nrows())?;
            }
            check_dim("truncated RTRL target mask steps", steps, p.ncols())?;
        }
        self.reset();
        let mut total = T::zero();
        let mut mask = vec![true; self.dims.outputs];
        for t in 0..steps {
            let x = inputs.column(t);
            let d = targets.column(t);
            let (target, m) = match present {
                None => (Some(d.as_slice()), None),
                Some(p) if p.nrows() == 1 => (p[(0, t)].then_some(d.as_slice()), None),
                Some(p) => {
                    mask.iter_mut().zip(p.column(t).iter()).for_each(|(m, &b)| *m = b);
                    (mask.iter().any(|&b| b).then_some(d.as_slice()), Some(&mask[..]))
                }
            };
            self.step_masked(net, x.as_slice(), target, m)?;
            total += self.last_error;
        }
        Ok(total)
    }
}
