//! `cargo xtask bench`: runs the criterion benchmarks and gathers them into one report, beside
//! PyTorch when `--peers` is given and torch imports.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::{DynResult, cargo, project_root, run_command};

/// One benchmark result, read back from criterion's output folder.
#[derive(Debug, Clone)]
struct Measured {
    /// Model kind: `elman`, `lstm`, `hopfield` … (the criterion group's name before its first `_`).
    kind: String,
    /// What was timed: `train`, `infer`, … (the rest of the group's name).
    phase: String,
    /// The benchmark id within its group, e.g. `I1_H32_T100_B1` or `N4096`.
    id: String,
    /// Floating-point operations per iteration, from the benchmark's `Throughput::Elements`.
    flops: Option<f64>,
    /// Time per iteration, seconds (criterion's slope estimate, or its mean).
    seconds: f64,
    /// Standard deviation of the per-sample times, seconds.
    sd: f64,
}

impl Measured {
    /// (I, H, T, B) for the recurrent nets' standard sizes, parsed from the id.
    fn size(&self) -> Option<[usize; 4]> {
        parse_size(&self.id)
    }
}

pub fn run(args: &[String]) -> DynResult {
    let mut peers = false;
    let mut quick = false;
    let mut filter = None;
    for a in args {
        match a.as_str() {
            "--peers" => peers = true,
            "--quick" => quick = true,
            s if s.starts_with('-') => return Err(format!("`bench`: unknown option `{s}`").into()),
            s => filter = Some(s.to_string()),
        }
    }
    let root = project_root();
    let criterion_dir = root.join("target/criterion");
    let mut cmd = cargo();
    cmd.args(["bench", "-p", "rnn-benches", "--"]);
    if let Some(f) = &filter {
        cmd.arg(f);
    }
    if quick {
        cmd.args(["--warm-up-time", "0.3", "--measurement-time", "1"]);
    }
    let started = std::time::SystemTime::now();
    run_command(&mut cmd)?;

    // Only what this run measured: criterion keeps older results of benchmarks not run now.
    let ours = read_criterion(&criterion_dir, started)?;
    if ours.is_empty() {
        return Err(format!("no criterion results under {}", criterion_dir.display()).into());
    }
    let peer = if peers { run_peers(&root, &ours) } else { None };
    write_report(&root.join("target/bench"), &ours, peer.as_ref())
}

/// Reads every `<group>/<id>/new/{benchmark,estimates}.json` under criterion's folder written
/// since `since`.
fn read_criterion(dir: &Path, since: std::time::SystemTime) -> DynResult<Vec<Measured>> {
    let mut out = Vec::new();
    let Ok(groups) = std::fs::read_dir(dir) else { return Ok(out) };
    for group in groups.flatten() {
        let Ok(ids) = std::fs::read_dir(group.path()) else { continue };
        for id in ids.flatten() {
            let new = id.path().join("new");
            let fresh =
                std::fs::metadata(new.join("estimates.json")).and_then(|m| m.modified()).is_ok_and(|t| t >= since);
            if !fresh {
                continue;
            }
            let (Ok(bench), Ok(est)) = (
                std::fs::read_to_string(new.join("benchmark.json")),
                std::fs::read_to_string(new.join("estimates.json")),
            ) else {
                continue;
            };
            let bench: Value = serde_json::from_str(&bench)?;
            let est: Value = serde_json::from_str(&est)?;
            let group_id = bench["group_id"].as_str().unwrap_or_default();
            let value = bench["value_str"].as_str().or(bench["function_id"].as_str()).unwrap_or_default();
            let Some((kind, phase)) = group_id.split_once('_') else { continue };
            // Criterion's headline figure: the slope of time against iterations when it has one.
            let Some(ns) = est["slope"]["point_estimate"].as_f64().or(est["mean"]["point_estimate"].as_f64()) else {
                continue;
            };
            let sd = est["std_dev"]["point_estimate"].as_f64().unwrap_or(f64::NAN) * 1e-9;
            let flops = bench["throughput"]["Elements"].as_f64();
            out.push(Measured {
                kind: kind.into(),
                phase: phase.into(),
                id: value.into(),
                flops,
                seconds: ns * 1e-9,
                sd,
            });
        }
    }
    out.sort_by(|a, b| (&a.kind, &a.phase, a.size(), &a.id).cmp(&(&b.kind, &b.phase, b.size(), &b.id)));
    Ok(out)
}

/// `I1_H32_T100_B1` → [1, 32, 100, 1].
fn parse_size(id: &str) -> Option<[usize; 4]> {
    let mut size = [0; 4];
    let parts: Vec<&str> = id.split('_').collect();
    if parts.len() != 4 {
        return None;
    }
    for (slot, (part, prefix)) in size.iter_mut().zip(parts.iter().zip(["I", "H", "T", "B"])) {
        *slot = part.strip_prefix(prefix)?.parse().ok()?;
    }
    Some(size)
}

