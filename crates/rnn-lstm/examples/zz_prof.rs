//! Throwaway profiling driver (not committed).
use nalgebra::DMatrix;
use rnn_core::{Differentiable, Loss, Parameters, SeqBatch, SequenceModel};
use rnn_lstm::LstmConfig;
fn main() {
    let a: Vec<usize> = std::env::args().skip(1).map(|s| s.parse().unwrap()).collect();
    let (i, h, t, b, train, iters) = (a[0], a[1], a[2], a[3], a[4] == 1, a[5]);
    let mut net = LstmConfig::torch(i, h, 1).seed(0).build::<f32>().unwrap();
    let x = DMatrix::from_fn(i, t * b, |r, c| ((r * 7 + c * 13) % 17) as f32 / 17.0 - 0.5);
    let y = DMatrix::from_fn(h, t * b, |r, c| ((r * 5 + c * 11) % 19) as f32 / 19.0 - 0.5);
    let batch = SeqBatch::new(x, Some(y), t, b).unwrap();
    let mut grad = vec![0.0f32; net.num_params()];
    let start = std::time::Instant::now();
    for _ in 0..iters {
        if train {
            net.loss_and_gradient(&batch, Loss::Mse, &mut grad).unwrap();
        } else {
            std::hint::black_box(net.forward(&batch).unwrap());
        }
    }
    println!("{:.3} ms/iter", start.elapsed().as_secs_f64() * 1e3 / iters as f64);
}
