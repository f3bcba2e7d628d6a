//! Learning to oscillate (Williams & Zipser 1989): a target wave and no input at all.
//!
//! The net has no input units (the inputs are a `0 × len` matrix), so its output can only come
//! from its own recurrent dynamics, started from its initial state:
//!
//! - square wave of period P: d(t) = high if (t mod P) < ⌈P/2⌉, else low;
//! - sine wave of period P: d(t) = c + A · sin(2π t / P).
//!
//! Williams & Zipser trained fully recurrent nets with real-time recurrent learning to produce
//! such periodic outputs ("A learning algorithm for continually running fully recurrent neural
//! networks", *Neural Computation* 1(2), 270–280, 1989; "Experimental analysis of the real-time
//! recurrent learning algorithm", *Connection Science* 1(1), 87–111, 1989). Every target is
//! present.

use rnn_core::{Error, MaskedSequence, Real, Result, Sequence};

use super::filled;

/// Checks a sequence length of at least one step.
fn check_len(what: &str, len: usize) -> Result<()> {
    if len == 0 {
        return Err(Error::NotEnoughData { what: format!("{what} sequence length (steps)"), needed: 1, got: 0 });
    }
    Ok(())
}

/// Checks that a setting is a finite number, also in `T` (1e39 is a valid `f64` but infinite as
/// `f32`).
fn check_finite<T: Real>(name: &str, x: f64) -> Result<()> {
    if !x.is_finite() || !T::of_f64(x).is_finite() {
        return Err(Error::config(name, format!("a number finite in {}", T::NAME), x));
    }
    Ok(())
}

/// `len` steps with no input and the targets `d(t)`, all present.
fn no_input<T: Real>(what: &str, len: usize, d: impl Fn(usize) -> f64) -> Result<MaskedSequence<T>> {
    let inputs = filled(what, 0, len, T::zero())?;
    let mut targets = filled(what, 1, len, T::zero())?;
    for t in 0..len {
        targets[(0, t)] = T::of_f64(d(t));
    }
    MaskedSequence::all_present(Sequence::new(inputs, targets)?)
}

/// A square wave to learn (Williams & Zipser 1989) over `len` steps: no input (`0 × len`), target `1 × len` equal to `high` for
/// the first ⌈`period`/2⌉ steps of each period and `low` for the rest, starting high at t = 0;
/// all present.
///
/// ```
/// use rnn_data::generators::square_wave;
/// let task = square_wave::<f64>(7, 3, 0.0, 1.0).unwrap();
/// assert_eq!(task.inputs().shape(), (0, 7));
/// assert_eq!(task.targets().as_slice(), [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
/// assert!(square_wave::<f64>(7, 1, 0.0, 1.0).is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for `period` < 2 or a `low` or `high` that is not finite;
/// [`Error::NotEnoughData`] for `len` = 0; [`Error::Allocation`] when the targets cannot be
/// allocated.
pub fn square_wave<T: Real>(len: usize, period: usize, low: f64, high: f64) -> Result<MaskedSequence<T>> {
    if period < 2 {
        return Err(Error::config("square wave period (steps)", "at least 2", period));
    }
    check_finite::<T>("square wave low value", low)?;
    check_finite::<T>("square wave high value", high)?;
    check_len("square wave", len)?;
    let high_steps = period.div_ceil(2);
    no_input("square wave", len, |t| if t % period < high_steps { high } else { low })
}

