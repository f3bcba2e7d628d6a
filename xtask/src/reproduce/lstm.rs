//! Long short-term memory on the tasks of its papers, beside the published figures
//! (REFERENCE.md §1 and §6): the embedded Reber grammar and the adding problem of Hochreiter &
//! Schmidhuber (1997), the continual embedded Reber grammar of Gers, Schmidhuber & Cummins
//! (2000), and two real series, the Santa Fe laser and the yearly sunspots, each beside an
//! Elman net.

mod adding;
mod continual;
mod reber;
mod series;

use std::time::Instant;

use indicatif::ProgressBar;
use serde_json::{Value, json};

use super::{Mode, Section, median};
use crate::DynResult;

/// One part of the experiment: markdown (a `###` section) and JSON.
type Part = fn(Mode, &ProgressBar) -> DynResult<(String, Value)>;

/// The parts, by their JSON name, in report order.
const PARTS: &[(&str, Part)] = &[
    ("embedded_reber", reber::run),
    ("adding", adding::run),
    ("continual_reber", continual::run),
    ("santafe_laser", series::laser),
    ("sunspots", series::sunspots),
];

pub fn run(mode: Mode, bar: &ProgressBar) -> DynResult<Section> {
    let mut md = String::from("## Long short-term memory (Hochreiter & Schmidhuber 1997; Gers et al. 2000)\n\n");
    let mut parts = serde_json::Map::new();
    for (name, part) in PARTS {
        let t0 = Instant::now();
        let (text, mut value) = part(mode, bar)?;
        let secs = t0.elapsed().as_secs_f64();
        eprintln!("(lstm/{name}: {secs:.1} s)");
        md.push_str(&text);
        md.push_str(&format!("\n_lstm/{name}: {secs:.1} s._\n\n"));
        if let Value::Object(map) = &mut value {
            map.insert("seconds".into(), json!(secs));
        }
        parts.insert((*name).to_string(), value);
    }
    Ok(Section { markdown: md, json: Value::Object(parts), files: vec![] })
}

/// A count with thousands separators, rounded: 8440.0 → "8,440".
fn fmt_count(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 { format!("−{out}") } else { out }
}

/// "median, mean (min–max)" of the successful trials' counts, or a dash with the budget.
fn median_text(solved: &[usize], budget: usize) -> String {
    match (median(solved), solved.iter().min(), solved.iter().max()) {
        (Some(m), Some(&lo), Some(&hi)) => {
            let mean = solved.iter().sum::<usize>() as f64 / solved.len() as f64;
            format!("{}, {} ({}–{})", fmt_count(m), fmt_count(mean), fmt_count(lo as f64), fmt_count(hi as f64))
        }
        _ => format!("– (none within {})", fmt_count(budget as f64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(fmt_count(8440.0), "8,440");
        assert_eq!(fmt_count(100.0), "100");
        assert_eq!(fmt_count(1_234_567.4), "1,234,567");
        assert_eq!(median_text(&[100, 300], 50_000), "200, 200 (100–300)");
        assert_eq!(median_text(&[], 50_000), "– (none within 50,000)");
    }
}
