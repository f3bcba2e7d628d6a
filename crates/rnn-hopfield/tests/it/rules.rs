//! Storage rules: fixed points at low load, exact storage by the pseudo-inverse, incremental
//! adds.

use rnn_hopfield::{Dynamics, Hopfield, Rule, StateKind};

use crate::random_patterns;

const RULES: [Rule; 4] =
    [Rule::Hebbian, Rule::Storkey, Rule::pseudo_inverse(), Rule::PseudoInverse { keep_diagonal: true }];

#[test]
fn stored_patterns_are_fixed_points_at_low_load() {
    let ps = random_patterns(200, 6, 1);
    for rule in RULES {
        let net = Hopfield::<f64>::with_patterns(rule, &ps).unwrap();
        assert!(net.fixed_points(&ps).unwrap().iter().all(|&f| f), "{rule:?}");
        for (k, p) in ps.iter().enumerate() {
            let r = net.recall(p).unwrap();
            assert!(r.converged() && r.is_pattern(k) && r.sweeps == 1 && r.flips == 0, "{rule:?} {r:?}");
        }
    }
}

#[test]
fn weights_are_symmetric_with_zero_diagonal() {
    let ps = random_patterns(50, 10, 2);
    for rule in RULES {
        let net = Hopfield::<f32>::with_patterns(rule, &ps).unwrap();
        let w = net.weights();
        assert_eq!(w, &w.transpose(), "{rule:?}");
        let diag_zero = (0..50).all(|i| w[(i, i)] == 0.0);
        assert_eq!(diag_zero, rule.zero_diagonal(), "{rule:?}");
    }
}

#[test]
fn pseudo_inverse_stores_half_n_random_patterns_exactly() {
    let n = 200;
    let ps = random_patterns(n, n / 2, 3);
    for rule in [Rule::pseudo_inverse(), Rule::PseudoInverse { keep_diagonal: true }] {
        let net = Hopfield::<f64>::with_patterns(rule, &ps).unwrap();
        assert!(net.fixed_points(&ps).unwrap().iter().all(|&f| f), "{rule:?}");
    }
    // Hebb's rule cannot: far beyond n / (2 ln n) ≈ 19.
    let hebb = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps).unwrap();
    assert_eq!(hebb.fixed_points(&ps).unwrap().iter().filter(|&&f| f).count(), 0);
    // The projection (diagonal kept) reproduces every pattern exactly: W ξ = ξ.
    let proj = Hopfield::<f64>::with_patterns(Rule::PseudoInverse { keep_diagonal: true }, &ps).unwrap();
    for p in &ps {
        let h = proj.local_fields(p).unwrap();
        let err = h.iter().zip(p.as_slice()).map(|(h, &s)| (h - f64::from(s)).abs()).fold(0.0, f64::max);
        assert!(err < 1e-9, "{err}");
    }
}

#[test]
fn pseudo_inverse_corrects_noisy_cues_at_moderate_load() {
    let n = 200;
    let ps = random_patterns(n, 30, 4);
    let net = Hopfield::<f64>::with_patterns(Rule::pseudo_inverse(), &ps).unwrap();
    let mut rng = rnn_core::rng::seeded(5);
    let cues: Vec<_> = ps.iter().map(|p| p.flipped(10, &mut rng).unwrap()).collect();
    let out = net.recall_batch(&cues, &Dynamics::default()).unwrap();
    let hits = out.iter().enumerate().filter(|(k, r)| r.is_pattern(*k)).count();
    assert!(hits >= 28, "{hits} of 30");
}

#[test]
fn storkey_holds_more_than_hebbian() {
    // n = 100: Hebb's absolute capacity ≈ 11, Storkey's ≈ 33.
    let ps = random_patterns(100, 20, 6);
    let fixed = |rule| {
        let net = Hopfield::<f64>::with_patterns(rule, &ps).unwrap();
        net.fixed_points(&ps).unwrap().iter().filter(|&&f| f).count()
    };
    let (hebb, storkey) = (fixed(Rule::Hebbian), fixed(Rule::Storkey));
    assert!(storkey == 20 && hebb < 15, "hebbian {hebb}, storkey {storkey}");
}

#[test]
fn adding_a_pattern_matches_storing_all() {
    let ps = random_patterns(64, 8, 7);
    for rule in [Rule::Hebbian, Rule::Storkey, Rule::pseudo_inverse()] {
        let all = Hopfield::<f64>::with_patterns(rule, &ps).unwrap();
        let mut inc = Hopfield::<f64>::with_patterns(rule, &ps[..5]).unwrap();
        for p in &ps[5..] {
            inc.add(p).unwrap();
        }
        let diff = (all.weights() - inc.weights()).abs().max();
        assert!(diff < 1e-12, "{rule:?}: {diff}");
        assert_eq!(inc.patterns(), all.patterns());
        // From an empty network too.
        let mut empty = Hopfield::<f64>::new(64, rule).unwrap();
        for p in &ps {
            empty.add(p).unwrap();
        }
        assert!((all.weights() - empty.weights()).abs().max() < 1e-12, "{rule:?}");
    }
}

#[test]
fn hebbian_weights_follow_the_formula() {
    let ps = random_patterns(30, 4, 8);
    let net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps).unwrap();
    for i in 0..30 {
        for j in 0..30 {
            let expected = if i == j {
                0.0
            } else {
                ps.iter().map(|p| f64::from(p.as_slice()[i] * p.as_slice()[j])).sum::<f64>() / 30.0
            };
            assert!((net.weights()[(i, j)] - expected).abs() < 1e-15);
        }
    }
}

#[test]
fn complements_are_stored_too() {
    let ps = random_patterns(100, 3, 9);
    let net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps).unwrap();
    let r = net.recall(&ps[1].negated()).unwrap();
    let nearest = r.nearest.unwrap();
    assert_eq!((nearest.pattern, nearest.kind, nearest.overlap), (1, StateKind::Complement, -1.0));
}
