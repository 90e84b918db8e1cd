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
    assert_eq!(a.nodes().await.unwrap(), vec![node("a")]);
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
