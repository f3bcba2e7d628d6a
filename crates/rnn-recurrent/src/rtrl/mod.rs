//! Real-time recurrent learning (Williams & Zipser 1989).
//!
//! RTRL carries, along with the state, the sensitivity of every unit's output to every weight,
//! P(t)[k, a] = ∂y_k(t)/∂w_a, an `N × Wc` matrix (Wc the number of weights present). With
//! w_a = W[i_a, j_a] and z(t) = [x(t); ỹ(t); 1],
//!
//! P(t+1) = diag(f′(s(t))) · (W_rec · P̃(t) + E(t)),  E(t)[i_a, a] = z_{j_a}(t),
//!
//! where P̃(t) is P(t) with the rows of the outputs forced in ỹ(t) (by the targets of step t − 1) set to zero (their
//! value is a target, which no weight changes). The gradient of the step error
//! J(t) = ½ Σ_{k ∈ T(t)} (y_k(t+1) − d_k(t))² is then
//!
//! ∂J(t)/∂w_a = Σ_{k ∈ T(t)} (y_k(t+1) − d_k(t)) · P(t+1)[k, a],
//!
//! available at once, so the weights can change after every step (real time) or the gradient
//! can be summed over a sequence (then it equals epochwise BPTT's).

mod persist;
mod sensitivities;

use nalgebra::{DMatrix, DMatrixView};
use rnn_core::{
    Error, MaskedSequence, Optimizer, Parameters, Real, Result,
    alloc::{checked_size, try_filled},
    error::{check_dim, check_finite},
    linalg::Threads,
};
use serde::{Deserialize, Serialize};

use crate::{
    FullyRecurrent, OnlineLearner,
    online::{check_sequence, check_step},
};

/// When an [`Rtrl`] learner changes the weights.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Update {
    /// After every step with a target, by Δw_a = −η ∂J(t)/∂w_a through the optimizer (Williams
    /// & Zipser's real-time learning): the weights change while the sensitivities, computed with
    /// the old weights, carry on — the approximation that makes RTRL online.
    #[default]
    RealTime,
    /// The gradient Σ_t ∂J(t)/∂w is summed with the weights held fixed, and applied by
    /// [`OnlineLearner::flush`] (at the end of [`OnlineLearner::learn`]): the exact gradient of
    /// the sequence's error, the same as epochwise BPTT's.
    Accumulate,
}

/// How an [`Rtrl`] learner runs. Build from [`Default`] and the builder methods.
///
/// ```
/// use rnn_recurrent::{RtrlOptions, Update};
/// let options = RtrlOptions::default().update(Update::Accumulate).teacher_forcing(true).memory_limit(1 << 20);
/// assert_eq!(options.block_columns, None); // chosen from the sizes
/// assert_eq!(options.memory_limit, Some(1 << 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtrlOptions {
    /// When the weights change (default [`Update::RealTime`]).
    pub update: Update,
    /// Whether an output with a target at step t enters step t + 1 as its target instead of its
    /// value (default off).
    pub teacher_forcing: bool,
    /// Whether the sensitivity update runs its column blocks on the current rayon pool (default
    /// on; only when there is more than one block and N²·Wc ≥ 2²², below which a fork-join
    /// costs about what it saves: N ≈ 40 fully connected). The result is bit-identical either
    /// way and whatever the number of threads: the blocks depend on the sizes alone, and each
    /// is computed serially.
    ///
    /// Each step forks and joins once; called from outside the pool, a step first wakes the
    /// workers. A training loop run inside the pool (`rayon::scope`, `ThreadPool::install`)
    /// keeps them awake between steps (measured on 2 cores at N = 64: 1.9× over one thread
    /// inside the pool, 1.6× from outside).
    pub parallel: bool,
    /// The width, in columns of P, of the blocks the sensitivity update is split into, or
    /// `None` (default) for [`auto_block_columns`]. Each block is one `N × N` by
    /// `N × block_columns` product.
    pub block_columns: Option<usize>,
    /// The most bytes the sensitivities may take ([`Rtrl::sensitivity_bytes`]); `None`
    /// (default) for no limit beyond what the allocator gives.
    pub memory_limit: Option<u64>,
}

impl Default for RtrlOptions {
    fn default() -> Self {
        Self {
            update: Update::RealTime,
            teacher_forcing: false,
            parallel: true,
            block_columns: None,
            memory_limit: None,
        }
    }
}

