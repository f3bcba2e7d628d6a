//! Elman network (tanh hidden layer, one linear output) in f32 at the standard sizes.
//!
//! - `elman_train`: one training step — forward over T steps, MSE over every step, full-BPTT
//!   gradient, one SGD step — the unit `benches/peers/torch_rnn_bench.py` times for `nn.RNN`.
//! - `elman_infer`: the forward pass over the batch.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rnn_benches::{STANDARD_SIZES, random_batch};
use rnn_core::{Activation, Differentiable, Loss, Optimizer, Parameters, SequenceModel, Sgd};
use rnn_partial::{Backprop, Elman, ElmanConfig};

fn model(inputs: usize, hidden: usize) -> Elman<f32> {
    let config = ElmanConfig::new(inputs, &[hidden], 1)
        .hidden_activation(Activation::Tanh)
        .output_activation(Activation::Identity)
        .backprop(Backprop::Full)
        .seed(0);
    config.build().expect("the benchmark configuration is valid")
}

fn train(c: &mut Criterion) {
    let mut group = c.benchmark_group("elman_train");
    for size in STANDARD_SIZES {
        let mut net = model(size.inputs, size.hidden);
        let batch = random_batch::<f32>(size, 1, 1);
        let mut grad = vec![0.0f32; net.num_params()];
        let mut sgd = Sgd::new(1e-3f32).expect("valid learning rate");
        group.throughput(Throughput::Elements(3 * size.forward_flops(1)));
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
    let mut group = c.benchmark_group("elman_infer");
    for size in STANDARD_SIZES {
        let mut net = model(size.inputs, size.hidden);
        let batch = random_batch::<f32>(size, 1, 1);
        group.throughput(Throughput::Elements(size.forward_flops(1)));
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
