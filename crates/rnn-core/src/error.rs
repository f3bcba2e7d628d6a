//! The one error type of the workspace.
//!
//! Every public entry point checks shapes and configuration at the boundary and returns an
//! [`Error`] that names what was expected and what came. Architecture crates use this enum
//! directly; no crate in the workspace panics on user input.

use std::path::PathBuf;

/// Result alias used across the workspace.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the workspace, with what was expected and what came.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A size did not match: a matrix dimension, a vector length, a parameter count.
    #[error("{what}: expected {expected}, got {got}")]
    DimensionMismatch {
        /// What was measured, e.g. `"input width"`.
        what: String,
        /// The size that was required.
        expected: usize,
        /// The size that came.
        got: usize,
    },

    /// Something that must not be empty was empty (a sequence, a data set, a pattern set).
    #[error("{what} is empty; at least {min} expected")]
    Empty {
        /// What was empty, e.g. `"input sequence"`.
        what: String,
        /// The least number of items required.
        min: usize,
    },

    /// A configuration value is outside its valid range.
    #[error("invalid {name}: expected {expected}, got {got}")]
    InvalidConfig {
        /// The name of the setting, e.g. `"context decay μ"`.
        name: String,
        /// The valid range or form, e.g. `"a value in [0, 1]"`.
        expected: String,
        /// The value that came, formatted.
        got: String,
    },

    /// A value that must be finite was NaN or infinite.
    #[error("non-finite value in {what} at index {index}: {value}")]
    NonFinite {
        /// Where the value was found.
        what: String,
        /// Its index (flat, or row in a series).
        index: usize,
        /// The value itself, as `f64`.
        value: f64,
    },

    /// Training produced a non-finite loss; the weights from before the failing epoch are kept.
    #[error("training diverged at epoch {epoch}: loss became {loss}; weights from before this epoch were kept")]
    Diverged {
        /// The epoch (counted from 1) in which the loss stopped being finite.
        epoch: usize,
        /// The offending loss.
        loss: f64,
    },

    /// Not enough data for what was asked (e.g. fewer rows than lags + 1).
    #[error("not enough data for {what}: need at least {needed}, got {got}")]
    NotEnoughData {
        /// What the data was for.
        what: String,
        /// The least amount needed.
        needed: usize,
        /// The amount there was.
        got: usize,
    },

    /// A value in a text data file could not be read.
    #[error("line {line}, column {column}: {message}")]
    Parse {
        /// 1-based line number in the file.
        line: usize,
        /// Column name (or index) of the bad value.
        column: String,
        /// What was wrong, including the text that came.
        message: String,
    },

    /// A named column, label or key was not found.
    #[error("{what} `{name}` not found; available: {available}")]
    NotFound {
        /// The kind of thing looked up (e.g. `"column"`).
        what: String,
        /// The name that was asked for.
        name: String,
        /// What there was instead, comma-separated.
        available: String,
    },

    /// An I/O error, with the file it concerned.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A saved file does not start with this workspace's magic bytes.
    #[error("not a model file: bad magic bytes (expected {expected:?}, got {got:?})")]
    BadMagic {
        /// The magic bytes of this format.
        expected: [u8; 8],
        /// The first bytes of the file.
        got: Vec<u8>,
    },

    /// A saved file has a format version this build cannot read.
    #[error("unsupported file format version: expected {expected}, got {got}")]
    UnsupportedVersion {
        /// The version this build writes and reads.
        expected: u32,
        /// The version found in the file.
        got: u32,
    },

    /// A saved file holds another kind of model than the one asked for.
    #[error("wrong model kind: expected `{expected}`, got `{got}`")]
    WrongModelKind {
        /// The model kind asked for.
        expected: String,
        /// The model kind in the file.
        got: String,
    },

    /// A saved file holds a model of another scalar type.
    #[error("wrong scalar type: expected `{expected}`, got `{got}`")]
    WrongScalar {
        /// The scalar type asked for.
        expected: String,
        /// The scalar type in the file.
        got: String,
    },

    /// A saved file ended before its declared length.
    #[error("truncated file: expected {expected} bytes, got {got}")]
    Truncated {
        /// Bytes the header promised.
        expected: u64,
        /// Bytes that were there.
        got: u64,
    },

    /// A saved file's checksum does not match its payload.
    #[error("checksum mismatch: header says {expected:#010x}, payload gives {got:#010x}")]
    ChecksumMismatch {
        /// The checksum stored in the header.
        expected: u32,
        /// The checksum of the payload read.
        got: u32,
    },

    /// A saved file's payload could not be decoded, or decoded to an invalid model.
    #[error("corrupt model file: {0}")]
    Corrupt(String),

    /// A buffer sized from user input could not be allocated (or its size overflows).
    #[error("cannot allocate {what}: {bytes} bytes (or elements) requested")]
    Allocation {
        /// What the buffer was for, e.g. `"forecast outputs"`.
        what: String,
        /// The size asked for.
        bytes: u128,
    },

    /// Serialising a model failed.
    #[error("could not encode model: {0}")]
    Encode(String),
}

