//! The trait every associative memory of the crate implements.

use rnn_core::{Real, Result};

/// An associative (content-addressable) memory: store patterns, recall a stored pattern from a
/// partial or noisy cue, and measure the energy the recall dynamics descend.
///
/// The discrete [`Hopfield`](crate::Hopfield) network stores bipolar [`Pattern`](crate::Pattern)s;
/// the [`ModernHopfield`](crate::ModernHopfield) network stores real vectors. Code written
/// against the trait works with both:
///
/// ```
/// use rnn_hopfield::{AssociativeMemory, Hopfield, Pattern, Rule};
///
/// /// The fraction of `patterns` that `memory` recalls exactly from themselves.
/// fn recalled<M: AssociativeMemory<f64, Pattern = Pattern, Recall = rnn_hopfield::Recall<f64>>>(
///     memory: &M,
///     patterns: &[Pattern],
/// ) -> rnn_core::Result<f64> {
///     let mut hits = 0;
///     for p in patterns {
///         hits += usize::from(memory.recall(p)?.state == *p);
///     }
///     Ok(hits as f64 / patterns.len() as f64)
/// }
///
/// let mut rng = rnn_core::rng::seeded(4);
/// let ps: Vec<Pattern> = (0..3).map(|_| Pattern::random(64, &mut rng)).collect::<Result<_, _>>()?;
/// let mut net = Hopfield::<f64>::new(64, Rule::Hebbian)?;
/// AssociativeMemory::store(&mut net, &ps)?;
/// assert_eq!(recalled(&net, &ps)?, 1.0);
/// # Ok::<(), rnn_core::Error>(())
/// ```
pub trait AssociativeMemory<T: Real> {
    /// A stored pattern, a cue and a state.
    type Pattern;
    /// What a recall returns (the final state and how it was reached).
    type Recall;

    /// The dimension of a pattern (the number of neurons).
    fn dim(&self) -> usize;

    /// The number of stored patterns.
    fn num_patterns(&self) -> usize;

    /// Replaces the memory's contents by `patterns`.
    ///
    /// # Errors
    /// An empty set, a pattern of the wrong length or a bad value, or more patterns than the
    /// memory can hold; the memory is unchanged on error.
    fn store(&mut self, patterns: &[Self::Pattern]) -> Result<()>;

    /// Stores one more pattern.
    ///
    /// # Errors
    /// A pattern of the wrong length or one the memory cannot hold.
    fn add(&mut self, pattern: &Self::Pattern) -> Result<()>;

    /// Runs the memory's dynamics from `cue`.
    ///
    /// # Errors
    /// A cue of the wrong length.
    fn recall(&self, cue: &Self::Pattern) -> Result<Self::Recall>;

    /// The energy of `state`, which recall never raises.
    ///
    /// # Errors
    /// A state of the wrong length.
    fn energy(&self, state: &Self::Pattern) -> Result<T>;
}
