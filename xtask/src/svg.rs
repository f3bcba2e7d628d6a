//! A minimal SVG line chart, enough for forecast and capacity plots without a plotting crate.

use std::fmt::Write;

/// One line of a chart.
pub struct Series<'a> {
    pub label: &'a str,
    pub color: &'a str,
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

/// Optional extras of a chart.
#[derive(Default)]
pub struct Options {
    /// The y axis never goes below this (e.g. 0 for a count).
    pub y_floor: Option<f64>,
    /// Vertical marker lines at these x values, with a label at the top.
    pub markers: Vec<(f64, String)>,
}

/// Renders the series as an SVG line chart with round ticks and a legend beside the plot.
pub fn line_chart(title: &str, x_label: &str, y_label: &str, series: &[Series<'_>]) -> String {
    line_chart_with(title, x_label, y_label, series, &Options::default())
}

/// [`line_chart`] with [`Options`].
pub fn line_chart_with(title: &str, x_label: &str, y_label: &str, series: &[Series<'_>], options: &Options) -> String {
    let legend_w = 10.0 + 7.0 * series.iter().map(|s| s.label.chars().count()).max().unwrap_or(0) as f64 + 40.0;
    let (w, h) = (760.0 + legend_w, 420.0);
    let (left, right, top, bottom) = (70.0, 20.0 + legend_w, 40.0, 50.0);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in series.iter().flat_map(|s| s.points.iter()).filter(|(x, y)| x.is_finite() && y.is_finite()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0.partial_cmp(&x1) != Some(std::cmp::Ordering::Less) {
        (x0, x1) = (if x0.is_finite() { x0 } else { 0.0 }, if x0.is_finite() { x0 + 1.0 } else { 1.0 });
    }
    if y0.partial_cmp(&y1) != Some(std::cmp::Ordering::Less) {
        (y0, y1) = (if y0.is_finite() { y0 } else { 0.0 }, if y0.is_finite() { y0 + 1.0 } else { 1.0 });
    }
    let (x_ticks, x_step) = nice_ticks(x0, x1);
    let pad = 0.04 * (y1 - y0);
    let (mut ylo, yhi) = (y0 - pad, y1 + pad);
    if let Some(floor) = options.y_floor {
        ylo = ylo.max(floor);
    }
    let (y_ticks, y_step) = nice_ticks(ylo, yhi);
    let (ylo, yhi) = (ylo.min(y_ticks[0]), yhi.max(*y_ticks.last().unwrap_or(&yhi)));
    let sx = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let sy = |y: f64| h - bottom - (y - ylo) / (yhi - ylo) * (h - top - bottom);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15">{}</text>"#,
        (left + w - right) / 2.0,
        escape(title)
    );
    for &y in &y_ticks {
        let _ = writeln!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{1:.1}" y2="{1:.1}" stroke="#e4e4e4"/><text x="{2}" y="{3:.1}" text-anchor="end">{4}</text>"##,
            w - right,
            sy(y),
            left - 6.0,
            sy(y) + 4.0,
            tick_label(y, y_step)
        );
    }
    for &x in x_ticks.iter().filter(|&&x| x >= x0 && x <= x1) {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            sx(x),
            h - bottom + 18.0,
            tick_label(x, x_step)
        );
    }
    let _ = writeln!(s, r#"<path d="M{left},{top} V{} H{}" stroke="black" fill="none"/>"#, h - bottom, w - right);
    for (x, label) in options.markers.iter().filter(|(x, _)| *x >= x0 && *x <= x1) {
        let _ = writeln!(
            s,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{top}" y2="{1}" stroke="#888" stroke-dasharray="2 3"/><text x="{2:.1}" y="{3}" font-size="11" fill="#555">{4}</text>"##,
            sx(*x),
            h - bottom,
            sx(*x) + 4.0,
            top + 12.0,
            escape(label)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (left + w - right) / 2.0,
        h - 12.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{0}" text-anchor="middle" transform="rotate(-90 16 {0})">{1}</text>"#,
        h / 2.0,
        escape(y_label)
    );
    let legend_x = w - right + 15.0;
    for (k, ser) in series.iter().enumerate() {
        let mut d = String::new();
        for (i, &(x, y)) in ser.points.iter().filter(|(x, y)| x.is_finite() && y.is_finite()).enumerate() {
            let _ = write!(d, "{}{:.1},{:.1} ", if i == 0 { "M" } else { "L" }, sx(x), sy(y.max(ylo)));
        }
        let dash = if ser.dashed { r#" stroke-dasharray="6 4""# } else { "" };
        // Later series are drawn thinner so that a line exactly under another stays visible.
        let width = 3.0 - 1.6 * k as f64 / series.len().max(1) as f64;
        let _ = writeln!(s, r#"<path d="{d}" stroke="{}" stroke-width="{width:.2}" fill="none"{dash}/>"#, ser.color);
        let ly = top + 8.0 + 18.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{legend_x}" x2="{}" y1="{ly}" y2="{ly}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            legend_x + 26.0,
            ser.color,
            legend_x + 32.0,
            ly + 4.0,
            escape(ser.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Round tick positions (1, 2 or 5 × 10ᵏ apart) covering [lo, hi], about six of them, and
/// their spacing.
fn nice_ticks(lo: f64, hi: f64) -> (Vec<f64>, f64) {
    let raw = (hi - lo) / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).floor() * step;
    let n = ((hi - first) / step).ceil() as usize;
    ((0..=n.min(50)).map(|i| first + i as f64 * step).collect(), step)
}

fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
    format!("{v:.decimals$}")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        let (t, step) = nice_ticks(-5.87, 220.0);
        assert_eq!(step, 50.0);
        assert_eq!(t, vec![-50.0, 0.0, 50.0, 100.0, 150.0, 200.0, 250.0]);
        let (t, step) = nice_ticks(0.02, 1.0);
        assert_eq!(step, 0.2);
        assert_eq!(tick_label(t[1], step), "0.2");
    }
}
