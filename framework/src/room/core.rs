//! [`RoomCore`]: one room as a plain struct — clients, inbox, tick clock and
//! the studio's `Room` value. The actor only feeds it messages and timer
//! wake-ups; tests drive it by hand with made-up instants.
//!
//! Every call into studio code goes through `RoomCore::call`, which catches
//! panics: a panicking room is marked crashed and never called again until
//! its shell restarts it (`recovery`: snapshots, the restart budget, the
//! rebuild).
//!
//! A room with no clients sleeps (unless its type sets `tick_when_empty`):
//! `poll` runs no tick, and the actor waits only for the empty timeout. The
//! join that wakes it restarts the tick clock at the join, so the room picks
//! up with the next tick number and no burst of catch-up ticks.
//!
//! Logs (debug): what happens to one player here — joined, join refused,
//! input dropped, away, back, kicked, left — names the player's `session`
//! (the id its `Welcome` gave) and `client`, so a search for the session
//! finds its story in the room too; the room's ids come from the actor's
//! `room` span.

use super::api::{Client, InputOf, Reject, Room, RoomType};
use super::clock::TickClock;
use super::context::{Member, RoomContext, RoomStats};
use super::events::{EventLog, RoomEvent};
use super::options::parse_options;
use crate::channels::ChannelHub;
use crate::protocol::envelope::{JoinErrorCode, LeaveReason as WireLeave};
use crate::protocol::ClientId;
use crate::protocol::{CloseCode, Schema};
use crate::protocol::{RoomId, SessionId};
use crate::session::ConnEvent;
use crate::session::{JoinRequest, Leave, LeaveReason, Options};
use recovery::Recovery;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod migration;
mod monitor;
mod presence;
mod recovery;

pub use monitor::WATCH_FOR;

/// Why a room could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    /// `on_create` refused.
    #[error("room refused to be created: {0}")]
    Rejected(Reject),
    /// `on_create` panicked.
    #[error("room panicked while being created: {0}")]
    Panicked(String),
}

/// What one poll of the clock did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    /// The tick that ran.
    pub tick: u64,
    /// How late it started.
    pub lateness: Duration,
    /// How long the inputs and `on_tick` took.
    pub duration: Duration,
    /// Ticks skipped before it.
    pub skipped: u64,
}

struct Pending<I> {
    client: ClientId,
    seq: u32,
    input: I,
}

/// One room, without any actor.
pub struct RoomCore<R: Room> {
    room: Option<R>,
    ctx: RoomContext<R>,
    clock: TickClock,
    period: Duration,
    max_clients: usize,
    empty_timeout: Duration,
    tick_when_empty: bool,
    inbox_capacity: usize,
    inbox: VecDeque<Pending<InputOf<R>>>,
    next_client: ClientId,
    empty_since: Option<Instant>,
    crashed: Option<String>,
    /// What a crash is recovered from ([`Recovery`]).
    recovery: Recovery,
    reconnect_window: Duration,
    /// No away client's reconnect window ends before this (`None`: nobody
    /// is away), so a tick walks the members for expired seats only when
    /// one may have run out. A lower bound: a client back or gone leaves it
    /// early, and the next walk sets it anew.
    away_check: Option<Instant>,
    /// What this core has reported to its shell ([`RoomEvent`]).
    events: EventLog,
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

impl<R: Room> RoomCore<R> {
    /// Lets the room's code publish on the node's channels (`ctx.publish`).
    pub(crate) fn set_channels(&mut self, hub: Option<Arc<ChannelHub>>) {
        self.ctx.channels = hub;
    }

    /// Creates the room (runs `on_create`); tick 0 is due at `now`.
    pub fn create(
        id: RoomId,
        spec: &RoomType,
        schema: Arc<Schema<R::Wire>>,
        options: &Options,
        now: Instant,
    ) -> Result<Self, CreateError> {
        let mut core = Self::blank(id, spec, schema, options, now);
        let parsed: R::Options = parse_options(options).map_err(CreateError::Rejected)?;
        let room = match catch_unwind(AssertUnwindSafe(|| R::on_create(&mut core.ctx, &parsed))) {
            Ok(Ok(room)) => room,
            Ok(Err(reject)) => return Err(CreateError::Rejected(reject)),
            Err(p) => return Err(CreateError::Panicked(panic_message(p.as_ref()))),
        };
        core.room = Some(room);
        Ok(core)
    }

