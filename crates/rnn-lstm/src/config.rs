//! What an LSTM is made of: its layers of memory blocks, which of the optional parts it has
//! (forget gates, peepholes, recurrence from the gates, biases, an output head), its squashing
//! functions and how its weights start.

use rnn_core::{
    Activation, Error, Real, Result,
    activation::{check_finite_in, check_trainable},
};
use serde::{Deserialize, Serialize};

use crate::Lstm;

/// Where the output head reads the top layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Readout {
    /// An output at every step (sequence to sequence): outputs are `O × (T·B)`, compared with
    /// every valid target column.
    #[default]
    EveryStep,
    /// One output per sequence, at its own last real step (sequence to one): outputs are
    /// `O × B`, compared with each sequence's target column at that step.
    LastStep,
}

/// The output layer: y_k(t) = f(Σ_c w_kc y_c(t) + Σ_i v_ki x_i(t) + b_k), reading the cells of the
/// top layer (and, with a shortcut, the external input).
///
/// For a softmax output keep the identity here and train with
/// [`Loss::SoftmaxCrossEntropy`](rnn_core::Loss::SoftmaxCrossEntropy), which takes the outputs
/// as logits.
///
/// ```
/// use rnn_core::Activation;
/// use rnn_lstm::{Head, Readout};
/// let head = Head::new(7).activation(Activation::Logistic).bias(false);
/// assert_eq!(head.outputs, 7);
/// assert_eq!(head.readout, Readout::EveryStep);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// O, the number of output units.
    pub outputs: usize,
    /// f, applied to each output unit (identity for a linear or softmax head).
    pub activation: Activation,
    /// Whether each output unit has a bias.
    pub bias: bool,
    /// Whether the external input feeds the outputs directly (Gers et al. 2000).
    pub shortcut: bool,
    /// At every step or at the last one.
    pub readout: Readout,
}

impl Head {
    /// A linear head of `outputs` units with biases, read at every step.
    pub fn new(outputs: usize) -> Self {
        Self { outputs, activation: Activation::Identity, bias: true, shortcut: false, readout: Readout::EveryStep }
    }

    /// Sets the output activation.
    pub fn activation(mut self, f: Activation) -> Self {
        self.activation = f;
        self
    }

    /// Gives each output unit a bias or not.
    pub fn bias(mut self, on: bool) -> Self {
        self.bias = on;
        self
    }

    /// Connects the external input straight to the outputs or not.
    pub fn shortcut(mut self, on: bool) -> Self {
        self.shortcut = on;
        self
    }

    /// Sets where the head reads the top layer.
    pub fn readout(mut self, readout: Readout) -> Self {
        self.readout = readout;
        self
    }
}

/// Initial biases of one gate type: block j of a layer starts at `start + j·step`, the 1997
/// and 2000 papers' staggered gate biases (output gates −1, −2, −3, … is `start = −1,
/// step = −1`).
///
/// ```
/// use rnn_lstm::GateBias;
/// assert_eq!(GateBias::staggered(-1.0, -1.0).value(2), -3.0);
/// assert_eq!(GateBias::constant(1.0).value(5), 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GateBias {
    /// The bias of block 0.
    pub start: f64,
    /// The increment from one block to the next.
    pub step: f64,
}

impl GateBias {
    /// Block j starts at `start + j·step`.
    pub fn staggered(start: f64, step: f64) -> Self {
        Self { start, step }
    }

    /// Every block starts at `value`.
    pub fn constant(value: f64) -> Self {
        Self { start: value, step: 0.0 }
    }

    /// The initial bias of block `j`.
    pub fn value(&self, j: usize) -> f64 {
        self.start + j as f64 * self.step
    }
}

/// How the LSTM's weights are drawn before training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum WeightInit {
    /// Every weight and bias uniform in [−limit, limit] (the 1997 and 2000 experiments: 0.1 or
    /// 0.2).
    Uniform(f64),
    /// PyTorch's `nn.LSTM` default: uniform in [−1/√H, 1/√H] with H the layer's cell count.
    Torch,
}

