//! Delta states, applied on arrival (docs/protocol.md §4.6): the client
//! keeps the whole payloads of each room's latest states, turns every delta
//! back into a whole state before the game sees it, and acknowledges what it
//! holds so the server can diff against it.

use bytes::Bytes;
use playhouse_protocol::delta;
use playhouse_protocol::envelope::State;
use std::collections::{HashMap, VecDeque};

/// States kept per room. The server diffs against the newest state this
/// client acknowledged that it still holds (32 states); states older than
/// the newest baseline it used are never asked for again and go first.
const KEPT: usize = 64;

/// Largest whole state a delta may announce (a hostile or broken server
/// cannot make the client allocate more).
const MAX_STATE: usize = 16 << 20;

/// What the client counted about states, since it connected.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeltaStats {
    /// Whole states received.
    pub whole: u64,
    /// Delta states received and applied.
    pub deltas: u64,
    /// Delta states dropped: their baseline was not held or they did not
    /// apply (the client then asked for a whole state).
    pub lost: u64,
    /// Payload bytes received in states (whole and delta).
    pub payload_bytes: u64,
    /// Payload bytes of the whole states those stand for.
    pub whole_bytes: u64,
}

/// What became of a received state.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// Deltas are off: passed on as it came.
    AsIs,
    /// A whole state, or a delta made whole: pass it on and acknowledge
    /// this tick.
    Ack(u64),
    /// A delta that cannot be applied: drop it and acknowledge tick 0 so
    /// the next state is whole.
    Lost,
}

/// The states held for deltas, per room.
#[derive(Debug)]
pub(crate) struct Deltas {
    enabled: bool,
    rooms: HashMap<String, VecDeque<(u64, Bytes)>>,
    pub(crate) stats: DeltaStats,
}

impl Deltas {
    pub(crate) fn new(enabled: bool) -> Self {
        Deltas { enabled, rooms: HashMap::new(), stats: DeltaStats::default() }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Turns deltas on or off. Off forgets what was held: a delta still
    /// on its way is then lost (and answered with tick 0).
    pub(crate) fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
        if !on {
            self.rooms.clear();
        }
    }

    /// Makes `s` whole, if it is a delta.
    pub(crate) fn receive(&mut self, s: &mut State) -> Received {
        self.stats.payload_bytes += s.payload.len() as u64;
        if s.baseline == 0 {
            self.stats.whole += 1;
            self.stats.whole_bytes += s.payload.len() as u64;
            if !self.enabled {
                return Received::AsIs;
            }
            self.keep(&s.room, s.tick, s.payload.clone(), None);
            return Received::Ack(s.tick);
        }
        let held = self.rooms.get(&s.room).and_then(|h| h.iter().rev().find(|(t, _)| *t == s.baseline));
        let mut whole = Vec::new();
        let applied = held.map(|(_, base)| delta::apply(base, &s.payload, MAX_STATE, &mut whole));
        let Some(Ok(())) = applied else {
            self.stats.lost += 1;
            self.rooms.remove(&s.room);
            return Received::Lost;
        };
        self.stats.deltas += 1;
        self.stats.whole_bytes += whole.len() as u64;
        s.payload = Bytes::from(whole);
        let baseline = std::mem::take(&mut s.baseline);
        self.keep(&s.room, s.tick, s.payload.clone(), Some(baseline));
        if !self.enabled {
            self.rooms.remove(&s.room);
            return Received::AsIs;
        }
        Received::Ack(s.tick)
    }

    /// Keeps `payload` as `room`'s state of `tick`, forgetting the states
    /// older than `used` (the baseline the server just used: it never goes
    /// back past it) and the oldest beyond [`KEPT`].
    fn keep(&mut self, room: &str, tick: u64, payload: Bytes, used: Option<u64>) {
        let held = self.rooms.entry(room.to_string()).or_default();
        if let Some(used) = used {
            while held.front().is_some_and(|(t, _)| *t < used) {
                held.pop_front();
            }
        }
        // A state with a tick already held replaces it (the server never
        // diffs against a tick it sent twice).
        held.retain(|(t, _)| *t != tick);
        if held.len() == KEPT {
            held.pop_front();
        }
        held.push_back((tick, payload));
    }

    /// Forgets `room`'s states (joined or left it).
    pub(crate) fn forget(&mut self, room: &str) {
        self.rooms.remove(room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(tick: u64, baseline: u64, payload: &[u8]) -> State {
        State { room: "r".into(), tick, baseline, payload: Bytes::copy_from_slice(payload), acks: Vec::new() }
    }

    fn delta_of(base: &[u8], target: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        delta::encode(base, target, &mut d);
        d
    }

    #[test]
    fn deltas_become_whole_states_and_unknown_baselines_are_lost() {
        let mut d = Deltas::new(true);
        let mut s1 = state(1, 0, b"hello world, tick one");
        assert_eq!(d.receive(&mut s1), Received::Ack(1));
        let mut s2 = state(2, 1, &delta_of(b"hello world, tick one", b"hello world, tick two"));
        assert_eq!(d.receive(&mut s2), Received::Ack(2));
        assert_eq!((&s2.payload[..], s2.baseline), (&b"hello world, tick two"[..], 0));
        let mut s3 = state(3, 9, b"garbage");
        assert_eq!(d.receive(&mut s3), Received::Lost);
        // Lost forgets the room: even a delta against tick 2 is refused now.
        let mut s4 = state(4, 2, &delta_of(b"hello world, tick two", b"x"));
        assert_eq!(d.receive(&mut s4), Received::Lost);
        assert_eq!((d.stats.whole, d.stats.deltas, d.stats.lost), (1, 1, 2));
    }

    #[test]
    fn states_older_than_the_used_baseline_are_dropped() {
        let mut d = Deltas::new(true);
        for t in 1..=5 {
            d.receive(&mut state(t, 0, &[t as u8; 8]));
        }
        d.receive(&mut state(6, 4, &delta_of(&[4; 8], &[6; 8])));
        let ticks: Vec<u64> = d.rooms["r"].iter().map(|(t, _)| *t).collect();
        assert_eq!(ticks, [4, 5, 6]);
    }

    #[test]
    fn off_passes_states_as_they_come() {
        let mut d = Deltas::new(false);
        assert_eq!(d.receive(&mut state(1, 0, b"x")), Received::AsIs);
        assert!(d.rooms.is_empty());
    }
}
