//! Yearly sunspots, the classic split of Weigend, Huberman & Rumelhart (1990): train on
//! 1700–1920, test one step ahead on 1921–1955 and 1956–1979, 12 lags in, NMSE out.

use indicatif::ProgressBar;
use rnn_core::{Activation, Adam, Differentiable, Loss, SeqBatch, Sequence, TrainConfig, train};
use rnn_data::datasets::{SUNSPOTS_CLASSIC, SUNSPOTS_TEST1, SUNSPOTS_TEST2, SUNSPOTS_TRAIN};
use rnn_data::{MinMaxScaler, Scaler, WindowSpec, Windows, metrics};
use rnn_partial::{Backprop, ElmanConfig, Init, JordanConfig};
use serde_json::json;

use super::{Mode, Section, mean_sd};
use crate::DynResult;
use crate::svg::{Options, Series, line_chart_with};

/// Lags, as in Weigend et al. (1990).
pub const LAGS: usize = 12;
/// Hidden units (Weigend's weight-elimination MLP ended with 12-8-1).
pub const HIDDEN: usize = 8;
/// Full-batch Adam epochs over the training stream, at [`LEARNING_RATE`].
pub const EPOCHS: usize = 1500;
/// Adam's step size.
pub const LEARNING_RATE: f64 = 0.002;
/// Initial weights uniform in ±`INIT`: small weights keep the fit smooth (Glorot's larger
/// weights overfit the 209 training years: NMSE ≈ 0.10–0.11 on 1921–1955).
pub const INIT: f64 = 0.1;

/// The published NMSE figures on (1921–1955, 1956–1979), tagged R in REFERENCE.md.
pub const PUBLISHED: [(&str, f64, f64); 2] = [
    ("Weight-elimination MLP 12-8-1 (Weigend et al. 1990)", 0.086, 0.35),
    ("Threshold AR (Tong & Lim 1980)", 0.097, 0.28),
];

/// The partially recurrent nets of this experiment.
#[derive(Clone, Copy)]
pub enum Net {
    Elman,
    Jordan,
}

impl Net {
    /// The net's name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Net::Elman => "Elman",
            Net::Jordan => "Jordan",
        }
    }
}

/// One trained net's one-step predictions (original units) for every target year 1712–1979.
struct Run {
    predictions: Vec<f64>,
    nmse: [f64; 2],
}

/// The protocol's data: the series scaled on the training years, windows of [`LAGS`] lags for
/// every target year 1712–1979, the training part (targets 1712–1920), and the two test periods.
pub struct SunspotData {
    /// Min-max scaling fitted on 1700–1920.
    pub scaler: MinMaxScaler,
    /// The target year of each window of `stream`.
    pub years: Vec<i64>,
    /// Every window, one step per target year, scaled.
    pub stream: Sequence<f64>,
    /// The first windows, whose targets are training years.
    pub train_seq: Sequence<f64>,
    /// The observed value of each target year, in original units.
    pub truth: Vec<f64>,
    /// Indices into `years` of the test periods 1921–1955 and 1956–1979.
    pub tests: [Vec<usize>; 2],
    /// Variance of the series over 1700–1979, the NMSE's denominator.
    pub variance: f64,
}

impl SunspotData {
    /// Loads the series and cuts it by the Weigend et al. (1990) protocol.
    pub fn load() -> DynResult<Self> {
        let series = rnn_data::sunspots()?;
        // NMSE divides by the variance of the series over the protocol's span, 1700–1979.
        let variance = metrics::variance(series.between(SUNSPOTS_CLASSIC)?.values())?;
        let scaler = MinMaxScaler::fit(series.between(SUNSPOTS_TRAIN)?.values())?;
        let scaled = series.map(|v| scaler.transform_value(v))?;
        let spec = WindowSpec::one_step(LAGS)?;
        let first = SUNSPOTS_TRAIN.start() + LAGS as i64;
        let windows = Windows::targets_in_labels(&scaled, spec, first..=*SUNSPOTS_TEST2.end())?;
        let years = windows.target_labels().to_vec();
        let stream: Sequence<f64> = windows.to_sequence()?;
        let n_train = years.iter().filter(|y| SUNSPOTS_TRAIN.contains(y)).count();
        let (train_seq, _) = stream.split_at(n_train)?;
        let truth: Vec<f64> = years.iter().map(|&y| series.get(y).unwrap_or(f64::NAN)).collect();
        let test_idx = |range: &std::ops::RangeInclusive<i64>| -> Vec<usize> {
            years.iter().enumerate().filter(|(_, y)| range.contains(y)).map(|(i, _)| i).collect()
        };
        let tests = [test_idx(&SUNSPOTS_TEST1), test_idx(&SUNSPOTS_TEST2)];
        Ok(Self { scaler, years, stream, train_seq, truth, tests, variance })
    }

