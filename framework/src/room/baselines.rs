//! Delta states (docs/protocol.md §4.5): what a room sent each client
//! lately ([`SentStates`]), and the frames of one state for a group of
//! clients, one per baseline they hold ([`StateFrames`]).
//!
//! A client that acknowledges states (`StateAck`) gets each later state as
//! a delta against the newest one it acknowledged, if the room still holds
//! what it sent that client with that tick. The delta is computed once per
//! (group, baseline) and the clients of a group at the same baseline share
//! the frame, as they share the whole state's. A client that never acks
//! gets the group's whole-state frame, as before, and costs no history.

use crate::protocol::delta;
use crate::protocol::envelope::{server_msg::Kind, InputAck, ServerMsg, State};
use crate::protocol::Codec;
use bytes::Bytes;
use std::collections::VecDeque;

/// How many of the latest states sent to a client stay usable as its
/// baseline: half a second at 60 Hz, a second at 30 Hz. An ack older than
/// that (a client further behind) gets a whole state.
pub(crate) const HISTORY: usize = 32;

/// The payloads a room sent one client with their ticks, newest last
/// (handles to the group's shared payloads: no copies).
#[derive(Debug, Default)]
pub(crate) struct SentStates {
    states: VecDeque<(u64, Bytes)>,
}

impl SentStates {
    /// Records the payload sent with `tick`. A second state in one tick
    /// (the room sent twice) makes that tick ambiguous: the client holds
    /// whichever reached it, so neither may serve as a baseline.
    pub(crate) fn record(&mut self, tick: u64, payload: &Bytes) {
        match self.states.back() {
            Some((t, _)) if *t == tick => {
                self.states.pop_back();
                return;
            }
            Some((t, _)) if *t > tick => self.states.clear(),
            _ => {}
        }
        if self.states.len() == HISTORY {
            self.states.pop_front();
        }
        self.states.push_back((tick, payload.clone()));
    }

    /// The payload sent with `tick`, if held.
    pub(crate) fn get(&self, tick: u64) -> Option<&Bytes> {
        // Ticks are increasing: search from the newest, where acks land.
        self.states.iter().rev().find(|(t, _)| *t == tick).map(|(_, p)| p)
    }
}

/// Counts of one state's frames, for the room's stats.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FrameCounts {
    /// Delta frames encoded.
    pub(crate) deltas: u64,
    /// Deltas not smaller than the whole state (the whole state went).
    pub(crate) deltas_refused: u64,
}

/// The frames of one state for one (version, codec) group: the whole
/// state, and a delta per distinct baseline, each encoded on first use.
pub(crate) struct StateFrames<'a> {
    room: &'a str,
    tick: u64,
    acks: Vec<InputAck>,
    payload: Bytes,
    codec: Codec,
    whole: Option<Option<Bytes>>,
    /// (baseline tick, baseline payload's address and length) → frame.
    deltas: Vec<((u64, usize, usize), Option<Bytes>)>,
    scratch: Vec<u8>,
    pub(crate) counts: FrameCounts,
    failed: bool,
}

impl<'a> StateFrames<'a> {
    /// The frames of `payload`, the state of `tick` encoded for the group.
    pub(crate) fn new(room: &'a str, tick: u64, acks: Vec<InputAck>, payload: Bytes, codec: Codec) -> Self {
        StateFrames {
            room,
            tick,
            acks,
            payload,
            codec,
            whole: None,
            deltas: Vec::new(),
            scratch: Vec::new(),
            counts: FrameCounts::default(),
            failed: false,
        }
    }

