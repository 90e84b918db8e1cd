//! Session resume: a connection lost mid-stream (reset through a proxy, so
//! no close frame and bytes in flight are gone) is resumed on a new
//! connection with every reliable message exactly once, in order; the room
//! sees the player as disconnected meanwhile; the window, the replay bound,
//! replacement and the refusals behave as documented (docs/failover.md).

use arena::proto::v2;
use playhouse_client::{Client, ClientError, ClientId, Event};
use playhouse_tests::proxy::Proxy;
use playhouse_tests::{expect_close, metric, metric_labeled, metrics_text, options, start, ws_url};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const TOKENS: [&str; 2] = ["arena.v2.proto", "arena.v2.msgpack"];

/// The n of a Probe `"chat <n>"` message, if `ev` is one.
fn chat(c: &Client, ev: &Event) -> Option<u64> {
    let Event::Message(m) = ev else { return None };
    let out: v2::Output = c.decode(&m.payload).ok()?;
    match out.kind? {
        v2::output::Kind::Event(e) => e.text.strip_prefix("chat ")?.parse().ok(),
        _ => None,
    }
}

/// Reads chat messages into `got` until `n` have arrived or the
/// connection fails; returns the failure (if any).
async fn read_chats(c: &mut Client, got: &mut Vec<u64>, n: usize) -> Option<ClientError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < n {
        assert!(Instant::now() < deadline, "only {} chat messages in 10 s", got.len());
        match c.next_event_timeout(Duration::from_secs(5)).await {
            Ok(ev) => got.extend(chat(c, &ev)),
            Err(e) => return Some(e),
        }
    }
    None
}

fn assert_exactly_once_in_order(got: &[u64]) {
    let first = got[0];
    let want: Vec<u64> = (first..first + got.len() as u64).collect();
    assert_eq!(got, want.as_slice(), "reliable messages lost, duplicated or reordered");
}

/// Polls the states `c` receives until `pred` holds for one, for 5 s.
async fn until_state(c: &mut Client, what: &str, pred: impl Fn(&v2::State) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "no state where {what}");
        if let Ok(Event::State(s)) = c.next_event_timeout(Duration::from_secs(2)).await {
            if let Ok(v2::Output { kind: Some(v2::output::Kind::State(st)) }) = c.decode::<v2::Output>(&s.payload) {
                if pred(&st) {
                    return;
                }
            }
        }
    }
}

#[tokio::test]
async fn a_connection_cut_mid_stream_resumes_with_every_reliable_message_once_in_order() {
    let server = start(|_| {});
    let proxy = Proxy::start(server.addr()).await;
    let mut a = Client::connect(&proxy.ws_url(), &TOKENS).await.unwrap();
    let room = a.create("probe30", options(&[("chatter", "1")])).await.unwrap().room;
    let mut got = Vec::new();
    assert!(read_chats(&mut a, &mut got, 15).await.is_none());

    // The network drops: the server's writes in flight are lost with it.
    proxy.cut_all();
    let err = read_chats(&mut a, &mut got, usize::MAX).await;
    assert!(err.is_some(), "the cut reaches the client");
    let (token, last_seq) = (a.resume_token().to_string(), a.last_seq());
    // The room goes on sending while the session is parked.
    tokio::time::sleep(Duration::from_millis(400)).await;

    let mut b = Client::resume(&proxy.ws_url(), &TOKENS, &token, last_seq).await.unwrap();
    let Event::Resumed(r) = b.next_event().await.unwrap() else { panic!("Resumed first") };
    assert!(!r.resync, "nothing was lost beyond the replay buffer");
    assert_eq!(r.rooms.len(), 1);
    assert_eq!(r.rooms[0].room, room);
    // A token comes with every resume (its expiry renewed; within the same
    // second as the last one it is the same bytes: id, nonce, expiry in s).
    assert_eq!(r.resume_token.len(), token.len(), "{r:?}");
    let before = got.len();
    // The client itself refuses a seq gap or a duplicate (read_event), and
    // the chat counter checks the same end to end.
    assert!(read_chats(&mut b, &mut got, before + 30).await.is_none());
    assert_exactly_once_in_order(&got);
    // 400 ms at 30 Hz: about 12 messages were never written to the lost
    // connection (they follow Resumed as normal traffic); `replayed` counts
    // those written to it and lost in flight.
    assert!(got.len() - before >= 30 && got[before - 1] >= 15, "{got:?}");
    eprintln!("resumed after a cut: {} frames replayed from the log", r.replayed);
    until_state(&mut b, "the resumed client gets states again", |_| true).await;
    let m = metrics_text(server.addr());
    assert_eq!(metric_labeled(&m, "playhouse_session_resumes_total", "result=\"replayed\""), 1.0, "{m}");
}

