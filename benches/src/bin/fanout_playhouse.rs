//! `fanout_playhouse`: the fan-out benchmark scenario served by Playhouse.
//!
//! A `fanout` room type whose `on_tick` broadcasts one state per tick — a
//! `bench.v1.Tick` stamped with the wall clock and padded to
//! `--state-bytes` — encoded once per (version, codec) group by the
//! framework and shared by every client. Same CLI and wire contract as
//! `fanout_peer` (see `playhouse_benches::fanout`), so `loadgen` drives both
//! in one invocation:
//!
//! ```text
//! cargo run --release -p playhouse-benches --bin fanout_playhouse -- --room-size 20 --hz 30 --state-bytes 256
//! ```
//!
//! It prints `LISTENING <ip:port>` on stdout once bound.

use bytes::Bytes;
use clap::Parser;
use playhouse::prelude::*;
use playhouse_benches::fanout::{self, Input, Tick, ROOM_TYPE};
use std::io::Write;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(about = "The fan-out benchmark scenario served by Playhouse")]
struct Cli {
    #[command(flatten)]
    args: fanout::ServerArgs,
    /// Make every room panic once, on this tick (the `restart` scenario of
    /// loadgen measures what its clients see of the supervised restart).
    #[arg(long)]
    panic_at_tick: Option<u64>,
    /// Every room on the room arbiters (`ServerConfig::rooms_on_workers`
    /// off) instead of on its creator's thread.
    #[arg(long)]
    rooms_on_arbiters: bool,
    /// Every room on the process's shared tick grid
    /// (`RoomType::aligned_ticks`).
    #[arg(long)]
    aligned_ticks: bool,
    /// Reliable messages every room broadcasts per tick, before its state
    /// (each a `bench.v1.Tick` with no filler): a tick then gives each
    /// client several frames, which leave in one write.
    #[arg(long, default_value_t = 0)]
    messages_per_tick: u32,
}

/// The tick every room panics on, once (set from the command line).
static PANIC_AT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// The scenario's room: no game, just a stamped state every tick.
struct Fanout {
    filler: Bytes,
}

/// The filler size, set once from the command line before rooms exist.
static STATE_BYTES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// Reliable messages per tick, set once from the command line.
static MESSAGES_PER_TICK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

impl Room for Fanout {
    type Wire = (Input, Tick, Tick);
    type Options = Options;

    fn on_create(_: &mut RoomContext<Self>, _: &Options) -> Result<Self, Reject> {
        Ok(Fanout { filler: fanout::filler(STATE_BYTES.get().copied().unwrap_or(0)) })
    }

    fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, _: Input) {}

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _dt: Duration) {
        // The tick clock survives the restart, so each room panics once.
        if PANIC_AT.get() == Some(&ctx.tick()) {
            panic!("fanout room panics on tick {} as asked", ctx.tick());
        }
        let sent_at_us = fanout::now_us();
        for _ in 0..MESSAGES_PER_TICK.get().copied().unwrap_or(0) {
            ctx.broadcast(&Tick { sent_at_us, tick: ctx.tick(), filler: Bytes::new() });
        }
        let tick = Tick { sent_at_us, tick: ctx.tick(), filler: self.filler.clone() };
        ctx.broadcast_state(&tick);
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let cli = Cli::parse();
    if let Some(k) = cli.panic_at_tick {
        let _ = PANIC_AT.set(k);
        // One line per panic, not a backtrace: the restart is the point.
        std::panic::set_hook(Box::new(|info| eprintln!("fanout_playhouse: {info}")));
    }
    let args = cli.args;
    let _ = STATE_BYTES.set(args.state_bytes);
    let _ = MESSAGES_PER_TICK.set(cli.messages_per_tick);
    let spec = RoomType::new(ROOM_TYPE, args.hz).max_clients(args.room_size).aligned_ticks(cli.aligned_ticks);
    let mut config = ServerConfig::new("fanout");
    // Every load-generator client comes from 127.0.0.1, and `--rooms 100`
    // creates 100 rooms from it within a second.
    config.max_connections_per_ip = 0;
    config.create_budget.per_address = playhouse::matchmaking::Allowance::UNLIMITED;
    config.rooms_on_workers = !cli.rooms_on_arbiters;
    let server = Server::new(config).room::<Fanout>(spec).bind(&args.addr)?;
    let mut out = std::io::stdout();
    writeln!(out, "{} {}", fanout::LISTENING, server.local_addr())?;
    out.flush()?;
    server.run().await
}
