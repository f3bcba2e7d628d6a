//! The fully recurrent network of Williams & Zipser (1989).
//!
//! With M external inputs and N units, at every step
//!
//! z(t) = [x(t); y(t); 1],  s(t) = W z(t),  y(t+1) = f(s(t)),
//!
//! with f applied per unit. W is `N × (M + N + 1)` (input weights, recurrent weights, biases),
//! but only the weights its [`Connectivity`] allows exist: they are the parameters, in
//! column-major order of W, and every other entry is exactly zero. K of the units are outputs;
//! the output read after x(t) is y_out(t+1), compared with target column t.

use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use rnn_core::{
    Activation, Error, ParamLayout, Parameters, Persist, Real, Result,
    error::{check_dim, check_finite},
    linalg::{Op, Threads, gemm_with},
};
use serde::{Deserialize, Serialize};

use crate::{Connectivity, Source};

/// A fully recurrent network: N units, each fed by any of the M inputs, the N units and a bias.
///
/// Build one with [`RecurrentConfig`](crate::RecurrentConfig). Train it with
/// [`Bptt`](crate::Bptt) (epochwise), [`TruncatedBptt`](crate::TruncatedBptt) or
/// [`Rtrl`](crate::Rtrl) (online), or with [`rnn_core::train()`] through its
/// [`Differentiable`](rnn_core::Differentiable) implementation.
///
/// ```
/// use nalgebra::DMatrix;
/// use rnn_recurrent::{RecurrentConfig, Source};
/// let mut net = RecurrentConfig::new(1, 2, 1).seed(1).build::<f64>().unwrap();
/// net.set_weight(0, Source::Input(0), 2.0).unwrap();
/// let outputs = net.run(&DMatrix::from_row_slice(1, 3, &[1.0, 0.0, 1.0])).unwrap();
/// assert_eq!(outputs.shape(), (1, 3));
/// assert!(outputs.iter().all(|y| (0.0..1.0).contains(y)));
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound = "", try_from = "RawNetwork<T>")]
pub struct FullyRecurrent<T: Real> {
    connectivity: Connectivity,
    outputs: Vec<usize>,
    activations: Vec<Activation>,
    initial_state: Vec<T>,
    layout: ParamLayout,
    params: Vec<T>,
    #[serde(skip)]
    dense: Dense<T>,
}

/// W with its absent weights as zeros, rebuilt from the parameters after they change, and
/// scratch buffers. A cache: cloning starts it empty, and `Debug` does not print it.
struct Dense<T: Real> {
    w: DMatrix<T>,
    fresh: bool,
    /// Index in W's column-major storage of each parameter.
    positions: Vec<usize>,
    /// z(t) for [`FullyRecurrent::step`], `(M + N + 1) × B`.
    z: DMatrix<T>,
    /// The new state of [`FullyRecurrent::step`] until it is accepted, `N × B`.
    next: DMatrix<T>,
    /// The buffers of the last batch, kept for the next one of the same shape.
    trace: Option<Box<crate::trace::Trace<T>>>,
}

impl<T: Real> Clone for Dense<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T: Real> std::fmt::Debug for Dense<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dense { .. }")
    }
}

impl<T: Real> Default for Dense<T> {
    fn default() -> Self {
        Self {
            w: DMatrix::zeros(0, 0),
            fresh: false,
            positions: Vec::new(),
            z: DMatrix::zeros(0, 0),
            next: DMatrix::zeros(0, 0),
            trace: None,
        }
    }
}

impl<T: Real> FullyRecurrent<T> {
    /// A network with every present weight zero (the config then draws them).
    pub(crate) fn from_parts(
        connectivity: Connectivity,
        outputs: Vec<usize>,
        activations: Vec<Activation>,
    ) -> Result<Self> {
        connectivity.validate()?;
        let layout = layout_of(&connectivity)?;
        let params = rnn_core::alloc::try_filled("network weights", layout.len(), T::zero())?;
        let initial_state = vec![T::zero(); connectivity.units()];
        let net = Self { connectivity, outputs, activations, initial_state, layout, params, dense: Dense::default() };
        net.validate_shape()?;
        Ok(net)
    }

