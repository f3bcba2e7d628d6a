//! An adversarial user: every bad input gets a clear `Err` naming what was expected and what
//! came (never a panic, a silent NaN or an allocation abort), and a network that refused
//! something is unchanged and still works.

use std::fmt::Debug;

use nalgebra::DMatrix;
use rnn_core::{
    Activation, Differentiable, Error, Loss, Parameters, Persist, SeqBatch, Sequence, SequenceModel, Sgd, TrainConfig,
};
use rnn_lstm::{GateBias, Head, Lstm, LstmConfig, Readout, TruncatedBptt, WeightInit};
use serde::{Deserialize, Serialize};

/// The `InvalidConfig` of `result`, whose name contains `needle`.
#[track_caller]
fn invalid_config<T: Debug>(result: rnn_core::Result<T>, needle: &str) -> (String, String) {
    match result {
        Err(Error::InvalidConfig { name, expected, got }) => {
            assert!(name.contains(needle), "name {name:?} lacks {needle:?} (expected {expected:?}, got {got:?})");
            (expected, got)
        }
        other => panic!("expected InvalidConfig naming {needle:?}, got {other:?}"),
    }
}

/// The `DimensionMismatch` of `result`, whose description contains `needle`.
#[track_caller]
fn dim_mismatch<T: Debug>(result: rnn_core::Result<T>, needle: &str, want: (usize, usize)) {
    match result {
        Err(Error::DimensionMismatch { what, expected, got }) => {
            assert!(what.contains(needle), "{what:?} lacks {needle:?}");
            assert_eq!((expected, got), want, "{what}");
        }
        other => panic!("expected DimensionMismatch naming {needle:?}, got {other:?}"),
    }
}

/// The `NonFinite` of `result`, whose description contains `needle`.
#[track_caller]
fn non_finite<T: Debug>(result: rnn_core::Result<T>, needle: &str) {
    match result {
        Err(Error::NonFinite { what, .. }) => assert!(what.contains(needle), "{what:?} lacks {needle:?}"),
        other => panic!("expected NonFinite naming {needle:?}, got {other:?}"),
    }
}

fn net() -> Lstm<f64> {
    LstmConfig::new(2, 2, 2).peepholes(true).head(Head::new(1)).seed(3).build().unwrap()
}

fn batch(steps: usize, b: usize, targets: bool) -> SeqBatch<f64> {
    let x = DMatrix::from_fn(2, steps * b, |i, j| ((i + 2 * j) as f64 * 0.3).sin());
    let y = targets.then(|| DMatrix::from_fn(1, steps * b, |_, j| (j as f64 * 0.2).cos()));
    SeqBatch::new(x, y, steps, b).unwrap()
}

/// The network still runs, and gives what an untouched clone gives.
#[track_caller]
fn still_works(net: &mut Lstm<f64>, before: &Lstm<f64>) {
    assert_eq!(net.params(), before.params(), "parameters changed");
    let b = batch(3, 2, true);
    let mut fresh = before.clone();
    assert_eq!(net.forward(&b).unwrap(), fresh.forward(&b).unwrap());
    let mut grad = vec![0.0; net.num_params()];
    assert!(net.loss_and_gradient(&b, Loss::Mse, &mut grad).unwrap().is_finite());
}

#[test]
fn zero_sizes_are_named() {
    invalid_config(LstmConfig::new(0, 2, 1).build::<f64>(), "inputs");
    invalid_config(LstmConfig::new(2, 0, 1).build::<f64>(), "memory blocks of layer 0");
    invalid_config(LstmConfig::new(2, 2, 1).layers(vec![2, 0]).build::<f64>(), "memory blocks of layer 1");
    invalid_config(LstmConfig::new(2, 2, 0).build::<f64>(), "cells per block");
    invalid_config(LstmConfig::torch(2, 3, 0).build::<f64>(), "layers");
    invalid_config(LstmConfig::new(2, 2, 1).head(Head::new(0)).build::<f64>(), "head outputs");
    invalid_config(LstmConfig::hochreiter1997(2, 2, 2, 0).build::<f32>(), "head outputs");
}

