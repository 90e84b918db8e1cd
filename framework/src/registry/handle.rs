//! [`RoomHandle`]: what the rest of the server holds of a room — its id,
//! type, seat bookkeeping, and a type-erased port to its actor.
//!
//! Seats are reserved here, before a join request reaches the room, so two
//! join-or-create requests racing for the last seat cannot both be sent to
//! the same room; the room's actor syncs the real count after each step.

use crate::connection::RoomId;
use crate::protocol::envelope::JoinErrorCode;
use crate::protocol::{Codec, CodecError, Schema};
use crate::room::shutdown::ShutdownMsg;
use crate::room::{ClientId, JoinRequest, LeaveReason, Room, RoomActor};
use crate::room::{DisposeMsg, InputMsg, JoinMsg, LeaveMsg, PresenceMsg};
use actix::Addr;
use futures_util::future::BoxFuture;
use parking_lot::Mutex;
use std::sync::{Arc, OnceLock};

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

/// The type-erased way into a room actor.
pub(crate) trait RoomPort: Send + Sync {
    fn join(&self, req: JoinRequest);
    fn input(&self, input: RawInput<'_>) -> Result<(), InputError>;
    fn leave(&self, session: u64, why: LeaveReason);
    /// The session's connection was lost (`back`: it resumed).
    fn presence(&self, session: u64, back: bool);
    fn away(&self, session: u64) {
        self.presence(session, false)
    }
    fn back(&self, session: u64) {
        self.presence(session, true)
    }
    fn dispose(&self);
    /// Server shutdown: the room runs what its mailbox holds before this,
    /// then `on_shutdown`, and is disposed. Resolves when it is done (or gone).
    fn shutdown(&self) -> BoxFuture<'static, ()>;
}

pub(crate) struct TypedPort<R: Room> {
    pub(crate) addr: Addr<RoomActor<R>>,
    pub(crate) schema: Arc<Schema<R::Input, R::Output>>,
}

impl<R: Room> RoomPort for TypedPort<R> {
    fn join(&self, req: JoinRequest) {
        // Joins are bounded by connections (one pending per request, few
        // rooms per connection), so they may pass the input bound.
        self.addr.do_send(JoinMsg(req));
    }

    fn input(&self, raw: RawInput<'_>) -> Result<(), InputError> {
        // Decoded here, on the connection's thread, so a bad payload is
        // answered at once and the room's thread only sees valid inputs.
        let input = self.schema.decode_input(raw.version, raw.codec, raw.payload)?;
        R::authorize_input(raw.user, &input).map_err(|r| InputError::Forbidden(r.reason))?;
        let (client, seq) = (raw.client, raw.seq);
        self.addr.try_send(InputMsg { client, seq, input }).map_err(|e| match e {
            actix::dev::SendError::Full(_) => InputError::Busy,
            actix::dev::SendError::Closed(_) => InputError::Gone,
        })
    }

    fn leave(&self, session: u64, why: LeaveReason) {
        self.addr.do_send(LeaveMsg { conn: session, why });
    }

    fn presence(&self, session: u64, back: bool) {
        // Bounded like leaves: one per session per connection loss.
        self.addr.do_send(PresenceMsg { session, back });
    }

    fn dispose(&self) {
        self.addr.do_send(DisposeMsg);
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        // `send` queues behind everything already in the mailbox (it waits
        // for room if the mailbox is full rather than skipping the bound).
        let request = self.addr.send(ShutdownMsg);
        Box::pin(async move {
            let _ = request.await;
        })
    }
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
        }
    }

    pub(crate) fn set_port(&self, port: Box<dyn RoomPort>) {
        let _ = self.port.set(port);
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
    pub(crate) fn unreserve(&self) {
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
