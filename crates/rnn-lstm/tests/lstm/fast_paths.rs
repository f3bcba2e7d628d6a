//! The fast paths of the LSTM at the sizes that switch them on and off: a batch split over two
//! threads (R·H_s·B·T ≥ 2²²), the `f32` AVX-512 tiles (32-row panels, 8-column tiles, rows and
//! columns left over), the fused modern cell (cells a multiple of 16 or not), the loss read
//! straight from the top layer, and the long checks for NaN in two halves. Each shape is checked
//! in `f32` against `f64` with the same weights, for bit-identical results on 1, 2 and 3
//! threads, and (in `f64`) for a split batch's gradient equal to its sequences' own.

use nalgebra::DMatrix;
use rnn_core::{Differentiable, Error, Loss, Parameters, Real, SeqBatch, Sequence, SequenceModel};
use rnn_lstm::{Head, Lstm, LstmConfig, Readout, TruncatedBptt, WeightInit};

/// Whether a layer of `rows` gate and cell rows and `sources` recurrent sources runs a batch of
/// `b` sequences of `t` steps in two halves (the library's rule, restated).
fn splits(rows: usize, sources: usize, b: usize, t: usize) -> bool {
    b >= 2 && rows * sources * b * t >= 1 << 22
}

/// A case: the network, the batch's shape and the sequences' lengths (all `t` if `None`).
struct Case {
    config: LstmConfig,
    b: usize,
    t: usize,
    lengths: Option<Vec<usize>>,
}

impl Case {
    fn new(config: LstmConfig, b: usize, t: usize) -> Self {
        Self { config, b, t, lengths: None }
    }

    fn lengths(mut self, lengths: Vec<usize>) -> Self {
        self.lengths = Some(lengths);
        self
    }

    fn outputs(&self) -> usize {
        self.config.head.map_or(*self.config.blocks.last().unwrap() * self.config.cells_per_block, |h| h.outputs)
    }

    /// The batch in `T`, with targets, from one set of `f64` values.
    fn batch<T: Real>(&self) -> SeqBatch<T> {
        let (i, o, cols) = (self.config.inputs, self.outputs(), self.b * self.t);
        let x = DMatrix::from_fn(i, cols, |r, c| T::of_f64(((r * 7 + c * 3) as f64 * 0.011).sin()));
        let y = DMatrix::from_fn(o, cols, |r, c| T::of_f64(((r + 5 * c) as f64 * 0.017).cos() * 0.5));
        let batch = SeqBatch::new(x, Some(y), self.t, self.b).unwrap();
        match &self.lengths {
            Some(l) => batch.with_lengths(l.clone()).unwrap(),
            None => batch,
        }
    }
}

/// The network of `config` in `f64`, and the same weights rounded to `f32`.
fn pair(config: &LstmConfig) -> (Lstm<f64>, Lstm<f32>) {
    let n64 = config.build::<f64>().unwrap();
    let mut n32 = config.build::<f32>().unwrap();
    n32.params_mut().iter_mut().zip(n64.params()).for_each(|(d, &s)| *d = s as f32);
    (n64, n32)
}

/// Outputs, loss and gradient of one pass.
fn run<T: Real>(net: &mut Lstm<T>, batch: &SeqBatch<T>, loss: Loss) -> (DMatrix<T>, T, Vec<T>) {
    let out = net.forward(batch).unwrap();
    let mut grad = vec![T::zero(); net.num_params()];
    let value = net.loss_and_gradient(batch, loss, &mut grad).unwrap();
    (out, value, grad)
}

/// `f` on a pool of `n` threads.
fn on_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap().install(f)
}

