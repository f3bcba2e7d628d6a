//! The shape of a partially recurrent net: layer sizes, activations, where the context comes
//! from, and where each weight block sits in the flat parameter vector.

use std::ops::Range;

use rnn_core::{Activation, Error, ParamLayout, Real, Result};
use serde::{Deserialize, Serialize};

/// The most parameters a net may have: 2³⁸ (a terabyte of `f32`) on 64-bit targets, a bound
/// that keeps every size computation far from overflow, checked before anything is allocated.
/// (Whether that much memory can be had is found out when it is allocated: a net below the
/// bound that does not fit gives [`Error::Allocation`].)
pub(crate) const MAX_PARAMS: usize = if usize::BITS >= 64 { (1u64 << 38) as usize } else { isize::MAX as usize / 8 };

/// The most hidden layers a net may have (2¹⁶). Every pass walks the layers once, so the
/// bound is not one of speed but of memory: each layer costs a few named blocks in the
/// layout and a few buffers in the scratch space, whatever its width.
pub(crate) const MAX_LAYERS: usize = 1 << 16;

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
///
/// Made by [`Arch::new`] (or decoded, which goes through it), which computes the start of
/// every layer's blocks once, so that each range below costs O(1); the shape fields are not
/// changed afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ArchFields")]
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
    /// `starts[l]`: the start of layer l's blocks (`w_in` for l = 0, `w_hidden{l}` for
    /// 1 ≤ l < L, `w_out` for l = L); empty when the shape is invalid (too many layers or a
    /// parameter count that overflows), which [`validate`](Arch::validate) reports.
    #[serde(skip)]
    starts: Vec<usize>,
    /// The parameter count, `None` when it overflows `usize`.
    #[serde(skip)]
    count: Option<usize>,
}

/// The serialised fields of an [`Arch`], in the same order (the save format is unchanged):
/// decoding goes through [`Arch::new`], which computes the layer offsets.
#[derive(Deserialize)]
struct ArchFields {
    inputs: usize,
    hidden: Vec<usize>,
    outputs: usize,
    activations: Vec<Activation>,
    output_activation: Activation,
    source: ContextSource,
    mu: f64,
    initial_context: f64,
}

impl From<ArchFields> for Arch {
    fn from(f: ArchFields) -> Self {
        Arch::new(f.inputs, f.hidden, f.outputs, f.activations, f.output_activation, f.source, f.mu, f.initial_context)
    }
}

impl Arch {
    /// A shape, with the start of every layer's blocks computed once (O(L)). Any values are
    /// accepted; [`validate`](Self::validate) checks them.
    pub fn new(
        inputs: usize,
        hidden: Vec<usize>,
        outputs: usize,
        activations: Vec<Activation>,
        output_activation: Activation,
        source: ContextSource,
        mu: f64,
        initial_context: f64,
    ) -> Self {
        let mut arch = Arch {
            inputs,
            hidden,
            outputs,
            activations,
            output_activation,
            source,
            mu,
            initial_context,
            starts: Vec::new(),
            count: None,
        };
        if let Some((starts, count)) = arch.offsets() {
            arch.starts = starts;
            arch.count = Some(count);
        }
        arch
    }

