//! A whole protocol frame as JSON: the envelope (`ServerMsg` or
//! `ClientMsg`, in the token's codec) with its game payload decoded
//! through [`Payloads`].
//!
//! The shape, one object per frame: `{"kind": "state", "seq": 7, "room":
//! …, "tick": …, "payload": {…}}` — the envelope kind's name, the reliable
//! `seq` when the frame carries one (`decode`; `connect` prints the events
//! the Rust client hands on, which no longer carry it), the kind's own fields in the protocol's JSON
//! names (camelCase), and the payload as the game's JSON. A payload that
//! cannot be shown on its own says why in its place: `{"delta": {…}}` for
//! a delta state (it needs the baseline the client holds) and
//! `{"error": "…", "base64": "…"}` for bytes that do not decode.

use crate::payload::{Kind, Payloads};
use base64::Engine as _;
use playhouse_protocol::compress;
use playhouse_protocol::envelope::{client_msg, server_msg, ClientMsg, ServerMsg};
use playhouse_protocol::Codec;
use serde_json::{json, Map, Value};

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Server to client (`ServerMsg`).
    FromServer,
    /// Client to server (`ClientMsg`).
    FromClient,
}

/// Why a frame does not decode.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Neither envelope fits the bytes.
    #[error("not a {codec} ServerMsg ({server}) nor a ClientMsg ({client})")]
    Envelope {
        /// The codec tried.
        codec: Codec,
        /// Why it is not a `ServerMsg`.
        server: String,
        /// Why it is not a `ClientMsg`.
        client: String,
    },
    /// The envelope is not the one asked for.
    #[error("not a {codec} {which}: {why}")]
    Wrong {
        /// The codec tried.
        codec: Codec,
        /// `ServerMsg` or `ClientMsg`.
        which: &'static str,
        /// The decoder's words.
        why: String,
    },
}

/// Decodes `bytes` as a frame going `dir`, or either way when `None`
/// (a `ServerMsg` first; an envelope with no kind known to this build is
/// tried the other way).
pub fn decode(bytes: &[u8], dir: Option<Direction>, payloads: &Payloads) -> Result<Value, FrameError> {
    let codec = payloads.codec();
    let server = || codec.decode::<ServerMsg>(bytes).map_err(|e| e.to_string());
    let client = || codec.decode::<ClientMsg>(bytes).map_err(|e| e.to_string());
    match dir {
        Some(Direction::FromServer) => server().map(|m| server_json(&m, payloads)).map_err(|why| FrameError::Wrong {
            codec,
            which: "ServerMsg",
            why,
        }),
        Some(Direction::FromClient) => client().map(|m| client_json(&m, payloads)).map_err(|why| FrameError::Wrong {
            codec,
            which: "ClientMsg",
            why,
        }),
        None => match server() {
            Ok(m) if m.kind.is_some() => Ok(server_json(&m, payloads)),
            first => match client() {
                Ok(m) if m.kind.is_some() => Ok(client_json(&m, payloads)),
                Ok(m) => Ok(client_json(&m, payloads)),
                Err(client) => match first {
                    Ok(m) => Ok(server_json(&m, payloads)),
                    Err(server) => Err(FrameError::Envelope { codec, server, client }),
                },
            },
        },
    }
}

/// A `ServerMsg` as JSON.
pub fn server_json(msg: &ServerMsg, payloads: &Payloads) -> Value {
    let Some(kind) = &msg.kind else {
        return json!({"kind": "unknown", "seq": msg.seq});
    };
    let mut obj = flatten(serde_json::to_value(kind).unwrap_or(Value::Null));
    if msg.seq != 0 {
        obj.insert("seq".into(), msg.seq.into());
    }
    match kind {
        server_msg::Kind::State(s) => {
            let shown = if s.baseline != 0 {
                json!({"delta": {"baseline": s.baseline, "bytes": s.payload.len(), "compressed": s.compression != 0}})
            } else {
                let mut whole = Vec::new();
                match compress::inflate_state(s.compression, &s.payload, compress::MAX_STATE_BYTES, &mut whole) {
                    Ok(true) => payload(payloads, Kind::State, &whole),
                    Ok(false) => payload(payloads, Kind::State, &s.payload),
                    Err(e) => unreadable(&e.to_string(), &s.payload),
                }
            };
            obj.insert("payload".into(), shown);
        }
        server_msg::Kind::Message(m) => {
            obj.insert("payload".into(), payload(payloads, Kind::Message, &m.payload));
        }
        server_msg::Kind::Publication(p) => {
            obj.insert("payload".into(), channel_payload(payloads.codec(), &p.payload));
        }
        _ => {}
    }
    Value::Object(obj)
}

/// A `ClientMsg` as JSON.
pub fn client_json(msg: &ClientMsg, payloads: &Payloads) -> Value {
    let Some(kind) = &msg.kind else {
        return json!({"kind": "unknown"});
    };
    let mut obj = flatten(serde_json::to_value(kind).unwrap_or(Value::Null));
    match kind {
        client_msg::Kind::Input(i) => {
            obj.insert("payload".into(), payload(payloads, Kind::Input, &i.payload));
        }
        client_msg::Kind::Publish(p) => {
            obj.insert("payload".into(), channel_payload(payloads.codec(), &p.payload));
        }
        _ => {}
    }
    Value::Object(obj)
}

/// `{"state": {fields}}` (serde's form of the oneof) → `{"kind": "state",
/// fields…}`.
fn flatten(v: Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Value::Object(outer) = v {
        if let Some((name, inner)) = outer.into_iter().next() {
            out.insert("kind".into(), Value::String(name));
            if let Value::Object(fields) = inner {
                out.extend(fields);
            }
        }
    }
    out
}

