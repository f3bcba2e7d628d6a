//! The truncated RTRL of the 1997 paper against full BPTT where nothing is truncated (no
//! recurrent weights, or a single step), its forward pass against the network's, learning with
//! per-step updates, and its errors.

use nalgebra::DMatrix;
use rnn_core::{Activation, Differentiable, Error, Loss, Parameters, SeqBatch};
use rnn_lstm::{Head, Lstm, LstmConfig, Readout, TruncatedRtrl, WeightInit};

/// The configurations the learner supports: no forget gate with gate recurrence (1997),
/// forget gates with shortcut and head bias (2000), the modern cell with cell biases and
/// gate recurrence, a linear head.
fn configs() -> Vec<LstmConfig> {
    vec![
        LstmConfig::hochreiter1997(3, 2, 2, 2).init(WeightInit::Uniform(0.5)).seed(1),
        LstmConfig::gers2000(3, 2, 2, 2).init(WeightInit::Uniform(0.5)).seed(2),
        LstmConfig::gers2000(3, 3, 1, 2).gate_recurrence(true).cell_bias(true).init(WeightInit::Uniform(0.5)).seed(3),
        LstmConfig::new(3, 2, 2)
            .gate_recurrence(true)
            .head(Head::new(2).shortcut(true))
            .init(WeightInit::Uniform(0.5))
            .seed(4),
        LstmConfig::new(3, 1, 3)
            .forget_gate(false)
            .head(Head::new(2).bias(false))
            .init(WeightInit::Uniform(0.5))
            .seed(5),
    ]
}

fn data(len: usize, phase: f64) -> (DMatrix<f64>, DMatrix<f64>) {
    let x = DMatrix::from_fn(3, len, |i, t| ((i + 1) as f64 * 0.9 + t as f64 * 0.45 + phase).sin());
    let y = DMatrix::from_fn(2, len, |k, t| 0.5 + 0.4 * ((k + 2) as f64 * 0.3 - t as f64 * 0.2 + phase).cos());
    (x, y)
}

fn zero_recurrent(net: &mut Lstm<f64>) {
    let range = net.layout().block("layer0.w_h").unwrap().range();
    net.params_mut()[range].fill(0.0);
}

/// (accumulated truncated gradient, its error) and (BPTT gradient, its loss).
fn both(net: &mut Lstm<f64>, x: &DMatrix<f64>, y: &DMatrix<f64>, mask: Option<Vec<bool>>) -> [(Vec<f64>, f64); 2] {
    let before = net.params().to_vec();
    let mut rtrl = TruncatedRtrl::new(net, 0.5).unwrap().accumulating(true);
    let present = mask.as_ref().map(|m| DMatrix::from_fn(1, m.len(), |_, t| m[t]));
    let e = rtrl.train_sequence(net, x, y, present.as_ref()).unwrap();
    assert_eq!(net.params(), &before[..], "accumulating must not change the weights");
    let mut batch = SeqBatch::new(x.clone(), Some(y.clone()), x.ncols(), 1).unwrap();
    if let Some(m) = mask {
        batch = batch.with_valid_mask(m).unwrap();
    }
    let mut grad = vec![0.0; net.num_params()];
    let loss = net.loss_and_gradient(&batch, Loss::SumSquared, &mut grad).unwrap();
    [(rtrl.gradient().to_vec(), e), (grad, loss)]
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max)
}

#[test]
fn without_recurrent_weights_the_truncated_gradient_is_bptts() {
    for config in configs() {
        let mut net = config.build::<f64>().unwrap();
        zero_recurrent(&mut net);
        let (x, y) = data(9, 0.3);
        let [(g, e), (full, loss)] = both(&mut net, &x, &y, None);
        assert!((e - loss).abs() < 1e-12, "{config:?}: error {e} vs loss {loss}");
        assert!(full.iter().map(|v| v.abs()).fold(0.0, f64::max) > 1e-3);
        let d = max_diff(&g, &full);
        assert!(d < 1e-10, "{config:?}: truncated vs BPTT differ by {d}");
        // Targets at some steps only.
        let mask = vec![false, true, false, false, true, true, false, false, true];
        let [(g, e), (full, loss)] = both(&mut net, &x, &y, Some(mask));
        assert!((e - loss).abs() < 1e-12);
        assert!(max_diff(&g, &full) < 1e-10, "{config:?} masked: {}", max_diff(&g, &full));
    }
}

