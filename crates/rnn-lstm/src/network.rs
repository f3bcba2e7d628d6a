//! The LSTM network: layers of memory blocks, an optional output head, its parameters, and the
//! forward and backward passes over a batch.

use nalgebra::DMatrix;
use rnn_core::linalg::{Op, Threads};
use rnn_core::{
    Activation, Differentiable, Error, Loss, ParamLayout, Parameters, Persist, Real, Result, SeqBatch, SequenceModel,
    error::{check_dim, check_finite},
    init, rng,
};
use serde::{Deserialize, Serialize};

use crate::config::{LstmConfig, Readout, WeightInit};
use crate::geometry::Geometry;
use crate::kernels::{Mat, add_row_sums, check_finite_par, checked_copy_par, mm};
use crate::layer::{self, BackWork, Squash, Tape};
use crate::state::LstmState;

/// A long short-term memory network (Hochreiter & Schmidhuber 1997): one or more layers of
/// memory blocks, each block S cells sharing an input gate, an optional forget gate and an
/// output gate, and an optional output layer. See [`LstmConfig`] for the equations and the
/// options.
///
/// Batches are time-major, as everywhere in this workspace: column t·B + b of a
/// [`SeqBatch`] is step t of sequence b. Sequences shorter than the batch are padding from
/// their length on; padding changes neither the loss nor the gradient, and each sequence's
/// final state is its own last real step.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::{Differentiable, Loss, Parameters, SeqBatch};
/// use rnn_lstm::{Head, LstmConfig};
/// let mut net = LstmConfig::new(2, 3, 2).head(Head::new(1)).seed(1).build::<f64>().unwrap();
/// let x = DMatrix::from_fn(2, 5, |i, t| (i + t) as f64 * 0.1);
/// let y = DMatrix::from_fn(1, 5, |_, t| t as f64 * 0.2);
/// let batch = SeqBatch::new(x, Some(y), 5, 1).unwrap();
/// let mut grad = vec![0.0; net.num_params()];
/// let loss = net.loss_and_gradient(&batch, Loss::Mse, &mut grad).unwrap();
/// assert!(loss > 0.0 && grad.iter().any(|&g| g != 0.0));
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound = "", try_from = "RawLstm<T>")]
pub struct Lstm<T: Real> {
    config: LstmConfig,
    params: Vec<T>,
    /// Sizes and parameter ranges, derived from `config` (rebuilt on deserialisation).
    #[serde(skip)]
    geometry: Geometry,
    #[serde(skip)]
    work: Work<T>,
}

/// The configuration and the number of parameters (not every weight).
impl<T: Real> std::fmt::Debug for Lstm<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lstm").field("config", &self.config).field("num_params", &self.params.len()).finish()
    }
}

#[derive(Deserialize)]
#[serde(bound = "")]
struct RawLstm<T: Real> {
    config: LstmConfig,
    params: Vec<T>,
}

impl<T: Real> TryFrom<RawLstm<T>> for Lstm<T> {
    type Error = Error;

    fn try_from(raw: RawLstm<T>) -> Result<Self> {
        raw.config.validate_in::<T>()?;
        let geometry = Geometry::of(&raw.config)?;
        check_dim("LSTM parameters", geometry.layout.len(), raw.params.len())?;
        check_finite("LSTM parameters", &raw.params)?;
        Ok(Self { config: raw.config, params: raw.params, geometry, work: Work::default() })
    }
}

/// The targets the outputs are compared with, and which of their columns count.
type Targets<'a, T> = (std::borrow::Cow<'a, DMatrix<T>>, Option<&'a [bool]>);

/// Buffers of the last batch, kept for the next. A cache: cloning starts it empty, and `Debug`
/// does not print it.
struct Work<T> {
    tapes: Vec<Tape<T>>,
    back: BackWork<T>,
    /// ∂E/∂y_c of each layer, `C × TB`.
    dy: Vec<Vec<T>>,
    /// The top layer's cells read by the head, gathered (last-step readout), `C × n`.
    y_sel: Vec<T>,
    /// The inputs read by the head's shortcut, gathered, `I × n`.
    x_sel: Vec<T>,
    /// The outputs of a gradient pass and ∂L/∂outputs, kept from pass to pass: a fresh buffer of
    /// this size comes from `mmap` and costs its page faults and zeroing at every step.
    out: DMatrix<T>,
    d_out: DMatrix<T>,
}

