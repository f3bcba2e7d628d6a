//! Temporal XOR (Elman 1990): a seeded bit stream whose every third bit is predictable.
//!
//! Elman's first demonstration of a simple recurrent network ("Finding structure in time",
//! *Cognitive Science* 14, 1990): a stream of bits built from random pairs, each followed by
//! their exclusive or,
//!
//! b₁ b₂ (b₁ ⊕ b₂) b₁′ b₂′ (b₁′ ⊕ b₂′) …
//!
//! The net reads one bit per step and predicts the next. Only every third bit is predictable:
//! bit i of the stream is the XOR of bits i − 2 and i − 1 exactly when i ≡ 2 (mod 3), so a
//! net that learned the task has low error at the steps whose target is such a bit and chance
//! error (0.25 squared error) elsewhere.
//!
//! ```
//! use rnn_data::generators::{temporal_xor, temporal_xor_predictable, temporal_xor_sequence};
//! let bits = temporal_xor(9, 42).unwrap();
//! for i in (2..9).step_by(3) {
//!     assert_eq!(bits[i], if bits[i - 2] != bits[i - 1] { 1.0 } else { 0.0 });
//! }
//! let seq = temporal_xor_sequence::<f64>(9, 42).unwrap();
//! assert_eq!(seq.len(), 8); // input bit t, target bit t + 1
//! assert_eq!(temporal_xor_predictable(8), [false, true, false, false, true, false, false, true]);
//! ```

use nalgebra::DMatrix;
use rand::RngExt;
use rnn_core::{Error, Real, Result, Sequence};

/// The temporal XOR stream of `n_bits` bits (0.0 or 1.0) from `seed`: random pairs, each
/// followed by their XOR; cut after `n_bits` bits (so the last triple may be incomplete).
///
/// The same seed always gives the same stream, and a longer stream from the same seed starts
/// with the shorter one.
///
/// # Errors
/// [`Error::Allocation`] when `n_bits` values cannot be allocated.
pub fn temporal_xor(n_bits: usize, seed: u64) -> Result<Vec<f64>> {
    let mut rng = rnn_core::rng::seeded(seed);
    let mut bits = rnn_core::alloc::try_filled("temporal XOR stream", n_bits, 0.0)?;
    for triple in bits.chunks_mut(3) {
        let a = rng.random::<bool>();
        let b = rng.random::<bool>();
        for (slot, x) in triple.iter_mut().zip([a, b, a ^ b]) {
            *slot = if x { 1.0 } else { 0.0 };
        }
    }
    Ok(bits)
}

/// The next-bit prediction task on the stream of [`temporal_xor`]: a sequence of
/// `n_bits − 1` steps, input x(t) = bit t, target d(t) = bit t + 1 (both `1 × (n_bits − 1)`).
///
/// # Errors
/// [`Error::NotEnoughData`] for fewer than 2 bits.
pub fn temporal_xor_sequence<T: Real>(n_bits: usize, seed: u64) -> Result<Sequence<T>> {
    if n_bits < 2 {
        return Err(Error::NotEnoughData {
            what: "temporal XOR next-bit sequence (bits)".into(),
            needed: 2,
            got: n_bits,
        });
    }
    let bits = temporal_xor(n_bits, seed)?;
    let steps = n_bits - 1;
    let inputs = DMatrix::from_fn(1, steps, |_, t| T::of_f64(bits[t]));
    let targets = DMatrix::from_fn(1, steps, |_, t| T::of_f64(bits[t + 1]));
    Sequence::new(inputs, targets)
}

/// Which of the `steps` steps of [`temporal_xor_sequence`] have a predictable target: step t
/// predicts bit t + 1, which is an XOR exactly when (t + 1) mod 3 = 2, i.e. t mod 3 = 1.
///
/// Usable directly as a validity mask to score only the predictable steps.
pub fn temporal_xor_predictable(steps: usize) -> Vec<bool> {
    (0..steps).map(|t| t % 3 == 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_third_bit_is_the_xor_of_the_two_before() {
        for seed in 0..5 {
            let bits = temporal_xor(3000, seed).unwrap();
            assert_eq!(bits.len(), 3000);
            assert!(bits.iter().all(|&b| b == 0.0 || b == 1.0));
            for i in (2..bits.len()).step_by(3) {
                assert_eq!(bits[i], ((bits[i - 2] as u8) ^ (bits[i - 1] as u8)) as f64, "seed {seed}, bit {i}");
            }
            // The random bits are roughly balanced.
            let ones = bits.iter().enumerate().filter(|(i, _)| i % 3 != 2).map(|(_, b)| b).sum::<f64>();
            assert!((ones / 2000.0 - 0.5).abs() < 0.05, "{ones}");
        }
    }

    #[test]
    fn determined_by_the_seed() {
        assert_eq!(temporal_xor(100, 7).unwrap(), temporal_xor(100, 7).unwrap());
        assert_ne!(temporal_xor(100, 7).unwrap(), temporal_xor(100, 8).unwrap());
        assert_eq!(temporal_xor(50, 7).unwrap(), temporal_xor(100, 7).unwrap()[..50]);
        assert_eq!(temporal_xor(1, 7).unwrap().len(), 1);
        assert!(temporal_xor(0, 7).unwrap().is_empty());
        assert!(matches!(temporal_xor(usize::MAX, 7), Err(rnn_core::Error::Allocation { .. })));
    }

    #[test]
    fn next_bit_sequence_and_mask() {
        let bits = temporal_xor(31, 3).unwrap();
        let seq = temporal_xor_sequence::<f32>(31, 3).unwrap();
        assert_eq!((seq.inputs.shape(), seq.targets.shape()), ((1, 30), (1, 30)));
        let mask = temporal_xor_predictable(seq.len());
        for t in 0..seq.len() {
            assert_eq!(seq.inputs[(0, t)] as f64, bits[t]);
            assert_eq!(seq.targets[(0, t)] as f64, bits[t + 1]);
            if mask[t] {
                // The target is the XOR of the current input and the one before.
                assert_eq!(seq.targets[(0, t)], ((seq.inputs[(0, t - 1)] as u8) ^ (seq.inputs[(0, t)] as u8)) as f32);
            }
        }
        assert_eq!(mask.iter().filter(|&&m| m).count(), 10);
        assert!(matches!(temporal_xor_sequence::<f64>(1, 0), Err(Error::NotEnoughData { .. })));
    }
}