fn max_abs(v: impl IntoIterator<Item = f64>) -> f64 {
    v.into_iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// `f32` against `f64` with the same weights: outputs within 2·10⁻⁴, the loss within 10⁻³ of
/// itself, and the gradient within 10⁻³ of its largest element.
fn f32_matches_f64(case: &Case, loss: Loss) {
    let (mut n64, mut n32) = pair(&case.config);
    let (o64, l64, g64) = run(&mut n64, &case.batch::<f64>(), loss);
    let (o32, l32, g32) = run(&mut n32, &case.batch::<f32>(), loss);
    let what = format!("{:?}, B = {}, T = {}, lengths {:?}", case.config, case.b, case.t, case.lengths);
    assert_eq!(o64.shape(), o32.shape(), "{what}");
    assert!(o32.iter().chain(&g32).all(|v| v.is_finite()), "{what}: non-finite f32 result");
    let out_err = max_abs(o64.iter().zip(&o32).map(|(&a, &b)| a - b as f64));
    assert!(out_err < 2e-4, "{what}: outputs differ by {out_err}");
    assert!((l64 - l32 as f64).abs() <= 1e-3 * l64.abs().max(1e-3), "{what}: loss {l64} vs {l32}");
    let scale = max_abs(g64.iter().copied());
    assert!(scale > 0.0, "{what}: zero gradient");
    let (k, err) = g64
        .iter()
        .zip(&g32)
        .map(|(&a, &b)| (a - b as f64).abs())
        .enumerate()
        .fold((0, 0.0), |(bk, be), (k, e)| if e > be { (k, e) } else { (bk, be) });
    assert!(err <= 1e-3 * scale, "{what}: gradient {k} is {} in f32, {} in f64 (max {scale})", g32[k], g64[k]);
}

/// Outputs, loss and gradient bit-identical on 1, 2 and 3 threads.
fn same_on_any_threads<T: Real>(case: &Case, loss: Loss) {
    let batch = case.batch::<T>();
    let base = case.config.build::<T>().unwrap();
    let results: Vec<_> = [1, 2, 3]
        .into_iter()
        .map(|n| {
            let mut net = base.clone();
            on_threads(n, || run(&mut net, &batch, loss))
        })
        .collect();
    for (n, r) in [2, 3].into_iter().zip(&results[1..]) {
        let what = format!("{:?}, B = {}, T = {}, {} threads", case.config, case.b, case.t, n);
        assert!(r.0 == results[0].0, "{what}: outputs differ from 1 thread");
        assert!(r.1 == results[0].1, "{what}: loss differs from 1 thread");
        assert!(r.2 == results[0].2, "{what}: gradient differs from 1 thread");
    }
}

/// The modern (PyTorch) cell at sizes straddling the tiles and the split: cells 8, 15, 16, 17,
/// 33, 48, 100, 128, 160 (4H over one 512-deep block of the backward tiles), batches whose
/// halves are below, at and above 8 columns.
fn modern_cases() -> Vec<Case> {
    vec![
        Case::new(LstmConfig::torch(5, 8, 1).seed(1), 64, 257),
        Case::new(LstmConfig::torch(3, 15, 1).seed(2), 33, 143),
        Case::new(LstmConfig::torch(4, 16, 1).seed(3), 31, 133),
        Case::new(LstmConfig::torch(6, 17, 1).seed(4), 17, 215),
        Case::new(LstmConfig::torch(7, 33, 1).seed(5), 9, 107),
        Case::new(LstmConfig::torch(8, 48, 1).seed(6), 16, 29),
        Case::new(LstmConfig::torch(9, 100, 1).seed(7), 15, 7),
        Case::new(LstmConfig::torch(10, 128, 1).seed(8), 32, 5),
        Case::new(LstmConfig::torch(12, 160, 1).seed(9), 16, 3),
        // Not split: W_x x for the whole batch is one product on every thread (≥ 2²⁰).
        Case::new(LstmConfig::torch(64, 32, 1).seed(10), 8, 33),
        // Not split, stacked: ∂E/∂x of the second layer (32 × 264 × 128) on every thread too.
        Case::new(LstmConfig::torch(64, 32, 2).seed(10), 8, 33),
        Case::new(LstmConfig::torch(5, 32, 1).seed(11), 7, 9),
        Case::new(LstmConfig::torch(5, 32, 1).seed(11), 1, 31),
    ]
}

/// Stacked, ragged, with heads, and the general (non-modern) cell, at sizes that split.
fn other_cases() -> Vec<Case> {
    let ragged33: Vec<usize> = (0..33).map(|k| [33, 1, 17, 32, 9][k % 5]).collect();
    let ragged17: Vec<usize> = (0..17).map(|k| [27, 3, 0, 26, 11][k % 5]).collect();
    vec![
        Case::new(LstmConfig::torch(5, 64, 2).seed(12), 17, 17),
        Case::new(LstmConfig::new(5, 24, 1).layers(vec![40, 17]).seed(13), 33, 40),
        Case::new(LstmConfig::torch(4, 32, 1).seed(14), 33, 33).lengths(ragged33.clone()),
        Case::new(LstmConfig::torch(4, 48, 2).seed(15), 17, 27).lengths(ragged17),
        Case::new(LstmConfig::torch(4, 32, 1).head(Head::new(3)).seed(16), 33, 33).lengths(ragged33.clone()),
        Case::new(
            LstmConfig::torch(4, 32, 1).head(Head::new(3).shortcut(true).readout(Readout::LastStep)).seed(17),
            33,
            33,
        )
        .lengths(ragged33.iter().map(|&l| l.max(1)).collect()),
        Case::new(LstmConfig::new(4, 24, 2).peepholes(true).init(WeightInit::Uniform(0.3)).seed(18), 32, 57),
        Case::new(LstmConfig::new(4, 32, 1).forget_gate(false).init(WeightInit::Uniform(0.2)).seed(19), 9, 152),
        Case::new(LstmConfig::new(4, 16, 2).gate_recurrence(true).peepholes(true).seed(20), 17, 61),
        Case::new(LstmConfig::hochreiter1997(4, 8, 4, 2).seed(21), 16, 114),
    ]
}

fn rows_and_sources(config: &LstmConfig, l: usize) -> (usize, usize) {
    let (nb, s) = (config.blocks[l], config.cells_per_block);
    let gates = if config.forget_gate { 3 } else { 2 };
    let rows = nb * s + gates * nb;
    (rows, if config.gate_recurrence { nb * s + gates * nb } else { nb * s })
}

#[test]
fn the_cases_cover_split_and_unsplit_batches() {
    let split = |c: &Case| {
        (0..c.config.blocks.len()).any(|l| {
            let (r, h) = rows_and_sources(&c.config, l);
            splits(r, h, c.b, c.t)
        })
    };
    let modern = modern_cases();
    assert_eq!(modern.iter().filter(|c| split(c)).count(), 9);
    assert!(other_cases().iter().all(split));
}

#[test]
fn f32_matches_f64_for_the_modern_cell_at_every_threshold() {
    for case in modern_cases() {
        f32_matches_f64(&case, Loss::Mse);
    }
}

#[test]
fn f32_matches_f64_stacked_ragged_with_heads_and_general_cells() {
    for case in other_cases() {
        f32_matches_f64(&case, Loss::Mse);
    }
}

#[test]
fn results_are_bit_identical_on_1_2_and_3_threads() {
    for case in modern_cases().iter().chain(&other_cases()) {
        same_on_any_threads::<f32>(case, Loss::Mse);
    }
    for case in [&modern_cases()[7], &other_cases()[3], &other_cases()[6]] {
        same_on_any_threads::<f64>(case, Loss::Mse);
    }
}

/// The batch's gradient under the summed squared error against the sum of each sequence's own,
/// computed alone (a batch of one, never split).
fn split_sums_its_sequences(case: &Case) {
    let mut net = case.config.build::<f64>().unwrap();
    let batch = case.batch::<f64>();
    let n = net.num_params();
    let mut whole = vec![0.0; n];
    let loss = net.loss_and_gradient(&batch, Loss::SumSquared, &mut whole).unwrap();
    let (mut sum, mut one, mut loss_sum) = (vec![0.0; n], vec![0.0; n], 0.0);
    let (b, t) = (case.b, case.t);
    for k in 0..b {
        let len = batch.lengths()[k];
        if len == 0 {
            continue;
        }
        let x = DMatrix::from_fn(case.config.inputs, len, |r, s| batch.inputs()[(r, s * b + k)]);
        let y = DMatrix::from_fn(case.outputs(), len, |r, s| batch.targets().unwrap()[(r, s * b + k)]);
        let single = SeqBatch::from_sequences(&[&Sequence::new(x, y).unwrap()]).unwrap();
        loss_sum += net.loss_and_gradient(&single, Loss::SumSquared, &mut one).unwrap();
        sum.iter_mut().zip(&one).for_each(|(s, &g)| *s += g);
    }
    let what = format!("{:?}, B = {b}, T = {t}", case.config);
    assert!((loss - loss_sum).abs() < 1e-9 * loss.abs(), "{what}: {loss} vs {loss_sum}");
    let scale = max_abs(sum.iter().copied());
    for (k, (a, s)) in whole.iter().zip(&sum).enumerate() {
        assert!((a - s).abs() < 1e-10 * scale, "{what}: parameter {k}: {a} vs {s}");
    }
}

#[test]
fn a_split_ragged_or_stacked_batch_sums_its_sequences_gradients() {
    let others = other_cases();
    for case in [&others[0], &others[2], &others[3], &others[4], &others[5], &others[6], &others[8]] {
        split_sums_its_sequences(case);
    }
    split_sums_its_sequences(&modern_cases()[3]);
}

#[test]
fn a_stream_in_split_pieces_equals_the_stream_at_once() {
    // B = 16, H = 64: pieces of 16 steps split (4·64·64·16·16 = 2²²), as does the whole.
    let (b, t) = (16, 48);
    let case = Case::new(LstmConfig::torch(5, 64, 2).seed(22), b, t);
    for f32_too in [false, true] {
        let (mut n64, mut n32) = pair(&case.config);
        let whole64 = n64.forward(&case.batch::<f64>()).unwrap();
        let mut state = n64.zero_state(b);
        let mut state32 = n32.zero_state(b);
        for (p, t0) in (0..t).step_by(16).enumerate() {
            let x = case.batch::<f64>().inputs().columns(t0 * b, 16 * b).into_owned();
            if f32_too {
                let piece = SeqBatch::new(x.map(|v| v as f32), None, 16, b).unwrap();
                let out = n32.forward_from(&piece, &mut state32).unwrap();
                let err = max_abs(out.iter().zip(whole64.columns(t0 * b, 16 * b).iter()).map(|(&a, &w)| a as f64 - w));
                assert!(err < 2e-4, "f32 piece {p}: {err}");
            } else {
                let piece = SeqBatch::new(x, None, 16, b).unwrap();
                let out = n64.forward_from(&piece, &mut state).unwrap();
                let err = max_abs(out.iter().zip(whole64.columns(t0 * b, 16 * b).iter()).map(|(&a, &w)| a - w));
                assert!(err < 1e-12, "piece {p}: {err}");
            }
        }
    }
}

#[test]
fn ragged_final_states_of_a_split_batch_are_each_sequences_own() {
    let lengths: Vec<usize> = (0..17).map(|k| [17, 3, 0, 16, 11][k % 5]).collect();
    let case = Case::new(LstmConfig::torch(4, 64, 2).seed(23), 17, 17).lengths(lengths.clone());
    let mut net = case.config.build::<f64>().unwrap();
    let batch = case.batch::<f64>();
    let mut state = net.zero_state(17);
    // Start from a non-zero state, so that a length-0 sequence must keep it.
    let warm = Case::new(LstmConfig::torch(4, 64, 2), 17, 3).batch::<f64>();
    let warm = SeqBatch::new(warm.inputs().clone(), None, 3, 17).unwrap();
    net.forward_from(&warm, &mut state).unwrap();
    let start = state.clone();
    net.forward_from(&batch, &mut state).unwrap();
    for (k, &len) in lengths.iter().enumerate() {
        let mut alone = net.zero_state(1);
        // The sequence's start, then its own steps.
        let x0 = DMatrix::from_fn(4, 3, |r, s| warm.inputs()[(r, s * 17 + k)]);
        net.forward_from(&SeqBatch::new(x0, None, 3, 1).unwrap(), &mut alone).unwrap();
        for l in 0..2 {
            let diff = (alone.cell_states(l).column(0) - start.cell_states(l).column(k)).abs().max();
            assert!(diff < 1e-12, "start of sequence {k}, layer {l}: {diff}");
        }
        if len > 0 {
            let x = DMatrix::from_fn(4, len, |r, s| batch.inputs()[(r, s * 17 + k)]);
            net.forward_from(&SeqBatch::new(x, None, len, 1).unwrap(), &mut alone).unwrap();
        }
        for l in 0..2 {
            let ds = (alone.cell_states(l).column(0) - state.cell_states(l).column(k)).abs().max();
            let dr = (alone.sources(l).column(0) - state.sources(l).column(k)).abs().max();
            assert!(ds < 1e-12 && dr < 1e-12, "sequence {k} (length {len}), layer {l}: {ds}, {dr}");
        }
    }
}

#[test]
fn truncated_bptt_at_split_sizes_matches_f64_and_any_thread_count() {
    // Windows of 16 steps of 16 sequences, H = 64: each window splits.
    let case = Case::new(LstmConfig::torch(5, 64, 1).seed(24), 16, 40);
    let tbptt = TruncatedBptt::new(16).unwrap();
    let (n64, n32) = pair(&case.config);
    let epoch = |net: &Lstm<f32>| {
        let mut net = net.clone();
        let mut sgd = rnn_core::Sgd::new(0.05).unwrap();
        let loss = tbptt.train_epoch(&mut net, &case.batch::<f32>(), Loss::Mse, &mut sgd).unwrap();
        (loss, net.params().to_vec())
    };
    let one = on_threads(1, || epoch(&n32));
    assert!(on_threads(2, || epoch(&n32)) == one);
    assert!(on_threads(3, || epoch(&n32)) == one);
    let mut net = n64.clone();
    let mut sgd = rnn_core::Sgd::new(0.05).unwrap();
    let loss = tbptt.train_epoch(&mut net, &case.batch::<f64>(), Loss::Mse, &mut sgd).unwrap();
    assert!((loss - one.0 as f64).abs() < 1e-4 * loss, "{loss} vs {}", one.0);
    let moved = max_abs(net.params().iter().zip(n64.params()).map(|(a, b)| a - b));
    let err = max_abs(net.params().iter().zip(&one.1).map(|(&a, &b)| a - b as f64));
    assert!(err < 1e-3 * moved, "f32 weights off by {err}, moved {moved}");
}

/// The NaN of a long buffer, in the second half of a check in two halves, is named at its own
/// index; so are NaN and infinity in weights and states, at split sizes.
#[test]
fn non_finite_values_at_split_sizes_give_errors_at_their_index() {
    let case = Case::new(LstmConfig::torch(4, 64, 1).seed(25), 17, 16);
    let mut net = case.config.build::<f32>().unwrap();
    let batch = case.batch::<f32>();
    let at = net.num_params() - 3;
    let good = net.params().to_vec();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        net.params_mut()[at] = bad;
        for result in [
            net.forward(&batch).map(|_| ()),
            net.loss(&batch, Loss::Mse).map(|_| ()),
            net.loss_and_gradient(&batch, Loss::Mse, &mut vec![0.0; good.len()]).map(|_| ()),
        ] {
            match result {
                Err(Error::NonFinite { what, index, .. }) => {
                    assert!(what.contains("parameters"), "{what}");
                    assert_eq!(index, at);
                }
                other => panic!("{bad}: expected NonFinite, got {other:?}"),
            }
        }
        net.params_mut().copy_from_slice(&good);
    }
    // An infinity in a state (a state file's 1e39, read as f32), late in the second layer's
    // sources.
    let mut net = LstmConfig::torch(4, 64, 2).seed(25).build::<f32>().unwrap();
    let mut json = serde_json::to_value(net.zero_state(17)).unwrap();
    json["sources"][1][0][64 * 17 - 5] = serde_json::json!(1e39);
    let mut state: rnn_lstm::LstmState<f32> = serde_json::from_value(json).unwrap();
    let before = state.clone();
    let mut grad = vec![0.0; net.num_params()];
    for result in [
        net.forward_from(&batch, &mut state).map(|_| ()),
        net.loss_and_gradient_from(&batch, Loss::Mse, &mut grad, &mut state).map(|_| ()),
    ] {
        match result {
            Err(Error::NonFinite { what, index, .. }) => {
                assert!(what.contains("layer 1"), "{what}");
                assert_eq!(index, 64 * 17 - 5);
            }
            other => panic!("expected NonFinite, got {other:?}"),
        }
    }
    assert_eq!(state.sources(1).as_slice(), before.sources(1).as_slice());
}

