//! Shared helpers: test nets of both kinds behind one trait, random batches, and finite
//! differences.

use nalgebra::DMatrix;
use rnn_core::{Activation, Differentiable, Loss, Result, SeqBatch, Sequence};
use rnn_partial::{Backprop, Elman, ElmanConfig, Jordan, JordanConfig, State};

/// What the tests need from either kind of net; forwards to the inherent methods.
pub trait Net: Differentiable<f64> + Clone {
    fn initial_state(&self, batch: usize) -> Result<State<f64>>;
    fn step(&self, x: &DMatrix<f64>, state: &mut State<f64>) -> Result<DMatrix<f64>>;
    fn forward_from(&mut self, batch: &SeqBatch<f64>, state: &mut State<f64>) -> Result<DMatrix<f64>>;
    fn set_backprop(&mut self, backprop: Backprop);
}

macro_rules! impl_net {
    ($t:ty) => {
        impl Net for $t {
            fn initial_state(&self, batch: usize) -> Result<State<f64>> {
                <$t>::initial_state(self, batch)
            }
            fn step(&self, x: &DMatrix<f64>, state: &mut State<f64>) -> Result<DMatrix<f64>> {
                <$t>::step(self, x, state)
            }
            fn forward_from(&mut self, batch: &SeqBatch<f64>, state: &mut State<f64>) -> Result<DMatrix<f64>> {
                <$t>::forward_from(self, batch, state)
            }
            fn set_backprop(&mut self, backprop: Backprop) {
                <$t>::set_backprop(self, backprop)
            }
        }
    };
}
impl_net!(Elman<f64>);
impl_net!(Jordan<f64>);

/// An Elman net with two hidden layers of different activations and a context that starts
/// away from zero.
pub fn elman(inputs: usize, outputs: usize, seed: u64) -> Elman<f64> {
    ElmanConfig::new(inputs, &[5, 4], outputs)
        .hidden_activations(&[Activation::Tanh, Activation::Logistic])
        .output_activation(Activation::Tanh)
        .initial_context(0.3)
        .seed(seed)
        .build()
        .unwrap()
}

/// A Jordan net with two hidden layers, μ = 0.6.
pub fn jordan(inputs: usize, outputs: usize, seed: u64) -> Jordan<f64> {
    JordanConfig::new(inputs, &[5, 4], outputs)
        .hidden_activations(&[Activation::Tanh, Activation::Logistic])
        .output_activation(Activation::Tanh)
        .initial_context(-0.2)
        .mu(0.6)
        .seed(seed)
        .build()
        .unwrap()
}

/// A deterministic pseudo-random value in [−1, 1) from three integers.
pub fn noise(a: usize, b: usize, c: usize) -> f64 {
    let mut h = (a as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (b as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    h ^= (c as u64).wrapping_mul(0x1656_67B1_9E37_79F9);
    h ^= h >> 29;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 32;
    (h % 2_000_000) as f64 / 1_000_000.0 - 1.0
}

/// One sequence of `len` steps with `inputs`/`outputs` rows of noise, from `seed`.
pub fn sequence(inputs: usize, outputs: usize, len: usize, seed: usize) -> Sequence<f64> {
    let x = DMatrix::from_fn(inputs, len, |i, t| noise(seed, i, t));
    let d = DMatrix::from_fn(outputs, len, |i, t| 0.8 * noise(seed + 1000, i, t));
    Sequence::new(x, d).unwrap()
}

/// A padded batch of sequences of the given lengths.
pub fn batch(inputs: usize, outputs: usize, lengths: &[usize], seed: usize) -> SeqBatch<f64> {
    let seqs: Vec<Sequence<f64>> =
        lengths.iter().enumerate().map(|(b, &len)| sequence(inputs, outputs, len, seed + 17 * b)).collect();
    let refs: Vec<&Sequence<f64>> = seqs.iter().collect();
    SeqBatch::from_sequences(&refs).unwrap()
}

/// ∂f/∂θ by the five-point stencil with step 10⁻³ (truncation error O(h⁴)).
pub fn numeric_gradient<N: Net>(net: &mut N, mut f: impl FnMut(&mut N) -> f64) -> Vec<f64> {
    let theta = net.params().to_vec();
    let h = 1e-3;
    let mut g = vec![0.0; theta.len()];
    for i in 0..theta.len() {
        let mut at = |d: f64, net: &mut N| {
            net.params_mut()[i] = theta[i] + d;
            f(net)
        };
        g[i] = (-at(2.0 * h, net) + 8.0 * at(h, net) - 8.0 * at(-h, net) + at(-2.0 * h, net)) / (12.0 * h);
        net.params_mut()[i] = theta[i];
    }
    g
}

/// max_i |aᵢ − bᵢ| / max(|aᵢ|, |bᵢ|, 10⁻⁸), with the worst index.
pub fn max_relative_error(a: &[f64], b: &[f64]) -> (f64, usize) {
    assert_eq!(a.len(), b.len());
    let mut worst = (0.0, 0);
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let e = (x - y).abs() / x.abs().max(y.abs()).max(1e-8);
        if e > worst.0 || e.is_nan() {
            worst = (e, i);
        }
    }
    worst
}

/// The contexts c(t) that a forward pass from the initial state reads at each step, `C × B`.
pub fn recorded_contexts<N: Net>(net: &N, batch: &SeqBatch<f64>) -> Vec<DMatrix<f64>> {
    let mut state = net.initial_state(batch.batch_size()).unwrap();
    let mut out = Vec::new();
    for t in 0..batch.steps() {
        out.push(state.context().clone());
        net.step(&batch.input_step(t).into_owned(), &mut state).unwrap();
    }
    out
}

/// The loss when the output at each target step t is computed from the recorded context
/// c(t − k) (held fixed) by running steps t − k … t with the net's current weights: the loss
/// whose gradient truncated BPTT with horizon k computes (k = 0: context as input).
pub fn truncated_loss<N: Net>(net: &N, batch: &SeqBatch<f64>, contexts: &[DMatrix<f64>], k: usize, loss: Loss) -> f64 {
    let (steps, b) = (batch.steps(), batch.batch_size());
    let targets = batch.targets().unwrap();
    let mut outputs = DMatrix::zeros(targets.nrows(), steps * b);
    for t in 0..steps {
        let start = t.saturating_sub(k);
        let mut state = State::from_context(contexts[start].clone());
        let mut y = DMatrix::zeros(0, 0);
        for s in start..=t {
            y = net.step(&batch.input_step(s).into_owned(), &mut state).unwrap();
        }
        outputs.columns_mut(t * b, b).copy_from(&y);
    }
    loss.value(outputs.as_view(), targets.as_view(), batch.valid_mask()).unwrap()
}

/// The gradient the net computes in its configured mode.
pub fn analytic_gradient<N: Net>(net: &mut N, batch: &SeqBatch<f64>, loss: Loss) -> Vec<f64> {
    let mut g = vec![0.0; net.num_params()];
    net.loss_and_gradient(batch, loss, &mut g).unwrap();
    g
}
