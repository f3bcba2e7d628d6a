//! One training loop for every [`Differentiable`] model: epochs, mini-batches, an
//! [`Optimizer`], gradient clipping, a learning-rate schedule, validation, early stopping and a
//! progress callback.
//!
//! ```
//! use nalgebra::DMatrix;
//! use rnn_core::{Control, Optimizer, Sequence, TrainConfig, optim::Adam, train};
//! # use rnn_core::{Differentiable, Loss, ParamLayout, Parameters, Result, SeqBatch, SequenceModel};
//! # /// y(t) = w·x(t): one weight.
//! # struct Scale { layout: ParamLayout, w: Vec<f64> }
//! # impl Parameters<f64> for Scale {
//! #     fn layout(&self) -> &ParamLayout { &self.layout }
//! #     fn params(&self) -> &[f64] { &self.w }
//! #     fn params_mut(&mut self) -> &mut [f64] { &mut self.w }
//! # }
//! # impl SequenceModel<f64> for Scale {
//! #     fn input_size(&self) -> usize { 1 }
//! #     fn output_size(&self) -> usize { 1 }
//! #     fn forward(&mut self, batch: &SeqBatch<f64>) -> Result<DMatrix<f64>> { Ok(batch.inputs() * self.w[0]) }
//! # }
//! # impl Differentiable<f64> for Scale {
//! #     fn loss_and_gradient(&mut self, batch: &SeqBatch<f64>, loss: Loss, grad: &mut [f64]) -> Result<f64> {
//! #         let y = self.forward(batch)?;
//! #         let mut d = DMatrix::zeros(1, y.ncols());
//! #         let l = loss.value_and_gradient(y.as_view(), batch.require_targets()?.as_view(), batch.valid_mask(), &mut d)?;
//! #         grad[0] = d.dot(batch.inputs());
//! #         Ok(l)
//! #     }
//! # }
//! # let mut layout = ParamLayout::new();
//! # layout.push("w", 1, 1);
//! // A model learning y = 3x (any `Differentiable` model trains the same way).
//! let mut model = Scale { layout, w: vec![0.0] };
//! let data: Vec<_> = (1..=8)
//!     .map(|i| {
//!         let x = DMatrix::from_element(1, 4, i as f64 / 8.0);
//!         Sequence::new(x.clone(), x * 3.0).unwrap()
//!     })
//!     .collect();
//! let config = TrainConfig::default().with_epochs(200).with_batch_size(4).with_seed(1);
//! let mut adam = Adam::new(0.05).unwrap();
//! let report = train(&mut model, &data, &mut adam, &config, |_| Control::Continue).unwrap();
//! assert_eq!(report.epochs_run, 200);
//! assert!(report.final_train_loss < 1e-6);
//! assert!((model.w[0] - 3.0).abs() < 1e-3);
//! ```

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::{
    Differentiable, Error, LearningRate, Loss, Optimizer, Parameters, Real, Result, SeqBatch, Sequence,
    optim::clip_grad_norm, rng,
};

/// The settings of a training run. Build one from [`Default`] and the `with_*` methods;
/// [`train`] calls [`validate`](Self::validate) before the first epoch.
///
/// ```
/// use rnn_core::{LearningRate, Loss, TrainConfig};
/// let config = TrainConfig::default()
///     .with_epochs(50)
///     .with_batch_size(16)
///     .with_validation_fraction(0.2)
///     .with_patience(5)
///     .with_loss(Loss::SoftmaxCrossEntropy)
///     .with_clip_norm(1.0)
///     .with_learning_rate(LearningRate::step_decay(0.01, 0.5, 10).unwrap());
/// assert!(config.validate().is_ok());
/// assert!(config.clone().with_batch_size(0).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Number of passes over the training data, at least 1. Default 100. Any value is
    /// accepted (nothing is allocated from it): `usize::MAX` runs until early stopping or the
    /// callback stops the run.
    pub epochs: usize,
    /// Sequences per mini-batch, at least 1; 1 is online learning (an update after each
    /// sequence). The last batch of an epoch may be smaller. A batch size above the number of
    /// sequences means one batch of them all. Default 1.
    pub batch_size: usize,
    /// Whether to visit the training sequences in a new random order every epoch. Default true.
    pub shuffle: bool,
    /// Seed of the shuffling order. Default 0.
    pub seed: u64,
    /// Fraction of the data [`train`] holds out for validation, in [0, 1): the last
    /// round(fraction · n) sequences of `data` (at least one when the fraction is positive).
    /// Must be 0 with [`train_with_validation`]. Default 0.
    pub validation_fraction: f64,
    /// Early stopping: stop after this many epochs (at least 1) without a new best validation
    /// loss, and end with the best epoch's weights (unless the run ends in an error: see
    /// [`train`]). Needs validation data. Default `None` (off).
    pub patience: Option<usize>,
    /// The loss to minimise. Default [`Loss::Mse`].
    pub loss: Loss,
    /// Clip each batch's gradient to this Euclidean norm ([`clip_grad_norm`]), a finite value
    /// > 0. Default `None` (no clipping).
    pub clip_norm: Option<f64>,
    /// A schedule that sets the optimizer's learning rate at the start of every epoch. Default
    /// `None`: the optimizer keeps the rate it was built with. The rate is checked again once
    /// converted to the model's scalar type: a rate that overflows `f32` (above about 3.4·10³⁸)
    /// or rounds to 0 there is an [`Error::InvalidConfig`] from [`train`].
    pub learning_rate: Option<LearningRate>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 100,
            batch_size: 1,
            shuffle: true,
            seed: 0,
            validation_fraction: 0.0,
            patience: None,
            loss: Loss::Mse,
            clip_norm: None,
            learning_rate: None,
        }
    }
}

