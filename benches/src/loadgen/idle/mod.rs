//! The `idle` scenario: how many upgraded, idle connections one server
//! holds, what each costs in memory, and whether every heartbeat stays on
//! time.
//!
//! It starts the release `fanout_playhouse` (pinned to the first CPU when
//! two are usable), opens N WebSocket connections from several loopback
//! source addresses (127.0.0.1, 127.0.0.2, …: each source address has its
//! own ~28,000 ephemeral ports), offers the scenario's subprotocol and then
//! only answers the server's heartbeat pings (tungstenite answers a ping
//! with a pong on its own). It holds them for the given time while it asks
//! `/healthz` and `/metrics` once a second, timing each answer. Measured:
//!
//! - connections opened, and the rate;
//! - the server's resident memory per connection (RSS after − RSS before,
//!   over N);
//! - per connection, the longest gap between two pings over the hold (the
//!   server pings every 5 s; a gap over 6 s is a late heartbeat);
//! - connections that closed or failed during the hold;
//! - the slowest `/healthz` and `/metrics` answer;
//! - the server's CPU time over the hold, and per ping received (what a
//!   heartbeat costs the server: the ping written, its pong read).
//!
//! File descriptors: each connection takes one in the server and one here.
//! Both processes raise their soft limit to the hard one; past that, the
//! run stops before it starts and says how much to raise (`ulimit -Hn`, or
//! `LimitNOFILE=` under systemd; raising the hard limit needs privilege).
//!
//! Where the hard limit cannot be raised (a container without
//! `CAP_SYS_RESOURCE`), `--processes K` spreads the N connections over K
//! servers, each held by a load-generator process of its own (this binary
//! again), all on the same two CPUs: every server on the first, every
//! load-generator process on the second, each process under the limit. The
//! K holds run at once: each process opens its connections, says so, and
//! begins its hold when all have (its standard input says go). The report
//! adds the K reports up (RSS per connection: the servers' growth summed
//! over the connections summed) and keeps each one.
//!
//! ```text
//! cargo build --release -p playhouse-benches --bins
//! cargo build --release -p playhouse --example echo
//! target/release/loadgen idle --clients 18000 --hold 60 --sources 4
//! target/release/loadgen idle --clients 18000 --hold 60 --sources 4 --target echo
//! target/release/loadgen idle --clients 100000 --hold 60 --sources 2 --processes 6
//! ```

mod processes;

use super::pin::{allowed_cpus, set_affinity};
use super::procfs::Sample;
use super::prom::http_get;
use super::report::Machine;
use super::server::Server;
use super::{LoadgenError, Result};
use crate::fanout::TOKEN;
use futures_util::StreamExt;
use serde::Deserialize;
use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Each idle client's read buffer, bytes.
const IDLE_READ_BUFFER: usize = 4096;
/// Descriptors this process keeps for itself beyond one per connection.
const OWN_RESERVE: u64 = 256;
/// The server's heartbeat interval (`TransportConfig::default`), and how
/// late a ping may be before it counts as late.
const HEARTBEAT: Duration = Duration::from_secs(5);
const LATE_AFTER: Duration = Duration::from_secs(6);

/// `loadgen idle`'s options.
#[derive(clap::Args, Debug)]
pub struct IdleArgs {
    /// Connections to open and hold (N).
    #[arg(long, default_value_t = 10_000)]
    pub clients: usize,
    /// Seconds to hold them once all are open.
    #[arg(long, default_value_t = 60)]
    pub hold: u64,
    /// Loopback source addresses to spread them over (127.0.0.1 …).
    #[arg(long, default_value_t = 4)]
    pub sources: u8,
    /// Connections being opened at the same time.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Where `fanout_playhouse` is (and `examples/echo`).
    #[arg(long, default_value = "target/release")]
    pub release_dir: PathBuf,
    /// The server: `playhouse` (the game server, `fanout_playhouse`), or
    /// `echo`, the transport alone with no game
    /// connection on top (`cargo build --release -p playhouse --example
    /// echo`), to tell Playhouse's own memory per connection from the
    /// transport's.
    #[arg(long, value_enum, default_value = "playhouse")]
    pub target: IdleTarget,
    /// Spread the connections over K servers, each with a load-generator
    /// process of its own, all holding at the same time: for more
    /// connections than one process may have descriptors. Each process
    /// uses `--sources` addresses of its own.
    #[arg(long, default_value_t = 1)]
    pub processes: usize,
    /// The first loopback source address's last byte (127.0.0.F).
    #[arg(long, default_value_t = 1)]
    pub first_source: u8,
    /// One of `--processes`' K: print `OPEN` on stdout once every
    /// connection is open and begin the hold when a line comes on stdin.
    #[arg(long, hide = true)]
    pub synchronized: bool,
}