impl<T: Real> Default for Work<T> {
    fn default() -> Self {
        Self {
            tapes: Vec::new(),
            back: BackWork::default(),
            dy: Vec::new(),
            y_sel: Vec::new(),
            x_sel: Vec::new(),
            out: DMatrix::from_vec(0, 0, Vec::new()),
            d_out: DMatrix::from_vec(0, 0, Vec::new()),
        }
    }
}

impl<T: Real> Clone for Work<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T> std::fmt::Debug for Work<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Work { .. }")
    }
}

impl<T: Real> Lstm<T> {
    /// Builds the network of `config`, drawing its weights (see [`LstmConfig::build`]).
    ///
    /// # Errors
    /// As [`LstmConfig::build`].
    pub fn new(config: LstmConfig) -> Result<Self> {
        config.validate_in::<T>()?;
        let geometry = Geometry::of(&config)?;
        let params = rnn_core::alloc::try_filled("LSTM parameters", geometry.layout.len(), T::zero())?;
        let mut net = Self { config, params, geometry, work: Work::default() };
        net.initialize()?;
        Ok(net)
    }

    /// Draws every weight again from the configuration's seed and initial biases.
    fn initialize(&mut self) -> Result<()> {
        let mut rng = rng::seeded(self.config.seed);
        let geometry = &self.geometry;
        for (l, layer) in geometry.layers.iter().enumerate() {
            let limit = match self.config.init {
                WeightInit::Uniform(limit) => limit,
                WeightInit::Torch => 1.0 / (layer.cells() as f64).sqrt(),
            };
            let end = layer.peep.as_ref().map_or(layer.bias.as_ref().map_or(layer.w_h.end, |b| b.0.end), |p| p.end);
            init::uniform(&mut self.params[layer.w_x.start..end], limit, &mut rng)?;
            let layout = &geometry.layout;
            for (name, bias) in [
                ("input", self.config.input_gate_bias),
                ("forget", self.config.forget_gate_bias),
                ("output", self.config.output_gate_bias),
            ] {
                if let (Some(bias), Ok(block)) = (bias, layout.block(&format!("layer{l}.bias.{name}"))) {
                    for (j, v) in self.params[block.range()].iter_mut().enumerate() {
                        *v = T::of_f64(bias.value(j));
                    }
                }
            }
        }
        if let Some(head) = &geometry.head {
            let limit = match self.config.init {
                WeightInit::Uniform(limit) => limit,
                WeightInit::Torch => 1.0 / (geometry.top().cells() as f64).sqrt(),
            };
            let end = head.bias.as_ref().or(head.shortcut.as_ref()).map_or(head.w.end, |r| r.end);
            init::uniform(&mut self.params[head.w.start..end], limit, &mut rng)?;
        }
        Ok(())
    }

    fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    /// The configuration the network was built from.
    pub fn config(&self) -> &LstmConfig {
        &self.config
    }

    /// The number of layers.
    pub fn num_layers(&self) -> usize {
        self.config.blocks.len()
    }

    /// The cells of the top layer (the output width without a head).
    pub fn num_cells(&self) -> usize {
        self.geometry().top().cells()
    }

    /// A zero state for `batch` sequences: the state before any input.
    pub fn zero_state(&self, batch: usize) -> LstmState<T> {
        let layers = &self.geometry().layers;
        LstmState {
            cells: layers.iter().map(|l| DMatrix::zeros(l.cells(), batch)).collect(),
            sources: layers.iter().map(|l| DMatrix::zeros(l.sources(), batch)).collect(),
        }
    }

