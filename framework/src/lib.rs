//! # Playhouse
//!
//! An actor-based realtime game server framework. A studio writes a
//! [`room::Room`] — a plain struct with a handful of callbacks — registers it
//! with a [`server::Server`], and players connect over WebSocket, negotiate a
//! schema version and codec (MessagePack or Protobuf) through the
//! subprotocol, join rooms that tick at a fixed rate, and exchange binary
//! messages with an authoritative simulation.
//!
//! The data path is one straight line, one module per step:
//! [`transport`] (frames → whole messages) → [`connection`] (decode once,
//! route) → [`room`] (inbox → tick → encode once per group) → back through
//! each session's bounded [`session::Outbox`].
//!
//! Modules point one way: [`protocol`] < [`transport`] < [`backend`] <
//! [`session`] < [`channels`] < [`connection`] < [`room`] < [`matchmaking`] < [`server`], with [`auth`],
//! [`limits`] and [`metrics`] as leaves. A lower layer that must reach a
//! higher one holds a trait it defines and the higher one implements:
//! [`session::RoomPort`] (rooms), [`connection::Matchmaker`] (matchmaking),
//! [`room::RoomDirectory`] (where a disposed room is unlisted).
//! `docs/architecture.md` draws it.
//!
//! See the README for a complete room in a few dozen lines and
//! `docs/protocol.md` for the wire protocol.

pub mod auth;
pub mod backend;
pub mod channels;
pub mod connection;
#[doc(hidden)]
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod limits;
pub mod matchmaking;
pub mod metrics;
pub mod protocol;
pub mod room;
pub mod server;
pub mod session;
pub mod transport;

/// The names a studio needs to write and serve a room.
pub mod prelude {
    pub use crate::protocol::{Codec, Schema, WireTypes};
    pub use crate::room::{Client, ClientId, LeaveReason, Options, Reject, Room, RoomContext, RoomType};
    pub use crate::server::{BoundServer, RunningServer, Server, ServerConfig};
}

/// The README's examples (a room, a server, the Rust client), compiled as
/// doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
