//! Crash recovery of a [`RoomCore`]: the snapshots taken while the room
//! runs, how many restarts it is allowed, and the restart itself (the room
//! rebuilt from its last snapshot, or from `on_create`, and reconciled with
//! the clients it has now). The shell decides when: after a crash it asks
//! [`RoomCore::may_restart`], then calls [`RoomCore::restart`].

use super::{panic_message, CreateError, RoomCore};
use crate::protocol::ClientId;
use crate::room::api::{Client, Room, RoomType};
use crate::room::events::RoomEvent;
use crate::room::options::parse_options;
use crate::session::{LeaveReason, Options};
use std::collections::{BTreeSet, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// What a crashed room is rebuilt from, and how often it may be.
pub(super) struct Recovery {
    /// The options the room was created with (a restart without a snapshot
    /// runs `on_create` with them again).
    pub(super) options: Options,
    /// The last snapshot and the clients the room had when it was taken.
    pub(super) snapshot: Option<(Vec<u8>, BTreeSet<ClientId>)>,
    /// The tick the last snapshot was taken at.
    pub(super) snapshot_tick: u64,
    /// A snapshot every this many ticks (0: none).
    every: u64,
    max_restarts: u32,
    window: Duration,
    /// When the restarts within the window happened.
    restarts: VecDeque<Instant>,
}

impl Recovery {
    /// No snapshot yet, no restart yet.
    pub(super) fn new(spec: &RoomType, options: &Options) -> Self {
        Recovery {
            options: options.clone(),
            snapshot: None,
            snapshot_tick: 0,
            every: spec.snapshot_every,
            max_restarts: spec.max_restarts,
            window: spec.restart_window,
            restarts: VecDeque::new(),
        }
    }
}

impl<R: Room> RoomCore<R> {
    /// Takes the room's snapshot if `tick` is due for one. `None` if the
    /// room crashed taking it.
    pub(super) fn snapshot_if_due(&mut self, tick: u64) -> Option<()> {
        let every = self.recovery.every;
        if every == 0 || !tick.is_multiple_of(every) {
            return Some(());
        }
        self.snapshot_now(tick)
    }

    /// Takes the room's snapshot now, as of `tick` (and reports it:
    /// [`RoomEvent::Snapshotted`]). `None` if the room crashed taking it.
    pub(crate) fn snapshot_now(&mut self, tick: u64) -> Option<()> {
        if let Some(bytes) = self.call(|room, _| room.snapshot())? {
            self.recovery.snapshot = Some((bytes, self.ctx.members.keys().copied().collect()));
            self.recovery.snapshot_tick = tick;
            self.ctx.stats.snapshots += 1;
        }
        self.events.push(RoomEvent::Snapshotted);
        Some(())
    }

    /// Whether a crashed room may restart now: fewer than `max_restarts`
    /// restarts within the restart window.
    pub fn may_restart(&mut self, now: Instant) -> bool {
        let r = &mut self.recovery;
        while r.restarts.front().is_some_and(|t| now.saturating_duration_since(*t) >= r.window) {
            r.restarts.pop_front();
        }
        r.restarts.len() < r.max_restarts as usize
    }

    /// Rebuilds a crashed room: from the last snapshot through
    /// `Room::restore`, else through `on_create` with the original options.
    /// Clients stay; the rebuilt room is reconciled with them: `on_join` for
    /// each client it does not know (joined after the snapshot, or all of
    /// them after `on_create`), `on_leave` for each it knows that is gone.
    /// Inputs pending at the crash are dropped (they may be what crashed it).
    pub fn restart(&mut self, now: Instant) -> Result<(), CreateError> {
        self.recovery.restarts.push_back(now);
        self.ctx.now = now;
        self.ctx.removals.clear();
        self.ctx.stats.inputs_dropped += self.inbox.len() as u64;
        self.inbox.clear();
        let ctx = &mut self.ctx;
        let restored = self.recovery.snapshot.as_ref().and_then(|(bytes, known)| {
            match catch_unwind(AssertUnwindSafe(|| R::restore(ctx, bytes))) {
                Ok(Ok(room)) => Some((room, known.clone())),
                _ => None,
            }
        });
        let (room, known) = match restored {
            Some(r) => r,
            None => match catch_unwind(AssertUnwindSafe(|| {
                parse_options::<R::Options>(&self.recovery.options).and_then(|o| R::on_create(ctx, &o))
            })) {
                Ok(Ok(room)) => (room, BTreeSet::new()),
                Ok(Err(reject)) => return Err(CreateError::Rejected(reject)),
                Err(p) => return Err(CreateError::Panicked(panic_message(p.as_ref()))),
            },
        };
        self.room = Some(room);
        self.crashed = None;
        self.events.restarted();
        self.ctx.stats.restarts += 1;
        self.reconcile(&known);
        match &self.crashed {
            Some(msg) => Err(CreateError::Panicked(msg.clone())),
            None => Ok(()),
        }
    }

    /// Reconciles a rebuilt room, which knows the clients `known`, with the
    /// clients seated now: `on_join` for each it does not know, `on_leave`
    /// for each it knows that is gone.
    pub(super) fn reconcile(&mut self, known: &BTreeSet<ClientId>) {
        let current: Vec<(Client, Options)> = self
            .ctx
            .members
            .values()
            .filter(|m| !known.contains(&m.client.id))
            .map(|m| (m.client.clone(), m.options.clone()))
            .collect();
        for (client, options) in current {
            let verdict = match parse_options::<R::Options>(&options) {
                Ok(o) => self.call(|room, ctx| room.on_join(ctx, &client, &o)),
                Err(reject) => Some(Err(reject)),
            };
            if let Some(Err(reject)) = verdict {
                self.ctx.removals.push((client.id, LeaveReason::Kicked, reject.reason));
                self.apply_removals();
            }
        }
        for gone in known.iter().filter(|id| !self.ctx.members.contains_key(id)).copied().collect::<Vec<_>>() {
            self.left(gone, None, LeaveReason::Disconnected);
        }
    }
}
