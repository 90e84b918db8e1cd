//! The Rust client's reconnect (`ReconnectingClient`), over real sockets:
//! a connection cut mid-stream is resumed with nothing lost or repeated, and
//! so is one that just went silent; a session that expired while away
//! becomes a new session in its rooms again; a dead URL is skipped for the
//! next one, on the first connection and after a loss; a server that shuts
//! down is left for another one; and a session taken over by another
//! connection stops the client instead of a tug of war.

use arena::proto::v2;
use playhouse_client::envelope::Message;
use playhouse_client::reconnect::{
    Backoff, Jitter, ReconnectConfig, ReconnectError, ReconnectEvent, ReconnectingClient, StopReason,
};
use playhouse_client::{Client, Event};
use playhouse_tests::proxy::Proxy;
use playhouse_tests::{metric_labeled, metrics_text, options, start, ws_url, ALL_TOKENS};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Short waits so tests run quickly; enough tries for a few seconds down.
fn config(urls: &[String], seed: u64) -> ReconnectConfig {
    ReconnectConfig {
        backoff: Backoff { base: Duration::from_millis(20), cap: Duration::from_millis(200), max_tries: 40 },
        jitter: Jitter::seeded(seed),
        ack_interval: Some(Duration::from_millis(200)),
        attempt_timeout: Duration::from_secs(5),
        ..ReconnectConfig::new(urls.iter().cloned(), ALL_TOKENS)
    }
}

/// A `ws://` URL on which nothing listens.
fn dead_url() -> String {
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    format!("ws://127.0.0.1:{port}/ws")
}

/// The next event, within a few seconds; panics on an error or a timeout.
async fn next(client: &mut ReconnectingClient) -> ReconnectEvent {
    match tokio::time::timeout(Duration::from_secs(5), client.next_event()).await {
        Ok(Ok(ev)) => ev,
        Ok(Err(e)) => panic!("the reconnecting client failed: {e}"),
        Err(_) => panic!("no event within 5 s"),
    }
}

/// The `n` of a Probe chatter message `"chat <n>"`.
fn tick_of(client: &ReconnectingClient, m: &Message) -> Option<u64> {
    let out: v2::Output = client.decode(&m.payload).ok()?;
    match out.kind? {
        v2::output::Kind::Event(e) => e.text.strip_prefix("chat ")?.parse().ok(),
        _ => None,
    }
}

/// Reads `watcher`'s events until the room's chatter reaches tick `n`.
async fn watch_ticks(watcher: &mut Client, n: u64) {
    loop {
        let ev = watcher.next_event_timeout(Duration::from_secs(5)).await.expect("watcher reads");
        let Event::Message(m) = ev else { continue };
        let out: v2::Output = watcher.decode(&m.payload).expect("watcher decodes");
        if let Some(v2::output::Kind::Event(e)) = out.kind {
            if e.text.strip_prefix("chat ").and_then(|t| t.parse::<u64>().ok()).is_some_and(|t| t >= n) {
                return;
            }
        }
    }
}

