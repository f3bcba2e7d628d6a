//! Every bad input returns its own error, never a panic.

use nalgebra::DMatrix;
use rnn_core::{Activation, Differentiable, Error, Loss, SeqBatch, Sequence, SequenceModel, optim::Sgd};
use rnn_partial::{Backprop, ElmanConfig, Init, JordanConfig, OnlineOptions, State};

fn dim_error(e: Error, what: &str, expected: usize, got: usize) {
    match e {
        Error::DimensionMismatch { what: w, expected: x, got: g } => {
            assert!(w.contains(what), "`{w}` should mention `{what}`");
            assert_eq!((x, g), (expected, got), "{w}");
        }
        other => panic!("expected a dimension mismatch about {what}, got {other:?}"),
    }
}

fn config_error<T: std::fmt::Debug>(r: rnn_core::Result<T>, name: &str) {
    match r {
        Err(Error::InvalidConfig { name: n, .. }) => assert!(n.contains(name), "`{n}` should mention `{name}`"),
        other => panic!("expected an invalid-config error about {name}, got {other:?}"),
    }
}

#[test]
fn wrong_input_width() {
    let mut net = ElmanConfig::new(3, &[4], 2).build::<f64>().unwrap();
    let batch = SeqBatch::new(DMatrix::zeros(2, 5), Some(DMatrix::zeros(2, 5)), 5, 1).unwrap();
    dim_error(net.forward(&batch).unwrap_err(), "input width", 3, 2);
    let mut grad = vec![0.0; rnn_core::Parameters::num_params(&net)];
    dim_error(net.loss_and_gradient(&batch, Loss::Mse, &mut grad).unwrap_err(), "input width", 3, 2);
    let mut state = net.initial_state(1).unwrap();
    dim_error(net.step(&DMatrix::zeros(2, 1), &mut state).unwrap_err(), "input width", 3, 2);
    dim_error(net.step(&DMatrix::zeros(3, 2), &mut state).unwrap_err(), "batch size", 1, 2);
}

#[test]
fn wrong_target_width() {
    let mut net = JordanConfig::new(3, &[4], 2).build::<f64>().unwrap();
    let batch = SeqBatch::new(DMatrix::zeros(3, 5), Some(DMatrix::zeros(1, 5)), 5, 1).unwrap();
    let mut grad = vec![0.0; rnn_core::Parameters::num_params(&net)];
    dim_error(net.loss_and_gradient(&batch, Loss::Mse, &mut grad).unwrap_err(), "target width", 2, 1);
    dim_error(net.loss(&batch, Loss::Mse).unwrap_err(), "target width", 2, 1);
    let stream = Sequence::new(DMatrix::zeros(3, 5), DMatrix::zeros(1, 5)).unwrap();
    let e = net.train_online(&stream, &mut Sgd::new(0.1).unwrap(), Loss::Mse, &OnlineOptions::new(1)).unwrap_err();
    dim_error(e, "target width", 2, 1);
    // No targets at all.
    let no_targets = SeqBatch::new(DMatrix::zeros(3, 5), None, 5, 1).unwrap();
    assert!(matches!(net.loss_and_gradient(&no_targets, Loss::Mse, &mut grad), Err(Error::Empty { .. })));
}

#[test]
fn empty_sequence() {
    let mut net = ElmanConfig::new(2, &[3], 1).build::<f64>().unwrap();
    let mut state = net.initial_state(1).unwrap();
    assert!(matches!(net.run_sequence(&DMatrix::zeros(2, 0), &mut state), Err(Error::Empty { .. })));
    // A stream built by hand, bypassing Sequence::new.
    let stream = Sequence { inputs: DMatrix::zeros(2, 0), targets: DMatrix::zeros(1, 0) };
    let e = net.train_online(&stream, &mut Sgd::new(0.1).unwrap(), Loss::Mse, &OnlineOptions::new(1)).unwrap_err();
    assert!(matches!(e, Error::Empty { .. }), "{e:?}");
    let mut empty = net.initial_state(0).unwrap();
    assert!(matches!(net.step(&DMatrix::zeros(2, 0), &mut empty), Err(Error::Empty { .. })));
}