    /// Runs one sequence (`I × T`, one column per step) from the zero state; returns its
    /// outputs, `O × T` (or `O × 1` with a last-step readout).
    ///
    /// # Errors
    /// As [`SequenceModel::forward`].
    pub fn run(&mut self, inputs: &DMatrix<T>) -> Result<DMatrix<T>> {
        let steps = inputs.ncols();
        let batch = SeqBatch::new(inputs.clone(), None, steps, 1)?;
        self.forward(&batch)
    }

    /// Runs `batch` from `state` and leaves in `state` each sequence's state after its last real
    /// step: a stateful LSTM, fed a stream in pieces.
    ///
    /// # Errors
    /// As [`SequenceModel::forward`], and [`Error::DimensionMismatch`] if `state` is not for
    /// this network and the batch's number of sequences.
    pub fn forward_from(&mut self, batch: &SeqBatch<T>, state: &mut LstmState<T>) -> Result<DMatrix<T>> {
        self.check_state(state, batch.batch_size())?;
        self.check_batch(batch)?;
        self.forward_pass(batch, Some(state))?;
        let out = self.checked_outputs(batch)?;
        self.write_state(batch, state)?;
        Ok(out)
    }

    /// The loss of `batch` started from `state` and its gradient, the state being a constant
    /// (one window of truncated BPTT); leaves in `state` the state after the batch. `grad` is
    /// overwritten.
    ///
    /// # Errors
    /// As [`Differentiable::loss_and_gradient`], and [`Error::DimensionMismatch`] if `state`
    /// does not fit.
    pub fn loss_and_gradient_from(
        &mut self,
        batch: &SeqBatch<T>,
        loss: Loss,
        grad: &mut [T],
        state: &mut LstmState<T>,
    ) -> Result<T> {
        self.check_state(state, batch.batch_size())?;
        let value = self.gradient_pass(batch, loss, grad, Some(state))?;
        self.write_state(batch, state)?;
        Ok(value)
    }

    fn check_state(&self, state: &LstmState<T>, batch: usize) -> Result<()> {
        let layers = &self.geometry().layers;
        check_dim("state layers", layers.len(), state.cells.len())?;
        check_dim("state layers", layers.len(), state.sources.len())?;
        for (l, layer) in layers.iter().enumerate() {
            check_dim(&format!("cell states of layer {l}"), layer.cells(), state.cells[l].nrows())?;
            check_dim(&format!("recurrent sources of layer {l}"), layer.sources(), state.sources[l].nrows())?;
            let what = format!("sequences in the state of layer {l} (expected: the batch's)");
            check_dim(&what, batch, state.cells[l].ncols())?;
            check_dim(&what, batch, state.sources[l].ncols())?;
            check_finite(&format!("cell states of layer {l}"), state.cells[l].as_slice())?;
            check_finite(&format!("recurrent sources of layer {l}"), state.sources[l].as_slice())?;
        }
        Ok(())
    }

    fn check_batch(&self, batch: &SeqBatch<T>) -> Result<()> {
        check_dim("LSTM input width", self.config.inputs, batch.input_size())?;
        if self.readout() == Readout::LastStep
            && let Some(b) = batch.lengths().iter().position(|&len| len == 0)
        {
            return Err(Error::config(
                format!("length of sequence {b} of the batch"),
                "at least 1 step for a last-step readout",
                0,
            ));
        }
        check_finite_par("LSTM parameters", &self.params)
    }

    fn squash(&self) -> Squash {
        Squash {
            f: self.config.gate_activation,
            g: self.config.cell_input_activation,
            h: self.config.cell_output_activation,
        }
    }

