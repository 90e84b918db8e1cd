//! The latency-over-time chart of `loadgen scenario`, as a self-contained
//! SVG: axes with labelled ticks, one line per percentile (a second with
//! no sample breaks its line), a dashed line at the SLO's p99 limit and a
//! marker where the ramp ends.

use std::fmt::Write;

/// Width and height of the whole picture, and the plot's margins.
const W: f64 = 800.0;
const H: f64 = 400.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 50.0;

/// One line of the chart.
pub struct Series<'a> {
    /// Legend text.
    pub label: &'a str,
    /// Stroke colour (any SVG colour).
    pub color: &'a str,
    /// `(seconds, value)`; `None` values break the line.
    pub points: Vec<(f64, Option<f64>)>,
}

/// What the chart shows.
pub struct Chart<'a> {
    /// The title on top.
    pub title: &'a str,
    /// The y axis' label.
    pub y_label: &'a str,
    /// The lines.
    pub series: Vec<Series<'a>>,
    /// A horizontal limit to draw (dashed), with its label.
    pub limit: Option<(f64, &'a str)>,
    /// Where the ramp ends, seconds (a vertical marker).
    pub ramp_end: Option<f64>,
}

impl Chart<'_> {
    /// The SVG document.
    pub fn svg(&self) -> String {
        let xs = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let x_max = xs.fold(1.0_f64, f64::max).max(self.ramp_end.unwrap_or(0.0)).ceil();
        let ys = self.series.iter().flat_map(|s| s.points.iter().filter_map(|p| p.1));
        let y_top = ys.fold(0.0_f64, f64::max).max(self.limit.map_or(0.0, |l| l.0));
        let y_max = nice_ceiling(y_top * 1.1);
        let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
        let x = |v: f64| LEFT + (v / x_max).clamp(0.0, 1.0) * pw;
        let y = |v: f64| TOP + ph - (v / y_max).clamp(0.0, 1.0) * ph;

        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="18" text-anchor="middle" font-size="14">{}</text>"#,
            W / 2.0,
            esc(self.title)
        );
        // Grid and y ticks.
        for i in 0..=5 {
            let v = y_max * i as f64 / 5.0;
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{x2:.1}" y2="{py:.1}" stroke="#ddd"/><text x="{tx:.1}" y="{ty:.1}" text-anchor="end">{}</text>"##,
                fmt_num(v),
                py = y(v),
                x2 = LEFT + pw,
                tx = LEFT - 6.0,
                ty = y(v) + 4.0
            );
        }
        // x ticks: about eight, on whole seconds.
        let step = (x_max / 8.0).ceil().max(1.0);
        let mut t = 0.0;
        while t <= x_max + 1e-9 {
            let _ = writeln!(
                s,
                r#"<line x1="{px:.1}" y1="{y0:.1}" x2="{px:.1}" y2="{y1:.1}" stroke="black"/><text x="{px:.1}" y="{ty:.1}" text-anchor="middle">{}</text>"#,
                fmt_num(t),
                px = x(t),
                y0 = TOP + ph,
                y1 = TOP + ph + 5.0,
                ty = TOP + ph + 18.0
            );
            t += step;
        }
        // Axes and their labels.
        let _ = writeln!(
            s,
            r#"<polyline points="{LEFT},{TOP} {LEFT},{b} {r},{b}" fill="none" stroke="black"/>"#,
            b = TOP + ph,
            r = LEFT + pw
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time since start (s)</text>"#,
            LEFT + pw / 2.0,
            H - 12.0
        );
        let _ = writeln!(
            s,
            r#"<text x="16" y="{cy:.1}" text-anchor="middle" transform="rotate(-90 16 {cy:.1})">{}</text>"#,
            esc(self.y_label),
            cy = TOP + ph / 2.0
        );
        if let Some(r) = self.ramp_end {
            let _ = writeln!(
                s,
                r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{b:.1}" stroke="#888" stroke-dasharray="2 3"/><text x="{tx:.1}" y="{ty:.1}" fill="#888">ramp end</text>"##,
                px = x(r),
                b = TOP + ph,
                tx = x(r) + 3.0,
                ty = TOP + 12.0
            );
        }
        if let Some((v, label)) = self.limit {
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{x2:.1}" y2="{py:.1}" stroke="#c00" stroke-dasharray="6 4"/>"##,
                py = y(v),
                x2 = LEFT + pw
            );
            self.legend(&mut s, self.series.len(), "#c00", label, true);
        }
        for (i, series) in self.series.iter().enumerate() {
            for run in runs(&series.points) {
                let pts: Vec<String> = run.iter().map(|&(t, v)| format!("{:.1},{:.1}", x(t), y(v))).collect();
                let _ = writeln!(
                    s,
                    r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>"#,
                    pts.join(" "),
                    esc(series.color)
                );
            }
            self.legend(&mut s, i, series.color, series.label, false);
        }
        s.push_str("</svg>\n");
        s
    }

    fn legend(&self, s: &mut String, row: usize, color: &str, label: &str, dashed: bool) {
        let (lx, ly) = (W - RIGHT + 12.0, TOP + 10.0 + row as f64 * 18.0);
        let dash = if dashed { r#" stroke-dasharray="6 4""# } else { "" };
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{x2}" y2="{ly}" stroke="{}" stroke-width="2"{dash}/><text x="{tx}" y="{ty}">{}</text>"#,
            esc(color),
            esc(label),
            x2 = lx + 20.0,
            tx = lx + 26.0,
            ty = ly + 4.0
        );
    }
}

