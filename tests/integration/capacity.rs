//! A full server refuses the upgrade with HTTP 503 and a body a person can
//! read; a freed seat is usable again.

use playhouse_client::{Client, ClientError};
use playhouse_tests::{http_get, metric_labeled, metrics_text, start, ws_url};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_server_at_its_connection_limit_answers_503_until_a_client_leaves() {
    let server = start(|c| c.max_connections = 2);
    let url = ws_url(server.addr());
    let mut first = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    let second = Client::connect(&url, &["arena.v2.msgpack"]).await.unwrap();
    match Client::connect(&url, &["arena.v2.proto"]).await {
        Err(ClientError::Refused { status, body }) => {
            assert_eq!(status, 503);
            assert!(body.contains("server full"), "{body}");
            assert!(body.contains("2 connections"), "the body names the limit: {body}");
        }
        Ok(_) => panic!("a third connection was accepted with max_connections = 2"),
        Err(e) => panic!("expected HTTP 503, got {e}"),
    }
    let m = metrics_text(server.addr());
    assert_eq!(metric_labeled(&m, "playhouse_handshakes_refused_total", "status=\"503\""), 1.0);
    // Plain HTTP keeps working while the WebSocket seats are taken.
    assert_eq!(http_get(server.addr(), "/healthz").0, 200);

    // The survivors are unaffected.
    first.ping().await.unwrap();
    second.close().await.unwrap();

    // The server notices the close shortly; then a new client gets in.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut third = loop {
        match Client::connect(&url, &["arena.v2.proto"]).await {
            Ok(c) => break c,
            Err(ClientError::Refused { status: 503, .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("no seat freed within 5 s of a close: {e}"),
        }
    };
    third.ping().await.unwrap();
    first.ping().await.unwrap();
}
