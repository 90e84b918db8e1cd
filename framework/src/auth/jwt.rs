//! [`JwtAuthenticator`]: JSON Web Tokens signed with HS256 (a shared secret)
//! or RS256 (the issuer's RSA public key), via `jsonwebtoken`.
//!
//! Checked: the signature and algorithm (only the one configured: no
//! `alg: none`, no HS/RS confusion), `exp` (required), `nbf` (if present),
//! `aud` and `iss` (if configured), each with the configured clock skew
//! (`leeway`, 30 s by default). `sub` is the user id (required). An optional
//! boolean claim `admin` marks an operator ([`Identity::admin`]: admitted
//! to the server's monitor when it is configured to take admin claims).
//!
//! ```
//! use playhouse::auth::{Authenticator, JwtAuthenticator};
//! use jsonwebtoken::{encode, EncodingKey, Header};
//!
//! let secret = b"a long random secret shared with the login service";
//! let auth = JwtAuthenticator::hs256(secret).audience("arena").issuer("login.example");
//! let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
//! let claims = serde_json::json!({ "sub": "ann", "aud": "arena", "iss": "login.example", "exp": exp });
//! let token = encode(&Header::default(), &claims, &EncodingKey::from_secret(secret)).unwrap();
//! assert_eq!(auth.authenticate(&token).unwrap().user, "ann");
//! assert!(JwtAuthenticator::hs256(b"another secret").authenticate(&token).is_err());
//! ```

use super::{AuthError, Authenticator, Identity};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A key that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// The RSA public key PEM does not parse.
    #[error("invalid RSA public key PEM: {0}")]
    BadKey(#[from] jsonwebtoken::errors::Error),
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    /// Anything but `true` (absent, false, a string, a number, an object)
    /// is not an admin; none of it refuses the token: an identity provider
    /// may already send an `admin` claim of its own shape.
    #[serde(default, deserialize_with = "only_true")]
    admin: bool,
}

fn only_true<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(matches!(serde_json::Value::deserialize(d)?, serde_json::Value::Bool(true)))
}

/// Verifies JWTs.
#[derive(Clone)]
pub struct JwtAuthenticator {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthenticator").field("algorithms", &self.validation.algorithms).finish_non_exhaustive()
    }
}

impl JwtAuthenticator {
    fn with(key: DecodingKey, alg: Algorithm) -> Self {
        let mut validation = Validation::new(alg);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = 30;
        validation.set_required_spec_claims(&["exp", "sub"]);
        JwtAuthenticator { key, validation }
    }

    /// HS256 with a shared secret.
    pub fn hs256(secret: &[u8]) -> Self {
        Self::with(DecodingKey::from_secret(secret), Algorithm::HS256)
    }

    /// RS256 with the issuer's public key (PEM: `BEGIN PUBLIC KEY` or
    /// `BEGIN RSA PUBLIC KEY`).
    pub fn rs256_pem(public_key_pem: &[u8]) -> Result<Self, JwtError> {
        Ok(Self::with(DecodingKey::from_rsa_pem(public_key_pem)?, Algorithm::RS256))
    }

    /// Requires `aud` to contain `aud`.
    pub fn audience(mut self, aud: &str) -> Self {
        self.validation.set_audience(&[aud]);
        self.validation.validate_aud = true;
        self
    }

    /// Requires `iss` to be `iss`.
    pub fn issuer(mut self, iss: &str) -> Self {
        self.validation.set_issuer(&[iss]);
        self
    }

