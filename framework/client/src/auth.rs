//! Client-side authentication: where a connection's token goes
//! ([`AuthVia`]), where tokens come from ([`ClientAuth`], read anew for
//! every connection), and what an auth close or refusal means
//! ([`AuthFailure`]).
//!
//! A server authenticates at the upgrade (a token in `?token=` or an
//! `Authorization: Bearer` header; HTTP 401 without) or by first message
//! (`Auth { token }` first, within a deadline; close 4002 without, 4001 for a
//! bad token). Either way a credential with an expiry must be refreshed with
//! another `Auth` for the same user before it passes, or the connection is
//! closed with 1008; a refresh for another user closes it with 4003.
//!
//! With a credential, [`Client::connect_with`] puts the token where
//! [`AuthVia`] says and then sends it as `Auth`, the first message after
//! `Welcome` (at the upgrade it counts as a refresh: the client learns its
//! user and expiry either way), and waits for `Authenticated` before
//! anything else — before `Resume` too ([`Client::resume_or_new_with`]).
//!
//! A [`crate::ReconnectingClient`] takes a [`ClientAuth`] in
//! [`crate::ReconnectConfig::auth`]: the source is read anew for every
//! connection (so a reconnect never presents a stale token), refreshes
//! itself before the expiry when it is a function
//! ([`ClientAuth::refresh_before`]), and [`crate::ReconnectingClient::refresh`]
//! renews by hand. What a retry cannot fix ends it: HTTP 401/403 at the
//! upgrade, close 4001, 4003, or 1008 for an expired credential
//! ([`AuthFailure::is_fatal`]) — as [`crate::ReconnectEvent::Unauthorized`]
//! (or [`crate::ReconnectEvent::Refused`]) once connected, as
//! [`crate::ReconnectError::Refused`] from `connect` — after one attempt,
//! never in a loop. 4002 and a failing source are retried.
//!
//! ```no_run
//! use playhouse_client::reconnect::{ReconnectConfig, ReconnectEvent, ReconnectingClient};
//! use playhouse_client::{AuthVia, ClientAuth};
//!
//! # async fn login() -> Result<String, String> { Ok(String::new()) }
//! # async fn run() -> Result<(), playhouse_client::ReconnectError> {
//! let auth = ClientAuth::from_fn(|| async { login().await }).via(AuthVia::Message);
//! let config = ReconnectConfig { auth: Some(auth), ..ReconnectConfig::new(["wss://game.example/ws"], ["arena.v2.proto"]) };
//! let mut client = ReconnectingClient::connect(config).await?;
//! println!("playing as {:?}", client.authenticated().map(|a| &a.user));
//! loop {
//!     match client.next_event().await? {
//!         ReconnectEvent::Unauthorized { failure, reason } => {
//!             println!("signed out: {failure} ({reason})");
//!             break;
//!         }
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! One connection, by hand:
//!
//! ```no_run
//! use playhouse_client::{AuthVia, Client, Credential};
//!
//! # async fn run(jwt: &str) -> Result<(), playhouse_client::ClientError> {
//! let cred = Credential { token: jwt, via: AuthVia::Message };
//! let client = Client::connect_with("ws://127.0.0.1:8080/ws", &["arena.v2.proto"], Some(cred)).await?;
//! println!("playing as {:?}", client.authenticated().map(|a| &a.user));
//! # Ok(()) }
//! ```

use crate::envelope::Authenticated;
use crate::{Client, ClientError, ResumeOutcome};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// Where a connection's token goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthVia {
    /// An `Auth` message, the first after `Welcome` (first-message servers;
    /// keeps the token out of URLs and access logs). The default.
    #[default]
    Message,
    /// `?token=` on the URL (upgrade-time servers; what a browser can do).
    Query,
    /// An `Authorization: Bearer` header on the upgrade request.
    Header,
}

/// One connection's credential: the token and where it goes.
#[derive(Clone, Copy)]
pub struct Credential<'a> {
    /// The token (a JWT).
    pub token: &'a str,
    /// Where it goes.
    pub via: AuthVia,
}

impl std::fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("via", &self.via).finish_non_exhaustive()
    }
}

/// What a token source returns: a token, or why there is none.
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;

/// Where a [`crate::ReconnectingClient`] gets its tokens: a fixed one, or a
/// function called for every connection (reconnects included) and for
/// automatic refreshes, so an expiring credential can be renewed.
#[derive(Clone)]
pub struct ClientAuth {
    source: Arc<dyn Fn() -> TokenFuture + Send + Sync>,
    /// Where the token goes (default [`AuthVia::Message`]).
    pub via: AuthVia,
    /// Refresh this long before `Authenticated.expires_at` (at most half the
    /// time left), with a token from the source; `None`: never by itself.
    pub refresh_before: Option<Duration>,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("via", &self.via)
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}

