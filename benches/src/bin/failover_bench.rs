//! `failover_bench`: the cluster's failover figures (docs/benchmarks.md
//! "Failover: a cluster node killed or drained").
//!
//! Starts a `redis-server` of its own on a free port and, for each round,
//! two fresh clusters of `--nodes` release `arena` nodes on it (each under
//! its own `--redis-prefix`), the nodes pinned to one CPU and this bench
//! (its clients, and the `redis-server` it starts) to another with
//! `taskset` when it can. In each cluster `--rooms` arena rooms of
//! `--players` `ReconnectingClient`s (every node's URL, their home node
//! first, backoff `--backoff-base-ms`..`--backoff-cap-ms`) play on node `a`
//! for `--play-ms` (past a snapshot: arena saves one every 30 ticks), then:
//!
//! The fault comes at a different phase of the nodes' periodic work each
//! round: after the play, a wait of `phase(round, span)` within a span (one lease renewal
//! period, a third of the lease, for the kill; 1 s for the drain). With a
//! fixed schedule every round would meet the lease renewals, the claim
//! scans (500 ms), the hand-over flag polls (100 ms) and the ticks at the
//! same phase, and show one case ten times instead of their spread.
//!
//! 1. **kill -9**: node `a` gets SIGKILL. Measured per player: the kill → the first state from the new owner;
//!    and apart, the kill → the claim of its room (the first poll of `/rooms` on a survivor, every
//!    `--poll-ms`, that lists the room under a survivor), split at the poll
//!    that no longer lists the room (its lease ran out), and the claim →
//!    that first state, split at `Resumed`. The claim → `Resumed` is shown
//!    apart for players whose resuming attempt was dialled before the claim
//!    (it waited in a survivor's lookup of the session) and after it (it
//!    waited out a backoff), with the attempts that failed after the claim.
//! 2. **drain**: node `a` gets SIGTERM. Measured per player: the pause
//!    between the last state before the move and the first state after it,
//!    split at the `Shutdown` notice (naming the successor) and `Resumed`;
//!    per room, the SIGTERM → the claim; per round, the SIGTERM → the
//!    drained node's exit (and its code, which must be 0).
//!
//! Every player must resume its session on the node that claimed its room
//! (no new session, no resync, no state tick going back); anything else is
//! listed and the exit code is 1.
//!
//! ```text
//! cargo build --release -p arena --bins -p playhouse-benches
//! target/release/failover_bench --nodes 3 --rooms 8 --players 8 --lease-ms 2000 --rounds 10 --json
//! ```
//!
//! Prints a table, and with `--json` one JSON line after it: `{"bench",
//! "params", "machine", "pinning", "kill": {...}, "drain": {...}, "errors"}`,
//! each figure as `{n, p50, p99, max}` in milliseconds.

use clap::Parser;
use playhouse_benches::failover::node::{Node, Pinning};
use playhouse_benches::failover::players::{PlayerLog, Players, Retry};
use playhouse_benches::failover::report::{DrainSamples, KillSamples, Params, Report};
use playhouse_benches::failover::watch::{self, Sighting};
use playhouse_benches::failover::Spread;
use playhouse_benches::loadgen::prom;
use playhouse_benches::loadgen::report::Machine;
use playhouse_tests::redis::RedisServer;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(about = "Failover figures: a cluster node killed (kill -9) or drained (SIGTERM)")]
struct Cli {
    /// Nodes per cluster (node `a` holds every room).
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Arena rooms on node `a`.
    #[arg(long, default_value_t = 8)]
    rooms: usize,
    /// Players per room (at most 16).
    #[arg(long, default_value_t = 8)]
    players: usize,
    /// The room lease, ms (`arena --lease-ms`; renewed every third).
    #[arg(long, default_value_t = 2000)]
    lease_ms: u64,
    /// Rounds; each starts two fresh clusters (one killed, one drained).
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// Play before the fault, ms (arena snapshots every 30 ticks, 1 s).
    #[arg(long, default_value_t = 2000)]
    play_ms: u64,
    /// How often `/rooms` on a survivor is read, ms.
    #[arg(long, default_value_t = 10)]
    poll_ms: u64,
    /// The players' first backoff ceiling, ms.
    #[arg(long, default_value_t = 100)]
    backoff_base_ms: u64,
    /// The players' largest backoff ceiling, ms.
    #[arg(long, default_value_t = 400)]
    backoff_cap_ms: u64,
    /// Where `arena` is (default: the directory of this binary).
    #[arg(long)]
    release_dir: Option<PathBuf>,
    /// `RUST_LOG` of the nodes (their stderr is copied to ours).
    #[arg(long, default_value = "warn")]
    node_log: String,
    /// Do not pin the nodes and the bench to CPUs.
    #[arg(long)]
    no_pin: bool,
    /// Print one JSON line after the table.
    #[arg(long)]
    json: bool,
}

