//! What a connection does with the bytes it reads: [`FrameReader`] cuts
//! them into frames (refusing an oversized frame by its header), and the
//! transport's frame rules act on each one: reassembly, pongs, the close
//! handshake and the close code for each kind of bad input (RFC 6455).
//!
//! Plain code over bytes in memory: the socket task (`websocket.rs`) feeds
//! it what each read returns, and the fuzz entry point `fuzzing::wire`
//! feeds it arbitrary bytes cut into arbitrary reads, so both run the same
//! rules.

use super::endpoint::Endpoint;
use super::faults::{classify, FrameFault};
use super::guard::FrameScanner;
use super::link::Link;
use super::websocket::{now, Transport};
use super::{AssembleError, Ending, WholeMessage};
use crate::protocol::CloseCode;
use actix_codec::Decoder;
use actix_http::ws::{self, CloseReason, Frame, Item, ProtocolError};
use bytes::BytesMut;

/// Cuts a connection's input into frames: the header guard, then
/// actix-http's decoder.
pub(super) struct FrameReader {
    decoder: ws::Codec,
    /// Follows frame headers as bytes arrive, to refuse an oversized frame
    /// before its payload is buffered (the decoder checks the length only
    /// once the whole frame is in). `None` once it has refused one.
    scanner: Option<FrameScanner>,
}

impl FrameReader {
    /// A reader of frames of at most `max` bytes.
    pub(super) fn new(max: usize) -> Self {
        FrameReader { decoder: ws::Codec::new().max_size(max), scanner: Some(FrameScanner::new(max)) }
    }

    /// Decodes the input in `read`, of which the bytes from `fresh` on were
    /// just read, and hands each frame to `t`.
    pub(super) fn input<E: Endpoint>(&mut self, t: &mut Transport<E>, read: &mut BytesMut, fresh: usize) {
        let max = t.config.max_message_size;
        let mut oversized = None;
        if let Some(scanner) = self.scanner.as_mut() {
            if let Err((at, len)) = scanner.feed(&read[fresh..]) {
                debug_assert!(len > max as u64, "the guard refused a frame of {len} bytes under the limit {max}");
                // Keep only the bytes before the offending header.
                read.truncate(fresh + at);
                oversized = Some(len);
                self.scanner = None;
            }
        }
        while t.reading() {
            match self.decoder.decode(read) {
                Ok(Some(frame)) => t.frame(frame),
                Ok(None) => break,
                Err(e) => {
                    debug_assert!(
                        !matches!(e, ProtocolError::Overflow),
                        "the decoder met an oversized frame the guard let through"
                    );
                    t.protocol_error(e);
                    break;
                }
            }
        }
        if let Some(len) = oversized {
            if t.reading() {
                t.state.close(CloseCode::TooBig, &format!("frame of {len} bytes exceeds the limit of {max} bytes"));
                t.stop_reading();
            }
        }
    }
}

/// The frame rules.
impl<E: Endpoint> Transport<E> {
    pub(super) fn link(&mut self) -> (&mut E, Link<'_>) {
        (&mut self.endpoint, Link::new(&mut self.state))
    }

    fn deliver(&mut self, msg: Result<WholeMessage, AssembleError>) {
        match msg {
            Ok(m) => {
                self.state.observer.message_in(m.len());
                let (ep, mut link) = self.link();
                ep.on_message(m, &mut link);
            }
            Err(e) => {
                let code = match e {
                    AssembleError::TooBig { .. } => CloseCode::TooBig,
                    AssembleError::InvalidUtf8 => CloseCode::InvalidPayload,
                    AssembleError::NotStarted | AssembleError::AlreadyStarted => CloseCode::Protocol,
                };
                self.state.close(code, &e.to_string());
            }
        }
    }

    /// Asks the endpoint whether to take a frame; a refused one is dropped
    /// here (a continuation still goes through the assembler, so the rest of
    /// its message is dropped too and fragmentation errors are still seen).
    fn admit(&mut self, frame: Frame) -> Option<Frame> {
        let len = match &frame {
            Frame::Binary(b) | Frame::Text(b) | Frame::Ping(b) | Frame::Pong(b) => b.len(),
            Frame::Continuation(Item::FirstText(b) | Item::FirstBinary(b) | Item::Continue(b) | Item::Last(b)) => {
                b.len()
            }
            Frame::Close(_) => return Some(frame),
        };
        let (ep, mut link) = self.link();
        if ep.on_frame(len, &mut link) {
            return Some(frame);
        }
        match frame {
            Frame::Continuation(item) if !self.state.closing => {
                if let Err(e) = self.assembler.discard(item) {
                    self.deliver(Err(e));
                }
            }
            Frame::Binary(_) | Frame::Text(_) if self.assembler.in_progress() && !self.state.closing => {
                self.deliver(Err(AssembleError::AlreadyStarted));
            }
            _ => {}
        }
        None
    }

