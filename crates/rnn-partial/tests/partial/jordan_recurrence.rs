//! Jordan's recurrence c(t) = μ·c(t − 1) + y(t − 1) on a 3-step example computed by hand.

use nalgebra::DMatrix;
use rnn_core::{Activation, Parameters, SeqBatch};
use rnn_partial::JordanConfig;

/// One input, one hidden unit, one output, identity activations, μ = 0.5, c(0) = 1:
///
/// h(t) = 1·x(t) + 0.5·c(t) + 0,   y(t) = 2·h(t) + 0.1,   c(t + 1) = 0.5·c(t) + y(t)
///
/// with x = (1, 0, −1):
///
/// | t | c(t) | h(t) | y(t) |
/// |---|---|---|---|
/// | 0 | 1 | 1 + 0.5 = 1.5 | 3.1 |
/// | 1 | 0.5 + 3.1 = 3.6 | 0 + 1.8 = 1.8 | 3.7 |
/// | 2 | 1.8 + 3.7 = 5.5 | −1 + 2.75 = 1.75 | 3.6 |
///
/// and the context after the sequence is c(3) = 2.75 + 3.6 = 6.35.
#[test]
fn three_steps_by_hand() {
    let mut net = JordanConfig::new(1, &[1], 1)
        .hidden_activation(Activation::Identity)
        .output_activation(Activation::Identity)
        .mu(0.5)
        .initial_context(1.0)
        .build::<f64>()
        .unwrap();
    let names: Vec<&str> = net.layout().blocks().iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["w_in", "w_context", "b_hidden0", "w_out", "b_out"]);
    net.set_params(&[1.0, 0.5, 0.0, 2.0, 0.1]).unwrap();
    let expected_y = [3.1, 3.7, 3.6];
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;

    // The whole sequence at once.
    let x = DMatrix::from_row_slice(1, 3, &[1.0, 0.0, -1.0]);
    let batch = SeqBatch::new(x.clone(), None, 3, 1).unwrap();
    let mut state = net.initial_state(1).unwrap();
    let y = net.forward_from(&batch, &mut state).unwrap();
    for (t, &e) in expected_y.iter().enumerate() {
        assert!(close(y[(0, t)], e), "y({t}) = {}, expected {e}", y[(0, t)]);
    }
    assert!(close(state.context()[(0, 0)], 6.35), "c(3) = {}", state.context()[(0, 0)]);

    // Step by step, checking the context before each step.
    let expected_c = [1.0, 3.6, 5.5, 6.35];
    let mut state = net.initial_state(1).unwrap();
    for t in 0..3 {
        assert!(close(state.context()[(0, 0)], expected_c[t]), "c({t}) = {}", state.context()[(0, 0)]);
        let y = net.step(&DMatrix::from_element(1, 1, x[(0, t)]), &mut state).unwrap();
        assert!(close(y[(0, 0)], expected_y[t]));
    }
    assert!(close(state.context()[(0, 0)], expected_c[3]));
}
