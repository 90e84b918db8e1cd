//! Authentication in a [`super::ReconnectingClient`]: the credential of each
//! connection (read anew from [`ClientAuth`]), when the automatic refresh is
//! due ([`RefreshPlan`]), and which failed attempts end the client
//! ([`stop_after_attempt`]) rather than being tried again.

use super::{Phase, ReconnectError, ReconnectEvent, ReconnectingClient, StopReason, FATAL_HTTP_STATUSES};
use crate::envelope::{client_msg::Kind as C, Auth, Authenticated};
use crate::{auth::refresh_delay, ClientAuth, ClientError, Credential};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now.
pub(super) fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A token from `auth`'s source, if auth is configured.
pub(super) async fn fresh_token(auth: Option<&ClientAuth>) -> Result<Option<String>, ClientError> {
    match auth {
        Some(a) => a.current().await.map(Some),
        None => Ok(None),
    }
}

/// The credential of one connection.
pub(super) fn credential<'a>(auth: Option<&ClientAuth>, token: Option<&'a str>) -> Option<Credential<'a>> {
    Some(Credential { token: token?, via: auth?.via })
}

/// Whether a failed attempt (connecting, authenticating, resuming) ends the
/// client, and with which stop: an auth failure a retry cannot fix (HTTP
/// 401, close 4001 or 4003, an expired credential's 1008) or HTTP 403. Every
/// other failure is tried again.
pub fn stop_after_attempt(e: &ClientError) -> Option<(StopReason, ReconnectEvent)> {
    if let Some(failure) = e.auth_failure(0).filter(|f| f.is_fatal()) {
        let reason = match e {
            ClientError::Refused { status, body } => format!("HTTP {status}: {body}"),
            ClientError::Closed(Some(f)) => f.reason.to_string(),
            other => other.to_string(),
        };
        return Some((StopReason::Unauthorized(failure), ReconnectEvent::Unauthorized { failure, reason }));
    }
    match e {
        ClientError::Refused { status, body } if FATAL_HTTP_STATUSES.contains(status) => {
            Some((StopReason::Refused(*status), ReconnectEvent::Refused { status: *status, body: body.clone() }))
        }
        _ => None,
    }
}

/// When the live connection's credential is to be refreshed by itself.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RefreshPlan {
    /// The `expires_at` a refresh was sent for: no other until the answer
    /// changes it.
    sent_for: Option<u64>,
}

impl RefreshPlan {
    /// When to refresh, given the source and the connection's latest
    /// `Authenticated`: `None` without a source that refreshes, without an
    /// expiry, with a refresh for this expiry in flight, or too late.
    pub fn due_at(&self, auth: Option<&ClientAuth>, authed: Option<&Authenticated>, now: Instant) -> Option<Instant> {
        let before = auth?.refresh_before?;
        let expires_at = authed?.expires_at;
        if self.sent_for == Some(expires_at) {
            return None;
        }
        refresh_delay(expires_at, unix_ms(), before).map(|d| now + d)
    }

    /// A refresh went out for the credential expiring at `expires_at`.
    pub fn sent(&mut self, expires_at: u64) {
        self.sent_for = Some(expires_at);
    }

    /// A new connection: nothing in flight.
    pub fn reset(&mut self) {
        self.sent_for = None;
    }
}

impl ReconnectingClient {
    /// Refreshes the credential with a token from the configured source
    /// ([`ReconnectConfig::auth`]) and waits for the server's
    /// `Authenticated`. A token for another user closes the connection with
    /// 4003 and stops the client ([`ReconnectEvent::Unauthorized`]).
    pub async fn refresh(&mut self) -> Result<Authenticated, ReconnectError> {
        let auth =
            self.config.auth.clone().ok_or_else(|| ReconnectError::Config("no auth source configured".into()))?;
        let token = auth.current().await?;
        self.refresh_with(&token).await
    }

    /// Refreshes the credential with `token` (see [`Self::refresh`]). The
    /// source is still asked for the token of the next connection.
    pub async fn refresh_with(&mut self, token: &str) -> Result<Authenticated, ReconnectError> {
        let answer = self.connection()?.authenticate(token).await;
        self.settle(answer)
    }

