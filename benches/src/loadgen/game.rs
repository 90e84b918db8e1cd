//! The `game` scenario: real arena bots ([`arena::bot`]) playing the real
//! game server, to measure what the game costs on the wire.
//!
//! For each (players P, codec C) it starts a fresh `arena --addr 127.0.0.1:0`
//! from the release directory, joins P bots one after another (each on its
//! own connection, token `arena.v<N>.<C>`, join-or-create: one room, as a
//! room holds 16), lets them play for the warm-up and the duration, stops
//! them and the server. Each bot counts what it receives after its warm-up:
//! bytes of every binary frame (the decoded envelope re-encoded with the same
//! codec, which gives the frame's exact size), states, events. The first bot
//! also estimates how large a delta encoding of each state against the one
//! before could be (see [`arena::bot::DeltaEstimate`]). `/metrics` is
//! scraped before and after the measurement for the server's own count of
//! payload bytes sent.
//!
//! Each combination runs with delta states off and on (`--deltas`) and
//! with compression off and on (`--compress`). The server runs pinned to
//! one CPU and the bots to another (unless `--no-pin`), so the server's
//! CPU time per tick is its own work.
//!
//! ```text
//! cargo build --release -p arena -p playhouse-benches --bins
//! target/release/loadgen game --players 8,16 --codecs proto,msgpack --deltas off,on --compress off,on \
//!     --duration 10 --release-dir target/release
//! ```

use super::pin::CpuPlan;
use super::procfs::Sample;
use super::prom;
use super::report::Machine;
use super::server::Server;
use super::{LoadgenError, Result};
use arena::bot::{run_bot_with, summarize, BotConfig, BotReport, DeltaEstimate};
use clap::ValueEnum;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// Flags of the `game` scenario.
#[derive(clap::Args, Debug, Clone)]
pub struct GameArgs {
    /// Players per room, one run each (at most 16: one room).
    #[arg(long, value_delimiter = ',', default_value = "8,16")]
    pub players: Vec<usize>,
    /// Codecs, one run each.
    #[arg(long, value_delimiter = ',', default_value = "proto,msgpack")]
    pub codecs: Vec<GameCodec>,
    /// Schema version the bots speak (1 or 2).
    #[arg(long, default_value_t = 2)]
    pub version: u32,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds after each bot's join that it does not count.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Seed of the room (reproducible pickups and spawns).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Delta states on, off or both (one run each): with `off` the bots
    /// never acknowledge a state, so the server sends every state whole.
    #[arg(long, value_delimiter = ',', default_value = "off,on")]
    pub deltas: Vec<DeltaMode>,
    /// The room's view radius in world units (the arena's `view` option:
    /// each player gets only what is within it, and the scoreboard);
    /// absent: everyone sees the whole arena.
    #[arg(long)]
    pub view: Option<f32>,
    /// Compression of large states off, on or both (one run each): with
    /// `on` the bots ask for it at the handshake (`?compress=deflate`).
    #[arg(long, value_delimiter = ',', default_value = "off")]
    pub compress: Vec<CompressMode>,
    /// Do not pin the server and the bots to different CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// Where the `arena` binary is.
    #[arg(long, default_value = "target/release")]
    pub release_dir: PathBuf,
}

/// Whether the bots ask for compressed states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompressMode {
    /// Plain states.
    Off,
    /// DEFLATE for payloads of 256 bytes or more.
    On,
}

/// Whether the bots take delta states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeltaMode {
    /// Whole states only.
    Off,
    /// Deltas against the states the bots acknowledged.
    On,
}

/// A codec of the arena tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GameCodec {
    /// `arena.vN.proto`.
    Proto,
    /// `arena.vN.msgpack`.
    Msgpack,
}

impl GameCodec {
    fn name(self) -> &'static str {
        match self {
            GameCodec::Proto => "proto",
            GameCodec::Msgpack => "msgpack",
        }
    }
}

/// The whole report of one `game` run.
#[derive(Serialize, Debug)]
pub struct GameReport {
    /// `game`.
    pub scenario: &'static str,
    /// What was asked for.
    pub params: GameParams,
    /// Where it ran.
    pub machine: Machine,
    /// One per (players, codec), in order.
    pub results: Vec<GameOutcome>,
}