    /// A core with no room value yet: `create` runs `on_create` into it,
    /// a restore on another node `Room::restore`.
    fn blank(id: RoomId, spec: &RoomType, schema: Arc<Schema<R::Wire>>, options: &Options, now: Instant) -> Self {
        // On the shared grid, a room's states leave with the tick's others.
        let (clock, leave) = if spec.aligned_ticks {
            (TickClock::on_grid(now, spec.period(), super::clock::shared_grid()), Leave::WithTheTick)
        } else {
            (TickClock::new(now, spec.period()), Leave::AtOnce)
        };
        RoomCore {
            room: None,
            ctx: RoomContext::new(id, spec.name.as_str().into(), schema, now).leaving(leave),
            clock,
            period: spec.period(),
            max_clients: spec.max_clients,
            empty_timeout: spec.empty_timeout,
            tick_when_empty: spec.tick_when_empty,
            inbox_capacity: spec.inbox_capacity,
            inbox: VecDeque::new(),
            next_client: ClientId(1),
            empty_since: Some(now),
            crashed: None,
            recovery: Recovery::new(spec, options),
            events: EventLog::default(),
            reconnect_window: spec.reconnect_window,
            away_check: None,
        }
    }

    /// Runs studio code under `catch_unwind`, then applies the kicks and
    /// stalls it caused. `None` if the room is (or just became) crashed.
    pub(super) fn call<T>(&mut self, f: impl FnOnce(&mut R, &mut RoomContext<R>) -> T) -> Option<T> {
        let room = self.room.as_mut()?;
        match catch_unwind(AssertUnwindSafe(|| f(room, &mut self.ctx))) {
            Ok(v) => {
                self.apply_removals();
                Some(v)
            }
            Err(p) => {
                let msg = panic_message(p.as_ref());
                tracing::error!(room = %self.ctx.id, room_type = %self.ctx.room_type, panic = %msg, "room panicked");
                self.room = None;
                self.crashed = Some(msg);
                None
            }
        }
    }

    fn apply_removals(&mut self) {
        // on_leave may kick more clients; each pass removes at least one.
        while !self.ctx.removals.is_empty() {
            let removals = std::mem::take(&mut self.ctx.removals);
            for (client, why, detail) in removals {
                let Some(m) = self.ctx.members.remove(&client) else { continue };
                let session = m.client.session.as_str();
                match why {
                    LeaveReason::TooSlow => {
                        tracing::debug!(session, client = client.0, "client stopped reading: closing it with 4008");
                        self.ctx.stats.slow_clients += 1;
                        m.outbox.kill(CloseCode::TooSlow, "client stopped reading");
                    }
                    LeaveReason::Kicked => {
                        tracing::debug!(session, client = client.0, reason = %detail, "client kicked");
                        m.outbox.close_with(CloseCode::Kicked, &detail, self.ctx.now)
                    }
                    _ => {}
                }
                self.left(client, Some(session), why);
            }
        }
    }

    /// Client `client` (of `session`, if still known) has left: `on_leave`.
    fn left(&mut self, client: ClientId, session: Option<&str>, why: LeaveReason) {
        tracing::debug!(session, client = client.0, why = ?why, "client left");
        if self.ctx.members.is_empty() {
            self.empty_since = Some(self.ctx.now);
        }
        if let Some(room) = self.room.as_mut() {
            if catch_unwind(AssertUnwindSafe(|| room.on_leave(&mut self.ctx, client, why))).is_err() {
                self.room = None;
                self.crashed = Some("panic in on_leave".to_string());
            }
        }
    }

