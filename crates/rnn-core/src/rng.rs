//! Seeded randomness.
//!
//! All randomness in the workspace comes from an explicit seed. Parallel code derives one
//! generator per item from `(seed, index)` with [`derive()`], so the same seed gives the same
//! result whatever the number of threads.

use rand::SeedableRng;

/// The generator used throughout the workspace: ChaCha with 8 rounds, portable and
/// reproducible across platforms.
pub type Rng = rand_chacha::ChaCha8Rng;

/// A generator from a seed.
///
/// ```
/// use rand::RngExt;
/// let (mut a, mut b) = (rnn_core::rng::seeded(7), rnn_core::rng::seeded(7));
/// assert_eq!(a.random::<u64>(), b.random::<u64>());
/// ```
pub fn seeded(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// A generator for item `index` of a run seeded with `seed`, independent of every other index.
///
/// ```
/// use rand::RngExt;
/// let x = rnn_core::rng::derive(1, 5).random::<u64>();
/// assert_eq!(x, rnn_core::rng::derive(1, 5).random::<u64>());
/// assert_ne!(x, rnn_core::rng::derive(1, 6).random::<u64>());
/// ```
pub fn derive(seed: u64, index: u64) -> Rng {
    let mut r = Rng::seed_from_u64(seed);
    r.set_stream(index.wrapping_add(1));
    r
}
