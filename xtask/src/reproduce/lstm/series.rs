//! Two real series, LSTM beside Elman: the Santa Fe laser (competition data set A; REFERENCE.md
//! §6.2) and the yearly sunspots on the Weigend et al. (1990) split (REFERENCE.md §6.3, the
//! protocol of the `sunspots` experiment, reused).

use indicatif::ProgressBar;
use nalgebra::DMatrix;
use rnn_core::{Activation, Adam, Loss, SeqBatch, Sequence, TrainConfig};
use rnn_data::{MinMaxScaler, Scaler, metrics};
use rnn_lstm::{Head, Lstm, LstmConfig, WeightInit};
use rnn_partial::{Backprop, Elman, ElmanConfig, Init};
use serde_json::{Value, json};

use crate::DynResult;
use crate::reproduce::sunspots::{self, SunspotData, fit_and_run, parallel_seeds};
use crate::reproduce::{Mode, mean_sd};

/// The competition's protocol: the first 1000 points are known, the next 100 are forecast.
const LASER_TRAIN: usize = 1_000;
const LASER_HORIZON: usize = 100;
/// Lags in each input window (about two of the laser's pulsations).
const LASER_LAGS: usize = 16;
/// Hidden units of the Elman net, one-cell memory blocks of the LSTM.
const LASER_UNITS: usize = 16;
/// Full-batch Adam epochs over the training stream, and Adam's step size.
const LASER_EPOCHS: usize = 600;
const LASER_LEARNING_RATE: f64 = 0.01;
/// Published NMSE on the 100-step continuation (REFERENCE §6.2, tagged R).
const LASER_PUBLISHED: [(&str, f64); 2] =
    [("Wan's FIR network, competition winner (R)", 0.0273), ("Sauer's local-linear method (R)", 0.077)];

/// One trained net's test errors.
struct LaserRun {
    one_step: f64,
    free: f64,
}

/// Santa Fe laser: one-step and free-running NMSE on points 1001–1100, LSTM and Elman.
pub fn laser(mode: Mode, bar: &ProgressBar) -> DynResult<(String, Value)> {
    let (seeds, epochs) = match mode {
        Mode::Full => (4u64, LASER_EPOCHS),
        Mode::Quick => (2, 20),
    };
    let raw = rnn_data::santafe_laser()?;
    let series = &raw[..LASER_TRAIN + LASER_HORIZON];
    let scaler = MinMaxScaler::fit(&series[..LASER_TRAIN])?;
    let scaled: Vec<f64> = series.iter().map(|&v| scaler.transform_value(v)).collect();
    let (stream, train_seq) = laser_windows(&scaled)?;
    let truth = &series[LASER_TRAIN..];
    let nmse = |scaled_pred: &[f64]| -> DynResult<f64> {
        let pred: Vec<f64> = scaled_pred.iter().map(|&v| scaler.inverse_value(v)).collect();
        Ok(metrics::nmse_own_variance(&pred, truth)?)
    };
    let window = &scaled[LASER_TRAIN - LASER_LAGS..LASER_TRAIN];
    let config = TrainConfig { epochs, batch_size: 1, loss: Loss::Mse, ..TrainConfig::default() };
    bar.set_message("Santa Fe laser");
    let mut rows = Vec::new();
    for name in ["LSTM", "Elman"] {
        let runs = parallel_seeds(seeds, |seed| -> DynResult<LaserRun> {
            let mut adam = Adam::new(LASER_LEARNING_RATE)?;
            let (one_step, free) = if name == "LSTM" {
                let mut net = laser_lstm(seed)?;
                let pred =
                    fit_and_run(&mut net, &train_seq, &stream, &mut adam, &config, |_| rnn_core::Control::Continue)?;
                (tail(&pred), lstm_free_run(&mut net, &train_seq, window)?)
            } else {
                let mut net = laser_elman(seed)?;
                let pred =
                    fit_and_run(&mut net, &train_seq, &stream, &mut adam, &config, |_| rnn_core::Control::Continue)?;
                (tail(&pred), elman_free_run(&mut net, &train_seq, window)?)
            };
            bar.inc(1);
            Ok(LaserRun { one_step: nmse(&one_step)?, free: nmse(&free)? })
        })?;
        rows.push((name, runs));
    }
    Ok(laser_report(&rows, seeds, epochs))
}