    /// M, the number of external inputs.
    pub fn inputs(&self) -> usize {
        self.connectivity.inputs()
    }

    /// N, the number of units.
    pub fn units(&self) -> usize {
        self.connectivity.units()
    }

    /// The output units, in the order of the targets.
    pub fn outputs(&self) -> &[usize] {
        &self.outputs
    }

    /// The activation of each unit.
    pub fn activations(&self) -> &[Activation] {
        &self.activations
    }

    /// Which weights exist.
    pub fn connectivity(&self) -> &Connectivity {
        &self.connectivity
    }

    /// The number of weights present (parameters).
    pub fn num_weights(&self) -> usize {
        self.params.len()
    }

    /// W as a dense `N × (M + N + 1)` matrix (columns: inputs, units, bias); absent weights are 0.
    pub fn weights(&self) -> DMatrix<T> {
        let mut w = DMatrix::zeros(self.units(), self.connectivity.columns());
        for ((k, j), &v) in self.connectivity.weight_positions().zip(&self.params) {
            w[(k, j)] = v;
        }
        w
    }

    /// The weight from `source` into `unit`, or `None` where the connectivity has none.
    pub fn weight(&self, unit: usize, source: Source) -> Option<T> {
        self.parameter_index(unit, source).map(|i| self.params[i])
    }

    /// Sets the weight from `source` into `unit`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a weight the connectivity does not have (absent weights stay
    /// zero) or out of range, [`Error::NonFinite`] for NaN or infinity.
    pub fn set_weight(&mut self, unit: usize, source: Source, value: T) -> Result<()> {
        let Some(i) = self.parameter_index(unit, source) else {
            return Err(Error::config(
                "weight",
                "one the connectivity has",
                format!("{source:?} into unit {unit}, which is absent or out of range"),
            ));
        };
        check_finite("weight", &[value])?;
        self.params_mut()[i] = value;
        Ok(())
    }

    /// y(0), the state every sequence starts from (zeros unless set).
    pub fn initial_state(&self) -> &[T] {
        &self.initial_state
    }

    /// Sets y(0).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless one value per unit, [`Error::NonFinite`] for NaN or
    /// infinity.
    pub fn set_initial_state(&mut self, y0: &[T]) -> Result<()> {
        check_dim("initial state (units)", self.units(), y0.len())?;
        check_finite("initial state", y0)?;
        self.initial_state.copy_from_slice(y0);
        Ok(())
    }

    /// y(0) for a batch: `N × batch`, every column the initial state.
    ///
    /// # Errors
    /// [`Error::Allocation`] when `N × batch` values cannot be allocated.
    pub fn initial_states(&self, batch: usize) -> Result<DMatrix<T>> {
        let n = self.units();
        let len = rnn_core::alloc::checked_size("initial states (units × batch)", n, batch)?;
        let mut v = rnn_core::alloc::try_filled("initial states (units × batch)", len, T::zero())?;
        for column in v.chunks_exact_mut(n) {
            column.copy_from_slice(&self.initial_state);
        }
        Ok(DMatrix::from_vec(n, batch, v))
    }

