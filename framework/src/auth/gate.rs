//! [`AuthGate`]: one connection's authentication state machine — plain, no
//! sockets: what may pass before the client is authenticated, what an
//! `Auth` message does, and when the connection must close.
//!
//! ```
//! use playhouse::auth::{AuthConfig, AuthError, AuthGate, Authenticator, Identity, Step};
//! use std::time::{Duration, Instant};
//!
//! struct Names;
//! impl Authenticator for Names {
//!     fn authenticate(&self, t: &str) -> Result<Identity, AuthError> {
//!         if t.is_empty() { Err(AuthError::Invalid("empty".into())) } else { Ok(Identity::new(t)) }
//!     }
//! }
//! let config = AuthConfig::new(Names).first_message(Duration::from_secs(5));
//! let t0 = Instant::now();
//! let mut gate = AuthGate::new(Some(&config), None, t0);
//! assert!(!gate.may_process(), "nothing before Auth");
//! assert!(matches!(gate.auth("ann", std::time::SystemTime::now()), Step::Accepted(_)));
//! assert!(gate.may_process());
//! assert_eq!(gate.user(), Some("ann"));
//! ```

use super::{check_expiry, AuthConfig, AuthError, AuthMode, Identity};
use crate::protocol::CloseCode;
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, Clone)]
enum State {
    /// No authentication configured: everyone is anonymous.
    Open,
    /// Waiting for the first `Auth` until the deadline.
    Pending { until: Instant },
    /// Authenticated.
    Known(Identity),
}

/// What an `Auth` message led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Accepted (first auth or refresh): answer `Authenticated`.
    Accepted(Identity),
    /// Close the connection with this code and reason.
    Close(CloseCode, String),
}

/// One connection's authentication.
/// What the gate is waiting for, as a value that stays the same until it
/// changes: a connection arms its credential timer once per deadline, not
/// once per `Auth` message (see [`AuthGate::deadline`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The first-message `Auth` is due by then.
    Auth(Instant),
    /// The credential expires then.
    Expiry(SystemTime),
}

#[derive(Clone)]
pub struct AuthGate {
    config: Option<AuthConfig>,
    state: State,
}

impl std::fmt::Debug for AuthGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthGate").field("state", &self.state).finish()
    }
}

impl AuthGate {
    /// The gate of a new connection: `pre` is the identity proven before the
    /// upgrade (a token in the request), if any.
    pub fn new(config: Option<&AuthConfig>, pre: Option<Identity>, now: Instant) -> Self {
        let state = match (config, pre) {
            (None, _) => State::Open,
            (Some(_), Some(id)) => State::Known(id),
            (Some(c), None) => match c.mode {
                AuthMode::FirstMessage { deadline } => State::Pending { until: now + deadline },
                // The route refuses an upgrade without a credential; a gate
                // built without one is closed at once by `check`.
                AuthMode::Upgrade => State::Pending { until: now },
            },
        };
        AuthGate { config: config.cloned(), state }
    }

    /// Whether messages other than `Auth` (and `Hello`) may be processed.
    pub fn may_process(&self) -> bool {
        !matches!(self.state, State::Pending { .. })
    }

    /// The authenticated user, if any.
    pub fn user(&self) -> Option<&str> {
        match &self.state {
            State::Known(id) => Some(&id.user),
            _ => None,
        }
    }

    /// The authenticated identity, if any.
    pub fn identity(&self) -> Option<&Identity> {
        match &self.state {
            State::Known(id) => Some(id),
            _ => None,
        }
    }

    /// An `Auth { token }` message.
    pub fn auth(&mut self, token: &str, now: SystemTime) -> Step {
        let Some(config) = &self.config else {
            return Step::Accepted(Identity::new(""));
        };
        let verdict = config.authenticator.authenticate(token).and_then(|id| check_expiry(&id, now).map(|()| id));
        match (&self.state, verdict) {
            (State::Known(old), Ok(id)) if old.user != id.user => {
                Step::Close(CloseCode::Forbidden, "a refreshed credential must be for the same user".into())
            }
            (_, Ok(id)) => {
                self.state = State::Known(id.clone());
                Step::Accepted(id)
            }
            (_, Err(e @ AuthError::Expired)) | (_, Err(e)) => Step::Close(CloseCode::Unauthorized, e.to_string()),
        }
    }