/// The configuration of an [`Lstm`]: a builder, validated by [`build`](Self::build).
///
/// With C = blocks·S cells in a layer, block j's gates see the layer input x(t) and the
/// recurrent sources r(t−1) (the cell outputs, and with
/// [`gate_recurrence`](Self::gate_recurrence) the gate activations too):
///
/// - y_in(t) = f(net_in(t)), y_φ(t) = f(net_φ(t)) (forget gate, if present, else 1),
///   y_out(t) = f(net_out(t)), with net = W_x x(t) + W_h r(t−1) + b (+ peepholes: w·s(t−1) into
///   the input and forget gates, w·s(t) into the output gate);
/// - s_c(t) = y_φ(t) s_c(t−1) + y_in(t) g(net_c(t)) for each cell c of the block;
/// - y_c(t) = y_out(t) h(s_c(t)).
///
/// ```
/// use rnn_lstm::LstmConfig;
/// // PyTorch's nn.LSTM(input_size = 3, hidden_size = 8, num_layers = 2):
/// let net = LstmConfig::torch(3, 8, 2).seed(7).build::<f32>().unwrap();
/// assert_eq!(net.num_cells(), 8);
/// // The 1997 embedded-Reber network: 3 blocks of 2 cells, 7 inputs and outputs.
/// let reber = LstmConfig::hochreiter1997(7, 3, 2, 7).build::<f64>().unwrap();
/// assert_eq!(rnn_core::Parameters::num_params(&reber), 276);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LstmConfig {
    /// The number of external inputs.
    pub inputs: usize,
    /// Memory blocks in each layer, from the bottom.
    pub blocks: Vec<usize>,
    /// S, the cells of each block (sharing its gates).
    pub cells_per_block: usize,
    /// Whether each block has a forget gate (Gers et al. 2000); without, s(t) = s(t−1) + ….
    pub forget_gate: bool,
    /// Whether the cell states feed their block's gates (Gers & Schmidhuber 2000).
    pub peepholes: bool,
    /// Whether the gate activations, besides the cell outputs, are recurrent sources.
    pub gate_recurrence: bool,
    /// Whether each cell input has a bias.
    pub cell_bias: bool,
    /// Whether each gate has a bias.
    pub gate_bias: bool,
    /// f, the gates' activation.
    pub gate_activation: Activation,
    /// g, squashing the cell input.
    pub cell_input_activation: Activation,
    /// h, squashing the cell state.
    pub cell_output_activation: Activation,
    /// The output layer, or none: then the outputs are the top layer's cells, as in `nn.LSTM`.
    pub head: Option<Head>,
    /// How the weights start.
    pub init: WeightInit,
    /// Initial input-gate biases (drawn like the weights if `None`).
    pub input_gate_bias: Option<GateBias>,
    /// Initial forget-gate biases (drawn like the weights if `None`).
    pub forget_gate_bias: Option<GateBias>,
    /// Initial output-gate biases (drawn like the weights if `None`).
    pub output_gate_bias: Option<GateBias>,
    /// The seed of the initial weights.
    pub seed: u64,
}

impl LstmConfig {
    /// One layer of `blocks` blocks of `cells_per_block` cells, in the modern form: forget gates,
    /// logistic gates, g = h = tanh, every gate and cell biased, recurrence from the cells only, no
    /// peepholes, no head, PyTorch's initialisation, seed 0.
    pub fn new(inputs: usize, blocks: usize, cells_per_block: usize) -> Self {
        Self {
            inputs,
            blocks: vec![blocks],
            cells_per_block,
            forget_gate: true,
            peepholes: false,
            gate_recurrence: false,
            cell_bias: true,
            gate_bias: true,
            gate_activation: Activation::Logistic,
            cell_input_activation: Activation::Tanh,
            cell_output_activation: Activation::Tanh,
            head: None,
            init: WeightInit::Torch,
            input_gate_bias: None,
            forget_gate_bias: None,
            output_gate_bias: None,
            seed: 0,
        }
    }

    /// PyTorch's `nn.LSTM(inputs, hidden, layers)`: `layers` layers of `hidden` one-cell blocks,
    /// the outputs being the top layer's h(t). (PyTorch has two bias vectors per layer, b_ih and
    /// b_hh; only their sum matters, which is the one bias here.)
    pub fn torch(inputs: usize, hidden: usize, layers: usize) -> Self {
        Self::new(inputs, hidden, 1).layers(vec![hidden; layers])
    }