#[tokio::test]
async fn the_room_sees_a_lost_client_as_disconnected_until_it_resumes() {
    let server = start(|_| {});
    let proxy = Proxy::start(server.addr()).await;
    let mut a = Client::connect(&proxy.ws_url(), &TOKENS).await.unwrap();
    let joined = a.create("probe30", options(&[("presence", "1")])).await.unwrap();
    let mut watcher = Client::connect(&ws_url(server.addr()), &TOKENS).await.unwrap();
    watcher.join(&joined.room, HashMap::new()).await.unwrap();
    let me = joined.client;
    let a_alive = move |alive: bool| move |st: &v2::State| st.players.iter().any(|p| p.id == me && p.alive == alive);
    until_state(&mut watcher, "a is connected", a_alive(true)).await;

    proxy.cut_all();
    until_state(&mut watcher, "a is disconnected but keeps its seat", a_alive(false)).await;
    let mut a = Client::resume(&proxy.ws_url(), &TOKENS, a.resume_token(), a.last_seq()).await.unwrap();
    until_state(&mut watcher, "a is back", a_alive(true)).await;
    until_state(&mut a, "a sees itself alive", a_alive(true)).await;
}

#[tokio::test]
async fn a_session_past_its_window_is_refused_with_4002_and_the_room_lets_the_client_go() {
    let server = start(|c| c.session.reconnect_window = Duration::from_millis(300));
    let proxy = Proxy::start(server.addr()).await;
    let mut a = Client::connect(&proxy.ws_url(), &TOKENS).await.unwrap();
    // `fleeting` keeps a lost client's seat for 300 ms.
    let joined = a.create("fleeting", options(&[("presence", "1")])).await.unwrap();
    let mut watcher = Client::connect(&ws_url(server.addr()), &TOKENS).await.unwrap();
    watcher.join(&joined.room, HashMap::new()).await.unwrap();
    let me = joined.client;
    until_state(&mut watcher, "a is in", move |st| st.players.iter().any(|p| p.id == me)).await;

    proxy.cut_all();
    until_state(&mut watcher, "a left after its window", move |st| st.players.iter().all(|p| p.id != me)).await;
    // The session sweep (once a second) ends the parked session: wait until
    // only the watcher's session is left.
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&metrics_text(server.addr()), "playhouse_sessions") != 1.0 {
        assert!(Instant::now() < deadline, "the sweep never ended the session past its window");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    match Client::resume(&proxy.ws_url(), &TOKENS, a.resume_token(), a.last_seq()).await {
        Err(ClientError::Resume(e)) => {
            assert_eq!(e.code, 4002);
            assert!(e.reason.contains("expired"), "{}", e.reason);
        }
        Err(e) => panic!("expected a 4002 refusal, got {e}"),
        Ok(_) => panic!("a session past its window resumed"),
    }
    let m = metrics_text(server.addr());
    assert_eq!(metric_labeled(&m, "playhouse_session_resumes_total", "result=\"expired\""), 1.0, "{m}");
    // The refused client starts over on a new session.
    let mut fresh = Client::connect(&proxy.ws_url(), &TOKENS).await.unwrap();
    fresh.join(&joined.room, HashMap::new()).await.unwrap();
}

