#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod bptt;
mod config;
mod connectivity;
mod differentiable;
mod network;
mod online;
mod rtrl;
mod trace;
mod truncated;

pub use bptt::Bptt;
pub use config::RecurrentConfig;
pub use connectivity::{Connectivity, MAX_MASK_ENTRIES, Source};
pub use network::FullyRecurrent;
pub use online::{OnlineLearner, StreamReport};
pub use rtrl::{Rtrl, RtrlOptions, Update, auto_block_columns};
pub use truncated::TruncatedBptt;
