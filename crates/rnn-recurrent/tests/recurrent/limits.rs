//! Overflow, refused updates and other failures: an `Err`, and the learner as it was.

use nalgebra::DMatrix;
use rnn_core::{Activation, Error, MaskedSequence, Optimizer, Parameters, Result, Sequence, Sgd};
use rnn_recurrent::{Bptt, FullyRecurrent, OnlineLearner, RecurrentConfig, Rtrl, RtrlOptions, Source, TruncatedBptt};

/// y(t+1) = gain · y(t), y(0) = y0: one identity unit, no input.
fn identity_loop(gain: f64, y0: f64) -> FullyRecurrent<f64> {
    let mut net = RecurrentConfig::new(0, 1, 1).activation(Activation::Identity).build::<f64>().unwrap();
    net.set_weight(0, Source::Unit(0), gain).unwrap();
    net.set_weight(0, Source::Bias, 0.0).unwrap();
    net.set_initial_state(&[y0]).unwrap();
    net
}

/// An identity net of 1 input and 2 units whose input weights are 10: x = 1e308 overflows.
fn amplifier() -> FullyRecurrent<f64> {
    let mut net =
        RecurrentConfig::new(1, 2, 1).activation(Activation::Identity).init_range(0.4).seed(9).build::<f64>().unwrap();
    net.set_weight(0, Source::Input(0), 10.0).unwrap();
    net.set_weight(1, Source::Input(0), 10.0).unwrap();
    net
}

fn silent(len: usize) -> MaskedSequence<f64> {
    MaskedSequence::all_present(Sequence::new(DMatrix::zeros(0, len), DMatrix::zeros(1, len)).unwrap()).unwrap()
}

#[test]
fn gradients_that_overflow_are_errors_not_infinities() {
    let mut g = vec![0.0; 2];
    // The output itself overflows after ~300 steps of gain 10.
    let long = silent(400);
    assert!(matches!(Bptt::new().gradient(&mut identity_loop(10.0, 1.0), &long, &mut g), Err(Error::NonFinite { .. })));
    let mut rtrl = Rtrl::new(identity_loop(10.0, 1.0), RtrlOptions::new()).unwrap();
    assert!(matches!(rtrl.gradient(&long, &mut g), Err(Error::NonFinite { .. })));
    // Finite outputs, an error that overflows.
    let one = silent(1);
    assert!(matches!(Bptt::new().gradient(&mut identity_loop(1.0, 1e200), &one, &mut g), Err(Error::NonFinite { .. })));
    let mut rtrl = Rtrl::new(identity_loop(1.0, 1e200), RtrlOptions::new()).unwrap();
    assert!(matches!(rtrl.gradient(&one, &mut g), Err(Error::NonFinite { .. })));
    let mut tbptt = TruncatedBptt::new(identity_loop(1.0, 1e200), 4, 2).unwrap();
    assert!(matches!(tbptt.step(&[], &[0.0], &[true], &mut Sgd::new(0.1).unwrap()), Err(Error::NonFinite { .. })));
}

#[test]
fn a_refused_truncated_step_leaves_no_trace() {
    let mut sgd_a = Sgd::new(0.01).unwrap();
    let mut sgd_b = Sgd::new(0.01).unwrap();
    let mut a = TruncatedBptt::new(amplifier(), 3, 2).unwrap();
    let mut b = TruncatedBptt::new(amplifier(), 3, 2).unwrap();
    for x in [0.1, 0.2, 0.3] {
        a.step(&[x], &[0.0], &[true], &mut sgd_a).unwrap();
        b.step(&[x], &[0.0], &[true], &mut sgd_b).unwrap();
    }
    assert!(matches!(a.step(&[1e308], &[0.0], &[true], &mut sgd_a), Err(Error::NonFinite { .. })));
    assert_eq!(a.state(), b.state());
    assert!(a.flush(&mut sgd_a).unwrap() && b.flush(&mut sgd_b).unwrap());
    assert_eq!(a.network().params(), b.network().params());
    let la = a.step(&[0.4], &[0.0], &[true], &mut sgd_a).unwrap();
    let lb = b.step(&[0.4], &[0.0], &[true], &mut sgd_b).unwrap();
    assert_eq!(la, lb);
}

