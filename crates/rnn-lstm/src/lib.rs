#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod config;
mod forecast;
mod geometry;
#[macro_use]
mod kernels;
mod layer;
mod network;
mod online;
mod state;
mod torch;
mod truncated;

pub use config::{GateBias, Head, LstmConfig, Readout, WeightInit};
pub use network::Lstm;
pub use online::TruncatedRtrl;
pub use state::LstmState;
pub use truncated::TruncatedBptt;
