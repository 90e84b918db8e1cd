//! [`RoomActor`]: the actix shell around a [`RoomCore`]. It schedules the
//! next tick, feeds messages in, publishes counters, and on a panic closes
//! the room's clients with 1011 and stops. It holds no game logic.
//!
//! One wake-up at a time, asked of the arbiter's [`TickDriver`] (a thread
//! that sleeps until the earliest deadline, to the microsecond): the next
//! tick, or, while the room sleeps (empty), the end of its empty timeout. A
//! join that wakes the room asks for the tick due now, which voids the
//! sleeping wake-up (each carries a generation).
//!
//! Logs: the actor holds the room's `room` span (fields `room`,
//! `room_type`), made once with no parent — a room outlives the connection
//! whose join created it, and carries no player's ids — and entered in
//! every handler, so the tick, inputs, joins and leaves log under it.
//! Events about one player in it name the player's `session` and `client`.

use super::api::{InputOf, Room};
use super::core::RoomCore;
use super::driver::{TickDriver, TickNow, TickSlot, TickStream};
use super::events::RoomEvent;
use crate::protocol::ClientId;
use crate::protocol::CloseCode;
use crate::protocol::{RoomId, SessionId};
use crate::session::JoinRequest;
use crate::session::LeaveReason;
use crate::session::RoomHandle;
use actix::{Actor, ActorContext, Context, Handler, Message, StreamHandler, Supervised};
use std::sync::{Arc, Weak};
use std::time::Instant;

pub use crate::metrics::RoomTypeMetrics as RoomMetrics;

/// Where a room reports that it is gone, so it is no longer listed or
/// matched (the registry; a cluster directory later). The room layer
/// defines it and matchmaking implements it, so rooms never import
/// matchmaking.
pub trait RoomDirectory: Send + Sync {
    /// Room `id` has been disposed.
    fn room_gone(&self, id: &RoomId);
}

/// A join request for the room.
pub(crate) struct JoinMsg(pub JoinRequest);
impl Message for JoinMsg {
    type Result = ();
}

/// A decoded input for the room.
pub(crate) struct InputMsg<I> {
    pub client: ClientId,
    pub seq: u32,
    pub input: I,
}
impl<I: Send + 'static> Message for InputMsg<I> {
    type Result = ();
}

/// A connection leaves the room.
pub(crate) struct LeaveMsg {
    /// The session whose client leaves (a session id, not a connection id).
    pub session: SessionId,
    pub why: LeaveReason,
}
impl Message for LeaveMsg {
    type Result = ();
}

/// A session's connection was lost (`back: false`) or resumed (`back: true`).
pub(crate) struct PresenceMsg {
    pub session: SessionId,
    pub back: bool,
}
impl Message for PresenceMsg {
    type Result = ();
}

/// Hand the room to another node (a draining cluster node): last
/// snapshot, then stop without a word to the clients; answers the room's
/// portable form, encoded.
pub(crate) struct HandoverMsg {
    /// This node's token tag.
    pub node: u64,
}
impl Message for HandoverMsg {
    type Result = Option<bytes::Bytes>;
}

/// What the room shows an operator (the monitor); `None` once it is gone.
pub(crate) struct InspectMsg {
    /// Capture the states the room sends for a while (the room's page).
    pub capture: bool,
}
impl Message for InspectMsg {
    type Result = Option<crate::session::RoomInspection>;
}

/// An operator kicks a client; answers whether it was in the room.
pub(crate) struct KickMsg {
    pub client: ClientId,
    pub reason: String,
}
impl Message for KickMsg {
    type Result = bool;
}

/// Dispose the room now (server shutdown, or an operator).
pub(crate) struct DisposeMsg;
impl Message for DisposeMsg {
    type Result = ();
}

