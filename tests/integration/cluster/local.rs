//! The in-memory `Local` backend as a one-node cluster: the same
//! matchmaking tests as a plain server pass through the cluster's code path
//! (leases, fences, the directory's room list), with no Redis at all.

use super::wait_until;
use playhouse::backend::Local;
use playhouse::matchmaking::{Allowance, ClusterConfig, CreateBudget};
use playhouse::prelude::*;
use playhouse::server::{BoundServer, RunningServer};
use playhouse_client::Client;
use playhouse_tests::{http_get, metric, metrics_text, test_config, ws_url, Probe};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

fn solo() -> RunningServer {
    let build = || {
        let mut c = test_config();
        c.max_connections_per_ip = 0;
        c.max_connections = 4000;
        c.create_budget = CreateBudget { per_session: Allowance::UNLIMITED, per_address: Allowance::UNLIMITED };
        let mut cluster = ClusterConfig::new("solo", "");
        cluster.lease = Duration::from_secs(3);
        Server::new(c)
            .room_with_schema::<Probe>(RoomType::new("probe", 30).max_clients(4), arena::schema())
            .cluster(Arc::new(Local::new()), cluster)
    };
    BoundServer::spawn(build, "127.0.0.1:0".parse().expect("literal address")).expect("server starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_node_cluster_on_the_local_backend_matches_like_a_plain_server() {
    const PLAYERS: usize = 400;
    let server = solo();
    let url = ws_url(server.addr());
    let mut tasks = Vec::new();
    for i in 0..PLAYERS {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(&url, &["arena.v2.msgpack"]).await.expect("connect");
            let r = c.join_or_create("probe", HashMap::new()).await.map(|j| j.room);
            (i, c, r)
        }));
    }
    let mut per_room: HashMap<String, usize> = HashMap::new();
    let mut clients = Vec::new();
    for t in tasks {
        let (i, c, r) = t.await.expect("task");
        *per_room.entry(r.unwrap_or_else(|e| panic!("player {i} refused: {e}"))).or_default() += 1;
        clients.push(c);
    }
    assert!(per_room.values().all(|&n| n <= 4), "a room over its max");
    assert_eq!(per_room.len(), PLAYERS / 4, "rooms of four, filled");
    // The directory lists them with their node, and their leases hold.
    wait_until(Duration::from_secs(5), "every room in the directory", || {
        let body = http_get(server.addr(), "/rooms").1;
        body.matches("\"node\":\"solo\"").count() == per_room.len()
    })
    .await;
    // Several renewal rounds (three per lease) later, no lease was lost.
    let rooms = per_room.len() as f64;
    wait_until(Duration::from_secs(10), "four renewal rounds", || {
        metric(&metrics_text(server.addr()), "playhouse_cluster_lease_renewals_total") >= 4.0 * rooms
    })
    .await;
    let text = metrics_text(server.addr());
    assert_eq!(metric(&text, "playhouse_cluster_rooms_owned"), rooms);
    assert_eq!(metric(&text, "playhouse_cluster_lease_losses_total"), 0.0);
}