#[test]
fn weights_that_overflow_at_split_sizes_give_an_error_or_finite_results() {
    // Input weights of ±3·10³⁸: W_x x overflows; whatever the net inputs become, nothing
    // non-finite may come back as a result.
    let case = Case::new(LstmConfig::torch(4, 64, 1).seed(26), 17, 16);
    let mut net = case.config.build::<f32>().unwrap();
    for (k, w) in net.params_mut()[..4 * 64 * 4].iter_mut().enumerate() {
        *w = if k % 2 == 0 { 3e38 } else { -3e38 };
    }
    let batch = case.batch::<f32>();
    match net.forward(&batch) {
        Ok(out) => assert!(out.iter().all(|v| v.is_finite())),
        Err(e) => assert!(matches!(e, Error::NonFinite { .. }), "{e:?}"),
    }
    let mut grad = vec![0.0; net.num_params()];
    match net.loss_and_gradient(&batch, Loss::Mse, &mut grad) {
        Ok(loss) => assert!(loss.is_finite() && grad.iter().all(|g| g.is_finite())),
        Err(e) => assert!(matches!(e, Error::NonFinite { .. }), "{e:?}"),
    }
}

#[test]
fn bad_shapes_at_split_sizes_are_errors_and_leave_the_state_alone() {
    let case = Case::new(LstmConfig::torch(4, 64, 2).seed(27), 17, 16);
    let mut net = case.config.build::<f32>().unwrap();
    let batch = case.batch::<f32>();
    let n = net.num_params();
    #[track_caller]
    fn dim(r: rnn_core::Result<()>) {
        assert!(matches!(r, Err(Error::DimensionMismatch { .. })), "{r:?}");
    }
    // Inputs one row too wide or narrow.
    for i in [3, 5] {
        let x = DMatrix::from_element(i, 17 * 16, 0.1f32);
        let wrong = SeqBatch::new(x, Some(batch.targets().unwrap().clone()), 16, 17).unwrap();
        dim(net.forward(&wrong).map(|_| ()));
        dim(net.loss_and_gradient(&wrong, Loss::Mse, &mut vec![0.0; n]).map(|_| ()));
    }
    // Targets of the wrong width.
    let y = DMatrix::from_element(63, 17 * 16, 0.1f32);
    let wrong = SeqBatch::new(batch.inputs().clone(), Some(y), 16, 17).unwrap();
    dim(net.loss_and_gradient(&wrong, Loss::Mse, &mut vec![0.0; n]).map(|_| ()));
    dim(net.loss(&wrong, Loss::Mse).map(|_| ()));
    // A gradient buffer of the wrong length.
    for len in [n - 1, n + 1, 0] {
        dim(net.loss_and_gradient(&batch, Loss::Mse, &mut vec![0.0; len]).map(|_| ()));
    }
    // A state for another batch, and a state of the right batch after a bad input.
    let mut other = net.zero_state(16);
    let before = other.clone();
    dim(net.forward_from(&batch, &mut other).map(|_| ()));
    dim(net.loss_and_gradient_from(&batch, Loss::Mse, &mut vec![0.0; n], &mut other).map(|_| ()));
    assert_eq!(other, before);
    let mut state = net.zero_state(17);
    let before = state.clone();
    let wide = SeqBatch::new(DMatrix::from_element(5, 17 * 16, 0.1f32), None, 16, 17).unwrap();
    dim(net.forward_from(&wide, &mut state).map(|_| ()));
    dim(net.loss_and_gradient_from(&wrong, Loss::Mse, &mut vec![0.0; n], &mut state).map(|_| ()));
    assert_eq!(state, before);
    // And it still works.
    let mut grad = vec![0.0; n];
    net.loss_and_gradient_from(&batch, Loss::Mse, &mut grad, &mut state).unwrap();
    assert!(grad.iter().all(|g| g.is_finite()) && state != before);
}

