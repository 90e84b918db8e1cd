//! Runs N arena bots, each on its own connection.
//!
//! ```text
//! cargo run -p arena --bin bots -- --url ws://127.0.0.1:8080/ws --count 8 \
//!     [--token arena.v2.proto[,arena.v1.msgpack…]] [--duration 30] [--stats]
//! cargo run -p arena --bin bots -- --url ws://127.0.0.1:8081/ws \
//!     --url ws://127.0.0.1:8082/ws --url ws://127.0.0.1:8083/ws --count 8
//! ```
//!
//! `--url` may be given more than once (a cluster's nodes): every bot's
//! reconnecting client gets all of them, in that order, as its failover
//! list. A bot connects to the first that answers; a lost connection is
//! resumed on the server that holds the session first (or on the node a
//! draining cluster node handed it to), then on the next URLs.
//!
//! Bot n (1-based) is named `bot-<n>`, speaks the token at position
//! `(n − 1) mod len` of `--token`, and joins one after another (join-or-create
//! `arena`, or `--room ID`), so they fill a room before a second one is made.
//! They play until `--duration` seconds after the last one joined (0: until
//! Ctrl-C), or until every bot has ended (the server went away), then close
//! normally. `--stats` prints one JSON line at the end:
//! per token, bytes/s received per bot (all binary frames, and state frames
//! alone), states/s per bot, average state frame size, inputs sent, events
//! seen, ticks missed, errors. Exits 1 if any bot had an error.

use arena::bot::{run_bot_with, summarize, BotConfig, BotReport};
use clap::Parser;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

#[derive(Parser, Debug)]
#[command(about = "Arena bots: N players from one command")]
struct Args {
    /// A server's WebSocket URL; repeat it for more servers, in failover
    /// order (every bot gets the whole list).
    #[arg(long, default_value = "ws://127.0.0.1:8080/ws", num_args = 1)]
    url: Vec<String>,
    /// How many bots.
    #[arg(long, default_value_t = 8)]
    count: usize,
    /// Token(s) the bots offer, handed out round-robin.
    #[arg(long, value_delimiter = ',', default_value = "arena.v2.proto")]
    token: Vec<String>,
    /// Seconds to play after everyone joined (0: until Ctrl-C).
    #[arg(long, default_value_t = 30.0)]
    duration: f64,
    /// Print a JSON line of statistics at the end.
    #[arg(long)]
    stats: bool,
    /// Join this room id instead of join-or-create.
    #[arg(long)]
    room: Option<String>,
    /// Room type for join-or-create.
    #[arg(long, default_value = "arena")]
    room_type: String,
    /// Seed for the room (if the first bot creates it) and the bots' brains.
    #[arg(long)]
    seed: Option<u64>,
    /// Seconds after its join before a bot starts counting.
    #[arg(long, default_value_t = 0.0)]
    warmup: f64,
    /// Also estimate how large a delta encoding of the states would be.
    #[arg(long)]
    delta: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    // clap's default stands in for an absent --url: there is always one.
    let Some(first_url) = args.url.first() else {
        eprintln!("bots: give at least one --url");
        std::process::exit(2);
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks: JoinSet<BotReport> = JoinSet::new();
    let started = Instant::now();
    let mut joined = 0;
    for n in 1..=args.count {
        let mut config = BotConfig::new(first_url, &args.token[(n - 1) % args.token.len()], &format!("bot-{n}"));
        config.urls = args.url.clone();
        config.room_type = args.room_type.clone();
        config.room = args.room.clone();
        config.warmup = Duration::from_secs_f64(args.warmup.max(0.0));
        config.measure_delta = args.delta && n <= args.token.len();
        if let Some(seed) = args.seed {
            config.options.insert("seed".into(), seed.to_string());
            config.seed = seed.wrapping_add(n as u64);
        }
        let (tx, rx) = oneshot::channel();
        config.joined = Some(tx);
        tasks.spawn(run_bot_with(config, stop_rx.clone()));
        match tokio::time::timeout(Duration::from_secs(10), rx).await {
            Ok(Ok(Ok(room))) => {
                joined += 1;
                eprintln!("bots: bot-{n} joined room {room}");
            }
            Ok(Ok(Err(e))) => eprintln!("bots: bot-{n}: {e}"),
            _ => eprintln!("bots: bot-{n} did not join within 10 s"),
        }
    }
    eprintln!("bots: {joined}/{} joined in {:.2} s", args.count, started.elapsed().as_secs_f64());
    // Play until the duration is over, Ctrl-C, or every bot has ended (a
    // server that went away, say).
    let mut reports = Vec::new();
    let forever = args.duration <= 0.0;
    let deadline = tokio::time::sleep(Duration::from_secs_f64(if forever { 86_400.0 * 365.0 } else { args.duration }));
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(deadline, interrupted);
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            _ = &mut interrupted => {
                eprintln!("bots: interrupted");
                break;
            }
            r = tasks.join_next() => match r {
                Some(Ok(r)) => reports.push(r),
                Some(Err(e)) => eprintln!("bots: a bot task failed: {e}"),
                None => break,
            },
        }
    }
    let _ = stop_tx.send(true);
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(r) => reports.push(r),
            Err(e) => eprintln!("bots: a bot task failed: {e}"),
        }
    }
    reports.sort_by_key(|r| r.name.clone());
    let errors: Vec<String> =
        reports.iter().flat_map(|r| r.errors.iter().map(move |e| format!("{}: {e}", r.name))).collect();
    for e in errors.iter().take(10) {
        eprintln!("bots: {e}");
    }
    if args.stats {
        let line = serde_json::json!({
            "bots": reports.len(),
            "joined": joined,
            "duration_s": args.duration,
            "by_token": summarize(&reports),
            "errors": errors.len(),
        });
        println!("{line}");
    }
    if !errors.is_empty() {
        std::process::exit(1);
    }
}