#[test]
fn on_one_step_the_truncated_gradient_is_bptts_for_any_weights() {
    for config in configs() {
        let mut net = config.build::<f64>().unwrap();
        let (x, y) = data(1, 1.1);
        let [(g, _), (full, _)] = both(&mut net, &x, &y, None);
        let d = max_diff(&g, &full);
        assert!(d < 1e-12, "{config:?}: {d}");
    }
}

#[test]
fn with_recurrent_weights_the_truncated_gradient_differs() {
    for config in configs() {
        let mut net = config.build::<f64>().unwrap();
        let (x, y) = data(9, 0.3);
        let [(g, _), (full, _)] = both(&mut net, &x, &y, None);
        let d = max_diff(&g, &full);
        assert!(d > 1e-4, "{config:?}: truncation should change the gradient, differs by only {d}");
        // It is still an approximation of it: mostly the same sign.
        let agree = g.iter().zip(&full).filter(|(a, b)| a.signum() == b.signum()).count();
        assert!(agree * 2 > g.len(), "{config:?}: {agree} of {} signs agree", g.len());
    }
}

#[test]
fn the_forward_pass_is_the_networks_and_the_state_carries_over() {
    for config in configs() {
        let mut net = config.build::<f64>().unwrap();
        let (x, _) = data(12, 0.7);
        let expected = net.run(&x).unwrap();
        let mut rtrl = TruncatedRtrl::new(&net, 0.1).unwrap();
        rtrl.reset();
        for t in 0..12 {
            let out = rtrl.step(&mut net, x.column(t).as_slice(), None).unwrap().to_vec();
            for k in 0..2 {
                assert!((out[k] - expected[(k, t)]).abs() < 1e-12, "{config:?} step {t}");
            }
        }
    }
}

#[test]
fn per_step_updates_are_sgd_on_each_steps_error() {
    // Two steps: the first update changes the weights the second step runs with.
    let config = LstmConfig::gers2000(3, 2, 2, 2).init(WeightInit::Uniform(0.5)).seed(8);
    let mut net = config.build::<f64>().unwrap();
    let (x, y) = data(2, 0.2);
    let mut rtrl = TruncatedRtrl::new(&net, 0.3).unwrap();
    let mut acc = TruncatedRtrl::new(&net, 0.3).unwrap().accumulating(true);
    let mut reference = net.clone();
    // Step 1 by hand: the one-step gradient is BPTT's.
    acc.reset();
    acc.step(&mut reference, x.column(0).as_slice(), Some(y.column(0).as_slice())).unwrap();
    let g0 = acc.gradient().to_vec();
    rtrl.reset();
    rtrl.step(&mut net, x.column(0).as_slice(), Some(y.column(0).as_slice())).unwrap();
    for (i, (&p, &q)) in net.params().iter().zip(reference.params()).enumerate() {
        assert!((p - (q - 0.3 * g0[i])).abs() < 1e-14);
    }
    // Step 2 runs with the changed weights.
    let changed = net.params().to_vec();
    let out = rtrl.step(&mut net, x.column(1).as_slice(), Some(y.column(1).as_slice())).unwrap().to_vec();
    // … from the state that step 1 reached with the old weights.
    let mut state = reference.zero_state(1);
    let one = |t: usize| SeqBatch::new(x.columns(t, 1).into_owned(), None, 1, 1).unwrap();
    reference.forward_from(&one(0), &mut state).unwrap();
    let mut probe = reference.clone();
    probe.params_mut().copy_from_slice(&changed);
    let expected = probe.forward_from(&one(1), &mut state).unwrap();
    assert!((out[0] - expected[(0, 0)]).abs() < 1e-12 && (out[1] - expected[(1, 0)]).abs() < 1e-12);
    assert!(net.params() != &changed[..], "the second step changes the weights again");
    assert!(rtrl.gradient().iter().all(|&v| v == 0.0), "the updating mode sums nothing");
}

