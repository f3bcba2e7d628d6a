//! Passes over long buffers (NaN checks, copies) in two halves on two threads: the same answers
//! as one pass.

use rnn_core::Real;

/// Slices of at least this many elements are checked, copied and packed in two halves on two
/// threads: below, a fork-join costs about what it saves.
pub(super) const PARALLEL_PASS: usize = 1 << 19;

/// [`rnn_core::error::check_finite`] in two halves on two threads for a long slice: the same
/// answer, the first offender in order.
pub(crate) fn check_finite_par<T: Real>(what: &str, values: &[T]) -> rnn_core::Result<()> {
    checked_halves(what, values, None)
}

/// A copy of `values` once they are checked finite (as [`check_finite_par`]); for a long slice
/// both in two halves on two threads (the new buffer's pages first touched there too).
pub(crate) fn checked_copy_par<T: Real>(what: &str, values: &[T]) -> rnn_core::Result<Vec<T>> {
    let mut out = vec![T::zero(); values.len()];
    checked_halves(what, values, Some(&mut out))?;
    Ok(out)
}

/// Checks `values` and copies them into `out` if given, in two halves on two threads for a long
/// slice.
fn checked_halves<T: Real>(what: &str, values: &[T], out: Option<&mut [T]>) -> rnn_core::Result<()> {
    let run = |v: &[T], o: Option<&mut [T]>| {
        if let Some(o) = o {
            o.copy_from_slice(v);
        }
        rnn_core::error::check_finite(what, v)
    };
    if values.len() < PARALLEL_PASS {
        return run(values, out);
    }
    let half = values.len() / 2;
    let (a, b) = values.split_at(half);
    let (oa, ob) = match out {
        Some(o) => {
            let (x, y) = o.split_at_mut(half);
            (Some(x), Some(y))
        }
        None => (None, None),
    };
    match rayon::join(|| run(a, oa), || run(b, ob)) {
        (Err(e), _) => Err(e),
        (Ok(()), Err(rnn_core::Error::NonFinite { what, index, value })) => {
            Err(rnn_core::Error::NonFinite { what, index: index + half, value })
        }
        (Ok(()), other) => other,
    }
}
