//! Subprotocol negotiation: the v1/v2 × msgpack/proto matrix, preference
//! order, the HTTP 400 answers before the upgrade, and a deprecated
//! version's life cycle (Welcome, `/info`, `/metrics`, the reconnecting
//! client's event).

use arena::schema::V1_SUNSET;
use playhouse_client::reconnect::{ReconnectConfig, ReconnectEvent, ReconnectingClient};
use playhouse_client::{Client, ClientError, Event};
use playhouse_tests::proxy::Proxy;
use playhouse_tests::{http_get, metric_labeled, metrics_text, start, ws_url, ALL_TOKENS};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[tokio::test]
async fn every_token_alone_is_accepted_and_echoed() {
    let server = start(|_| {});
    for token in ALL_TOKENS {
        let client = Client::connect(&ws_url(server.addr()), &[token]).await.expect(token);
        assert_eq!(client.protocol().to_string(), token);
        assert_eq!(client.welcome().protocol, token);
        assert!(!client.welcome().session.is_empty());
    }
}

#[tokio::test]
async fn the_highest_shared_version_wins_whatever_the_client_order() {
    let server = start(|_| {});
    let c = Client::connect(&ws_url(server.addr()), &["arena.v1.msgpack", "arena.v2.msgpack"]).await.unwrap();
    assert_eq!(c.protocol().to_string(), "arena.v2.msgpack");
    let c = Client::connect(&ws_url(server.addr()), &["arena.v1.proto", "arena.v2.msgpack", "arena.v9.proto"])
        .await
        .unwrap();
    assert_eq!(c.protocol().to_string(), "arena.v2.msgpack");
}

#[tokio::test]
async fn the_server_codec_preference_decides_within_a_version() {
    let server = start(|_| {});
    let c = Client::connect(&ws_url(server.addr()), &["arena.v2.msgpack", "arena.v2.proto"]).await.unwrap();
    assert_eq!(c.protocol().to_string(), "arena.v2.proto", "default preference: proto first");
    let msgpack_first =
        start(|c| c.codecs = vec![playhouse::protocol::Codec::MsgPack, playhouse::protocol::Codec::Proto]);
    let c = Client::connect(&ws_url(msgpack_first.addr()), &["arena.v2.proto", "arena.v2.msgpack"]).await.unwrap();
    assert_eq!(c.protocol().to_string(), "arena.v2.msgpack");
}

#[tokio::test]
async fn nothing_acceptable_is_refused_with_400_naming_the_supported_tokens() {
    let server = start(|_| {});
    let err = Client::connect(&ws_url(server.addr()), &["arena.v7.proto", "chess.v1.msgpack"]).await.err().unwrap();
    match err {
        ClientError::Refused { status, body } => {
            assert_eq!(status, 400);
            for t in ALL_TOKENS {
                assert!(body.contains(t), "{body}");
            }
            assert!(body.contains("arena.v7.proto"), "the refusal repeats what was offered: {body}");
        }
        other => panic!("expected a 400 refusal, got {other}"),
    }
}

#[tokio::test]
async fn no_subprotocol_header_is_refused_with_400() {
    let server = start(|_| {});
    match Client::connect(&ws_url(server.addr()), &[]).await.err().unwrap() {
        ClientError::Refused { status, body } => {
            assert_eq!(status, 400);
            assert!(body.contains("no Sec-WebSocket-Protocol"), "{body}");
            assert!(body.contains("arena.v2.proto"), "{body}");
        }
        other => panic!("expected a 400 refusal, got {other}"),
    }
}

#[tokio::test]
async fn info_lists_tokens_room_types_and_limits() {
    let server = start(|c| c.transport.max_message_size = 4096);
    let (status, text) = http_get(server.addr(), "/info");
    assert_eq!(status, 200);
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let info: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(info["app"], "arena");
    assert_eq!(info["protocols"][0], "arena.v2.proto");
    assert_eq!(info["protocols"].as_array().unwrap().len(), 4);
    assert_eq!(info["versions"], serde_json::json!([2, 1]));
    assert_eq!(info["limits"]["max_message_size"], 4096);
    let arena = info["room_types"].as_array().unwrap().iter().find(|r| r["name"] == "arena").unwrap();
    assert_eq!((arena["tick_hz"].as_u64(), arena["max_clients"].as_u64()), (Some(30), Some(16)));
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let server = start(|_| {});
    assert_eq!(http_get(server.addr(), "/healthz").0, 200);
    assert_eq!(http_get(server.addr(), "/readyz").0, 200);
    let (status, text) = http_get(server.addr(), "/metrics");
    assert_eq!(status, 200);
    assert!(text.contains("playhouse_connections_open"), "{text}");
}

#[tokio::test]
async fn a_token_offered_on_a_second_header_line_is_echoed() {
    let server = start(|_| {});
    let addr = server.addr();
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: chess.v1.proto\r\nSec-WebSocket-Protocol: arena.v1.msgpack\r\n\r\n"
    );
    let (status, text) = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        std::io::Write::write_all(&mut s, req.as_bytes()).unwrap();
        let mut buf = [0u8; 2048];
        let n = std::io::Read::read(&mut s, &mut buf).unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        (text.split_whitespace().nth(1).unwrap_or("").to_string(), text)
    })
    .await
    .unwrap();
    assert_eq!(status, "101", "{text}");
    assert!(text.to_ascii_lowercase().contains("sec-websocket-protocol: arena.v1.msgpack"), "{text}");
}

