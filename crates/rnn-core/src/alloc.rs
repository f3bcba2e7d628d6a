//! Fallible allocation for buffers whose size comes from user input.
//!
//! A net of a billion hidden units, a forecast of 2⁴⁰ steps or a batch of 2⁴⁰ sequences must
//! give an [`Error::Allocation`], not abort the process. Every buffer sized from user numbers
//! goes through [`try_filled`] (or [`try_resize`]).

use crate::{Error, Result};

/// A vector of `len` copies of `value`, or [`Error::Allocation`] naming `what` when the memory
/// cannot be had (or `len` elements of `T` overflow the address space).
///
/// ```
/// let v = rnn_core::alloc::try_filled("weights", 3, 0.0f32).unwrap();
/// assert_eq!(v, [0.0; 3]);
/// assert!(rnn_core::alloc::try_filled("weights", usize::MAX / 2, 0.0f64).is_err());
/// ```
pub fn try_filled<T: Clone>(what: &str, len: usize, value: T) -> Result<Vec<T>> {
    let mut v = Vec::new();
    try_resize(what, &mut v, len, value)?;
    Ok(v)
}

/// Resizes `v` to `len` elements (new ones equal to `value`), or returns
/// [`Error::Allocation`] and leaves `v` as it was.
///
/// ```
/// let mut v = vec![1u8; 2];
/// rnn_core::alloc::try_resize("buffer", &mut v, 4, 0).unwrap();
/// assert_eq!(v, [1, 1, 0, 0]);
/// assert!(rnn_core::alloc::try_resize("buffer", &mut v, usize::MAX, 0).is_err());
/// assert_eq!(v.len(), 4);
/// ```
pub fn try_resize<T: Clone>(what: &str, v: &mut Vec<T>, len: usize, value: T) -> Result<()> {
    if len > v.len() {
        let extra = len - v.len();
        v.try_reserve_exact(extra).map_err(|_| Error::Allocation {
            what: what.to_string(),
            bytes: (len as u128) * (std::mem::size_of::<T>() as u128),
        })?;
    }
    v.resize(len, value);
    Ok(())
}

/// `a · b`, or [`Error::Allocation`] naming `what` when the product overflows `usize`.
///
/// ```
/// assert_eq!(rnn_core::alloc::checked_size("batch columns", 3, 4).unwrap(), 12);
/// assert!(rnn_core::alloc::checked_size("batch columns", usize::MAX, 2).is_err());
/// ```
pub fn checked_size(what: &str, a: usize, b: usize) -> Result<usize> {
    a.checked_mul(b).ok_or_else(|| Error::Allocation { what: what.to_string(), bytes: (a as u128) * (b as u128) })
}
