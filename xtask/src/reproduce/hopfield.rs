//! Hopfield networks: Hopfield's (1982) own simulations (per-bit errors at N = 100, basins of
//! attraction at N = 30), capacity curves of the Hebbian, Storkey, pseudo-inverse and modern
//! rules at N = 100 and 500 beside the published limits, and recall of corrupted handwritten
//! digits.

use std::fmt::Write as _;

use indicatif::ProgressBar;
use nalgebra::DMatrix;
use rnn_core::rng;
use rnn_hopfield::{Dynamics, Hopfield, ModernHopfield, Pattern, Rule, capacity};
use serde_json::{Value, json};

use super::{Mode, Section, mean_sd, sunspots::parallel_seeds};
use crate::DynResult;
use crate::svg::{Series, line_chart};

/// The classic rules of the capacity and digit runs, with their plot colours.
const RULES: [(Rule, &str, &str); 3] = [
    (Rule::Hebbian, "Hebbian", "#1f77b4"),
    (Rule::Storkey, "Storkey", "#2ca02c"),
    (Rule::pseudo_inverse(), "pseudo-inverse", "#d62728"),
];
const MODERN_COLOR: &str = "#9467bd";

/// Hopfield's (1982) neurons are 0/1 with zero thresholds, which is the ±1 network with
/// θᵢ = −Σⱼ wᵢⱼ ([`Hopfield::binary_thresholds`]); the ±1 form with zero thresholds has half the
/// crosstalk. Both are run.
const FORMS: [(bool, &str); 2] = [(true, "0/1 (paper's)"), (false, "±1")];

/// A Hebbian network of `ps`, in the 0/1 form (`binary`) or the ±1 form.
fn hebbian(ps: &[Pattern], binary: bool) -> DynResult<Hopfield<f32>> {
    let mut net = Hopfield::<f32>::with_patterns(Rule::Hebbian, ps)?;
    if binary {
        net.set_thresholds(&net.binary_thresholds())?;
    }
    Ok(net)
}

pub fn run(mode: Mode, bar: &ProgressBar) -> DynResult<Section> {
    let quick = mode == Mode::Quick;
    let mut md =
        String::from("## Hopfield networks (Hopfield 1982; capacity of the classic and modern rules; digits)\n\n");
    let mut files = Vec::new();

    bar.set_message("Hopfield 1982, N = 100");
    let (md_1982, json_1982) = hopfield_1982(if quick { 60 } else { 1000 }, bar)?;
    md.push_str(&md_1982);

    bar.set_message("basins, N = 30");
    let (md_basins, json_basins) = basins(if quick { 100 } else { 1000 }, bar)?;
    md.push_str(&md_basins);

    let mut json_capacity = Vec::new();
    md.push_str(&format!(
        "### Capacity curves\n\nRandom ±1 patterns, p of them in N neurons, f32. *Fixed*: the fraction of stored \
         patterns that are exact fixed points (no neuron would flip). *Overlap*: start at each pattern, run \
         asynchronous updates (random order) to a stable state, mean overlap m = ξ·s/N with the pattern. \
         *Noisy*: start 10 % of the bits away and count exact returns. Modern: ξ ← X softmax(β Xᵀξ) with \
         β = 1/√N, iterated to convergence, read through sign(·). Mean over seeds.{}\n\n",
        if quick { " Quick mode: fewer seeds and load points." } else { "" }
    ));
    for (n, seeds) in if quick { [(100usize, 4u64), (500, 1)] } else { [(100, 24), (500, 8)] } {
        bar.set_message(format!("capacity, N = {n}"));
        let grid = load_grid(n, quick);
        let (md_n, json_n, svgs) = capacity_curves(n, seeds, &grid, bar)?;
        md.push_str(&md_n);
        json_capacity.push(json_n);
        files.extend(svgs);
    }

    bar.set_message("digits");
    let (md_digits, json_digits, svg) = digits(if quick { 1 } else { 5 }, bar)?;
    md.push_str(&md_digits);
    files.push(("hopfield_digits.svg".into(), svg));

    let json = json!({
        "hopfield_1982": json_1982, "basins": json_basins, "capacity": json_capacity, "digits": json_digits,
    });
    Ok(Section { markdown: md, json, files })
}

fn random_patterns(n: usize, p: usize, rng: &mut rng::Rng) -> DynResult<Vec<Pattern>> {
    Ok((0..p).map(|_| Pattern::random(n, rng)).collect::<Result<_, _>>()?)
}

