//! A gradient checker for people adding architectures: the analytic gradient of
//! [`Differentiable::loss_and_gradient`] against central differences of
//! [`Differentiable::loss`], parameter by parameter on the flat vector.
//!
//! For each checked index i, with step h = ε and eᵢ the i-th unit vector:
//!
//! - numeric gradient nᵢ by [`Stencil::Central`] (the default),
//!   (L(θ + h eᵢ) − L(θ − h eᵢ)) / 2h, with truncation error O(h²); or by
//!   [`Stencil::FivePoint`], (−L(θ + 2h eᵢ) + 8 L(θ + h eᵢ) − 8 L(θ − h eᵢ) + L(θ − 2h eᵢ)) / 12h,
//!   with truncation error O(h⁴);
//! - relative error rᵢ = |aᵢ − nᵢ| / max(|aᵢ|, |nᵢ|, floor), where a is the analytic gradient.
//!
//! The floor keeps a gradient that is zero on both sides from dividing by zero. A numeric
//! gradient that is not finite (a difference of losses that overflows) counts as a relative
//! error of +∞, so the report fails; a step too small to move a checked parameter at all
//! (θᵢ ± h rounds to θᵢ) is an [`Error::InvalidConfig`].
//!
//! Mind the rounding noise of the differences, about ε_mach · |L| / h: 10⁻¹⁰ · |L| for `f64`
//! with the central default h = 10⁻⁶, so a correct component of 10⁻³ already shows a relative
//! error near 10⁻⁷, and much smaller components fail a 10⁻⁶ tolerance. The five-point stencil
//! allows h = 10⁻³ (its default) and brings the noise to about 10⁻¹³ · |L| at twice the cost:
//! use it for models with small gradient components (deep or long unrolled networks). Raising
//! the [`floor`](GradCheckOptions::floor) to the noise level divided by the tolerance also
//! works; [`max_abs_error`](GradCheckReport::max_abs_error) shows the absolute picture.
//!
//! ```
//! use nalgebra::DMatrix;
//! use rnn_core::{SeqBatch, gradcheck::{GradCheckOptions, check_gradient}, Loss};
//! # use rnn_core::{Differentiable, ParamLayout, Parameters, Result, SequenceModel};
//! # /// y(t) = tanh(w·x(t)): one weight.
//! # struct Scale { layout: ParamLayout, w: Vec<f64> }
//! # impl Parameters<f64> for Scale {
//! #     fn layout(&self) -> &ParamLayout { &self.layout }
//! #     fn params(&self) -> &[f64] { &self.w }
//! #     fn params_mut(&mut self) -> &mut [f64] { &mut self.w }
//! # }
//! # impl SequenceModel<f64> for Scale {
//! #     fn input_size(&self) -> usize { 1 }
//! #     fn output_size(&self) -> usize { 1 }
//! #     fn forward(&mut self, batch: &SeqBatch<f64>) -> Result<DMatrix<f64>> {
//! #         Ok(batch.inputs().map(|x| (self.w[0] * x).tanh()))
//! #     }
//! # }
//! # impl Differentiable<f64> for Scale {
//! #     fn loss_and_gradient(&mut self, batch: &SeqBatch<f64>, loss: Loss, grad: &mut [f64]) -> Result<f64> {
//! #         let y = self.forward(batch)?;
//! #         let mut d = DMatrix::zeros(1, y.ncols());
//! #         let l = loss.value_and_gradient(y.as_view(), batch.require_targets()?.as_view(), batch.valid_mask(), &mut d)?;
//! #         grad[0] = d.zip_map(&y, |d, y| d * (1.0 - y * y)).dot(batch.inputs());
//! #         Ok(l)
//! #     }
//! # }
//! # let mut layout = ParamLayout::new();
//! # layout.push("w", 1, 1);
//! let mut model = Scale { layout, w: vec![0.7] };
//! let x = DMatrix::from_column_slice(1, 3, &[0.5, -1.0, 2.0]);
//! let t = DMatrix::from_column_slice(1, 3, &[0.1, 0.2, 0.3]);
//! let batch = SeqBatch::new(x, Some(t), 3, 1).unwrap();
//! let report = check_gradient(&mut model, &batch, Loss::Mse, &GradCheckOptions::default()).unwrap();
//! assert!(report.passed(1e-6), "{report}");
//! assert_eq!(report.worst_name, "w[0]");
//! assert_eq!(model.w, [0.7]); // restored exactly
//! ```