#[test]
fn loss_and_gradient_agree_with_loss_when_a_mask_counts_padded_steps() {
    // A ragged batch whose mask, set after the lengths, marks every column valid. `loss` reads
    // the outputs as `forward` returns them (zero at padded steps); `loss_and_gradient` must
    // give the same value, with and without a head.
    let seq = |len: usize, phase: f64| {
        let x = DMatrix::from_fn(2, len, |i, t| ((i + 1) as f64 * 0.7 + t as f64 * 0.45 + phase).sin());
        let y = DMatrix::from_fn(3, len, |k, t| ((k + 2) as f64 * 0.3 - t as f64 * 0.2 + phase).cos() * 0.8);
        Sequence::new(x, y).unwrap()
    };
    let (a, b) = (seq(5, 0.0), seq(2, 1.0));
    let batch = SeqBatch::from_sequences(&[&a, &b]).unwrap().with_valid_mask(vec![true; 10]).unwrap();
    for config in [LstmConfig::torch(2, 3, 1), LstmConfig::torch(2, 3, 1).head(Head::new(3))] {
        let mut net = config.seed(28).build::<f64>().unwrap();
        let mut grad = vec![0.0; net.num_params()];
        let with_grad = net.loss_and_gradient(&batch, Loss::Mse, &mut grad).unwrap();
        let alone = net.loss(&batch, Loss::Mse).unwrap();
        assert!((with_grad - alone).abs() < 1e-12, "head {:?}: {with_grad} vs {alone}", net.config().head);
    }
}

