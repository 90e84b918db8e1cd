//! [`ClientError`]: everything a [`crate::Client`] call can fail with.

use crate::envelope::{self, JoinError};
use crate::AuthFailure;
use playhouse_protocol::CodecError;
use tokio_tungstenite::tungstenite::{self, protocol::CloseFrame};

#[cfg(feature = "tls")]
use crate::TrustError;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server refused the upgrade with an HTTP status (400: no shared
    /// subprotocol, 401: no valid credential, 403: origin not allowed, 429:
    /// too many connections from this address or sessions of this user,
    /// 503: full). `body` says why, in words.
    #[error("server refused the connection with HTTP {status}: {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The plain-text explanation.
        body: String,
    },
    /// The server accepted but echoed no token, or one we did not offer.
    #[error("server chose subprotocol {0:?}, which this client did not offer")]
    BadProtocol(Option<String>),
    /// A token given to `connect` is malformed.
    #[error("invalid token {0:?}: {1}")]
    BadToken(String, playhouse_protocol::TokenParseError),
    /// WebSocket or I/O failure.
    #[error("websocket: {0}")]
    Ws(#[from] tungstenite::Error),
    /// A message did not decode or encode.
    #[error("codec: {0}")]
    Codec(#[from] CodecError),
    /// The server closed the connection.
    #[error("closed by server: {}", match .0 { Some(f) => format!("{} {}", u16::from(f.code), f.reason), None => "no close frame".into() })]
    Closed(Option<CloseFrame>),
    /// A join was refused.
    #[error("join refused: {} ({})", .0.reason, .0.code)]
    Join(JoinError),
    /// A join was answered with a `Redirect` to another node while this
    /// client is in rooms here: following it would leave them. Connect a
    /// second client to `url` and join with the reservation instead.
    #[error("the room lives on another node ({}); this client stays for its rooms here", .0.url)]
    Redirected(envelope::Redirect),
    /// A channel subscribe or publish was refused (`ChannelError`).
    #[error("channel {:?} refused: {} ({})", .0.channel, .0.reason, .0.code)]
    Channel(envelope::ChannelError),
    /// A resume was refused (4002: the session expired or is unknown).
    #[error("resume refused: {} ({})", .0.reason, .0.code)]
    Resume(envelope::Error),
    /// The server sent something the protocol does not allow here.
    #[error("protocol: {0}")]
    Protocol(String),
    /// No answer in time.
    #[error("timed out")]
    Timeout,
    /// The trust for a `wss://` URL could not be built.
    #[cfg(feature = "tls")]
    #[error("TLS trust: {0}")]
    Trust(#[from] TrustError),
    /// The token source ([`crate::ClientAuth`]) gave no token.
    #[error("no token: {0}")]
    TokenSource(String),
}

impl ClientError {
    /// What this error means for authentication, if anything: HTTP 401 at
    /// the upgrade, or a close for an auth reason (see
    /// [`AuthFailure::of_close`]; `expires_at_ms` is the credential's known
    /// expiry, 0 if none).
    pub fn auth_failure(&self, expires_at_ms: u64) -> Option<AuthFailure> {
        match self {
            ClientError::Refused { status: 401, .. } => Some(AuthFailure::Unauthorized),
            ClientError::Closed(Some(f)) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                AuthFailure::of_close(u16::from(f.code), &f.reason, false, expires_at_ms, now)
            }
            _ => None,
        }
    }
}
