//! The energy of the discrete network, E(s) = −½ sᵀWs + θᵀs (Hopfield 1982).
//!
//! With symmetric weights and wᵢᵢ ≥ 0 an asynchronous flip of sᵢ changes the energy by
//! ΔE = −2|hᵢ − θᵢ| − 2wᵢᵢ ≤ 0, so asynchronous dynamics never raise it and end in a local
//! minimum. Given the local fields h = Ws the energy costs n operations,
//! E = Σᵢ sᵢ(θᵢ − ½hᵢ), which is how the recall kernels track it every sweep.

use rnn_core::Real;

/// E = Σᵢ sᵢ(θᵢ − ½hᵢ) for ±1 states `s` and their fields `h` = Ws.
pub(crate) fn energy_from_fields<T: Real>(s: &[i8], h: &[T], theta: &[T]) -> T {
    let half = T::of_f64(0.5);
    s.iter()
        .zip(h)
        .zip(theta)
        .map(|((&si, &hi), &ti)| {
            let v = ti - half * hi;
            if si > 0 { v } else { -v }
        })
        .sum()
}

/// E = Σᵢ sᵢ(θᵢ − ½hᵢ) for states ±1 held in `T`.
pub(crate) fn energy_from_real_fields<T: Real>(s: &[T], h: &[T], theta: &[T]) -> T {
    let half = T::of_f64(0.5);
    s.iter().zip(h).zip(theta).map(|((&si, &hi), &ti)| si * (ti - half * hi)).sum()
}
