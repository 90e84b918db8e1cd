//! The pass/fail report of `loadgen scenario`: `report.json` (for CI),
//! `report.md` (for people) and `latency.svg` (input latency per second),
//! all from one [`LoadReport`].

use super::chart::{Chart, Series};
use super::link::LinkConditions;
use super::slo::{Figures, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// What the scenario asked for, as reported.
#[derive(Serialize, Debug, Clone)]
pub struct ScenarioSummary {
    /// Its name.
    pub name: String,
    /// `start_arena` or the URL.
    pub target: String,
    /// Tokens offered.
    pub tokens: Vec<String>,
    /// Room type.
    pub room_type: String,
    /// Rooms.
    pub rooms: usize,
    /// Clients.
    pub clients: usize,
    /// Inputs per second per client.
    pub inputs_per_sec: f64,
    /// Ramp, seconds.
    pub ramp_s: f64,
    /// Measured window, seconds.
    pub duration_s: f64,
    /// The emulated link, if any.
    pub link: Option<LinkConditions>,
}

/// One second of the timeline.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Point {
    /// Seconds since the start (the second's beginning).
    pub t: u64,
    /// Input latency median in that second, ms.
    pub p50_ms: Option<f64>,
    /// Its 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// States received in that second, all clients.
    pub states: u64,
    /// Errors in that second.
    pub errors: u64,
}

/// The whole report.
#[derive(Serialize, Debug, Clone)]
pub struct LoadReport {
    /// `pass` or `fail`.
    pub result: &'static str,
    /// What ran.
    pub scenario: ScenarioSummary,
    /// One per objective.
    pub objectives: Vec<Verdict>,
    /// The figures judged.
    pub measured: Figures,
    /// Clients that joined their room.
    pub clients_joined: usize,
    /// Tokens the joined clients negotiated.
    pub protocols: BTreeMap<String, u64>,
    /// Inputs sent, inputs acknowledged in the window.
    pub inputs_sent: u64,
    /// Acknowledged inputs timed in the window.
    pub latency_samples: u64,
    /// States received / expected in the window.
    pub states_received: u64,
    /// States expected in the window.
    pub states_expected: u64,
    /// Ticks the server ran in the window (from /metrics), if read.
    pub server_ticks: Option<f64>,
    /// Errors by kind.
    pub errors: BTreeMap<String, u64>,
    /// The first few error messages.
    pub error_samples: Vec<String>,
    /// Notes about what could not be measured.
    pub notes: Vec<String>,
    /// Per second since the start.
    pub timeline: Vec<Point>,
}

impl LoadReport {
    /// Whether every objective was met.
    pub fn passed(&self) -> bool {
        self.result == "pass"
    }

    /// The Markdown report.
    pub fn markdown(&self) -> String {
        let s = &self.scenario;
        let mut md = String::new();
        let _ = writeln!(md, "# Load test `{}`: **{}**\n", s.name, self.result.to_uppercase());
        let _ = writeln!(md, "| objective | limit | measured | result |\n| --- | --- | --- | --- |");
        for v in &self.objectives {
            let measured = v.measured.map_or("not measured".to_string(), fmt);
            let verdict = if v.pass { "PASS" } else { "FAIL" };
            let _ = writeln!(
                md,
                "| {} (`{}`) | {} {} | {} | {} |",
                v.what,
                v.objective,
                v.comparison,
                fmt(v.limit),
                measured,
                verdict
            );
        }
        let _ = writeln!(md, "\n## Scenario\n");
        let _ = writeln!(md, "- target: {} (tokens {})", s.target, s.tokens.join(", "));
        let _ = writeln!(
            md,
            "- {} clients in {} `{}` room(s), {} inputs/s each; ramp {} s, then {} s measured",
            s.clients,
            s.rooms,
            s.room_type,
            fmt(s.inputs_per_sec),
            fmt(s.ramp_s),
            fmt(s.duration_s)
        );
        match &s.link {
            Some(l) => {
                let bw = l.bandwidth_bps.map_or("no cap".to_string(), |b| format!("{} kbit/s", fmt(b as f64 / 1000.0)));
                let _ = writeln!(
                    md,
                    "- link (each direction, per client): latency {} ms, jitter ±{} ms, loss {} %, bandwidth {bw}",
                    fmt(l.latency.as_secs_f64() * 1000.0),
                    fmt(l.jitter.as_secs_f64() * 1000.0),
                    fmt(l.loss * 100.0)
                );
            }
            None => {
                let _ = writeln!(md, "- link: direct (no emulation)");
            }
        }
        let _ = writeln!(md, "\n## Measured\n");
        let protocols: Vec<String> = self.protocols.iter().map(|(p, n)| format!("{p} ×{n}")).collect();
        let _ = writeln!(md, "- clients joined: {} of {} ({})", self.clients_joined, s.clients, protocols.join(", "));
        let _ = writeln!(md, "- inputs sent: {}; timed in the window: {}", self.inputs_sent, self.latency_samples);
        let _ = writeln!(
            md,
            "- states received in the window: {} of {} expected",
            self.states_received, self.states_expected
        );
        if let Some(t) = self.server_ticks {
            let _ = writeln!(md, "- server ticks in the window: {}", fmt(t));
        }
        if self.errors.is_empty() {
            let _ = writeln!(md, "- errors: none");
        } else {
            let _ = writeln!(md, "- errors:");
            for (k, n) in &self.errors {
                let _ = writeln!(md, "  - {k}: {n}");
            }
            let _ = writeln!(md, "\n  First messages:\n");
            for e in &self.error_samples {
                let _ = writeln!(md, "  - `{}`", e.replace('`', "'"));
            }
        }
        for n in &self.notes {
            let _ = writeln!(md, "- note: {n}");
        }
        let _ = writeln!(md, "\n![input latency per second](latency.svg)");
        md
    }

