//! `loadgen`: the Playhouse load generator.
//!
//! Scenario `fanout`: R rooms × P clients, each room ticking at T Hz and
//! broadcasting a state of S bytes, measured for D seconds after a warm-up.
//! For each target it starts the target's server binary from the release
//! directory (`fanout_playhouse` or `fanout_peer`, with
//! `--room-size P --hz T --state-bytes S`), reads `LISTENING <addr>` from
//! its stdout, reads its RSS, connects R×P WebSocket clients (subprotocol
//! `fanout.v1.proto`, bounded concurrency), each of which joins a `fanout`
//! room and then records the tick→receipt latency of every `State`. After
//! the warm-up the statistics are reset; after the measurement the RSS is
//! read again with everyone connected, `/metrics` is scraped (playhouse
//! only: tick lateness) and the server is killed.
//!
//! With `--rooms-per-client K` (Playhouse and the floor only) each client
//! joins K rooms (K `JoinOrCreate`s, each finding a room the client is not
//! in), so R×P/K clients share the R×P seats and each gets K states per
//! tick period: the writes per delivery then say whether a client's states
//! of one tick leave in one write (`--aligned-ticks` puts every room on the
//! shared tick grid, `RoomType::aligned_ticks`). With `--messages-per-tick
//! M` (Playhouse only) each room also broadcasts M reliable messages per
//! tick: writes per delivery at 1.00 then say that a tick's state and its
//! messages leave in one write (`messages_per_delivery` counts what came).
//!
//! ```text
//! cargo build --release -p playhouse-benches --bins
//! target/release/loadgen fanout --targets playhouse,peer --rooms 10 --room-size 20 \
//!     --hz 30 --state-bytes 256 --duration 10 --warmup 2 --release-dir target/release
//! ```
//!
//! The server runs on one CPU and the load generator (its clients, and
//! perf and the floor's sink when they run) on another (`sched_setaffinity`;
//! `--no-pin` turns it off, and with one usable CPU it is off with a printed
//! note). Over exactly the window whose deliveries are counted it reads the
//! server's CPU time (its process CPU-time clock, see
//! `playhouse_benches::loadgen::procfs`). Then, in a second window of
//! `--syscalls-duration` seconds with deliveries counted anew, it counts the
//! server's syscalls with `perf stat` on the syscall tracepoints (socket
//! writes, eventfd wake-ups, `epoll_wait`, `futex`, reads; see
//! `playhouse_benches::loadgen::syscalls`): the tracepoints slow every
//! syscall, so they stay out of the CPU window. `--no-syscalls` skips it.
//!
//! Target `floor` runs `src/bin/floor.rs` in the same invocation: one
//! `write()` per loopback socket per tick, nothing else, with N = R×P
//! sockets, S = the wire size of one Playhouse state frame (WebSocket header
//! included) and T = hz, pinned like the servers; every server's CPU per
//! delivery is then also a ratio to the floor's CPU per write:
//!
//! ```text
//! target/release/loadgen fanout --targets playhouse,peer,floor --rooms 100 --room-size 10 \
//!     --hz 30 --state-bytes 256 --duration 10 --warmup 2 --release-dir target/release
//! ```
//!
//! Target `floor-rooms` runs the same program with the N sockets in R groups
//! of P, each group written in its own burst at its own phase of the period
//! (`floor --groups R`): the floor's pattern when every room ticks on its
//! own schedule, as Playhouse's and the peer's rooms do. The floor writes
//! N sockets after one wake-up per period; rooms on their own schedules
//! wake the server R×T times a second (fewer where Playhouse's driver
//! shares wake-ups), and each wake-up and each burst's first write (which
//! wakes the sleeping reader) costs on a virtual machine what dozens of
//! writes do. Its ratio, `cpu_vs_floor_rooms`, tells the cost of that
//! pattern from the cost of a framework.
//!
//! `--perf DIR` records each server with `perf record -e cpu-clock` from the
//! start of the warm-up to the end of the window (`DIR/<target>.perf.data`).
//!
//! Prints one JSON object on stdout (progress, errors and a summary table go
//! to stderr): `{"scenario", "params", "machine", "pinning", "results":
//! {"playhouse": {...}, "peer": {...}, "floor": {...}, "floor_rooms": {...}},
//! "ratio": {"deliveries_per_sec", "latency_p99", "cpu_vs_floor":
//! {"playhouse", "peer"}, "cpu_vs_floor_rooms": {"playhouse", "peer"},
//! "cpu_vs_peer", "join_rate_vs_peer", "join_cpu_vs_peer"}}`, where each server's result has
//! `deliveries_per_sec`, `expected_deliveries_per_sec` (R·P·T), `latency_us`
//! {p50, p99, p999}, `tick_lateness_ms` {p50, p99} or null,
//! `driver_lateness_ms` {p50, p99} or null (how late the tick drivers'
//! timers woke, before any room ran; its `ticks` count wake-ups),
//! `rss_per_connection_kib`, `server_cpu_us_per_delivery`,
//! `server_cpu_percent`, `server_writes_per_delivery`, `state_frame_bytes`,
//! `errors` and `way_in` (the connect-and-join phase: its `seconds`,
//! `clients_per_sec`, each client's `upgrade_ms` and `join_ms` {p50, p99},
//! the server's CPU % over it and per client, and the load generator's
//! own CPU %), and the floor's has `cpu_us_per_write`, `writes_per_sec`
//! and `syscalls_per_write` (see `playhouse_benches::loadgen::floor`); a
//! target that could not be run has `{"error": "..."}` instead, and the
//! exit code is 1. `deliveries_per_sec` and `latency_p99` ratios are
//! playhouse / peer. Every step is bounded in time, so it always ends.
//!
//! Scenario `game`: the real arena server (`arena` from the release
//! directory) with P real bots in one room, per codec; prints bytes/s per
//! player, states/s, average state size and a delta-encoding estimate (see
//! `playhouse_benches::loadgen::game`):
//!
//! ```text
//! cargo build --release -p arena -p playhouse-benches --bins
//! target/release/loadgen game --players 8,16 --codecs proto,msgpack --duration 10 --release-dir target/release
//! ```
//!
//! Scenario `storm`: N clients of the arena server reset at once through a
//! proxy, all resuming; prints the time from the reset to `Resumed`
//! (p50/p99/max) over several storms (see `playhouse_benches::loadgen::storm`):
//!
//! ```text
//! cargo build --release -p arena -p playhouse-benches --bins
//! target/release/loadgen storm --clients 200 --rounds 5 --release-dir target/release
//! ```
//!
//! Scenario `scenario`: a load test from a scenario file (clients, rooms,
//! inputs per second, ramp, duration, link conditions) judged against an
//! SLO file, with a pass/fail report in Markdown and JSON and a latency
//! chart (see `playhouse_benches::loadgen::load_test` and
//! `docs/load-testing.md`); exit code 0 pass, 1 fail, 2 bad file, 3 the run
//! could not happen:
//!
//! ```text
//! cargo build --release -p arena -p playhouse-benches --bins
//! target/release/loadgen scenario benches/scenarios/arena-smoke.toml --slo benches/slo/arena.toml \
//!     --out loadgen-report --release-dir target/release
//! ```
//!
//! Scenario `restart`: R rooms of `fanout_playhouse --panic-at-tick K`, each
//! panicking once; prints the gap every client saw between the last state
//! before the panic and the first after the supervised restart:
//!
//! ```text
//! cargo build --release -p playhouse-benches --bins
//! target/release/loadgen restart --rooms 10 --room-size 10 --hz 30 --panic-at-tick 60 --release-dir target/release
//! ```

