//! [`Matchmaker`]: what a connection asks of matchmaking — a seat in a room
//! by id, in any room of a type, or in a new one — without depending on it.
//!
//! Matchmaking sits above connections and rooms (it creates rooms and
//! places them on arbiters); the connection only needs these three
//! questions answered, so it holds a `dyn Matchmaker` that the server wires
//! to the registry (and that a cluster backend can answer from a directory).

use crate::protocol::envelope::JoinErrorCode;
use crate::protocol::SessionId;
use crate::session::{Options, RoomHandle};
use std::net::IpAddr;
use std::sync::Arc;

/// Who asks for a seat: what create budgets are counted by and what
/// authorization hooks see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Creator {
    /// The session's id.
    pub session: SessionId,
    /// The client's address (`None`: unknown, counted by session only).
    pub address: Option<IpAddr>,
}

/// A seat that could not be had: the `JoinError` the client gets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    /// The `JoinErrorCode`.
    pub code: JoinErrorCode,
    /// For people.
    pub reason: String,
}

/// Reserves seats in rooms. Every method returns the room's handle with one
/// seat reserved for the caller, who then sends its join (or gives the seat
/// back with [`RoomHandle::unreserve`]).
pub trait Matchmaker: Send + Sync {
    /// A seat in room `room`, for `user`.
    fn join(&self, room: &str, user: Option<&str>, options: &Options) -> Result<Arc<RoomHandle>, Refusal>;
    /// A seat in an open room of `room_type` (not one `skip` names), or in a
    /// new one made for `who`.
    fn join_or_create(
        &self,
        room_type: &str,
        user: Option<&str>,
        options: &Options,
        who: &Creator,
        skip: &dyn Fn(&str) -> bool,
    ) -> Result<Arc<RoomHandle>, Refusal>;
    /// A seat in a new room of `room_type`, made for `who`.
    fn create(
        &self,
        room_type: &str,
        user: Option<&str>,
        options: &Options,
        who: &Creator,
    ) -> Result<Arc<RoomHandle>, Refusal>;
}
