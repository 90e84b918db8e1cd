//! The `storm` scenario: how long a reconnect storm takes.
//!
//! It starts the real `arena` server from the release directory, puts a TCP
//! proxy in front of it (`playhouse_tests::proxy`, the one the tests use),
//! connects N clients through the proxy into arena rooms (join-or-create,
//! 16 to a room) and lets them play for a second. Then the proxy resets
//! every connection at once (RST both ways: no close frame, bytes in flight
//! lost), and each client at once starts resuming: reconnect through the
//! proxy, `Resume` with its token and last seq, retrying every 20 ms on a
//! failed connect. Measured per client: from the instant of the reset to
//! the arrival of `Resumed` ("socket loss to resumed"), as a histogram
//! (p50, p99, max). The storm is repeated `--rounds` times on the same
//! clients (each round resumes the session of the previous one).
//!
//! ```text
//! cargo build --release -p arena -p playhouse-benches --bins
//! target/release/loadgen storm --clients 200 --rounds 5 --release-dir target/release
//! ```

use super::report::Machine;
use super::server::Server;
use super::{LoadgenError, Result};
use hdrhistogram::Histogram;
use playhouse_client::{Client, ClientError, Event};
use playhouse_tests::proxy::Proxy;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

const TOKENS: [&str; 1] = ["arena.v2.proto"];

/// Flags of the `storm` scenario.
#[derive(clap::Args, Debug, Clone)]
pub struct StormArgs {
    /// Clients dropped at once.
    #[arg(long, default_value_t = 200)]
    pub clients: usize,
    /// Storms, one after another, on the same clients.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Where the `arena` binary is.
    #[arg(long, default_value = "target/release")]
    pub release_dir: PathBuf,
}

/// The report.
#[derive(Serialize, Debug)]
pub struct StormReport {
    /// Always "storm".
    pub scenario: &'static str,
    /// Clients per storm.
    pub clients: usize,
    /// Storms.
    pub rounds: usize,
    /// Where it ran.
    pub machine: Machine,
    /// Resumes that succeeded, out of clients × rounds.
    pub resumed: u64,
    /// Resumes that were resyncs (messages beyond the replay buffer).
    pub resyncs: u64,
    /// Milliseconds from the reset to `Resumed`.
    pub loss_to_resumed_ms: Percentiles,
    /// Failures, in words (empty on a clean run).
    pub errors: Vec<String>,
}

/// Percentiles in milliseconds.
#[derive(Serialize, Debug, Default)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

struct Outcome {
    micros: u64,
    resync: bool,
}

/// Runs the scenario; returns the report and whether every resume worked.
pub async fn run(args: &StormArgs) -> (StormReport, bool) {
    let mut report = StormReport {
        scenario: "storm",
        clients: args.clients,
        rounds: args.rounds,
        machine: Machine::current(),
        resumed: 0,
        resyncs: 0,
        loss_to_resumed_ms: Percentiles::default(),
        errors: Vec::new(),
    };
    let budget = Duration::from_secs(60 + 30 * args.rounds as u64);
    match tokio::time::timeout(budget, storms(args)).await {
        Ok(Ok((outcomes, errors))) => {
            let mut h = Histogram::<u64>::new(3).expect("3 significant digits is valid");
            for o in &outcomes {
                let _ = h.record(o.micros);
                report.resyncs += u64::from(o.resync);
            }
            report.resumed = outcomes.len() as u64;
            report.loss_to_resumed_ms = Percentiles {
                p50: h.value_at_quantile(0.5) as f64 / 1000.0,
                p90: h.value_at_quantile(0.9) as f64 / 1000.0,
                p99: h.value_at_quantile(0.99) as f64 / 1000.0,
                max: h.max() as f64 / 1000.0,
            };
            report.errors = errors;
        }
        Ok(Err(e)) => report.errors.push(e.to_string()),
        Err(_) => report.errors.push(format!("did not finish within {budget:?}")),
    }
    let ok = report.errors.is_empty() && report.resumed == (args.clients * args.rounds) as u64;
    (report, ok)
}

async fn storms(args: &StormArgs) -> Result<(Vec<Outcome>, Vec<String>)> {
    let bin = args.release_dir.join("arena");
    // Every client comes from 127.0.0.1: without lifting the per-address
    // parking cap, all but 64 of them would lose their session in the cut.
    let server_args =
        ["--addr", "127.0.0.1:0", "--max-connections", "100000", "--max-parked-per-address", "0"].map(String::from);
    let server = Server::spawn(&bin, &server_args, Duration::from_secs(10)).await?;
    let proxy = Proxy::start(server.addr).await;
    let url = proxy.ws_url();
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let mut c = Client::connect(&url, &TOKENS).await.map_err(client_error)?;
        c.join_or_create("arena", Default::default()).await.map_err(client_error)?;
        clients.push(c);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut outcomes = Vec::new();
    let mut errors = Vec::new();
    for round in 0..args.rounds {
        eprintln!("loadgen: storm {}/{} ({} clients)", round + 1, args.rounds, clients.len());
        let ready = Arc::new(Barrier::new(clients.len() + 1));
        let mut tasks = JoinSet::new();
        for c in clients.drain(..) {
            let (url, ready) = (url.clone(), ready.clone());
            tasks.spawn(async move { resume_after_cut(c, &url, ready).await });
        }
        ready.wait().await;
        let cut_at = Instant::now();
        proxy.cut_all();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok((c, resumed_at, resync))) => {
                    let micros = resumed_at.saturating_duration_since(cut_at).as_micros() as u64;
                    outcomes.push(Outcome { micros, resync });
                    clients.push(c);
                }
                Ok(Err(e)) => errors.push(e),
                Err(e) => errors.push(format!("client task: {e}")),
            }
        }
        // Let the resumed clients settle before the next storm.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(server);
    Ok((outcomes, errors))
}

fn client_error(e: ClientError) -> LoadgenError {
    LoadgenError::Protocol(format!("client: {e}"))
}

/// Reads until the cut reaches the client, then resumes as fast as it can.
async fn resume_after_cut(
    mut c: Client,
    url: &str,
    ready: Arc<Barrier>,
) -> std::result::Result<(Client, Instant, bool), String> {
    ready.wait().await;
    loop {
        match c.next_event_timeout(Duration::from_secs(10)).await {
            Ok(_) => {}
            Err(ClientError::Timeout) => return Err("the cut never reached the client".into()),
            Err(_) => break,
        }
    }
    let (token, last) = (c.resume_token().to_string(), c.last_seq());
    drop(c);
    let give_up = Instant::now() + Duration::from_secs(20);
    let mut resumed = loop {
        match Client::resume(url, &TOKENS, &token, last).await {
            Ok(r) => break r,
            Err(ClientError::Resume(e)) => return Err(format!("resume refused: {}", e.reason)),
            Err(e) if Instant::now() > give_up => return Err(format!("no resume within 20 s: {e}")),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let at = Instant::now();
    match resumed.next_event().await {
        Ok(Event::Resumed(r)) => Ok((resumed, at, r.resync)),
        Ok(other) => Err(format!("expected Resumed first, got {other:?}")),
        Err(e) => Err(format!("after resuming: {e}")),
    }
}
