//! Online learning: the per-step gradient of the ring buffer against the batch gradient, and
//! per-step updates.

use nalgebra::DMatrix;
use rnn_core::{Loss, Optimizer, Result, SeqBatch, optim::Sgd};
use rnn_partial::{Backprop, OnlineOptions};

use crate::common::{Net, analytic_gradient, elman, jordan, max_relative_error, sequence};

/// An optimizer that records each gradient and leaves the weights alone.
#[derive(Default)]
struct Recorder {
    grads: Vec<Vec<f64>>,
}

impl Optimizer<f64> for Recorder {
    fn step(&mut self, _params: &mut [f64], grad: &[f64]) -> Result<()> {
        self.grads.push(grad.to_vec());
        Ok(())
    }
    fn learning_rate(&self) -> f64 {
        0.0
    }
    fn set_learning_rate(&mut self, _lr: f64) -> Result<()> {
        Ok(())
    }
    fn reset(&mut self) {
        self.grads.clear();
    }
}

/// With the weights held still, the online gradients of the T steps sum to T times the batch
/// gradient of the same stream in the same mode (the batch loss is the mean over steps).
fn online_sums_to_batch<N: Net>(
    mut net: N,
    train: impl Fn(&mut N, &rnn_core::Sequence<f64>, &mut Recorder, &OnlineOptions) -> Result<Vec<f64>>,
) {
    let stream = sequence(2, 2, 9, 21);
    let batch = SeqBatch::from_sequences(&[&stream]).unwrap();
    for mode in [Backprop::ContextAsInput, Backprop::Truncated(1), Backprop::Truncated(3), Backprop::Truncated(50)] {
        let mut rec = Recorder::default();
        let losses = train(&mut net, &stream, &mut rec, &OnlineOptions::new(1).backprop(mode)).unwrap();
        assert_eq!(rec.grads.len(), 9);
        let mut sum = vec![0.0; rec.grads[0].len()];
        for g in &rec.grads {
            sum.iter_mut().zip(g).for_each(|(s, x)| *s += x / 9.0);
        }
        net.set_backprop(mode);
        let batch_grad = analytic_gradient(&mut net, &batch, Loss::Mse);
        let (err, at) = max_relative_error(&sum, &batch_grad);
        assert!(err < 1e-10, "{mode:?}: relative error {err:e} at {at}");
        let batch_loss = net.loss(&batch, Loss::Mse).unwrap();
        assert!((losses[0] - batch_loss).abs() < 1e-12);
    }
}

#[test]
fn ring_buffer_gradients_sum_to_the_batch_gradient() {
    online_sums_to_batch(elman(2, 2, 31), |n, s, o, opt| n.train_online(s, o, Loss::Mse, opt));
    online_sums_to_batch(jordan(2, 2, 32), |n, s, o, opt| n.train_online(s, o, Loss::Mse, opt));
}

#[test]
fn weights_change_after_every_step_and_the_loss_falls() {
    use rnn_core::Parameters;
    // Predict a sine one step ahead.
    let x = DMatrix::from_fn(1, 60, |_, t| (t as f64 * 0.4).sin());
    let d = DMatrix::from_fn(1, 60, |_, t| ((t + 1) as f64 * 0.4).sin());
    let stream = rnn_core::Sequence::new(x, d).unwrap();
    for mode in [Backprop::ContextAsInput, Backprop::Truncated(3)] {
        let mut net = elman(1, 1, 40);
        let before = net.params().to_vec();
        let mut sgd = Sgd::new(0.05).unwrap();
        let losses = net.train_online(&stream, &mut sgd, Loss::Mse, &OnlineOptions::new(40).backprop(mode)).unwrap();
        assert_eq!(losses.len(), 40);
        assert!(losses[39] < 0.5 * losses[0], "{mode:?}: {} → {}", losses[0], losses[39]);
        assert_ne!(net.params(), &before[..]);
        let mut net = jordan(1, 1, 41);
        let mut sgd = Sgd::new(0.05).unwrap();
        let losses = net
            .train_online(&stream, &mut sgd, Loss::Mse, &OnlineOptions::new(40).backprop(mode).carry_context(true))
            .unwrap();
        assert!(losses[39] < losses[0], "{mode:?}: {} → {}", losses[0], losses[39]);
    }
}
