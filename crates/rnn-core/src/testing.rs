//! Test helpers shared by the unit tests of this crate: a tiny differentiable model and data.

use nalgebra::DMatrix;

use crate::{
    Activation, Differentiable, Loss, ParamLayout, Parameters, Result, SeqBatch, Sequence, SequenceModel,
    error::check_dim, init, rng,
};

/// y(t) = f(W x(t) + b) at every step, no recurrence: the smallest model with a flat layout
/// (`w` then `b`) and an exact gradient.
#[derive(Debug, Clone)]
pub(crate) struct TinyModel {
    layout: ParamLayout,
    params: Vec<f64>,
    inputs: usize,
    outputs: usize,
    activation: Activation,
    /// Multiplies the gradient of `b` by this factor: 1 is correct, anything else a bug.
    pub(crate) bias_gradient_factor: f64,
}

impl TinyModel {
    /// A model with weights drawn from U(−0.5, 0.5) with `seed`.
    pub(crate) fn new(inputs: usize, outputs: usize, activation: Activation, seed: u64) -> Self {
        let mut layout = ParamLayout::new();
        layout.push("w", outputs, inputs);
        layout.push("b", outputs, 1);
        let mut params = vec![0.0; layout.len()];
        init::uniform(&mut params, 0.5, &mut rng::seeded(seed)).unwrap();
        Self { layout, params, inputs, outputs, activation, bias_gradient_factor: 1.0 }
    }

    fn pre_activation(&self, batch: &SeqBatch<f64>) -> Result<DMatrix<f64>> {
        check_dim("input width", self.inputs, batch.input_size())?;
        let blocks = self.layout.blocks();
        let w = self.layout.view(&self.params, &blocks[0]);
        let b = self.layout.view(&self.params, &blocks[1]);
        let mut z = w * batch.inputs();
        for mut col in z.column_iter_mut() {
            col += b.column(0);
        }
        Ok(z)
    }
}

impl Parameters<f64> for TinyModel {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }
    fn params(&self) -> &[f64] {
        &self.params
    }
    fn params_mut(&mut self) -> &mut [f64] {
        &mut self.params
    }
}

impl SequenceModel<f64> for TinyModel {
    fn input_size(&self) -> usize {
        self.inputs
    }
    fn output_size(&self) -> usize {
        self.outputs
    }
    fn forward(&mut self, batch: &SeqBatch<f64>) -> Result<DMatrix<f64>> {
        let mut y = self.pre_activation(batch)?;
        self.activation.apply_slice(y.as_mut_slice());
        Ok(y)
    }
}

impl Differentiable<f64> for TinyModel {
    fn loss_and_gradient(&mut self, batch: &SeqBatch<f64>, loss: Loss, grad: &mut [f64]) -> Result<f64> {
        check_dim("gradient length", self.params.len(), grad.len())?;
        let targets = batch.require_targets()?;
        check_dim("target width", self.outputs, targets.nrows())?;
        let y = self.forward(batch)?;
        let mut delta = DMatrix::zeros(y.nrows(), y.ncols());
        let value = loss.value_and_gradient(y.as_view(), targets.as_view(), batch.valid_mask(), &mut delta)?;
        self.activation.backprop_slice(y.as_slice(), delta.as_mut_slice());
        let blocks = self.layout.blocks();
        let dw = &delta * batch.inputs().transpose();
        grad[blocks[0].range()].copy_from_slice(dw.as_slice());
        for (k, g) in grad[blocks[1].range()].iter_mut().enumerate() {
            *g = delta.row(k).sum() * self.bias_gradient_factor;
        }
        Ok(value)
    }
}

/// `n` sequences of 2 inputs in U(−1, 1) and lengths 2 to 5, with the target
/// t = c₀ x₀ + c₁ x₁ + c₂ at each step.
pub(crate) fn linear_data(n: usize, coefficients: [f64; 3], seed: u64) -> Vec<Sequence<f64>> {
    let mut rng = rng::seeded(seed);
    (0..n)
        .map(|i| {
            let len = 2 + i % 4;
            let mut x = DMatrix::zeros(2, len);
            init::uniform(x.as_mut_slice(), 1.0, &mut rng).unwrap();
            let t = DMatrix::from_fn(1, len, |_, j| {
                coefficients[0] * x[(0, j)] + coefficients[1] * x[(1, j)] + coefficients[2]
            });
            Sequence::new(x, t).unwrap()
        })
        .collect()
}