/// Hopfield (1982): N = 100, n memories, start at each memory, asynchronous random updates.
fn hopfield_1982(seeds: u64, bar: &ProgressBar) -> DynResult<(String, Value)> {
    const N: usize = 100;
    let loads = [5usize, 10, 15];
    bar.set_length(bar.length().unwrap_or(0) + seeds * (loads.len() * FORMS.len()) as u64);
    let mut md = format!(
        "### Hopfield (1982): N = {N}, n random memories, start at each memory\n\nHebbian weights, asynchronous \
         updates in random order to a stable state; {seeds} seeds (mean ± sd over seeds). Hopfield's neurons are \
         0/1 with zero thresholds (the ±1 network with θᵢ = −Σⱼ wᵢⱼ); the ±1 form with zero thresholds, which he \
         notes stores more, is shown beside it. *Unstable bits*: the fraction of bits of a memory whose field \
         points the other way (Hopfield's P; the formula is his Gaussian estimate for the 0/1 form). *Error-free*: \
         the fraction of memories recalled with no wrong bit (equal to the fraction that are fixed points: \
         asynchronous updates lower the energy, so a state that moves never returns).\n\n\
         | n | quantity | ours, 0/1 form | ours, ±1 form | paper (0/1 form) |\n|---|---|---|---|---|\n"
    );
    let mut out = Vec::new();
    for n_mem in loads {
        let mut by_form = Vec::new();
        for (binary, _) in FORMS {
            let runs = parallel_seeds(seeds, |seed| -> DynResult<[f64; 4]> {
                let mut r = rng::derive(1982, seed);
                let ps = random_patterns(N, n_mem, &mut r)?;
                let net = hebbian(&ps, binary)?;
                let mut states = DMatrix::from_fn(N, n_mem, |i, j| f32::from(ps[j].as_slice()[i]));
                let mut fields = DMatrix::zeros(N, n_mem);
                let unstable = net.synchronous_step(&mut states, &mut fields)? as f64 / (N * n_mem) as f64;
                let recalls = net.recall_batch(&ps, &Dynamics::asynchronous().seed(seed))?;
                let mut wrong_bits = 0;
                let (mut exact, mut under5) = (0, 0);
                for (p, r) in ps.iter().zip(&recalls) {
                    let d = p.hamming(&r.state)?;
                    wrong_bits += d;
                    exact += usize::from(d == 0);
                    under5 += usize::from(d < 5);
                }
                bar.inc(1);
                let m = n_mem as f64;
                Ok([unstable, wrong_bits as f64 / (N as f64 * m), exact as f64 / m, under5 as f64 / m])
            })?;
            let col = |k: usize| mean_sd(&runs.iter().map(|r| r[k]).collect::<Vec<_>>());
            by_form.push([col(0), col(1), col(2), col(3)]);
        }
        let predicted = capacity::hopfield_bit_error(N, n_mem);
        let paper = |what: &str| -> &'static str {
            match (n_mem, what) {
                (10, "p") => "0.0091 (predicted)",
                (10, "exact") => "0.40 predicted, **0.6 observed**",
                (5, "exact") => "\"almost always stable\"",
                (15, "under5") => "\"about half\"",
                _ => "–",
            }
        };
        let cell = |(m, sd): (f64, f64), digits: usize| format!("{m:.digits$} ± {sd:.digits$}");
        let [zo, pm] = [&by_form[0], &by_form[1]];
        let _ = writeln!(
            md,
            "| {n_mem} | unstable bits at the memory | {} (formula {predicted:.4}) | {} | {} |",
            cell(zo[0], 4),
            cell(pm[0], 4),
            paper("p")
        );
        let _ = writeln!(md, "| {n_mem} | wrong bits after recall | {} | {} | – |", cell(zo[1], 4), cell(pm[1], 4));
        let _ = writeln!(
            md,
            "| {n_mem} | error-free recalls | {} (formula (1−P)ᴺ {:.3}) | {} | {} |",
            cell(zo[2], 3),
            (1.0 - predicted).powi(N as i32),
            cell(pm[2], 3),
            paper("exact")
        );
        let _ = writeln!(
            md,
            "| {n_mem} | recalls with < 5 wrong bits | {} | {} | {} |",
            cell(zo[3], 3),
            cell(pm[3], 3),
            paper("under5")
        );
        let form_json = |v: &[(f64, f64); 4]| {
            json!({
                "unstable_bits": {"mean": v[0].0, "sd": v[0].1},
                "wrong_bits_after_recall": {"mean": v[1].0, "sd": v[1].1},
                "error_free": {"mean": v[2].0, "sd": v[2].1},
                "under_5_errors": {"mean": v[3].0, "sd": v[3].1},
            })
        };
        out.push(json!({
            "n": N, "memories": n_mem, "seeds": seeds, "predicted_bit_error": predicted,
            "zero_one_form": form_json(zo), "bipolar_form": form_json(pm),
        }));
    }
    md.push('\n');
    Ok((md, Value::Array(out)))
}

