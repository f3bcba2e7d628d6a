//! Shared set-up for the criterion benchmarks: the standard sizes and seeded data built outside
//! the timed closures.
//!
//! Run everything with `cargo xtask bench` (which also writes `target/bench/report.md`), or one
//! benchmark with `cargo bench -p rnn-benches --bench elman`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use nalgebra::DMatrix;
use rnn_core::{Differentiable, Loss, Optimizer, Real, SeqBatch, Sgd, rng};

/// A benchmark size: inputs I, hidden units H, time steps T, batch B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Input width I.
    pub inputs: usize,
    /// Hidden units H.
    pub hidden: usize,
    /// Time steps T.
    pub steps: usize,
    /// Sequences per batch B.
    pub batch: usize,
}

impl Size {
    /// The benchmark id used in criterion's output folder, e.g. `I1_H32_T100_B1`.
    pub fn id(&self) -> String {
        format!("I{}_H{}_T{}_B{}", self.inputs, self.hidden, self.steps, self.batch)
    }

    /// Floating-point operations of one forward pass of a recurrent layer with `gates` weight
    /// blocks (1 Elman, 4 LSTM), as the peer script counts them: 2·g·H·(I+H)·T·B. A training
    /// step counts 3× that.
    pub fn forward_flops(&self, gates: usize) -> u64 {
        (2 * gates * self.hidden * (self.inputs + self.hidden) * self.steps * self.batch) as u64
    }
}

/// The standard sizes (I, H, T, B) every recurrent benchmark runs at, the sizes that
/// `benches/peers/torch_rnn_bench.py` times PyTorch at.
pub const STANDARD_SIZES: [Size; 5] = [
    Size { inputs: 1, hidden: 32, steps: 100, batch: 1 },
    Size { inputs: 1, hidden: 32, steps: 100, batch: 32 },
    Size { inputs: 16, hidden: 128, steps: 100, batch: 32 },
    Size { inputs: 64, hidden: 512, steps: 50, batch: 32 },
    Size { inputs: 8, hidden: 128, steps: 100, batch: 1 },
];

/// A batch of `size.batch` sequences of `size.steps` steps with standard-normal-like inputs and
/// targets of width `outputs`, from a fixed seed.
pub fn random_batch<T: Real>(size: Size, outputs: usize, seed: u64) -> SeqBatch<T> {
    use rand::RngExt;
    let mut r = rng::seeded(seed);
    let cols = size.steps * size.batch;
    let mut uniform = |_, _| T::of_f64(r.random::<f64>() * 2.0 - 1.0);
    let inputs = DMatrix::from_fn(size.inputs, cols, &mut uniform);
    let targets = DMatrix::from_fn(outputs, cols, &mut uniform);
    match SeqBatch::new(inputs, Some(targets), size.steps, size.batch) {
        Ok(batch) => batch,
        Err(e) => unreachable!("benchmark batch shapes are consistent by construction: {e}"),
    }
}

/// The two groups every recurrent layer runs at the standard sizes, in f32: `{kind}_train`, one
/// training step (forward over T steps, MSE at every step, the gradient, one SGD step: the unit
/// `benches/peers/torch_rnn_bench.py` times), and `{kind}_infer`, the forward pass. `gates` is
/// the layer's weight-block count in the operation count (1 Elman, 4 LSTM); `outputs` the
/// target width at a size; `model` builds the network for a size.
pub fn train_and_infer<M: Differentiable<f32>>(
    c: &mut Criterion,
    kind: &str,
    gates: usize,
    outputs: impl Fn(Size) -> usize,
    model: impl Fn(Size) -> M,
) {
    let mut group = c.benchmark_group(format!("{kind}_train"));
    for size in STANDARD_SIZES {
        let mut net = model(size);
        let batch = random_batch::<f32>(size, outputs(size), 1);
        let mut grad = vec![0.0f32; net.num_params()];
        let mut sgd = Sgd::new(1e-3f32).expect("valid learning rate");
        group.throughput(Throughput::Elements(3 * size.forward_flops(gates)));
        group.bench_function(BenchmarkId::from_parameter(size.id()), |b| {
            b.iter(|| {
                let loss = net.loss_and_gradient(&batch, Loss::Mse, &mut grad).expect("shapes agree");
                sgd.step(net.params_mut(), &grad).expect("finite gradient");
                black_box(loss)
            })
        });
    }
    group.finish();
    let mut group = c.benchmark_group(format!("{kind}_infer"));
    for size in STANDARD_SIZES {
        let mut net = model(size);
        let batch = random_batch::<f32>(size, outputs(size), 1);
        group.throughput(Throughput::Elements(size.forward_flops(gates)));
        group.bench_function(BenchmarkId::from_parameter(size.id()), |b| {
            b.iter(|| black_box(net.forward(&batch).expect("shapes agree")))
        });
    }
    group.finish();
}
