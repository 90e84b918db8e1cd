//! Delta states, applied on arrival (docs/protocol.md §4.5): the client
//! keeps the whole payloads of each room's latest states, turns every delta
//! back into a whole state before the game sees it, and acknowledges what it
//! holds so the server can diff against it.

use bytes::Bytes;
use playhouse_protocol::envelope::State;
use playhouse_protocol::{compress, delta};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How often a room's states are acknowledged at most. Acking every state
/// would double what a client sends in a 30-60 Hz room (each ack is a
/// message the server decodes); acking every 100 ms keeps the baseline
/// within a few ticks plus a round trip of the newest state. A whole state
/// (the first, or after a loss) is acknowledged at once.
pub(crate) const ACK_INTERVAL: Duration = Duration::from_millis(100);

/// States kept per room. The server diffs against the newest state this
/// client acknowledged that it still holds (32 states); states older than
/// the newest baseline it used are never asked for again and go first.
const KEPT: usize = 64;

/// Largest whole state a delta may announce or a payload inflate to.
const MAX_STATE: usize = playhouse_protocol::compress::MAX_STATE_BYTES;

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
    /// Time spent applying deltas, in nanoseconds.
    pub apply_ns: u64,
    /// States whose payload came compressed (docs/protocol.md §4.6).
    pub compressed: u64,
    /// Their payload bytes as they came (compressed).
    pub compressed_bytes: u64,
    /// Their payload bytes once inflated.
    pub inflated_bytes: u64,
    /// Time spent inflating them, in nanoseconds.
    pub inflate_ns: u64,
}

/// What became of a received state.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Received {
    /// Pass it on (whole, or a delta made whole); an ack may be due
    /// ([`Deltas::due_ack`]).
    Show,
    /// A delta that cannot be applied: drop it (an ack of tick 0 is due,
    /// so the next state is whole).
    Lost,
}

/// A room's acknowledgements.
#[derive(Debug, Default)]
struct Acks {
    /// The newest tick held and not acknowledged yet (0: ask for a whole
    /// state).
    due: Option<u64>,
    /// When the last ack of the room went out.
    sent_at: Option<Instant>,
    /// A tick-0 ack went out and no state applied since (send it once).
    reset: bool,
}

/// The states held for deltas, per room.
#[derive(Debug)]
pub(crate) struct Deltas {
    enabled: bool,
    rooms: HashMap<String, VecDeque<(u64, Bytes)>>,
    acks: HashMap<String, Acks>,
    /// Kept from state to state (allocating its window is most of the
    /// cost of inflating a small state).
    inflater: compress::Inflater,
    pub(crate) stats: DeltaStats,
}