/// Sizes whose products overflow `usize` somewhere in the layout (cells = blocks·S, rows =
/// cells + gates, a block's rows·cols, the total) or that cannot be allocated.
fn huge_configs() -> Vec<(&'static str, LstmConfig)> {
    let big = usize::MAX / 2;
    vec![
        ("cells = blocks × S", LstmConfig::new(1, big, 4)),
        ("gates = 3 × blocks", LstmConfig::new(1, big, 1)),
        ("rows = cells + gates", LstmConfig::new(1, usize::MAX / 4, 3)),
        ("inputs", LstmConfig::new(big, 1, 1)),
        ("upper layer", LstmConfig::new(1, 1, 1).layers(vec![1, big])),
        ("head outputs", LstmConfig::new(1, 1, 1).head(Head::new(big))),
        ("head shortcut", LstmConfig::new(big / 8, 1, 1).head(Head::new(9).shortcut(true))),
        ("gate recurrence", LstmConfig::new(1, 1 << 33, 1).gate_recurrence(true)),
        // Fits in `usize` but not in any address space: 2⁴⁸ weights.
        ("unallocatable", LstmConfig::new(1, 1 << 23, 1)),
    ]
}

#[test]
fn huge_sizes_give_an_error_not_a_panic_or_abort() {
    for (what, config) in huge_configs() {
        match config.build::<f64>() {
            Err(Error::Allocation { what: w, .. }) => assert!(!w.is_empty(), "{what}"),
            other => panic!("{what}: expected Allocation, got {other:?}"),
        }
    }
}

#[test]
fn huge_sizes_in_a_deserialized_network_give_an_error() {
    let json = serde_json::to_value(net()).unwrap();
    for (what, config) in huge_configs() {
        let mut bad = json.clone();
        bad["config"] = serde_json::to_value(&config).unwrap();
        let err = serde_json::from_value::<Lstm<f64>>(bad).unwrap_err().to_string();
        assert!(err.contains("cannot allocate") || err.contains("expected"), "{what}: {err}");
    }
}

#[test]
fn non_finite_config_values_are_refused() {
    for (bias, needle) in [
        (GateBias::constant(f64::NAN), "input-gate bias"),
        (GateBias::staggered(0.0, f64::INFINITY), "input-gate bias"),
        // Finite start and step, but block 2 starts at 1e308 + 2·1e308 = ∞.
        (GateBias::staggered(1e308, 1e308), "input-gate bias"),
    ] {
        let config = LstmConfig::new(1, 3, 1).input_gate_bias(bias);
        invalid_config(config.validate(), needle);
        invalid_config(config.build::<f64>(), needle);
    }
    for limit in [f64::NAN, f64::INFINITY, -0.5] {
        invalid_config(LstmConfig::new(1, 2, 1).init(WeightInit::Uniform(limit)).build::<f64>(), "weight range");
    }
}

#[test]
fn values_finite_in_f64_but_not_in_f32_are_refused_for_f32() {
    // 1e39 is finite as f64 and infinite as f32: the weights, biases and activations would be.
    invalid_config(LstmConfig::new(1, 2, 1).init(WeightInit::Uniform(1e39)).build::<f32>(), "weight range");
    invalid_config(LstmConfig::new(1, 2, 1).forget_gate_bias(GateBias::constant(-1e39)).build::<f32>(), "forget-gate");
    let wide = Activation::ScaledLogistic { min: -1e39, max: 1e39 };
    invalid_config(LstmConfig::new(1, 2, 1).squashing(wide, Activation::Tanh).build::<f32>(), "cell input");
    invalid_config(LstmConfig::new(1, 2, 1).gate_activation(wide).build::<f32>(), "gate activation");
    invalid_config(LstmConfig::new(1, 2, 1).head(Head::new(1).activation(wide)).build::<f32>(), "head activation");
    // The same in f64 is fine.
    assert!(LstmConfig::new(1, 2, 1).init(WeightInit::Uniform(1e39)).build::<f64>().is_ok());
}

