//! Channels on one `arena` process (the Local backend, in memory): the
//! same scenarios the cluster runs across nodes (`cluster/channels.rs`)
//! with every client on the one node.

use playhouse_client::{Client, ClientError, Event};
use playhouse_protocol::envelope::{Publication, Subscribed};
use playhouse_tests::options;
use playhouse_tests::process::ArenaProcess;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A client on `addr` speaking `token`.
pub async fn connect_with(addr: SocketAddr, token: &str) -> Client {
    Client::connect(&format!("ws://{addr}/ws"), &[token]).await.expect("connect")
}

/// A client on `addr` (msgpack).
pub async fn connect(addr: SocketAddr) -> Client {
    connect_with(addr, "arena.v2.msgpack").await
}

/// The publications `c` receives on `channel` until it has `n` (panics
/// after `within`), then whatever else comes within 300 ms.
pub async fn publications(c: &mut Client, channel: &str, n: usize, within: Duration) -> Vec<Publication> {
    let t0 = Instant::now();
    let mut got = Vec::new();
    while got.len() < n {
        let left = within.checked_sub(t0.elapsed()).unwrap_or_else(|| panic!("{} of {n} publications", got.len()));
        match c.next_event_timeout(left).await {
            Ok(Event::Publication(p)) if p.channel.starts_with(channel.trim_end_matches('*')) => got.push(p),
            Ok(_) => {}
            Err(e) => panic!("{} of {n} publications on {channel}: {e}", got.len()),
        }
    }
    while let Ok(ev) = c.next_event_timeout(Duration::from_millis(300)).await {
        if let Event::Publication(p) = ev {
            got.push(p);
        }
    }
    got
}

/// Publishes `n` numbered payloads (`from`, `from + 1`, …) on `channel`
/// from `c`.
pub async fn publish_n(c: &mut Client, channel: &str, from: u32, n: u32) {
    for i in from..from + n {
        c.publish(channel, &i.to_be_bytes()).await.expect("publish");
    }
}

/// Reads `c`'s events until the publication numbered `n` on `channel`.
pub async fn until_number(c: &mut Client, channel: &str, n: u32) {
    let t0 = Instant::now();
    loop {
        let left = Duration::from_secs(10).checked_sub(t0.elapsed()).unwrap_or_else(|| panic!("no #{n} on {channel}"));
        if let Ok(Event::Publication(p)) = c.next_event_timeout(left).await {
            if p.channel == channel && p.payload[..] == n.to_be_bytes() {
                return;
            }
        }
    }
}

/// Reads `c`'s events until a `presenceChange` says `member` left; panics
/// after `within`. Answers how long it took.
pub async fn until_left(c: &mut Client, member: &str, within: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        let left = within.checked_sub(t0.elapsed()).unwrap_or_else(|| panic!("{member} not left within {within:?}"));
        if let Ok(Event::PresenceChange(pc)) = c.next_event_timeout(left).await {
            if pc.left.iter().any(|m| m == member) {
                return t0.elapsed();
            }
        }
    }
}

fn numbers(ps: &[Publication]) -> Vec<u32> {
    ps.iter().map(|p| u32::from_be_bytes(p.payload[..].try_into().expect("4 bytes"))).collect()
}

/// One publisher on `a`, subscribers on `b` (msgpack) and `c` (proto):
/// each subscriber gets every publication once, in order, with the
/// offsets counting up by one.
pub async fn publish_reaches_every_subscriber_once_in_order(a: SocketAddr, b: SocketAddr, c: SocketAddr) {
    let mut sb = connect(b).await;
    let mut sc = connect_with(c, "arena.v2.proto").await;
    let first = sb.subscribe("chat.order").await.expect("subscribe on b");
    sc.subscribe("chat.order").await.expect("subscribe on c");
    let mut p = connect(a).await;
    publish_n(&mut p, "chat.order", 0, 40).await;
    for s in [&mut sb, &mut sc] {
        let got = publications(s, "chat.order", 40, Duration::from_secs(10)).await;
        assert_eq!(numbers(&got), (0..40).collect::<Vec<_>>(), "every publication once, in order");
        let offsets: Vec<u64> = got.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, (first.offset + 1..=first.offset + 40).collect::<Vec<_>>());
        assert!(got.iter().all(|p| p.epoch == first.epoch && !p.publisher.is_empty()));
    }
}

