//! The game connection: the rules every game WebSocket follows, as a plain
//! state machine, and the thin shell that runs them on the transport.
//!
//! - [`GameConnection`] (`machine.rs`, `machine/`): the rules — admission
//!   and auth gating, decoding each envelope once with the negotiated codec,
//!   join bookkeeping and the per-user caps, routing inputs to rooms,
//!   resume, shutdown. Events go in (`start`, `handle_frame`,
//!   `handle_message`, `handle_wake`, `handle_timeout`, `stopped`);
//!   [`Actions`] come out (send this frame, close with this code, set the
//!   timer). No socket, timer or actor in it, so every rule is unit-tested
//!   (`machine/tests.rs`).
//! - [`GameEndpoint`] (`shell.rs`): the [`crate::transport::Endpoint`] that
//!   feeds the transport's events in and carries the actions out.
//! - [`Matchmaker`]: what the rules ask of matchmaking (a layer above),
//!   which the server wires in.
//! - [`LiveConnections`]: every open connection, for the shutdown notice.

mod actions;
mod live;
mod machine;
mod matchmaker;
mod shell;

pub use actions::{Action, Actions, Closer, Waker};
pub use live::LiveConnections;
pub use machine::{
    ConnectionShared, GameConnection, ERROR_FORBIDDEN, ERROR_NOT_IN_ROOM, ERROR_RATE_LIMITED, ERROR_RESUME_UNAVAILABLE,
    ERROR_ROOM_BUSY, ERROR_UNKNOWN_KIND,
};
pub use matchmaker::{Creator, Elsewhere, Matchmaker, Placement, Refusal, SessionPlace};
pub use shell::GameEndpoint;
