//! Subprotocol tokens (`<app>.v<N>.<codec>`) and the server's choice among
//! the tokens a client offers.
//!
//! The rule (docs/protocol.md §Negotiation): the highest schema version both
//! sides speak wins; among the client's tokens of that version, the server's
//! codec preference decides. The chosen token is echoed back verbatim.

use super::{Codec, Deprecation, Sunset};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// One subprotocol token, e.g. `arena.v2.proto`.
///
/// ```
/// use playhouse_protocol::{Codec, Token};
///
/// let t: Token = "arena.v2.proto".parse().unwrap();
/// assert_eq!((t.app.as_str(), t.version, t.codec), ("arena", 2, Codec::Proto));
/// assert_eq!(t.to_string(), "arena.v2.proto");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Token {
    /// The application name (`[a-z0-9_-]+`).
    pub app: String,
    /// The schema version, 1 or more.
    pub version: u32,
    /// The codec.
    pub codec: Codec,
}

/// Why a string is not a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenParseError {
    /// Not three dot-separated parts.
    #[error("token must look like <app>.v<N>.<codec>")]
    Shape,
    /// The app name is empty or has characters other than `[a-z0-9_-]`.
    #[error("app name must be [a-z0-9_-]+")]
    App,
    /// The version part is not `v` followed by a number from 1.
    #[error("version must be v1, v2, ...")]
    Version,
    /// The codec is neither `msgpack` nor `proto`.
    #[error("codec must be msgpack or proto")]
    Codec,
}

impl FromStr for Token {
    type Err = TokenParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('.');
        let (Some(app), Some(ver), Some(codec), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(TokenParseError::Shape);
        };
        if app.is_empty()
            || !app.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(TokenParseError::App);
        }
        let version = ver
            .strip_prefix('v')
            // canonical decimal only: the token is echoed back and must match
            // the offer byte for byte, so `v02` would be a different token
            .filter(|n| !n.is_empty() && !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|&n| n >= 1)
            .ok_or(TokenParseError::Version)?;
        let codec = Codec::from_name(codec).ok_or(TokenParseError::Codec)?;
        Ok(Token { app: app.to_string(), version, codec })
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.v{}.{}", self.app, self.version, self.codec)
    }
}

/// Why a handshake offered nothing the server speaks (answered with HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    /// No `Sec-WebSocket-Protocol` header at all.
    #[error("no Sec-WebSocket-Protocol offered; this server speaks: {supported}")]
    NoHeader {
        /// The server's tokens, comma-separated, best first.
        supported: String,
    },
    /// Tokens were offered, but none the server speaks.
    #[error("none of the offered subprotocols ({offered}) is supported; this server speaks: {supported}")]
    NoSharedToken {
        /// What the client offered, as received.
        offered: String,
        /// The server's tokens, comma-separated, best first.
        supported: String,
    },
}

/// The server side of negotiation: which app, versions and codecs it speaks.
///
/// ```
/// use playhouse_protocol::{Codec, Negotiator};
///
/// let n = Negotiator::new("arena", [1, 2], [Codec::Proto, Codec::MsgPack]);
/// // highest shared version first, then the server's codec preference
/// let t = n.negotiate(["arena.v1.proto, arena.v2.msgpack"]).unwrap();
/// assert_eq!(t.to_string(), "arena.v2.msgpack");
/// assert!(n.negotiate(["chess.v1.proto"]).is_err());
///
/// // v1 is still served, but going away
/// let n = n.deprecate(1, "2027-06-30".parse().unwrap());
/// assert_eq!(n.deprecation(1).and_then(|d| d.sunset).unwrap().to_string(), "2027-06-30");
/// assert!(n.deprecation(2).is_none());
/// ```
#[derive(Clone, Debug)]
pub struct Negotiator {
    app: String,
    versions: Vec<u32>,
    codecs: Vec<Codec>,
    deprecations: BTreeMap<u32, Deprecation>,
}

impl Negotiator {
    /// A negotiator for `app` speaking `versions` with `codecs` (best first).
    pub fn new(
        app: impl Into<String>,
        versions: impl IntoIterator<Item = u32>,
        codecs: impl IntoIterator<Item = Codec>,
    ) -> Self {
        let mut versions: Vec<u32> = versions.into_iter().collect();
        versions.sort_unstable_by_key(|v| std::cmp::Reverse(*v));
        versions.dedup();
        let mut unique: Vec<Codec> = Vec::new();
        for c in codecs {
            if !unique.contains(&c) {
                unique.push(c);
            }
        }
        Negotiator { app: app.into(), versions, codecs: unique, deprecations: BTreeMap::new() }
    }

    /// Marks `version` deprecated: still negotiated as before (the choice
    /// rule does not change), but announced as going away after `sunset`.
    /// A version the negotiator does not speak is ignored; marking one
    /// twice keeps the last sunset.
    pub fn deprecate(mut self, version: u32, sunset: Sunset) -> Self {
        if self.versions.contains(&version) {
            self.deprecations.insert(version, Deprecation::until(sunset));
        }
        self
    }

    /// Whether `version` is deprecated, and until when.
    pub fn deprecation(&self, version: u32) -> Option<&Deprecation> {
        self.deprecations.get(&version)
    }

    /// The app name.
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The schema versions spoken, highest first.
    pub fn versions(&self) -> &[u32] {
        &self.versions
    }

