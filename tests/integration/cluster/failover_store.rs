//! The failover store's scripts against a real Redis: room states saved
//! fenced by owner and epoch, claims of a lost node's orphans (once, at
//! epoch + 1, one former owner at a time, at most `max`), releases and the
//! hand-over flag, and the session records with their streams of reliable
//! frames. `RedisBackend` is driven directly, as a node's cluster layer
//! drives it.

use bytes::Bytes;
use playhouse::backend::redis::{RedisBackend, RedisConfig};
use playhouse::backend::{
    session_key, Backend, Claimed, FailoverStore, NodeInfo, Renewal, RoomRecord, Seat, SeatIn, SessionOp,
};
use playhouse_tests::redis::RedisServer;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// A lease short enough to run out within a test.
const SHORT: Duration = Duration::from_millis(300);
/// A lease no test outlives.
const LONG: Duration = Duration::from_secs(30);

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

async fn connect(redis: &RedisServer) -> RedisBackend {
    connect_with(RedisConfig::new(redis.url())).await
}

async fn connect_with(config: RedisConfig) -> RedisBackend {
    RedisBackend::connect(&config).await.expect("connect to the test's redis")
}

/// Registers room `id` for `owner` with `lease` and saves `state` for it;
/// answers its epoch.
async fn room_with_state(b: &RedisBackend, id: &str, owner: &str, lease: Duration, state: &str) -> u64 {
    let epoch = b.register(record(id, owner), lease).await.expect("register");
    assert!(b.save_room(id, owner, epoch, Bytes::from(state.to_string())).await.unwrap(), "the owner saves");
    epoch
}

