//! Task generators: seeded sequences for the classic small experiments.
//!
//! | generator | task | inputs | targets | targets present |
//! |---|---|---|---|---|
//! | [`temporal_xor_sequence`] | temporal XOR (Elman 1990) | 1 | 1 | all ([`temporal_xor_predictable`] marks the predictable steps) |
//! | [`delayed_xor`] | delayed XOR (Williams & Zipser 1989) | 2 | 1 | from step τ on |
//! | [`a_then_b`] | "a then b" sequence recognition (Williams & Zipser 1989) | 2 | 1 | all |
//! | [`echo`] | the input of τ steps ago (a delay line) | 1 | 1 | from step τ on |
//! | [`square_wave`], [`sine_wave`] | learning to oscillate (Williams & Zipser 1989) | 0 | 1 | all |
//! | [`long_lag`], [`long_lag_random`] | noise-free long time lags (Hochreiter & Schmidhuber 1997, Task 2a) | p + 1 | p + 1 | all |
//! | [`embedded_reber`], [`embedded_reber_set`], [`embedded_reber_train_test`] | embedded Reber grammar, next-symbol prediction (Hochreiter & Schmidhuber 1997, Experiment 1; success: [`reber_predicts_correctly`]) | 7 | 7 | all (a [`ReberString`]: a plain [`Sequence`](rnn_core::Sequence) with the legal next symbols of each step) |
//! | [`continual_reber`] | continual embedded Reber stream, no reset between strings (Gers, Schmidhuber & Cummins 2000; success: [`continual_reber_error_free`]) | 7 | 7 | all (a [`ReberString`]) |
//! | [`adding_problem`], [`adding_set`] | adding problem (Hochreiter & Schmidhuber 1997, Experiment 4; success: [`adding_correct`]) | 2 | 1 | last step |
//! | [`multiplication_problem`], [`multiplication_set`] | multiplication problem (Hochreiter & Schmidhuber 1997, Experiment 5; success: [`multiplication_correct`]) | 2 | 1 | last step |
//!
//! The convention is the workspace's: column t of the inputs is x(t), and column t of the
//! targets is the target d(t) for the output the network produces after reading x(t). All but
//! the temporal XOR and the Reber tasks return a
//! [`MaskedSequence`](rnn_core::MaskedSequence) whose mask says which targets are present
//! (Williams & Zipser's T(t)); absent targets hold 0. Random generators take a seed (or a
//! generator), so the same seed always gives the same sequence.

use nalgebra::{DMatrix, Scalar};
use rnn_core::{Real, Result};

mod adding;
mod delayed_xor;
mod echo;
mod long_lag;
mod oscillators;
mod reber;
mod sequence_recognition;
mod temporal_xor;

pub use adding::{
    ADDING_TOLERANCE, MARKED_PAIRS_MIN_T, MULTIPLICATION_TOLERANCE, adding_correct, adding_problem, adding_set,
    multiplication_correct, multiplication_problem, multiplication_set,
};
pub use delayed_xor::delayed_xor;
pub use echo::echo;
pub use long_lag::{long_lag, long_lag_random};
pub use oscillators::{sine_wave, square_wave};
pub use reber::{
    CONTINUAL_REBER_GOOD_LENGTH, CONTINUAL_REBER_MAX_SQUARED_ERROR, CONTINUAL_REBER_TEST_LENGTH,
    CONTINUAL_REBER_TEST_STREAMS, REBER_SYMBOLS, ReberString, ReberStrings, continual_reber,
    continual_reber_error_free, embedded_reber, embedded_reber_set, embedded_reber_train_test, is_embedded_reber,
    is_reber, reber_predicts_correctly, reber_symbol,
};
pub use sequence_recognition::a_then_b;
pub use temporal_xor::{temporal_xor, temporal_xor_predictable, temporal_xor_sequence};

/// A `rows × len` matrix filled with `value`, or [`rnn_core::Error::Allocation`] naming `what`
/// (also when `rows · len` overflows).
fn filled<U: Scalar>(what: &str, rows: usize, len: usize, value: U) -> Result<DMatrix<U>> {
    let n = rnn_core::alloc::checked_size(what, rows, len)?;
    Ok(DMatrix::from_vec(rows, len, rnn_core::alloc::try_filled(what, n, value)?))
}

/// The mask of `rows` targets over `len` steps, present from step `first` on.
fn present_from(what: &str, rows: usize, len: usize, first: usize) -> Result<DMatrix<bool>> {
    let mut present = filled(what, rows, len, false)?;
    for t in first..len {
        present.column_mut(t).fill(true);
    }
    Ok(present)
}

/// 1 for true, 0 for false.
fn bit<T: Real>(b: bool) -> T {
    if b { T::one() } else { T::zero() }
}
