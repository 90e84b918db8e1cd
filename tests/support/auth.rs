//! Credentials for tests: HS256 JWTs signed with a shared test secret, and
//! the authenticator that checks them.

use jsonwebtoken::{encode, EncodingKey, Header};
use playhouse::auth::JwtAuthenticator;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The secret the test login service and the server share.
pub const SECRET: &[u8] = b"test secret shared with a login service";

/// A JWT for `user` (audience `arena`) that expires `valid_for` from now.
pub fn jwt(user: &str, valid_for: Duration) -> String {
    let exp = (SystemTime::now() + valid_for).duration_since(UNIX_EPOCH).expect("after 1970").as_secs();
    let claims = serde_json::json!({ "sub": user, "exp": exp, "aud": "arena" });
    encode(&Header::default(), &claims, &EncodingKey::from_secret(SECRET)).expect("a JWT encodes")
}

/// Checks [`jwt`]'s tokens, with no clock skew allowed (a token for 2 s
/// expires in 2 s).
pub fn hs256() -> JwtAuthenticator {
    JwtAuthenticator::hs256(SECRET).audience("arena").leeway(Duration::ZERO)
}