    /// One step for a batch: y ← f(W [x; y; 1]), x `M × B`, y `N × B`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for shapes that disagree, [`Error::NonFinite`] for NaN or
    /// infinity in x or y, or in the new y (named `"network output"`; y is then unchanged).
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_recurrent::RecurrentConfig;
    /// let mut net = RecurrentConfig::new(2, 3, 1).build::<f64>().unwrap();
    /// let mut y = net.initial_states(4).unwrap();
    /// net.step(&DMatrix::from_element(2, 4, 1.0), &mut y).unwrap();
    /// assert_eq!(net.outputs_of(&y).unwrap().shape(), (1, 4));
    /// ```
    pub fn step(&mut self, x: &DMatrix<T>, y: &mut DMatrix<T>) -> Result<()> {
        check_dim("input rows (inputs)", self.inputs(), x.nrows())?;
        check_dim("state rows (units)", self.units(), y.nrows())?;
        check_dim("state columns (the inputs' batch)", x.ncols(), y.ncols())?;
        check_finite("inputs", x.as_slice())?;
        check_finite("state", y.as_slice())?;
        self.sync();
        let mut z = std::mem::replace(&mut self.dense.z, DMatrix::zeros(0, 0));
        if z.shape() != (self.connectivity.columns(), x.ncols()) {
            z = DMatrix::zeros(self.connectivity.columns(), x.ncols());
        }
        self.fill_z(&mut z.as_view_mut(), &x.as_view(), &y.as_view());
        let mut next = std::mem::replace(&mut self.dense.next, DMatrix::zeros(0, 0));
        if next.shape() != y.shape() {
            next = DMatrix::zeros(y.nrows(), y.ncols());
        }
        self.step_into(&z.as_view(), next.as_mut_slice(), Threads::Auto);
        let finite = check_finite("network output", next.as_slice());
        if finite.is_ok() {
            // y changes only when the step succeeds.
            y.copy_from(&next);
        }
        self.dense.z = z;
        self.dense.next = next;
        finite
    }

    /// The output units' rows of a state `N × B`: `K × B`.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `y` has one row per unit.
    pub fn outputs_of(&self, y: &DMatrix<T>) -> Result<DMatrix<T>> {
        check_dim("state rows (units)", self.units(), y.nrows())?;
        Ok(DMatrix::from_fn(self.outputs.len(), y.ncols(), |k, b| y[(self.outputs[k], b)]))
    }

    /// Runs one sequence (inputs `M × L`) from the initial state; the outputs, `K × L`, column t
    /// being y_out(t+1).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for inputs of the wrong height, [`Error::Empty`] for no
    /// step, [`Error::NonFinite`] for NaN or infinity in the inputs or in an output (finite
    /// weights can overflow an unbounded unit, e.g. a ReLU loop with gain above 1).
    pub fn run(&mut self, inputs: &DMatrix<T>) -> Result<DMatrix<T>> {
        check_dim("input rows (inputs)", self.inputs(), inputs.nrows())?;
        if inputs.ncols() == 0 {
            return Err(Error::empty("input sequence (time steps)", 1));
        }
        check_finite("inputs", inputs.as_slice())?;
        let mut trace = crate::trace::Trace::new(self, inputs.ncols(), 1)?;
        self.sync();
        trace.forward(self, inputs, None);
        let out = trace.outputs(self);
        check_finite("network output", out.as_slice())?;
        Ok(out)
    }

    /// The parameter index of a weight, if present.
    pub(crate) fn parameter_index(&self, unit: usize, source: Source) -> Option<usize> {
        if !self.connectivity.allows(unit, source) {
            return None;
        }
        let (unit, column) = (unit, self.connectivity.column_of(source).ok()?);
        self.connectivity.weight_positions().position(|p| p == (unit, column))
    }

    /// Rebuilds the dense W after the parameters changed.
    pub(crate) fn sync(&mut self) {
        if self.dense.fresh {
            return;
        }
        let (n, c) = (self.units(), self.connectivity.columns());
        if self.dense.positions.len() != self.params.len() || self.dense.w.shape() != (n, c) {
            self.dense.positions = self.connectivity.weight_positions().map(|(k, j)| j * n + k).collect();
            self.dense.w = DMatrix::zeros(n, c);
        }
        let w = self.dense.w.as_mut_slice();
        if w.len() == self.params.len() {
            w.copy_from_slice(&self.params);
        } else {
            for (&i, &v) in self.dense.positions.iter().zip(&self.params) {
                w[i] = v;
            }
        }
        self.dense.fresh = true;
    }

    /// The dense W; call [`sync`](Self::sync) after any parameter change first.
    pub(crate) fn dense(&self) -> &DMatrix<T> {
        debug_assert!(self.dense.fresh, "dense weights read before sync");
        &self.dense.w
    }

