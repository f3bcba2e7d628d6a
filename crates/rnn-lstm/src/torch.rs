//! Importing and exporting the weights of PyTorch's `nn.LSTM`, layer by layer.
//!
//! PyTorch stacks a layer's 4H net inputs as the gates i, f, g, o (H rows each); this crate
//! stacks them as the cell inputs (torch's g), then the input gates (i), the forget gates (f) and
//! the output gates (o). With H one-cell blocks (the form of [`LstmConfig::torch`]) unit j of
//! gate k ∈ {i, f, g, o} is torch row `k·H + j` and row `[H, 2H, 0, 3H][k] + j` here:
//!
//! - `layer{l}.w_x[row_k(j), :] = weight_ih_l{l}[k·H + j, :]`,
//! - `layer{l}.w_h[row_k(j), :] = weight_hh_l{l}[k·H + j, :]`,
//! - `layer{l}.bias.{cell, input, forget, output}[j] = bias_ih_l{l}[k·H + j] + bias_hh_l{l}[k·H + j]`
//!   for k = g, i, f, o: PyTorch's two biases only ever appear summed.

use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use rnn_core::{
    Activation, Error, ParamBlock, Parameters, Real, Result,
    error::{check_dim, check_finite},
};

use crate::Lstm;

/// PyTorch's gates i, f, g, o in its order, each as (our bias block, our first row in units of
/// H).
const GATES: [(&str, usize); 4] = [("input", 1), ("forget", 2), ("cell", 0), ("output", 3)];

/// The parameter blocks of one layer in PyTorch's form, and its sizes.
struct TorchLayer {
    /// H, the layer's hidden units (its one-cell blocks).
    hidden: usize,
    /// I_l, the layer's input width.
    inputs: usize,
    w_x: ParamBlock,
    w_h: ParamBlock,
    /// The bias blocks in PyTorch's gate order i, f, g, o.
    bias: [ParamBlock; 4],
}

impl<T: Real> Lstm<T> {
    /// Checks that the network has PyTorch's form and returns the blocks of layer `layer`.
    fn torch_blocks(&self, layer: usize) -> Result<TorchLayer> {
        let config = self.config();
        let form = |part: &str| format!("{part} (to hold PyTorch nn.LSTM weights)");
        if config.cells_per_block != 1 {
            return Err(Error::config(form("cells per block"), "1", config.cells_per_block));
        }
        if !config.forget_gate {
            return Err(Error::config(form("forget gates"), "present", "none"));
        }
        if config.peepholes {
            return Err(Error::config(form("peepholes"), "none", "present"));
        }
        if config.gate_recurrence {
            return Err(Error::config(form("gate recurrence"), "none (the cells alone are recurrent)", "on"));
        }
        if !config.cell_bias {
            return Err(Error::config(form("cell-input biases"), "present", "none"));
        }
        if !config.gate_bias {
            return Err(Error::config(form("gate biases"), "present", "none"));
        }
        for (part, want, got) in [
            ("gate activation", Activation::Logistic, config.gate_activation),
            ("cell input squashing g", Activation::Tanh, config.cell_input_activation),
            ("cell output squashing h", Activation::Tanh, config.cell_output_activation),
        ] {
            if got != want {
                return Err(Error::config(form(part), format!("{want:?}"), format!("{got:?}")));
            }
        }
        let layers = self.num_layers();
        if layer >= layers {
            return Err(Error::config(
                "LSTM layer index",
                format!("below {layers} (the network has {layers} layer(s))"),
                layer,
            ));
        }
        let hidden = config.blocks[layer];
        let inputs = if layer == 0 { config.inputs } else { config.blocks[layer - 1] };
        let layout = self.layout();
        let block = |name: String, rows: usize, cols: usize| -> Result<ParamBlock> {
            let b = layout.block(&name)?;
            check_dim(&format!("rows of parameter block {name}"), rows, b.rows)?;
            check_dim(&format!("columns of parameter block {name}"), cols, b.cols)?;
            Ok(b.clone())
        };
        let bias = |gate: usize| block(format!("layer{layer}.bias.{}", GATES[gate].0), hidden, 1);
        Ok(TorchLayer {
            hidden,
            inputs,
            w_x: block(format!("layer{layer}.w_x"), 4 * hidden, inputs)?,
            w_h: block(format!("layer{layer}.w_h"), 4 * hidden, hidden)?,
            bias: [bias(0)?, bias(1)?, bias(2)?, bias(3)?],
        })
    }