    /// NMSE of `pred` (original units, one per target year) over the years at `idx`.
    pub fn nmse_at(&self, pred: &[f64], idx: &[usize]) -> DynResult<f64> {
        let p: Vec<f64> = idx.iter().map(|&i| pred[i]).collect();
        let t: Vec<f64> = idx.iter().map(|&i| self.truth[i]).collect();
        Ok(metrics::nmse(&p, &t, self.variance)?)
    }

    /// NMSE of scaled one-step predictions over both test periods.
    pub fn test_nmse(&self, scaled: &[f64]) -> DynResult<[f64; 2]> {
        let pred: Vec<f64> = scaled.iter().map(|&v| self.scaler.inverse_value(v)).collect();
        Ok([self.nmse_at(&pred, &self.tests[0])?, self.nmse_at(&pred, &self.tests[1])?])
    }
}

pub fn run(mode: Mode, bar: &ProgressBar) -> DynResult<Section> {
    let (seeds, epochs) = match mode {
        Mode::Full => (10u64, EPOCHS),
        Mode::Quick => (3, EPOCHS),
    };
    let data = SunspotData::load()?;
    let (years, truth, tests, variance) = (&data.years, &data.truth, &data.tests, data.variance);
    let (train_seq, stream, scaler) = (&data.train_seq, &data.stream, &data.scaler);
    let nmse_at = |pred: &[f64], idx: &[usize]| data.nmse_at(pred, idx);

    bar.set_length(2 * seeds * epochs as u64);
    let mut results = Vec::new();
    for net in [Net::Elman, Net::Jordan] {
        bar.set_message(net.name());
        let runs = parallel_seeds(seeds, |seed| -> DynResult<Run> {
            let scaled_pred = train_and_predict(net, seed, epochs, train_seq, stream, bar)?;
            let predictions: Vec<f64> = scaled_pred.iter().map(|&v| scaler.inverse_value(v)).collect();
            let nmse = [nmse_at(&predictions, &tests[0])?, nmse_at(&predictions, &tests[1])?];
            Ok(Run { predictions, nmse })
        })?;
        results.push((net, runs));
    }

    // Persistence: ŷ(t) = y(t − 1).
    let series = rnn_data::sunspots()?;
    let persistence: Vec<f64> = years.iter().map(|&y| series.get(y - 1).unwrap_or(f64::NAN)).collect();
    let persistence_nmse = [nmse_at(&persistence, &tests[0])?, nmse_at(&persistence, &tests[1])?];

    let mut md = String::from("## Sunspots (yearly, 1700–1979)\n\n");
    md.push_str(&format!(
        "Weigend, Huberman & Rumelhart (1990) split: train on targets 1712–1920, test one step ahead on \
         1921–1955 and 1956–1979; {LAGS} lags in (min-max scaled on 1700–1920), 1 linear output, {HIDDEN} tanh \
         hidden units, weights initialised in ±{INIT}, trained by backpropagation with the context as input (the \
         classic method), full-batch Adam (step {LEARNING_RATE}), {epochs} epochs, {seeds} seeds; Jordan's context \
         decay μ = 0.5. The net runs over \
         the whole 1712–1979 stream with its context carried on. NMSE = MSE / variance of 1700–1979 \
         ({variance:.1}).\n\n"
    ));
    md.push_str("| model | NMSE 1921–1955 | NMSE 1956–1979 |\n|---|---|---|\n");
    let mut json_models = serde_json::Map::new();
    for (net, runs) in &results {
        let a: Vec<f64> = runs.iter().map(|r| r.nmse[0]).collect();
        let b: Vec<f64> = runs.iter().map(|r| r.nmse[1]).collect();
        let ((ma, sa), (mb, sb)) = (mean_sd(&a), mean_sd(&b));
        md.push_str(&format!("| {} (ours, mean ± sd) | {ma:.3} ± {sa:.3} | {mb:.3} ± {sb:.3} |\n", net.name()));
        json_models.insert(
            net.name().to_lowercase(),
            json!({ "nmse_test1": a, "nmse_test2": b,
            "mean_test1": ma, "sd_test1": sa, "mean_test2": mb, "sd_test2": sb }),
        );
    }
    md.push_str(&format!("| Persistence ŷ(t) = y(t−1) | {:.3} | {:.3} |\n", persistence_nmse[0], persistence_nmse[1]));
    for (name, a, b) in PUBLISHED {
        md.push_str(&format!("| {name} (published) | {a:.3} | {b:.3} |\n"));
    }
    let elman_mean = mean_sd(&results[0].1.iter().map(|r| r.nmse[0]).collect::<Vec<_>>()).0;
    let target_met = elman_mean <= 0.10;
    md.push_str(&format!(
        "\nTarget: Elman mean NMSE on 1921–1955 ≤ 0.10 — {} ({elman_mean:.3}).\n\n![forecast](sunspots.svg)\n",
        if target_met { "met" } else { "NOT met" }
    ));

    // Plot: truth, the Elman and Jordan predictions of the first seed, and persistence, 1921–1979.
    let test_years: Vec<usize> = tests.concat();
    let line = |pred: &[f64]| test_years.iter().map(|&i| (years[i] as f64, pred[i])).collect::<Vec<_>>();
    let svg = line_chart_with(
        "Yearly sunspots 1921–1979: one-step forecasts of the nets trained from seed 0",
        "year",
        "sunspot number",
        &[
            Series { label: "observed", color: "#000000", points: line(truth), dashed: false },
            Series { label: "Elman", color: "#d62728", points: line(&results[0].1[0].predictions), dashed: false },
            Series { label: "Jordan", color: "#1f77b4", points: line(&results[1].1[0].predictions), dashed: false },
            Series { label: "persistence", color: "#999999", points: line(&persistence), dashed: true },
        ],
        &Options {
            y_floor: Some(0.0),
            markers: vec![
                (*SUNSPOTS_TEST1.start() as f64, "test 1921–1955".into()),
                (*SUNSPOTS_TEST2.start() as f64, "test 1956–1979".into()),
            ],
        },
    );
    let json = json!({
        "lags": LAGS, "hidden": HIDDEN, "epochs": epochs, "seeds": seeds, "variance": variance,
        "models": json_models,
        "persistence": { "nmse_test1": persistence_nmse[0], "nmse_test2": persistence_nmse[1] },
        "published": PUBLISHED.iter().map(|(n, a, b)| json!({ "name": n, "nmse_test1": a, "nmse_test2": b })).collect::<Vec<_>>(),
        "target_elman_test1_max": 0.10, "target_met": target_met,
    });
    Ok(Section { markdown: md, json, files: vec![("sunspots.svg".into(), svg)] })
}