#[test]
fn one_network_over_batches_of_changing_shapes_gives_what_a_fresh_one_does() {
    // The buffers kept from batch to batch (tapes, packed panels, δ, the loss's dy) must not leak
    // into the next batch: split, unsplit, ragged and full batches in turn, against a fresh clone.
    let config = LstmConfig::torch(4, 64, 2).seed(29);
    let mut shapes = vec![
        Case::new(config.clone(), 17, 16),
        Case::new(config.clone(), 3, 5),
        Case::new(config.clone(), 17, 16).lengths((0..17).map(|k| [16, 1, 0, 9][k % 4]).collect()),
        Case::new(config.clone(), 16, 17),
        Case::new(config.clone(), 17, 16),
        Case::new(config.clone(), 9, 2),
    ];
    shapes.push(Case::new(config.clone(), 17, 16).lengths((0..17).map(|k| [3, 16][k % 2]).collect()));
    let mut shared = config.build::<f32>().unwrap();
    let fresh = shared.clone();
    for (k, case) in shapes.iter().enumerate() {
        for loss in [Loss::Mse, Loss::SoftmaxCrossEntropy] {
            let batch = case.batch::<f32>();
            let got = run(&mut shared, &batch, loss);
            let want = run(&mut fresh.clone(), &batch, loss);
            assert!(got == want, "batch {k} ({loss:?}): differs from a fresh network's");
        }
    }
}

