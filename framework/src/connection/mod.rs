//! The game connection: one per WebSocket, the [`crate::transport::Endpoint`]
//! that decodes envelopes with the negotiated codec and routes them to rooms,
//! the [`Outbox`] rooms write to, and the [`LiveConnections`] a shutting-down
//! server reaches every connection through.

mod endpoint;
mod live;
mod matchmaker;

pub use endpoint::{
    ConnectionShared, GameConnection, ERROR_FORBIDDEN, ERROR_NOT_IN_ROOM, ERROR_RATE_LIMITED, ERROR_RESUME_UNAVAILABLE,
    ERROR_ROOM_BUSY, ERROR_UNKNOWN_KIND,
};
pub use live::LiveConnections;
pub use matchmaker::{Creator, Matchmaker, Refusal};
