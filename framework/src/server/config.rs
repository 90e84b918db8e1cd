//! Server configuration: every knob, its default, and what it bounds.
//! (README "Configuration" lists the same keys.)

use super::{MonitorConfig, TlsConfig};
use crate::auth::AuthConfig;
use crate::limits::{OriginPolicy, RateLimits};
use crate::matchmaking::CreateBudget;
use crate::protocol::compress::Compression;
use crate::protocol::Codec;
use crate::session::OutboxLimits;
use crate::session::SessionConfig;
use crate::transport::{SocketOptions, TransportConfig};
use std::time::Duration;

/// Everything a server can be told.
///
/// ```
/// use playhouse::server::ServerConfig;
/// use std::time::Duration;
///
/// let mut config = ServerConfig::new("arena");
/// config.transport.max_message_size = 16 * 1024;
/// config.outbox.stall_timeout = Duration::from_secs(10);
/// config.max_connections = 5_000;
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The app name in subprotocol tokens (`<app>.v<N>.<codec>`).
    pub app: String,
    /// Message size limit, heartbeat, idle and close timeouts.
    pub transport: TransportConfig,
    /// Per-connection send queue bounds and the stalled-reader timeout.
    pub outbox: OutboxLimits,
    /// TCP options (nodelay, `TCP_USER_TIMEOUT`).
    pub socket: SocketOptions,
    /// Most open WebSocket connections; past it upgrades get HTTP 503.
    /// 0 (the default): sized from the file descriptor limit, which the
    /// server raises from soft to hard at start: the limit less
    /// [`descriptors::RESERVED`](super::descriptors::RESERVED), one
    /// descriptor per connection. A larger configured cap is kept, with a
    /// warning at start. `/info` shows the cap in force.
    pub max_connections: usize,
    /// Most rooms one connection may be in at once.
    pub max_rooms_per_connection: usize,
    /// Most rooms alive at once, of every type (0: no cap); past it a
    /// create gets `JoinError ROOM_LIMIT`. Each `RoomType::max_rooms` caps
    /// its own type too.
    pub max_rooms: usize,
    /// How many rooms one session and one client address may create: token
    /// buckets refilled per minute; past them a create gets `JoinError
    /// CREATE_RATE_LIMITED` saying when to retry. Joins are never counted.
    pub create_budget: CreateBudget,
    /// Codec preference, best first (the client's offer decides among equals
    /// only through this order).
    pub codecs: Vec<Codec>,
    /// The compressions of large state payloads the server offers, best
    /// first; a client asks at the handshake (`?compress=deflate`,
    /// docs/protocol.md §4.6). Empty: never compress. Default: DEFLATE.
    pub compression: Vec<Compression>,
    /// State payloads (whole or delta) smaller than this are never
    /// compressed. Default [`MIN_BYTES`](crate::protocol::compress::MIN_BYTES).
    pub compression_min_bytes: usize,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// Room arbiters (0: one per core): where rooms run that no player's
    /// connection created (restored after a failover, taken over), and
    /// every room when `rooms_on_workers` is off.
    pub arbiters: usize,
    /// Run a room that a player's connection creates on that connection's
    /// HTTP worker thread (default on): its creator's states then reach the
    /// socket without waking another thread. Off: rooms go round-robin to
    /// the room arbiters, every delivery crossing threads.
    pub rooms_on_workers: bool,
    /// The drain deadline of a graceful shutdown (SIGTERM, SIGINT or a
    /// [`ShutdownHandle`](crate::server::ShutdownHandle)): the server exits
    /// once every connection is gone or this much time has passed.
    pub drain_timeout: Duration,
    /// What the `Shutdown` notice tells clients to wait before they
    /// reconnect (`reconnect_after_ms`).
    pub reconnect_after: Duration,
    /// Session resume: reconnect window, replay bounds, token signing.
    pub session: SessionConfig,
    /// Which web origins may open a socket (HTTP 403 otherwise). Default:
    /// the server's own pages and native clients.
    pub origins: OriginPolicy,
    /// Authentication (`None`: every client is anonymous).
    pub auth: Option<AuthConfig>,
    /// Per-connection message and byte rates, and what happens past them.
    pub rate: RateLimits,
    /// Most open connections from one client address; past it upgrades get
    /// HTTP 429 (0: no cap). Behind a proxy, see `trusted_proxies`.
    pub max_connections_per_ip: usize,
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the real
    /// client (for the per-address cap and logs). Empty: the peer address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Most sessions (open or parked, counted from their first join) one
    /// authenticated user may hold; a join past it closes the connection
    /// with 4003. Resuming one of the user's sessions is never refused.
    pub max_sessions_per_user: usize,
    /// Serve `https://` / `wss://` with this certificate and key (cargo
    /// feature `tls`); `None` (the default): plain HTTP, e.g. behind a
    /// TLS-terminating proxy. See `docs/security.md`.
    pub tls: Option<TlsConfig>,
    /// The operators' monitor page at `/monitor` and its API (README
    /// "Monitor"); `None` (the default): off, `/monitor` is 404.
    pub monitor: Option<MonitorConfig>,
}

impl ServerConfig {
    /// Defaults for `app`.
    pub fn new(app: impl Into<String>) -> Self {
        ServerConfig {
            app: app.into(),
            transport: TransportConfig::default(),
            outbox: OutboxLimits::default(),
            socket: SocketOptions::default(),
            max_connections: 0,
            max_rooms_per_connection: 8,
            // As many rooms as the default server admits connections: a
            // game whose rooms hold two players or more never reaches it,
            // and a sleeping (empty) room costs only its memory, so 10,000
            // bounds that at a few tens of MiB plus the studio's state.
            max_rooms: 10_000,
            create_budget: CreateBudget::default(),
            codecs: Codec::ALL.to_vec(),
            compression: Compression::ALL.to_vec(),
            compression_min_bytes: crate::protocol::compress::MIN_BYTES,
            workers: 0,
            arbiters: 0,
            rooms_on_workers: true,
            drain_timeout: Duration::from_secs(10),
            reconnect_after: Duration::from_secs(1),
            session: SessionConfig::default(),
            origins: OriginPolicy::default(),
            auth: None,
            rate: RateLimits::default(),
            max_connections_per_ip: 256,
            trusted_proxies: Vec::new(),
            max_sessions_per_user: 8,
            tls: None,
            monitor: None,
        }
    }
}

pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}
