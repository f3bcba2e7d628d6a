//! The Jordan net: the context is a decaying trace of the net's own outputs.
//!
//! Jordan (1986), "Serial order: a parallel distributed processing approach", ICS Report
//! 8604, UC San Diego:
//!
//! - c(t) = μ·c(t − 1) + y(t − 1), one context ("state") unit per output, μ ∈ [0, 1],
//!   c(0) = c₀ (0 by default);
//! - h⁰(t) = f₀(W_in·x(t) + W_context·c(t) + b⁰), further hidden layers
//!   hˡ(t) = f_l(W_hiddenˡ·hˡ⁻¹(t) + bˡ), output y(t) = g(W_out·h^(L−1)(t) + b_out).
//!
//! Unrolled, c(t) = μᵗ·c₀ + Σ_(s<t) μ^(t−1−s)·y(s): with μ near 1 the context remembers far
//! back, with μ = 0 it is the last output alone.

use rnn_core::{Activation, Real, Result};
use serde::{Deserialize, Serialize};

use crate::api::partial_net_api;
use crate::arch::{Arch, ContextSource};
use crate::backprop::Backprop;
use crate::init::Init;
use crate::net::Core;

/// The configuration of an [`Jordan`] net; [`build`](Self::build) validates it and draws the
/// weights.
///
/// ```
/// use rnn_core::Error;
/// use rnn_partial::JordanConfig;
/// let net = JordanConfig::new(2, &[4], 3).mu(0.8).seed(1).build::<f64>().unwrap();
/// assert_eq!(net.context_size(), 3); // one context unit per output
/// assert_eq!(net.mu(), 0.8);
/// match JordanConfig::new(2, &[4], 3).mu(1.5).build::<f64>() {
///     Err(Error::InvalidConfig { name, .. }) => assert!(name.contains('μ')),
///     other => panic!("expected an error naming μ, got {other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JordanConfig {
    /// Width I of the input x(t).
    pub inputs: usize,
    /// Sizes of the hidden layers, the first one feeding the context (at least one layer).
    pub hidden: Vec<usize>,
    /// Width O of the output y(t).
    pub outputs: usize,
    /// Activation of each hidden layer (one per layer; tanh by default).
    pub hidden_activations: Vec<Activation>,
    /// Activation g of the output (identity by default). Keep it the identity for
    /// [`Loss::SoftmaxCrossEntropy`](rnn_core::Loss::SoftmaxCrossEntropy) and
    /// [`Loss::BinaryCrossEntropy`](rnn_core::Loss::BinaryCrossEntropy), which take logits.
    pub output_activation: Activation,
    /// The value c₀ of every context unit at the first step (0 by default).
    pub initial_context: f64,
    /// The context's self-recurrence μ ∈ [0, 1] (0.5 by default).
    pub mu: f64,
    /// How gradients are computed (full BPTT by default).
    pub backprop: Backprop,
    /// How the weights are drawn (Glorot uniform by default).
    pub init: Init,
    /// The seed of the weight draw.
    pub seed: u64,
}

impl JordanConfig {
    /// A net with `inputs` inputs, hidden layers of the given sizes (tanh), `outputs` linear
    /// outputs, context starting at 0 with μ = 0.5, full BPTT, Glorot initialisation, seed 0.
    pub fn new(inputs: usize, hidden: &[usize], outputs: usize) -> Self {
        Self {
            inputs,
            hidden: hidden.to_vec(),
            outputs,
            hidden_activations: vec![Activation::Tanh; hidden.len()],
            output_activation: Activation::Identity,
            initial_context: 0.0,
            mu: 0.5,
            backprop: Backprop::Full,
            init: Init::Glorot,
            seed: 0,
        }
    }

    /// Uses `f` in every hidden layer.
    pub fn hidden_activation(mut self, f: Activation) -> Self {
        self.hidden_activations = vec![f; self.hidden.len()];
        self
    }

    /// Sets the activation of each hidden layer (one per layer).
    pub fn hidden_activations(mut self, fs: &[Activation]) -> Self {
        self.hidden_activations = fs.to_vec();
        self
    }

    /// Sets the output activation g.
    pub fn output_activation(mut self, g: Activation) -> Self {
        self.output_activation = g;
        self
    }

    /// Sets the initial value c₀ of every context unit.
    pub fn initial_context(mut self, c0: f64) -> Self {
        self.initial_context = c0;
        self
    }

    /// Sets the context's self-recurrence μ ∈ [0, 1].
    pub fn mu(mut self, mu: f64) -> Self {
        self.mu = mu;
        self
    }

