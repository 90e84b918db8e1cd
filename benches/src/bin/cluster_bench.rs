//! `cluster_bench`: the cluster's figures (docs/benchmarks.md "Cluster").
//!
//! Starts a `redis-server` of its own on a free port and two Playhouse
//! nodes in this process (`a`, `b`, on that Redis), then measures:
//!
//! 1. **join-or-create latency**, one node against across nodes: a room of
//!    type `hall` lives on `a`; `--joins` clients already connected to `a`
//!    join-or-create `hall` (one round trip), then as many connected to `b`
//!    do (b holds a seat in Redis, answers `Redirect`, the client dials `a`,
//!    says hello and joins with the reservation). Timed from the request to
//!    `Joined`, p50 / p99.
//! 2. **Redis commands per room per second** at steady state, for rooms
//!    ticking at 30 Hz and then at 60 Hz (`--rooms` rooms, one client each):
//!    the commands node `a` sent (its `playhouse_cluster_backend_command_seconds`
//!    count) over `--seconds`, per room per second. It must not grow with
//!    the tick rate.
//! 3. **channel publish → delivery** across nodes: `--subscribers` clients
//!    subscribed to `chat.bench` on node `b`, one publisher on node `a`
//!    publishing `--publications` messages stamped with the wall clock,
//!    `--rate` per second: latency from the publish call to each receipt
//!    (p50 / p99), then the same count as fast as the publisher can send:
//!    deliveries per second until every subscriber has them all.
//!
//! ```text
//! cargo run --release -p playhouse-benches --bin cluster_bench -- --joins 200 --rooms 50 --seconds 10 --subscribers 10 --publications 2000 --rate 500
//! ```

use clap::Parser;
use hdrhistogram::Histogram;
use playhouse::backend::redis::{RedisBackend, RedisConfig};
use playhouse::backend::Backend;
use playhouse::matchmaking::ClusterConfig;
use playhouse::prelude::*;
use playhouse::server::{BoundServer, RunningServer};
use playhouse_client::Client;
use playhouse_tests::redis::RedisServer;
use playhouse_tests::{metrics_text, Probe};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "Cluster figures: join-or-create across nodes, Redis commands per room")]
struct Cli {
    /// Joins measured per case (one node, across nodes).
    #[arg(long, default_value_t = 200)]
    joins: usize,
    /// Rooms ticking while Redis commands are counted.
    #[arg(long, default_value_t = 50)]
    rooms: usize,
    /// Seconds of each command count.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The room lease, ms (renewed every third).
    #[arg(long, default_value_t = 5000)]
    lease_ms: u64,
    /// Channel subscribers (on node b).
    #[arg(long, default_value_t = 10)]
    subscribers: usize,
    /// Publications per channel run.
    #[arg(long, default_value_t = 2000)]
    publications: usize,
    /// Publications per second in the latency run.
    #[arg(long, default_value_t = 500)]
    rate: u64,
}

const TOKEN: [&str; 1] = ["arena.v2.msgpack"];

fn node(backend: Arc<dyn Backend>, id: &str, lease: Duration) -> RunningServer {
    let id = id.to_string();
    let build = move || {
        let mut config = ServerConfig::new("arena");
        config.max_connections_per_ip = 0;
        // The publisher sends far past a player's rate.
        config.rate = playhouse::limits::RateLimits {
            messages_per_sec: 100_000,
            message_burst: 100_000,
            frames_per_sec: 100_000,
            frame_burst: 100_000,
            bytes_per_sec: 1 << 30,
            byte_burst: 1 << 30,
            ..Default::default()
        };
        config.create_budget = playhouse::matchmaking::CreateBudget {
            per_session: playhouse::matchmaking::Allowance::UNLIMITED,
            per_address: playhouse::matchmaking::Allowance::UNLIMITED,
        };
        let mut cluster = ClusterConfig::new(id, "");
        cluster.lease = lease;
        Server::new(config)
            .room_with_schema::<Probe>(RoomType::new("hall", 30).max_clients(100_000), arena::schema())
            .room_with_schema::<Probe>(RoomType::new("t30", 30).max_clients(1), arena::schema())
            .room_with_schema::<Probe>(RoomType::new("t60", 60).max_clients(1), arena::schema())
            .channel("chat.*", playhouse::channels::ChannelRules::new().client_publish(true))
            .cluster(backend, cluster)
    };
    BoundServer::spawn(build, "127.0.0.1:0".parse().expect("literal address")).expect("node starts")
}

fn url(addr: SocketAddr) -> String {
    format!("ws://{addr}/ws")
}

/// Joins `room_type` `n` times from fresh clients connected to `at`; the
/// time of each join-or-create, µs.
async fn joins(at: SocketAddr, room_type: &str, n: usize) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    let mut keep = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = Client::connect(&url(at), &TOKEN).await.expect("connect");
        let t0 = Instant::now();
        c.join_or_create(room_type, HashMap::new()).await.expect("joined");
        h.record(t0.elapsed().as_micros() as u64).expect("record");
        keep.push(c);
    }
    h
}

