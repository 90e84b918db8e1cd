//! Fuzz entry points below the envelope: [`MessageAssembler`] against a
//! reference model, and raw client bytes through the transport's read path
//! (the header guard, actix-http's frame decoder, the assembler).

use crate::protocol::CloseCode;
use crate::transport::{read_stream, AssembleError, Ending, Endpoint, Link, MessageAssembler, WholeMessage};
use actix_http::ws::Item;
use bytes::Bytes;
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
/// `1 + byte` bytes); the rest is the byte stream. It goes through the
/// transport's own read path, as on a socket: the header guard (which
/// refuses an oversized frame by its header), actix-http's frame decoder,
/// the frame rules and the assembler (`transport/frames.rs`).
///
/// Asserts: the decoder never meets a frame over the limit (the guard
/// refuses each one as soon as its length is in, whatever the read
/// boundaries: a debug assertion in the reader); no message exceeds the
/// limit; every close code is 1002, 1007 or 1009; bytes in memory never
/// read as a lost socket.
pub fn wire(data: &[u8]) {
    read_wire(data);
}

/// [`wire`], returning how the transport would end the stream.
pub fn read_wire(data: &[u8]) -> WireOutcome {
    let [limit, chunk, stream @ ..] = data else { return WireOutcome::Open { messages: 0 } };
    let max = usize::from(*limit) * 16;
    let reads = stream.chunks(usize::from(*chunk) + 1);
    let (counter, ending) = read_stream(Counter { max, messages: 0 }, max, reads);
    match ending {
        None => WireOutcome::Open { messages: counter.messages },
        Some(Ending::PeerClosed(_)) => WireOutcome::PeerClosed,
        Some(Ending::ServerClosed(code)) => WireOutcome::Closed(match code {
            1002 => CloseCode::Protocol,
            1007 => CloseCode::InvalidPayload,
            1009 => CloseCode::TooBig,
            other => panic!("bytes from a client closed the connection with {other}"),
        }),
        Some(Ending::Lost) => panic!("bytes in memory read as a lost socket"),
    }
}

/// Counts the whole messages the transport delivers, checking each one's size.
struct Counter {
    max: usize,
    messages: usize,
}

impl Endpoint for Counter {
    fn on_message(&mut self, msg: WholeMessage, _link: &mut Link<'_>) {
        assert!(msg.len() <= self.max, "a {} byte message passed a limit of {}", msg.len(), self.max);
        self.messages += 1;
    }
}
