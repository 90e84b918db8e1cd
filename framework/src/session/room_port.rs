//! The seam between sessions and rooms: a [`RoomHandle`] is what the rest
//! of the server holds of a room — its id, type, seat bookkeeping, and a
//! type-erased [`RoomPort`] into its actor — and the requests that cross it
//! ([`JoinRequest`], [`RawInput`], [`LeaveReason`]).
//!
//! It lives at the session layer so that sessions (their seats), connections
//! (joins and inputs) and matchmaking (reservations) all hold rooms without
//! depending on the room layer above them; the room layer implements
//! [`RoomPort`] for its actor (`room::port`) and is the only code that knows
//! the studio's types.
//!
//! Seats are reserved here, before a join request reaches the room, so two
//! join-or-create requests racing for the last seat cannot both be sent to
//! the same room; the room's actor syncs the real count after each step.

use super::Outbox;
use crate::backend::Fence;
use crate::protocol::envelope::JoinErrorCode;
use crate::protocol::{ClientId, Codec, CodecError, RoomId, SessionId};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Options a client passes with join / create (`map<string,string>` on the wire).
pub type Options = HashMap<String, String>;

/// Why a client left a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaveReason {
    /// The client sent `Leave`.
    Left,
    /// The connection closed, or was lost and not resumed within the
    /// room's reconnect window.
    Disconnected,
    /// The room called `RoomContext::kick`.
    Kicked,
    /// The client stopped reading and was disconnected (close 4008).
    TooSlow,
    /// The room is being disposed.
    Disposed,
}

/// A join request for a room, with everything the room needs to seat the
/// client and write to it.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// The client's request id (echoed in Joined / JoinError).
    pub request: u32,
    /// The session id.
    pub session: String,
    /// The authenticated user.
    pub user: Option<String>,
    /// Negotiated schema version.
    pub version: u32,
    /// Negotiated codec.
    pub codec: Codec,
    /// Where to send the client's frames.
    pub outbox: Arc<Outbox>,
    /// Join options.
    pub options: Options,
}

/// Why an input was not delivered to its room.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The payload does not decode as the room's input type (close 1007).
    #[error("input payload does not decode: {0}")]
    Decode(#[from] CodecError),
    /// The room's inbox is full; the input was dropped.
    #[error("room is busy; input dropped")]
    Busy,
    /// The room is gone.
    #[error("room is gone")]
    Gone,
    /// The room type's `authorize_input` refused it (`Error{4003}`).
    #[error("input not allowed: {0}")]
    Forbidden(String),
}

/// An input as it arrives, before decoding.
#[derive(Debug, Clone, Copy)]
pub struct RawInput<'a> {
    /// The sender's id in the room.
    pub client: ClientId,
    /// The sender's input seq.
    pub seq: u32,
    /// The sender's schema version.
    pub version: u32,
    /// The sender's codec.
    pub codec: Codec,
    /// The encoded game input.
    pub payload: &'a [u8],
    /// The authenticated user.
    pub user: Option<&'a str>,
}

/// One client as a room shows it to an operator ([`RoomPort::inspect`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedClient {
    /// The client's id in the room.
    pub id: ClientId,
    /// Its session id.
    pub session: String,
    /// The authenticated user, if any.
    pub user: Option<String>,
    /// Negotiated schema version.
    pub version: u32,
    /// Negotiated codec.
    pub codec: Codec,
    /// Its connection is lost and the seat waits for a resume.
    pub away: bool,
    /// The connection's smoothed RTT (heartbeat pongs), once measured.
    pub rtt: Option<std::time::Duration>,
    /// The seq of the last input the room processed.
    pub last_input_seq: Option<u32>,
}