/// A subscriber away for 50 publications recovers all of them through
/// `c` (`recovered: true`); one whose gap outran the 100-long history is
/// told it did not (`recovered: false`).
pub async fn an_away_subscriber_recovers_what_it_missed(a: SocketAddr, b: SocketAddr, c: SocketAddr) {
    let mut p = connect(a).await;
    let mut s = connect(b).await;
    s.subscribe("chat.away").await.expect("subscribe");
    publish_n(&mut p, "chat.away", 0, 1).await;
    publications(&mut s, "chat.away", 1, Duration::from_secs(5)).await;
    let pos = s.channel_position("chat.away").expect("a position");
    drop(s);
    publish_n(&mut p, "chat.away", 1, 50).await;
    // The 51st publication is in the history once it reaches a subscriber.
    let mut watcher = connect(a).await;
    watcher.subscribe("chat.away").await.expect("watch");
    publish_n(&mut p, "chat.away", 51, 1).await;
    until_number(&mut watcher, "chat.away", 51).await;

    let mut back = connect(c).await;
    let sub: Subscribed = back.subscribe_from("chat.away", pos.offset, &pos.epoch).await.expect("recover");
    assert!(sub.recovered, "everything was in the history");
    assert_eq!(numbers(&sub.missed), (1..52).collect::<Vec<_>>());
    assert_eq!(sub.offset, pos.offset + 51);
    assert_eq!(back.channel_position("chat.away").map(|p| p.offset), Some(sub.offset));

    // 150 more: the oldest of them fell out of the history (100).
    publish_n(&mut p, "chat.away", 52, 150).await;
    until_number(&mut watcher, "chat.away", 201).await;
    let mut late = connect(c).await;
    let sub = late.subscribe_from("chat.away", pos.offset, &pos.epoch).await.expect("subscribe");
    assert!(!sub.recovered, "the gap outran the history");
    assert_eq!(sub.missed.len(), 100, "what the history still holds");
    // Another epoch: nothing can be said about the offsets.
    let mut other = connect(c).await;
    let sub = other.subscribe_from("chat.away", 3, "not-the-epoch").await.expect("subscribe");
    assert!(!sub.recovered && sub.missed.is_empty());
}

/// `chat.*` gets publications of `chat.eu` and `chat.us` (named), not of
/// `lobby` or `chat.eu.north`.
pub async fn a_wildcard_subscription_matches_one_segment(a: SocketAddr, b: SocketAddr) {
    let mut s = connect(b).await;
    s.subscribe("chat.*").await.expect("subscribe to a pattern");
    let mut p = connect(a).await;
    p.publish("chat.eu", b"eu").await.expect("publish");
    p.publish("chat.us", b"us").await.expect("publish");
    let got = publications(&mut s, "chat.", 2, Duration::from_secs(5)).await;
    let names: Vec<(&str, &[u8])> = got.iter().map(|p| (p.channel.as_str(), &p.payload[..])).collect();
    assert_eq!(names, vec![("chat.eu", &b"eu"[..]), ("chat.us", &b"us"[..])]);
}

