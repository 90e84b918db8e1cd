//! Delta states over real sockets (docs/protocol.md §4.5): a v1/msgpack and
//! a v2/proto client in one room each get deltas in their own encoding,
//! which rebuild exactly the whole states a client without deltas gets; a
//! resumed client gets a whole state first; a client that turns deltas off
//! gets whole states.

use arena::proto::{v1, v2};
use playhouse_client::{Client, Event};
use playhouse_tests::proxy::Proxy;
use playhouse_tests::{metric_labeled, metrics_text, options, start, ws_url};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The whole payloads `c` sees (as the game does) for `d`, by tick.
async fn collect(mut c: Client, d: Duration) -> (Client, BTreeMap<u64, Vec<u8>>) {
    let mut seen = BTreeMap::new();
    let end = Instant::now() + d;
    while Instant::now() < end {
        if let Ok(Event::State(s)) = c.next_event_timeout(Duration::from_secs(2)).await {
            assert_eq!(s.baseline, 0, "the game sees whole states");
            seen.insert(s.tick, s.payload.to_vec());
        }
    }
    (c, seen)
}

#[tokio::test]
async fn deltas_rebuild_exactly_the_whole_states_in_each_clients_own_encoding() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut clients = Vec::new();
    let mut room = String::new();
    for (token, deltas) in
        [("arena.v1.msgpack", true), ("arena.v1.msgpack", false), ("arena.v2.proto", true), ("arena.v2.proto", false)]
    {
        let mut c = Client::connect(&url, &[token]).await.unwrap();
        assert!(c.welcome().state_deltas, "the server offers deltas");
        c.set_deltas(deltas);
        let j = c.join_or_create("arena", options(&[("name", token)])).await.unwrap();
        room = j.room.clone();
        clients.push((c, j.client));
    }
    // Everyone moves, so every state differs from the one before.
    for (i, (c, _)) in clients.iter_mut().enumerate() {
        let dir = if i % 2 == 0 { 1 } else { -1 };
        if c.protocol().version == 1 {
            c.send_input(&room, 1, &v1::Input { move_x: dir, move_y: 1, ..Default::default() }).await.unwrap();
        } else {
            c.send_input(&room, 1, &v2::Input { move_x: dir, move_y: -1, ..Default::default() }).await.unwrap();
        }
    }
    let tasks: Vec<_> =
        clients.into_iter().map(|(c, _)| tokio::spawn(collect(c, Duration::from_millis(1500)))).collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    for pair in seen.chunks(2) {
        let [(with, d), (without, w)] = pair else { unreachable!() };
        let (sd, sw) = (with.delta_stats(), without.delta_stats());
        let token = with.protocol().to_string();
        assert!(sd.deltas >= 20 && sd.lost == 0, "{token}: {sd:?}");
        assert!(sd.payload_bytes * 2 < sd.whole_bytes, "{token}: deltas are smaller than the states: {sd:?}");
        assert_eq!((sw.deltas, sw.lost), (0, 0), "{token} without deltas: {sw:?}");
        // The same tick's state, rebuilt from deltas and sent whole, is the
        // same bytes: the group's encoding.
        let common: Vec<u64> = d.keys().filter(|t| w.contains_key(t)).copied().collect();
        assert!(common.len() >= 20, "{token}: {} ticks seen by both", common.len());
        for t in common {
            assert_eq!(d[&t], w[&t], "{token}: tick {t} differs");
        }
        // And it decodes as the client's own version and codec.
        let last = d.values().last().unwrap();
        if with.protocol().version == 1 {
            assert!(matches!(with.decode::<v1::Output>(last).unwrap().kind, Some(v1::output::Kind::State(_))));
        } else {
            assert!(matches!(with.decode::<v2::Output>(last).unwrap().kind, Some(v2::output::Kind::State(_))));
        }
    }
    let m = metrics_text(server.addr());
    assert!(metric_labeled(&m, "playhouse_state_deltas_total", "room_type=\"arena\"") >= 20.0, "{m}");
}

#[tokio::test]
async fn a_resumed_client_gets_a_whole_state_first_then_deltas_again() {
    let server = start(|_| {});
    let proxy = Proxy::start(server.addr()).await;
    let tokens = ["arena.v2.proto"];
    let mut a = Client::connect(&proxy.ws_url(), &tokens).await.unwrap();
    a.join_or_create("arena", options(&[("name", "a")])).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.delta_stats().deltas < 5 {
        assert!(Instant::now() < deadline, "no deltas: {:?}", a.delta_stats());
        let _ = a.next_event_timeout(Duration::from_secs(2)).await;
    }
    proxy.cut_all();
    while a.next_event_timeout(Duration::from_secs(2)).await.is_ok() {}
    // The room goes on while the session is parked (its states queue up as
    // deltas against what the lost connection acked).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut b = Client::resume(&proxy.ws_url(), &tokens, a.resume_token(), a.last_seq()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "no state after the resume");
        if let Ok(Event::State(_)) = b.next_event_timeout(Duration::from_secs(2)).await {
            break;
        }
    }
    let first = b.delta_stats();
    assert_eq!((first.whole, first.deltas, first.lost), (1, 0, 0), "a whole state first: {first:?}");
    while b.delta_stats().deltas < 5 {
        assert!(Instant::now() < deadline, "no deltas after the resume: {:?}", b.delta_stats());
        let _ = b.next_event_timeout(Duration::from_secs(2)).await;
    }
    assert_eq!(b.delta_stats().lost, 0);
}