impl TrainConfig {
    /// Sets [`epochs`](Self::epochs).
    pub fn with_epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Sets [`batch_size`](Self::batch_size).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets [`shuffle`](Self::shuffle).
    pub fn with_shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// Sets [`seed`](Self::seed).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets [`validation_fraction`](Self::validation_fraction).
    pub fn with_validation_fraction(mut self, fraction: f64) -> Self {
        self.validation_fraction = fraction;
        self
    }

    /// Turns on early stopping with [`patience`](Self::patience) epochs.
    pub fn with_patience(mut self, patience: usize) -> Self {
        self.patience = Some(patience);
        self
    }

    /// Sets [`loss`](Self::loss).
    pub fn with_loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// Turns on gradient clipping at [`clip_norm`](Self::clip_norm).
    pub fn with_clip_norm(mut self, max_norm: f64) -> Self {
        self.clip_norm = Some(max_norm);
        self
    }

    /// Sets the [`learning_rate`](Self::learning_rate) schedule.
    pub fn with_learning_rate(mut self, schedule: LearningRate) -> Self {
        self.learning_rate = Some(schedule);
        self
    }

    /// Checks every setting.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad setting: `epochs` or `batch_size` 0,
    /// `validation_fraction` outside [0, 1), `patience` 0, a `clip_norm` that is not finite
    /// and positive, or an invalid schedule ([`LearningRate::validate`]).
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::config("epochs", "at least 1", self.epochs));
        }
        if self.batch_size == 0 {
            return Err(Error::config("batch size", "at least 1", self.batch_size));
        }
        let f = self.validation_fraction;
        if !(0.0..1.0).contains(&f) {
            return Err(Error::config("validation fraction", "a value in [0, 1)", f));
        }
        if self.patience == Some(0) {
            return Err(Error::config("early-stopping patience", "at least 1 epoch", 0));
        }
        if let Some(c) = self.clip_norm
            && !(c.is_finite() && c > 0.0)
        {
            return Err(Error::config("gradient clipping norm", "a finite value > 0", c));
        }
        if let Some(schedule) = &self.learning_rate {
            schedule.validate()?;
        }
        Ok(())
    }
}

/// What the progress callback tells the loop after each epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on with the next epoch.
    Continue,
    /// Stop now (the report's [`stop_reason`](TrainReport::stop_reason) is
    /// [`StopReason::Callback`]).
    Stop,
}

/// The measurements of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochReport {
    /// The epoch, counted from 1.
    pub epoch: usize,
    /// The mean training loss over the epoch: each batch's loss, taken before that batch's
    /// update, weighted by its number of valid (step, sequence) columns. For the losses of
    /// [`Loss`] this is the loss over every valid step of the epoch, on weights that move as
    /// the epoch goes.
    pub train_loss: f64,
    /// The loss over every valid step of the validation data with the weights at the end of
    /// the epoch, if there is validation data.
    pub validation_loss: Option<f64>,
    /// The learning rate η used in this epoch.
    pub learning_rate: f64,
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    /// Every configured epoch ran.
    Completed,
    /// The validation loss did not improve for `patience` epochs.
    EarlyStopping,
    /// The callback returned [`Control::Stop`].
    Callback,
}

/// The outcome of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Number of epochs that ran.
    pub epochs_run: usize,
    /// The training loss of the last epoch.
    pub final_train_loss: f64,
    /// The validation loss of the last epoch, if there is validation data.
    pub final_validation_loss: Option<f64>,
    /// The lowest validation loss of the run, if there is validation data.
    pub best_validation_loss: Option<f64>,
    /// The epoch of [`best_validation_loss`](Self::best_validation_loss). With early stopping
    /// on, the model ends with this epoch's weights (a run that returns a report never ended
    /// in an error).
    pub best_epoch: Option<usize>,
    /// Why the run ended.
    pub stop_reason: StopReason,
    /// One report per epoch, in order.
    pub history: Vec<EpochReport>,
}

impl TrainReport {
    /// Whether the run ended before its last configured epoch (early stopping or the callback).
    pub fn stopped_early(&self) -> bool {
        self.stop_reason != StopReason::Completed
    }
}

