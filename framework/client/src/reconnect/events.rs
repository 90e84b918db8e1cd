//! What a [`super::ReconnectingClient`] tells the game: [`ReconnectEvent`]
//! (server messages and connection changes), [`StopReason`] and
//! [`ReconnectError`].

use super::RoomRecord;
use crate::envelope::{JoinError, Joined};
use crate::{AuthFailure, ClientError, Event};
use playhouse_protocol::{Sunset, Token};
use std::time::Duration;

/// A room got back after a new session.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejoined {
    /// The room id the game was in before.
    pub previous: String,
    /// The room it is in now (a new id when a room joined by type was gone).
    pub joined: Joined,
}

/// A room that could not be got back after a new session.
#[derive(Debug, Clone, PartialEq)]
pub struct RejoinFailed {
    /// The room as the client remembered it.
    pub room: RoomRecord,
    /// The last refusal.
    pub error: JoinError,
}

/// What [`ReconnectingClient::next_event`] yields: a server message, or a
/// change of the connection for the game to show.
#[derive(Debug, Clone, PartialEq)]
pub enum ReconnectEvent {
    /// A server message.
    Server(Event),
    /// The connection is lost; attempt `attempt` (1 first) dials `url`
    /// after `delay`. `cause` says how the connection was lost.
    Reconnecting {
        /// 1 for the first attempt of this outage.
        attempt: u32,
        /// The wait before dialling (jittered backoff, plus a shutdown hint
        /// on the first attempt).
        delay: Duration,
        /// The URL this attempt dials.
        url: String,
        /// How the connection was lost.
        cause: String,
    },
    /// The session is back, on `url`: the `replayed` missed reliable
    /// messages follow as [`ReconnectEvent::Server`] events, then states.
    /// `resync`: some were no longer buffered on the server, so they are
    /// lost; rebuild from the states. `rooms`: the rooms the session is in.
    Resumed {
        /// The URL reconnected to.
        url: String,
        /// Reliable messages the server sends again.
        replayed: u32,
        /// Missed messages were lost; rebuild from the next states.
        resync: bool,
        /// The rooms the session is in.
        rooms: Vec<Joined>,
    },
    /// The session was gone, so the client opened a new one on `url` and
    /// rejoined the rooms the game was in. Reliable messages of the old
    /// session that were not received are lost.
    NewSession {
        /// The URL reconnected to.
        url: String,
        /// The new session's id.
        session: String,
        /// The rooms got back (maybe under new ids).
        rejoined: Vec<Rejoined>,
        /// The rooms that refused the game.
        failed: Vec<RejoinFailed>,
    },
    /// Another connection resumed this session (close 4009). The client has
    /// stopped; it does not take the session back.
    Replaced {
        /// The server's reason.
        reason: String,
    },
    /// Every attempt of the outage failed. The client has stopped.
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// Why the last one failed.
        last_error: String,
    },
    /// Authentication failed or ended for good (see
    /// [`AuthFailure::is_fatal`]): a 4001, 4003 or credential-expired 1008
    /// close, or HTTP 401 on a reconnect. A retry would get the same; the
    /// client has stopped.
    Unauthorized {
        /// Why.
        failure: AuthFailure,
        /// The server's words.
        reason: String,
    },
    /// A reconnect was refused with HTTP 403 (this origin is not allowed),
    /// which every retry would get too. The client has stopped.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's words.
        body: String,
    },
    /// The server deprecated the schema version this client negotiated: it
    /// is still served, until `sunset`, after which a client that speaks
    /// nothing newer may be refused. Show the player an "update the game"
    /// notice. Raised once after connecting, and again only if a later
    /// connection negotiates another deprecated token or sunset (a
    /// failover to a server with other versions). The connection is
    /// unchanged; the client logs it once as a warning too.
    Deprecated {
        /// The negotiated token, e.g. `arena.v1.msgpack`.
        protocol: Token,
        /// The date (`YYYY-MM-DD`) after which the version may stop being
        /// served (`None` if the server named none).
        sunset: Option<Sunset>,
    },
    /// The automatic refresh could not get a token from the source
    /// ([`crate::ClientAuth`]); it is tried again, halfway to the expiry.
    /// The connection is unchanged.
    AuthRefreshFailed {
        /// What the source said.
        error: String,
    },
    /// The server closed the connection with a code that rules out
    /// reconnecting ([`FATAL_CLOSE_CODES`]). The client has stopped.
    Closed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

/// Why a [`ReconnectingClient`] stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StopReason {
    /// Another connection resumed the session (4009).
    #[error("the session was resumed on another connection")]
    Replaced,
    /// An outage spent every attempt.
    #[error("gave up reconnecting")]
    GaveUp,
    /// The server closed with a code that rules out reconnecting.
    #[error("closed by the server with {0}")]
    Closed(u16),
    /// Authentication failed or ended for good.
    #[error("authentication: {0}")]
    Unauthorized(AuthFailure),
    /// A reconnect was refused with this HTTP status (403).
    #[error("refused with HTTP {0}")]
    Refused(u16),
    /// The game called [`ReconnectingClient::close`].
    #[error("closed by the game")]
    ClosedByClient,
    /// The server sent something this client cannot read (see
    /// [`ReconnectingClient::next_event`]).
    #[error("{0}")]
    Failed(String),
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum ReconnectError {
    /// The config cannot work (no URL, a malformed token).
    #[error("reconnect config: {0}")]
    Config(String),
    /// The first connection was refused for its credential (HTTP 401, or a
    /// 4001/4003 close after `Auth`), or the upgrade with HTTP 403: a retry
    /// would get the same, so none was made.
    #[error("connection refused ({failure:?}): {reason}")]
    Refused {
        /// The auth failure, if it was one (else an HTTP 403).
        failure: Option<AuthFailure>,
        /// What the server said.
        reason: String,
    },
    /// The first connection failed on every attempt.
    #[error("could not connect after {attempts} attempts (last: {last_error})")]
    Unreachable {
        /// Attempts made.
        attempts: u32,
        /// Why the last one failed.
        last_error: String,
    },
    /// The call needs a connection and the client is reconnecting; inputs
    /// sent meanwhile are not kept.
    #[error("not connected: reconnecting")]
    Reconnecting,
    /// The client has stopped.
    #[error("the client has stopped: {0}")]
    Stopped(StopReason),
    /// A call on the connection failed (a join refused, a timeout, or the
    /// connection itself, in which case the client is reconnecting now).
    #[error(transparent)]
    Client(#[from] ClientError),
}
