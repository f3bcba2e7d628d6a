//! Saving and loading through rnn-core.

use rnn_core::{Error, persist};
use rnn_hopfield::{Dynamics, Hopfield, ModernHopfield, Rule};

use crate::random_patterns;

#[test]
fn networks_round_trip_through_files() {
    let dir = std::env::temp_dir().join(format!("rnn-hopfield-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ps = random_patterns(40, 6, 1);
    for rule in [Rule::Hebbian, Rule::Storkey, Rule::pseudo_inverse(), Rule::PseudoInverse { keep_diagonal: true }] {
        let mut net =
            Hopfield::<f32>::with_patterns(rule, &ps).unwrap().with_dynamics(Dynamics::synchronous().seed(3)).unwrap();
        net.set_thresholds(&[0.25; 40]).unwrap();
        let path = dir.join("net.rnn");
        rnn_core::save(&net, &path).unwrap();
        let back: Hopfield<f32> = rnn_core::load(&path).unwrap();
        assert_eq!(back, net);
        assert_eq!(back.recall(&ps[0]).unwrap(), net.recall(&ps[0]).unwrap());
        assert!(matches!(rnn_core::load::<Hopfield<f64>>(&path), Err(Error::WrongScalar { .. })));
        assert!(matches!(rnn_core::load::<ModernHopfield<f32>>(&path), Err(Error::WrongModelKind { .. })));
    }
    let modern = ModernHopfield::<f64>::from_patterns(&ps, 0.5).unwrap();
    let path = dir.join("modern.rnn");
    rnn_core::save(&modern, &path).unwrap();
    assert_eq!(rnn_core::load::<ModernHopfield<f64>>(&path).unwrap(), modern);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stand-in with the same serialised layout as `Hopfield<f64>` and no checks, to write files
/// that a real network would refuse to produce.
#[derive(serde::Serialize, serde::Deserialize)]
struct Unchecked {
    rule: Rule,
    weights: nalgebra::DMatrix<f64>,
    thresholds: Vec<f64>,
    patterns: Vec<rnn_hopfield::Pattern>,
    dynamics: Dynamics,
    tie_tolerance: f64,
}

impl rnn_core::Persist for Unchecked {
    const KIND: &'static str = "rnn-hopfield/hopfield";
    fn scalar_name() -> &'static str {
        "f64"
    }
    fn validate(&self) -> rnn_core::Result<()> {
        Ok(())
    }
}

#[test]
fn inconsistent_networks_are_not_loaded() {
    let ps = random_patterns(8, 2, 2);
    let net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps).unwrap();
    let good = Unchecked {
        rule: net.rule(),
        weights: net.weights().clone(),
        thresholds: net.thresholds().to_vec(),
        patterns: net.patterns().to_vec(),
        dynamics: net.dynamics(),
        tie_tolerance: net.tie_tolerance(),
    };
    // The stand-in writes exactly what the network writes.
    assert_eq!(persist::to_bytes(&good).unwrap(), persist::to_bytes(&net).unwrap());
    let refused = |bad: &Unchecked| -> String {
        let bytes = persist::to_bytes(bad).unwrap();
        match persist::from_bytes::<Hopfield<f64>>(&bytes) {
            Err(Error::Corrupt(msg)) => msg,
            other => panic!("expected a corrupt-file error, got {other:?}"),
        }
    };
    let mut bad = Unchecked { weights: good.weights.clone(), ..good };
    bad.weights[(1, 2)] = 0.5;
    assert!(refused(&bad).contains("symmetric"));
    bad.weights = net.weights().clone();
    bad.weights[(3, 3)] = 1.0;
    assert!(refused(&bad).contains("zero diagonal"));
    bad.weights = net.weights().clone();
    bad.thresholds.pop();
    assert!(refused(&bad).contains("thresholds"));
    bad.thresholds.push(0.0);
    bad.patterns.push(rnn_hopfield::Pattern::bipolar(&[1, -1]).unwrap());
    assert!(refused(&bad).contains("stored pattern 2"));
    bad.patterns.pop();
    bad.dynamics.max_sweeps = 0;
    assert!(refused(&bad).contains("max_sweeps"));
    // A truncated file is refused too.
    let bytes = persist::to_bytes(&net).unwrap();
    assert!(persist::from_bytes::<Hopfield<f64>>(&bytes[..bytes.len() - 3]).is_err());
}
