//! The floor of the fan-out scenario: what N `write()`s of S bytes to
//! loopback TCP sockets at T Hz cost the writing process, with nothing
//! around them. The program is `src/bin/floor.rs`; this module holds its
//! report (the contract between it and the load generator) and how
//! `loadgen fanout --targets ...,floor` runs it.

use super::pin::pin_child;
use super::procfs::Spent;
use super::{LoadgenError, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// What the floor program prints, as one JSON object on stdout.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FloorReport {
    /// N: sockets written to.
    pub connections: usize,
    /// S: bytes per write.
    pub bytes: usize,
    /// T: rounds of writes per second.
    pub hz: u32,
    /// G: groups of sockets, each written in its own burst at its own
    /// phase of the round (1: every socket in one burst).
    #[serde(default = "super::one")]
    pub groups: usize,
    /// Where the writer and the sink ran, in words.
    pub pinning: String,
    /// Full writes in the measured window.
    pub writes: u64,
    /// Writes that wrote fewer than S bytes.
    pub short_writes: u64,
    /// Writes refused with `EAGAIN` (the sink fell behind; not retried).
    pub would_block: u64,
    /// Writes that failed otherwise.
    pub errors: u64,
    /// Full writes per second.
    pub writes_per_sec: f64,
    /// The writer's CPU time per full write, µs (the process CPU-time clock;
    /// the process's only thread is the writer).
    pub cpu_us_per_write: Option<f64>,
    /// Share of its CPU the writer used, %.
    pub cpu_percent: f64,
    /// How busy the writer's CPU was by `/proc/stat`, % (when pinned).
    pub core_busy_percent: Option<f64>,
    /// `syscw` per full write: 1.0 when `syscw` counts what it should (the
    /// writer makes no other write calls in the window).
    pub syscalls_per_write: Option<f64>,
    /// How late each round started after its deadline, µs.
    pub round_lateness_us: RoundLateness,
    /// The raw counters of the window.
    pub window: Spent,
}

/// Lateness of the rounds' starts against their absolute deadlines.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct RoundLateness {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

/// How to run the floor from the load generator.
#[derive(Debug, Clone)]
pub struct FloorRun {
    /// N.
    pub connections: usize,
    /// S.
    pub bytes: usize,
    /// T.
    pub hz: u32,
    /// G (1: the floor's one burst per round).
    pub groups: usize,
    /// Measured seconds.
    pub duration: f64,
    /// Unmeasured seconds first.
    pub warmup: f64,
    /// The writer's CPU and the sink's, when pinned.
    pub cpus: Option<(usize, usize)>,
}

/// Runs `release_dir/floor` with `run`'s parameters and reads its report.
/// The writer is pinned like a server (before exec) and told where its
/// sink goes. Bounded by the run's length plus 30 s.
pub async fn run(release_dir: &Path, run: &FloorRun) -> Result<FloorReport> {
    let bin = release_dir.join("floor");
    if !bin.is_file() {
        return Err(LoadgenError::MissingBinary(bin));
    }
    let mut command = Command::new(&bin);
    command
        .args(["--connections", &run.connections.to_string()])
        .args(["--bytes", &run.bytes.to_string()])
        .args(["--hz", &run.hz.to_string()])
        .args(["--groups", &run.groups.to_string()])
        .args(["--duration", &run.duration.to_string()])
        .args(["--warmup", &run.warmup.to_string()]);
    match run.cpus {
        Some((writer, sink)) => {
            command.args(["--cpu", &writer.to_string(), "--sink-cpu", &sink.to_string()]);
            pin_child(&mut command, writer);
        }
        None => {
            command.arg("--no-pin");
        }
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| LoadgenError::Spawn { path: bin.clone(), source })?;
    let budget = Duration::from_secs_f64(run.warmup.max(0.0) + run.duration.max(0.0) + 30.0);
    let out = tokio::time::timeout(budget, child.wait_with_output())
        .await
        .map_err(|_| LoadgenError::Timeout(format!("{} within {budget:?}", bin.display())))??;
    if !out.status.success() {
        return Err(LoadgenError::Protocol(format!("{} exited with {}", bin.display(), out.status)));
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| LoadgenError::Protocol(format!("{}: unreadable report: {e}", bin.display())))
}