/// Trains one net on the training stream and returns its one-step predictions (scaled units)
/// over the whole stream, context carried from the first step to the last.
pub fn train_and_predict(
    net: Net,
    seed: u64,
    epochs: usize,
    train_seq: &Sequence<f64>,
    stream: &Sequence<f64>,
    bar: &ProgressBar,
) -> DynResult<Vec<f64>> {
    let config = TrainConfig { epochs, batch_size: 1, loss: Loss::Mse, ..TrainConfig::default() };
    let mut adam = Adam::new(LEARNING_RATE)?;
    let progress = |_: &rnn_core::EpochReport| {
        bar.inc(1);
        rnn_core::Control::Continue
    };
    match net {
        Net::Elman => {
            let mut m = ElmanConfig::new(LAGS, &[HIDDEN], 1)
                .hidden_activation(Activation::Tanh)
                .output_activation(Activation::Identity)
                .init(Init::Uniform(INIT))
                .backprop(Backprop::ContextAsInput)
                .seed(seed)
                .build::<f64>()?;
            fit_and_run(&mut m, train_seq, stream, &mut adam, &config, progress)
        }
        Net::Jordan => {
            let mut m = JordanConfig::new(LAGS, &[HIDDEN], 1)
                .hidden_activation(Activation::Tanh)
                .output_activation(Activation::Identity)
                .mu(0.5)
                .init(Init::Uniform(INIT))
                .backprop(Backprop::ContextAsInput)
                .seed(seed)
                .build::<f64>()?;
            fit_and_run(&mut m, train_seq, stream, &mut adam, &config, progress)
        }
    }
}

/// Trains `model` on the training stream, then runs it over the whole stream from its initial
/// state (the context carried from the first step to the last) and returns its outputs.
pub fn fit_and_run<M: Differentiable<f64>>(
    model: &mut M,
    train_seq: &Sequence<f64>,
    stream: &Sequence<f64>,
    optimizer: &mut Adam<f64>,
    config: &TrainConfig,
    progress: impl FnMut(&rnn_core::EpochReport) -> rnn_core::Control,
) -> DynResult<Vec<f64>> {
    train(model, std::slice::from_ref(train_seq), optimizer, config, progress)?;
    let whole = SeqBatch::new(stream.inputs.clone(), None, stream.len(), 1)?;
    Ok(model.forward(&whole)?.iter().copied().collect())
}

/// Runs `f` for seeds 0..n on every available core; results in seed order.
pub fn parallel_seeds<R: Send>(n: u64, f: impl Fn(u64) -> DynResult<R> + Sync) -> DynResult<Vec<R>> {
    let threads = std::thread::available_parallelism().map(|t| t.get()).unwrap_or(1).max(1) as u64;
    let results: Vec<Result<R, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let f = &f;
                s.spawn(move || {
                    (0..n)
                        .filter(|seed| seed % threads == k)
                        .map(|seed| (seed, f(seed).map_err(|e| e.to_string())))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(u64, Result<R, String>)> =
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect();
        all.sort_by_key(|(seed, _)| *seed);
        all.into_iter().map(|(_, r)| r).collect()
    });
    if results.len() as u64 != n {
        return Err("a worker thread panicked".into());
    }
    results.into_iter().map(|r| r.map_err(Into::into)).collect()
}