impl GameReport {
    /// The figures as a table, for people.
    pub fn summary(&self) -> String {
        let mut out = String::from(
            "players codec   deltas  z    KB/s/player  state B  states/s  server µs/tick  decode µs  apply µs  inflate µs  lost  errors\n",
        );
        let opt = |v: Option<f64>, prec: usize| v.map_or("-".to_string(), |v| format!("{v:.prec$}"));
        for r in &self.results {
            match r {
                GameOutcome::Measured(m) => out.push_str(&format!(
                    "{:>7} {:<7} {:<7} {:<4} {:>11.1} {:>8.0} {:>9.1} {:>15} {:>10} {:>9} {:>11} {:>5} {:>7}\n",
                    m.players,
                    m.codec.name(),
                    format!("{:?}", m.deltas).to_lowercase(),
                    format!("{:?}", m.compress).to_lowercase(),
                    m.bytes_per_sec_per_player / 1000.0,
                    m.avg_state_frame_bytes,
                    m.states_per_sec_per_player,
                    opt(m.server_cpu_us_per_tick, 1),
                    opt(m.client_decode_us_per_state, 2),
                    opt(m.client_delta_apply_us, 2),
                    opt(m.client_inflate_us, 2),
                    m.deltas_lost,
                    m.errors,
                )),
                GameOutcome::Failed { players, codec, deltas, compress, error } => out.push_str(&format!(
                    "{players:>7} {:<7} deltas {deltas:?} compress {compress:?}: failed: {error}\n",
                    codec.name()
                )),
            }
        }
        out
    }
}

/// Parameters of the run.
#[derive(Serialize, Debug)]
pub struct GameParams {
    /// Players per room.
    pub players: Vec<usize>,
    /// Codecs.
    pub codecs: Vec<GameCodec>,
    /// Delta modes.
    pub deltas: Vec<DeltaMode>,
    /// Compression modes.
    pub compress: Vec<CompressMode>,
    /// Where the server and the bots ran.
    pub cpus: CpuPlan,
    /// Schema version.
    pub version: u32,
    /// View radius, if any.
    pub view: Option<f32>,
    /// Measured seconds.
    pub duration_s: f64,
    /// Unmeasured seconds after each join.
    pub warmup_s: f64,
    /// Room tick rate.
    pub hz: u32,
    /// The server binary.
    pub binary: String,
}

/// One combination's figures, or why there are none.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum GameOutcome {
    /// It ran.
    Measured(Box<GameMeasured>),
    /// It could not run.
    Failed {
        /// Players.
        players: usize,
        /// Codec.
        codec: GameCodec,
        /// Delta states.
        deltas: DeltaMode,
        /// Compression.
        compress: CompressMode,
        /// What went wrong.
        error: String,
    },
}

/// The figures of one (players, codec).
#[derive(Serialize, Debug)]
pub struct GameMeasured {
    /// Players in the room.
    pub players: usize,
    /// Codec.
    pub codec: GameCodec,
    /// Delta states.
    pub deltas: DeltaMode,
    /// Compression.
    pub compress: CompressMode,
    /// The token the bots negotiated.
    pub token: String,
    /// Bots that joined.
    pub bots_joined: usize,
    /// Bytes received per second per player, all frames (server → client).
    pub bytes_per_sec_per_player: f64,
    /// Of which state frames.
    pub state_bytes_per_sec_per_player: f64,
    /// States received per second per player.
    pub states_per_sec_per_player: f64,
    /// Average state frame (envelope + payload), bytes.
    pub avg_state_frame_bytes: f64,
    /// The server's own count of payload bytes sent, per second per player
    /// (`playhouse_bytes_out_total` over the window; includes pongs).
    pub server_bytes_out_per_sec_per_player: Option<f64>,
    /// The server's CPU time per tick over the window, µs (the room's
    /// tick, encodes and deltas, and every connection's writes).
    pub server_cpu_us_per_tick: Option<f64>,
    /// The bots' decode of a state's payload, µs (after the client made a
    /// delta whole).
    pub client_decode_us_per_state: Option<f64>,
    /// The client's application of a delta, µs.
    pub client_delta_apply_us: Option<f64>,
    /// The client's inflate of a compressed payload, µs.
    pub client_inflate_us: Option<f64>,
    /// States that came compressed, and their bytes before and after
    /// inflating (all bots).
    pub compressed_states: u64,
    /// Compressed payload bytes / inflated payload bytes.
    pub compression_ratio: Option<f64>,
    /// Delta states the bots received, and those they could not apply.
    pub delta_states: u64,
    /// Delta states dropped (baseline not held, or did not apply).
    pub deltas_lost: u64,
    /// What a delta encoding could weigh (first bot's view).
    pub delta: Option<DeltaEstimate>,
    /// avg_field_delta_bytes / avg_payload_bytes.
    pub field_delta_ratio: Option<f64>,
    /// Inputs the bots sent.
    pub inputs_sent: u64,
    /// Events the bots saw.
    pub events_seen: u64,
    /// Ticks the bots missed.
    pub missed_ticks: u64,
    /// Bot errors (connect, join, decode, unexpected close).
    pub errors: usize,
    /// The first few errors.
    pub error_samples: Vec<String>,
}

