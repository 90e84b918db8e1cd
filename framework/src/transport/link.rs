//! [`Link`]: how an [`Endpoint`](super::Endpoint) writes to its socket (data
//! frames, the close handshake, its one timer), and the state of the socket
//! it shares with the task that reads.

use super::endpoint::{Ending, TransportConfig, TransportObserver};
use super::{Closer, DirectWriter, Doorbell, Heartbeat};
use actix_codec::Encoder;
use actix_http::ws::{self, CloseReason};
use bytes::{Bytes, BytesMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Writes to the socket, on behalf of an [`Endpoint`](super::Endpoint).
///
/// Frames are encoded into the socket's output buffer at once (one copy of
/// the payload) and leave together when the socket task next writes, which
/// it does before it waits again: every frame queued while the endpoint
/// handles one event goes out in one `write`.
pub struct Link<'a> {
    state: &'a mut LinkState,
}

/// The socket's side of a connection, shared by the task (which reads) and
/// its [`Link`] (which writes): the output buffer, whether a close is under
/// way, how the connection ends, the heartbeat and the endpoint's timer.
pub(super) struct LinkState {
    pub(super) observer: Arc<dyn TransportObserver>,
    /// Encoded frames not yet written. Sized on demand: it grows to what one
    /// event queues and is given back when the connection is idle.
    pub(super) out: BytesMut,
    /// The frame encoder (server side: unmasked).
    pub(super) codec: ws::Codec,
    pub(super) closing: bool,
    /// How the connection is ending, once known (first cause wins).
    pub(super) ending: Option<Ending>,
    pub(super) heartbeat: Heartbeat,
    pub(super) close_timeout: Duration,
    /// When the close handshake gives up waiting for the peer's close frame.
    pub(super) close_deadline: Option<Instant>,
    /// The endpoint's one pending timer ([`Link::timer`]).
    pub(super) timer: Option<Instant>,
    /// Rung by other threads ([`Link::doorbell`]).
    pub(super) doorbell: Doorbell,
    /// Stop reading, write what is queued, and close TCP.
    pub(super) stop: bool,
    /// How the socket's own thread writes to it directly, if it can.
    pub(super) direct: Option<DirectWriter>,
}

impl LinkState {
    /// Open, heard from now, no timer set.
    pub(super) fn new(observer: Arc<dyn TransportObserver>, config: &TransportConfig) -> Self {
        LinkState {
            observer,
            out: BytesMut::new(),
            codec: ws::Codec::new().max_size(config.max_message_size),
            closing: false,
            ending: None,
            heartbeat: Heartbeat::new(super::websocket::now(), config.idle_timeout),
            close_timeout: config.close_timeout,
            close_deadline: None,
            timer: None,
            doorbell: Doorbell::new(),
            stop: false,
            direct: None,
        }
    }

    /// Encodes one frame into the output buffer.
    pub(super) fn frame(&mut self, msg: ws::Message) {
        // The server codec's encoder only fails on a frame it cannot describe
        // (none of the ones built here).
        if let Err(e) = self.codec.encode(msg, &mut self.out) {
            tracing::warn!("frame not encoded: {e}");
        }
    }

    /// Starts the close handshake (see [`Link::close`]).
    pub(super) fn close(&mut self, code: impl Into<u16>, reason: &str) {
        if self.closing {
            return;
        }
        let code = code.into();
        self.closing = true;
        self.ending.get_or_insert(Ending::ServerClosed(code));
        self.observer.closed(code);
        let description = (!reason.is_empty()).then(|| truncate_reason(reason));
        self.frame(ws::Message::Close(Some(CloseReason { code: ws::CloseCode::from(code), description })));
        self.close_deadline = Some(super::websocket::now() + self.close_timeout);
    }
}

impl<'a> Link<'a> {
    pub(super) fn new(state: &'a mut LinkState) -> Self {
        Link { state }
    }

    /// Sends a binary message (no-op once closing).
    pub fn binary(&mut self, data: Bytes) {
        if !self.state.closing {
            self.state.observer.message_out(data.len());
            self.state.frame(ws::Message::Binary(data));
        }
    }

    /// Sends a text message (no-op once closing).
    pub fn text(&mut self, text: impl Into<bytestring::ByteString>) {
        if !self.state.closing {
            let text = text.into();
            self.state.observer.message_out(text.len());
            self.state.frame(ws::Message::Text(text));
        }
    }

    /// Starts the close handshake with `code` and `reason`; the connection
    /// ends when the peer answers or after the close timeout.
    pub fn close(&mut self, code: impl Into<u16>, reason: &str) {
        self.state.close(code, reason);
    }

    /// Whether a close has been sent.
    pub fn is_closing(&self) -> bool {
        self.state.closing
    }

    /// The smoothed round-trip time from heartbeat pongs.
    pub fn rtt(&self) -> Option<Duration> {
        self.state.heartbeat.rtt()
    }

    /// Calls the endpoint's [`Endpoint::on_timer`](super::Endpoint::on_timer)
    /// after `after`, instead of any timer set before and not fired yet: an
    /// endpoint has at most one pending timer.
    pub fn timer(&mut self, after: Duration) {
        self.state.timer = Some(super::websocket::now() + after);
    }

    /// How a producer on the socket's thread writes a frame to it at once
    /// when nothing else waits (see [`DirectWriter`]); `None` for a TLS
    /// socket.
    pub fn direct(&self) -> Option<DirectWriter> {
        self.state.direct
    }

    /// The socket's doorbell: how other threads tell it that the endpoint's
    /// queue has something to send.
    pub fn doorbell(&self) -> Doorbell {
        self.state.doorbell.clone()
    }

    /// How other threads close this connection.
    pub fn closer(&self) -> Closer {
        Closer(self.state.doorbell.clone())
    }
}

/// A close reason must fit a control frame (125 bytes, 2 for the code).
fn truncate_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let long = "é".repeat(100);
        let r = truncate_reason(&long);
        assert!(r.len() <= 123 && long.starts_with(&r));
    }

    #[test]
    fn frames_queue_in_one_buffer_and_nothing_follows_a_close() {
        let mut state = LinkState::new(Arc::new(()), &TransportConfig::default());
        let mut link = Link::new(&mut state);
        link.binary(Bytes::from_static(b"abc"));
        link.binary(Bytes::from_static(b"de"));
        link.close(4000u16, "bye");
        link.binary(Bytes::from_static(b"late"));
        assert!(link.is_closing());
        // 2 + 3, 2 + 2, then the close frame: 2 + 2 (code) + 3 (reason).
        assert_eq!(&state.out[..], b"\x82\x03abc\x82\x02de\x88\x05\x0f\xa0bye");
        assert_eq!(state.ending, Some(Ending::ServerClosed(4000)));
    }
}