    /// The clock skew allowed on `exp` and `nbf` (default 30 s).
    pub fn leeway(mut self, skew: Duration) -> Self {
        self.validation.leeway = skew.as_secs();
        self
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
        let data = decode::<Claims>(token, &self.key, &self.validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::Invalid("token not valid yet (nbf)".into()),
            ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience".into()),
            ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer".into()),
            ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
            ErrorKind::InvalidAlgorithm => AuthError::Invalid("algorithm not accepted".into()),
            ErrorKind::MissingRequiredClaim(c) => AuthError::Invalid(format!("missing claim {c}")),
            ErrorKind::Json(_) => AuthError::Invalid("claims do not parse (sub and exp are required)".into()),
            _ => AuthError::Invalid("malformed token".into()),
        })?;
        if data.claims.sub.is_empty() {
            return Err(AuthError::Invalid("empty sub".into()));
        }
        // Expiry as the token says, plus the allowed skew: the connection is
        // closed when this passes without a refresh.
        let exp = UNIX_EPOCH + Duration::from_secs(data.claims.exp.saturating_add(self.validation.leeway));
        Ok(Identity {
            user: data.claims.sub,
            expires_at: Some(exp.max(SystemTime::UNIX_EPOCH)),
            admin: data.claims.admin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    fn hs(claims: serde_json::Value, secret: &[u8]) -> String {
        encode(&Header::default(), &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn every_claim_is_checked() {
        let a = JwtAuthenticator::hs256(b"k").audience("arena").issuer("me").leeway(Duration::from_secs(5));
        let ok = json!({"sub": "u", "aud": "arena", "iss": "me", "exp": now() + 60});
        assert_eq!(a.authenticate(&hs(ok.clone(), b"k")).unwrap().user, "u");
        let mut c = ok.clone();
        c["exp"] = json!(now() - 10);
        assert_eq!(a.authenticate(&hs(c, b"k")), Err(AuthError::Expired));
        let mut c = ok.clone();
        c["exp"] = json!(now() - 2);
        assert!(a.authenticate(&hs(c, b"k")).is_ok(), "within the skew");
        let mut c = ok.clone();
        c["nbf"] = json!(now() + 60);
        assert!(matches!(a.authenticate(&hs(c, b"k")), Err(AuthError::Invalid(r)) if r.contains("nbf")));
        let mut c = ok.clone();
        c["aud"] = json!("chess");
        assert!(matches!(a.authenticate(&hs(c, b"k")), Err(AuthError::Invalid(r)) if r.contains("audience")));
        let mut c = ok.clone();
        c["iss"] = json!("them");
        assert!(matches!(a.authenticate(&hs(c, b"k")), Err(AuthError::Invalid(r)) if r.contains("issuer")));
        let c = json!({"aud": "arena", "iss": "me", "exp": now() + 60});
        assert!(matches!(a.authenticate(&hs(c, b"k")), Err(AuthError::Invalid(r)) if r.contains("sub")));
        assert!(a.authenticate("not.a.jwt").is_err());
        assert!(a.authenticate(&hs(ok, b"other")).is_err());
    }

    #[test]
    fn the_admin_claim_is_read_and_defaults_to_false() {
        let a = JwtAuthenticator::hs256(b"k");
        let admin = json!({"sub": "op", "exp": now() + 60, "admin": true});
        assert!(a.authenticate(&hs(admin, b"k")).unwrap().admin);
        let plain = json!({"sub": "ann", "exp": now() + 60});
        assert!(!a.authenticate(&hs(plain, b"k")).unwrap().admin);
        let not = json!({"sub": "ann", "exp": now() + 60, "admin": false});
        assert!(!a.authenticate(&hs(not, b"k")).unwrap().admin);
        // A provider's own `admin` of another shape: still a player's
        // token, never an admin.
        for odd in [json!("true"), json!(1), json!(null), json!({"role": "x"})] {
            let t = json!({"sub": "ann", "exp": now() + 60, "admin": odd});
            let id = a.authenticate(&hs(t, b"k")).unwrap_or_else(|e| panic!("admin {odd}: {e:?}"));
            assert!(!id.admin, "admin {odd}");
        }
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        // {"alg":"none"} header, valid claims, no signature.
        let header = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, br#"{"alg":"none"}"#);
        let claims = format!(r#"{{"sub":"u","exp":{}}}"#, now() + 60);
        let body = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims);
        assert!(JwtAuthenticator::hs256(b"k").authenticate(&format!("{header}.{body}.")).is_err());
    }
}
