//! [`OriginPolicy`]: which web pages may open a socket (cross-site WebSocket
//! hijacking defence), checked before the upgrade (HTTP 403 otherwise).
//!
//! Browsers always send `Origin` with a WebSocket handshake and page scripts
//! cannot forge it, so the check stops a page on another site from using a
//! player's cookies to talk to the game. Native clients send no `Origin`;
//! whether they may connect is an explicit setting.
//!
//! Patterns: `https://game.example.com` (exact: scheme, host and port; a
//! default port may be left out), `https://*.example.com` (any subdomain,
//! not the apex), `*` (any origin), and `self` (the origin whose host and
//! port are the request's `Host`, whatever the scheme — right behind a
//! TLS-terminating proxy that passes `Host` on).
//!
//! ```
//! use playhouse::limits::OriginPolicy;
//!
//! let p = OriginPolicy::allow(["https://game.example.com", "https://*.cdn.example.com"]);
//! assert!(p.check(Some("https://game.example.com:443"), "internal:8080").is_ok());
//! assert!(p.check(Some("https://eu.cdn.example.com"), "internal:8080").is_ok());
//! assert!(p.check(Some("https://evil.example"), "internal:8080").is_err());
//! assert!(p.check(None, "internal:8080").is_err(), "native clients must be allowed explicitly");
//! assert!(p.clone().allow_missing(true).check(None, "internal:8080").is_ok());
//! ```

use serde::Serialize;

/// The origins allowed to open a socket.
#[derive(Debug, Clone, Serialize)]
pub struct OriginPolicy {
    /// Patterns, as given.
    pub allowed: Vec<String>,
    /// Whether a handshake without `Origin` (a native client) is allowed.
    pub allow_missing: bool,
}

impl Default for OriginPolicy {
    /// The server's own pages (`self`) and native clients: safe for any
    /// game whose web client is served by the game server itself.
    fn default() -> Self {
        OriginPolicy { allowed: vec!["self".into()], allow_missing: true }
    }
}

/// Why an origin was refused (the body of the 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// No `Origin` header, and native clients are not allowed.
    #[error("no Origin header; this server accepts only browsers from its allowed origins")]
    Missing,
    /// Not in the allowlist.
    #[error("origin {0:?} is not allowed to connect to this server")]
    NotAllowed(String),
}

/// scheme, host (lowercase), port.
fn parse(origin: &str) -> Option<(&str, String, u16)> {
    let (scheme, rest) = origin.split_once("://")?;
    let default_port = match scheme {
        "https" | "wss" => 443,
        "http" | "ws" => 80,
        _ => return None,
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = split_host_port(rest, default_port)?;
    Some((scheme, host, port))
}

fn split_host_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    if authority.is_empty() || authority.contains(['/', '@', '?', '#']) {
        return None;
    }
    // [v6]:port, [v6], host:port, host
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let end = v6.find(']')?;
        let host = &authority[..end + 2];
        match &authority[end + 2..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':');
    if host.is_empty() || !host.chars().all(valid) {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

impl OriginPolicy {
    /// Exactly `patterns` (no native clients until [`OriginPolicy::allow_missing`]).
    pub fn allow<S: Into<String>>(patterns: impl IntoIterator<Item = S>) -> Self {
        OriginPolicy { allowed: patterns.into_iter().map(Into::into).collect(), allow_missing: false }
    }

    /// Any origin, and native clients (for development, or a game with no
    /// cookie or ambient credential a foreign page could ride on).
    pub fn any() -> Self {
        OriginPolicy { allowed: vec!["*".into()], allow_missing: true }
    }

    /// Sets whether handshakes without `Origin` (native clients) pass.
    pub fn allow_missing(mut self, allow: bool) -> Self {
        self.allow_missing = allow;
        self
    }

    /// Checks a handshake's `Origin` (if any) against the policy; `host` is
    /// the request's `Host` header (for `self`).
    pub fn check(&self, origin: Option<&str>, host: &str) -> Result<(), OriginError> {
        let Some(origin) = origin else {
            return if self.allow_missing { Ok(()) } else { Err(OriginError::Missing) };
        };
        let refused = || OriginError::NotAllowed(origin.chars().take(200).collect());
        let Some((scheme, o_host, o_port)) = parse(origin) else { return Err(refused()) };
        let ok = self.allowed.iter().any(|p| match p.as_str() {
            "*" => true,
            "self" => split_host_port(host, if scheme == "https" { 443 } else { 80 })
                .is_some_and(|(h, port)| h == o_host && port == o_port),
            pattern => match pattern.split_once("://*.") {
                Some((p_scheme, p_rest)) => parse(&format!("{p_scheme}://{p_rest}")).is_some_and(|(s, h, port)| {
                    s == scheme
                        && port == o_port
                        && o_host.strip_suffix(h.as_str()).is_some_and(|sub| sub.ends_with('.'))
                }),
                None => parse(pattern).is_some_and(|(s, h, port)| s == scheme && h == o_host && port == o_port),
            },
        });
        if ok {
            Ok(())
        } else {
            Err(refused())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_matches_the_host_header_and_nothing_else() {
        let p = OriginPolicy::default();
        assert!(p.check(Some("http://127.0.0.1:8080"), "127.0.0.1:8080").is_ok());
        assert!(p.check(Some("https://game.example"), "game.example").is_ok(), "behind a TLS proxy");
        assert!(p.check(Some("http://127.0.0.1:9999"), "127.0.0.1:8080").is_err(), "another port is another origin");
        assert!(p.check(Some("http://localhost:8080"), "127.0.0.1:8080").is_err());
        assert!(p.check(None, "127.0.0.1:8080").is_ok(), "native clients by default");
        assert!(p.check(Some("null"), "127.0.0.1:8080").is_err(), "sandboxed and file: pages");
    }

    #[test]
    fn wildcards_cover_subdomains_only_and_keep_scheme_and_port() {
        let p = OriginPolicy::allow(["https://*.example.com"]);
        assert!(p.check(Some("https://a.b.example.com"), "x").is_ok());
        assert!(p.check(Some("https://example.com"), "x").is_err(), "not the apex");
        assert!(p.check(Some("https://evilexample.com"), "x").is_err());
        assert!(p.check(Some("http://a.example.com"), "x").is_err(), "scheme");
        assert!(p.check(Some("https://a.example.com:8443"), "x").is_err(), "port");
        assert!(p.check(Some("https://A.Example.COM"), "x").is_ok(), "hosts compare case-insensitively");
        assert!(OriginPolicy::any().check(Some("https://anything.test"), "x").is_ok());
    }

    #[test]
    fn malformed_origins_are_refused_not_panicked_on() {
        let p = OriginPolicy::any().allow_missing(false);
        for o in ["", "://", "https://", "https://h:99999", "https://[::1", "ftp://x", "https://u@h", "https://h/p"] {
            assert!(matches!(p.check(Some(o), "h"), Err(OriginError::NotAllowed(_))), "{o:?}");
        }
        assert!(p.check(Some("https://[::1]:8443"), "h").is_ok());
        assert_eq!(p.check(None, "h"), Err(OriginError::Missing));
    }
}
