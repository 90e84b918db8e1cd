//! `loadgen scenario`: a load test a studio runs against its own game.
//!
//! It reads a scenario file ([`super::scenario`]) and an SLO file
//! ([`super::slo`]), starts the target (`arena` from the release directory,
//! or uses the running server at the scenario's URL), puts the link
//! emulator in front of it when the scenario has a `[link]`
//! ([`super::link`]), runs the clients ([`super::players`]): the ramp,
//! then the measured window, reads the server's tick lateness from
//! `/metrics` around the window, judges the figures against the SLO and
//! writes `report.json`, `report.md` and `latency.svg` ([`super::verdict`]).
//!
//! ```text
//! cargo build --release -p arena -p playhouse-benches --bins
//! target/release/loadgen scenario benches/scenarios/arena-smoke.toml --slo benches/slo/arena.toml \
//!     --out loadgen-report --release-dir target/release
//! ```
//!
//! Exit code: 0 every objective met, 1 one or more not met, 2 a scenario
//! or SLO file that cannot be used (the message names the line), 3 the
//! run itself could not happen (arena missing, the target's address does
//! not resolve, the report cannot be written).

use super::link::LinkProxy;
use super::players::{self, Crowd, Recorder};
use super::prom::{self, Buckets};
use super::scenario::{split_url, FileError, Scenario, Target};
use super::server::Server;
use super::slo::{Figures, Slo};
use super::verdict::{LoadReport, Point, ScenarioSummary};
use super::{LoadgenError, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// The Prometheus histogram of tick lateness a Playhouse server exports.
const LATENESS_METRIC: &str = "playhouse_tick_lateness_seconds";

/// Flags of `loadgen scenario`.
#[derive(clap::Args, Debug, Clone)]
pub struct ScenarioArgs {
    /// The scenario file (TOML; see docs/load-testing.md).
    pub scenario: PathBuf,
    /// The SLO file (TOML): the objectives the run must meet.
    #[arg(long)]
    pub slo: PathBuf,
    /// Where report.json, report.md and latency.svg are written.
    #[arg(long, default_value = "loadgen-report")]
    pub out: PathBuf,
    /// Where the `arena` binary is (scenarios with `start_arena = true`).
    #[arg(long, default_value = "target/release")]
    pub release_dir: PathBuf,
}

/// How `loadgen scenario` ended, as its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every objective met.
    Pass = 0,
    /// At least one objective not met.
    Fail = 1,
    /// A file that cannot be used.
    BadInput = 2,
    /// The run could not happen.
    Broken = 3,
}

/// Reads both files: a [`FileError`] is exit code 2.
pub fn load(args: &ScenarioArgs) -> std::result::Result<(Scenario, Slo), FileError> {
    Ok((Scenario::load(&args.scenario)?, Slo::load(&args.slo)?))
}

/// Runs the load test and writes its report; returns the exit code.
pub async fn run(args: &ScenarioArgs, scenario: &Scenario, slo: &Slo) -> Exit {
    let budget = scenario.ramp + scenario.duration + scenario.connect_timeout * 2 + Duration::from_secs(60);
    let report = match tokio::time::timeout(budget, measure(args, scenario, slo)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            eprintln!("loadgen: scenario {}: {e}", scenario.name);
            return Exit::Broken;
        }
        Err(_) => {
            eprintln!("loadgen: scenario {}: did not finish within {budget:?}", scenario.name);
            return Exit::Broken;
        }
    };
    if let Err(e) = report.write(&args.out) {
        eprintln!("loadgen: cannot write the report into {}: {e}", args.out.display());
        return Exit::Broken;
    }
    eprint!("{}", report.markdown());
    eprintln!("loadgen: report in {}", args.out.display());
    if report.passed() {
        Exit::Pass
    } else {
        Exit::Fail
    }
}

