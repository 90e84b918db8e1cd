//! Fuzz entry points below the envelope: [`MessageAssembler`] against a
//! reference model, and raw client bytes through the transport's read path
//! (the header guard, actix-http's frame decoder, the assembler).

use crate::protocol::CloseCode;
use crate::transport::{classify, AssembleError, FrameFault, FrameScanner, MessageAssembler, WholeMessage};
use actix_codec::Decoder;
use actix_http::ws::{Codec as FrameCodec, Frame, Item, ProtocolError};
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

/// A sequence of frames for a [`MessageAssembler`]. The first byte sets the
/// size limit (`4 × byte`); then each frame is a kind byte (mod 6: first
/// text, first binary, continue, last, whole binary, whole text), a length
/// byte, and that many payload bytes (fewer at the end of the input).
///
/// Asserts: every outcome (message, error, in-progress state) equals that of
/// a plain reference model that validates UTF-8 over the whole buffer, so
/// in particular no message exceeds the limit, fragments concatenate in
/// order, and a code point split across fragments is accepted.
pub fn reassembly(data: &[u8]) {
    let Some((&limit, mut rest)) = data.split_first() else { return };
    let max = usize::from(limit) * 4;
    let mut real = MessageAssembler::new(max);
    let mut model = Model { max, text: None, buf: Vec::new() };
    while let [kind, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let payload = Bytes::copy_from_slice(&tail[..n]);
        rest = &tail[n..];
        let (got, want) = match kind % 6 {
            4 => {
                let m = WholeMessage::Binary(payload);
                (real.single(m.clone()).map(Some), model.single(m).map(Some))
            }
            5 => {
                let m = WholeMessage::Text(ByteString::from(String::from_utf8_lossy(&payload).into_owned()));
                (real.single(m.clone()).map(Some), model.single(m).map(Some))
            }
            k => {
                let item = match k {
                    0 => Item::FirstText(payload),
                    1 => Item::FirstBinary(payload),
                    2 => Item::Continue(payload),
                    _ => Item::Last(payload),
                };
                let want = model.push(&item);
                (real.push(item), want)
            }
        };
        assert_eq!(got, want, "assembler and model disagree (limit {max})");
        if let Ok(Some(m)) = &got {
            assert!(m.len() <= max, "a {} byte message passed a limit of {max}", m.len());
        }
        assert_eq!(real.in_progress(), model.text.is_some(), "in_progress disagrees with the model");
    }
}

/// What the reassembly rules say, written as plainly as possible.
struct Model {
    max: usize,
    /// `Some(is_text)` while a fragmented message is in progress.
    text: Option<bool>,
    buf: Vec<u8>,
}

impl Model {
    fn single(&self, m: WholeMessage) -> Result<WholeMessage, AssembleError> {
        if self.text.is_some() {
            Err(AssembleError::AlreadyStarted)
        } else if m.len() > self.max {
            Err(AssembleError::TooBig { size: m.len(), max: self.max })
        } else {
            Ok(m)
        }
    }

    fn push(&mut self, item: &Item) -> Result<Option<WholeMessage>, AssembleError> {
        let (start, data, last) = match item {
            Item::FirstText(d) => (Some(true), d, false),
            Item::FirstBinary(d) => (Some(false), d, false),
            Item::Continue(d) => (None, d, false),
            Item::Last(d) => (None, d, true),
        };
        match (start, self.text) {
            (Some(_), Some(_)) => return Err(AssembleError::AlreadyStarted),
            (None, None) => return Err(AssembleError::NotStarted),
            (Some(t), None) => self.text = Some(t),
            (None, Some(_)) => {}
        }
        let size = self.buf.len() + data.len();
        if size > self.max {
            self.reset();
            return Err(AssembleError::TooBig { size, max: self.max });
        }
        self.buf.extend_from_slice(data);
        if self.text == Some(true) {
            // Valid so far: valid, or cut inside a code point a later
            // fragment may complete (RFC 6455 §8.1, fail fast).
            let ok = match std::str::from_utf8(&self.buf) {
                Ok(_) => true,
                Err(e) => e.error_len().is_none() && !last,
            };
            if !ok {
                self.reset();
                return Err(AssembleError::InvalidUtf8);
            }
        }
        if !last {
            return Ok(None);
        }
        let is_text = self.text == Some(true);
        let bytes = Bytes::from(std::mem::take(&mut self.buf));
        self.reset();
        Ok(Some(if is_text {
            WholeMessage::Text(ByteString::try_from(bytes).map_err(|_| AssembleError::InvalidUtf8)?)
        } else {
            WholeMessage::Binary(bytes)
        }))
    }

    fn reset(&mut self) {
        self.text = None;
        self.buf.clear();
    }
}

