//! Wire types of Playhouse, generated from the `.proto` files in
//! `proto/schemas/` (one source of truth for both codecs).
//!
//! - [`envelope`]: the envelope every connection speaks ([`envelope::ClientMsg`]
//!   and [`envelope::ServerMsg`]).
//! - [`arena`]: the sample game's schema in two versions, served side by side.
//!
//! Every type is a [`prost::Message`] (protobuf codec) and also derives serde
//! with camelCase field names (MessagePack codec), so a message looks the same
//! to a protobufjs and a msgpack JavaScript client.
//!
//! ```
//! use playhouse_proto::envelope::{client_msg::Kind, ClientMsg, Ping};
//! use prost::Message;
//!
//! let msg = ClientMsg { kind: Some(Kind::Ping(Ping { client_time: 7 })) };
//! let bytes = msg.encode_to_vec();
//! assert_eq!(ClientMsg::decode(bytes.as_slice()).unwrap(), msg);
//! ```

#![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]

/// The Playhouse envelope (`proto/schemas/playhouse/envelope.proto`).
pub mod envelope {
    include!(concat!(env!("OUT_DIR"), "/playhouse.envelope.rs"));
}

/// The sample game's schema, one module per version.
pub mod arena {
    /// `arena.v1`: the first version (still served).
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/arena.v1.rs"));
    }
    /// `arena.v2`: the current version (adds velocity, names and sprint).
    pub mod v2 {
        include!(concat!(env!("OUT_DIR"), "/arena.v2.rs"));
    }
}

/// The load generator's schema (`proto/schemas/bench/v1.proto`).
pub mod bench {
    /// `bench.v1`: the fan-out scenario's input and state payloads.
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/bench.v1.rs"));
    }
}

/// Whether a `u64` field is 0 (serde's `skip_serializing_if` for
/// `ServerMsg.seq`, which must be absent from a frame shared by a group).
#[doc(hidden)]
pub fn is_zero(v: &u64) -> bool {
    *v == 0
}
