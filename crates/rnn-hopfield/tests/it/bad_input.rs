//! Every bad input is an `Err` that names what was expected and what came.

use nalgebra::{DMatrix, DVector};
use rnn_core::Error;
use rnn_hopfield::{Dynamics, Hopfield, ModernDynamics, ModernHopfield, Pattern, Rule};

use crate::random_patterns;

#[test]
fn pattern_values_must_be_bipolar_or_binary() {
    let e = Pattern::bipolar(&[1, -1, 0]).unwrap_err();
    assert!(matches!(e, Error::InvalidConfig { .. }));
    assert!(e.to_string().contains("expected −1 or +1"), "{e}");
    let e = Pattern::binary(&[0, 1, 2]).unwrap_err();
    assert!(e.to_string().contains("index 2") && e.to_string().contains("0 or 1"), "{e}");
    assert!(matches!(Pattern::binary(&[]), Err(Error::Empty { .. })));
    assert!(matches!(Pattern::threshold(&[f32::INFINITY], 0.0), Err(Error::NonFinite { .. })));
    assert!(matches!(Pattern::random(0, &mut rnn_core::rng::seeded(0)), Err(Error::Empty { .. })));
}

#[test]
fn empty_sets_and_sizes_are_refused() {
    assert!(matches!(Hopfield::<f64>::new(0, Rule::Hebbian), Err(Error::InvalidConfig { .. })));
    assert!(matches!(Hopfield::<f64>::with_patterns(Rule::Hebbian, &[]), Err(Error::Empty { .. })));
    let mut net = Hopfield::<f64>::new(10, Rule::Storkey).unwrap();
    let e = net.store(&[]).unwrap_err();
    assert!(e.to_string().contains("pattern set is empty"), "{e}");
    assert!(matches!(ModernHopfield::<f64>::from_patterns(&[], 1.0), Err(Error::Empty { .. })));
    assert!(matches!(ModernHopfield::new(DMatrix::<f64>::zeros(3, 0), 1.0), Err(Error::Empty { .. })));
}

