//! LSTM (PyTorch's `nn.LSTM` form: one layer, forget gates, no peepholes, no head) in f32 at the
//! standard sizes.
//!
//! - `lstm_train`: one training step — forward over T steps, MSE over every step on the H cell
//!   outputs, full-BPTT gradient, one SGD step — the unit `benches/peers/torch_rnn_bench.py`
//!   times for `nn.LSTM` (its output `(T, B, H)` against random targets of that shape).
//! - `lstm_infer`: the forward pass over the batch.

use criterion::{Criterion, criterion_group, criterion_main};
use rnn_lstm::{Lstm, LstmConfig};

/// LSTM gate blocks in the peer script's operation count (input, forget, cell, output).
const GATES: usize = 4;

fn model(inputs: usize, hidden: usize) -> Lstm<f32> {
    LstmConfig::torch(inputs, hidden, 1).seed(0).build().expect("the benchmark configuration is valid")
}

fn train_and_infer(c: &mut Criterion) {
    rnn_benches::train_and_infer(c, "lstm", GATES, |size| size.hidden, |size| model(size.inputs, size.hidden));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = train_and_infer
}
criterion_main!(benches);
