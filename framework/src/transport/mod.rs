//! The transport: RFC 6455 on the socket itself, one task per connection,
//! behind actix-web's routes (see `http.rs` and `websocket.rs`).
//!
//! It owns what a WebSocket needs regardless of what runs on top of it:
//! reassembling fragmented messages under a size cap (enforced at each
//! frame's header, before its payload is buffered), validating UTF-8 as the
//! fragments arrive, answering pings, the close handshake, heartbeat pings
//! with an RTT estimate, the idle timeout, and a kill switch that closes the
//! socket without the actor's help (for readers that stopped reading; see
//! [`KillSwitch`]). It knows nothing of rooms or envelopes: an [`Endpoint`]
//! gets whole messages and writes frames through a [`Link`]. The Autobahn
//! echo example (`cargo run --example echo`, run by `scripts/conformance.sh`)
//! and the game connection run on this same code.
//!
//! Close behaviour: a peer's close frame is echoed (its code, or an empty
//! close for an empty one) and the server then drops TCP. A bad frame that
//! the decoder consumed whole (fragmentation order, invalid UTF-8, a message
//! over the limit) starts a normal close handshake with 1002 / 1007 / 1009;
//! data arriving after our close frame is discarded. A frame the decoder
//! cannot step past (reserved bits or opcodes, unmasked, oversized control
//! frame, invalid close frame) fails the connection: close frame, then the
//! TCP connection is dropped at once (RFC 6455 §7.1.7).

mod assembler;
mod direct;
mod doorbell;
mod endpoint;
mod faults;
mod frames;
mod guard;
mod heartbeat;
mod http;
mod link;
mod socket;
mod upgrade;
mod websocket;

pub use assembler::{AssembleError, MessageAssembler, WholeMessage};
#[cfg(test)]
pub(crate) use direct::open_for_test;
pub use direct::DirectWriter;
pub use doorbell::{Closer, Doorbell, Ring};
pub use endpoint::{Ending, Endpoint, TransportConfig, TransportObserver};
#[cfg(feature = "fuzzing")]
pub(crate) use frames::read_stream;
pub use heartbeat::{Heartbeat, HeartbeatAction};
pub use http::{serve, Listen, OnConnect};
pub use link::Link;
pub use socket::{on_connect, KillSwitch, SocketOptions, NOTSENT_LOWAT};
pub use upgrade::{accept, HandshakeError};
pub use websocket::{Io, Transport};
