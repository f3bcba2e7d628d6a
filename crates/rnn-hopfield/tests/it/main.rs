//! Integration tests of rnn-hopfield, one binary with a module per topic.

mod bad_input;
mod digits;
mod dynamics;
mod modern;
mod persist;
mod rules;

use rnn_hopfield::Pattern;

/// `p` random patterns of length `n` from `seed`.
pub fn random_patterns(n: usize, p: usize, seed: u64) -> Vec<Pattern> {
    let mut rng = rnn_core::rng::seeded(seed);
    (0..p).map(|_| Pattern::random(n, &mut rng).unwrap()).collect()
}
