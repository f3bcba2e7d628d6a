//! `cargo xtask ci`: everything CI checks, in the order that fails fastest.

use crate::{DynResult, cargo, run_command};

pub fn run(args: &[String]) -> DynResult {
    if let Some(a) = args.first() {
        return Err(format!("`ci` takes no arguments, got `{a}`").into());
    }
    let start = std::time::Instant::now();
    run_command(cargo().args(["fmt", "--all", "--check"]))?;
    run_command(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    run_command(cargo().args(["test", "--workspace"]))?;
    run_command(cargo().args(["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"))?;
    crate::reproduce::run(&["--quick".to_string()])?;
    eprintln!("xtask ci: all checks passed in {:.0} s", start.elapsed().as_secs_f64());
    Ok(())
}
