//! Integration tests of rnn-recurrent, one binary.

mod bptt;
mod common;
mod limits;
mod rtrl;