/// The unbroken runs of a series (a `None` ends one).
fn runs(points: &[(f64, Option<f64>)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(t, v) in points {
        match v {
            Some(v) if v.is_finite() => out.last_mut().expect("never empty").push((t, v)),
            _ => out.push(Vec::new()),
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// The next of 1, 2, 5 × 10^k at or above `v` (1 for nothing).
fn nice_ceiling(v: f64) -> f64 {
    if v.is_nan() || v <= 0.0 || v.is_infinite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|c| *c >= v).unwrap_or(10.0 * p)
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}").trim_end_matches('0').to_string()
    }
}

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(points: Vec<(f64, Option<f64>)>) -> String {
        Chart {
            title: "a <title> & more",
            y_label: "ms",
            series: vec![Series { label: "p99", color: "#d62728", points }],
            limit: Some((150.0, "SLO p99 ≤ 150")),
            ramp_end: Some(2.0),
        }
        .svg()
    }

    /// The numbers of every `points="..."` attribute of polylines drawn in `color`.
    fn line_points(svg: &str, color: &str) -> Vec<(f64, f64)> {
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains(&format!("stroke=\"{color}\"")))
            .flat_map(|l| {
                let inner = l.split("points=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
                inner
                    .split(' ')
                    .map(|p| {
                        let (a, b) = p.split_once(',').expect("x,y");
                        (a.parse().expect("x"), b.parse().expect("y"))
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn the_svg_is_well_formed_and_escaped() {
        let svg = chart(vec![(0.0, Some(10.0)), (1.0, Some(20.0))]);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("a &lt;title&gt; &amp; more"));
        // Every text closes, every other element is empty, entities only.
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        let empty = ["<line", "<polyline", "<rect"].iter().map(|e| svg.matches(e).count()).sum::<usize>();
        assert_eq!(empty, svg.matches("/>").count());
        assert_eq!(svg.matches("<svg").count(), 1);
        for (i, _) in svg.match_indices('&') {
            let rest = &svg[i..];
            assert!(["&amp;", "&lt;", "&gt;", "&quot;"].iter().any(|e| rest.starts_with(e)), "bare & at {i}");
        }
    }

    #[test]
    fn points_fall_inside_the_plot_and_gaps_break_the_line() {
        let svg = chart(vec![(0.0, Some(10.0)), (1.0, Some(500.0)), (2.0, None), (3.0, Some(0.0)), (4.0, Some(20.0))]);
        let pts = line_points(&svg, "#d62728");
        assert_eq!(pts.len(), 4, "the None drops one point: {svg}");
        for (px, py) in &pts {
            assert!((LEFT..=W - RIGHT).contains(px), "x {px} outside the plot");
            assert!((TOP..=H - BOTTOM).contains(py), "y {py} outside the plot");
        }
        let runs = svg.lines().filter(|l| l.starts_with("<polyline") && l.contains("#d62728")).count();
        assert_eq!(runs, 2, "two runs");
        // The highest value is near the top, zero on the x axis.
        assert!(pts[1].1 < pts[0].1 && (pts[2].1 - (H - BOTTOM)).abs() < 0.1);
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.3), 10.0);
        assert_eq!(nice_ceiling(130.0), 200.0);
        assert_eq!(nice_ceiling(0.04), 0.05);
    }
}
