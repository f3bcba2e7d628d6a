//! Fully recurrent networks learning online: Williams & Zipser's (1989) small tasks by real-time
//! recurrent learning and by truncated BPTT, and the long-time-lag contrast of Hochreiter &
//! Schmidhuber (1997, Experiment 2, Task 2a) where RTRL succeeds at p = 4 and fails at p = 10.

use indicatif::ProgressBar;
use nalgebra::DMatrix;
use rnn_core::{MaskedSequence, Result as RnnResult, Sgd};
use rnn_data::generators::{a_then_b, delayed_xor, echo, long_lag, sine_wave, square_wave};
use rnn_recurrent::{Connectivity, OnlineLearner, RecurrentConfig, Rtrl, RtrlOptions, Source, TruncatedBptt};
use serde_json::{Value, json};

use super::{Mode, Section, mean_sd, median, sunspots::parallel_seeds};
use crate::DynResult;

/// A task of Williams & Zipser's kind: one continual stream, learned online.
struct Task {
    name: &'static str,
    /// What the output must do, for the report.
    goal: &'static str,
    inputs: usize,
    units: usize,
    /// The stream of `len` steps from `seed`.
    make: fn(usize, u64) -> RnnResult<MaskedSequence<f64>>,
    /// A target counts as met when |e| is below this.
    tolerance: f64,
    teacher_forcing: bool,
    /// Learning rates (plain gradient descent on ½e²) for RTRL and for BPTT(h, 1).
    lr_rtrl: f64,
    lr_bptt: f64,
    /// h of BPTT(h, 1).
    depth: usize,
}

const TASKS: &[Task] = &[
    Task {
        name: "delayed XOR",
        goal: "y(t) = x₁(t−2) XOR x₂(t−2), random bits",
        inputs: 2,
        units: 4,
        make: |len, seed| delayed_xor(len, 2, seed),
        tolerance: 0.25,
        teacher_forcing: false,
        lr_rtrl: 1.0,
        lr_bptt: 1.0,
        depth: 8,
    },
    Task {
        name: "a then b",
        goal: "y = 1 when x₂ is on for the first time after x₁ was (each on w.p. 0.2), then reset",
        inputs: 2,
        units: 4,
        make: |len, seed| a_then_b(len, 0.2, seed),
        tolerance: 0.25,
        teacher_forcing: false,
        lr_rtrl: 1.0,
        lr_bptt: 1.0,
        depth: 16,
    },
    Task {
        name: "echo 4",
        goal: "y(t) = x(t−4), random bits",
        inputs: 1,
        units: 8,
        make: |len, seed| echo(len, 4, seed),
        tolerance: 0.25,
        teacher_forcing: false,
        lr_rtrl: 1.0,
        lr_bptt: 1.0,
        depth: 8,
    },
    Task {
        name: "square wave",
        goal: "no input; period 8, levels 0.2 / 0.8",
        inputs: 0,
        units: 6,
        make: |len, _| square_wave(len, 8, 0.2, 0.8),
        tolerance: 0.1,
        teacher_forcing: true,
        lr_rtrl: 1.0,
        lr_bptt: 1.0,
        depth: 16,
    },
    Task {
        name: "sine",
        goal: "no input; 0.5 + 0.3 sin(2πt/16)",
        inputs: 0,
        units: 6,
        make: |len, _| sine_wave(len, 16.0, 0.5, 0.3),
        tolerance: 0.1,
        teacher_forcing: true,
        lr_rtrl: 1.0,
        lr_bptt: 1.0,
        depth: 16,
    },
];

/// A task counts as learned once this many consecutive targets were met.
const RUN: usize = 500;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Learner {
    Rtrl,
    Bptt,
}

impl Learner {
    fn label(self, task: &Task) -> String {
        match self {
            Learner::Rtrl => "RTRL".into(),
            Learner::Bptt => format!("BPTT({}, 1)", task.depth),
        }
    }
}