    /// The forward pass over every layer, from `state` or zero; the tapes hold the result.
    /// [`Error::NonFinite`] if a net input overflowed (the gates' squashing would hide it).
    fn forward_pass(&mut self, batch: &SeqBatch<T>, state: Option<&LstmState<T>>) -> Result<()> {
        let geometry = &self.geometry;
        let (steps, b) = (batch.steps(), batch.batch_size());
        let lengths = batch.lengths();
        let sq = self.squash();
        let tapes = &mut self.work.tapes;
        tapes.resize_with(geometry.layers.len(), Tape::default);
        for (l, layer) in geometry.layers.iter().enumerate() {
            let (below, rest) = tapes.split_at_mut(l);
            let tape = &mut rest[0];
            match state {
                Some(st) => {
                    tape.s0.clear();
                    tape.s0.extend_from_slice(st.cells[l].as_slice());
                    tape.r0.clear();
                    tape.r0.extend_from_slice(st.sources[l].as_slice());
                }
                None => {
                    tape.s0.clear();
                    tape.s0.resize(layer.cells() * b, T::zero());
                    tape.r0.clear();
                    tape.r0.resize(layer.sources() * b, T::zero());
                }
            }
            let x = if l == 0 {
                Mat::dense(batch.inputs().as_slice(), layer.inputs, steps * b)
            } else {
                let prev = &geometry.layers[l - 1];
                Mat { data: &below[l - 1].r, rows: prev.cells(), cols: steps * b, stride: prev.sources() }
            };
            if let Some(col) = layer::forward(layer, &self.params, sq, x, steps, lengths, tape) {
                return Err(Error::NonFinite {
                    what: format!(
                        "LSTM net inputs of layer {l} at column t·B + b (a weighted sum overflowed; \
                         the weights or inputs are too large)"
                    ),
                    index: col,
                    value: f64::INFINITY,
                });
            }
        }
        Ok(())
    }

    /// Copies each sequence's final state (its last real step) into `state`, or returns
    /// [`Error::NonFinite`] and leaves `state` alone if it overflowed.
    fn write_state(&self, batch: &SeqBatch<T>, state: &mut LstmState<T>) -> Result<()> {
        let (steps, b) = (batch.steps(), batch.batch_size());
        let last = (steps - 1) * b;
        let finals = |l: usize| {
            let (tape, layer) = (&self.work.tapes[l], &self.geometry().layers[l]);
            let (c, h) = (layer.cells(), layer.sources());
            (&tape.s[last * c..(last + b) * c], &tape.r[last * h..(last + b) * h])
        };
        for l in 0..self.num_layers() {
            let (s, r) = finals(l);
            check_finite(&format!("final cell states of layer {l}"), s)?;
            check_finite(&format!("final recurrent sources of layer {l}"), r)?;
        }
        for l in 0..self.num_layers() {
            let (s, r) = finals(l);
            state.cells[l].as_mut_slice().copy_from_slice(s);
            state.sources[l].as_mut_slice().copy_from_slice(r);
        }
        Ok(())
    }

    /// The outputs of the last forward pass, or [`Error::NonFinite`] if they overflowed.
    fn checked_outputs(&mut self, batch: &SeqBatch<T>) -> Result<DMatrix<T>> {
        let top = self.geometry.top();
        let (c, cols) = (top.cells(), batch.steps() * batch.batch_size());
        if self.outputs_are_the_record(batch) {
            // One copy, no zeroing first.
            let r_top = &self.work.tapes[self.geometry.layers.len() - 1].r[..c * cols];
            return Ok(DMatrix::from_vec(c, cols, checked_copy_par("LSTM outputs", r_top)?));
        }
        let mut out = DMatrix::from_vec(0, 0, Vec::new());
        self.outputs_into(batch, &mut out);
        check_finite("LSTM outputs", out.as_slice())?;
        Ok(out)
    }

    /// Whether the outputs of `batch` are exactly the top layer's recorded r (C × TB): no head, no
    /// gate recurrence (r is the cells alone), a readout at every step, and no padded step (whose
    /// record holds the frozen state where the outputs hold zeros, and which a mask may count).
    fn outputs_are_the_record(&self, batch: &SeqBatch<T>) -> bool {
        let top = self.geometry.top();
        self.geometry.head.is_none()
            && top.sources() == top.cells()
            && self.readout() == Readout::EveryStep
            && batch.lengths().iter().all(|&len| len == batch.steps())
    }

    /// The columns the outputs are read at: every column, or each sequence's last real step.
    fn readout(&self) -> Readout {
        self.config.head.map_or(Readout::EveryStep, |h| h.readout)
    }

