//! The transport: RFC 6455 on top of actix-web-actors, one actor per socket.
//!
//! It owns what a WebSocket needs regardless of what runs on top of it:
//! reassembling fragmented messages under a size cap, validating UTF-8 after
//! reassembly, answering pings, the close handshake, heartbeat pings with an
//! RTT estimate, the idle timeout, and a kill switch that closes the socket
//! without the actor's help (for readers that stopped reading; see
//! [`KillSwitch`]). It knows nothing of rooms or envelopes: an [`Endpoint`]
//! gets whole messages and writes frames through a [`Link`]. The Autobahn
//! echo example (`cargo run --example echo`) and the game connection run on
//! this same code.

mod actor;
mod assembler;
mod heartbeat;
mod socket;

pub use actor::{accept, Endpoint, Link, Transport, TransportConfig, TransportObserver, Wake};
pub use assembler::{AssembleError, MessageAssembler, WholeMessage};
pub use heartbeat::{Heartbeat, HeartbeatAction};
pub use socket::{on_connect, KillSwitch, SocketOptions};
