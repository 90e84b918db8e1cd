//! `loadgen scenario` end to end: the built `loadgen` binary against the
//! real `arena` server, through its link emulator, judged against SLO
//! files. Tiny loads (a few clients for a few seconds): these check exit
//! codes and that the three report files exist and agree, never speed.
//! The one timing check is a lower bound: a link of 30 ms each way cannot
//! give a round trip under 60 ms.

use playhouse_tests::process::{arena_binary, ArenaProcess};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("loadgen-scenario-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A scenario of 3 clients in one arena room, 1 s of ramp and 3 s measured.
fn scenario(target: &str, link: &str) -> String {
    format!(
        r#"
name = "tiny"

[target]
{target}
tokens = ["arena.v2.msgpack"]

[room]
type = "arena"
rooms = 1
options = {{ seed = 3 }}

[load]
clients = 3
inputs_per_sec = 10
ramp_s = 1
duration_s = 3

[input]
json = {{ move_x = 1, fire = true, aim_x = 1.0 }}

{link}
"#
    )
}

/// Runs `loadgen scenario` on the two files; returns its output.
fn loadgen(dir: &Path, scenario: &str, slo: &str) -> Output {
    std::fs::write(dir.join("scenario.toml"), scenario).expect("write scenario");
    std::fs::write(dir.join("slo.toml"), slo).expect("write slo");
    let release_dir = arena_binary().parent().expect("a directory").to_path_buf();
    Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .arg("scenario")
        .arg(dir.join("scenario.toml"))
        .arg("--slo")
        .arg(dir.join("slo.toml"))
        .arg("--out")
        .arg(dir.join("report"))
        .arg("--release-dir")
        .arg(release_dir)
        .output()
        .expect("loadgen runs")
}

fn report(dir: &Path) -> (Value, String, String) {
    let read = |f: &str| std::fs::read_to_string(dir.join("report").join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let json: Value = serde_json::from_str(&read("report.json")).expect("report.json is JSON");
    (json, read("report.md"), read("latency.svg"))
}

/// Every objective of report.json has its row in report.md, with the same verdict.
fn assert_consistent(json: &Value, md: &str) {
    let objectives = json["objectives"].as_array().expect("objectives");
    assert!(!objectives.is_empty());
    let rows = md.lines().filter(|l| l.starts_with("| ") && (l.ends_with("| PASS |") || l.ends_with("| FAIL |")));
    assert_eq!(rows.count(), objectives.len(), "{md}");
    for o in objectives {
        let key = o["objective"].as_str().expect("key");
        let verdict = if o["pass"] == true { "PASS" } else { "FAIL" };
        let row = md.lines().find(|l| l.contains(&format!("(`{key}`)"))).unwrap_or_else(|| panic!("{key}: {md}"));
        assert!(row.ends_with(&format!("| {verdict} |")), "{row} vs {o}");
    }
    let all_pass = objectives.iter().all(|o| o["pass"] == true);
    assert_eq!(json["result"], if all_pass { "pass" } else { "fail" });
    let headline = if all_pass { "**PASS**" } else { "**FAIL**" };
    assert!(md.lines().next().is_some_and(|l| l.ends_with(headline)), "{md}");
}

#[test]
fn a_scenario_through_an_emulated_link_passes_its_slo_and_writes_three_agreeing_files() {
    let dir = scratch("pass");
    let link = "[link]\nlatency_ms = 30\njitter_ms = 5\nbandwidth_kbit = 2000\n";
    let slo = "p99_latency_ms = 10000\nmin_delivery_ratio = 0.5\nmax_errors = 0\nmax_tick_lateness_p99_ms = 10000\n";
    let out = loadgen(&dir, &scenario("start_arena = true", link), slo);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let (json, md, svg) = report(&dir);
    assert_consistent(&json, &md);
    assert_eq!(json["clients_joined"], 3, "{json:#}");
    assert_eq!(json["errors"], serde_json::json!({}), "{json:#}");
    assert!(json["latency_samples"].as_u64().unwrap_or(0) > 0, "{json:#}");
    assert!(json["states_received"].as_u64().unwrap_or(0) > 0, "{json:#}");
    assert!(json["measured"]["tick_lateness_p99_ms"].is_number(), "read from /metrics: {json:#}");
    // 30 ms each way: no input can be acknowledged in less than 60 ms.
    let p50 = json["measured"]["p50_latency_ms"].as_f64().expect("p50");
    assert!(p50 >= 60.0, "the link's latency is not in the path: p50 {p50} ms");
    assert_eq!(json["scenario"]["link"]["latency_ms"], 30.0);
    // The chart: an SVG with a p50 and a p99 line over the run's seconds.
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("#1f77b4") && svg.contains("#d62728") && svg.contains("<polyline"), "{svg}");
    let seconds = json["timeline"].as_array().expect("timeline").len();
    assert!(seconds >= 4, "1 s of ramp and 3 s measured: {seconds} seconds");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_slo_that_cannot_be_met_fails_with_exit_code_1_against_a_running_server() {
    let dir = scratch("fail");
    let arena = ArenaProcess::spawn(&[]);
    let target = format!("url = \"ws://{}/ws\"", arena.addr());
    let out = loadgen(&dir, &scenario(&target, ""), "p99_latency_ms = 0.001\nmax_errors = 0\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let (json, md, _svg) = report(&dir);
    assert_consistent(&json, &md);
    assert_eq!(json["result"], "fail");
    assert_eq!(json["objectives"][0]["objective"], "p99_latency_ms");
    assert_eq!(json["objectives"][0]["pass"], false);
    assert_eq!(json["objectives"][1]["pass"], true, "no errors against a healthy server: {json:#}");
    assert_eq!(json["scenario"]["target"], format!("ws://{}/ws", arena.addr()));
    assert!(arena.panics().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_file_is_exit_code_2_with_its_line_and_no_run() {
    let dir = scratch("bad");
    let bad = scenario("start_arena = true", "").replace("clients = 3", "clients = 0");
    let out = loadgen(&dir, &bad, "max_errors = 0\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("scenario.toml:14: load.clients: 0 is out of range"), "{stderr}");
    assert!(!dir.join("report").exists(), "no report for a file that was refused");
    let out = loadgen(&dir, &scenario("start_arena = true", ""), "max_errors = -1\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("slo.toml:1: max_errors"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `benches/scenarios/arena-smoke.toml` and `benches/slo/arena.toml`, the
/// worked example of docs/load-testing.md, as committed.
fn example_files() -> (PathBuf, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    (root.join("scenarios/arena-smoke.toml"), root.join("slo/arena.toml"))
}

#[test]
fn the_worked_example_runs_every_client_without_an_error() {
    let (scenario, slo) = example_files();
    let dir = scratch("example");
    let release_dir = arena_binary().parent().expect("a directory").to_path_buf();
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .arg("scenario")
        .arg(&scenario)
        .arg("--slo")
        .arg(&slo)
        .arg("--out")
        .arg(dir.join("report"))
        .arg("--release-dir")
        .arg(release_dir)
        .output()
        .expect("loadgen runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Its latency objectives are the docs' example, not a test of speed on
    // a shared machine: pass or fail on them, but never a broken run.
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    let (json, md, _svg) = report(&dir);
    assert_consistent(&json, &md);
    assert_eq!(json["clients_joined"], 6, "{json:#}");
    assert_eq!(json["errors"], serde_json::json!({}), "{json:#}");
    let names: Vec<&str> =
        json["objectives"].as_array().expect("objectives").iter().filter_map(|o| o["objective"].as_str()).collect();
    assert_eq!(
        names,
        ["p50_latency_ms", "p99_latency_ms", "min_delivery_ratio", "max_errors", "max_tick_lateness_p99_ms"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refused_creates_and_joins_are_counted_by_kind_and_fail_max_errors() {
    let dir = scratch("errors");
    let arena = ArenaProcess::spawn(&[]);
    let target = format!("url = \"ws://{}/ws\"", arena.addr());
    let text = scenario(&target, "")
        .replace("type = \"arena\"", "type = \"no-such-room\"")
        .replace("ramp_s = 1", "ramp_s = 0")
        .replace("duration_s = 3", "duration_s = 1");
    let out = loadgen(&dir, &text, "max_errors = 0\nmin_delivery_ratio = 0.9\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let (json, md, _svg) = report(&dir);
    assert_consistent(&json, &md);
    assert_eq!(json["clients_joined"], 0, "{json:#}");
    // The creator is refused by the server; the two others find no room to join.
    let errors = json["errors"].as_object().expect("errors by kind");
    assert_eq!(errors.values().filter_map(Value::as_u64).sum::<u64>(), 3, "{json:#}");
    assert!(errors.keys().any(|k| k.starts_with("create: join error")), "{json:#}");
    assert_eq!(errors.get("join: room not created"), Some(&Value::from(2)), "{json:#}");
    assert_eq!(json["objectives"][0]["objective"], "min_delivery_ratio");
    assert_eq!(json["objectives"][0]["measured"], Value::Null, "no state to judge: {json:#}");
    assert!(json["notes"][0].as_str().is_some_and(|n| n.starts_with("delivery ratio not measured")), "{json:#}");
    assert!(md.contains("not measured") && md.contains("create: join error"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}
