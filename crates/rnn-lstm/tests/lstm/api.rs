//! The public API: ragged batches, state, persistence, determinism and errors.

use nalgebra::DMatrix;
use rnn_core::{Differentiable, Error, Loss, Parameters, SeqBatch, Sequence, SequenceModel};
use rnn_lstm::{Head, Lstm, LstmConfig, Readout, WeightInit};

fn sequence(inputs: usize, outputs: usize, len: usize, phase: f64) -> Sequence<f64> {
    let x = DMatrix::from_fn(inputs, len, |i, t| ((i + 1) as f64 * 0.9 + t as f64 * 0.37 + phase).sin());
    let y = DMatrix::from_fn(outputs, len, |k, t| ((k + 1) as f64 * 0.5 - t as f64 * 0.21 + phase).cos());
    Sequence::new(x, y).unwrap()
}

fn peephole_net(head: Option<Head>) -> Lstm<f64> {
    LstmConfig::new(2, 2, 2)
        .peepholes(true)
        .gate_recurrence(true)
        .head(head)
        .init(WeightInit::Uniform(0.5))
        .seed(9)
        .build()
        .unwrap()
}

#[test]
fn padding_changes_neither_loss_nor_gradient() {
    for head in [None, Some(Head::new(4)), Some(Head::new(4).readout(Readout::LastStep))] {
        let mut net = peephole_net(head);
        let (a, b) = (sequence(2, 4, 7, 0.0), sequence(2, 4, 3, 1.3));
        let n = net.num_params();
        let (mut ga, mut gb, mut gab) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let la = net.loss_and_gradient(&SeqBatch::from_sequences(&[&a]).unwrap(), Loss::SumSquared, &mut ga).unwrap();
        let lb = net.loss_and_gradient(&SeqBatch::from_sequences(&[&b]).unwrap(), Loss::SumSquared, &mut gb).unwrap();
        let both = SeqBatch::from_sequences(&[&a, &b]).unwrap();
        let lab = net.loss_and_gradient(&both, Loss::SumSquared, &mut gab).unwrap();
        assert!((la + lb - lab).abs() < 1e-12, "{head:?}: {la} + {lb} vs {lab}");
        for i in 0..n {
            assert!((ga[i] + gb[i] - gab[i]).abs() < 1e-12, "{head:?}: parameter {i}");
        }
    }
}

#[test]
fn each_final_state_is_its_own_last_real_step() {
    let mut net = peephole_net(None);
    let (a, b) = (sequence(2, 4, 6, 0.0), sequence(2, 4, 2, 0.7));
    let mut alone = net.zero_state(1);
    net.forward_from(&SeqBatch::from_sequences(&[&b]).unwrap(), &mut alone).unwrap();
    let mut both = net.zero_state(2);
    let out = net.forward_from(&SeqBatch::from_sequences(&[&a, &b]).unwrap(), &mut both).unwrap();
    // Equal up to the rounding of products over 1 or 2 columns.
    assert!((both.cell_states(0).column(1) - alone.cell_states(0).column(0)).abs().max() < 1e-13);
    assert!((both.sources(0).column(1) - alone.sources(0).column(0)).abs().max() < 1e-13);
    // Padded outputs are exactly zero.
    for t in 2..6 {
        assert!(out.column(t * 2 + 1).iter().all(|&v| v == 0.0));
    }
}

#[test]
fn a_stream_fed_in_pieces_equals_the_stream_at_once() {
    let mut net = LstmConfig::new(2, 3, 1).layers(vec![3, 2]).head(Head::new(1)).seed(2).build::<f64>().unwrap();
    let s = sequence(2, 1, 12, 0.4);
    let whole = net.run(&s.inputs).unwrap();
    let mut state = net.zero_state(1);
    let mut pieces = Vec::new();
    for (start, len) in [(0, 5), (5, 1), (6, 6)] {
        let x = s.inputs.columns(start, len).into_owned();
        pieces.push(net.forward_from(&SeqBatch::new(x, None, len, 1).unwrap(), &mut state).unwrap());
    }
    let joined =
        DMatrix::from_columns(&pieces.iter().flat_map(|p| p.column_iter().map(|c| c.into_owned())).collect::<Vec<_>>());
    assert!((joined - whole).abs().max() < 1e-12);
    state.reset();
    assert!(state.cell_states(1).iter().all(|&v| v == 0.0));
}

