//! Who may use the monitor: [`MonitorConfig`] and the admission rule
//! ([`admit`]), a plain function of the `Authorization` header.
//!
//! Only an `Authorization: Bearer <credential>` header (the scheme in any
//! case, as RFC 7235 says) is read — never a query string or a cookie — so
//! a credential stays out of URLs and logs and a page of another site
//! cannot make a browser send it (a fetch with that header from another
//! origin needs a CORS preflight the server never answers).

use crate::auth::Authenticator;

/// The monitor's settings (`ServerConfig::monitor`; `None`, the default:
/// no monitor, `/monitor` is 404).
///
/// ```
/// use playhouse::server::{MonitorConfig, ServerConfig};
///
/// let mut config = ServerConfig::new("arena");
/// config.monitor = Some(MonitorConfig::with_token("a long random operator token"));
/// ```
#[derive(Clone)]
pub struct MonitorConfig {
    /// A bearer token that admits its holder (compared in constant time, by
    /// SHA-256 digest: the timing shows neither where nor by how much a
    /// guess's length differs).
    /// `None`: no token admits.
    pub token: Option<String>,
    /// Also admit a credential that the server's authenticator
    /// (`ServerConfig::auth`) accepts as an admin's ([`crate::auth::Identity::admin`];
    /// with `JwtAuthenticator`, a JWT with `"admin": true`).
    pub admin_claim: bool,
    /// How many one-second samples the charts keep (default 300: five
    /// minutes).
    pub history: usize,
}

impl MonitorConfig {
    /// The monitor, admitting holders of `token`.
    pub fn with_token(token: impl Into<String>) -> Self {
        MonitorConfig { token: Some(token.into()), admin_claim: false, history: DEFAULT_HISTORY }
    }

    /// The monitor, admitting the credentials the server's authenticator
    /// marks as an admin's.
    pub fn with_admin_claim() -> Self {
        MonitorConfig { token: None, admin_claim: true, history: DEFAULT_HISTORY }
    }
}

/// Samples kept unless configured: five minutes at one a second.
pub const DEFAULT_HISTORY: usize = 300;

impl std::fmt::Debug for MonitorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.debug_struct("MonitorConfig")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("admin_claim", &self.admin_claim)
            .field("history", &self.history)
            .finish()
    }
}

/// Why a request to the monitor's API is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No `Authorization: Bearer` header (HTTP 401 with `WWW-Authenticate: Bearer`).
    #[error("no credential: send Authorization: Bearer <monitor token or admin credential>")]
    Missing,
    /// A credential that does not admit (HTTP 403).
    #[error("this credential is not an operator's: {0}")]
    Forbidden(&'static str),
}

impl Refusal {
    /// The HTTP status: 401 or 403.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Missing => 401,
            Refusal::Forbidden(_) => 403,
        }
    }
}

/// Whether `authorization` (the header's value, if any) admits its sender:
/// the configured token, or, with `admin_claim`, a credential
/// `authenticator` accepts with the admin mark.
pub fn admit(
    config: &MonitorConfig,
    authorization: Option<&str>,
    authenticator: Option<&dyn Authenticator>,
) -> Result<(), Refusal> {
    let credential = authorization.and_then(bearer).ok_or(Refusal::Missing)?;
    if config.token.as_deref().is_some_and(|t| same(t.as_bytes(), credential.as_bytes())) {
        return Ok(());
    }
    match (config.admin_claim, authenticator) {
        (true, Some(a)) => match a.authenticate(credential) {
            Ok(id) if id.admin => Ok(()),
            Ok(_) => Err(Refusal::Forbidden("the credential is valid but carries no admin claim")),
            Err(_) => Err(Refusal::Forbidden("not the monitor token, nor a valid admin credential")),
        },
        _ => Err(Refusal::Forbidden("not the monitor token")),
    }
}

/// The credential of an `Authorization: Bearer <credential>` value. The
/// scheme is matched without regard to case (RFC 7235 §2.1: `BEARER x`
/// is as good as `Bearer x`); `None` for another scheme or no credential.
fn bearer(value: &str) -> Option<&str> {
    let value = value.trim_start();
    let (scheme, rest) = value.split_once([' ', '\t'])?;
    let credential = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credential.is_empty()).then_some(credential)
}