    /// W_rec, the `N × N` recurrent block of the dense W.
    pub(crate) fn recurrent_block(&self) -> DMatrixView<'_, T> {
        self.dense().columns(self.inputs(), self.units())
    }

    /// The cached trace, if any.
    pub(crate) fn take_trace(&mut self) -> Option<crate::trace::Trace<T>> {
        self.dense.trace.take().map(|b| *b)
    }

    /// Keeps a trace for the next batch of the same shape.
    pub(crate) fn keep_trace(&mut self, trace: crate::trace::Trace<T>) {
        self.dense.trace = Some(Box::new(trace));
    }

    /// Whether the outputs are units 0..K in order (then their rows lead every state column).
    pub(crate) fn outputs_are_leading(&self) -> bool {
        self.outputs.iter().enumerate().all(|(k, &unit)| k == unit)
    }

    /// The parameters' entries of a dense `N × (M + N + 1)` matrix (a weight gradient), into
    /// `out`; the network must be synced.
    pub(crate) fn gather(&self, dense: &[T], out: &mut [T]) {
        if out.len() == dense.len() {
            // Every weight present: the parameters are W in column-major order.
            out.copy_from_slice(dense);
            return;
        }
        for (o, &i) in out.iter_mut().zip(&self.dense.positions) {
            *o = dense[i];
        }
    }

    /// Writes z = [x; y; 1] into `z` (`(M + N + 1) × B`).
    pub(crate) fn fill_z(&self, z: &mut DMatrixViewMut<'_, T>, x: &DMatrixView<'_, T>, y: &DMatrixView<'_, T>) {
        let (m, n) = (self.inputs(), self.units());
        z.rows_mut(0, m).copy_from(x);
        z.rows_mut(m, n).copy_from(y);
        z.row_mut(m + n).fill(T::one());
    }

    /// y ← f(W z) for a batch (z `(M + N + 1) × B`, y `N × B` column-major); the network must
    /// be synced.
    pub(crate) fn step_into(&self, z: &DMatrixView<'_, T>, y: &mut [T], threads: Threads) {
        let (n, b) = (self.units(), z.ncols());
        let mut view = DMatrixViewMut::from_slice(y, n, b);
        gemm_with(threads, T::zero(), &mut view, T::one(), &self.dense().as_view(), Op::N, z, Op::N);
        self.activate(y);
    }

    /// Applies each unit's f to its row of s (`N × B`, column-major), in place.
    pub(crate) fn activate(&self, s: &mut [T]) {
        match self.uniform_activation() {
            Some(f) => f.apply_slice(s),
            None => {
                for column in s.chunks_mut(self.units()) {
                    for (v, f) in column.iter_mut().zip(&self.activations) {
                        *v = f.apply(*v);
                    }
                }
            }
        }
    }

    /// δ ← δ ⊙ f′(y) for `N × B` column-major δ and y.
    pub(crate) fn backprop_activation(&self, y: &[T], delta: &mut [T]) {
        match self.uniform_activation() {
            Some(f) => f.backprop_slice(y, delta),
            None => {
                for (dc, yc) in delta.chunks_mut(self.units()).zip(y.chunks(self.units())) {
                    for ((d, &v), f) in dc.iter_mut().zip(yc).zip(&self.activations) {
                        *d *= f.derivative_from_output(v);
                    }
                }
            }
        }
    }

    /// The activation every unit shares, if they do.
    fn uniform_activation(&self) -> Option<Activation> {
        let f = self.activations[0];
        self.activations.iter().all(|&g| g == f).then_some(f)
    }

    /// f′(s_k) from y_k = f(s_k) for unit k.
    #[inline]
    pub(crate) fn derivative(&self, k: usize, y: T) -> T {
        self.activations[k].derivative_from_output(y)
    }

    fn validate_shape(&self) -> Result<()> {
        self.connectivity.validate()?;
        let n = self.units();
        if n == 0 {
            return Err(Error::config("units", "at least 1", 0));
        }
        check_dim("per-unit activations (units)", n, self.activations.len())?;
        check_dim("initial state (units)", n, self.initial_state.len())?;
        let mut sorted = self.outputs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if self.outputs.is_empty() || sorted.len() != self.outputs.len() || sorted.last().is_some_and(|&k| k >= n) {
            return Err(Error::config(
                "output units",
                format!("1 or more distinct indices below {n}"),
                format!("{:?}", self.outputs),
            ));
        }
        self.activations.iter().try_for_each(|&f| crate::config::check_activation(f))?;
        self.activations.iter().try_for_each(|&f| crate::config::check_activation_in::<T>(f))?;
        check_dim("parameters (weights the connectivity allows)", self.connectivity.num_weights(), self.params.len())?;
        if self.layout != layout_of(&self.connectivity)? {
            return Err(Error::Corrupt("parameter layout disagrees with the connectivity".into()));
        }
        Ok(())
    }
}