    /// What the timer says at `now` / `wall`: the first-auth deadline passed
    /// (4002), or the credential expired without a refresh (1008).
    pub fn check(&self, now: Instant, wall: SystemTime) -> Option<(CloseCode, String)> {
        match &self.state {
            State::Pending { until } if now >= *until => {
                Some((CloseCode::Timeout, "no Auth message within the authentication deadline".into()))
            }
            State::Known(id) if check_expiry(id, wall).is_err() => {
                Some((CloseCode::Policy, "credential expired; send a fresh Auth before it does".into()))
            }
            _ => None,
        }
    }

    /// The deadline [`AuthGate::next_check`] counts down to (`None`: none).
    pub fn deadline(&self) -> Option<Deadline> {
        match &self.state {
            State::Open => None,
            State::Pending { until } => Some(Deadline::Auth(*until)),
            State::Known(id) => id.expires_at.map(Deadline::Expiry),
        }
    }

    /// When to call [`AuthGate::check`] next, if ever.
    pub fn next_check(&self, now: Instant, wall: SystemTime) -> Option<Duration> {
        match &self.state {
            State::Open => None,
            State::Pending { until } => Some(until.saturating_duration_since(now)),
            State::Known(id) => id.expires_at.map(|t| t.duration_since(wall).unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Authenticator;

    /// "user" or "user@<unix secs expiry>".
    struct Table;
    impl Authenticator for Table {
        fn authenticate(&self, t: &str) -> Result<Identity, AuthError> {
            match t.split_once('@') {
                _ if t.is_empty() || t == "bad" => Err(AuthError::Invalid("no".into())),
                Some((u, exp)) => {
                    let secs: u64 = exp.parse().map_err(|_| AuthError::Invalid("exp".into()))?;
                    Ok(Identity::new(u).expiring(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)))
                }
                None => Ok(Identity::new(t)),
            }
        }
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn first_message_mode_times_out_refuses_bad_tokens_and_expires() {
        let config = AuthConfig::new(Table).first_message(Duration::from_secs(5));
        let t0 = Instant::now();
        let mut g = AuthGate::new(Some(&config), None, t0);
        assert_eq!(g.check(t0 + Duration::from_secs(4), at(0)), None);
        assert_eq!(g.check(t0 + Duration::from_secs(5), at(0)).map(|c| c.0), Some(CloseCode::Timeout));
        assert!(matches!(g.auth("bad", at(0)), Step::Close(CloseCode::Unauthorized, _)));
        assert!(matches!(g.auth("ann@100", at(200)), Step::Close(CloseCode::Unauthorized, _)), "already expired");
        assert!(matches!(g.auth("ann@100", at(50)), Step::Accepted(_)));
        assert_eq!(g.next_check(t0, at(50)), Some(Duration::from_secs(50)));
        assert_eq!(g.deadline(), Some(Deadline::Expiry(at(100))));
        assert!(matches!(g.auth("ann@100", at(60)), Step::Accepted(_)));
        assert_eq!(g.deadline(), Some(Deadline::Expiry(at(100))), "the same token again: the same deadline");
        assert_eq!(g.check(t0, at(100)).map(|c| c.0), Some(CloseCode::Policy));
        // A refresh extends; another user's credential is refused.
        assert!(matches!(g.auth("ann@300", at(90)), Step::Accepted(_)));
        assert_eq!(g.check(t0, at(100)), None);
        assert!(matches!(g.auth("bob@300", at(90)), Step::Close(CloseCode::Forbidden, _)));
    }

    #[test]
    fn without_auth_everyone_passes_and_nothing_expires() {
        let g = AuthGate::new(None, None, Instant::now());
        assert!(g.may_process());
        assert_eq!(g.next_check(Instant::now(), SystemTime::now()), None);
        assert_eq!(g.user(), None);
    }
}
