//! The modern continuous Hopfield network.

use nalgebra::{DMatrix, DVector};
use rnn_hopfield::{AssociativeMemory, ModernHopfield, Pattern};

use crate::random_patterns;

#[test]
fn retrieves_in_one_step_far_beyond_classic_capacity() {
    // 300 random ±1 patterns in 64 dimensions (p/n ≈ 4.7, beyond any classic rule).
    let n = 64;
    let ps = random_patterns(n, 300, 1);
    let net = ModernHopfield::<f32>::from_patterns(&ps, 1.0 / (n as f32).sqrt() * 4.0).unwrap();
    let mut rng = rnn_core::rng::seeded(2);
    let cues: Vec<Pattern> = ps.iter().map(|p| p.flipped(6, &mut rng).unwrap()).collect();
    let out = net.recall_signs(&cues).unwrap();
    let exact = out.iter().zip(&ps).filter(|(a, b)| a == b).count();
    assert!(exact >= 295, "{exact} of 300");
    let r = net.recall_vector(&DVector::from_vec(cues[7].to_real())).unwrap();
    assert_eq!(r.nearest, 7);
    assert!(r.steps <= 3 && r.converged, "{r:?}");
    assert!(r.weight > 0.99);
}

#[test]
fn energy_never_rises() {
    let mut rng = rnn_core::rng::seeded(3);
    use rand::RngExt;
    let x = DMatrix::from_fn(10, 25, |_, _| rng.random::<f64>() * 2.0 - 1.0);
    for beta in [0.3, 1.0, 4.0] {
        let net = ModernHopfield::new(x.clone(), beta).unwrap();
        for k in 0..10 {
            let cue = DVector::from_fn(10, |i, _| ((i * 7 + k * 3) % 11) as f64 / 5.0 - 1.0);
            let r = net.recall_vector(&cue).unwrap();
            assert_eq!(r.energy.len(), r.steps + 1);
            for e in r.energy.windows(2) {
                assert!(e[1] <= e[0] + 1e-12, "β = {beta}: {:?}", r.energy);
            }
            assert!((net.energy(r.state.as_slice()).unwrap() - r.energy[r.steps]).abs() < 1e-12);
        }
    }
}

#[test]
fn batch_is_single_recalls_and_step_is_the_formula() {
    let x = DMatrix::from_fn(6, 4, |i, j| ((i + 2 * j) % 5) as f64 - 2.0);
    let net = ModernHopfield::new(x.clone(), 0.7).unwrap();
    let cues = DMatrix::from_fn(6, 5, |i, j| ((3 * i + j) % 4) as f64 - 1.5);
    let batch = net.recall_batch(&cues).unwrap();
    for (c, b) in batch.iter().enumerate() {
        let single = net.recall_vector(&cues.column(c).into_owned()).unwrap();
        assert!((&single.state - &b.state).amax() < 1e-12);
        assert_eq!(single.nearest, b.nearest);
    }
    // One step by hand: ξ' = X softmax(β Xᵀ ξ).
    let xi = cues.column(0).into_owned();
    let z = (x.transpose() * &xi) * 0.7;
    let e = z.map(|v| (v - z.max()).exp());
    let expected = &x * (&e / e.sum());
    let mut scores = DMatrix::zeros(4, 1);
    let mut out = DMatrix::zeros(6, 1);
    net.step_batch(&DMatrix::from_column_slice(6, 1, xi.as_slice()), &mut scores, &mut out).unwrap();
    assert!((out.column(0) - expected).amax() < 1e-12);
    assert!((net.attention(xi.as_slice()).unwrap().sum() - 1.0).abs() < 1e-12);
}

#[test]
fn trait_store_and_add() {
    let mut net = ModernHopfield::new(DMatrix::from_element(3, 1, 1.0f64), 2.0).unwrap();
    let a = DVector::from_vec(vec![1.0, -1.0, 1.0]);
    let b = DVector::from_vec(vec![-1.0, -1.0, 1.0]);
    AssociativeMemory::store(&mut net, &[a.clone(), b.clone()]).unwrap();
    assert_eq!(net.num_patterns(), 2);
    AssociativeMemory::add(&mut net, &DVector::from_vec(vec![0.0, 1.0, 0.0])).unwrap();
    assert_eq!(net.patterns().shape(), (3, 3));
    assert_eq!(net.patterns().column(1), b.column(0));
    let r = AssociativeMemory::recall(&net, &DVector::from_vec(vec![0.8, -0.9, 1.1])).unwrap();
    assert_eq!(r.nearest, 0);
    assert!(AssociativeMemory::store(&mut net, &[a, DVector::zeros(2)]).is_err());
}
