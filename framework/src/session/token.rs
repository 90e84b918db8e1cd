//! Resume tokens: signed, expiring proof that a client owns a session.
//!
//! A token is `base64url(session id ‖ nonce ‖ generation ‖ expiry ‖ node
//! ‖ HMAC-SHA256)` (72 bytes, 96 characters). `node` is the tag of the
//! cluster node that holds the session (0 without a cluster), so any node
//! of a cluster — they share the key — knows where to send a resume. The MAC (keyed with the server's session secret) makes
//! tokens unforgeable; the nonce is random per session, so a token from an
//! earlier process that happened to use the same session id does not match;
//! the generation counts the tokens a session has been handed (the registry
//! bumps it on every `Resumed`, so an older token is superseded and every
//! fresh token differs from the last); the expiry bounds how long a leaked
//! token is worth anything. The session registry then checks that the
//! session still exists, is within its reconnect window and that the
//! token's generation is the session's current one.
//!
//! HMAC is `hmac` + `sha2` (RustCrypto): the comparison is constant-time.
//!
//! ```
//! use playhouse::session::{Claims, TokenError, TokenSigner};
//!
//! let signer = TokenSigner::new(b"a secret of at least 32 bytes....");
//! let token = signer.issue(7, 0xfeed, 2, 1_000, 0);
//! assert_eq!(signer.verify(&token, 999).unwrap(), Claims { id: 7, nonce: 0xfeed, generation: 2, node: 0 });
//! assert_ne!(token, signer.issue(7, 0xfeed, 3, 1_000, 0), "another generation, another token");
//! assert_eq!(signer.verify(&token, 1_001), Err(TokenError::Expired));
//! assert_eq!(TokenSigner::new(b"another secret").verify(&token, 0), Err(TokenError::BadSignature));
//! ```

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const BODY: usize = 40;
const MAC: usize = 32;

/// Why a resume token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token this server issues (wrong length or alphabet).
    #[error("resume token is malformed")]
    Malformed,
    /// The signature does not match (forged, or signed with another secret).
    #[error("resume token signature does not match")]
    BadSignature,
    /// Past its expiry.
    #[error("resume token has expired")]
    Expired,
}

/// Issues and checks resume tokens with one secret.
/// What a valid resume token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    /// The session's number on its node.
    pub id: u64,
    /// The session's nonce (a reused number is another session).
    pub nonce: u64,
    /// The token's generation (only the newest resumes).
    pub generation: u64,
    /// The tag of the node that holds the session (0: a server without a
    /// cluster); see `backend::node_tag`.
    pub node: u64,
}

#[derive(Clone)]
pub struct TokenSigner {
    mac: HmacSha256,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner(..)")
    }
}

impl TokenSigner {
    /// A signer keyed with `secret` (any length; 32 random bytes is right).
    pub fn new(secret: &[u8]) -> Self {
        TokenSigner { mac: HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length") }
    }

    /// A signer with a random secret: tokens are valid in this process only.
    pub fn random() -> Self {
        let secret: [u8; 32] = rand::random();
        Self::new(&secret)
    }

    /// A token for session `id` with `nonce` and token `generation`, valid
    /// until `expires` (seconds since the Unix epoch).
    pub fn issue(&self, id: u64, nonce: u64, generation: u64, expires: u64, node: u64) -> String {
        let mut buf = [0u8; BODY + MAC];
        buf[..8].copy_from_slice(&id.to_be_bytes());
        buf[8..16].copy_from_slice(&nonce.to_be_bytes());
        buf[16..24].copy_from_slice(&generation.to_be_bytes());
        buf[24..32].copy_from_slice(&expires.to_be_bytes());
        buf[32..40].copy_from_slice(&node.to_be_bytes());
        let mut mac = self.mac.clone();
        mac.update(&buf[..BODY]);
        buf[BODY..].copy_from_slice(&mac.finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(buf)
    }

    pub fn verify(&self, token: &str, now: u64) -> Result<Claims, TokenError> {
        if token.len() > 2 * (BODY + MAC) {
            return Err(TokenError::Malformed);
        }
        let buf = URL_SAFE_NO_PAD.decode(token).map_err(|_| TokenError::Malformed)?;
        if buf.len() != BODY + MAC {
            return Err(TokenError::Malformed);
        }
        let mut mac = self.mac.clone();
        mac.update(&buf[..BODY]);
        mac.verify_slice(&buf[BODY..]).map_err(|_| TokenError::BadSignature)?;
        let word = |i: usize| u64::from_be_bytes(buf[i..i + 8].try_into().unwrap_or_default());
        if now > word(24) {
            return Err(TokenError::Expired);
        }
        Ok(Claims { id: word(0), nonce: word(8), generation: word(16), node: word(32) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_with_any_byte_changed_is_refused() {
        let signer = TokenSigner::new(b"k");
        let token = signer.issue(1, 2, 3, 4, 5);
        let mut raw = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for i in 0..raw.len() {
            raw[i] ^= 1;
            assert_eq!(signer.verify(&URL_SAFE_NO_PAD.encode(&raw), 0), Err(TokenError::BadSignature), "byte {i}");
            raw[i] ^= 1;
        }
        assert_eq!(signer.verify("", 0), Err(TokenError::Malformed));
        assert_eq!(signer.verify("not base64!", 0), Err(TokenError::Malformed));
        assert_eq!(signer.verify(&"A".repeat(10_000), 0), Err(TokenError::Malformed));
    }
}