/// Trains `model` on `data`, holding out the last
/// [`validation_fraction`](TrainConfig::validation_fraction) of it for validation.
///
/// Each epoch: the learning rate is set from the schedule (if any); the training sequences are
/// visited in batches of [`batch_size`](TrainConfig::batch_size) (in a seeded random order if
/// [`shuffle`](TrainConfig::shuffle)), and for each batch the loop computes
/// [`loss_and_gradient`](Differentiable::loss_and_gradient), clips the gradient if asked, and
/// calls [`Optimizer::step`]; then the validation loss is measured, `callback` sees the
/// [`EpochReport`], and early stopping is checked.
///
/// Which weights the model ends with:
///
/// - a run that returns `Ok` with early stopping on (whether it completed, stopped early or
///   was stopped by the callback) ends with the weights of the epoch with the lowest
///   validation loss;
/// - a run that returns `Ok` without early stopping ends with the weights of its last epoch;
/// - a run that returns `Err` during an epoch (divergence included) ends with the weights
///   from before the failing epoch, that is, those at the end of the last epoch that
///   completed — with early stopping on too, *not* the best epoch's weights. (The optimizer's
///   state is not restored.) An error before the first epoch leaves the model untouched.
///
/// The same seed, data, model and optimizer give the same result, bit for bit.
///
/// # Errors
/// - [`Error::InvalidConfig`] from [`TrainConfig::validate`], or for `patience` without
///   validation data;
/// - [`Error::Empty`] for empty `data`, [`Error::NotEnoughData`] if the validation split
///   leaves no training sequence;
/// - [`Error::DimensionMismatch`] for a sequence whose input or target width is not the
///   model's or whose targets are not as long as its inputs, [`Error::Empty`] for a sequence
///   of no step, [`Error::NonFinite`] for NaN or infinity in a sequence (each naming the
///   sequence: `Sequence` has public fields, so a value built by hand is checked here), or if
///   the model's parameters are not finite at the start;
/// - [`Error::InvalidConfig`] naming the epoch if the schedule's learning rate is not finite
///   and positive once converted to the model's scalar type;
/// - [`Error::Diverged`] naming the epoch when a batch's loss or gradient, the weights or the
///   validation loss stop being finite; `loss` is the offending batch (or validation) loss;
/// - any error of the model or the optimizer (e.g. [`Error::NonFinite`] for an optimizer step
///   that would overflow the weights).
///
/// On an error during an epoch the model's parameters are restored to their values from
/// before that epoch, as listed above.
pub fn train<T, M, O>(
    model: &mut M,
    data: &[Sequence<T>],
    optimizer: &mut O,
    config: &TrainConfig,
    callback: impl FnMut(&EpochReport) -> Control,
) -> Result<TrainReport>
where
    T: Real,
    M: Differentiable<T> + ?Sized,
    O: Optimizer<T> + ?Sized,
{
    config.validate()?;
    if data.is_empty() {
        return Err(Error::empty("training data", 1));
    }
    let n = data.len();
    let held_out = if config.validation_fraction > 0.0 {
        ((config.validation_fraction * n as f64).round() as usize).max(1)
    } else {
        0
    };
    if held_out >= n {
        return Err(Error::NotEnoughData {
            what: format!("a validation fraction of {} and a training sequence", config.validation_fraction),
            needed: held_out + 1,
            got: n,
        });
    }
    let (training, validation) = data.split_at(n - held_out);
    run(model, training, validation, optimizer, config, callback)
}

/// Trains `model` on `training` and measures the loss on the separate `validation` set after
/// every epoch; otherwise the same as [`train`].
///
/// Every sequence, training or validation, runs from the model's initial state (the
/// [`SequenceModel::forward`](crate::SequenceModel::forward) contract): a validation stream cut
/// from the end of a training stream with [`Sequence::split_at`] starts with a fresh context,
/// so give it a few warm-up steps whose targets are masked, or accept the short transient.
///
/// # Errors
/// As [`train`]; besides, [`Error::Empty`] for empty `validation` data and
/// [`Error::InvalidConfig`] if [`validation_fraction`](TrainConfig::validation_fraction) is
/// not 0 (the validation set is given, not split off).
pub fn train_with_validation<T, M, O>(
    model: &mut M,
    training: &[Sequence<T>],
    validation: &[Sequence<T>],
    optimizer: &mut O,
    config: &TrainConfig,
    callback: impl FnMut(&EpochReport) -> Control,
) -> Result<TrainReport>
where
    T: Real,
    M: Differentiable<T> + ?Sized,
    O: Optimizer<T> + ?Sized,
{
    config.validate()?;
    if config.validation_fraction != 0.0 {
        return Err(Error::config(
            "validation fraction",
            "0 when a validation set is given",
            config.validation_fraction,
        ));
    }
    if training.is_empty() {
        return Err(Error::empty("training data", 1));
    }
    if validation.is_empty() {
        return Err(Error::empty("validation data", 1));
    }
    run(model, training, validation, optimizer, config, callback)
}