use clap::{Parser, Subcommand, ValueEnum};
use playhouse_benches::fanout::state_frame_bytes;
use playhouse_benches::loadgen::client::{self, Stats};
use playhouse_benches::loadgen::floor::{self, FloorRun};
use playhouse_benches::loadgen::game::{self, GameArgs};
use playhouse_benches::loadgen::idle::{self, IdleArgs};
use playhouse_benches::loadgen::load_test::{self, Exit, ScenarioArgs};
use playhouse_benches::loadgen::perf::Recording;
use playhouse_benches::loadgen::pin::{self, CpuPlan};
use playhouse_benches::loadgen::procfs::{self, Sample};
use playhouse_benches::loadgen::prom::{self, Buckets};
use playhouse_benches::loadgen::report::{
    Latency, Lateness, Machine, Measured, Outcome, Params, Quantiles, Ratio, Report, Results, WayIn,
};
use playhouse_benches::loadgen::restart::{self, RestartArgs};
use playhouse_benches::loadgen::server::Server;
use playhouse_benches::loadgen::storm::{self, StormArgs};
use playhouse_benches::loadgen::syscalls::{SyscallCounter, SyscallsPerDelivery};
use playhouse_benches::loadgen::{LoadgenError, Result};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

/// The Prometheus histogram of tick lateness the playhouse server exports.
const LATENESS_METRIC: &str = "playhouse_tick_lateness_seconds";
/// The histogram of how late the tick drivers' timers woke.
const DRIVER_LATENESS_METRIC: &str = "playhouse_tick_driver_lateness_seconds";

