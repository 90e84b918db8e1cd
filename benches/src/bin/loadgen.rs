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

use clap::{Parser, Subcommand};
use playhouse_benches::loadgen::fanout::{self, FanoutArgs};
use playhouse_benches::loadgen::game::{self, GameArgs};
use playhouse_benches::loadgen::idle::{self, IdleArgs};
use playhouse_benches::loadgen::load_test::{self, Exit, ScenarioArgs};
use playhouse_benches::loadgen::pin::CpuPlan;
use playhouse_benches::loadgen::restart::{self, RestartArgs};
use playhouse_benches::loadgen::storm::{self, StormArgs};
use std::time::Duration;

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
            let (report, ok) = runtime.block_on(fanout::run(args, plan));
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