/// The loop behind [`train`] and [`train_with_validation`]; `config` is valid, `training` not
/// empty, `validation` may be.
fn run<T, M, O>(
    model: &mut M,
    training: &[Sequence<T>],
    validation: &[Sequence<T>],
    optimizer: &mut O,
    config: &TrainConfig,
    mut callback: impl FnMut(&EpochReport) -> Control,
) -> Result<TrainReport>
where
    T: Real,
    M: Differentiable<T> + ?Sized,
    O: Optimizer<T> + ?Sized,
{
    if config.patience.is_some() && validation.is_empty() {
        return Err(Error::config(
            "early-stopping patience",
            "validation data (a validation fraction > 0, or train_with_validation)",
            "no validation data",
        ));
    }
    check_sequences(&*model, training, "training")?;
    check_sequences(&*model, validation, "validation")?;
    crate::error::check_finite("model parameters before training", model.params())?;

    // Nothing is sized from the configuration's numbers: a batch holds at most every sequence,
    // and the history grows as epochs run.
    let batch_size = config.batch_size.min(training.len());
    let mut grad = vec![T::zero(); model.num_params()];
    let mut epoch_start = model.params().to_vec();
    let mut best_params = if config.patience.is_some() { model.params().to_vec() } else { Vec::new() };
    // Without shuffling, the batches are the same every epoch: build them once.
    let fixed_batches = if config.shuffle { None } else { Some(batches(training, batch_size)?) };
    let validation_batches = batches(validation, config.batch_size)?;
    let mut order: Vec<usize> = (0..training.len()).collect();
    let mut members: Vec<&Sequence<T>> = Vec::with_capacity(batch_size);
    let mut rng = rng::seeded(config.seed);

    let mut history = Vec::new();
    let mut best: Option<(f64, usize)> = None;
    let mut since_best = 0;
    let mut stop_reason = StopReason::Completed;

    for epoch in 1..=config.epochs {
        if let Some(schedule) = &config.learning_rate {
            optimizer.set_learning_rate(scheduled_rate(schedule, epoch)?)?;
        }
        epoch_start.copy_from_slice(model.params());
        let mut mean = WeightedMean::default();
        let outcome = (|| -> Result<(f64, Option<f64>)> {
            match &fixed_batches {
                Some(fixed) => {
                    for batch in fixed {
                        train_batch(model, optimizer, batch, &mut grad, config, epoch, &mut mean)?;
                    }
                }
                None => {
                    shuffle(&mut order, &mut rng);
                    for chunk in order.chunks(batch_size) {
                        members.clear();
                        members.extend(chunk.iter().map(|&i| &training[i]));
                        let batch = SeqBatch::from_sequences(&members)?;
                        train_batch(model, optimizer, &batch, &mut grad, config, epoch, &mut mean)?;
                    }
                }
            }
            let train_loss = mean.value();
            if let Err(Error::NonFinite { .. }) = crate::error::check_finite("weights", model.params()) {
                return Err(Error::Diverged { epoch, loss: train_loss });
            }
            let validation_loss = if validation_batches.is_empty() {
                None
            } else {
                let mut val = WeightedMean::default();
                for batch in &validation_batches {
                    val.add(model.loss(batch, config.loss)?.as_f64(), valid_columns(batch));
                }
                let v = val.value();
                if !v.is_finite() {
                    return Err(Error::Diverged { epoch, loss: v });
                }
                Some(v)
            };
            Ok((train_loss, validation_loss))
        })();
        let (train_loss, validation_loss) = match outcome {
            Ok(losses) => losses,
            Err(e) => {
                restore(model, &epoch_start);
                return Err(e);
            }
        };

        let report =
            EpochReport { epoch, train_loss, validation_loss, learning_rate: optimizer.learning_rate().as_f64() };
        if let Some(v) = validation_loss {
            if best.is_none_or(|(b, _)| v < b) {
                best = Some((v, epoch));
                since_best = 0;
                if config.patience.is_some() {
                    best_params.copy_from_slice(model.params());
                }
            } else {
                since_best += 1;
            }
        }
        let control = callback(&report);
        history.push(report);
        if control == Control::Stop {
            stop_reason = StopReason::Callback;
            break;
        }
        if config.patience.is_some_and(|p| since_best >= p) {
            stop_reason = StopReason::EarlyStopping;
            break;
        }
    }

    if config.patience.is_some() && best.is_some() {
        restore(model, &best_params);
    }
    let last = history.last();
    Ok(TrainReport {
        epochs_run: history.len(),
        final_train_loss: last.map_or(f64::NAN, |r| r.train_loss),
        final_validation_loss: last.and_then(|r| r.validation_loss),
        best_validation_loss: best.map(|(v, _)| v),
        best_epoch: best.map(|(_, e)| e),
        stop_reason,
        history,
    })
}