    /// A client asks to join. Answers it through its outbox (Joined or
    /// JoinError) and returns its id if accepted.
    pub fn join(&mut self, req: JoinRequest, now: Instant) -> Option<ClientId> {
        self.ctx.now = now;
        let waking = self.is_sleeping();
        let refuse = |code: JoinErrorCode, reason: String| ConnEvent::JoinFailed { request: req.request, code, reason };
        let refusal = if self.crashed.is_some() {
            Some(refuse(JoinErrorCode::Internal, "room crashed".into()))
        } else if self.room.is_none() {
            // Disposed (empty, shut down, or its lease was lost) while this
            // join was on its way.
            Some(refuse(JoinErrorCode::RoomNotFound, "room is gone".into()))
        } else if self.ctx.locked {
            Some(refuse(JoinErrorCode::RoomLocked, "room is locked".into()))
        } else if self.ctx.members.len() >= self.max_clients {
            Some(refuse(JoinErrorCode::RoomFull, "room full".into()))
        } else if self.ctx.members.values().any(|m| m.outbox.id() == req.outbox.id()) {
            Some(refuse(JoinErrorCode::AlreadyJoined, "already in this room".into()))
        } else {
            None
        };
        if let Some(ev) = refusal {
            Self::refuse_join(&req, ev, now);
            return None;
        }
        let client = Client {
            id: self.next_client,
            session: req.session.clone(),
            user: req.user.clone(),
            version: req.version,
            codec: req.codec,
        };
        let parsed: R::Options = match parse_options(&req.options) {
            Ok(o) => o,
            Err(reject) => {
                Self::refuse_join(&req, refuse(JoinErrorCode::Rejected, reject.reason), now);
                return None;
            }
        };
        let verdict = self.call(|room, ctx| room.on_join(ctx, &client, &parsed));
        match verdict {
            Some(Ok(())) => {}
            Some(Err(reject)) => {
                Self::refuse_join(&req, refuse(JoinErrorCode::Rejected, reject.reason), now);
                return None;
            }
            None => {
                Self::refuse_join(&req, refuse(JoinErrorCode::Internal, "room crashed".into()), now);
                return None;
            }
        }
        let id = client.id;
        self.next_client = ClientId(id.0 + 1);
        let joined = ConnEvent::Joined { request: req.request, room: self.ctx.id.clone(), client: id };
        if req.outbox.push_event(joined, now) != crate::session::Push::Queued {
            // The connection went away while the room was deciding.
            self.left(id, Some(&req.session), LeaveReason::Disconnected);
            return None;
        }
        tracing::debug!(session = %req.session, client = id.0, clients = self.ctx.members.len() + 1, "client joined");
        let member = Member {
            client,
            outbox: req.outbox,
            last_input_seq: None,
            options: req.options,
            away_since: None,
            sent: Default::default(),
        };
        self.ctx.members.insert(id, member);
        self.empty_since = None;
        if waking {
            // The time asleep is no tick's: the next one is due now.
            self.clock.restart_at(now);
        }
        Some(id)
    }

    /// Answers a join this room refuses (and says so in the log).
    fn refuse_join(req: &JoinRequest, ev: ConnEvent, now: Instant) {
        if let ConnEvent::JoinFailed { code, reason, .. } = &ev {
            tracing::debug!(session = %req.session, code = ?code, reason = %reason, "join refused");
        }
        req.outbox.push_event(ev, now);
    }

    /// Queues an input for the next tick; false if dropped (inbox full or
    /// not a member). A client whose input is dropped for a full inbox is
    /// told which one ([`ConnEvent::InputDropped`]): a later input's ack
    /// must not pass for this one's.
    pub fn input(&mut self, client: ClientId, seq: u32, input: InputOf<R>) -> bool {
        let Some(member) = self.ctx.members.get(&client) else { return false };
        if self.inbox.len() >= self.inbox_capacity {
            self.ctx.stats.inputs_dropped += 1;
            tracing::debug!(session = %member.client.session, client = client.0, seq, "input dropped: the inbox is full");
            let dropped = ConnEvent::InputDropped { room: self.ctx.id.clone(), seq };
            member.outbox.push_event(dropped, self.ctx.now);
            return false;
        }
        self.inbox.push_back(Pending { client, seq, input });
        true
    }

    /// The connection with outbox id `conn` leaves (or dropped).
    pub fn leave_connection(&mut self, conn: SessionId, why: LeaveReason, now: Instant) {
        self.ctx.now = now;
        let ids: Vec<ClientId> =
            self.ctx.members.iter().filter(|(_, m)| m.outbox.id() == conn).map(|(id, _)| *id).collect();
        for id in ids {
            if let Some(m) = self.ctx.members.remove(&id) {
                self.left(id, Some(&m.client.session), why);
            }
        }
        self.apply_removals();
    }