#[test]
fn other_losses_without_a_head_at_split_sizes_match_f64() {
    let case = Case::new(LstmConfig::torch(4, 48, 1).seed(30), 17, 27)
        .lengths((0..17).map(|k| [27, 5, 26, 1][k % 4]).collect());
    for loss in [Loss::SoftmaxCrossEntropy, Loss::BinaryCrossEntropy, Loss::SumSquared] {
        f32_matches_f64(&case, loss);
        same_on_any_threads::<f32>(&case, loss);
    }
}

/// One layer of 16 one-cell blocks in `f32` whose outputs overflow while its net inputs stay
/// finite: identity g and h, W_x = 10³⁷ (so a net input is at most 1.2·10³⁸), W_h = 0, gates
/// held open by biases of 20 (σ(20) rounds to 1). While the inputs are zero the state stays
/// zero; from the first non-zero input, s grows by 1.2·10³⁸ a step and overflows at the third.
fn overflowing_net() -> Lstm<f32> {
    let mut net = LstmConfig::torch(2, 16, 1)
        .squashing(rnn_core::Activation::Identity, rnn_core::Activation::Identity)
        .seed(31)
        .build::<f32>()
        .unwrap();
    let layout = net.layout().clone();
    let wx = layout.block("layer0.w_x").unwrap().range();
    let p = net.params_mut();
    p.fill(0.0);
    p[wx].fill(1e37);
    for gate in ["input", "forget", "output"] {
        let range = layout.block(&format!("layer0.bias.{gate}")).unwrap().range();
        net.params_mut()[range].fill(20.0);
    }
    net
}