#[test]
fn a_small_task_is_learned_with_per_step_updates() {
    // Predict the input of two steps before (a memory task), 1997 net, η = 0.5.
    let mut net =
        LstmConfig::hochreiter1997(2, 2, 1, 1).init(WeightInit::Uniform(0.2)).seed(11).build::<f64>().unwrap();
    let mut rtrl = TruncatedRtrl::new(&net, 0.5).unwrap();
    let seq = |k: usize| {
        let bits: Vec<f64> = (0..8).map(|t| ((k * 7 + t * 5 + (k * t) % 3) % 2) as f64).collect();
        let x = DMatrix::from_fn(2, 8, |i, t| if i == 0 { bits[t] } else { 1.0 - bits[t] });
        let y = DMatrix::from_fn(1, 8, |_, t| if t >= 2 { bits[t - 2] } else { 0.5 });
        (x, y)
    };
    let epoch = |net: &mut Lstm<f64>, rtrl: &mut TruncatedRtrl<f64>| {
        (0..8)
            .map(|k| {
                let (x, y) = seq(k);
                rtrl.train_sequence(net, &x, &y, None).unwrap()
            })
            .sum::<f64>()
    };
    let first = epoch(&mut net, &mut rtrl);
    let mut last = first;
    for _ in 0..400 {
        last = epoch(&mut net, &mut rtrl);
    }
    assert!(last < 0.3 * first, "error {first} → {last}");
}

#[test]
fn bad_networks_and_inputs_are_errors() {
    let bad = |config: LstmConfig, what: &str| {
        let net = config.build::<f64>().unwrap();
        match TruncatedRtrl::new(&net, 0.1) {
            Err(Error::InvalidConfig { name, expected, got }) => {
                assert!(name.contains(what), "{name}: {expected}, {got}");
                assert!(!expected.is_empty() && !got.is_empty());
            }
            other => panic!("{what}: {other:?}"),
        }
    };
    bad(LstmConfig::hochreiter1997(3, 2, 1, 2).layers(vec![2, 2]), "layers");
    bad(LstmConfig::new(3, 2, 1), "head");
    bad(
        LstmConfig::hochreiter1997(3, 2, 1, 2)
            .head(Head::new(2).activation(Activation::Logistic).readout(Readout::LastStep)),
        "readout",
    );
    bad(LstmConfig::hochreiter1997(3, 2, 1, 2).peepholes(true), "peepholes");

    let mut net = LstmConfig::hochreiter1997(3, 2, 1, 2).build::<f64>().unwrap();
    for lr in [f64::NAN, -1.0, f64::INFINITY] {
        assert!(matches!(TruncatedRtrl::new(&net, lr), Err(Error::InvalidConfig { .. })));
    }
    let mut rtrl = TruncatedRtrl::new(&net, 0.1).unwrap();
    assert!(rtrl.set_learning_rate(f64::NAN).is_err());
    let dim = |r: rnn_core::Result<_>| assert!(matches!(r, Err(Error::DimensionMismatch { .. })), "{r:?}");
    dim(rtrl.step(&mut net, &[0.0; 2], None).map(|_| ()));
    dim(rtrl.step(&mut net, &[0.0; 3], Some(&[0.0; 3])).map(|_| ()));
    assert!(matches!(rtrl.step(&mut net, &[0.0, f64::NAN, 0.0], None), Err(Error::NonFinite { .. })));
    assert!(matches!(rtrl.step(&mut net, &[0.0; 3], Some(&[f64::INFINITY, 0.0])), Err(Error::NonFinite { .. })));
    let before = net.params().to_vec();
    let x = DMatrix::zeros(3, 4);
    dim(rtrl.train_sequence(&mut net, &x, &DMatrix::zeros(2, 3), None).map(|_| ()));
    dim(rtrl.train_sequence(&mut net, &x, &DMatrix::zeros(1, 4), None).map(|_| ()));
    dim(rtrl.train_sequence(&mut net, &x, &DMatrix::zeros(2, 4), Some(&DMatrix::from_element(3, 4, true))).map(|_| ()));
    dim(rtrl.train_sequence(&mut net, &x, &DMatrix::zeros(2, 4), Some(&DMatrix::from_element(1, 5, true))).map(|_| ()));
    assert!(matches!(
        rtrl.train_sequence(&mut net, &DMatrix::zeros(3, 0), &DMatrix::zeros(2, 0), None),
        Err(Error::Empty { .. })
    ));
    assert_eq!(net.params(), &before[..]);
    // Another network.
    let mut other = LstmConfig::hochreiter1997(3, 3, 1, 2).build::<f64>().unwrap();
    assert!(matches!(rtrl.step(&mut other, &[0.0; 3], None), Err(Error::InvalidConfig { .. })));
    // Weights that overflow.
    let mut huge = net.clone();
    huge.params_mut().fill(1e308);
    huge.params_mut()[0] = f64::NAN;
    assert!(matches!(rtrl.step(&mut huge, &[1.0; 3], Some(&[0.0, 1.0])), Err(Error::NonFinite { .. })));
}