    /// Sets layer `layer` from PyTorch's `nn.LSTM` parameters `weight_ih_l{layer}` (4H × I_l,
    /// I_0 the input width, I_l = H above), `weight_hh_l{layer}` (4H × H), `bias_ih_l{layer}`
    /// and `bias_hh_l{layer}` (4H each), whose 4H rows are PyTorch's gates i, f, g, o.
    ///
    /// The network must have the form of [`LstmConfig::torch`](crate::LstmConfig::torch): one
    /// cell per block, forget gates, no peepholes, no gate recurrence, cell and gate biases,
    /// logistic gates and g = h = tanh (a [`Head`](crate::Head), if any, is left as it is).
    /// With H blocks in the layer, row `k·H + j` of gate k ∈ {i, f, g, o} goes to row
    /// `[H, 2H, 0, 3H][k] + j` of `layer{l}.w_x` and `layer{l}.w_h` (cell inputs first, then
    /// the input, forget and output gates), and the one bias of that row is
    /// `bias_ih[k·H + j] + bias_hh[k·H + j]`. Nothing is changed unless every check passes.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_lstm::LstmConfig;
    /// // nn.LSTM(input_size = 1, hidden_size = 1): rows i, f, g, o.
    /// let mut net = LstmConfig::torch(1, 1, 1).build::<f64>().unwrap();
    /// let w_ih = DMatrix::from_column_slice(4, 1, &[0.5, -0.3, 0.8, 0.2]);
    /// let w_hh = DMatrix::from_column_slice(4, 1, &[0.1, 0.4, -0.6, 0.7]);
    /// let (b_ih, b_hh) = ([0.25, 0.5, 0.75, -1.0], [0.25, -0.5, 0.0, 0.5]);
    /// net.set_torch_layer(0, &w_ih, &w_hh, &b_ih, &b_hh).unwrap();
    ///
    /// // One step from h = c = 0 with x = 2: h = σ(z_o)·tanh(σ(z_i)·tanh(z_g)).
    /// let h = net.run(&DMatrix::from_element(1, 1, 2.0)).unwrap()[(0, 0)];
    /// let sigma = |z: f64| 1.0 / (1.0 + (-z).exp());
    /// let z = |k: usize| w_ih[(k, 0)] * 2.0 + b_ih[k] + b_hh[k];
    /// let want = sigma(z(3)) * (sigma(z(0)) * z(2).tanh()).tanh();
    /// assert!((h - want).abs() < 1e-15);
    ///
    /// // Exported back, with the biases summed into one (bias_hh = 0).
    /// let (w_ih2, w_hh2, bias) = net.torch_layer(0).unwrap();
    /// assert_eq!((&w_ih2, &w_hh2), (&w_ih, &w_hh));
    /// assert_eq!(bias, [0.5, 0.0, 0.75, -0.5]);
    ///
    /// // A matrix of the wrong shape is an error, not a panic.
    /// let short = DMatrix::zeros(3, 1);
    /// let err = net.set_torch_layer(0, &short, &w_hh, &b_ih, &b_hh).unwrap_err();
    /// assert_eq!(err.to_string(), "weight_ih of layer 0 (rows = 4·hidden): expected 4, got 3");
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the network is not of PyTorch's form (saying which part and
    /// what was expected) or `layer` is not a layer; [`Error::DimensionMismatch`] naming the
    /// tensor and the dimension for a wrong shape; [`Error::NonFinite`] for NaN or infinity in
    /// a tensor or in a summed bias.
    pub fn set_torch_layer(
        &mut self,
        layer: usize,
        weight_ih: &DMatrix<T>,
        weight_hh: &DMatrix<T>,
        bias_ih: &[T],
        bias_hh: &[T],
    ) -> Result<()> {
        let blocks = self.torch_blocks(layer)?;
        let (h, i) = (blocks.hidden, blocks.inputs);
        let what = |name: &str, dim: &str| format!("{name} of layer {layer} ({dim})");
        check_dim(&what("weight_ih", "rows = 4·hidden"), 4 * h, weight_ih.nrows())?;
        check_dim(&what("weight_ih", "columns = layer input width"), i, weight_ih.ncols())?;
        check_dim(&what("weight_hh", "rows = 4·hidden"), 4 * h, weight_hh.nrows())?;
        check_dim(&what("weight_hh", "columns = hidden"), h, weight_hh.ncols())?;
        check_dim(&what("bias_ih", "length = 4·hidden"), 4 * h, bias_ih.len())?;
        check_dim(&what("bias_hh", "length = 4·hidden"), 4 * h, bias_hh.len())?;
        check_finite(&format!("weight_ih of layer {layer}"), weight_ih.as_slice())?;
        check_finite(&format!("weight_hh of layer {layer}"), weight_hh.as_slice())?;
        check_finite(&format!("bias_ih of layer {layer}"), bias_ih)?;
        check_finite(&format!("bias_hh of layer {layer}"), bias_hh)?;
        let bias: Vec<T> = bias_ih.iter().zip(bias_hh).map(|(&a, &b)| a + b).collect();
        check_finite(&format!("bias_ih + bias_hh of layer {layer}"), &bias)?;

        let params = self.params_mut();
        for (src, block) in [(weight_ih, &blocks.w_x), (weight_hh, &blocks.w_h)] {
            let mut dst = DMatrixViewMut::from_slice(&mut params[block.range()], block.rows, block.cols);
            for (k, &(_, ours)) in GATES.iter().enumerate() {
                dst.rows_mut(ours * h, h).copy_from(&src.rows(k * h, h));
            }
        }
        for (k, block) in blocks.bias.iter().enumerate() {
            params[block.range()].copy_from_slice(&bias[k * h..(k + 1) * h]);
        }
        Ok(())
    }