/// Basins of attraction, N = 30, n = 5 (Hopfield 1982): starts at Hamming distance d from a
/// memory, and random starts.
fn basins(seeds: u64, bar: &ProgressBar) -> DynResult<(String, Value)> {
    const N: usize = 30;
    const MEMORIES: usize = 5;
    const RANDOM_STARTS: usize = 20;
    let distances: Vec<usize> = (0..=15).collect();
    bar.set_length(bar.length().unwrap_or(0) + seeds * FORMS.len() as u64);
    let mut md = format!(
        "### Basins of attraction (Hopfield 1982): N = {N}, n = {MEMORIES}\n\nStart at Hamming distance d from a \
         memory (d random bits flipped), asynchronous updates to a stable state; the fraction of starts that end \
         exactly in that memory, and that end nearer to it than to any other memory or complement, over {seeds} \
         seeds × {MEMORIES} memories. Paper: \"the nearest memory is reached\" above 90 % of the time up to d = 5, \
         falling smoothly to about 0.2 (twice chance) at d = 12.\n\n| form | d |"
    );
    for d in &distances {
        let _ = write!(md, " {d} |");
    }
    md.push_str("\n|---|---|");
    md.push_str(&"--:|".repeat(distances.len()));
    md.push('\n');
    let mut json_forms = Vec::new();
    let mut random_lines = String::new();
    for (binary, form) in FORMS {
        // Per seed: hits[d] of MEMORIES starts, and random starts [memory or complement, near, other].
        let runs = parallel_seeds(seeds, |seed| -> DynResult<(Vec<[usize; 2]>, [usize; 3])> {
            let mut r = rng::derive(30, seed);
            let ps = random_patterns(N, MEMORIES, &mut r)?;
            let net = hebbian(&ps, binary)?;
            let mut cues = Vec::new();
            for &d in &distances {
                for p in &ps {
                    cues.push(p.flipped(d, &mut r)?);
                }
            }
            for _ in 0..RANDOM_STARTS {
                cues.push(Pattern::random(N, &mut r)?);
            }
            let out = net.recall_batch(&cues, &Dynamics::asynchronous().seed(seed))?;
            // hits[d]: [exactly the memory, nearest to the memory (not its complement)].
            let mut hits = vec![[0; 2]; distances.len()];
            for (k, res) in out.iter().take(distances.len() * MEMORIES).enumerate() {
                let nearest = res.nearest.is_some_and(|n| n.pattern == k % MEMORIES && !n.complement);
                hits[k / MEMORIES][0] += usize::from(res.is_pattern(k % MEMORIES));
                hits[k / MEMORIES][1] += usize::from(nearest);
            }
            let mut random = [0; 3];
            for res in &out[distances.len() * MEMORIES..] {
                let d = res.nearest.map_or(N, |n| n.distance);
                random[if d == 0 {
                    0
                } else if d <= 3 {
                    1
                } else {
                    2
                }] += 1;
            }
            bar.inc(1);
            Ok((hits, random))
        })?;
        let total = (seeds as usize * MEMORIES) as f64;
        let fraction = |j: usize| -> Vec<f64> {
            (0..distances.len()).map(|k| runs.iter().map(|r| r.0[k][j]).sum::<usize>() as f64 / total).collect()
        };
        let (exact, nearest) = (fraction(0), fraction(1));
        for (what, values) in [("ends exactly in the memory", &exact), ("ends nearest to the memory", &nearest)] {
            let _ = write!(md, "| {form} | {what} |");
            for f in values {
                let _ = write!(md, " {f:.2} |");
            }
            md.push('\n');
        }
        let random_total = (seeds as usize * RANDOM_STARTS) as f64;
        let random: Vec<f64> =
            (0..3).map(|k| runs.iter().map(|r| r.1[k]).sum::<usize>() as f64 / random_total).collect();
        let _ = write!(
            random_lines,
            "{form} form: {:.0} % end in a memory{}, {:.0} % within 1–3 bits of one, {:.0} % in other (spurious) states. ",
            100.0 * random[0],
            if binary { "" } else { " or its complement" },
            100.0 * random[1],
            100.0 * random[2]
        );
        json_forms.push(json!({
            "form": form, "fraction_exactly_in_memory": exact, "fraction_nearest_to_memory": nearest,
            "random_starts": { "memory_or_complement": random[0], "within_3_bits": random[1], "other": random[2] },
        }));
    }
    let _ = write!(
        md,
        "\nRandom starts ({RANDOM_STARTS} per seed): {random_lines}Paper: ≈ 85 % in assigned memories (10 stable states \
         counting complements), 5 % \"very near\" them, 10 % in spurious states.\n\n"
    );
    let json = json!({ "n": N, "memories": MEMORIES, "seeds": seeds, "distance": distances, "forms": json_forms });
    Ok((md, json))
}

