//! A flood of connect-and-drop cycles from one machine must not cost a real
//! player its seat (hardening issue, item 3).
//!
//! Every lost connection parks its session so the client can resume it.
//! Parking used to be bounded only globally (10,000 at once), so 10,100
//! cycles from one client filled it and the next player who lost its
//! connection was not parked: its resume was refused and its seat lost.
//! Now parking is bounded per address and per user, a session in no room
//! parks only briefly, and such a session is the first to give way.

use super::metrics_of;
use playhouse_client::{Client, ClientError, Event};
use playhouse_tests::process::ArenaProcess;
use playhouse_tests::proxy::Proxy;
use playhouse_tests::{http_get, metric, metric_labeled, options, raw};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// More than the global parking cap (10,000, arena's default).
const CYCLES: usize = 10_100;
/// Threads cycling at once (well under the 256 connections per address).
const FLOODERS: usize = 4;
/// The flood must be over well within arena's 20 s reconnect window, so
/// that before the fix every one of its sessions is still parked when the
/// player drops (a slower flood would test nothing).
const FLOOD_DEADLINE: Duration = Duration::from_secs(15);
const TOKENS: [&str; 2] = ["arena.v2.proto", "arena.v2.msgpack"];

/// Opens a game connection, reads its `Welcome` (the session exists and is
/// attached), then resets it: no close frame, so the session is parked.
fn connect_and_drop(addr: SocketAddr) -> Result<(), String> {
    let (mut s, mut buf) = raw::connect(addr, TOKENS[0]);
    match raw::next_frame(&mut s, &mut buf) {
        Some((_, 2, _)) => {}
        other => return Err(format!("expected Welcome, got {other:?}")),
    }
    reset(s);
    Ok(())
}

/// Drops `s` with `SO_LINGER` 0: the peer gets a reset, not a FIN.
fn reset(s: TcpStream) {
    let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
}

/// Runs [`CYCLES`] connect-and-drop cycles from [`FLOODERS`] threads, as
/// fast as the server takes them; returns how many were done by the
/// deadline and any failures.
async fn flood(addr: SocketAddr) -> (usize, Vec<String>) {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + FLOOD_DEADLINE;
    let threads: Vec<_> = (0..FLOODERS)
        .map(|_| {
            let next = next.clone();
            std::thread::spawn(move || {
                let (mut done, mut failures) = (0, Vec::new());
                while next.fetch_add(1, Ordering::Relaxed) < CYCLES && Instant::now() < deadline {
                    match connect_and_drop(addr) {
                        Ok(()) => done += 1,
                        Err(e) => failures.push(e),
                    }
                }
                (done, failures)
            })
        })
        .collect();
    let joined = tokio::task::spawn_blocking(move || threads.into_iter().map(|t| t.join()).collect::<Vec<_>>());
    let (mut done, mut failures) = (0, Vec::new());
    for r in joined.await.expect("joining the flooders") {
        let (d, f) = r.expect("a flooder thread");
        done += d;
        failures.extend(f);
    }
    (done, failures)
}

/// Polls `/metrics` until `playhouse_connections_open` is `open` (10 s at most).
async fn until_open(addr: SocketAddr, open: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = metric(&metrics_of(addr).await, "playhouse_connections_open");
        if now == open {
            return;
        }
        assert!(Instant::now() < deadline, "{now} connections still open, expected {open}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_and_drop_flood_from_one_machine_cannot_cost_a_player_its_seat() {
    let mut server = ArenaProcess::spawn(&[]);
    let addr = server.addr();
    // The player comes from the same machine as the flood (both 127.0.0.1),
    // through a proxy that can cut its connection the way a network does.
    let proxy = Proxy::start(addr).await;
    let mut player = Client::connect(&proxy.ws_url(), &TOKENS).await.expect("the player connects");
    let room = player.create("arena", options(&[("name", "ann")])).await.expect("the player gets a seat").room;

    let started = Instant::now();
    let (done, failures) = flood(addr).await;
    let took = started.elapsed();
    eprintln!("parking flood: {done} connect-and-drop cycles in {took:?}");
    assert!(failures.is_empty(), "{} cycles failed: {:?}", failures.len(), &failures[..failures.len().min(5)]);
    assert_eq!(done, CYCLES, "the flood did not finish within {FLOOD_DEADLINE:?}, so it filled nothing");
    until_open(addr, 1.0).await;

    // The player's network drops; once the server has seen it, it resumes.
    proxy.cut_all();
    until_open(addr, 0.0).await;
    match Client::resume(&proxy.ws_url(), &TOKENS, player.resume_token(), player.last_seq()).await {
        Ok(mut back) => match back.next_event().await {
            Ok(Event::Resumed(r)) => {
                let rooms: Vec<&str> = r.rooms.iter().map(|j| j.room.as_str()).collect();
                assert_eq!(rooms, [room.as_str()], "the player is back in its room");
            }
            other => panic!("expected Resumed first, got {other:?}"),
        },
        Err(ClientError::Resume(e)) => {
            panic!("after {done} connect-and-drop cycles the player's resume was refused: {} {}", e.code, e.reason)
        }
        Err(e) => panic!("the player could not reconnect: {e}"),
    }

    // The flood's sessions made room for each other, within the address's
    // cap, and none of them took the player's place.
    let m = metrics_of(addr).await;
    let evicted = metric_labeled(&m, "playhouse_sessions_evicted_total", "why=\"address\"");
    assert!(evicted >= (CYCLES - 64) as f64, "{evicted} parked sessions gave way at the address cap\n{m}");
    assert_eq!(metric_labeled(&m, "playhouse_sessions_park_refused_total", "cap=\"global\""), 0.0);
    let info = tokio::task::spawn_blocking(move || http_get(addr, "/info")).await.expect("/info").1;
    for limit in ["\"max_parked\":10000", "\"max_parked_per_address\":64", "\"max_parked_per_user\":8"] {
        assert!(info.contains(limit), "/info lists {limit}: {info}");
    }
    assert!(server.is_running(), "the arena process died; stderr: {:?}", server.panics());
    assert_eq!(server.panics(), Vec::<String>::new());
}