/// What `loadgen idle` holds connections to.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum IdleTarget {
    /// `fanout_playhouse`.
    Playhouse,
    /// The transport's echo example.
    Echo,
}

/// What `loadgen idle` prints.
#[derive(Serialize, Deserialize, Debug)]
pub struct IdleReport {
    /// Scenario name.
    pub scenario: String,
    /// The server held.
    pub target: IdleTarget,
    /// The machine.
    pub machine: Machine,
    /// Connections asked for.
    pub clients: usize,
    /// Connections that opened.
    pub opened: usize,
    /// Connections that could not open.
    pub connect_errors: usize,
    /// Seconds to open them all.
    pub connect_s: f64,
    /// Seconds held.
    pub hold_s: f64,
    /// Server RSS before the first connection, KiB.
    pub rss_before_kib: u64,
    /// Server RSS with every connection open, KiB.
    pub rss_open_kib: u64,
    /// Server RSS at the end of the hold, KiB.
    pub rss_end_kib: u64,
    /// (RSS at the end − RSS before) / opened, KiB.
    pub rss_per_connection_kib: f64,
    /// Pings received over the hold, all connections.
    pub pings: u64,
    /// Pings that came more than 6 s after the one before (or, for the
    /// first, after the hold began).
    pub late_heartbeats: u64,
    /// The longest gap between two pings of one connection, ms.
    pub max_ping_gap_ms: u64,
    /// Of two consecutive pings of one connection, how often the server
    /// stamped the second more than 6 s after the first (Playhouse's ping
    /// carries its send time: µs since the connection began, big-endian):
    /// late leaving the server, where `late_heartbeats` also counts pings
    /// late on their way or in this process.
    #[serde(default)]
    pub late_at_server: u64,
    /// The longest gap between the server's stamps of two consecutive
    /// pings of one connection, ms.
    #[serde(default)]
    pub max_stamp_gap_ms: u64,
    /// Connections that closed or failed during the hold.
    pub lost: u64,
    /// The slowest `/healthz` answer during the hold, ms.
    pub healthz_max_ms: f64,
    /// The slowest `/metrics` answer during the hold, ms.
    pub metrics_max_ms: f64,
    /// Every `/healthz` answer's time, ms, in order (a hold of H seconds
    /// asks about H times).
    #[serde(default)]
    pub healthz_ms: Vec<f64>,
    /// `/healthz` or `/metrics` requests that failed.
    pub probe_errors: u64,
    /// The server's CPU time over the hold, ms (the process CPU-time
    /// clock; all servers with `--processes`): the heartbeats, plus the
    /// probes' two requests a second.
    #[serde(default)]
    pub server_cpu_ms: f64,
    /// `server_cpu_ms` per ping received, µs: what one heartbeat (a ping
    /// written, its pong read) costs the server.
    #[serde(default)]
    pub server_cpu_us_per_ping: Option<f64>,
    /// Descriptor limits (soft) of this process and why the run may be
    /// smaller than asked.
    pub fd_limit: u64,
    /// Servers (and load-generator processes) the connections were spread
    /// over (`--processes`).
    #[serde(default = "super::one")]
    pub processes: usize,
    /// With `--processes` above 1: each pair's own report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<IdleReport>,
}

#[derive(Default)]
struct Counters {
    pings: AtomicU64,
    late: AtomicU64,
    max_gap_ms: AtomicU64,
    late_at_server: AtomicU64,
    max_stamp_gap_ms: AtomicU64,
    lost: AtomicU64,
}

/// Runs the scenario; returns the report and whether it held every
/// connection with every heartbeat on time.
pub async fn run(args: &IdleArgs) -> (std::result::Result<IdleReport, String>, bool) {
    let outcome = if args.processes > 1 { processes::run_processes(args).await } else { run_inner(args).await };
    match outcome {
        Ok(r) => {
            let ok = r.opened == r.clients && r.late_heartbeats == 0 && r.lost == 0 && r.probe_errors == 0;
            (Ok(r), ok)
        }
        Err(e) => (Err(e.to_string()), false),
    }
}