/// A network as read by serde, checked ([`Persist::validate`]) before it becomes one.
#[derive(Deserialize)]
#[serde(bound = "")]
struct RawNetwork<T: Real> {
    connectivity: Connectivity,
    outputs: Vec<usize>,
    activations: Vec<Activation>,
    initial_state: Vec<T>,
    layout: ParamLayout,
    params: Vec<T>,
}

impl<T: Real> TryFrom<RawNetwork<T>> for FullyRecurrent<T> {
    type Error = Error;

    fn try_from(raw: RawNetwork<T>) -> Result<Self> {
        let RawNetwork { connectivity, outputs, activations, initial_state, layout, params } = raw;
        let net = Self { connectivity, outputs, activations, initial_state, layout, params, dense: Dense::default() };
        net.validate()?;
        Ok(net)
    }
}

/// Blocks `input_weights`, `recurrent_weights`, `bias`: each `N × columns` when every weight of
/// its columns is present, else a column of the present ones.
fn layout_of(c: &Connectivity) -> Result<ParamLayout> {
    let (m, n) = (c.inputs(), c.units());
    let mut layout = ParamLayout::new();
    for (name, range) in [("input_weights", 0..m), ("recurrent_weights", m..m + n), ("bias", m + n..m + n + 1)] {
        let columns = range.len();
        let count = c.count_in_columns(range);
        if count == 0 {
            continue;
        }
        if count == n * columns {
            layout.try_push(name, n, columns)?;
        } else {
            layout.try_push(name, count, 1)?;
        }
    }
    Ok(layout)
}

impl<T: Real> Parameters<T> for FullyRecurrent<T> {
    fn layout(&self) -> &ParamLayout {
        &self.layout
    }

    fn params(&self) -> &[T] {
        &self.params
    }

    fn params_mut(&mut self) -> &mut [T] {
        self.dense.fresh = false;
        &mut self.params
    }
}

impl<T: Real> Persist for FullyRecurrent<T> {
    const KIND: &'static str = "rnn-recurrent/fully-recurrent";