#[derive(Parser, Debug)]
#[command(about = "Load generator for Playhouse and its comparison peer")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand, Debug)]
enum Scenario {
    /// R rooms × P clients at T Hz with states of S bytes.
    Fanout(FanoutArgs),
    /// P arena bots in one room of the real game server, per codec.
    Game(GameArgs),
    /// N clients reset at once through a proxy, all resuming.
    Storm(StormArgs),
    /// R rooms that panic once on tick K, seen by their clients.
    Restart(RestartArgs),
    /// N upgraded, idle connections held, heartbeats timed, RSS per connection.
    Idle(IdleArgs),
    /// A load test from a scenario file, judged against an SLO file.
    #[command(name = "scenario")]
    FromFile(ScenarioArgs),
}

#[derive(clap::Args, Debug, Clone)]
struct FanoutArgs {
    /// Servers to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "playhouse,peer")]
    targets: Vec<Target>,
    /// Rooms (R).
    #[arg(long, default_value_t = 10)]
    rooms: usize,
    /// Clients per room (P).
    #[arg(long, default_value_t = 20)]
    room_size: usize,
    /// Ticks per second of every room (T).
    #[arg(long, default_value_t = 30)]
    hz: u32,
    /// Filler bytes in every state (S).
    #[arg(long, default_value_t = 256)]
    state_bytes: usize,
    /// Measured seconds (D).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of warm-up after everyone joined, not measured.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Where the server binaries are.
    #[arg(long, default_value = "target/release")]
    release_dir: PathBuf,
    /// Clients connecting at the same time.
    #[arg(long, default_value_t = 32)]
    connect_concurrency: usize,
    /// WebSocket path on the server.
    #[arg(long, default_value = "/ws")]
    path: String,
    /// Budget in seconds for one client to connect and join.
    #[arg(long, default_value_t = 10.0)]
    join_timeout: f64,
    /// Budget in seconds for one whole target (default: warm-up + duration + 60).
    #[arg(long)]
    target_timeout: Option<f64>,
    /// Rooms each client joins (K; Playhouse only): R×P/K clients, each
    /// with K states per period. R×P must be a multiple of K.
    #[arg(long, default_value_t = 1)]
    rooms_per_client: usize,
    /// Run Playhouse's rooms on the process's shared tick grid
    /// (`RoomType::aligned_ticks`): every room ticks at the same instants.
    #[arg(long)]
    aligned_ticks: bool,
    /// Reliable room messages each Playhouse room broadcasts per tick
    /// besides its state (Playhouse only): with writes per delivery at
    /// 1.00, a tick's state and messages leave in one write.
    #[arg(long, default_value_t = 0)]
    messages_per_tick: u32,
    /// Run Playhouse with `ServerConfig::rooms_on_workers` off: every room
    /// on the room arbiters instead of its creator's thread (the trade of
    /// tick lateness against CPU per delivery; the peer has no such choice).
    #[arg(long)]
    rooms_on_arbiters: bool,
    /// Do not pin the server and the load generator to different CPUs.
    #[arg(long)]
    no_pin: bool,
    /// Do not count the server's syscalls (`perf stat` on the syscall
    /// tracepoints, in a window of their own after the measured one).
    #[arg(long)]
    no_syscalls: bool,
    /// Seconds of the syscall-counting window.
    #[arg(long, default_value_t = 5.0)]
    syscalls_duration: f64,
    /// Record each server with `perf record -e cpu-clock` into
    /// `DIR/<target>.perf.data` (warm-up and window).
    #[arg(long)]
    perf: Option<PathBuf>,
    /// perf's sampling frequency, Hz.
    #[arg(long, default_value_t = 4000)]
    perf_freq: u32,
    /// perf's `--call-graph` mode: `fp` needs frame pointers, `dwarf` copies
    /// stacks (larger files, works with the default release build).
    #[arg(long, default_value = "dwarf")]
    perf_call_graph: String,
}

