//! `TruncatedRtrl` against a reference written straight from the equations of Hochreiter &
//! Schmidhuber (1997), "Long short-term memory", Appendix A.1 (the forget-gate partial from
//! Gers, Schmidhuber & Cummins 2000), sharing none of the library's code: from the same initial
//! weights, trained online on the same embedded-Reber strings with a weight change at every step,
//! both must give the same outputs at every step and end with the same weights.
//!
//! Unlike full BPTT the truncated gradient has no finite-difference check, and the tests in
//! `online.rs` reach it only where nothing is truncated (W_h = 0, or one step); here the
//! recurrent weights are live and hundreds of per-step updates compound any difference.

use rnn_core::Parameters;
use rnn_data::generators::embedded_reber_set;
use rnn_lstm::{GateBias, Lstm, LstmConfig, TruncatedRtrl, WeightInit};

/// The logistic function σ(x) = 1 / (1 + e^(−x)), the gates' and output units' f.
fn sigma(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn dot(w: &[f64], v: &[f64]) -> f64 {
    w.iter().zip(v).map(|(a, b)| a * b).sum()
}

/// The weights of a single-layer LSTM of the 1997 kind (gates and cells as recurrent sources,
/// no cell bias, a logistic head without bias), one `Vec` of incoming weights per unit. Every
/// cell-input and gate unit reads v(t) = \[x(t); r(t−1); 1\], where the recurrent sources r are
/// the cell outputs y_c, then the input, forget (if any) and output gate activations, and the
/// last entry is the bias unit.
#[derive(Clone, Debug)]
struct Weights {
    /// w_cm, one row per cell c; the bias entry is 0 and not trained (the 1997 cells have none).
    cell: Vec<Vec<f64>>,
    /// w_in,m, w_φm, w_out,m: one row per block (`phi` empty without forget gates).
    input: Vec<Vec<f64>>,
    phi: Vec<Vec<f64>>,
    output: Vec<Vec<f64>>,
    /// w_kc: output unit k from cell output y_c.
    head: Vec<Vec<f64>>,
}

impl Weights {
    /// Reads a network's weights through its documented parameter layout (`geometry.rs`): R rows
    /// of net input — the C cell inputs, then the input, forget and output gates, one per block
    /// — in `layer0.w_x` (R × I) and `layer0.w_h` (R × H_s, sources in the same order), the gate
    /// biases in `layer0.bias.{input,forget,output}`, the head in `head.w` (O × C).
    fn of(net: &Lstm<f64>) -> Self {
        let (layout, p) = (net.layout(), net.params());
        let view = |name: &str| layout.view(p, layout.block(name).expect(name));
        let (w_x, w_h) = (view("layer0.w_x"), view("layer0.w_h"));
        let config = net.config();
        let (nb, cells) = (config.blocks[0], config.blocks[0] * config.cells_per_block);
        let unit = |row: usize, bias: f64| -> Vec<f64> {
            w_x.row(row).iter().chain(w_h.row(row).iter()).copied().chain([bias]).collect()
        };
        let gates = |name: &str, first_row: usize| -> Vec<Vec<f64>> {
            let bias = view(name);
            (0..nb).map(|j| unit(first_row + j, bias[j])).collect()
        };
        let forget = config.forget_gate;
        let w = Self {
            cell: (0..cells).map(|c| unit(c, 0.0)).collect(),
            input: gates("layer0.bias.input", cells),
            phi: if forget { gates("layer0.bias.forget", cells + nb) } else { Vec::new() },
            output: gates("layer0.bias.output", cells + nb * (1 + forget as usize)),
            head: view("head.w").row_iter().map(|r| r.iter().copied().collect()).collect(),
        };
        // Every parameter of the network is one of these (the cells' bias entries aside).
        assert_eq!(w.all().count() - cells, net.num_params(), "the reference must cover every parameter");
        w
    }

    fn all(&self) -> impl Iterator<Item = f64> + '_ {
        [&self.cell, &self.input, &self.phi, &self.output, &self.head].into_iter().flatten().flatten().copied()
    }

    fn max_diff(&self, other: &Self) -> f64 {
        self.all().zip(other.all()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
    }
}

/// The 1997 LSTM forward step and its truncated-RTRL weight update, for block j with cells c:
///
/// ```text
/// y_in,j(t)  = σ(w_in,j · v(t)),   y_φ,j(t) = σ(w_φ,j · v(t)) (or 1),   y_out,j(t) = σ(w_out,j · v(t))
/// s_c(t)     = y_φ,j(t) s_c(t−1) + y_in,j(t) g(w_c · v(t))        g(z) = 4σ(z) − 2
/// y_c(t)     = y_out,j(t) h(s_c(t))                               h(z) = 2σ(z) − 1
/// y_k(t)     = σ(Σ_c w_kc y_c(t))
/// ```
///
/// The partials of s_c, carried forward from the start of the string (v_m = v_m(t)):
///
/// ```text
/// ∂s_c/∂w_cm(t)   = y_φ(t) ∂s_c/∂w_cm(t−1)   + g′(net_c(t)) y_in(t) v_m
/// ∂s_c/∂w_in,m(t) = y_φ(t) ∂s_c/∂w_in,m(t−1) + g(net_c(t)) f′(net_in(t)) v_m
/// ∂s_c/∂w_φm(t)   = y_φ(t) ∂s_c/∂w_φm(t−1)   + s_c(t−1) f′(net_φ(t)) v_m
/// ```
///
/// With a target d and E(t) = ½ Σ_k (y_k − d_k)², the errors of this one step:
///
/// ```text
/// δ_k     = f′(net_k) (y_k − d_k),   e_c = Σ_k w_kc δ_k
/// δ_out,j = f′(net_out,j) Σ_{c ∈ j} e_c h(s_c)        (output gates: one step only)
/// e_s,c   = e_c y_out,j h′(s_c)
/// ∂E(t)/∂w_kc = δ_k y_c,   ∂E(t)/∂w_out,m = δ_out v_m,
/// ∂E(t)/∂w_cm = e_s,c ∂s_c/∂w_cm,   ∂E(t)/∂w_in,m = Σ_{c ∈ j} e_s,c ∂s_c/∂w_in,m   (same for φ)
/// ```
///
/// and Δw = −η ∂E(t)/∂w at once, every error computed with the weights before the change.
struct Reference {
    w: Weights,
    eta: f64,
    cells_per_block: usize,
    /// s_c(t−1) and the recurrent sources of the last step: y_c, y_in, y_φ, y_out.
    s: Vec<f64>,
    y_c: Vec<f64>,
    y_in: Vec<f64>,
    y_phi: Vec<f64>,
    y_out: Vec<f64>,
    /// ∂s_c/∂w_cm, ∂s_c/∂w_in,m, ∂s_c/∂w_φm of cell c (row c, over m).
    ds_cell: Vec<Vec<f64>>,
    ds_in: Vec<Vec<f64>>,
    ds_phi: Vec<Vec<f64>>,
}

impl Reference {
    fn new(net: &Lstm<f64>, eta: f64) -> Self {
        let config = net.config();
        let (cells, nb) = (config.blocks[0] * config.cells_per_block, config.blocks[0]);
        assert!(config.gate_recurrence && !config.cell_bias && !config.peepholes);
        let w = Weights::of(net);
        let width = w.cell[0].len();
        let nf = w.phi.len();
        Self {
            w,
            eta,
            cells_per_block: config.cells_per_block,
            s: vec![0.0; cells],
            y_c: vec![0.0; cells],
            y_in: vec![0.0; nb],
            y_phi: vec![0.0; nf],
            y_out: vec![0.0; nb],
            ds_cell: vec![vec![0.0; width]; cells],
            ds_in: vec![vec![0.0; width]; cells],
            ds_phi: vec![vec![0.0; if nf > 0 { width } else { 0 }]; cells],
        }
    }

    /// The start of a string: zero state, sources and partials.
    fn reset(&mut self) {
        for buf in [&mut self.s, &mut self.y_c, &mut self.y_in, &mut self.y_phi, &mut self.y_out] {
            buf.fill(0.0);
        }
        for rows in [&mut self.ds_cell, &mut self.ds_in, &mut self.ds_phi] {
            rows.iter_mut().for_each(|r| r.fill(0.0));
        }
    }

    /// One step: the outputs y(t) with the current weights, then (with a target) the update.
    fn step(&mut self, x: &[f64], target: Option<&[f64]>) -> Vec<f64> {
        let v: Vec<f64> =
            [x, &self.y_c, &self.y_in, &self.y_phi, &self.y_out].concat().into_iter().chain([1.0]).collect();
        let gate = |rows: &[Vec<f64>]| -> Vec<f64> { rows.iter().map(|w| sigma(dot(w, &v))).collect() };
        let (y_in, y_phi, y_out) = (gate(&self.w.input), gate(&self.w.phi), gate(&self.w.output));
        let forget = !y_phi.is_empty();
        let cells = self.s.len();
        let (mut h, mut dh) = (vec![0.0; cells], vec![0.0; cells]);
        for c in 0..cells {
            let j = c / self.cells_per_block;
            let phi = if forget { y_phi[j] } else { 1.0 };
            let sg = sigma(dot(&self.w.cell[c], &v));
            let (g, dg) = (4.0 * sg - 2.0, 4.0 * sg * (1.0 - sg));
            let s_prev = self.s[c];
            self.s[c] = phi * s_prev + y_in[j] * g;
            for m in 0..v.len() {
                self.ds_cell[c][m] = phi * self.ds_cell[c][m] + dg * y_in[j] * v[m];
                self.ds_in[c][m] = phi * self.ds_in[c][m] + g * y_in[j] * (1.0 - y_in[j]) * v[m];
                if forget {
                    self.ds_phi[c][m] = phi * self.ds_phi[c][m] + s_prev * phi * (1.0 - phi) * v[m];
                }
            }
            let sh = sigma(self.s[c]);
            (h[c], dh[c]) = (2.0 * sh - 1.0, 2.0 * sh * (1.0 - sh));
            self.y_c[c] = y_out[j] * h[c];
        }
        let y: Vec<f64> = self.w.head.iter().map(|w| sigma(dot(w, &self.y_c))).collect();
        (self.y_in, self.y_phi, self.y_out) = (y_in, y_phi, y_out);
        if let Some(d) = target {
            self.update(&v, &y, d, &h, &dh);
        }
        y
    }

    /// Δw = −η ∂E(t)/∂w of one step (the errors first, from the weights before the change).
    fn update(&mut self, v: &[f64], y: &[f64], d: &[f64], h: &[f64], dh: &[f64]) {
        let (eta, cpb, cells) = (self.eta, self.cells_per_block, self.s.len());
        let delta_k: Vec<f64> = y.iter().zip(d).map(|(&yk, &dk)| yk * (1.0 - yk) * (yk - dk)).collect();
        let e_c: Vec<f64> =
            (0..cells).map(|c| self.w.head.iter().zip(&delta_k).map(|(w, dk)| w[c] * dk).sum()).collect();
        let delta_out: Vec<f64> = (0..self.y_out.len())
            .map(|j| {
                let yo = self.y_out[j];
                yo * (1.0 - yo) * (j * cpb..(j + 1) * cpb).map(|c| e_c[c] * h[c]).sum::<f64>()
            })
            .collect();
        let e_s: Vec<f64> = (0..cells).map(|c| e_c[c] * self.y_out[c / cpb] * dh[c]).collect();

        for (k, w) in self.w.head.iter_mut().enumerate() {
            for c in 0..cells {
                w[c] -= eta * delta_k[k] * self.y_c[c];
            }
        }
        for (j, w) in self.w.output.iter_mut().enumerate() {
            for m in 0..v.len() {
                w[m] -= eta * delta_out[j] * v[m];
            }
        }
        for c in 0..cells {
            // Not the last entry: the cells have no bias.
            for m in 0..v.len() - 1 {
                self.w.cell[c][m] -= eta * e_s[c] * self.ds_cell[c][m];
            }
        }
        for (gate, ds) in [(&mut self.w.input, &self.ds_in), (&mut self.w.phi, &self.ds_phi)] {
            for (j, w) in gate.iter_mut().enumerate() {
                for m in 0..v.len() {
                    w[m] -= eta * (j * cpb..(j + 1) * cpb).map(|c| e_s[c] * ds[c][m]).sum::<f64>();
                }
            }
        }
    }
}

/// Trains `net` with `TruncatedRtrl` and the reference side by side, η = 0.5, on `strings`
/// embedded-Reber strings (online, a change at every step); returns the largest difference of
/// the outputs at any step, and of the weights at the end.
fn train_both(mut net: Lstm<f64>, strings: usize) -> (f64, f64) {
    let eta = 0.5;
    let start = Weights::of(&net);
    let mut reference = Reference::new(&net, eta);
    let mut rtrl = TruncatedRtrl::new(&net, eta).unwrap();
    let data = embedded_reber_set::<f64>(strings, 1_000).unwrap();
    let mut worst_y: f64 = 0.0;
    let mut compare = |lib: &[f64], own: &[f64]| {
        assert_eq!(lib.len(), own.len());
        worst_y = lib.iter().zip(own).map(|(a, b)| (a - b).abs()).fold(worst_y, f64::max);
    };
    let column = |m: &nalgebra::DMatrix<f64>, t: usize| m.column(t).iter().copied().collect::<Vec<f64>>();
    for s in &data {
        let (x, d) = (&s.sequence.inputs, &s.sequence.targets);
        rtrl.reset();
        reference.reset();
        for t in 0..x.ncols() {
            let (xt, dt) = (column(x, t), column(d, t));
            let lib = rtrl.step(&mut net, &xt, Some(&dt)).unwrap().to_vec();
            compare(&lib, &reference.step(&xt, Some(&dt)));
        }
    }
    // And the trained networks without learning, on the first strings again.
    for s in &data[..20] {
        rtrl.reset();
        reference.reset();
        for t in 0..s.sequence.inputs.ncols() {
            let xt = column(&s.sequence.inputs, t);
            let lib = rtrl.step(&mut net, &xt, None).unwrap().to_vec();
            compare(&lib, &reference.step(&xt, None));
        }
    }
    let end = Weights::of(&net);
    // Learning happened: the comparison is not of two untouched networks.
    assert!(end.max_diff(&start) > 0.5, "the weights moved only {}", end.max_diff(&start));
    (worst_y, end.max_diff(&reference.w))
}

#[test]
fn truncated_rtrl_is_the_1997_papers_rule() {
    // Experiment 1's network (xtask reproduce reber): 3 blocks of 2 cells, weights in ±0.2.
    let net = LstmConfig::hochreiter1997(7, 3, 2, 7).init(WeightInit::Uniform(0.2)).seed(3).build::<f64>().unwrap();
    let (dy, dw) = train_both(net, 200);
    eprintln!("1997, 200 strings: max |Δy| {dy:.2e}, max |Δw| {dw:.2e}");
    assert!(dy < 1e-9 && dw < 1e-9, "TruncatedRtrl and the 1997 equations differ: outputs by {dy}, weights by {dw}");
}

#[test]
fn truncated_rtrl_with_forget_gates_is_gers_2000s_rule() {
    let net = LstmConfig::hochreiter1997(7, 3, 2, 7)
        .forget_gate(true)
        .forget_gate_bias(GateBias::staggered(0.5, 0.5))
        .init(WeightInit::Uniform(0.2))
        .seed(4)
        .build::<f64>()
        .unwrap();
    let (dy, dw) = train_both(net, 100);
    eprintln!("forget gates, 100 strings: max |Δy| {dy:.2e}, max |Δw| {dw:.2e}");
    assert!(dy < 1e-9 && dw < 1e-9, "TruncatedRtrl and the 2000 equations differ: outputs by {dy}, weights by {dw}");
}