/// A sine wave to learn (Williams & Zipser 1989) over `len` steps: no input (`0 × len`), target `1 × len` with
/// d(t) = `centre` + `amplitude` · sin(2π t / `period`); all present. `period` is in steps and
/// need not be whole.
///
/// ```
/// use rnn_data::generators::sine_wave;
/// let task = sine_wave::<f64>(5, 4.0, 0.5, 0.25).unwrap();
/// assert_eq!(task.inputs().nrows(), 0);
/// let d = task.targets();
/// for (t, want) in [0.5, 0.75, 0.5, 0.25, 0.5].into_iter().enumerate() {
///     assert!((d[(0, t)] - want).abs() < 1e-12);
/// }
/// assert!(sine_wave::<f64>(5, 0.0, 0.5, 0.25).is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] unless `period` is positive and finite and `centre` and `amplitude`
/// are finite; [`Error::NotEnoughData`] for `len` = 0; [`Error::Allocation`] when the targets
/// cannot be allocated.
pub fn sine_wave<T: Real>(len: usize, period: f64, centre: f64, amplitude: f64) -> Result<MaskedSequence<T>> {
    if !(period > 0.0 && period.is_finite()) {
        return Err(Error::config("sine wave period (steps)", "a positive finite number", period));
    }
    check_finite::<T>("sine wave centre", centre)?;
    check_finite::<T>("sine wave amplitude", amplitude)?;
    check_finite::<T>("sine wave range (centre ± amplitude)", centre.abs() + amplitude.abs())?;
    check_len("sine wave", len)?;
    // t mod P is exact in floating point, so the phase stays accurate for long sequences.
    no_input("sine wave", len, |t| centre + amplitude * (std::f64::consts::TAU * ((t as f64) % period) / period).sin())
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;

    #[test]
    fn levels_must_be_finite_in_the_scalar_type() {
        for r in [square_wave::<f32>(5, 2, 0.0, 1e39).map(|_| ()), sine_wave::<f32>(5, 4.0, 0.0, 1e39).map(|_| ())] {
            assert!(matches!(r, Err(Error::InvalidConfig { .. })), "{r:?}");
        }
        assert!(matches!(sine_wave::<f64>(5, 4.0, 1e308, 1e308), Err(Error::InvalidConfig { .. })));
        assert!(square_wave::<f64>(5, 2, 0.0, 1e39).is_ok());
    }

    #[test]
    fn a_sequence_may_have_no_input_unit() {
        let seq = Sequence::new(DMatrix::<f64>::zeros(0, 3), DMatrix::from_element(1, 3, 0.5)).unwrap();
        assert_eq!((seq.inputs.shape(), seq.len()), ((0, 3), 3));
        let task = square_wave::<f32>(4, 2, -1.0, 1.0).unwrap();
        assert_eq!((task.inputs().shape(), task.input_size(), task.len()), ((0, 4), 0, 4));
    }

    #[test]
    fn square_waves_of_odd_and_even_period() {
        let odd = square_wave::<f64>(7, 3, -1.0, 1.0).unwrap();
        assert_eq!(odd.targets().as_slice(), [1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0]);
        let even = square_wave::<f64>(9, 4, 0.1, 0.9).unwrap();
        assert_eq!(even.targets().as_slice(), [0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.9]);
        let two = square_wave::<f32>(5, 2, 0.0, 1.0).unwrap();
        assert_eq!(two.targets().as_slice(), [1.0, 0.0, 1.0, 0.0, 1.0]);
        assert_eq!((two.present_count(), two.target_size()), (5, 1));
        // Low above high just swaps the levels.
        let swapped = square_wave::<f64>(3, 2, 1.0, 0.0).unwrap();
        assert_eq!(swapped.targets().as_slice(), [0.0, 1.0, 0.0]);
    }

    #[test]
    fn sine_waves_hit_their_quarter_points() {
        let task = sine_wave::<f64>(9, 8.0, 1.0, 2.0).unwrap();
        let s = std::f64::consts::FRAC_1_SQRT_2 * 2.0;
        let want = [1.0, 1.0 + s, 3.0, 1.0 + s, 1.0, 1.0 - s, -1.0, 1.0 - s, 1.0];
        for (t, w) in want.into_iter().enumerate() {
            assert!((task.targets()[(0, t)] - w).abs() < 1e-12, "d({t}) = {}", task.targets()[(0, t)]);
        }
        assert_eq!(task.present_count(), 9);
        // A period that is not whole, far into the sequence: still the formula.
        let long = sine_wave::<f64>(10_001, 2.5, 0.0, 1.0).unwrap();
        assert!((long.targets()[(0, 10_000)] - (std::f64::consts::TAU * 10_000.0 / 2.5).sin()).abs() < 1e-9);
        assert!(long.targets()[(0, 10_000)].abs() < 1e-9); // 10 000 is 4000 whole periods
        assert!((long.targets()[(0, 1)] - (std::f64::consts::TAU / 2.5).sin()).abs() < 1e-15);
    }

    #[test]
    fn refuses_bad_settings() {
        for period in [0, 1] {
            assert!(matches!(square_wave::<f64>(5, period, 0.0, 1.0), Err(Error::InvalidConfig { .. })));
        }
        for bad in [f64::NAN, f64::INFINITY] {
            assert!(matches!(square_wave::<f64>(5, 2, bad, 1.0), Err(Error::InvalidConfig { .. })));
            assert!(matches!(square_wave::<f64>(5, 2, 0.0, bad), Err(Error::InvalidConfig { .. })));
            assert!(matches!(sine_wave::<f64>(5, 4.0, bad, 1.0), Err(Error::InvalidConfig { .. })));
            assert!(matches!(sine_wave::<f64>(5, 4.0, 0.0, bad), Err(Error::InvalidConfig { .. })));
        }
        for period in [0.0, -4.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(sine_wave::<f64>(5, period, 0.0, 1.0), Err(Error::InvalidConfig { .. })), "{period}");
        }
        assert!(matches!(square_wave::<f64>(0, 2, 0.0, 1.0), Err(Error::NotEnoughData { needed: 1, got: 0, .. })));
        assert!(matches!(sine_wave::<f64>(0, 4.0, 0.0, 1.0), Err(Error::NotEnoughData { .. })));
        assert!(matches!(sine_wave::<f64>(usize::MAX, 4.0, 0.0, 1.0), Err(Error::Allocation { .. })));
    }
}
