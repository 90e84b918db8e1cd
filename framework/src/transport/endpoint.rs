//! What runs on top of the transport ([`Endpoint`]), how it is configured
//! and observed, and how a connection ends.

use super::{Link, WholeMessage};
use std::time::Duration;

/// Limits and timers of the transport.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Largest whole message accepted (bytes); larger → close 1009.
    pub max_message_size: usize,
    /// How often the server pings.
    pub heartbeat_interval: Duration,
    /// Close a connection from which nothing arrived for this long (1008).
    pub idle_timeout: Duration,
    /// After sending a close frame, how long to wait for the peer's.
    pub close_timeout: Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_message_size: 64 * 1024,
            heartbeat_interval: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(15),
            close_timeout: Duration::from_secs(2),
        }
    }
}

/// Counts what crosses the transport (the server wires it to `/metrics`).
pub trait TransportObserver: Send + Sync + 'static {
    /// A whole message arrived.
    fn message_in(&self, _bytes: usize) {}
    /// A data frame was written.
    fn message_out(&self, _bytes: usize) {}
    /// The server closed the connection with `code`.
    fn closed(&self, _code: u16) {}
}

impl TransportObserver for () {}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The peer sent a close frame (with this code, if any).
    PeerClosed(Option<u16>),
    /// The server closed it with this code.
    ServerClosed(u16),
    /// Lost: the socket failed or closed without a close frame, or nothing
    /// arrived within the idle timeout.
    Lost,
}

impl Ending {
    /// Whether the client may want to come back: the connection was lost,
    /// or the peer closed with anything but 1000 (normal) or no code. A
    /// browser leaving a page says 1001; an app going to the background may
    /// say anything.
    pub fn is_resumable(self) -> bool {
        match self {
            Ending::Lost => true,
            Ending::PeerClosed(code) => code.is_some_and(|c| c != 1000),
            Ending::ServerClosed(_) => false,
        }
    }
}

/// What runs on top of the transport.
pub trait Endpoint: Unpin + Sized + 'static {
    /// The socket is open.
    fn started(&mut self, _link: &mut Link<'_>) {}
    /// A frame arrived with `bytes` of payload: data, continuation, ping or
    /// pong (close frames are always taken). Return `false` to drop it: a
    /// dropped data frame drops the whole message it belongs to, a dropped
    /// ping gets no pong. The game connection charges its rate limit here, so
    /// a message sent as a million fragments costs a million frames.
    fn on_frame(&mut self, _bytes: usize, _link: &mut Link<'_>) -> bool {
        true
    }
    /// A whole message arrived.
    fn on_message(&mut self, msg: WholeMessage, link: &mut Link<'_>);
    /// A pong answered a heartbeat ping: [`Link::rtt`] has just been
    /// updated.
    fn on_pong(&mut self, _link: &mut Link<'_>) {}
    /// Someone rang the [`Doorbell`](super::Doorbell): the endpoint's own
    /// queue has something to send.
    fn on_wake(&mut self, _link: &mut Link<'_>) {}
    /// The timer set with [`Link::timer`] fired.
    fn on_timer(&mut self, _link: &mut Link<'_>) {}
    /// The connection is gone (after the close handshake or a dropped socket).
    fn stopped(&mut self, _how: Ending) {}
}