impl FanoutArgs {
    /// Clients: one per seat, or one per K seats with `--rooms-per-client K`.
    fn clients(&self) -> usize {
        self.rooms * self.room_size / self.rooms_per_client.max(1)
    }

    /// What the options cannot mean together.
    fn check(&self) -> std::result::Result<(), String> {
        let k = self.rooms_per_client;
        if k == 0 || !(self.rooms * self.room_size).is_multiple_of(k) || k > self.rooms {
            return Err(format!(
                "--rooms-per-client {k}: must be at least 1, at most --rooms, and divide rooms x room size ({})",
                self.rooms * self.room_size
            ));
        }
        if k > 1 && self.targets.contains(&Target::Peer) {
            return Err(
                "--rooms-per-client above 1: the peer serves one room per client; leave it out of --targets".into()
            );
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Target {
    Playhouse,
    Peer,
    Floor,
    /// The floor with one burst per room, each on its own phase.
    FloorRooms,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Playhouse => "playhouse",
            Target::Peer => "peer",
            Target::Floor => "floor",
            Target::FloorRooms => "floor_rooms",
        }
    }
    fn binary(self) -> &'static str {
        match self {
            Target::Playhouse => "fanout_playhouse",
            Target::Peer => "fanout_peer",
            Target::Floor | Target::FloorRooms => "floor",
        }
    }
}

fn main() {
    let Cli { scenario } = Cli::parse();
    // Before the runtime's threads exist, so that they inherit the pin.
    let plan = match &scenario {
        Scenario::Fanout(args) => Some(CpuPlan::apply(!args.no_pin)),
        Scenario::Game(args) => Some(CpuPlan::apply(!args.no_pin)),
        _ => None,
    };
    if let Scenario::FromFile(args) = &scenario {
        std::process::exit(scenario_from_file(args));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start the tokio runtime: {e}");
            std::process::exit(2);
        }
    };
    let (printed, ok) = match scenario {
        Scenario::Fanout(args) => {
            if let Err(e) = args.check() {
                eprintln!("loadgen: {e}");
                std::process::exit(2);
            }
            let plan = plan.unwrap_or_else(|| CpuPlan::apply(false));
            let (report, ok) = runtime.block_on(fanout(args, plan));
            eprint!("{}", report.summary());
            (serde_json::to_string_pretty(&report), ok)
        }
        Scenario::Game(args) => {
            let plan = plan.unwrap_or_else(|| CpuPlan::apply(false));
            let (report, ok) = runtime.block_on(game::run(&args, plan));
            eprint!("{}", report.summary());
            (serde_json::to_string_pretty(&report), ok)
        }
        Scenario::Storm(args) => {
            let (report, ok) = runtime.block_on(storm::run(&args));
            (serde_json::to_string_pretty(&report), ok)
        }
        Scenario::Restart(args) => {
            let (report, ok) = runtime.block_on(restart::run(&args));
            (serde_json::to_string_pretty(&report), ok)
        }
        Scenario::FromFile(_) => unreachable!("run above"),
        Scenario::Idle(args) => match runtime.block_on(idle::run(&args)) {
            (Ok(report), ok) => {
                eprint!("{}", report.summary());
                (serde_json::to_string_pretty(&report), ok)
            }
            (Err(e), _) => {
                eprintln!("loadgen: idle: {e}");
                (Ok(String::new()), false)
            }
        },
    };
    runtime.shutdown_timeout(Duration::from_secs(2));
    match printed {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("loadgen: cannot print the report: {e}"),
    }
    if !ok {
        std::process::exit(1);
    }
}