    /// The LSTM of Hochreiter & Schmidhuber (1997): no forget gate, g in (−2, 2), h in (−1, 1),
    /// logistic gates; the cells and gates are recurrent sources; only the gates are biased, the
    /// output gates staggered −1, −2, −3, …; weights uniform in ±0.1; a logistic output layer
    /// without bias reading the cells at every step.
    pub fn hochreiter1997(inputs: usize, blocks: usize, cells_per_block: usize, outputs: usize) -> Self {
        Self {
            forget_gate: false,
            gate_recurrence: true,
            cell_bias: false,
            cell_input_activation: Activation::ScaledLogistic { min: -2.0, max: 2.0 },
            cell_output_activation: Activation::ScaledLogistic { min: -1.0, max: 1.0 },
            head: Some(Head::new(outputs).activation(Activation::Logistic).bias(false)),
            init: WeightInit::Uniform(0.1),
            output_gate_bias: Some(GateBias::staggered(-1.0, -1.0)),
            ..Self::new(inputs, blocks, cells_per_block)
        }
    }

    /// The continual-prediction LSTM of Gers, Schmidhuber & Cummins (2000): the 1997 cell with
    /// forget gates; recurrence from the cells only; gates biased, cells not; input and output
    /// gates staggered −0.5, −1.0, …, forget gates +0.5, +1.0, …; weights uniform in ±0.2; a
    /// logistic output layer with bias reading the cells and, by a shortcut, the input.
    pub fn gers2000(inputs: usize, blocks: usize, cells_per_block: usize, outputs: usize) -> Self {
        Self {
            forget_gate: true,
            gate_recurrence: false,
            cell_bias: false,
            head: Some(Head::new(outputs).activation(Activation::Logistic).bias(true).shortcut(true)),
            init: WeightInit::Uniform(0.2),
            input_gate_bias: Some(GateBias::staggered(-0.5, -0.5)),
            forget_gate_bias: Some(GateBias::staggered(0.5, 0.5)),
            output_gate_bias: Some(GateBias::staggered(-0.5, -0.5)),
            ..Self::hochreiter1997(inputs, blocks, cells_per_block, outputs)
        }
    }

    /// Sets the blocks of every layer, from the bottom (one entry per layer).
    pub fn layers(mut self, blocks: Vec<usize>) -> Self {
        self.blocks = blocks;
        self
    }

    /// Sets S, the cells per block.
    pub fn cells_per_block(mut self, cells: usize) -> Self {
        self.cells_per_block = cells;
        self
    }

    /// Gives each block a forget gate or not.
    pub fn forget_gate(mut self, on: bool) -> Self {
        self.forget_gate = on;
        self
    }

    /// Connects the cell states to their gates (peepholes) or not.
    pub fn peepholes(mut self, on: bool) -> Self {
        self.peepholes = on;
        self
    }

    /// Makes the gate activations recurrent sources (as the cell outputs are) or not.
    pub fn gate_recurrence(mut self, on: bool) -> Self {
        self.gate_recurrence = on;
        self
    }

    /// Gives the cell inputs biases or not.
    pub fn cell_bias(mut self, on: bool) -> Self {
        self.cell_bias = on;
        self
    }

    /// Gives the gates biases or not.
    pub fn gate_bias(mut self, on: bool) -> Self {
        self.gate_bias = on;
        self
    }

    /// Sets f, the gate activation.
    pub fn gate_activation(mut self, f: Activation) -> Self {
        self.gate_activation = f;
        self
    }

    /// Sets g (cell input) and h (cell output) squashing.
    pub fn squashing(mut self, g: Activation, h: Activation) -> Self {
        self.cell_input_activation = g;
        self.cell_output_activation = h;
        self
    }

    /// Sets the output head (`None`: the outputs are the top layer's cells).
    pub fn head(mut self, head: impl Into<Option<Head>>) -> Self {
        self.head = head.into();
        self
    }

    /// Sets how the weights are drawn.
    pub fn init(mut self, init: WeightInit) -> Self {
        self.init = init;
        self
    }

