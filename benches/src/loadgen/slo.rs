//! The SLO file of `loadgen scenario`: the objectives a run must meet, and
//! their evaluation against what it measured.
//!
//! ```toml
//! p99_latency_ms = 150            # input → acknowledging state, 99th percentile
//! p50_latency_ms = 60             # … median
//! min_delivery_ratio = 0.95       # states received / states the ticks called for
//! max_errors = 0                  # failed connects and joins, Error messages, closes
//! max_tick_lateness_p99_ms = 10   # from the server's /metrics
//! ```
//!
//! Every key is optional, but a file names at least one. An objective whose
//! figure could not be measured (no inputs sent, `/metrics` unreachable)
//! fails: a run that cannot show it met an objective has not met it.

use super::tomlfile::{num, parse_toml, read, Checker, FileError, Number};
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml::Spanned;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct File {
    p50_latency_ms: Option<Spanned<Number>>,
    p99_latency_ms: Option<Spanned<Number>>,
    min_delivery_ratio: Option<Spanned<Number>>,
    max_errors: Option<Spanned<i64>>,
    max_tick_lateness_p99_ms: Option<Spanned<Number>>,
}

/// What an objective bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Median input → acknowledging-state latency, ms.
    P50LatencyMs,
    /// 99th percentile of the same, ms.
    P99LatencyMs,
    /// States received / states expected.
    DeliveryRatio,
    /// Errors over the whole run.
    Errors,
    /// 99th percentile of the server's tick lateness, ms.
    TickLatenessP99Ms,
}

impl Metric {
    /// The key of the SLO file that bounds it.
    pub fn key(self) -> &'static str {
        match self {
            Metric::P50LatencyMs => "p50_latency_ms",
            Metric::P99LatencyMs => "p99_latency_ms",
            Metric::DeliveryRatio => "min_delivery_ratio",
            Metric::Errors => "max_errors",
            Metric::TickLatenessP99Ms => "max_tick_lateness_p99_ms",
        }
    }

    /// Whether the measured value must be at least the limit (else at most).
    pub fn is_floor(self) -> bool {
        self == Metric::DeliveryRatio
    }

    /// Its words in a report.
    pub fn describe(self) -> &'static str {
        match self {
            Metric::P50LatencyMs => "input latency p50 (ms)",
            Metric::P99LatencyMs => "input latency p99 (ms)",
            Metric::DeliveryRatio => "state delivery ratio",
            Metric::Errors => "errors",
            Metric::TickLatenessP99Ms => "tick lateness p99 (ms)",
        }
    }
}

/// One objective: a metric and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Objective {
    /// What is bounded.
    pub metric: Metric,
    /// The bound (inclusive).
    pub limit: f64,
}

/// A checked SLO file, objectives in the file's key order above.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// At least one.
    pub objectives: Vec<Objective>,
}

/// The figures an SLO is judged on (`None`: not measured).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Input latency median, ms.
    pub p50_latency_ms: Option<f64>,
    /// Input latency 99th percentile, ms.
    pub p99_latency_ms: Option<f64>,
    /// States received / expected.
    pub delivery_ratio: Option<f64>,
    /// Errors, whole run.
    pub errors: u64,
    /// Server tick lateness 99th percentile over the window, ms.
    pub tick_lateness_p99_ms: Option<f64>,
}

impl Figures {
    fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::P50LatencyMs => self.p50_latency_ms,
            Metric::P99LatencyMs => self.p99_latency_ms,
            Metric::DeliveryRatio => self.delivery_ratio,
            Metric::Errors => Some(self.errors as f64),
            Metric::TickLatenessP99Ms => self.tick_lateness_p99_ms,
        }
    }
}

/// One objective's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// The SLO key.
    pub objective: &'static str,
    /// In words.
    pub what: &'static str,
    /// `<=` or `>=`.
    pub comparison: &'static str,
    /// The limit.
    pub limit: f64,
    /// What was measured (`None`: could not be).
    pub measured: Option<f64>,
    /// Whether it was met.
    pub pass: bool,
}

impl Slo {
    /// Reads and checks the SLO file at `path`.
    pub fn load(path: &Path) -> Result<Slo, FileError> {
        Slo::parse(path, &read(path)?)
    }

