//! Echo: output the input of τ steps ago (a delay line).
//!
//! One input line carries fair coin flips x(t) ∈ {0, 1}; the target is the input τ steps back,
//!
//! d(t) = x(t − τ)   for t ≥ τ, no target for t < τ.
//!
//! The simplest memory task: the net must keep the last τ + 1 bits (a shift register). It is the
//! one-line case of the delayed XOR of Williams & Zipser (1989) without the XOR, a first check
//! that a recurrent net and its gradient carry information across τ steps before a harder task.

use rand::RngExt;
use rnn_core::{Error, MaskedSequence, Real, Result, Sequence};

use super::{bit, filled, present_from};

/// The echo task (a delay line) over `len` steps: input `1 × len` (random bits 0.0 or 1.0 from `seed`), target
/// `1 × len` with d(t) = x(t − delay), present for t ≥ `delay` (absent targets are 0).
///
/// ```
/// use rnn_data::generators::echo;
/// let task = echo::<f64>(8, 3, 7).unwrap();
/// assert_eq!(task.present_count(), 5);
/// for t in 3..8 {
///     assert_eq!(task.targets()[(0, t)], task.inputs()[(0, t - 3)]);
/// }
/// assert!(echo::<f64>(3, 3, 7).is_err());
/// ```
///
/// # Errors
/// [`Error::NotEnoughData`] when `len ≤ delay` (no step would have a target);
/// [`Error::Allocation`] when the matrices cannot be allocated.
pub fn echo<T: Real>(len: usize, delay: usize, seed: u64) -> Result<MaskedSequence<T>> {
    if len <= delay {
        return Err(Error::NotEnoughData {
            what: format!("echo sequence length (steps) for a delay of {delay}"),
            needed: delay.saturating_add(1),
            got: len,
        });
    }
    let mut rng = rnn_core::rng::seeded(seed);
    let mut inputs = filled("echo inputs", 1, len, T::zero())?;
    for t in 0..len {
        inputs[(0, t)] = bit(rng.random::<bool>());
    }
    let mut targets = filled("echo targets", 1, len, T::zero())?;
    for t in delay..len {
        targets[(0, t)] = inputs[(0, t - delay)];
    }
    let present = present_from("echo target mask", 1, len, delay)?;
    MaskedSequence::new(Sequence::new(inputs, targets)?, present)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_is_the_seeded_input_delayed() {
        let (len, delay, seed) = (30, 4, 2);
        let task = echo::<f64>(len, delay, seed).unwrap();
        let mut rng = rnn_core::rng::seeded(seed);
        let x: Vec<f64> = (0..len).map(|_| if rng.random::<bool>() { 1.0 } else { 0.0 }).collect();
        for t in 0..len {
            assert_eq!(task.inputs()[(0, t)], x[t]);
            assert_eq!(task.targets()[(0, t)], if t >= delay { x[t - delay] } else { 0.0 }, "d({t})");
            assert_eq!(task.is_present(0, t), t >= delay);
        }
        assert_eq!((task.input_size(), task.target_size(), task.present_count()), (1, 1, len - delay));
        // Both values occur.
        assert!(x.contains(&0.0) && x.contains(&1.0));
    }

    #[test]
    fn delay_zero_copies_the_input() {
        let task = echo::<f32>(12, 0, 5).unwrap();
        assert_eq!(task.inputs(), task.targets());
        assert_eq!(task.present_count(), 12);
    }

    #[test]
    fn determined_by_the_seed() {
        let a = echo::<f64>(64, 1, 3).unwrap();
        assert_eq!(a, echo::<f64>(64, 1, 3).unwrap());
        assert_ne!(a.inputs(), echo::<f64>(64, 1, 4).unwrap().inputs());
    }

    #[test]
    fn refuses_a_sequence_without_a_target() {
        for (len, delay) in [(0, 0), (5, 5), (1, 2)] {
            match echo::<f64>(len, delay, 0) {
                Err(Error::NotEnoughData { needed, got, .. }) => assert_eq!((needed, got), (delay + 1, len)),
                other => panic!("len {len}, delay {delay}: {other:?}"),
            }
        }
        assert!(matches!(echo::<f64>(usize::MAX, 0, 0), Err(Error::Allocation { .. })));
    }
}