/// The actor that runs one room.
pub struct RoomActor<R: Room> {
    pub(super) core: Box<RoomCore<R>>, // boxed: actix actors must be Unpin, studio types need not be
    handle: Arc<RoomHandle>,
    directory: Weak<dyn RoomDirectory>,
    metrics: RoomMetrics,
    /// The room is gone for good (restart budget spent, or a restart
    /// failed). The actor stays inert — no timers, joins refused — until the
    /// last handle to it drops: actix's Supervisor restarts a stopped actor
    /// as long as any address is alive, so it cannot simply stop.
    dead: bool,
    /// Whether this incarnation counted itself in the `rooms` gauge.
    counted: bool,
    /// When this room is woken next: its arbiter's driver.
    driver: Arc<TickDriver>,
    /// Where the driver leaves this room's wake-ups (read as a stream).
    slot: Arc<TickSlot>,
    /// The generation of the wake-up asked for last; a `TickNow` of another
    /// is stale (the room rescheduled since).
    generation: u64,
    /// The `room` span, entered around everything the actor does.
    pub(super) span: tracing::Span,
}

impl<R: Room> RoomActor<R> {
    pub(crate) fn new(
        core: RoomCore<R>,
        handle: Arc<RoomHandle>,
        directory: Weak<dyn RoomDirectory>,
        metrics: RoomMetrics,
        driver: Arc<TickDriver>,
    ) -> Self {
        let span = tracing::info_span!(parent: None, "room", room = %handle.id, room_type = %handle.room_type);
        RoomActor {
            span,
            core: Box::new(core),
            handle,
            directory,
            metrics,
            dead: false,
            counted: false,
            driver,
            slot: Arc::default(),
            generation: 0,
        }
    }

    /// Asks the driver for a wake-up when the next tick is due (or, asleep,
    /// when the empty timeout ends); any wake-up asked for before is void.
    fn schedule(&mut self) {
        self.generation += 1;
        let at = self.core.next_wake(Instant::now());
        self.driver.at(at, self.generation, &self.slot);
    }

    /// The driver's wake-up for `asked` (a tick's deadline, or when the
    /// empty timeout runs out) arrived; it may come up to
    /// [`COALESCE`](super::driver::COALESCE) early, and then what is due at
    /// `asked` runs now.
    fn on_timer(&mut self, ctx: &mut Context<Self>, asked: Instant) {
        let now = Instant::now();
        if !self.handle.may_run(now) {
            // The lease ran out (the node stalled, or lost the cluster
            // store): another node may own the room now. Stop before
            // running a tick, so no state of this copy goes out.
            tracing::warn!(room = %self.handle.id, room_type = %self.handle.room_type, "room lease lost; stopping this copy");
            self.handle.begin_dispose(true);
            if self.handle.persister().is_some() {
                // Saved in the failover store: the room goes on where it
                // is claimed, with these clients; nothing is said to them
                // from here (the node moves them on).
                self.dead = true;
                self.core.hand_over();
                self.deregister();
                ctx.stop();
            } else {
                self.dispose(ctx);
            }
            return;
        }
        let at = now.max(asked);
        self.core.poll(at);
        if !self.after_step(ctx) {
            return;
        }
        if self.core.idle_expired(at) && self.handle.begin_dispose(false) {
            self.dispose(ctx);
            return;
        }
        self.schedule();
    }

