//! Sessions: what survives a dropped connection.
//!
//! A session is created with each connection (`Welcome` names it and hands
//! out a resume token). It owns what the client is part of — its room seats,
//! its pending joins, the [`Outbox`] rooms write to and the [`ReplayLog`] of
//! reliable messages written — so that a connection is only the socket
//! currently attached to it. When a connection is lost (no close frame, a
//! heartbeat timeout, or a close with any code but 1000), its session is
//! *parked*: rooms see the client as disconnected (`Room::on_disconnect`)
//! and keep its seat for their reconnect window, the outbox keeps collecting
//! within the replay bound, and a `Resume` with the token on a new
//! connection takes the session over — the missed reliable messages are
//! replayed in order, then states flow again. A session whose window passes
//! ends: rooms see the client leave.
//!
//! Who may touch a session is decided by one field, `owner` (the attached
//! connection), under the session's lock: a connection that lost ownership
//! (a second connection resumed the same session) stops draining at once.
//!
//! Parking is bounded ([`ParkingQuota`]): per client address, per user and
//! in all; a session in no room parks only for `roomless_window`, and is the
//! first to give way to another at a cap.
//!
//! Lock order: the session map, then a session's state, then its outbox or
//! the parking quota (a leaf: nothing is locked while it is held); rooms
//! only ever take the outbox lock. Never two sessions' states at once: a
//! session that evicts another decides under its own lock, drops it, then
//! ends the other under that one's lock.

mod adoption;
#[cfg(test)]
mod adoption_tests;
mod config;
mod durable;
mod outbox;
mod parking;
mod registry;
mod replay;
mod room_port;
mod state_acks;
#[cfg(test)]
mod tests;
mod token;
mod users;

pub use config::SessionConfig;
pub use durable::{DurableIds, DurableLog, SessionRecord};
pub use outbox::{ConnEvent, DrainBuffers, Drained, Leave, OutItem, Outbox, OutboxLimits, ParkLimits, Push, StateView};
pub use parking::{Admission, Cap, Claim, Eviction, ParkingLimits, ParkingQuota};
pub use registry::{ResumeError, Resumption, Sessions};
pub use replay::{Replay, ReplayLog};
pub use room_port::{
    CapturedState, InputError, InspectedClient, JoinRequest, LeaveReason, Options, Persister, RawInput, RoomHandle,
    RoomInspection, RoomPort,
};
pub use state_acks::{StateAck, StateAcks};
pub use token::{Claims, TokenError, TokenSigner};
pub use users::TooManySessions;

use crate::protocol::RoomId;
use crate::protocol::{ClientId, ConnId, SessionId};
use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// One client's session.
pub struct Session {
    id: SessionId,
    name: String,
    nonce: u64,
    /// The subprotocol token the session speaks ("" in tests: any). Room
    /// frames are encoded for it, so only a connection that negotiated the
    /// same token can resume it.
    protocol: String,
    /// The client address of the connection that opened it (what parking
    /// is bounded by; a resume from elsewhere does not move it).
    address: Option<IpAddr>,
    outbox: Arc<Outbox>,
    state: Mutex<SessionState>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("id", &self.id).field("name", &self.name).finish_non_exhaustive()
    }
}

/// What a session is part of; changed only by its owner, under its lock.
#[derive(Debug)]
pub struct SessionState {
    /// The connection attached to the session (`None`: parked or ended).
    pub(crate) owner: Option<ConnId>,
    /// While parked: until when, and its place in the parking quota.
    pub(crate) parked: Option<Parked>,
    /// The session is over; it cannot be resumed.
    pub(crate) ended: bool,
    /// Rooms joined: the handle and the client's id in the room.
    pub rooms: HashMap<RoomId, (Arc<RoomHandle>, ClientId)>,
    /// Joins sent to a room and not answered yet, by request id.
    pub pending: HashMap<u32, Arc<RoomHandle>>,
    /// Reliable frames written and not acknowledged.
    pub log: ReplayLog,
    /// The authenticated user the session belongs to: only that user may
    /// resume it.
    pub user: Option<String>,
    /// Counted against the user's session cap (from its first join on).
    pub(crate) counted: bool,
    /// The generation of the session's current resume token: 0 for the
    /// token in `Welcome`, bumped for each token handed out in `Resumed`.
    /// Only a token of the current generation resumes the session.
    pub(crate) token_generation: u64,
    /// Where the session's durable copy lives (a cluster node with a
    /// failover store, from the session's first seat on).
    pub(crate) durable: Option<DurableIds>,
    /// Taken over from a lost node (its token's node tag and session
    /// number): until its first resume here, a client may hold frames the
    /// store never got.
    pub(crate) adopted: Option<(u64, u64)>,
    /// The (node tag, number) of every earlier incarnation of a session
    /// this one took over — the lost node's, and those of the nodes that
    /// had taken it over before, when it moved more than once before its
    /// client came back — for as long as it lives: tokens of any of them
    /// find it by that.
    pub(crate) aliases: Vec<(u64, u64)>,
}

/// One parking of a session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parked {
    /// When it ends if nobody resumes it.
    pub(crate) until: Instant,
    /// Its ticket in the [`ParkingQuota`].
    pub(crate) ticket: u64,
}

impl Session {
    /// The numeric id (the outbox id rooms know the client by).
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The id the client sees in `Welcome` / `Resumed`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The client address it was opened from, if known.
    pub fn address(&self) -> Option<IpAddr> {
        self.address
    }

    /// Where rooms write to this session.
    pub fn outbox(&self) -> &Arc<Outbox> {
        &self.outbox
    }

    /// The session's state, if connection `conn` owns it (else `None`: the
    /// session was taken over by another connection, or has ended).
    pub fn owned_by(&self, conn: ConnId) -> Option<MutexGuard<'_, SessionState>> {
        let st = self.state.lock();
        (st.owner == Some(conn)).then_some(st)
    }

    /// Whether the session is parked (no connection attached, resumable).
    pub fn is_parked(&self) -> bool {
        let st = self.state.lock();
        st.owner.is_none() && !st.ended
    }
}
