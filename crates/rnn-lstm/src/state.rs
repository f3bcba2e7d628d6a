//! The state an LSTM carries from one batch to the next.

use nalgebra::DMatrix;
use rnn_core::Real;
use serde::{Deserialize, Serialize};

/// Every layer's cell states s(t) and recurrent sources r(t) for a batch of B sequences: what
/// [`Lstm::forward_from`](crate::Lstm::forward_from) starts from and leaves behind, so that a
/// long stream can be fed in pieces (a stateful LSTM), or trained by truncated BPTT.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_core::SeqBatch;
/// use rnn_lstm::LstmConfig;
/// let mut net = LstmConfig::torch(1, 4, 1).build::<f64>().unwrap();
/// let stream = DMatrix::from_fn(1, 10, |_, t| (t as f64).sin());
/// // The whole stream at once …
/// let whole = net.run(&stream).unwrap();
/// // … or in two pieces, carrying the state.
/// let mut state = net.zero_state(1);
/// let first = SeqBatch::new(stream.columns(0, 6).into_owned(), None, 6, 1).unwrap();
/// let second = SeqBatch::new(stream.columns(6, 4).into_owned(), None, 4, 1).unwrap();
/// net.forward_from(&first, &mut state).unwrap();
/// let tail = net.forward_from(&second, &mut state).unwrap();
/// assert!((tail[(3, 3)] - whole[(3, 9)]).abs() < 1e-12);
/// ```
///
/// The state is `Serialize`/`Deserialize` (with serde), so a stream can be saved mid-way beside
/// its network; [`Lstm::forward_from`](crate::Lstm::forward_from) checks a loaded state's shapes
/// and values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct LstmState<T: Real> {
    pub(crate) cells: Vec<DMatrix<T>>,
    pub(crate) sources: Vec<DMatrix<T>>,
}

impl<T: Real> LstmState<T> {
    /// B, the number of sequences the state is for.
    pub fn batch_size(&self) -> usize {
        self.cells.first().map_or(0, |s| s.ncols())
    }

    /// The number of layers.
    pub fn layers(&self) -> usize {
        self.cells.len()
    }

    /// Layer `l`'s cell states s(t), `C × B`.
    ///
    /// # Panics
    /// Panics if `l` is not a layer.
    pub fn cell_states(&self, l: usize) -> &DMatrix<T> {
        &self.cells[l]
    }

    /// Layer `l`'s cell outputs y_c(t), `C × B` (h(t) in PyTorch's terms).
    ///
    /// # Panics
    /// Panics if `l` is not a layer.
    pub fn cell_outputs(&self, l: usize) -> DMatrix<T> {
        let c = self.cells[l].nrows();
        self.sources[l].rows(0, c).into_owned()
    }

    /// Layer `l`'s recurrent sources r(t), `H_s × B`: the cell outputs, then (with gate
    /// recurrence) the gate activations.
    ///
    /// # Panics
    /// Panics if `l` is not a layer.
    pub fn sources(&self, l: usize) -> &DMatrix<T> {
        &self.sources[l]
    }

    /// Sets every value back to zero, the state before any input.
    pub fn reset(&mut self) {
        self.cells.iter_mut().for_each(|m| m.fill(T::zero()));
        self.sources.iter_mut().for_each(|m| m.fill(T::zero()));
    }
}