/// For the recurrent nets' standard sizes when a benchmark declares no throughput: forward multiply-adds ×2 of one pass, the peer script's own formula: 2·g·H·(I+H)·T·B with
/// g = 4 gates for LSTM and 1 for Elman; a training step counts 3× that.
fn flops(kind: &str, phase: &str, [i, h, t, b]: [usize; 4]) -> f64 {
    let g = if kind == "lstm" { 4.0 } else { 1.0 };
    let fwd = 2.0 * g * (h * (i + h) * t * b) as f64;
    if phase == "train" { 3.0 * fwd } else { fwd }
}

type PeerKey = (String, String, [usize; 4]);

/// The peer script's kind that computes what our benchmark of `kind` computes: PyTorch's
/// `nn.RNN` (its `elman` kind, loss on every hidden unit) is both our Elman net's recurrence and,
/// exactly, a fully recurrent net whose units are all outputs.
fn peer_kind(kind: &str) -> Option<&'static str> {
    match kind {
        "elman" | "recurrent" => Some("elman"),
        "lstm" => Some("lstm"),
        _ => None,
    }
}

/// Runs `benches/peers/torch_rnn_bench.py` at the sizes we measured, or says why it skipped.
fn run_peers(root: &Path, ours: &[Measured]) -> Option<(BTreeMap<PeerKey, f64>, Value)> {
    let python = std::env::var("RNN_PEER_PYTHON").unwrap_or_else(|_| "python3".into());
    let import = Command::new(&python).args(["-c", "import torch"]).output();
    if !matches!(&import, Ok(o) if o.status.success()) {
        eprintln!(
            "xtask bench: peers skipped: `{python} -c 'import torch'` failed (set RNN_PEER_PYTHON to a python with torch)"
        );
        return None;
    }
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let kinds: Vec<&str> =
        ["elman", "lstm"].into_iter().filter(|k| ours.iter().any(|m| peer_kind(&m.kind) == Some(*k))).collect();
    if kinds.is_empty() {
        eprintln!("xtask bench: peers skipped: no benchmark of a kind the peer script times (elman, lstm)");
        return None;
    }
    let script = root.join("benches/peers/torch_rnn_bench.py");
    eprintln!("$ {python} {} --threads {threads} --kinds {}", script.display(), kinds.join(","));
    let output = match Command::new(&python)
        .arg(&script)
        .args(["--threads", &threads.to_string(), "--kinds", &kinds.join(",")])
        .output()
    {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            eprintln!("xtask bench: peers skipped: the script failed:\n{}", String::from_utf8_lossy(&o.stderr));
            return None;
        }
        Err(e) => {
            eprintln!("xtask bench: peers skipped: could not run {python}: {e}");
            return None;
        }
    };
    let mut times = BTreeMap::new();
    let mut lines = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
        if let (Some(kind), Some(i), Some(h), Some(t), Some(b)) =
            (v["kind"].as_str(), v["I"].as_u64(), v["H"].as_u64(), v["T"].as_u64(), v["B"].as_u64())
        {
            let size = [i as usize, h as usize, t as usize, b as usize];
            for (phase, key) in [("train", "train_step_s"), ("infer", "infer_s")] {
                if let Some(s) = v[key].as_f64() {
                    times.insert((kind.to_string(), phase.to_string(), size), s);
                }
            }
        }
        lines.push(v);
    }
    Some((times, Value::Array(lines)))
}

