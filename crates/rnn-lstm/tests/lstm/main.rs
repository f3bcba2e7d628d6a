//! The integration tests of rnn-lstm, in one binary.

mod api;
mod golden;
mod gradient;
mod training;
