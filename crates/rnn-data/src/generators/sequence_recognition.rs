//! "a then b" (Williams & Zipser 1989): simple sequence recognition, a flip-flop.
//!
//! Two input lines a = x₁ and b = x₂, each on (1) with probability p at every step,
//! independently. The output must turn on when b comes after an a that has not been answered
//! yet, whatever lies in between:
//!
//! d(t) = 1 ⇔ x₂(t) = 1 and there is an s < t with x₁(s) = 1 and d(u) = 0 for all s < u < t,
//!
//! i.e. an a arms a flag, the next b fires the output and disarms it. Step by step: if x₂(t) = 1
//! and the flag is armed, d(t) = 1 and the flag is cleared, else d(t) = 0; then x₁(t) = 1 arms
//! the flag (so an a and a b at the same step fire only if an earlier a armed it, and the a
//! arms it again). The net must remember one bit over gaps of any length. Williams & Zipser's
//! simple sequence recognition task ("A learning algorithm for continually running fully
//! recurrent neural networks", *Neural Computation* 1(2), 270–280, 1989).

use rand::RngExt;
use rnn_core::{Error, MaskedSequence, Real, Result, Sequence};

use super::{bit, filled};

/// The "a then b" task of Williams & Zipser (1989) over `len` steps: inputs `2 × len` (a = x₁,
/// b = x₂, each 1.0 with probability `p_on` at each step, drawn a then b, from `seed`), targets
/// `1 × len`, all present, with
///
/// d(t) = 1 ⇔ x₂(t) = 1 and some s < t has x₁(s) = 1 and d(u) = 0 for all s < u < t:
///
/// an a arms a flag, the next b fires the output and clears it, and an a at the same step as
/// that b arms it again.
///
/// ```
/// use rnn_data::generators::a_then_b;
/// let task = a_then_b::<f64>(50, 0.3, 5).unwrap();
/// assert_eq!((task.input_size(), task.target_size(), task.present_count()), (2, 1, 50));
/// // The output fires only on a b, and never before the first a.
/// let first_a = (0..50).find(|&t| task.inputs()[(0, t)] == 1.0).unwrap();
/// for t in 0..50 {
///     if task.targets()[(0, t)] == 1.0 {
///         assert!(task.inputs()[(1, t)] == 1.0 && t > first_a);
///     }
/// }
/// assert!(a_then_b::<f64>(50, 1.0, 5).is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] unless 0 < `p_on` < 1; [`Error::NotEnoughData`] for `len` = 0;
/// [`Error::Allocation`] when the matrices cannot be allocated.
pub fn a_then_b<T: Real>(len: usize, p_on: f64, seed: u64) -> Result<MaskedSequence<T>> {
    if !(p_on > 0.0 && p_on < 1.0) {
        return Err(Error::config("a-then-b input probability p_on", "a probability in (0, 1)", p_on));
    }
    if len == 0 {
        return Err(Error::NotEnoughData { what: "a-then-b sequence length (steps)".into(), needed: 1, got: 0 });
    }
    let mut rng = rnn_core::rng::seeded(seed);
    let mut a = rnn_core::alloc::try_filled("a-then-b input a", len, false)?;
    let mut b = rnn_core::alloc::try_filled("a-then-b input b", len, false)?;
    for t in 0..len {
        a[t] = rng.random::<f64>() < p_on;
        b[t] = rng.random::<f64>() < p_on;
    }
    let fired = recognise(&a, &b)?;
    let mut inputs = filled("a-then-b inputs", 2, len, T::zero())?;
    let mut targets = filled("a-then-b targets", 1, len, T::zero())?;
    for t in 0..len {
        inputs[(0, t)] = bit(a[t]);
        inputs[(1, t)] = bit(b[t]);
        targets[(0, t)] = bit(fired[t]);
    }
    MaskedSequence::all_present(Sequence::new(inputs, targets)?)
}

