//! The LSTM against PyTorch's `nn.LSTM`: golden data from `tests/golden/make_golden.py` (float64,
//! see its NOTES), loaded with [`Lstm::set_torch_layer`]. Checked per case: the outputs, every
//! layer's h_n and c_n, the summed-squares loss and the gradient of every weight and bias.
//!
//! `grad_x`, the gradient with respect to the input, has no public API here (the backward pass
//! stops at the bottom layer's weights), so it is checked against central differences of this
//! network's loss instead (`grad_x_matches_central_differences`), a weaker check.

use nalgebra::DMatrix;
use rnn_core::{Differentiable, Error, Loss, Parameters, SeqBatch, SequenceModel};
use rnn_lstm::{Lstm, LstmConfig};
use serde::Deserialize;

/// The tolerance asked for; the errors measured are far below it (see `TIGHT`).
const TOL: f64 = 1e-5;
/// What the f64 computations actually reach (measured: ≤ ~1e-15 on values of order 1).
const TIGHT: f64 = 1e-12;

type Rows = Vec<Vec<f64>>;

#[derive(Deserialize)]
struct Golden {
    gate_order: Vec<String>,
    cases: Vec<Case>,
}

#[derive(Deserialize, Clone)]
struct Case {
    name: String,
    input_size: usize,
    hidden_size: usize,
    num_layers: usize,
    steps: usize,
    batch: usize,
    lengths: Vec<usize>,
    layers: Vec<TorchLayer>,
    /// `[T][B][I]`.
    x: Vec<Rows>,
    /// `[T][B][H]`.
    output: Vec<Rows>,
    /// `[L][B][H]`.
    h_n: Vec<Rows>,
    /// `[L][B][H]`.
    c_n: Vec<Rows>,
    /// `[T][B][H]`.
    target: Vec<Rows>,
    loss: f64,
    /// `[T][B][I]`.
    grad_x: Vec<Rows>,
}

#[derive(Deserialize, Clone)]
struct TorchLayer {
    weight_ih: Rows,
    weight_hh: Rows,
    bias_ih: Vec<f64>,
    bias_hh: Vec<f64>,
    grad_weight_ih: Rows,
    grad_weight_hh: Rows,
    grad_bias_ih: Vec<f64>,
    grad_bias_hh: Vec<f64>,
}

fn golden() -> Golden {
    let text = include_str!("../golden/torch_lstm.json");
    let golden: Golden = serde_json::from_str(text).expect("torch_lstm.json parses");
    assert_eq!(golden.gate_order, ["i", "f", "g", "o"]);
    golden
}

/// A list of rows as a matrix (a ragged list gives a matrix of the first row's width, so that a
/// wrong shape reaches `set_torch_layer` rather than panicking here).
fn matrix(rows: &Rows) -> DMatrix<f64> {
    let cols = rows.first().map_or(0, Vec::len);
    DMatrix::from_fn(rows.len(), cols, |i, j| rows[i][j])
}

/// A time-major `[T][B][n]` tensor as the `n × T·B` matrix of a [`SeqBatch`].
fn time_major(t: &[Rows], n: usize) -> DMatrix<f64> {
    let b = t[0].len();
    DMatrix::from_fn(n, t.len() * b, |i, col| t[col / b][col % b][i])
}

/// `[B][n]` (one layer of h_n or c_n) as `n × B`.
fn per_sequence(t: &Rows, n: usize) -> DMatrix<f64> {
    DMatrix::from_fn(n, t.len(), |i, b| t[b][i])
}