impl Deltas {
    pub(crate) fn new(enabled: bool) -> Self {
        Deltas {
            enabled,
            rooms: HashMap::new(),
            acks: HashMap::new(),
            inflater: compress::Inflater::new(),
            stats: DeltaStats::default(),
        }
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
            self.acks.clear();
        }
    }

    /// Makes `s` whole, if it is a delta, and notes the ack it calls for.
    /// A compressed payload is inflated first (the game sees it as sent).
    pub(crate) fn receive(&mut self, s: &mut State, now: Instant) -> Received {
        self.stats.payload_bytes += s.payload.len() as u64;
        if s.compression != 0 && !self.inflate(s) {
            return self.lost(&s.room);
        }
        if s.baseline == 0 {
            self.stats.whole += 1;
            self.stats.whole_bytes += s.payload.len() as u64;
            if self.enabled {
                self.keep(&s.room, s.tick, s.payload.clone(), None);
                self.held(&s.room, s.tick, true, now);
            }
            return Received::Show;
        }
        let held = self.rooms.get(&s.room).and_then(|h| h.iter().rev().find(|(t, _)| *t == s.baseline));
        let mut whole = Vec::new();
        let started = Instant::now();
        let applied = held.map(|(_, base)| delta::apply(base, &s.payload, MAX_STATE, &mut whole));
        self.stats.apply_ns += started.elapsed().as_nanos() as u64;
        let Some(Ok(())) = applied else {
            return self.lost(&s.room);
        };
        self.stats.deltas += 1;
        self.stats.whole_bytes += whole.len() as u64;
        s.payload = Bytes::from(whole);
        let baseline = std::mem::take(&mut s.baseline);
        if self.enabled {
            self.keep(&s.room, s.tick, s.payload.clone(), Some(baseline));
            self.held(&s.room, s.tick, false, now);
        }
        Received::Show
    }

    /// Replaces `s`'s compressed payload with the inflated one; false if
    /// it does not inflate (a broken frame: the state is lost).
    fn inflate(&mut self, s: &mut State) -> bool {
        let started = Instant::now();
        let mut out = Vec::new();
        let inflated = self.inflater.inflate_state(s.compression, &s.payload, MAX_STATE, &mut out);
        self.stats.inflate_ns += started.elapsed().as_nanos() as u64;
        if inflated.is_err() {
            return false;
        }
        self.stats.compressed += 1;
        self.stats.compressed_bytes += s.payload.len() as u64;
        self.stats.inflated_bytes += out.len() as u64;
        s.payload = Bytes::from(out);
        s.compression = 0;
        true
    }

    /// A state of `room` that cannot be used: the baselines held are
    /// forgotten and a tick-0 ack is due once, so the next state is whole.
    fn lost(&mut self, room: &str) -> Received {
        self.stats.lost += 1;
        self.rooms.remove(room);
        let acks = self.acks.entry(room.to_string()).or_default();
        if !std::mem::replace(&mut acks.reset, true) {
            acks.due = Some(0);
        }
        Received::Lost
    }

    /// `room`'s state of `tick` is held: due for an ack at once if it
    /// came whole, else once [`ACK_INTERVAL`] has passed since the last.
    fn held(&mut self, room: &str, tick: u64, whole: bool, now: Instant) {
        if tick == 0 {
            return; // no ack can name it (0 asks for a whole state)
        }
        let acks = self.acks.entry(room.to_string()).or_default();
        acks.reset = false;
        let waited = acks.sent_at.is_none_or(|at| now.saturating_duration_since(at) >= ACK_INTERVAL);
        if whole || waited || acks.due.is_some() {
            acks.due = Some(tick);
        }
    }

    /// An ack to send now, if one is due: `(room, tick)`. It stays due
    /// until [`Deltas::ack_sent`] (a send cut short is sent again).
    pub(crate) fn due_ack(&self) -> Option<(String, u64)> {
        self.acks.iter().find_map(|(room, a)| a.due.map(|t| (room.clone(), t)))
    }

    /// The ack of `room`'s `tick` went out.
    pub(crate) fn ack_sent(&mut self, room: &str, tick: u64, now: Instant) {
        if let Some(a) = self.acks.get_mut(room) {
            if a.due == Some(tick) {
                a.due = None;
            }
            a.sent_at = Some(now);
        }
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

    /// Forgets `room`'s states and acks (joined or left it).
    pub(crate) fn forget(&mut self, room: &str) {
        self.rooms.remove(room);
        self.acks.remove(room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(tick: u64, baseline: u64, payload: &[u8]) -> State {
        State {
            room: "r".into(),
            tick,
            baseline,
            payload: Bytes::copy_from_slice(payload),
            acks: Vec::new(),
            compression: 0,
        }
    }

    fn delta_of(base: &[u8], target: &[u8]) -> Vec<u8> {
        let mut d = Vec::new();
        delta::encode(base, target, &mut d);
        d
    }

    #[test]
    fn deltas_become_whole_states_and_unknown_baselines_are_lost() {
        let mut d = Deltas::new(true);
        let now = Instant::now();
        let mut s1 = state(1, 0, b"hello world, tick one");
        assert_eq!(d.receive(&mut s1, now), Received::Show);
        assert_eq!(d.due_ack(), Some(("r".into(), 1)), "a whole state is acked at once");
        d.ack_sent("r", 1, now);
        let mut s2 = state(2, 1, &delta_of(b"hello world, tick one", b"hello world, tick two"));
        assert_eq!(d.receive(&mut s2, now), Received::Show);
        assert_eq!((&s2.payload[..], s2.baseline), (&b"hello world, tick two"[..], 0));
        assert_eq!(d.due_ack(), None, "a delta waits for the ack interval");
        let mut s3 = state(3, 9, b"garbage");
        assert_eq!(d.receive(&mut s3, now), Received::Lost);
        assert_eq!(d.due_ack(), Some(("r".into(), 0)), "a loss asks for a whole state");
        d.ack_sent("r", 0, now);
        // Lost forgets the room: even a delta against tick 2 is refused now,
        // and the whole state is not asked for twice.
        let mut s4 = state(4, 2, &delta_of(b"hello world, tick two", b"x"));
        assert_eq!(d.receive(&mut s4, now), Received::Lost);
        assert_eq!(d.due_ack(), None);
        assert_eq!((d.stats.whole, d.stats.deltas, d.stats.lost), (1, 1, 2));
    }

    #[test]
    fn deltas_are_acked_once_per_interval_with_the_newest_tick() {
        let mut d = Deltas::new(true);
        let t0 = Instant::now();
        d.receive(&mut state(1, 0, b"aaaa"), t0);
        d.ack_sent("r", 1, t0);
        d.receive(&mut state(2, 1, &delta_of(b"aaaa", b"aaab")), t0 + Duration::from_millis(50));
        assert_eq!(d.due_ack(), None);
        d.receive(&mut state(3, 1, &delta_of(b"aaaa", b"aaac")), t0 + ACK_INTERVAL);
        d.receive(&mut state(4, 1, &delta_of(b"aaaa", b"aaad")), t0 + ACK_INTERVAL);
        assert_eq!(d.due_ack(), Some(("r".into(), 4)), "the newest held tick");
    }

    #[test]
    fn states_older_than_the_used_baseline_are_dropped() {
        let mut d = Deltas::new(true);
        let now = Instant::now();
        for t in 1..=5 {
            d.receive(&mut state(t, 0, &[t as u8; 8]), now);
        }
        d.receive(&mut state(6, 4, &delta_of(&[4; 8], &[6; 8])), now);
        let ticks: Vec<u64> = d.rooms["r"].iter().map(|(t, _)| *t).collect();
        assert_eq!(ticks, [4, 5, 6]);
    }

    #[test]
    fn compressed_states_and_deltas_are_inflated_first() {
        let z = |p: &[u8]| {
            let mut out = Vec::new();
            compress::deflate(p, &mut out).unwrap();
            out
        };
        let (one, two) = (b"tick one ".repeat(50), b"tick two ".repeat(50));
        let mut d = Deltas::new(true);
        let now = Instant::now();
        let mut s1 = State { compression: 1, ..state(1, 0, &z(&one)) };
        assert_eq!(d.receive(&mut s1, now), Received::Show);
        assert_eq!((&s1.payload[..], s1.compression), (&one[..], 0));
        let mut s2 = State { compression: 1, ..state(2, 1, &z(&delta_of(&one, &two))) };
        assert_eq!(d.receive(&mut s2, now), Received::Show);
        assert_eq!(&s2.payload[..], &two[..]);
        assert_eq!((d.stats.compressed, d.stats.inflated_bytes), (2, (one.len() + delta_of(&one, &two).len()) as u64));
        // Corrupt, or a compression this client does not know: lost.
        let mut bad = State { compression: 1, ..state(3, 0, b"\xff\xff\xff") };
        assert_eq!(d.receive(&mut bad, now), Received::Lost);
        let mut unknown = State { compression: 7, ..state(4, 0, &z(&one)) };
        assert_eq!(d.receive(&mut unknown, now), Received::Lost);
        // With deltas off, compressed whole states still reach the game.
        let mut off = Deltas::new(false);
        let mut s = State { compression: 1, ..state(5, 0, &z(&two)) };
        assert_eq!(off.receive(&mut s, now), Received::Show);
        assert_eq!(&s.payload[..], &two[..]);
    }

    #[test]
    fn off_keeps_nothing_and_acks_nothing() {
        let mut d = Deltas::new(false);
        assert_eq!(d.receive(&mut state(1, 0, b"x"), Instant::now()), Received::Show);
        assert!(d.rooms.is_empty() && d.due_ack().is_none());
    }
}