/// How the transport would end a stream of client bytes (see [`read_wire`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireOutcome {
    /// Every byte was read; the connection stays open (a frame may be
    /// incomplete). `messages` whole messages were delivered.
    Open {
        /// Whole messages delivered to the endpoint.
        messages: usize,
    },
    /// The client sent a close frame.
    PeerClosed,
    /// The server closes with this code (1002, 1007 or 1009).
    Closed(CloseCode),
}

/// Raw bytes a client sends after the upgrade. The first byte sets the size
/// limit (`16 × byte`), the second how the rest is cut into reads (chunks of
/// `1 + byte` bytes); the rest is the byte stream. It goes through the same
/// pieces as on a socket: the header guard ([`FrameScanner`], which refuses
/// an oversized frame by its header), actix-http's frame decoder, the
/// mapping of decoder errors to close codes, and the assembler.
///
/// Asserts: the decoder never meets a frame over the limit (the guard
/// refuses each one as soon as its length is in, whatever the read
/// boundaries); no frame or message exceeds the limit; every close code is
/// 1002, 1007 or 1009.
pub fn wire(data: &[u8]) {
    read_wire(data);
}

/// [`wire`], returning how the transport would end the stream.
pub fn read_wire(data: &[u8]) -> WireOutcome {
    let [limit, chunk, stream @ ..] = data else { return WireOutcome::Open { messages: 0 } };
    let max = usize::from(*limit) * 16;
    // The guard: pass whole reads until a header announces too much, then
    // the bytes before that header, then end the stream.
    let mut scanner = FrameScanner::new(max);
    let mut passed = BytesMut::new();
    let mut oversized = None;
    for read in stream.chunks(usize::from(*chunk) + 1) {
        match scanner.feed(read) {
            Ok(()) => passed.extend_from_slice(read),
            Err((at, len)) => {
                assert!(len > max as u64, "the guard refused a frame of {len} bytes under the limit {max}");
                passed.extend_from_slice(&read[..at]);
                oversized = Some(len);
                break;
            }
        }
    }
    let outcome = read_frames(passed, max);
    match (outcome, oversized) {
        // `Open::input`: the bytes before the refused header, then 1009.
        (WireOutcome::Open { .. }, Some(_)) => WireOutcome::Closed(CloseCode::TooBig),
        (outcome, _) => outcome,
    }
}

/// The socket task's read loop over the bytes the guard passed, up to
/// the first fault (after which the transport reads only to find a close).
fn read_frames(mut buf: BytesMut, max: usize) -> WireOutcome {
    let mut codec = FrameCodec::new().max_size(max);
    let mut assembler = MessageAssembler::new(max);
    let mut messages = 0;
    loop {
        let frame = match codec.decode(&mut buf) {
            Ok(Some(f)) => f,
            Ok(None) => return WireOutcome::Open { messages },
            Err(e) => return WireOutcome::Closed(fault(&e, max)),
        };
        let delivered = match frame {
            Frame::Binary(b) => assembler.single(WholeMessage::Binary(b)),
            // As `Transport::frame`: invalid UTF-8 in a whole text frame is
            // the assembler's error (1007).
            Frame::Text(b) => ByteString::try_from(b)
                .map_err(|_| AssembleError::InvalidUtf8)
                .and_then(|t| assembler.single(WholeMessage::Text(t))),
            Frame::Continuation(item) => match assembler.push(item) {
                Ok(None) => continue,
                Ok(Some(m)) => Ok(m),
                Err(e) => Err(e),
            },
            Frame::Ping(p) | Frame::Pong(p) => {
                assert!(p.len() <= 125, "a control frame of {} bytes", p.len());
                continue;
            }
            Frame::Close(_) => return WireOutcome::PeerClosed,
        };
        match delivered {
            Ok(m) => {
                assert!(m.len() <= max, "a {} byte message passed a limit of {max}", m.len());
                messages += 1;
            }
            Err(e) => {
                let code = match e {
                    AssembleError::TooBig { .. } => CloseCode::TooBig,
                    AssembleError::InvalidUtf8 => CloseCode::InvalidPayload,
                    AssembleError::NotStarted | AssembleError::AlreadyStarted => CloseCode::Protocol,
                };
                return WireOutcome::Closed(code);
            }
        }
    }
}

/// The close code for a decoder error, checking that the guard did its job.
fn fault(e: &ProtocolError, max: usize) -> CloseCode {
    assert!(!matches!(e, ProtocolError::Overflow), "the decoder met an oversized frame the guard let through");
    let code = match classify(e, max) {
        FrameFault::Recoverable { code, .. } | FrameFault::OutOfStep { code, .. } => code,
        FrameFault::SocketGone => panic!("a decoder error on bytes in memory read as a socket failure: {e}"),
    };
    assert!(matches!(code, CloseCode::Protocol | CloseCode::InvalidPayload), "{e} → {code:?}");
    code
}
