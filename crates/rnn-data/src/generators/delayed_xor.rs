//! Delayed XOR (Williams & Zipser 1989): the exclusive or of two random bits, τ steps later.
//!
//! Two input lines carry independent fair coin flips x₁(t), x₂(t) ∈ {0, 1}; the target is the
//! exclusive or of the pair read τ steps earlier,
//!
//! d(t) = x₁(t − τ) ⊕ x₂(t − τ)   for t ≥ τ, no target for t < τ.
//!
//! XOR is not linearly separable, so the net needs hidden units, and it must hold their answer
//! (or the inputs) for τ steps. Williams & Zipser trained fully recurrent nets on this
//! "pipelined" XOR with real-time recurrent learning ("A learning algorithm for continually
//! running fully recurrent neural networks", *Neural Computation* 1(2), 270–280, 1989). A net
//! whose outputs see x(t) through one layer of weights cannot answer at τ = 0; τ ≥ 1 gives
//! its hidden units a step to compute the features the outputs combine.

use rand::RngExt;
use rnn_core::{Error, MaskedSequence, Real, Result, Sequence};

use super::{bit, filled, present_from};

/// The delayed XOR task of Williams & Zipser (1989) over `len` steps: inputs `2 × len` (x₁, x₂: random bits 0.0 or 1.0 from
/// `seed`, drawn x₁ then x₂ at each step), targets `1 × len` with d(t) = x₁(t − delay) ⊕
/// x₂(t − delay), present for t ≥ `delay` (absent targets are 0).
///
/// The same seed always gives the same sequence; a longer sequence from the same seed starts
/// with the inputs of the shorter one.
///
/// ```
/// use rnn_data::generators::delayed_xor;
/// let task = delayed_xor::<f64>(10, 2, 42).unwrap();
/// let (x, d) = (task.inputs(), task.targets());
/// assert_eq!((x.nrows(), d.nrows(), task.len()), (2, 1, 10));
/// assert!(!task.is_present(0, 1) && task.is_present(0, 2));
/// for t in 2..10 {
///     assert_eq!(d[(0, t)], if x[(0, t - 2)] != x[(1, t - 2)] { 1.0 } else { 0.0 });
/// }
/// assert!(delayed_xor::<f64>(2, 2, 42).is_err()); // no step would have a target
/// ```
///
/// # Errors
/// [`Error::NotEnoughData`] when `len ≤ delay` (no step would have a target);
/// [`Error::Allocation`] when the matrices cannot be allocated.
pub fn delayed_xor<T: Real>(len: usize, delay: usize, seed: u64) -> Result<MaskedSequence<T>> {
    if len <= delay {
        return Err(Error::NotEnoughData {
            what: format!("delayed XOR sequence length (steps) for a delay of {delay}"),
            needed: delay.saturating_add(1),
            got: len,
        });
    }
    let mut rng = rnn_core::rng::seeded(seed);
    let mut inputs = filled("delayed XOR inputs", 2, len, T::zero())?;
    let mut targets = filled("delayed XOR targets", 1, len, T::zero())?;
    let mut xor = rnn_core::alloc::try_filled("delayed XOR answers", len, false)?;
    for t in 0..len {
        let (a, b) = (rng.random::<bool>(), rng.random::<bool>());
        inputs[(0, t)] = bit(a);
        inputs[(1, t)] = bit(b);
        xor[t] = a ^ b;
    }
    for t in delay..len {
        targets[(0, t)] = bit(xor[t - delay]);
    }
    let present = present_from("delayed XOR target mask", 1, len, delay)?;
    MaskedSequence::new(Sequence::new(inputs, targets)?, present)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_the_seeded_coin_flips_and_targets_their_delayed_xor() {
        let (len, delay, seed) = (40, 3, 9);
        let task = delayed_xor::<f64>(len, delay, seed).unwrap();
        // The draws, in the documented order: x₁(t) then x₂(t).
        let mut rng = rnn_core::rng::seeded(seed);
        let mut pairs = Vec::new();
        for _ in 0..len {
            pairs.push((rng.random::<bool>(), rng.random::<bool>()));
        }
        for (t, &(a, b)) in pairs.iter().enumerate() {
            assert_eq!(task.inputs()[(0, t)], if a { 1.0 } else { 0.0 }, "x₁({t})");
            assert_eq!(task.inputs()[(1, t)], if b { 1.0 } else { 0.0 }, "x₂({t})");
            let expected = if t < delay {
                0.0
            } else if pairs[t - delay].0 != pairs[t - delay].1 {
                1.0
            } else {
                0.0
            };
            assert_eq!(task.targets()[(0, t)], expected, "d({t})");
            assert_eq!(task.is_present(0, t), t >= delay, "mask at {t}");
        }
        assert_eq!(task.present_count(), len - delay);
        assert_eq!((task.input_size(), task.target_size()), (2, 1));
    }

    #[test]
    fn a_hand_checked_case_and_delay_zero() {
        // Delay 0: the target is the XOR of the current pair, at every step.
        let task = delayed_xor::<f32>(6, 0, 1).unwrap();
        assert_eq!(task.present_count(), 6);
        for t in 0..6 {
            let (a, b) = (task.inputs()[(0, t)], task.inputs()[(1, t)]);
            assert!(a == 0.0 || a == 1.0);
            assert_eq!(task.targets()[(0, t)], (a - b).abs());
        }
        // Delay len − 1: exactly one target, at the last step.
        let task = delayed_xor::<f64>(5, 4, 1).unwrap();
        assert_eq!(task.present_count(), 1);
        assert!(task.is_present(0, 4));
        assert_eq!(task.targets()[(0, 4)], (task.inputs()[(0, 0)] - task.inputs()[(1, 0)]).abs());
    }

    #[test]
    fn determined_by_the_seed_and_balanced() {
        let a = delayed_xor::<f64>(200, 2, 7).unwrap();
        assert_eq!(a, delayed_xor::<f64>(200, 2, 7).unwrap());
        assert_ne!(a.inputs(), delayed_xor::<f64>(200, 2, 8).unwrap().inputs());
        // A longer sequence from the same seed starts with the same inputs.
        let long = delayed_xor::<f64>(300, 2, 7).unwrap();
        assert_eq!(long.inputs().columns(0, 200), a.inputs().columns(0, 200));
        let task = delayed_xor::<f64>(4000, 1, 3).unwrap();
        for row in 0..2 {
            let ones = task.inputs().row(row).sum() / 4000.0;
            assert!((ones - 0.5).abs() < 0.05, "input {row}: {ones}");
        }
        let answers = task.targets().sum() / 3999.0;
        assert!((answers - 0.5).abs() < 0.05, "{answers}");
    }

    #[test]
    fn refuses_a_sequence_without_a_target() {
        for (len, delay) in [(0, 0), (3, 3), (2, 5)] {
            match delayed_xor::<f64>(len, delay, 0) {
                Err(Error::NotEnoughData { needed, got, .. }) => assert_eq!((needed, got), (delay + 1, len)),
                other => panic!("len {len}, delay {delay}: {other:?}"),
            }
        }
        assert!(matches!(delayed_xor::<f64>(usize::MAX, usize::MAX, 0), Err(Error::NotEnoughData { .. })));
        assert!(matches!(delayed_xor::<f64>(usize::MAX, 0, 0), Err(Error::Allocation { .. })));
    }
}