    /// The state's payload (what a client holds once it applied the frame).
    pub(crate) fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// The frame for a client holding `baseline` (tick and payload), or
    /// the whole state. `None` if the envelope failed to encode.
    pub(crate) fn frame(&mut self, baseline: Option<(u64, &Bytes)>) -> Option<Bytes> {
        let Some((base_tick, base)) = baseline else { return self.whole() };
        // Clients whose baselines are clones of one payload share a delta.
        let key = (base_tick, base.as_ptr() as usize, base.len());
        if let Some((_, f)) = self.deltas.iter().find(|(k, _)| *k == key) {
            return f.clone();
        }
        self.scratch.clear();
        delta::encode(base, &self.payload, &mut self.scratch);
        let frame = if self.scratch.len() < self.payload.len() {
            self.counts.deltas += 1;
            let payload = Bytes::copy_from_slice(&self.scratch);
            self.encode(payload, base_tick)
        } else {
            self.counts.deltas_refused += 1;
            self.whole()
        };
        self.deltas.push((key, frame.clone()));
        frame
    }

    fn whole(&mut self) -> Option<Bytes> {
        if self.whole.is_none() {
            let whole = self.encode(self.payload.clone(), 0);
            self.whole = Some(whole);
        }
        self.whole.clone().flatten()
    }

    /// Whether `frame` (one this returned) is a delta, not the whole state.
    pub(crate) fn is_delta(&self, frame: &Bytes) -> bool {
        let whole = self.whole.as_ref().and_then(|w| w.as_ref());
        whole.is_none_or(|w| w.as_ptr() != frame.as_ptr())
    }

    /// Whether an envelope failed to encode (a bug, counted by the room).
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    fn encode(&mut self, payload: Bytes, baseline: u64) -> Option<Bytes> {
        let state = State { room: self.room.to_string(), tick: self.tick, acks: self.acks.clone(), payload, baseline };
        let msg = ServerMsg { kind: Some(Kind::State(state)), seq: 0 };
        let frame = self.codec.encode_to_vec(&msg).ok().map(Bytes::from);
        self.failed |= frame.is_none();
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(codec: Codec, frame: &Bytes) -> State {
        match codec.decode::<ServerMsg>(frame).expect("decodes").kind {
            Some(Kind::State(s)) => s,
            other => panic!("not a state: {other:?}"),
        }
    }

    #[test]
    fn history_is_bounded_and_a_tick_sent_twice_is_no_baseline() {
        let mut sent = SentStates::default();
        let p = Bytes::from_static(b"p");
        for t in 1..=(HISTORY as u64 + 5) {
            sent.record(t, &p);
        }
        assert!(sent.get(5).is_none(), "the oldest are gone");
        assert!(sent.get(6).is_some() && sent.get(HISTORY as u64 + 5).is_some());
        let last = HISTORY as u64 + 5;
        sent.record(last, &Bytes::from_static(b"q"));
        assert!(sent.get(last).is_none(), "two payloads with one tick: neither is a baseline");
        sent.record(3, &p);
        assert!(sent.get(6).is_none() && sent.get(3).is_some(), "ticks going back start over");
    }

    #[test]
    fn one_delta_per_baseline_and_the_whole_state_otherwise() {
        for codec in Codec::ALL {
            let old = Bytes::from((0..200u8).collect::<Vec<_>>());
            let mut new = old.to_vec();
            new[17] = 1;
            let other = Bytes::from(vec![9u8; 200]);
            let mut frames = StateFrames::new("r", 8, Vec::new(), Bytes::from(new.clone()), codec);
            let a = frames.frame(Some((7, &old))).expect("encodes");
            let b = frames.frame(Some((7, &old.clone()))).expect("encodes");
            assert_eq!(a.as_ptr(), b.as_ptr(), "clients at one baseline share the frame");
            let s = decode(codec, &a);
            assert_eq!((s.tick, s.baseline), (8, 7));
            let mut out = Vec::new();
            delta::apply(&old, &s.payload, 1 << 16, &mut out).expect("applies");
            assert_eq!(out, new);
            // Nothing in common: the whole state, shared with clients that hold none.
            let w = frames.frame(Some((6, &other))).expect("encodes");
            let none = frames.frame(None).expect("encodes");
            assert_eq!(w.as_ptr(), none.as_ptr());
            let s = decode(codec, &none);
            assert_eq!((s.baseline, &s.payload[..]), (0, &new[..]));
            assert_eq!((frames.counts.deltas, frames.counts.deltas_refused), (1, 1));
        }
    }
}