/// The flip-flop: d(t) for input lines `a` and `b` of equal length.
fn recognise(a: &[bool], b: &[bool]) -> Result<Vec<bool>> {
    let mut fired = rnn_core::alloc::try_filled("a-then-b targets", a.len(), false)?;
    let mut armed = false;
    for ((&a, &b), d) in a.iter().zip(b).zip(fired.iter_mut()) {
        if b && armed {
            *d = true;
            armed = false;
        }
        if a {
            armed = true;
        }
    }
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(s: &str) -> Vec<bool> {
        s.chars().map(|c| c == '1').collect()
    }

    #[test]
    fn the_flip_flop_on_hand_checked_inputs() {
        // a at 0 arms; b at 1 fires; b at 2 finds it disarmed; a and b at 3: no fire (not armed
        // before), a arms; b at 4 fires, a at 4 re-arms; b at 5 fires; a and b at 7: not armed,
        // then armed; b at 8 fires.
        let d = recognise(&bits("100110010"), &bits("011111011")).unwrap();
        assert_eq!(d, bits("010011001"));
        // Repeated a's arm once; b's without an a never fire.
        assert_eq!(recognise(&bits("111000"), &bits("000111")).unwrap(), bits("000100"));
        assert_eq!(recognise(&bits("0000"), &bits("1111")).unwrap(), bits("0000"));
        assert!(recognise(&[], &[]).unwrap().is_empty());
    }

    /// d(t) by the closed form: b at t and an a at some s < t with no firing strictly between.
    fn by_definition(a: &[bool], b: &[bool], d: &[bool], t: usize) -> bool {
        b[t] && (0..t).any(|s| a[s] && (s + 1..t).all(|u| !d[u]))
    }

    #[test]
    fn targets_match_the_definition_and_the_seeded_draws() {
        let (len, p, seed) = (300, 0.4, 11);
        let task = a_then_b::<f64>(len, p, seed).unwrap();
        let mut rng = rnn_core::rng::seeded(seed);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..len {
            a.push(rng.random::<f64>() < p);
            b.push(rng.random::<f64>() < p);
        }
        let d: Vec<bool> = (0..len).map(|t| task.targets()[(0, t)] == 1.0).collect();
        for t in 0..len {
            assert_eq!(task.inputs()[(0, t)], if a[t] { 1.0 } else { 0.0 });
            assert_eq!(task.inputs()[(1, t)], if b[t] { 1.0 } else { 0.0 });
            assert!(task.targets()[(0, t)] == 0.0 || task.targets()[(0, t)] == 1.0);
            assert_eq!(d[t], by_definition(&a, &b, &d, t), "step {t}");
        }
        assert_eq!(task.present_count(), len);
        assert!(d.iter().any(|&x| x) && d.iter().any(|&x| !x));
    }

    #[test]
    fn determined_by_the_seed_with_the_asked_rate() {
        let x = a_then_b::<f32>(100, 0.3, 1).unwrap();
        assert_eq!(x, a_then_b::<f32>(100, 0.3, 1).unwrap());
        assert_ne!(x.inputs(), a_then_b::<f32>(100, 0.3, 2).unwrap().inputs());
        let task = a_then_b::<f64>(10_000, 0.2, 3).unwrap();
        for row in 0..2 {
            let rate = task.inputs().row(row).sum() / 10_000.0;
            assert!((rate - 0.2).abs() < 0.02, "input {row}: {rate}");
        }
        assert_eq!(a_then_b::<f64>(1, 0.5, 0).unwrap().targets()[(0, 0)], 0.0);
    }

    #[test]
    fn refuses_bad_probabilities_and_empty_sequences() {
        for p in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(a_then_b::<f64>(10, p, 0), Err(Error::InvalidConfig { .. })), "p_on {p}");
        }
        assert!(matches!(a_then_b::<f64>(0, 0.5, 0), Err(Error::NotEnoughData { needed: 1, got: 0, .. })));
        assert!(matches!(a_then_b::<f64>(usize::MAX, 0.5, 0), Err(Error::Allocation { .. })));
    }
}