    /// The start of each layer's blocks and the parameter count, or `None` if the shape has
    /// no hidden layer, more than [`MAX_LAYERS`], or a count that overflows.
    fn offsets(&self) -> Option<(Vec<usize>, usize)> {
        let layers = self.hidden.len();
        if layers == 0 || layers > MAX_LAYERS {
            return None;
        }
        let mut starts = Vec::with_capacity(layers + 1);
        starts.push(0);
        let h0 = self.hidden[0];
        let mut total = h0.checked_mul(self.inputs.checked_add(self.context())?.checked_add(1)?)?;
        for l in 1..layers {
            starts.push(total);
            total = total.checked_add(self.hidden[l].checked_mul(self.hidden[l - 1].checked_add(1)?)?)?;
        }
        starts.push(total);
        let count = total.checked_add(self.outputs.checked_mul(self.last_hidden().checked_add(1)?)?)?;
        Some((starts, count))
    }

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
        if self.hidden.len() > MAX_LAYERS {
            return Err(Error::config("number of hidden layers", format!("at most {MAX_LAYERS}"), self.hidden.len()));
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
            check_activation(|| format!("activation of hidden layer {l}"), a)?;
        }
        check_activation(|| "output activation".to_string(), self.output_activation)?;
        if !(self.mu.is_finite() && (0.0..=1.0).contains(&self.mu)) {
            return Err(Error::config("context decay μ", "a value in [0, 1]", self.mu));
        }
        if !self.initial_context.is_finite() {
            return Err(Error::config("initial context", "a finite value", self.initial_context));
        }
        // Every size product below (layout, scratch) then fits in a usize.
        if self.count.is_none_or(|c| c > MAX_PARAMS) {
            return Err(Error::config(
                "network size",
                format!("at most {MAX_PARAMS} parameters"),
                self.count.map_or_else(|| "more than fit in an address".to_string(), |c| c.to_string()),
            ));
        }
        Ok(())
    }

    /// [`validate`](Self::validate), and the checks that depend on the scalar type `T`: the
    /// initial context and the bounds of a scaled logistic must be finite in `T` (1e39 is not
    /// an `f32`), and the parameters must fit in memory addresses as bytes.
    pub fn validate_for<T: Real>(&self) -> Result<()> {
        self.validate()?;
        if !T::of_f64(self.initial_context).is_finite() {
            return Err(Error::config(
                "initial context",
                format!("a value finite in {}", T::NAME),
                num(self.initial_context),
            ));
        }
        for (l, &a) in self.activations.iter().enumerate() {
            check_activation_in::<T>(|| format!("activation of hidden layer {l}"), a)?;
        }
        check_activation_in::<T>(|| "output activation".to_string(), self.output_activation)?;
        let bytes = self.num_params().checked_mul(std::mem::size_of::<T>());
        if bytes.is_none_or(|b| b > isize::MAX as usize) {
            return Err(Error::config(
                "network size",
                format!("parameters whose size in bytes fits in an address ({} each)", std::mem::size_of::<T>()),
                self.num_params(),
            ));
        }
        Ok(())
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

    /// Total number of parameters (of a validated shape).
    pub fn num_params(&self) -> usize {
        debug_assert!(self.count.is_some(), "num_params of an invalid shape");
        self.count.unwrap_or(usize::MAX)
    }

    /// Start of layer l's blocks: `w_in` for l = 0, `w_hidden{l}` for 1 ≤ l < L, `w_out` for
    /// l = L. O(1): the starts are computed once, by [`Arch::new`].
    #[inline]
    fn layer_start(&self, l: usize) -> usize {
        self.starts[l]
    }

    /// Start of the output layer's blocks.
    #[inline]
    fn output_start(&self) -> usize {
        self.layer_start(self.layers())
    }

    /// `w_in`, H₀ × I.
    #[inline]
    pub fn w_in(&self) -> Range<usize> {
        0..self.hidden[0] * self.inputs
    }

    /// `w_context`, H₀ × C.
    #[inline]
    pub fn w_context(&self) -> Range<usize> {
        let s = self.hidden[0] * self.inputs;
        s..s + self.hidden[0] * self.context()
    }

    /// `w_hidden{l}` for l ≥ 1, H_l × H_(l−1).
    #[inline]
    pub fn w_hidden(&self, l: usize) -> Range<usize> {
        debug_assert!(l >= 1);
        let s = self.layer_start(l);
        s..s + self.hidden[l] * self.hidden[l - 1]
    }

    /// `b_hidden{l}`, H_l.
    #[inline]
    pub fn b_hidden(&self, l: usize) -> Range<usize> {
        let s = if l == 0 { self.hidden[0] * (self.inputs + self.context()) } else { self.w_hidden(l).end };
        s..s + self.hidden[l]
    }

    /// `w_out`, O × H_(L−1).
    #[inline]
    pub fn w_out(&self) -> Range<usize> {
        let s = self.output_start();
        s..s + self.outputs * self.last_hidden()
    }

    /// `b_out`, O.
    #[inline]
    pub fn b_out(&self) -> Range<usize> {
        let s = self.w_out().end;
        s..s + self.outputs
    }
}

/// `x` for an error message: as written when it is of moderate size, in scientific notation
/// when it is huge or tiny (`1e39`, not forty digits).
pub(crate) fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e16).contains(&x.abs()) { x.to_string() } else { format!("{x:e}") }
}

use rnn_core::activation::{check_finite_in as check_activation_in, check_trainable as check_activation};

#[cfg(test)]
mod tests {
    use super::*;

    fn arch(hidden: &[usize], source: ContextSource) -> Arch {
        Arch::new(3, hidden.to_vec(), 2, vec![Activation::Tanh; hidden.len()], Activation::Identity, source, 0.5, 0.0)
    }

    #[test]
    fn ranges_agree_with_the_layout() {
        let deep: Vec<usize> = (0..300).map(|l| 1 + l % 7).collect();
        for hidden in [&[4][..], &[4, 5], &[4, 5, 6], &deep] {
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

    #[test]
    fn invalid_shapes_have_no_offsets_and_are_refused() {
        let too_many = Arch::new(
            1,
            vec![1; MAX_LAYERS + 1],
            1,
            vec![Activation::Tanh; MAX_LAYERS + 1],
            Activation::Identity,
            ContextSource::Hidden,
            0.0,
            0.0,
        );
        assert!(too_many.starts.is_empty());
        assert!(matches!(too_many.validate(), Err(Error::InvalidConfig { name, .. }) if name.contains("layers")));
        let overflow = arch(&[usize::MAX / 2, 3], ContextSource::Output);
        assert_eq!(overflow.count, None);
        assert!(matches!(overflow.validate(), Err(Error::InvalidConfig { name, .. }) if name.contains("network size")));
        let mut c = arch(&[2], ContextSource::Output);
        c.initial_context = 1e39;
        assert!(c.validate_for::<f64>().is_ok());
        assert!(
            matches!(c.validate_for::<f32>(), Err(Error::InvalidConfig { name, .. }) if name.contains("initial context"))
        );
    }
}