    /// Sets the initial input-gate biases.
    pub fn input_gate_bias(mut self, bias: impl Into<Option<GateBias>>) -> Self {
        self.input_gate_bias = bias.into();
        self
    }

    /// Sets the initial forget-gate biases.
    pub fn forget_gate_bias(mut self, bias: impl Into<Option<GateBias>>) -> Self {
        self.forget_gate_bias = bias.into();
        self
    }

    /// Sets the initial output-gate biases.
    pub fn output_gate_bias(mut self, bias: impl Into<Option<GateBias>>) -> Self {
        self.output_gate_bias = bias.into();
        self
    }

    /// Sets the seed of the initial weights.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every field (the values for an `f64` network; [`build`](Self::build) checks
    /// them in its own scalar type).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the field for no input, no layer, a layer of no block,
    /// zero cells per block, a head of no output, an activation that cannot be trained (`Sign`)
    /// or has non-finite limits, a non-finite or negative initial range, initial biases that
    /// are not finite for every block, or initial forget-gate biases without forget gates.
    pub fn validate(&self) -> Result<()> {
        self.validate_in::<f64>()
    }

    /// [`validate`](Self::validate), with the limits, initial range and initial biases finite
    /// in `T`.
    pub(crate) fn validate_in<T: Real>(&self) -> Result<()> {
        if self.inputs == 0 {
            return Err(Error::config("inputs", "at least 1", 0));
        }
        if self.blocks.is_empty() {
            return Err(Error::config("layers", "at least 1 layer of memory blocks", "none"));
        }
        for (l, &b) in self.blocks.iter().enumerate() {
            if b == 0 {
                return Err(Error::config(format!("memory blocks of layer {l}"), "at least 1", 0));
            }
        }
        if self.cells_per_block == 0 {
            return Err(Error::config("cells per block", "at least 1", 0));
        }
        for (name, f) in [
            ("gate activation", self.gate_activation),
            ("cell input squashing g", self.cell_input_activation),
            ("cell output squashing h", self.cell_output_activation),
        ] {
            check_trainable(|| name.to_string(), f)?;
            check_finite_in::<T>(|| name.to_string(), f)?;
        }
        if let Some(head) = &self.head {
            if head.outputs == 0 {
                return Err(Error::config("head outputs", "at least 1", 0));
            }
            check_trainable(|| "head activation".to_string(), head.activation)?;
            check_finite_in::<T>(|| "head activation".to_string(), head.activation)?;
        }
        if let WeightInit::Uniform(limit) = self.init
            && !(T::of_f64(limit).is_finite() && limit >= 0.0)
        {
            return Err(Error::config("initial weight range", format!("a limit ≥ 0, finite in {}", T::NAME), limit));
        }
        // start + j·step is finite for every block j once it is at the first and the last.
        let last_block = self.blocks.iter().max().map_or(0, |&b| b - 1);
        for (name, bias) in [
            ("input-gate bias", self.input_gate_bias),
            ("forget-gate bias", self.forget_gate_bias),
            ("output-gate bias", self.output_gate_bias),
        ] {
            if let Some(b) = bias {
                let finite = |v: f64| T::of_f64(v).is_finite();
                if !(finite(b.start) && finite(b.step) && finite(b.value(last_block))) {
                    return Err(Error::config(
                        format!("initial {name}"),
                        format!("a value finite in {} for every block j ≤ {last_block}", T::NAME),
                        format!("{} + j·{}", b.start, b.step),
                    ));
                }
                if !self.gate_bias {
                    return Err(Error::config(format!("initial {name}"), "none: the gates have no bias", "a value"));
                }
            }
        }
        if self.forget_gate_bias.is_some() && !self.forget_gate {
            return Err(Error::config("initial forget-gate bias", "none: there is no forget gate", "a value"));
        }
        Ok(())
    }

    /// Builds the network with weights drawn from the seed.
    ///
    /// # Errors
    /// As [`validate`](Self::validate), and [`Error::Allocation`] if the weights do not fit in
    /// memory.
    pub fn build<T: Real>(&self) -> Result<Lstm<T>> {
        Lstm::new(self.clone())
    }
}