fn payload(payloads: &Payloads, kind: Kind, bytes: &[u8]) -> Value {
    payloads.to_json(kind, bytes).unwrap_or_else(|e| unreadable(&e.to_string(), bytes))
}

/// A channel's payload is the application's own bytes, in no schema:
/// MessagePack shown as JSON where it is, UTF-8 text as a string, else
/// base64.
fn channel_payload(codec: Codec, bytes: &[u8]) -> Value {
    if codec == Codec::MsgPack {
        if let Ok(v) = playhouse_protocol::json::msgpack_to_json(bytes) {
            return v;
        }
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => json!({"text": s}),
        Err(_) => json!({"base64": base64::engine::general_purpose::STANDARD.encode(bytes)}),
    }
}

fn unreadable(why: &str, bytes: &[u8]) -> Value {
    json!({"error": why, "base64": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::tests::arena;
    use arena::proto::v2;
    use playhouse_protocol::envelope::{State, Welcome};

    fn state_payload(codec: Codec) -> Vec<u8> {
        let s = v2::State {
            players: vec![v2::Player { id: 1, name: "bo".into(), ..Default::default() }],
            ..Default::default()
        };
        codec.encode_to_vec(&v2::Output { kind: Some(v2::output::Kind::State(s)) }).unwrap()
    }

    fn state_frame(codec: Codec, s: State) -> Vec<u8> {
        codec.encode_to_vec(&ServerMsg { seq: 0, kind: Some(server_msg::Kind::State(s)) }).unwrap()
    }

    #[test]
    fn a_state_frame_shows_its_envelope_and_its_game_state() {
        for codec in [Codec::Proto, Codec::MsgPack] {
            let s = State { room: "r1".into(), tick: 42, payload: state_payload(codec).into(), ..Default::default() };
            let v = decode(&state_frame(codec, s), None, &arena(codec)).unwrap();
            assert_eq!(v["kind"], "state", "{v}");
            assert_eq!((v["room"].as_str(), v["tick"].as_u64()), (Some("r1"), Some(42)), "{v}");
            let game = if codec == Codec::Proto { &v["payload"] } else { &v["payload"]["kind"] };
            assert_eq!(game["state"]["players"][0]["name"], "bo", "{v}");
        }
    }

    #[test]
    fn a_compressed_state_is_inflated_and_a_delta_is_named_not_guessed() {
        let codec = Codec::Proto;
        let plain = state_payload(codec);
        let mut z = Vec::new();
        compress::deflate(&plain, &mut z).unwrap();
        let s = State { room: "r".into(), tick: 1, payload: z.into(), compression: 1, ..Default::default() };
        let v = decode(&state_frame(codec, s), Some(Direction::FromServer), &arena(codec)).unwrap();
        assert_eq!(v["payload"]["state"]["players"][0]["name"], "bo", "{v}");
        let d = State { room: "r".into(), tick: 2, baseline: 1, payload: vec![1, 2, 3].into(), ..Default::default() };
        let v = decode(&state_frame(codec, d), None, &arena(codec)).unwrap();
        assert_eq!(v["payload"]["delta"]["baseline"], 1, "{v}");
        assert_eq!(v["payload"]["delta"]["bytes"], 3, "{v}");
    }

    #[test]
    fn a_client_frame_is_read_as_one_with_its_input_decoded() {
        for codec in [Codec::Proto, Codec::MsgPack] {
            let input = codec.encode_to_vec(&v2::Input { move_y: -1, sprint: true, ..Default::default() }).unwrap();
            let msg = ClientMsg {
                kind: Some(client_msg::Kind::Input(playhouse_protocol::envelope::Input {
                    room: "r".into(),
                    seq: 9,
                    payload: input.into(),
                })),
            };
            let bytes = codec.encode_to_vec(&msg).unwrap();
            let v = decode(&bytes, Some(Direction::FromClient), &arena(codec)).unwrap();
            assert_eq!((v["kind"].as_str(), v["seq"].as_u64()), (Some("input"), Some(9)), "{v}");
            assert_eq!(
                (v["payload"]["moveY"].as_i64(), v["payload"]["sprint"].as_bool()),
                (Some(-1), Some(true)),
                "{v}"
            );
            if codec == Codec::MsgPack {
                // Auto: MessagePack names its fields, so a ClientMsg is not
                // mistaken for a ServerMsg.
                assert_eq!(decode(&bytes, None, &arena(codec)).unwrap()["kind"], "input");
            }
        }
    }

    #[test]
    fn a_reliable_frame_keeps_its_seq_and_garbage_is_an_error_naming_both_envelopes() {
        let codec = Codec::MsgPack;
        let w = ServerMsg {
            seq: 5,
            kind: Some(server_msg::Kind::Welcome(Welcome { session: "s".into(), ..Default::default() })),
        };
        let v = decode(&codec.encode_to_vec(&w).unwrap(), None, &arena(codec)).unwrap();
        assert_eq!(
            (v["kind"].as_str(), v["seq"].as_u64(), v["session"].as_str()),
            (Some("welcome"), Some(5), Some("s"))
        );
        let e = decode(&[0xa5, b'a'], None, &arena(codec)).unwrap_err();
        assert!(e.to_string().contains("ServerMsg") && e.to_string().contains("ClientMsg"), "{e}");
    }

    #[test]
    fn a_payload_that_does_not_decode_is_shown_as_bytes_with_the_reason() {
        let codec = Codec::Proto;
        let s = State { room: "r".into(), tick: 1, payload: vec![0xff, 0xff].into(), ..Default::default() };
        let v = decode(&state_frame(codec, s), None, &arena(codec)).unwrap();
        assert_eq!(v["payload"]["base64"], "//8=", "{v}");
        assert!(v["payload"]["error"].as_str().unwrap().contains("arena.v2.Output"), "{v}");
    }
}
