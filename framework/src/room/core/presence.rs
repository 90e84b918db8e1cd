//! Clients whose connection was lost: their seats kept for the room
//! type's reconnect window (`on_disconnect`, `on_reconnect`), and given up
//! when it runs out.

use super::RoomCore;
use crate::protocol::envelope::LeaveReason as WireLeave;
use crate::protocol::{ClientId, SessionId};
use crate::room::Room;
use crate::session::{ConnEvent, LeaveReason};
use std::time::Instant;

impl<R: Room> RoomCore<R> {
    /// Session `session`'s connection was lost: its clients keep their seats
    /// for the reconnect window (`on_disconnect`), or leave at once if the
    /// window is 0.
    pub fn disconnected(&mut self, session: SessionId, now: Instant) {
        self.ctx.now = now;
        let ids = self.clients_of(session);
        for id in ids {
            if self.reconnect_window.is_zero() {
                self.ctx.removals.push((id, LeaveReason::Disconnected, String::new()));
                continue;
            }
            if let Some(m) = self.ctx.members.get_mut(&id) {
                if m.away_since.is_none() {
                    tracing::debug!(session = %m.client.session, client = id.0, "client away: its seat waits for a resume");
                    m.away_since = Some(now);
                    self.note_away(now);
                    self.call(|room, ctx| room.on_disconnect(ctx, id));
                }
            }
        }
        self.apply_removals();
    }

    /// Session `session` resumed: its clients are back (`on_reconnect`).
    pub fn reconnected(&mut self, session: SessionId, now: Instant) {
        self.ctx.now = now;
        for id in self.clients_of(session) {
            if let Some(m) = self.ctx.members.get_mut(&id) {
                if m.away_since.take().is_some() {
                    tracing::debug!(session = %m.client.session, client = id.0, "client back");
                    self.call(|room, ctx| room.on_reconnect(ctx, id));
                }
            }
        }
    }

    fn clients_of(&self, session: SessionId) -> Vec<ClientId> {
        self.ctx.members.iter().filter(|(_, m)| m.outbox.id() == session).map(|(id, _)| *id).collect()
    }

    /// Removes the clients whose reconnect window has passed: they get a
    /// `Left` (read if their session resumes later for another room's sake)
    /// and the room an `on_leave` with `Disconnected`.
    pub(super) fn expire_away(&mut self, now: Instant) {
        // Most ticks: nobody away, or no window can have run out yet.
        if self.away_check.is_none_or(|t| now < t) {
            return;
        }
        let window = self.reconnect_window;
        let expired: Vec<ClientId> = self
            .ctx
            .members
            .iter()
            .filter(|(_, m)| m.away_since.is_some_and(|t| now.saturating_duration_since(t) >= window))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(m) = self.ctx.members.remove(&id) {
                let detail = format!("not back within the reconnect window of {} s", window.as_secs_f32());
                let ev = ConnEvent::Left { room: self.ctx.id.clone(), reason: WireLeave::Disconnected, detail };
                m.outbox.push_event(ev, now);
                self.left(id, Some(&m.client.session), LeaveReason::Disconnected);
            }
        }
        // The earliest window left among those still away.
        self.away_check = self.ctx.members.values().filter_map(|m| m.away_since).min().map(|t| t + window);
    }

    /// A client went away at `since`: its seat is checked once its
    /// reconnect window may have run out.
    pub(super) fn note_away(&mut self, since: Instant) {
        let due = since + self.reconnect_window;
        self.away_check = Some(self.away_check.map_or(due, |t| t.min(due)));
    }
}
