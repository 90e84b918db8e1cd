//! Compression of large states over real sockets (docs/protocol.md §4.6):
//! only a client that asked at the handshake gets compressed states, which
//! inflate to exactly the bytes its neighbours without compression get, in
//! its own encoding, with or without deltas; a server that serves none
//! says so in `Welcome`; a resume without the query parameter gets plain
//! states again.

use arena::proto::{v1, v2};
use playhouse_client::compress::Compression;
use playhouse_client::{Client, Event};
use playhouse_tests::{metric_labeled, metrics_text, options, start, ws_url};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The payloads `c` sees (as the game does) for `d`, by tick.
async fn collect(mut c: Client, d: Duration) -> (Client, BTreeMap<u64, Vec<u8>>) {
    let mut seen = BTreeMap::new();
    let end = Instant::now() + d;
    while Instant::now() < end {
        if let Ok(Event::State(s)) = c.next_event_timeout(Duration::from_secs(2)).await {
            assert_eq!((s.baseline, s.compression), (0, 0), "the game sees whole, inflated states");
            seen.insert(s.tick, s.payload.to_vec());
        }
    }
    (c, seen)
}

#[tokio::test]
async fn only_clients_that_asked_get_compressed_states_and_they_inflate_to_the_same_bytes() {
    // A low threshold, so this small room's proto states and deltas are
    // compressed too (the default, 256 bytes, leaves them as they are).
    let server = start(|c| c.compression_min_bytes = 24);
    let url = ws_url(server.addr());
    let mut clients = Vec::new();
    let mut room = String::new();
    // (token, asks for compression, deltas): msgpack whole states are the
    // large ones; proto with deltas shows both together.
    for (token, z, deltas) in [
        ("arena.v1.msgpack", true, false),
        ("arena.v1.msgpack", false, false),
        ("arena.v2.proto", true, true),
        ("arena.v2.proto", false, true),
    ] {
        let at = if z { Compression::Deflate.ask(&url) } else { url.clone() };
        let mut c = Client::connect(&at, &[token]).await.unwrap();
        assert_eq!(c.compression(), z.then_some(Compression::Deflate), "{token}: {:?}", c.welcome());
        c.set_deltas(deltas);
        let j = c.join_or_create("arena", options(&[("name", token)])).await.unwrap();
        room = j.room.clone();
        clients.push(c);
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let dir = if i % 2 == 0 { 1 } else { -1 };
        if c.protocol().version == 1 {
            c.send_input(&room, 1, &v1::Input { move_x: dir, move_y: 1, ..Default::default() }).await.unwrap();
        } else {
            c.send_input(&room, 1, &v2::Input { move_x: dir, move_y: -1, ..Default::default() }).await.unwrap();
        }
    }
    let tasks: Vec<_> = clients.into_iter().map(|c| tokio::spawn(collect(c, Duration::from_millis(1500)))).collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    for pair in seen.chunks(2) {
        let [(zc, z), (plain, p)] = pair else { unreachable!() };
        let (sz, sp) = (zc.delta_stats(), plain.delta_stats());
        let token = zc.protocol().to_string();
        assert!(sz.compressed >= 1 && sz.lost == 0, "{token} asked: {sz:?}");
        assert_eq!(sp.compressed, 0, "{token} did not ask: {sp:?}");
        assert!(sz.compressed_bytes < sz.inflated_bytes, "{token}: compressed is smaller: {sz:?}");
        let common: Vec<u64> = z.keys().filter(|t| p.contains_key(t)).copied().collect();
        assert!(common.len() >= 20, "{token}: {} ticks seen by both", common.len());
        for t in common {
            assert_eq!(z[&t], p[&t], "{token}: tick {t} differs");
        }
        let last = z.values().last().unwrap();
        if zc.protocol().version == 1 {
            assert!(matches!(zc.decode::<v1::Output>(last).unwrap().kind, Some(v1::output::Kind::State(_))));
        } else {
            assert!(matches!(zc.decode::<v2::Output>(last).unwrap().kind, Some(v2::output::Kind::State(_))));
        }
    }
    let m = metrics_text(server.addr());
    assert!(metric_labeled(&m, "playhouse_states_compressed_total", "room_type=\"arena\"") >= 20.0, "{m}");
}

#[tokio::test]
async fn a_server_that_serves_no_compression_says_so_and_sends_plain_states() {
    let server = start(|c| c.compression.clear());
    let url = Compression::Deflate.ask(&ws_url(server.addr()));
    let mut c = Client::connect(&url, &["arena.v1.msgpack"]).await.unwrap();
    assert_eq!((c.compression(), c.welcome().compression.as_str()), (None, ""));
    c.join_or_create("arena", options(&[("name", "p")])).await.unwrap();
    let (c, seen) = collect(c, Duration::from_millis(500)).await;
    assert!(seen.len() >= 5 && c.delta_stats().compressed == 0, "{:?}", c.delta_stats());
}

#[tokio::test]
async fn a_resume_without_asking_gets_plain_states() {
    let server = start(|c| c.compression_min_bytes = 64);
    let url = ws_url(server.addr());
    let tokens = ["arena.v2.proto"];
    let mut a = Client::connect(&Compression::Deflate.ask(&url), &tokens).await.unwrap();
    a.set_deltas(false);
    // A probe room padded with a run of one byte: every state compresses
    // (a one-player arena state shrinks under DEFLATE only now and then:
    // 3 of its first 125, some runs none in 5 s).
    a.join_or_create("probe30", options(&[("state_bytes", "400")])).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.delta_stats().compressed < 3 {
        assert!(Instant::now() < deadline, "no compressed states: {:?}", a.delta_stats());
        let _ = a.next_event_timeout(Duration::from_secs(2)).await;
    }
    let (token, seq) = (a.resume_token().to_string(), a.last_seq());
    drop(a);
    let mut b = Client::resume(&url, &tokens, &token, seq).await.unwrap();
    b.set_deltas(false);
    assert_eq!(b.compression(), None);
    let (b, seen) = collect(b, Duration::from_millis(500)).await;
    assert!(seen.len() >= 5, "states after the resume: {}", seen.len());
    assert_eq!(b.delta_stats().compressed, 0, "{:?}", b.delta_stats());
}
