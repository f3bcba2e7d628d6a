//! The continual embedded Reber grammar (CERG): Gers, Schmidhuber & Cummins, "Learning to
//! forget: continual prediction with LSTM", Neural Computation 12(10), 2000, Table 2
//! (REFERENCE.md §1.7), LSTM with and without forget gates.

use indicatif::ProgressBar;
use nalgebra::DMatrix;
use rnn_core::{Loss, Optimizer, Parameters, SeqBatch, Sgd};
use rnn_data::generators::{
    CONTINUAL_REBER_GOOD_LENGTH, CONTINUAL_REBER_MAX_SQUARED_ERROR, CONTINUAL_REBER_TEST_LENGTH,
    CONTINUAL_REBER_TEST_STREAMS, ReberString, continual_reber, continual_reber_error_free, embedded_reber,
};
use rnn_lstm::{Lstm, LstmConfig, LstmState};
use serde_json::{Value, json};

use super::fmt_count;
use crate::DynResult;
use crate::reproduce::{Mode, sunspots::parallel_seeds};

/// 4 blocks of 2 cells, 7 inputs, 7 outputs with input shortcuts: 424 weights with forget
/// gates (REFERENCE §1.6b).
const WEIGHTS_FORGET: usize = 424;
/// Learning rate 0.5, fixed (the table's rows without α decay).
const LR: f64 = 0.5;
/// The paper's cap: at most 30,000 training streams.
const MAX_STREAMS: usize = 30_000;
/// Test streams are run in pieces of this many steps (memory), stopping at the first error.
const TEST_CHUNK: usize = 10_000;

/// Table 2 (S): % perfect (training streams to solution), % good ⟨mean error-free length⟩,
/// % rest ⟨mean error-free length⟩.
const PAPER: [(&str, &str); 2] = [
    ("Standard LSTM (paper)", "| 0 % (–) | 1 % ⟨1,166⟩ | 99 % ⟨37⟩ |"),
    ("LSTM with forget gates (paper)", "| 18 % (18,889) | 29 % ⟨39,171⟩ | 53 % ⟨145⟩ |"),
];

/// One network's outcome.
struct Trial {
    /// Training streams presented, and symbols in them.
    streams: usize,
    symbols: usize,
    /// The training stream that ran `CONTINUAL_REBER_TEST_LENGTH` symbols without error, if any.
    solved_at: Option<usize>,
    /// Error-free symbols on each test stream.
    test_lengths: Vec<usize>,
}

impl Trial {
    fn mean_length(&self) -> f64 {
        self.test_lengths.iter().sum::<usize>() as f64 / self.test_lengths.len().max(1) as f64
    }

