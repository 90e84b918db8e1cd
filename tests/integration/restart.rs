//! Supervised restart: a room that panics is rebuilt by its actix
//! Supervisor in place; its clients stay connected and keep getting states,
//! and other rooms never notice.

use playhouse_client::{Client, Event};
use playhouse_tests::{metric, metrics_text, options, record_states, start, ws_url, TickLog};
use std::collections::HashMap;
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_room_that_panics_once_is_restarted_and_its_clients_stay_connected() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut calm = Client::connect(&url, &["arena.v1.msgpack"]).await.unwrap();
    calm.create("probe30", HashMap::new()).await.unwrap();
    let mut player = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    // Tick 30 of a 30 Hz room panics, about a second from now.
    let room = player.create("probe30", options(&[("panic_on_tick", "30")])).await.unwrap().room;

    let mut calm_log = TickLog::default();
    let watch = async {
        // The player sees states up to tick 29, none for 30, then ticks again.
        let mut before = None;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            assert!(Instant::now() < deadline, "no state after the restart (last before: {before:?})");
            match player.next_event_timeout(Duration::from_secs(2)).await {
                Ok(Event::State(s)) if s.tick < 30 => before = Some((s.tick, Instant::now())),
                Ok(Event::State(s)) => {
                    let (last, at) = before.expect("states before the panic");
                    return (last, s.tick, at.elapsed());
                }
                Ok(_) => {}
                Err(e) => panic!("the player lost its connection: {e}"),
            }
        }
    };
    let ((last_before, first_after, gap), ()) =
        tokio::join!(watch, record_states(&mut calm, Duration::from_millis(2500), &mut calm_log));
    eprintln!("restart: last state before tick {last_before}, first after tick {first_after}, {gap:?} apart");
    assert_eq!(last_before, 29);
    assert!(first_after > 30, "tick 30 panicked, so it sent no state");
    // Two tick periods (66 ms) without RUST_BACKTRACE; the panic hook's
    // backtrace capture adds ~200 ms in a debug build. Bounded generously.
    assert!(gap < Duration::from_secs(1), "the restarted room sends a full state within a tick or so: {gap:?}");
    player.ping().await.expect("the player is still connected");
    let m = metrics_text(server.addr());
    assert_eq!(metric(&m, "playhouse_room_panics_total"), 1.0, "{m}");
    assert_eq!(metric(&m, "playhouse_room_restarts_total"), 1.0, "{m}");
    assert_eq!(metric(&m, "playhouse_closes_total"), 0.0, "nobody was closed: {m}");
    assert!(http_get_rooms(&server).contains(&room), "the restarted room is still listed");
    let skipped = playhouse_tests::metric_labeled(&m, "playhouse_ticks_skipped_total", "room_type=\"probe30\"");
    calm_log.assert_every_tick_run(60, skipped);
}

fn http_get_rooms(server: &playhouse::server::RunningServer) -> String {
    playhouse_tests::http_get(server.addr(), "/rooms").1
}