/// The latest state a room sent, as an operator sees it: encoded in the
/// schema's highest version as MessagePack with field names (so it reads
/// as JSON without knowing the game's types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedState {
    /// The tick that sent it.
    pub tick: u64,
    /// The schema version it is encoded in.
    pub version: u32,
    /// MessagePack, structs as maps keyed by field name.
    pub msgpack: Bytes,
    /// `None`: the room's own state (`broadcast_state`, sent to all).
    /// Otherwise the tick sent no broadcast and this is the private view
    /// (`send_state` / `send_state_to`) of these clients only, so an
    /// operator never mistakes one player's view for the room's state.
    pub view_of: Option<Vec<ClientId>>,
}

/// What a room answers [`RoomPort::inspect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInspection {
    /// The last tick run.
    pub tick: u64,
    /// Whether the room refuses joins.
    pub locked: bool,
    /// Its clients, by id.
    pub clients: Vec<InspectedClient>,
    /// The latest state it sent while being watched (`None` until a tick
    /// after the first inspection has sent one: states are captured only
    /// while someone looks, so an unwatched room pays nothing).
    pub state: Option<CapturedState>,
    /// The panic message if the room's code crashed.
    pub crashed: Option<String>,
}

/// The type-erased way into a room's actor (implemented by the room layer).
pub trait RoomPort: Send + Sync {
    /// Asks the room to seat a client (its seat is already reserved).
    fn join(&self, req: JoinRequest);
    /// Decodes and queues an input for the room's next tick.
    fn input(&self, input: RawInput<'_>) -> Result<(), InputError>;
    /// The session's client leaves the room.
    fn leave(&self, session: SessionId, why: LeaveReason);
    /// The session's connection was lost (`back`: it resumed).
    fn presence(&self, session: SessionId, back: bool);
    /// The session's connection was lost.
    fn away(&self, session: SessionId) {
        self.presence(session, false)
    }
    /// The session resumed.
    fn back(&self, session: SessionId) {
        self.presence(session, true)
    }
    /// Dispose the room now.
    fn dispose(&self);
    /// Server shutdown: the room runs what its mailbox holds before this,
    /// then `on_shutdown`, and is disposed. Resolves when it is done (or gone).
    fn shutdown(&self) -> BoxFuture<'static, ()>;
    /// A draining cluster node hands the room to another: it takes a last
    /// snapshot, stops without a word to its clients, and resolves to its
    /// portable form (the room layer's `PortableRoom`, encoded; `node`:
    /// this node's token tag). `None`: it was gone or crashed.
    fn hand_over(&self, node: u64) -> BoxFuture<'static, Option<Bytes>>;
    /// What the room shows an operator (the server's monitor); with
    /// `capture`, it also keeps the states it sends for a while (see
    /// [`RoomInspection::state`]). `None`: it is gone.
    fn inspect(&self, _capture: bool) -> BoxFuture<'static, Option<RoomInspection>> {
        Box::pin(async { None })
    }
    /// An operator removes `client`: it leaves as kicked (`on_leave` with
    /// [`LeaveReason::Kicked`]) and its connection is closed with 4005 and
    /// `reason`. Resolves to whether the client was in the room.
    fn kick(&self, _client: ClientId, _reason: String) -> BoxFuture<'static, bool> {
        Box::pin(async { false })
    }
}

/// Where a cluster node saves a room's portable form (set by cluster
/// matchmaking before the room starts): after each snapshot and each
/// change of seats the room calls `save` with it, encoded.
pub struct Persister {
    /// This node's token tag (the seats' session keys).
    pub node: u64,
    /// Takes the encoded portable room (must not block: it runs on the
    /// room's thread).
    pub save: Box<dyn Fn(Bytes) + Send + Sync>,
}

#[derive(Debug, Default)]
struct Seats {
    pending: usize,
    members: usize,
    locked: bool,
    disposing: bool,
}

