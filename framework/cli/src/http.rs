//! `playhouse info URL` and `playhouse rooms URL`: the server's HTTP
//! endpoints (`/info`: tokens, room types, limits; `/rooms`: the rooms, with
//! their node on a cluster), reached from the same URL a game client is
//! given.
//!
//! ```
//! use playhouse_cli::http::endpoint;
//! assert_eq!(endpoint("ws://127.0.0.1:8080/ws", "/info").unwrap(), "http://127.0.0.1:8080/info");
//! assert_eq!(endpoint("wss://play.example.com/game/ws?x=1", "/rooms").unwrap(), "https://play.example.com/game/rooms");
//! ```

use serde_json::Value;
use std::time::Duration;

/// Why an endpoint could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL is not `ws://`, `wss://`, `http://` or `https://`.
    #[error("{0:?} is not a ws://, wss://, http:// or https:// URL")]
    Url(String),
    /// The request failed (connection refused, timeout, a non-2xx answer).
    #[error("GET {url}: {why}")]
    Request {
        /// The URL asked.
        url: String,
        /// What went wrong.
        why: String,
    },
    /// The answer is not JSON.
    #[error("GET {url}: the answer is not JSON: {why}")]
    NotJson {
        /// The URL asked.
        url: String,
        /// The parser's words.
        why: String,
    },
}

/// The HTTP URL of `path` on the server of `url`: `ws` becomes `http`
/// (`wss` `https`), the query goes, and a last path segment `ws` (the
/// game endpoint) is replaced by `path`, so a server mounted under a
/// prefix (`/game/ws`) is asked at `/game/info`.
pub fn endpoint(url: &str, path: &str) -> Result<String, HttpError> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| HttpError::Url(url.into()))?;
    let scheme = match scheme {
        "ws" | "http" => "http",
        "wss" | "https" => "https",
        _ => return Err(HttpError::Url(url.into())),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (host, base) = match rest.split_once('/') {
        Some((host, p)) => (host, p.trim_end_matches('/')),
        None => (rest, ""),
    };
    if host.is_empty() {
        return Err(HttpError::Url(url.into()));
    }
    let base = base.strip_suffix("ws").map(|b| b.trim_end_matches('/')).unwrap_or(base);
    let prefix = if base.is_empty() { String::new() } else { format!("/{base}") };
    Ok(format!("{scheme}://{host}{prefix}{path}"))
}

/// `GET` of `path` with `query` (percent-encoded here) on the server of
/// `url`, as JSON.
pub fn get_json(url: &str, path: &str, query: &[(&str, &str)]) -> Result<Value, HttpError> {
    let at = endpoint(url, path)?;
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
    let request_error = |e: ureq::Error| HttpError::Request { url: at.clone(), why: e.to_string() };
    let mut resp = agent.get(&at).query_pairs(query.iter().copied()).call().map_err(request_error)?;
    let body = resp.body_mut().read_to_string().map_err(request_error)?;
    serde_json::from_str(&body).map_err(|e| HttpError::NotJson { url: at.clone(), why: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn game_urls_map_to_their_endpoints() {
        for (url, want) in [
            ("ws://h:1/ws", "http://h:1/info"),
            ("ws://h:1", "http://h:1/info"),
            ("ws://h:1/", "http://h:1/info"),
            ("http://h:1", "http://h:1/info"),
            ("ws://h:1/ws?compress=deflate", "http://h:1/info"),
            ("wss://h/a/b/ws/", "https://h/a/b/info"),
            ("https://h/a", "https://h/a/info"),
        ] {
            assert_eq!(endpoint(url, "/info").unwrap(), want, "{url}");
        }
    }

    #[test]
    fn other_urls_are_refused() {
        for url in ["ftp://h/ws", "h:1/ws", "ws:///ws"] {
            assert!(matches!(endpoint(url, "/info"), Err(HttpError::Url(_))), "{url}");
        }
    }
}