    /// The outputs of the last forward pass, written over `out` (reshaped if it has another
    /// shape; every element written).
    fn outputs_into(&mut self, batch: &SeqBatch<T>, out: &mut DMatrix<T>) {
        let (steps, b) = (batch.steps(), batch.batch_size());
        let lengths = batch.lengths();
        let geometry = &self.geometry;
        let top = geometry.top();
        let (c, hs) = (top.cells(), top.sources());
        let r_top = &self.work.tapes[geometry.layers.len() - 1].r;
        let cols: Vec<usize> = match self.readout() {
            Readout::EveryStep => (0..steps * b).collect(),
            Readout::LastStep => (0..b).map(|k| (lengths[k] - 1) * b + k).collect(),
        };
        let n = cols.len();
        let o = geometry.head.as_ref().map_or(c, |head| head.outputs);
        if out.shape() != (o, n) {
            *out = DMatrix::zeros(o, n);
        }
        match &geometry.head {
            None => {
                for (col_out, &col) in out.as_mut_slice().chunks_exact_mut(c).zip(&cols) {
                    if col / b < lengths[col % b] {
                        col_out.copy_from_slice(&r_top[col * hs..col * hs + c]);
                    } else {
                        col_out.fill(T::zero());
                    }
                }
            }
            Some(head) => {
                let o = head.outputs;
                let y_sel = &mut self.work.y_sel;
                y_sel.clear();
                for &col in &cols {
                    y_sel.extend_from_slice(&r_top[col * hs..col * hs + c]);
                }
                let w = Mat::dense(&self.params[head.w.clone()], o, c);
                mm(Threads::Auto, T::zero(), out.as_mut_slice(), o, n, w, Op::N, Mat::dense(y_sel, c, n), Op::N);
                if let Some(range) = &head.shortcut {
                    let x_sel = &mut self.work.x_sel;
                    let ni = self.config.inputs;
                    x_sel.clear();
                    for &col in &cols {
                        x_sel.extend_from_slice(&batch.inputs().as_slice()[col * ni..(col + 1) * ni]);
                    }
                    let v = Mat::dense(&self.params[range.clone()], o, ni);
                    mm(Threads::Auto, T::one(), out.as_mut_slice(), o, n, v, Op::N, Mat::dense(x_sel, ni, n), Op::N);
                }
                let bias = head.bias.as_ref().map(|r| &self.params[r.clone()]);
                let f = self.config.head.map_or(Activation::Identity, |h| h.activation);
                for (j, column) in out.as_mut_slice().chunks_exact_mut(o).enumerate() {
                    if let Some(bias) = bias {
                        column.iter_mut().zip(bias).for_each(|(y, &bk)| *y += bk);
                    }
                    f.apply_slice(column);
                    let col = cols[j];
                    if col / b >= lengths[col % b] {
                        column.fill(T::zero());
                    }
                }
            }
        }
    }

