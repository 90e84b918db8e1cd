//! The fan-out scenario's wire contract.
//!
//! A client connects offering the subprotocol [`TOKEN`], sends
//! `ClientMsg::JoinOrCreate { room_type: "fanout" }`, gets `ServerMsg::Joined`,
//! then receives one `ServerMsg::State` per room tick whose payload is a
//! protobuf-encoded [`Tick`]. Both servers (`fanout_peer` and
//! `fanout_playhouse`) follow this contract and the same CLI
//! (`--addr --room-size --hz --state-bytes`, print `LISTENING <addr>`).

use bytes::Bytes;
use playhouse::protocol::{Codec, CodecError};
use playhouse_protocol::envelope::{server_msg, InputAck, ServerMsg, State};
use std::time::{SystemTime, UNIX_EPOCH};

pub use crate::schema::v1::{Input, Tick};

/// The subprotocol token of the scenario (protobuf codec).
pub const TOKEN: &str = "fanout.v1.proto";
/// The msgpack token `fanout_playhouse` also offers (the load generator
/// does not use it).
pub const TOKEN_MSGPACK: &str = "fanout.v1.msgpack";
/// The room type clients ask for.
pub const ROOM_TYPE: &str = "fanout";
/// The codec the load generator and the peer speak.
pub const CODEC: Codec = Codec::Proto;
/// The line prefix a server prints on stdout once it listens.
pub const LISTENING: &str = "LISTENING";

/// The scenario flags both servers take (`--addr --room-size --hz
/// --state-bytes`); `loadgen` passes the same values to either.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: String,
    /// Clients per room; rooms are filled in arrival order.
    #[arg(long, default_value_t = 20)]
    pub room_size: usize,
    /// Ticks per second of every room.
    #[arg(long, default_value_t = 30)]
    pub hz: u32,
    /// Filler bytes in every state payload.
    #[arg(long, default_value_t = 256)]
    pub state_bytes: usize,
}

/// Wall clock in microseconds since the Unix epoch (0 if the clock is
/// before the epoch).
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// Wall clock in milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    now_us() / 1000
}

/// A filler of `n` bytes for [`Tick::filler`] (a fixed non-zero pattern, so
/// nothing along the way can compress it to nothing).
pub fn filler(n: usize) -> Bytes {
    Bytes::from((0..n).map(|i| (i % 251) as u8 ^ 0x5a).collect::<Vec<u8>>())
}

/// Encodes the payload of one tick, stamped with the current wall clock.
pub fn encode_tick(codec: Codec, tick: u64, filler: &Bytes) -> Result<Vec<u8>, CodecError> {
    codec.encode_to_vec(&Tick { sent_at_us: now_us(), tick, filler: filler.clone() })
}

/// Encodes the whole `ServerMsg::State` of one tick (no input acks: the
/// scenario sends no inputs), ready to hand to every member.
pub fn encode_state(codec: Codec, room: &str, tick: u64, filler: &Bytes) -> Result<Bytes, CodecError> {
    let payload = encode_tick(codec, tick, filler)?;
    let msg = ServerMsg {
        kind: Some(server_msg::Kind::State(State {
            room: room.to_string(),
            tick,
            acks: Vec::new(),
            payload: payload.into(),
            baseline: 0,
            compression: 0,
        })),
        seq: 0,
    };
    Ok(Bytes::from(codec.encode_to_vec(&msg)?))
}

/// Length of a server-to-client WebSocket frame (unmasked) whose payload is
/// `payload` bytes long: the payload plus a 2, 4 or 10 byte header.
pub fn ws_frame_len(payload: usize) -> usize {
    payload
        + match payload {
            0..=125 => 2,
            126..=65535 => 4,
            _ => 10,
        }
}

/// The wire size of one state frame as a `fanout_playhouse` client receives
/// it, WebSocket header included: `ServerMsg::State` with a 10-character
/// room id (Playhouse's generated ids), one input ack per member of the
/// room (seq 0, as the clients send no inputs), and the [`Tick`] payload
/// with `state_bytes` of filler. Tick numbers and the clock stamp are taken
/// at the size they have a few seconds into a run (the size moves by a byte
/// or two with them; the report shows the mean size the clients saw).
pub fn state_frame_bytes(room_size: usize, state_bytes: usize) -> usize {
    const TICK: u64 = 1000;
    let payload = CODEC
        .encode_to_vec(&Tick { sent_at_us: now_us(), tick: TICK, filler: filler(state_bytes) })
        .map(|v| v.len())
        .unwrap_or(state_bytes);
    let msg = ServerMsg {
        kind: Some(server_msg::Kind::State(State {
            room: "x".repeat(10),
            tick: TICK,
            acks: (1..=room_size as u32).map(|client| InputAck { client, seq: 0 }).collect(),
            payload: Bytes::from(vec![0u8; payload]),
            baseline: 0,
            compression: 0,
        })),
        seq: 0,
    };
    let envelope = CODEC.encode_to_vec(&msg).map(|v| v.len()).unwrap_or(payload);
    ws_frame_len(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_with_the_tick_inside() {
        let bytes = encode_state(CODEC, "r1", 7, &filler(256)).expect("encode");
        let msg: ServerMsg = CODEC.decode(&bytes).expect("decode envelope");
        let Some(server_msg::Kind::State(state)) = msg.kind else {
            panic!("not a state: {msg:?}");
        };
        assert_eq!((state.room.as_str(), state.tick), ("r1", 7));
        let tick: Tick = CODEC.decode(&state.payload).expect("decode tick");
        assert_eq!(tick.tick, 7);
        assert_eq!(tick.filler.len(), 256);
        assert!(tick.sent_at_us > 0);
        // 256 filler bytes plus a small header each for the tick and the envelope
        assert!(bytes.len() > 256 && bytes.len() < 300, "{}", bytes.len());
    }

    #[test]
    fn frame_headers_grow_at_126_and_65536() {
        assert_eq!((ws_frame_len(125), ws_frame_len(126), ws_frame_len(65535)), (127, 130, 65539));
        assert_eq!(ws_frame_len(65536), 65546);
    }

    #[test]
    fn a_playhouse_state_frame_carries_an_ack_per_member() {
        let ten = state_frame_bytes(10, 256);
        let twenty = state_frame_bytes(20, 256);
        assert!(ten > 256 + 4 + 40, "{ten}");
        assert_eq!(twenty - ten, 10 * 4, "each ack: tag, length, client field");
    }
}
