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
use futures_util::future::BoxFuture;
use std::net::IpAddr;
use std::sync::Arc;

/// Where matchmaking put a client.
pub enum Placement {
    /// A seat is reserved in a room of this server.
    Here(Arc<RoomHandle>),
    /// The room lives on another node of the cluster: the client is sent
    /// there with a `Redirect`.
    Elsewhere(Elsewhere),
    /// The answer needs the cluster store; it resolves to `Here` or
    /// `Elsewhere` (the connection keeps serving meanwhile).
    Later(BoxFuture<'static, Result<Placement, Refusal>>),
}

impl std::fmt::Debug for Placement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Placement::Here(h) => f.debug_tuple("Here").field(&h.id).finish(),
            Placement::Elsewhere(e) => f.debug_tuple("Elsewhere").field(e).finish(),
            Placement::Later(_) => f.write_str("Later(..)"),
        }
    }
}

/// A seat held in a room of another node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elsewhere {
    /// The room's id.
    pub room: String,
    /// Where its node is reached.
    pub url: String,
    /// The held seat, for the client's `Join` there.
    pub reservation: String,
}

/// Where a session of another node's token is now (see
/// [`Matchmaker::locate_session`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionPlace {
    /// This node took it over: resume it here.
    Here,
    /// The node at this URL holds it.
    There(String),
    /// Nobody holds it any more.
    Unknown,
}

/// Who asks for a seat: what create budgets are counted by and what
/// authorization hooks see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Creator {
    /// The session's id.
    pub session: SessionId,
    /// The client's address (`None`: unknown, counted by session only).
    pub address: Option<IpAddr>,
    /// The connection holds no room and no join here, so it may be sent to
    /// another node (a join-or-create never redirects one that does).
    pub movable: bool,
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

/// Reserves seats in rooms. Every method places the client: a room of this
/// server with one seat reserved for the caller, who then sends its join
/// (or gives the seat back with [`RoomHandle::unreserve`]), or a room of
/// another node, or an answer that comes later.
pub trait Matchmaker: Send + Sync {
    /// A seat in room `room`, for `user`.
    fn join(&self, room: &str, user: Option<&str>, options: &Options) -> Result<Placement, Refusal>;
    /// A seat in an open room of `room_type` (not one `skip` names), or in a
    /// new one made for `who`.
    fn join_or_create(
        &self,
        room_type: &str,
        user: Option<&str>,
        options: &Options,
        who: &Creator,
        skip: &dyn Fn(&str) -> bool,
    ) -> Result<Placement, Refusal>;
    /// A seat in a new room of `room_type`, made for `who`.
    fn create(
        &self,
        room_type: &str,
        user: Option<&str>,
        options: &Options,
        who: &Creator,
    ) -> Result<Placement, Refusal>;

    /// A redirected client's join (with `reservation`) got its seat in
    /// `room` here: the seat held for it in the cluster store is used.
    fn seat_used(&self, room: &str, reservation: &str) {
        let _ = (room, reservation);
    }

    /// Where the node with token tag `node` is reached, if it is a live node
    /// of this cluster (a resume token of another node is sent there).
    fn session_node(&self, node: u64) -> Option<String> {
        let _ = node;
        None
    }

    /// Where the session numbered `id` of the node with token tag `node`
    /// is now, found through the cluster's failover store (it may wait for
    /// a lost node's rooms to be claimed). `None`: there is no failover
    /// store; [`Matchmaker::session_node`] is all there is to know.
    fn locate_session(&self, node: u64, id: u64) -> Option<BoxFuture<'static, SessionPlace>> {
        let _ = (node, id);
        None
    }
}