    /// Carries out what the core's last step did (its [`RoomEvent`]s):
    /// counters and tick timings to metrics, seats to the handle; on a
    /// crash, a restart or the end. Returns false if the actor is stopping.
    fn after_step(&mut self, ctx: &mut Context<Self>) -> bool {
        let c = self.core.take_counts();
        let m = &self.metrics;
        // A counter is an atomic that every room of the type (on every
        // thread) shares: a tick adds only what it counted.
        for (counter, n) in [
            (&m.ticks, c.ticks),
            (&m.ticks_skipped, c.ticks_skipped),
            (&m.encodes, c.encodes),
            (&m.state_deltas, c.state_deltas),
            (&m.states_compressed, c.states_compressed),
            (&m.state_frames_dropped, c.states_replaced),
            (&m.inputs_dropped, c.inputs_dropped),
            (&m.slow_clients, c.slow_clients),
            (&m.restarts, c.restarts),
        ] {
            if n > 0 {
                counter.inc_by(n);
            }
        }
        let mut save = false;
        while let Some(ev) = self.core.poll_event() {
            match ev {
                RoomEvent::Snapshotted => save = true,
                RoomEvent::TickRan(r) => {
                    self.metrics.tick_lateness.observe(r.lateness.as_secs_f64());
                    self.metrics.tick_duration.observe(r.duration.as_secs_f64());
                    self.metrics.tick_totals.add(r.duration, r.lateness);
                }
                RoomEvent::SeatsChanged { clients, locked } => {
                    self.handle.sync(clients, locked);
                    save = true;
                }
                RoomEvent::Crashed(_) if !self.dead => {
                    self.metrics.panics.inc();
                    if self.core.may_restart(Instant::now()) {
                        // The Supervisor calls `restarting`, which rebuilds the
                        // room; clients stay connected and queued messages stay.
                        ctx.stop();
                    } else {
                        self.give_up("room crashed too often");
                        ctx.stop();
                    }
                    return false;
                }
                RoomEvent::Crashed(_) | RoomEvent::Disposed => {}
            }
        }
        if save && !self.dead {
            self.save();
        }
        // A crash reported by an earlier step: the actor is stopping still.
        self.dead || self.core.crashed().is_none()
    }

    /// Saves the room's portable form where its node keeps it (a cluster
    /// node with a failover store), after a snapshot or a change of seats.
    fn save(&self) {
        if let Some(p) = self.handle.persister() {
            (p.save)(self.core.portable(p.node).encode());
        }
    }

    /// The room is lost: its clients are closed with 1011 and it leaves the
    /// registry; the actor turns inert.
    fn give_up(&mut self, why: &str) {
        tracing::error!(room = %self.handle.id, room_type = %self.handle.room_type, why, "room disposed after crashing");
        self.dead = true;
        self.handle.begin_dispose(true);
        self.core.close_all(CloseCode::Internal, why, Instant::now());
        self.deregister();
    }

    fn dispose(&mut self, ctx: &mut Context<Self>) {
        // Dead first: connections still hold this actor's address, so its
        // Supervisor would otherwise restart the disposed room.
        self.dead = true;
        self.core.dispose(Instant::now());
        self.deregister();
        ctx.stop();
    }

    fn deregister(&self) {
        if let Some(d) = self.directory.upgrade() {
            d.room_gone(&self.handle.id);
        }
    }
}

impl<R: Room> Actor for RoomActor<R> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let _entered = self.span.clone().entered();
        ctx.set_mailbox_capacity(self.handle.inbox_capacity);
        // Again after each restart: a restart drops the context's streams.
        Self::add_stream(TickStream(self.slot.clone()), ctx);
        if self.dead {
            return;
        }
        self.counted = true;
        self.metrics.rooms.inc();
        tracing::info!("room started");
        self.schedule();
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        let _entered = self.span.enter();
        if std::mem::take(&mut self.counted) {
            self.metrics.rooms.dec();
        }
        tracing::info!(crashed = self.core.crashed().is_some(), "room stopped");
    }
}

impl<R: Room> Supervised for RoomActor<R> {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        let _entered = self.span.clone().entered();
        // A wake-up asked for before the crash is void: `started` asks anew.
        self.generation += 1;
        if self.dead {
            return;
        }
        match self.core.restart(Instant::now()) {
            Ok(()) => {
                tracing::warn!(room = %self.handle.id, room_type = %self.handle.room_type, "room restarted after a panic")
            }
            Err(e) => self.give_up(&format!("room could not restart: {e}")),
        }
    }
}

impl<R: Room> Handler<JoinMsg> for RoomActor<R> {
    type Result = ();

