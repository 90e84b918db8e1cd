//! A connection's outgoing queue, shared by the rooms that write to it and
//! the connection actor that drains it to the socket.
//!
//! Three classes (design §6): events and reliable frames keep their order in
//! one bounded queue; state frames are latest-wins per room (a newer state
//! replaces an unsent older one, which is counted as dropped). A connection
//! that leaves anything unsent for longer than the stall timeout, or lets the
//! reliable queue overflow, is reported `Stalled` to the writer, who closes
//! it with 4008. Memory per connection is therefore bounded by the limits,
//! whether or not the actor is being polled (actix-web#2441).
//!
//! The lock is held only to push or swap buffers: never across an await or
//! a socket write.
//!
//! An outbox belongs to a session, not to one socket: when the connection
//! drops it is *parked* (detached from any socket; no stall timeout; reliable
//! frames beyond the replay bound drop oldest-first and are counted as
//! lost), and a resuming connection attaches to it and drains what waited.
//! That life (attach, park, close, kill) is `outbox/life.rs`; this file is
//! the queue itself.

use super::state_acks::{StateAck, StateAcks};
use crate::protocol::compress::Compressing;
use crate::protocol::envelope::{JoinErrorCode, LeaveReason as WireLeaveReason};
use crate::protocol::CloseCode;
use crate::protocol::{ClientId, RoomId, SessionId};
use crate::transport::{DirectWriter, KillSwitch, Ring};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits of one outbox.
#[derive(Debug, Clone, Copy)]
pub struct OutboxLimits {
    /// Most reliable items (events and messages) waiting to be written.
    pub max_reliable: usize,
    /// Most bytes of reliable frames waiting to be written.
    pub max_reliable_bytes: usize,
    /// Longest time anything may wait unsent before the reader counts as
    /// stalled (closed with 4008).
    pub stall_timeout: Duration,
}

impl Default for OutboxLimits {
    fn default() -> Self {
        OutboxLimits { max_reliable: 1024, max_reliable_bytes: 1 << 20, stall_timeout: Duration::from_secs(30) }
    }
}

/// A per-connection event from a room, encoded by the connection itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnEvent {
    /// A join request was accepted.
    Joined {
        /// The client's join request id.
        request: u32,
        /// The room.
        room: RoomId,
        /// The client's id in the room.
        client: ClientId,
    },
    /// A join request was refused by the room.
    JoinFailed {
        /// The client's join request id.
        request: u32,
        /// Why.
        code: JoinErrorCode,
        /// For people.
        reason: String,
    },
    /// The room removed the client.
    Left {
        /// The room.
        room: RoomId,
        /// Why.
        reason: WireLeaveReason,
        /// For people.
        detail: String,
    },
    /// The room's inbox was full: the input with this seq was dropped,
    /// never processed (the client gets `Error{1013}` naming it).
    InputDropped {
        /// The room.
        room: RoomId,
        /// The dropped input's seq.
        seq: u32,
    },
    /// The server is shutting down: write the `Shutdown` notice (a close
    /// 1001 follows it once the rooms have shut down).
    Shutdown {
        /// How long the client should wait before reconnecting.
        reconnect_after_ms: u32,
        /// Where the client's rooms went (a draining cluster node handed
        /// them over); empty: wherever its URL list leads.
        url: String,
    },
    /// Close the connection.
    Close {
        /// The close code.
        code: CloseCode,
        /// For people.
        reason: String,
    },
}

/// One item of the reliable queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutItem {
    /// An event to encode.
    Event(ConnEvent),
    /// A frame encoded by a room (shared with the rest of its group).
    Frame(Bytes),
}

/// What happened to a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Queued.
    Queued,
    /// Queued, replacing an unsent older state of the same room.
    Replaced,
    /// The reader is stalled: the writer should close it with 4008.
    Stalled,
    /// The connection is closed; nothing was queued.
    Closed,
    /// Not queued: written to the socket at once (a state, by a room on
    /// the socket's thread, with nothing else waiting).
    Sent,
}