/// One update from one batch; adds the batch's loss to `mean`.
fn train_batch<T, M, O>(
    model: &mut M,
    optimizer: &mut O,
    batch: &SeqBatch<T>,
    grad: &mut [T],
    config: &TrainConfig,
    epoch: usize,
    mean: &mut WeightedMean,
) -> Result<()>
where
    T: Real,
    M: Differentiable<T> + ?Sized,
    O: Optimizer<T> + ?Sized,
{
    let loss = model.loss_and_gradient(batch, config.loss, grad)?.as_f64();
    if !loss.is_finite() || grad.iter().any(|g| !g.is_finite()) {
        return Err(Error::Diverged { epoch, loss });
    }
    if let Some(max_norm) = config.clip_norm {
        clip_grad_norm(grad, T::of_f64(max_norm));
    }
    optimizer.step(model.params_mut(), grad)?;
    mean.add(loss, valid_columns(batch));
    Ok(())
}

/// The schedule's rate at `epoch` in the model's scalar type, or [`Error::InvalidConfig`] if
/// it is not finite and positive there (1e39 overflows `f32`, 1e-46 rounds to 0 in it).
fn scheduled_rate<T: Real>(schedule: &LearningRate, epoch: usize) -> Result<T> {
    let lr = schedule.at_epoch(epoch);
    let converted = T::of_f64(lr);
    if converted.is_finite() && converted > T::zero() {
        Ok(converted)
    } else {
        Err(Error::config(
            format!("learning rate η of the schedule at epoch {epoch}"),
            format!("a finite value > 0 in the model's scalar type {} (it became {converted})", T::NAME),
            lr,
        ))
    }
}

/// Checks every sequence of `data` against the model and itself, naming the first bad one:
/// [`Error::DimensionMismatch`] for widths that are not the model's or targets not as long as
/// the inputs, [`Error::Empty`] for no step, [`Error::NonFinite`] for NaN or infinity.
fn check_sequences<T: Real, M: Differentiable<T> + ?Sized>(model: &M, data: &[Sequence<T>], set: &str) -> Result<()> {
    let (inputs, outputs) = (model.input_size(), model.output_size());
    for (i, s) in data.iter().enumerate() {
        if s.inputs.nrows() != inputs {
            return Err(Error::dim(format!("input width of {set} sequence {i}"), inputs, s.inputs.nrows()));
        }
        if s.targets.nrows() != outputs {
            return Err(Error::dim(format!("target width of {set} sequence {i}"), outputs, s.targets.nrows()));
        }
        s.check(|| format!("{set} sequence {i}"))?;
    }
    Ok(())
}

/// `data` in order, in batches of `size` (the last may be smaller).
fn batches<T: Real>(data: &[Sequence<T>], size: usize) -> Result<Vec<SeqBatch<T>>> {
    let mut members = Vec::with_capacity(size.min(data.len()));
    data.chunks(size)
        .map(|chunk| {
            members.clear();
            members.extend(chunk);
            SeqBatch::from_sequences(&members)
        })
        .collect()
}

/// Number of (step, sequence) columns of `batch` that count in the loss.
fn valid_columns<T: Real>(batch: &SeqBatch<T>) -> usize {
    batch.valid_mask().map_or(batch.steps() * batch.batch_size(), |m| m.iter().filter(|&&v| v).count())
}

/// Fisher–Yates shuffle driven by the run's seeded generator.
fn shuffle(order: &mut [usize], rng: &mut rng::Rng) {
    for i in (1..order.len()).rev() {
        let j = rng.random_range(0..=i);
        order.swap(i, j);
    }
}

/// Puts `snapshot` back into the model's parameters.
fn restore<T: Real, M: Parameters<T> + ?Sized>(model: &mut M, snapshot: &[T]) {
    let params = model.params_mut();
    if params.len() == snapshot.len() {
        params.copy_from_slice(snapshot);
    }
}

/// A mean of batch losses weighted by their numbers of valid columns.
#[derive(Default)]
struct WeightedMean {
    sum: f64,
    weight: usize,
}

impl WeightedMean {
    fn add(&mut self, value: f64, weight: usize) {
        self.sum += value * weight as f64;
        self.weight += weight;
    }

