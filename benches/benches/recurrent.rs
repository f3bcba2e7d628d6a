//! Fully recurrent networks (rnn-recurrent) in f32.
//!
//! - `recurrent_train`: one BPTT training step at the standard sizes: N = H tanh units, every
//!   unit an output, forward over T steps, MSE over every step and unit, the full-BPTT
//!   gradient, one SGD step. This is what `benches/peers/torch_rnn_bench.py` times for
//!   PyTorch's `nn.RNN` (h(t) = tanh(W_ih x + W_hh h + b), loss on every h(t)), so the two
//!   compute the same thing.
//! - `recurrent_infer`: the forward pass over the batch.
//! - `rtrl_step`: one real-time recurrent learning step (run, sensitivities, gradient, SGD
//!   update) at N = 16, 32, 64 units and M = 4 inputs, fully connected, on one thread (`seq`)
//!   and with rayon (`par`, the loop run inside the rayon pool). Operations counted: the
//!   sensitivity update's product W_rec · P, 2·N·N·W for W = N(M + N + 1) weights.
//! - `gemm_ceiling`: a 1024 × 1024 × 1024 f32 product on every thread, the machine's
//!   matrix-multiply ceiling to read the GFLOP/s above against.

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::DMatrix;
use rnn_core::{Activation, Sgd};
use rnn_recurrent::{FullyRecurrent, OnlineLearner, RecurrentConfig, Rtrl, RtrlOptions};

fn model(inputs: usize, units: usize) -> FullyRecurrent<f32> {
    let config = RecurrentConfig::new(inputs, units, units).activation(Activation::Tanh).seed(0);
    config.build().expect("the benchmark configuration is valid")
}

fn train_and_infer(c: &mut Criterion) {
    rnn_benches::train_and_infer(c, "recurrent", 1, |size| size.hidden, |size| model(size.inputs, size.hidden));
}

fn rtrl(c: &mut Criterion) {
    use rand::RngExt;
    let mut group = c.benchmark_group("rtrl_step");
    let inputs = 4;
    for units in [16, 32, 64] {
        for (label, parallel) in [("seq", false), ("par", true)] {
            let net = RecurrentConfig::new(inputs, units, 1).init_range(0.1).seed(0).build::<f32>().expect("valid");
            let weights = net.num_weights() as u64;
            let options = RtrlOptions::new().parallel(parallel);
            let mut learner = Rtrl::new(net, options).expect("fits in memory");
            let mut sgd = Sgd::new(1e-4f32).expect("valid learning rate");
            let mut r = rnn_core::rng::seeded(1);
            let xs: Vec<[f32; 4]> = (0..64).map(|_| std::array::from_fn(|_| r.random::<f32>())).collect();
            let mut t = 0;
            group.throughput(Throughput::Elements(2 * (units * units) as u64 * weights));
            group.bench_function(BenchmarkId::from_parameter(format!("N{units}_M{inputs}_{label}")), |b| {
                b.iter_custom(|iters| {
                    let mut run = || {
                        let start = Instant::now();
                        for _ in 0..iters {
                            t = (t + 1) % xs.len();
                            black_box(learner.step(&xs[t], &[0.5], &[true], &mut sgd).expect("finite"));
                        }
                        start.elapsed()
                    };
                    // The parallel learner runs its loop inside the rayon pool, as a training
                    // loop should: then no step waits for sleeping workers to wake.
                    if parallel { rayon::scope(|_| run()) } else { run() }
                })
            });
        }
    }
    group.finish();
}

fn gemm_ceiling(c: &mut Criterion) {
    use rnn_core::linalg::{Op, gemm};
    let n = 1024;
    let a = DMatrix::<f32>::from_fn(n, n, |i, j| ((i * 7 + j * 3) % 11) as f32 * 0.1);
    let b = a.transpose();
    let mut out = DMatrix::<f32>::zeros(n, n);
    let mut group = c.benchmark_group("gemm_ceiling");
    group.throughput(Throughput::Elements(2 * (n * n * n) as u64));
    group.bench_function(BenchmarkId::from_parameter("n1024_f32"), |bench| {
        bench.iter(|| {
            gemm(0.0, &mut out.as_view_mut(), 1.0, &a.as_view(), Op::N, &b.as_view(), Op::N);
            black_box(out[(0, 0)])
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = train_and_infer, rtrl, gemm_ceiling
}
criterion_main!(benches);