/// How a state may leave for its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leave {
    /// Written to the socket at once when it can be (a room on the
    /// socket's thread, nothing else waiting), queued otherwise.
    AtOnce,
    /// Always queued, to leave with what else the connection gets this
    /// tick: the states of rooms on the shared tick grid
    /// (`RoomType::aligned_ticks`), whose point is one write per tick for
    /// a player in several of them.
    WithTheTick,
}

/// Everything that was waiting, taken by the connection actor.
#[derive(Debug, Default)]
pub struct Drained {
    /// Events and reliable frames, in order.
    pub reliable: VecDeque<OutItem>,
    /// The latest state frame of each room.
    pub states: Vec<Bytes>,
}

/// Reusable buffers for [`Outbox::drain_into`], owned by the connection.
#[derive(Debug, Default)]
pub struct DrainBuffers {
    /// Events and reliable frames, in order.
    pub reliable: VecDeque<OutItem>,
    /// The latest state frame of each room.
    pub states: Vec<(RoomId, Bytes)>,
}

/// Bounds of a parked outbox (the session's replay bounds).
#[derive(Debug, Clone, Copy)]
pub struct ParkLimits {
    /// Most reliable frames kept while parked.
    pub max_frames: usize,
    /// Most bytes of reliable frames kept while parked.
    pub max_bytes: usize,
}

struct Attachment {
    waker: Arc<dyn Ring>,
    kill: Option<KillSwitch>,
    /// Writes a state to the socket at once, from the socket's thread,
    /// when nothing waits here (see [`Outbox::push_state`]).
    direct: Option<DirectWriter>,
}

#[derive(Default)]
struct Inner {
    reliable: VecDeque<OutItem>,
    reliable_bytes: usize,
    states: Vec<(RoomId, Bytes)>,
    pending_since: Option<Instant>,
    closed: bool,
    /// Set by `kill`; taken by whoever reports the close (see `take_killed`).
    killed: Option<CloseCode>,
    /// The socket draining this outbox, if any.
    attachment: Option<Attachment>,
    /// Set while parked (no socket).
    parked: Option<ParkLimits>,
    /// Reliable frames dropped while parked, since the last `take_lost`.
    lost: u64,
    /// The states the client holds, for deltas.
    state_acks: StateAcks,
    /// The compression the attached connection asked for at its handshake.
    compression: Option<Compressing>,
    /// The rooms whose waiting state was made for the attached connection
    /// only: a delta against what its client holds, or compressed because
    /// it asked (dropped when a new connection attaches).
    bound_rooms: Vec<RoomId>,
}

/// What a room needs to know to make a client's next state: the state the
/// client acknowledged, the compression its connection asked for, and the
/// generation (connection) both belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateView {
    /// The newest state of the room the client acknowledged, if any.
    pub ack: Option<StateAck>,
    /// The compression the client's connection asked for.
    pub compression: Option<Compressing>,
    /// Changes with every connection that attaches: a frame made for one
    /// generation is refused once another attached
    /// ([`Outbox::push_bound_state`]).
    pub generation: u64,
}

/// The outgoing queue of one session.
pub struct Outbox {
    id: SessionId,
    inner: Mutex<Inner>,
    limits: OutboxLimits,
    wake_pending: AtomicBool,
    /// The attached connection's smoothed RTT in microseconds (0: not
    /// measured yet), published by the connection so that rooms, and the
    /// monitor through them, can show it without reaching the transport.
    rtt_micros: AtomicU64,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox").field("id", &self.id).finish_non_exhaustive()
    }
}

impl Outbox {
    /// A new outbox for session `id`, attached to no socket yet.
    pub fn new(id: SessionId, limits: OutboxLimits) -> Self {
        Outbox {
            id,
            inner: Mutex::new(Inner::default()),
            limits,
            wake_pending: AtomicBool::new(false),
            rtt_micros: AtomicU64::new(0),
        }
    }

