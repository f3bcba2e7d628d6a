//! Bipolar patterns: the states of a discrete Hopfield network.
//!
//! A [`Pattern`] holds n states sᵢ ∈ {−1, +1} as `i8`. Why `i8` and not the weights' scalar:
//! a state is exactly ±1, so an `i8` holds it exactly in a quarter of the bytes of an `f32`; a
//! pattern does not depend on the scalar a network is built with (the same patterns go into an
//! `f32` and an `f64` network); and Hamming distances and overlaps are integer sums. The kernels
//! convert states to the scalar `T` only where a matrix product needs them.
//!
//! Patterns come from ±1 values ([`Pattern::bipolar`]), from {0, 1} bits ([`Pattern::binary`],
//! 0 ↦ −1, 1 ↦ +1) or from real values cut at a threshold ([`Pattern::threshold`]); every
//! constructor checks its input and returns an [`Error`] naming the offending value.

use rand::RngExt;
use rnn_core::{Error, Real, Result, rng::Rng};
use serde::{Deserialize, Serialize};

/// A state of n bipolar neurons, sᵢ ∈ {−1, +1}.
///
/// ```
/// use rnn_hopfield::Pattern;
/// let p = Pattern::binary(&[1, 0, 1, 1])?;
/// assert_eq!(p.as_slice(), &[1, -1, 1, 1]);
/// assert_eq!(p.to_binary(), vec![1, 0, 1, 1]);
/// let q = Pattern::bipolar(&[1, 1, 1, -1])?;
/// assert_eq!(p.hamming(&q)?, 2);
/// assert_eq!(p.overlap(&q)?, 0.0);
/// assert!(Pattern::bipolar(&[1, 0]).is_err());
/// # Ok::<(), rnn_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Pattern(Vec<i8>);

impl Pattern {
    /// A pattern from values in {−1, +1}.
    ///
    /// # Errors
    /// [`Error::Empty`] for no values; [`Error::InvalidConfig`] naming the first value that is
    /// neither −1 nor +1.
    pub fn bipolar(values: &[i8]) -> Result<Self> {
        if values.is_empty() {
            return Err(Error::empty("pattern", 1));
        }
        if let Some(i) = values.iter().position(|&v| v != 1 && v != -1) {
            return Err(Error::config(format!("pattern value at index {i}"), "−1 or +1 (bipolar)", values[i]));
        }
        Ok(Pattern(values.to_vec()))
    }

    /// A pattern from bits in {0, 1}: 0 ↦ −1, 1 ↦ +1 (sᵢ = 2Vᵢ − 1, Hopfield 1982).
    ///
    /// # Errors
    /// [`Error::Empty`] for no bits; [`Error::InvalidConfig`] naming the first value that is
    /// neither 0 nor 1.
    pub fn binary(bits: &[u8]) -> Result<Self> {
        if bits.is_empty() {
            return Err(Error::empty("pattern", 1));
        }
        if let Some(i) = bits.iter().position(|&v| v > 1) {
            return Err(Error::config(format!("pattern bit at index {i}"), "0 or 1 (binary)", bits[i]));
        }
        Ok(Pattern(bits.iter().map(|&b| 2 * b as i8 - 1).collect()))
    }

    /// A pattern from real values: +1 where the value exceeds `threshold`, −1 elsewhere. Use it
    /// to binarise data (pixels above half their range) or to read a continuous state's signs.
    ///
    /// ```
    /// let p = rnn_hopfield::Pattern::threshold(&[0.0, 9.0, 16.0, 8.0], 8.0)?;
    /// assert_eq!(p.as_slice(), &[-1, 1, 1, -1]);
    /// # Ok::<(), rnn_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Empty`] for no values; [`Error::NonFinite`] for a NaN or infinite value or
    /// threshold.
    pub fn threshold<T: Real>(values: &[T], threshold: T) -> Result<Self> {
        if values.is_empty() {
            return Err(Error::empty("pattern", 1));
        }
        rnn_core::error::check_finite("pattern threshold", &[threshold])?;
        rnn_core::error::check_finite("pattern values", values)?;
        Ok(Pattern(values.iter().map(|&v| if v > threshold { 1 } else { -1 }).collect()))
    }

    /// A pattern of n independent, equiprobable ±1 states.
    ///
    /// # Errors
    /// [`Error::Empty`] if `n` is 0.
    pub fn random(n: usize, rng: &mut Rng) -> Result<Self> {
        if n == 0 {
            return Err(Error::empty("pattern", 1));
        }
        Ok(Pattern((0..n).map(|_| if rng.random::<bool>() { 1 } else { -1 }).collect()))
    }

    /// Number of neurons n.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a pattern has at least one neuron (kept for the `len`/`is_empty` pair).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The states, each −1 or +1.
    pub fn as_slice(&self) -> &[i8] {
        &self.0
    }

    /// The states as bits: −1 ↦ 0, +1 ↦ 1.
    pub fn to_binary(&self) -> Vec<u8> {
        self.0.iter().map(|&s| u8::from(s > 0)).collect()
    }

    /// The states as ±1 in the scalar `T`.
    pub fn to_real<T: Real>(&self) -> Vec<T> {
        self.0.iter().map(|&s| if s > 0 { T::one() } else { -T::one() }).collect()
    }

    /// The complement −s (every state flipped), which a network with zero thresholds stores
    /// along with s.
    pub fn negated(&self) -> Pattern {
        Pattern(self.0.iter().map(|&s| -s).collect())
    }

    /// The Hamming distance: the number of neurons whose states differ.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the lengths differ.
    pub fn hamming(&self, other: &Pattern) -> Result<usize> {
        rnn_core::error::check_dim("pattern length", self.len(), other.len())?;
        Ok(hamming(&self.0, &other.0))
    }

