//! The ids the protocol names things by, in one place so every layer (and
//! every client) means the same thing by them.

use std::sync::Arc;

/// A room's id: 10 characters of `[a-km-zA-HJ-NP-Z2-9]` (`Joined.room`).
/// Shared, cheap to clone: every seat, frame and event of the room names it.
pub type RoomId = Arc<str>;

/// A client's id within one room (`Joined.client`): dense, from 1, never
/// reused within the room; the player's own entity id in arena.
pub type ClientId = u32;

/// A session's number within one server (the outbox id rooms know a client
/// by). Not the name a client sees (`Welcome.session`), and never a
/// connection's id: the types keep the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// A connection's number within one server (a session outlives its
/// connections; see [`SessionId`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s{}", self.0)
    }
}

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{}", self.0)
    }
}