    /// The targets the outputs are compared with, and which of their columns count.
    fn targets_for<'a>(&self, batch: &'a SeqBatch<T>) -> Result<Targets<'a, T>> {
        let targets = batch.require_targets()?;
        check_dim("LSTM target width", self.output_size(), targets.nrows())?;
        Ok(match self.readout() {
            Readout::EveryStep => (std::borrow::Cow::Borrowed(targets), batch.valid_mask()),
            Readout::LastStep => {
                let b = batch.batch_size();
                let lengths = batch.lengths();
                let picked = DMatrix::from_fn(targets.nrows(), b, |i, k| targets[(i, (lengths[k] - 1) * b + k)]);
                (std::borrow::Cow::Owned(picked), None)
            }
        })
    }

    /// Forward, loss and backward over `batch`; `grad` is overwritten with ∂L/∂θ.
    fn gradient_pass(
        &mut self,
        batch: &SeqBatch<T>,
        loss: Loss,
        grad: &mut [T],
        state: Option<&LstmState<T>>,
    ) -> Result<T> {
        check_dim("gradient length", self.params.len(), grad.len())?;
        self.check_batch(batch)?;
        let (targets, valid) = self.targets_for(batch)?;
        self.forward_pass(batch, state)?;
        let mut out = std::mem::replace(&mut self.work.out, DMatrix::from_vec(0, 0, Vec::new()));
        let mut d_out = std::mem::replace(&mut self.work.d_out, DMatrix::from_vec(0, 0, Vec::new()));
        let value = self.backprop(batch, loss, (&targets, valid), grad, &mut out, &mut d_out);
        // The buffers go back whatever the outcome.
        self.work.out = out;
        self.work.d_out = d_out;
        value
    }

    /// The loss of the last forward pass and its gradient by backpropagation, the outputs and
    /// their errors in `out` and `d_out` (reused from pass to pass).
    fn backprop(
        &mut self,
        batch: &SeqBatch<T>,
        loss: Loss,
        (targets, valid): (&DMatrix<T>, Option<&[bool]>),
        grad: &mut [T],
        out: &mut DMatrix<T>,
        d_out: &mut DMatrix<T>,
    ) -> Result<T> {
        let nl = self.geometry.layers.len();
        let c = self.geometry.top().cells();
        let cols = batch.steps() * batch.batch_size();
        self.work.dy.resize_with(nl, Vec::new);
        if self.outputs_are_the_record(batch) {
            // The loss reads the outputs in the record and writes its gradient straight into the layer's dy,
            // with no copy of either.
            let r_top = &self.work.tapes[nl - 1].r[..c * cols];
            check_finite_par("LSTM outputs", r_top)?;
            let mut dy = std::mem::take(&mut self.work.dy[nl - 1]);
            dy.resize(c * cols, T::zero());
            let mut d = DMatrix::from_vec(c, cols, dy);
            let value = loss.value_and_gradient(
                nalgebra::DMatrixView::from_slice(r_top, c, cols),
                targets.as_view(),
                valid,
                &mut d,
            );
            self.work.dy[nl - 1] = d.data.into();
            let value = value?;
            check_finite("LSTM loss", &[value])?;
            grad.fill(T::zero());
            self.backward_layers(batch, grad)?;
            return Ok(value);
        }
        self.outputs_into(batch, out);
        check_finite("LSTM outputs", out.as_slice())?;
        if d_out.shape() != out.shape() {
            *d_out = DMatrix::zeros(out.nrows(), out.ncols());
        }
        let value = loss.value_and_gradient(out.as_view(), targets.as_view(), valid, d_out)?;
        check_finite("LSTM loss", &[value])?;
        grad.fill(T::zero());
        let geometry = &self.geometry;
        let b = batch.batch_size();
        let lengths = batch.lengths();
        let readout = self.readout();
        let work = &mut self.work;
        {
            let dy = &mut work.dy[nl - 1];
            // Every element is written below (copied, a product with β = 0, or zeroed first).
            dy.resize(c * cols, T::zero());
            match &geometry.head {
                None => dy.copy_from_slice(d_out.as_slice()),
                Some(head) => {
                    let o = head.outputs;
                    let f = self.config.head.map_or(Activation::Identity, |h| h.activation);
                    f.backprop_slice(out.as_slice(), d_out.as_mut_slice());
                    let n = out.ncols();
                    let c = self.geometry.top().cells();
                    let d = Mat::dense(d_out.as_slice(), o, n);
                    let y_sel = Mat::dense(&work.y_sel, c, n);
                    mm(Threads::Auto, T::zero(), &mut grad[head.w.clone()], o, c, d, Op::N, y_sel, Op::T);
                    if let Some(range) = &head.shortcut {
                        let ni = self.config.inputs;
                        let x_sel = Mat::dense(&work.x_sel, ni, n);
                        mm(Threads::Auto, T::zero(), &mut grad[range.clone()], o, ni, d, Op::N, x_sel, Op::T);
                    }
                    if let Some(range) = &head.bias {
                        add_row_sums(&mut grad[range.clone()], d_out.as_slice(), o, 0);
                    }
                    let w = Mat::dense(&self.params[head.w.clone()], o, c);
                    match readout {
                        Readout::EveryStep => mm(Threads::Auto, T::zero(), dy, c, n, w, Op::T, d, Op::N),
                        Readout::LastStep => {
                            let mut picked = vec![T::zero(); c * n];
                            mm(Threads::Auto, T::zero(), &mut picked, c, n, w, Op::T, d, Op::N);
                            dy.fill(T::zero());
                            for k in 0..b {
                                let col = (lengths[k] - 1) * b + k;
                                dy[col * c..(col + 1) * c].copy_from_slice(&picked[k * c..(k + 1) * c]);
                            }
                        }
                    }
                }
            }
        }
        self.backward_layers(batch, grad)?;
        Ok(value)
    }

    /// The layers' backward passes, from ∂E/∂y_c of the top layer in its `dy`; adds to `grad`.
    fn backward_layers(&mut self, batch: &SeqBatch<T>, grad: &mut [T]) -> Result<()> {
        let geometry = &self.geometry;
        let (steps, b) = (batch.steps(), batch.batch_size());
        let (lengths, cols) = (batch.lengths(), steps * b);
        let sq = self.squash();
        let work = &mut self.work;
        for l in (0..geometry.layers.len()).rev() {
            let layer = &geometry.layers[l];
            let (below, rest) = work.dy.split_at_mut(l);
            let dy = &rest[0];
            let x = if l == 0 {
                Mat::dense(batch.inputs().as_slice(), layer.inputs, cols)
            } else {
                let prev = &geometry.layers[l - 1];
                Mat { data: &work.tapes[l - 1].r, rows: prev.cells(), cols, stride: prev.sources() }
            };
            let dx = if l > 0 {
                let d = &mut below[l - 1];
                d.clear();
                d.resize(layer.inputs * cols, T::zero());
                Some(&mut d[..])
            } else {
                None
            };
            layer::backward(layer, &self.params, sq, x, steps, lengths, &work.tapes[l], dy, &mut work.back, grad, dx);
        }
        check_finite_par("LSTM gradient", grad)
    }
}