/// `loadgen scenario`: its own exit codes (see `load_test`), its report
/// in files rather than on stdout.
fn scenario_from_file(args: &ScenarioArgs) -> i32 {
    let (scenario, slo) = match load_test::load(args) {
        Ok(both) => both,
        Err(e) => {
            eprintln!("loadgen: {e}");
            return Exit::BadInput as i32;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start the tokio runtime: {e}");
            return Exit::Broken as i32;
        }
    };
    let exit = runtime.block_on(load_test::run(args, &scenario, &slo));
    runtime.shutdown_timeout(Duration::from_secs(2));
    exit as i32
}

/// Runs the scenario against every target; returns the report and whether
/// every target ran.
async fn fanout(args: FanoutArgs, plan: CpuPlan) -> (Report, bool) {
    let mut results = Results::default();
    let mut ok = true;
    let frame_bytes = state_frame_bytes(args.room_size, args.state_bytes);
    for &target in &args.targets {
        let budget = args.target_timeout.unwrap_or(args.warmup + args.duration + args.syscalls_duration + 60.0);
        eprintln!("loadgen: {} ...", target.name());
        let timed_out = || LoadgenError::Timeout(format!("{} within {budget} s", target.name())).to_string();
        let failed = |error: &str| eprintln!("loadgen: {}: {error}", target.name());
        if matches!(target, Target::Floor | Target::FloorRooms) {
            let run = FloorRun {
                connections: args.rooms * args.room_size,
                bytes: frame_bytes,
                hz: args.hz,
                groups: if target == Target::FloorRooms { args.rooms } else { 1 },
                duration: args.duration,
                warmup: args.warmup,
                cpus: plan.server_cpu.zip(plan.loadgen_cpu),
            };
            let outcome = match tokio::time::timeout(secs(budget), floor::run(&args.release_dir, &run)).await {
                Ok(Ok(f)) => Outcome::Measured(f),
                Ok(Err(e)) => Outcome::Failed { error: e.to_string() },
                Err(_) => Outcome::Failed { error: timed_out() },
            };
            if let Outcome::Failed { error } = &outcome {
                failed(error);
                ok = false;
            }
            if target == Target::FloorRooms {
                results.floor_rooms = Some(outcome);
            } else {
                results.floor = Some(outcome);
            }
            continue;
        }
        let outcome = match tokio::time::timeout(secs(budget), run_target(&args, target, &plan)).await {
            Ok(Ok(m)) => Outcome::Measured(m),
            Ok(Err(e)) => Outcome::Failed { error: e.to_string() },
            Err(_) => Outcome::Failed { error: timed_out() },
        };
        if let Outcome::Failed { error } = &outcome {
            failed(error);
            ok = false;
        }
        match target {
            Target::Playhouse => results.playhouse = Some(outcome),
            Target::Peer => results.peer = Some(outcome),
            Target::Floor | Target::FloorRooms => unreachable!("the floor is run above"),
        }
    }
    let ratio = Ratio::of(
        results.playhouse.as_ref().and_then(Outcome::measured),
        results.peer.as_ref().and_then(Outcome::measured),
        results.floor.as_ref().and_then(Outcome::measured),
        results.floor_rooms.as_ref().and_then(Outcome::measured),
    );
    let report = Report {
        scenario: "fanout",
        params: Params {
            rooms: args.rooms,
            room_size: args.room_size,
            clients: args.clients(),
            hz: args.hz,
            state_bytes: args.state_bytes,
            frame_bytes,
            duration_s: args.duration,
            warmup_s: args.warmup,
            codec: "proto",
            subprotocol: playhouse_benches::fanout::TOKEN,
            connect_concurrency: args.connect_concurrency,
            rooms_on_arbiters: args.rooms_on_arbiters,
            rooms_per_client: args.rooms_per_client,
            aligned_ticks: args.aligned_ticks,
            messages_per_tick: args.messages_per_tick,
        },
        machine: Machine::current(),
        pinning: plan,
        results,
        ratio,
    };
    (report, ok)
}