fn max_abs_diff(got: &DMatrix<f64>, want: &DMatrix<f64>, what: &str) -> f64 {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    got.iter().zip(want.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
}

fn build(case: &Case) -> rnn_core::Result<Lstm<f64>> {
    let mut net = LstmConfig::torch(case.input_size, case.hidden_size, case.num_layers).build::<f64>()?;
    for (l, layer) in case.layers.iter().enumerate() {
        net.set_torch_layer(l, &matrix(&layer.weight_ih), &matrix(&layer.weight_hh), &layer.bias_ih, &layer.bias_hh)?;
    }
    Ok(net)
}

fn batch(case: &Case) -> SeqBatch<f64> {
    let x = time_major(&case.x, case.input_size);
    let y = time_major(&case.target, case.hidden_size);
    SeqBatch::new(x, Some(y), case.steps, case.batch).unwrap().with_lengths(case.lengths.clone()).unwrap()
}

/// The largest absolute error of each quantity of one case.
#[derive(Debug, Default)]
struct Errors {
    output: f64,
    h_n: f64,
    c_n: f64,
    loss: f64,
    grad_weight_ih: f64,
    grad_weight_hh: f64,
    grad_bias: f64,
}

impl Errors {
    fn max(&self) -> f64 {
        [self.output, self.h_n, self.c_n, self.loss, self.grad_weight_ih, self.grad_weight_hh, self.grad_bias]
            .into_iter()
            .fold(0.0, f64::max)
    }
}

fn measure(case: &Case) -> Errors {
    let (h, l) = (case.hidden_size, case.num_layers);
    assert_eq!(case.layers.len(), l, "{}: layers", case.name);
    let mut net = build(case).unwrap();
    let batch = batch(case);
    let mut e = Errors::default();

    // Outputs from the zero state: H × T·B, zero at padded steps (as pad_packed_sequence gives).
    let out = net.forward(&batch).unwrap();
    e.output = max_abs_diff(&out, &time_major(&case.output, h), "output");

    // The same run with a state, to read every layer's final h and c.
    let mut state = net.zero_state(case.batch);
    let out_from = net.forward_from(&batch, &mut state).unwrap();
    assert_eq!(out_from, out, "{}: forward_from from zero = forward", case.name);
    for layer in 0..l {
        e.h_n = e.h_n.max(max_abs_diff(&state.cell_outputs(layer), &per_sequence(&case.h_n[layer], h), "h_n"));
        e.c_n = e.c_n.max(max_abs_diff(state.cell_states(layer), &per_sequence(&case.c_n[layer], h), "c_n"));
    }

    // Loss = Σ over valid steps ½ (out − target)², and its gradient.
    let mut grad = vec![0.0; net.num_params()];
    let loss = net.loss_and_gradient(&batch, Loss::SumSquared, &mut grad).unwrap();
    assert!((net.loss(&batch, Loss::SumSquared).unwrap() - loss).abs() <= 1e-14 * loss.abs().max(1.0));
    e.loss = (loss - case.loss).abs();
    for (layer, want) in case.layers.iter().enumerate() {
        let (g_ih, g_hh, g_b) = net.torch_layer_gradient(layer, &grad).unwrap();
        e.grad_weight_ih = e.grad_weight_ih.max(max_abs_diff(&g_ih, &matrix(&want.grad_weight_ih), "grad_weight_ih"));
        e.grad_weight_hh = e.grad_weight_hh.max(max_abs_diff(&g_hh, &matrix(&want.grad_weight_hh), "grad_weight_hh"));
        // One bias stands for b_ih + b_hh, so its gradient is each of theirs.
        let g_b = DMatrix::from_column_slice(4 * h, 1, &g_b);
        for torch in [&want.grad_bias_ih, &want.grad_bias_hh] {
            let torch = DMatrix::from_column_slice(4 * h, 1, torch);
            e.grad_bias = e.grad_bias.max(max_abs_diff(&g_b, &torch, "grad_bias"));
        }
    }
    e
}

#[test]
fn matches_pytorch_nn_lstm() {
    let golden = golden();
    let names: Vec<&str> = golden.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["single", "stacked", "ragged"]);
    for case in &golden.cases {
        let e = measure(case);
        println!("{}: max abs error {:.3e} ({e:?})", case.name, e.max());
        assert!(e.max() < TOL, "{}: {e:?}", case.name);
        assert!(e.max() < TIGHT, "{}: {e:?}", case.name);
    }
}