async fn run_inner(args: &IdleArgs) -> Result<IdleReport> {
    let fd_limit = playhouse::server::descriptors::raise_limit().unwrap_or(0);
    let need = args.clients as u64 + OWN_RESERVE;
    if fd_limit < need {
        return Err(LoadgenError::Protocol(format!(
            "{} connections need {need} file descriptors here (and as many in the server); the limit is \
             {fd_limit}: raise the hard limit (`ulimit -Hn {need}` as root, or LimitNOFILE= under systemd) \
             or ask for at most {} clients",
            args.clients,
            fd_limit.saturating_sub(OWN_RESERVE)
        )));
    }
    // Server on the first usable CPU, this process on the second.
    let cpus = allowed_cpus(0);
    let server_cpu = (cpus.len() >= 2).then(|| cpus[0]);
    if let Some(&mine) = cpus.get(1) {
        let _ = set_affinity(0, mine);
    }
    let bin = match args.target {
        IdleTarget::Playhouse => args.release_dir.join("fanout_playhouse"),
        IdleTarget::Echo => args.release_dir.join("examples").join("echo"),
    };
    let subprotocol = args.target == IdleTarget::Playhouse;
    let server =
        Server::spawn_on(&bin, &["--addr".into(), "127.0.0.1:0".into()], Duration::from_secs(10), server_cpu).await?;
    let rss_before = server.rss_kib()?;
    let counters = Arc::new(Counters::default());
    // When the hold began (set once, read at each ping), and whether it
    // ended (the only change the holding tasks wait on: a change wakes all
    // N of them, which at the hold's start would delay the first probes by
    // this process's own scheduling, not by the server).
    let began = Arc::new(OnceLock::new());
    let (end_tx, end_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let started = Instant::now();
    let mut opening = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let source = Ipv4Addr::new(127, 0, 0, args.first_source.max(1) + (i % args.sources.max(1) as usize) as u8);
        let (gate, counters, hold) =
            (gate.clone(), counters.clone(), Hold { began: began.clone(), end: end_rx.clone() });
        let to = server.addr;
        opening.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.ok();
            let ws = tokio::time::timeout(Duration::from_secs(20), open(source, to, subprotocol)).await;
            drop(permit);
            match ws {
                Ok(Ok(ws)) => {
                    tokio::spawn(hold_one(ws, counters, hold));
                    true
                }
                _ => false,
            }
        }));
    }
    let mut opened = 0;
    for t in opening {
        opened += usize::from(t.await.unwrap_or(false));
    }
    let connect_s = started.elapsed().as_secs_f64();
    eprintln!("loadgen: idle: {opened}/{} connections open in {connect_s:.1} s", args.clients);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_open = server.rss_kib()?;
    if args.synchronized {
        // One of several processes: the hold begins when all are open.
        let mut out = tokio::io::stdout();
        out.write_all(b"OPEN\n").await?;
        out.flush().await?;
        let mut go = String::new();
        BufReader::new(tokio::io::stdin()).read_line(&mut go).await?;
    }

    let hold_started = Instant::now();
    let _ = began.set(hold_started);
    let cpu_before = Sample::of(server.pid);
    let (mut healthz_max, mut metrics_max, mut probe_errors) = (0f64, 0f64, 0u64);
    let mut healthz_ms = Vec::new();
    while hold_started.elapsed() < Duration::from_secs(args.hold) {
        // The echo example serves no `/healthz` or `/metrics`.
        let probes = if args.target == IdleTarget::Playhouse { &["/healthz", "/metrics"][..] } else { &[] };
        for &path in probes {
            let max = if path == "/healthz" { &mut healthz_max } else { &mut metrics_max };
            let t = Instant::now();
            match http_get(server.addr, path, Duration::from_secs(5)).await {
                Ok(_) => {
                    let ms = t.elapsed().as_secs_f64() * 1e3;
                    *max = max.max(ms);
                    if path == "/healthz" {
                        healthz_ms.push(ms);
                    }
                }
                Err(e) => {
                    probe_errors += 1;
                    eprintln!("loadgen: idle: GET {path}: {e}");
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let hold_s = hold_started.elapsed().as_secs_f64();
    let spent = cpu_before.zip(Sample::of(server.pid)).map(|(a, b)| a.until(&b));
    let pings = counters.pings.load(Ordering::Relaxed);
    let rss_end = server.rss_kib()?;
    let _ = end_tx.send(true);
    server.stop().await;
    Ok(IdleReport {
        scenario: "idle".into(),
        target: args.target,
        machine: Machine::current(),
        clients: args.clients,
        opened,
        connect_errors: args.clients - opened,
        connect_s,
        hold_s,
        rss_before_kib: rss_before,
        rss_open_kib: rss_open,
        rss_end_kib: rss_end,
        rss_per_connection_kib: if opened == 0 { 0.0 } else { (rss_end - rss_before) as f64 / opened as f64 },
        pings,
        late_heartbeats: counters.late.load(Ordering::Relaxed),
        max_ping_gap_ms: counters.max_gap_ms.load(Ordering::Relaxed),
        late_at_server: counters.late_at_server.load(Ordering::Relaxed),
        max_stamp_gap_ms: counters.max_stamp_gap_ms.load(Ordering::Relaxed),
        lost: counters.lost.load(Ordering::Relaxed),
        healthz_max_ms: healthz_max,
        metrics_max_ms: metrics_max,
        healthz_ms,
        probe_errors,
        server_cpu_ms: spent.map_or(0.0, |s| s.cpu_ns as f64 / 1e6),
        server_cpu_us_per_ping: spent.and_then(|s| s.us_per(pings)),
        fd_limit,
        processes: 1,
        parts: Vec::new(),
    })
}

type IdleWs = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn open(source: Ipv4Addr, to: SocketAddr, subprotocol: bool) -> Result<IdleWs> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0))?;
    let stream = socket.connect(to).await?;
    let mut req = format!("ws://{to}/ws").into_client_request()?;
    if subprotocol {
        req.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(TOKEN));
    }
    // An idle client reads 2-byte pings: tungstenite's default 128 KiB
    // read buffer per connection would make 100,000 clients 13 GiB here.
    let config = WebSocketConfig::default().read_buffer_size(IDLE_READ_BUFFER);
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config)).await?;
    Ok(ws)
}

