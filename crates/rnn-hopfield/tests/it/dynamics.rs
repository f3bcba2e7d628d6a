//! Update dynamics: energy descent, convergence, 2-cycles, batches, determinism.

use proptest::prelude::*;
use rnn_hopfield::{Dynamics, Hopfield, Order, Outcome, Pattern, Rule, Update};

use crate::random_patterns;

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Asynchronous updates never raise the energy, whatever the rule, load, cue and order.
    #[test]
    fn asynchronous_updates_never_raise_the_energy(
        n in 8usize..80,
        load in 0.05f64..0.9,
        rule in 0usize..3,
        flips in 0usize..40,
        sequential in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let p = ((load * n as f64) as usize).max(1);
        let rule = [Rule::Hebbian, Rule::Storkey, Rule::pseudo_inverse()][rule];
        let ps = random_patterns(n, p, seed);
        let net = match Hopfield::<f64>::with_patterns(rule, &ps) {
            Ok(net) => net,
            // Random ±1 patterns can be dependent for the pseudo-inverse at high load.
            Err(_) => return Ok(()),
        };
        let mut rng = rnn_core::rng::seeded(seed ^ 1);
        let cue = ps[0].flipped(flips.min(n), &mut rng).unwrap();
        let order = if sequential { Order::Sequential } else { Order::Random };
        let dynamics = Dynamics { update: Update::Asynchronous(order), max_sweeps: 50, seed };
        let r = net.recall_with(&cue, &dynamics).unwrap();
        prop_assert_eq!(r.energy.len(), r.sweeps + 1);
        for e in r.energy.windows(2) {
            prop_assert!(e[1] <= e[0] + 1e-9, "energy rose: {:?}", r.energy);
        }
        // The trace agrees with the energy computed from scratch.
        prop_assert!((net.energy(&cue).unwrap() - r.energy[0]).abs() < 1e-9);
        prop_assert!((net.energy(&r.state).unwrap() - r.energy[r.sweeps]).abs() < 1e-9);
        if r.converged() {
            prop_assert!(net.is_fixed_point(&r.state).unwrap());
        }
    }
}

#[test]
fn synchronous_two_cycle_is_detected() {
    // One stored pattern (1, −1): W = ½[[0, −1], [−1, 0]]. From (1, 1) both neurons flip at once,
    // forever: (1, 1) → (−1, −1) → (1, 1).
    let net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &[Pattern::bipolar(&[1, -1]).unwrap()]).unwrap();
    let cue = Pattern::bipolar(&[1, 1]).unwrap();
    let r = net.recall_with(&cue, &Dynamics::synchronous()).unwrap();
    assert_eq!(r.outcome, Outcome::TwoCycle);
    assert_eq!(r.sweeps, 2);
    assert_eq!(r.state, cue);
    assert_eq!(r.energy.len(), 3);
    // Asynchronously the same cue settles.
    let r = net.recall_with(&cue, &Dynamics::sequential()).unwrap();
    assert_eq!(r.outcome, Outcome::Stable);
    assert!(net.is_fixed_point(&r.state).unwrap());
}

#[test]
fn sweep_limit_is_reported() {
    let ps = random_patterns(100, 5, 1);
    let net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps).unwrap();
    let cue = ps[0].flipped(30, &mut rnn_core::rng::seeded(2)).unwrap();
    let r = net.recall_with(&cue, &Dynamics::synchronous().max_sweeps(1)).unwrap();
    assert_eq!((r.outcome, r.sweeps, r.energy.len()), (Outcome::SweepLimit, 1, 2));
    assert!((net.energy(&r.state).unwrap() - r.energy[1]).abs() < 1e-12);
    let r = net.recall_with(&cue, &Dynamics::asynchronous().max_sweeps(1)).unwrap();
    assert_eq!((r.outcome, r.sweeps), (Outcome::SweepLimit, 1));
}

#[test]
fn synchronous_batch_matches_single_recalls() {
    let ps = random_patterns(120, 15, 3);
    let net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps).unwrap();
    let mut rng = rnn_core::rng::seeded(4);
    let cues: Vec<Pattern> = (0..40).map(|k| ps[k % 15].flipped(k, &mut rng).unwrap()).collect();
    let sync = Dynamics::synchronous();
    let batch = net.recall_batch(&cues, &sync).unwrap();
    for (cue, b) in cues.iter().zip(&batch) {
        let single = net.recall_with(cue, &sync).unwrap();
        assert_eq!(
            (&single.state, single.outcome, single.sweeps, single.flips),
            (&b.state, b.outcome, b.sweeps, b.flips)
        );
        for (x, y) in single.energy.iter().zip(&b.energy) {
            assert!((x - y).abs() < 1e-9);
        }
        if b.outcome == Outcome::Stable {
            assert!(net.is_fixed_point(&b.state).unwrap());
        }
    }
    // Noisy cues mostly come back.
    assert!(batch.iter().enumerate().filter(|(k, r)| r.is_pattern(k % 15)).count() >= 25);
}

#[test]
fn synchronous_step_is_one_product() {
    let ps = random_patterns(64, 4, 5);
    let net = Hopfield::<f32>::with_patterns(Rule::Storkey, &ps).unwrap();
    let mut s = nalgebra::DMatrix::from_fn(64, 4, |i, j| f32::from(ps[j].as_slice()[i]));
    let mut h = nalgebra::DMatrix::zeros(64, 4);
    assert_eq!(net.synchronous_step(&mut s, &mut h).unwrap(), 0);
    let expected = net.weights() * nalgebra::DMatrix::from_fn(64, 4, |i, j| f32::from(ps[j].as_slice()[i]));
    assert!((h - expected).abs().max() < 1e-5);
}

