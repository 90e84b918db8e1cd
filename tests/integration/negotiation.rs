//! Subprotocol negotiation: the v1/v2 × msgpack/proto matrix, preference
//! order, and the HTTP 400 answers before the upgrade.

use playhouse_client::{Client, ClientError};
use playhouse_tests::{http_get, start, ws_url, ALL_TOKENS};

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
