//! Training through rnn-core's loop: online and mini-batch, every optimizer, clipping, and
//! truncated BPTT.

use nalgebra::DMatrix;
use rnn_core::{Adam, Control, Loss, Optimizer, RmsProp, SeqBatch, Sequence, Sgd, TrainConfig, train};
use rnn_lstm::{Head, LstmConfig, TruncatedBptt};

/// Sequences whose target is the input delayed by 3 steps: a memory task.
fn delayed(n: usize, len: usize) -> Vec<Sequence<f64>> {
    (0..n)
        .map(|k| {
            let x = DMatrix::from_fn(1, len, |_, t| ((k * 13 + t * 7) % 11) as f64 / 10.0 - 0.5);
            let y = DMatrix::from_fn(1, len, |_, t| if t >= 3 { x[(0, t - 3)] } else { 0.0 });
            Sequence::new(x, y).unwrap()
        })
        .collect()
}

fn fit(optimizer: &mut dyn Optimizer<f64>, epochs: usize, batch_size: usize, clip: Option<f64>) -> (f64, f64) {
    let mut net = LstmConfig::new(1, 6, 1).head(Head::new(1)).seed(1).build::<f64>().unwrap();
    let data = delayed(16, 12);
    let mut config =
        TrainConfig::default().with_epochs(epochs).with_batch_size(batch_size).with_loss(Loss::Mse).with_seed(2);
    if let Some(c) = clip {
        config = config.with_clip_norm(c);
    }
    let report = train(&mut net, &data, optimizer, &config, |_| Control::Continue).unwrap();
    (report.history.first().unwrap().train_loss, report.final_train_loss)
}

#[test]
fn every_optimizer_online_and_in_mini_batches() {
    // Name, optimizer, epochs, batch size, clipping norm.
    type Case = (&'static str, Box<dyn Optimizer<f64>>, usize, usize, Option<f64>);
    let cases: Vec<Case> = vec![
        ("sgd online", Box::new(Sgd::new(0.3).unwrap()), 400, 1, None),
        (
            "sgd batches, momentum, clipped",
            Box::new(Sgd::new(0.1).unwrap().with_momentum(0.9).unwrap()),
            400,
            4,
            Some(1.0),
        ),
        ("adam", Box::new(Adam::new(0.01).unwrap()), 60, 4, None),
        ("rmsprop", Box::new(RmsProp::new(0.005).unwrap()), 60, 2, Some(5.0)),
    ];
    for (name, mut opt, epochs, batch, clip) in cases {
        let (first, last) = fit(opt.as_mut(), epochs, batch, clip);
        assert!(last < 0.5 * first, "{name}: loss {first} → {last}");
    }
}

#[test]
fn truncated_bptt_learns_a_stream() {
    let mut net = LstmConfig::new(1, 6, 1).head(Head::new(1)).seed(4).build::<f64>().unwrap();
    let s = &delayed(1, 400)[0];
    let stream = SeqBatch::new(s.inputs.clone(), Some(s.targets.clone()), 400, 1).unwrap();
    let tbptt = TruncatedBptt::new(10).unwrap().clip_norm(5.0).unwrap();
    let mut adam = Adam::new(0.01).unwrap();
    let first = tbptt.train_epoch(&mut net, &stream, Loss::Mse, &mut adam).unwrap();
    let mut last = first;
    for _ in 0..40 {
        last = tbptt.train_epoch(&mut net, &stream, Loss::Mse, &mut adam).unwrap();
    }
    assert!(last < 0.3 * first, "loss {first} → {last}");
    assert!(TruncatedBptt::new(0).is_err());
    assert!(TruncatedBptt::new(5).unwrap().clip_norm(f64::NAN).is_err());
}