/// A live room, as the registry and connections see it.
pub struct RoomHandle {
    /// The room id.
    pub id: RoomId,
    /// The room type's name.
    pub room_type: Arc<str>,
    /// Ticks per second.
    pub tick_hz: u32,
    /// Most clients.
    pub max_clients: usize,
    /// How long a disconnected client keeps its seat.
    pub reconnect_window: std::time::Duration,
    pub(crate) inbox_capacity: usize,
    seats: Mutex<Seats>,
    port: OnceLock<Box<dyn RoomPort>>,
    /// In a cluster: this node's right to run the room (its lease). None:
    /// one process, always this node's.
    fence: OnceLock<Arc<Fence>>,
    /// In a cluster with a failover store: where the room is saved.
    persister: OnceLock<Persister>,
}

impl std::fmt::Debug for RoomHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomHandle").field("id", &self.id).field("room_type", &self.room_type).finish_non_exhaustive()
    }
}

impl RoomHandle {
    pub(crate) fn new(
        id: RoomId,
        room_type: Arc<str>,
        tick_hz: u32,
        max_clients: usize,
        inbox_capacity: usize,
        reconnect_window: std::time::Duration,
    ) -> Self {
        RoomHandle {
            id,
            room_type,
            tick_hz,
            max_clients,
            reconnect_window,
            inbox_capacity,
            seats: Mutex::new(Seats::default()),
            port: OnceLock::new(),
            fence: OnceLock::new(),
            persister: OnceLock::new(),
        }
    }

    pub(crate) fn set_port(&self, port: Box<dyn RoomPort>) {
        let _ = self.port.set(port);
    }

    /// Ties the room to a lease (cluster matchmaking, before the room starts).
    pub(crate) fn set_fence(&self, fence: Arc<Fence>) {
        let _ = self.fence.set(fence);
    }

    /// Saves the room through `persister` from now on (cluster matchmaking,
    /// before the room starts).
    pub(crate) fn set_persister(&self, persister: Persister) {
        let _ = self.persister.set(persister);
    }

    /// Where the room is saved, if anywhere.
    pub(crate) fn persister(&self) -> Option<&Persister> {
        self.persister.get()
    }

    /// Whether this node may still run the room at `now`: always on one
    /// process; in a cluster, while its lease holds (see [`Fence`]).
    pub fn may_run(&self, now: std::time::Instant) -> bool {
        self.fence.get().is_none_or(|f| f.valid(now))
    }

    pub(crate) fn port(&self) -> Option<&dyn RoomPort> {
        self.port.get().map(|p| p.as_ref())
    }

    /// Reserves a seat for a join about to be sent.
    pub fn reserve(&self) -> Result<(), JoinErrorCode> {
        let mut s = self.seats.lock();
        if s.disposing {
            return Err(JoinErrorCode::RoomNotFound);
        }
        if s.locked {
            return Err(JoinErrorCode::RoomLocked);
        }
        if s.pending + s.members >= self.max_clients {
            return Err(JoinErrorCode::RoomFull);
        }
        s.pending += 1;
        Ok(())
    }

    /// Gives back a reservation whose join was never sent.
    pub fn unreserve(&self) {
        let mut s = self.seats.lock();
        s.pending = s.pending.saturating_sub(1);
    }

    /// The room decided a join (either way).
    pub(crate) fn join_decided(&self) {
        self.unreserve();
    }

    /// The room's real member count and lock state, after each step.
    pub(crate) fn sync(&self, members: usize, locked: bool) {
        let mut s = self.seats.lock();
        s.members = members;
        s.locked = locked;
    }

    /// Marks the room as going away, if it is empty (or `force`). Returns
    /// whether it is now disposing.
    pub(crate) fn begin_dispose(&self, force: bool) -> bool {
        let mut s = self.seats.lock();
        if force || (s.pending == 0 && s.members == 0) {
            s.disposing = true;
        }
        s.disposing
    }

    /// (clients, locked) as last synced.
    pub fn occupancy(&self) -> (usize, bool) {
        let s = self.seats.lock();
        (s.members, s.locked)
    }
}
