//! Times an Elman<f32> training step (forward over T steps of a batch, MSE over every step,
//! full-BPTT gradient, one SGD step) and inference (forward) at the workspace's standard
//! sizes. Run with `cargo run --release -p rnn-partial --example timing`.

use std::time::Instant;

use nalgebra::DMatrix;
use rnn_core::{Differentiable, Loss, Optimizer, Parameters, SeqBatch, SequenceModel, optim::Sgd};
use rnn_partial::{Backprop, ElmanConfig};

/// Seconds per call of `f` over about `budget` seconds: the median and the fastest of 11
/// samples (the fastest is the steadier figure on a shared machine).
fn time(budget: f64, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let start = Instant::now();
    let mut once = 0usize;
    while start.elapsed().as_secs_f64() < 0.05 {
        f();
        once += 1;
    }
    let per = start.elapsed().as_secs_f64() / once.max(1) as f64;
    let reps = ((budget / per) as usize / 11).max(1);
    let mut samples = Vec::new();
    for _ in 0..11 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        samples.push(t.elapsed().as_secs_f64() / reps as f64);
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    (samples[5], samples[0])
}

fn main() -> rnn_core::Result<()> {
    let peers = [(3.08, 0.40), (4.12, 0.86), (10.9, 2.63), (24.8, 8.27), (4.77, 0.84)];
    let sizes = [(1, 32, 100, 1), (1, 32, 100, 32), (16, 128, 100, 32), (64, 512, 50, 32), (8, 128, 100, 1)];
    let budget = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    println!("median (fastest) milliseconds per call; ratio = PyTorch nn.RNN time / median");
    println!("(I, H, T, B)         train ms             torch  ratio    infer ms            torch  ratio");
    for (&(i, h, t, b), &(pt, pi)) in sizes.iter().zip(&peers) {
        let mut net = ElmanConfig::new(i, &[h], 1).backprop(Backprop::Full).seed(1).build::<f32>()?;
        let n = t * b;
        let x = DMatrix::from_fn(i, n, |r, c| ((r * 31 + c * 17) % 23) as f32 / 11.0 - 1.0);
        let d = DMatrix::from_fn(1, n, |_, c| ((c * 13) % 7) as f32 / 3.0 - 1.0);
        let batch = SeqBatch::new(x, Some(d), t, b)?;
        let mut grad = vec![0.0f32; net.num_params()];
        let mut sgd = Sgd::new(1e-4f32)?;
        let train = time(budget, || {
            net.loss_and_gradient(&batch, Loss::Mse, &mut grad).unwrap();
            sgd.step(net.params_mut(), &grad).unwrap();
        });
        let infer = time(budget, || {
            std::hint::black_box(net.forward(&batch).unwrap());
        });
        println!(
            "{:<20} {:>7.3} ({:>7.3})  {:>5.2} {:>5.1}×   {:>7.3} ({:>7.3})  {:>5.2} {:>5.1}×",
            format!("({i}, {h}, {t}, {b})"),
            train.0 * 1e3,
            train.1 * 1e3,
            pt,
            pt / (train.0 * 1e3),
            infer.0 * 1e3,
            infer.1 * 1e3,
            pi,
            pi / (infer.0 * 1e3)
        );
    }
    Ok(())
}