#[test]
fn same_seed_same_result_on_any_thread_count() {
    let ps = random_patterns(150, 20, 6);
    let net = Hopfield::<f32>::with_patterns(Rule::Hebbian, &ps).unwrap();
    let mut rng = rnn_core::rng::seeded(7);
    let cues: Vec<Pattern> = (0..24).map(|k| ps[k % 20].flipped(25, &mut rng).unwrap()).collect();
    let dynamics = Dynamics::asynchronous().seed(11);
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| net.recall_batch(&cues, &dynamics).unwrap())
    };
    let one = run(1);
    assert_eq!(one, run(3));
    assert_eq!(one, net.recall_batch(&cues, &dynamics).unwrap());
    // A single recall is cue 0 of a batch (its fields come from a matrix-vector product instead
    // of a matrix product, so the energies may differ in the last bit).
    let single = net.recall_with(&cues[0], &dynamics).unwrap();
    assert_eq!(
        (&single.state, single.outcome, single.sweeps, single.flips),
        (&one[0].state, one[0].outcome, one[0].sweeps, one[0].flips)
    );
    assert!(single.energy.iter().zip(&one[0].energy).all(|(a, b)| (a - b).abs() <= 1e-4 * a.abs().max(1.0)));
    // Another seed visits neurons in other orders.
    let other = net.recall_batch(&cues, &dynamics.seed(12)).unwrap();
    assert_ne!(one.iter().map(|r| r.flips).collect::<Vec<_>>(), other.iter().map(|r| r.flips).collect::<Vec<_>>());
}

#[test]
fn hopfield_1982_storage_at_n_100() {
    // Hopfield's own check: with 5 memories in 100 neurons, each memory is (almost always)
    // stable and recalled exactly from itself.
    let mut exact = 0;
    for seed in 0..20 {
        let ps = random_patterns(100, 5, 100 + seed);
        let net = Hopfield::<f32>::with_patterns(Rule::Hebbian, &ps).unwrap();
        let out = net.recall_batch(&ps, &Dynamics::asynchronous().seed(seed)).unwrap();
        exact += out.iter().enumerate().filter(|(k, r)| r.is_pattern(*k)).count();
    }
    assert!(exact >= 98, "{exact} of 100");
}

#[test]
fn thresholds_bias_the_states() {
    let ps = random_patterns(40, 2, 8);
    let mut net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps).unwrap();
    net.set_thresholds(&vec![-10.0; 40]).unwrap();
    let r = net.recall(&ps[0]).unwrap();
    assert!(r.state.as_slice().iter().all(|&s| s == 1));
    assert!((net.energy(&r.state).unwrap() - r.energy[r.sweeps]).abs() < 1e-9);
    assert!(r.energy.windows(2).all(|e| e[1] <= e[0]));
}

#[test]
fn fields_of_a_large_single_state_match_the_product() {
    // n ≥ 1024: the matrix-vector product runs in row blocks on every thread.
    let n = 1100;
    let ps = random_patterns(n, 3, 9);
    let net = Hopfield::<f64>::with_patterns(Rule::Storkey, &ps).unwrap();
    let cue = ps[1].flipped(100, &mut rnn_core::rng::seeded(10)).unwrap();
    let h = net.local_fields(&cue).unwrap();
    let expected = net.weights() * nalgebra::DVector::from_vec(cue.to_real::<f64>());
    let err = h.iter().zip(expected.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(err < 1e-12, "{err}");
    let r = net.recall(&cue).unwrap();
    assert!(r.is_pattern(1) && (net.energy(&r.state).unwrap() - r.energy[r.sweeps]).abs() < 1e-9);
}

#[test]
fn binary_thresholds_give_hopfields_zero_one_dynamics() {
    // Hopfield's (1982) network by hand: Vᵢ ∈ {0, 1}, Vᵢ ← [Σⱼ Tᵢⱼ Vⱼ > 0], in index order.
    let n = 40;
    let ps = random_patterns(n, 4, 11);
    let mut net = Hopfield::<f64>::with_patterns(Rule::Hebbian, &ps).unwrap();
    net.set_thresholds(&net.binary_thresholds()).unwrap();
    let w = net.weights().clone();
    let mut rng = rnn_core::rng::seeded(12);
    for trial in 0..20 {
        let cue = Pattern::random(n, &mut rng).unwrap();
        let mut v: Vec<f64> = cue.to_binary().iter().map(|&b| f64::from(b)).collect();
        for _ in 0..100 {
            let mut changed = false;
            for i in 0..n {
                let field: f64 = (0..n).map(|j| w[(i, j)] * v[j]).sum();
                let new = if field > 1e-12 {
                    1.0
                } else if field < -1e-12 {
                    0.0
                } else {
                    v[i]
                };
                changed |= new != v[i];
                v[i] = new;
            }
            if !changed {
                break;
            }
        }
        let r = net.recall_with(&cue, &Dynamics::sequential()).unwrap();
        let expected: Vec<u8> = v.iter().map(|&x| x as u8).collect();
        assert_eq!(r.state.to_binary(), expected, "trial {trial}");
    }
}