/// One cluster of a round: its nodes, `a` first.
struct Cluster {
    nodes: Vec<Node>,
}

impl Cluster {
    /// Starts `cli.nodes` nodes under `prefix` and waits until each sees all.
    async fn start(cli: &Cli, bin: &Path, redis: &RedisServer, pin: &Pinning, prefix: &str) -> Result<Cluster, String> {
        let args: Vec<String> = [
            "--redis",
            &redis.url(),
            "--redis-prefix",
            prefix,
            "--lease-ms",
            &cli.lease_ms.to_string(),
            // Every player comes from 127.0.0.1.
            "--max-connections-per-ip",
            "0",
            "--max-parked-per-address",
            "0",
        ]
        .map(String::from)
        .to_vec();
        let mut nodes = Vec::new();
        for i in 0..cli.nodes {
            let id = char::from(b'a' + i as u8).to_string();
            nodes.push(Node::spawn(bin, pin.nodes, &id, &args, &cli.node_log)?);
        }
        let want = cli.nodes as f64;
        for n in &nodes {
            let sees_all = || async {
                let text = prom::http_get(n.addr, "/metrics", Duration::from_secs(2)).await.unwrap_or_default();
                prom::counter(&text, "playhouse_cluster_nodes") == want
            };
            wait_for(Duration::from_secs(10), sees_all)
                .await
                .map_err(|_| format!("node {} never saw its peers", n.id))?;
        }
        Ok(Cluster { nodes })
    }

    fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(Node::url).collect()
    }

    /// Seats the players on `a`, waits until a survivor lists every room,
    /// lets them play.
    async fn seat(&self, cli: &Cli) -> Result<Players, String> {
        let retry =
            Retry { base: Duration::from_millis(cli.backoff_base_ms), cap: Duration::from_millis(cli.backoff_cap_ms) };
        let players = Players::seat(&self.urls(), cli.rooms, cli.players, retry).await?;
        let survivor = self.nodes[1].addr;
        let all_listed = || async {
            let listed = watch::listed(survivor).await.unwrap_or_default();
            players.rooms.iter().all(|r| listed.get(r).is_some_and(|n| n == "a"))
        };
        wait_for(Duration::from_secs(10), all_listed)
            .await
            .map_err(|_| "the rooms never reached /rooms".to_string())?;
        tokio::time::sleep(Duration::from_millis(cli.play_ms)).await;
        Ok(players)
    }
}