#[test]
fn a_refused_rtrl_step_leaves_no_trace() {
    let mut sgd_a = Sgd::new(0.01).unwrap();
    let mut sgd_b = Sgd::new(0.01).unwrap();
    let mut a = Rtrl::new(amplifier(), RtrlOptions::new()).unwrap();
    let mut b = Rtrl::new(amplifier(), RtrlOptions::new()).unwrap();
    a.step(&[0.1], &[0.0], &[true], &mut sgd_a).unwrap();
    b.step(&[0.1], &[0.0], &[true], &mut sgd_b).unwrap();
    assert!(matches!(a.step(&[1e308], &[0.0], &[true], &mut sgd_a), Err(Error::NonFinite { .. })));
    assert_eq!(a.state(), b.state());
    assert_eq!(a.outputs(), b.outputs());
    assert_eq!(a.sensitivities(), b.sensitivities());
    assert_eq!(
        a.step(&[0.2], &[0.0], &[true], &mut sgd_a).unwrap(),
        b.step(&[0.2], &[0.0], &[true], &mut sgd_b).unwrap()
    );
    assert_eq!(a.network().params(), b.network().params());
    assert!(rnn_core::persist::to_bytes(&a).is_ok());
}

#[test]
fn sensitivities_that_overflow_are_refused_though_the_output_is_finite() {
    // y grows by 2 per step: after ~1020 steps y is near the top of f64 and ∂y/∂w beyond it.
    let mut l = Rtrl::new(identity_loop(2.0, 1.0), RtrlOptions::new()).unwrap();
    let mut sgd = Sgd::new(0.1).unwrap();
    let mut refused = None;
    for t in 0..1100 {
        if let Err(e) = l.step(&[], &[0.0], &[false], &mut sgd) {
            refused = Some((t, e));
            break;
        }
    }
    let (t, e) = refused.expect("the overflow is refused");
    assert!(matches!(e, Error::NonFinite { .. }), "{e}");
    assert!(l.sensitivities().iter().all(|p| p.is_finite()), "refused at step {t}, P kept finite");
    assert!(rnn_core::persist::to_bytes(&l).is_ok());
}

/// Refuses its first `n` steps.
struct Stubborn {
    sgd: Sgd<f64>,
    refusals: usize,
}

impl Optimizer<f64> for Stubborn {
    fn step(&mut self, params: &mut [f64], grad: &[f64]) -> Result<()> {
        if self.refusals > 0 {
            self.refusals -= 1;
            return Err(Error::config("test optimizer", "a later call", "a refused one"));
        }
        self.sgd.step(params, grad)
    }
    fn learning_rate(&self) -> f64 {
        self.sgd.learning_rate()
    }
    fn set_learning_rate(&mut self, lr: f64) -> Result<()> {
        self.sgd.set_learning_rate(lr)
    }
    fn reset(&mut self) {
        self.sgd.reset()
    }
}

#[test]
fn a_refused_truncated_update_keeps_its_errors_for_the_next_one() {
    let mut opt = Stubborn { sgd: Sgd::new(0.1).unwrap(), refusals: 1 };
    let net = RecurrentConfig::new(1, 2, 1).seed(3).build::<f64>().unwrap();
    let before = net.params().to_vec();
    let mut l = TruncatedBptt::new(net, 4, 2).unwrap();
    l.step(&[1.0], &[1.0], &[true], &mut opt).unwrap();
    assert!(l.step(&[0.0], &[1.0], &[true], &mut opt).is_err(), "the optimizer refuses");
    assert_eq!(l.network().params(), &before[..], "a refused update changes nothing");
    assert!(l.flush(&mut opt).unwrap(), "the pending errors are still there");
    assert_ne!(l.network().params(), &before[..]);
    // And the network is usable (its dense weights were kept in step).
    assert!(l.step(&[1.0], &[0.0], &[true], &mut opt).is_ok());
}

#[test]
fn teacher_forcing_needs_a_target_in_learn_too() {
    let seq = MaskedSequence::new(
        Sequence::new(DMatrix::zeros(1, 3), DMatrix::zeros(1, 3)).unwrap(),
        DMatrix::from_element(1, 3, false),
    )
    .unwrap();
    let net = RecurrentConfig::new(1, 2, 1).build::<f64>().unwrap();
    let mut sgd = Sgd::new(0.1).unwrap();
    let mut rtrl = Rtrl::new(net.clone(), RtrlOptions::new().teacher_forcing(true)).unwrap();
    assert!(matches!(rtrl.learn(&seq, &mut sgd), Err(Error::InvalidConfig { .. })));
    let mut tbptt = TruncatedBptt::new(net, 2, 1).unwrap().teacher_forcing(true);
    assert!(matches!(tbptt.learn(&seq, &mut sgd), Err(Error::InvalidConfig { .. })));
}