impl ClientAuth {
    /// Always the same token; no automatic refresh (it would send the same).
    pub fn token(token: impl Into<String>) -> Self {
        let token: String = token.into();
        ClientAuth {
            source: Arc::new(move || -> TokenFuture {
                let t = token.clone();
                Box::pin(async move { Ok(t) })
            }),
            via: AuthVia::Message,
            refresh_before: None,
        }
    }

    /// Tokens from `f`, called for every connection and refresh; refreshes
    /// 30 s before expiry by default.
    pub fn from_fn<F, Fut>(f: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, String>> + Send + 'static,
    {
        ClientAuth {
            source: Arc::new(move || -> TokenFuture { Box::pin(f()) }),
            via: AuthVia::Message,
            refresh_before: Some(Duration::from_secs(30)),
        }
    }

    /// Sets where the token goes.
    pub fn via(mut self, via: AuthVia) -> Self {
        self.via = via;
        self
    }

    /// Sets (or, with `None`, turns off) the automatic refresh.
    pub fn refresh_before(mut self, before: Option<Duration>) -> Self {
        self.refresh_before = before;
        self
    }

    /// A token from the source now.
    pub async fn current(&self) -> Result<String, ClientError> {
        match (self.source)().await {
            Ok(t) if !t.is_empty() => Ok(t),
            Ok(_) => Err(ClientError::TokenSource("the token source gave an empty token".into())),
            Err(e) => Err(ClientError::TokenSource(e)),
        }
    }
}

/// Why authentication failed or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// The token was refused (close 4001, or HTTP 401 at the upgrade).
    #[error("the server refused the credential")]
    Unauthorized,
    /// No `Auth` reached the server within its deadline (close 4002).
    #[error("no Auth within the server's deadline")]
    Deadline,
    /// A refresh for another user, or too many sessions of the user (4003).
    #[error("the server refused this user")]
    Forbidden,
    /// The credential expired without a refresh (close 1008).
    #[error("the credential expired without a refresh")]
    Expired,
}

impl AuthFailure {
    /// What a close means, if it is about authentication: 4001, 4003; 4002
    /// when an `Auth` was due (`expect_auth`) or the reason says so; 1008
    /// when the reason says the credential expired or its known expiry
    /// (`expires_at_ms`, 0: none) has passed at `now_ms` — other 1008s
    /// (idle timeout, rate limit) are not.
    ///
    /// ```
    /// use playhouse_client::AuthFailure;
    /// assert_eq!(AuthFailure::of_close(4001, "bad signature", false, 0, 0), Some(AuthFailure::Unauthorized));
    /// assert_eq!(AuthFailure::of_close(1008, "credential expired; send a fresh Auth", false, 0, 0), Some(AuthFailure::Expired));
    /// assert_eq!(AuthFailure::of_close(1008, "rate limit exceeded", false, 0, 0), None);
    /// ```
    pub fn of_close(code: u16, reason: &str, expect_auth: bool, expires_at_ms: u64, now_ms: u64) -> Option<Self> {
        let lower = reason.to_ascii_lowercase();
        match code {
            4001 => Some(AuthFailure::Unauthorized),
            4003 => Some(AuthFailure::Forbidden),
            4002 if expect_auth || lower.contains("auth") => Some(AuthFailure::Deadline),
            1008 if ["credential", "expired", "token"].iter().any(|w| lower.contains(w))
                || (expires_at_ms != 0 && now_ms.saturating_add(1000) >= expires_at_ms) =>
            {
                Some(AuthFailure::Expired)
            }
            _ => None,
        }
    }

    /// Whether a retry cannot fix it (all but [`AuthFailure::Deadline`]).
    pub fn is_fatal(self) -> bool {
        self != AuthFailure::Deadline
    }
}

/// How long until a credential expiring at `expires_at_ms` should be
/// refreshed: `before` ahead, but no earlier than halfway through the time
/// left; `None` when it never expires or has less than a second left.
///
/// ```
/// use playhouse_client::auth::refresh_delay;
/// use std::time::Duration;
/// let s = Duration::from_secs;
/// assert_eq!(refresh_delay(600_000, 0, s(30)), Some(s(570)));
/// assert_eq!(refresh_delay(10_000, 0, s(30)), Some(s(5)), "half of a short life");
/// assert_eq!(refresh_delay(0, 0, s(30)), None);
/// ```
pub fn refresh_delay(expires_at_ms: u64, now_ms: u64, before: Duration) -> Option<Duration> {
    if expires_at_ms == 0 {
        return None;
    }
    let left = expires_at_ms.saturating_sub(now_ms);
    if left < 1000 {
        return None;
    }
    let before = u64::try_from(before.as_millis()).unwrap_or(u64::MAX);
    Some(Duration::from_millis(left.saturating_sub(before).max(left / 2)))
}

