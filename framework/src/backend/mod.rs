//! The cluster's storage layer: where rooms are recorded so that many
//! processes ("nodes") serve one game.
//!
//! A [`Backend`] holds the **room directory**: one [`RoomRecord`] per room
//! (type, id, owner node, node URL, clients, max, locked, epoch) whose
//! **lease** the owner renews well before it runs out. Every owner write is
//! fenced by the owner's node id and the room's epoch; a renewal that finds
//! the record gone or owned by someone else reports the room as lost, and
//! the owner stops its copy at once, so two nodes never both run one room.
//! Only an expired lease frees a record: one missed renewal never does
//! (the lease is several renewal periods long).
//!
//! Two backends:
//!
//! - [`Local`] — in memory, one process, no external service. The same
//!   rules (leases, epochs, fencing) as a plain struct, [`LocalDirectory`],
//!   that tests drive with made-up instants. A server without a cluster
//!   does not need a directory at all (its matchmaking registry is the
//!   truth); `Local` is the reference the Redis scripts are tested against
//!   and what a single-node deployment can plug in where a backend is asked
//!   for.
//! - `Redis` (cargo feature `redis`, [`redis::RedisBackend`]) — the shared
//!   truth of a cluster: a hash per room whose key TTL *is* the lease, Lua
//!   scripts for every read-modify-write. See `docs/cluster.md`.
//!
//! Channels (pub/sub beyond rooms) are the other part: [`ChannelStore`]
//! (`channels.rs`), in memory as [`LocalChannels`] and in Redis beside the
//! directory.
//!
//! This layer uses only the protocol: it knows room ids and counts, never
//! room actors, sessions or connections. Matchmaking drives it
//! (`matchmaking::cluster`).

mod channels;
pub mod failover;
mod fence;
mod local;
mod local_channels;
#[cfg(feature = "redis")]
pub mod redis;

pub use channels::{ChannelStore, History, HistoryLimits, Notice, NoticeSink, Position, Publication};
pub use failover::{session_key, Claimed, FailoverStore, SessionOp, StoredSession};
pub use fence::Fence;
pub use local::{Local, LocalDirectory};
pub use local_channels::{LocalChannelStore, LocalChannels, MAX_LOCAL_CHANNELS, MAX_PRESENCE_PER_CHANNEL};

use crate::metrics::ClusterMetrics;
use futures_util::future::BoxFuture;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The tag resume tokens carry for node `id`: the first 8 bytes of its
/// SHA-256, never 0 (0 means "no cluster").
pub fn node_tag(id: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(id.as_bytes());
    let mut word = [0u8; 8];
    word.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(word).max(1)
}

/// A node: one server process of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeInfo {
    /// The node's id (random at start unless configured): unique in the cluster.
    pub id: String,
    /// Where clients reach this node directly (`ws://host:port/ws`), or
    /// through the load balancer's per-node route (`/n/<node>/ws`).
    pub url: String,
}

/// One room in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomRecord {
    /// Room id.
    pub id: String,
    /// Room type.
    pub room_type: String,
    /// The owner node's id.
    pub node: String,
    /// The owner node's public URL.
    pub url: String,
    /// Clients in the room (as its owner last reported).
    pub clients: u32,
    /// Most clients.
    pub max_clients: u32,
    /// Whether the room refuses joins.
    pub locked: bool,
    /// The owner's epoch: every owner write carries it, and a write with a
    /// stale one is refused.
    pub epoch: u64,
}

/// What the owner reports of one room at each renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewal {
    /// Room id.
    pub id: String,
    /// The epoch `register` gave the owner.
    pub epoch: u64,
    /// Clients now.
    pub clients: u32,
    /// Locked now.
    pub locked: bool,
}

/// The answer to a renewal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renewed {
    /// Rooms whose lease was gone (expired, or taken at a newer epoch): the
    /// owner must stop them at once.
    pub lost: Vec<String>,
    /// The store lost everything since this node last spoke to it (a
    /// Redis restarted without persistence): no lease of anyone's is
    /// known, so nothing was taken over; the node registers its rooms
    /// again instead of stopping them.
    pub reset: bool,
}

/// Where a seat is wanted (see [`Backend::reserve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatIn {
    /// This room.
    Room(String),
    /// Any open room of this type.
    AnyOf(String),
}