impl Error {
    /// Shorthand for [`Error::DimensionMismatch`].
    ///
    /// ```
    /// let e = rnn_core::Error::dim("input width", 3, 2);
    /// assert_eq!(e.to_string(), "input width: expected 3, got 2");
    /// ```
    pub fn dim(what: impl Into<String>, expected: usize, got: usize) -> Self {
        Error::DimensionMismatch { what: what.into(), expected, got }
    }

    /// Shorthand for [`Error::InvalidConfig`].
    ///
    /// ```
    /// let e = rnn_core::Error::config("context decay μ", "a value in [0, 1]", 1.5);
    /// assert_eq!(e.to_string(), "invalid context decay μ: expected a value in [0, 1], got 1.5");
    /// ```
    pub fn config(name: impl Into<String>, expected: impl Into<String>, got: impl std::fmt::Display) -> Self {
        Error::InvalidConfig { name: name.into(), expected: expected.into(), got: got.to_string() }
    }

    /// Shorthand for [`Error::Empty`].
    pub fn empty(what: impl Into<String>, min: usize) -> Self {
        Error::Empty { what: what.into(), min }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// Returns [`Error::DimensionMismatch`] unless `got == expected`.
///
/// ```
/// assert!(rnn_core::error::check_dim("width", 2, 2).is_ok());
/// assert!(rnn_core::error::check_dim("width", 2, 3).is_err());
/// ```
pub fn check_dim(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected == got { Ok(()) } else { Err(Error::dim(what, expected, got)) }
}

/// Returns [`Error::NonFinite`] at the first NaN or infinity in `values`.
///
/// ```
/// assert!(rnn_core::error::check_finite("x", &[1.0f64, 2.0]).is_ok());
/// assert!(rnn_core::error::check_finite("x", &[1.0f64, f64::NAN]).is_err());
/// ```
pub fn check_finite<T: crate::Real>(what: &str, values: &[T]) -> Result<()> {
    if all_finite_widest(values) {
        return Ok(());
    }
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(Error::NonFinite { what: what.to_string(), index, value: values[index].as_f64() }),
    }
}

/// Whether every value is finite, in one pass compiled for the widest vectors the CPU has (the
/// models check every output and gradient, megabytes at a time).
fn all_finite_widest<T: crate::Real>(values: &[T]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512<T: crate::Real>(values: &[T]) -> bool {
            all_finite(values)
        }
        #[target_feature(enable = "avx2")]
        fn avx2<T: crate::Real>(values: &[T]) -> bool {
            all_finite(values)
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above).
            return unsafe { avx512(values) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { avx2(values) };
        }
    }
    all_finite(values)
}

/// Whether every value is finite: x·0 is 0 for a finite x and NaN for NaN or ±∞, summed in 16
/// lanes, a pass that vectorises. Always inlined, so that inside a loop compiled for wide
/// vectors (a model's time loop) it uses them; [`check_finite`] is the standalone check.
///
/// ```
/// assert!(rnn_core::error::all_finite(&[1.0f32, -2.0]));
/// assert!(!rnn_core::error::all_finite(&[1.0f32, f32::INFINITY]));
/// ```
#[inline(always)]
pub fn all_finite<T: crate::Real>(values: &[T]) -> bool {
    let mut lanes = [T::zero(); 16];
    let chunks = values.chunks_exact(16);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (acc, &v) in lanes.iter_mut().zip(chunk) {
            *acc += v * T::zero();
        }
    }
    lanes.iter().chain(rest).all(|v| v.is_finite())
}