#[test]
fn the_ragged_case_is_ragged_and_padding_is_zero() {
    let golden = golden();
    let case = golden.cases.iter().find(|c| c.name == "ragged").unwrap();
    assert!(case.lengths.iter().any(|&n| n < case.steps));
    let mut net = build(case).unwrap();
    let out = net.forward(&batch(case)).unwrap();
    for (b, &len) in case.lengths.iter().enumerate() {
        for t in len..case.steps {
            assert!(out.column(t * case.batch + b).iter().all(|&v| v == 0.0), "padded step {t} of sequence {b}");
        }
    }
}

#[test]
fn export_gives_back_the_torch_weights() {
    let golden = golden();
    for case in &golden.cases {
        let net = build(case).unwrap();
        for (l, layer) in case.layers.iter().enumerate() {
            let (w_ih, w_hh, bias) = net.torch_layer(l).unwrap();
            assert_eq!(w_ih, matrix(&layer.weight_ih));
            assert_eq!(w_hh, matrix(&layer.weight_hh));
            let sum: Vec<f64> = layer.bias_ih.iter().zip(&layer.bias_hh).map(|(a, b)| a + b).collect();
            assert_eq!(bias, sum);
            // Loading the export (bias_hh = 0) changes nothing.
            let mut again = net.clone();
            again.set_torch_layer(l, &w_ih, &w_hh, &bias, &vec![0.0; bias.len()]).unwrap();
            assert_eq!(again.params(), net.params());
        }
    }
}

/// Runs `set_torch_layer` on `case` with its first layer altered by `alter`; returns the error
/// and checks that the network was left as it was.
fn load_altered(case: &Case, alter: impl FnOnce(&mut TorchLayer)) -> Error {
    let mut layer = case.layers[0].clone();
    alter(&mut layer);
    let mut net = LstmConfig::torch(case.input_size, case.hidden_size, case.num_layers).build::<f64>().unwrap();
    let before = net.params().to_vec();
    let err = net
        .set_torch_layer(0, &matrix(&layer.weight_ih), &matrix(&layer.weight_hh), &layer.bias_ih, &layer.bias_hh)
        .unwrap_err();
    assert_eq!(net.params(), &before[..], "a failed load must change nothing");
    err
}

/// A change to a golden layer.
type Alter = Box<dyn FnOnce(&mut TorchLayer)>;

#[test]
fn wrong_shapes_are_clear_errors() {
    let golden = golden();
    let case = &golden.cases[0];
    let (i, h) = (case.input_size, case.hidden_size);
    let cases: Vec<(Alter, String)> = vec![
        (
            Box::new(|l| {
                l.weight_ih.pop();
            }),
            format!("weight_ih of layer 0 (rows = 4·hidden): expected {}, got {}", 4 * h, 4 * h - 1),
        ),
        (
            Box::new(|l| l.weight_ih.iter_mut().for_each(|r| r.push(0.0))),
            format!("weight_ih of layer 0 (columns = layer input width): expected {i}, got {}", i + 1),
        ),
        (
            Box::new(|l| l.weight_hh.truncate(4)),
            format!("weight_hh of layer 0 (rows = 4·hidden): expected {}, got 4", 4 * h),
        ),
        (
            Box::new(|l| l.weight_hh.iter_mut().for_each(|r| _ = r.pop())),
            format!("weight_hh of layer 0 (columns = hidden): expected {h}, got {}", h - 1),
        ),
        (
            Box::new(|l| l.bias_ih.push(1.0)),
            format!("bias_ih of layer 0 (length = 4·hidden): expected {}, got {}", 4 * h, 4 * h + 1),
        ),
        (Box::new(|l| l.bias_hh.clear()), format!("bias_hh of layer 0 (length = 4·hidden): expected {}, got 0", 4 * h)),
    ];
    for (alter, message) in cases {
        let err = load_altered(case, alter);
        assert!(matches!(err, Error::DimensionMismatch { .. }), "{err:?}");
        assert_eq!(err.to_string(), message);
    }
    // The stacked case's second layer reads H, not the input width.
    let stacked = golden.cases.iter().find(|c| c.num_layers > 1).unwrap();
    let mut net = build(stacked).unwrap();
    let first = &stacked.layers[0];
    let err = net
        .set_torch_layer(1, &matrix(&first.weight_ih), &matrix(&first.weight_hh), &first.bias_ih, &first.bias_hh)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "weight_ih of layer 1 (columns = layer input width): expected {}, got {}",
            stacked.hidden_size, stacked.input_size
        )
    );
}

