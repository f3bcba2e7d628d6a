//! Real-time recurrent learning: against BPTT, finite differences, the formula, across thread
//! counts, through a save file, and learning a small task on line.

use nalgebra::DMatrix;
use rnn_core::{Error, MaskedSequence, Parameters, Persist, Sequence, Sgd, persist};
use rnn_recurrent::{Bptt, FullyRecurrent, OnlineLearner, RecurrentConfig, Rtrl, RtrlOptions, Update};

use crate::common::{masked_sequence, max_relative_error, numeric_gradient, sparse_net, squared_error};

fn rtrl_gradient(net: &FullyRecurrent<f64>, options: RtrlOptions, seq: &MaskedSequence<f64>) -> (f64, Vec<f64>) {
    let mut grad = vec![0.0; net.num_params()];
    let j = Rtrl::new(net.clone(), options).unwrap().gradient(seq, &mut grad).unwrap();
    (j, grad)
}

fn bptt_gradient(net: &FullyRecurrent<f64>, bptt: Bptt, seq: &MaskedSequence<f64>) -> (f64, Vec<f64>) {
    let mut net = net.clone();
    let mut grad = vec![0.0; net.num_params()];
    let j = bptt.gradient(&mut net, seq, &mut grad).unwrap();
    (j, grad)
}

fn max_abs_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn rtrl_and_bptt_agree_on_a_sparse_net_with_absent_targets_with_and_without_forcing() {
    for seed in 0..3 {
        let net = sparse_net(10 + seed);
        let seq = masked_sequence(11, seed);
        for forcing in [false, true] {
            // Blocks of 5 columns: several blocks and a partial last one.
            for block in [5, 128] {
                let options = RtrlOptions::default().teacher_forcing(forcing).block_columns(block);
                let (j_rtrl, g_rtrl) = rtrl_gradient(&net, options, &seq);
                let (j_bptt, g_bptt) = bptt_gradient(&net, Bptt::new().teacher_forcing(forcing), &seq);
                assert!((j_rtrl - j_bptt).abs() < 1e-12, "seed {seed} forcing {forcing}: J {j_rtrl} vs {j_bptt}");
                let diff = max_abs_difference(&g_rtrl, &g_bptt);
                assert!(diff < 1e-10, "seed {seed} forcing {forcing} block {block}: max difference {diff}");
                assert!(g_bptt.iter().any(|g| g.abs() > 1e-3), "a gradient of zeros would pass trivially");
            }
        }
    }
}

#[test]
fn rtrl_and_bptt_agree_on_a_larger_net_with_hidden_units() {
    let mut net = RecurrentConfig::new(3, 9, 2).output_units([4, 7]).init_range(0.6).seed(21).build::<f64>().unwrap();
    net.set_initial_state(&[0.2; 9]).unwrap();
    let len = 15;
    let inputs = DMatrix::from_fn(3, len, |i, t| ((t * 3 + i) as f64 * 0.37).sin());
    let targets = DMatrix::from_fn(2, len, |k, t| ((t + k) as f64 * 0.5).cos() * 0.4 + 0.5);
    let present = DMatrix::from_fn(2, len, |k, t| t >= 2 && (t + k) % 4 != 1);
    let seq = MaskedSequence::new(Sequence::new(inputs, targets).unwrap(), present).unwrap();
    for forcing in [false, true] {
        let options = RtrlOptions::default().teacher_forcing(forcing).block_columns(16);
        let (j_rtrl, g_rtrl) = rtrl_gradient(&net, options, &seq);
        let (j_bptt, g_bptt) = bptt_gradient(&net, Bptt::new().teacher_forcing(forcing), &seq);
        assert!((j_rtrl - j_bptt).abs() < 1e-12);
        let diff = max_abs_difference(&g_rtrl, &g_bptt);
        assert!(diff < 1e-10, "forcing {forcing}: max difference {diff}");
    }
}