fn write_report(dir: &Path, ours: &[Measured], peer: Option<&(BTreeMap<PeerKey, f64>, Value)>) -> DynResult {
    std::fs::create_dir_all(dir)?;
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let env = crate::env::describe();
    let mut md = format!("# Benchmark report\n\n{}\n\n", crate::env::markdown_line(&env));
    md.push_str(&format!(
        "Criterion estimates (slope) on this machine ({threads} hardware threads), f32. A recurrent training step is: \
         forward over T steps, MSE over every step, gradient, one SGD step. GFLOP/s counts 2·g·H·(I+H)·T·B \
         per forward (g = 1 Elman, 4 LSTM) and 3× that per training step, as the peer script does; other \
         benchmarks declare their own operation counts.\n\n"
    ));
    // The matrix-multiply ceiling, when this run measured it (`gemm_ceiling` in benches/recurrent.rs).
    let ceiling = ours
        .iter()
        .find(|m| m.kind == "gemm" && m.phase == "ceiling")
        .and_then(|m| m.flops.map(|f| f / m.seconds / 1e9));
    if let Some(c) = ceiling {
        md.push_str(&format!(
            "Matrix-multiply ceiling of this machine (a 1024³ f32 product on every thread, `gemm_ceiling`): \
             {c:.0} GFLOP/s; the `% ceiling` column is each row's GFLOP/s against it.\n\n"
        ));
    }
    md.push_str("| model | phase | size | time | ± sd | GFLOP/s | % ceiling | PyTorch | ours / PyTorch |\n");
    md.push_str("|---|---|---|--:|--:|--:|--:|--:|--:|\n");
    let mut rows = Vec::new();
    for m in ours {
        let size = m.size();
        let flops = m.flops.or_else(|| size.map(|s| flops(&m.kind, &m.phase, s)));
        let gflops = flops.map(|f| f / m.seconds / 1e9);
        let theirs = size.and_then(|s| {
            let kind = peer_kind(&m.kind)?.to_string();
            peer.and_then(|(t, _)| t.get(&(kind, m.phase.clone(), s)).copied())
        });
        let ratio = theirs.map(|t| m.seconds / t);
        let label = match size {
            Some([i, h, t, b]) => format!("I={i} H={h} T={t} B={b}"),
            None => m.id.replace('_', " "),
        };
        md.push_str(&format!(
            "| {} | {} | {label} | {} | {:.0} % | {} | {} | {} | {} |\n",
            m.kind,
            m.phase,
            fmt_time(m.seconds),
            100.0 * m.sd / m.seconds,
            gflops.map_or("–".into(), |g| format!("{g:.1}")),
            gflops.zip(ceiling).map_or("–".into(), |(g, c)| format!("{:.0} %", 100.0 * g / c)),
            theirs.map_or("–".into(), fmt_time),
            ratio.map_or("–".into(), |r| format!("{r:.3}")),
        ));
        rows.push(json!({
            "kind": m.kind, "phase": m.phase, "id": m.id, "size": size, "flops": flops,
            "seconds": m.seconds, "sd_seconds": m.sd, "gflops": gflops, "peer_seconds": theirs, "ratio": ratio,
            "ceiling_fraction": gflops.zip(ceiling).map(|(g, c)| g / c),
        }));
    }
    // Rayon speed-ups: benchmarks measured as `<id>_seq` and `<id>_par`.
    let mut speedups = String::new();
    for m in ours.iter().filter(|m| m.id.ends_with("_par")) {
        let seq_id = format!("{}_seq", m.id.trim_end_matches("_par"));
        if let Some(s) = ours.iter().find(|o| o.kind == m.kind && o.phase == m.phase && o.id == seq_id) {
            speedups.push_str(&format!(
                "| {} {} | {} | {:.2}× |\n",
                m.kind,
                m.phase,
                m.id.trim_end_matches("_par"),
                s.seconds / m.seconds
            ));
        }
    }
    if !speedups.is_empty() {
        md.push_str(&format!("\nSpeed-up with rayon ({threads} threads) over one thread:\n\n| benchmark | size | speed-up |\n|---|---|--:|\n{speedups}"));
    }
    match peer {
        Some(_) => md.push_str("\nPyTorch times come from `benches/peers/torch_rnn_bench.py`, run right after ours.\n"),
        None => md.push_str("\nPyTorch was not run (`cargo xtask bench --peers` runs it when torch imports).\n"),
    }
    let report = json!({ "environment": env, "results": rows, "peer_raw": peer.map(|(_, raw)| raw.clone()) });
    std::fs::write(dir.join("report.md"), &md)?;
    std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(&report)?)?;
    print!("{md}");
    eprintln!("xtask bench: wrote {}/report.md and report.json", dir.display());
    Ok(())
}

fn fmt_time(s: f64) -> String {
    if s < 1e-3 { format!("{:.1} µs", s * 1e6) } else { format!("{:.2} ms", s * 1e3) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("I64_H512_T50_B32"), Some([64, 512, 50, 32]));
        assert_eq!(parse_size("I64_H512_T50"), None);
        assert_eq!(parse_size("X1_H2_T3_B4"), None);
    }

    #[test]
    fn flops_follow_the_peer_formula() {
        assert_eq!(flops("elman", "infer", [1, 32, 100, 1]), 2.0 * 32.0 * 33.0 * 100.0);
        assert_eq!(flops("lstm", "train", [1, 32, 100, 1]), 3.0 * 8.0 * 32.0 * 33.0 * 100.0);
    }

    #[test]
    fn fully_recurrent_nets_are_compared_with_nn_rnn() {
        assert_eq!(peer_kind("recurrent"), Some("elman"));
        assert_eq!(peer_kind("rtrl"), None);
    }
}
