//! Small networks and sequences shared by the tests.

use nalgebra::DMatrix;
use rnn_core::{Activation, MaskedSequence, Sequence};
use rnn_recurrent::{Connectivity, FullyRecurrent, RecurrentConfig, Source};

/// A 2-input, 4-unit, 2-output net with a few weights removed and mixed activations.
pub fn sparse_net(seed: u64) -> FullyRecurrent<f64> {
    let c = Connectivity::full(2, 4)
        .unwrap()
        .without(0, Source::Unit(0))
        .unwrap()
        .without(3, Source::Input(1))
        .unwrap()
        .without(2, Source::Bias)
        .unwrap();
    let acts = vec![Activation::Logistic, Activation::Tanh, Activation::Logistic, Activation::Tanh];
    let mut net = RecurrentConfig::new(2, 4, 2)
        .output_units([1, 2])
        .connectivity(c)
        .unit_activations(acts)
        .init_range(0.8)
        .seed(seed)
        .build()
        .unwrap();
    net.set_initial_state(&[0.1, -0.2, 0.3, 0.0]).unwrap();
    net
}

/// A sequence of `len` steps for [`sparse_net`], with targets absent at some steps.
pub fn masked_sequence(len: usize, seed: u64) -> MaskedSequence<f64> {
    let s = seed as f64;
    let inputs = DMatrix::from_fn(2, len, |i, t| ((t as f64 + 1.0) * (i as f64 + 0.7) + s).sin());
    let targets = DMatrix::from_fn(2, len, |k, t| 0.5 + 0.4 * ((t as f64) * 0.9 + k as f64 + s).cos());
    let present = DMatrix::from_fn(2, len, |k, t| (t + k) % 3 != 0);
    MaskedSequence::new(Sequence::new(inputs, targets).unwrap(), present).unwrap()
}

/// ½ Σ present (y − d)² of `net` on `seq`, from its outputs alone (no teacher forcing).
pub fn squared_error(net: &mut FullyRecurrent<f64>, seq: &MaskedSequence<f64>) -> f64 {
    let out = net.run(seq.inputs()).unwrap();
    let mut j = 0.0;
    for t in 0..seq.len() {
        for k in 0..seq.target_size() {
            if seq.is_present(k, t) {
                j += 0.5 * (out[(k, t)] - seq.targets()[(k, t)]).powi(2);
            }
        }
    }
    j
}

/// Central differences of `f` in every parameter.
pub fn numeric_gradient(net: &mut FullyRecurrent<f64>, mut f: impl FnMut(&mut FullyRecurrent<f64>) -> f64) -> Vec<f64> {
    use rnn_core::Parameters;
    let h = 1e-6;
    (0..net.num_params())
        .map(|i| {
            let w = net.params()[i];
            net.params_mut()[i] = w + h;
            let up = f(net);
            net.params_mut()[i] = w - h;
            let down = f(net);
            net.params_mut()[i] = w;
            (up - down) / (2.0 * h)
        })
        .collect()
}

/// max |a − b| / max(|a|, |b|, 1e-8).
pub fn max_relative_error(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()).max(1e-8)).fold(0.0, f64::max)
}
