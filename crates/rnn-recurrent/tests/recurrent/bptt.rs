//! Epochwise and truncated BPTT against finite differences and against each other.

use nalgebra::DMatrix;
use rnn_core::{Error, GradCheckOptions, Loss, MaskedSequence, Parameters, SeqBatch, Sequence, Sgd, check_gradient};
use rnn_recurrent::{Bptt, OnlineLearner, RecurrentConfig, TruncatedBptt};

use crate::common::{masked_sequence, max_relative_error, numeric_gradient, sparse_net, squared_error};

#[test]
fn epochwise_bptt_matches_finite_differences_on_a_sparse_net_with_absent_targets() {
    let mut net = sparse_net(1);
    let seq = masked_sequence(9, 1);
    let mut grad = vec![0.0; net.num_params()];
    let j = Bptt::new().gradient(&mut net, &seq, &mut grad).unwrap();
    assert!((j - squared_error(&mut net, &seq)).abs() < 1e-14);
    let numeric = numeric_gradient(&mut net, |n| squared_error(n, &seq));
    let err = max_relative_error(&grad, &numeric);
    assert!(err < 1e-6, "relative error {err}");
    assert!(grad.iter().any(|g| g.abs() > 1e-3), "a gradient of zeros would pass trivially");
}

#[test]
fn teacher_forced_bptt_matches_finite_differences_of_the_forced_run() {
    let mut net = sparse_net(2);
    let seq = masked_sequence(7, 2);
    let forced_loss = |n: &mut rnn_recurrent::FullyRecurrent<f64>| {
        let mut g = vec![0.0; n.num_params()];
        Bptt::new().teacher_forcing(true).gradient(n, &seq, &mut g).unwrap()
    };
    let mut grad = vec![0.0; net.num_params()];
    let j = Bptt::new().teacher_forcing(true).gradient(&mut net, &seq, &mut grad).unwrap();
    assert!((j - squared_error(&mut net, &seq)).abs() > 1e-6, "forcing must change the run");
    let numeric = numeric_gradient(&mut net, forced_loss);
    let err = max_relative_error(&grad, &numeric);
    assert!(err < 1e-6, "relative error {err}");
}

#[test]
fn the_differentiable_model_passes_the_workspace_gradient_check() {
    let mut net = sparse_net(3);
    let seqs: Vec<Sequence<f64>> = (0..3).map(|s| masked_sequence(5 + s, s as u64).into_parts().0).collect();
    let refs: Vec<&Sequence<f64>> = seqs.iter().collect();
    let batch = SeqBatch::from_sequences(&refs).unwrap();
    for loss in [Loss::Mse, Loss::BinaryCrossEntropy] {
        let report = check_gradient(&mut net, &batch, loss, &GradCheckOptions::default()).unwrap();
        assert!(report.passed(1e-6), "{loss:?}: {report}");
    }
}

#[test]
fn a_batch_gives_the_sum_of_its_sequences_gradients() {
    let mut net = sparse_net(4);
    let a = masked_sequence(6, 4);
    let b = masked_sequence(6, 5);
    let all = |s: &MaskedSequence<f64>| MaskedSequence::all_present(s.sequence().clone()).unwrap();
    let (a, b) = (all(&a), all(&b));
    let mut ga = vec![0.0; net.num_params()];
    let mut gb = ga.clone();
    let ja = Bptt::new().gradient(&mut net, &a, &mut ga).unwrap();
    let jb = Bptt::new().gradient(&mut net, &b, &mut gb).unwrap();
    let batch = SeqBatch::from_sequences(&[a.sequence(), b.sequence()]).unwrap();
    let mut g = ga.clone();
    // Mse is the mean over 2 outputs × 12 columns of (y − d)², i.e. (ja + jb) · 2 / 24.
    let j = rnn_core::Differentiable::loss_and_gradient(&mut net, &batch, Loss::Mse, &mut g).unwrap();
    assert!((j - (ja + jb) / 12.0).abs() < 1e-12);
    for i in 0..g.len() {
        assert!((g[i] - (ga[i] + gb[i]) / 12.0).abs() < 1e-12);
    }
}

#[test]
fn truncated_bptt_with_one_window_is_epochwise_bptt() {
    // BPTT(L, L) on a sequence of L steps changes the weights once, by the epochwise gradient.
    let seq = masked_sequence(6, 6);
    let mut net = sparse_net(6);
    let mut grad = vec![0.0; net.num_params()];
    Bptt::new().gradient(&mut net, &seq, &mut grad).unwrap();
    let expected: Vec<f64> = net.params().iter().zip(&grad).map(|(w, g)| w - 0.1 * g).collect();
    let mut learner = TruncatedBptt::new(net, 6, 6).unwrap();
    let report = learner.learn(&seq, &mut Sgd::new(0.1).unwrap()).unwrap();
    assert_eq!(report.updates, 1);
    let got = learner.network().params();
    assert!(max_relative_error(got, &expected) < 1e-12);
}