#[test]
fn bad_activations_are_refused() {
    for (f, needle) in [
        (Activation::ScaledLogistic { min: 1.0, max: -1.0 }, "min < max"),
        (Activation::ScaledLogistic { min: 1.0, max: 1.0 }, "min < max"),
        (Activation::ScaledLogistic { min: f64::NAN, max: 1.0 }, "min < max"),
        (Activation::ScaledLogistic { min: -1.0, max: f64::INFINITY }, "min < max"),
        (Activation::ScaledLogistic { min: -f64::MAX, max: f64::MAX }, "range"),
        (Activation::Sign, "differentiable"),
    ] {
        for config in [
            LstmConfig::new(1, 2, 1).gate_activation(f),
            LstmConfig::new(1, 2, 1).squashing(f, Activation::Tanh),
            LstmConfig::new(1, 2, 1).squashing(Activation::Tanh, f),
            LstmConfig::new(1, 2, 1).head(Head::new(1).activation(f)),
        ] {
            let (expected, _) = invalid_config(config.build::<f64>(), "");
            assert!(expected.contains(needle), "{f:?}: {expected}");
        }
    }
}

#[test]
fn unusual_but_valid_activations_train_with_finite_results() {
    // ReLU and identity squashing are allowed (unbounded cells); gradients stay finite.
    let mut net = LstmConfig::new(2, 2, 1)
        .squashing(Activation::Relu, Activation::Identity)
        .gate_activation(Activation::Relu)
        .head(Head::new(1))
        .seed(1)
        .build::<f64>()
        .unwrap();
    let mut grad = vec![0.0; net.num_params()];
    let loss = net.loss_and_gradient(&batch(4, 2, true), Loss::Mse, &mut grad).unwrap();
    assert!(loss.is_finite() && grad.iter().all(|g| g.is_finite()));
}

#[test]
fn non_finite_inputs_and_targets_are_refused_at_the_batch() {
    let mut x = DMatrix::zeros(2, 3);
    x[(1, 2)] = f64::NAN;
    non_finite(SeqBatch::new(x, None, 3, 1), "inputs");
    let y = DMatrix::from_element(1, 3, f64::NEG_INFINITY);
    non_finite(SeqBatch::new(DMatrix::zeros(2, 3), Some(y), 3, 1), "targets");
    // A sequence built around `Sequence::new` through its public fields.
    let mut s = Sequence::new(DMatrix::zeros(2, 3), DMatrix::zeros(1, 3)).unwrap();
    s.inputs[(0, 1)] = f64::INFINITY;
    non_finite(SeqBatch::from_sequences(&[&s]), "sequence 0");
    // A sequence of no step, or of the wrong width, through `run`.
    let mut net = net();
    assert!(matches!(net.run(&DMatrix::zeros(2, 0)), Err(Error::Empty { .. })));
    dim_mismatch(net.run(&DMatrix::zeros(0, 3)), "input width", (2, 0));
    // steps · batch overflowing usize.
    assert!(matches!(SeqBatch::new(DMatrix::<f64>::zeros(2, 0), None, usize::MAX, 2), Err(Error::Allocation { .. })));
}

#[test]
fn non_finite_weights_are_refused_everywhere_and_nothing_is_written() {
    let mut net = net();
    let good = net.params().to_vec();
    net.params_mut()[5] = f64::INFINITY;
    let b = batch(3, 2, true);
    non_finite(net.forward(&b), "LSTM parameters");
    non_finite(net.loss(&b, Loss::Mse), "LSTM parameters");
    let mut grad = vec![7.0; net.num_params()];
    non_finite(net.loss_and_gradient(&b, Loss::Mse, &mut grad), "LSTM parameters");
    let mut state = net.zero_state(2);
    non_finite(net.forward_from(&b, &mut state), "LSTM parameters");
    non_finite(net.loss_and_gradient_from(&b, Loss::Mse, &mut grad, &mut state), "LSTM parameters");
    assert_eq!(state, net.zero_state(2));
    // Neither saved nor serialised into something that loads.
    let path = std::env::temp_dir().join(format!("rnn-lstm-adv-nan-{}.rnn", std::process::id()));
    non_finite(rnn_core::save(&net, &path), "LSTM parameters");
    assert!(!path.exists());
    net.params_mut().copy_from_slice(&good);
    let restored = net.clone();
    still_works(&mut net, &restored);
}

