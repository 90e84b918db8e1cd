//! Re-sending a valid credential costs nothing that stays (hardening issue,
//! item 4).
//!
//! Each `Auth` message used to schedule one more credential timer, never
//! cancelled, and a stale timer re-armed itself when it fired. actix polls
//! every timer of an actor on each of its wake-ups, so a logged-in client
//! re-sending its own token made every later frame of its connection (and
//! every room wake-up of it) cost O(messages sent): the connection slowed
//! down without bound and its memory grew. Now a connection holds one
//! credential timer, re-armed only when the deadline changes.

use playhouse::auth::AuthConfig;
use playhouse::limits::RateLimits;
use playhouse_client::envelope::client_msg::Kind as C;
use playhouse_client::envelope::Auth;
use playhouse_client::{Client, ClientError, Event};
use playhouse_tests::auth::{hs256, jwt};
use playhouse_tests::{start, ws_url};
use std::time::{Duration, Instant};

/// Median of `n` application-level ping round trips.
async fn ping_p50(c: &mut Client, n: usize) -> Duration {
    let mut rtts = Vec::with_capacity(n);
    for _ in 0..n {
        rtts.push(c.ping().await.expect("ping"));
    }
    rtts.sort();
    rtts[n / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resending_its_token_twenty_thousand_times_is_answered_and_stays_as_fast() {
    const REFRESHES: usize = 20_000;
    const WINDOW: usize = 200; // Auth messages in flight at once
    let server = start(|c| {
        c.auth = Some(AuthConfig::new(hs256()));
        // The rate limit would stop this flood long before it matters; this
        // test is about what each message leaves behind.
        c.rate = RateLimits { messages_per_sec: 0, frames_per_sec: 0, bytes_per_sec: 0, ..RateLimits::default() };
    });
    let token = jwt("ann", Duration::from_secs(600));
    let url = format!("{}?token={token}", ws_url(server.addr()));
    let mut c = Client::connect(&url, &["arena.v2.proto"]).await.expect("connect");
    let before = ping_p50(&mut c, 41).await;

    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    let (mut sent, mut answered) = (0, 0);
    while answered < REFRESHES {
        assert!(Instant::now() < deadline, "only {answered} of {REFRESHES} refreshes answered in 60 s");
        while sent < REFRESHES && sent - answered < WINDOW {
            c.send(C::Auth(Auth { token: token.clone() })).await.expect("send Auth");
            sent += 1;
        }
        match c.next_event_timeout(Duration::from_secs(10)).await {
            Ok(Event::Authenticated(a)) => {
                assert_eq!(a.user, "ann");
                answered += 1;
            }
            Ok(_) => {}
            Err(ClientError::Timeout) => panic!("no answer to an Auth ({answered} answered)"),
            Err(e) => panic!("the connection failed after {answered} refreshes: {e}"),
        }
    }
    let took = started.elapsed();
    let after = ping_p50(&mut c, 41).await;
    eprintln!("{REFRESHES} refreshes answered in {took:?}; ping p50 {before:?} before, {after:?} after");
    // Before the fix the 20,000 refreshes took tens of seconds (each one
    // polled every timer left by the ones before) and left 20,000 timers
    // for every later wake-up to poll.
    assert!(after <= before * 3 + Duration::from_millis(1), "ping p50 went from {before:?} to {after:?}");
}