#[test]
fn rtrl_gradient_matches_finite_differences() {
    let mut net = sparse_net(31);
    let seq = masked_sequence(9, 3);
    let (j, grad) = rtrl_gradient(&net, RtrlOptions::default().block_columns(4), &seq);
    assert!((j - squared_error(&mut net, &seq)).abs() < 1e-13);
    let numeric = numeric_gradient(&mut net, |n| squared_error(n, &seq));
    let err = max_relative_error(&grad, &numeric);
    assert!(err < 1e-6, "relative error {err}");

    // With teacher forcing: the differences of the forced run's error.
    let forced = RtrlOptions::default().teacher_forcing(true).block_columns(4);
    let (_, grad) = rtrl_gradient(&net, forced, &seq);
    let numeric = numeric_gradient(&mut net, |n| rtrl_gradient(n, forced, &seq).0);
    let err = max_relative_error(&grad, &numeric);
    assert!(err < 1e-6, "forced: relative error {err}");
}

#[test]
fn one_step_follows_the_sensitivity_recursion_from_a_given_p0() {
    let net = sparse_net(41);
    let (n, wc) = (net.units(), net.num_weights());
    let mut learner = Rtrl::new(net.clone(), RtrlOptions::default().block_columns(3)).unwrap();
    let p0 = DMatrix::from_fn(n, wc, |k, a| ((k * wc + a) as f64 * 0.13).sin());
    learner.set_sensitivities(&p0).unwrap();
    let x = [0.3, -0.7];
    let mut sgd = Sgd::new(0.1).unwrap();
    learner.step(&x, &[0.0, 0.0], &[false, false], &mut sgd).unwrap();
    assert_eq!(learner.updates(), 0, "no target, no weight change");

    // By hand: z = [x; y0; 1], y1 = f(W z), P1 = diag(f′) (W_rec P0 + E).
    let w = net.weights();
    let y0 = net.initial_state();
    let z: Vec<f64> = x.iter().chain(y0).copied().chain([1.0]).collect();
    let s = &w * DMatrix::from_column_slice(z.len(), 1, &z);
    let y1: Vec<f64> = (0..n).map(|k| net.activations()[k].apply(s[(k, 0)])).collect();
    let mut expected = w.columns(2, n) * &p0;
    for (a, (i, j)) in net.connectivity().weight_positions().enumerate() {
        expected[(i, a)] += z[j];
    }
    for k in 0..n {
        let d = net.activations()[k].derivative_from_output(y1[k]);
        expected.row_mut(k).scale_mut(d);
    }
    let got = learner.sensitivities().into_owned();
    assert!((got - expected).abs().max() < 1e-14);
    assert!(max_abs_difference(learner.state(), &y1) < 1e-15);
}

/// Runs real-time RTRL on a fixed stream and returns the weights and final sensitivities.
fn run_stream(options: RtrlOptions, steps: usize) -> (Vec<f64>, Vec<f64>) {
    let net = RecurrentConfig::new(3, 48, 2).init_range(0.5).seed(5).build::<f64>().unwrap();
    let mut learner = Rtrl::new(net, options).unwrap();
    let mut sgd = Sgd::new(0.05).unwrap();
    for t in 0..steps {
        let x = [(t as f64 * 0.7).sin(), (t as f64 * 0.3).cos(), (t % 3) as f64];
        let d = [0.5 + 0.3 * (t as f64 * 0.2).sin(), 0.2];
        learner.step(&x, &d, &[true, t % 2 == 0], &mut sgd).unwrap();
    }
    (learner.network().params().to_vec(), learner.sensitivities().iter().copied().collect())
}

#[test]
fn results_are_bit_identical_whatever_the_thread_count() {
    // Wc = 48 · 52 = 2496 columns, in blocks of 13 (192 blocks, the last one partial) or of the
    // automatic width; N²·Wc is above the size from which the blocks go to the rayon pool.
    for options in [RtrlOptions::default().block_columns(13), RtrlOptions::default()] {
        let options = options.teacher_forcing(true);
        let sequential = run_stream(options.parallel(false), 40);
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let parallel = pool.install(|| run_stream(options.parallel(true), 40));
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&parallel.0), bits(&sequential.0), "weights with {threads} threads");
            assert_eq!(bits(&parallel.1), bits(&sequential.1), "sensitivities with {threads} threads");
        }
    }
}

