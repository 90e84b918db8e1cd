//! The Redis backend's scripts against a real Redis: the same rules the
//! in-memory `LocalDirectory` is unit-tested for (leases, epochs, fencing),
//! plus what only a real store does (a restart that empties it).

use playhouse::backend::redis::{RedisBackend, RedisConfig};
use playhouse::backend::{Backend, BackendError, NodeInfo, Renewal, RoomRecord};
use playhouse_tests::redis::RedisServer;
use std::time::Duration;

fn node(id: &str) -> NodeInfo {
    NodeInfo { id: id.into(), url: format!("ws://{id}/ws") }
}

fn record(id: &str, node: &str) -> RoomRecord {
    RoomRecord {
        id: id.into(),
        room_type: "arena".into(),
        node: node.into(),
        url: format!("ws://{node}/ws"),
        clients: 0,
        max_clients: 16,
        locked: false,
        epoch: 0,
    }
}

fn renewal(id: &str, epoch: u64, clients: u32) -> Renewal {
    Renewal { id: id.into(), epoch, clients, locked: false }
}

async fn connect(redis: &RedisServer) -> RedisBackend {
    RedisBackend::connect(&RedisConfig::new(redis.url())).await.expect("connect to the test's redis")
}

#[tokio::test]
async fn leases_epochs_and_fencing_hold_in_redis() {
    let redis = RedisServer::start();
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let lease = Duration::from_millis(400);
    let e1 = a.register(record("r1", "a"), lease).await.unwrap();
    assert_eq!(e1, 1);
    assert_eq!(b.register(record("r1", "b"), lease).await, Err(BackendError::Exists("r1".into())));
    // Renewed: the record carries the owner's counts.
    let out = a.renew(&node("a"), vec![renewal("r1", e1, 3)], lease).await.unwrap();
    assert!(out.lost.is_empty() && !out.reset);
    let rec = b.get("r1").await.unwrap().expect("listed");
    assert_eq!((rec.node.as_str(), rec.clients, rec.epoch), ("a", 3, e1));
    assert_eq!(b.list(Some("arena")).await.unwrap(), vec![rec.clone()]);
    assert!(b.list(Some("lobby")).await.unwrap().is_empty());
    // Not renewed: the store lets the lease run out by itself.
    let t0 = std::time::Instant::now();
    loop {
        if b.get("r1").await.unwrap().is_none() {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(3), "the record outlived its lease");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(b.list(None).await.unwrap().is_empty(), "an expired room is not listed");
    // b takes the id at a newer epoch; a's late renewal and remove are fenced off.
    let e2 = b.register(record("r1", "b"), Duration::from_secs(10)).await.unwrap();
    assert_eq!(e2, e1 + 1);
    let out = a.renew(&node("a"), vec![renewal("r1", e1, 5)], lease).await.unwrap();
    assert_eq!(out.lost, vec!["r1".to_string()]);
    a.remove("r1", "a", e1).await.unwrap();
    let rec = a.get("r1").await.unwrap().expect("still b's");
    assert_eq!((rec.node.as_str(), rec.epoch, rec.clients), ("b", e2, 0));
    b.remove("r1", "b", e2).await.unwrap();
    assert_eq!(a.get("r1").await.unwrap(), None);
}

#[tokio::test]
async fn nodes_are_listed_while_they_renew_and_a_restart_is_told_apart_from_a_lost_lease() {
    let mut redis = RedisServer::start();
    let a = connect(&redis).await;
    let lease = Duration::from_secs(10);
    a.renew(&node("a"), vec![], lease).await.unwrap();
    let nodes = a.nodes().await.unwrap();
    assert_eq!(nodes.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), vec![node("a")]);
    let left = nodes[0].1;
    assert!(left > Duration::from_secs(9) && left <= lease, "the entry has about a lease left: {left:?}");
    let e = a.register(record("r1", "a"), lease).await.unwrap();

    redis.restart();
    // The connection manager reconnects by itself; the first renewal after
    // it learns the store was emptied: a reset, not a lost lease.
    let t0 = std::time::Instant::now();
    let out = loop {
        match a.renew(&node("a"), vec![renewal("r1", e, 1)], lease).await {
            Ok(out) => break out,
            Err(BackendError::Unavailable(_)) if t0.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(err) => panic!("{err}"),
        }
    };
    assert!(out.reset && out.lost.is_empty(), "{out:?}");
    // After a reset the next renewal is an ordinary one again.
    let e = a.register(record("r1", "a"), lease).await.unwrap();
    let out = a.renew(&node("a"), vec![renewal("r1", e, 1)], lease).await.unwrap();
    assert!(!out.reset && out.lost.is_empty(), "{out:?}");
}