#[test]
fn finite_weights_that_overflow_give_an_error_not_nan_outputs() {
    // No forget gate, identity squashing, weights and inputs of 10³⁰⁰: the net inputs overflow
    // (the squashing would hide it behind finite gates).
    let mut net = LstmConfig::new(1, 1, 1)
        .forget_gate(false)
        .squashing(Activation::Identity, Activation::Identity)
        .head(Head::new(1))
        .build::<f64>()
        .unwrap();
    net.params_mut().fill(1e300);
    let before = net.clone();
    let x = DMatrix::from_element(1, 4, 1e300);
    let b = SeqBatch::new(x.clone(), Some(DMatrix::zeros(1, 4)), 4, 1).unwrap();
    non_finite(net.run(&x), "net inputs");
    non_finite(net.forward(&b), "net inputs");
    non_finite(net.loss(&b, Loss::Mse), "net inputs");
    let mut grad = vec![0.0; net.num_params()];
    non_finite(net.loss_and_gradient(&b, Loss::Mse, &mut grad), "net inputs");
    let mut state = net.zero_state(1);
    non_finite(net.forward_from(&b, &mut state), "net inputs");
    non_finite(net.loss_and_gradient_from(&b, Loss::Mse, &mut grad, &mut state), "net inputs");
    // The state is left as it was, and stays usable.
    assert_eq!(state, net.zero_state(1));
    assert_eq!(net.params(), before.params());
}

#[test]
fn a_loss_that_overflows_is_an_error() {
    // Finite outputs (1e200) whose squared error overflows.
    let mut net = LstmConfig::new(1, 1, 1).head(Head::new(1)).build::<f64>().unwrap();
    net.params_mut().fill(0.0);
    let bias = net.layout().block("head.bias").unwrap().range();
    net.params_mut()[bias].fill(1e200);
    let b = SeqBatch::new(DMatrix::zeros(1, 2), Some(DMatrix::zeros(1, 2)), 2, 1).unwrap();
    assert!(net.forward(&b).unwrap().iter().all(|v| v.is_finite()));
    non_finite(net.loss(&b, Loss::Mse), "loss");
    let mut grad = vec![0.0; net.num_params()];
    non_finite(net.loss_and_gradient(&b, Loss::Mse, &mut grad), "loss");
}

#[test]
fn states_of_the_wrong_shape_are_refused_and_left_alone() {
    let mut net = net();
    let before = net.clone();
    let b = batch(3, 2, true);
    let mut grad = vec![0.0; net.num_params()];
    // For another batch size.
    let mut one = net.zero_state(1);
    dim_mismatch(net.forward_from(&b, &mut one), "sequences", (2, 1));
    dim_mismatch(net.loss_and_gradient_from(&b, Loss::Mse, &mut grad, &mut one), "sequences", (2, 1));
    assert_eq!(one, net.zero_state(1));
    // From networks with another number of layers, cells, or recurrent sources.
    let others = [
        LstmConfig::new(2, 2, 2).layers(vec![2, 2]).build::<f64>().unwrap(),
        LstmConfig::new(2, 3, 2).build::<f64>().unwrap(),
        LstmConfig::new(2, 2, 2).gate_recurrence(true).build::<f64>().unwrap(),
    ];
    for (other, needle) in others.iter().zip(["state layers", "cell states of layer 0", "recurrent sources of layer 0"])
    {
        let mut state = other.zero_state(2);
        let keep = state.clone();
        match net.forward_from(&b, &mut state) {
            Err(Error::DimensionMismatch { what, .. }) => assert!(what.contains(needle), "{what}"),
            other => panic!("expected DimensionMismatch naming {needle}, got {other:?}"),
        }
        assert_eq!(state, keep);
    }
    still_works(&mut net, &before);
}