fn laser_report(rows: &[(&str, Vec<LaserRun>)], seeds: u64, epochs: usize) -> (String, Value) {
    let mut md = format!(
        "### Santa Fe laser (competition data set A)\n\n\
         Train on the first {LASER_TRAIN} points, forecast points {}–{}. Inputs: windows of the last \
         {LASER_LAGS} values, min-max scaled on the training points; one linear output, the next value. \
         LSTM: `LstmConfig::new({LASER_LAGS}, {LASER_UNITS}, 1)` (forget gates, tanh, {LASER_UNITS} one-cell \
         blocks) with a linear head, full BPTT over the whole training stream; Elman: {LASER_LAGS}–{LASER_UNITS}–1, \
         tanh hidden units, trained with the context as input as in the sunspots experiment; both weights \
         in ±{}, full-batch Adam (step {}), {epochs} epochs, {seeds} seeds. *One-step*: each test point \
         predicted from the true values before it (the context carried from the first point); *free-running*: \
         the {LASER_HORIZON} points iterated from the state after the training points, each prediction fed back \
         into the window (the competition's task). NMSE = MSE / variance of the {LASER_HORIZON} true test points.\n\n\
         | model | NMSE one-step (mean ± sd) | NMSE free-running, {LASER_HORIZON} steps (mean ± sd) |\n|---|---|---|\n",
        LASER_TRAIN + 1,
        LASER_TRAIN + LASER_HORIZON,
        sunspots::INIT,
        LASER_LEARNING_RATE,
    );
    let mut json_rows = serde_json::Map::new();
    for (name, runs) in rows {
        let one: Vec<f64> = runs.iter().map(|r| r.one_step).collect();
        let free: Vec<f64> = runs.iter().map(|r| r.free).collect();
        let ((m1, s1), (m2, s2)) = (mean_sd(&one), mean_sd(&free));
        md.push_str(&format!("| {name} (ours) | {m1:.4} ± {s1:.4} | {m2:.3} ± {s2:.3} |\n"));
        json_rows.insert(name.to_lowercase(), json!({ "nmse_one_step": one, "nmse_free_running": free }));
    }
    for (name, v) in LASER_PUBLISHED {
        md.push_str(&format!("| {name} (published) | – | {v} |\n"));
    }
    md.push_str("| Reservoir nets, one-step (R, REFERENCE §6.2) | 10⁻³ – 10⁻² | – |\n");
    let json = json!({ "seeds": seeds, "epochs": epochs, "lags": LASER_LAGS, "units": LASER_UNITS,
        "models": json_rows, "published_free_running": { "wan": 0.0273, "sauer": 0.077 } });
    (md, json)
}

/// Windows of [`LASER_LAGS`] values predicting the next one, for every target index from
/// `LASER_LAGS` on: the whole stream and its training part (targets before `LASER_TRAIN`).
fn laser_windows(scaled: &[f64]) -> DynResult<(Sequence<f64>, Sequence<f64>)> {
    let n = scaled.len() - LASER_LAGS;
    let x = DMatrix::from_fn(LASER_LAGS, n, |i, j| scaled[j + i]);
    let d = DMatrix::from_fn(1, n, |_, j| scaled[j + LASER_LAGS]);
    let stream = Sequence::new(x, d)?;
    let (train, _) = stream.split_at(LASER_TRAIN - LASER_LAGS)?;
    Ok((stream, train))
}

/// The predictions of the last [`LASER_HORIZON`] targets (the test points).
fn tail(pred: &[f64]) -> Vec<f64> {
    pred[pred.len() - LASER_HORIZON..].to_vec()
}

fn laser_lstm(seed: u64) -> DynResult<Lstm<f64>> {
    Ok(LstmConfig::new(LASER_LAGS, LASER_UNITS, 1)
        .head(Head::new(1))
        .init(WeightInit::Uniform(sunspots::INIT))
        .seed(seed)
        .build()?)
}

fn laser_elman(seed: u64) -> DynResult<Elman<f64>> {
    Ok(ElmanConfig::new(LASER_LAGS, &[LASER_UNITS], 1)
        .hidden_activation(Activation::Tanh)
        .output_activation(Activation::Identity)
        .init(Init::Uniform(sunspots::INIT))
        .backprop(Backprop::ContextAsInput)
        .seed(seed)
        .build()?)
}

/// Runs the training windows from the zero state, then iterates [`LASER_HORIZON`] steps from
/// `window` (the last known values, not yet read), feeding each prediction back.
fn lstm_free_run(net: &mut Lstm<f64>, train: &Sequence<f64>, window: &[f64]) -> DynResult<Vec<f64>> {
    let mut state = net.zero_state(1);
    net.forward_from(&SeqBatch::new(train.inputs.clone(), None, train.len(), 1)?, &mut state)?;
    let mut window = window.to_vec();
    let mut out = Vec::with_capacity(LASER_HORIZON);
    for _ in 0..LASER_HORIZON {
        let x = DMatrix::from_column_slice(LASER_LAGS, 1, &window);
        let y = net.forward_from(&SeqBatch::new(x, None, 1, 1)?, &mut state)?[(0, 0)];
        window.remove(0);
        window.push(y);
        out.push(y);
    }
    Ok(out)
}

