#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod api;
mod arch;
pub mod backprop;
pub mod elman;
mod forecast;
pub mod init;
pub mod jordan;
mod kernels;
mod mlp;
mod net;
pub mod online;
pub mod state;
mod time_loop;
mod work;

pub use backprop::Backprop;
pub use elman::{Elman, ElmanConfig};
pub use init::Init;
pub use jordan::{Jordan, JordanConfig};
pub use online::OnlineOptions;
pub use state::State;
