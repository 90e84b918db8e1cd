//! Turns WebSocket frames into whole messages: reassembles `Continuation`
//! items, caps the message size, validates UTF-8 of text as the fragments
//! arrive (a code point may straddle fragments; anything that can never
//! become valid fails at once, RFC 6455 §8.1 "fail fast").

use actix_http::ws::Item;
use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

/// One whole WebSocket message, after reassembly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WholeMessage {
    /// A binary message.
    Binary(Bytes),
    /// A text message (valid UTF-8).
    Text(ByteString),
}

impl WholeMessage {
    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            WholeMessage::Binary(b) => b.len(),
            WholeMessage::Text(t) => t.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a message could not be assembled; each maps to one close code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssembleError {
    /// The message exceeds the configured maximum (close 1009).
    #[error("message of {size}+ bytes exceeds the limit of {max} bytes")]
    TooBig {
        /// Bytes received so far for this message.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A text message is not valid UTF-8 (close 1007).
    #[error("text message is not valid UTF-8")]
    InvalidUtf8,
    /// A continuation arrived with no message started (close 1002).
    #[error("continuation frame without a started message")]
    NotStarted,
    /// A new message started before the previous one finished (close 1002).
    #[error("new message started before the previous one finished")]
    AlreadyStarted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Binary,
}

/// Reassembles fragmented messages.
///
/// ```
/// use actix_http::ws::Item;
/// use playhouse::transport::{MessageAssembler, WholeMessage};
///
/// let mut a = MessageAssembler::new(1024);
/// assert_eq!(a.push(Item::FirstText("hel".into())), Ok(None));
/// assert_eq!(a.push(Item::Continue("l".into())), Ok(None));
/// assert_eq!(a.push(Item::Last("o".into())), Ok(Some(WholeMessage::Text("hello".into()))));
/// ```
#[derive(Debug)]
pub struct MessageAssembler {
    max: usize,
    kind: Option<Kind>,
    buf: BytesMut,
    /// Of a text message, the length of the prefix of `buf` known to be
    /// valid UTF-8 ending on a code point boundary.
    valid: usize,
    /// The message in progress is being dropped (a frame of it was over the
    /// rate limit): its frames are checked for order, never kept.
    discarding: bool,
}

impl MessageAssembler {
    /// An assembler that accepts messages of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        MessageAssembler { max, kind: None, buf: BytesMut::new(), valid: 0, discarding: false }
    }

    /// The size limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Whether a fragmented message is in progress.
    pub fn in_progress(&self) -> bool {
        self.kind.is_some()
    }

    /// Checks an unfragmented message against the limit.
    pub fn single(&self, msg: WholeMessage) -> Result<WholeMessage, AssembleError> {
        if self.kind.is_some() {
            return Err(AssembleError::AlreadyStarted);
        }
        if msg.len() > self.max {
            return Err(AssembleError::TooBig { size: msg.len(), max: self.max });
        }
        Ok(msg)
    }

    /// Feeds one continuation item; returns the whole message on the last one.
    pub fn push(&mut self, item: Item) -> Result<Option<WholeMessage>, AssembleError> {
        self.feed(item, false)
    }

    /// Feeds one continuation item that must not be kept (the frame was over
    /// the rate limit): the message it belongs to is dropped whole, its
    /// remaining frames are only checked for order, and nothing is returned.
    ///
    /// ```
    /// use actix_http::ws::Item;
    /// use playhouse::transport::MessageAssembler;
    ///
    /// let mut a = MessageAssembler::new(1024);
    /// assert_eq!(a.push(Item::FirstBinary("ab".into())), Ok(None));
    /// assert_eq!(a.discard(Item::Continue("cd".into())), Ok(()));
    /// assert_eq!(a.push(Item::Last("ef".into())), Ok(None), "the whole message is dropped");
    /// assert!(!a.in_progress());
    /// ```
    pub fn discard(&mut self, item: Item) -> Result<(), AssembleError> {
        self.feed(item, true).map(|_| ())
    }

    fn feed(&mut self, item: Item, drop: bool) -> Result<Option<WholeMessage>, AssembleError> {
        let (start, data, last) = match item {
            Item::FirstText(d) => (Some(Kind::Text), d, false),
            Item::FirstBinary(d) => (Some(Kind::Binary), d, false),
            Item::Continue(d) => (None, d, false),
            Item::Last(d) => (None, d, true),
        };
        match (start, self.kind) {
            (Some(_), Some(_)) => return Err(AssembleError::AlreadyStarted),
            (None, None) => return Err(AssembleError::NotStarted),
            (Some(k), None) => self.kind = Some(k),
            (None, Some(_)) => {}
        }
        if drop && !self.discarding {
            self.discarding = true;
            self.buf = BytesMut::new();
            self.valid = 0;
        }
        if self.discarding {
            if last {
                self.reset();
            }
            return Ok(None);
        }
        let size = self.buf.len() + data.len();
        if size > self.max {
            self.reset();
            return Err(AssembleError::TooBig { size, max: self.max });
        }
        self.buf.extend_from_slice(&data);
        if self.kind == Some(Kind::Text) && !self.check_utf8(last) {
            self.reset();
            return Err(AssembleError::InvalidUtf8);
        }
        if !last {
            return Ok(None);
        }
        let kind = self.kind.take();
        self.valid = 0;
        let bytes = std::mem::take(&mut self.buf).freeze();
        match kind {
            Some(Kind::Binary) => Ok(Some(WholeMessage::Binary(bytes))),
            // Already validated; `try_from` checks again (cheap next to the
            // copy) rather than trusting it with `unsafe`.
            _ => {
                ByteString::try_from(bytes).map(|t| Some(WholeMessage::Text(t))).map_err(|_| AssembleError::InvalidUtf8)
            }
        }
    }

    /// Validates the text received since the last call. Each byte is looked
    /// at about once; only an incomplete code point at the end is looked at
    /// again with the next fragment. On the last fragment an incomplete code
    /// point is an error too.
    fn check_utf8(&mut self, last: bool) -> bool {
        match std::str::from_utf8(&self.buf[self.valid..]) {
            Ok(_) => {
                self.valid = self.buf.len();
                true
            }
            // `error_len() == None`: the input ends inside a code point that
            // the next fragment may complete. Prefixes that can never be
            // completed (e.g. F4 90, above U+10FFFF) report `Some` at once.
            Err(e) if e.error_len().is_none() && !last => {
                self.valid += e.valid_up_to();
                true
            }
            Err(_) => false,
        }
    }

    fn reset(&mut self) {
        self.kind = None;
        self.discarding = false;
        self.valid = 0;
        self.buf = BytesMut::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn binary_fragments_reassemble_in_order() {
        let mut a = MessageAssembler::new(10);
        assert_eq!(a.push(Item::FirstBinary(Bytes::from_static(b"ab"))), Ok(None));
        assert!(a.in_progress());
        assert_eq!(
            a.push(Item::Last(Bytes::from_static(b"cd"))),
            Ok(Some(WholeMessage::Binary(Bytes::from_static(b"abcd"))))
        );
        assert!(!a.in_progress());
    }

    #[test]
    fn size_limit_counts_the_whole_message() {
        let mut a = MessageAssembler::new(4);
        a.push(Item::FirstBinary(Bytes::from_static(b"abc"))).unwrap();
        assert!(matches!(
            a.push(Item::Last(Bytes::from_static(b"de"))),
            Err(AssembleError::TooBig { size: 5, max: 4 })
        ));
        assert!(matches!(
            a.single(WholeMessage::Binary(Bytes::from_static(b"12345"))),
            Err(AssembleError::TooBig { .. })
        ));
        assert!(a.single(WholeMessage::Binary(Bytes::from_static(b"1234"))).is_ok());
    }

    #[test]
    fn utf8_is_checked_after_reassembly_so_split_code_points_are_fine() {
        let euro = "€".as_bytes(); // 3 bytes
        let mut a = MessageAssembler::new(16);
        a.push(Item::FirstText(Bytes::copy_from_slice(&euro[..1]))).unwrap();
        a.push(Item::Continue(Bytes::copy_from_slice(&euro[1..2]))).unwrap();
        assert_eq!(a.push(Item::Last(Bytes::copy_from_slice(&euro[2..]))), Ok(Some(WholeMessage::Text("€".into()))));
        assert_eq!(a.push(Item::FirstText(Bytes::from_static(b"\xff"))), Err(AssembleError::InvalidUtf8));
        assert!(!a.in_progress());
    }

    #[test]
    fn invalid_utf8_fails_on_the_fragment_that_makes_it_invalid() {
        let mut a = MessageAssembler::new(64);
        a.push(Item::FirstText(Bytes::from_static(b"ok "))).unwrap();
        // F4 90 starts a code point above U+10FFFF: no continuation can fix it.
        assert_eq!(a.push(Item::Continue(Bytes::from_static(b"\xf4\x90"))), Err(AssembleError::InvalidUtf8));
        // The assembler is reset: a new message may start.
        a.push(Item::FirstText(Bytes::from_static(b"\xce"))).unwrap();
        assert_eq!(a.push(Item::Continue(Bytes::from_static(b"\xba\xe1"))), Ok(None));
        assert_eq!(
            a.push(Item::Last(Bytes::from_static(b"\xbd\xb9"))),
            Ok(Some(WholeMessage::Text("κ\u{1f79}".into())))
        );
    }

    #[test]
    fn a_code_point_cut_off_by_the_end_of_the_message_is_invalid() {
        let mut a = MessageAssembler::new(64);
        a.push(Item::FirstText(Bytes::from_static(b"ok"))).unwrap();
        assert_eq!(a.push(Item::Last(Bytes::from_static(b"\xe2\x82"))), Err(AssembleError::InvalidUtf8));
        assert!(!a.in_progress());
    }

    #[test]
    fn continuation_order_is_enforced() {
        let mut a = MessageAssembler::new(16);
        assert_eq!(a.push(Item::Continue(Bytes::new())), Err(AssembleError::NotStarted));
        assert_eq!(a.push(Item::Last(Bytes::new())), Err(AssembleError::NotStarted));
        a.push(Item::FirstBinary(Bytes::new())).unwrap();
        assert_eq!(a.push(Item::FirstText(Bytes::new())), Err(AssembleError::AlreadyStarted));
        assert_eq!(a.single(WholeMessage::Binary(Bytes::new())), Err(AssembleError::AlreadyStarted));
    }

    proptest! {
        #[test]
        fn any_split_reassembles_to_the_original(data in proptest::collection::vec(any::<u8>(), 1..200), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6)) {
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len())).collect();
            points.sort_unstable();
            points.dedup();
            let mut pieces = Vec::new();
            let mut prev = 0;
            for p in points { pieces.push(&data[prev..p]); prev = p; }
            pieces.push(&data[prev..]);
            let mut a = MessageAssembler::new(200);
            let n = pieces.len();
            let mut out = None;
            for (i, piece) in pieces.into_iter().enumerate() {
                let b = Bytes::copy_from_slice(piece);
                let item = if i == 0 && n > 1 { Item::FirstBinary(b) } else if i == 0 { a.push(Item::FirstBinary(Bytes::new())).unwrap(); Item::Last(b) } else if i + 1 == n { Item::Last(b) } else { Item::Continue(b) };
                out = a.push(item).unwrap();
            }
            prop_assert_eq!(out, Some(WholeMessage::Binary(Bytes::from(data))));
        }