#[test]
fn mu_outside_the_unit_interval() {
    config_error(JordanConfig::new(1, &[2], 1).mu(1.5).build::<f64>(), "μ");
    config_error(JordanConfig::new(1, &[2], 1).mu(-0.1).build::<f32>(), "μ");
    config_error(JordanConfig::new(1, &[2], 1).mu(f64::NAN).build::<f64>(), "μ");
    assert!(JordanConfig::new(1, &[2], 1).mu(0.0).build::<f64>().is_ok());
    assert!(JordanConfig::new(1, &[2], 1).mu(1.0).build::<f64>().is_ok());
}

#[test]
fn bad_configurations() {
    config_error(ElmanConfig::new(0, &[2], 1).build::<f64>(), "inputs");
    config_error(ElmanConfig::new(1, &[2], 0).build::<f64>(), "outputs");
    config_error(ElmanConfig::new(1, &[2, 0], 1).build::<f64>(), "hidden layer 1");
    assert!(matches!(ElmanConfig::new(1, &[], 1).build::<f64>(), Err(Error::Empty { .. })));
    config_error(ElmanConfig::new(1, &[2], 1).initial_context(f64::NAN).build::<f64>(), "initial context");
    config_error(ElmanConfig::new(1, &[2], 1).hidden_activation(Activation::Sign).build::<f64>(), "hidden layer 0");
    config_error(
        ElmanConfig::new(1, &[2], 1)
            .output_activation(Activation::ScaledLogistic { min: 1.0, max: 1.0 })
            .build::<f64>(),
        "output activation",
    );
    config_error(ElmanConfig::new(1, &[2], 1).init(Init::Uniform(f64::INFINITY)).build::<f64>(), "uniform");
    config_error(ElmanConfig::new(1, &[2], 1).init(Init::Orthogonal(f64::NAN)).build::<f64>(), "gain");
    let e = ElmanConfig::new(1, &[2, 3], 1).hidden_activations(&[Activation::Tanh]).build::<f64>().unwrap_err();
    dim_error(e, "activations", 2, 1);
    // Sizes whose parameter count overflows, or would not fit in memory, are refused before
    // anything is allocated.
    config_error(ElmanConfig::new(usize::MAX, &[2], 1).build::<f64>(), "network size");
    config_error(JordanConfig::new(1, &[1 << 20, 1 << 20], 1).build::<f32>(), "network size");
}

#[test]
fn huge_horizons_and_truncations() {
    let net = JordanConfig::new(1, &[2], 1).build::<f64>().unwrap();
    let mut state = net.initial_state(3).unwrap();
    config_error(net.forecast(&mut state, &DMatrix::zeros(1, 3), usize::MAX / 2), "horizon");
    let mut one = net.initial_state(1).unwrap();
    config_error(net.forecast_window(&mut one, &[0.5], usize::MAX), "horizon");
    config_error(net.forecast_series(&[0.5, 0.2], usize::MAX), "horizon");
    // A truncation longer than the stream is the whole stream.
    let mut net = ElmanConfig::new(1, &[2], 1).build::<f64>().unwrap();
    let stream = Sequence::new(DMatrix::zeros(1, 4), DMatrix::zeros(1, 4)).unwrap();
    let options = OnlineOptions::new(2).backprop(Backprop::Truncated(usize::MAX));
    assert_eq!(net.train_online(&stream, &mut Sgd::new(0.1).unwrap(), Loss::Mse, &options).unwrap().len(), 2);
    let batch = SeqBatch::new(DMatrix::zeros(1, 4), Some(DMatrix::zeros(1, 4)), 4, 1).unwrap();
    net.set_backprop(Backprop::Truncated(usize::MAX));
    let mut grad = vec![0.0; rnn_core::Parameters::num_params(&net)];
    assert!(net.loss_and_gradient(&batch, Loss::Mse, &mut grad).is_ok());
}

