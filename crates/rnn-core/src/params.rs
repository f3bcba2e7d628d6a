//! The flat parameter view: every weight of a model in one contiguous vector with a named layout.
//!
//! A model stores all its parameters in one `Vec<T>` and hands out matrix views of its blocks
//! (`W_in`, `W_rec`, biases …). Gradients use the same layout, so an optimizer, a gradient check,
//! a save file and an evolutionary search all see one vector, and no code walks a model's fields.

use nalgebra::{DMatrixView, DMatrixViewMut};
use serde::{Deserialize, Serialize};

use crate::{Error, Real, Result};

/// One named block of the flat vector: a `rows × cols` matrix stored column-major at `offset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamBlock {
    /// The block's name, e.g. `"w_in[0]"` or `"b_out"`.
    pub name: String,
    /// Index of the block's first element in the flat vector.
    pub offset: usize,
    /// Rows of the block's matrix.
    pub rows: usize,
    /// Columns of the block's matrix (1 for a bias vector).
    pub cols: usize,
}

impl ParamBlock {
    /// Number of elements, `rows · cols` (saturating at `usize::MAX` for a block built by
    /// hand whose product overflows; [`ParamLayout`] never makes one).
    pub fn len(&self) -> usize {
        self.rows.saturating_mul(self.cols)
    }

    /// Whether the block holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The block's index range in the flat vector.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset.saturating_add(self.len())
    }
}

/// The named layout of a flat parameter vector: consecutive, non-overlapping blocks.
///
/// ```
/// use rnn_core::ParamLayout;
/// let mut layout = ParamLayout::new();
/// layout.push("w", 2, 3);
/// layout.push("b", 2, 1);
/// assert_eq!(layout.len(), 8);
/// assert_eq!(layout.name_of(7).as_deref(), Some("b[1]"));
/// assert_eq!(layout.name_of(3).as_deref(), Some("w[1,1]"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamLayout {
    blocks: Vec<ParamBlock>,
    len: usize,
}

impl ParamLayout {
    /// An empty layout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a `rows × cols` block named `name` and returns it.
    ///
    /// Models check their sizes before they build a layout (a size that cannot be allocated
    /// is an error there), so this is infallible for them; [`try_push`](Self::try_push) is the
    /// fallible form for sizes that come straight from a user.
    ///
    /// # Panics
    /// Panics, naming the block and its shape, if `rows · cols` or the layout's total length
    /// overflows `usize`.
    pub fn push(&mut self, name: impl Into<String>, rows: usize, cols: usize) -> ParamBlock {
        match self.try_push(name, rows, cols) {
            Ok(block) => block,
            Err(e) => panic!("ParamLayout::push: {e}"),
        }
    }

    /// Appends a `rows × cols` block named `name` and returns it, or returns
    /// [`Error::Allocation`] (and leaves the layout as it was) if `rows · cols` or the layout's
    /// total length overflows `usize`.
    ///
    /// ```
    /// use rnn_core::{Error, ParamLayout};
    /// let mut layout = ParamLayout::new();
    /// layout.try_push("w", 2, 3).unwrap();
    /// assert!(matches!(layout.try_push("huge", usize::MAX, 2), Err(Error::Allocation { .. })));
    /// assert_eq!(layout.len(), 6);
    /// ```
    ///
    /// # Errors
    /// [`Error::Allocation`] naming the block, as above.
    pub fn try_push(&mut self, name: impl Into<String>, rows: usize, cols: usize) -> Result<ParamBlock> {
        let name = name.into();
        let what = || format!("parameter block `{name}` ({rows} × {cols})");
        let size = rows
            .checked_mul(cols)
            .ok_or_else(|| Error::Allocation { what: what(), bytes: rows as u128 * cols as u128 })?;
        let len = self.len.checked_add(size).ok_or_else(|| Error::Allocation {
            what: format!("{} after {} parameters", what(), self.len),
            bytes: self.len as u128 + size as u128,
        })?;
        let block = ParamBlock { name, offset: self.len, rows, cols };
        self.len = len;
        self.blocks.push(block.clone());
        Ok(block)
    }

    /// Total number of parameters.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the layout holds no parameter.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The blocks in order.
    pub fn blocks(&self) -> &[ParamBlock] {
        &self.blocks
    }

