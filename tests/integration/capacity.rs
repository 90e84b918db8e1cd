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

/// Each connection costs the server one file descriptor (the kill switch
/// used to hold a duplicate: two per connection ran a 20,000-descriptor
/// limit dry at 10,000 clients), and the default cap is sized from the
/// descriptor limit, which `/info` shows.
#[tokio::test]
async fn a_connection_costs_one_descriptor_and_the_default_cap_comes_from_the_descriptor_limit() {
    const N: usize = 40;
    let server = start(|_| {});
    let (status, body) = http_get(server.addr(), "/info");
    assert_eq!(status, 200);
    let json = body.split("\r\n\r\n").nth(1).unwrap_or_default();
    let info: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {body}"));
    let cap = info["limits"]["max_connections"].as_u64();
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: a valid, writable rlimit.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    assert_eq!(cap, Some(lim.rlim_cur - playhouse::server::descriptors::RESERVED), "/info: {body}");

    drop(server);

    // Counted in a server process of its own: this test process runs other
    // tests at the same time, whose sockets come and go.
    let arena = playhouse_tests::process::ArenaProcess::spawn(&[]);
    let url = ws_url(arena.addr());
    // Warmed up first: each worker's first connection sets up descriptors
    // of its own, once.
    let mut warm = Vec::new();
    for _ in 0..8 {
        warm.push(Client::connect(&url, &["arena.v2.proto"]).await.unwrap());
    }
    for c in warm {
        c.close().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = arena.open_descriptors();
    let mut clients = Vec::new();
    for _ in 0..N {
        let mut c = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
        c.ping().await.unwrap();
        clients.push(c);
    }
    let added = arena.open_descriptors() - before;
    assert!(added <= N + 4, "{N} connections took {added} descriptors on the server");
    assert!(added >= N, "{N} connections took {added} descriptors on the server: not counted?");
}
