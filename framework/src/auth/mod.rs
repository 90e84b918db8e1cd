//! Authentication: who a connection is.
//!
//! The studio implements [`Authenticator`] (or uses the ready
//! [`JwtAuthenticator`]); the server calls it with the client's token:
//!
//! - [`AuthMode::Upgrade`] (the default when auth is configured): before the
//!   upgrade, with the token from `?token=`, `Authorization: Bearer …` or
//!   the configured cookie. Missing or bad: HTTP 401, no socket.
//! - [`AuthMode::FirstMessage`]: the socket opens (a token in the request is
//!   still used if present); otherwise the first message must be
//!   `Auth { token }` within the deadline (5 s), else close 4002; a bad token
//!   closes 4001; nothing else is processed before it. Browsers cannot set
//!   headers on a WebSocket, so this keeps tokens out of URLs and logs.
//!
//! The [`Identity`] reaches room code as `Client::user`, and a session's
//! resume token is bound to it. A credential with an expiry must be
//! refreshed with another `Auth` before it passes, or the connection is
//! closed with 1008.
//!
//! ```
//! use playhouse::auth::{AuthError, Authenticator, Identity};
//!
//! /// Accepts "let-me-in:<name>" (a toy; use JwtAuthenticator in a game).
//! struct Doorman;
//! impl Authenticator for Doorman {
//!     fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
//!         let user = token.strip_prefix("let-me-in:").ok_or(AuthError::Invalid("unknown token".into()))?;
//!         Ok(Identity::new(user))
//!     }
//! }
//! assert_eq!(Doorman.authenticate("let-me-in:ann").unwrap().user, "ann");
//! ```

mod extract;
mod gate;
mod jwt;

pub use extract::token_from_request;
pub use gate::{AuthGate, Deadline, Step};
pub use jwt::{JwtAuthenticator, JwtError};

use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Who a connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The user id (JWT `sub`).
    pub user: String,
    /// When the credential stops being valid (JWT `exp`), if ever.
    pub expires_at: Option<SystemTime>,
    /// Whether the credential names an operator (JWT claim `"admin": true`):
    /// such a credential is admitted to the server's monitor
    /// (`MonitorConfig::admin_claim`). Means nothing to rooms.
    pub admin: bool,
}

impl Identity {
    /// A user whose credential does not expire.
    pub fn new(user: impl Into<String>) -> Self {
        Identity { user: user.into(), expires_at: None, admin: false }
    }

    /// Marks the identity as an operator's (see [`Identity::admin`]).
    pub fn as_admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// Sets the expiry.
    pub fn expiring(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }
}

/// Why a token was refused (its text goes to the client: no secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token where one is required.
    #[error("no credential: send a token (?token=, Authorization: Bearer, cookie, or an Auth message)")]
    Missing,
    /// The token is not valid (bad signature, wrong audience, …).
    #[error("invalid credential: {0}")]
    Invalid(String),
    /// The token has expired.
    #[error("credential has expired")]
    Expired,
}

/// Checks a client's token. Called on a connection's thread: it must not
/// block (no network I/O); do slow checks where the token is issued.
pub trait Authenticator: Send + Sync + 'static {
    /// The identity `token` proves, or why not.
    fn authenticate(&self, token: &str) -> Result<Identity, AuthError>;
}

/// When the credential is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Before the upgrade (HTTP 401 without a good token).
    Upgrade,
    /// After it: the first message must be `Auth` within `deadline`.
    FirstMessage {
        /// How long the client has (default 5 s), else close 4002.
        deadline: Duration,
    },
}

/// Authentication settings (`ServerConfig::auth`; `None`: no authentication,
/// every client is anonymous).
#[derive(Clone)]
pub struct AuthConfig {
    /// Checks tokens.
    pub authenticator: Arc<dyn Authenticator>,
    /// When.
    pub mode: AuthMode,
    /// The cookie that may carry the token (checked after `?token=` and
    /// `Authorization`), e.g. `"playhouse_token"`.
    pub cookie: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig").field("mode", &self.mode).field("cookie", &self.cookie).finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// Upgrade-time auth with `authenticator`, cookie `playhouse_token`.
    pub fn new(authenticator: impl Authenticator) -> Self {
        AuthConfig {
            authenticator: Arc::new(authenticator),
            mode: AuthMode::Upgrade,
            cookie: Some("playhouse_token".into()),
        }
    }

    /// The first-message deadline a game gets unless it picks another.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(5);

    /// First-message auth with a deadline of `deadline`
    /// ([`AuthConfig::DEFAULT_DEADLINE`], 5 s, unless the game needs another).
    pub fn first_message(mut self, deadline: Duration) -> Self {
        self.mode = AuthMode::FirstMessage { deadline };
        self
    }
}

/// Checks that `identity` is still valid at `now`.
pub fn check_expiry(identity: &Identity, now: SystemTime) -> Result<(), AuthError> {
    match identity.expires_at {
        Some(t) if t <= now => Err(AuthError::Expired),
        _ => Ok(()),
    }
}
