//! Heartbeat: the server pings; a peer from which nothing arrives for the
//! idle timeout is closed with 1008, a peer that answers pings stays.

use playhouse_client::{Client, ClientError};
use playhouse_tests::{raw, start, ws_url};
use std::time::{Duration, Instant};

fn quick_heartbeat(c: &mut playhouse::server::ServerConfig) {
    c.transport.heartbeat_interval = Duration::from_millis(200);
    c.transport.idle_timeout = Duration::from_secs(1);
}

#[test]
fn a_client_that_never_answers_pings_is_closed_with_1008() {
    let server = start(quick_heartbeat);
    let (mut s, buf) = raw::connect(server.addr(), "arena.v2.proto");
    let started = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (frames, code, reason) = raw::frames_until_close(&mut s, buf);
    let after = started.elapsed();
    assert_eq!(code, Some(1008), "{reason} (frames: {frames:?})");
    assert!(reason.contains("nothing received"), "{reason:?}");
    assert!(
        after >= Duration::from_millis(900) && after <= Duration::from_secs(3),
        "closed after {after:?}; expected about the 1 s idle timeout"
    );
    let pings = frames.iter().filter(|f| f.1 == 9).count();
    assert!(pings >= 2, "the server pinged before giving up: {pings} pings in {frames:?}");
}

#[tokio::test]
async fn a_client_that_answers_pings_stays_connected() {
    let server = start(quick_heartbeat);
    let mut c = Client::connect(&ws_url(server.addr()), &["arena.v2.proto"]).await.unwrap();
    // Keep reading (tungstenite answers pings while it reads) and send
    // nothing else for three idle timeouts.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(3200) {
        match c.next_event_timeout(Duration::from_millis(250)).await {
            Ok(_) | Err(ClientError::Timeout) => {}
            Err(e) => panic!("dropped after {:?}: {e}", started.elapsed()),
        }
    }
    c.ping().await.expect("still connected past 3 s");
}
