//! The shape of a partially recurrent net: layer sizes, activations, where the context comes
//! from, and where each weight block sits in the flat parameter vector.

use std::ops::Range;

use rnn_core::{Activation, Error, ParamLayout, Result};
use serde::{Deserialize, Serialize};

/// The most parameters a net may have (2³⁸, a terabyte of `f32`): a bound that keeps every
/// size computation far from overflow, checked before anything is allocated.
pub(crate) const MAX_PARAMS: usize = 1 << 38;

/// Which signal feeds the context units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ContextSource {
    /// Elman: c(t) = h⁰(t − 1), the first hidden layer's previous activations.
    Hidden,
    /// Jordan: c(t) = μ·c(t − 1) + y(t − 1), a decaying trace of the outputs.
    Output,
}

/// Everything the kernels need to know about a net, fixed at build time.
///
/// The perceptron reads the input x(t) and the context c(t):
///
/// - h⁰(t) = f₀(W_in·x(t) + W_context·c(t) + b⁰)
/// - hˡ(t) = f_l(W_hiddenˡ·hˡ⁻¹(t) + bˡ) for l = 1 … L − 1
/// - y(t) = g(W_out·h^(L−1)(t) + b_out)
///
/// Flat layout, in this order: `w_in` (H₀ × I), `w_context` (H₀ × C), `b_hidden0` (H₀), then
/// `w_hidden{l}` (H_l × H_(l−1)) and `b_hidden{l}` (H_l) for each further layer, then `w_out`
/// (O × H_(L−1)) and `b_out` (O).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Arch {
    pub inputs: usize,
    pub hidden: Vec<usize>,
    pub outputs: usize,
    pub activations: Vec<Activation>,
    pub output_activation: Activation,
    pub source: ContextSource,
    /// The context's self-recurrence μ (0 for Elman).
    pub mu: f64,
    /// The value every context unit starts from.
    pub initial_context: f64,
}

impl Arch {
    /// Checks sizes and values; names the offending setting.
    pub fn validate(&self) -> Result<()> {
        if self.inputs == 0 {
            return Err(Error::config("number of inputs", "at least 1", 0));
        }
        if self.outputs == 0 {
            return Err(Error::config("number of outputs", "at least 1", 0));
        }
        if self.hidden.is_empty() {
            return Err(Error::empty("list of hidden layer sizes", 1));
        }
        if let Some(l) = self.hidden.iter().position(|&h| h == 0) {
            return Err(Error::config(format!("size of hidden layer {l}"), "at least 1", 0));
        }
        rnn_core::error::check_dim(
            "hidden activations (one per hidden layer)",
            self.hidden.len(),
            self.activations.len(),
        )?;
        for (l, &a) in self.activations.iter().enumerate() {
            check_activation(&format!("activation of hidden layer {l}"), a)?;
        }
        check_activation("output activation", self.output_activation)?;
        if !(self.mu.is_finite() && (0.0..=1.0).contains(&self.mu)) {
            return Err(Error::config("context decay μ", "a value in [0, 1]", self.mu));
        }
        if !self.initial_context.is_finite() {
            return Err(Error::config("initial context", "a finite value", self.initial_context));
        }
        // Every size product below (layout, scratch) then fits in a usize.
        let count = self.checked_num_params();
        if count.is_none_or(|c| c > MAX_PARAMS) {
            return Err(Error::config(
                "network size",
                format!("at most {MAX_PARAMS} parameters"),
                count.map_or_else(|| "more than fit in an address".to_string(), |c| c.to_string()),
            ));
        }
        Ok(())
    }

    /// The parameter count, or `None` if it overflows.
    fn checked_num_params(&self) -> Option<usize> {
        let h0 = self.hidden[0];
        let mut total = h0.checked_mul(self.inputs.checked_add(self.context())?.checked_add(1)?)?;
        for l in 1..self.layers() {
            total = total.checked_add(self.hidden[l].checked_mul(self.hidden[l - 1].checked_add(1)?)?)?;
        }
        total.checked_add(self.outputs.checked_mul(self.last_hidden().checked_add(1)?)?)
    }

    /// Number of hidden layers L.
    pub fn layers(&self) -> usize {
        self.hidden.len()
    }

    /// Number of context units C.
    pub fn context(&self) -> usize {
        match self.source {
            ContextSource::Hidden => self.hidden[0],
            ContextSource::Output => self.outputs,
        }
    }

    /// Width of the last hidden layer.
    pub fn last_hidden(&self) -> usize {
        self.hidden[self.hidden.len() - 1]
    }