    /// The server's latest `Authenticated` (of the live connection, else the
    /// last one): the user and the credential's expiry.
    pub fn authenticated(&self) -> Option<&Authenticated> {
        match &self.phase {
            Phase::Connected(c) => c.authenticated(),
            _ => self.authenticated.as_ref(),
        }
    }

    /// The automatic refresh is due: a token from the source goes out as
    /// `Auth` (the answer comes as a `Server(Authenticated)` event). A source
    /// that fails is reported, and tried again later.
    pub(super) async fn auto_refresh(&mut self) -> Result<Option<ReconnectEvent>, ReconnectError> {
        let Some(auth) = self.config.auth.clone() else { return Ok(None) };
        let token = match auth.current().await {
            Ok(t) => t,
            Err(e) => return Ok(Some(ReconnectEvent::AuthRefreshFailed { error: e.to_string() })),
        };
        let Phase::Connected(conn) = &mut self.phase else { return Ok(None) };
        let expires_at = conn.authenticated().map_or(0, |a| a.expires_at);
        match conn.send(C::Auth(Auth { token })).await {
            Ok(()) => self.refresh.sent(expires_at),
            Err(e) => self.connection_failed(e)?,
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconnect::AfterClose;
    use crate::AuthFailure;
    use std::time::Duration;
    use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame};

    fn closed(code: u16, reason: &str) -> ClientError {
        ClientError::Closed(Some(CloseFrame { code: CloseCode::from(code), reason: reason.to_string().into() }))
    }

    #[test]
    fn auth_refusals_stop_the_attempts_and_the_rest_are_retried() {
        let stop = |e: &ClientError| stop_after_attempt(e).map(|(why, _)| why);
        let refused = |status| ClientError::Refused { status, body: "no".into() };
        assert_eq!(stop(&refused(401)), Some(StopReason::Unauthorized(AuthFailure::Unauthorized)));
        assert_eq!(stop(&refused(403)), Some(StopReason::Refused(403)));
        assert_eq!(
            stop(&closed(4001, "credential has expired")),
            Some(StopReason::Unauthorized(AuthFailure::Unauthorized))
        );
        assert_eq!(stop(&closed(4003, "too many sessions")), Some(StopReason::Unauthorized(AuthFailure::Forbidden)));
        assert_eq!(
            stop(&closed(1008, "credential expired; send a fresh Auth")),
            Some(StopReason::Unauthorized(AuthFailure::Expired))
        );
        for retried in [refused(429), refused(503), refused(400), closed(4002, "no Auth message"), closed(1006, "")] {
            assert_eq!(stop(&retried), None, "{retried}");
        }
        assert_eq!(stop(&ClientError::TokenSource("login down".into())), None);
        // The same codes on a live connection stop it too (after_close).
        for c in [4001, 4003, 1008] {
            assert_eq!(crate::reconnect::after_close(Some(c)), AfterClose::Stop);
        }
    }

    #[test]
    fn a_refresh_is_planned_once_per_expiry() {
        let auth = ClientAuth::from_fn(|| async { Ok("t".to_string()) });
        let now = Instant::now();
        let authed = |secs: u64| Authenticated { user: "ann".into(), expires_at: unix_ms() + secs * 1000 };
        let mut plan = RefreshPlan::default();
        let a = authed(600);
        let at = plan.due_at(Some(&auth), Some(&a), now).expect("planned");
        assert!(at >= now + Duration::from_secs(569) && at <= now + Duration::from_secs(570), "30 s ahead");
        plan.sent(a.expires_at);
        assert_eq!(plan.due_at(Some(&auth), Some(&a), now), None, "in flight");
        assert!(plan.due_at(Some(&auth), Some(&authed(700)), now).is_some(), "the answer moves the expiry");
        assert_eq!(plan.due_at(Some(&ClientAuth::token("t")), Some(&a), now), None, "a fixed token: no refresh");
        assert_eq!(plan.due_at(Some(&auth), Some(&Authenticated { user: "ann".into(), expires_at: 0 }), now), None);
        assert_eq!(plan.due_at(None, Some(&a), now), None);
    }
}
