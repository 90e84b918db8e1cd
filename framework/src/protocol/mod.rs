//! The wire protocol: codecs, subprotocol negotiation, close codes and the
//! envelope types (re-exported from `playhouse-proto`).
//!
//! Everything here is a pure function or a plain type: no sockets, no actors.
//! `docs/protocol.md` is the specification these types implement.

mod close;
mod codec;
pub mod input_seq;
mod negotiate;
mod schema;
mod stamp;

pub use close::CloseCode;
pub use codec::{Codec, CodecError, WireMessage, MAX_MSGPACK_DEPTH};
pub use negotiate::{NegotiationError, Negotiator, Token, TokenParseError};
pub use schema::{Schema, SchemaError};
pub use stamp::{stamp_seq, StampError};

/// The envelope types (`proto/schemas/playhouse/envelope.proto`).
pub use playhouse_proto::envelope;