/// Runs every (players, codec) combination; returns the report and whether
/// every combination ran without errors.
pub async fn run(args: &GameArgs, cpus: CpuPlan) -> (GameReport, bool) {
    let bin = args.release_dir.join("arena");
    let mut results = Vec::new();
    let mut ok = true;
    for &players in &args.players {
        for &codec in &args.codecs {
            for &deltas in &args.deltas {
                for &compress in &args.compress {
                    let what = format!("{players} players, {}, deltas {deltas:?}, compress {compress:?}", codec.name());
                    eprintln!("loadgen: game {what} ...");
                    let budget = Duration::from_secs_f64(args.warmup + args.duration + 30.0 + players as f64);
                    let one = run_one(args, &bin, players, codec, deltas, compress, cpus.server_cpu);
                    let outcome = match tokio::time::timeout(budget, one).await {
                        Ok(Ok(m)) => {
                            ok &= m.errors == 0 && m.bots_joined == players;
                            GameOutcome::Measured(Box::new(m))
                        }
                        Ok(Err(e)) => GameOutcome::Failed { players, codec, deltas, compress, error: e.to_string() },
                        Err(_) => {
                            let error = format!("timed out after {budget:?}");
                            GameOutcome::Failed { players, codec, deltas, compress, error }
                        }
                    };
                    if let GameOutcome::Failed { error, .. } = &outcome {
                        eprintln!("loadgen: game {what}: {error}");
                        ok = false;
                    }
                    results.push(outcome);
                }
            }
        }
    }
    let report = GameReport {
        scenario: "game",
        params: GameParams {
            players: args.players.clone(),
            codecs: args.codecs.clone(),
            deltas: args.deltas.clone(),
            compress: args.compress.clone(),
            cpus,
            version: args.version,
            view: args.view,
            duration_s: args.duration,
            warmup_s: args.warmup,
            hz: arena::TICK_HZ,
            binary: bin.display().to_string(),
        },
        machine: Machine::current(),
        results,
    };
    (report, ok)
}

async fn bytes_out(server: &Server) -> Option<f64> {
    let text = prom::http_get(server.addr, "/metrics", Duration::from_secs(5)).await.ok()?;
    text.contains("playhouse_bytes_out_total").then(|| prom::counter(&text, "playhouse_bytes_out_total"))
}

async fn run_one(
    args: &GameArgs,
    bin: &std::path::Path,
    players: usize,
    codec: GameCodec,
    deltas: DeltaMode,
    compress: CompressMode,
    server_cpu: Option<usize>,
) -> Result<GameMeasured> {
    if players == 0 || players > arena::MAX_PLAYERS {
        return Err(LoadgenError::Protocol(format!("players must be 1..={} (one room)", arena::MAX_PLAYERS)));
    }
    let addr = ["--addr".to_string(), "127.0.0.1:0".to_string()];
    let server = Server::spawn_on(bin, &addr, Duration::from_secs(15), server_cpu).await?;
    let result = measure(args, &server, players, codec, deltas, compress).await;
    server.stop().await;
    result
}