#[tokio::test]
async fn a_gap_beyond_the_replay_buffer_is_a_resync_not_an_error() {
    let server = start(|c| c.session.replay_max_messages = 4);
    let proxy = Proxy::start(server.addr()).await;
    let mut a = Client::connect(&proxy.ws_url(), &TOKENS).await.unwrap();
    a.create("probe30", options(&[("chatter", "1")])).await.unwrap();
    let mut got = Vec::new();
    assert!(read_chats(&mut a, &mut got, 5).await.is_none());
    proxy.cut_all();
    assert!(read_chats(&mut a, &mut got, usize::MAX).await.is_some());
    // 500 ms at 30 Hz: far more than 4 messages wait for the parked session.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut b = Client::resume(&proxy.ws_url(), &TOKENS, a.resume_token(), a.last_seq()).await.unwrap();
    let Event::Resumed(r) = b.next_event().await.unwrap() else { panic!("Resumed first") };
    assert!(r.resync, "{r:?}");
    assert_eq!(r.replayed, 0);
    // The stream goes on from where the buffer starts; the client accepts
    // the one jump a resync announces, and nothing after it is out of order.
    let mut after = Vec::new();
    assert!(read_chats(&mut b, &mut after, 10).await.is_none());
    assert_exactly_once_in_order(&after);
    assert!(after[0] > got[got.len() - 1] + 1, "some messages were lost, as announced");
}

#[tokio::test]
async fn a_last_seq_beyond_anything_sent_is_a_resync_and_the_stream_goes_on() {
    let server = start(|_| {});
    let proxy = Proxy::start(server.addr()).await;
    let mut a = Client::connect(&proxy.ws_url(), &TOKENS).await.unwrap();
    a.create("probe30", options(&[("chatter", "1")])).await.unwrap();
    let mut got = Vec::new();
    assert!(read_chats(&mut a, &mut got, 3).await.is_none());
    proxy.cut_all();
    assert!(read_chats(&mut a, &mut got, usize::MAX).await.is_some());
    // The client claims far more than the server ever sent.
    let claimed = a.last_seq() + 1_000;
    let mut b = Client::resume(&proxy.ws_url(), &TOKENS, a.resume_token(), claimed).await.unwrap();
    let Event::Resumed(r) = b.next_event().await.unwrap() else { panic!("Resumed first") };
    assert!(r.resync, "{r:?}");
    // The server's numbering goes on below the claim; the client takes the
    // first seq after the resync as its baseline instead of dropping
    // everything as already seen.
    let mut after = Vec::new();
    assert!(read_chats(&mut b, &mut after, 5).await.is_none(), "messages after the resync arrive");
    assert_exactly_once_in_order(&after);
    assert!(b.last_seq() < claimed, "the stream goes on from the server's seq: {}", b.last_seq());
}

#[tokio::test]
async fn a_second_connection_resuming_the_session_replaces_the_first_with_4009() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut a = Client::connect(&url, &TOKENS).await.unwrap();
    let room = a.create("probe30", options(&[("chatter", "1")])).await.unwrap().room;
    let mut got = Vec::new();
    assert!(read_chats(&mut a, &mut got, 3).await.is_none());
    // `a` reads nothing for a while: what it is sent meanwhile is written
    // to its socket, and logged.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut b = Client::resume(&url, &TOKENS, a.resume_token(), a.last_seq()).await.unwrap();
    let (code, reason) = expect_close(&mut a, Duration::from_secs(5)).await;
    assert_eq!(code, 4009, "{reason}");
    let Event::Resumed(r) = b.next_event().await.unwrap() else { panic!("Resumed first") };
    assert_eq!(r.rooms[0].room, room);
    // What was written to `a` after its last read comes again from the log.
    assert!(r.replayed > 0, "{r:?}");
    let want = got.len() + 10;
    assert!(read_chats(&mut b, &mut got, want).await.is_none());
    assert_exactly_once_in_order(&got);
}

