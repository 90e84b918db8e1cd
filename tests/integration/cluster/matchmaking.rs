//! Matchmaking across nodes: a join-or-create fills the other nodes' rooms
//! before it makes one, a join by id reaches a room on any node, and the
//! Rust client follows the `Redirect` on its own.

use super::*;
use playhouse_client::ClientError;
use playhouse_protocol::envelope::JoinErrorCode;
use std::collections::HashMap;

async fn connect(addr: SocketAddr) -> Client {
    Client::connect(&format!("ws://{addr}/ws"), &["arena.v2.msgpack"]).await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_players_on_two_nodes_meet_in_one_room() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    let mut ann = connect(a.addr()).await;
    let room = ann.join_or_create("arena", options(&[("name", "ann")])).await.expect("ann joins").room;
    wait_until(Duration::from_secs(5), "ann's room in the directory", || listed(b.addr()).len() == 1).await;

    let mut bob = connect(b.addr()).await;
    let joined = bob.join_or_create("arena", options(&[("name", "bob")])).await.expect("bob joins");
    assert_eq!(joined.room, room, "bob was sent to ann's room on a, not given a room of his own on b");
    assert_eq!(listed(a.addr()).len(), 1, "no second room was made");
    // Bob now talks to a: he gets the room's states, with both players.
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < Duration::from_secs(5), "no state with both players");
        if let Ok(Event::State(s)) = bob.next_event_timeout(Duration::from_secs(1)).await {
            let st: arena::proto::v2::Output = bob.decode(&s.payload).expect("arena state");
            let players = match st.kind {
                Some(arena::proto::v2::output::Kind::State(w)) => w.players.len(),
                _ => 0,
            };
            if players == 2 {
                break;
            }
        }
    }
    wait_until(Duration::from_secs(5), "the record counts both", || {
        rooms(b.addr()).iter().any(|r| r["id"] == room.as_str() && r["clients"] == 2)
    })
    .await;
    assert!(node_metric(b.addr(), "playhouse_cluster_redirects_total") >= 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_is_joined_by_id_through_any_node() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    let (_owner, room) = player_in_new_room(a.addr()).await;
    wait_until(Duration::from_secs(5), "listed on b", || listed(b.addr()).len() == 1).await;
    let mut guest = connect(b.addr()).await;
    let joined = guest.join(&room, HashMap::new()).await.expect("joined through b");
    assert_eq!(joined.room, room);
    // An id no node has is not found, on a cluster node too.
    let mut lost = connect(b.addr()).await;
    match lost.join("nosuchroom", HashMap::new()).await {
        Err(ClientError::Join(e)) => assert_eq!(e.code, JoinErrorCode::RoomNotFound as i32, "{e:?}"),
        other => panic!("joining an unknown room: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_fill_rooms_across_the_cluster_and_never_answer_room_full() {
    const PER_NODE: usize = 60;
    let redis = RedisServer::start();
    let nodes = [node(&redis, "a"), node(&redis, "b"), node(&redis, "c")];
    let mut tasks = Vec::new();
    for i in 0..PER_NODE * nodes.len() {
        let addr = nodes[i % nodes.len()].addr();
        tasks.push(tokio::spawn(async move {
            let mut c = connect(addr).await;
            let name = format!("p{i}");
            let r = c.join_or_create("arena", options(&[("name", &name)])).await.map(|j| j.room);
            (c, r)
        }));
        if i % 30 == 29 {
            // Waves, so the directory has seen the rooms made so far.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let mut clients = Vec::new();
    let mut per_room: HashMap<String, usize> = HashMap::new();
    for t in tasks {
        let (c, r) = t.await.expect("task");
        let room = r.unwrap_or_else(|e| panic!("a join-or-create was refused: {e}"));
        *per_room.entry(room).or_default() += 1;
        clients.push(c);
    }
    let total = PER_NODE * nodes.len();
    assert!(per_room.values().all(|&n| n <= 16), "a room over its max: {per_room:?}");
    let least = total.div_ceil(16);
    eprintln!("{total} players in {} rooms (at least {least}): {per_room:?}", per_room.len());
    assert!(per_room.len() <= least + nodes.len() * 3, "rooms were not filled across nodes: {per_room:?}");
    wait_until(Duration::from_secs(5), "the directory lists every room", || {
        listed(nodes[0].addr()).len() == per_room.len()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_client_follows_a_redirect_and_reconnects_to_the_rooms_node() {
    use playhouse_client::{ReconnectConfig, ReconnectingClient};
    let redis = RedisServer::start();
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    let (_owner, room) = player_in_new_room(a.addr()).await;
    wait_until(Duration::from_secs(5), "listed on b", || listed(b.addr()).len() == 1).await;
    let config = ReconnectConfig::new([format!("ws://{}/ws", b.addr())], ["arena.v2.msgpack"]);
    let mut c = ReconnectingClient::connect(config).await.expect("connect to b");
    let joined = c.join_or_create("arena", options(&[("name", "rc")])).await.expect("joined");
    assert_eq!(joined.room, room, "sent to a's room");
    assert_eq!(c.url(), format!("ws://{}/ws", a.addr()), "its connection, and its reconnects, now go to a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_resumed_through_another_node_continues_on_its_own_without_a_gap() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    let (mut ann, room) = player_in_new_room(a.addr()).await;
    // Both nodes know each other (the node list comes with the renewals).
    wait_until(Duration::from_secs(5), "two nodes seen", || node_metric(b.addr(), "playhouse_cluster_nodes") == 2.0)
        .await;
    let mut bob = connect(a.addr()).await;
    bob.join(&room, HashMap::new()).await.expect("bob joins");
    // Ann hears bob arrive (a reliable message), then loses her connection.
    let t0 = Instant::now();
    while ann.last_seq() < 2 {
        assert!(t0.elapsed() < Duration::from_secs(5), "ann got no reliable message about bob");
        let _ = ann.next_event_timeout(Duration::from_millis(500)).await;
    }
    let (token, seen) = (ann.resume_token().to_string(), ann.last_seq());
    drop(ann);
    // While she is away, carol arrives: a message ann missed.
    let mut carol = connect(a.addr()).await;
    carol.join(&room, HashMap::new()).await.expect("carol joins");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // She comes back through b, which does not hold her session: b sends
    // her to a, where the session goes on.
    let mut ann = Client::resume(&format!("ws://{}/ws", b.addr()), &["arena.v2.msgpack"], &token, seen)
        .await
        .expect("resumed through b");
    assert_eq!(ann.url(), format!("ws://{}/ws", a.addr()), "resumed on the session's node");
    let mut seqs = Vec::new();
    let t0 = Instant::now();
    while seqs.is_empty() && t0.elapsed() < Duration::from_secs(3) {
        if let Ok(Event::Message(_)) = ann.next_event_timeout(Duration::from_millis(500)).await {
            seqs.push(ann.last_seq());
        }
    }
    assert_eq!(
        seqs.first().copied(),
        Some(seen + 1),
        "the next reliable message follows the last seen, no gap, no repeat"
    );
}

/// A room between owners (released by a drain, or its node's lease ran
/// out, and not yet claimed) is in no node's directory entry for a moment.
/// A join by id in that moment waits for the claim instead of answering
/// "room not found", and lands where the room now is: here, node `a`
/// claiming it on its next scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_by_id_waits_for_a_room_between_owners_and_lands_where_it_is_claimed() {
    use bytes::Bytes;
    use playhouse::backend::redis::{RedisBackend, RedisConfig};
    use playhouse::backend::{node_tag, Backend, FailoverStore, RoomRecord};
    use playhouse::room::PortableRoom;

    let redis = RedisServer::start();
    let a = node(&redis, "a");
    // Node `z` (this test, through the backend as a node drives it) owns
    // room `r-moving` and saved it, as every cluster node saves its rooms.
    let z = RedisBackend::connect(&RedisConfig::new(redis.url())).await.expect("connect");
    let record = RoomRecord {
        id: "r-moving".into(),
        room_type: "arena".into(),
        node: "z".into(),
        url: "ws://z.invalid/ws".into(),
        clients: 0,
        max_clients: 16,
        locked: false,
        epoch: 0,
    };
    let epoch = z.register(record, Duration::from_secs(30)).await.expect("register");
    let state = PortableRoom::fresh("arena", &HashMap::new().into_iter().collect(), node_tag("z")).encode();
    assert!(z.save_room("r-moving", "z", epoch, Bytes::from(state.to_vec())).await.unwrap());
    wait_until(Duration::from_secs(5), "z's room listed on a", || listed(a.addr()).len() == 1).await;

    let mut late = connect(a.addr()).await;
    // z lets it go without raising the hand-over flag: `a` claims it on
    // its regular scan, up to half a second from now.
    assert!(z.release_quietly("r-moving", "z", epoch).await.unwrap());
    let t0 = Instant::now();
    let joined = late.join("r-moving", options(&[("name", "late")])).await.expect("joined once claimed");
    assert_eq!(joined.room, "r-moving");
    assert_eq!(listed(a.addr()), vec![("r-moving".to_string(), "a".to_string())], "claimed by a");
    assert!(t0.elapsed() < Duration::from_secs(5), "within a lease and two seconds: {:?}", t0.elapsed());
}
