//! [`Seat`]: where a bot plays (its room and its client id there) across
//! the reconnects of its [`ReconnectingClient`](playhouse_client::ReconnectingClient),
//! and whether a connection change lets it play on. A plain struct: events
//! in, a decision out.

use playhouse_client::envelope::{Joined, LeaveReason, Left};
use playhouse_client::ReconnectEvent;

/// A bot's room and client id, kept up to date across reconnects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    /// The room it plays in (a new id after a rejoin by type).
    pub room: String,
    /// Its client id in that room (used in `State.acks`).
    pub client: u32,
    /// The server sent `Shutdown` on this connection: it is draining.
    draining: bool,
}

impl Seat {
    /// The seat a join gave.
    pub fn new(joined: &Joined) -> Seat {
        Seat { room: joined.room.clone(), client: joined.client, draining: false }
    }

    /// The server said it is draining (`Shutdown`): its close follows, and
    /// the client reconnects — to the node it handed the room to, or to the
    /// next URL.
    pub fn draining(&mut self) {
        self.draining = true;
    }

    /// Whether the bot sends inputs: not on a draining server's connection,
    /// whose rooms run their last tick and go (an input sent after the
    /// notice would meet a disposed room: error 4004).
    pub fn sends_inputs(&self) -> bool {
        !self.draining
    }

    /// Whether `left` ends the bot's play: a `Left` for its room, except a
    /// room disposed by a draining server (the client rejoins it, by type,
    /// after the reconnect).
    pub fn ends_play(&self, left: &Left) -> bool {
        left.room == self.room && !(self.draining && left.reason == LeaveReason::Disposed as i32)
    }

    /// A connection change: `Ok(true)` when the connection is back with the
    /// bot's room (resumed, or rejoined on a new session, maybe under a new
    /// id and client id), `Ok(false)` when it changes nothing for the bot
    /// (an attempt announced, a deprecation, a server message), `Err` with
    /// why the bot stops (its room was not got back, or the client stopped).
    pub fn follow(&mut self, event: &ReconnectEvent) -> Result<bool, String> {
        match event {
            ReconnectEvent::Resumed { rooms, .. } => {
                self.draining = false;
                if rooms.iter().any(|j| j.room == self.room) {
                    Ok(true)
                } else {
                    Err(format!("resumed without room {}", self.room))
                }
            }
            ReconnectEvent::NewSession { rejoined, .. } => {
                self.draining = false;
                let again = rejoined.iter().find(|r| r.previous == self.room);
                let again = again.ok_or_else(|| format!("room {} not rejoined on a new session", self.room))?;
                (self.room, self.client) = (again.joined.room.clone(), again.joined.client);
                Ok(true)
            }
            ReconnectEvent::Server(_)
            | ReconnectEvent::Reconnecting { .. }
            | ReconnectEvent::Deprecated { .. }
            | ReconnectEvent::AuthRefreshFailed { .. } => Ok(false),
            stop @ (ReconnectEvent::Replaced { .. }
            | ReconnectEvent::GaveUp { .. }
            | ReconnectEvent::Unauthorized { .. }
            | ReconnectEvent::Refused { .. }
            | ReconnectEvent::Closed { .. }) => Err(format!("disconnected: {stop:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use playhouse_client::reconnect::Rejoined;

    fn joined(room: &str, client: u32) -> Joined {
        Joined { room: room.into(), room_type: "arena".into(), client, tick_hz: 30, request: 0 }
    }

    fn left(room: &str, reason: LeaveReason) -> Left {
        Left { room: room.into(), reason: reason as i32, detail: String::new() }
    }

    #[test]
    fn a_resume_with_the_room_plays_on_and_one_without_it_stops() {
        let mut seat = Seat::new(&joined("r1", 3));
        let resumed = |rooms| ReconnectEvent::Resumed { url: "ws://b".into(), replayed: 0, resync: false, rooms };
        assert_eq!(seat.follow(&resumed(vec![joined("r1", 3)])), Ok(true));
        assert_eq!(seat, Seat::new(&joined("r1", 3)));
        assert!(seat.follow(&resumed(vec![joined("r2", 3)])).is_err());
    }

    #[test]
    fn a_new_session_moves_the_seat_to_the_rejoined_room() {
        let mut seat = Seat::new(&joined("r1", 3));
        let new_session = |rejoined| ReconnectEvent::NewSession {
            url: "ws://b".into(),
            session: "s2".into(),
            rejoined,
            failed: vec![],
        };
        let back = Rejoined { previous: "r1".into(), joined: joined("r9", 7) };
        assert_eq!(seat.follow(&new_session(vec![back])), Ok(true));
        assert_eq!((seat.room.as_str(), seat.client), ("r9", 7));
        assert!(seat.follow(&new_session(vec![])).is_err(), "not rejoined: the bot stops");
    }

    #[test]
    fn a_room_disposed_by_a_draining_server_is_waited_for_and_any_other_leave_ends_play() {
        let mut seat = Seat::new(&joined("r1", 3));
        assert!(seat.ends_play(&left("r1", LeaveReason::Disposed)));
        assert!(!seat.ends_play(&left("other", LeaveReason::Kicked)));
        seat.draining();
        assert!(!seat.sends_inputs(), "its room is going: no inputs until the reconnect");
        assert!(!seat.ends_play(&left("r1", LeaveReason::Disposed)), "rejoined after the reconnect");
        assert!(seat.ends_play(&left("r1", LeaveReason::Kicked)));
        let resumed =
            ReconnectEvent::Resumed { url: "ws://b".into(), replayed: 0, resync: false, rooms: vec![joined("r1", 3)] };
        seat.follow(&resumed).unwrap();
        assert!(seat.ends_play(&left("r1", LeaveReason::Disposed)), "a new connection is not draining");
        assert!(seat.sends_inputs());
    }

    #[test]
    fn attempts_change_nothing_and_a_stopped_client_ends_play() {
        let mut seat = Seat::new(&joined("r1", 3));
        let attempt = ReconnectEvent::Reconnecting {
            attempt: 1,
            delay: std::time::Duration::ZERO,
            url: "ws://b".into(),
            cause: "closed by the server: 1001".into(),
        };
        assert_eq!(seat.follow(&attempt), Ok(false));
        let gave_up = ReconnectEvent::GaveUp { attempts: 8, last_error: "refused".into() };
        assert!(seat.follow(&gave_up).unwrap_err().contains("GaveUp"));
    }
}
