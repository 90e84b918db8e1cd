//! The programs of `framework/examples/`, each started as its built binary
//! (`target/<profile>/examples/<name>`) on a free port and driven by the
//! Rust client: each does what its module doc says it shows.

use playhouse_client::{Client, Event};
use playhouse_testkit::probe::v2;
use playhouse_tests::process::ArenaProcess;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A client of `addr` speaking `<app>.v1.proto`.
async fn connect(addr: SocketAddr, app: &str) -> Client {
    Client::connect(&format!("ws://{addr}/ws"), &[&format!("{app}.v1.proto")]).await.expect("connect")
}

/// The next state of `room` that `c` receives: its tick and its payload.
async fn next_state(c: &mut Client, room: &str) -> (u64, v2::State) {
    let t0 = Instant::now();
    loop {
        let left = Duration::from_secs(5).checked_sub(t0.elapsed()).expect("a state within 5 s");
        match c.next_event_timeout(left).await {
            Ok(Event::State(s)) if s.room == room => return (s.tick, c.decode(&s.payload).expect("a v2::State")),
            Ok(_) => {}
            Err(e) => panic!("waiting for a state: {e}"),
        }
    }
}

/// The first state of `room` that `c` receives for which `want` holds
/// (panics after `within`).
async fn state_where(c: &mut Client, room: &str, within: Duration, want: impl Fn(&v2::State) -> bool) -> v2::State {
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < within, "no such state within {within:?}");
        let (_, s) = next_state(c, room).await;
        if want(&s) {
            return s;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_room_sends_a_joined_client_its_dot_and_moves_it() {
    let server = ArenaProcess::spawn_example("minimal_room", &[]);
    let mut c = connect(server.addr(), "dots").await;
    let joined = c.join_or_create("dots", Default::default()).await.expect("join dots");
    assert_eq!(joined.tick_hz, 30);
    let (_, s) = next_state(&mut c, &joined.room).await;
    assert_eq!(s.players.len(), 1, "{s:?}");
    assert_eq!((s.players[0].id, s.players[0].x), (joined.client, 50.0), "the dot starts in the middle");
    c.send_input(&joined.room, 1, &v2::Input { move_x: 1, ..Default::default() }).await.expect("input");
    state_where(&mut c, &joined.room, Duration::from_secs(3), |s| s.players[0].x > 51.0).await;
    assert!(server.panics().is_empty());
}
