//! Channels across nodes on a real Redis: the one-node scenarios of
//! `channels.rs` with the publisher and the subscribers on different
//! nodes, and presence through a node's death.

use super::*;
use crate::channels as scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_on_one_node_reaches_subscribers_on_two_others_once_each_in_order() {
    let redis = RedisServer::start();
    let (a, b, c) = (node(&redis, "a"), node(&redis, "b"), node(&redis, "c"));
    scenario::publish_reaches_every_subscriber_once_in_order(a.addr(), b.addr(), c.addr()).await;
    assert!(node_metric(a.addr(), "playhouse_channel_publishes_total") >= 40.0);
    assert!(node_metric(b.addr(), "playhouse_channel_deliveries_total") >= 40.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_away_for_50_publishes_recovers_them_through_another_node() {
    let redis = RedisServer::start();
    let (a, b, c) = (node(&redis, "a"), node(&redis, "b"), node(&redis, "c"));
    scenario::an_away_subscriber_recovers_what_it_missed(a.addr(), b.addr(), c.addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcards_refusals_and_room_publishes_across_nodes() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    scenario::a_wildcard_subscription_matches_one_segment(a.addr(), b.addr()).await;
    scenario::refusals_name_their_reason(b.addr()).await;
    scenario::room_code_publishes_on_the_lobby(a.addr(), b.addr()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_entries_of_a_dead_node_expire_and_are_announced_as_left() {
    let redis = RedisServer::start();
    let ttl = ["--presence-ttl-ms", "1500"];
    let node_ttl = |id: &str| {
        let args = ["--redis", &redis.url(), "--node-id", id, "--lease-ms", "1500", ttl[0], ttl[1]];
        ArenaProcess::spawn(&args)
    };
    let (a, b) = (node_ttl("a"), node_ttl("b"));
    let mut x = scenario::connect(b.addr()).await;
    x.subscribe("lobby").await.expect("x subscribes on b");
    let xname = x.welcome().session.clone();
    let mut y = scenario::connect(a.addr()).await;
    let sub = y.subscribe("lobby").await.expect("y subscribes on a");
    assert!(sub.presence.contains(&xname), "{:?} lists x", sub.presence);
    b.signal("KILL");
    let took = scenario::until_left(&mut y, &xname, Duration::from_secs(6)).await;
    assert!(took >= Duration::from_millis(500), "left only once the entry expired ({took:?})");
    let mut z = scenario::connect(a.addr()).await;
    let sub = z.subscribe("lobby").await.expect("z subscribes");
    assert!(!sub.presence.contains(&xname), "{:?}", sub.presence);
    drop(x);
}