#[tokio::test]
async fn a_cut_mid_stream_is_resumed_and_every_tick_message_arrives_once_in_order() {
    let server = start(|_| {});
    let proxy = Proxy::start(server.addr()).await;
    let mut client = ReconnectingClient::connect(config(&[proxy.ws_url()], 1)).await.expect("connects");
    let room = client.create("probe30", options(&[("chatter", "1")])).await.expect("creates").room;
    // Sees what the room sends, on a connection of its own.
    let mut watcher = Client::connect(&ws_url(server.addr()), &ALL_TOKENS).await.expect("watcher connects");
    watcher.join(&room, Default::default()).await.expect("watcher joins");

    let mut ticks: Vec<u64> = Vec::new();
    let mut changes = Vec::new();
    let mut ticks_at_cut = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "not done in time: {} ticks, changes {changes:?}", ticks.len());
        match next(&mut client).await {
            ReconnectEvent::Server(Event::Message(m)) if m.room == room => ticks.extend(tick_of(&client, &m)),
            ReconnectEvent::Server(_) => {}
            change => changes.push(change),
        }
        if ticks_at_cut.is_none() && ticks.len() >= 15 {
            // The link loses everything for a few ticks before it breaks:
            // the server has written those messages, the client never sees
            // them, and only a replay can bring them back.
            proxy.set_dropping(true);
            let lost_from = ticks.last().copied().unwrap_or_default() + 1;
            watch_ticks(&mut watcher, lost_from + 5).await;
            proxy.cut_all();
            proxy.set_dropping(false);
            ticks_at_cut = Some(ticks.len());
        }
        let resumed = changes.iter().any(|c| matches!(c, ReconnectEvent::Resumed { .. }));
        if resumed && ticks_at_cut.is_some_and(|n| ticks.len() >= n + 30) {
            break;
        }
    }

    eprintln!("connection changes: {changes:?}");
    assert!(matches!(changes.first(), Some(ReconnectEvent::Reconnecting { attempt: 1, .. })), "{changes:?}");
    let resumed: Vec<_> = changes.iter().filter(|c| matches!(c, ReconnectEvent::Resumed { .. })).collect();
    assert_eq!(resumed.len(), 1, "one resume: {changes:?}");
    let ReconnectEvent::Resumed { replayed, resync, rooms, .. } = resumed[0] else { unreachable!() };
    assert!(!resync, "nothing the client missed fell out of the replay log");
    assert!(*replayed > 0, "messages the link lost came back as a replay");
    assert_eq!(rooms.iter().map(|j| j.room.as_str()).collect::<Vec<_>>(), [room.as_str()]);
    assert!(changes.iter().all(|c| matches!(c, ReconnectEvent::Reconnecting { .. } | ReconnectEvent::Resumed { .. })));

    // Every chat message the room sent (a counter: 1, 2, 3, …), once, in order.
    assert!(ticks.windows(2).all(|w| w[1] == w[0] + 1), "lost, repeated or out of order: {ticks:?}");
    let m = metrics_text(server.addr());
    assert_eq!(metric_labeled(&m, "playhouse_session_resumes_total", "result=\"replayed\""), 1.0, "{m}");
    assert_eq!(client.rooms().len(), 1);
    client.close().await.expect("closes");
}

#[tokio::test]
async fn a_link_gone_silent_is_noticed_and_the_session_resumed() {
    let server = start(|_| {});
    let proxy = Proxy::start(server.addr()).await;
    let mut c = config(&[proxy.ws_url()], 9);
    c.idle_timeout = Some(Duration::from_millis(500));
    let mut client = ReconnectingClient::connect(c).await.expect("connects");
    let room = client.create("probe30", options(&[("chatter", "1")])).await.expect("creates").room;
    while !matches!(next(&mut client).await, ReconnectEvent::Server(Event::Message(_))) {}

    // Nothing arrives any more, and no reset or FIN says why.
    proxy.set_dropping(true);
    let cause = loop {
        match next(&mut client).await {
            ReconnectEvent::Reconnecting { cause, .. } => break cause,
            ReconnectEvent::Server(_) => {}
            other => panic!("expected a reconnect, got {other:?}"),
        }
    };
    assert!(cause.contains("nothing from the server for 500 ms"), "{cause}");
    proxy.set_dropping(false);
    loop {
        match next(&mut client).await {
            ReconnectEvent::Resumed { resync, .. } => {
                assert!(!resync);
                break;
            }
            ReconnectEvent::Reconnecting { .. } | ReconnectEvent::Server(_) => {}
            other => panic!("expected a resume, got {other:?}"),
        }
    }
    while !matches!(next(&mut client).await, ReconnectEvent::Server(Event::Message(m)) if m.room == room) {}
}

