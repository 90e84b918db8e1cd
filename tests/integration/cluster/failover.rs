//! Failover with real faults (design §7, §11; docs/failover.md): a node
//! killed with SIGKILL, a node stopped past its lease and continued, a node
//! drained with SIGTERM. Players are `ReconnectingClient`s with the
//! cluster's URL list; they play (one input per state) and record what they
//! see, and the checks are end to end: every player resumed (never a new
//! session), no reliable message missing (the client refuses a gap in the
//! seqs and drops a seq it has seen), no resync, and state ticks that only
//! go up (a client never sees a state from two owners of one room).

use super::failover_players::*;
use super::*;
use std::collections::HashMap;
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_hard_its_rooms_run_on_a_survivor_and_every_player_resumes_there() {
    let redis = RedisServer::start();
    let (mut a, b, c) = (node(&redis, "a"), node(&redis, "b"), node(&redis, "c"));
    let urls = vec![url_of(&a), url_of(&b), url_of(&c)];
    let (stop_tx, stop) = watch::channel(false);
    let (players, rooms) = seat_players(a.addr(), &urls, 4, 8, &stop, &Heard::default()).await;
    let faults = async {
        wait_until(Duration::from_secs(5), "the 4 rooms listed", || listed(b.addr()).len() == 4).await;
        // A snapshot (every 30 ticks) and some play.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        a.signal("KILL");
        let t0 = Instant::now();
        let survivors = || {
            let l = listed(b.addr());
            l.len() == 4 && l.iter().all(|(_, n)| n == "b" || n == "c")
        };
        let within = Duration::from_millis(LEASE_MS) + Duration::from_secs(2);
        wait_until(within, "every room claimed by a survivor", survivors).await;
        let claimed = t0.elapsed();
        // Everyone plays on there for a while.
        tokio::time::sleep(Duration::from_secs(4)).await;
        stop_tx.send(true).expect("stop");
        (t0, claimed)
    };
    let (logs, (t0, claimed)) = run_beside(players, faults).await;
    assert!(!a.is_running(), "killed");
    let back = check_players(&logs, t0);
    let worst = back.iter().max().copied().unwrap_or_default();
    eprintln!(
        "kill -9 with lease {LEASE_MS} ms: rooms claimed after {claimed:?}; first state from the new owner p50 {:?} p99 {:?} max {worst:?}; {} players, {} messages",
        percentile(back.clone(), 0.5),
        percentile(back.clone(), 0.99),
        logs.len(),
        logs.iter().map(|l| l.messages).sum::<u64>(),
    );
    assert!(
        worst <= Duration::from_millis(LEASE_MS) + Duration::from_secs(5),
        "a player was back only after {worst:?}"
    );
    let mut per_room: HashMap<&str, usize> = HashMap::new();
    for l in &logs {
        *per_room.entry(l.room.as_str()).or_default() += 1;
    }
    assert_eq!(per_room.len(), rooms.len());
    let adopted = node_metric(b.addr(), "playhouse_cluster_sessions_adopted_total")
        + node_metric(c.addr(), "playhouse_cluster_sessions_adopted_total");
    assert_eq!(adopted, 32.0, "every seated session taken over");
    for node in [&b, &c] {
        let text = metrics_text(node.addr());
        assert!(
            text.lines().any(|l| l == "playhouse_cluster_session_writes_dropped_total 0"),
            "the durable writer's drops are on /metrics, and none under this load"
        );
    }
    assert!(b.panics().is_empty() && c.panics().is_empty(), "{:?} {:?}", b.panics(), c.panics());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_past_its_lease_its_room_goes_on_elsewhere_and_its_copy_never_sends_again() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis, "a"), node(&redis, "b"));
    let urls = vec![url_of(&a), url_of(&b)];
    let (stop_tx, stop) = watch::channel(false);
    let (players, _) = seat_players(a.addr(), &urls, 1, 3, &stop, &Heard::default()).await;
    let faults = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        a.signal("STOP");
        let t0 = Instant::now();
        wait_until(Duration::from_secs(10), "b claimed the stopped node's room", || {
            let l = listed(b.addr());
            l.len() == 1 && l.iter().all(|(_, n)| n == "b")
        })
        .await;
        eprintln!("SIGSTOP with lease {LEASE_MS} ms: room claimed by b after {:?}", t0.elapsed());
        // b runs the room for a while before a wakes up.
        tokio::time::sleep(Duration::from_secs(1)).await;
        a.signal("CONT");
        // a's copy stops without a tick; its players are closed (1001) and
        // resume at b, where the room went.
        tokio::time::sleep(Duration::from_secs(5)).await;
        stop_tx.send(true).expect("stop");
        t0
    };
    let (logs, t0) = run_beside(players, faults).await;
    check_players(&logs, t0);
    for l in &logs {
        let (_, url, _) = l.resumed.last().expect("resumed");
        assert_eq!(*url, url_of(&b), "{} resumed at b", l.name);
    }
    wait_until(Duration::from_secs(3), "a counted the lease it lost", || {
        node_metric(a.addr(), "playhouse_cluster_lease_losses_total") >= 1.0
    })
    .await;
    assert_eq!(node_metric(a.addr(), "playhouse_cluster_rooms_owned"), 0.0);
    assert_eq!(listed(b.addr()).len(), 1, "the stale owner never wrote its room back");
    assert!(a.panics().is_empty() && b.panics().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_node_hands_its_rooms_over_live_and_exits_0() {
    let redis = RedisServer::start();
    let (mut a, b, c) = (node(&redis, "a"), node(&redis, "b"), node(&redis, "c"));
    let urls = vec![url_of(&a), url_of(&b), url_of(&c)];
    let (stop_tx, stop) = watch::channel(false);
    let (players, _) = seat_players(a.addr(), &urls, 2, 5, &stop, &Heard::default()).await;
    let (logs, (t0, exited)) = run_beside(players, async {
        wait_until(Duration::from_secs(5), "both rooms listed", || listed(b.addr()).len() == 2).await;
        wait_until(Duration::from_secs(5), "every node sees its peers", || {
            node_metric(a.addr(), "playhouse_cluster_nodes") == 3.0
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        a.signal("TERM");
        let t0 = Instant::now();
        let mut exited = None;
        while exited.is_none() && t0.elapsed() < Duration::from_secs(15) {
            exited = a.exit_status();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop_tx.send(true).expect("stop");
        (t0, exited)
    })
    .await;
    let status = exited.expect("the drained node exited");
    assert!(status.success(), "the drained node exits 0: {status:?}");
    check_players(&logs, t0);
    let pauses: Vec<Duration> = logs.iter().flat_map(|l| l.pauses.iter().copied()).collect();
    eprintln!(
        "drain hand-over: {} players, pause between states p50 {:?} p99 {:?}",
        logs.len(),
        percentile(pauses.clone(), 0.5),
        percentile(pauses.clone(), 0.99)
    );
    for l in &logs {
        let (_, url, _) = l.resumed.last().expect("resumed");
        assert!(*url == url_of(&b) || *url == url_of(&c), "{} resumed on a successor: {url}", l.name);
    }
    let claimed = node_metric(b.addr(), "playhouse_cluster_rooms_claimed_total")
        + node_metric(c.addr(), "playhouse_cluster_rooms_claimed_total");
    assert_eq!(claimed, 2.0, "both rooms handed over");
    let l = listed(b.addr());
    assert!(l.len() == 2 && l.iter().all(|(_, n)| n != "a"), "{l:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_three_nodes_under_200_players_loses_no_one() {
    let redis = RedisServer::start();
    let mut nodes = vec![node(&redis, "a"), node(&redis, "b"), node(&redis, "c")];
    let urls: Vec<String> = nodes.iter().map(url_of).collect();
    let (stop_tx, stop) = watch::channel(false);
    let mut players = Vec::new();
    let heard = Heard::default();
    for (i, n) in nodes.iter().enumerate() {
        let rooms = if i < 2 { 7 } else { 6 };
        players.extend(seat_players(n.addr(), &urls, rooms, 10, &stop, &heard).await.0);
    }
    assert_eq!(players.len(), 200);
    let (logs, t0) = run_beside(players, async {
        let peers = |n: &ArenaProcess| node_metric(n.addr(), "playhouse_cluster_nodes") == 3.0;
        wait_until(Duration::from_secs(5), "every node sees its peers", || nodes.iter().all(peers)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let t0 = Instant::now();
        for (i, id) in ["a", "b", "c"].into_iter().enumerate() {
            let (term, gone) = (Instant::now(), url_of(&nodes[i]));
            nodes[i].signal("TERM");
            let t = Instant::now();
            while nodes[i].exit_status().is_none() {
                assert!(t.elapsed() < Duration::from_secs(20), "node {id} did not exit after SIGTERM");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(nodes[i].exit_status().is_some_and(|s| s.success()), "node {id} exits 0");
            // Blocks until the node listens: the players, in tasks of their
            // own, play on meanwhile.
            nodes[i] = node(&redis, id);
            let fresh = &nodes[i];
            wait_until(Duration::from_secs(10), "the restarted node sees its peers", || peers(fresh)).await;
            // The next node goes down only once every player plays again
            // on a node that is up (resumed where its room went): a state
            // heard after the signal is not enough, since the draining node
            // sends states until it hands its rooms over.
            let back = |h: &HashMap<String, (Instant, String)>| {
                h.iter().filter(|(_, (t, url))| *t > term && *url != gone).map(|(k, _)| k.clone()).collect::<Vec<_>>()
            };
            let waited = Instant::now();
            loop {
                let (back, missing) = {
                    let h = heard.lock().expect("heard");
                    let back = back(&h);
                    let missing: Vec<String> = h.keys().filter(|k| !back.contains(k)).cloned().collect();
                    (back.len(), missing)
                };
                if back == 200 {
                    break;
                }
                assert!(
                    waited.elapsed() < Duration::from_secs(20),
                    "not within 20s: every player gets states again after {id} restarted; {back} did, these did not: {missing:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            eprintln!("node {id} restarted: every player plays again {:?} after its SIGTERM", term.elapsed());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop_tx.send(true).expect("stop");
        t0
    })
    .await;
    check_players(&logs, t0);
    let messages: u64 = logs.iter().map(|l| l.messages).sum();
    let resumes: usize = logs.iter().map(|l| l.resumed.len()).sum();
    eprintln!("rolling restart: 200 players, {resumes} resumes, {messages} reliable messages, none lost");
    assert_eq!(listed(nodes[0].addr()).len(), 20, "every room still runs");
    for n in &nodes {
        assert!(n.panics().is_empty(), "{:?}", n.panics());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_during_a_hand_over_every_player_still_resumes() {
    let mut redis = RedisServer::start_persistent();
    let (mut a, b) = (node(&redis, "a"), node(&redis, "b"));
    let urls = vec![url_of(&a), url_of(&b)];
    let (stop_tx, stop) = watch::channel(false);
    let (players, _) = seat_players(a.addr(), &urls, 2, 4, &stop, &Heard::default()).await;
    let (logs, t0) = run_beside(players, async {
        wait_until(Duration::from_secs(5), "a sees b", || node_metric(a.addr(), "playhouse_cluster_nodes") == 2.0)
            .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        a.signal("TERM");
        let t0 = Instant::now();
        // Redis goes away in the middle of the hand-over and comes back
        // with its data.
        redis.restart();
        let t = Instant::now();
        while a.exit_status().is_none() {
            assert!(t.elapsed() < Duration::from_secs(20), "a did not exit after SIGTERM");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        wait_until(Duration::from_millis(LEASE_MS) + Duration::from_secs(5), "b runs both rooms", || {
            let l = listed(b.addr());
            l.len() == 2 && l.iter().all(|(_, n)| n == "b")
        })
        .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop_tx.send(true).expect("stop");
        t0
    })
    .await;
    check_players(&logs, t0);
    assert!(b.panics().is_empty(), "{:?}", b.panics());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_state_over_its_size_limit_is_refused_logged_and_counted_never_written() {
    let redis = RedisServer::start();
    let lease = LEASE_MS.to_string();
    let a = ArenaProcess::spawn(&[
        "--redis",
        &redis.url(),
        "--node-id",
        "a",
        "--lease-ms",
        &lease,
        "--max-state-bytes",
        "64",
    ]);
    let (mut player, room) = player_in_new_room(a.addr()).await;
    // Past tick 30 (a snapshot); on a loaded machine that may take longer
    // than a second. Each step waits with a deadline and, when it fails,
    // says where the node stood (its log of refusals and lease losses).
    let story = |a: &ArenaProcess| {
        let mut lines = a.log_with("max_state_bytes");
        lines.extend(a.log_with("lease"));
        format!("{} log lines: {lines:#?}; panics: {:?}", lines.len(), a.panics())
    };
    let (mut tick, t0) = (0, Instant::now());
    while tick <= 30 && t0.elapsed() < Duration::from_secs(15) {
        let (t, left) = states_for(&mut player, &room, Duration::from_millis(500)).await;
        assert!(!left, "the player lost its room or connection at tick {tick}; {}", story(&a));
        tick = tick.max(t);
    }
    assert!(tick > 30, "the room ran past a snapshot (tick {tick}); {}", story(&a));
    // The seat change and the snapshot: both refused, counted and logged.
    wait_until(Duration::from_secs(10), "two refusals counted", || {
        node_metric(a.addr(), "playhouse_cluster_states_refused_total") >= 2.0
    })
    .await;
    wait_until(Duration::from_secs(10), "the refusal logged", || !a.log_with("over max_state_bytes").is_empty()).await;
    assert_eq!(node_metric(a.addr(), "playhouse_cluster_states_saved_total"), 0.0, "nothing written; {}", story(&a));
    let logged = a.log_with("over max_state_bytes");
    assert!(logged[0].contains(&room), "the log names the room {room}: {}", logged[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_whose_node_died_holding_no_room_is_refused_once_nobody_takes_it_over() {
    let redis = RedisServer::start();
    let (mut a, b) = (node(&redis, "a"), node(&redis, "b"));
    wait_until(Duration::from_secs(5), "b sees a", || node_metric(b.addr(), "playhouse_cluster_nodes") == 2.0).await;
    // A session in no room: nothing of it is kept in Redis.
    let c = Client::connect(&url_of(&a), &["arena.v2.msgpack"]).await.expect("connect");
    let token = c.resume_token().to_string();
    a.signal("KILL");
    wait_until(Duration::from_secs(2), "a is gone", || !a.is_running()).await;
    let t0 = Instant::now();
    let mut answer = Client::resume(&url_of(&b), &["arena.v2.msgpack"], &token, 0).await;
    // While a's entry has not expired, b sends the client to a, which no
    // longer answers; the client comes back (as a reconnecting client
    // walking its URL list would) until b knows a is gone.
    while matches!(answer, Err(ClientError::Ws(_)) | Err(ClientError::Closed(_)) | Err(ClientError::Timeout)) {
        assert!(t0.elapsed() < Duration::from_secs(15), "never answered: {:?}", answer.as_ref().err());
        tokio::time::sleep(Duration::from_millis(200)).await;
        answer = Client::resume(&url_of(&b), &["arena.v2.msgpack"], &token, 0).await;
    }
    match answer {
        Err(ClientError::Resume(e)) => {
            assert_eq!(e.code, 4002, "{e:?}");
            assert!(e.reason.contains("expired or unknown"), "{e:?}");
        }
        other => panic!("a resume nobody can honour: {:?}", other.map(|_| "resumed")),
    }
    let took = t0.elapsed();
    eprintln!("a resume of a dead node's roomless session refused after {took:?}");
    assert!(took <= Duration::from_millis(LEASE_MS) + Duration::from_secs(4), "answered in bounded time: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_room_moved_twice_while_its_client_was_away_resumes_with_its_first_token() {
    // A rolling restart drains a, then b: a room handed from a to b is
    // handed on to c. A client that missed both moves (its link broke
    // before it read a's Shutdown notice) still holds a's token; c must
    // take it. Before, c knew the session only by b's key and the store
    // sent the client to b, gone by then.
    let redis = RedisServer::start();
    let (mut a, mut b) = (node(&redis, "a"), node(&redis, "b"));
    wait_until(Duration::from_secs(5), "a sees b", || node_metric(a.addr(), "playhouse_cluster_nodes") == 2.0).await;
    let (mut player, room) = player_in_new_room(a.addr()).await;
    // Seated, and its record written.
    assert!(states_for(&mut player, &room, Duration::from_millis(500)).await.0 > 0);
    let (token, last_seq) = (player.resume_token().to_string(), player.last_seq());
    // Gone without a word: a parks the session, seat and all.
    drop(player);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let on = |n: &ArenaProcess, id: &str| {
        let l = listed(n.addr());
        l.len() == 1 && l[0].1 == id
    };
    a.signal("TERM");
    wait_until(Duration::from_secs(10), "the room handed over to b", || on(&b, "b")).await;
    wait_until(Duration::from_secs(20), "a exited", || a.exit_status().is_some()).await;
    let c = node(&redis, "c");
    // c is in the store once its own renewal has counted b and itself (b's
    // count may still be the one from before a left); b's drain asks the
    // store for its peers.
    wait_until(Duration::from_secs(5), "c sees b", || node_metric(c.addr(), "playhouse_cluster_nodes") == 2.0).await;
    b.signal("TERM");
    wait_until(Duration::from_secs(10), "the room handed on to c", || on(&c, "c")).await;
    wait_until(Duration::from_secs(20), "b exited", || b.exit_status().is_some()).await;

    // Through a node that never held it: the store says where it is.
    let d = node(&redis, "d");
    let mut back = Client::resume(&url_of(&d), &["arena.v2.msgpack"], &token, last_seq)
        .await
        .unwrap_or_else(|e| panic!("a's token resumes where the room went last: {e}"));
    assert_eq!(back.url(), url_of(&c), "sent on to c");
    match back.next_event_timeout(Duration::from_secs(2)).await {
        Ok(Event::Resumed(r)) => {
            assert!(!r.resync, "nothing lost on the way");
            assert_eq!(r.rooms.iter().map(|j| j.room.as_str()).collect::<Vec<_>>(), [room.as_str()], "still seated");
        }
        other => panic!("expected Resumed first: {other:?}"),
    }
    assert!(states_for(&mut back, &room, Duration::from_secs(1)).await.0 > 0, "and playing again");
    assert!(c.panics().is_empty() && d.panics().is_empty(), "{:?} {:?}", c.panics(), d.panics());
}