/// What a holding task is told: when the hold began, and its end.
struct Hold {
    began: Arc<OnceLock<Instant>>,
    end: watch::Receiver<bool>,
}

/// Reads the server's pings (tungstenite pongs them) until the hold ends,
/// recording the gaps between them once the hold has begun.
async fn hold_one(mut ws: IdleWs, counters: Arc<Counters>, mut hold: Hold) {
    let mut last: Option<Instant> = None;
    let mut last_stamp: Option<u64> = None;
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Ping(payload))) => {
                    let now = Instant::now();
                    let stamp = <[u8; 8]>::try_from(&payload[..]).ok().map(u64::from_be_bytes);
                    let previous = std::mem::replace(&mut last_stamp, stamp);
                    let Some(&began) = hold.began.get() else { continue };
                    if let (Some(a), Some(b)) = (previous, stamp) {
                        let gap_ms = b.saturating_sub(a) / 1000;
                        counters.max_stamp_gap_ms.fetch_max(gap_ms, Ordering::Relaxed);
                        if gap_ms > LATE_AFTER.as_millis() as u64 {
                            counters.late_at_server.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    let since = last.unwrap_or(began).max(began);
                    let gap = now - since;
                    counters.pings.fetch_add(1, Ordering::Relaxed);
                    counters.max_gap_ms.fetch_max(gap.as_millis() as u64, Ordering::Relaxed);
                    if gap > LATE_AFTER {
                        counters.late.fetch_add(1, Ordering::Relaxed);
                    }
                    last = Some(now);
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    if hold.began.get().is_some() && !*hold.end.borrow() {
                        counters.lost.fetch_add(1, Ordering::Relaxed);
                    }
                    return;
                }
            },
            changed = hold.end.changed() => {
                if changed.is_err() || *hold.end.borrow() {
                    // The hold ended.
                    let _ = ws.close(None).await;
                    return;
                }
            }
        }
    }
}

impl IdleReport {
    /// Two lines for people, on stderr.
    pub fn summary(&self) -> String {
        format!(
            "idle ({:?}, {} server(s)): {}/{} connections open in {:.1} s, held {:.0} s; server RSS {:.2} KiB per connection \
             ({} → {} KiB); pings {} (late {}, longest gap {} ms, heartbeat {} s; late leaving the server {}, longest gap there {} ms); \
             server CPU {} per ping; lost {}; /healthz max {:.1} ms, /metrics max {:.1} ms, probe errors {}\n",
            self.target,
            self.processes,
            self.opened,
            self.clients,
            self.connect_s,
            self.hold_s,
            self.rss_per_connection_kib,
            self.rss_before_kib,
            self.rss_end_kib,
            self.pings,
            self.late_heartbeats,
            self.max_ping_gap_ms,
            HEARTBEAT.as_secs(),
            self.late_at_server,
            self.max_stamp_gap_ms,
            self.server_cpu_us_per_ping.map_or("?".to_string(), |us| format!("{us:.1} µs")),
            self.lost,
            self.healthz_max_ms,
            self.metrics_max_ms,
            self.probe_errors
        )
    }
}
