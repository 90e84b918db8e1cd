//! What a room shows an operator (the server's monitor): its clients with
//! their RTT, the latest state it sent, and a kick by an operator.

use super::RoomCore;
use crate::protocol::ClientId;
use crate::room::Room;
use crate::session::{InspectedClient, LeaveReason, RoomInspection};
use std::time::{Duration, Instant};

/// How long one inspection keeps the room capturing its states: a monitor
/// page refreshes every second or two, so capturing stops soon after the
/// last page is closed.
pub const WATCH_FOR: Duration = Duration::from_secs(10);

impl<R: Room> RoomCore<R> {
    /// The room as an operator sees it at `now`; with `capture`, the room
    /// keeps the first state of each tick for [`WATCH_FOR`] from now on.
    pub fn inspect(&mut self, capture: bool, now: Instant) -> RoomInspection {
        if capture {
            self.ctx.watched_until = Some(now + WATCH_FOR);
        }
        let clients = self
            .ctx
            .members
            .iter()
            .map(|(id, m)| InspectedClient {
                id: *id,
                session: m.client.session.clone(),
                user: m.client.user.clone(),
                version: m.client.version,
                codec: m.client.codec,
                away: m.away_since.is_some(),
                rtt: m.outbox.rtt(),
                last_input_seq: m.last_input_seq,
            })
            .collect();
        RoomInspection {
            tick: self.ctx.tick,
            locked: self.ctx.locked,
            clients,
            state: self.ctx.captured.clone(),
            crashed: self.crashed.clone(),
        }
    }

    /// An operator removes `client`, as `RoomContext::kick` would: the
    /// room's `on_leave` hears [`LeaveReason::Kicked`], the connection is
    /// closed with 4005 and `reason`. False if it is not in the room.
    pub fn kick_by_operator(&mut self, client: ClientId, reason: String, now: Instant) -> bool {
        if !self.ctx.members.contains_key(&client) {
            return false;
        }
        self.ctx.now = now;
        self.ctx.removals.push((client, LeaveReason::Kicked, reason));
        self.apply_removals();
        true
    }
}
