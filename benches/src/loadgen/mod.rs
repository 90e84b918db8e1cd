//! The load generator's pieces; `src/bin/loadgen.rs` wires them together.
//!
//! - [`server`]: starts a target server binary, finds its address, reads
//!   its RSS, stops it.
//! - [`client`]: one scenario client (connect, negotiate, join, read
//!   states) and the shared statistics they record into.
//! - [`prom`]: a tiny HTTP/1.1 GET and the Prometheus histogram maths for
//!   `/metrics`.
//! - [`report`]: the JSON report's shape (keys in a fixed order).
//! - [`fanout`]: the `fanout` scenario (rooms of clients against Playhouse,
//!   the bare peer and the floor program, each figure a ratio to the others).
//! - [`game`]: the `game` scenario (arena bots against the arena server).
//! - [`idle`]: the `idle` scenario (many upgraded, idle connections held).
//! - [`restart`]: the `restart` scenario (rooms that panic once, seen by their clients).
//! - [`storm`]: the `storm` scenario (a reconnect storm through a resetting proxy).
//! - [`pin`]: the CPU plan (server on one CPU, load generator on another).
//! - [`procfs`]: a process's CPU time and write syscalls over a window.
//! - [`floor`]: the floor program's report and how `fanout` runs it.
//! - [`perf`]: `perf record` of a server over the measured window.
//! - [`syscalls`]: a server's syscalls over the measured window, by tracepoint.
//! - [`load_test`]: the `scenario` subcommand, a load test from a scenario
//!   file judged against an SLO file, built from [`scenario`] (the scenario
//!   file; its `[input]` in [`input`]), [`slo`] (the SLO file and its evaluation), [`link`] (the link
//!   emulator: latency, jitter, loss, bandwidth), [`players`] (the clients
//!   and what they record), [`verdict`] (report.json, report.md) and
//!   [`chart`] (latency.svg); [`tomlfile`] reads both files with
//!   line-precise errors.

pub mod chart;
pub mod client;
pub mod fanout;
pub mod floor;
pub mod game;
pub mod idle;
pub mod input;
pub mod link;
pub mod load_test;
pub mod perf;
pub mod pin;
pub mod players;
pub mod procfs;
pub mod prom;
pub mod report;
pub mod restart;
pub mod scenario;
pub mod server;
pub mod slo;
pub mod storm;
pub mod syscalls;
pub mod tomlfile;
pub mod verdict;

use playhouse::protocol::CodecError;
use std::path::PathBuf;

/// Everything that can go wrong while driving one target.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    /// The target's binary is not in the release directory.
    #[error(
        "server binary {} not found: build it from benches/src/bin/{}.rs with \
         `cargo build --release -p playhouse-benches --bins`, or point --release-dir \
         at the directory that holds it",
        .0.display(),
        .0.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    )]
    MissingBinary(PathBuf),
    /// The binary exists but could not be started.
    #[error("could not start {path}: {source}")]
    Spawn {
        /// The binary.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The server exited or closed stdout before `LISTENING <addr>`.
    #[error("{0} did not print `LISTENING <addr>`")]
    NoListeningLine(String),
    /// A step did not finish in its time budget.
    #[error("timed out: {0}")]
    Timeout(String),
    /// Socket or file i/o.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// WebSocket handshake or transport.
    #[error("websocket: {0}")]
    Ws(Box<tokio_tungstenite::tungstenite::Error>),
    /// A message that does not decode.
    #[error("codec: {0}")]
    Codec(#[from] CodecError),
    /// The server said something the scenario does not expect.
    #[error("protocol: {0}")]
    Protocol(String),
    /// `/metrics` could not be fetched or parsed.
    #[error("metrics: {0}")]
    Metrics(String),
}

impl From<tokio_tungstenite::tungstenite::Error> for LoadgenError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        LoadgenError::Ws(Box::new(e))
    }
}

/// The load generator's result type.
pub type Result<T, E = LoadgenError> = std::result::Result<T, E>;

/// serde's default for a count that older reports leave out: one (one
/// burst, one process).
pub(crate) fn one() -> usize {
    1
}