impl RtrlOptions {
    /// The default options: real time, no teacher forcing, parallel, blocks sized by
    /// [`auto_block_columns`], no memory limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// When the weights change.
    pub fn update(mut self, update: Update) -> Self {
        self.update = update;
        self
    }

    /// With teacher forcing: an output with a target enters the next step as its target.
    pub fn teacher_forcing(mut self, on: bool) -> Self {
        self.teacher_forcing = on;
        self
    }

    /// Whether to split the sensitivity update over the current rayon pool.
    pub fn parallel(mut self, on: bool) -> Self {
        self.parallel = on;
        self
    }

    /// The width of the column blocks of P (at least 1; checked by [`Rtrl::new`]).
    pub fn block_columns(mut self, columns: usize) -> Self {
        self.block_columns = Some(columns);
        self
    }

    /// The most bytes the sensitivities may take, or `None` for no limit.
    pub fn memory_limit(mut self, bytes: impl Into<Option<u64>>) -> Self {
        self.memory_limit = bytes.into();
        self
    }

    /// Checks the options.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `block_columns` 0.
    pub fn validate(&self) -> Result<()> {
        if self.block_columns == Some(0) {
            return Err(Error::config("RTRL block columns", "at least 1", 0));
        }
        Ok(())
    }
}

/// Sensitivities below this cannot overflow in one step of any reasonable net in `f32` or `f64`;
/// a step whose bound stays under it skips the overflow scan.
const SAFE_SENSITIVITY: f64 = 1e30;

/// The block width [`RtrlOptions`] uses by default for `weights` columns of P: blocks of about
/// 256 columns (wide enough for the matrix kernel to run near its peak), their number rounded
/// down to a multiple of 8 (of 2 below 8) so that 2, 4 or 8 threads get equal shares. It
/// depends on the size alone, so results do not depend on the thread count.
///
/// ```
/// use rnn_recurrent::auto_block_columns;
/// assert_eq!(auto_block_columns(64 * 69), 276); // N = 64, M = 4: 16 blocks
/// assert_eq!(auto_block_columns(100), 100);     // one block
/// ```
pub fn auto_block_columns(weights: usize) -> usize {
    const TARGET: usize = 256;
    let blocks = match weights / TARGET {
        0 | 1 => 1,
        b if b < 8 => b & !1,
        b => b & !7,
    };
    weights.div_ceil(blocks).max(1)
}

/// Real-time recurrent learning for a [`FullyRecurrent`] network (Williams & Zipser 1989).
///
/// With N units, M inputs and Wc weights present, each step runs the network,
/// y(t+1) = f(W z(t)) with z(t) = [x(t); ỹ(t); 1], and carries the sensitivities
/// P[k, a] = ∂y_k/∂w_a forward:
///
/// P(t+1) = diag(f′(s(t))) · (W_rec · P̃(t) + E(t)),  E(t)[i_a, a] = z_{j_a}(t),
///
/// as one `N × N` by `N × Wc` matrix product split into column blocks, then
/// ∂J(t)/∂w_a = Σ_{k ∈ T(t)} (y_k(t+1) − d_k(t)) P(t+1)[k, a]. A step costs O(N²·Wc) time and
/// the learner holds 2·N·Wc numbers ([`sensitivity_bytes`](Self::sensitivity_bytes)).
///
/// ```
/// use rnn_core::Sgd;
/// use rnn_recurrent::{OnlineLearner, RecurrentConfig, Rtrl, RtrlOptions};
/// let net = RecurrentConfig::new(1, 3, 1).seed(1).init_range(0.5).build::<f64>().unwrap();
/// assert_eq!(Rtrl::sensitivity_bytes(&net), 2 * 3 * 15 * 8);
/// let mut learner = Rtrl::new(net, RtrlOptions::default()).unwrap();
/// let mut sgd = Sgd::new(0.5).unwrap();
/// // Learn to echo the previous input.
/// let mut previous = 0.0;
/// for t in 0..50 {
///     let x = ((t * 7) % 3 == 0) as u8 as f64;
///     learner.step(&[x], &[previous], &[t > 0], &mut sgd).unwrap();
///     previous = x;
/// }
/// assert_eq!(learner.updates(), 49);
/// assert_eq!(learner.sensitivities().shape(), (3, 15));
/// ```
#[derive(Debug, Clone)]
pub struct Rtrl<T: Real> {
    net: FullyRecurrent<T>,
    options: RtrlOptions,
    /// P(t), `N × Wc` column-major.
    p: Vec<T>,
    /// y(t) as computed, before teacher forcing (y(0) after a reset).
    y: Vec<T>,
    /// ỹ(t): y(t) with the forced outputs replaced by their targets.
    state: Vec<T>,
    /// Which units were replaced by a target in ỹ(t).
    forced: Vec<bool>,
    /// The gradient of the last step ([`Update::RealTime`]) or the sum since the last flush.
    grad: Vec<T>,
    /// Whether `grad` holds an accumulated change not yet applied.
    pending: bool,
    updates: usize,
    /// Whether the work buffer holds the last step's gradient.
    has_step_gradient: bool,
    /// An upper bound on max |P(t)| (+∞ when unknown): while the next step's bound stays far
    /// from overflow, P(t+1) needs no scan.
    p_bound: T,
    work: Work<T>,
}