#[tokio::test]
async fn a_session_that_expired_while_away_becomes_a_new_session_back_in_its_room() {
    let server = start(|c| c.session.reconnect_window = Duration::from_millis(300));
    let proxy = Proxy::start(server.addr()).await;
    let mut client = ReconnectingClient::connect(config(&[proxy.ws_url()], 2)).await.expect("connects");
    let before = client.create("fleeting", options(&[("presence", "1")])).await.expect("creates");
    // A room the game left is not one to come back to.
    let left = client.create("fleeting", Default::default()).await.expect("creates another").room;
    client.leave(&left).await.expect("leaves it");
    let old_session = client.session().to_string();
    while !matches!(next(&mut client).await, ReconnectEvent::Server(Event::State(_))) {}

    // The network goes down for well past the 300 ms window (room and session).
    proxy.set_refusing(true);
    proxy.cut_all();
    let down_until = tokio::time::Instant::now() + Duration::from_millis(900);
    let mut attempts = 0;
    loop {
        match tokio::time::timeout_at(down_until, client.next_event()).await {
            Err(_) => break,
            Ok(Ok(ReconnectEvent::Reconnecting { .. })) => attempts += 1,
            Ok(Ok(ReconnectEvent::Server(_))) => {} // read before the cut
            Ok(other) => panic!("while the network is down: {other:?}"),
        }
    }
    assert!(attempts >= 2, "kept trying while down ({attempts} attempts)");
    proxy.set_refusing(false);

    let (session, rejoined, failed) = loop {
        match next(&mut client).await {
            ReconnectEvent::NewSession { session, rejoined, failed, .. } => break (session, rejoined, failed),
            ReconnectEvent::Reconnecting { .. } | ReconnectEvent::Server(_) => {}
            other => panic!("expected a new session, got {other:?}"),
        }
    };
    assert_ne!(session, old_session);
    assert_eq!(client.session(), session);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(rejoined.len(), 1, "{rejoined:?}");
    assert_eq!(rejoined[0].previous, before.room);
    assert_eq!(rejoined[0].joined.room_type, "fleeting");
    let room = rejoined[0].joined.room.clone();
    assert_eq!(client.rooms().iter().map(|r| r.room.as_str()).collect::<Vec<_>>(), [room.as_str()]);

    // In the room again: its states arrive, and list this client alive.
    let me = rejoined[0].joined.client;
    loop {
        if let ReconnectEvent::Server(Event::State(s)) = next(&mut client).await {
            assert_eq!(s.room, room);
            let out: v2::Output = client.decode(&s.payload).expect("state decodes");
            let Some(v2::output::Kind::State(st)) = out.kind else { continue };
            if st.players.iter().any(|p| p.id == me && p.alive) {
                break;
            }
        }
    }
    let m = metrics_text(server.addr());
    assert_eq!(metric_labeled(&m, "playhouse_session_resumes_total", "result=\"expired\""), 1.0, "{m}");
}

#[tokio::test]
async fn the_first_connection_skips_a_dead_url_for_the_next() {
    let server = start(|_| {});
    let live = ws_url(server.addr());
    let mut client = ReconnectingClient::connect(config(&[dead_url(), live.clone()], 3)).await.expect("connects");
    assert_eq!(client.url(), live);
    client.join_or_create("probe30", Default::default()).await.expect("joins");
    while !matches!(next(&mut client).await, ReconnectEvent::Server(Event::State(_))) {}
}

