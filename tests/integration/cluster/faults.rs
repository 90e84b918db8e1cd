//! Real faults: Redis restarted empty, Redis gone for a while (a node
//! stopped past its lease: `failover.rs`).

use super::*;
use playhouse_client::ClientError;
use playhouse_protocol::envelope::JoinErrorCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_under_live_rooms_the_nodes_register_them_again() {
    let mut redis = RedisServer::start();
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    let (mut pa, room_a) = player_in_new_room(a.addr()).await;
    let (_pb, room_b) = player_in_new_room(b.addr()).await;
    let mut want = vec![(room_a.clone(), "a".to_string()), (room_b.clone(), "b".to_string())];
    want.sort();
    wait_until(Duration::from_secs(5), "both listed", || listed(a.addr()) == want).await;

    redis.restart();
    wait_until(Duration::from_secs(10), "both rooms registered again after the restart", || {
        listed(a.addr()) == want && listed(b.addr()) == want
    })
    .await;
    let (tick, left) = states_for(&mut pa, &room_a, Duration::from_millis(500)).await;
    assert!(tick > 0 && !left, "a's room kept running through the restart");
    assert!(node_metric(a.addr(), "playhouse_cluster_store_resets_total") >= 1.0);
    assert_eq!(node_metric(a.addr(), "playhouse_cluster_lease_losses_total"), 0.0);
    assert!(a.panics().is_empty() && b.panics().is_empty(), "{:?} {:?}", a.panics(), b.panics());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_node_is_not_ready_refuses_creates_and_recovers_by_itself() {
    // A long lease, so the checks below fit in it on a busy machine.
    const LEASE: Duration = Duration::from_secs(6);
    let mut redis = RedisServer::start();
    let a = node_with_lease(&redis, "a", LEASE.as_millis() as u64);
    let (mut player, room) = player_in_new_room(a.addr()).await;
    wait_until(Duration::from_secs(5), "listed", || listed(a.addr()).len() == 1).await;
    assert_eq!(http_get(a.addr(), "/readyz").0, 200);

    redis.kill();
    let gone = Instant::now();
    wait_until(Duration::from_secs(5), "/readyz is 503 without the store", || http_get(a.addr(), "/readyz").0 == 503)
        .await;
    assert_eq!(http_get(a.addr(), "/rooms").0, 503, "the cluster's rooms cannot be listed now");
    // Running rooms keep ticking until their lease would have run out...
    let (tick, left) = states_for(&mut player, &room, Duration::from_secs(1)).await;
    assert!(
        tick > 0 && !left,
        "the room still ticks after Redis went away ({:?} ago): newest tick {tick}, left {left}",
        gone.elapsed()
    );
    // ...and a create is refused at once, saying why (never a hang).
    let mut c = Client::connect(&format!("ws://{}/ws", a.addr()), &["arena.v2.msgpack"]).await.expect("connect");
    let t0 = Instant::now();
    match c.create("arena", options(&[])).await {
        Err(ClientError::Join(e)) => {
            assert_eq!(e.code, JoinErrorCode::Internal as i32, "{e:?}");
            assert!(e.reason.contains("cluster store"), "{e:?}");
        }
        other => panic!("a create without the store: {other:?}"),
    }
    assert!(t0.elapsed() < Duration::from_secs(2), "answered at once: {:?}", t0.elapsed());
    // The lease runs out: the room stops rather than run unleased.
    let (_, left) = states_for(&mut player, &room, LEASE + Duration::from_secs(2)).await;
    assert!(left, "the room stopped once its lease would have run out");
    let stopped = gone.elapsed();
    assert!(stopped <= LEASE + Duration::from_secs(2), "stopped {stopped:?} after Redis went away");
    eprintln!("lease {LEASE:?}: the room stopped {stopped:?} after Redis went away");

    redis.restart();
    wait_until(Duration::from_secs(10), "/readyz is 200 again", || http_get(a.addr(), "/readyz").0 == 200).await;
    let j = c.create("arena", options(&[])).await.expect("creates work again");
    wait_until(Duration::from_secs(5), "the new room listed", || listed(a.addr()).iter().any(|(id, _)| *id == j.room))
        .await;
    assert!(a.panics().is_empty());
}
