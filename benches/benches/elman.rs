//! Elman network (tanh hidden layer, one linear output) in f32 at the standard sizes.
//!
//! - `elman_train`: one training step — forward over T steps, MSE over every step, full-BPTT
//!   gradient, one SGD step — the unit `benches/peers/torch_rnn_bench.py` times for `nn.RNN`.
//! - `elman_infer`: the forward pass over the batch.

use criterion::{Criterion, criterion_group, criterion_main};
use rnn_core::Activation;
use rnn_partial::{Backprop, Elman, ElmanConfig};

fn model(inputs: usize, hidden: usize) -> Elman<f32> {
    let config = ElmanConfig::new(inputs, &[hidden], 1)
        .hidden_activation(Activation::Tanh)
        .output_activation(Activation::Identity)
        .backprop(Backprop::Full)
        .seed(0);
    config.build().expect("the benchmark configuration is valid")
}

fn train_and_infer(c: &mut Criterion) {
    rnn_benches::train_and_infer(c, "elman", 1, |_| 1, |size| model(size.inputs, size.hidden));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = train_and_infer
}
criterion_main!(benches);