    fn value(&self) -> f64 {
        if self.weight == 0 { 0.0 } else { self.sum / self.weight as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Activation,
        optim::{Adam, Sgd},
        testing::{TinyModel, linear_data},
    };

    const TRUTH: [f64; 3] = [0.5, -1.5, 0.3];

    fn model() -> TinyModel {
        TinyModel::new(2, 1, Activation::Identity, 3)
    }

    #[test]
    fn loss_decreases_and_the_model_learns_the_map() {
        let data = linear_data(40, TRUTH, 1);
        let mut m = model();
        let mut opt = Adam::new(0.05).unwrap();
        let config = TrainConfig::default().with_epochs(60).with_batch_size(4).with_validation_fraction(0.25);
        let mut seen = Vec::new();
        let report = train(&mut m, &data, &mut opt, &config, |r| {
            seen.push(r.epoch);
            Control::Continue
        })
        .unwrap();
        assert_eq!(seen, (1..=60).collect::<Vec<_>>());
        assert_eq!(report.stop_reason, StopReason::Completed);
        let first = &report.history[0];
        assert!(report.final_train_loss < first.train_loss / 100.0, "{report:?}");
        assert!(report.final_validation_loss.unwrap() < 1e-4);
        for (p, t) in m.params().iter().zip(TRUTH) {
            assert!((p - t).abs() < 1e-2, "{:?}", m.params());
        }
    }

    #[test]
    fn online_unshuffled_sgd_with_clipping_and_schedule_learns() {
        let data = linear_data(20, TRUTH, 2);
        let mut m = model();
        let mut opt = Sgd::new(1.0).unwrap().with_momentum(0.5).unwrap();
        let schedule = LearningRate::step_decay(0.1, 0.5, 20).unwrap();
        let config =
            TrainConfig::default().with_epochs(60).with_shuffle(false).with_clip_norm(1.0).with_learning_rate(schedule);
        let report = train(&mut m, &data, &mut opt, &config, |_| Control::Continue).unwrap();
        assert_eq!(report.history[0].learning_rate, 0.1);
        assert_eq!(report.history[20].learning_rate, 0.05);
        assert_eq!(report.history[59].learning_rate, 0.025);
        assert!(report.final_train_loss < 1e-4, "{}", report.final_train_loss);
        assert_eq!(report.final_validation_loss, None);
    }

    #[test]
    fn same_seed_same_result_other_seed_other_result() {
        let data = linear_data(30, TRUTH, 4);
        let run = |seed| {
            let mut m = model();
            let mut opt = Adam::new(0.01).unwrap();
            let config = TrainConfig::default().with_epochs(5).with_batch_size(3).with_seed(seed);
            let report = train(&mut m, &data, &mut opt, &config, |_| Control::Continue).unwrap();
            (m.params().to_vec(), report)
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7).0, run(8).0);
    }

    #[test]
    fn early_stopping_restores_the_best_weights() {
        // Training targets follow one map, validation targets its opposite: the better the fit,
        // the worse the validation loss, so the best epoch is the first one.
        let training = linear_data(20, TRUTH, 5);
        let validation = linear_data(10, TRUTH.map(|c| -c), 6);
        let config = TrainConfig::default().with_epochs(50).with_batch_size(2).with_patience(3).with_seed(2);
        let mut m = model();
        let mut opt = Adam::new(0.05).unwrap();
        let report =
            train_with_validation(&mut m, &training, &validation, &mut opt, &config, |_| Control::Continue).unwrap();
        assert_eq!(report.stop_reason, StopReason::EarlyStopping);
        assert!(report.stopped_early());
        assert_eq!(report.best_epoch, Some(1));
        assert_eq!(report.epochs_run, 4);

        // The weights after epoch 1 of the same run, stopped there by the callback.
        let mut reference = model();
        let mut opt = Adam::new(0.05).unwrap();
        let stopped =
            train_with_validation(&mut reference, &training, &validation, &mut opt, &config, |_| Control::Stop)
                .unwrap();
        assert_eq!(stopped.stop_reason, StopReason::Callback);
        assert_eq!(stopped.epochs_run, 1);
        assert_eq!(m.params(), reference.params());
        assert_eq!(report.best_validation_loss, stopped.final_validation_loss);
    }

    #[test]
    fn divergence_names_the_epoch_and_restores_the_weights_from_before_it() {
        let data = linear_data(8, TRUTH, 7);
        let config = TrainConfig::default().with_epochs(1000).with_shuffle(false);
        let mut m = model();
        let mut opt = Sgd::new(20.0).unwrap();
        let mut epochs_seen = 0;
        let err = train(&mut m, &data, &mut opt, &config, |r| {
            epochs_seen = r.epoch;
            Control::Continue
        })
        .unwrap_err();
        let Error::Diverged { epoch, loss } = err else { panic!("expected divergence, got {err:?}") };
        assert!(epoch > 1, "diverged in epoch {epoch}; the test wants a later one");
        assert_eq!(epochs_seen, epoch - 1);
        assert!(!loss.is_finite());
        assert!(m.params().iter().all(|p| p.is_finite()));

        // The weights must be those at the end of the epoch before.
        let mut reference = model();
        let mut opt = Sgd::new(20.0).unwrap();
        train(&mut reference, &data, &mut opt, &config.clone().with_epochs(epoch - 1), |_| Control::Continue).unwrap();
        assert_eq!(m.params(), reference.params());
    }

