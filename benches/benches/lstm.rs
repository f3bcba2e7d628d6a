//! LSTM (PyTorch's `nn.LSTM` form: one layer, forget gates, no peepholes, no head) in f32 at the
//! standard sizes.
//!
//! - `lstm_train`: one training step — forward over T steps, MSE over every step on the H cell
//!   outputs, full-BPTT gradient, one SGD step — the unit `benches/peers/torch_rnn_bench.py`
//!   times for `nn.LSTM` (its output `(T, B, H)` against random targets of that shape).
//! - `lstm_infer`: the forward pass over the batch.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rnn_benches::{STANDARD_SIZES, random_batch};
use rnn_core::{Differentiable, Loss, Optimizer, Parameters, SequenceModel, Sgd};
use rnn_lstm::{Lstm, LstmConfig};

/// LSTM gate blocks in the peer script's operation count (input, forget, cell, output).
const GATES: usize = 4;

fn model(inputs: usize, hidden: usize) -> Lstm<f32> {
    LstmConfig::torch(inputs, hidden, 1).seed(0).build().expect("the benchmark configuration is valid")
}

fn train(c: &mut Criterion) {
    let mut group = c.benchmark_group("lstm_train");
    for size in STANDARD_SIZES {
        let mut net = model(size.inputs, size.hidden);
        let batch = random_batch::<f32>(size, size.hidden, 1);
        let mut grad = vec![0.0f32; net.num_params()];
        let mut sgd = Sgd::new(1e-3f32).expect("valid learning rate");
        group.throughput(Throughput::Elements(3 * size.forward_flops(GATES)));
        group.bench_function(BenchmarkId::from_parameter(size.id()), |b| {
            b.iter(|| {
                let loss = net.loss_and_gradient(&batch, Loss::Mse, &mut grad).expect("shapes agree");
                sgd.step(net.params_mut(), &grad).expect("finite gradient");
                black_box(loss)
            })
        });
    }
    group.finish();
}

fn infer(c: &mut Criterion) {
    let mut group = c.benchmark_group("lstm_infer");
    for size in STANDARD_SIZES {
        let mut net = model(size.inputs, size.hidden);
        let batch = random_batch::<f32>(size, size.hidden, 1);
        group.throughput(Throughput::Elements(size.forward_flops(GATES)));
        group.bench_function(BenchmarkId::from_parameter(size.id()), |b| {
            b.iter(|| black_box(net.forward(&batch).expect("shapes agree")))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = train, infer
}
criterion_main!(benches);