/// One target: start, connect, warm up, measure, scrape, stop.
async fn run_target(args: &FanoutArgs, target: Target, plan: &CpuPlan) -> Result<Measured> {
    let bin = args.release_dir.join(target.binary());
    let mut server_args = vec![
        "--room-size".to_string(),
        args.room_size.to_string(),
        "--hz".to_string(),
        args.hz.to_string(),
        "--state-bytes".to_string(),
        args.state_bytes.to_string(),
    ];
    if target == Target::Playhouse && args.rooms_on_arbiters {
        server_args.push("--rooms-on-arbiters".to_string());
    }
    if target == Target::Playhouse && args.aligned_ticks {
        server_args.push("--aligned-ticks".to_string());
    }
    if target == Target::Playhouse && args.messages_per_tick > 0 {
        server_args.extend(["--messages-per-tick".to_string(), args.messages_per_tick.to_string()]);
    }
    let server = Server::spawn_on(&bin, &server_args, Duration::from_secs(15), plan.server_cpu).await?;
    eprintln!("loadgen: {}: pid {}, {}", target.name(), server.pid, pin::threads_of(server.pid));
    let result = measure(args, target, &server, plan).await;
    server.stop().await;
    result
}

async fn measure(args: &FanoutArgs, target: Target, server: &Server, plan: &CpuPlan) -> Result<Measured> {
    let clients = args.clients();
    let rooms_each = args.rooms_per_client.max(1);
    let rss_before = server.rss_kib()?;
    let url = format!("ws://{}{}", server.addr, args.path);
    let stats = Arc::new(Stats::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (joined_tx, mut joined_rx) = mpsc::channel::<bool>(clients.max(1));
    let permits = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let join_timeout = secs(args.join_timeout);

    let started = Instant::now();
    let cpu_at_start = Sample::of(server.pid);
    let own_at_start = Sample::of(std::process::id());
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let (url, stats, stop, permits, joined) =
            (url.clone(), stats.clone(), stop_rx.clone(), permits.clone(), joined_tx.clone());
        tasks.spawn(async move {
            let ws = {
                let Ok(_permit) = permits.acquire().await else {
                    return;
                };
                client::connect_and_join(&url, rooms_each, join_timeout, &stats).await
            };
            match ws {
                Ok((ws, _joined)) => {
                    let _ = joined.send(true).await;
                    client::read_states(ws, &stats, stop).await;
                }
                Err(e) => {
                    stats.error("connect/join", &e);
                    let _ = joined.send(false).await;
                }
            }
        });
    }
    drop(joined_tx);
    let mut joined = 0usize;
    let mut settled = 0usize;
    let connect_budget = join_timeout * (clients / args.connect_concurrency.max(1) + 2) as u32;
    let waited = tokio::time::timeout(connect_budget, async {
        while let Some(ok) = joined_rx.recv().await {
            settled += 1;
            joined += usize::from(ok);
            if settled == clients {
                break;
            }
        }
    })
    .await;
    if waited.is_err() {
        return Err(LoadgenError::Timeout(format!("{joined} of {clients} clients joined within {connect_budget:?}")));
    }
    if joined == 0 {
        return Err(LoadgenError::Protocol(format!("none of the {clients} clients could join (see stderr)")));
    }
    let way_in = {
        let seconds = started.elapsed().as_secs_f64();
        let spent = cpu_at_start.zip(Sample::of(server.pid)).map(|(a, b)| a.until(&b));
        let cpu = spent.map(|w| w.cpu_percent());
        let own = own_at_start.zip(Sample::of(std::process::id())).map(|(a, b)| a.until(&b).cpu_percent());
        let w = stats.way_in();
        let ms = |h: &hdrhistogram::Histogram<u64>| Quantiles {
            p50: h.value_at_quantile(0.50) as f64 / 1000.0,
            p99: h.value_at_quantile(0.99) as f64 / 1000.0,
        };
        WayIn {
            seconds,
            clients_per_sec: joined as f64 / seconds,
            upgrade_ms: ms(&w.upgrade),
            join_ms: ms(&w.join),
            server_cpu_percent: cpu,
            server_cpu_us_per_client: spent.and_then(|w| w.us_per(joined as u64)),
            loadgen_cpu_percent: own,
        }
    };
    eprintln!(
        "loadgen: {}: {joined}/{clients} clients joined in {:.2} s ({:.0} a second; upgrade p50 {:.1} ms, p99 {:.1} ms; joins p50 {:.1} ms, p99 {:.1} ms; server CPU {}, {} µs a client; loadgen's CPU {})",
        target.name(),
        way_in.seconds,
        way_in.clients_per_sec,
        way_in.upgrade_ms.p50,
        way_in.upgrade_ms.p99,
        way_in.join_ms.p50,
        way_in.join_ms.p99,
        way_in.server_cpu_percent.map_or("unread".to_string(), |c| format!("{c:.0} %")),
        way_in.server_cpu_us_per_client.map_or("unread".to_string(), |c| format!("{c:.0}")),
        way_in.loadgen_cpu_percent.map_or("unread".to_string(), |c| format!("{c:.0} %")),
    );

    let recording = match &args.perf {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            Some(Recording::start(
                server.pid,
                &dir.join(format!("{}.perf.data", target.name())),
                args.perf_freq,
                &args.perf_call_graph,
            )?)
        }
        None => None,
    };
    tokio::time::sleep(secs(args.warmup)).await;
    let lateness_before = lateness(target, server).await;
    // The CPU window is the delivery window: read right next to the reset
    // and the snapshot of the clients' counts.
    let core = plan.server_cpu;
    let core_before = core.and_then(procfs::cpu_ticks);
    let cpu_before = Sample::of(server.pid);
    let me_before = Sample::of(std::process::id());
    stats.reset();
    let t0 = Instant::now();
    tokio::time::sleep(secs(args.duration / 2.0)).await;
    let server_threads = pin::threads_of(server.pid);
    tokio::time::sleep(secs(args.duration / 2.0)).await;
    let (hist, deliveries, frame_bytes) = stats.snapshot();
    let messages = stats.messages.load(Ordering::Relaxed);
    let cpu_after = Sample::of(server.pid);
    let me_after = Sample::of(std::process::id());
    let core_after = core.and_then(procfs::cpu_ticks);
    let measured = t0.elapsed().as_secs_f64();
    let perf_data = match recording {
        Some(r) => match r.stop().await {
            Ok(path) => Some(path.display().to_string()),
            Err(e) => {
                eprintln!("loadgen: {}: perf: {e}", target.name());
                None
            }
        },
        None => None,
    };
    let rss_after = server.rss_kib()?;
    let lateness_after = lateness(target, server).await;
    let syscalls = if args.no_syscalls { None } else { count_syscalls(args, target, server, &stats).await };
    let spent = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) => Some(a.until(&b)),
        _ => {
            eprintln!("loadgen: {}: cannot read the server's CPU clock or /proc counters", target.name());
            None
        }
    };
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();

    let latency_us = (!hist.is_empty()).then(|| Latency {
        p50: hist.value_at_quantile(0.50),
        p99: hist.value_at_quantile(0.99),
        p999: hist.value_at_quantile(0.999),
        max: hist.max(),
        mean: hist.mean(),
    });
    // Lateness over the measurement window only: the difference of two
    // scrapes, as the server's histogram counts since it started (falls
    // back to the whole run when the first scrape failed).
    let window = match (lateness_before, lateness_after) {
        (Some(before), Some(after)) => Some((after.0.since(&before.0), after.1.since(&before.1))),
        (None, after) => after,
        (Some(_), None) => None,
    };
    let in_ms = |w: Buckets| Lateness {
        p50: w.quantile(0.50).map(|s| s * 1000.0),
        p99: w.quantile(0.99).map(|s| s * 1000.0),
        ticks: w.count(),
    };
    let (tick_lateness_ms, driver_lateness_ms) = match window {
        Some((ticks, driver)) => (Some(in_ms(ticks)), (!driver.0.is_empty()).then(|| in_ms(driver))),
        None => (None, None),
    };
    Ok(Measured {
        deliveries_per_sec: deliveries as f64 / measured,
        expected_deliveries_per_sec: (clients * rooms_each) as u64 * u64::from(args.hz),
        latency_us,
        tick_lateness_ms,
        driver_lateness_ms,
        rss_per_connection_kib: rss_after.saturating_sub(rss_before) as f64 / joined as f64,
        server_cpu_us_per_delivery: spent.and_then(|w| w.us_per(deliveries)),
        server_cpu_percent: spent.map(|w| w.cpu_percent()),
        loadgen_cpu_percent: me_before.zip(me_after).map(|(a, b)| a.until(&b).cpu_percent()),
        server_core_busy_percent: core_before.zip(core_after).and_then(|(a, b)| procfs::busy_percent(a, b)),
        server_writes_per_delivery: syscalls.as_ref().map(|s| s.socket_writes),
        server_syscalls_per_delivery: syscalls,
        state_frame_bytes: (deliveries > 0).then(|| frame_bytes as f64 / deliveries as f64),
        messages_per_delivery: (deliveries > 0).then(|| messages as f64 / deliveries as f64),
        server_threads,
        server_window: spent,
        perf_data,
        errors: stats.errors.load(Ordering::Relaxed),
        clients_joined: joined,
        way_in: Some(way_in),
        measured_s: measured,
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
    })
}