#[test]
fn save_and_load_give_the_same_network() {
    let dir = std::env::temp_dir().join(format!("rnn-lstm-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.rnn");
    let mut net = LstmConfig::gers2000(3, 2, 2, 3).peepholes(true).seed(5).build::<f32>().unwrap();
    rnn_core::save(&net, &path).unwrap();
    let mut back: Lstm<f32> = rnn_core::load(&path).unwrap();
    assert_eq!(back.params(), net.params());
    assert_eq!(back.config(), net.config());
    let x = DMatrix::from_fn(3, 5, |i, t| (i * t) as f32 * 0.1);
    assert_eq!(back.run(&x).unwrap(), net.run(&x).unwrap());
    // Another kind or scalar is refused.
    assert!(matches!(rnn_core::load::<Lstm<f64>>(&path), Err(Error::WrongScalar { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_parameters_are_refused_on_load() {
    let net = LstmConfig::torch(2, 3, 1).build::<f64>().unwrap();
    let mut json = serde_json::to_value(&net).unwrap();
    json["params"].as_array_mut().unwrap().pop();
    let err = serde_json::from_value::<Lstm<f64>>(json).unwrap_err().to_string();
    assert!(err.contains("LSTM parameters"), "{err}");
    let mut json = serde_json::to_value(&net).unwrap();
    json["config"]["cells_per_block"] = 0.into();
    let err = serde_json::from_value::<Lstm<f64>>(json).unwrap_err().to_string();
    assert!(err.contains("cells per block"), "{err}");
}

#[test]
fn same_seed_same_result_any_thread_count() {
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            // Big enough for the products to go parallel.
            let mut net = LstmConfig::torch(16, 128, 1).seed(3).build::<f32>().unwrap();
            let x = DMatrix::from_fn(16, 20 * 32, |i, j| ((i * 7 + j) as f32 * 0.01).sin());
            let y = DMatrix::from_fn(128, 20 * 32, |i, j| ((i + j) as f32 * 0.02).cos());
            let batch = SeqBatch::new(x, Some(y), 20, 32).unwrap();
            let mut grad = vec![0.0; net.num_params()];
            let loss = net.loss_and_gradient(&batch, Loss::Mse, &mut grad).unwrap();
            (loss, grad)
        })
    };
    let (l1, g1) = run(1);
    let (l2, g2) = run(2);
    assert_eq!(l1.to_bits(), l2.to_bits());
    assert!(g1.iter().zip(&g2).all(|(a, b)| a.to_bits() == b.to_bits()));
}

#[test]
fn bad_input_gets_a_clear_error() {
    let mut net = peephole_net(Some(Head::new(1)));
    let wide = SeqBatch::new(DMatrix::zeros(3, 4), None, 4, 1).unwrap();
    match net.forward(&wide) {
        Err(Error::DimensionMismatch { what, expected: 2, got: 3 }) => assert!(what.contains("input width"), "{what}"),
        other => panic!("expected DimensionMismatch, got {other:?}"),
    }
    let batch = SeqBatch::<f64>::new(DMatrix::zeros(2, 6), None, 3, 2).unwrap();
    match batch.clone().with_lengths(vec![3, 4]) {
        Err(Error::InvalidConfig { name, .. }) => assert!(name.contains("sequence 1"), "{name}"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert!(matches!(batch.clone().with_lengths(vec![3]), Err(Error::DimensionMismatch { .. })));
    match LstmConfig::new(2, 2, 0).build::<f64>() {
        Err(Error::InvalidConfig { name, .. }) => assert_eq!(name, "cells per block"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    assert!(LstmConfig::new(2, 0, 1).build::<f64>().is_err());
    assert!(LstmConfig::new(0, 2, 1).build::<f64>().is_err());
    assert!(LstmConfig::new(2, 2, 1).layers(vec![]).build::<f64>().is_err());
    assert!(
        LstmConfig::new(2, 2, 1)
            .forget_gate(false)
            .forget_gate_bias(rnn_lstm::GateBias::constant(1.0))
            .build::<f64>()
            .is_err()
    );
    assert!(LstmConfig::new(2, 2, 1).gate_activation(rnn_core::Activation::Sign).build::<f64>().is_err());
    // Targets of the wrong width, a state for another batch, a gradient of the wrong length.
    let t = SeqBatch::new(DMatrix::zeros(2, 4), Some(DMatrix::zeros(2, 4)), 4, 1).unwrap();
    assert!(matches!(net.loss(&t, Loss::Mse), Err(Error::DimensionMismatch { .. })));
    let mut state = net.zero_state(2);
    assert!(matches!(net.forward_from(&wide, &mut state), Err(Error::DimensionMismatch { .. })));
    let ok = SeqBatch::new(DMatrix::zeros(2, 4), Some(DMatrix::zeros(1, 4)), 4, 1).unwrap();
    assert!(matches!(net.loss_and_gradient(&ok, Loss::Mse, &mut [0.0; 3]), Err(Error::DimensionMismatch { .. })));
    // A last-step readout needs every sequence to have a step.
    let mut last = peephole_net(Some(Head::new(1).readout(Readout::LastStep)));
    let empty = ok.clone().with_lengths(vec![0]).unwrap();
    assert!(matches!(last.forward(&empty), Err(Error::InvalidConfig { .. })));
    // Non-finite weights are refused, not propagated.
    let mut p = net.params().to_vec();
    p[0] = f64::NAN;
    net.params_mut().copy_from_slice(&p);
    assert!(matches!(net.forward(&ok), Err(Error::NonFinite { .. })));
}

#[test]
fn f32_agrees_with_f64() {
    // The f32 path has its own kernels (AVX-512 tiles where the CPU has them): same weights,
    // same batch, outputs and gradients within f32 rounding of the f64 ones.
    // (16, 128, 32) is big enough for the time loops to run in two halves of the batch.
    for (i, h, b) in [(3, 40, 9), (16, 64, 32), (5, 33, 1), (16, 128, 32)] {
        let mut n64 = LstmConfig::torch(i, h, 2).seed(11).build::<f64>().unwrap();
        let mut n32 = LstmConfig::torch(i, h, 2).seed(11).build::<f32>().unwrap();
        let p32: Vec<f32> = n64.params().iter().map(|&v| v as f32).collect();
        n32.params_mut().copy_from_slice(&p32);
        let p64: Vec<f64> = p32.iter().map(|&v| v as f64).collect();
        n64.params_mut().copy_from_slice(&p64);
        let steps = 7;
        let x = DMatrix::from_fn(i, steps * b, |r, c| ((r * 31 + c * 7) as f64 * 0.013).sin());
        let y = DMatrix::from_fn(h, steps * b, |r, c| ((r * 3 + c) as f64 * 0.021).cos() * 0.5);
        let b64 = SeqBatch::new(x.clone(), Some(y.clone()), steps, b).unwrap();
        let b32 = SeqBatch::new(x.map(|v| v as f32), Some(y.map(|v| v as f32)), steps, b).unwrap();
        let (mut g64, mut g32) = (vec![0.0; n64.num_params()], vec![0.0f32; n32.num_params()]);
        let l64 = n64.loss_and_gradient(&b64, Loss::SumSquared, &mut g64).unwrap();
        let l32 = n32.loss_and_gradient(&b32, Loss::SumSquared, &mut g32).unwrap();
        assert!((l64 - l32 as f64).abs() < 1e-4 * l64.abs().max(1.0), "{l64} vs {l32}");
        let scale = g64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, &b) in g64.iter().zip(&g32) {
            assert!((a - b as f64).abs() < 1e-3 * scale, "{a} vs {b}");
        }
        let o64 = n64.forward(&b64).unwrap();
        let o32 = n32.forward(&b32).unwrap();
        assert!((o64 - o32.map(|v| v as f64)).abs().max() < 1e-5);
    }
}

#[test]
fn forecasts_need_outputs_as_wide_as_inputs() {
    let mut wide = LstmConfig::new(2, 3, 1).head(Head::new(1)).build::<f64>().unwrap();
    let mut state = wide.zero_state(1);
    assert!(matches!(wide.forecast(&mut state, &DMatrix::zeros(2, 1), 3), Err(Error::InvalidConfig { .. })));
    let mut last = LstmConfig::new(1, 3, 1).head(Head::new(1).readout(Readout::LastStep)).build::<f64>().unwrap();
    assert!(matches!(last.forecast(&mut state, &DMatrix::zeros(1, 1), 3), Err(Error::InvalidConfig { .. })));
    let mut net = LstmConfig::new(1, 3, 1).head(Head::new(1)).build::<f64>().unwrap();
    let mut state = net.zero_state(2);
    assert!(matches!(net.forecast(&mut state, &DMatrix::zeros(1, 2), 0), Err(Error::InvalidConfig { .. })));
    let free = net.forecast(&mut state, &DMatrix::from_column_slice(1, 2, &[0.1, -0.4]), 4).unwrap();
    assert_eq!(free.shape(), (1, 8));
    assert!(free.iter().all(|v| v.is_finite()));
}
