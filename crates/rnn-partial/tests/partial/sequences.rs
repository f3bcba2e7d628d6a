//! The sequence API: batches against single sequences, stateful continuation, step by step,
//! free-running forecasts, and the two-thread path of large batches.

use nalgebra::DMatrix;
use rnn_core::{Differentiable, Loss, Parameters, SeqBatch, Sequence, SequenceModel};
use rnn_partial::{Backprop, ElmanConfig, JordanConfig};

use crate::common::{Net, batch, elman, jordan, max_relative_error, sequence};

fn max_abs_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    (a - b).abs().max()
}

/// Each sequence of a padded batch gets the outputs, and the final context, it gets alone.
fn batch_equals_each_sequence<N: Net>(mut net: N) {
    let lengths = [7, 3, 5];
    let seqs: Vec<Sequence<f64>> = lengths.iter().enumerate().map(|(b, &l)| sequence(3, 2, l, 50 + b)).collect();
    let refs: Vec<&Sequence<f64>> = seqs.iter().collect();
    let together = SeqBatch::from_sequences(&refs).unwrap();
    let mut state = net.initial_state(3).unwrap();
    let y = net.forward_from(&together, &mut state).unwrap();
    for (b, s) in seqs.iter().enumerate() {
        let alone = SeqBatch::from_sequences(&[s]).unwrap();
        let mut own = net.initial_state(1).unwrap();
        let ya = net.forward_from(&alone, &mut own).unwrap();
        for t in 0..s.len() {
            assert!((y.column(t * 3 + b) - ya.column(t)).abs().max() < 1e-13, "sequence {b}, step {t}");
        }
        assert!((state.context().column(b) - own.context().column(0)).abs().max() < 1e-13);
    }
    // SequenceModel::forward starts from the initial state.
    assert!(max_abs_diff(&net.forward(&together).unwrap(), &y) < 1e-15);
}

#[test]
fn batched_forward_equals_per_sequence_forward() {
    batch_equals_each_sequence(elman(3, 2, 60));
    batch_equals_each_sequence(jordan(3, 2, 61));
}

/// Running a batch in two calls (state carried) equals one call, for outputs, final state and
/// step-by-step stepping.
fn continuation<N: Net>(mut net: N) {
    let whole = batch(2, 2, &[9, 9], 70);
    let x = whole.inputs();
    let first = SeqBatch::new(x.columns(0, 10).into_owned(), None, 5, 2).unwrap();
    let rest = SeqBatch::new(x.columns(10, 8).into_owned(), None, 4, 2).unwrap();
    let mut s1 = net.initial_state(2).unwrap();
    let y = net.forward_from(&whole, &mut s1).unwrap();
    let mut s2 = net.initial_state(2).unwrap();
    let a = net.forward_from(&first, &mut s2).unwrap();
    let b = net.forward_from(&rest, &mut s2).unwrap();
    assert!(max_abs_diff(&y.columns(0, 10).into_owned(), &a) < 1e-13);
    assert!(max_abs_diff(&y.columns(10, 8).into_owned(), &b) < 1e-13);
    assert!(max_abs_diff(s1.context(), s2.context()) < 1e-13);
    // One step at a time.
    let mut s3 = net.initial_state(2).unwrap();
    for t in 0..9 {
        let yt = net.step(&whole.input_step(t).into_owned(), &mut s3).unwrap();
        assert!(max_abs_diff(&yt, &y.columns(2 * t, 2).into_owned()) < 1e-13, "step {t}");
    }
    assert!(max_abs_diff(s1.context(), s3.context()) < 1e-13);
    assert_eq!(s3.last_output().unwrap().ncols(), 2);
}

#[test]
fn stateful_continuation_across_calls() {
    continuation(elman(2, 2, 71));
    continuation(jordan(2, 2, 72));
}

#[test]
fn reset_and_initial_state() {
    let net = ElmanConfig::new(1, &[3], 1).initial_context(0.5).build::<f64>().unwrap();
    let mut state = net.initial_state(2).unwrap();
    assert!(state.context().iter().all(|&c| c == 0.5));
    net.step(&DMatrix::from_element(1, 2, 1.0), &mut state).unwrap();
    assert!(state.context().iter().any(|&c| c != 0.5));
    net.reset_state(&mut state);
    assert_eq!(state, net.initial_state(2).unwrap());
}

#[test]
fn gradient_from_a_state_continues_the_sequence() {
    // The loss of a chunk from a carried state is the loss of those steps in the whole run.
    let mut net = elman(2, 1, 80);
    let whole = batch(2, 1, &[8], 81);
    let (x, d) = (whole.inputs(), whole.targets().unwrap());
    let chunk = |c0: usize, n: usize| {
        SeqBatch::new(x.columns(c0, n).into_owned(), Some(d.columns(c0, n).into_owned()), n, 1).unwrap()
    };
    let mut grad = vec![0.0; net.num_params()];
    let mut state = net.initial_state(1).unwrap();
    let l1 = net.loss_and_gradient_from(&chunk(0, 5), &mut state, Loss::Mse, &mut grad).unwrap();
    let l2 = net.loss_and_gradient_from(&chunk(5, 3), &mut state, Loss::Mse, &mut grad).unwrap();
    let total = net.loss(&whole, Loss::Mse).unwrap();
    assert!(((5.0 * l1 + 3.0 * l2) / 8.0 - total).abs() < 1e-13);
    let mut s = net.initial_state(1).unwrap();
    net.forward_from(&whole, &mut s).unwrap();
    assert!(max_abs_diff(s.context(), state.context()) < 1e-13);
}

