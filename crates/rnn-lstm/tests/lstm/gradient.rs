//! Every gradient of the LSTM against central finite differences, in f64, in every
//! configuration: forget gate on and off, peepholes on and off, S = 1 and 2 cells per block,
//! gate recurrence, stacked layers, heads (every step, last step, shortcut), ragged batches and
//! masks, and the windows of truncated BPTT.

use nalgebra::DMatrix;
use rnn_core::{Activation, Differentiable, GradCheckOptions, Loss, Parameters, SeqBatch, Sequence, check_gradient};
use rnn_lstm::{Head, LstmConfig, Readout, WeightInit};

/// A ragged batch of three sequences (lengths 5, 3, 1) with `inputs` and `outputs` rows.
fn ragged(inputs: usize, outputs: usize) -> SeqBatch<f64> {
    let seq = |len: usize, phase: f64| {
        let x = DMatrix::from_fn(inputs, len, |i, t| ((i + 1) as f64 * 0.7 + t as f64 * 0.45 + phase).sin());
        let y = DMatrix::from_fn(outputs, len, |k, t| ((k + 2) as f64 * 0.3 - t as f64 * 0.2 + phase).cos() * 0.8);
        Sequence::new(x, y).unwrap()
    };
    let (a, b, c) = (seq(5, 0.0), seq(3, 1.0), seq(1, 2.0));
    SeqBatch::from_sequences(&[&a, &b, &c]).unwrap()
}

fn check(config: LstmConfig, loss: Loss, batch: &SeqBatch<f64>) {
    let mut net = config.clone().build::<f64>().unwrap();
    // Below 10⁻³ the error is measured absolutely: central differences in f64 carry ~10⁻⁹ of
    // rounding on a loss of order 1, while a wrong formula is off by the gradient itself.
    let options = GradCheckOptions::default().with_floor(1e-3).with_epsilon(1e-5);
    let report = check_gradient(&mut net, batch, loss, &options).unwrap();
    assert!(
        report.max_relative_error < 1e-6,
        "{config:?}: worst {} analytic {} numeric {} (relative {})",
        report.worst_name,
        report.analytic,
        report.numeric,
        report.max_relative_error
    );
}

fn variants() -> Vec<LstmConfig> {
    let mut out = Vec::new();
    for forget in [false, true] {
        for peep in [false, true] {
            for cells in [1, 2] {
                for gate_rec in [false, true] {
                    out.push(
                        LstmConfig::new(2, 2, cells)
                            .forget_gate(forget)
                            .peepholes(peep)
                            .gate_recurrence(gate_rec)
                            .init(WeightInit::Uniform(0.6))
                            .seed(cells as u64 + 10 * forget as u64 + 100 * peep as u64),
                    );
                }
            }
        }
    }
    out
}

#[test]
fn every_cell_variant_without_head() {
    let batch = ragged(2, 2 * 2);
    for config in variants().into_iter().filter(|c| c.cells_per_block == 2) {
        check(config, Loss::SumSquared, &batch);
    }
    let batch = ragged(2, 2);
    for config in variants().into_iter().filter(|c| c.cells_per_block == 1) {
        check(config, Loss::Mse, &batch);
    }
}

#[test]
fn heads_every_step_last_step_and_shortcut() {
    let batch = ragged(3, 2);
    for readout in [Readout::EveryStep, Readout::LastStep] {
        for shortcut in [false, true] {
            let head = Head::new(2).activation(Activation::Logistic).shortcut(shortcut).readout(readout);
            let config = LstmConfig::new(3, 2, 2).peepholes(true).head(head).init(WeightInit::Uniform(0.5)).seed(4);
            check(config, Loss::Mse, &batch);
        }
    }
    let softmax = LstmConfig::new(3, 3, 1).head(Head::new(2)).seed(5);
    let mut batch = ragged(3, 2);
    batch = {
        let t = batch.targets().unwrap().map(|v| if v > 0.0 { 1.0 } else { 0.0 });
        SeqBatch::new(batch.inputs().clone(), Some(t), batch.steps(), batch.batch_size())
            .unwrap()
            .with_lengths(batch.lengths().to_vec())
            .unwrap()
    };
    check(softmax, Loss::BinaryCrossEntropy, &batch);
}

#[test]
fn the_1997_and_2000_configurations() {
    let batch = ragged(3, 2);
    check(LstmConfig::hochreiter1997(3, 2, 2, 2).init(WeightInit::Uniform(0.5)), Loss::SumSquared, &batch);
    check(LstmConfig::gers2000(3, 2, 2, 2).peepholes(true), Loss::SumSquared, &batch);
}

#[test]
fn stacked_layers() {
    let batch = ragged(2, 3);
    let config = LstmConfig::new(2, 3, 1).layers(vec![3, 2, 3]).init(WeightInit::Uniform(0.7)).seed(6);
    check(config, Loss::Mse, &batch);
    let config = LstmConfig::new(2, 2, 2)
        .layers(vec![2, 1])
        .forget_gate(false)
        .peepholes(true)
        .gate_recurrence(true)
        .head(Head::new(3))
        .init(WeightInit::Uniform(0.7))
        .seed(7);
    check(config, Loss::Mse, &batch);
}