#[test]
fn a_bad_batch_leaves_the_state_alone() {
    let mut net = net();
    let mut state = net.zero_state(1);
    net.forward_from(&batch(4, 1, false), &mut state).unwrap();
    let keep = state.clone();
    let wide = SeqBatch::new(DMatrix::zeros(3, 2), Some(DMatrix::zeros(1, 2)), 2, 1).unwrap();
    dim_mismatch(net.forward_from(&wide, &mut state), "input width", (2, 3));
    let mut grad = vec![0.0; net.num_params()];
    dim_mismatch(net.loss_and_gradient_from(&wide, Loss::Mse, &mut grad, &mut state), "input width", (2, 3));
    let no_targets = batch(2, 1, false);
    assert!(matches!(
        net.loss_and_gradient_from(&no_targets, Loss::Mse, &mut grad, &mut state),
        Err(Error::Empty { .. })
    ));
    let wrong_targets = SeqBatch::new(DMatrix::zeros(2, 2), Some(DMatrix::zeros(3, 2)), 2, 1).unwrap();
    dim_mismatch(net.loss_and_gradient_from(&wrong_targets, Loss::Mse, &mut grad, &mut state), "target width", (1, 3));
    dim_mismatch(
        net.loss_and_gradient_from(&batch(2, 1, true), Loss::Mse, &mut grad[1..], &mut state),
        "gradient",
        (net.num_params(), net.num_params() - 1),
    );
    assert_eq!(state, keep);
}

#[test]
fn gradient_slices_of_the_wrong_length_are_refused() {
    let mut net = net();
    let n = net.num_params();
    let b = batch(3, 1, true);
    for len in [0, 1, n - 1, n + 1] {
        let mut grad = vec![0.0; len];
        dim_mismatch(net.loss_and_gradient(&b, Loss::Mse, &mut grad), "gradient length", (n, len));
    }
    let mut torch = LstmConfig::torch(2, 3, 1).build::<f64>().unwrap();
    dim_mismatch(torch.torch_layer_gradient(0, &[0.0; 5]), "gradient length", (torch.num_params(), 5));
    let _ = torch.params_mut();
}

#[test]
fn ragged_and_empty_sequences() {
    let mut net = net();
    let b = batch(3, 2, true);
    // Lengths longer than the batch, or not one per sequence.
    invalid_config(b.clone().with_lengths(vec![3, 4]), "sequence 1");
    dim_mismatch(b.clone().with_lengths(vec![3, 3, 3]), "sequence lengths", (2, 3));
    // Every-step readout: a sequence of length 0 is left out, its outputs are zero.
    let out = net.forward(&b.clone().with_lengths(vec![3, 0]).unwrap()).unwrap();
    assert!((0..3).all(|t| out[(0, 2 * t + 1)] == 0.0));
    // All sequences of length 0, or a mask with nothing valid: nothing counts, no NaN.
    let mut grad = vec![1.0; net.num_params()];
    for nothing in [b.clone().with_lengths(vec![0, 0]).unwrap(), b.clone().with_valid_mask(vec![false; 6]).unwrap()] {
        assert_eq!(net.loss(&nothing, Loss::Mse).unwrap(), 0.0);
        assert_eq!(net.loss_and_gradient(&nothing, Loss::Mse, &mut grad).unwrap(), 0.0);
        assert!(grad.iter().all(|&g| g == 0.0));
    }
    dim_mismatch(b.clone().with_valid_mask(vec![true; 5]), "validity mask", (6, 5));
}

