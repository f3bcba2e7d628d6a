//! Elman (1990), temporal XOR: a net reading one bit per step and predicting the next learns
//! the one predictable bit in three, and its error dips there.

use rnn_core::{Activation, Loss, optim::Sgd};
use rnn_data::generators::{temporal_xor_predictable, temporal_xor_sequence};
use rnn_partial::{Backprop, ElmanConfig, Init, OnlineOptions};

/// Mean squared error of each step's prediction, grouped by step mod 3.
fn error_by_phase(net: &mut rnn_partial::Elman<f64>, stream: &rnn_core::Sequence<f64>) -> [f64; 3] {
    let mut state = net.initial_state(1).unwrap();
    let y = net.run_sequence(&stream.inputs, &mut state).unwrap();
    let (mut sum, mut count) = ([0.0; 3], [0.0; 3]);
    for t in 0..stream.len() {
        sum[t % 3] += (y[(0, t)] - stream.targets[(0, t)]).powi(2);
        count[t % 3] += 1.0;
    }
    [sum[0] / count[0], sum[1] / count[1], sum[2] / count[2]]
}

/// The original set-up: 1 input, 2 hidden and 1 output logistic units, context starting at
/// 0.5, 3,000 bits, 600 passes, weights updated after every bit, context as input.
#[test]
fn elman_learns_temporal_xor() {
    let stream = temporal_xor_sequence::<f64>(3000, 1).unwrap();
    let mut net = ElmanConfig::new(1, &[2], 1)
        .hidden_activation(Activation::Logistic)
        .output_activation(Activation::Logistic)
        .initial_context(0.5)
        .init(Init::Uniform(0.5))
        .backprop(Backprop::ContextAsInput)
        .seed(1)
        .build::<f64>()
        .unwrap();
    let before = error_by_phase(&mut net, &stream);
    let mut sgd = Sgd::new(0.1).unwrap();
    let losses = net.train_online(&stream, &mut sgd, Loss::Mse, &OnlineOptions::new(600)).unwrap();
    assert!(losses[599] < losses[0]);
    let after = error_by_phase(&mut net, &stream);
    // Step t predicts bit t + 1, an XOR when t mod 3 = 1 (rnn-data's predictable mask).
    assert_eq!(temporal_xor_predictable(4), [false, true, false, false]);
    assert!(after[1] < 0.18, "error on the XOR bits {after:?} (before training {before:?})");
    assert!(after[0] > 0.24 && after[2] > 0.24, "the random bits stay at chance: {after:?}");
    assert!(after[1] < 0.7 * before[1]);
}