    /// The overlap m = (1/n) Σᵢ sᵢ tᵢ ∈ [−1, 1]: 1 for equal patterns, −1 for complements,
    /// ≈ 0 for unrelated random ones.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if the lengths differ.
    pub fn overlap(&self, other: &Pattern) -> Result<f64> {
        rnn_core::error::check_dim("pattern length", self.len(), other.len())?;
        Ok(dot(&self.0, &other.0) as f64 / self.len() as f64)
    }

    /// A copy with exactly `count` distinct states, chosen at random, flipped: a cue at Hamming
    /// distance `count`.
    ///
    /// ```
    /// use rnn_hopfield::Pattern;
    /// let mut rng = rnn_core::rng::seeded(3);
    /// let p = Pattern::random(100, &mut rng)?;
    /// let cue = p.flipped(10, &mut rng)?;
    /// assert_eq!(p.hamming(&cue)?, 10);
    /// # Ok::<(), rnn_core::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `count` exceeds the length.
    pub fn flipped(&self, count: usize, rng: &mut Rng) -> Result<Pattern> {
        if count > self.len() {
            return Err(Error::config(
                "number of bits to flip",
                format!("at most the pattern length {}", self.len()),
                count,
            ));
        }
        let mut out = self.clone();
        for i in rand::seq::index::sample(rng, self.len(), count) {
            out.0[i] = -out.0[i];
        }
        Ok(out)
    }

    /// Wraps states the caller guarantees to be ±1 (internal: kernels produce them).
    pub(crate) fn from_states_unchecked(states: Vec<i8>) -> Pattern {
        debug_assert!(states.iter().all(|&s| s == 1 || s == -1));
        Pattern(states)
    }

    /// Checks the ±1 invariant (for freshly deserialised patterns).
    pub(crate) fn validate(&self, what: &str) -> Result<()> {
        if self.0.is_empty() {
            return Err(Error::empty(what, 1));
        }
        match self.0.iter().position(|&v| v != 1 && v != -1) {
            None => Ok(()),
            Some(i) => Err(Error::config(format!("{what}, value at index {i}"), "−1 or +1", self.0[i])),
        }
    }
}

impl AsRef<[i8]> for Pattern {
    fn as_ref(&self) -> &[i8] {
        &self.0
    }
}

/// Σᵢ aᵢbᵢ over ±1 states: n − 2·(number of differing positions).
pub(crate) fn dot(a: &[i8], b: &[i8]) -> i64 {
    a.len() as i64 - 2 * hamming(a, b) as i64
}

/// The number of positions where the states differ, counted in blocks of 128 bytes with 8-bit
/// sums (byte compares and adds in SIMD lanes).
pub(crate) fn hamming(a: &[i8], b: &[i8]) -> usize {
    debug_assert_eq!(a.len(), b.len());
    let mut total = 0usize;
    let (ca, cb) = (a.chunks_exact(128), b.chunks_exact(128));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        // At most 128 per block: no overflow of the 8-bit sum.
        total += usize::from(x.iter().zip(y).map(|(u, v)| u8::from(u != v)).sum::<u8>());
    }
    total + ra.iter().zip(rb).filter(|(u, v)| u != v).count()
}

/// Checks a set of patterns for a network of `n` neurons: non-empty, every pattern of length `n`.
pub(crate) fn check_set(patterns: &[Pattern], n: usize) -> Result<()> {
    if patterns.is_empty() {
        return Err(Error::empty("pattern set", 1));
    }
    for (k, p) in patterns.iter().enumerate() {
        rnn_core::error::check_dim(&format!("length of pattern {k}"), n, p.len())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        let bits = [0u8, 1, 1, 0, 1];
        let p = Pattern::binary(&bits).unwrap();
        assert_eq!(p.to_binary(), bits);
        assert_eq!(Pattern::bipolar(p.as_slice()).unwrap(), p);
        assert_eq!(p.to_real::<f64>(), vec![-1.0, 1.0, 1.0, -1.0, 1.0]);
        assert_eq!(p.negated().negated(), p);
        assert_eq!(p.hamming(&p.negated()).unwrap(), 5);
        assert_eq!(p.overlap(&p.negated()).unwrap(), -1.0);
    }

    #[test]
    fn bad_values_are_named() {
        let e = Pattern::bipolar(&[1, -1, 2]).unwrap_err().to_string();
        assert!(e.contains("index 2") && e.contains("got 2"), "{e}");
        let e = Pattern::binary(&[0, 1, 1, -1i8 as u8]).unwrap_err().to_string();
        assert!(e.contains("index 3"), "{e}");
        assert!(matches!(Pattern::bipolar(&[]), Err(Error::Empty { .. })));
        assert!(matches!(Pattern::threshold(&[1.0, f64::NAN], 0.0), Err(Error::NonFinite { index: 1, .. })));
        let p = Pattern::bipolar(&[1, 1]).unwrap();
        assert!(matches!(p.hamming(&Pattern::bipolar(&[1]).unwrap()), Err(Error::DimensionMismatch { .. })));
        assert!(p.flipped(3, &mut rnn_core::rng::seeded(0)).is_err());
    }

    #[test]
    fn random_patterns_are_balanced_and_seeded() {
        let a = Pattern::random(10_000, &mut rnn_core::rng::seeded(1)).unwrap();
        let b = Pattern::random(10_000, &mut rnn_core::rng::seeded(1)).unwrap();
        assert_eq!(a, b);
        let ones = a.as_slice().iter().filter(|&&s| s == 1).count();
        assert!((4800..5200).contains(&ones), "{ones}");
    }
}
