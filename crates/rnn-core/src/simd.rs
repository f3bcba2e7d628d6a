//! The `f32` activations on AVX-512 vectors of 16 lanes, for kernels that fuse them into their
//! own loops (the LSTM cell update): the same functions, and so the same results, as
//! [`Activation::apply_slice`](crate::Activation::apply_slice) on a CPU with AVX-512.
//!
//! They are `#[target_feature(enable = "avx512f")]` functions: callable without `unsafe` only
//! from code compiled with that feature, after checking
//! `is_x86_feature_detected!("avx512f")`.

pub use crate::fast_tanh::avx512::{logistic as logistic_avx512, tanh as tanh_avx512};
