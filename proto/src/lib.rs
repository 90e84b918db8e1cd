//! The Playhouse wire protocol: what the server and both clients share.
//!
//! - [`envelope`]: the messages every connection speaks ([`envelope::ClientMsg`]
//!   and [`envelope::ServerMsg`]), generated from
//!   `proto/schemas/playhouse/envelope.proto`. Every type is a
//!   [`prost::Message`] (protobuf codec) and also derives serde with
//!   camelCase field names (MessagePack codec), so a message looks the same
//!   to a protobufjs and a msgpack JavaScript client.
//! - [`Codec`]: MessagePack or Protobuf, chosen per connection.
//! - [`Token`] and [`Negotiator`]: the `<app>.v<N>.<codec>` subprotocol
//!   tokens and the rule that picks one at the handshake.
//! - [`Deprecation`] and [`Sunset`]: a version's life cycle; a deprecated
//!   version is still served, and `Welcome` says so.
//! - [`stamp_seq`]: appends a session's seq to a frame encoded once for many
//!   clients.
//! - [`input_seq`]: how input seqs are compared and acked (RFC 1982).
//! - [`delta`]: the binary deltas of `State` payloads against a state the
//!   client acknowledged (`StateAck`).
//! - [`compress`]: DEFLATE of large `State` payloads, for clients that ask.
//! - [`CloseCode`]: every close code Playhouse sends; [`RoomId`] and
//!   [`ClientId`]: the ids rooms and their clients go by.
//!
//! It is plain types and pure functions: no sockets, no runtime, no server
//! crates, so a client (Rust, or a tool) depends on it alone.
//! `docs/protocol.md` is the specification these types implement.
//!
//! ```
//! use playhouse_protocol::envelope::{client_msg::Kind, ClientMsg, Ping};
//! use playhouse_protocol::Codec;
//!
//! let msg = ClientMsg { kind: Some(Kind::Ping(Ping { client_time: 7 })) };
//! for codec in [Codec::MsgPack, Codec::Proto] {
//!     let bytes = codec.encode_to_vec(&msg).unwrap();
//!     assert_eq!(codec.decode::<ClientMsg>(&bytes).unwrap(), msg);
//! }
//! ```

#![warn(missing_docs)]

mod close;
mod codec;
pub mod compress;
pub mod delta;
pub mod ids;
pub mod input_seq;
#[cfg(feature = "json")]
pub mod json;
mod lifecycle;
mod negotiate;
mod stamp;

pub use close::CloseCode;
pub use codec::{Codec, CodecError, WireMessage, MAX_MSGPACK_DEPTH};
pub use ids::{ClientId, ConnId, RoomId, SessionId};
pub use lifecycle::{Deprecation, Sunset, SunsetError};
pub use negotiate::{NegotiationError, Negotiator, Token, TokenParseError};
pub use stamp::{stamp_seq, StampError};

/// The Playhouse envelope (`proto/schemas/playhouse/envelope.proto`).
#[allow(clippy::large_enum_variant, clippy::doc_lazy_continuation, missing_docs)]
pub mod envelope {
    include!(concat!(env!("OUT_DIR"), "/playhouse.envelope.rs"));
}

/// Whether a number field is 0 (serde's `skip_serializing_if` for
/// `ServerMsg.seq`, which must be absent from a frame shared by a group,
/// and for fields that are new, so older encodings stay byte for byte).
#[doc(hidden)]
pub fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}
