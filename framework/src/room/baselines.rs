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
//!
//! A large payload (whole or delta) is compressed, once, for the clients
//! whose connection asked for it (docs/protocol.md §4.6).

use crate::protocol::compress::{Compressing, Compression, Deflater};
use crate::protocol::delta;
use crate::protocol::envelope::{server_msg::Kind, InputAck, ServerMsg, State};
use crate::protocol::Codec;
use bytes::Bytes;
use std::cell::RefCell;
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

thread_local! {
    /// One encoder per room thread, shared by the rooms it runs one after
    /// another: its state is a few hundred KiB, too much to allocate per
    /// state or to keep per room.
    static DEFLATER: RefCell<Deflater> = RefCell::new(Deflater::new());
}

/// Counts of one state's frames, for the room's stats.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FrameCounts {
    /// Delta frames encoded.
    pub(crate) deltas: u64,
    /// Deltas not smaller than the whole state (the whole state went).
    pub(crate) deltas_refused: u64,
    /// Frames whose payload went compressed.
    pub(crate) compressed: u64,
}

/// One payload a state may go as: the whole state (baseline 0) or a delta
/// against one baseline, with its frames, each encoded on first use.
struct Body {
    baseline: u64,
    payload: Bytes,
    plain: Option<Option<Bytes>>,
    /// `Some(None)`: compression was tried and did not pay.
    compressed: Option<Option<Bytes>>,
}

impl Body {
    fn new(baseline: u64, payload: Bytes) -> Self {
        Body { baseline, payload, plain: None, compressed: None }
    }
}

/// A frame of a state for one client.
#[derive(Debug, Clone)]
pub(crate) struct StateFrame {
    /// The encoded `ServerMsg`.
    pub(crate) bytes: Bytes,
    /// A delta: only a client holding its baseline can use it.
    pub(crate) delta: bool,
    /// Compressed: only a connection that asked for it gets it.
    pub(crate) compressed: bool,
}