    fn handle(&mut self, msg: JoinMsg, ctx: &mut Self::Context) {
        let _entered = self.span.clone().entered();
        let sleeping = self.core.is_sleeping();
        self.core.join(msg.0, Instant::now());
        // The new member count reaches the handle (after_step syncs it)
        // before the join's reservation is given back: in between, a
        // reservation racing on another thread sees the seat taken twice
        // (one refusal too many of a seat, never a seat given twice, which
        // the room would answer with "room full").
        let running = self.after_step(ctx);
        self.handle.join_decided();
        if running && sleeping && !self.core.is_sleeping() && !self.dead {
            // Woken: the first tick is due now, not when the empty timeout ends.
            self.schedule();
        }
    }
}

impl<R: Room> Handler<InputMsg<InputOf<R>>> for RoomActor<R> {
    type Result = ();

    fn handle(&mut self, msg: InputMsg<InputOf<R>>, _ctx: &mut Self::Context) {
        // The hot path: entered by reference, no clone of the span.
        let _entered = self.span.enter();
        self.core.input(msg.client, msg.seq, msg.input);
    }
}

impl<R: Room> Handler<LeaveMsg> for RoomActor<R> {
    type Result = ();

    fn handle(&mut self, msg: LeaveMsg, ctx: &mut Self::Context) {
        let _entered = self.span.clone().entered();
        self.core.leave_connection(msg.session, msg.why, Instant::now());
        self.after_step(ctx);
    }
}

impl<R: Room> Handler<PresenceMsg> for RoomActor<R> {
    type Result = ();

    fn handle(&mut self, msg: PresenceMsg, ctx: &mut Self::Context) {
        let _entered = self.span.clone().entered();
        if self.dead {
            return;
        }
        let now = Instant::now();
        if msg.back {
            self.core.reconnected(msg.session, now);
        } else {
            self.core.disconnected(msg.session, now);
        }
        self.after_step(ctx);
    }
}

impl<R: Room> Handler<DisposeMsg> for RoomActor<R> {
    type Result = ();

    fn handle(&mut self, _: DisposeMsg, ctx: &mut Self::Context) {
        let _entered = self.span.clone().entered();
        self.handle.begin_dispose(true);
        self.dispose(ctx);
    }
}

impl<R: Room> Handler<InspectMsg> for RoomActor<R> {
    type Result = Option<crate::session::RoomInspection>;

    fn handle(&mut self, msg: InspectMsg, _ctx: &mut Self::Context) -> Self::Result {
        (!self.dead).then(|| self.core.inspect(msg.capture, Instant::now()))
    }
}

impl<R: Room> Handler<KickMsg> for RoomActor<R> {
    type Result = bool;

    fn handle(&mut self, msg: KickMsg, ctx: &mut Self::Context) -> bool {
        let _entered = self.span.clone().entered();
        if self.dead {
            return false;
        }
        let kicked = self.core.kick_by_operator(msg.client, msg.reason, Instant::now());
        if kicked {
            tracing::info!(client = msg.client.0, "client kicked by an operator");
        }
        self.after_step(ctx);
        kicked
    }
}

impl<R: Room> Handler<HandoverMsg> for RoomActor<R> {
    type Result = Option<bytes::Bytes>;

    fn handle(&mut self, msg: HandoverMsg, ctx: &mut Self::Context) -> Self::Result {
        let _entered = self.span.clone().entered();
        if self.dead || self.core.crashed().is_some() {
            return None;
        }
        let tick = self.core.tick();
        self.core.snapshot_now(tick)?;
        let portable = self.core.portable(msg.node).encode();
        tracing::info!(tick, "room handed over");
        self.dead = true;
        self.handle.begin_dispose(true);
        self.core.hand_over();
        self.deregister();
        ctx.stop();
        Some(portable)
    }
}

impl<R: Room> StreamHandler<TickNow> for RoomActor<R> {
    fn handle(&mut self, msg: TickNow, ctx: &mut Self::Context) {
        let _entered = self.span.clone().entered();
        // A wake-up asked for before the room rescheduled (a join woke it,
        // or it restarted) is stale; so is any after the room is gone.
        if msg.0 == self.generation && !self.dead {
            self.on_timer(ctx, msg.1);
        }
    }
}
