//! Faults stay where they happen: a room that keeps panicking spends its
//! restart budget, then loses only its own clients (1011) and is counted and
//! delisted; a client sending garbage is closed (1007) without disturbing
//! the others in its room. (A room that panics once: see `restart.rs`.)

use playhouse::protocol::envelope::{client_msg::Kind as C, Input};
use playhouse_client::Client;
use playhouse_tests::{
    expect_close, http_get, metric, metric_labeled, metrics_text, options, record_states, start, ws_url, TickLog,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test]
async fn a_room_that_keeps_panicking_spends_its_restart_budget_then_its_clients_get_1011_and_other_rooms_tick_on() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut calm = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    let calm_room = calm.create("probe30", HashMap::new()).await.unwrap().room;
    let mut doomed = Client::connect(&url, &["arena.v2.msgpack"]).await.unwrap();
    let started = Instant::now();
    // From tick 30 of a 30 Hz room (about a second from now) it panics on
    // every tick: restarted 3 times (the default budget), then given up.
    let doomed_room = doomed.create("probe30", options(&[("panic_from_tick", "30")])).await.unwrap().room;
    assert_ne!(calm_room, doomed_room);

    let mut log = TickLog::default();
    let window = Duration::from_millis(2500);
    let (closed, ()) = tokio::join!(
        async {
            let close = expect_close(&mut doomed, Duration::from_secs(5)).await;
            (close, started.elapsed())
        },
        record_states(&mut calm, window, &mut log),
    );
    let ((code, reason), crashed_after) = closed;
    assert_eq!(code, 1011, "{reason}");
    assert!(reason.contains("room crashed too often"), "{reason:?}");
    assert!(crashed_after < window, "the crash ({crashed_after:?}) happened while the other room was watched");
    calm.ping().await.expect("the other room's client is still connected");
    let m = metrics_text(server.addr());
    // 2.5 s at 30 Hz is 75 states; allow for a slow start under load. The
    // skip counter sums both probe30 rooms: an upper bound for the calm one.
    log.assert_every_tick_run(60, metric_labeled(&m, "playhouse_ticks_skipped_total", "room_type=\"probe30\""));
    assert_eq!(metric(&m, "playhouse_room_panics_total"), 4.0, "{m}");
    assert_eq!(metric(&m, "playhouse_room_restarts_total"), 3.0, "{m}");
    assert_eq!(metric_labeled(&m, "playhouse_closes_total", "code=\"1011\""), 1.0);
    let (status, rooms) = http_get(server.addr(), "/rooms");
    assert_eq!(status, 200);
    assert!(!rooms.contains(&doomed_room), "the crashed room is delisted: {rooms}");
    assert!(rooms.contains(&calm_room), "{rooms}");
    assert_eq!(http_get(server.addr(), "/healthz").0, 200);
    // The crashed room's type still works.
    let mut again = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    again.create("probe30", HashMap::new()).await.expect("a new room can be created after a crash");
}

#[tokio::test]
async fn a_client_sending_garbage_is_closed_without_disturbing_its_room() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut good = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    let room = good.create("probe30", HashMap::new()).await.unwrap().room;
    // One sends bytes that are no envelope, the other an envelope whose
    // input payload is no game input; one codec each.
    let mut garbage = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    garbage.join(&room, HashMap::new()).await.unwrap();
    let mut bad_input = Client::connect(&url, &["arena.v2.msgpack"]).await.unwrap();
    bad_input.join(&room, HashMap::new()).await.unwrap();

    let mut log = TickLog::default();
    let misbehave = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        garbage.send_raw(WsMessage::Binary(vec![0xff; 64].into())).await.unwrap();
        let input = Input { room: room.clone(), seq: 1, payload: vec![0xc1; 8].into() };
        bad_input.send(C::Input(input)).await.unwrap();
        let a = expect_close(&mut garbage, Duration::from_secs(5)).await;
        let b = expect_close(&mut bad_input, Duration::from_secs(5)).await;
        (a, b)
    };
    let (((code_a, reason_a), (code_b, reason_b)), ()) =
        tokio::join!(misbehave, record_states(&mut good, Duration::from_secs(2), &mut log));
    assert_eq!(code_a, 1007, "{reason_a}");
    assert_eq!(code_b, 1007, "{reason_b}");
    good.ping().await.expect("the good client is still connected");
    let m = metrics_text(server.addr());
    // The only probe30 room of this server.
    log.assert_every_tick_run(50, metric_labeled(&m, "playhouse_ticks_skipped_total", "room_type=\"probe30\""));
    assert_eq!(metric_labeled(&m, "playhouse_closes_total", "code=\"1007\""), 2.0);
    // The room saw both go: only the good client is left.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let rooms = http_get(server.addr(), "/rooms?type=probe30").1;
        if rooms.contains("\"clients\":1") {
            break;
        }
        assert!(Instant::now() < deadline, "the room still counts the closed clients: {rooms}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
