//! Stamping a session sequence number onto a shared frame.
//!
//! A room encodes a reliable message once per (version, codec) group, with
//! `ServerMsg.seq` absent, and every client of the group gets the same bytes.
//! Each session numbers its reliable messages itself (`ServerMsg.seq`), so
//! the connection appends its own `seq` to the shared frame as it writes it:
//! one copy of the frame per client, for reliable messages only (states,
//! which are most of the traffic, stay shared and carry no seq).
//!
//! Appending is valid in both codecs, and written by hand because neither
//! library offers "add a field to encoded bytes":
//! - protobuf: fields may come in any order and a message may be extended by
//!   concatenation, so the frame plus `seq`'s tag and varint is the same
//!   message with `seq` set;
//! - MessagePack: the envelope is a map (`{"kind": …}`, `seq` skipped when
//!   0), so its one-entry map header becomes a two-entry header and the
//!   `"seq"` entry is appended.
//!
//! ```
//! use playhouse_protocol::envelope::{server_msg::Kind, Pong, ServerMsg};
//! use playhouse_protocol::{stamp_seq, Codec};
//!
//! for codec in [Codec::Proto, Codec::MsgPack] {
//!     let msg = ServerMsg { kind: Some(Kind::Pong(Pong { client_time: 1, server_time: 2 })), seq: 0 };
//!     let shared = codec.encode_to_vec(&msg).unwrap();
//!     let stamped = stamp_seq(codec, &shared, 42).unwrap();
//!     let back: ServerMsg = codec.decode(&stamped).unwrap();
//!     assert_eq!(back, ServerMsg { seq: 42, ..msg });
//! }
//! ```

use super::Codec;
use bytes::{BufMut, Bytes, BytesMut};

/// `ServerMsg.seq` is field 15, a varint.
const SEQ_TAG: u8 = 15 << 3; // wire type 0 (varint) in the low bits

/// A frame that cannot take a seq (it was not encoded by this crate's rules).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    /// The MessagePack frame is not a one-entry map (it has a seq already,
    /// or is not a `ServerMsg`).
    #[error("frame is not a one-entry MessagePack map (first byte {0:#04x})")]
    NotOneEntryMap(u8),
    /// Empty frame.
    #[error("empty frame")]
    Empty,
}

/// Returns `frame` (a `ServerMsg` encoded with `seq` absent) with `seq` set.
pub fn stamp_seq(codec: Codec, frame: &[u8], seq: u64) -> Result<Bytes, StampError> {
    let first = *frame.first().ok_or(StampError::Empty)?;
    let mut out = BytesMut::with_capacity(frame.len() + 14);
    match codec {
        Codec::Proto => {
            out.put_slice(frame);
            out.put_u8(SEQ_TAG);
            put_varint(&mut out, seq);
        }
        Codec::MsgPack => {
            if first != 0x81 {
                return Err(StampError::NotOneEntryMap(first));
            }
            out.put_u8(0x82);
            out.put_slice(&frame[1..]);
            out.put_slice(&[0xa3, b's', b'e', b'q']);
            put_msgpack_uint(&mut out, seq);
        }
    }
    Ok(out.freeze())
}

fn put_varint(out: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        out.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    out.put_u8(v as u8);
}

/// The shortest MessagePack encoding of an unsigned integer.
fn put_msgpack_uint(out: &mut BytesMut, v: u64) {
    match v {
        0..=0x7f => out.put_u8(v as u8),
        0x80..=0xff => out.put_slice(&[0xcc, v as u8]),
        0x100..=0xffff => {
            out.put_u8(0xcd);
            out.put_u16(v as u16);
        }
        0x1_0000..=0xffff_ffff => {
            out.put_u8(0xce);
            out.put_u32(v as u32);
        }
        _ => {
            out.put_u8(0xcf);
            out.put_u64(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::{server_msg::Kind, Message, ServerMsg};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_stamped_frame_decodes_as_the_message_with_its_seq(
            seq in 1u64..,
            room in "[a-z0-9]{0,12}",
            room_seq in any::<u64>(),
            payload in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let msg = ServerMsg {
                kind: Some(Kind::Message(Message { room, seq: room_seq, payload: payload.into() })),
                seq: 0,
            };
            for codec in [Codec::Proto, Codec::MsgPack] {
                let shared = codec.encode_to_vec(&msg).unwrap();
                let stamped = stamp_seq(codec, &shared, seq).unwrap();
                let back: ServerMsg = codec.decode(&stamped).unwrap();
                prop_assert_eq!(back.seq, seq);
                prop_assert_eq!(&back.kind, &msg.kind);
                // Same bytes as encoding the message with its seq, up to field order.
                let direct = codec.encode_to_vec(&ServerMsg { seq, ..msg.clone() }).unwrap();
                prop_assert_eq!(direct.len(), stamped.len());
            }
        }
    }

    #[test]
    fn a_frame_that_already_has_a_seq_is_refused_in_msgpack() {
        let msg = ServerMsg { kind: None, seq: 3 };
        let bytes = Codec::MsgPack.encode_to_vec(&msg).unwrap();
        assert!(matches!(stamp_seq(Codec::MsgPack, &bytes, 4), Err(StampError::NotOneEntryMap(_))));
        assert_eq!(stamp_seq(Codec::Proto, &[], 4), Err(StampError::Empty));
    }
}