#[tokio::test]
async fn an_unreachable_store_fails_fast() {
    let mut redis = RedisServer::start();
    let a = connect(&redis).await;
    redis.kill();
    let t0 = std::time::Instant::now();
    let r = a.list(None).await;
    assert!(matches!(r, Err(BackendError::Unavailable(_))), "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(3), "answered within the response timeout: {:?}", t0.elapsed());
    let r = RedisBackend::connect(&RedisConfig::new(redis.url())).await.map(|_| ());
    assert!(matches!(r, Err(BackendError::Unavailable(_))), "{r:?}");
}

/// The channel scripts against a real Redis: history bounded by count and
/// age, recovery told honestly, and a new epoch once Redis lost the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_history_is_bounded_and_a_lost_stream_gets_a_new_epoch() {
    use playhouse::backend::{ChannelStore, HistoryLimits, Notice, Position};
    let mut redis = RedisServer::start();
    let a = connect(&redis).await;
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let h = heard.clone();
    a.listen(std::sync::Arc::new(move |n| h.lock().expect("not poisoned").push(n)));
    tokio::time::sleep(Duration::from_millis(300)).await; // the pub/sub connection subscribes
    let small = HistoryLimits { size: 3, age: Duration::from_millis(800) };
    let mut last = Position::default();
    for i in 0..5u8 {
        last = a.publish("news", vec![i].into(), "room", small).await.expect("publish");
    }
    assert_eq!(last.offset, 5);
    let t0 = std::time::Instant::now();
    while heard.lock().expect("not poisoned").len() < 5 && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let offsets: Vec<u64> = heard
        .lock()
        .expect("not poisoned")
        .iter()
        .filter_map(|n| match n {
            Notice::Publication(p) if p.epoch == last.epoch => Some(p.offset),
            _ => None,
        })
        .collect();
    assert_eq!(offsets, vec![1, 2, 3, 4, 5], "every node hears each publication once, in order");
    let since = |offset| Some(Position { offset, epoch: last.epoch.clone() });
    let h = a.history("news", since(2), small).await.unwrap();
    assert!(h.recovered, "3, 4, 5 are the last three");
    assert_eq!(h.publications.iter().map(|p| p.payload[0]).collect::<Vec<_>>(), vec![2, 3, 4]);
    let h = a.history("news", since(1), small).await.unwrap();
    assert!(!h.recovered, "2 fell out of the 3-long history");
    tokio::time::sleep(Duration::from_millis(900)).await;
    let h = a.history("news", since(4), small).await.unwrap();
    assert!(!h.recovered && h.publications.is_empty(), "5 aged out");
    assert_eq!(h.position, last, "the offset outlives the history");

    redis.restart();
    let t0 = std::time::Instant::now();
    let h = loop {
        match a.history("news", since(5), small).await {
            Ok(h) => break h,
            Err(BackendError::Unavailable(_)) if t0.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert!(!h.recovered, "the stream was lost with the restart");
    assert_ne!(h.position.epoch, last.epoch, "a new epoch");
    assert_eq!(h.position.offset, 0);
    let p = a.publish("news", vec![9].into(), "room", small).await.unwrap();
    assert_eq!(p, Position { offset: 1, epoch: h.position.epoch.clone() });
}
