//! The `fanout` scenario: R rooms × P clients at T Hz with states of S
//! bytes, against each target in turn (Playhouse, the bare peer, the floor
//! program in its two patterns), each server pinned to its own CPU, its CPU
//! time read over the measured window; the report holds every figure and
//! its ratios to the floor and the peer. `src/bin/loadgen.rs` documents the
//! command line.

mod args;

use crate::fanout::state_frame_bytes;
use crate::loadgen::client::{self, Stats};
use crate::loadgen::floor::{self, FloorRun};
use crate::loadgen::perf::Recording;
use crate::loadgen::pin::{self, CpuPlan};
use crate::loadgen::procfs::{self, Sample};
use crate::loadgen::prom::{self, Buckets};
use crate::loadgen::report::{
    Latency, Lateness, Machine, Measured, Outcome, Params, Quantiles, Ratio, Report, Results, WayIn,
};
use crate::loadgen::server::Server;
use crate::loadgen::syscalls::{SyscallCounter, SyscallsPerDelivery};
use crate::loadgen::{LoadgenError, Result};
pub use args::{FanoutArgs, Target};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;

/// The Prometheus histogram of tick lateness the playhouse server exports.
const LATENESS_METRIC: &str = "playhouse_tick_lateness_seconds";
/// The histogram of how late the tick drivers' timers woke.
const DRIVER_LATENESS_METRIC: &str = "playhouse_tick_driver_lateness_seconds";

/// Runs the scenario against every target; returns the report and whether
/// every target ran.
pub async fn run(args: FanoutArgs, plan: CpuPlan) -> (Report, bool) {
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
            subprotocol: crate::fanout::TOKEN,
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