/// The frames of one state for one (version, codec) group: the whole
/// state, and a delta per distinct baseline, each plain and, for clients
/// that asked, compressed; each encoded once, on first use, and shared by
/// every client that gets it.
pub(crate) struct StateFrames<'a> {
    room: &'a str,
    tick: u64,
    acks: Vec<InputAck>,
    codec: Codec,
    /// `bodies[0]` is the whole state; the others are deltas.
    bodies: Vec<Body>,
    /// (baseline tick, baseline payload's address and length) → body (a
    /// delta that did not pay points at the whole state).
    keys: Vec<((u64, usize, usize), usize)>,
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
            codec,
            bodies: vec![Body::new(0, payload)],
            keys: Vec::new(),
            scratch: Vec::new(),
            counts: FrameCounts::default(),
            failed: false,
        }
    }

    /// The state's payload (what a client holds once it applied the frame).
    pub(crate) fn payload(&self) -> &Bytes {
        &self.bodies[0].payload
    }

    /// The frame for a client holding `baseline` (tick and payload), or
    /// the whole state; compressed if its connection asked for
    /// `compression` and that makes it smaller. `None` if the envelope
    /// failed to encode.
    pub(crate) fn frame(
        &mut self,
        baseline: Option<(u64, &Bytes)>,
        compression: Option<Compressing>,
    ) -> Option<StateFrame> {
        let i = match baseline {
            None => 0,
            Some((tick, base)) => self.delta(tick, base),
        };
        let delta = i != 0;
        if let Some(c) = compression {
            if let Some(bytes) = self.compressed(i, c) {
                return Some(StateFrame { bytes, delta, compressed: true });
            }
        }
        let body = &self.bodies[i];
        let bytes = match &body.plain {
            Some(f) => f.clone(),
            None => {
                let f = self.encode(self.bodies[i].payload.clone(), self.bodies[i].baseline, 0);
                self.bodies[i].plain = Some(f.clone());
                f
            }
        }?;
        Some(StateFrame { bytes, delta, compressed: false })
    }

    /// The body of the delta against `base` (sent with `tick`), computed
    /// once per baseline: clients whose baselines are clones of one payload
    /// share it. 0 (the whole state) when the delta is not smaller.
    fn delta(&mut self, tick: u64, base: &Bytes) -> usize {
        let key = (tick, base.as_ptr() as usize, base.len());
        if let Some((_, i)) = self.keys.iter().find(|(k, _)| *k == key) {
            return *i;
        }
        self.scratch.clear();
        delta::encode(base, &self.bodies[0].payload, &mut self.scratch);
        let i = if self.scratch.len() < self.bodies[0].payload.len() {
            self.counts.deltas += 1;
            self.bodies.push(Body::new(tick, Bytes::copy_from_slice(&self.scratch)));
            self.bodies.len() - 1
        } else {
            self.counts.deltas_refused += 1;
            0
        };
        self.keys.push((key, i));
        i
    }

    /// Body `i`'s frame with its payload compressed, if large enough for
    /// that to pay and it did.
    fn compressed(&mut self, i: usize, c: Compressing) -> Option<Bytes> {
        if self.bodies[i].payload.len() < c.min_bytes {
            return None;
        }
        if self.bodies[i].compressed.is_none() {
            self.scratch.clear();
            let done = match c.algorithm {
                Compression::Deflate => {
                    DEFLATER.with_borrow_mut(|d| d.deflate(&self.bodies[i].payload, &mut self.scratch))
                }
            };
            let f = if done.is_ok() && self.scratch.len() < self.bodies[i].payload.len() {
                let z = Bytes::copy_from_slice(&self.scratch);
                let f = self.encode(z, self.bodies[i].baseline, c.algorithm.wire());
                self.counts.compressed += u64::from(f.is_some());
                f
            } else {
                None
            };
            self.bodies[i].compressed = Some(f);
        }
        self.bodies[i].compressed.clone().flatten()
    }

    /// Whether an envelope failed to encode (a bug, counted by the room).
    pub(crate) fn failed(&self) -> bool {
        self.failed
    }

    fn encode(&mut self, payload: Bytes, baseline: u64, compression: u32) -> Option<Bytes> {
        let state = State {
            room: self.room.to_string(),
            tick: self.tick,
            acks: self.acks.clone(),
            payload,
            baseline,
            compression,
        };
        let msg = ServerMsg { kind: Some(Kind::State(state)), seq: 0 };
        let frame = self.codec.encode_to_vec(&msg).ok().map(Bytes::from);
        self.failed |= frame.is_none();
        frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::compress;

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
            let a = frames.frame(Some((7, &old)), None).expect("encodes");
            let b = frames.frame(Some((7, &old.clone())), None).expect("encodes");
            assert_eq!(a.bytes.as_ptr(), b.bytes.as_ptr(), "clients at one baseline share the frame");
            assert!(a.delta && !a.compressed);
            let s = decode(codec, &a.bytes);
            assert_eq!((s.tick, s.baseline), (8, 7));
            let mut out = Vec::new();
            delta::apply(&old, &s.payload, 1 << 16, &mut out).expect("applies");
            assert_eq!(out, new);
            // Nothing in common: the whole state, shared with clients that hold none.
            let w = frames.frame(Some((6, &other)), None).expect("encodes");
            let none = frames.frame(None, None).expect("encodes");
            assert_eq!(w.bytes.as_ptr(), none.bytes.as_ptr());
            assert!(!w.delta);
            let s = decode(codec, &none.bytes);
            assert_eq!((s.baseline, &s.payload[..]), (0, &new[..]));
            assert_eq!((frames.counts.deltas, frames.counts.deltas_refused), (1, 1));
        }
    }

    #[test]
    fn large_payloads_are_compressed_once_for_the_clients_that_asked() {
        let deflate = Some(Compressing { algorithm: Compression::Deflate, min_bytes: compress::MIN_BYTES });
        let inflated = |s: &State| {
            let mut out = Vec::new();
            assert!(compress::inflate_state(s.compression, &s.payload, 1 << 20, &mut out).expect("inflates"));
            out
        };
        for codec in Codec::ALL {
            // Compressible, like a msgpack state with its field names.
            let old: Bytes = b"{x:1,y:2,hp:100,name:player}".repeat(40).into();
            let mut new = old.to_vec();
            new[17] = b'9';
            new[900] = b'7';
            let mut frames = StateFrames::new("r", 8, Vec::new(), Bytes::from(new.clone()), codec);
            let z = frames.frame(None, deflate).expect("encodes");
            let z2 = frames.frame(None, deflate).expect("encodes");
            let plain = frames.frame(None, None).expect("encodes");
            assert!(z.compressed && !z.delta && !plain.compressed);
            assert_eq!(z.bytes.as_ptr(), z2.bytes.as_ptr(), "compressed once, shared");
            assert!(z.bytes.len() * 4 < plain.bytes.len(), "{} vs {}", z.bytes.len(), plain.bytes.len());
            let s = decode(codec, &z.bytes);
            assert_eq!((s.baseline, s.compression), (0, 1));
            assert_eq!(inflated(&s), new);
            assert_eq!(decode(codec, &plain.bytes).compression, 0);
            // A small delta goes as it is, even to a client that asked.
            let d = frames.frame(Some((7, &old)), deflate).expect("encodes");
            assert!(d.delta && !d.compressed);
            assert_eq!(frames.counts.compressed, 1);

            // Small or incompressible payloads are not compressed.
            let mut small = StateFrames::new("r", 8, Vec::new(), Bytes::from(vec![1u8; 100]), codec);
            assert!(!small.frame(None, deflate).expect("encodes").compressed);
            let noise: Vec<u8> = (0..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
            let mut noisy = StateFrames::new("r", 8, Vec::new(), Bytes::from(noise.clone()), codec);
            let f = noisy.frame(None, deflate).expect("encodes");
            if !f.compressed {
                assert_eq!(decode(codec, &f.bytes).payload, noise);
            }
            // A large delta is compressed too, and inflates to the delta.
            let far: Vec<u8> = new.iter().enumerate().map(|(i, b)| if i % 5 == 0 { b ^ 0x55 } else { *b }).collect();
            let mut frames = StateFrames::new("r", 9, Vec::new(), Bytes::from(far.clone()), codec);
            let d = frames.frame(Some((8, &Bytes::from(new.clone()))), deflate).expect("encodes");
            let s = decode(codec, &d.bytes);
            assert!(d.delta && d.compressed && s.baseline == 8);
            let mut out = Vec::new();
            delta::apply(&new, &inflated(&s), 1 << 16, &mut out).expect("applies");
            assert_eq!(out, far);
        }
    }
}