/// One seed's outcome on one task.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    /// The step at which `RUN` consecutive targets had been met, if ever.
    learned_at: Option<usize>,
    /// RMS error and the fraction of targets met over the free-running test.
    test_rms: f64,
    test_met: f64,
}

pub fn run(mode: Mode, bar: &ProgressBar) -> DynResult<Section> {
    let (seeds, train, test) = match mode {
        Mode::Full => (10u64, 100_000usize, 2_000usize),
        Mode::Quick => (2, 20_000, 500),
    };
    let mut md = String::from("## Fully recurrent networks learning online (Williams & Zipser 1989)\n\n");
    md.push_str(&format!(
        "Logistic units, every weight present, initial weights uniform in [−0.5, 0.5]; one continual stream of \
         {train} steps learned online (plain gradient descent on ½e² after every step), then a free-running test \
         on the next {test} steps with the weights frozen (no teacher forcing). *Learned at*: the step by which \
         {RUN} consecutive targets were met (|e| below the tolerance); the median over the seeds that learned. \
         {seeds} seeds. With teacher forcing (the oscillators) the training error is that of the forced run, \
         so only the free-running test shows whether the net oscillates on its own. The paper's own numbers \
         for these tasks are not at hand (REFERENCE.md §5), so this table is a measurement of ours, not a \
         comparison.\n\n"
    ));
    md.push_str("| task | goal | units | learner | teacher forcing | η | tolerance | learned (training) | median learned at | test RMS error | test targets met |\n");
    md.push_str("|---|---|--:|---|---|--:|--:|--:|--:|--:|--:|\n");
    bar.set_length(seeds * 2 * TASKS.len() as u64 + 2);
    let mut rows = Vec::new();
    for task in TASKS {
        for learner in [Learner::Rtrl, Learner::Bptt] {
            bar.set_message(format!("{} by {}", task.name, learner.label(task)));
            let outcomes = parallel_seeds(seeds, |seed| {
                let o = online_task(task, learner, train, test, seed)?;
                bar.inc(1);
                Ok(o)
            })?;
            let learned: Vec<usize> = outcomes.iter().filter_map(|o| o.learned_at).collect();
            let (rms, rms_sd) = mean_sd(&outcomes.iter().map(|o| o.test_rms).collect::<Vec<_>>());
            let (met, _) = mean_sd(&outcomes.iter().map(|o| o.test_met).collect::<Vec<_>>());
            let lr = if learner == Learner::Rtrl { task.lr_rtrl } else { task.lr_bptt };
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {lr} | {} | {} of {seeds} | {} | {rms:.3} ± {rms_sd:.3} | {:.1} % |\n",
                task.name,
                task.goal,
                task.units,
                learner.label(task),
                if task.teacher_forcing { "yes" } else { "no" },
                task.tolerance,
                learned.len(),
                median(&learned).map_or("–".into(), |m| format!("{m:.0}")),
                100.0 * met,
            ));
            rows.push(json!({
                "task": task.name, "learner": learner.label(task), "units": task.units, "learning_rate": lr,
                "teacher_forcing": task.teacher_forcing, "learned_at": outcomes.iter().map(|o| o.learned_at).collect::<Vec<_>>(),
                "test_rms": outcomes.iter().map(|o| o.test_rms).collect::<Vec<_>>(),
                "test_met": outcomes.iter().map(|o| o.test_met).collect::<Vec<_>>(),
            }));
        }
    }
    md.push_str(
        "\n*Learned (training)*: seeds whose training error met the tolerance on {RUN} consecutive targets; \
         under teacher forcing that is the forced run, so a seed can learn here and still drift when it runs \
         free (the last two columns).\n"
            .replace("{RUN}", &RUN.to_string())
            .as_str(),
    );
    let (lag_md, lag_json) = long_lag_contrast(mode, bar)?;
    md.push_str(&lag_md);
    let json = json!({ "train_steps": train, "test_steps": test, "seeds": seeds, "run": RUN, "tasks": rows, "long_lag": lag_json });
    Ok(Section { markdown: md, json, files: vec![] })
}