/// The server's syscalls per delivery over a window of its own, after the
/// measured one: while a syscall tracepoint is in use every syscall takes
/// the kernel's traced path, which cost the servers 10–15 % more CPU per
/// delivery when both windows were one (and the floor, measured untraced,
/// would not pay it). perf attaches only now, because the tracepoints are
/// registered as soon as it attaches, even with its counters disabled.
async fn count_syscalls(
    args: &FanoutArgs,
    target: Target,
    server: &Server,
    stats: &Stats,
) -> Option<SyscallsPerDelivery> {
    let dir = std::env::temp_dir().join(format!("loadgen-{}-{}", std::process::id(), target.name()));
    let counted = async {
        let mut counter = SyscallCounter::attach(server.pid, &dir).await?;
        counter.enable().await?;
        let (_, before, _) = stats.snapshot();
        tokio::time::sleep(secs(args.syscalls_duration)).await;
        let (_, after, _) = stats.snapshot();
        counter.finish(after.saturating_sub(before)).await
    };
    let result = counted.await;
    let _ = std::fs::remove_dir_all(&dir);
    result.map_err(|e| eprintln!("loadgen: {}: syscalls not counted: {e}", target.name())).ok()
}

/// The server's tick lateness and its drivers' wake-up lateness from
/// `/metrics`, as histograms since it started (playhouse only; `None` for
/// the peer, which exports neither, or when the scrape fails; the second
/// empty on a server that does not export it).
async fn lateness(target: Target, server: &Server) -> Option<(Buckets, Buckets)> {
    if target != Target::Playhouse {
        return None;
    }
    match prom::http_get(server.addr, "/metrics", Duration::from_secs(5)).await {
        Ok(text) => {
            let b = Buckets::parse(&text, LATENESS_METRIC);
            if b.0.is_empty() {
                eprintln!("loadgen: /metrics has no {LATENESS_METRIC}_bucket lines");
                None
            } else {
                Some((b, Buckets::parse(&text, DRIVER_LATENESS_METRIC)))
            }
        }
        Err(e) => {
            eprintln!("loadgen: GET /metrics: {e}");
            None
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}