async fn measure(
    args: &GameArgs,
    server: &Server,
    players: usize,
    codec: GameCodec,
    deltas: DeltaMode,
    compress: CompressMode,
) -> Result<GameMeasured> {
    let plain = format!("ws://{}/ws", server.addr);
    let url = match compress {
        CompressMode::Off => plain,
        CompressMode::On => playhouse_client::compress::Compression::Deflate.ask(&plain),
    };
    let token = format!("arena.v{}.{}", args.version, codec.name());
    let warmup = Duration::from_secs_f64(args.warmup.max(0.0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let mut joined = 0;
    let mut join_errors = Vec::new();
    let started = Instant::now();
    for n in 1..=players {
        let mut config = BotConfig::new(&url, &token, &format!("bot-{n}"));
        config.options.insert("seed".into(), args.seed.to_string());
        if let Some(v) = args.view {
            config.options.insert("view".into(), v.to_string());
        }
        config.seed = args.seed.wrapping_add(n as u64);
        config.warmup = warmup;
        config.measure_delta = n == 1;
        config.deltas = deltas == DeltaMode::On;
        let (tx, rx) = oneshot::channel();
        config.joined = Some(tx);
        tasks.push(tokio::spawn(run_bot_with(config, stop_rx.clone())));
        // One at a time, so join-or-create puts everyone in one room.
        match tokio::time::timeout(Duration::from_secs(10), rx).await {
            Ok(Ok(Ok(_room))) => joined += 1,
            Ok(Ok(Err(e))) => join_errors.push(format!("bot-{n}: {e}")),
            _ => join_errors.push(format!("bot-{n}: no join within 10 s")),
        }
    }
    if joined == 0 {
        let _ = stop_tx.send(true);
        return Err(LoadgenError::Protocol(format!("no bot could join: {join_errors:?}")));
    }
    eprintln!("loadgen: {joined}/{players} bots joined in {:.2} s", started.elapsed().as_secs_f64());
    tokio::time::sleep(warmup).await;
    let before = bytes_out(server).await;
    let cpu_before = Sample::of(server.pid);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.duration.max(0.0))).await;
    let cpu_after = Sample::of(server.pid);
    let after = bytes_out(server).await;
    let window = t0.elapsed().as_secs_f64();
    let server_cpu_us_per_tick = match (cpu_before, cpu_after) {
        (Some(b), Some(a)) if window > 0.0 => {
            Some(a.cpu_ns.saturating_sub(b.cpu_ns) as f64 / 1e3 / (window * f64::from(arena::TICK_HZ)))
        }
        _ => None,
    };
    let _ = stop_tx.send(true);
    let mut reports: Vec<BotReport> = Vec::new();
    for t in tasks {
        match tokio::time::timeout(Duration::from_secs(5), t).await {
            Ok(Ok(r)) => reports.push(r),
            Ok(Err(e)) => join_errors.push(format!("bot task: {e}")),
            Err(_) => join_errors.push("a bot did not stop within 5 s".into()),
        }
    }
    let summary = summarize(&reports);
    let s = summary.get(&token).cloned().unwrap_or_default();
    let mut errors: Vec<String> = join_errors;
    errors.extend(reports.iter().flat_map(|r| r.errors.iter().map(move |e| format!("{}: {e}", r.name))));
    let delta = reports.iter().find_map(|r| r.delta.clone());
    let timed: Vec<&BotReport> = reports.iter().filter(|r| r.decode_ns > 0 && r.states > 0).collect();
    let client_decode_us_per_state = (!timed.is_empty())
        .then(|| timed.iter().map(|r| r.decode_ns as f64 / r.states as f64).sum::<f64>() / timed.len() as f64 / 1e3);
    let stats: Vec<playhouse_client::DeltaStats> = reports.iter().filter_map(|r| r.delta_stats).collect();
    let delta_states: u64 = stats.iter().map(|d| d.deltas).sum();
    let deltas_lost: u64 = stats.iter().map(|d| d.lost).sum();
    let apply_ns: u64 = stats.iter().map(|d| d.apply_ns).sum();
    let client_delta_apply_us = (delta_states > 0).then(|| apply_ns as f64 / delta_states as f64 / 1e3);
    let compressed_states: u64 = stats.iter().map(|d| d.compressed).sum();
    let inflate_ns: u64 = stats.iter().map(|d| d.inflate_ns).sum();
    let client_inflate_us = (compressed_states > 0).then(|| inflate_ns as f64 / compressed_states as f64 / 1e3);
    let (zb, ib) = stats.iter().fold((0u64, 0u64), |(z, i), d| (z + d.compressed_bytes, i + d.inflated_bytes));
    let compression_ratio = (ib > 0).then(|| zb as f64 / ib as f64);
    let field_delta_ratio =
        delta.as_ref().filter(|d| d.avg_payload_bytes > 0.0).map(|d| d.avg_field_delta_bytes / d.avg_payload_bytes);
    Ok(GameMeasured {
        players,
        codec,
        deltas,
        compress,
        token,
        bots_joined: joined,
        bytes_per_sec_per_player: s.bytes_per_sec_per_bot,
        state_bytes_per_sec_per_player: s.state_bytes_per_sec_per_bot,
        states_per_sec_per_player: s.states_per_sec_per_bot,
        avg_state_frame_bytes: s.avg_state_frame_bytes,
        server_bytes_out_per_sec_per_player: match (before, after) {
            (Some(b), Some(a)) if window > 0.0 => Some((a - b) / window / joined as f64),
            _ => None,
        },
        server_cpu_us_per_tick,
        client_decode_us_per_state,
        client_delta_apply_us,
        client_inflate_us,
        compressed_states,
        compression_ratio,
        delta_states,
        deltas_lost,
        delta,
        field_delta_ratio,
        inputs_sent: s.inputs_sent,
        events_seen: s.events_seen,
        missed_ticks: s.missed_ticks,
        errors: errors.len(),
        error_samples: errors.into_iter().take(5).collect(),
    })
}