use std::fmt;

use rand::RngExt;

use crate::{Differentiable, Error, Loss, Real, Result, SeqBatch, error::check_finite, rng};

/// The finite-difference formula of the numeric gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stencil {
    /// (L(θ + h) − L(θ − h)) / 2h: two loss evaluations, error O(h²). Default step h: 10⁻⁶
    /// for `f64`, 10⁻³ for `f32`.
    #[default]
    Central,
    /// (−L(θ + 2h) + 8 L(θ + h) − 8 L(θ − h) + L(θ − 2h)) / 12h: four loss evaluations, error
    /// O(h⁴). Default step h: 10⁻³ for `f64`, 10⁻² for `f32`.
    FivePoint,
}

/// What to check and how. Build from [`Default`] and the `with_*` methods.
///
/// ```
/// use rnn_core::gradcheck::GradCheckOptions;
/// let options = GradCheckOptions::default().with_max_params(200).with_seed(3);
/// assert_eq!(options.max_params, Some(200));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheckOptions {
    /// The difference step h. `None` (default): the [`stencil`](Self::stencil)'s default for
    /// the scalar type (10⁻⁶ for central differences in `f64`).
    pub epsilon: Option<f64>,
    /// The finite-difference formula. Default [`Stencil::Central`].
    pub stencil: Stencil,
    /// The least denominator of the relative error, a finite value > 0. Default 10⁻⁸.
    pub floor: f64,
    /// Check at most this many parameters (at least 1), sampled without replacement with
    /// [`seed`](Self::seed) from the candidates. Default `None`: every candidate.
    pub max_params: Option<usize>,
    /// The candidate flat indices. Default `None`: every parameter.
    pub indices: Option<Vec<usize>>,
    /// Seed of the sample drawn when [`max_params`](Self::max_params) is below the number of
    /// candidates. Default 0.
    pub seed: u64,
}

impl Default for GradCheckOptions {
    fn default() -> Self {
        Self { epsilon: None, stencil: Stencil::Central, floor: 1e-8, max_params: None, indices: None, seed: 0 }
    }
}

impl GradCheckOptions {
    /// Sets the difference step h = [`epsilon`](Self::epsilon).
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = Some(epsilon);
        self
    }

    /// Sets the finite-difference [`stencil`](Self::stencil).
    pub fn with_stencil(mut self, stencil: Stencil) -> Self {
        self.stencil = stencil;
        self
    }

    /// Sets the relative-error [`floor`](Self::floor).
    pub fn with_floor(mut self, floor: f64) -> Self {
        self.floor = floor;
        self
    }

    /// Checks at most [`max_params`](Self::max_params) parameters.
    pub fn with_max_params(mut self, max_params: usize) -> Self {
        self.max_params = Some(max_params);
        self
    }

    /// Checks only the flat [`indices`](Self::indices) given (e.g. one block's
    /// [`range`](crate::ParamBlock::range)).
    pub fn with_indices(mut self, indices: impl IntoIterator<Item = usize>) -> Self {
        self.indices = Some(indices.into_iter().collect());
        self
    }

    /// Sets the sampling [`seed`](Self::seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The step h for scalar type `T`.
    fn step<T: Real>(&self) -> f64 {
        let single = T::EPSILON.as_f64() > 1e-10;
        self.epsilon.unwrap_or(match (self.stencil, single) {
            (Stencil::Central, false) => 1e-6,
            (Stencil::Central, true) | (Stencil::FivePoint, false) => 1e-3,
            (Stencil::FivePoint, true) => 1e-2,
        })
    }

    /// Validates the options and returns the sorted flat indices to check among `n`.
    fn select(&self, n: usize) -> Result<Vec<usize>> {
        if let Some(e) = self.epsilon
            && !(e.is_finite() && e > 0.0)
        {
            return Err(Error::config("gradient-check step ε", "a finite value > 0", e));
        }
        if !(self.floor.is_finite() && self.floor > 0.0) {
            return Err(Error::config("gradient-check relative-error floor", "a finite value > 0", self.floor));
        }
        if self.max_params == Some(0) {
            return Err(Error::config("gradient-check max_params", "at least 1", 0));
        }
        let mut candidates = match &self.indices {
            None => (0..n).collect::<Vec<_>>(),
            Some(list) => {
                if list.is_empty() {
                    return Err(Error::empty("gradient-check indices", 1));
                }
                if let Some(&bad) = list.iter().find(|&&i| i >= n) {
                    return Err(Error::config(
                        "gradient-check index",
                        format!("an index below the parameter count {n}"),
                        bad,
                    ));
                }
                let mut list = list.clone();
                list.sort_unstable();
                list.dedup();
                list
            }
        };
        if let Some(k) = self.max_params
            && k < candidates.len()
        {
            // Partial Fisher–Yates: the first k entries become a uniform sample.
            let mut rng = rng::seeded(self.seed);
            for i in 0..k {
                let j = rng.random_range(i..candidates.len());
                candidates.swap(i, j);
            }
            candidates.truncate(k);
            candidates.sort_unstable();
        }
        Ok(candidates)
    }
}

