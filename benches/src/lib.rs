//! Shared code of the Playhouse benchmarks.
//!
//! - [`fanout`]: the fan-out scenario's wire contract (subprotocol token,
//!   room type, message builders), shared by the peer server `fanout_peer`,
//!   the load generator `loadgen` and `fanout_playhouse`.
//! - [`loadgen`]: the load generator's pieces (child process control, the
//!   WebSocket clients, Prometheus parsing, the JSON report).
//! - [`failover`]: the failover bench's pieces (`arena` cluster nodes as
//!   pinned child processes, reconnecting players that log their outage,
//!   a watch of the cluster's `/rooms`).
//!
//! The binaries live in `src/bin/`; the codec micro-benchmarks in
//! `benches/codec.rs` (`cargo bench -p playhouse-benches --bench codec`).

pub mod failover;
pub mod fanout;
pub mod loadgen;

/// The fan-out scenario's wire types (`benches/schemas/bench/v1.proto`).
pub mod schema {
    /// `bench.v1`: the fan-out scenario's input and state payloads.
    #[allow(missing_docs)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/bench.v1.rs"));
    }
}
