//! The ids the protocol names things by, in one place so every layer (and
//! every client) means the same thing by them.

use std::sync::Arc;

/// A room's id: 10 characters of `[a-km-zA-HJ-NP-Z2-9]` (`Joined.room`).
/// Shared, cheap to clone: every seat, frame and event of the room names it.
pub type RoomId = Arc<str>;

/// A client's id within one room (`Joined.client`): dense, from 1, never
/// reused within the room; the player's own entity id in arena.
pub type ClientId = u32;