    /// Checks the SLO in `text` (read from `path`, named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Slo, FileError> {
        let f: File = parse_toml(path, text)?;
        let c = Checker { path, text };
        let ceiling = |metric: Metric, v: &Option<Spanned<Number>>, hi: f64| -> Result<Option<Objective>, FileError> {
            v.as_ref().map(|v| Ok(Objective { metric, limit: c.range(&num(v), metric.key(), 0.0, hi)? })).transpose()
        };
        let errors = match &f.max_errors {
            Some(e) if *e.get_ref() < 0 => {
                return Err(c.invalid(e.span(), "max_errors", format!("{} is out of range: 0 or more", e.get_ref())))
            }
            Some(e) => Some(Objective { metric: Metric::Errors, limit: *e.get_ref() as f64 }),
            None => None,
        };
        let objectives: Vec<Objective> = [
            ceiling(Metric::P50LatencyMs, &f.p50_latency_ms, 3_600_000.0)?,
            ceiling(Metric::P99LatencyMs, &f.p99_latency_ms, 3_600_000.0)?,
            ceiling(Metric::DeliveryRatio, &f.min_delivery_ratio, 1.0)?,
            errors,
            ceiling(Metric::TickLatenessP99Ms, &f.max_tick_lateness_p99_ms, 3_600_000.0)?,
        ]
        .into_iter()
        .flatten()
        .collect();
        if objectives.is_empty() {
            return Err(c.invalid(
                0..0,
                "(file)",
                "no objective: give at least one of p50_latency_ms, p99_latency_ms, min_delivery_ratio, max_errors, \
                 max_tick_lateness_p99_ms",
            ));
        }
        Ok(Slo { objectives })
    }

    /// Judges `figures`: one verdict per objective, in order.
    pub fn evaluate(&self, figures: &Figures) -> Vec<Verdict> {
        self.objectives
            .iter()
            .map(|o| {
                let measured = figures.get(o.metric);
                let pass = match measured {
                    Some(v) if o.metric.is_floor() => v >= o.limit,
                    Some(v) => v <= o.limit,
                    None => false,
                };
                Verdict {
                    objective: o.metric.key(),
                    what: o.metric.describe(),
                    comparison: if o.metric.is_floor() { ">=" } else { "<=" },
                    limit: o.limit,
                    measured,
                    pass,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "p99_latency_ms = 150\np50_latency_ms = 60.5\nmin_delivery_ratio = 0.95\nmax_errors = 0\n\
                        max_tick_lateness_p99_ms = 10\n";

    fn parse(text: &str) -> Result<Slo, FileError> {
        Slo::parse(Path::new("slo.toml"), text)
    }

    #[test]
    fn reads_every_objective_in_a_fixed_order() {
        let slo = parse(GOOD).expect("good");
        let keys: Vec<_> = slo.objectives.iter().map(|o| (o.metric.key(), o.limit)).collect();
        assert_eq!(
            keys,
            [
                ("p50_latency_ms", 60.5),
                ("p99_latency_ms", 150.0),
                ("min_delivery_ratio", 0.95),
                ("max_errors", 0.0),
                ("max_tick_lateness_p99_ms", 10.0)
            ]
        );
    }

    #[test]
    fn bad_values_are_named_with_their_line() {
        let cases = [
            ("min_delivery_ratio = 0.95", "min_delivery_ratio = 1.5", "slo.toml:3: min_delivery_ratio: 1.5 is out"),
            ("max_errors = 0", "max_errors = -1", "slo.toml:4: max_errors: -1 is out of range"),
            ("p99_latency_ms = 150", "p99_latency_ms = -3", "slo.toml:1: p99_latency_ms"),
        ];
        for (from, to, want) in cases {
            let got = parse(&GOOD.replace(from, to)).expect_err("refused").to_string();
            assert!(got.starts_with(want), "got {got:?}, want {want:?}");
        }
        let unknown = parse("p99_latency = 3\n").expect_err("refused").to_string();
        assert!(unknown.contains("line 1") && unknown.contains("p99_latency"), "{unknown}");
        let empty = parse("# nothing\n").expect_err("refused").to_string();
        assert!(empty.starts_with("slo.toml:1: (file): no objective"), "{empty}");
    }

    #[test]
    fn ceilings_floors_and_unmeasured_figures() {
        let slo = parse(GOOD).expect("good");
        let ok = Figures {
            p50_latency_ms: Some(60.5),
            p99_latency_ms: Some(149.0),
            delivery_ratio: Some(0.95),
            errors: 0,
            tick_lateness_p99_ms: Some(1.0),
        };
        assert!(slo.evaluate(&ok).iter().all(|v| v.pass), "{:?}", slo.evaluate(&ok));
        let bad = Figures { p99_latency_ms: Some(151.0), delivery_ratio: Some(0.5), errors: 1, ..ok.clone() };
        let failed: Vec<_> = slo.evaluate(&bad).into_iter().filter(|v| !v.pass).map(|v| v.objective).collect();
        assert_eq!(failed, ["p99_latency_ms", "min_delivery_ratio", "max_errors"]);
        let unmeasured = Figures { tick_lateness_p99_ms: None, ..ok };
        let v = slo.evaluate(&unmeasured);
        assert!(!v[4].pass && v[4].measured.is_none());
        assert_eq!((v[2].comparison, v[1].comparison), (">=", "<="));
    }
}