/// The answer to [`Backend::reserve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seat {
    /// A seat is held in `room` under `token` for the hold time.
    Held {
        /// The room (its owner and URL).
        room: RoomRecord,
        /// The reservation, handed to the client in `Redirect`.
        token: String,
    },
    /// No such room.
    NotFound,
    /// The room has no free seat.
    Full,
    /// The room refuses joins.
    Locked,
    /// No room of the type has a free seat on another node.
    NoneOpen,
    /// A room by id that a claim is about to place: it has no owner this
    /// moment but its state is saved (a drain handed it on, or its node
    /// died and its lease ran out), or the asking node has claimed it and
    /// is restoring it. Asked again shortly, it is found under its owner.
    Moving,
}

/// Why the backend could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The store cannot be reached (or did not answer in time).
    #[error("cluster backend unavailable: {0}")]
    Unavailable(String),
    /// A room with this id is already recorded (ids are random: a clash
    /// means try another id).
    #[error("room {0:?} is already in the directory")]
    Exists(String),
    /// The store answered something this version does not understand.
    #[error("cluster backend protocol error: {0}")]
    Protocol(String),
}

/// The storage a cluster shares. Every method answers without waiting on
/// a lock across an await; a method that cannot reach the store fails with
/// [`BackendError::Unavailable`] instead of hanging (the Redis backend sets
/// a response timeout).
pub trait Backend: Send + Sync + 'static {
    /// A short name for logs and `/info` (`local`, `redis`).
    fn kind(&self) -> &'static str;

    /// The figures this backend counts into (a server shows them on
    /// `/metrics`).
    fn metrics(&self) -> ClusterMetrics;

    /// The key every node of the cluster signs resume tokens with, so a
    /// token issued by one node checks out on every other (`None`: each
    /// process keeps its own).
    fn session_secret(&self) -> Option<Vec<u8>> {
        None
    }

    /// The channels this backend shares among its nodes (offsets, history,
    /// presence, every node's publications): see [`ChannelStore`].
    fn channels(&self) -> Arc<dyn ChannelStore>;

    /// What outlives a node (room states, session records and logs; see
    /// [`FailoverStore`]). `None`: rooms and sessions live and die with
    /// their node.
    fn failover(&self) -> Option<Arc<dyn FailoverStore>> {
        None
    }

    /// Records a new room owned by `record.node` (its `epoch` is ignored)
    /// with a lease of `lease`; answers the room's epoch.
    fn register(&self, record: RoomRecord, lease: Duration) -> BoxFuture<'static, Result<u64, BackendError>>;

    /// Renews the leases of `node`'s rooms for another `lease` and stores
    /// their counts; also refreshes the node's own entry. Answers the rooms
    /// that are no longer this node's.
    fn renew(
        &self,
        node: &NodeInfo,
        rooms: Vec<Renewal>,
        lease: Duration,
    ) -> BoxFuture<'static, Result<Renewed, BackendError>>;

    /// Removes room `id` if `node` still owns it at `epoch` (a room that is
    /// disposed); a stale owner removes nothing.
    fn remove(&self, id: &str, node: &str, epoch: u64) -> BoxFuture<'static, Result<(), BackendError>>;

    /// Every live room of the cluster, optionally of one type, by id.
    fn list(&self, room_type: Option<&str>) -> BoxFuture<'static, Result<Vec<RoomRecord>, BackendError>>;

    /// Holds a seat for `hold` in a room of another node than `asking`:
    /// atomically, a room whose clients plus held seats are below its max
    /// and that is not locked. A held seat counts against the room until it
    /// runs out (the owner's next counts include the client once it joined;
    /// the room can look one seat fuller than it is for `hold`, never
    /// emptier).
    fn reserve(&self, want: SeatIn, asking: &str, hold: Duration) -> BoxFuture<'static, Result<Seat, BackendError>>;

    /// The owner seated the client a seat was held for (`token`): the hold
    /// ends and the room counts the client until the next renewal brings
    /// the exact count.
    fn seat_used(&self, room: &str, token: &str) -> BoxFuture<'static, Result<(), BackendError>>;

    /// One room by id (`None`: not in the directory, or its lease ran out).
    fn get(&self, id: &str) -> BoxFuture<'static, Result<Option<RoomRecord>, BackendError>>;

    /// The nodes whose entry has not expired, by id, each with how long
    /// until its entry expires (a live node renews it every third of a
    /// lease, so a node whose entry is about to expire has stopped renewing).
    fn nodes(&self) -> BoxFuture<'static, Result<Vec<(NodeInfo, Duration)>, BackendError>>;

    /// Node `node` stops: its entry leaves the live nodes at once, so its
    /// peers stop counting it (a node that dies is dropped when its entry
    /// expires).
    fn leave(&self, node: &str) -> BoxFuture<'static, Result<(), BackendError>>;
}