#[test]
fn free_running_forecasts() {
    // I = O: the output becomes the next input.
    let net = jordan(2, 2, 90);
    let first = DMatrix::from_column_slice(2, 2, &[0.1, -0.2, 0.3, 0.4]);
    let mut state = net.initial_state(2).unwrap();
    let free = net.forecast(&mut state, &first, 4).unwrap();
    assert_eq!(free.shape(), (2, 8));
    let mut by_hand = net.initial_state(2).unwrap();
    let mut x = first.clone();
    for h in 0..4 {
        x = net.step(&x, &mut by_hand).unwrap();
        assert_eq!(free.columns(2 * h, 2), x);
    }
    assert_eq!(state, by_hand);

    // A univariate series through a window of the last 3 values.
    let net = ElmanConfig::new(3, &[6], 1).seed(91).build::<f64>().unwrap();
    let series: Vec<f64> = (0..12).map(|t| (t as f64 * 0.5).cos()).collect();
    let forecast = net.forecast_series(&series, 5).unwrap();
    let mut s = net.initial_state(1).unwrap();
    let mut values = series.clone();
    for end in 3..series.len() {
        net.step(&DMatrix::from_column_slice(3, 1, &values[end - 3..end]), &mut s).unwrap();
    }
    for h in 0..5 {
        let n = values.len();
        let y = net.step(&DMatrix::from_column_slice(3, 1, &values[n - 3..]), &mut s).unwrap();
        assert_eq!(y[(0, 0)], forecast[h], "step {h}");
        values.push(y[(0, 0)]);
    }
    // forecast_window from a warmed-up state gives the same values.
    let mut warm = net.initial_state(1).unwrap();
    for end in 3..series.len() {
        net.step(&DMatrix::from_column_slice(3, 1, &series[end - 3..end]), &mut warm).unwrap();
    }
    assert_eq!(net.forecast_window(&mut warm, &series[series.len() - 3..], 5).unwrap(), forecast);
}

/// A batch large enough for the two-thread path (sequences split in halves, products split
/// by columns) gives what its sequences give one at a time.
#[test]
fn large_batches_split_across_threads_agree_with_single_sequences() {
    let (i, h, t, b) = (4, 256, 256, 8);
    let mut net = ElmanConfig::new(i, &[h], 1).backprop(Backprop::Full).seed(5).build::<f64>().unwrap();
    let seqs: Vec<Sequence<f64>> = (0..b).map(|s| sequence(i, 1, t, 100 + s)).collect();
    let refs: Vec<&Sequence<f64>> = seqs.iter().collect();
    let all = SeqBatch::from_sequences(&refs).unwrap();
    let y = net.forward(&all).unwrap();
    let mut grad = vec![0.0; net.num_params()];
    net.loss_and_gradient(&all, Loss::Mse, &mut grad).unwrap();
    let mut sum = vec![0.0; grad.len()];
    let mut g = vec![0.0; grad.len()];
    for (s, seq) in seqs.iter().enumerate() {
        let one = SeqBatch::from_sequences(&[seq]).unwrap();
        let ys = net.forward(&one).unwrap();
        for step in [0, t / 2, t - 1] {
            assert!((y[(0, step * b + s)] - ys[(0, step)]).abs() < 1e-12);
        }
        net.loss_and_gradient(&one, Loss::Mse, &mut g).unwrap();
        sum.iter_mut().zip(&g).for_each(|(a, x)| *a += x / b as f64);
    }
    let (err, at) = max_relative_error(&grad, &sum);
    assert!(err < 1e-9, "relative error {err:e} at {at}");
}

#[test]
fn both_nets_train_in_mini_batches_with_the_core_loop() {
    use rnn_core::{Control, TrainConfig, optim::Adam, train};
    // Sequences of different lengths: the batches are padded and masked.
    let data: Vec<Sequence<f64>> = (0..12).map(|s| sequence(2, 2, 5 + s % 4, 200 + s)).collect();
    let config = TrainConfig::default().with_epochs(80).with_batch_size(4).with_seed(1);
    let mut jordan = JordanConfig::new(2, &[8], 2).mu(0.5).seed(3).build::<f64>().unwrap();
    let report = train(&mut jordan, &data, &mut Adam::new(0.01).unwrap(), &config, |_| Control::Continue).unwrap();
    assert!(report.final_train_loss < 0.7 * report.history[0].train_loss, "{report:?}");
    let mut elman = ElmanConfig::new(2, &[8], 2).backprop(Backprop::ContextAsInput).seed(4).build::<f64>().unwrap();
    let report = train(&mut elman, &data, &mut Adam::new(0.01).unwrap(), &config, |_| Control::Continue).unwrap();
    assert!(report.final_train_loss < 0.7 * report.history[0].train_loss, "{report:?}");
}

#[test]
fn alternating_batch_shapes_reuse_the_buffers() {
    let mut net = jordan(2, 2, 300);
    let a = batch(2, 2, &[5, 5], 301);
    let b = batch(2, 2, &[3, 2, 3, 1], 302);
    let mut grad_a = vec![0.0; net.num_params()];
    let mut grad_b = vec![0.0; net.num_params()];
    let ya = net.forward(&a).unwrap();
    let la = net.loss_and_gradient(&a, Loss::Mse, &mut grad_a).unwrap();
    let yb = net.forward(&b).unwrap();
    let lb = net.loss_and_gradient(&b, Loss::Mse, &mut grad_b).unwrap();
    let mut g = vec![0.0; net.num_params()];
    for _ in 0..2 {
        assert_eq!(net.forward(&a).unwrap(), ya);
        assert_eq!(net.loss_and_gradient(&a, Loss::Mse, &mut g).unwrap(), la);
        assert_eq!(g, grad_a);
        assert_eq!(net.forward(&b).unwrap(), yb);
        assert_eq!(net.loss_and_gradient(&b, Loss::Mse, &mut g).unwrap(), lb);
        assert_eq!(g, grad_b);
    }
}
