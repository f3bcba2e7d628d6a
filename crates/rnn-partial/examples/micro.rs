use nalgebra::DMatrix;
use rnn_core::linalg::{gemm_with, Op, Threads};
use std::time::Instant;
fn bench(m: usize, n: usize, k: usize, oa: Op, ob: Op) -> f64 {
    let a = if oa == Op::N { DMatrix::<f32>::from_fn(m, k, |i, j| ((i * 7 + j) % 13) as f32 * 0.01) } else { DMatrix::<f32>::from_fn(k, m, |i, j| ((i * 7 + j) % 13) as f32 * 0.01) };
    let b = if ob == Op::N { DMatrix::<f32>::from_fn(k, n, |i, j| ((i + j) % 5) as f32 * 0.1) } else { DMatrix::<f32>::from_fn(n, k, |i, j| ((i + j) % 5) as f32 * 0.1) };
    let mut c = DMatrix::<f32>::zeros(m, n);
    let reps = (300_000_000 / (m * n * k + 1000)).clamp(3, 2000000);
    let t0 = Instant::now();
    for _ in 0..reps { gemm_with(Threads::Serial, 1.0, &mut c.as_view_mut(), 1.0, &a.as_view(), oa, &b.as_view(), ob); }
    t0.elapsed().as_secs_f64() / reps as f64 * 1e6
}
fn main() {
    let ops = [(Op::N, Op::N), (Op::T, Op::N), (Op::N, Op::T)];
    let shapes: Vec<(usize, usize, usize)> = std::env::args().skip(1).map(|s| { let v: Vec<usize> = s.split('x').map(|x| x.parse().unwrap()).collect(); (v[0], v[1], v[2]) }).collect();
    for &(m, n, k) in &shapes {
        let mut line = format!("{m}x{n}x{k}:");
        for &(oa, ob) in &ops { line += &format!("  {oa:?}{ob:?} {:.3}us", bench(m, n, k, oa, ob)); }
        println!("{line}");
    }
}