/// Buffers every step reuses; rebuilt, not saved.
#[derive(Debug, Clone)]
struct Work<T: Real> {
    /// The other sensitivity buffer: P(t) while P(t+1) is written.
    next: Vec<T>,
    /// (i_a, j_a): row and column in W of each parameter.
    weights: Vec<(usize, usize)>,
    /// A = diag(f′) W̃_rec, `N × N`; W̃_rec is W_rec with the columns of forced units zeroed.
    a: DMatrix<T>,
    /// z(t), M + N + 1 values.
    z: Vec<T>,
    /// f′(s(t)) per unit.
    derivative: Vec<T>,
    /// (unit, y − d) for every output with a target this step.
    errors: Vec<(usize, T)>,
    /// y(t+1) until the step is accepted.
    y_new: Vec<T>,
    /// ∂J(t)/∂w of this step until it is accepted.
    step_grad: Vec<T>,
    /// Σ_j |A_ij| per row.
    row_abs: Vec<T>,
}

impl<T: Real> Work<T> {
    fn new(net: &FullyRecurrent<T>) -> Result<Self> {
        let (n, wc) = (net.units(), net.num_weights());
        let len = checked_size("RTRL sensitivities (units × weights)", n, wc)?;
        Ok(Self {
            next: try_filled("RTRL sensitivities (second buffer)", len, T::zero())?,
            weights: net.connectivity().weight_positions().collect(),
            a: DMatrix::zeros(n, n),
            z: vec![T::zero(); net.connectivity().columns()],
            derivative: vec![T::zero(); n],
            errors: Vec::with_capacity(net.outputs().len()),
            y_new: vec![T::zero(); n],
            step_grad: try_filled("RTRL step gradient", wc, T::zero())?,
            row_abs: vec![T::zero(); n],
        })
    }
}

impl<T: Real> Rtrl<T> {
    /// A learner for `net`, every sensitivity zero (P(0) = 0) and the state at y(0).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `block_columns` 0, or when the sensitivities need more
    /// than `memory_limit` bytes (the message names both); [`Error::Allocation`] when they cannot
    /// be allocated.
    ///
    /// ```
    /// use rnn_core::Error;
    /// use rnn_recurrent::{RecurrentConfig, Rtrl, RtrlOptions};
    /// let net = RecurrentConfig::new(4, 64, 1).build::<f32>().unwrap();
    /// let need = Rtrl::sensitivity_bytes(&net); // 2 × 64 × 4416 × 4 bytes
    /// assert_eq!(need, 2_260_992);
    /// let refused = Rtrl::new(net, RtrlOptions::default().memory_limit(1 << 20));
    /// assert!(matches!(refused, Err(Error::InvalidConfig { .. })));
    /// ```
    pub fn new(mut net: FullyRecurrent<T>, options: RtrlOptions) -> Result<Self> {
        options.validate()?;
        check_memory(&net, &options)?;
        net.sync();
        let (n, wc) = (net.units(), net.num_weights());
        let len = checked_size("RTRL sensitivities (units × weights)", n, wc)?;
        let p = try_filled("RTRL sensitivities", len, T::zero())?;
        let grad = try_filled("RTRL gradient", wc, T::zero())?;
        let work = Work::new(&net)?;
        let y0 = net.initial_state().to_vec();
        Ok(Self {
            options,
            p,
            y: y0.clone(),
            state: y0,
            forced: vec![false; n],
            grad,
            pending: false,
            updates: 0,
            has_step_gradient: false,
            p_bound: T::zero(),
            work,
            net,
        })
    }