    #[test]
    fn divergence_with_early_stopping_keeps_the_weights_from_before_the_failing_epoch() {
        // Validation targets follow the opposite map, so the best validation epoch is the first
        // and the weights from before the failing epoch are not the best ones.
        let training = linear_data(8, TRUTH, 7);
        let validation = linear_data(4, TRUTH.map(|c| -c), 6);
        let config = TrainConfig::default().with_epochs(1000).with_shuffle(false).with_patience(1000);
        let mut m = model();
        let mut opt = Sgd::new(20.0).unwrap();
        let mut best = (f64::INFINITY, 0);
        let err = train_with_validation(&mut m, &training, &validation, &mut opt, &config, |r| {
            let v = r.validation_loss.unwrap();
            if v < best.0 {
                best = (v, r.epoch);
            }
            Control::Continue
        })
        .unwrap_err();
        let Error::Diverged { epoch, .. } = err else { panic!("expected divergence, got {err:?}") };
        assert!(best.1 < epoch - 1, "best epoch {} should precede the last good epoch {}", best.1, epoch - 1);

        // The same run without early stopping, stopped after the last good epoch.
        let mut last_good = model();
        let mut opt = Sgd::new(20.0).unwrap();
        let plain = TrainConfig { patience: None, epochs: epoch - 1, ..config.clone() };
        train_with_validation(&mut last_good, &training, &validation, &mut opt, &plain, |_| Control::Continue).unwrap();
        assert_eq!(m.params(), last_good.params());
        // …and not the best epoch's.
        let mut at_best = model();
        let mut opt = Sgd::new(20.0).unwrap();
        let plain = TrainConfig { patience: None, epochs: best.1, ..config };
        train_with_validation(&mut at_best, &training, &validation, &mut opt, &plain, |_| Control::Continue).unwrap();
        assert_ne!(m.params(), at_best.params());
    }

    #[test]
    fn huge_epochs_and_batch_sizes_allocate_nothing_from_the_configuration() {
        let data = linear_data(6, TRUTH, 9);
        for epochs in [usize::MAX, 1 << 40] {
            let mut m = model();
            let mut opt = Adam::new(0.01).unwrap();
            let config = TrainConfig::default().with_epochs(epochs);
            let report = train(&mut m, &data, &mut opt, &config, |_| Control::Stop).unwrap();
            assert_eq!((report.epochs_run, report.history.len()), (1, 1));
        }
        // A batch size above the data's is one batch of every sequence.
        let run = |batch_size: usize, shuffle: bool| {
            let mut m = model();
            let mut opt = Adam::new(0.01).unwrap();
            let config =
                TrainConfig::default().with_epochs(3).with_batch_size(batch_size).with_shuffle(shuffle).with_seed(4);
            let report = train(&mut m, &data, &mut opt, &config, |_| Control::Continue).unwrap();
            (m.params().to_vec(), report)
        };
        for shuffle in [true, false] {
            let whole = run(data.len(), shuffle);
            assert_eq!(run(usize::MAX, shuffle), whole);
            assert_eq!(run(1 << 40, shuffle), whole);
        }
        // The validation batches too.
        let mut m = model();
        let mut opt = Adam::new(0.01).unwrap();
        let config = TrainConfig::default().with_epochs(2).with_batch_size(usize::MAX).with_validation_fraction(0.5);
        assert!(
            train(&mut m, &data, &mut opt, &config, |_| Control::Continue).unwrap().final_validation_loss.is_some()
        );
    }

    #[test]
    fn sequences_built_by_hand_are_checked_and_named() {
        let mut m = model();
        let before = m.params().to_vec();
        let mut opt = Adam::new(0.01).unwrap();
        let config = TrainConfig::default().with_epochs(2).with_shuffle(false);
        let m2 = |v: f64, cols: usize| nalgebra::DMatrix::from_element(2, cols, v);
        let t = |cols: usize| nalgebra::DMatrix::zeros(1, cols);

        let mut data = linear_data(3, TRUTH, 10);
        data[1] = Sequence { inputs: m2(f64::NAN, 4), targets: t(4) };
        match train(&mut m, &data, &mut opt, &config, |_| Control::Continue).unwrap_err() {
            Error::NonFinite { what, index: 0, .. } => assert_eq!(what, "inputs of training sequence 1"),
            other => panic!("expected NonFinite, got {other:?}"),
        }
        data[1] = Sequence { inputs: m2(0.5, 4), targets: nalgebra::DMatrix::from_element(1, 4, f64::INFINITY) };
        match train(&mut m, &data, &mut opt, &config, |_| Control::Continue).unwrap_err() {
            Error::NonFinite { what, .. } => assert_eq!(what, "targets of training sequence 1"),
            other => panic!("expected NonFinite, got {other:?}"),
        }
        for (inputs, targets) in [(4, 2), (2, 4)] {
            data[1] = Sequence { inputs: m2(0.5, inputs), targets: t(targets) };
            match train(&mut m, &data, &mut opt, &config, |_| Control::Continue).unwrap_err() {
                Error::DimensionMismatch { what, expected, got } => {
                    assert!(what.contains("training sequence 1"), "{what}");
                    assert_eq!((expected, got), (inputs, targets));
                }
                other => panic!("expected DimensionMismatch, got {other:?}"),
            }
        }
        data[1] = Sequence { inputs: m2(0.5, 0), targets: t(0) };
        assert!(matches!(train(&mut m, &data, &mut opt, &config, |_| Control::Continue), Err(Error::Empty { .. })));
        // The validation part is checked before any training too.
        data[1] = linear_data(1, TRUTH, 11).remove(0);
        data[2] = Sequence { inputs: m2(f64::NAN, 3), targets: t(3) };
        let held_out = config.clone().with_validation_fraction(0.34);
        match train(&mut m, &data, &mut opt, &held_out, |_| Control::Continue).unwrap_err() {
            Error::NonFinite { what, .. } => assert_eq!(what, "inputs of validation sequence 0"),
            other => panic!("expected NonFinite, got {other:?}"),
        }
        assert_eq!(m.params(), before.as_slice(), "a refused data set leaves the model untouched");
    }

