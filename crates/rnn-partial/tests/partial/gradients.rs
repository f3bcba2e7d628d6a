//! Gradient checks in f64: full BPTT against finite differences of the sequence loss, the
//! context-as-input gradient against finite differences with the recorded contexts held fixed,
//! and truncated BPTT against an explicit per-target unroll of k steps.

use rnn_core::gradcheck::{GradCheckOptions, Stencil, check_gradient};
use rnn_core::{Activation, Loss, SeqBatch};
use rnn_partial::{Backprop, ElmanConfig, JordanConfig};

use crate::common::{
    Net, analytic_gradient, batch, elman, jordan, max_relative_error, numeric_gradient, recorded_contexts,
    truncated_loss,
};

fn check_full<N: Net>(mut net: N, batch: &SeqBatch<f64>, loss: Loss) {
    net.set_backprop(Backprop::Full);
    let options = GradCheckOptions::default().with_stencil(Stencil::FivePoint);
    let report = check_gradient(&mut net, batch, loss, &options).unwrap();
    assert!(report.passed(1e-6), "{report}");
}

fn check_truncated<N: Net>(mut net: N, batch: &SeqBatch<f64>, k: usize, loss: Loss) {
    net.set_backprop(if k == 0 { Backprop::ContextAsInput } else { Backprop::Truncated(k) });
    let analytic = analytic_gradient(&mut net, batch, loss);
    let contexts = recorded_contexts(&net, batch);
    let numeric = numeric_gradient(&mut net, |n| truncated_loss(n, batch, &contexts, k, loss));
    let (err, at) = max_relative_error(&analytic, &numeric);
    assert!(err < 1e-6, "k = {k}: relative error {err:e} at {at}: {} vs {}", analytic[at], numeric[at]);
}

#[test]
fn full_bptt_matches_finite_differences_of_the_loss() {
    // Padded batch of three sequences of different lengths.
    let b = batch(3, 2, &[6, 3, 5], 1);
    check_full(elman(3, 2, 1), &b, Loss::Mse);
    check_full(jordan(3, 2, 2), &b, Loss::Mse);
    // One hidden layer, logits with cross-entropy losses, one long sequence.
    let one = batch(2, 3, &[9], 2);
    let e = ElmanConfig::new(2, &[6], 3).initial_context(0.5).seed(3).build::<f64>().unwrap();
    check_full(e.clone(), &one, Loss::SoftmaxCrossEntropy);
    check_full(e, &one, Loss::BinaryCrossEntropy);
    let j = JordanConfig::new(2, &[6], 3)
        .hidden_activation(Activation::Relu)
        .output_activation(Activation::Logistic)
        .mu(1.0)
        .seed(4)
        .build::<f64>()
        .unwrap();
    check_full(j, &one, Loss::Mse);
}

#[test]
fn context_as_input_matches_finite_differences_with_recorded_contexts_fixed() {
    let b = batch(3, 2, &[5, 4, 2], 3);
    check_truncated(elman(3, 2, 5), &b, 0, Loss::Mse);
    check_truncated(jordan(3, 2, 6), &b, 0, Loss::Mse);
}

#[test]
fn truncated_bptt_matches_a_per_target_unroll_of_k_steps() {
    let b = batch(2, 2, &[8, 6], 4);
    for k in [1, 2, 4] {
        check_truncated(elman(2, 2, 7), &b, k, Loss::Mse);
        check_truncated(jordan(2, 2, 8), &b, k, Loss::Mse);
    }
    // The unroll reference with k = T − 1 is full BPTT.
    check_truncated(elman(2, 2, 9), &b, 7, Loss::Mse);
}

#[test]
fn truncated_with_a_long_horizon_is_full_and_with_none_is_context_as_input() {
    let b = batch(3, 2, &[6, 4], 5);
    fn grad<N: Net>(net: &N, mode: Backprop, b: &SeqBatch<f64>) -> Vec<f64> {
        let mut net = net.clone();
        net.set_backprop(mode);
        analytic_gradient(&mut net, b, Loss::Mse)
    }
    let e = elman(3, 2, 10);
    let j = jordan(3, 2, 11);
    for k in [5, 6, 100] {
        assert_eq!(grad(&e, Backprop::Truncated(k), &b), grad(&e, Backprop::Full, &b));
        assert_eq!(grad(&j, Backprop::Truncated(k), &b), grad(&j, Backprop::Full, &b));
    }
    assert_eq!(grad(&e, Backprop::Truncated(0), &b), grad(&e, Backprop::ContextAsInput, &b));
    assert_eq!(grad(&j, Backprop::Truncated(0), &b), grad(&j, Backprop::ContextAsInput, &b));
    // And the three modes differ otherwise.
    assert_ne!(grad(&e, Backprop::Truncated(2), &b), grad(&e, Backprop::Full, &b));
    assert_ne!(grad(&e, Backprop::Truncated(2), &b), grad(&e, Backprop::ContextAsInput, &b));
}