#[tokio::test]
async fn a_first_connection_to_nothing_gives_up_after_max_tries() {
    let mut c = config(&[dead_url(), dead_url()], 4);
    c.backoff.max_tries = 3;
    match ReconnectingClient::connect(c).await {
        Err(ReconnectError::Unreachable { attempts, last_error }) => {
            assert_eq!(attempts, 3);
            assert!(last_error.starts_with("ws://127.0.0.1:"), "{last_error}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_lost_connection_fails_over_to_the_next_url_and_resumes_there() {
    let server = start(|_| {});
    let proxy = Proxy::start(server.addr()).await;
    let direct = ws_url(server.addr());
    let mut client = ReconnectingClient::connect(config(&[proxy.ws_url(), direct.clone()], 5)).await.expect("connects");
    assert_eq!(client.url(), proxy.ws_url());
    let room = client.create("probe30", options(&[("chatter", "1")])).await.expect("creates").room;
    while !matches!(next(&mut client).await, ReconnectEvent::Server(Event::Message(_))) {}

    proxy.set_refusing(true);
    proxy.cut_all();
    let mut dialled = Vec::new();
    let (url, rooms) = loop {
        match next(&mut client).await {
            ReconnectEvent::Reconnecting { url, .. } => dialled.push(url),
            ReconnectEvent::Resumed { url, rooms, .. } => break (url, rooms),
            ReconnectEvent::Server(_) => {}
            other => panic!("expected a resume, got {other:?}"),
        }
    };
    // First back to the server that holds the session, then the next URL.
    assert_eq!(dialled, [proxy.ws_url(), direct.clone()]);
    assert_eq!(url, direct);
    assert_eq!(client.url(), direct);
    assert_eq!(rooms.iter().map(|j| j.room.as_str()).collect::<Vec<_>>(), [room.as_str()]);
    while !matches!(next(&mut client).await, ReconnectEvent::Server(Event::Message(m)) if m.room == room) {}
}

#[tokio::test]
async fn a_server_shutting_down_is_left_for_another_server_and_a_new_room_of_the_type() {
    let old = start(|c| c.reconnect_after = Duration::from_millis(100));
    let new = start(|_| {});
    let urls = [ws_url(old.addr()), ws_url(new.addr())];
    let mut client = ReconnectingClient::connect(config(&urls, 6)).await.expect("connects");
    let before = client.join_or_create("probe30", options(&[("chatter", "1")])).await.expect("joins");

    old.shutdown();
    let mut saw_notice = false;
    let mut first_delay = None;
    let (url, rejoined) = loop {
        match next(&mut client).await {
            ReconnectEvent::Server(Event::Shutdown(s)) => saw_notice = s.reconnect_after_ms == 100,
            ReconnectEvent::Reconnecting { delay, .. } => {
                first_delay.get_or_insert(delay);
            }
            ReconnectEvent::NewSession { url, rejoined, failed, .. } => {
                assert!(failed.is_empty(), "{failed:?}");
                break (url, rejoined);
            }
            ReconnectEvent::Server(_) => {}
            other => panic!("expected a new session, got {other:?}"),
        }
    };
    assert!(saw_notice, "the Shutdown notice is handed to the game");
    assert!(first_delay.is_some_and(|d| d >= Duration::from_millis(100)), "waited the hint: {first_delay:?}");
    assert_eq!(url, urls[1]);
    // The room did not survive its server: the client joined a room of the
    // same type, with the same options, under a new id.
    assert_eq!(rejoined.len(), 1, "{rejoined:?}");
    assert_eq!(rejoined[0].previous, before.room);
    assert_ne!(rejoined[0].joined.room, before.room);
    assert_eq!(rejoined[0].joined.room_type, "probe30");
    let room = rejoined[0].joined.room.clone();
    while !matches!(next(&mut client).await, ReconnectEvent::Server(Event::Message(m)) if m.room == room) {}
}

#[tokio::test]
async fn a_session_resumed_on_another_connection_stops_the_client_with_replaced() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut client = ReconnectingClient::connect(config(std::slice::from_ref(&url), 7)).await.expect("connects");
    let room = client.create("probe30", options(&[("chatter", "1")])).await.expect("creates").room;
    while !matches!(next(&mut client).await, ReconnectEvent::Server(Event::Message(_))) {}

    let token = client.protocol().to_string();
    let mut other = Client::resume(&url, &[token.as_str()], client.resume_token(), client.last_seq())
        .await
        .expect("the other connection resumes");
    assert!(matches!(other.next_event().await, Ok(Event::Resumed(_))));
    loop {
        match next(&mut client).await {
            ReconnectEvent::Replaced { .. } => break,
            ReconnectEvent::Server(_) => {}
            other => panic!("expected Replaced, got {other:?}"),
        }
    }
    assert!(matches!(client.next_event().await, Err(ReconnectError::Stopped(StopReason::Replaced))));
    assert!(!client.is_connected());
    // The other connection keeps the session: the room's messages flow to
    // it, and the replaced client did not resume it back.
    loop {
        match other.next_event_timeout(Duration::from_secs(5)).await.expect("the other connection stays") {
            Event::Message(m) if m.room == room => break,
            _ => {}
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    other.ping().await.expect("still connected");
    let m = metrics_text(server.addr());
    assert_eq!(metric_labeled(&m, "playhouse_session_resumes_total", "result=\"replayed\""), 1.0, "{m}");
    assert_eq!(metric_labeled(&m, "playhouse_closes_total", "code=\"4009\""), 1.0, "{m}");
}

#[tokio::test]
async fn a_client_that_closes_stops() {
    let server = start(|_| {});
    let mut client = ReconnectingClient::connect(config(&[ws_url(server.addr())], 8)).await.expect("connects");
    client.close().await.expect("closes");
    assert!(matches!(client.next_event().await, Err(ReconnectError::Stopped(StopReason::ClosedByClient))));
    assert!(matches!(
        client.join_or_create("probe30", Default::default()).await,
        Err(ReconnectError::Stopped(StopReason::ClosedByClient))
    ));
}