#[test]
fn last_step_readout_with_ragged_and_empty_sequences() {
    let mut net =
        LstmConfig::new(2, 2, 2).head(Head::new(1).readout(Readout::LastStep)).seed(2).build::<f64>().unwrap();
    let b = batch(4, 2, true);
    let ragged = b.clone().with_lengths(vec![4, 2]).unwrap();
    let out = net.forward(&ragged).unwrap();
    assert_eq!(out.shape(), (1, 2));
    // Sequence 1 alone, 2 steps long, reads the same.
    let x1 = DMatrix::from_fn(2, 2, |i, t| b.inputs()[(i, 2 * t + 1)]);
    let alone = net.run(&x1).unwrap();
    assert!((alone[(0, 0)] - out[(0, 1)]).abs() < 1e-12);
    // A sequence of no step has no last step.
    let empty = b.clone().with_lengths(vec![4, 0]).unwrap();
    let mut grad = vec![0.0; net.num_params()];
    let mut state = net.zero_state(2);
    let (expected, got) = invalid_config(net.forward(&empty), "length of sequence 1");
    assert!(expected.contains("last-step") && got == "0", "{expected} {got}");
    invalid_config(net.loss(&empty, Loss::Mse), "length of sequence 1");
    invalid_config(net.loss_and_gradient(&empty, Loss::Mse, &mut grad), "length of sequence 1");
    invalid_config(net.forward_from(&empty, &mut state), "length of sequence 1");
    assert_eq!(state, net.zero_state(2));
}

#[test]
fn truncated_bptt_misuse() {
    invalid_config(TruncatedBptt::new(0), "window");
    for norm in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        invalid_config(TruncatedBptt::new(2).unwrap().clip_norm(norm), "clipping norm");
    }
    // A last-step head cannot be trained in windows; nothing changes.
    let mut last = LstmConfig::new(2, 2, 1).head(Head::new(1).readout(Readout::LastStep)).build::<f64>().unwrap();
    let before = last.params().to_vec();
    let mut sgd = Sgd::new(0.1).unwrap();
    invalid_config(
        TruncatedBptt::new(2).unwrap().train_epoch(&mut last, &batch(4, 1, true), Loss::Mse, &mut sgd),
        "readout",
    );
    assert_eq!(last.params(), before);
    // Windows past the end of every sequence count for nothing, and train without NaN.
    let mut net = net();
    let short = batch(6, 2, true).with_lengths(vec![2, 1]).unwrap();
    let loss = TruncatedBptt::new(2).unwrap().train_epoch(&mut net, &short, Loss::Mse, &mut sgd).unwrap();
    assert!(loss.is_finite());
    assert!(net.params().iter().all(|p| p.is_finite()));
    // A window longer than the stream is one window.
    assert_eq!(TruncatedBptt::new(100).unwrap().windows(&short).unwrap().len(), 1);
    // A state for another batch size.
    let mut state = net.zero_state(3);
    let tb = TruncatedBptt::new(2).unwrap();
    dim_mismatch(tb.train_epoch_from(&mut net, &short, Loss::Mse, &mut sgd, &mut state), "sequences", (2, 3));
}

#[test]
fn huge_learning_rates_give_an_error_not_nan_weights() {
    let mut net = net();
    let before = net.clone();
    let b = batch(8, 2, true);
    let mut sgd = Sgd::new(1e308).unwrap();
    let err = TruncatedBptt::new(4).unwrap().train_epoch(&mut net, &b, Loss::Mse, &mut sgd).unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. } | Error::Diverged { .. }), "{err:?}");
    still_works(&mut net, &before);
    // Through rnn_core::train as well.
    let data: Vec<Sequence<f64>> = (0..4)
        .map(|k| {
            let x = DMatrix::from_fn(2, 5, |i, t| ((i + t + k) as f64).sin());
            Sequence::new(x, DMatrix::from_fn(1, 5, |_, t| t as f64)).unwrap()
        })
        .collect();
    let mut sgd = Sgd::new(1e308).unwrap();
    let err = rnn_core::train(&mut net, &data, &mut sgd, &TrainConfig::default().with_epochs(3), |_| {
        rnn_core::Control::Continue
    })
    .unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. } | Error::Diverged { .. }), "{err:?}");
    still_works(&mut net, &before);
}

/// A model of another kind, saved as the Elman networks are.
#[derive(Serialize, Deserialize)]
struct Elman {
    weights: Vec<f64>,
}