/// The outcome of [`check_gradient`]: the worst parameter and how bad it was.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCheckReport {
    /// Number of parameters checked.
    pub checked: usize,
    /// The largest relative error |a − n| / max(|a|, |n|, floor) over the checked parameters;
    /// +∞ if a numeric gradient is not finite. Never NaN.
    pub max_relative_error: f64,
    /// The largest absolute error |a − n| over the checked parameters.
    pub max_abs_error: f64,
    /// Flat index of the parameter with the largest relative error.
    pub worst_index: usize,
    /// Its name in the layout ([`ParamLayout::name_of`](crate::ParamLayout::name_of)), e.g.
    /// `"w_rec[1,2]"`.
    pub worst_name: String,
    /// The analytic gradient at the worst parameter.
    pub analytic: f64,
    /// The numeric gradient at the worst parameter.
    pub numeric: f64,
    /// The difference step h used.
    pub epsilon: f64,
    /// The loss at the unperturbed parameters.
    pub loss: f64,
}

impl GradCheckReport {
    /// Whether the largest relative error is at most `tolerance` (an infinite error never
    /// passes).
    pub fn passed(&self, tolerance: f64) -> bool {
        self.max_relative_error <= tolerance
    }
}

impl fmt::Display for GradCheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradient check of {} parameter(s), h = {:e}: max relative error {:.3e} at {} (index {}): \
             analytic {:.9e}, numeric {:.9e}; max absolute error {:.3e}",
            self.checked,
            self.epsilon,
            self.max_relative_error,
            self.worst_name,
            self.worst_index,
            self.analytic,
            self.numeric,
            self.max_abs_error
        )
    }
}

/// Compares the analytic gradient of `model` on `batch` with central differences of its loss,
/// and restores the model's parameters exactly afterwards (on error too).
///
/// # Errors
/// - [`Error::Empty`] for a model without parameters or an empty
///   [`indices`](GradCheckOptions::indices) list;
/// - [`Error::InvalidConfig`] for a non-positive step or floor, `max_params` 0, an index
///   beyond the parameter count, or a step h that does not move a checked parameter (θᵢ ± h
///   rounds to θᵢ in the model's scalar type, e.g. h = 10⁻³⁰⁰, or θᵢ = 10¹² with h = 10⁻⁶),
///   naming the parameter;
/// - [`Error::NonFinite`] if the analytic gradient or a loss is not finite;
/// - any error of the model (a batch of the wrong shape, without targets …).
pub fn check_gradient<T, M>(
    model: &mut M,
    batch: &SeqBatch<T>,
    loss: Loss,
    options: &GradCheckOptions,
) -> Result<GradCheckReport>
where
    T: Real,
    M: Differentiable<T> + ?Sized,
{
    let n = model.num_params();
    if n == 0 {
        return Err(Error::empty("model parameters to check", 1));
    }
    let indices = options.select(n)?;
    let original = model.params().to_vec();
    let result = compare(model, batch, loss, &indices, options, &original);
    let params = model.params_mut();
    if params.len() == original.len() {
        params.copy_from_slice(&original);
    }
    result
}