    /// The named flat layout.
    pub fn layout(&self) -> ParamLayout {
        let mut layout = ParamLayout::new();
        let h0 = self.hidden[0];
        layout.push("w_in", h0, self.inputs);
        layout.push("w_context", h0, self.context());
        layout.push("b_hidden0", h0, 1);
        for l in 1..self.layers() {
            layout.push(format!("w_hidden{l}"), self.hidden[l], self.hidden[l - 1]);
            layout.push(format!("b_hidden{l}"), self.hidden[l], 1);
        }
        layout.push("w_out", self.outputs, self.last_hidden());
        layout.push("b_out", self.outputs, 1);
        layout
    }

    /// Total number of parameters.
    pub fn num_params(&self) -> usize {
        self.output_start() + self.outputs * (self.last_hidden() + 1)
    }

    /// Start of layer l's blocks: `w_in` for l = 0, `w_hidden{l}` for 1 ≤ l < L, `w_out` for
    /// l = L.
    fn layer_start(&self, l: usize) -> usize {
        if l == 0 {
            return 0;
        }
        let mut start = self.hidden[0] * (self.inputs + self.context() + 1);
        for j in 1..l {
            start += self.hidden[j] * (self.hidden[j - 1] + 1);
        }
        start
    }

    /// Start of the output layer's blocks.
    fn output_start(&self) -> usize {
        self.layer_start(self.layers())
    }

    /// `w_in`, H₀ × I.
    pub fn w_in(&self) -> Range<usize> {
        0..self.hidden[0] * self.inputs
    }

    /// `w_context`, H₀ × C.
    pub fn w_context(&self) -> Range<usize> {
        let s = self.hidden[0] * self.inputs;
        s..s + self.hidden[0] * self.context()
    }

    /// `w_hidden{l}` for l ≥ 1, H_l × H_(l−1).
    pub fn w_hidden(&self, l: usize) -> Range<usize> {
        debug_assert!(l >= 1);
        let s = self.layer_start(l);
        s..s + self.hidden[l] * self.hidden[l - 1]
    }

    /// `b_hidden{l}`, H_l.
    pub fn b_hidden(&self, l: usize) -> Range<usize> {
        let s = if l == 0 { self.hidden[0] * (self.inputs + self.context()) } else { self.w_hidden(l).end };
        s..s + self.hidden[l]
    }

    /// `w_out`, O × H_(L−1).
    pub fn w_out(&self) -> Range<usize> {
        let s = self.output_start();
        s..s + self.outputs * self.last_hidden()
    }

    /// `b_out`, O.
    pub fn b_out(&self) -> Range<usize> {
        let s = self.w_out().end;
        s..s + self.outputs
    }
}

/// Every activation but the sign function (whose derivative is zero) can be trained.
fn check_activation(name: &str, a: Activation) -> Result<()> {
    if let Activation::ScaledLogistic { min, max } = a
        && !(min.is_finite() && max.is_finite() && min < max)
    {
        return Err(Error::config(name, "ScaledLogistic with finite min < max", format!("min {min}, max {max}")));
    }
    if !a.is_differentiable() {
        return Err(Error::config(name, "a differentiable activation", format!("{a:?}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arch(hidden: &[usize], source: ContextSource) -> Arch {
        Arch {
            inputs: 3,
            hidden: hidden.to_vec(),
            outputs: 2,
            activations: vec![Activation::Tanh; hidden.len()],
            output_activation: Activation::Identity,
            source,
            mu: 0.5,
            initial_context: 0.0,
        }
    }

    #[test]
    fn ranges_agree_with_the_layout() {
        for hidden in [&[4][..], &[4, 5], &[4, 5, 6]] {
            for source in [ContextSource::Hidden, ContextSource::Output] {
                let a = arch(hidden, source);
                let layout = a.layout();
                assert_eq!(layout.len(), a.num_params());
                let r = |name: &str| layout.block(name).unwrap().range();
                assert_eq!(r("w_in"), a.w_in());
                assert_eq!(r("w_context"), a.w_context());
                assert_eq!(r("b_hidden0"), a.b_hidden(0));
                for l in 1..hidden.len() {
                    assert_eq!(r(&format!("w_hidden{l}")), a.w_hidden(l));
                    assert_eq!(r(&format!("b_hidden{l}")), a.b_hidden(l));
                }
                assert_eq!(r("w_out"), a.w_out());
                assert_eq!(r("b_out"), a.b_out());
            }
        }
    }
}
