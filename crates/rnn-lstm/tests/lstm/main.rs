//! The integration tests of rnn-lstm, in one binary.

mod adversarial;
mod api;
mod fast_paths;
mod golden;
mod gradient;
mod online;
mod rtrl_reference;
mod training;