fn info_json(addr: SocketAddr) -> serde_json::Value {
    let (status, text) = http_get(addr, "/info");
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text[text.find("\r\n\r\n").unwrap() + 4..]).unwrap()
}

/// `(open, accepted)` connections that negotiated `token`, from `/metrics`.
fn per_token(addr: SocketAddr, token: &str) -> (f64, f64) {
    let text = metrics_text(addr);
    let label = format!("protocol=\"{token}\"");
    (
        metric_labeled(&text, "playhouse_connections_open_by_protocol", &label),
        metric_labeled(&text, "playhouse_connections_by_protocol_total", &label),
    )
}

#[tokio::test]
async fn a_deprecated_version_is_announced_in_welcome_and_info_and_counted_per_token() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let old = Client::connect(&url, &["arena.v1.msgpack"]).await.unwrap();
    let old_proto = Client::connect(&url, &["arena.v1.proto"]).await.unwrap();
    let new = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();

    // Welcome: v1 (either codec) is deprecated until the sunset; v2 is not.
    for c in [&old, &old_proto] {
        assert!(c.welcome().deprecated, "{:?}", c.welcome());
        assert_eq!(c.welcome().sunset, V1_SUNSET);
        let sunset = c.deprecation().and_then(|d| d.sunset).map(|s| s.to_string());
        assert_eq!(sunset.as_deref(), Some(V1_SUNSET));
    }
    assert!(!new.welcome().deprecated && new.welcome().sunset.is_empty(), "{:?}", new.welcome());
    assert_eq!(new.deprecation(), None);

    // /info: versions as before, plus each one's status.
    let info = info_json(server.addr());
    assert_eq!(info["versions"], serde_json::json!([2, 1]));
    assert_eq!(
        info["version_status"],
        serde_json::json!([
            {"version": 2, "deprecated": false},
            {"version": 1, "deprecated": true, "sunset": V1_SUNSET},
        ])
    );

    // /metrics: open and accepted connections per negotiated token.
    assert_eq!(per_token(server.addr(), "arena.v1.msgpack"), (1.0, 1.0));
    assert_eq!(per_token(server.addr(), "arena.v1.proto"), (1.0, 1.0));
    assert_eq!(per_token(server.addr(), "arena.v2.proto"), (1.0, 1.0));
    assert_eq!(per_token(server.addr(), "arena.v2.msgpack"), (0.0, 0.0));

    // Closed: the gauge goes back down, the counter stays.
    old.close().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while per_token(server.addr(), "arena.v1.msgpack").0 != 0.0 {
        assert!(Instant::now() < deadline, "the v1 gauge did not go back down");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(per_token(server.addr(), "arena.v1.msgpack"), (0.0, 1.0));
    assert_eq!(per_token(server.addr(), "arena.v1.proto"), (1.0, 1.0), "other tokens are untouched");
    assert_eq!(per_token(server.addr(), "arena.v2.proto"), (1.0, 1.0));
}

/// The next event within 5 s; panics on an error or a timeout.
async fn next(c: &mut ReconnectingClient) -> ReconnectEvent {
    tokio::time::timeout(Duration::from_secs(5), c.next_event()).await.expect("an event").expect("no error")
}

#[tokio::test]
async fn the_reconnecting_client_raises_deprecated_first_and_only_for_a_deprecated_version() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let proxy = Proxy::start(server.addr()).await;
    let old_config = ReconnectConfig::new([proxy.ws_url()], ["arena.v1.msgpack"]);
    let mut old = ReconnectingClient::connect(old_config).await.unwrap();
    match next(&mut old).await {
        ReconnectEvent::Deprecated { protocol, sunset } => {
            assert_eq!(protocol.to_string(), "arena.v1.msgpack");
            assert_eq!(sunset.map(|s| s.to_string()).as_deref(), Some(V1_SUNSET));
        }
        other => panic!("expected Deprecated first, got {other:?}"),
    }
    assert_eq!(old.deprecation().and_then(|d| d.sunset).map(|s| s.to_string()).as_deref(), Some(V1_SUNSET));
    // The connection is unchanged: the game plays on.
    let room = old.join_or_create("probe30", Default::default()).await.unwrap().room;
    while !matches!(next(&mut old).await, ReconnectEvent::Server(Event::State(s)) if s.room == room) {}
    // A reconnect to the same deprecated token does not tell the game again.
    proxy.cut_all();
    loop {
        match next(&mut old).await {
            ReconnectEvent::Resumed { .. } => break,
            ReconnectEvent::Reconnecting { .. } | ReconnectEvent::Server(_) => {}
            other => panic!("expected a resume, got {other:?}"),
        }
    }
    while !matches!(next(&mut old).await, ReconnectEvent::Server(Event::State(s)) if s.room == room) {}
    assert!(old.deprecation().is_some());

    let mut new = ReconnectingClient::connect(ReconnectConfig::new([url], ALL_TOKENS)).await.unwrap();
    assert_eq!(new.deprecation(), None);
    new.join(&room, Default::default()).await.unwrap();
    match next(&mut new).await {
        ReconnectEvent::Server(_) => {}
        other => panic!("a current version raises nothing, got {other:?}"),
    }
}