#[test]
fn outputs_that_overflow_late_in_a_long_batch_are_named_at_their_own_index() {
    // 16 cells × 64 × 512 = 2¹⁹ outputs: checked (and copied) in two halves. Inputs are zero
    // until step 509, so the first ∞ is at step 511, in the second half; the index must be
    // the one a plain check of the same outputs gives (a ragged batch, whose outputs are
    // checked in one piece: its last sequence ends one step early).
    // The overflow comes at the last step: one step later, W_h·r = 0·∞ would make the net inputs
    // NaN and the forward pass would stop at them.
    let (b, t, from) = (64, 512, 509);
    let mut net = overflowing_net();
    let x = DMatrix::from_fn(2, b * t, |i, c| if c / b >= from { 5.0 + 2.0 * i as f32 } else { 0.0 });
    let y = DMatrix::zeros(16, b * t);
    let full = SeqBatch::new(x.clone(), Some(y.clone()), t, b).unwrap();
    let mut lengths = vec![t; b];
    lengths[b - 1] = t - 1;
    let ragged = SeqBatch::new(x, Some(y), t, b).unwrap().with_lengths(lengths).unwrap();
    let index = |r: rnn_core::Result<()>| match r {
        Err(Error::NonFinite { what, index, .. }) => {
            assert!(what.contains("outputs"), "{what}");
            index
        }
        other => panic!("expected NonFinite, got {other:?}"),
    };
    let want = index(net.forward(&ragged).map(|_| ()));
    assert_eq!(want, 16 * b * (from + 2), "the first ∞ is the first element of step {}", from + 2);
    assert_eq!(index(net.forward(&full).map(|_| ())), want);
    let mut grad = vec![0.0; net.num_params()];
    assert_eq!(index(net.loss_and_gradient(&full, Loss::Mse, &mut grad).map(|_| ())), want);
    assert_eq!(index(net.loss(&full, Loss::Mse).map(|_| ())), want);
}

