#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod activation;
pub mod alloc;
pub mod error;
mod fast_tanh;
pub mod gradcheck;
pub mod init;
pub mod linalg;
pub mod loss;
pub mod masked;
pub mod model;
pub mod optim;
pub mod params;
pub mod persist;
pub mod rng;
pub mod scalar;
pub mod sequence;
#[cfg(target_arch = "x86_64")]
pub mod simd;
#[cfg(test)]
pub(crate) mod testing;
pub mod train;

pub use activation::Activation;
pub use error::{Error, Result};
pub use gradcheck::{GradCheckOptions, GradCheckReport, Stencil, check_gradient};
pub use loss::Loss;
pub use masked::MaskedSequence;
pub use model::{Differentiable, SequenceModel};
pub use optim::{Adam, LearningRate, Optimizer, RmsProp, Sgd, clip_grad_norm, grad_norm};
pub use params::{ParamBlock, ParamLayout, Parameters};
pub use persist::{Persist, load, save};
pub use scalar::Real;
pub use sequence::{SeqBatch, Sequence};
pub use train::{Control, EpochReport, StopReason, TrainConfig, TrainReport, train, train_with_validation};

/// Re-export of the linear-algebra crate the models are written in.
pub use nalgebra;
