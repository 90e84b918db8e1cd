//! The cluster on a real `redis-server` of each test's own (a free port,
//! nothing on disk) with real `arena` node processes: the directory with
//! leases as the nodes keep it, and what happens when a node stalls or
//! Redis goes away. `backend.rs` and `failover_store.rs` drive the Redis
//! backend directly.

mod backend;
mod channels;
mod directory;
mod failover;
mod failover_players;
mod failover_store;
mod faults;
mod local;
mod matchmaking;

use playhouse_client::{Client, ClientError, Event};
use playhouse_tests::process::ArenaProcess;
use playhouse_tests::redis::RedisServer;
use playhouse_tests::{http_get, metric, metrics_text, options};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The lease the nodes of these tests run with (renewed every second): long
/// enough that a renewal delayed by a busy two-core machine never loses a
/// room, short enough to keep the stall tests quick.
pub const LEASE_MS: u64 = 3000;

/// Starts `arena` as node `id` of the cluster on `redis`.
pub fn node(redis: &RedisServer, id: &str) -> ArenaProcess {
    node_with_lease(redis, id, LEASE_MS)
}

/// Starts `arena` as node `id` with a lease of `lease_ms`.
pub fn node_with_lease(redis: &RedisServer, id: &str, lease_ms: u64) -> ArenaProcess {
    let lease = lease_ms.to_string();
    ArenaProcess::spawn(&["--redis", &redis.url(), "--node-id", id, "--lease-ms", &lease])
}

/// `GET /rooms` on `addr`, parsed (empty while it answers anything but 200).
pub fn rooms(addr: SocketAddr) -> Vec<serde_json::Value> {
    let (status, response) = http_get(addr, "/rooms");
    if status != 200 {
        return Vec::new();
    }
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("/rooms is JSON ({e}): {body}"))
}

/// The ids of the rooms `/rooms` on `addr` lists, with their node.
pub fn listed(addr: SocketAddr) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = rooms(addr)
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or_default().to_string(), r["node"].as_str().unwrap_or_default().to_string()))
        .collect();
    v.sort();
    v
}

/// Polls `cond` every 50 ms until it holds; panics with `what` after `within`.
pub async fn wait_until(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !cond() {
        assert!(t0.elapsed() < within, "not within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A metric of `addr`'s `/metrics`.
pub fn node_metric(addr: SocketAddr, name: &str) -> f64 {
    metric(&metrics_text(addr), name)
}

/// A client that created an arena room on `addr`; answers it and the room id.
pub async fn player_in_new_room(addr: SocketAddr) -> (Client, String) {
    let mut c = Client::connect(&format!("ws://{addr}/ws"), &["arena.v2.msgpack"]).await.expect("connect");
    let j = c.create("arena", options(&[("name", "p")])).await.expect("create");
    (c, j.room)
}

/// The highest state tick `c` receives for `room` within `dur` (0: none),
/// and whether it was told it left the room, or its connection was closed
/// (the room moved on to another node), which ends the wait.
pub async fn states_for(c: &mut Client, room: &str, dur: Duration) -> (u64, bool) {
    let (t0, mut max, mut left) = (Instant::now(), 0, false);
    while let Some(rest) = dur.checked_sub(t0.elapsed()) {
        match c.next_event_timeout(rest).await {
            Ok(Event::State(s)) if s.room == room => max = max.max(s.tick),
            Ok(Event::Left(l)) if l.room == room => {
                left = true;
                break;
            }
            Ok(_) => {}
            Err(ClientError::Timeout) => break,
            Err(_) => {
                left = true;
                break;
            }
        }
    }
    (max, left)
}
