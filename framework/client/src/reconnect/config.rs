//! [`ReconnectConfig`]: where a [`super::ReconnectingClient`] connects and
//! how it paces its attempts.

use super::{Backoff, Jitter, ReconnectError};
use crate::ClientAuth;
use playhouse_protocol::Token;
use std::time::Duration;

/// How a [`ReconnectingClient`] connects and reconnects. Fields are public;
/// start from [`ReconnectConfig::new`] and change what you need.
#[derive(Debug)]
pub struct ReconnectConfig {
    /// Server URLs (`ws://host:port/ws`), tried in turn (see
    /// [`UrlRotation`]). At least one.
    pub urls: Vec<String>,
    /// Subprotocol tokens to offer, best first (e.g. `arena.v2.proto`).
    pub tokens: Vec<String>,
    /// Waits between attempts, and how many attempts an outage may make.
    pub backoff: Backoff,
    /// The backoff's random draws (seed it for deterministic tests).
    pub jitter: Jitter,
    /// How often to acknowledge new reliable messages, so the server can
    /// drop them from the session's replay log; `None`: never (the log then
    /// stays at its bound for the session's life).
    pub ack_interval: Option<Duration>,
    /// Longest one attempt may take: dialling, the handshake, the resume
    /// and any rejoins. Past it the attempt counts as failed.
    pub attempt_timeout: Duration,
    /// A connection on which nothing arrived for this long (not even the
    /// server's heartbeat pings, every 5 s by default) is treated as lost;
    /// `None`: rely on the socket reporting errors.
    pub idle_timeout: Option<Duration>,
    /// How long a join, leave or ping waits for its answer.
    pub request_timeout: Duration,
    /// Authenticate every connection with a token from this source (read
    /// anew for each), before anything else — before the `Resume` of a
    /// reconnect too; `None`: no credential.
    pub auth: Option<ClientAuth>,
    /// Take states as deltas where the server offers them (the default; see
    /// [`Client::set_deltas`](crate::Client::set_deltas)), on every connection.
    pub deltas: bool,
}

impl ReconnectConfig {
    /// `urls` and `tokens` with the defaults: [`Backoff::default`] (250 ms
    /// base, 5 s cap, 8 tries), OS-seeded jitter, an ack every second, 10 s
    /// per attempt and per request, 15 s of silence before a connection
    /// counts as lost.
    pub fn new<U: Into<String>, T: Into<String>>(
        urls: impl IntoIterator<Item = U>,
        tokens: impl IntoIterator<Item = T>,
    ) -> Self {
        ReconnectConfig {
            urls: urls.into_iter().map(Into::into).collect(),
            tokens: tokens.into_iter().map(Into::into).collect(),
            backoff: Backoff::default(),
            jitter: Jitter::default(),
            ack_interval: Some(Duration::from_secs(1)),
            attempt_timeout: Duration::from_secs(10),
            idle_timeout: Some(Duration::from_secs(15)),
            request_timeout: Duration::from_secs(10),
            auth: None,
            deltas: true,
        }
    }

    pub(super) fn validate(&self) -> Result<(), ReconnectError> {
        if self.urls.is_empty() {
            return Err(ReconnectError::Config("no server URL".into()));
        }
        if self.tokens.is_empty() {
            return Err(ReconnectError::Config("no subprotocol token to offer".into()));
        }
        for t in &self.tokens {
            t.parse::<Token>().map_err(|e| ReconnectError::Config(format!("invalid token {t:?}: {e}")))?;
        }
        Ok(())
    }
}
