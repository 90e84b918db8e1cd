//! Credentials for tests: HS256 JWTs signed with a shared test secret, and
//! the authenticator that checks them.

use jsonwebtoken::{encode, EncodingKey, Header};
use playhouse::auth::JwtAuthenticator;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The secret the test login service and the server share.
pub const SECRET: &[u8] = b"test secret shared with a login service";

/// A JWT for `user` (audience `arena`) that expires `valid_for` from now.
pub fn jwt(user: &str, valid_for: Duration) -> String {
    jwt_until(user, exp_in(valid_for))
}

/// The `exp` claim (seconds since the epoch) of a JWT that expires
/// `valid_for` from now, as [`jwt`] computes it.
pub fn exp_in(valid_for: Duration) -> u64 {
    (SystemTime::now() + valid_for).duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// A JWT for `user` (audience `arena`) with the `exp` claim `exp`.
pub fn jwt_until(user: &str, exp: u64) -> String {
    let claims = serde_json::json!({ "sub": user, "exp": exp, "aud": "arena" });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET)).expect("a JWT encodes")
}

/// A JWT for `user` that expired a minute ago: for tests that need an
/// expired credential without waiting for one to expire.
pub fn expired_jwt(user: &str) -> String {
    jwt_until(user, exp_in(Duration::ZERO) - 60)
}

/// Checks [`jwt`]'s tokens, with no clock skew allowed (a token for 2 s
/// expires in 2 s).
pub fn hs256() -> JwtAuthenticator {
    JwtAuthenticator::hs256(SECRET).audience("arena").leeway(Duration::ZERO)
}