    /// Publishes the attached connection's RTT (the transport's heartbeat
    /// estimate); `None` leaves the last one.
    pub fn set_rtt(&self, rtt: Option<Duration>) {
        if let Some(rtt) = rtt {
            let micros = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX).max(1);
            self.rtt_micros.store(micros, Ordering::Relaxed);
        }
    }

    /// The last RTT a connection of this session measured, if any.
    pub fn rtt(&self) -> Option<Duration> {
        match self.rtt_micros.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// The session id (rooms know their members by it).
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Records the client's `StateAck` of `room` (see [`StateAcks::ack`]).
    pub fn ack_state(&self, room: &RoomId, tick: u64, seated: impl Fn(&RoomId) -> bool) {
        self.inner.lock().state_acks.ack(room, tick, seated);
    }

    /// The acknowledged state of `room`, the compression and the
    /// generation of the attached connection, under one lock.
    pub fn state_view(&self, room: &RoomId) -> StateView {
        let inner = self.inner.lock();
        StateView {
            ack: inner.state_acks.get(room),
            compression: inner.compression,
            generation: inner.state_acks.generation(),
        }
    }

    /// The state of `room` the client holds, if it acknowledged one.
    pub fn state_ack(&self, room: &RoomId) -> Option<StateAck> {
        self.inner.lock().state_acks.get(room)
    }

    /// The waker to call after a push, if a wake-up is not already pending.
    fn waker_for_push(&self, inner: &Inner) -> Option<Arc<dyn Ring>> {
        if self.wake_pending.load(Ordering::Acquire) {
            return None;
        }
        inner.attachment.as_ref().map(|a| a.waker.clone())
    }

    fn wake(&self, waker: Option<Arc<dyn Ring>>) {
        let Some(w) = waker else { return };
        if !self.wake_pending.swap(true, Ordering::AcqRel) && !w.ring() {
            self.wake_pending.store(false, Ordering::Release);
        }
    }

    fn stalled(&self, inner: &Inner, now: Instant) -> bool {
        inner.parked.is_none() && self.stalled_attached(inner, now)
    }

    fn stalled_attached(&self, inner: &Inner, now: Instant) -> bool {
        inner.reliable.len() >= self.limits.max_reliable
            || inner.reliable_bytes >= self.limits.max_reliable_bytes
            || inner.pending_since.is_some_and(|t| now.saturating_duration_since(t) >= self.limits.stall_timeout)
    }

    /// Queues a reliable frame.
    pub fn push_frame(&self, frame: Bytes, now: Instant) -> Push {
        self.push_reliable(OutItem::Frame(frame), now)
    }

    /// Queues an event (join results, leaves, close).
    pub fn push_event(&self, event: ConnEvent, now: Instant) -> Push {
        self.push_reliable(OutItem::Event(event), now)
    }

    fn push_reliable(&self, item: OutItem, now: Instant) -> Push {
        let waker = {
            let mut inner = self.inner.lock();
            if inner.closed {
                return Push::Closed;
            }
            if self.stalled(&inner, now) {
                return Push::Stalled;
            }
            if let OutItem::Frame(f) = &item {
                inner.reliable_bytes += f.len();
            }
            inner.reliable.push_back(item);
            if inner.parked.is_some() {
                Self::trim_parked(&mut inner);
            } else {
                inner.pending_since.get_or_insert(now);
            }
            self.waker_for_push(&inner)
        };
        self.wake(waker);
        Push::Queued
    }

    /// Queues the latest state of `room`, replacing an unsent older one; or,
    /// when nothing waits and the caller is on the socket's thread, writes
    /// it to the socket at once ([`Push::Sent`]).
    pub fn push_state(&self, room: &RoomId, frame: Bytes, now: Instant) -> Push {
        self.push_state_frame(room, frame, None, Leave::AtOnce, now)
    }

    /// Queues the latest state of `room` as a delta against the client's
    /// acknowledged state `against`. Dropped (`Replaced`) if a new
    /// connection has taken the session over since that ack: the client
    /// there does not hold the baseline.
    pub fn push_delta_state(&self, room: &RoomId, frame: Bytes, against: StateAck, now: Instant) -> Push {
        self.push_state_frame(room, frame, Some(against.generation), Leave::AtOnce, now)
    }

    /// Queues the latest state of `room` made for the connection of
    /// `generation` only (a delta against its client's ack, or compressed
    /// as it asked; see [`Outbox::state_view`]). Dropped (`Replaced`) if
    /// another connection has taken the session over since.
    pub fn push_bound_state(&self, room: &RoomId, frame: Bytes, generation: u64, now: Instant) -> Push {
        self.push_state_frame(room, frame, Some(generation), Leave::AtOnce, now)
    }

    /// [`Outbox::push_state`] (`generation: None`) or
    /// [`Outbox::push_bound_state`], saying whether the state may be written
    /// at once ([`Leave`]).
    pub fn push_state_frame(
        &self,
        room: &RoomId,
        frame: Bytes,
        generation: Option<u64>,
        leave: Leave,
        now: Instant,
    ) -> Push {
        let (outcome, waker) = {
            let mut inner = self.inner.lock();
            if inner.closed {
                return Push::Closed;
            }
            if generation.is_some_and(|g| g != inner.state_acks.generation()) {
                return Push::Replaced;
            }
            if self.stalled(&inner, now) {
                return Push::Stalled;
            }
            // Nothing waits for the connection: a room on its socket's
            // thread writes the state at once (`transport/direct.rs`).
            let direct = inner.attachment.as_ref().and_then(|a| a.direct);
            let alone = leave == Leave::AtOnce && inner.states.is_empty() && inner.reliable.is_empty();
            if let Some(d) = direct.filter(|_| alone) {
                if d.write(&frame) {
                    return Push::Sent;
                }
            }
            if inner.parked.is_none() {
                inner.pending_since.get_or_insert(now);
            }
            let outcome = match inner.states.iter_mut().find(|(r, _)| r == room) {
                Some(slot) => {
                    slot.1 = frame;
                    Push::Replaced
                }
                None => {
                    inner.states.push((room.clone(), frame));
                    Push::Queued
                }
            };
            let marked = inner.bound_rooms.iter().position(|r| r == room);
            match (marked, generation) {
                (None, Some(_)) => inner.bound_rooms.push(room.clone()),
                (Some(i), None) => {
                    inner.bound_rooms.swap_remove(i);
                }
                _ => {}
            }
            (outcome, self.waker_for_push(&inner))
        };
        self.wake(waker);
        outcome
    }

    /// Takes everything waiting (tests and tools; the connection actor uses
    /// [`Outbox::drain_into`], which allocates nothing in steady state).
    pub fn drain(&self) -> Drained {
        let mut buf = DrainBuffers::default();
        self.drain_into(&mut buf);
        Drained { reliable: buf.reliable, states: buf.states.into_iter().map(|(_, f)| f).collect() }
    }

    /// The connection's drain when only states wait: swaps them into `buf`
    /// (emptied by the caller) and returns true if nothing reliable waits
    /// and the attachment is still of `generation` (what
    /// [`Outbox::attach_with`] returned). Otherwise takes nothing and
    /// returns false: the caller drains with [`Outbox::drain_into`] under
    /// the session's lock, which reliable frames need (they are numbered
    /// and logged) and states do not (each is the latest, whoever takes
    /// it), so a tick's states are drained without that second lock.
    pub fn drain_states_into(&self, generation: u64, buf: &mut DrainBuffers) -> bool {
        debug_assert!(buf.reliable.is_empty() && buf.states.is_empty());
        let mut inner = self.inner.lock();
        let mine = inner.attachment.is_some() && inner.state_acks.generation() == generation;
        if !mine || !inner.reliable.is_empty() {
            return false;
        }
        self.take_into(&mut inner, buf);
        true
    }

    /// Swaps everything waiting into `buf`, which must have been emptied by
    /// the caller (its capacity is kept and handed back to the outbox, so a
    /// connection that drains every tick allocates nothing).
    pub fn drain_into(&self, buf: &mut DrainBuffers) {
        debug_assert!(buf.reliable.is_empty() && buf.states.is_empty());
        let mut inner = self.inner.lock();
        self.take_into(&mut inner, buf);
    }

    /// Swaps what waits into `buf` and re-arms the wake-up (the next push
    /// rings again), under the lock the caller holds.
    fn take_into(&self, inner: &mut Inner, buf: &mut DrainBuffers) {
        self.wake_pending.store(false, Ordering::Release);
        inner.pending_since = None;
        inner.reliable_bytes = 0;
        std::mem::swap(&mut inner.reliable, &mut buf.reliable);
        std::mem::swap(&mut inner.states, &mut buf.states);
        inner.bound_rooms.clear();
    }
}

mod life;
#[cfg(test)]
mod tests;