/// As [`lstm_free_run`], for the Elman net (its own windowed forecast).
fn elman_free_run(net: &mut Elman<f64>, train: &Sequence<f64>, window: &[f64]) -> DynResult<Vec<f64>> {
    let mut state = net.initial_state(1)?;
    net.forward_from(&SeqBatch::new(train.inputs.clone(), None, train.len(), 1)?, &mut state)?;
    Ok(net.forecast_window(&mut state, window, LASER_HORIZON)?)
}

/// Sunspots, the `sunspots` experiment's protocol and Elman net, with an LSTM beside it.
pub fn sunspots(mode: Mode, bar: &ProgressBar) -> DynResult<(String, Value)> {
    let (seeds, epochs) = match mode {
        Mode::Full => (10u64, sunspots::EPOCHS),
        Mode::Quick => (2, 50),
    };
    let data = SunspotData::load()?;
    bar.set_message("sunspots");
    let config = TrainConfig { epochs, batch_size: 1, loss: Loss::Mse, ..TrainConfig::default() };
    let lstm = parallel_seeds(seeds, |seed| {
        let mut net = sunspot_lstm(seed)?;
        let mut adam = Adam::new(sunspots::LEARNING_RATE)?;
        let pred =
            fit_and_run(&mut net, &data.train_seq, &data.stream, &mut adam, &config, |_| rnn_core::Control::Continue)?;
        data.test_nmse(&pred)
    })?;
    let elman = parallel_seeds(seeds, |seed| {
        let pred = sunspots::train_and_predict(sunspots::Net::Elman, seed, epochs, &data.train_seq, &data.stream, bar)?;
        data.test_nmse(&pred)
    })?;
    Ok(sunspot_report(&[("LSTM", lstm), ("Elman", elman)], seeds, epochs, data.variance))
}

fn sunspot_lstm(seed: u64) -> DynResult<Lstm<f64>> {
    Ok(LstmConfig::new(sunspots::LAGS, sunspots::HIDDEN, 1)
        .head(Head::new(1))
        .init(WeightInit::Uniform(sunspots::INIT))
        .seed(seed)
        .build()?)
}

fn sunspot_report(rows: &[(&str, Vec<[f64; 2]>)], seeds: u64, epochs: usize, variance: f64) -> (String, Value) {
    let mut md = format!(
        "### Sunspots (yearly; Weigend, Huberman & Rumelhart 1990 split)\n\n\
         The `sunspots` experiment's protocol and code: train on targets 1712–1920, test one step ahead on \
         1921–1955 and 1956–1979, {} lags in (min-max scaled on 1700–1920), one linear output, weights in \
         ±{}, full-batch Adam (step {}), {epochs} epochs, {seeds} seeds, the state carried over the whole \
         1712–1979 stream. LSTM: `LstmConfig::new({}, {}, 1)` ({} one-cell blocks, forget gates, tanh) with a \
         linear head, full BPTT; Elman: the `sunspots` experiment's net ({} tanh hidden units, context as \
         input). NMSE = MSE / variance of 1700–1979 ({variance:.1}).\n\n\
         | model | NMSE 1921–1955 | NMSE 1956–1979 |\n|---|---|---|\n",
        sunspots::LAGS,
        sunspots::INIT,
        sunspots::LEARNING_RATE,
        sunspots::LAGS,
        sunspots::HIDDEN,
        sunspots::HIDDEN,
        sunspots::HIDDEN,
    );
    let mut json_rows = serde_json::Map::new();
    for (name, runs) in rows {
        let a: Vec<f64> = runs.iter().map(|r| r[0]).collect();
        let b: Vec<f64> = runs.iter().map(|r| r[1]).collect();
        let ((ma, sa), (mb, sb)) = (mean_sd(&a), mean_sd(&b));
        md.push_str(&format!("| {name} (ours, mean ± sd) | {ma:.3} ± {sa:.3} | {mb:.3} ± {sb:.3} |\n"));
        json_rows.insert(name.to_lowercase(), json!({ "nmse_test1": a, "nmse_test2": b }));
    }
    for (name, a, b) in sunspots::PUBLISHED {
        md.push_str(&format!("| {name} (published, R) | {a:.3} | {b:.3} |\n"));
    }
    (md, json!({ "seeds": seeds, "epochs": epochs, "models": json_rows }))
}