async fn measure(args: &ScenarioArgs, scenario: &Scenario, slo: &Slo) -> Result<LoadReport> {
    // Kept alive to the end of the run: dropping them stops them.
    let mut _arena: Option<Server> = None;
    let (url, metrics) = match &scenario.target {
        Target::StartArena { args: extra } => {
            let mut server_args = vec!["--addr".to_string(), "127.0.0.1:0".to_string()];
            server_args.extend(extra.iter().cloned());
            let bin = args.release_dir.join("arena");
            if !bin.is_file() {
                return Err(LoadgenError::Protocol(format!(
                    "{} not found: build it with `cargo build --release -p arena`, or point --release-dir at the \
                     directory that holds it",
                    bin.display()
                )));
            }
            let server = Server::spawn(&bin, &server_args, Duration::from_secs(15)).await?;
            let addr = server.addr;
            _arena = Some(server);
            (format!("ws://{addr}/ws"), Some((addr, "/metrics".to_string())))
        }
        Target::Url { url, metrics } => {
            let metrics = match metrics {
                Some((host, path)) => Some((resolve(host).await?, path.clone())),
                None => None,
            };
            (url.clone(), metrics)
        }
    };
    let (authority, path) =
        split_url(&url, "ws://").ok_or_else(|| LoadgenError::Protocol(format!("not a ws:// URL: {url}")))?;
    let _proxy;
    let url = match &scenario.link {
        Some(link) => {
            let proxy = LinkProxy::start(resolve(&authority).await?, *link).await?;
            let through = format!("ws://{}{path}", proxy.addr());
            eprintln!("loadgen: clients reach {url} through the link emulator at {}", proxy.addr());
            _proxy = Some(proxy);
            through
        }
        None => url,
    };

    let start = Instant::now() + Duration::from_millis(100);
    let window = (start + scenario.ramp, start + scenario.ramp + scenario.duration);
    let recorder = Arc::new(Recorder::new(start, window));
    let (stop_tx, stop_rx) = watch::channel(false);
    let crowd = Arc::new(Crowd {
        url,
        tokens: scenario.tokens.clone(),
        room_type: scenario.room_type.clone(),
        options: scenario.options.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        rooms: (0..scenario.rooms).map(|_| watch::channel(None).0).collect(),
        inputs_per_sec: scenario.inputs_per_sec,
        input: scenario.input.clone(),
        state_every_ticks: scenario.state_every_ticks,
        connect_timeout: scenario.connect_timeout,
        recorder: recorder.clone(),
        stop: stop_rx,
    });
    eprintln!(
        "loadgen: scenario {}: {} clients over {:?}, then {:?} measured",
        scenario.name, scenario.clients, scenario.ramp, scenario.duration
    );
    let mut tasks = JoinSet::new();
    for i in 0..scenario.clients {
        let at = start + scenario.ramp.mul_f64(i as f64 / scenario.clients as f64);
        tasks.spawn(players::play(crowd.clone(), i, at));
    }
    tokio::time::sleep_until(window.0).await;
    let before = lateness(metrics.as_ref()).await;
    tokio::time::sleep_until(window.1).await;
    let after = lateness(metrics.as_ref()).await;
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(Duration::from_secs(10), async { while tasks.join_next().await.is_some() {} });
    if drained.await.is_err() {
        eprintln!("loadgen: some clients did not stop within 10 s");
        tasks.abort_all();
    }

    let mut notes = Vec::new();
    let lateness = match (&metrics, before, after) {
        (None, ..) => {
            notes.push("tick lateness not measured: the target's /metrics is off".to_string());
            None
        }
        (Some(_), Ok(b), Ok(a)) => Some(a.since(&b)),
        (Some(_), Err(e), _) | (Some(_), _, Err(e)) => {
            notes.push(format!("tick lateness not measured: {e}"));
            None
        }
    };
    let r = recorder.snapshot();
    if scenario.inputs_per_sec == 0.0 {
        notes.push("input latency not measured: inputs_per_sec is 0".to_string());
    }
    if r.window_expected == 0 {
        notes.push("delivery ratio not measured: no client was in a room during the window".to_string());
    }
    let hist = &r.window_latency_us;
    if scenario.inputs_per_sec > 0.0 && hist.is_empty() {
        notes.push("input latency not measured: no input was acknowledged in the window".to_string());
    }
    let ms = |q: f64| (!hist.is_empty()).then(|| hist.value_at_quantile(q) as f64 / 1000.0);
    let measured = Figures {
        p50_latency_ms: ms(0.50),
        p99_latency_ms: ms(0.99),
        delivery_ratio: (r.window_expected > 0).then(|| r.window_states as f64 / r.window_expected as f64),
        errors: r.error_count(),
        // To the microsecond: the buckets' interpolation is no finer.
        tick_lateness_p99_ms: lateness.as_ref().and_then(|l| l.quantile(0.99)).map(|s| (s * 1e6).round() / 1000.0),
    };
    let objectives = slo.evaluate(&measured);
    let timeline = r
        .seconds
        .iter()
        .enumerate()
        .map(|(t, s)| {
            let q = |q: f64| (!s.latency_us.is_empty()).then(|| s.latency_us.value_at_quantile(q) as f64 / 1000.0);
            Point { t: t as u64, p50_ms: q(0.5), p99_ms: q(0.99), states: s.states, errors: s.errors }
        })
        .collect();
    Ok(LoadReport {
        result: if objectives.iter().all(|v| v.pass) { "pass" } else { "fail" },
        scenario: ScenarioSummary {
            name: scenario.name.clone(),
            target: match &scenario.target {
                Target::StartArena { .. } => "arena started by loadgen".to_string(),
                Target::Url { url, .. } => url.clone(),
            },
            tokens: scenario.tokens.clone(),
            room_type: scenario.room_type.clone(),
            rooms: scenario.rooms,
            clients: scenario.clients,
            inputs_per_sec: scenario.inputs_per_sec,
            ramp_s: scenario.ramp.as_secs_f64(),
            duration_s: scenario.duration.as_secs_f64(),
            link: scenario.link,
        },
        objectives,
        measured,
        clients_joined: r.joined,
        protocols: r.protocols.clone(),
        inputs_sent: r.inputs_sent,
        latency_samples: hist.len(),
        states_received: r.window_states,
        states_expected: r.window_expected,
        server_ticks: lateness.map(|l| l.count()),
        errors: r.errors.clone(),
        error_samples: r.error_samples.clone(),
        notes,
        timeline,
    })
}

/// `host:port` → the first address it resolves to.
async fn resolve(authority: &str) -> Result<SocketAddr> {
    tokio::net::lookup_host(authority)
        .await?
        .next()
        .ok_or_else(|| LoadgenError::Protocol(format!("{authority} resolves to no address")))
}

/// The server's tick lateness histogram, summed over room types.
async fn lateness(metrics: Option<&(SocketAddr, String)>) -> Result<Buckets> {
    let Some((addr, path)) = metrics else {
        return Err(LoadgenError::Metrics("off".into()));
    };
    let text = prom::http_get(*addr, path, Duration::from_secs(5)).await?;
    let b = Buckets::parse(&text, LATENESS_METRIC);
    if b.0.is_empty() {
        return Err(LoadgenError::Metrics(format!("http://{addr}{path} has no {LATENESS_METRIC}_bucket lines")));
    }
    Ok(b)
}