    /// Layer `layer` in PyTorch's form: `(weight_ih, weight_hh, bias)`, 4H × I_l, 4H × H and 4H,
    /// rows in PyTorch's gate order i, f, g, o. `bias` is the one bias of each row: load it as
    /// `bias_ih` with `bias_hh = 0` (or split it any way that sums to it). The inverse of
    /// [`set_torch_layer`](Self::set_torch_layer) up to that split; see there for the mapping
    /// and an example.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if the network is not of PyTorch's form or `layer` is not a
    /// layer.
    pub fn torch_layer(&self, layer: usize) -> Result<(DMatrix<T>, DMatrix<T>, Vec<T>)> {
        self.torch_layer_of(layer, self.params())
    }

    /// A flat gradient of this network (from
    /// [`loss_and_gradient`](rnn_core::Differentiable::loss_and_gradient)) in PyTorch's form
    /// for layer `layer`: `(grad_weight_ih, grad_weight_hh, grad_bias)`, shaped and ordered as
    /// [`torch_layer`](Self::torch_layer). Since a row's one bias is `bias_ih + bias_hh`,
    /// `grad_bias` is PyTorch's `bias_ih.grad` and `bias_hh.grad` alike.
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_core::{Differentiable, Loss, Parameters, SeqBatch};
    /// use rnn_lstm::LstmConfig;
    /// let mut net = LstmConfig::torch(2, 3, 1).seed(4).build::<f64>().unwrap();
    /// let x = DMatrix::from_fn(2, 4, |i, t| (i as f64 - t as f64) * 0.3);
    /// let batch = SeqBatch::new(x, Some(DMatrix::from_element(3, 4, 0.5)), 4, 1).unwrap();
    /// let mut grad = vec![0.0; net.num_params()];
    /// net.loss_and_gradient(&batch, Loss::SumSquared, &mut grad).unwrap();
    /// let (g_ih, g_hh, g_b) = net.torch_layer_gradient(0, &grad).unwrap();
    /// assert_eq!((g_ih.shape(), g_hh.shape(), g_b.len()), ((12, 2), (12, 3), 12));
    /// ```
    ///
    /// # Errors
    /// As [`torch_layer`](Self::torch_layer), and [`Error::DimensionMismatch`] unless `grad`
    /// has one entry per parameter.
    pub fn torch_layer_gradient(&self, layer: usize, grad: &[T]) -> Result<(DMatrix<T>, DMatrix<T>, Vec<T>)> {
        check_dim("gradient length (one entry per parameter)", self.num_params(), grad.len())?;
        self.torch_layer_of(layer, grad)
    }

    /// Layer `layer` of the flat vector `flat` (parameters or gradient) in PyTorch's form.
    fn torch_layer_of(&self, layer: usize, flat: &[T]) -> Result<(DMatrix<T>, DMatrix<T>, Vec<T>)> {
        let blocks = self.torch_blocks(layer)?;
        let h = blocks.hidden;
        let gather = |block: &ParamBlock| {
            let src = DMatrixView::from_slice(&flat[block.range()], block.rows, block.cols);
            let mut out = DMatrix::zeros(4 * h, block.cols);
            for (k, &(_, ours)) in GATES.iter().enumerate() {
                out.rows_mut(k * h, h).copy_from(&src.rows(ours * h, h));
            }
            out
        };
        let bias = blocks.bias.iter().flat_map(|b| flat[b.range()].iter().copied()).collect();
        Ok((gather(&blocks.w_x), gather(&blocks.w_h), bias))
    }
}
