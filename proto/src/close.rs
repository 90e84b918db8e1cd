//! The close codes Playhouse uses, in one place (README and
//! `docs/protocol.md` carry the same table).

/// A WebSocket close code with its documented meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum CloseCode {
    /// Normal close, either side.
    Normal = 1000,
    /// Server shutting down or draining.
    GoingAway = 1001,
    /// Protocol violation detected by the transport.
    Protocol = 1002,
    /// Text frame on a binary protocol.
    Unsupported = 1003,
    /// Payload that does not decode, or invalid UTF-8.
    InvalidPayload = 1007,
    /// Policy: rate limit exceeded, token expired, heartbeat timeout.
    Policy = 1008,
    /// Message larger than the configured maximum.
    TooBig = 1009,
    /// Internal error (the room was lost).
    Internal = 1011,
    /// Overloaded after the upgrade, try again later.
    TryAgainLater = 1013,
    /// Unauthorized.
    Unauthorized = 4001,
    /// Authentication or session timed out.
    Timeout = 4002,
    /// Forbidden.
    Forbidden = 4003,
    /// Room not found.
    RoomNotFound = 4004,
    /// Kicked.
    Kicked = 4005,
    /// Too slow: the client stopped reading (stalled reader).
    TooSlow = 4008,
    /// Replaced: another connection resumed this connection's session.
    Replaced = 4009,
}

impl CloseCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        self as u16
    }
}

impl From<CloseCode> for u16 {
    fn from(c: CloseCode) -> u16 {
        c.code()
    }
}