#[test]
fn accumulated_updates_apply_the_sequence_gradient_at_the_flush() {
    let net = sparse_net(51);
    let seq = masked_sequence(8, 5);
    let (_, g_bptt) = bptt_gradient(&net, Bptt::new(), &seq);
    let mut learner = Rtrl::new(net.clone(), RtrlOptions::default().update(Update::Accumulate)).unwrap();
    let mut sgd = Sgd::new(0.5).unwrap();
    let report = learner.learn(&seq, &mut sgd).unwrap();
    assert_eq!(report.updates, 1);
    assert!(!learner.flush(&mut sgd).unwrap(), "nothing left to apply");
    let expected: Vec<f64> = net.params().iter().zip(&g_bptt).map(|(w, g)| w - 0.5 * g).collect();
    assert!(max_abs_difference(learner.network().params(), &expected) < 1e-10);
    // The outputs seen during learning are those of the fixed weights.
    let run = net.clone().run(seq.inputs()).unwrap();
    assert!((report.outputs - run).abs().max() < 1e-14);
}

#[test]
fn real_time_learning_echoes_the_previous_input() {
    // Output at step t the input of step t − 1, a bit drawn from a fixed generator.
    let net = RecurrentConfig::new(1, 3, 1).init_range(0.5).seed(7).build::<f64>().unwrap();
    let mut learner = Rtrl::new(net, RtrlOptions::default()).unwrap();
    let mut sgd = Sgd::new(1.0).unwrap();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut previous = 0.0;
    let mut errors = Vec::new();
    for t in 0..6000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let x = (rng >> 63) as f64;
        let j = learner.step(&[x], &[previous], &[t > 0], &mut sgd).unwrap();
        errors.push(j);
        previous = x;
    }
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let (first, last) = (mean(&errors[1..201]), mean(&errors[errors.len() - 200..]));
    assert!(last < 0.1 * first && last < 0.01, "J fell from {first} to {last}");
}

#[test]
fn a_saved_learner_resumes_bit_identically() {
    for options in [RtrlOptions::default().teacher_forcing(true), RtrlOptions::default().update(Update::Accumulate)] {
        let net = sparse_net(61);
        let mut learner = Rtrl::new(net, options.block_columns(7)).unwrap();
        let seq = masked_sequence(30, 6);
        let mut sgd = Sgd::new(0.3).unwrap();
        let step = |l: &mut Rtrl<f64>, t: usize, sgd: &mut Sgd<f64>| {
            let x: Vec<f64> = seq.inputs().column(t).iter().copied().collect();
            let d: Vec<f64> = seq.targets().column(t).iter().copied().collect();
            let p: Vec<bool> = seq.present().column(t).iter().copied().collect();
            l.step(&x, &d, &p, sgd).unwrap()
        };
        for t in 0..12 {
            step(&mut learner, t, &mut sgd);
        }
        let bytes = persist::to_bytes(&learner).unwrap();
        let mut loaded: Rtrl<f64> = persist::from_bytes(&bytes).unwrap();
        assert_eq!(loaded.updates(), learner.updates());
        let mut sgd2 = sgd.clone();
        for t in 12..30 {
            let a = step(&mut learner, t, &mut sgd);
            let b = step(&mut loaded, t, &mut sgd2);
            assert_eq!(a.to_bits(), b.to_bits());
        }
        learner.flush(&mut sgd).unwrap();
        loaded.flush(&mut sgd2).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(learner.network().params()), bits(loaded.network().params()));
        let (p1, p2): (Vec<f64>, Vec<f64>) =
            (learner.sensitivities().iter().copied().collect(), loaded.sensitivities().iter().copied().collect());
        assert_eq!(bits(&p1), bits(&p2));
        assert_eq!(bits(learner.state()), bits(loaded.state()));
        assert_eq!(loaded.network().connectivity(), learner.network().connectivity());
        assert_eq!(loaded.options(), learner.options());
    }
}