#[test]
fn truncated_bptt_gradient_stops_at_the_window() {
    // With h = 1 only the last step's direct dependence counts: a weight that acts on the
    // output only through an earlier step gets no gradient.
    use rnn_recurrent::{Connectivity, Source};
    // Unit 1 reads the input; unit 0 (the output) reads only unit 1: the input reaches the
    // output after two steps, so with h = 1 unit 1's input weight never learns.
    let c = Connectivity::none(1, 2).unwrap().with(1, Source::Input(0)).unwrap().with(0, Source::Unit(1)).unwrap();
    let net = RecurrentConfig::new(1, 2, 1).connectivity(c).init_range(0.5).seed(1).build::<f64>().unwrap();
    let w_in = net.weight(1, Source::Input(0)).unwrap();
    let seq = MaskedSequence::all_present(
        Sequence::new(DMatrix::from_row_slice(1, 4, &[1.0, 0.0, 1.0, 1.0]), DMatrix::from_element(1, 4, 0.9)).unwrap(),
    )
    .unwrap();
    let mut short = TruncatedBptt::new(net.clone(), 1, 1).unwrap();
    short.learn(&seq, &mut Sgd::new(1.0).unwrap()).unwrap();
    assert_eq!(short.network().weight(1, Source::Input(0)).unwrap(), w_in);
    let mut long = TruncatedBptt::new(net, 2, 1).unwrap();
    long.learn(&seq, &mut Sgd::new(1.0).unwrap()).unwrap();
    assert_ne!(long.network().weight(1, Source::Input(0)).unwrap(), w_in);
}

#[test]
fn bad_input_is_refused_with_a_clear_error() {
    let mut net = sparse_net(7);
    let seq = masked_sequence(4, 7);
    let mut short = vec![0.0; 3];
    assert!(matches!(Bptt::new().gradient(&mut net, &seq, &mut short), Err(Error::DimensionMismatch { .. })));
    let wide = MaskedSequence::all_present(Sequence::new(DMatrix::zeros(3, 4), DMatrix::zeros(2, 4)).unwrap()).unwrap();
    let mut grad = vec![0.0; net.num_params()];
    assert!(matches!(Bptt::new().gradient(&mut net, &wide, &mut grad), Err(Error::DimensionMismatch { .. })));
    let narrow =
        MaskedSequence::all_present(Sequence::new(DMatrix::zeros(2, 4), DMatrix::zeros(1, 4)).unwrap()).unwrap();
    assert!(matches!(Bptt::new().gradient(&mut net, &narrow, &mut grad), Err(Error::DimensionMismatch { .. })));
    let none = MaskedSequence::new(seq.sequence().clone(), DMatrix::from_element(2, 4, false)).unwrap();
    assert!(matches!(
        Bptt::new().teacher_forcing(true).gradient(&mut net, &none, &mut grad),
        Err(Error::InvalidConfig { .. })
    ));
    assert!(matches!(TruncatedBptt::new(net.clone(), 0, 1), Err(Error::InvalidConfig { .. })));
    assert!(matches!(TruncatedBptt::new(net.clone(), 3, 4), Err(Error::InvalidConfig { .. })));
    let mut learner = TruncatedBptt::new(net, 3, 1).unwrap();
    let mut sgd = Sgd::new(0.1).unwrap();
    assert!(matches!(learner.step(&[0.0], &[0.0, 0.0], &[true, true], &mut sgd), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(
        learner.step(&[0.0, f64::NAN], &[0.0, 0.0], &[true, true], &mut sgd),
        Err(Error::NonFinite { .. })
    ));
    assert!(matches!(
        learner.step(&[0.0, 0.0], &[f64::NAN, 0.0], &[true, true], &mut sgd),
        Err(Error::NonFinite { .. })
    ));
    // An absent target may hold anything.
    assert!(learner.step(&[0.0, 0.0], &[f64::NAN, 0.0], &[false, true], &mut sgd).is_ok());
}

#[test]
fn truncated_bptt_learns_to_echo_the_previous_input() {
    let net = RecurrentConfig::new(1, 3, 1).init_range(0.3).seed(11).build::<f64>().unwrap();
    let mut learner = TruncatedBptt::new(net, 4, 1).unwrap();
    let mut sgd = Sgd::new(1.0).unwrap();
    let bits: Vec<f64> = (0..6000u64).map(|t| ((t.wrapping_mul(2654435761) >> 7) & 1) as f64).collect();
    let mut early = 0.0;
    let mut late = 0.0;
    for t in 1..bits.len() {
        let j = learner.step(&[bits[t]], &[bits[t - 1]], &[true], &mut sgd).unwrap();
        if t < 500 {
            early += j;
        } else if t >= bits.len() - 499 {
            late += j;
        }
    }
    assert!(late < 0.1 * early, "error {early} → {late}");
}

#[test]
fn a_fully_connected_net_with_leading_outputs_matches_finite_differences() {
    // Every weight present and outputs 0..K: the paths that copy instead of gathering.
    let mut net = RecurrentConfig::new(2, 3, 2).init_range(0.8).seed(12).build::<f64>().unwrap();
    let seq = masked_sequence(8, 12);
    let mut grad = vec![0.0; net.num_params()];
    Bptt::new().gradient(&mut net, &seq, &mut grad).unwrap();
    let numeric = numeric_gradient(&mut net, |n| squared_error(n, &seq));
    assert!(max_relative_error(&grad, &numeric) < 1e-6);
    let seqs: Vec<Sequence<f64>> = (0..2).map(|s| masked_sequence(6, s).into_parts().0).collect();
    let batch = SeqBatch::from_sequences(&[&seqs[0], &seqs[1]]).unwrap();
    let report = check_gradient(&mut net, &batch, Loss::Mse, &GradCheckOptions::default()).unwrap();
    assert!(report.passed(1e-6), "{report}");
}