/// Clients may not publish on `lobby` (403); a bad name is 400, a channel
/// nobody configured 404, a second subscribe 409.
pub async fn refusals_name_their_reason(a: SocketAddr) {
    let mut c = connect(a).await;
    let request = c.publish("lobby", b"hi").await.expect("send");
    let err = loop {
        match c.next_event_timeout(Duration::from_secs(5)).await.expect("an answer") {
            Event::ChannelError(e) if e.request == request => break e,
            _ => {}
        }
    };
    assert_eq!(err.code, 403, "{err:?}");
    assert!(err.reason.contains("may not publish"), "{}", err.reason);
    for (channel, code) in [("chat..x", 400), ("nowhere", 404), ("lobby", 0)] {
        match c.subscribe(channel).await {
            Err(ClientError::Channel(e)) => assert_eq!(e.code, code, "{channel}: {e:?}"),
            Ok(_) => assert_eq!(code, 0, "{channel} subscribed"),
            Err(e) => panic!("{channel}: {e}"),
        }
    }
    match c.subscribe("lobby").await {
        Err(ClientError::Channel(e)) => assert_eq!(e.code, 409),
        r => panic!("a second subscribe: {r:?}"),
    }
}

/// A room's code publishes on `lobby` (`ctx.publish`): a player joining a
/// room on `a` is announced to a lobby subscriber on `b`.
pub async fn room_code_publishes_on_the_lobby(a: SocketAddr, b: SocketAddr) {
    let mut s = connect(b).await;
    s.subscribe("lobby").await.expect("subscribe");
    let mut player = connect(a).await;
    let room = player.create("arena", options(&[("name", "zed")])).await.expect("create").room;
    let got = publications(&mut s, "lobby", 1, Duration::from_secs(5)).await;
    assert_eq!(String::from_utf8_lossy(&got[0].payload), format!("zed joined {room}"));
    assert!(got[0].publisher.is_empty(), "room code publishes with no publisher");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_publish_reaches_every_subscriber_once_in_order() {
    let n = ArenaProcess::spawn(&[]);
    publish_reaches_every_subscriber_once_in_order(n.addr(), n.addr(), n.addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_an_away_subscriber_recovers_what_it_missed() {
    let n = ArenaProcess::spawn(&[]);
    an_away_subscriber_recovers_what_it_missed(n.addr(), n.addr(), n.addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_wildcards_refusals_and_room_publishes() {
    let n = ArenaProcess::spawn(&[]);
    a_wildcard_subscription_matches_one_segment(n.addr(), n.addr()).await;
    refusals_name_their_reason(n.addr()).await;
    room_code_publishes_on_the_lobby(n.addr(), n.addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_presence_lists_subscribers_and_announces_leaves() {
    let n = ArenaProcess::spawn(&["--presence-ttl-ms", "1500"]);
    let mut x = connect(n.addr()).await;
    x.subscribe("lobby").await.expect("x subscribes");
    let xname = x.welcome().session.clone();
    let mut y = connect(n.addr()).await;
    let sub = y.subscribe("lobby").await.expect("y subscribes");
    assert!(sub.presence.contains(&xname), "{:?} lists {xname}", sub.presence);
    assert!(sub.presence.contains(&y.welcome().session));
    x.close().await.expect("x leaves");
    until_left(&mut y, &xname, Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_keeps_its_subscriptions_across_a_resume() {
    let n = ArenaProcess::spawn(&[]);
    let mut s = connect(n.addr()).await;
    s.subscribe("chat.resume").await.expect("subscribe");
    let (token, seq) = (s.resume_token().to_string(), s.last_seq());
    drop(s); // lost, not closed: the session is parked with its subscription
    let mut p = connect(n.addr()).await;
    publish_n(&mut p, "chat.resume", 0, 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let url = format!("ws://{}/ws", n.addr());
    let mut back = Client::resume(&url, &["arena.v2.msgpack"], &token, seq).await.expect("resume");
    let got = publications(&mut back, "chat.resume", 3, Duration::from_secs(5)).await;
    assert_eq!(numbers(&got), vec![0, 1, 2], "replayed in order after the resume");
    publish_n(&mut p, "chat.resume", 3, 1).await;
    let got = publications(&mut back, "chat.resume", 1, Duration::from_secs(5)).await;
    assert_eq!(numbers(&got), vec![3], "and the subscription goes on");
}
