//! Integration tests of rnn-partial, in one binary (one link) with a module per topic.

mod common;
mod errors;
mod gradients;
mod jordan_recurrence;
mod limits;
mod online;
mod persistence;
mod sequences;
mod temporal_xor;