#[test]
fn wrong_gradient_length_and_state_shapes() {
    let mut net = ElmanConfig::new(2, &[3], 1).build::<f64>().unwrap();
    let batch = SeqBatch::new(DMatrix::zeros(2, 4), Some(DMatrix::zeros(1, 4)), 2, 2).unwrap();
    let n = rnn_core::Parameters::num_params(&net);
    dim_error(
        net.loss_and_gradient(&batch, Loss::Mse, &mut vec![0.0; n - 1]).unwrap_err(),
        "gradient length",
        n,
        n - 1,
    );
    let mut wrong_batch = net.initial_state(3).unwrap();
    dim_error(net.forward_from(&batch, &mut wrong_batch).unwrap_err(), "batch size", 2, 3);
    let mut wrong_units = State::from_context(DMatrix::zeros(5, 2));
    dim_error(net.forward_from(&batch, &mut wrong_units).unwrap_err(), "context units", 3, 5);
    let mut nan = State::from_context(DMatrix::from_element(3, 2, f64::NAN));
    assert!(matches!(net.forward_from(&batch, &mut nan), Err(Error::NonFinite { .. })));
    let mut state = net.initial_state(1).unwrap();
    let x = DMatrix::from_element(2, 1, f64::INFINITY);
    assert!(matches!(net.step(&x, &mut state), Err(Error::NonFinite { .. })));
}

#[test]
fn forecasts_that_do_not_fit_the_net() {
    let net = ElmanConfig::new(2, &[3], 1).build::<f64>().unwrap();
    let mut state = net.initial_state(1).unwrap();
    config_error(net.forecast(&mut state, &DMatrix::zeros(2, 1), 3), "free-running");
    dim_error(net.forecast_window(&mut state, &[1.0], 3).unwrap_err(), "window length", 2, 1);
    let mut two = net.initial_state(2).unwrap();
    dim_error(net.forecast_window(&mut two, &[1.0, 2.0], 3).unwrap_err(), "batch size", 1, 2);
    assert!(matches!(net.forecast_series(&[1.0], 3), Err(Error::NotEnoughData { .. })));
    assert!(matches!(net.forecast_window(&mut state, &[1.0, f64::NAN], 3), Err(Error::NonFinite { .. })));
    let wide = ElmanConfig::new(2, &[3], 2).build::<f64>().unwrap();
    let mut state = wide.initial_state(1).unwrap();
    config_error(wide.forecast_window(&mut state, &[1.0, 2.0], 3), "windowed");
    config_error(wide.forecast_series(&[1.0, 2.0, 3.0], 3), "windowed");
}

#[test]
fn online_settings() {
    let mut net = ElmanConfig::new(1, &[2], 1).build::<f64>().unwrap();
    let stream = Sequence::new(DMatrix::zeros(1, 3), DMatrix::zeros(1, 3)).unwrap();
    let mut sgd = Sgd::new(0.1).unwrap();
    let full = OnlineOptions::new(1).backprop(Backprop::Full);
    config_error(net.train_online(&stream, &mut sgd, Loss::Mse, &full), "online");
    config_error(net.train_online(&stream, &mut sgd, Loss::Mse, &OnlineOptions::new(0)), "passes");
    let wrong = Sequence::new(DMatrix::zeros(2, 3), DMatrix::zeros(1, 3)).unwrap();
    dim_error(net.train_online(&wrong, &mut sgd, Loss::Mse, &OnlineOptions::new(1)).unwrap_err(), "input width", 1, 2);
}

#[test]
fn models_configs_and_errors_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<rnn_partial::Elman<f32>>();
    check::<rnn_partial::Jordan<f64>>();
    check::<ElmanConfig>();
    check::<JordanConfig>();
    check::<State<f64>>();
    check::<OnlineOptions>();
}