#[test]
fn a_save_file_of_another_kind_or_with_bad_contents_is_refused() {
    let learner = Rtrl::new(sparse_net(71), RtrlOptions::default()).unwrap();
    let bytes = persist::to_bytes(&learner).unwrap();
    assert!(matches!(persist::from_bytes::<FullyRecurrent<f64>>(&bytes), Err(Error::WrongModelKind { .. })));
    assert!(matches!(persist::from_bytes::<Rtrl<f32>>(&bytes), Err(Error::WrongScalar { .. })));
    let net_bytes = persist::to_bytes(learner.network()).unwrap();
    assert!(matches!(persist::from_bytes::<Rtrl<f64>>(&net_bytes), Err(Error::WrongModelKind { .. })));
    assert!(learner.validate().is_ok());
}

#[test]
fn bad_input_is_an_error_never_a_panic() {
    let net = sparse_net(81);
    let (n, wc) = (net.units(), net.num_weights());
    let zero_blocks = Rtrl::new(net.clone(), RtrlOptions::default().block_columns(0));
    assert!(matches!(zero_blocks, Err(Error::InvalidConfig { .. })));

    let need = Rtrl::sensitivity_bytes(&net);
    assert_eq!(need, 2 * (n * wc * 8) as u128);
    match Rtrl::new(net.clone(), RtrlOptions::default().memory_limit(need as u64 - 1)) {
        Err(Error::InvalidConfig { expected, got, .. }) => {
            assert!(expected.contains(&need.to_string()), "{expected}");
            assert!(got.contains(&(need - 1).to_string()), "{got}");
        }
        other => panic!("expected a refusal naming the bytes, got {other:?}"),
    }
    assert!(Rtrl::new(net.clone(), RtrlOptions::default().memory_limit(need as u64)).is_ok());

    let mut learner = Rtrl::new(net, RtrlOptions::default()).unwrap();
    let mut sgd = Sgd::new(0.1).unwrap();
    let step = |l: &mut Rtrl<f64>, x: &[f64], d: &[f64], p: &[bool]| l.step(x, d, p, &mut Sgd::new(0.1).unwrap());
    assert!(matches!(step(&mut learner, &[0.0], &[0.0; 2], &[true; 2]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(step(&mut learner, &[0.0; 2], &[0.0], &[true; 2]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(step(&mut learner, &[0.0; 2], &[0.0; 2], &[true]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(step(&mut learner, &[f64::NAN, 0.0], &[0.0; 2], &[true; 2]), Err(Error::NonFinite { .. })));
    assert!(matches!(step(&mut learner, &[0.0; 2], &[f64::INFINITY, 0.0], &[true; 2]), Err(Error::NonFinite { .. })));
    // An absent target's value is ignored.
    assert!(step(&mut learner, &[0.0; 2], &[f64::NAN, 0.0], &[false, true]).is_ok());

    assert!(matches!(learner.set_sensitivities(&DMatrix::zeros(n, wc + 1)), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(learner.set_sensitivities(&DMatrix::zeros(n + 1, wc)), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(learner.set_sensitivities(&DMatrix::from_element(n, wc, f64::NAN)), Err(Error::NonFinite { .. })));

    let seq = masked_sequence(5, 1);
    assert!(matches!(learner.gradient(&seq, &mut vec![0.0; wc + 1]), Err(Error::DimensionMismatch { .. })));
    let wide = MaskedSequence::all_present(Sequence::new(DMatrix::zeros(3, 4), DMatrix::zeros(2, 4)).unwrap()).unwrap();
    assert!(matches!(learner.gradient(&wide, &mut vec![0.0; wc]), Err(Error::DimensionMismatch { .. })));
    let none = MaskedSequence::new(seq.sequence().clone(), DMatrix::from_element(2, 5, false)).unwrap();
    let mut forced = Rtrl::new(sparse_net(82), RtrlOptions::default().teacher_forcing(true)).unwrap();
    assert!(matches!(forced.gradient(&none, &mut vec![0.0; wc]), Err(Error::InvalidConfig { .. })));
    // Without forcing, a sequence with no target has zero error and gradient.
    let mut grad = vec![1.0; wc];
    assert_eq!(learner.gradient(&none, &mut grad).unwrap(), 0.0);
    assert!(grad.iter().all(|&g| g == 0.0));
    assert!(learner.learn(&wide, &mut sgd).is_err());
}
