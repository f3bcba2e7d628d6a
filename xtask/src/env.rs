//! Where a measurement was taken: commit, date, CPU, threads, compiler. Written beside every
//! report so numbers can be compared across runs.

use serde_json::{Value, json};

/// The run's environment as JSON.
pub fn describe() -> Value {
    json!({
        "commit": command_line("git", &["rev-parse", "--short", "HEAD"]),
        "uncommitted_changes": command_line("git", &["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
        "date_utc": utc_now(),
        "cpu": cpu_model(),
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "rustc": command_line("rustc", &["-V"]),
    })
}

/// One Markdown line describing the environment.
pub fn markdown_line(env: &Value) -> String {
    let field = |k: &str| env[k].as_str().map(str::to_string).unwrap_or_else(|| "unknown".into());
    let dirty = if env["uncommitted_changes"].as_bool() == Some(true) { " with uncommitted changes" } else { "" };
    format!(
        "Commit {}{dirty}, {} UTC, {} ({} hardware threads), {}.",
        field("commit"),
        field("date_utc"),
        field("cpu"),
        env["threads"],
        field("rustc")
    )
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(program).args(args).current_dir(crate::project_root()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
}

/// The current UTC time as `YYYY-MM-DD HH:MM`, from the system clock (civil-from-days).
fn utc_now() -> Option<String> {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", rem / 3600, rem % 3600 / 60))
}