    /// The latency chart.
    pub fn svg(&self) -> String {
        let p99_limit = self.objectives.iter().find(|v| v.objective == "p99_latency_ms").map(|v| v.limit);
        let label = p99_limit.map(|l| format!("SLO p99 ≤ {}", fmt(l))).unwrap_or_default();
        let title = format!("{}: input latency per second", self.scenario.name);
        let series = |f: fn(&Point) -> Option<f64>| -> Vec<(f64, Option<f64>)> {
            self.timeline.iter().map(|p| (p.t as f64 + 0.5, f(p))).collect()
        };
        Chart {
            title: &title,
            y_label: "input → state ack (ms)",
            series: vec![
                Series { label: "p50", color: "#1f77b4", points: series(|p| p.p50_ms) },
                Series { label: "p99", color: "#d62728", points: series(|p| p.p99_ms) },
            ],
            limit: p99_limit.map(|l| (l, label.as_str())),
            ramp_end: Some(self.scenario.ramp_s),
        }
        .svg()
    }

    /// Writes `report.json`, `report.md` and `latency.svg` into `dir`
    /// (created if missing).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(dir.join("report.json"), json + "\n")?;
        std::fs::write(dir.join("report.md"), self.markdown())?;
        std::fs::write(dir.join("latency.svg"), self.svg())?;
        Ok(())
    }
}

/// A figure for people: at most three decimals, no trailing zeros.
fn fmt(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::slo::Slo;

    fn report() -> LoadReport {
        let slo = Slo::parse(Path::new("slo.toml"), "p99_latency_ms = 100\nmax_errors = 0\n").expect("slo");
        let measured = Figures { p99_latency_ms: Some(120.5), errors: 0, ..Default::default() };
        let objectives = slo.evaluate(&measured);
        LoadReport {
            result: if objectives.iter().all(|v| v.pass) { "pass" } else { "fail" },
            scenario: ScenarioSummary {
                name: "t".into(),
                target: "start_arena".into(),
                tokens: vec!["arena.v2.msgpack".into()],
                room_type: "arena".into(),
                rooms: 1,
                clients: 2,
                inputs_per_sec: 10.0,
                ramp_s: 1.0,
                duration_s: 3.0,
                link: None,
            },
            objectives,
            measured,
            clients_joined: 2,
            protocols: BTreeMap::from([("arena.v2.msgpack".to_string(), 2)]),
            inputs_sent: 80,
            latency_samples: 60,
            states_received: 180,
            states_expected: 180,
            server_ticks: Some(90.0),
            errors: BTreeMap::new(),
            error_samples: vec![],
            notes: vec![],
            timeline: vec![
                Point { t: 0, p50_ms: None, p99_ms: None, states: 0, errors: 0 },
                Point { t: 1, p50_ms: Some(40.0), p99_ms: Some(120.5), states: 60, errors: 0 },
            ],
        }
    }

    #[test]
    fn markdown_and_json_say_the_same() {
        let r = report();
        assert!(!r.passed());
        let md = r.markdown();
        assert!(md.starts_with("# Load test `t`: **FAIL**"), "{md}");
        assert!(md.contains("| input latency p99 (ms) (`p99_latency_ms`) | <= 100 | 120.5 | FAIL |"), "{md}");
        assert!(md.contains("| errors (`max_errors`) | <= 0 | 0 | PASS |"), "{md}");
        let json: serde_json::Value = serde_json::to_value(&r).expect("json");
        assert_eq!(json["result"], "fail");
        assert_eq!(json["objectives"][0]["objective"], "p99_latency_ms");
        assert_eq!(json["objectives"][0]["pass"], false);
        assert_eq!(json["timeline"][1]["p99_ms"], 120.5);
    }

    #[test]
    fn the_chart_has_both_lines_and_the_limit() {
        let svg = report().svg();
        assert!(svg.contains("SLO p99 ≤ 100") && svg.contains(">p50<") && svg.contains(">p99<"), "{svg}");
    }

    #[test]
    fn writes_three_files() {
        let dir = std::env::temp_dir().join(format!("verdict-test-{}", std::process::id()));
        report().write(&dir).expect("written");
        for f in ["report.json", "report.md", "latency.svg"] {
            assert!(dir.join(f).is_file(), "{f}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