#[tokio::test]
async fn a_normal_close_ends_the_session_and_resume_must_come_first() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut a = Client::connect(&url, &TOKENS).await.unwrap();
    a.create("probe30", HashMap::new()).await.unwrap();
    let token = a.resume_token().to_string();
    a.close().await.unwrap();
    match Client::resume(&url, &TOKENS, &token, 0).await {
        Err(ClientError::Resume(e)) => assert_eq!(e.code, 4002),
        other => panic!("a session closed with 1000 must be over: {:?}", other.map(|_| ())),
    }
    // Resuming another session after a join on the same connection: refused,
    // the connection stays. (Its own session's token is answered with
    // Resumed instead: hostile::misuse.)
    let other = Client::connect(&url, &TOKENS).await.unwrap();
    let mut c = Client::connect(&url, &TOKENS).await.unwrap();
    c.create("probe30", HashMap::new()).await.unwrap();
    c.send(playhouse_client::envelope::client_msg::Kind::Resume(playhouse_client::envelope::Resume {
        token: other.resume_token().to_string(),
        last_seq: 0,
    }))
    .await
    .unwrap();
    loop {
        match c.next_event_timeout(Duration::from_secs(5)).await.unwrap() {
            Event::Error(e) => {
                assert_eq!(e.code, 4002);
                assert!(e.reason.contains("before any join"), "{}", e.reason);
                break;
            }
            Event::State(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(c.ping().await.is_ok(), "the connection carries on");
    // A forged token is refused the same way.
    match Client::resume(&url, &TOKENS, "AAAA", 0).await {
        Err(ClientError::Resume(e)) => assert_eq!(e.code, 4002),
        other => panic!("forged token: {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn a_resume_token_is_superseded_by_the_one_resumed_hands_out() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let proxy = Proxy::start(server.addr()).await;
    let mut a = Client::connect(&proxy.ws_url(), &TOKENS).await.unwrap();
    let room = a.create("probe30", HashMap::new()).await.unwrap().room;
    let welcome_token = a.resume_token().to_string();
    proxy.cut_all();
    let mut b = Client::resume(&url, &TOKENS, &welcome_token, a.last_seq()).await.expect("Welcome's token resumes");
    let Event::Resumed(r) = b.next_event().await.unwrap() else { panic!("Resumed first") };
    // Within the same second as the Welcome, still a token of its own.
    assert_ne!(r.resume_token, welcome_token, "the fresh token is fresh");
    assert_eq!(b.resume_token(), r.resume_token, "the client keeps the latest token");
    // The older token no longer works: refused with 4002, nothing taken over.
    match Client::resume(&url, &TOKENS, &welcome_token, 0).await {
        Err(ClientError::Resume(e)) => {
            assert_eq!(e.code, 4002);
            assert!(e.reason.contains("superseded"), "{}", e.reason);
        }
        Err(e) => panic!("expected a 4002 refusal, got {e}"),
        Ok(_) => panic!("a superseded token resumed the session"),
    }
    b.ping().await.expect("the session stays with its connection");
    assert_eq!(b.client_id(&room), Some(ClientId(r.rooms[0].client)));
    // The latest token does.
    let mut c = Client::resume(&url, &TOKENS, &r.resume_token, b.last_seq()).await.expect("the latest token resumes");
    assert_eq!(expect_close(&mut b, Duration::from_secs(5)).await.0, 4009);
    let Event::Resumed(again) = c.next_event().await.unwrap() else { panic!("Resumed first") };
    assert!(![welcome_token.as_str(), r.resume_token.as_str()].contains(&again.resume_token.as_str()));
}