    /// One decoded frame.
    fn frame(&mut self, frame: Frame) {
        self.state.heartbeat.seen(now());
        let frame = if self.state.closing {
            frame
        } else {
            match self.admit(frame) {
                Some(f) => f,
                None => return,
            }
        };
        match frame {
            // Once our close frame is out, data is read only to find the
            // peer's close frame (RFC 6455 §1.4): it is neither assembled
            // nor delivered, so nothing acts on input we already refused.
            Frame::Binary(_) | Frame::Text(_) | Frame::Continuation(_) if self.state.closing => {}
            Frame::Binary(b) => {
                let m = self.assembler.single(WholeMessage::Binary(b));
                self.deliver(m);
            }
            Frame::Text(b) => {
                let m = bytestring::ByteString::try_from(b)
                    .map_err(|_| AssembleError::InvalidUtf8)
                    .and_then(|t| self.assembler.single(WholeMessage::Text(t)));
                self.deliver(m);
            }
            Frame::Continuation(item) => match self.assembler.push(item) {
                Ok(None) => {}
                Ok(Some(m)) => self.deliver(Ok(m)),
                Err(e) => self.deliver(Err(e)),
            },
            Frame::Ping(p) => {
                if !self.state.closing {
                    self.state.frame(ws::Message::Pong(p));
                }
            }
            Frame::Pong(p) => {
                self.state.heartbeat.pong(&p, now());
                let (ep, mut link) = self.link();
                ep.on_pong(&mut link);
            }
            Frame::Close(reason) => {
                self.state.ending.get_or_insert(Ending::PeerClosed(reason.as_ref().map(|r| u16::from(r.code))));
                if !self.state.closing {
                    // Peer-initiated: echo its code (RFC 6455 §5.5.1), or
                    // answer an empty close with an empty one (a reply may
                    // not carry 1005, "no code received"). The decoder has
                    // already refused invalid codes and reasons (→ 1002).
                    self.state.closing = true;
                    let echo = reason.map(|r| CloseReason { code: r.code, description: None });
                    self.state.frame(ws::Message::Close(echo));
                }
                // Handshake complete: the server drops TCP first (§7.1.1).
                self.stop_reading();
            }
        }
    }

    /// The frame decoder reported an error: close with the code RFC 6455
    /// asks for, the gentle way if the decoder is still in step with the
    /// stream, the hard way if it is not.
    fn protocol_error(&mut self, err: ProtocolError) {
        match classify(&err, self.config.max_message_size) {
            FrameFault::SocketGone => {
                self.state.ending.get_or_insert(Ending::Lost);
                self.stop_reading();
            }
            FrameFault::Recoverable { code, reason } if !self.state.closing => {
                // The offending frame was consumed whole, so the next bytes
                // are a frame header again: run the normal close handshake
                // (keep reading, drop data, stop on the peer's close frame or
                // after the close timeout). A clean close is what makes a
                // browser report our code instead of 1006.
                self.state.close(code, &reason);
            }
            FrameFault::Recoverable { code, reason } | FrameFault::OutOfStep { code, reason } => {
                // The decoder is out of step with the stream, or this is a
                // second error while closing. RFC 6455 §7.1.7: fail the
                // connection — send a close frame if we have not, then stop
                // processing input and drop the TCP connection.
                self.state.close(code, &reason);
                self.stop_reading();
            }
        }
    }

    /// Stops processing input; what is queued (our close frame) is still
    /// written before TCP is closed.
    pub(super) fn stop_reading(&mut self) {
        self.state.stop = true;
    }

    /// Whether input is still processed.
    pub(super) fn reading(&self) -> bool {
        !self.state.stop
    }
}

/// Feeds `reads`, each the bytes one `read()` returned, through a new
/// connection running `endpoint` with messages of at most `max` bytes,
/// as the socket task would, until it stops reading. Returns the endpoint
/// and how the connection ends (`None`: still open).
#[cfg(feature = "fuzzing")]
pub(crate) fn read_stream<'a, E: Endpoint>(
    endpoint: E,
    max: usize,
    reads: impl IntoIterator<Item = &'a [u8]>,
) -> (E, Option<Ending>) {
    let config = super::TransportConfig { max_message_size: max, ..Default::default() };
    let mut t = Transport::new(endpoint, config, std::sync::Arc::new(()));
    let mut reader = FrameReader::new(max);
    let mut buf = BytesMut::new();
    for read in reads {
        if !t.reading() {
            break;
        }
        let fresh = buf.len();
        buf.extend_from_slice(read);
        reader.input(&mut t, &mut buf, fresh);
    }
    let ending = t.state.ending;
    (t.endpoint, ending)
}