#[test]
fn an_overflow_is_an_error_whether_or_not_the_batch_splits() {
    // torch(2, 16, 1), W_x = [+3·10³⁸, −3·10³⁸] in every row, W_h = 0, no bias, x = (5, 7) at
    // every step: each net input is 1.5·10³⁹ − 2.1·10³⁹, both terms beyond f32.
    for f64_too in [false, true] {
        let outcome = |b: usize, t: usize| {
            let config = LstmConfig::torch(2, 16, 1);
            let x = DMatrix::from_fn(2, b * t, |i, _| if i == 0 { 5.0 } else { 7.0 });
            let big = if f64_too { 1e308 } else { 3e38 };
            let fill = |p: &mut [f64]| {
                p.fill(0.0);
                p[..64].fill(big);
                p[64..128].fill(-big);
            };
            let result = if f64_too {
                let mut net = config.build::<f64>().unwrap();
                fill(net.params_mut());
                net.forward(&SeqBatch::new(x, None, t, b).unwrap()).map(|o| o[(0, 0)])
            } else {
                let mut net = config.build::<f32>().unwrap();
                let mut p = vec![0.0; net.num_params()];
                fill(&mut p);
                net.params_mut().iter_mut().zip(&p).for_each(|(d, &v)| *d = v as f32);
                net.forward(&SeqBatch::new(x.map(|v| v as f32), None, t, b).unwrap()).map(|o| o[(0, 0)] as f64)
            };
            format!("{:?}", result.map_err(|e| matches!(e, Error::NonFinite { .. })))
        };
        // 4·16·16·64·256 = 2²⁴ ≥ 2²²: split; 4·16·16·2·4 is not.
        assert_eq!(outcome(64, 256), outcome(2, 4), "f64: {f64_too}");
    }
}
