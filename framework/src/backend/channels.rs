//! The channel part of the storage layer: per-channel offsets, epochs and
//! bounded history, presence with expiring entries, and a feed of every
//! publication and presence change made on any node.
//!
//! The model is Centrifugo's. One publish is one atomic step: the channel's
//! offset goes up by one, the publication goes into the channel's history
//! (bounded by count and age), and it is handed to every node stamped with
//! its offset and the channel's **epoch**. The epoch is a random string made
//! with the channel's history; a history that was lost (Redis restarted, the
//! channel idle past its metadata's lifetime) comes back under a new epoch,
//! so a client that recovers with the old one learns that it cannot be told
//! what it missed.
//!
//! Channel names reach this layer already checked (the channel hub checks
//! them: dot-separated segments of `[A-Za-z0-9_-]`, at most 128 bytes), so
//! they are safe inside key names.

use super::BackendError;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// How much history a channel keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// Most publications kept (0: no history; recovery then works only
    /// when nothing was missed).
    pub size: usize,
    /// Publications older than this are dropped.
    pub age: Duration,
}

impl Default for HistoryLimits {
    /// 100 publications, 5 minutes.
    fn default() -> Self {
        HistoryLimits { size: 100, age: Duration::from_secs(300) }
    }
}

/// Where a channel's stream stands: the last offset handed out and the
/// epoch of its history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Position {
    /// The last publication's offset (0: none yet).
    pub offset: u64,
    /// The epoch of the channel's history.
    pub epoch: String,
}

/// One publication on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// The concrete channel name.
    pub channel: String,
    /// Its offset in the channel (1, 2, 3, … within one epoch).
    pub offset: u64,
    /// The channel's epoch when it was published.
    pub epoch: String,
    /// The payload, opaque to Playhouse.
    pub payload: Bytes,
    /// Who published it (a session name or user; empty for room code).
    pub publisher: String,
}

/// The answer to [`ChannelStore::history`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// The publications after the asked offset, in order (empty when the
    /// epoch differs: those offsets mean nothing in the new epoch).
    pub publications: Vec<Publication>,
    /// True only when `publications` is everything published after the
    /// asked offset: the epoch is the same and the history still reaches
    /// back to the offset after the asked one.
    pub recovered: bool,
    /// Where the channel stands now.
    pub position: Position,
}

/// Something every node hears about (see [`ChannelStore::listen`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A publication.
    Publication(Publication),
    /// Members joined or left a channel's presence.
    Presence {
        /// The channel.
        channel: String,
        /// Who joined.
        joined: Vec<String>,
        /// Who left (or whose entry expired).
        left: Vec<String>,
    },
}

/// Where a node hears every [`Notice`]; called on the store's own task,
/// so it must not block.
pub type NoticeSink = Arc<dyn Fn(Notice) + Send + Sync>;

/// Channels, shared by every node of a cluster (or by one process).
pub trait ChannelStore: Send + Sync + 'static {
    /// Publishes `payload` on `channel` (a concrete name) as `publisher`:
    /// offset + 1, into the history within `limits`, to every node.
    /// Answers the publication's position.
    fn publish(
        &self,
        channel: &str,
        payload: Bytes,
        publisher: &str,
        limits: HistoryLimits,
    ) -> BoxFuture<'static, Result<Position, BackendError>>;

    /// Where `channel` stands, and (with `since`) what was published after
    /// `since.offset` if `since.epoch` is still the channel's. A channel
    /// never published on gets an epoch here.
    fn history(
        &self,
        channel: &str,
        since: Option<Position>,
        limits: HistoryLimits,
    ) -> BoxFuture<'static, Result<History, BackendError>>;

    /// Adds `member` to `channel`'s presence for `ttl` (the node refreshes
    /// it with [`ChannelStore::presence_refresh`]); a member that was not
    /// there is announced as joined to every node. Answers the members now.
    fn presence_join(
        &self,
        channel: &str,
        member: &str,
        ttl: Duration,
    ) -> BoxFuture<'static, Result<Vec<String>, BackendError>>;

    /// Removes `member` from `channel`'s presence (announced as left).
    fn presence_leave(&self, channel: &str, member: &str) -> BoxFuture<'static, Result<(), BackendError>>;

    /// Extends this node's presence entries (channel, member) for another
    /// `ttl`, and drops the expired entries of those channels (a dead
    /// node's), announcing them as left.
    fn presence_refresh(
        &self,
        entries: Vec<(String, String)>,
        ttl: Duration,
    ) -> BoxFuture<'static, Result<(), BackendError>>;

    /// Hands every publication and presence change made on any node
    /// (this one included) to `sink`, from now on. Called once per node.
    fn listen(&self, sink: NoticeSink);
}