    fn class(&self) -> Class {
        if self.test_lengths.iter().all(|&n| n == CONTINUAL_REBER_TEST_LENGTH) {
            Class::Perfect
        } else if self.mean_length() > CONTINUAL_REBER_GOOD_LENGTH as f64 {
            Class::Good
        } else {
            Class::Rest
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Class {
    Perfect,
    Good,
    Rest,
}

pub fn run(mode: Mode, bar: &ProgressBar) -> DynResult<(String, Value)> {
    let (nets, symbol_budget) = match mode {
        Mode::Full => (100u64, 1_500_000usize),
        Mode::Quick => (2, 20_000),
    };
    let weights = [net(false, 0)?.num_params(), net(true, 0)?.num_params()];
    if weights[1] != WEIGHTS_FORGET {
        return Err(format!("CERG LSTM has {} weights, the paper's has {WEIGHTS_FORGET}", weights[1]).into());
    }
    let mut md = intro(nets, symbol_budget, weights);
    let mut rows = Vec::new();
    for (forget, (paper_label, paper_row)) in [false, true].into_iter().zip(PAPER) {
        bar.set_message(format!("continual Reber, forget gates {forget}"));
        let trials = parallel_seeds(nets, |seed| {
            let t = trial(forget, seed, symbol_budget);
            bar.inc(1);
            t
        })?;
        md.push_str(&row(forget, &trials, weights[usize::from(forget)]));
        md.push_str(&format!(
            "| {paper_label} | {} | 100 | 30,000 streams {paper_row}\n",
            weights[usize::from(forget)]
        ));
        rows.push(json!({
            "forget_gates": forget,
            "weights": weights[usize::from(forget)],
            "streams": trials.iter().map(|t| t.streams).collect::<Vec<_>>(),
            "symbols": trials.iter().map(|t| t.symbols).collect::<Vec<_>>(),
            "solved_at": trials.iter().map(|t| t.solved_at).collect::<Vec<_>>(),
            "test_error_free_lengths": trials.iter().map(|t| t.test_lengths.clone()).collect::<Vec<_>>(),
        }));
    }
    let json = json!({ "nets": nets, "symbol_budget": symbol_budget, "max_streams": MAX_STREAMS, "runs": rows });
    Ok((md, json))
}

fn intro(nets: u64, symbol_budget: usize, weights: [usize; 2]) -> String {
    format!(
        "### Continual embedded Reber grammar (Gers, Schmidhuber & Cummins 2000, Table 2)\n\n\
         Embedded Reber strings concatenated into one stream, no reset between strings; the net predicts \
         the next symbol at every step. A symbol counts as predicted when every output unit is within \
         √{CONTINUAL_REBER_MAX_SQUARED_ERROR} of the set of possible next symbols ((y − d)² < \
         {CONTINUAL_REBER_MAX_SQUARED_ERROR}, REFERENCE §1.7, unverified against the paper). `gers2000(7, 4, 2, 7)`: \
         4 blocks × 2 cells, recurrence from the cell outputs, logistic outputs with bias and input \
         shortcuts, input- and output-gate biases −0.5, −1, −1.5, −2, forget-gate biases +0.5 … +2, other \
         weights in ±0.2, η = {LR} fixed: {} weights with forget gates (the paper's 424), {} without. \
         Training: each training stream starts from the zero state and runs until its first wrongly \
         predicted symbol (that symbol's error is still learned from) or until {} symbols; weights \
         change after each embedded string, by BPTT through that string from the carried state \
         (truncated at string boundaries; the paper changes them every step by its truncated RTRL); \
         the targets are the possible next symbols (1 for each, 0 for the others), the d that the \
         criterion compares with. Training ends when a training stream runs \
         its {} symbols without error, after {} streams (the paper's cap), or after {} symbols in all \
         (ours: the paper's 100 nets × up to 30,000 streams do not fit this run). Then every net is tested \
         on {CONTINUAL_REBER_TEST_STREAMS} fresh streams of {} symbols: *perfect* when all are error-free, \
         *good* when the mean error-free length exceeds {CONTINUAL_REBER_GOOD_LENGTH}, else *rest*; \
         ⟨⟩ is the mean error-free test length of the class. {nets} nets (seeds 0–{}) per row.\n\n\
         | net | weights | nets | budget | % perfect (training streams to solution) | % good ⟨mean length⟩ | % rest ⟨mean length⟩ |\n\
         |---|--:|--:|---|---|---|---|\n",
        weights[1],
        weights[0],
        fmt_count(CONTINUAL_REBER_TEST_LENGTH as f64),
        fmt_count(CONTINUAL_REBER_TEST_LENGTH as f64),
        fmt_count(MAX_STREAMS as f64),
        fmt_count(symbol_budget as f64),
        fmt_count(CONTINUAL_REBER_TEST_LENGTH as f64),
        nets - 1,
    )
}

fn row(forget: bool, trials: &[Trial], weights: usize) -> String {
    let n = trials.len() as f64;
    let cell = |class: Class, with_length: bool| {
        let members: Vec<&Trial> = trials.iter().filter(|t| t.class() == class).collect();
        let pct = 100.0 * members.len() as f64 / n;
        if members.is_empty() {
            return if with_length { format!("{pct:.0} % ⟨–⟩") } else { format!("{pct:.0} % (–)") };
        }
        if with_length {
            let mean = members.iter().map(|t| t.mean_length()).sum::<f64>() / members.len() as f64;
            format!("{pct:.0} % ⟨{}⟩", fmt_count(mean))
        } else {
            let streams: Vec<usize> = members.iter().filter_map(|t| t.solved_at).collect();
            let mean = streams.iter().sum::<usize>() as f64 / streams.len().max(1) as f64;
            format!("{pct:.0} % ({})", fmt_count(mean))
        }
    };
    let streams = trials.iter().map(|t| t.streams).sum::<usize>() as f64 / n;
    let symbols = trials.iter().map(|t| t.symbols).sum::<usize>() as f64 / n;
    format!(
        "| {} (ours) | {weights} | {} | mean {} streams, {} symbols | {} | {} | {} |\n",
        if forget { "LSTM with forget gates" } else { "Standard LSTM (no forget gate)" },
        trials.len(),
        fmt_count(streams),
        fmt_count(symbols),
        cell(Class::Perfect, false),
        cell(Class::Good, true),
        cell(Class::Rest, true),
    )
}

/// Gers et al.'s net, with or without forget gates.
fn net(forget: bool, seed: u64) -> DynResult<Lstm<f64>> {
    let config = LstmConfig::gers2000(7, 4, 2, 7).seed(seed);
    let config = if forget { config } else { config.forget_gate(false).forget_gate_bias(None) };
    Ok(config.build()?)
}

/// One embedded string as a piece of a continual stream: every symbol in, the possible next
/// symbols out (multi-hot, the targets of the error criterion), the last being the B that starts
/// the next string; with the possible-next masks.
fn piece(s: &ReberString<f64>) -> DynResult<(SeqBatch<f64>, Vec<u8>)> {
    let n = s.symbols.len();
    let x = DMatrix::from_fn(7, n, |i, t| f64::from(u8::from(i == usize::from(s.symbols[t]))));
    let mut masks = s.legal_next.clone();
    masks.push(1); // after the final E only B may come
    let d = DMatrix::from_fn(7, n, |i, t| f64::from(masks[t] >> i & 1));
    Ok((SeqBatch::new(x, Some(d), n, 1)?, masks))
}

/// Trains one net, then tests it.
fn trial(forget: bool, seed: u64, symbol_budget: usize) -> DynResult<Trial> {
    let mut lstm = net(forget, seed)?;
    let mut sgd = Sgd::new(LR)?;
    let mut grad = vec![0.0; lstm.num_params()];
    let mut rng = rnn_core::rng::derive(seed, 7);
    let (mut streams, mut symbols, mut solved_at) = (0, 0, None);
    while streams < MAX_STREAMS && symbols < symbol_budget && solved_at.is_none() {
        streams += 1;
        let mut state = lstm.zero_state(1);
        let mut length = 0;
        loop {
            let (batch, masks) = piece(&embedded_reber(&mut rng)?)?;
            let mut probe = state.clone();
            let out = lstm.forward_from(&batch, &mut probe)?;
            let ok = continual_reber_error_free(&out, &masks)?;
            let steps = (ok + 1).min(batch.steps());
            let batch = if steps < batch.steps() { truncate(&batch, steps)? } else { batch };
            lstm.loss_and_gradient_from(&batch, Loss::SumSquared, &mut grad, &mut state)?;
            sgd.step(lstm.params_mut(), &grad)?;
            length += steps;
            if ok < masks.len() || length >= CONTINUAL_REBER_TEST_LENGTH {
                break;
            }
        }
        symbols += length;
        if length >= CONTINUAL_REBER_TEST_LENGTH {
            solved_at = Some(streams);
        }
    }
    let test_lengths = (0..CONTINUAL_REBER_TEST_STREAMS as u64)
        .map(|k| test_stream(&mut lstm, seed, k))
        .collect::<DynResult<Vec<usize>>>()?;
    Ok(Trial { streams, symbols, solved_at, test_lengths })
}

/// The first `steps` steps of a batch of one sequence.
fn truncate(batch: &SeqBatch<f64>, steps: usize) -> DynResult<SeqBatch<f64>> {
    let x = batch.inputs().columns(0, steps).into_owned();
    let d = batch.require_targets()?.columns(0, steps).into_owned();
    Ok(SeqBatch::new(x, Some(d), steps, 1)?)
}

/// Error-free symbols of test stream `k` of net `seed` (its own generator, never a training
/// stream's), run from the zero state in pieces.
fn test_stream(lstm: &mut Lstm<f64>, seed: u64, k: u64) -> DynResult<usize> {
    let mut rng = rnn_core::rng::derive(seed, 1_000 + k);
    let stream = continual_reber::<f64>(CONTINUAL_REBER_TEST_LENGTH, &mut rng)?;
    let mut state: LstmState<f64> = lstm.zero_state(1);
    for t0 in (0..stream.len()).step_by(TEST_CHUNK) {
        let n = TEST_CHUNK.min(stream.len() - t0);
        let x = stream.sequence.inputs.columns(t0, n).into_owned();
        let out = lstm.forward_from(&SeqBatch::new(x, None, n, 1)?, &mut state)?;
        let ok = continual_reber_error_free(&out, &stream.legal_next[t0..t0 + n])?;
        if ok < n {
            return Ok(t0 + ok);
        }
    }
    Ok(stream.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_net_has_the_papers_424_weights() {
        assert_eq!(net(true, 0).unwrap().num_params(), WEIGHTS_FORGET);
        // Without forget gates: 4 gates × (7 inputs + 8 cells + bias) fewer.
        assert_eq!(net(false, 0).unwrap().num_params(), WEIGHTS_FORGET - 64);
    }

    #[test]
    fn a_piece_ends_with_the_b_of_the_next_string() {
        let s = ReberString::<f64>::parse("BTBPVVETE").unwrap();
        let (batch, masks) = piece(&s).unwrap();
        assert_eq!((batch.steps(), masks.len()), (9, 9));
        let d = batch.require_targets().unwrap();
        assert_eq!(d.column(8).iter().copied().collect::<Vec<_>>(), [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(d.column(0).sum(), 2.0); // after B: T or P
    }
}