/// The body of [`check_gradient`]; may leave the parameters perturbed on error.
fn compare<T, M>(
    model: &mut M,
    batch: &SeqBatch<T>,
    loss: Loss,
    indices: &[usize],
    options: &GradCheckOptions,
    original: &[T],
) -> Result<GradCheckReport>
where
    T: Real,
    M: Differentiable<T> + ?Sized,
{
    let mut grad = vec![T::zero(); original.len()];
    let base = model.loss_and_gradient(batch, loss, &mut grad)?.as_f64();
    check_finite("loss at the unperturbed parameters", &[base])?;
    check_finite("analytic gradient", &grad)?;
    let h = options.step::<T>();
    let mut report = GradCheckReport {
        checked: indices.len(),
        max_relative_error: 0.0,
        max_abs_error: 0.0,
        worst_index: indices[0],
        worst_name: String::new(),
        analytic: 0.0,
        numeric: 0.0,
        epsilon: h,
        loss: base,
    };
    let mut first = true;
    for &i in indices {
        let x = original[i];
        let step = T::of_f64(h);
        if x + step == x || x - step == x {
            let name = model.layout().name_of(i).unwrap_or_else(|| format!("#{i}"));
            return Err(Error::config(
                "gradient-check step ε",
                format!(
                    "a step that moves parameter {name} (index {i}, value {x}) in {}: {name} ± h rounds to {name}",
                    T::NAME
                ),
                h,
            ));
        }
        let mut loss_at = |value: T| -> Result<f64> {
            model.params_mut()[i] = value;
            let l = model.loss(batch, loss)?.as_f64();
            if !l.is_finite() {
                return Err(Error::NonFinite { what: "loss at a perturbed parameter".into(), index: i, value: l });
            }
            Ok(l)
        };
        let numeric = match options.stencil {
            Stencil::Central => {
                // Divide by the step actually taken after rounding.
                let (plus, minus) = (x + step, x - step);
                (loss_at(plus)? - loss_at(minus)?) / (plus - minus).as_f64()
            }
            Stencil::FivePoint => {
                let two = step + step;
                let (p2, p1, m1, m2) = (loss_at(x + two)?, loss_at(x + step)?, loss_at(x - step)?, loss_at(x - two)?);
                (8.0 * (p1 - m1) - (p2 - m2)) / (12.0 * h)
            }
        };
        model.params_mut()[i] = x;
        let analytic = grad[i].as_f64();
        // A non-finite numeric gradient (a difference of finite losses can overflow) fails:
        // its errors are +∞, never NaN, so it is the worst and `passed` is false.
        let (abs_error, relative) = if numeric.is_finite() {
            let abs_error = (analytic - numeric).abs();
            (abs_error, abs_error / analytic.abs().max(numeric.abs()).max(options.floor))
        } else {
            (f64::INFINITY, f64::INFINITY)
        };
        report.max_abs_error = report.max_abs_error.max(abs_error);
        if first || relative > report.max_relative_error {
            first = false;
            report.max_relative_error = relative;
            report.worst_index = i;
            report.analytic = analytic;
            report.numeric = numeric;
        }
    }
    report.worst_name =
        model.layout().name_of(report.worst_index).unwrap_or_else(|| format!("#{}", report.worst_index));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Activation, Parameters,
        testing::{TinyModel, linear_data},
    };

    fn batch() -> SeqBatch<f64> {
        let data = linear_data(3, [0.5, -1.5, 0.3], 11);
        SeqBatch::from_sequences(&data.iter().collect::<Vec<_>>()).unwrap()
    }

    /// Three sequences with 3 one-hot targets per step (valid for every [`Loss`]).
    fn one_hot_batch() -> SeqBatch<f64> {
        let seqs: Vec<_> = linear_data(3, [0.5, -1.5, 0.3], 12)
            .into_iter()
            .enumerate()
            .map(|(b, s)| {
                let t = nalgebra::DMatrix::from_fn(3, s.len(), |k, j| if (j + b) % 3 == k { 1.0 } else { 0.0 });
                crate::Sequence::new(s.inputs, t).unwrap()
            })
            .collect();
        SeqBatch::from_sequences(&seqs.iter().collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn a_correct_gradient_passes_and_the_model_is_restored() {
        let mut model = TinyModel::new(2, 3, Activation::Tanh, 1);
        let before = model.params().to_vec();
        let batch = one_hot_batch();
        assert!(batch.valid_mask().is_some(), "the batch should hold padding");
        for loss in [Loss::Mse, Loss::SoftmaxCrossEntropy, Loss::BinaryCrossEntropy] {
            let report = check_gradient(&mut model, &batch, loss, &GradCheckOptions::default()).unwrap();
            assert!(report.passed(1e-6), "{loss:?}: {report}");
            assert_eq!(report.checked, model.num_params());
            assert_eq!(model.params(), before.as_slice());
            let five = GradCheckOptions::default().with_stencil(Stencil::FivePoint);
            let report = check_gradient(&mut model, &batch, loss, &five).unwrap();
            assert!(report.passed(1e-8), "{loss:?}, five-point: {report}");
            assert_eq!(model.params(), before.as_slice());
        }
    }

    #[test]
    fn a_wrong_gradient_fails_and_names_the_parameter() {
        let mut model = TinyModel::new(2, 1, Activation::Tanh, 2);
        model.bias_gradient_factor = 1.5;
        let report = check_gradient(&mut model, &batch(), Loss::Mse, &GradCheckOptions::default()).unwrap();
        assert!(!report.passed(1e-6));
        assert_eq!(report.worst_name, "b[0]");
        assert_eq!(report.worst_index, 2);
        assert!((report.analytic / report.numeric - 1.5).abs() < 1e-6, "{report}");
        assert!(report.to_string().contains("b[0]"));
        let five = GradCheckOptions::default().with_stencil(Stencil::FivePoint);
        let report = check_gradient(&mut model, &batch(), Loss::Mse, &five).unwrap();
        assert_eq!(report.worst_name, "b[0]");
    }

    #[test]
    fn sampling_is_deterministic_and_respects_the_options() {
        let opts = GradCheckOptions::default().with_max_params(5).with_seed(4);
        let a = opts.select(100).unwrap();
        assert_eq!(a.len(), 5);
        assert_eq!(a, opts.select(100).unwrap());
        assert_ne!(a, opts.clone().with_seed(5).select(100).unwrap());
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        let only = GradCheckOptions::default().with_indices([7, 3, 7]);
        assert_eq!(only.select(10).unwrap(), [3, 7]);
        assert!(matches!(only.select(5), Err(Error::InvalidConfig { .. })));
        assert!(GradCheckOptions::default().with_max_params(0).select(5).is_err());
        assert!(GradCheckOptions::default().with_epsilon(0.0).select(5).is_err());
        assert!(GradCheckOptions::default().with_floor(f64::NAN).select(5).is_err());
        assert!(GradCheckOptions::default().with_indices([]).select(5).is_err());
        assert_eq!(GradCheckOptions::default().with_max_params(50).select(3).unwrap(), [0, 1, 2]);
    }

    #[test]
    fn a_subset_check_only_looks_at_the_subset() {
        let mut model = TinyModel::new(2, 1, Activation::Identity, 3);
        model.bias_gradient_factor = 2.0;
        let weights_only = GradCheckOptions::default().with_indices(0..2);
        let report = check_gradient(&mut model, &batch(), Loss::Mse, &weights_only).unwrap();
        assert_eq!(report.checked, 2);
        assert!(report.passed(1e-6), "{report}");
    }

    #[test]
    fn a_step_that_does_not_move_a_parameter_is_an_error_naming_it() {
        let mut model = TinyModel::new(2, 1, Activation::Tanh, 5);
        // w[0,1] = 10¹²: with h = 10⁻⁶, w ± h rounds to w and the difference would be 0/0.
        model.params_mut()[1] = 1e12;
        let before = model.params().to_vec();
        match check_gradient(&mut model, &batch(), Loss::Mse, &GradCheckOptions::default()) {
            Err(Error::InvalidConfig { name, expected, got }) => {
                assert!(name.contains("step"), "{name}");
                assert!(expected.contains("w[0,1]"), "{expected}");
                assert_eq!(got, "0.000001");
            }
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
        assert_eq!(model.params(), before.as_slice());
        // The other parameters can still be checked.
        let others = GradCheckOptions::default().with_indices([0, 2]);
        assert!(check_gradient(&mut model, &batch(), Loss::Mse, &others).unwrap().passed(1e-6));
        // A step far below the resolution of every parameter.
        let mut model = TinyModel::new(2, 1, Activation::Tanh, 5);
        for stencil in [Stencil::Central, Stencil::FivePoint] {
            let tiny = GradCheckOptions::default().with_epsilon(1e-300).with_stencil(stencil);
            let err = check_gradient(&mut model, &batch(), Loss::Mse, &tiny).unwrap_err();
            assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
        }
    }

    /// One parameter w and a loss (w·10²⁰⁰)² whose slope overflows `f64`, with an analytic
    /// gradient of 0 (wrong, but finite).
    struct Steep {
        layout: crate::ParamLayout,
        w: Vec<f64>,
    }

    impl Parameters<f64> for Steep {
        fn layout(&self) -> &crate::ParamLayout {
            &self.layout
        }
        fn params(&self) -> &[f64] {
            &self.w
        }
        fn params_mut(&mut self) -> &mut [f64] {
            &mut self.w
        }
    }

    impl crate::SequenceModel<f64> for Steep {
        fn input_size(&self) -> usize {
            1
        }
        fn output_size(&self) -> usize {
            1
        }
        fn forward(&mut self, batch: &SeqBatch<f64>) -> Result<nalgebra::DMatrix<f64>> {
            Ok(batch.inputs().map(|_| self.w[0] * 1e200))
        }
    }

    impl Differentiable<f64> for Steep {
        fn loss_and_gradient(&mut self, batch: &SeqBatch<f64>, loss: Loss, grad: &mut [f64]) -> Result<f64> {
            grad[0] = 0.0;
            self.loss(batch, loss)
        }
    }

    #[test]
    fn a_non_finite_numeric_gradient_fails_the_report_and_is_never_nan() {
        let mut layout = crate::ParamLayout::new();
        layout.push("w", 1, 1);
        let mut model = Steep { layout, w: vec![1e-50] };
        let b = SeqBatch::new(nalgebra::DMatrix::zeros(1, 1), Some(nalgebra::DMatrix::zeros(1, 1)), 1, 1).unwrap();
        // L = 10³⁰⁰ is finite, but (L(w + h) − L(w − h)) / 2h = 2·10³⁵⁰ is not.
        let report =
            check_gradient(&mut model, &b, Loss::Mse, &GradCheckOptions::default().with_epsilon(1e-60)).unwrap();
        assert_eq!(report.max_relative_error, f64::INFINITY, "{report}");
        assert_eq!(report.max_abs_error, f64::INFINITY);
        assert!(!report.passed(1e300));
        assert_eq!(report.worst_name, "w[0]");
    }

    #[test]
    fn errors_leave_the_model_as_it_was() {
        let mut model = TinyModel::new(3, 1, Activation::Tanh, 4);
        let before = model.params().to_vec();
        let err = check_gradient(&mut model, &batch(), Loss::Mse, &GradCheckOptions::default()).unwrap_err();
        assert!(matches!(err, Error::DimensionMismatch { expected: 3, got: 2, .. }), "{err:?}");
        assert_eq!(model.params(), before.as_slice());
    }
}