/// Whether `a` and `b` are equal, in time that depends on neither where
/// they first differ nor their lengths: their SHA-256 digests (always 32
/// bytes) are compared whole, so a guess cannot be refined byte by byte
/// nor its length learnt from the timing.
fn same(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (da, db) = (Sha256::digest(a), Sha256::digest(b));
    let diff = da.iter().zip(db.iter()).fold(0u8, |d, (x, y)| d | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthError, Identity};

    /// Accepts `admin:<name>` as an admin, `user:<name>` as a player.
    struct Names;
    impl Authenticator for Names {
        fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
            if let Some(n) = token.strip_prefix("admin:") {
                Ok(Identity::new(n).as_admin())
            } else if let Some(n) = token.strip_prefix("user:") {
                Ok(Identity::new(n))
            } else {
                Err(AuthError::Invalid("unknown".into()))
            }
        }
    }

    #[test]
    fn the_token_admits_and_anything_else_is_refused() {
        let c = MonitorConfig::with_token("s3cret");
        assert_eq!(admit(&c, Some("Bearer s3cret"), None), Ok(()));
        // The scheme in any case (RFC 7235), and any run of spaces.
        for ok in ["bearer s3cret", "BEARER s3cret", "bEaReR  s3cret ", "Bearer\ts3cret"] {
            assert_eq!(admit(&c, Some(ok), None), Ok(()), "{ok:?}");
        }
        for missing in ["Bearers3cret", "Bear s3cret", "s3cret", "BEARER", "BEARER  "] {
            assert_eq!(admit(&c, Some(missing), None), Err(Refusal::Missing), "{missing:?}");
        }
        assert_eq!(admit(&c, None, None), Err(Refusal::Missing));
        assert_eq!(admit(&c, Some("Basic czNjcmV0"), None), Err(Refusal::Missing));
        assert_eq!(admit(&c, Some("Bearer "), None), Err(Refusal::Missing));
        for wrong in ["Bearer s3cre", "Bearer s3cret2", "Bearer S3CRET", "Bearer admin:op"] {
            assert_eq!(admit(&c, Some(wrong), Some(&Names)).map_err(|r| r.status()), Err(403), "{wrong}");
        }
        assert_eq!(Refusal::Missing.status(), 401);
    }

    #[test]
    fn an_admin_claim_admits_only_when_configured() {
        let claims = MonitorConfig::with_admin_claim();
        assert_eq!(admit(&claims, Some("Bearer admin:op"), Some(&Names)), Ok(()));
        assert!(
            matches!(admit(&claims, Some("Bearer user:ann"), Some(&Names)), Err(Refusal::Forbidden(r)) if r.contains("admin claim"))
        );
        assert_eq!(admit(&claims, Some("Bearer junk"), Some(&Names)).map_err(|r| r.status()), Err(403));
        // No authenticator on the server: nothing but a token could admit.
        assert_eq!(admit(&claims, Some("Bearer admin:op"), None).map_err(|r| r.status()), Err(403));
        // A token-only monitor ignores admin claims.
        let token = MonitorConfig::with_token("t");
        assert_eq!(admit(&token, Some("Bearer admin:op"), Some(&Names)).map_err(|r| r.status()), Err(403));
    }

    #[test]
    fn same_compares_whole_strings() {
        assert!(same(b"abc", b"abc"));
        assert!(same(b"", b""));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert!(!same(b"ab", b"abc"));
        assert!(!same(b"ab\0", b"ab"), "a NUL pad is not equal");
        // Lengths far apart: still a whole-digest compare, and still unequal.
        let long = vec![b'a'; 4096];
        assert!(!same(b"a", &long));
        assert!(same(&long, &long.clone()));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let shown = format!("{:?}", MonitorConfig::with_token("hunter2"));
        assert!(!shown.contains("hunter2") && shown.contains("<set>"), "{shown}");
    }
}