    fn scalar_name() -> &'static str {
        T::NAME
    }

    /// Checks the connectivity, outputs, activations, layout and that every value is finite.
    fn validate(&self) -> Result<()> {
        self.validate_shape()?;
        check_finite("weights", &self.params)?;
        check_finite("initial state", &self.initial_state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecurrentConfig;

    #[test]
    fn one_self_connected_neuron_follows_its_recurrence() {
        // y(t+1) = tanh(w y(t) + b), y(0) = 0.5.
        let c = Connectivity::none(0, 1).unwrap().with(0, Source::Unit(0)).unwrap().with(0, Source::Bias).unwrap();
        let mut net =
            RecurrentConfig::new(0, 1, 1).connectivity(c).activation(Activation::Tanh).build::<f64>().unwrap();
        net.set_weight(0, Source::Unit(0), 0.9).unwrap();
        net.set_weight(0, Source::Bias, 0.1).unwrap();
        net.set_initial_state(&[0.5]).unwrap();
        let out = net.run(&DMatrix::zeros(0, 3)).unwrap();
        let mut y = 0.5f64;
        for t in 0..3 {
            y = (0.9 * y + 0.1).tanh();
            assert!((out[(0, t)] - y).abs() < 1e-15);
        }
        assert_eq!(net.layout().blocks().len(), 2);
    }

    #[test]
    fn absent_weights_cannot_be_set_and_stay_zero_in_w() {
        let c = Connectivity::full(1, 2).unwrap().without(1, Source::Unit(0)).unwrap();
        let mut net = RecurrentConfig::new(1, 2, 1).connectivity(c).seed(2).build::<f64>().unwrap();
        assert_eq!(net.num_weights(), 7);
        assert_eq!(net.weight(1, Source::Unit(0)), None);
        assert!(matches!(net.set_weight(1, Source::Unit(0), 1.0), Err(Error::InvalidConfig { .. })));
        assert!(matches!(net.set_weight(0, Source::Bias, f64::NAN), Err(Error::NonFinite { .. })));
        net.set_params(&[1.0; 7]).unwrap();
        let w = net.weights();
        assert_eq!(w[(1, 1)], 0.0);
        assert_eq!(w.iter().filter(|&&v| v == 1.0).count(), 7);
        assert_eq!(net.weight(1, Source::Bias), Some(1.0));
    }

    #[test]
    fn step_and_run_agree_and_check_shapes() {
        let mut net = RecurrentConfig::new(2, 3, 2).seed(9).init_range(1.0).build::<f64>().unwrap();
        let xs = DMatrix::from_fn(2, 4, |i, t| (i + t) as f64 * 0.3 - 0.5);
        let run = net.run(&xs).unwrap();
        let mut y = net.initial_states(1).unwrap();
        for t in 0..4 {
            net.step(&xs.columns(t, 1).into_owned(), &mut y).unwrap();
            let out = net.outputs_of(&y).unwrap();
            assert!((out[(0, 0)] - run[(0, t)]).abs() < 1e-15 && (out[(1, 0)] - run[(1, t)]).abs() < 1e-15);
        }
        assert!(matches!(net.step(&DMatrix::zeros(3, 1), &mut y), Err(Error::DimensionMismatch { .. })));
        assert!(matches!(net.step(&DMatrix::zeros(2, 2), &mut y), Err(Error::DimensionMismatch { .. })));
        assert!(matches!(net.run(&DMatrix::zeros(2, 0)), Err(Error::Empty { .. })));
        assert!(matches!(net.run(&DMatrix::from_element(2, 1, f64::INFINITY)), Err(Error::NonFinite { .. })));
        assert!(matches!(net.outputs_of(&DMatrix::zeros(1, 1)), Err(Error::DimensionMismatch { .. })));
        assert!(net.initial_states(usize::MAX).is_err());
    }

    #[test]
    fn a_step_that_overflows_leaves_the_state_alone() {
        let mut net = RecurrentConfig::new(1, 1, 1).activation(Activation::Identity).build::<f64>().unwrap();
        net.set_weight(0, Source::Input(0), 10.0).unwrap();
        let mut y = DMatrix::from_element(1, 1, 0.25);
        assert!(matches!(net.step(&DMatrix::from_element(1, 1, 1e308), &mut y), Err(Error::NonFinite { .. })));
        assert_eq!(y[(0, 0)], 0.25);
    }

    #[test]
    fn deserialising_checks_the_network() {
        let net = RecurrentConfig::new(1, 2, 2).seed(1).build::<f64>().unwrap();
        let good = serde_json::to_value(&net).unwrap();
        assert!(serde_json::from_value::<FullyRecurrent<f64>>(good.clone()).is_ok());
        let mut short = good.clone();
        short["params"] = serde_json::json!([0.5]);
        assert!(serde_json::from_value::<FullyRecurrent<f64>>(short).is_err());
        let mut twice = good;
        twice["outputs"] = serde_json::json!([0, 0]);
        assert!(serde_json::from_value::<FullyRecurrent<f64>>(twice).is_err());
    }
}