    /// The timer fired: runs at most one tick (inputs first, in arrival
    /// order, then `on_tick`). `None` if no tick was due, or the room sleeps.
    pub fn poll(&mut self, now: Instant) -> Option<TickReport> {
        self.ctx.now = now;
        if self.is_sleeping() {
            // Inputs of clients that have left: no tick would take them.
            self.inbox.clear();
            return None;
        }
        let p = self.clock.poll(now);
        self.ctx.stats.ticks_skipped += p.skipped;
        let (tick, lateness) = p.run?;
        self.expire_away(now);
        self.ctx.tick = tick;
        let started = Instant::now();
        while let Some(Pending { client, seq, input }) = self.inbox.pop_front() {
            if let Some(m) = self.ctx.members.get_mut(&client) {
                // The last processed, not the largest: see protocol::input_seq.
                m.last_input_seq = Some(seq);
            } else {
                continue;
            }
            self.call(|room, ctx| room.on_input(ctx, client, seq, input))?;
        }
        let dt = self.period;
        self.call(|room, ctx| room.on_tick(ctx, dt))?;
        self.ctx.stats.ticks += 1;
        self.snapshot_if_due(tick)?;
        let report = TickReport { tick, lateness, duration: started.elapsed(), skipped: p.skipped };
        self.events.push(RoomEvent::TickRan(report));
        Some(report)
    }

    /// When the next tick is due.
    pub fn next_due(&self) -> Instant {
        self.clock.due(self.clock.next_tick())
    }

    /// Whether the room sleeps: it has no clients (none seated, none away
    /// keeping a seat) and its type does not tick when empty. A sleeping
    /// room runs no tick until a client joins.
    pub fn is_sleeping(&self) -> bool {
        !self.tick_when_empty && self.ctx.members.is_empty()
    }

    /// When the actor should call [`RoomCore::poll`] next: when the next
    /// tick is due, or, for a sleeping room, when its empty timeout runs
    /// out — never sooner than a period from `now`, so a room whose timeout
    /// passed while a join was on its way waits for it without spinning.
    pub fn next_wake(&self, now: Instant) -> Instant {
        if !self.is_sleeping() {
            return self.next_due();
        }
        let expires = self.empty_since.and_then(|t| t.checked_add(self.empty_timeout));
        // An empty timeout too long to add: look again in a day.
        let expires = expires.unwrap_or_else(|| now + Duration::from_secs(86_400));
        expires.max(now + self.period)
    }

    /// Whether the room has been empty for its empty timeout.
    pub fn idle_expired(&self, now: Instant) -> bool {
        self.ctx.members.is_empty()
            && self.empty_since.is_some_and(|t| now.saturating_duration_since(t) >= self.empty_timeout)
    }

    /// Disposes the room: `on_dispose`, then every client gets `Left`.
    pub fn dispose(&mut self, now: Instant) {
        self.ctx.now = now;
        self.call(|room, ctx| room.on_dispose(ctx));
        for (id, m) in std::mem::take(&mut self.ctx.members) {
            tracing::debug!(session = %m.client.session, client = id.0, "client left: the room is disposed");
            let ev = ConnEvent::Left { room: self.ctx.id.clone(), reason: WireLeave::Disposed, detail: String::new() };
            m.outbox.push_event(ev, now);
        }
        self.room = None;
        self.events.push(RoomEvent::Disposed);
    }

    /// Closes every client's connection (used when the room crashed).
    pub fn close_all(&mut self, code: CloseCode, reason: &str, now: Instant) {
        for (id, m) in std::mem::take(&mut self.ctx.members) {
            tracing::debug!(session = %m.client.session, client = id.0, code = code.code(), "client closed by the room");
            m.outbox.close_with(code, reason, now);
        }
    }

    /// The panic message, if studio code panicked.
    pub fn crashed(&self) -> Option<&str> {
        self.crashed.as_deref()
    }

    /// The room's counters.
    pub fn stats(&self) -> RoomStats {
        self.ctx.stats
    }

    /// The next thing this room's steps did that its shell must act on
    /// (ticks run, seats changed, a crash, disposal), each reported once.
    pub fn poll_event(&mut self) -> Option<RoomEvent> {
        let (clients, locked) = (self.ctx.members.len(), self.ctx.locked);
        self.events.poll(clients, locked, self.crashed.as_deref())
    }

    /// What the room's counters grew by since the last call (for metrics).
    pub fn take_counts(&mut self) -> RoomStats {
        self.events.counts(self.ctx.stats)
    }

    /// The room id.
    pub fn id(&self) -> &RoomId {
        &self.ctx.id
    }

    /// The last tick run (0 before the first).
    pub fn tick(&self) -> u64 {
        self.ctx.tick
    }

    /// The number of clients.
    pub fn client_count(&self) -> usize {
        self.ctx.members.len()
    }

    /// Whether the room accepts joins.
    pub fn is_locked(&self) -> bool {
        self.ctx.locked
    }

    /// The studio's room value (for tests and snapshots).
    pub fn room(&self) -> Option<&R> {
        self.room.as_ref()
    }
}