/// Polls `cond` every 20 ms until it holds (`Err` after `within`).
async fn wait_for<F, Fut>(within: Duration, cond: F) -> Result<(), ()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t0 = Instant::now();
    while !cond().await {
        if t0.elapsed() > within {
            return Err(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

fn since(later: Instant, earlier: Instant) -> Duration {
    later.saturating_duration_since(earlier)
}

/// The extra wait before round `round`'s fault: `span` times the
/// fractional part of `round` × the golden ratio: a sequence that spreads
/// over `span` for any number of rounds, and does not line up with the
/// shorter periods in it either.
fn phase(round: usize, span: Duration) -> Duration {
    span.mul_f64((round as f64 * 0.618_033_988_75).fract())
}

/// One kill -9 round; adds to `out`, answers what went wrong.
async fn kill_round(
    cli: &Cli,
    bin: &Path,
    redis: &RedisServer,
    pin: &Pinning,
    round: usize,
    out: &mut KillSamples,
) -> Vec<String> {
    let prefix = format!("fb{}k{round}:", std::process::id());
    let cluster = match Cluster::start(cli, bin, redis, pin, &prefix).await {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let players = match cluster.seat(cli).await {
        Ok(p) => p,
        Err(e) => return vec![e],
    };
    let lease = Duration::from_millis(cli.lease_ms);
    tokio::time::sleep(phase(round, lease / 3)).await;
    let lost_url = cluster.nodes[0].url();
    let t0 = cluster.nodes[0].signal(libc::SIGKILL);
    let watch = watch::claims(
        cluster.nodes[1].addr,
        &players.rooms,
        "a",
        Duration::from_millis(cli.poll_ms),
        lease + Duration::from_secs(10),
    );
    let (seen, all_back) = tokio::join!(watch, players.all_back(lease + Duration::from_secs(15)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (n, rooms) = (players.len(), players.rooms.clone());
    let logs = players.stop().await;
    let mut errors = checks(&logs, &cluster, &seen, round, "kill");
    if !all_back {
        errors.push(format!("round {round} kill: not every player was back in time"));
    }
    let mut successors = BTreeMap::<String, usize>::new();
    for (room, s) in &seen {
        match &s.claimed {
            Some((_, node)) => *successors.entry(node.clone()).or_default() += 1,
            None => errors.push(format!("round {round} kill: room {room} was never claimed")),
        }
    }
    for (node, k) in &successors {
        *out.successors.entry(node.clone()).or_default() += k;
    }
    let mut back = 0;
    for l in &logs {
        let (Some(first), Some((resumed, _, _)), Some(Sighting { gone, claimed: Some((claimed, _)) })) =
            (l.first_after, &l.resumed, seen.get(&l.room))
        else {
            continue;
        };
        back += 1;
        let gone = gone.unwrap_or(*claimed);
        out.first_state.push(since(first, t0));
        out.claim.push(since(*claimed, t0));
        out.lease_out.push(since(gone, t0));
        out.lease_out_to_claim.push(since(*claimed, gone));
        out.claim_to_first_state.push(since(first, *claimed));
        out.resumed_to_first_state.push(since(first, *resumed));
        out.attempts.push(l.attempts.len());
        let Some((resuming, failed)) = l.attempts.split_last() else { continue };
        if resuming.at + resuming.delay < *claimed {
            out.claim_to_resumed_looked_up.push(since(*resumed, *claimed));
        } else {
            out.claim_to_resumed_dialled.push(since(*resumed, *claimed));
        }
        for a in failed.iter().filter(|a| a.at + a.delay >= *claimed) {
            out.failed_after_claim += 1;
            out.failed_after_claim_to_lost += usize::from(a.url == lost_url);
        }
    }
    let claimed: Vec<Duration> = seen.values().filter_map(|s| s.claimed.as_ref().map(|c| since(c.0, t0))).collect();
    eprintln!(
        "failover_bench: round {round} kill -9: {back}/{n} players back; {} rooms claimed after {:.0} ms, to {successors:?}",
        rooms.len(),
        Spread::of(&claimed).max
    );
    errors
}

/// One drain round; adds to `out`, answers what went wrong.
async fn drain_round(
    cli: &Cli,
    bin: &Path,
    redis: &RedisServer,
    pin: &Pinning,
    round: usize,
    out: &mut DrainSamples,
) -> Vec<String> {
    let prefix = format!("fb{}d{round}:", std::process::id());
    let cluster = match Cluster::start(cli, bin, redis, pin, &prefix).await {
        Ok(c) => c,
        Err(e) => return vec![e],
    };
    let players = match cluster.seat(cli).await {
        Ok(p) => p,
        Err(e) => return vec![e],
    };
    tokio::time::sleep(phase(round, Duration::from_secs(1))).await;
    let a = &cluster.nodes[0];
    let t0 = a.signal(libc::SIGTERM);
    let watch = watch::claims(
        cluster.nodes[1].addr,
        &players.rooms,
        "a",
        Duration::from_millis(cli.poll_ms),
        Duration::from_secs(15),
    );
    let exited = async {
        let _ = wait_for(Duration::from_secs(15), || async { a.exit().is_some() }).await;
        a.exit()
    };
    let (seen, all_back, exit) = tokio::join!(watch, players.all_back(Duration::from_secs(15)), exited);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let n = players.len();
    let logs = players.stop().await;
    let mut errors = checks(&logs, &cluster, &seen, round, "drain");
    if !all_back {
        errors.push(format!("round {round} drain: not every player was back in time"));
    }
    match exit {
        Some((at, status)) => {
            out.exit.push(since(at, t0));
            out.exit_codes.push(status.code());
            if !status.success() {
                errors.push(format!("round {round} drain: node a exited with {status}"));
            }
        }
        None => errors.push(format!("round {round} drain: node a did not exit within 15 s")),
    }
    let mut successors = BTreeMap::<String, usize>::new();
    for (room, s) in &seen {
        match &s.claimed {
            Some((at, node)) => {
                out.room_claimed.push(since(*at, t0));
                out.room_released.push(since(s.gone.unwrap_or(*at), t0));
                *successors.entry(node.clone()).or_default() += 1;
            }
            None => errors.push(format!("round {round} drain: room {room} was never claimed")),
        }
    }
    for (node, k) in &successors {
        *out.successors.entry(node.clone()).or_default() += k;
    }
    let mut back = 0;
    for l in &logs {
        let (Some(first), Some(last), Some((resumed, _, _))) = (l.first_after, l.last_before, &l.resumed) else {
            continue;
        };
        back += 1;
        out.pause.push(since(first, last));
        out.resumed_to_first_state.push(since(first, *resumed));
        if let Some((notice, _)) = &l.notice {
            out.notice.push(since(*notice, t0));
            out.last_state_to_notice.push(since(*notice, last));
            out.notice_to_resumed.push(since(*resumed, *notice));
        }
        if let Some(a) = l.attempts.first() {
            out.first_delay.push(a.delay);
        }
    }
    eprintln!(
        "failover_bench: round {round} drain: {back}/{n} players back; rooms to {successors:?}; node a exited after {}",
        exit.map_or("-".to_string(), |(at, _)| format!("{:.0} ms", since(at, t0).as_secs_f64() * 1000.0))
    );
    errors
}

/// What must hold for every player: resumed once, on the node that claimed
/// its room (which a drain's notice named), with no resync, no new session,
/// no tick going back.
fn checks(
    logs: &[PlayerLog],
    cluster: &Cluster,
    seen: &HashMap<String, Sighting>,
    round: usize,
    what: &str,
) -> Vec<String> {
    let url_of: HashMap<&str, String> = cluster.nodes.iter().map(|n| (n.id.as_str(), n.url())).collect();
    let mut errors = Vec::new();
    for l in logs {
        let mut say = |e: String| errors.push(format!("round {round} {what}: {} ({}): {e}", l.name, l.room));
        for e in &l.errors {
            say(e.clone());
        }
        let owner = seen.get(&l.room).and_then(|s| s.claimed.as_ref()).and_then(|(_, n)| url_of.get(n.as_str()));
        match &l.resumed {
            None => say("never resumed".into()),
            Some((_, url, _)) if Some(url) != owner => say(format!("resumed on {url}, its room went to {owner:?}")),
            Some((_, _, true)) => say("resumed with a resync: reliable messages lost".into()),
            Some(_) if l.first_after.is_none() => say("no state after its resume".into()),
            Some(_) => {}
        }
        if let Some((_, url)) = l.notice.as_ref().filter(|(_, url)| Some(url) != owner) {
            say(format!("the Shutdown notice named {url}, its room went to {owner:?}"));
        }
    }
    errors
}

async fn run(cli: Cli, machine: Machine, pin: Pinning) -> Report {
    let dir = cli.release_dir.clone().unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap_or_default();
        exe.parent().map(Path::to_path_buf).unwrap_or_default()
    });
    let bin = dir.join(format!("arena{}", std::env::consts::EXE_SUFFIX));
    let redis = RedisServer::start();
    let (mut kill, mut drain, mut errors) = (KillSamples::default(), DrainSamples::default(), Vec::new());
    for round in 1..=cli.rounds {
        errors.extend(kill_round(&cli, &bin, &redis, &pin, round, &mut kill).await);
        errors.extend(drain_round(&cli, &bin, &redis, &pin, round, &mut drain).await);
    }
    let params = Params {
        nodes: cli.nodes,
        rooms: cli.rooms,
        players_per_room: cli.players,
        lease_ms: cli.lease_ms,
        rounds: cli.rounds,
        play_ms: cli.play_ms,
        poll_ms: cli.poll_ms,
        backoff_base_ms: cli.backoff_base_ms,
        backoff_cap_ms: cli.backoff_cap_ms,
    };
    Report::new(params, machine, pin.note, &kill, &drain, errors)
}

fn main() {
    let cli = Cli::parse();
    if cli.nodes < 2 || cli.nodes > 26 || cli.players == 0 || cli.players > arena::MAX_PLAYERS || cli.rooms == 0 {
        eprintln!("failover_bench: needs 2..=26 nodes, at least one room, 1..={} players a room", arena::MAX_PLAYERS);
        std::process::exit(2);
    }
    // The CPUs of the machine, not the one this process is pinned to.
    let machine = Machine::current();
    // Before the runtime starts, so its threads inherit the CPU.
    let pin = Pinning::apply(!cli.no_pin);
    eprintln!("failover_bench: {}", pin.note);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let report = runtime.block_on(run(cli.clone(), machine, pin));
    runtime.shutdown_timeout(Duration::from_secs(2));
    report.print_table();
    if cli.json {
        println!("{}", serde_json::to_string(&report).expect("the report serializes"));
    }
    if !report.errors.is_empty() {
        std::process::exit(1);
    }
}