/// The commands `addr` has sent to the cluster store so far.
fn store_commands(addr: SocketAddr) -> f64 {
    let text = metrics_text(addr);
    text.lines()
        .filter(|l| l.starts_with("playhouse_cluster_backend_command_seconds_count"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Redis commands per room per second with `rooms` rooms of `room_type`
/// (one client each) on `a`.
async fn commands_per_room(a: SocketAddr, room_type: &str, rooms: usize, window: Duration) -> f64 {
    let mut clients = Vec::with_capacity(rooms);
    for _ in 0..rooms {
        let mut c = Client::connect(&url(a), &TOKEN).await.expect("connect");
        c.create(room_type, HashMap::new()).await.expect("created");
        clients.push(c);
    }
    // Steady state: every room registered, a renewal period or two passed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (n0, t0) = (store_commands(a), Instant::now());
    tokio::time::sleep(window).await;
    let (n1, dt) = (store_commands(a), t0.elapsed().as_secs_f64());
    for c in clients {
        let _ = c.close().await;
    }
    (n1 - n0) / rooms as f64 / dt
}

fn now_us() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// One channel run: `n` publications from a client on `a` to subscribers
/// on `b`, paced at `rate` per second (0: as fast as it sends). Answers the
/// publish→receipt latencies (µs) and the deliveries per second.
async fn channel_run(a: SocketAddr, b: SocketAddr, subscribers: usize, n: usize, rate: u64) -> (Histogram<u64>, f64) {
    const CHANNEL: &str = "chat.bench";
    let mut readers = Vec::new();
    for _ in 0..subscribers {
        let mut c = Client::connect(&url(b), &TOKEN).await.expect("connect");
        c.subscribe(CHANNEL).await.expect("subscribed");
        readers.push(tokio::spawn(async move {
            let mut h = Histogram::<u64>::new(3).expect("histogram");
            let mut last = Instant::now();
            while h.len() < n as u64 {
                match c.next_event_timeout(Duration::from_secs(10)).await {
                    Ok(playhouse_client::Event::Publication(p)) => {
                        let sent = u64::from_be_bytes(p.payload[..8].try_into().expect("8 bytes"));
                        h.record(now_us().saturating_sub(sent)).expect("record");
                        last = Instant::now();
                    }
                    Ok(_) => {}
                    Err(e) => panic!("subscriber: {e} after {} publications", h.len()),
                }
            }
            (h, last)
        }));
    }
    let mut publisher = Client::connect(&url(a), &TOKEN).await.expect("connect");
    let gap = if rate == 0 { Duration::ZERO } else { Duration::from_secs(1) / rate as u32 };
    let start = Instant::now();
    for i in 0..n {
        if !gap.is_zero() {
            let due = start + gap * i as u32;
            tokio::time::sleep_until(due.into()).await;
        }
        let mut payload = now_us().to_be_bytes().to_vec();
        payload.resize(64, 0);
        publisher.publish(CHANNEL, &payload).await.expect("publish");
    }
    let mut all = Histogram::<u64>::new(3).expect("histogram");
    let mut end = start;
    for r in readers {
        let (h, last) = r.await.expect("reader");
        all.add(&h).expect("merge");
        end = end.max(last);
    }
    let per_sec = (n * subscribers) as f64 / end.duration_since(start).as_secs_f64();
    (all, per_sec)
}

fn pct(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let redis = RedisServer::start();
    let lease = Duration::from_millis(cli.lease_ms);
    let connect = || async { Arc::new(RedisBackend::connect(&RedisConfig::new(redis.url())).await.expect("redis")) };
    let (a, b) = (node(connect().await, "a", lease), node(connect().await, "b", lease));

    // The hall lives on a; wait until b's directory sees it.
    let mut owner = Client::connect(&url(a.addr()), &TOKEN).await.expect("connect");
    owner.create("hall", HashMap::new()).await.expect("hall");
    let t0 = Instant::now();
    while !playhouse_tests::http_get(b.addr(), "/rooms").1.contains("\"hall\"") {
        assert!(t0.elapsed() < Duration::from_secs(5), "the hall never reached the directory");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let local = joins(a.addr(), "hall", cli.joins).await;
    let across = joins(b.addr(), "hall", cli.joins).await;
    println!("join-or-create, {} joins each (ms):", cli.joins);
    println!("  one node      p50 {:.2}  p99 {:.2}", pct(&local, 0.5), pct(&local, 0.99));
    println!(
        "  across nodes  p50 {:.2}  p99 {:.2}  (redirect + a new connection to the room's node)",
        pct(&across, 0.5),
        pct(&across, 0.99)
    );

    let window = Duration::from_secs(cli.seconds);
    let at30 = commands_per_room(a.addr(), "t30", cli.rooms, window).await;
    let at60 = commands_per_room(a.addr(), "t60", cli.rooms, window).await;
    println!(
        "Redis commands per room per second, {} rooms, lease {} ms (renewal every {} ms):",
        cli.rooms,
        cli.lease_ms,
        cli.lease_ms / 3
    );
    println!("  rooms at 30 Hz  {at30:.4}");
    println!("  rooms at 60 Hz  {at60:.4}");

    let (latency, _) = channel_run(a.addr(), b.addr(), cli.subscribers, cli.publications, cli.rate).await;
    let (_, per_sec) = channel_run(a.addr(), b.addr(), cli.subscribers, cli.publications, 0).await;
    println!(
        "channel publish on a -> {} subscribers on b, {} publications at {}/s (ms): p50 {:.2}  p99 {:.2}",
        cli.subscribers,
        cli.publications,
        cli.rate,
        pct(&latency, 0.5),
        pct(&latency, 0.99)
    );
    println!("  as fast as one publisher sends: {per_sec:.0} deliveries/s");
}