    /// The block called `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`] if there is no such block.
    pub fn block(&self, name: &str) -> Result<&ParamBlock> {
        self.blocks.iter().find(|b| b.name == name).ok_or_else(|| Error::NotFound {
            what: "parameter block".into(),
            name: name.into(),
            available: self.blocks.iter().map(|b| b.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// The human-readable name of flat index `i`: `block[row,col]`, or `block[row]` for a vector.
    pub fn name_of(&self, i: usize) -> Option<String> {
        let b = self.blocks.iter().find(|b| b.range().contains(&i))?;
        let k = i - b.offset;
        let (r, c) = (k % b.rows, k / b.rows);
        Some(if b.cols == 1 { format!("{}[{r}]", b.name) } else { format!("{}[{r},{c}]", b.name) })
    }

    /// A read-only matrix view of `block` inside the flat vector `flat`.
    ///
    /// # Panics
    /// Panics if `flat` is shorter than the layout (an internal invariant of the models).
    pub fn view<'a, T: Real>(&self, flat: &'a [T], block: &ParamBlock) -> DMatrixView<'a, T> {
        DMatrixView::from_slice(&flat[block.range()], block.rows, block.cols)
    }

    /// A mutable matrix view of `block` inside the flat vector `flat`.
    ///
    /// # Panics
    /// Panics if `flat` is shorter than the layout (an internal invariant of the models).
    pub fn view_mut<'a, T: Real>(&self, flat: &'a mut [T], block: &ParamBlock) -> DMatrixViewMut<'a, T> {
        DMatrixViewMut::from_slice(&mut flat[block.range()], block.rows, block.cols)
    }
}

/// A model whose weights are one flat vector with a named layout.
///
/// Optimizers, the gradient checker, persistence and evolutionary search reach weights only
/// through this trait.
///
/// ```
/// use rnn_core::{ParamLayout, Parameters};
/// struct Line { layout: ParamLayout, p: Vec<f64> }
/// impl Parameters<f64> for Line {
///     fn layout(&self) -> &ParamLayout { &self.layout }
///     fn params(&self) -> &[f64] { &self.p }
///     fn params_mut(&mut self) -> &mut [f64] { &mut self.p }
/// }
/// let mut layout = ParamLayout::new();
/// layout.push("slope", 1, 1);
/// layout.push("intercept", 1, 1);
/// let mut line = Line { layout, p: vec![0.0; 2] };
/// line.set_params(&[2.0, 1.0]).unwrap();
/// assert_eq!(line.params(), &[2.0, 1.0]);
/// assert!(line.set_params(&[1.0]).is_err());
/// ```
pub trait Parameters<T: Real> {
    /// The layout of the flat vector.
    fn layout(&self) -> &ParamLayout;
    /// All parameters, in layout order.
    fn params(&self) -> &[T];
    /// All parameters, mutable, in layout order.
    fn params_mut(&mut self) -> &mut [T];

    /// Number of parameters.
    fn num_params(&self) -> usize {
        self.params().len()
    }

    /// Overwrites every parameter from `values`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] if `values` has the wrong length, [`Error::NonFinite`] if
    /// it holds NaN or infinity; the model is unchanged then.
    fn set_params(&mut self, values: &[T]) -> Result<()> {
        crate::error::check_dim("parameter vector length", self.num_params(), values.len())?;
        crate::error::check_finite("parameter vector", values)?;
        self.params_mut().copy_from_slice(values);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflowing_blocks_are_refused_by_try_push() {
        let mut layout = ParamLayout::new();
        layout.push("a", 4, 1);
        match layout.try_push("huge", usize::MAX, 2) {
            Err(Error::Allocation { what, bytes }) => {
                assert!(what.contains("huge"), "{what}");
                assert_eq!(bytes, usize::MAX as u128 * 2);
            }
            other => panic!("expected Allocation, got {other:?}"),
        }
        // The total length overflows although the block alone does not.
        assert!(matches!(layout.try_push("rest", usize::MAX, 1), Err(Error::Allocation { .. })));
        assert_eq!((layout.len(), layout.blocks().len()), (4, 1), "a refused block leaves the layout as it was");
        assert_eq!(layout.try_push("b", 2, 1).unwrap().range(), 4..6);
    }

    #[test]
    #[should_panic(expected = "parameter block `huge`")]
    fn push_panics_with_a_clear_message_on_overflow() {
        ParamLayout::new().push("huge", usize::MAX, 2);
    }
}