        #[test]
        fn any_split_of_valid_text_reassembles(text in "\\PC{0,40}", cuts in proptest::collection::vec(any::<prop::sample::Index>(), 1..6)) {
            let data = text.as_bytes();
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
            points.sort_unstable();
            points.dedup();
            let mut a = MessageAssembler::new(1024);
            let mut prev = 0;
            for (i, p) in points.iter().enumerate() {
                let b = Bytes::copy_from_slice(&data[prev..*p]);
                prop_assert_eq!(a.push(if i == 0 { Item::FirstText(b) } else { Item::Continue(b) }), Ok(None));
                prev = *p;
            }
            let out = a.push(Item::Last(Bytes::copy_from_slice(&data[prev..])));
            prop_assert_eq!(out, Ok(Some(WholeMessage::Text(text.as_str().into()))));
        }

        #[test]
        fn never_exceeds_the_limit(sizes in proptest::collection::vec(0usize..64, 1..10), max in 0usize..200) {
            let mut a = MessageAssembler::new(max);
            let n = sizes.len();
            for (i, s) in sizes.iter().enumerate() {
                let b = Bytes::from(vec![0u8; *s]);
                let item = if i == 0 { Item::FirstBinary(b) } else if i + 1 == n { Item::Last(b) } else { Item::Continue(b) };
                match a.push(item) {
                    Ok(Some(m)) => prop_assert!(m.len() <= max),
                    Ok(None) => {}
                    Err(AssembleError::TooBig { .. }) => break,
                    Err(e) => return Err(TestCaseError::fail(e.to_string())),
                }
            }
        }
    }
}