impl Persist for Elman {
    const KIND: &'static str = "rnn-partial/elman";

    fn scalar_name() -> &'static str {
        "f64"
    }

    fn validate(&self) -> rnn_core::Result<()> {
        Ok(())
    }
}

#[test]
fn bad_files_are_refused_and_good_ones_are_kept() {
    let dir = std::env::temp_dir().join(format!("rnn-lstm-adv-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = net();
    let path = dir.join("net.rnn");
    rnn_core::save(&net, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let write = |name: &str, b: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, b).unwrap();
        p
    };
    // Truncated, one byte flipped in the payload, empty, garbage.
    let err = rnn_core::load::<Lstm<f64>>(write("cut.rnn", &bytes[..bytes.len() - 9])).unwrap_err();
    assert!(matches!(err, Error::Truncated { .. }), "{err:?}");
    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x40;
    let err = rnn_core::load::<Lstm<f64>>(write("flipped.rnn", &flipped)).unwrap_err();
    assert!(matches!(err, Error::ChecksumMismatch { .. }), "{err:?}");
    for junk in [&b""[..], b"not a model file at all"] {
        assert!(rnn_core::load::<Lstm<f64>>(write("junk.rnn", junk)).is_err());
    }
    // Another kind, another scalar, a directory, a missing file.
    let elman = dir.join("elman.rnn");
    rnn_core::save(&Elman { weights: vec![1.0; 3] }, &elman).unwrap();
    match rnn_core::load::<Lstm<f64>>(&elman) {
        Err(Error::WrongModelKind { expected, got }) => {
            assert_eq!((expected.as_str(), got.as_str()), ("rnn-lstm/lstm", "rnn-partial/elman"))
        }
        other => panic!("expected WrongModelKind, got {other:?}"),
    }
    assert!(matches!(rnn_core::load::<Lstm<f32>>(&path), Err(Error::WrongScalar { .. })));
    assert!(matches!(rnn_core::load::<Lstm<f64>>(&dir), Err(Error::Io { .. })));
    assert!(matches!(rnn_core::load::<Lstm<f64>>(dir.join("missing.rnn")), Err(Error::Io { .. })));
    // A failed save (non-finite weights) leaves the file already there intact.
    let mut broken = net.clone();
    broken.params_mut()[0] = f64::NAN;
    assert!(rnn_core::save(&broken, &path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let back: Lstm<f64> = rnn_core::load(&path).unwrap();
    assert_eq!(back.params(), net.params());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inconsistent_json_is_refused() {
    let net = net();
    let json = serde_json::to_value(&net).unwrap();
    let refused = |edit: &dyn Fn(&mut serde_json::Value), needle: &str| {
        let mut bad = json.clone();
        edit(&mut bad);
        let err = serde_json::from_value::<Lstm<f64>>(bad).unwrap_err().to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    };
    refused(&|j| j["config"]["inputs"] = 3.into(), "LSTM parameters");
    refused(&|j| j["config"]["inputs"] = 0.into(), "inputs");
    refused(&|j| j["config"]["blocks"] = serde_json::json!([]), "layers");
    refused(&|j| j["config"]["peepholes"] = false.into(), "LSTM parameters");
    refused(&|j| j["config"]["gate_activation"] = serde_json::json!("Sign"), "gate activation");
    refused(&|j| j["params"].as_array_mut().unwrap().push(0.5.into()), "LSTM parameters");
    refused(&|j| j["params"] = serde_json::json!([]), "LSTM parameters");
    refused(&|j| j["params"][0] = serde_json::Value::Null, "");
    refused(&|j| j.as_object_mut().unwrap().remove("config").map(drop).unwrap(), "config");
    refused(
        &|j| {
            j["config"]["input_gate_bias"] = serde_json::json!({ "start": 1e308, "step": 1e308 });
        },
        "input-gate bias",
    );
    // A value finite in JSON (and f64) but infinite as f32.
    let net32 = LstmConfig::new(1, 1, 1).build::<f32>().unwrap();
    let mut j32 = serde_json::to_value(&net32).unwrap();
    j32["params"][0] = serde_json::json!(1e39);
    let err = serde_json::from_value::<Lstm<f32>>(j32).unwrap_err().to_string();
    assert!(err.contains("non-finite") && err.contains("LSTM parameters"), "{err}");
}

#[test]
fn set_torch_layer_misuse_changes_nothing() {
    let mut net = LstmConfig::torch(2, 3, 2).seed(1).build::<f64>().unwrap();
    let before = net.params().to_vec();
    let (w_ih, w_hh, b) = net.torch_layer(1).unwrap();
    let zero = vec![0.0; 12];
    // Layer 1 takes the 3 cells of layer 0, not the 2 inputs.
    let narrow = DMatrix::zeros(12, 2);
    dim_mismatch(net.set_torch_layer(1, &narrow, &w_hh, &b, &zero), "weight_ih of layer 1 (columns", (3, 2));
    dim_mismatch(net.set_torch_layer(1, &w_ih, &w_ih.rows(0, 8).into_owned(), &b, &zero), "weight_hh", (12, 8));
    dim_mismatch(net.set_torch_layer(1, &w_ih, &w_hh, &b[..11], &zero), "bias_ih", (12, 11));
    dim_mismatch(net.set_torch_layer(1, &w_ih, &w_hh, &b, &[]), "bias_hh", (12, 0));
    let (expected, got) = invalid_config(net.set_torch_layer(2, &w_ih, &w_hh, &b, &zero), "layer index");
    assert!(expected.contains("2 layer") && got == "2", "{expected} {got}");
    invalid_config(net.torch_layer(usize::MAX), "layer index");
    let mut nan = w_hh.clone();
    nan[(4, 1)] = f64::NAN;
    non_finite(net.set_torch_layer(1, &w_ih, &nan, &b, &zero), "weight_hh of layer 1");
    let huge = vec![f64::MAX; 12];
    non_finite(net.set_torch_layer(1, &w_ih, &w_hh, &huge, &huge), "bias_ih + bias_hh");
    assert_eq!(net.params(), before);
    // Networks not of PyTorch's form.
    for (config, needle) in [
        (LstmConfig::new(2, 3, 2), "cells per block"),
        (LstmConfig::torch(2, 3, 1).peepholes(true), "peepholes"),
        (LstmConfig::torch(2, 3, 1).forget_gate(false), "forget gates"),
        (LstmConfig::torch(2, 3, 1).gate_recurrence(true), "gate recurrence"),
        (LstmConfig::torch(2, 3, 1).cell_bias(false), "cell-input biases"),
        (LstmConfig::torch(2, 3, 1).gate_bias(false), "gate biases"),
        (LstmConfig::torch(2, 3, 1).gate_activation(Activation::Tanh), "gate activation"),
        (LstmConfig::torch(2, 3, 1).squashing(Activation::Tanh, Activation::Relu), "cell output"),
    ] {
        let mut other = config.build::<f64>().unwrap();
        invalid_config(other.torch_layer(0), needle);
        let (w_ih, w_hh) = (DMatrix::zeros(12, 2), DMatrix::zeros(12, 3));
        invalid_config(other.set_torch_layer(0, &w_ih, &w_hh, &zero, &zero), needle);
    }
}

#[test]
fn a_nan_deep_in_a_large_network_is_named_at_its_own_index() {
    // 1.18 M parameters: the check runs in two halves on two threads; the second half's
    // offender is reported at its index in the whole vector.
    let mut net = LstmConfig::torch(64, 512, 1).build::<f32>().unwrap();
    let at = net.num_params() - 7;
    net.params_mut()[at] = f32::NAN;
    let batch = SeqBatch::new(DMatrix::zeros(64, 2), None, 2, 1).unwrap();
    match net.forward(&batch) {
        Err(Error::NonFinite { what, index, .. }) => {
            assert!(what.contains("parameters"), "{what}");
            assert_eq!(index, at);
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
}