/// Loads p/N of the capacity runs.
fn load_grid(n: usize, quick: bool) -> Vec<usize> {
    let fractions: &[f64] = if quick {
        &[0.05, 0.1, 0.14, 0.2, 0.3, 0.5, 0.7, 0.9]
    } else {
        &[0.02, 0.05, 0.08, 0.1, 0.12, 0.14, 0.17, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    };
    let mut ps: Vec<usize> = fractions.iter().map(|f| ((f * n as f64).round() as usize).max(1)).collect();
    ps.dedup();
    ps
}

/// Plot files: (file name, SVG).
type Files = Vec<(String, String)>;

/// Per model (3 classic rules, then modern) and load: [fixed, overlap, noisy].
type Curves = Vec<Vec<[f64; 3]>>;

fn capacity_curves(n: usize, seeds: u64, grid: &[usize], bar: &ProgressBar) -> DynResult<(String, Value, Files)> {
    bar.set_length(bar.length().unwrap_or(0) + seeds * grid.len() as u64);
    let beta = 1.0 / (n as f32).sqrt();
    let runs = parallel_seeds(seeds, |seed| -> DynResult<Curves> {
        let mut curves = vec![Vec::new(); RULES.len() + 1];
        for (g, &p) in grid.iter().enumerate() {
            let mut r = rng::derive(n as u64 * 1000 + g as u64, seed);
            let ps = random_patterns(n, p, &mut r)?;
            let cues: Vec<Pattern> = ps.iter().map(|x| x.flipped(n / 10, &mut r)).collect::<Result<_, _>>()?;
            let dynamics = Dynamics::asynchronous().seed(seed);
            for (k, (rule, ..)) in RULES.iter().enumerate() {
                let point = match Hopfield::<f32>::with_patterns(*rule, &ps) {
                    Ok(net) => {
                        let fixed = net.fixed_points(&ps)?.iter().filter(|&&f| f).count() as f64 / p as f64;
                        let from_pattern = net.recall_batch(&ps, &dynamics)?;
                        let overlap = mean_overlap(&ps, from_pattern.iter().map(|r| &r.state))?;
                        let from_noise = net.recall_batch(&cues, &dynamics)?;
                        let noisy =
                            from_noise.iter().enumerate().filter(|(k, r)| r.is_pattern(*k)).count() as f64 / p as f64;
                        [fixed, overlap, noisy]
                    }
                    // Linearly dependent random patterns (possible only near p = N).
                    Err(_) => [f64::NAN; 3],
                };
                curves[k].push(point);
            }
            let modern = ModernHopfield::<f32>::from_patterns(&ps, beta)?;
            let one_step =
                modern.clone().with_dynamics(rnn_hopfield::ModernDynamics { max_steps: 1, tolerance: 0.0 })?;
            let fixed = one_step.recall_signs(&ps)?.iter().zip(&ps).filter(|(a, b)| a == b).count() as f64 / p as f64;
            let overlap = mean_overlap(&ps, modern.recall_signs(&ps)?.iter())?;
            let noisy = modern.recall_signs(&cues)?.iter().zip(&ps).filter(|(a, b)| a == b).count() as f64 / p as f64;
            curves[RULES.len()].push([fixed, overlap, noisy]);
            bar.inc(1);
        }
        Ok(curves)
    })?;
    // Mean over seeds, ignoring the (rare) failed pseudo-inverse builds.
    let models = RULES.len() + 1;
    let mean: Curves = (0..models)
        .map(|m| {
            (0..grid.len())
                .map(|g| {
                    let mut acc = [0.0; 3];
                    for (k, slot) in acc.iter_mut().enumerate() {
                        let vals: Vec<f64> = runs.iter().map(|r| r[m][g][k]).filter(|v| v.is_finite()).collect();
                        *slot = if vals.is_empty() { f64::NAN } else { vals.iter().sum::<f64>() / vals.len() as f64 };
                    }
                    acc
                })
                .collect()
        })
        .collect();
    let names: Vec<&str> = RULES.iter().map(|r| r.1).chain(["modern"]).collect();
    let colors: Vec<&str> = RULES.iter().map(|r| r.2).chain([MODERN_COLOR]).collect();
    let theory = [
        ("N/(2 ln N)", capacity::hebbian_absolute(n), "#1f77b4"),
        ("0.138 N", capacity::hebbian_retrieval(n), "#17becf"),
        ("N/√(2 ln N)", capacity::storkey_absolute(n), "#2ca02c"),
        ("N", capacity::pseudo_inverse(n), "#d62728"),
    ];

    let mut md = format!("#### N = {n} ({seeds} seeds)\n\n| p | p/N |");
    for name in &names {
        let _ = write!(md, " {name} fixed / overlap / noisy |");
    }
    md.push_str("\n|--:|--:|");
    md.push_str(&"---|".repeat(names.len()));
    md.push('\n');
    for (g, &p) in grid.iter().enumerate() {
        let _ = write!(md, "| {p} | {:.2} |", p as f64 / n as f64);
        for curve in &mean {
            let [f, o, q] = curve[g];
            let _ = write!(md, " {f:.2} / {o:.3} / {q:.2} |");
        }
        md.push('\n');
    }
    // Measured limit: the largest load before the fixed-point fraction first falls below 0.9.
    let limit = |curve: &[[f64; 3]]| -> Option<f64> {
        let mut last = None;
        for (g, &p) in grid.iter().enumerate() {
            if curve[g][0] >= 0.9 {
                last = Some(p as f64);
            } else {
                break;
            }
        }
        last
    };
    let top = grid.last().copied().unwrap_or(0) as f64;
    let fmt_limit = |l: Option<f64>| match l {
        None => "below the grid".to_string(),
        Some(p) if p == top => format!("every load tried (p ≤ {p:.0})"),
        Some(p) => format!("p ≈ {p:.0}"),
    };
    let _ = writeln!(
        md,
        "\nMeasured: at least 90 % of the patterns are exact fixed points up to {} (Hebbian; theory N/(2 ln N) = {:.1}, \
         retrieval with few errors up to 0.138 N = {:.1}), {} (Storkey; N/√(2 ln N) = {:.1}), {} (pseudo-inverse; N = {n}), \
         {} (modern).\n\n![fixed points, N = {n}](hopfield_capacity_N{n}.svg) ![overlap, N = {n}](hopfield_overlap_N{n}.svg)\n",
        fmt_limit(limit(&mean[0])),
        theory[0].1,
        theory[1].1,
        fmt_limit(limit(&mean[1])),
        theory[2].1,
        fmt_limit(limit(&mean[2])),
        fmt_limit(limit(&mean[3])),
    );

    // p ≤ 2,500: the larger runs cost more than the whole rest of the experiment.
    let factors: &[usize] = if n <= 100 {
        &[2, 5, 10]
    } else if seeds > 1 {
        &[2, 5]
    } else {
        &[]
    };
    let beyond = modern_beyond(n, seeds.min(4), factors)?;
    if !beyond.is_empty() {
        let _ = writeln!(
            md,
            "Modern network beyond N (β = 1/√N, {} seed(s); fixed after one update / exact recall from 10 % noise after one \
         update / after iterating to convergence): {}. One update retrieves (Ramsauer et al.); iterating further can \
         drift into the metastable average of many patterns once p ≫ N at this β.\n",
            seeds.min(4),
            beyond
                .iter()
                .map(|(p, f, q, c)| format!("p = {p} ({}N): {f:.3} / {q:.3} / {c:.3}", p / n))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let theory_labels: Vec<String> = theory.iter().map(|(l, v, _)| format!("{l} = {v:.1}")).collect();
    let svg = |metric: usize, title: &str, y_label: &str| -> String {
        let mut series: Vec<Series<'_>> = mean
            .iter()
            .zip(&names)
            .zip(&colors)
            .map(|((curve, name), color)| Series {
                label: name,
                color,
                points: grid.iter().zip(curve).map(|(&p, v)| (p as f64 / n as f64, v[metric])).collect(),
                dashed: false,
            })
            .collect();
        let y0 = if metric == 1 {
            mean.iter().flatten().map(|v| v[1]).filter(|v| v.is_finite()).fold(1.0, f64::min)
        } else {
            0.0
        };
        for ((_, v, color), label) in theory.iter().zip(&theory_labels) {
            series.push(Series { label, color, points: vec![(v / n as f64, y0), (v / n as f64, 1.0)], dashed: true });
        }
        line_chart(title, "load p/N", y_label, &series)
    };
    let files = vec![
        (
            format!("hopfield_capacity_N{n}.svg"),
            svg(0, &format!("Exact fixed points, N = {n}"), "fraction of patterns"),
        ),
        (
            format!("hopfield_overlap_N{n}.svg"),
            svg(1, &format!("Final overlap from each pattern, N = {n}"), "mean overlap m"),
        ),
    ];
    let json = json!({
        "n": n, "seeds": seeds, "p": grid, "beta_modern": beta,
        "modern_beyond_n": beyond.iter().map(|(p, f, q, c)| json!({
            "p": p, "fixed_one_update": f, "noisy_exact_one_update": q, "noisy_exact_converged": c,
        })).collect::<Vec<_>>(),
        "theory": theory.iter().map(|(l, v, _)| json!({ "name": l, "p": v })).collect::<Vec<_>>(),
        "models": names.iter().zip(&mean).map(|(name, curve)| json!({
            "name": name,
            "fixed": curve.iter().map(|v| v[0]).collect::<Vec<_>>(),
            "overlap": curve.iter().map(|v| v[1]).collect::<Vec<_>>(),
            "noisy_exact": curve.iter().map(|v| v[2]).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    Ok((md, json, files))
}

/// The modern network at p = `factors`·N: (p, exact fixed points after one update, exact recall
/// from 10 % noise after one update, and after iterating to convergence), means over `seeds`.
fn modern_beyond(n: usize, seeds: u64, factors: &[usize]) -> DynResult<Vec<(usize, f64, f64, f64)>> {
    let beta = 1.0 / (n as f32).sqrt();
    let mut out = Vec::new();
    for &factor in factors {
        let p = factor * n;
        let runs = parallel_seeds(seeds, |seed| -> DynResult<[f64; 3]> {
            let mut r = rng::derive(n as u64 * 7000 + factor as u64, seed);
            let ps = random_patterns(n, p, &mut r)?;
            let cues: Vec<Pattern> = ps.iter().map(|x| x.flipped(n / 10, &mut r)).collect::<Result<_, _>>()?;
            let modern = ModernHopfield::<f32>::from_patterns(&ps, beta)?;
            let one_step =
                modern.clone().with_dynamics(rnn_hopfield::ModernDynamics { max_steps: 1, tolerance: 0.0 })?;
            let exact = |states: Vec<Pattern>| states.iter().zip(&ps).filter(|(a, b)| a == b).count() as f64 / p as f64;
            Ok([
                exact(one_step.recall_signs(&ps)?),
                exact(one_step.recall_signs(&cues)?),
                exact(modern.recall_signs(&cues)?),
            ])
        })?;
        let mean = |k: usize| runs.iter().map(|r| r[k]).sum::<f64>() / runs.len() as f64;
        out.push((p, mean(0), mean(1), mean(2)));
    }
    Ok(out)
}

fn mean_overlap<'a>(patterns: &[Pattern], states: impl Iterator<Item = &'a Pattern>) -> DynResult<f64> {
    let mut sum = 0.0;
    for (p, s) in patterns.iter().zip(states) {
        sum += p.overlap(s)?;
    }
    Ok(sum / patterns.len() as f64)
}

/// The digits binarised (pixel > 8 of 16), with their labels.
fn binarised_digits() -> DynResult<Vec<(Pattern, usize)>> {
    let d = rnn_data::digits()?;
    (0..d.len())
        .map(|i| {
            let img = d.image(i).ok_or("digit image out of range")?;
            Ok((Pattern::threshold(&img, 8.0)?, usize::from(d.labels()[i])))
        })
        .collect()
}

/// The nearest prototype by Hamming distance (the first on ties).
fn class_of(state: &Pattern, protos: &[Pattern]) -> DynResult<usize> {
    let mut best = (usize::MAX, 0);
    for (k, p) in protos.iter().enumerate() {
        let d = state.hamming(p)?;
        if d < best.0 {
            best = (d, k);
        }
    }
    Ok(best.1)
}

/// Handwritten digits: one prototype per class, corrupted test digits, recall per rule.
fn digits(seeds: u64, bar: &ProgressBar) -> DynResult<(String, Value, String)> {
    let all = binarised_digits()?;
    // Prototypes from the even-numbered images (pixel-wise majority per class), tests the odd ones.
    let mut votes = vec![[0i32; 64]; 10];
    for (p, label) in all.iter().step_by(2) {
        for (v, &s) in votes[*label].iter_mut().zip(p.as_slice()) {
            *v += i32::from(s);
        }
    }
    let protos: Vec<Pattern> =
        votes.iter().map(|v| Pattern::bipolar(&v.map(|x| if x > 0 { 1 } else { -1 }))).collect::<Result<_, _>>()?;
    let tests: Vec<&(Pattern, usize)> = all.iter().skip(1).step_by(2).collect();
    let noise = [0.1, 0.2, 0.3];
    let nets: Vec<(String, Hopfield<f32>)> = RULES
        .iter()
        .map(|(rule, name, _)| Ok((name.to_string(), Hopfield::<f32>::with_patterns(*rule, &protos)?)))
        .collect::<DynResult<_>>()?;
    let betas = [(1.0 / 8.0, "modern β = 1/√N"), (1.0, "modern β = 1")];
    let moderns: Vec<(String, ModernHopfield<f32>)> = betas
        .iter()
        .map(|(b, name)| Ok((name.to_string(), ModernHopfield::<f32>::from_patterns(&protos, *b)?)))
        .collect::<DynResult<_>>()?;
    let fixed: Vec<usize> = nets
        .iter()
        .map(|(_, net)| Ok(net.fixed_points(&protos)?.iter().filter(|&&f| f).count()))
        .collect::<DynResult<_>>()?;
    bar.set_length(bar.length().unwrap_or(0) + seeds * noise.len() as u64);

    // rows: cue baseline, 3 rules, 2 modern; per noise level: (right class, exact prototype) counts.
    let rows = 1 + nets.len() + moderns.len();
    let mut right = vec![vec![0usize; noise.len()]; rows];
    let mut exact = vec![vec![0usize; noise.len()]; rows];
    for seed in 0..seeds {
        for (q, &f) in noise.iter().enumerate() {
            let flips = (f * 64.0f64).round() as usize;
            let mut r = rng::derive(64, seed * 10 + q as u64);
            let cues: Vec<Pattern> = tests.iter().map(|(p, _)| p.flipped(flips, &mut r)).collect::<Result<_, _>>()?;
            let mut finals: Vec<Vec<Pattern>> = vec![cues.clone()];
            for (_, net) in &nets {
                finals.push(
                    net.recall_batch(&cues, &Dynamics::asynchronous().seed(seed))?
                        .into_iter()
                        .map(|r| r.state)
                        .collect(),
                );
            }
            for (_, m) in &moderns {
                finals.push(m.recall_signs(&cues)?);
            }
            for (row, states) in finals.iter().enumerate() {
                for (s, (_, label)) in states.iter().zip(&tests) {
                    right[row][q] += usize::from(class_of(s, &protos)? == *label);
                    exact[row][q] += usize::from(s == &protos[*label]);
                }
            }
            bar.inc(1);
        }
    }
    let total = (seeds as usize * tests.len()) as f64;
    let row_names: Vec<String> = std::iter::once("no recall (nearest prototype of the cue)".to_string())
        .chain(nets.iter().map(|(n, _)| n.clone()))
        .chain(moderns.iter().map(|(n, _)| n.clone()))
        .collect();
    let mut md = format!(
        "### Handwritten digits\n\nThe 8×8 digits (UCI, 1,797 images), binarised at pixel > 8 of 16 (n = 64). One \
         prototype per class, the pixel-wise majority of the even-numbered images of that class (10 patterns, \
         strongly correlated); the {} odd-numbered images are the test digits. Each test digit has 10 / 20 / 30 % of \
         its bits flipped and is recalled (asynchronous, random order); *right class*: the final state is nearest \
         (Hamming) to the prototype of the digit's class; *exact*: it is that prototype. {seeds} noise seed(s). \
         Prototypes that are fixed points: Hebbian {}/10, Storkey {}/10, pseudo-inverse {}/10.\n\n\
         | recall | right class 10 % | 20 % | 30 % | exact prototype 10 % | 20 % | 30 % |\n|---|--:|--:|--:|--:|--:|--:|\n",
        tests.len(),
        fixed[0],
        fixed[1],
        fixed[2]
    );
    for (row, name) in row_names.iter().enumerate() {
        let _ = write!(md, "| {name} |");
        for q in 0..noise.len() {
            let _ = write!(md, " {:.1} % |", 100.0 * right[row][q] as f64 / total);
        }
        for q in 0..noise.len() {
            let _ = write!(md, " {:.1} % |", 100.0 * exact[row][q] as f64 / total);
        }
        md.push('\n');
    }
    md.push_str(
        "\nHebb's rule cannot hold correlated patterns: the prototypes share most of their pixels, the crosstalk \
         swamps the signal, no prototype is stable and every cue falls into the same state. Storkey's rule and the \
         pseudo-inverse subtract the correlations, but a handwritten digit is far from its class prototype, and \
         recall often ends in a spurious state, so neither beats reading off the nearest prototype. The modern \
         network with β = 1 is exactly that lookup; with β = 1/√N (the attention scaling that stores random \
         patterns far beyond N) the correlated prototypes are not separated, the softmax is nearly flat, and every \
         cue goes to the same blend.\n\n![digits](hopfield_digits.svg)\n\n",
    );

    // Picture: a few test digits, their 10 % cue and each model's recall.
    let mut r = rng::derive(64, 999);
    let picks: Vec<&(Pattern, usize)> =
        [0usize, 2, 3, 5, 8].iter().filter_map(|&c| tests.iter().find(|(_, l)| *l == c).copied()).collect();
    let mut columns: Vec<(String, Vec<Pattern>)> =
        vec![("digit".into(), picks.iter().map(|(p, _)| p.clone()).collect())];
    let cues: Vec<Pattern> = picks.iter().map(|(p, _)| p.flipped(6, &mut r)).collect::<Result<_, _>>()?;
    columns.push(("cue (10 %)".into(), cues.clone()));
    for (name, net) in &nets {
        columns.push((
            name.clone(),
            net.recall_batch(&cues, &Dynamics::asynchronous())?.into_iter().map(|r| r.state).collect(),
        ));
    }
    for (name, m) in &moderns {
        columns.push((name.clone(), m.recall_signs(&cues)?));
    }
    let svg = digit_grid("Digits: cue (10 % of the bits flipped) → recall", &columns);

    let json = json!({
        "prototype_fixed_points": { "hebbian": fixed[0], "storkey": fixed[1], "pseudo_inverse": fixed[2] },
        "tests": tests.len(), "seeds": seeds, "noise": noise,
        "rows": row_names.iter().enumerate().map(|(k, n)| json!({
            "name": n,
            "right_class": right[k].iter().map(|&c| c as f64 / total).collect::<Vec<_>>(),
            "exact_prototype": exact[k].iter().map(|&c| c as f64 / total).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    Ok((md, json, svg))
}

/// An SVG of 8×8 digit images: one column per (title, images), one row per image.
fn digit_grid(title: &str, columns: &[(String, Vec<Pattern>)]) -> String {
    const CELL: usize = 9;
    const GAP: usize = 24;
    let width = 8 * CELL;
    let rows = columns.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    let (left, top) = (20, 60);
    let w = left * 2 + columns.len() * (width + GAP);
    let h = top + rows * (width + GAP) + 10;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = write!(
        s,
        r#"<rect width="{w}" height="{h}" fill="white"/><text x="{}" y="20" text-anchor="middle" font-size="14">{title}</text>"#,
        w / 2
    );
    for (c, (name, images)) in columns.iter().enumerate() {
        let x0 = left + c * (width + GAP);
        let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle">{name}</text>"#, x0 + width / 2, top - 10);
        for (row, img) in images.iter().enumerate() {
            let y0 = top + row * (width + GAP);
            let _ =
                write!(s, r##"<rect x="{x0}" y="{y0}" width="{width}" height="{width}" fill="#fff" stroke="#999"/>"##);
            for (i, &v) in img.as_slice().iter().enumerate() {
                if v > 0 {
                    let (x, y) = (x0 + (i % 8) * CELL, y0 + (i / 8) * CELL);
                    let _ = write!(s, r##"<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" fill="#222"/>"##);
                }
            }
        }
    }
    s.push_str("</svg>\n");
    s
}