/// Learns `train` steps of the task's stream online, then runs the frozen net on the next `test`.
fn online_task(task: &Task, learner: Learner, train: usize, test: usize, seed: u64) -> DynResult<Outcome> {
    let stream = (task.make)(train + test, seed)?;
    let net = RecurrentConfig::new(task.inputs, task.units, 1).init_range(0.5).seed(seed).build::<f64>()?;
    let (mut learner, lr): (Box<dyn OnlineLearner<f64>>, f64) = match learner {
        Learner::Rtrl => {
            let options = RtrlOptions::new().teacher_forcing(task.teacher_forcing);
            (Box::new(Rtrl::new(net, options)?), task.lr_rtrl)
        }
        Learner::Bptt => {
            (Box::new(TruncatedBptt::new(net, task.depth, 1)?.teacher_forcing(task.teacher_forcing)), task.lr_bptt)
        }
    };
    let mut sgd = Sgd::new(lr)?;
    let (mut run, mut learned_at) = (0usize, None);
    for t in 0..train {
        let (x, d, p) = column(&stream, t);
        learner.step(&x, &d, &p, &mut sgd)?;
        if p[0] {
            let met = (learner.outputs()[0] - d[0]).abs() < task.tolerance;
            run = if met { run + 1 } else { 0 };
            if run == RUN && learned_at.is_none() {
                learned_at = Some(t + 1);
            }
        }
    }
    // Free-running test: the frozen net continues from the learner's state.
    let mut net = learner.network().clone();
    let mut y = DMatrix::from_column_slice(net.units(), 1, learner.state());
    let (mut sq, mut met, mut count) = (0.0, 0usize, 0usize);
    for t in train..train + test {
        let (x, d, p) = column(&stream, t);
        net.step(&DMatrix::from_column_slice(x.len(), 1, &x), &mut y)?;
        if p[0] {
            let e = y[(net.outputs()[0], 0)] - d[0];
            sq += e * e;
            met += usize::from(e.abs() < task.tolerance);
            count += 1;
        }
    }
    let count = count.max(1) as f64;
    Ok(Outcome { learned_at, test_rms: (sq / count).sqrt(), test_met: met as f64 / count })
}

/// Inputs, targets and presence of step t.
fn column(s: &MaskedSequence<f64>, t: usize) -> (Vec<f64>, Vec<f64>, Vec<bool>) {
    (
        s.inputs().column(t).iter().copied().collect(),
        s.targets().column(t).iter().copied().collect(),
        s.present().column(t).iter().copied().collect(),
    )
}

