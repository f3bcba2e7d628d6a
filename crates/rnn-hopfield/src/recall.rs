//! What a recall returns: the final state, how the run ended, the sweeps and energy it took,
//! and which stored pattern the final state is (or is nearest to).

use serde::{Deserialize, Serialize};

use crate::Pattern;
use crate::pattern::dot;

/// How a run of the dynamics ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// A stable state: the last sweep (or step) changed nothing, S(t+1) = S(t).
    Stable,
    /// Synchronous updates entered a 2-cycle S(t+1) = S(t−1) ≠ S(t); the final state is one of
    /// the two.
    TwoCycle,
    /// The sweep limit was reached before either.
    SweepLimit,
}

/// What the final state is, relative to the stored patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateKind {
    /// Exactly a stored pattern (the one in [`Nearest::pattern`]).
    Stored,
    /// Exactly the complement −ξ of a stored pattern, which zero-threshold networks store along
    /// with ξ.
    Complement,
    /// A mixture state: within 5 % of the bits of sign(±ξᵃ ± ξᵇ ± ξᶜ), the odd mixture of the
    /// three stored patterns it overlaps most (signs from the overlaps), and nearer to it than
    /// to any stored pattern or complement (Amit, Gutfreund & Sompolinsky 1985). The indices
    /// are in order of decreasing |overlap|.
    Mixture([usize; 3]),
    /// Any other state: not a stored pattern. [`Nearest::distance`] says how far it is from
    /// the nearest one (a retrieval with a few wrong bits is a spurious state near a memory).
    Spurious,
}

/// The stored pattern nearest to a state, counting complements.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Nearest {
    /// Index of the stored pattern with the largest |overlap| (the first one on ties).
    pub pattern: usize,
    /// Whether the state is nearer to the pattern's complement −ξ than to ξ.
    pub complement: bool,
    /// Hamming distance to the pattern (or to its complement when `complement`).
    pub distance: usize,
    /// The overlap m = (1/n) Σᵢ ξᵢsᵢ with the pattern itself, in [−1, 1].
    pub overlap: f64,
    /// What the state is.
    pub kind: StateKind,
}

/// The result of recalling a cue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recall<T> {
    /// The final state.
    pub state: Pattern,
    /// How the run ended.
    pub outcome: Outcome,
    /// Sweeps (asynchronous) or steps (synchronous) taken, including the last one that found
    /// the state stable.
    pub sweeps: usize,
    /// Total number of single-neuron flips over the run.
    pub flips: usize,
    /// Energy E = −½sᵀWs + θᵀs of the cue (`energy[0]`) and after each sweep or step
    /// (`energy[k]`), `sweeps + 1` values.
    pub energy: Vec<T>,
    /// The nearest stored pattern, or `None` if the network stores none.
    pub nearest: Option<Nearest>,
}

impl<T> Recall<T> {
    /// Whether the run ended in a stable state.
    pub fn converged(&self) -> bool {
        self.outcome == Outcome::Stable
    }

    /// Whether the final state is exactly stored pattern `index`.
    pub fn is_pattern(&self, index: usize) -> bool {
        matches!(self.nearest, Some(Nearest { pattern, kind: StateKind::Stored, .. }) if pattern == index)
    }
}

/// The nearest stored pattern to `state` and what the state is; `None` without patterns.
pub(crate) fn classify(state: &[i8], patterns: &[Pattern]) -> Option<Nearest> {
    let overlaps: Vec<i64> = patterns.iter().map(|p| dot(p.as_slice(), state)).collect();
    classify_with(state, patterns, &overlaps)
}

/// [`classify`] given the unnormalised overlaps ξ^μ·s with every stored pattern.
pub(crate) fn classify_with(state: &[i8], patterns: &[Pattern], overlaps: &[i64]) -> Option<Nearest> {
    let n = state.len() as i64;
    let best = (0..overlaps.len()).max_by_key(|&k| (overlaps[k].abs(), std::cmp::Reverse(k)))?;
    let m = overlaps[best];
    let complement = m < 0;
    let distance = ((n - m.abs()) / 2) as usize;
    let kind = if distance == 0 {
        if complement { StateKind::Complement } else { StateKind::Stored }
    } else {
        mixture(state, patterns, overlaps, distance).map_or(StateKind::Spurious, StateKind::Mixture)
    };
    Some(Nearest { pattern: best, complement, distance, overlap: m as f64 / n as f64, kind })
}

/// The three patterns whose odd mixture `state` is, if it is one (see [`StateKind::Mixture`]).
fn mixture(state: &[i8], patterns: &[Pattern], overlaps: &[i64], nearest_distance: usize) -> Option<[usize; 3]> {
    if patterns.len() < 3 {
        return None;
    }
    let mut order: Vec<usize> = (0..overlaps.len()).collect();
    order.sort_by_key(|&k| (std::cmp::Reverse(overlaps[k].abs()), k));
    let top = [order[0], order[1], order[2]];
    let signs = top.map(|k| if overlaps[k] < 0 { -1i8 } else { 1 });
    let mut distance = 0;
    for (i, &s) in state.iter().enumerate() {
        let sum: i8 = (0..3).map(|j| signs[j] * patterns[top[j]].as_slice()[i]).sum();
        distance += usize::from(sum.signum() != s);
    }
    (distance < nearest_distance && 20 * distance <= state.len()).then_some(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_stored_complement_mixture_and_spurious() {
        let mut rng = rnn_core::rng::seeded(9);
        let n = 200;
        let ps: Vec<Pattern> = (0..4).map(|_| Pattern::random(n, &mut rng).unwrap()).collect();
        let c = classify(ps[2].as_slice(), &ps).unwrap();
        assert_eq!((c.pattern, c.distance, c.kind, c.overlap), (2, 0, StateKind::Stored, 1.0));
        let c = classify(ps[1].negated().as_slice(), &ps).unwrap();
        assert_eq!((c.pattern, c.complement, c.kind), (1, true, StateKind::Complement));
        // sign(ξ0 − ξ1 + ξ3)
        let mix: Vec<i8> =
            (0..n).map(|i| (ps[0].as_slice()[i] - ps[1].as_slice()[i] + ps[3].as_slice()[i]).signum()).collect();
        let c = classify(&mix, &ps).unwrap();
        let StateKind::Mixture(mut k) = c.kind else { panic!("{c:?}") };
        k.sort();
        assert_eq!(k, [0, 1, 3]);
        let noisy = ps[0].flipped(3, &mut rng).unwrap();
        let c = classify(noisy.as_slice(), &ps).unwrap();
        assert_eq!((c.pattern, c.distance, c.kind), (0, 3, StateKind::Spurious));
        assert!(classify(noisy.as_slice(), &[]).is_none());
    }
}
