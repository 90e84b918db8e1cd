//! What a frame decoder error means for a connection: which close code
//! RFC 6455 asks for, and whether the decoder is still in step with the
//! byte stream (a gentle close handshake) or not (fail the connection).

use crate::protocol::CloseCode;
use actix_http::ws::ProtocolError;

/// What a decoder error means for the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameFault {
    /// The socket failed; no close frame possible.
    SocketGone,
    /// A bad frame that the decoder consumed whole; it stays in step.
    Recoverable { code: CloseCode, reason: String },
    /// The decoder did not consume the bad frame (or might not have), or
    /// there is no point in reading on.
    OutOfStep { code: CloseCode, reason: String },
}

/// Maps an actix-http decoder error to a close code, and tells whether the
/// decoder is still in step with the byte stream. Unknown cases count as out
/// of step: failing hard is always safe, reading on from a desynchronised
/// decoder is not.
pub(crate) fn classify(err: &ProtocolError, max_message_size: usize) -> FrameFault {
    use FrameFault::*;
    match err {
        // Non-zero reserved bits come as InvalidData (the header is not
        // consumed); any other I/O error is the socket failing. (Invalid
        // UTF-8 in a text frame is no decoder error: the socket's task checks
        // it and closes with 1007.)
        ProtocolError::Io(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            OutOfStep { code: CloseCode::Protocol, reason: e.to_string() }
        }
        ProtocolError::Io(_) => SocketGone,
        // A frame over the limit (dropped whole once buffered) or a length
        // with the top bit set (not consumed): cannot tell which, fail hard.
        ProtocolError::Overflow => OutOfStep {
            code: CloseCode::TooBig,
            reason: format!("message exceeds the limit of {max_message_size} bytes"),
        },
        // Raised by the codec after the parser consumed the frame:
        // fragmentation order errors and fragmented control frames.
        ProtocolError::ContinuationNotStarted
        | ProtocolError::ContinuationStarted
        | ProtocolError::ContinuationFragment(_) => Recoverable { code: CloseCode::Protocol, reason: err.to_string() },
        // A close frame with an invalid code or a non-UTF-8 reason. The peer
        // has closed its side already and will send no other close frame to
        // wait for: answer 1002 and drop the connection at once.
        ProtocolError::BadOpCode => OutOfStep { code: CloseCode::Protocol, reason: "invalid close frame".into() },
        // Unmasked frame, reserved opcode, control frame over 125 bytes
        // (header consumed, payload not), and anything new.
        _ => OutOfStep { code: CloseCode::Protocol, reason: err.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_http::ws::OpCode;
    use std::io;

    fn code_and_step(err: ProtocolError) -> Option<(u16, bool)> {
        match classify(&err, 100) {
            FrameFault::SocketGone => None,
            FrameFault::Recoverable { code, .. } => Some((code.code(), true)),
            FrameFault::OutOfStep { code, .. } => Some((code.code(), false)),
        }
    }

    #[test]
    fn decoder_errors_map_to_rfc_close_codes() {
        let rsv = io::Error::new(io::ErrorKind::InvalidData, "Received a frame with non-zero reserved bits");
        assert_eq!(code_and_step(ProtocolError::Io(rsv)), Some((1002, false)));
        assert_eq!(code_and_step(ProtocolError::Overflow), Some((1009, false)));
        assert_eq!(code_and_step(ProtocolError::ContinuationStarted), Some((1002, true)));
        assert_eq!(code_and_step(ProtocolError::ContinuationNotStarted), Some((1002, true)));
        assert_eq!(code_and_step(ProtocolError::ContinuationFragment(OpCode::Ping)), Some((1002, true)));
        assert_eq!(code_and_step(ProtocolError::BadOpCode), Some((1002, false)));
        assert_eq!(code_and_step(ProtocolError::InvalidOpcode(3)), Some((1002, false)));
        assert_eq!(code_and_step(ProtocolError::InvalidLength(126)), Some((1002, false)));
        assert_eq!(code_and_step(ProtocolError::UnmaskedFrame), Some((1002, false)));
        // The payload stream failing is not the peer's protocol error.
        assert_eq!(code_and_step(ProtocolError::Io(io::Error::other("connection reset"))), None);
    }
}
