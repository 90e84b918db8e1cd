//! Shared code of the Playhouse benchmarks.
//!
//! - [`fanout`]: the fan-out scenario's wire contract (subprotocol token,
//!   room type, message builders), shared by the peer server `fanout_peer`,
//!   the load generator `loadgen` and `fanout_playhouse`.
//! - [`loadgen`]: the load generator's pieces (child process control, the
//!   WebSocket clients, Prometheus parsing, the JSON report).
//!
//! The binaries live in `src/bin/`; the codec micro-benchmarks in
//! `benches/codec.rs` (`cargo bench -p playhouse-benches --bench codec`).

pub mod fanout;
pub mod loadgen;
