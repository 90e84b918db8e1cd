//! The bounded versions of issue 14's scale runs, in the test command: they
//! fail on errors (a client that cannot connect or join, a lost connection,
//! a late heartbeat, a `/metrics` that does not answer), never on speed.
//! The full-size runs are benchmarks (`docs/benchmarks.md`, "Scale").

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn loadgen(args: &[&str]) -> Value {
    let server_dir = Path::new(env!("CARGO_BIN_EXE_fanout_playhouse")).parent().expect("a directory");
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(args)
        .arg("--release-dir")
        .arg(server_dir)
        .output()
        .expect("loadgen runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "loadgen {args:?} failed:\n{stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"))
}

#[test]
fn two_thousand_playing_clients_join_and_receive_states_without_an_error() {
    let r = loadgen(&[
        "fanout",
        "--targets",
        "playhouse",
        "--rooms",
        "100",
        "--room-size",
        "20",
        "--hz",
        "5",
        "--state-bytes",
        "128",
        "--duration",
        "3",
        "--warmup",
        "1",
        "--no-syscalls",
        "--no-pin",
    ]);
    let p = &r["results"]["playhouse"];
    assert_eq!(p["errors"], 0, "{p:#}");
    assert_eq!(p["clients_joined"], 2000, "{p:#}");
    assert!(p["deliveries_per_sec"].as_f64().unwrap_or(0.0) > 0.0, "{p:#}");
}

#[test]
fn three_thousand_idle_connections_are_held_with_every_heartbeat_on_time() {
    // The server pings every 5 s: 11 s of hold sees two pings per
    // connection. Two servers, as the 100,000-connection run spreads them
    // over several past the descriptor limit: the report adds both up.
    let r = loadgen(&["idle", "--clients", "3000", "--hold", "11", "--sources", "2", "--processes", "2"]);
    assert_eq!(r["processes"], 2, "{r:#}");
    let parts = r["parts"].as_array().expect("each server's report");
    assert_eq!(parts.iter().map(|p| p["opened"].as_u64().unwrap_or(0)).collect::<Vec<_>>(), [1500, 1500], "{r:#}");
    assert_eq!(r["opened"], 3000, "{r:#}");
    assert_eq!(r["lost"], 0, "{r:#}");
    assert_eq!(r["late_heartbeats"], 0, "{r:#}");
    assert_eq!(r["probe_errors"], 0, "{r:#}");
    assert!(r["pings"].as_u64().unwrap_or(0) >= 3000, "every connection was pinged: {r:#}");
    // What a heartbeat costs each server is reported, and the sum's figure
    // is the servers' CPU over all their pings.
    for p in parts.iter().chain([&r]) {
        assert!(p["server_cpu_us_per_ping"].as_f64().is_some_and(|us| us > 0.0), "{p:#}");
    }
    let cpu: f64 = parts.iter().map(|p| p["server_cpu_ms"].as_f64().unwrap_or(0.0)).sum();
    assert!((r["server_cpu_ms"].as_f64().unwrap_or(0.0) - cpu).abs() < 1e-6, "{r:#}");
}

#[test]
fn clients_in_two_aligned_rooms_each_join_both_and_receive_states_and_messages_without_an_error() {
    let r = loadgen(&[
        "fanout",
        "--targets",
        "playhouse",
        "--rooms",
        "20",
        "--room-size",
        "10",
        "--rooms-per-client",
        "2",
        "--aligned-ticks",
        "--messages-per-tick",
        "1",
        "--hz",
        "10",
        "--state-bytes",
        "64",
        "--duration",
        "2",
        "--warmup",
        "1",
        "--no-syscalls",
        "--no-pin",
    ]);
    assert_eq!(r["params"]["clients"], 100, "{r:#}");
    let p = &r["results"]["playhouse"];
    assert_eq!(p["errors"], 0, "{p:#}");
    assert_eq!(p["clients_joined"], 100, "{p:#}");
    assert_eq!(p["expected_deliveries_per_sec"], 2000, "two states per client per tick: {p:#}");
    assert!(p["deliveries_per_sec"].as_f64().unwrap_or(0.0) > 0.0, "{p:#}");
    // Each room sends one reliable message with each state (the window's
    // edges may cut a tick between the two).
    let per = p["messages_per_delivery"].as_f64().unwrap_or(0.0);
    assert!((0.9..=1.1).contains(&per), "one message per state: {p:#}");
}

#[test]
fn more_source_addresses_than_the_loopback_net_has_are_refused_before_any_server_starts() {
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["idle", "--clients", "10", "--processes", "200", "--sources", "2"])
        .output()
        .expect("loadgen runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("do not fit in 127.0.0.1-254"), "{stderr}");
}
