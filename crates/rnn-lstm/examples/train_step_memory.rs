//! Peak resident memory of LSTM training steps at (I, H, T, B) = (64, 512, 50, 32), `f32`.
//!
//! Builds the one-layer network of [`LstmConfig::torch`] (PyTorch's `nn.LSTM(64, 512)`: no
//! head, the outputs are the 512 cells) and one batch of 32 sequences of 50 steps with
//! deterministic inputs and targets, then runs 5 training steps (or as many as the first
//! argument says), each a full-BPTT `loss_and_gradient` with the mean squared error over every
//! step and a plain SGD step. It prints the process's peak resident set size (`VmHWM` in
//! `/proc/self/status`, Linux only; "unavailable" elsewhere) and its current one (`VmRSS`) at
//! three points (and after each step):
//!
//! 1. `baseline`: before anything is built;
//! 2. `after setup`: inputs, targets, network and gradient buffer built;
//! 3. `after steps`: after the training steps.
//!
//! It also counts the heap bytes live and their peak through a counting global allocator: exact
//! figures to set against the resident ones. `vec![0.0; n]` is zeroed by the system (`calloc`),
//! so the gradient buffer becomes resident only when the first step writes it. The resident
//! figures also carry the allocator's layout: glibc may keep freed temporaries resident and
//! place the next ones elsewhere, which moves `VmHWM` by a few MiB between otherwise identical
//! runs; the heap counts do not move.
//!
//! `after steps − after setup` is the memory a training step itself needs (the forward tapes
//! and the backward scratch the network keeps, and the temporaries of one step).
//! `benches/peers/lstm_memory.py` measures the same for PyTorch.
//!
//! Run it in release mode:
//!
//! ```text
//! cargo run --release -p rnn-lstm --example train_step_memory [-- STEPS]
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use nalgebra::DMatrix;
use rnn_core::{Differentiable, Loss, Optimizer, Parameters, SeqBatch, Sgd};
use rnn_lstm::LstmConfig;

/// The system allocator, counting the bytes live on the heap and their peak: the heap's share
/// of the resident memory, exact and free of page and allocator effects.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn grew(size: usize) {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the counters only observe it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Self::grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            Self::grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const INPUTS: usize = 64;
const HIDDEN: usize = 512;
const STEPS: usize = 50;
const BATCH: usize = 32;
/// Training steps run unless the first argument gives another number.
/// Training steps run unless the first argument gives another number.
const TRAIN_STEPS: usize = 5;

/// A field of `/proc/self/status` in kB (e.g. `VmHWM`), or `None` where there is none.
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Prints the peak and current resident memory at `stage`; returns the peak in kB.
fn report(stage: &str) -> Option<u64> {
    let show =
        |kb: Option<u64>| kb.map_or_else(|| "unavailable".to_string(), |kb| format!("{:8.1} MiB", kb as f64 / 1024.0));
    let (hwm, rss) = (status_kb("VmHWM"), status_kb("VmRSS"));
    let heap = |n: &AtomicUsize| n.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0);
    println!(
        "{stage:<12} VmHWM {}   VmRSS {}   heap peak {:6.1} MiB, live {:6.1} MiB",
        show(hwm),
        show(rss),
        heap(&PEAK),
        heap(&LIVE)
    );
    hwm
}

fn main() -> rnn_core::Result<()> {
    let train_steps = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(TRAIN_STEPS);
    let baseline = report("baseline");

    let cols = STEPS * BATCH;
    let x = DMatrix::<f32>::from_fn(INPUTS, cols, |i, j| (0.37 * i as f32 + 0.011 * j as f32).sin() * 0.5);
    let y = DMatrix::<f32>::from_fn(HIDDEN, cols, |i, j| (0.23 * i as f32 - 0.017 * j as f32).cos() * 0.4);
    let batch = SeqBatch::new(x, Some(y), STEPS, BATCH)?;
    let mut net = LstmConfig::torch(INPUTS, HIDDEN, 1).seed(0).build::<f32>()?;
    let mut grad = vec![0.0f32; net.num_params()];
    let mut sgd = Sgd::new(0.1f32)?;
    let setup = report("after setup");
    let heap_setup = PEAK.load(Ordering::Relaxed);

    for step in 0..train_steps {
        let loss = net.loss_and_gradient(&batch, Loss::Mse, &mut grad)?;
        sgd.step(net.params_mut(), &grad)?;
        report(&format!("step {step}"));
        println!("             loss {loss:.6}");
    }
    let steps = report("after steps");

    let mib = |kb: u64| kb as f64 / 1024.0;
    let params_mib = (net.num_params() * std::mem::size_of::<f32>()) as f64 / (1024.0 * 1024.0);
    println!("parameters   {} ({params_mib:.1} MiB; the gradient as much again)", net.num_params());
    let heap_steps = PEAK.load(Ordering::Relaxed) - heap_setup;
    println!("heap         training steps {:.1} MiB over setup (peak)", heap_steps as f64 / (1024.0 * 1024.0));
    if let (Some(b), Some(s), Some(t)) = (baseline, setup, steps) {
        println!(
            "increments   setup {:.1} MiB, training steps {:.1} MiB (peak over baseline {:.1} MiB)",
            mib(s - b),
            mib(t - s),
            mib(t - b)
        );
    }
    Ok(())
}
