//! The `restart` scenario: what clients see of a supervised room restart.
//!
//! It starts `fanout_playhouse --panic-at-tick K` from the release
//! directory: every room's code panics once, on tick K. Each room's actix
//! `Supervisor` restarts it (no snapshot: through `on_create`), its clients
//! stay connected, and the tick clock goes on. R rooms × P clients connect
//! (token `fanout.v1.proto`, join-or-create fills rooms in order) and record
//! when each state arrives. Measured per client: the time from the last
//! state before tick K to the first state after it ("panic to the first
//! state after the restart", plus the one tick period the crashed tick
//! leaves empty), and how many ticks it missed. `/metrics` confirms R
//! restarts.
//!
//! ```text
//! cargo build --release -p playhouse-benches --bins
//! target/release/loadgen restart --rooms 10 --room-size 10 --hz 30 --panic-at-tick 60 --release-dir target/release
//! ```

use super::prom;
use super::report::Machine;
use super::server::Server;
use super::Result;
use hdrhistogram::Histogram;
use playhouse_client::{Client, ClientError, Event};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Flags of the `restart` scenario.
#[derive(clap::Args, Debug, Clone)]
pub struct RestartArgs {
    /// Rooms (each panics once).
    #[arg(long, default_value_t = 10)]
    pub rooms: usize,
    /// Clients per room.
    #[arg(long, default_value_t = 10)]
    pub room_size: usize,
    /// Ticks per second.
    #[arg(long, default_value_t = 30)]
    pub hz: u32,
    /// The tick every room panics on.
    #[arg(long, default_value_t = 60)]
    pub panic_at_tick: u64,
    /// Where `fanout_playhouse` is.
    #[arg(long, default_value = "target/release")]
    pub release_dir: PathBuf,
}

/// The report.
#[derive(Serialize, Debug)]
pub struct RestartReport {
    /// Always "restart".
    pub scenario: &'static str,
    /// Rooms × clients per room.
    pub rooms: usize,
    /// Clients per room.
    pub room_size: usize,
    /// Tick rate.
    pub hz: u32,
    /// Where it ran.
    pub machine: Machine,
    /// Clients that saw states on both sides of the panic.
    pub clients_measured: usize,
    /// `playhouse_room_restarts_total` after the run.
    pub restarts: f64,
    /// Last state before the panic → first state after, milliseconds.
    pub gap_ms: Gap,
    /// Ticks a client missed across the restart (the crashed one at least).
    pub ticks_missed_max: u64,
    /// Failures, in words.
    pub errors: Vec<String>,
}

/// Percentiles of the gap.
#[derive(Serialize, Debug, Default)]
pub struct Gap {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

/// One client's view of the restart: (gap, ticks missed).
async fn watch(mut c: Client, k: u64) -> std::result::Result<(Duration, u64), String> {
    let mut before: Option<(u64, Instant)> = None;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.next_event_timeout(left).await {
            Ok(Event::State(s)) if s.tick < k => before = Some((s.tick, Instant::now())),
            Ok(Event::State(s)) => {
                let (tick, at) = before.ok_or("no state before the panic tick")?;
                return Ok((at.elapsed(), s.tick - tick - 1));
            }
            Ok(_) => {}
            Err(ClientError::Timeout) => return Err("no state after the restart within 30 s".into()),
            Err(e) => return Err(format!("connection lost: {e}")),
        }
    }
}

/// Runs the scenario; returns the report and whether it measured everyone.
pub async fn run(args: &RestartArgs) -> (RestartReport, bool) {
    let mut report = RestartReport {
        scenario: "restart",
        rooms: args.rooms,
        room_size: args.room_size,
        hz: args.hz,
        machine: Machine::current(),
        clients_measured: 0,
        restarts: 0.0,
        gap_ms: Gap::default(),
        ticks_missed_max: 0,
        errors: Vec::new(),
    };
    if let Err(e) = measure(args, &mut report).await {
        report.errors.push(e.to_string());
    }
    let ok = report.errors.is_empty() && report.clients_measured == args.rooms * args.room_size;
    (report, ok)
}

async fn measure(args: &RestartArgs, report: &mut RestartReport) -> Result<()> {
    let bin = args.release_dir.join("fanout_playhouse");
    let server_args = [
        "--room-size".to_string(),
        args.room_size.to_string(),
        "--hz".into(),
        args.hz.to_string(),
        "--state-bytes".into(),
        "64".into(),
        "--panic-at-tick".into(),
        args.panic_at_tick.to_string(),
    ];
    let server = Server::spawn(&bin, &server_args, Duration::from_secs(10)).await?;
    let url = format!("ws://{}/ws", server.addr);
    let mut tasks = JoinSet::new();
    for _ in 0..args.rooms * args.room_size {
        let mut c = Client::connect(&url, &["fanout.v1.proto"])
            .await
            .map_err(|e| super::LoadgenError::Protocol(format!("connect: {e}")))?;
        c.join_or_create("fanout", Default::default())
            .await
            .map_err(|e| super::LoadgenError::Protocol(format!("join: {e}")))?;
        let k = args.panic_at_tick;
        tasks.spawn(watch(c, k));
    }
    let mut h = Histogram::<u64>::new(3).expect("3 significant digits is valid");
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok((gap, missed))) => {
                let _ = h.record(gap.as_micros() as u64);
                report.ticks_missed_max = report.ticks_missed_max.max(missed);
                report.clients_measured += 1;
            }
            Ok(Err(e)) => report.errors.push(e),
            Err(e) => report.errors.push(format!("client task: {e}")),
        }
    }
    report.gap_ms = Gap {
        p50: h.value_at_quantile(0.5) as f64 / 1000.0,
        p99: h.value_at_quantile(0.99) as f64 / 1000.0,
        max: h.max() as f64 / 1000.0,
    };
    let metrics = prom::http_get(server.addr, "/metrics", Duration::from_secs(5)).await?;
    report.restarts = prom::counter(&metrics, "playhouse_room_restarts_total");
    Ok(())
}
