//! What outlives a node: the store side of failover (design §7, §11).
//!
//! - **Room states**: beside its lease record, every room of a cluster has a
//!   *state* record that does not expire with the lease: its type, most
//!   clients, epoch, owner and an opaque blob (the room layer's portable
//!   snapshot: options, tick, seats, the studio's `Room::snapshot`). The
//!   owner writes it fenced by its epoch ([`FailoverStore::save_room`]).
//!   A room whose lease ran out while its state stayed is an *orphan*;
//!   [`FailoverStore::claim`] gives a live node the orphans of one lost
//!   node at once (epoch + 1), so a session's rooms move together.
//!   [`FailoverStore::release`] ends a lease on purpose (a draining node
//!   hands its rooms over); a disposed room's state goes with its record
//!   (`Backend::remove`).
//! - **Session records and logs**: a session in a room has a record (its
//!   identity, token generation, user and protocol, opaque to this layer)
//!   and a stream of the reliable frames it was sent, trimmed by the
//!   client's acks ([`SessionOp`], written in batches). The node that claims
//!   a room loads its seats' sessions ([`FailoverStore::load_sessions`]) and
//!   records itself as their holder, so a resume reaching any node finds
//!   them ([`FailoverStore::session_holder`]).
//!
//! This layer stores bytes; it never decodes a blob.

use super::{BackendError, NodeInfo, RoomRecord};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::time::Duration;

/// An orphaned room this node now owns (its lease record is written, at
/// `record.epoch`), with the state its last owner saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// The room's new lease record (owner: the claiming node).
    pub record: RoomRecord,
    /// The last saved state blob.
    pub state: Bytes,
    /// The node that owned it before.
    pub from: String,
}

/// One write to the session store (see [`FailoverStore::write_sessions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOp {
    /// Writes session `key`'s record (its log is stream `stream`); the
    /// store keeps both for its configured time past their last write.
    Record {
        /// The session's key (`<node tag>-<id>`, hex).
        key: String,
        /// The record (opaque here).
        blob: Bytes,
        /// The stream holding the session's reliable frames.
        stream: String,
    },
    /// Appends reliable frame `seq` to `stream` (a seq at or below the
    /// stream's last is ignored: a retry never duplicates), keeping at most
    /// `max_len` frames.
    Append {
        /// The stream.
        stream: String,
        /// The frame's session seq.
        seq: u64,
        /// The frame as sent.
        frame: Bytes,
        /// Most frames kept.
        max_len: usize,
    },
    /// The client acknowledged every frame up to `upto`: they are dropped.
    Trim {
        /// The stream.
        stream: String,
        /// The last acknowledged seq.
        upto: u64,
    },
    /// Session `key` ended: its record and stream are deleted.
    Delete {
        /// The session's key.
        key: String,
        /// Its stream.
        stream: String,
    },
    /// Session `key` is now held by the node at `url` (it claimed the
    /// session's rooms): a resume with the session's old token is sent there.
    Holder {
        /// The session's key as its last token names it.
        key: String,
        /// Where it is now.
        url: String,
    },
}

/// A session as the store kept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// Its key.
    pub key: String,
    /// Its record.
    pub blob: Bytes,
    /// Its stream's name.
    pub stream: String,
    /// The reliable frames kept, by seq, oldest first.
    pub frames: Vec<(u64, Bytes)>,
}

/// The store side of failover (see the module docs). Implemented by the
/// Redis backend; a backend without it ([`super::Backend::failover`] is
/// `None`) loses a node's rooms with the node, as a single process does.
pub trait FailoverStore: Send + Sync + 'static {
    /// Writes room `id`'s state blob if `node` owns it at `epoch` (its
    /// lease record says so); answers whether it was written. The store
    /// keeps a state for its configured time past its last write.
    fn save_room(
        &self,
        id: &str,
        node: &str,
        epoch: u64,
        state: Bytes,
    ) -> BoxFuture<'static, Result<bool, BackendError>>;

    /// Ends `node`'s lease of room `id` at `epoch` now, keeping its state,
    /// so another node claims it (a drain). Answers whether it was released.
    fn release(&self, id: &str, node: &str, epoch: u64) -> BoxFuture<'static, Result<bool, BackendError>>;

    /// Like [`FailoverStore::release`], without telling the other nodes to
    /// claim at once: a claimed room this node cannot rebuild goes back to
    /// the regular scans (a room no node can rebuild is not passed around
    /// ten times a second).
    fn release_quietly(&self, id: &str, node: &str, epoch: u64) -> BoxFuture<'static, Result<bool, BackendError>>;

    /// Claims, for `node` with a lease of `lease`, the orphaned rooms of
    /// one lost owner (at most `max`). Each claim is fenced: epoch + 1, so
    /// the old owner's writes are refused from now on.
    fn claim(
        &self,
        node: &NodeInfo,
        lease: Duration,
        max: usize,
    ) -> BoxFuture<'static, Result<Vec<Claimed>, BackendError>>;

    /// Whether a node released rooms for others to claim (a drain) since
    /// the last claim that left no orphan: one cheap read, polled often.
    fn handover_pending(&self) -> BoxFuture<'static, Result<bool, BackendError>>;

    /// Applies `ops` in order, in one round trip.
    fn write_sessions(&self, ops: Vec<SessionOp>) -> BoxFuture<'static, Result<(), BackendError>>;

    /// The sessions of `keys` that are still recorded, with their frames.
    fn load_sessions(&self, keys: Vec<String>) -> BoxFuture<'static, Result<Vec<StoredSession>, BackendError>>;

    /// Session `key` as the store knows it: `None` without a record (it
    /// was never in a room, or has ended); else where it is held now, if a
    /// node took it over.
    fn session_holder(&self, key: &str) -> BoxFuture<'static, Result<Option<Option<String>>, BackendError>>;
}

/// The store key of the session numbered `id` on the node with token tag
/// `node` (what its resume token names).
pub fn session_key(node: u64, id: u64) -> String {
    format!("{node:016x}-{id:x}")
}
