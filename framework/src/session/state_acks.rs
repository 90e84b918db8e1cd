//! [`StateAcks`]: the state each room may send deltas against, as the
//! session's client acknowledged it (`StateAck`, docs/protocol.md §4.5).
//!
//! The connection records an ack; the room reads it when it sends the next
//! state and diffs against the payload it sent with that tick, if it still
//! holds it. Acks only move forward (a late ack of an older tick is
//! ignored), so the client can forget every state older than the newest
//! baseline it has been sent. Tick 0 forgets the room's ack: the client
//! lost its baseline and wants a whole state. A new connection forgets them
//! all ([`StateAcks::clear`]): the client starts over from whole states, and
//! the clear starts a new *generation*, so a delta computed against an ack
//! of the connection before is refused by the outbox ([`super::Outbox`]).
//!
//! It lives inside the outbox, under the outbox's lock.

use crate::protocol::RoomId;

/// An acknowledged state: its tick, and the generation of acks it
/// belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateAck {
    /// The tick of the state the client holds.
    pub tick: u64,
    /// Bumped by every [`StateAcks::clear`].
    pub generation: u64,
}

/// The acknowledged state tick of each room of one session.
#[derive(Debug, Default)]
pub struct StateAcks {
    /// At most one entry per room the session is seated in (the connection
    /// records acks only for those), so a linear scan is the fast way.
    acks: Vec<(RoomId, u64)>,
    generation: u64,
}

impl StateAcks {
    /// Records that the client holds `room`'s state of `tick` (0: it holds
    /// none usable any more). `seated` says which rooms the session is
    /// still in: a new entry first drops those of rooms it left, so the
    /// list never outgrows the session's seats.
    pub fn ack(&mut self, room: &RoomId, tick: u64, seated: impl Fn(&RoomId) -> bool) {
        let acks = &mut self.acks;
        match acks.iter_mut().position(|(r, _)| r == room) {
            Some(i) if tick == 0 => {
                acks.swap_remove(i);
            }
            Some(i) => acks[i].1 = acks[i].1.max(tick),
            None if tick == 0 => {}
            None => {
                acks.retain(|(r, _)| seated(r));
                acks.push((room.clone(), tick));
            }
        }
    }

    /// The newest state of `room` the client acknowledged, if any.
    pub fn get(&self, room: &RoomId) -> Option<StateAck> {
        let tick = self.acks.iter().find(|(r, _)| r == room).map(|(_, t)| *t)?;
        Some(StateAck { tick, generation: self.generation })
    }

    /// The generation of the acks (see the module docs).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Forgets every ack and starts a new generation (a new connection
    /// took the session over).
    pub fn clear(&mut self) {
        self.acks.clear();
        self.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_move_forward_and_tick_zero_forgets() {
        let (a, b): (RoomId, RoomId) = ("a".into(), "b".into());
        let mut acks = StateAcks::default();
        let all = |_: &RoomId| true;
        let tick = |acks: &StateAcks, r: &RoomId| acks.get(r).map(|a| a.tick);
        assert_eq!(tick(&acks, &a), None);
        acks.ack(&a, 10, all);
        acks.ack(&a, 7, all);
        acks.ack(&b, 3, all);
        assert_eq!((tick(&acks, &a), tick(&acks, &b)), (Some(10), Some(3)));
        acks.ack(&a, 0, all);
        assert_eq!(tick(&acks, &a), None);
        acks.ack(&a, 2, all);
        assert_eq!(tick(&acks, &a), Some(2), "after a reset an older tick counts again");
        // A new room's ack drops the rooms the session left.
        let c: RoomId = "c".into();
        acks.ack(&c, 1, |r| r != &b);
        assert_eq!((tick(&acks, &a), tick(&acks, &b), tick(&acks, &c)), (Some(2), None, Some(1)));
        assert_eq!(acks.get(&a).map(|a| a.generation), Some(0));
        acks.clear();
        assert_eq!(tick(&acks, &a), None);
        assert_eq!(acks.generation(), 1);
    }
}