#[test]
fn wrong_lengths_are_named() {
    let mut ps = random_patterns(20, 3, 1);
    ps.push(Pattern::random(19, &mut rnn_core::rng::seeded(2)).unwrap());
    for rule in [Rule::Hebbian, Rule::Storkey, Rule::pseudo_inverse()] {
        let e = Hopfield::<f64>::with_patterns(rule, &ps).unwrap_err();
        assert!(matches!(&e, Error::DimensionMismatch { expected: 20, got: 19, .. }), "{e}");
        assert!(e.to_string().contains("pattern 3"), "{e}");
    }
    let net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps[..3]).unwrap();
    let short = &ps[3];
    assert!(matches!(net.recall(short), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(net.energy(short), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(net.is_fixed_point(short), Err(Error::DimensionMismatch { .. })));
    let e = net.recall_batch(&[ps[0].clone(), short.clone()], &Dynamics::synchronous()).unwrap_err();
    assert!(e.to_string().contains("cue 1"), "{e}");
    let mut net2 = net.clone();
    assert!(matches!(net2.add(short), Err(Error::DimensionMismatch { .. })));
    assert_eq!(net2, net, "unchanged on error");
    assert!(matches!(net2.set_thresholds(&[0.0; 3]), Err(Error::DimensionMismatch { .. })));
    let mut th = vec![0.0; 20];
    th[4] = f64::NAN;
    assert!(matches!(net2.set_thresholds(&th), Err(Error::NonFinite { index: 4, .. })));
    let mut s = DMatrix::from_element(19, 2, 1.0);
    let mut h = DMatrix::zeros(19, 2);
    assert!(matches!(net.synchronous_step(&mut s, &mut h), Err(Error::DimensionMismatch { .. })));
    let mut s = DMatrix::from_element(20, 2, 1.0);
    s[(3, 1)] = 0.5;
    let mut h = DMatrix::zeros(20, 2);
    let e = net.synchronous_step(&mut s, &mut h).unwrap_err();
    assert!(e.to_string().contains("row 3, column 1"), "{e}");
}

#[test]
fn pseudo_inverse_refuses_more_than_it_can_hold() {
    // More patterns than neurons.
    let ps = random_patterns(10, 11, 3);
    let e = Hopfield::<f64>::with_patterns(Rule::pseudo_inverse(), &ps).unwrap_err();
    assert!(e.to_string().contains("at most n = 10"), "{e}");
    // A dependent set: a complement of an earlier pattern.
    let ps = random_patterns(30, 4, 4);
    let mut dependent = ps.clone();
    dependent.push(ps[2].negated());
    let e = Hopfield::<f64>::with_patterns(Rule::pseudo_inverse(), &dependent).unwrap_err();
    assert!(matches!(e, Error::InvalidConfig { .. }));
    assert!(e.to_string().contains("pattern 4 lies in the span of patterns 0..4"), "{e}");
    // A less obvious one: with Walsh patterns w₀ … w₃ of length 8 (w₃ = w₁∘w₂), the ±1 pattern
    // ½(w₀ + w₁ + w₂ − w₃) is a linear combination of the four.
    let walsh = |k: usize| {
        Pattern::bipolar(
            &(0..8).map(|i| if (i & k).count_ones().is_multiple_of(2) { 1 } else { -1 }).collect::<Vec<i8>>(),
        )
        .unwrap()
    };
    let combo: Vec<i8> = (0..8)
        .map(|i| {
            let v = walsh(0).as_slice()[i] + walsh(1).as_slice()[i] + walsh(2).as_slice()[i] - walsh(3).as_slice()[i];
            v / 2
        })
        .collect();
    let combo = Pattern::bipolar(&combo).unwrap();
    let set = [walsh(0), walsh(1), walsh(2), walsh(3), combo];
    let e = Hopfield::<f64>::with_patterns(Rule::pseudo_inverse(), &set).unwrap_err();
    assert!(e.to_string().contains("pattern 4 lies in the span"), "{e}");
    // Adding a dependent pattern leaves the network as it was.
    let mut net = Hopfield::<f64>::with_patterns(Rule::pseudo_inverse(), &set[..4]).unwrap();
    let before = net.clone();
    assert!(net.add(&set[4]).is_err());
    assert_eq!(net, before);
}

#[test]
fn bad_dynamics_are_refused() {
    let ps = random_patterns(16, 2, 5);
    let net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps).unwrap();
    let e = net.recall_with(&ps[0], &Dynamics::default().max_sweeps(0)).unwrap_err();
    assert!(e.to_string().contains("max_sweeps"), "{e}");
    assert!(net.clone().with_dynamics(Dynamics::synchronous().max_sweeps(0)).is_err());
}

#[test]
fn modern_network_checks_its_inputs() {
    let x = DMatrix::from_element(4, 3, 1.0f64);
    for beta in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(ModernHopfield::new(x.clone(), beta), Err(Error::InvalidConfig { .. })), "{beta}");
    }
    let mut bad = x.clone();
    bad[(2, 1)] = f64::NAN;
    assert!(matches!(ModernHopfield::new(bad, 1.0), Err(Error::NonFinite { index: 6, .. })));
    let mut net = ModernHopfield::new(x, 1.0).unwrap();
    assert!(matches!(net.recall_vector(&DVector::zeros(5)), Err(Error::DimensionMismatch { expected: 4, got: 5, .. })));
    assert!(matches!(net.recall_vector(&DVector::from_element(4, f64::NAN)), Err(Error::NonFinite { .. })));
    assert!(matches!(net.energy(&[0.0; 3]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(net.add_vector(&[1.0; 3]), Err(Error::DimensionMismatch { .. })));
    assert!(net.set_beta(0.0).is_err());
    assert!(net.clone().with_dynamics(ModernDynamics { max_steps: 0, tolerance: 1e-6 }).is_err());
    assert!(net.clone().with_dynamics(ModernDynamics { max_steps: 1, tolerance: -1.0 }).is_err());
    let ps = random_patterns(4, 2, 6);
    let mut uneven = ps.clone();
    uneven.push(Pattern::bipolar(&[1, 1, 1]).unwrap());
    assert!(matches!(ModernHopfield::<f64>::from_patterns(&uneven, 1.0), Err(Error::DimensionMismatch { .. })));
}