/// `url` with `token` as its `token` query parameter (percent-encoded).
pub(crate) fn with_token(url: &str, token: &str) -> String {
    let (base, fragment) = url.split_once('#').map_or((url, None), |(b, f)| (b, Some(f)));
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}token=");
    for b in token.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

impl Client {
    /// Like [`Client::connect`], authenticating with `cred` (see the
    /// [module docs](self)): on success the server has answered
    /// `Authenticated` ([`Client::authenticated`]). A refused token is
    /// `Err(ClientError::Refused { status: 401, .. })` at the upgrade, or
    /// `Err(ClientError::Closed(..))` with 4001 after it
    /// ([`ClientError::auth_failure`] tells them apart from other errors).
    pub async fn connect_with(url: &str, tokens: &[&str], cred: Option<Credential<'_>>) -> Result<Client, ClientError> {
        let mut client = Self::open(url, tokens, cred.as_ref(), None).await?;
        client.welcomed().await?;
        client.resume_token = client.welcome.resume_token.clone();
        if let Some(c) = cred {
            client.authenticate(c.token).await?;
        }
        Ok(client)
    }

    /// Like [`Client::resume_or_new`], authenticating with `cred` first: the
    /// `Auth` goes out before the `Resume`, as a first-message server
    /// requires (and a session resumes only for its own user).
    pub async fn resume_or_new_with(
        url: &str,
        tokens: &[&str],
        cred: Option<Credential<'_>>,
        token: &str,
        last_seq: u64,
    ) -> Result<(Client, ResumeOutcome), ClientError> {
        let mut client = Self::open(url, tokens, cred.as_ref(), None).await?;
        client.welcomed().await?;
        if let Some(c) = cred {
            client.authenticate(c.token).await?;
        }
        client.resume_session(token, last_seq).await
    }

    /// The server's latest `Authenticated` on this connection (the first
    /// auth, then each refresh answer read), if any.
    pub fn authenticated(&self) -> Option<&Authenticated> {
        self.authenticated.as_ref()
    }

    /// Authenticates the connection (first-message auth) or refreshes its
    /// credential, and waits for the server's `Authenticated`. A refused
    /// token closes the connection (4001; 4003 for another user's token).
    pub async fn authenticate(&mut self, token: &str) -> Result<Authenticated, ClientError> {
        self.send(crate::envelope::client_msg::Kind::Auth(crate::envelope::Auth { token: token.to_string() })).await?;
        let a = self
            .wait_for(|e| match e {
                crate::Event::Authenticated(a) => Some(a.clone()),
                _ => None,
            })
            .await?;
        self.authenticated = Some(a.clone());
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_on_the_query_encoded() {
        assert_eq!(with_token("ws://h:1/ws", "a.b_c-d"), "ws://h:1/ws?token=a.b_c-d");
        assert_eq!(with_token("ws://h:1/ws?x=1#f", "a+b/c="), "ws://h:1/ws?x=1&token=a%2Bb%2Fc%3D#f");
    }

    #[test]
    fn only_auth_closes_are_auth_failures() {
        let of = |code, reason| AuthFailure::of_close(code, reason, false, 0, 0);
        assert_eq!(of(4003, "too many sessions"), Some(AuthFailure::Forbidden));
        assert_eq!(of(4002, "no Auth message within the authentication deadline"), Some(AuthFailure::Deadline));
        assert_eq!(of(4002, "session"), None);
        assert_eq!(AuthFailure::of_close(4002, "", true, 0, 0), Some(AuthFailure::Deadline));
        assert_eq!(of(1008, "nothing received for 15 s"), None);
        assert_eq!(AuthFailure::of_close(1008, "", false, 5_000, 4_500), Some(AuthFailure::Expired), "expiry passed");
        assert_eq!(of(1000, ""), None);
        assert!(!AuthFailure::Deadline.is_fatal() && AuthFailure::Expired.is_fatal());
        assert_eq!(refresh_delay(900, 0, Duration::from_secs(30)), None, "too late");
    }

    #[tokio::test]
    async fn a_source_is_read_anew_each_time_and_an_empty_token_is_an_error() {
        let n = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = n.clone();
        let auth = ClientAuth::from_fn(move || {
            let i = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                if i == 0 {
                    Ok("t0".to_string())
                } else {
                    Ok(String::new())
                }
            }
        });
        assert_eq!(auth.current().await.unwrap(), "t0");
        assert!(matches!(auth.current().await, Err(ClientError::TokenSource(_))));
        assert_eq!(ClientAuth::token("x").current().await.unwrap(), "x");
        assert_eq!(ClientAuth::token("x").refresh_before, None);
        assert!(!format!("{:?}", Credential { token: "secret", via: AuthVia::Query }).contains("secret"));
    }
}