#[test]
fn a_truncated_window_from_a_carried_state() {
    let batch = ragged(2, 2);
    let config = LstmConfig::new(2, 2, 1).peepholes(true).head(Head::new(2)).init(WeightInit::Uniform(0.6)).seed(8);
    let mut net = config.build::<f64>().unwrap();
    let mut state = net.zero_state(3);
    net.forward_from(&batch, &mut state).unwrap();
    // The gradient of a window from a non-zero state, the state a constant: finite differences
    // of the loss from that same state.
    let start = state.clone();
    let mut grad = vec![0.0; rnn_core::Parameters::num_params(&net)];
    let mut s = start.clone();
    net.loss_and_gradient_from(&batch, Loss::Mse, &mut grad, &mut s).unwrap();
    let h = 1e-6;
    for i in 0..grad.len() {
        let mut p = rnn_core::Parameters::params(&net).to_vec();
        p[i] += h;
        rnn_core::Parameters::set_params(&mut net, &p).unwrap();
        let mut tmp = vec![0.0; p.len()];
        let up = net.loss_and_gradient_from(&batch, Loss::Mse, &mut tmp, &mut start.clone()).unwrap();
        p[i] -= 2.0 * h;
        rnn_core::Parameters::set_params(&mut net, &p).unwrap();
        let down = net.loss_and_gradient_from(&batch, Loss::Mse, &mut tmp, &mut start.clone()).unwrap();
        p[i] += h;
        rnn_core::Parameters::set_params(&mut net, &p).unwrap();
        let numeric = (up - down) / (2.0 * h);
        assert!(
            (numeric - grad[i]).abs() <= 1e-6 * numeric.abs().max(grad[i].abs()).max(1e-3),
            "{i}: {numeric} vs {}",
            grad[i]
        );
    }
}

#[test]
fn a_layer_of_the_largest_standard_size() {
    // W_h of 2048 × 512, as at the benchmark's (64, 512, 50, 32): whole register tiles and their
    // remainders in every product. The loss sums 512 outputs over 5 steps: a step of 10⁻³ keeps rounding in the differences
    // below the check (10⁻⁵ leaves ~10⁻⁷ of it).
    let seq = |len: usize, phase: f64| {
        let x = DMatrix::from_fn(2, len, |i, t| ((i + 1) as f64 * 0.7 + t as f64 * 0.45 + phase).sin());
        let y = DMatrix::from_fn(512, len, |k, t| ((k % 7) as f64 * 0.3 - t as f64 * 0.2 + phase).cos() * 0.8);
        Sequence::new(x, y).unwrap()
    };
    let (a, b) = (seq(3, 0.0), seq(2, 1.0));
    let batch = SeqBatch::from_sequences(&[&a, &b]).unwrap();
    let mut net = LstmConfig::torch(2, 512, 1).seed(3).build::<f64>().unwrap();
    let options = GradCheckOptions::default().with_floor(1e-3).with_epsilon(1e-3).with_max_params(40);
    let report = check_gradient(&mut net, &batch, Loss::SumSquared, &options).unwrap();
    assert!(
        report.max_relative_error < 1e-6,
        "worst {} ({}): {} vs {}",
        report.worst_name,
        report.max_relative_error,
        report.analytic,
        report.numeric
    );
    // And its recurrent weights in particular.
    let w_h = rnn_core::Parameters::layout(&net).block("layer0.w_h").unwrap().range();
    let options = options.with_indices(w_h.step_by(9973));
    let report = check_gradient(&mut net, &batch, Loss::SumSquared, &options).unwrap();
    assert!(
        report.max_relative_error < 1e-6,
        "worst {} ({}): {} vs {}",
        report.worst_name,
        report.max_relative_error,
        report.analytic,
        report.numeric
    );
}

#[test]
fn a_batch_split_over_two_threads_sums_its_sequences_gradients() {
    // Big enough (R·H·B·T ≥ 2²²) for the time loops and the weight products to run in two halves
    // of the batch and of the steps: with the summed squared error, the batch's gradient is the
    // sum of its sequences' own, each computed alone (no split).
    let (i, h, steps, b) = (16, 128, 20, 32);
    let mut net = LstmConfig::torch(i, h, 1).seed(9).build::<f64>().unwrap();
    let x = DMatrix::from_fn(i, steps * b, |r, c| ((r * 7 + c * 3) as f64 * 0.011).sin());
    let y = DMatrix::from_fn(h, steps * b, |r, c| ((r + 5 * c) as f64 * 0.017).cos() * 0.5);
    let batch = SeqBatch::new(x.clone(), Some(y.clone()), steps, b).unwrap();
    let mut whole = vec![0.0; net.num_params()];
    let loss = net.loss_and_gradient(&batch, Loss::SumSquared, &mut whole).unwrap();
    let (mut sum, mut one, mut loss_sum) = (vec![0.0f64; net.num_params()], vec![0.0; net.num_params()], 0.0f64);
    for k in 0..b {
        let xs = DMatrix::from_fn(i, steps, |r, t| x[(r, t * b + k)]);
        let ys = DMatrix::from_fn(h, steps, |r, t| y[(r, t * b + k)]);
        let single = SeqBatch::new(xs, Some(ys), steps, 1).unwrap();
        loss_sum += net.loss_and_gradient(&single, Loss::SumSquared, &mut one).unwrap();
        sum.iter_mut().zip(&one).for_each(|(s, &g)| *s += g);
    }
    assert!((loss - loss_sum).abs() < 1e-9 * loss.abs(), "{loss} vs {loss_sum}");
    let scale = sum.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (k, (a, s)) in whole.iter().zip(&sum).enumerate() {
        assert!((a - s).abs() < 1e-10 * scale, "parameter {k}: {a} vs {s}");
    }
}
