//! How far the gradient flows back through the context units.

use serde::{Deserialize, Serialize};

/// How the gradient of a partially recurrent net is computed: the classic method that treats
/// the context as one more input, truncated backpropagation through time, or full BPTT.
///
/// Write L = Σₜ Lₜ for the loss summed over the steps of a sequence and c(t) for the context
/// the net reads at step t. The three modes compute the exact gradient of L under three
/// different assumptions about which contexts are constants:
///
/// | mode | the gradient of Lₜ treats as a constant | cost per sequence |
/// |---|---|---|
/// | [`ContextAsInput`](Self::ContextAsInput) | c(t) (the context read at step t) | one backward pass per step |
/// | [`Truncated(k)`](Self::Truncated) | c(t − k), so the gradient flows back through k context transitions | (k + 1) backward passes per step |
/// | [`Full`](Self::Full) | nothing but the initial context c(0) | one backward pass per step |
///
/// `ContextAsInput` is how Elman (1990) and Jordan (1986) trained their nets: the context is
/// copied in like an input, and backpropagation stops there. `Truncated(0)` is the same as
/// `ContextAsInput`, and `Truncated(k)` with k ≥ T − 1 is the same as `Full` on a sequence of
/// T steps (both are computed by the faster path then). `Full` is the gradient of the loss
/// itself, the one a finite-difference check of [`Differentiable::loss`](rnn_core::Differentiable::loss)
/// agrees with.
///
/// ```
/// use rnn_partial::Backprop;
/// assert_eq!(Backprop::default(), Backprop::Full);
/// assert_eq!(Backprop::Truncated(0).horizon(10), 0);
/// assert_eq!(Backprop::Truncated(3).horizon(10), 3);
/// assert_eq!(Backprop::Full.horizon(10), 9);
/// assert_eq!(Backprop::ContextAsInput.horizon(10), 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Backprop {
    /// The context is an input: no gradient flows into the past (Elman 1990, Jordan 1986).
    ContextAsInput,
    /// Truncated BPTT: the gradient of each step's loss flows back through at most `k` context
    /// transitions (Williams & Peng 1990, BPTT(k) with an update at every target).
    Truncated(usize),
    /// Full backpropagation through time from the last step to the first.
    #[default]
    Full,
}

impl Backprop {
    /// The number of context transitions the gradient of one step's loss crosses on a sequence
    /// of `steps` steps: 0 for [`ContextAsInput`](Self::ContextAsInput), `min(k, steps − 1)` for
    /// [`Truncated(k)`](Self::Truncated), `steps − 1` for [`Full`](Self::Full).
    pub fn horizon(self, steps: usize) -> usize {
        let longest = steps.saturating_sub(1);
        match self {
            Backprop::ContextAsInput => 0,
            Backprop::Truncated(k) => k.min(longest),
            Backprop::Full => longest,
        }
    }

    /// The path that computes this mode on `steps` steps.
    pub(crate) fn path(self, steps: usize) -> Path {
        let h = self.horizon(steps);
        if h == 0 {
            Path::Local
        } else if h + 1 >= steps {
            Path::Full
        } else {
            Path::Truncated(h)
        }
    }
}

/// The backward pass actually run: the local gradient, a truncated chain, or full BPTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    /// No gradient through the context.
    Local,
    /// Through at most this many context transitions (1 ≤ k < steps − 1).
    Truncated(usize),
    /// Through every transition.
    Full,
}