    /// The bytes the sensitivities of `net` take: `2 · N · Wc · size_of::<T>()`, for the two buffers
    /// P(t) and P(t+1) (the update reads one while it writes the other). The rest of the
    /// learner is O(N² + Wc).
    ///
    /// ```
    /// use rnn_recurrent::{RecurrentConfig, Rtrl};
    /// let net = RecurrentConfig::new(1, 2, 1).build::<f32>().unwrap();
    /// assert_eq!(Rtrl::sensitivity_bytes(&net), 2 * 2 * 8 * 4);
    /// ```
    pub fn sensitivity_bytes(net: &FullyRecurrent<T>) -> u128 {
        2 * net.units() as u128 * net.num_weights() as u128 * std::mem::size_of::<T>() as u128
    }

    /// The options the learner runs with.
    pub fn options(&self) -> &RtrlOptions {
        &self.options
    }

    /// The trained network.
    pub fn into_network(self) -> FullyRecurrent<T> {
        self.net
    }

    /// P(t), `N × Wc`: P[k, a] = ∂y_k(t)/∂w_a, parameters in the network's order.
    pub fn sensitivities(&self) -> DMatrixView<'_, T> {
        DMatrixView::from_slice(&self.p, self.net.units(), self.net.num_weights())
    }

    /// Sets P(t), e.g. a P(t₀) other than zero at the start of a sequence (after
    /// [`reset`](OnlineLearner::reset), which zeroes it).
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] unless `N × Wc`, [`Error::NonFinite`] for NaN or infinity.
    pub fn set_sensitivities(&mut self, p: &DMatrix<T>) -> Result<()> {
        check_dim("sensitivity rows (units)", self.net.units(), p.nrows())?;
        check_dim("sensitivity columns (weights)", self.net.num_weights(), p.ncols())?;
        check_finite("sensitivities", p.as_slice())?;
        self.p.copy_from_slice(p.as_slice());
        self.p_bound = T::of_f64(f64::INFINITY);
        Ok(())
    }

    /// The gradient the learner holds: the last step's under [`Update::RealTime`], the sum
    /// since the last [`flush`](OnlineLearner::flush) under [`Update::Accumulate`].
    pub fn pending_gradient(&self) -> &[T] {
        &self.grad
    }

    /// Runs `seq` from y(0) and P(0) = 0 with the weights held fixed, writes
    /// Σ_t ∂J(t)/∂w into `grad` and returns J = Σ_t J(t), J(t) = ½ Σ_{k ∈ T(t)} (y_k(t+1) −
    /// d_k(t))². The same numbers as [`Bptt::gradient`](crate::Bptt::gradient), computed forward
    /// in time. The learner is [`reset`](OnlineLearner::reset) first (an accumulated change not
    /// yet applied is dropped) and left at the end of the sequence.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for a sequence of the wrong width or a `grad` of the wrong
    /// length, [`Error::InvalidConfig`] for teacher forcing on a sequence with no target,
    /// [`Error::NonFinite`] when an output, the error, a sensitivity or the gradient overflowed
    /// (the learner is then part-way through the sequence: [`reset`](OnlineLearner::reset) it).
    ///
    /// ```
    /// use nalgebra::DMatrix;
    /// use rnn_core::{MaskedSequence, Parameters, Sequence};
    /// use rnn_recurrent::{Bptt, RecurrentConfig, Rtrl, RtrlOptions};
    /// let mut net = RecurrentConfig::new(1, 3, 1).seed(4).init_range(1.0).build::<f64>().unwrap();
    /// let seq = Sequence::new(DMatrix::from_row_slice(1, 4, &[1.0, 0.0, 0.0, 1.0]),
    ///                         DMatrix::from_row_slice(1, 4, &[0.0, 1.0, 0.0, 0.0])).unwrap();
    /// let seq = MaskedSequence::all_present(seq).unwrap();
    /// let mut bptt = vec![0.0; net.num_params()];
    /// let j = Bptt::new().gradient(&mut net, &seq, &mut bptt).unwrap();
    /// let mut rtrl = vec![0.0; net.num_params()];
    /// let j2 = Rtrl::new(net, RtrlOptions::default()).unwrap().gradient(&seq, &mut rtrl).unwrap();
    /// assert!((j - j2).abs() < 1e-12);
    /// assert!(bptt.iter().zip(&rtrl).all(|(a, b)| (a - b).abs() < 1e-12));
    /// ```
    pub fn gradient(&mut self, seq: &MaskedSequence<T>, grad: &mut [T]) -> Result<T> {
        check_sequence(&self.net, seq)?;
        check_dim("gradient length (parameters)", self.net.num_weights(), grad.len())?;
        if self.options.teacher_forcing && seq.present_count() == 0 {
            return Err(Error::config("teacher forcing", "a sequence with at least one target", "none present"));
        }
        self.reset();
        grad.fill(T::zero());
        let mut loss = T::zero();
        for t in 0..seq.len() {
            let x = seq.inputs().column(t);
            let d = seq.targets().column(t);
            let present = seq.present().column(t);
            let (x, d, present) = (x.as_slice(), d.as_slice(), present.as_slice());
            loss += self.advance(x, d, present)?.0;
            if let Some(g) = self.step_gradient() {
                grad.iter_mut().zip(g).for_each(|(a, &b)| *a += b);
            }
        }
        check_finite("sequence error J", &[loss])?;
        check_finite("gradient", grad)?;
        Ok(loss)
    }

    /// One step (inputs checked by the caller): runs the network and carries P forward, leaving
    /// ∂J(t)/∂w in the step gradient ([`step_gradient`](Self::step_gradient)) when a target is
    /// present. Returns J(t) and whether a target was present.
    ///
    /// # Errors
    /// [`Error::NonFinite`] when the output, J(t), a sensitivity or the gradient overflowed; the
    /// learner is then exactly as before the step (y, ỹ, P, forcing), so it can go on.
    fn advance(&mut self, x: &[T], targets: &[T], present: &[bool]) -> Result<(T, bool)> {
        let (m, n) = (self.net.inputs(), self.net.units());
        let w = &mut self.work;
        // z(t) = [x(t); ỹ(t); 1], y(t+1) = f(W z(t)).
        w.z[..m].copy_from_slice(x);
        w.z[m..m + n].copy_from_slice(&self.state);
        w.z[m + n] = T::one();
        let z = DMatrixView::from_slice(&w.z, m + n + 1, 1);
        self.net.step_into(&z, &mut w.y_new, Threads::Serial);
        // An unbounded unit (identity, ReLU) can overflow with finite weights.
        check_finite("network output", &w.y_new)?;
        for (k, (d, &y)) in w.derivative.iter_mut().zip(&w.y_new).enumerate() {
            *d = self.net.derivative(k, y);
        }
        // Errors of the outputs with a target.
        let half = T::of_f64(0.5);
        let mut loss = T::zero();
        w.errors.clear();
        for (k, &unit) in self.net.outputs().iter().enumerate() {
            if present[k] {
                let e = w.y_new[unit] - targets[k];
                loss += half * e * e;
                w.errors.push((unit, e));
            }
        }
        check_finite("step error J(t)", &[loss])?;
        let has_target = !w.errors.is_empty();
        // A = diag(f′) W̃_rec, where a unit forced in ỹ(t) carries no sensitivity into this step.
        w.a.copy_from(&self.net.recurrent_block());
        for (column, &forced) in w.a.as_mut_slice().chunks_exact_mut(n).zip(&self.forced) {
            if forced {
                column.fill(T::zero());
            } else {
                for (a, &d) in column.iter_mut().zip(&w.derivative) {
                    *a *= d;
                }
            }
        }
        // |P(t+1)| ≤ ‖A‖∞ · max|P(t)| + max|f′| · max|z|: while that stays far below overflow, the
        // step cannot overflow and P(t+1) needs no scan (a pass over N·Wc numbers).
        w.row_abs.fill(T::zero());
        for column in w.a.as_slice().chunks_exact(n) {
            for (r, &a) in w.row_abs.iter_mut().zip(column) {
                *r += a.abs();
            }
        }
        let a_norm = w.row_abs.iter().fold(T::zero(), |m, &r| m.max(r));
        let fp_max = w.derivative.iter().fold(T::zero(), |m, &d| m.max(d.abs()));
        let z_max = w.z.iter().fold(T::zero(), |m, &v| m.max(v.abs()));
        let bound = a_norm * self.p_bound + fp_max * z_max;
        let scan = !(bound.is_finite() && bound <= T::of_f64(SAFE_SENSITIVITY));
        let inputs = sensitivities::StepInputs {
            units: n,
            a: w.a.as_view(),
            z: &w.z,
            derivative: &w.derivative,
            errors: &w.errors,
            scan,
        };
        let grad = if has_target { Some(&mut w.step_grad[..]) } else { None };
        let found = sensitivities::advance(
            &inputs,
            &w.weights,
            &self.p,
            &mut w.next,
            grad,
            self.options.block_columns.unwrap_or_else(|| auto_block_columns(w.weights.len())),
            self.options.parallel,
        );
        if let Some(index) = found.bad {
            // P(t+1) is in the spare buffer: P(t), y and ỹ are untouched.
            return Err(Error::NonFinite {
                what: "RTRL sensitivities or gradient (the step is undone)".into(),
                index,
                value: f64::INFINITY,
            });
        }
        std::mem::swap(&mut self.p, &mut w.next);
        self.p_bound = if scan { found.max_abs } else { bound };
        self.y.copy_from_slice(&w.y_new);
        self.has_step_gradient = has_target;
        // ỹ(t+1).
        self.state.copy_from_slice(&self.y);
        self.forced.fill(false);
        if self.options.teacher_forcing {
            for (k, &unit) in self.net.outputs().iter().enumerate() {
                if present[k] {
                    self.state[unit] = targets[k];
                    self.forced[unit] = true;
                }
            }
        }
        Ok((loss, has_target))
    }

    /// ∂J(t)/∂w of the last step, if it had a target.
    fn step_gradient(&self) -> Option<&[T]> {
        self.has_step_gradient.then_some(&self.work.step_grad[..])
    }

    fn apply(&mut self, opt: &mut dyn Optimizer<T>) -> Result<()> {
        let result = opt.step(self.net.params_mut(), &self.grad);
        self.net.sync();
        result?;
        self.updates += 1;
        Ok(())
    }
}