/// Task 2a: the two sequences (y, a₁ … a_{p−1}, y) and (x, a₁ … a_{p−1}, x); the last symbol
/// can only be predicted by remembering the first across p − 1 steps.
fn long_lag_contrast(mode: Mode, bar: &ProgressBar) -> DynResult<(String, Value)> {
    // (p, learning rate, trials, budget in sequences).
    let settings: [(usize, f64, u64, usize); 2] = match mode {
        Mode::Full => [(4, 1.0, 18, 5_000_000), (10, 1.0, 4, 500_000)],
        Mode::Quick => [(4, 1.0, 2, 20_000), (10, 1.0, 1, 2_000)],
    };
    let mut md = String::from(
        "\n### The long-time-lag contrast (Hochreiter & Schmidhuber 1997, Task 2a)\n\n\
         p + 1 one-hot symbols; the training sequences are (y, a₁ … a_{p−1}, y) and (x, a₁ … a_{p−1}, x), each \
         drawn with probability ½; the net predicts the next symbol at every step. The paper's net: one \
         self-recurrent logistic hidden unit fed by every input, p + 1 logistic outputs fed by every input and by \
         the hidden unit, no bias (36 weights at p = 4, 144 at p = 10), weights uniform in [−0.2, 0.2], RTRL with \
         a weight change after every step and the state reset at each sequence. *Success*: every output within \
         0.25 of its target at every step of both sequences (the paper's test over 10,000 random sequences sees \
         only these two), checked every 1,000 sequences. One difference from a layered net: in Williams & \
         Zipser's formulation every unit reads the others' previous values, so an output sees the hidden unit \
         one step after the hidden unit saw the input.\n\n\
         | p | weights | η | trials | budget (sequences) | succeeded | sequences to success: median, mean | paper |\n\
         |--:|--:|--:|--:|--:|--:|--:|---|\n",
    );
    let mut rows = Vec::new();
    for (p, lr, trials, budget) in settings {
        bar.set_message(format!("Task 2a, p = {p}"));
        let results = parallel_seeds(trials, |seed| long_lag_trial(p, lr, budget, seed))?;
        bar.inc(1);
        let successes: Vec<usize> = results.iter().filter_map(|r| *r).collect();
        let paper = if p == 4 {
            "78 % of 18 trials, mean 1,043,000 sequences (η = 1.0)"
        } else {
            "0 % within 5,000,000 sequences"
        };
        md.push_str(&format!(
            "| {p} | {} | {lr} | {trials} | {budget} | {} of {trials} ({:.0} %) | {} | {paper} |\n",
            long_lag_weights(p),
            successes.len(),
            100.0 * successes.len() as f64 / trials as f64,
            median(&successes).map_or("–".into(), |m: f64| {
                let mean = successes.iter().sum::<usize>() as f64 / successes.len() as f64;
                format!("{m:.0}, {mean:.0}")
            }),
        ));
        rows.push(json!({ "p": p, "learning_rate": lr, "trials": trials, "budget": budget, "success_after": results }));
    }
    if mode == Mode::Quick {
        md.push_str(
            "\n*Quick mode*: the budgets are a smoke test of the code path, far below the paper's means, so \
             these rows say nothing about success rates; `cargo xtask reproduce recurrent` runs the real budgets.\n",
        );
    }
    Ok((md, Value::Array(rows)))
}

/// Units 0..=p are the outputs, unit p + 1 the hidden unit.
fn long_lag_connectivity(p: usize) -> DynResult<Connectivity> {
    let (inputs, hidden) = (p + 1, p + 1);
    let c = Connectivity::from_fn(inputs, p + 2, |k, s| match s {
        Source::Input(_) => true,
        Source::Unit(l) => l == hidden && (k == hidden || k <= p),
        Source::Bias => false,
    })?;
    Ok(c)
}

fn long_lag_weights(p: usize) -> usize {
    long_lag_connectivity(p).map(|c| c.num_weights()).unwrap_or(0)
}

/// Trains until both sequences are predicted within 0.25 at every step; the number of training
/// sequences by then, or `None` within `budget`.
fn long_lag_trial(p: usize, lr: f64, budget: usize, seed: u64) -> DynResult<Option<usize>> {
    let net = RecurrentConfig::new(p + 1, p + 2, p + 1)
        .connectivity(long_lag_connectivity(p)?)
        .init_range(0.2)
        .seed(seed)
        .build::<f64>()?;
    let mut rtrl = Rtrl::new(net, RtrlOptions::new())?;
    let mut sgd = Sgd::new(lr)?;
    let sequences = [long_lag::<f64>(p, true)?, long_lag::<f64>(p, false)?];
    let mut rng = rnn_core::rng::derive(seed, 2);
    for n in 1..=budget {
        use rand::RngExt;
        let seq = &sequences[usize::from(rng.random::<bool>())];
        rtrl.learn(seq, &mut sgd)?;
        if n % 1000 == 0 && solved(&mut rtrl.network().clone(), &sequences)? {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

fn solved(net: &mut rnn_recurrent::FullyRecurrent<f64>, sequences: &[MaskedSequence<f64>]) -> DynResult<bool> {
    for s in sequences {
        let out = net.run(s.inputs())?;
        if (&out - s.targets()).abs().max() >= 0.25 {
            return Ok(false);
        }
    }
    Ok(true)
}
