//! `cargo xtask reproduce`: every network on its classic task and on real data, beside the
//! published figures.
//!
//! Each experiment returns a [`Section`]: Markdown for `results.md`, a JSON value for
//! `results.json`, and any plots. Later architectures add their experiments to [`EXPERIMENTS`].

mod hopfield;
mod lstm;
mod recurrent;
mod sunspots;
mod xor;

use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};

use crate::{DynResult, project_root};

/// How long a run may take: the full reproduction or the `--quick` smoke version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Full,
    Quick,
}

/// What one experiment contributes to the report.
pub struct Section {
    /// Markdown, starting with a `##` heading.
    pub markdown: String,
    /// Machine-readable results.
    pub json: Value,
    /// Files to write beside the report: (file name, contents).
    pub files: Vec<(String, String)>,
}

type Experiment = fn(Mode, &ProgressBar) -> DynResult<Section>;

/// Every experiment, by the name used on the command line, in report order.
const EXPERIMENTS: &[(&str, &str, Experiment)] = &[
    ("sunspots", "Elman and Jordan networks on the yearly sunspots (Weigend et al. 1990 split)", sunspots::run),
    ("xor", "Elman's temporal XOR (Elman 1990)", xor::run),
    ("hopfield", "Hopfield networks: Hopfield 1982, capacity of the classic and modern rules, digits", hopfield::run),
    (
        "recurrent",
        "Fully recurrent nets learning online by RTRL and truncated BPTT (Williams & Zipser 1989), Task 2a (1997)",
        recurrent::run,
    ),
    (
        "lstm",
        "LSTM (Hochreiter & Schmidhuber 1997; Gers et al. 2000): embedded Reber, adding, continual Reber, laser, sunspots",
        lstm::run,
    ),
];

/// The names of every experiment, for the usage text.
pub fn experiment_names() -> Vec<&'static str> {
    EXPERIMENTS.iter().map(|(name, ..)| *name).collect()
}

pub fn run(args: &[String]) -> DynResult {
    let mut mode = Mode::Full;
    let mut chosen = Vec::new();
    for a in args {
        match a.as_str() {
            "--quick" => mode = Mode::Quick,
            s if s.starts_with('-') => return Err(format!("`reproduce`: unknown option `{s}`").into()),
            s => match EXPERIMENTS.iter().find(|(name, ..)| *name == s) {
                Some(e) => chosen.push(e),
                None => {
                    let names: Vec<&str> = EXPERIMENTS.iter().map(|(n, ..)| *n).collect();
                    return Err(format!("`reproduce`: unknown experiment `{s}`; known: {}", names.join(", ")).into());
                }
            },
        }
    }
    if chosen.is_empty() {
        chosen = EXPERIMENTS.iter().collect();
    }
    let out_dir = match mode {
        Mode::Full => project_root().join("target/reproduce"),
        Mode::Quick => project_root().join("target/reproduce/quick"),
    };
    std::fs::create_dir_all(&out_dir)?;
    let started = Instant::now();
    let env = crate::env::describe();
    let mut markdown = format!(
        "# Reproduction results\n\nRun: `cargo xtask reproduce{}{}`. {}\n\n",
        if mode == Mode::Quick { " --quick" } else { "" },
        args.iter().filter(|a| !a.starts_with('-')).map(|a| format!(" {a}")).collect::<String>(),
        crate::env::markdown_line(&env)
    );
    let mut results = serde_json::Map::new();
    let mut plots = 0;
    for (name, title, experiment) in chosen {
        eprintln!("\n== {name}: {title}");
        let bar = progress_bar();
        let t0 = Instant::now();
        let section = experiment(mode, &bar)?;
        bar.finish_and_clear();
        let secs = t0.elapsed().as_secs_f64();
        eprintln!("{}", section.markdown);
        eprintln!("({name}: {secs:.1} s)");
        markdown.push_str(&section.markdown);
        markdown.push_str(&format!("\n_{name}: {secs:.1} s._\n\n"));
        for (file, contents) in &section.files {
            std::fs::write(out_dir.join(file), contents)?;
            plots += 1;
        }
        let mut value = section.json;
        if let Value::Object(map) = &mut value {
            map.insert("seconds".into(), json!(secs));
        }
        results.insert(name.to_string(), value);
    }
    let total = started.elapsed().as_secs_f64();
    markdown.push_str(&format!("Total: {total:.1} s.\n"));
    write(&out_dir, "results.md", &markdown)?;
    let json = json!({
        "mode": if mode == Mode::Quick { "quick" } else { "full" },
        "environment": env,
        "seconds": total,
        "experiments": results,
    });
    write(&out_dir, "results.json", &serde_json::to_string_pretty(&json)?)?;
    let plots = if plots > 0 { format!(" and {plots} plots") } else { String::new() };
    eprintln!("\nxtask reproduce: {total:.1} s; wrote {}/results.md, results.json{plots}", out_dir.display());
    Ok(())
}

fn write(dir: &Path, name: &str, contents: &str) -> DynResult {
    std::fs::write(dir.join(name), contents)
        .map_err(|e| format!("could not write {}: {e}", dir.join(name).display()).into())
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Mean and (sample) standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 { xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0) } else { 0.0 };
    (mean, var.sqrt())
}

/// The median (the mean of the two middle values for an even count).
pub fn median(xs: &[usize]) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_unstable();
    let n = v.len();
    (n > 0).then(|| if n % 2 == 1 { v[n / 2] as f64 } else { (v[n / 2 - 1] + v[n / 2]) as f64 / 2.0 })
}