    /// Every token the server speaks, best first.
    pub fn supported(&self) -> Vec<Token> {
        self.versions
            .iter()
            .flat_map(|&version| self.codecs.iter().map(move |&codec| Token { app: self.app.clone(), version, codec }))
            .collect()
    }

    fn supported_list(&self) -> String {
        self.supported().iter().map(Token::to_string).collect::<Vec<_>>().join(", ")
    }

    /// Chooses a token from the values of the `Sec-WebSocket-Protocol`
    /// headers (each a comma-separated list). Unparsable tokens are ignored.
    pub fn negotiate<'a>(&self, headers: impl IntoIterator<Item = &'a str>) -> Result<Token, NegotiationError> {
        let mut offered_raw = Vec::new();
        let mut offered = Vec::new();
        for value in headers {
            for t in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                offered_raw.push(t);
                if let Ok(tok) = t.parse::<Token>() {
                    if tok.app == self.app {
                        offered.push(tok);
                    }
                }
            }
        }
        if offered_raw.is_empty() {
            return Err(NegotiationError::NoHeader { supported: self.supported_list() });
        }
        for &version in &self.versions {
            for &codec in &self.codecs {
                if let Some(t) = offered.iter().find(|t| t.version == version && t.codec == codec) {
                    return Ok(t.clone());
                }
            }
        }
        Err(NegotiationError::NoSharedToken { offered: offered_raw.join(", "), supported: self.supported_list() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn server() -> Negotiator {
        Negotiator::new("arena", [1, 2], [Codec::Proto, Codec::MsgPack])
    }

    #[test]
    fn highest_shared_version_wins_over_client_order() {
        let t = server().negotiate(["arena.v1.msgpack, arena.v2.msgpack"]).unwrap();
        assert_eq!(t.to_string(), "arena.v2.msgpack");
    }

    #[test]
    fn server_codec_preference_breaks_ties() {
        let t = server().negotiate(["arena.v2.msgpack", "arena.v2.proto"]).unwrap();
        assert_eq!(t.to_string(), "arena.v2.proto");
        let msgpack_first = Negotiator::new("arena", [1, 2], [Codec::MsgPack, Codec::Proto]);
        let t = msgpack_first.negotiate(["arena.v2.proto, arena.v2.msgpack"]).unwrap();
        assert_eq!(t.to_string(), "arena.v2.msgpack");
    }

    #[test]
    fn versions_the_server_does_not_speak_are_skipped() {
        let t = server().negotiate(["arena.v9.proto, arena.v1.msgpack"]).unwrap();
        assert_eq!(t.to_string(), "arena.v1.msgpack");
    }

    #[test]
    fn other_apps_and_garbage_are_refused_with_the_supported_list() {
        let err = server().negotiate(["chess.v2.proto, garbage, arena.v2.json"]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("arena.v2.proto, arena.v2.msgpack, arena.v1.proto, arena.v1.msgpack"), "{text}");
        assert!(matches!(err, NegotiationError::NoSharedToken { .. }));
    }

    #[test]
    fn tokens_split_over_several_header_lines_are_all_considered() {
        let t = server().negotiate(["chess.v1.proto", "arena.v1.msgpack", "arena.v2.msgpack"]).unwrap();
        assert_eq!(t.to_string(), "arena.v2.msgpack");
    }

    #[test]
    fn deprecation_marks_a_spoken_version_and_leaves_the_choice_alone() {
        let sunset: Sunset = "2027-06-30".parse().unwrap();
        let n = server().deprecate(1, sunset).deprecate(7, sunset);
        assert_eq!(n.deprecation(1), Some(&Deprecation::until(sunset)));
        assert_eq!(n.deprecation(2), None);
        assert_eq!(n.deprecation(7), None, "a version not spoken is ignored");
        assert_eq!(n.versions(), &[2, 1]);
        // still negotiated, and still losing to a shared higher version
        assert_eq!(n.negotiate(["arena.v1.msgpack"]).unwrap().to_string(), "arena.v1.msgpack");
        assert_eq!(n.negotiate(["arena.v1.proto, arena.v2.proto"]).unwrap().to_string(), "arena.v2.proto");
        let later: Sunset = "2028-01-01".parse().unwrap();
        assert_eq!(n.deprecate(1, later).deprecation(1), Some(&Deprecation::until(later)));
    }

    #[test]
    fn no_header_is_its_own_error() {
        assert!(matches!(server().negotiate([]), Err(NegotiationError::NoHeader { .. })));
        assert!(matches!(server().negotiate([" , "]), Err(NegotiationError::NoHeader { .. })));
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        for bad in [
            "",
            "arena",
            "arena.v2",
            "arena.2.proto",
            "arena.v0.proto",
            "Arena.v1.proto",
            "arena.v1.proto.x",
            "arena.v.proto",
            "arena.v1.json",
            "arena.v99999999999.proto",
        ] {
            assert!(bad.parse::<Token>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn tokens_round_trip(app in "[a-z0-9_-]{1,16}", version in 1u32.., proto in any::<bool>()) {
            let codec = if proto { Codec::Proto } else { Codec::MsgPack };
            let t = Token { app, version, codec };
            prop_assert_eq!(t.to_string().parse::<Token>().unwrap(), t);
        }

        #[test]
        fn negotiation_never_panics_and_only_picks_offered_tokens(header in ".{0,80}") {
            if let Ok(t) = server().negotiate([header.as_str()]) {
                prop_assert!(header.contains(&t.to_string()));
            }
        }
    }
}