    #[test]
    fn a_schedule_rate_that_is_not_representable_in_the_scalar_type_is_refused() {
        for lr in [1e39, 1e-46] {
            let schedule = LearningRate::constant(lr).unwrap();
            match scheduled_rate::<f32>(&schedule, 3) {
                Err(Error::InvalidConfig { name, expected, .. }) => {
                    assert!(name.contains("learning rate") && name.contains("epoch 3"), "{name}");
                    assert!(expected.contains("f32"), "{expected}");
                }
                other => panic!("{lr}: expected InvalidConfig, got {other:?}"),
            }
            assert_eq!(scheduled_rate::<f64>(&schedule, 3).unwrap(), lr);
        }
        // A decay that reaches 0 in f64 stops the run at that epoch, keeping the weights of the
        // epoch before.
        let data = linear_data(4, TRUTH, 12);
        let schedule = LearningRate::step_decay(1e-300, 0.5, 1).unwrap();
        let zero_at = (1..).find(|&e| schedule.at_epoch(e) == 0.0).unwrap();
        let config = TrainConfig::default().with_epochs(1000).with_learning_rate(schedule).with_seed(3);
        let mut m = model();
        let mut opt = Sgd::new(0.1).unwrap();
        let mut last = 0;
        let err = train(&mut m, &data, &mut opt, &config, |r| {
            last = r.epoch;
            Control::Continue
        })
        .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
        assert_eq!(last, zero_at - 1);
        assert!(err.to_string().contains(&format!("epoch {zero_at}")), "{err}");
    }

    #[test]
    fn configs_and_reports_are_send_and_sync() {
        fn is_send_sync<X: Send + Sync>() {}
        is_send_sync::<TrainConfig>();
        is_send_sync::<TrainReport>();
        is_send_sync::<Sgd<f32>>();
        is_send_sync::<Adam<f64>>();
        is_send_sync::<crate::optim::RmsProp<f64>>();
        is_send_sync::<crate::GradCheckOptions>();
        is_send_sync::<crate::GradCheckReport>();
        is_send_sync::<Error>();
    }

    #[test]
    fn bad_configuration_and_data_are_rejected() {
        let data = linear_data(4, TRUTH, 8);
        let mut m = model();
        let mut opt = Sgd::new(0.1).unwrap();
        let mut go = |config: TrainConfig, data: &[Sequence<f64>]| {
            train(&mut m, data, &mut opt, &config, |_| Control::Continue).unwrap_err()
        };
        let base = TrainConfig::default().with_epochs(1);
        assert!(matches!(go(base.clone().with_epochs(0), &data), Error::InvalidConfig { .. }));
        assert!(matches!(go(base.clone().with_batch_size(0), &data), Error::InvalidConfig { .. }));
        assert!(matches!(go(base.clone().with_validation_fraction(1.0), &data), Error::InvalidConfig { .. }));
        assert!(matches!(go(base.clone().with_validation_fraction(-0.1), &data), Error::InvalidConfig { .. }));
        assert!(matches!(go(base.clone().with_validation_fraction(f64::NAN), &data), Error::InvalidConfig { .. }));
        assert!(matches!(go(base.clone().with_patience(0), &data), Error::InvalidConfig { .. }));
        assert!(matches!(go(base.clone().with_patience(2), &data), Error::InvalidConfig { .. }));
        assert!(matches!(go(base.clone().with_clip_norm(0.0), &data), Error::InvalidConfig { .. }));
        assert!(matches!(go(base.clone(), &[]), Error::Empty { .. }));
        assert!(matches!(go(base.clone().with_validation_fraction(0.9), &data), Error::NotEnoughData { .. }));
        let wide = Sequence::new(nalgebra::DMatrix::zeros(3, 2), nalgebra::DMatrix::zeros(1, 2)).unwrap();
        match go(base.clone(), &[data[0].clone(), wide]) {
            Error::DimensionMismatch { expected: 2, got: 3, what } => assert!(what.contains("sequence 1"), "{what}"),
            other => panic!("{other:?}"),
        }
        let err = train_with_validation(&mut m, &data, &[], &mut opt, &base, |_| Control::Continue).unwrap_err();
        assert!(matches!(err, Error::Empty { .. }));
        let err =
            train_with_validation(&mut m, &data, &data, &mut opt, &base.clone().with_validation_fraction(0.5), |_| {
                Control::Continue
            })
            .unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }));
    }
}