#[test]
fn non_finite_values_and_bad_layers_are_errors() {
    let golden = golden();
    let case = &golden.cases[0];
    let err = load_altered(case, |l| l.weight_hh[2][1] = f64::NAN);
    assert!(matches!(err, Error::NonFinite { .. }), "{err:?}");
    assert!(err.to_string().contains("weight_hh of layer 0"), "{err}");
    let err = load_altered(case, |l| l.bias_ih[0] = f64::INFINITY);
    assert!(err.to_string().contains("bias_ih of layer 0"), "{err}");
    let err = load_altered(case, |l| {
        l.bias_ih[3] = f64::MAX;
        l.bias_hh[3] = f64::MAX;
    });
    assert!(err.to_string().contains("bias_ih + bias_hh of layer 0"), "{err}");

    let mut net = build(case).unwrap();
    let layer = &case.layers[0];
    let (w_ih, w_hh) = (matrix(&layer.weight_ih), matrix(&layer.weight_hh));
    let err = net.set_torch_layer(1, &w_ih, &w_hh, &layer.bias_ih, &layer.bias_hh).unwrap_err();
    assert_eq!(err.to_string(), "invalid LSTM layer index: expected below 1 (the network has 1 layer(s)), got 1");
    assert!(net.torch_layer(5).is_err());
    assert!(net.torch_layer_gradient(0, &[0.0; 3]).is_err());
}

#[test]
fn networks_not_of_torch_form_are_refused() {
    let base = || LstmConfig::torch(3, 5, 1);
    let w_ih = DMatrix::zeros(20, 3);
    let w_hh = DMatrix::zeros(20, 5);
    let b = [0.0; 20];
    for (config, part) in [
        (base().cells_per_block(2), "cells per block"),
        (base().forget_gate(false), "forget gates"),
        (base().peepholes(true), "peepholes"),
        (base().gate_recurrence(true), "gate recurrence"),
        (base().cell_bias(false), "cell-input biases"),
        (base().gate_bias(false), "gate biases"),
        (base().gate_activation(rnn_core::Activation::Tanh), "gate activation"),
        (base().squashing(rnn_core::Activation::Tanh, rnn_core::Activation::Logistic), "cell output squashing h"),
        (LstmConfig::hochreiter1997(3, 5, 1, 2), "forget gates"),
    ] {
        let mut net = config.build::<f64>().unwrap();
        let err = net.set_torch_layer(0, &w_ih, &w_hh, &b, &b).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(part) && text.contains("PyTorch"), "{part}: {text}");
        assert!(net.torch_layer(0).is_err());
    }
}

#[test]
fn grad_x_matches_central_differences() {
    let golden = golden();
    for case in &golden.cases {
        let mut net = build(case).unwrap();
        let base = batch(case);
        let want = time_major(&case.grad_x, case.input_size);
        let eps = 1e-6;
        let mut worst = 0.0f64;
        for col in 0..base.inputs().ncols() {
            for i in 0..case.input_size {
                let mut loss_at = |dx: f64| {
                    let mut x = base.inputs().clone();
                    x[(i, col)] += dx;
                    let b = SeqBatch::new(x, base.targets().cloned(), case.steps, case.batch).unwrap();
                    net.loss(&b.with_lengths(case.lengths.clone()).unwrap(), Loss::SumSquared).unwrap()
                };
                let numeric = (loss_at(eps) - loss_at(-eps)) / (2.0 * eps);
                worst = worst.max((numeric - want[(i, col)]).abs());
            }
        }
        println!("{}: grad_x vs central differences: max abs error {worst:.3e}", case.name);
        assert!(worst < 1e-6, "{}: grad_x off by {worst}", case.name);
    }
}