    /// Sets how gradients are computed.
    pub fn backprop(mut self, backprop: Backprop) -> Self {
        self.backprop = backprop;
        self
    }

    /// Sets the initialisation scheme.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Sets the seed of the weight draw.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every setting that does not depend on the scalar type.
    ///
    /// Limits: at most 2¹⁶ (65,536) hidden layers and at most 2³⁸ parameters (whose size in
    /// bytes must also fit in an address). A shape within them may still not fit in memory,
    /// which [`build`](Self::build) finds out.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`](rnn_core::Error::InvalidConfig) for a zero size, μ outside
    /// [0, 1], a non-finite initial context, a non-differentiable activation, a
    /// [`ScaledLogistic`](rnn_core::Activation::ScaledLogistic) without finite bounds
    /// min < max and a finite range max − min, a bad initialisation number, more than 2¹⁶
    /// hidden layers or more than 2³⁸ parameters; [`Error::Empty`](rnn_core::Error::Empty)
    /// for no hidden layer; [`Error::DimensionMismatch`](rnn_core::Error::DimensionMismatch)
    /// if the activations are not one per hidden layer.
    pub fn validate(&self) -> Result<()> {
        self.arch().validate()?;
        self.init.validate()
    }

    /// Builds the net with weights drawn by [`init`](Self::init) from [`seed`](Self::seed).
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::InvalidConfig`](rnn_core::Error::InvalidConfig)
    /// also for numbers that are finite in `f64` but overflow `T` (an initial context of
    /// 1e39 in `f32`, a scaled logistic whose bounds, range or squared half-range are not
    /// finite in `T`, an initialisation that draws a weight that is not, such as
    /// `Init::Uniform(1e39)` in `f32`); [`Error::Allocation`](rnn_core::Error::Allocation) if
    /// the parameters do not fit in memory (a net within the limits can still need a
    /// terabyte).
    pub fn build<T: Real>(&self) -> Result<Jordan<T>> {
        self.validate()?;
        let core = Core::build(self.arch(), self.init, self.seed)?;
        Ok(Jordan { config: self.clone(), core })
    }

    pub(crate) fn arch(&self) -> Arch {
        Arch::new(
            self.inputs,
            self.hidden.clone(),
            self.outputs,
            self.hidden_activations.clone(),
            self.output_activation,
            ContextSource::Output,
            self.mu,
            self.initial_context,
        )
    }
}

/// A Jordan net over scalars `T`; see the [module](self) for the equations.
///
/// It implements [`Parameters`](rnn_core::Parameters) (blocks `w_in`, `w_context`,
/// `b_hidden0`, `w_hidden1`, `b_hidden1`, …, `w_out`, `b_out`),
/// [`SequenceModel`](rnn_core::SequenceModel), [`Differentiable`](rnn_core::Differentiable)
/// (by the configured [`Backprop`] mode) and [`Persist`](rnn_core::Persist) (kind
/// `rnn-partial/jordan`).
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::{Differentiable, Loss, Optimizer, Parameters, SeqBatch, SequenceModel, optim::Sgd};
/// use rnn_partial::JordanConfig;
/// let mut net = JordanConfig::new(1, &[8], 1).mu(0.5).seed(1).build::<f32>().unwrap();
/// // A batch of 4 sequences of 10 steps: column t·4 + b is step t of sequence b.
/// let x = DMatrix::from_fn(1, 40, |_, j| ((j / 4) as f32 * 0.5 + (j % 4) as f32).sin());
/// let d = x.map(|v| 0.5 * v);
/// let batch = SeqBatch::new(x, Some(d), 10, 4).unwrap();
/// let mut grad = vec![0.0; net.num_params()];
/// let mut sgd = Sgd::new(0.1).unwrap();
/// let before = net.loss_and_gradient(&batch, Loss::Mse, &mut grad).unwrap();
/// for _ in 0..50 {
///     net.loss_and_gradient(&batch, Loss::Mse, &mut grad).unwrap();
///     sgd.step(net.params_mut(), &grad).unwrap();
/// }
/// assert!(net.loss(&batch, Loss::Mse).unwrap() < before);
/// assert_eq!(net.forward(&batch).unwrap().shape(), (1, 40));
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Jordan<T: Real> {
    config: JordanConfig,
    core: Core<T>,
}

partial_net_api!(Jordan, JordanConfig, "rnn-partial/jordan");

impl<T: Real> Jordan<T> {
    /// The context's self-recurrence μ.
    pub fn mu(&self) -> f64 {
        self.config.mu
    }
}