/// Waits until the leases of `ids` ran out (their records are gone).
async fn until_expired(b: &RedisBackend, ids: &[&str]) {
    let t0 = Instant::now();
    for id in ids {
        while b.get(id).await.unwrap().is_some() {
            assert!(t0.elapsed() < Duration::from_secs(10), "the lease of {id} never ran out");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn ids(claimed: &[Claimed]) -> BTreeSet<String> {
    claimed.iter().map(|c| c.record.id.clone()).collect()
}

#[tokio::test]
async fn a_room_state_is_saved_only_by_its_owner_at_its_epoch() {
    let redis = RedisServer::start();
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let e = room_with_state(&a, "r1", "a", LONG, "v1").await;
    let save = |who: &'static str, epoch: u64, blob: &'static str| a.save_room("r1", who, epoch, Bytes::from(blob));
    assert!(!save("b", e, "another node's").await.unwrap(), "not b's room");
    assert!(!save("a", e + 1, "a future epoch's").await.unwrap(), "not a's epoch");
    assert!(!save("a", e - 1, "a stale epoch's").await.unwrap(), "not a's epoch");
    assert!(!a.save_room("nowhere", "a", e, Bytes::from("x")).await.unwrap(), "no lease, no state");
    assert!(save("a", e, "v2").await.unwrap());
    // What b claims once a lets the room go is the owner's last save, none
    // of the refused ones.
    assert!(a.release("r1", "a", e).await.unwrap());
    let got = b.claim(&node("b"), LONG, 8).await.unwrap();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].state, Bytes::from("v2"));
}

#[tokio::test]
async fn a_room_whose_lease_is_live_is_never_claimed() {
    let redis = RedisServer::start();
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let e = room_with_state(&a, "r1", "a", LONG, "s").await;
    a.register(record("no-state", "a"), LONG).await.unwrap();
    for _ in 0..3 {
        assert_eq!(b.claim(&node("b"), LONG, 8).await.unwrap(), vec![]);
    }
    let rec = b.get("r1").await.unwrap().expect("still listed");
    assert_eq!((rec.node.as_str(), rec.epoch), ("a", e), "untouched by the claims");
    assert!(a.save_room("r1", "a", e, Bytes::from("s2")).await.unwrap(), "a still owns it");
}

#[tokio::test]
async fn an_orphan_is_claimed_once_at_the_next_epoch_and_its_old_owner_is_fenced_off() {
    let redis = RedisServer::start();
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let e = room_with_state(&a, "r1", "a", SHORT, "saved by a").await;
    assert_eq!(b.claim(&node("b"), LONG, 8).await.unwrap(), vec![], "a's lease is live");
    until_expired(&b, &["r1"]).await;

    let got = b.claim(&node("b"), LONG, 8).await.unwrap();
    let mut want = record("r1", "b");
    want.epoch = e + 1;
    assert_eq!(got, vec![Claimed { record: want.clone(), state: Bytes::from("saved by a"), from: "a".into() }]);
    assert_eq!(b.claim(&node("b"), LONG, 8).await.unwrap(), vec![], "claimed once");
    assert_eq!(b.get("r1").await.unwrap(), Some(want), "the directory names b at the new epoch");

    // a (back from a stall) writes at its old epoch: every write is refused.
    assert!(!a.save_room("r1", "a", e, Bytes::from("late")).await.unwrap());
    let renewed = a.renew(&node("a"), vec![Renewal { id: "r1".into(), epoch: e, clients: 3, locked: false }], LONG);
    assert_eq!(renewed.await.unwrap().lost, vec!["r1".to_string()], "a learns it lost the room");
    assert!(!a.release("r1", "a", e).await.unwrap());
    a.remove("r1", "a", e).await.unwrap();
    let rec = b.get("r1").await.unwrap().expect("a's late remove did nothing");
    assert_eq!((rec.node.as_str(), rec.epoch, rec.clients), ("b", e + 1, 0));
    assert!(b.save_room("r1", "b", e + 1, Bytes::from("saved by b")).await.unwrap(), "b owns it now");
    assert!(!b.handover_pending().await.unwrap(), "a lost lease is no hand-over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_claiming_at_once_never_both_get_a_room() {
    let redis = RedisServer::start();
    let (a, b, c) = (connect(&redis).await, connect(&redis).await, connect(&redis).await);
    let rooms: Vec<String> = (0..12).map(|i| format!("r{i}")).collect();
    for id in &rooms {
        room_with_state(&a, id, "a", SHORT, id).await;
    }
    until_expired(&a, &rooms.iter().map(String::as_str).collect::<Vec<_>>()).await;
    // Small claims, so the two nodes' calls interleave over several rounds.
    let (mut by_b, mut by_c) = (Vec::new(), Vec::new());
    loop {
        let (gb, gc) = tokio::join!(b.claim(&node("b"), LONG, 2), c.claim(&node("c"), LONG, 2));
        let (gb, gc) = (gb.unwrap(), gc.unwrap());
        if gb.is_empty() && gc.is_empty() {
            break;
        }
        by_b.extend(gb);
        by_c.extend(gc);
    }
    let (ib, ic) = (ids(&by_b), ids(&by_c));
    assert_eq!(ib.len() + ic.len(), by_b.len() + by_c.len(), "no room handed to one node twice");
    assert!(ib.is_disjoint(&ic), "claimed by both: {:?}", ib.intersection(&ic).collect::<Vec<_>>());
    assert_eq!(ib.union(&ic).cloned().collect::<BTreeSet<_>>(), rooms.iter().cloned().collect());
    for (claims, who) in [(&by_b, "b"), (&by_c, "c")] {
        for cl in claims {
            assert_eq!(cl.state, Bytes::from(cl.record.id.clone()), "each room comes with its own state");
            let rec = a.get(&cl.record.id).await.unwrap().expect("listed");
            assert_eq!((rec.node.as_str(), rec.epoch), (who, cl.record.epoch), "the directory agrees");
        }
    }
}

#[tokio::test]
async fn a_claim_takes_at_most_max_rooms_of_one_former_owner() {
    let redis = RedisServer::start();
    let (a, b, c) = (connect(&redis).await, connect(&redis).await, connect(&redis).await);
    let of_a = ["a1", "a2", "a3"];
    let of_b = ["b1", "b2", "b3", "b4"];
    for id in of_a {
        room_with_state(&a, id, "a", SHORT, id).await;
    }
    for id in of_b {
        room_with_state(&b, id, "b", SHORT, id).await;
    }
    until_expired(&c, &of_a).await;
    until_expired(&c, &of_b).await;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut calls = 0;
    loop {
        let got = c.claim(&node("c"), LONG, 2).await.unwrap();
        if got.is_empty() {
            break;
        }
        calls += 1;
        assert!(got.len() <= 2, "max 2, got {}", got.len());
        let from: BTreeSet<&str> = got.iter().map(|cl| cl.from.as_str()).collect();
        assert_eq!(from.len(), 1, "one former owner per claim: {from:?}");
        for cl in &got {
            assert!(cl.record.id.starts_with(&cl.from), "{} is not {}'s", cl.record.id, cl.from);
            assert!(seen.insert(cl.record.id.clone()), "{} claimed twice", cl.record.id);
        }
    }
    let all: BTreeSet<String> = of_a.iter().chain(&of_b).map(|s| s.to_string()).collect();
    assert_eq!(seen, all);
    assert!(calls >= 4, "3 rooms of a and 4 of b, 2 a claim, one owner a claim: {calls} claims");
}

#[tokio::test]
async fn a_release_hands_a_room_over_at_once_and_flags_it_until_a_claim_leaves_no_orphan() {
    let redis = RedisServer::start();
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let e1 = room_with_state(&a, "r1", "a", LONG, "one").await;
    let e2 = room_with_state(&a, "r2", "a", LONG, "two").await;
    assert!(!b.handover_pending().await.unwrap());
    assert!(!a.release("r1", "b", e1).await.unwrap(), "only the owner releases");
    assert!(!a.release("r1", "a", e1 + 1).await.unwrap(), "at its epoch");
    assert!(!b.handover_pending().await.unwrap(), "a refused release flags nothing");

    assert!(a.release("r1", "a", e1).await.unwrap());
    assert!(a.release("r2", "a", e2).await.unwrap());
    assert!(b.handover_pending().await.unwrap());
    assert_eq!(b.get("r1").await.unwrap(), None, "the lease is gone at once");
    assert!(!a.save_room("r1", "a", e1, Bytes::from("late")).await.unwrap(), "released: no longer a's to save");
    assert!(!a.release("r1", "a", e1).await.unwrap(), "released once");

    // A claim that took as many as it could may have left some: the flag stays.
    let first = b.claim(&node("b"), LONG, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(b.handover_pending().await.unwrap());
    let second = b.claim(&node("b"), LONG, 8).await.unwrap();
    assert_eq!(second.len(), 1);
    assert!(!b.handover_pending().await.unwrap(), "nothing left to claim: the flag goes");
    let got: Vec<(String, u64, Bytes, String)> = first
        .into_iter()
        .chain(second)
        .map(|c| (c.record.id, c.record.epoch, c.state, c.from))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        got,
        vec![
            ("r1".into(), e1 + 1, Bytes::from("one"), "a".into()),
            ("r2".into(), e2 + 1, Bytes::from("two"), "a".into())
        ]
    );
}

#[tokio::test]
async fn a_claim_that_leaves_another_owners_orphans_keeps_the_handover_flag() {
    // Two nodes drain at once (a rolling restart): a claim takes one
    // owner's rooms; the other's are still waiting to be claimed now.
    let redis = RedisServer::start();
    let (a, b, c) = (connect(&redis).await, connect(&redis).await, connect(&redis).await);
    let ea = room_with_state(&a, "ra", "a", LONG, "of a").await;
    let eb = room_with_state(&b, "rb", "b", LONG, "of b").await;
    assert!(a.release("ra", "a", ea).await.unwrap());
    assert!(b.release("rb", "b", eb).await.unwrap());
    let first = c.claim(&node("c"), LONG, 8).await.unwrap();
    assert_eq!(first.len(), 1, "one former owner per claim: {first:?}");
    assert!(c.handover_pending().await.unwrap(), "the other owner's room is still orphaned");
    let second = c.claim(&node("c"), LONG, 8).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_ne!(first[0].from, second[0].from);
    assert!(!c.handover_pending().await.unwrap(), "nothing left");
}

#[tokio::test]
async fn a_disposed_room_is_never_claimed() {
    let redis = RedisServer::start();
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let e = room_with_state(&a, "gone", "a", SHORT, "s").await;
    room_with_state(&a, "kept", "a", SHORT, "s").await;
    a.remove("gone", "a", e).await.unwrap();
    until_expired(&b, &["kept"]).await;
    let got = b.claim(&node("b"), LONG, 8).await.unwrap();
    assert_eq!(ids(&got), BTreeSet::from(["kept".to_string()]), "only the room that was lost, not disposed");
    assert_eq!(b.claim(&node("b"), LONG, 8).await.unwrap(), vec![]);
}

#[tokio::test]
async fn a_room_state_is_kept_only_for_the_configured_time_past_its_last_save() {
    let redis = RedisServer::start();
    let short_lived = RedisConfig { session_ttl: Duration::from_millis(300), ..RedisConfig::new(redis.url()) };
    let (a, b) = (connect_with(short_lived).await, connect(&redis).await);
    let e = room_with_state(&a, "r1", "a", LONG, "s").await;
    // Redis expires a key by its own clock when it is next touched.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(a.release("r1", "a", e).await.unwrap());
    assert_eq!(b.claim(&node("b"), LONG, 8).await.unwrap(), vec![], "the state ran out: nothing to rebuild");
    assert!(!b.handover_pending().await.unwrap());
}

/// A session's stream as the store returns it.
async fn frames(b: &RedisBackend, key: &str) -> Vec<(u64, Bytes)> {
    let mut got = b.load_sessions(vec![key.to_string()]).await.unwrap();
    assert_eq!(got.len(), 1, "{key} is recorded");
    got.remove(0).frames
}

fn append(stream: &str, seq: u64, frame: &str) -> SessionOp {
    SessionOp::Append { stream: stream.into(), seq, frame: Bytes::from(frame.to_string()), max_len: 100 }
}

fn seqs(frames: &[(u64, Bytes)]) -> Vec<u64> {
    frames.iter().map(|(s, _)| *s).collect()
}

#[tokio::test]
async fn a_recorded_session_loads_back_with_its_frames_in_seq_order() {
    let redis = RedisServer::start();
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let (key, other) = (session_key(0xa, 1), session_key(0xa, 2));
    let record = SessionOp::Record { key: key.clone(), blob: Bytes::from("record"), stream: key.clone() };
    a.write_sessions(vec![record, append(&key, 1, "f1"), append(&key, 2, "f2")]).await.unwrap();
    a.write_sessions(vec![append(&key, 3, "f3")]).await.unwrap();
    let rec = SessionOp::Record { key: other.clone(), blob: Bytes::from("other"), stream: other.clone() };
    a.write_sessions(vec![rec]).await.unwrap();

    let got = b.load_sessions(vec![session_key(0xa, 9), key.clone(), other.clone()]).await.unwrap();
    assert_eq!(got.len(), 2, "an unknown key is left out: {got:?}");
    assert_eq!(
        (got[0].key.as_str(), got[0].blob.as_ref(), got[0].stream.as_str()),
        (key.as_str(), &b"record"[..], key.as_str())
    );
    let want: Vec<(u64, Bytes)> = (1..=3).map(|s| (s, Bytes::from(format!("f{s}")))).collect();
    assert_eq!(got[0].frames, want);
    assert_eq!((got[1].key.as_str(), got[1].frames.len()), (other.as_str(), 0), "recorded, nothing sent yet");
    // Every store-side trim keeps the newest `max_len` frames.
    let capped = (4..=9)
        .map(|seq| SessionOp::Append { stream: key.clone(), seq, frame: Bytes::from("x"), max_len: 4 })
        .collect();
    a.write_sessions(capped).await.unwrap();
    assert_eq!(seqs(&frames(&b, &key).await), vec![6, 7, 8, 9]);
}

#[tokio::test]
async fn an_append_at_or_below_the_streams_last_seq_is_ignored() {
    let redis = RedisServer::start();
    let a = connect(&redis).await;
    let key = session_key(0xa, 1);
    let record = SessionOp::Record { key: key.clone(), blob: Bytes::from("r"), stream: key.clone() };
    a.write_sessions(vec![record, append(&key, 1, "f1"), append(&key, 2, "f2"), append(&key, 3, "f3")]).await.unwrap();
    // A batch sent again after a timeout, with one new frame: only the new
    // one lands, and the ops after the refused ones still apply.
    a.write_sessions(vec![append(&key, 2, "again"), append(&key, 3, "again"), append(&key, 4, "f4")]).await.unwrap();
    a.write_sessions(vec![append(&key, 1, "older")]).await.unwrap();
    let want: Vec<(u64, Bytes)> = (1..=4).map(|s| (s, Bytes::from(format!("f{s}")))).collect();
    assert_eq!(frames(&a, &key).await, want);
}

#[tokio::test]
async fn a_trim_drops_the_frames_up_to_the_acked_seq() {
    let redis = RedisServer::start();
    let a = connect(&redis).await;
    let key = session_key(0xa, 1);
    let mut ops = vec![SessionOp::Record { key: key.clone(), blob: Bytes::from("r"), stream: key.clone() }];
    ops.extend((1..=5).map(|s| append(&key, s, "f")));
    a.write_sessions(ops).await.unwrap();
    a.write_sessions(vec![SessionOp::Trim { stream: key.clone(), upto: 3 }]).await.unwrap();
    assert_eq!(seqs(&frames(&a, &key).await), vec![4, 5]);
    // Trimmed frames are not taken back either.
    a.write_sessions(vec![append(&key, 3, "f"), SessionOp::Trim { stream: key.clone(), upto: 2 }]).await.unwrap();
    assert_eq!(seqs(&frames(&a, &key).await), vec![4, 5]);
    a.write_sessions(vec![SessionOp::Trim { stream: key.clone(), upto: 5 }, append(&key, 6, "f")]).await.unwrap();
    assert_eq!(seqs(&frames(&a, &key).await), vec![6], "everything acked, numbering goes on");
}

#[tokio::test]
async fn a_deleted_session_is_gone_with_its_stream() {
    let redis = RedisServer::start();
    let a = connect(&redis).await;
    let (key, other) = (session_key(0xa, 1), session_key(0xa, 2));
    let mut ops = vec![];
    for k in [&key, &other] {
        ops.push(SessionOp::Record { key: k.clone(), blob: Bytes::from("r"), stream: k.clone() });
        ops.push(append(k, 1, "f1"));
    }
    ops.push(SessionOp::Holder { key: key.clone(), url: "ws://b/ws".into() });
    a.write_sessions(ops).await.unwrap();
    a.write_sessions(vec![SessionOp::Delete { key: key.clone(), stream: key.clone() }]).await.unwrap();
    let got = a.load_sessions(vec![key.clone(), other.clone()]).await.unwrap();
    assert_eq!(got.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), vec![other.as_str()]);
    assert_eq!(a.session_holder(&key).await.unwrap(), None, "its holder went with it");
    // Recorded again under the same key: a fresh stream, not the old frames.
    let record = SessionOp::Record { key: key.clone(), blob: Bytes::from("r"), stream: key.clone() };
    a.write_sessions(vec![record]).await.unwrap();
    assert_eq!(frames(&a, &key).await, vec![]);
}

#[tokio::test]
async fn a_holder_is_recorded_only_for_a_session_that_exists() {
    let redis = RedisServer::start();
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    let (key, unknown) = (session_key(0xa, 1), session_key(0xa, 2));
    let record = SessionOp::Record { key: key.clone(), blob: Bytes::from("r"), stream: key.clone() };
    assert_eq!(b.session_holder(&key).await.unwrap(), None);
    a.write_sessions(vec![record.clone()]).await.unwrap();
    assert_eq!(b.session_holder(&key).await.unwrap(), Some(None), "recorded, held by nobody yet");
    a.write_sessions(vec![
        SessionOp::Holder { key: key.clone(), url: "ws://b/ws".into() },
        SessionOp::Holder { key: unknown.clone(), url: "ws://b/ws".into() },
    ])
    .await
    .unwrap();
    assert_eq!(b.session_holder(&key).await.unwrap(), Some(Some("ws://b/ws".into())));
    assert_eq!(b.session_holder(&unknown).await.unwrap(), None, "no record, no holder");
    assert_eq!(b.load_sessions(vec![unknown]).await.unwrap(), vec![], "a holder creates no record");
    // The holder's own record write (a new token generation) keeps it.
    let again = SessionOp::Record { key: key.clone(), blob: Bytes::from("r2"), stream: key.clone() };
    a.write_sessions(vec![again, SessionOp::Holder { key: key.clone(), url: "ws://c/ws".into() }]).await.unwrap();
    assert_eq!(b.session_holder(&key).await.unwrap(), Some(Some("ws://c/ws".into())), "the newest holder");
}

#[tokio::test]
async fn a_join_by_id_is_told_moving_only_while_a_claim_is_coming() {
    let redis = RedisServer::start();
    let (a, b, c) = (connect(&redis).await, connect(&redis).await, connect(&redis).await);
    let by_id = |id: &str| SeatIn::Room(id.to_string());
    let hold = Duration::from_secs(5);
    a.renew(&node("a"), vec![], LONG).await.unwrap();
    b.renew(&node("b"), vec![], LONG).await.unwrap();
    let e = room_with_state(&a, "r1", "a", LONG, "s").await;
    assert!(matches!(c.reserve(by_id("r1"), "c", hold).await.unwrap(), Seat::Held { .. }), "a owns it");
    // Released by a drain (the hand-over flag goes up): a claim is coming.
    assert!(a.release("r1", "a", e).await.unwrap());
    assert_eq!(c.reserve(by_id("r1"), "c", hold).await.unwrap(), Seat::Moving);
    assert_eq!(c.reserve(SeatIn::AnyOf("arena".into()), "c", hold).await.unwrap(), Seat::NoneOpen);
    b.claim(&node("b"), LONG, 8).await.unwrap();
    match c.reserve(by_id("r1"), "c", hold).await.unwrap() {
        Seat::Held { room, .. } => assert_eq!((room.node.as_str(), room.epoch), ("b", e + 1)),
        other => panic!("claimed by b: {other:?}"),
    }
    // b itself asks while it restores the room it claimed: not here yet.
    assert_eq!(b.reserve(by_id("r1"), "b", hold).await.unwrap(), Seat::Moving);
    // b cannot rebuild it and gives it back quietly: its state names a live
    // node and no flag is up, so no claim is coming.
    assert!(b.release_quietly("r1", "b", e + 1).await.unwrap());
    assert_eq!(c.reserve(by_id("r1"), "c", hold).await.unwrap(), Seat::NotFound);
    // A room of a node that is gone (never renewed here): a claim is coming.
    let e2 = room_with_state(&a, "r2", "gone", LONG, "s").await;
    assert!(a.release_quietly("r2", "gone", e2).await.unwrap());
    assert_eq!(c.reserve(by_id("r2"), "c", hold).await.unwrap(), Seat::Moving);
    // No state at all, and a room removed with its state.
    assert_eq!(c.reserve(by_id("never"), "c", hold).await.unwrap(), Seat::NotFound);
    let e3 = room_with_state(&a, "r3", "a", LONG, "s").await;
    a.remove("r3", "a", e3).await.unwrap();
    assert_eq!(c.reserve(by_id("r3"), "c", hold).await.unwrap(), Seat::NotFound, "disposed, not moving");
}

#[tokio::test]
async fn a_node_that_leaves_is_no_longer_listed() {
    let redis = RedisServer::start();
    let (a, b) = (connect(&redis).await, connect(&redis).await);
    a.renew(&node("a"), vec![], LONG).await.unwrap();
    b.renew(&node("b"), vec![], LONG).await.unwrap();
    let listed = |nodes: Vec<(NodeInfo, Duration)>| nodes.into_iter().map(|(n, _)| n.id).collect::<Vec<_>>();
    assert_eq!(listed(a.nodes().await.unwrap()), vec!["a", "b"]);
    b.leave("b").await.unwrap();
    assert_eq!(listed(a.nodes().await.unwrap()), vec!["a"], "gone at once, not a lease later");
}
