//! The wire protocol, as the server sees it: everything in the
//! `playhouse-protocol` crate (codecs, negotiation, close codes, the
//! envelope, seq stamping, input-seq acks; shared with the clients),
//! re-exported here, plus a game's [`Schema`] (its versions and the adapters
//! between them), which only the server needs.
//!
//! Everything here is a pure function or a plain type: no sockets, no actors.
//! `docs/protocol.md` is the specification these types implement.

mod schema;

pub use playhouse_protocol::{
    compress, delta, envelope, input_seq, stamp_seq, ClientId, CloseCode, Codec, CodecError, ConnId, Deprecation,
    NegotiationError, Negotiator, RoomId, SessionId, StampError, Sunset, SunsetError, Token, TokenParseError,
    WireMessage, MAX_MSGPACK_DEPTH,
};
pub use schema::{Schema, SchemaError, WireTypes};
