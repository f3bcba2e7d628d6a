//! `cargo xtask`: the workspace's own tooling.
//!
//! - `cargo xtask reproduce [--quick] [EXPERIMENT…]`: the classic experiments on real data, printed
//!   beside the published figures and written to `target/reproduce/`.
//! - `cargo xtask bench [--peers] [--quick] [FILTER]`: the criterion benchmarks, gathered into
//!   `target/bench/report.md` and `report.json`, optionally beside PyTorch.
//! - `cargo xtask ci`: format check, clippy, tests, docs and `reproduce --quick`; if it passes
//!   here, CI is green.

mod bench;
mod ci;
mod env;
mod reproduce;
mod svg;

use std::path::PathBuf;
use std::process::ExitCode;

/// Errors in xtask are reported to a person, not matched on.
type DynResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  reproduce [--quick] [EXPERIMENT...]  run the classic experiments (all by default) and write
                                       target/reproduce/{results.md,results.json,*.svg}
                                       (--quick writes to target/reproduce/quick/)
                                       experiments: {experiments}
  bench [--peers] [--quick] [FILTER]   run the criterion benchmarks and write target/bench/report.{md,json};
                                       --peers also times PyTorch (python from $RNN_PEER_PYTHON or python3)
  ci                                   fmt --check, clippy -D warnings, tests, docs -D warnings,
                                       reproduce --quick
";

fn usage() -> String {
    USAGE.replace("{experiments}", &reproduce::experiment_names().join(", "))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let result = match args.first().map(String::as_str) {
        Some("reproduce") => reproduce::run(rest),
        Some("bench") => bench::run(rest),
        Some("ci") => ci::run(rest),
        None | Some("help" | "-h" | "--help") => {
            print!("{}", usage());
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{}", usage()).into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the folder holding the top-level `Cargo.toml`).
fn project_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Runs a command in the workspace root, echoing it, and fails if it fails.
fn run_command(cmd: &mut std::process::Command) -> DynResult {
    cmd.current_dir(project_root());
    eprintln!("$ {}", format_command(cmd));
    let status = cmd.status().map_err(|e| format!("could not start `{}`: {e}", format_command(cmd)))?;
    if status.success() { Ok(()) } else { Err(format!("`{}` failed ({status})", format_command(cmd)).into()) }
}

fn format_command(cmd: &std::process::Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The `cargo` that launched xtask (so the pinned toolchain is used), or `cargo` on the path.
fn cargo() -> std::process::Command {
    std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}