/// Refuses sensitivities above the caller's limit.
fn check_memory<T: Real>(net: &FullyRecurrent<T>, options: &RtrlOptions) -> Result<()> {
    let need = Rtrl::sensitivity_bytes(net);
    match options.memory_limit {
        Some(limit) if need > u128::from(limit) => Err(Error::config(
            "RTRL memory limit",
            format!(
                "room for the sensitivities: {need} bytes (2 buffers of {} units × {} weights × {} bytes)",
                net.units(),
                net.num_weights(),
                std::mem::size_of::<T>()
            ),
            format!("a limit of {limit} bytes"),
        )),
        _ => Ok(()),
    }
}

impl<T: Real> OnlineLearner<T> for Rtrl<T> {
    fn network(&self) -> &FullyRecurrent<T> {
        &self.net
    }

    /// y and ỹ back to y(0), P to zero, no unit forced; an accumulated change not yet applied
    /// is dropped.
    fn reset(&mut self) {
        self.y.copy_from_slice(self.net.initial_state());
        self.state.copy_from_slice(self.net.initial_state());
        self.forced.fill(false);
        self.p.fill(T::zero());
        self.grad.fill(T::zero());
        self.pending = false;
        self.has_step_gradient = false;
        self.p_bound = T::zero();
    }

    /// Under [`Update::RealTime`] the weights change after every step with a target (none
    /// change, and the optimizer is not called, at a step without one); under
    /// [`Update::Accumulate`] the step's gradient is added to the pending sum.
    fn step(&mut self, x: &[T], targets: &[T], present: &[bool], opt: &mut dyn Optimizer<T>) -> Result<T> {
        check_step(&self.net, x, targets, present)?;
        let (loss, has_target) = self.advance(x, targets, present)?;
        if has_target {
            let step = &self.work.step_grad;
            match self.options.update {
                Update::RealTime => {
                    self.grad.copy_from_slice(step);
                    self.apply(opt)?;
                }
                Update::Accumulate => {
                    self.grad.iter_mut().zip(step).for_each(|(a, &b)| *a += b);
                    self.pending = true;
                }
            }
        }
        Ok(loss)
    }

    fn outputs(&self) -> Vec<T> {
        self.net.outputs().iter().map(|&k| self.y[k]).collect()
    }

    fn updates(&self) -> usize {
        self.updates
    }

    fn uses_teacher_forcing(&self) -> bool {
        self.options.teacher_forcing
    }

    /// ỹ(t), the state the next step reads: the units' outputs, with those of teacher-forced
    /// outputs replaced by their targets.
    fn state(&self) -> &[T] {
        &self.state
    }

    fn flush(&mut self, opt: &mut dyn Optimizer<T>) -> Result<bool> {
        if !self.pending {
            return Ok(false);
        }
        self.apply(opt)?;
        self.grad.fill(T::zero());
        self.pending = false;
        Ok(true)
    }
}