impl<T: Real> Parameters<T> for Lstm<T> {
    fn layout(&self) -> &ParamLayout {
        &self.geometry().layout
    }

    fn params(&self) -> &[T] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [T] {
        &mut self.params
    }
}

impl<T: Real> SequenceModel<T> for Lstm<T> {
    fn input_size(&self) -> usize {
        self.config.inputs
    }

    fn output_size(&self) -> usize {
        self.config.head.map_or_else(|| self.num_cells(), |h| h.outputs)
    }

    /// Runs `batch` from the zero state: outputs `O × (T·B)` (every step, zero at padded steps)
    /// or `O × B` (last-step readout).
    fn forward(&mut self, batch: &SeqBatch<T>) -> Result<DMatrix<T>> {
        self.check_batch(batch)?;
        self.forward_pass(batch, None)?;
        self.checked_outputs(batch)
    }
}

impl<T: Real> Differentiable<T> for Lstm<T> {
    /// The loss over the batch and its full-BPTT gradient (overwriting `grad`).
    fn loss_and_gradient(&mut self, batch: &SeqBatch<T>, loss: Loss, grad: &mut [T]) -> Result<T> {
        self.gradient_pass(batch, loss, grad, None)
    }

    fn loss(&mut self, batch: &SeqBatch<T>, loss: Loss) -> Result<T> {
        self.check_batch(batch)?;
        let (targets, valid) = self.targets_for(batch)?;
        self.forward_pass(batch, None)?;
        let out = self.checked_outputs(batch)?;
        let value = loss.value(out.as_view(), targets.as_view(), valid)?;
        check_finite("LSTM loss", &[value])?;
        Ok(value)
    }
}

impl<T: Real> Persist for Lstm<T> {
    const KIND: &'static str = "rnn-lstm/lstm";

    fn scalar_name() -> &'static str {
        T::NAME
    }

    /// Checks the configuration, that the parameters fit its layout, and that they are finite.
    fn validate(&self) -> Result<()> {
        self.config.validate_in::<T>()?;
        check_dim("LSTM parameters", Geometry::of(&self.config)?.layout.len(), self.params.len())?;
        check_finite("LSTM parameters", &self.params)
    }
}
