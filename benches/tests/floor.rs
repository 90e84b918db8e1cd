//! The floor program over real loopback sockets: every socket gets one
//! full write per round, in one burst or in groups on their own phases.
//! Counts only, never speed; bounded to about a second.

use playhouse_benches::loadgen::floor::FloorReport;
use std::process::Command;

fn floor(groups: usize) -> FloorReport {
    let out = Command::new(env!("CARGO_BIN_EXE_floor"))
        .args(["--connections", "12", "--bytes", "64", "--hz", "50", "--duration", "0.4", "--warmup", "0.1"])
        .args(["--groups", &groups.to_string(), "--no-pin"])
        .output()
        .expect("floor runs");
    assert!(out.status.success(), "floor failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a FloorReport on stdout")
}

#[test]
fn every_socket_is_written_once_a_round_in_one_burst_or_in_groups() {
    for groups in [1, 4] {
        let report = floor(groups);
        assert_eq!(report.groups, groups);
        // 0.4 s at 50 Hz: 20 rounds of 12 writes, each full.
        assert_eq!(report.writes, 20 * 12, "groups {groups}");
        assert_eq!((report.short_writes, report.would_block, report.errors), (0, 0, 0));
    }
}

#[test]
fn zero_groups_or_connections_are_refused_before_anything_opens() {
    for args in [["--groups", "0"], ["--connections", "0"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_floor")).args(args).arg("--no-pin").output().expect("floor runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("must be > 0"), "{args:?}");
    }
}
