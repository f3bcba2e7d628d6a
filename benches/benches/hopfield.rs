//! Discrete Hopfield network in f32 at N = 256, 1,024 and 4,096 neurons.
//!
//! - `hopfield_store`: storing p = N/10 random patterns with each rule. Operations counted:
//!   Hebbian 2N²p (one product ΞΞᵀ); Storkey 4N²p + 5Np² (the Gram matrix, the fields of every
//!   pattern from the earlier ones, one N × N × 2p product); pseudo-inverse 2N²p + 4Np² + ⅔p³
//!   (Gram matrix, Cholesky, triangular inverse, Q = ΞL⁻ᵀ, W = QQᵀ).
//! - `hopfield_step`: one synchronous step of 1,000 cues, W·S: 2N²·1000.
//! - `hopfield_recall`: synchronous recall of 1,000 cues (stored patterns with 10 % of their
//!   bits flipped, Hebbian weights) to a fixed point, with the nearest pattern of every final
//!   state: 2N² per cue and step taken (counted from a run before timing).
//! - `hopfield_async`: asynchronous recall (random order) of one such cue at N = 4,096: the
//!   initial fields 2N² plus 2N per flip.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nalgebra::DMatrix;
use rnn_core::rng;
use rnn_hopfield::{Dynamics, Hopfield, Pattern, Rule};

const SIZES: [usize; 3] = [256, 1024, 4096];
const CUES: usize = 1000;

fn patterns(n: usize, p: usize, seed: u64) -> Vec<Pattern> {
    let mut r = rng::seeded(seed);
    (0..p).map(|_| Pattern::random(n, &mut r).expect("n > 0")).collect()
}

/// `CUES` cues: stored patterns, in turn, with 10 % of their bits flipped.
fn cues(stored: &[Pattern], seed: u64) -> Vec<Pattern> {
    let mut r = rng::seeded(seed);
    (0..CUES).map(|k| stored[k % stored.len()].flipped(stored[0].len() / 10, &mut r).expect("10 % < N")).collect()
}

fn store_flops(rule: Rule, n: usize, p: usize) -> u64 {
    let (n, p) = (n as u64, p as u64);
    match rule {
        Rule::Hebbian => 2 * n * n * p,
        Rule::Storkey => 4 * n * n * p + 5 * n * p * p,
        Rule::PseudoInverse { .. } => 2 * n * n * p + 4 * n * p * p + 2 * p * p * p / 3,
    }
}

fn store(c: &mut Criterion) {
    let mut group = c.benchmark_group("hopfield_store");
    for n in SIZES {
        let p = n / 10;
        let ps = patterns(n, p, 1);
        for rule in [Rule::Hebbian, Rule::Storkey, Rule::pseudo_inverse()] {
            let name = if rule == Rule::Hebbian {
                "hebbian"
            } else if rule == Rule::Storkey {
                "storkey"
            } else {
                "pseudoinverse"
            };
            group.throughput(Throughput::Elements(store_flops(rule, n, p)));
            group.bench_function(BenchmarkId::from_parameter(format!("{name}_N{n}")), |b| {
                b.iter(|| black_box(Hopfield::<f32>::with_patterns(rule, &ps).expect("valid patterns")))
            });
        }
    }
    group.finish();
}

fn step(c: &mut Criterion) {
    let mut group = c.benchmark_group("hopfield_step");
    for n in SIZES {
        let ps = patterns(n, n / 10, 2);
        let net = Hopfield::<f32>::with_patterns(Rule::Hebbian, &ps).expect("valid patterns");
        let cs = cues(&ps, 3);
        let start = DMatrix::from_fn(n, CUES, |i, j| f32::from(cs[j].as_slice()[i]));
        let mut states = start.clone();
        let mut fields = DMatrix::zeros(n, CUES);
        group.throughput(Throughput::Elements(2 * (n * n * CUES) as u64));
        group.bench_function(BenchmarkId::from_parameter(format!("N{n}")), |b| {
            b.iter(|| {
                states.copy_from(&start);
                black_box(net.synchronous_step(&mut states, &mut fields).expect("shapes agree"))
            })
        });
    }
    group.finish();
}

fn recall(c: &mut Criterion) {
    let mut group = c.benchmark_group("hopfield_recall");
    let dynamics = Dynamics::synchronous();
    for n in SIZES {
        let ps = patterns(n, n / 10, 2);
        let net = Hopfield::<f32>::with_patterns(Rule::Hebbian, &ps).expect("valid patterns");
        let cs = cues(&ps, 3);
        let steps: usize = net.recall_batch(&cs, &dynamics).expect("valid cues").iter().map(|r| r.sweeps).sum();
        group.throughput(Throughput::Elements(2 * (n * n * steps) as u64));
        group.bench_function(BenchmarkId::from_parameter(format!("N{n}")), |b| {
            b.iter(|| black_box(net.recall_batch(&cs, &dynamics).expect("valid cues")))
        });
    }
    group.finish();
}

fn asynchronous(c: &mut Criterion) {
    let mut group = c.benchmark_group("hopfield_async");
    let n = 4096;
    let ps = patterns(n, n / 10, 2);
    let net = Hopfield::<f32>::with_patterns(Rule::Hebbian, &ps).expect("valid patterns");
    let cue = cues(&ps, 3).swap_remove(0);
    let dynamics = Dynamics::asynchronous();
    let flips = net.recall_with(&cue, &dynamics).expect("valid cue").flips;
    group.throughput(Throughput::Elements((2 * n * n + 2 * n * flips) as u64));
    group.bench_function(BenchmarkId::from_parameter(format!("N{n}")), |b| {
        b.iter(|| black_box(net.recall_with(&cue, &dynamics).expect("valid cue")))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = store, step, recall, asynchronous
}
criterion_main!(benches);
