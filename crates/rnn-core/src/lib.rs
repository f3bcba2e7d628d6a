#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod activation;
pub mod error;
pub mod linalg;
pub mod loss;
pub mod model;
pub mod optim;
pub mod params;
pub mod rng;
pub mod scalar;
pub mod sequence;

pub use activation::Activation;
pub use error::{Error, Result};
pub use loss::Loss;
pub use model::{Differentiable, SequenceModel};
pub use optim::Optimizer;
pub use params::{ParamBlock, ParamLayout, Parameters};
pub use scalar::Real;
pub use sequence::{SeqBatch, Sequence};

/// Re-export of the linear-algebra crate the models are written in.
pub use nalgebra;
