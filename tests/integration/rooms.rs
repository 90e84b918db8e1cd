//! Rooms over real sockets: join / leave / broadcast, v1 and v2 clients in
//! one room each getting their own encoding (encoded once per group), tick
//! rate, input acks, join errors that leave the connection open.

use arena::proto::{v1, v2};
use playhouse_client::{envelope::JoinErrorCode, Client, ClientError, Event};
use playhouse_tests::{http_get, metric, start, ws_url};
use std::collections::HashMap;
use std::time::{Duration, Instant};

async fn next_state(c: &mut Client) -> playhouse_client::envelope::State {
    loop {
        if let Event::State(s) = c.next_event_timeout(Duration::from_secs(5)).await.unwrap() {
            return s;
        }
    }
}

fn opts(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn v1_msgpack_and_v2_proto_clients_share_a_room_each_in_their_own_encoding() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut old = Client::connect(&url, &["arena.v1.msgpack"]).await.unwrap();
    let mut new = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    let j1 = old.join_or_create("arena", opts(&[("name", "oldie")])).await.unwrap();
    let j2 = new.join_or_create("arena", opts(&[("name", "newbie")])).await.unwrap();
    assert_eq!(j1.room, j2.room, "join-or-create fills the open room");
    assert_eq!((j2.room_type.as_str(), j2.tick_hz), ("arena", 30));

    new.send_input(&j2.room, 1, &v2::Input { move_x: 1, sprint: true, ..Default::default() }).await.unwrap();
    old.send_input(&j1.room, 1, &v1::Input { move_x: -1, ..Default::default() }).await.unwrap();

    // Wait until both inputs are acknowledged in a state, then check the
    // v2 client sees sprint velocity and names, the v1 client the v1 shape.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "inputs never acknowledged");
        let s = next_state(&mut new).await;
        let acked = |c: u32| s.acks.iter().any(|a| a.client == c && a.seq == 1);
        if acked(j2.client) {
            let out: v2::Output = new.decode(&s.payload).unwrap();
            let Some(v2::output::Kind::State(st)) = out.kind else { panic!("not a state") };
            let me = st.players.iter().find(|p| p.id == j2.client).unwrap();
            assert_eq!(me.name, "newbie");
            if me.vx == arena::SPRINT_SPEED {
                assert!(st.players.iter().any(|p| p.name == "oldie"));
                break;
            }
        }
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "v1 client never saw its input applied");
        let s = next_state(&mut old).await;
        assert!(s.acks.iter().all(|a| a.client == j1.client), "acks travel per group: v1/msgpack has only this client");
        let out: v1::Output = old.decode(&s.payload).unwrap();
        let Some(v1::output::Kind::State(st)) = out.kind else { panic!("not a state") };
        if s.acks.iter().any(|a| a.seq == 1) {
            assert_eq!(st.players.len(), 2);
            break;
        }
    }
    // v2/proto bytes do not decode as v1/msgpack and vice versa: the two
    // clients really were sent different encodings.
    let s = next_state(&mut new).await;
    assert!(playhouse::protocol::Codec::MsgPack.decode::<v1::Output>(&s.payload).is_err());
}

#[tokio::test]
async fn a_broadcast_is_encoded_once_per_group_not_per_client() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut clients = Vec::new();
    let mut room: Option<String> = None;
    // 6 clients in 2 groups (v2/proto ×3, v1/msgpack ×3).
    for token in ["arena.v2.proto", "arena.v1.msgpack"].into_iter().cycle().take(6) {
        let mut c = Client::connect(&url, &[token]).await.unwrap();
        let j = match &room {
            None => c.create("probe30", HashMap::new()).await.unwrap(),
            Some(r) => c.join(r, HashMap::new()).await.unwrap(),
        };
        room = Some(j.room);
        clients.push(c);
    }
    let m = |t: &str| (metric(t, "playhouse_encodes_total"), metric(t, "playhouse_ticks_total"));
    // Start counting after a tick that all six clients were in.
    let joined = m(&http_get(server.addr(), "/metrics").1).1;
    let deadline = Instant::now() + Duration::from_secs(10);
    while m(&http_get(server.addr(), "/metrics").1).1 < joined + 2.0 {
        assert!(Instant::now() < deadline, "the room does not tick");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (e0, t0) = m(&http_get(server.addr(), "/metrics").1);
    // At least 20 ticks, however long a busy machine takes to run them.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (encodes, ticks) = loop {
        let (e1, t1) = m(&http_get(server.addr(), "/metrics").1);
        if t1 - t0 >= 20.0 {
            break (e1 - e0, t1 - t0);
        }
        assert!(Instant::now() < deadline, "only {} ticks in 30 s", t1 - t0);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Each tick broadcasts one state: 2 groups → 2 encodes per tick (allow
    // one tick of skew between the two reads of the counters).
    assert!((encodes - 2.0 * ticks).abs() <= 2.0, "encodes {encodes} for {ticks} ticks");
    drop(clients);
}

#[tokio::test]
async fn a_room_ticks_at_its_rate_within_two_percent_on_a_worker_thread_and_on_a_room_arbiter() {
    // On: the room runs on its creator's HTTP worker thread; off: on a room
    // arbiter (ServerConfig::rooms_on_workers).
    for on_workers in [true, false] {
        let server = start(move |c| c.rooms_on_workers = on_workers);
        let mut c = Client::connect(&ws_url(server.addr()), &["arena.v2.proto"]).await.unwrap();
        c.create("arena", HashMap::new()).await.unwrap();
        let first = next_state(&mut c).await.tick;
        let started = Instant::now();
        let mut last = first;
        while started.elapsed() < Duration::from_millis(2500) {
            last = next_state(&mut c).await.tick;
        }
        let rate = (last - first) as f64 / started.elapsed().as_secs_f64();
        assert!(
            (rate - 30.0).abs() <= 0.6,
            "rooms_on_workers {on_workers}: measured {rate:.2} Hz over {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn join_leave_and_messages_reach_everyone_in_the_room() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut a = Client::connect(&url, &["arena.v2.msgpack"]).await.unwrap();
    let mut b = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    let j = a.create("probe30", HashMap::new()).await.unwrap();
    b.join(&j.room, HashMap::new()).await.unwrap();
    a.send_input(&j.room, 9, &v2::Input { move_x: 42, ..Default::default() }).await.unwrap();
    for c in [&mut a, &mut b] {
        let text = loop {
            if let Event::Message(m) = c.next_event_timeout(Duration::from_secs(5)).await.unwrap() {
                let out: v2::Output = c.decode(&m.payload).unwrap();
                if let Some(v2::output::Kind::Event(e)) = out.kind {
                    break e.text;
                }
            }
        };
        assert_eq!(text, format!("input {} 9 42", j.client));
    }
    let left = b.leave(&j.room).await.unwrap();
    assert_eq!(left.room, j.room);
    let rooms = http_get(server.addr(), "/rooms?type=probe30").1;
    assert!(rooms.contains(&j.room), "{rooms}");
}

#[tokio::test]
async fn unknown_and_full_rooms_get_a_join_error_and_the_connection_stays_open() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut c = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    match c.join("nosuchroom", HashMap::new()).await {
        Err(ClientError::Join(e)) => assert_eq!(e.code, JoinErrorCode::RoomNotFound as i32),
        other => panic!("{other:?}"),
    }
    match c.join_or_create("nosuchtype", HashMap::new()).await {
        Err(ClientError::Join(e)) => assert_eq!(e.code, JoinErrorCode::UnknownRoomType as i32),
        other => panic!("{other:?}"),
    }
    c.ping().await.expect("still connected after join errors");

    // probe rooms hold 4
    let j = c.create("probe", HashMap::new()).await.unwrap();
    let mut others = Vec::new();
    for _ in 0..3 {
        let mut o = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
        o.join(&j.room, HashMap::new()).await.unwrap();
        others.push(o);
    }
    let mut late = Client::connect(&url, &["arena.v1.proto"]).await.unwrap();
    match late.join(&j.room, HashMap::new()).await {
        Err(ClientError::Join(e)) => {
            assert_eq!(e.code, JoinErrorCode::RoomFull as i32);
            assert_eq!(e.reason, "room full");
        }
        other => panic!("{other:?}"),
    }
    match late.join(&j.room, [("deny".to_string(), "1".to_string())].into()).await {
        Err(ClientError::Join(e)) => assert_eq!(e.code, JoinErrorCode::RoomFull as i32),
        other => panic!("{other:?}"),
    }
    late.ping().await.expect("still connected");
    // a refusal by the room's own on_join carries its reason
    let mut d = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    let fresh = d.create("probe30", HashMap::new()).await.unwrap();
    match late.join(&fresh.room, [("deny".to_string(), "1".to_string())].into()).await {
        Err(ClientError::Join(e)) => {
            assert_eq!((e.code, e.reason.as_str()), (JoinErrorCode::Rejected as i32, "denied by test"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn ping_measures_a_round_trip() {
    let server = start(|_| {});
    let mut c = Client::connect(&ws_url(server.addr()), &["arena.v1.msgpack"]).await.unwrap();
    let rtt = c.ping().await.unwrap();
    assert!(rtt < Duration::from_secs(1));
}

#[tokio::test]
async fn join_or_create_skips_a_room_the_connection_is_already_in() {
    let server = start(|_| {});
    let mut c = Client::connect(&ws_url(server.addr()), &["arena.v2.proto"]).await.unwrap();
    let first = c.join_or_create("probe30", HashMap::new()).await.unwrap();
    let second = c.join_or_create("probe30", HashMap::new()).await.unwrap();
    assert_ne!(first.room, second.room);
}

#[tokio::test]
async fn join_or_create_fills_the_room_it_seated_last_before_another() {
    // Rooms fill in turn: a join-or-create goes to the room of its type
    // that last took a player while that one has seats (fewer half-empty
    // rooms), then to any open one.
    let server = start(|_| {});
    let mut players = Vec::new();
    let enter = |how: &'static str| {
        let url = ws_url(server.addr());
        async move {
            let mut c = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
            let room = match how {
                "create" => c.create("probe", HashMap::new()).await.unwrap().room,
                _ => c.join_or_create("probe", HashMap::new()).await.unwrap().room,
            };
            (c, room)
        }
    };
    // Six rooms of one player each; the last made takes the next three
    // (probe rooms seat 4). Any other order is a 1-in-6 chance per run.
    let mut made = Vec::new();
    for _ in 0..6 {
        let (c, room) = enter("create").await;
        players.push(c);
        made.push(room);
    }
    let last = made.last().unwrap().clone();
    for _ in 0..3 {
        let (c, room) = enter("join-or-create").await;
        assert_eq!(room, last, "the room made last, until it is full");
        players.push(c);
    }
    // Then one of the other open rooms, and that one until it is full.
    let (c, next) = enter("join-or-create").await;
    assert!(made[..5].contains(&next), "an open room, not a new one: {next}");
    players.push(c);
    for _ in 0..2 {
        let (c, room) = enter("join-or-create").await;
        assert_eq!(room, next, "the room seated last, until it is full");
        players.push(c);
    }
}

#[tokio::test]
async fn an_empty_room_is_disposed_after_its_empty_timeout_and_stays_gone() {
    let server = start(|_| {});
    let mut c = Client::connect(&ws_url(server.addr()), &["arena.v2.proto"]).await.unwrap();
    let j = c.create("brief", HashMap::new()).await.unwrap();
    c.leave(&j.room).await.unwrap();
    let rooms_gauge = |t: &str| playhouse_tests::metric_labeled(t, "playhouse_rooms", "room_type=\"brief\"");
    let deadline = Instant::now() + Duration::from_secs(5);
    while rooms_gauge(&http_get(server.addr(), "/metrics").1) != 0.0 {
        assert!(Instant::now() < deadline, "the empty room was never disposed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The client still holds the room's address: a disposed room must not be
    // brought back by its supervisor.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let m = http_get(server.addr(), "/metrics").1;
    assert_eq!(rooms_gauge(&m), 0.0, "a disposed room came back: {m}");
    assert!(!http_get(server.addr(), "/rooms").1.contains(&j.room));
    match c.join(&j.room, HashMap::new()).await {
        Err(ClientError::Join(e)) => assert_eq!(e.code, JoinErrorCode::RoomNotFound as i32),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_room_type_at_its_cap_refuses_creates_with_room_limit_until_one_of_its_rooms_goes() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut a = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    let only = a.create("scarce", HashMap::new()).await.unwrap().room;
    let mut b = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    match b.create("scarce", HashMap::new()).await {
        Err(ClientError::Join(e)) => {
            assert_eq!(e.code, JoinErrorCode::RoomLimit as i32);
            assert_eq!(
                e.reason,
                "room type \"scarce\" is at its room limit (1); join an existing room, or try again later"
            );
        }
        other => panic!("a second scarce room: {other:?}"),
    }
    b.create("probe30", HashMap::new()).await.expect("another type has its own cap");
    let seat = b.join_or_create("scarce", HashMap::new()).await.expect("the scarce room has a seat");
    assert_eq!(seat.room, only);
    // Both leave; the room is disposed 200 ms later, and its slot with it.
    a.leave(&only).await.unwrap();
    b.leave(&only).await.unwrap();
    let scarce_rooms = |t: &str| playhouse_tests::metric_labeled(t, "playhouse_rooms", "room_type=\"scarce\"");
    let deadline = Instant::now() + Duration::from_secs(5);
    while scarce_rooms(&http_get(server.addr(), "/metrics").1) != 0.0 {
        assert!(Instant::now() < deadline, "the empty scarce room was never disposed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    b.create("scarce", HashMap::new()).await.expect("the disposed room gave its slot back");
    assert_eq!(server.metrics().creates_refused_for("type_limit"), 1);
}

/// Join-or-create never answers "room full" because two joins raced for the
/// last seat of a room: a thousand players at once into rooms of four.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_join_or_creates_into_rooms_of_four_are_never_refused() {
    const PLAYERS: usize = 1000;
    let server = start(|c| {
        c.max_connections_per_ip = 0;
        c.max_connections = 2 * PLAYERS;
        use playhouse::matchmaking::{Allowance, CreateBudget};
        c.create_budget = CreateBudget { per_session: Allowance::UNLIMITED, per_address: Allowance::UNLIMITED };
    });
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
        let room = r.unwrap_or_else(|e| panic!("player {i}: a join-or-create was refused: {e}"));
        *per_room.entry(room).or_default() += 1;
        clients.push(c);
    }
    assert!(per_room.values().all(|&n| n <= 4), "a room over its max of 4");
    eprintln!("{PLAYERS} players in {} rooms of at most 4", per_room.len());
}

#[tokio::test]
async fn every_room_type_has_its_metric_families_at_zero_before_its_first_room() {
    let server = start(|_| {});
    let m = playhouse_tests::metrics_text(server.addr());
    for family in
        ["playhouse_rooms", "playhouse_ticks_total", "playhouse_ticks_skipped_total", "playhouse_room_panics_total"]
    {
        for room_type in ["arena", "probe30"] {
            let series = format!("{family}{{room_type=\"{room_type}\"}} 0");
            assert!(m.lines().any(|l| l == series), "{series} missing from a fresh server's /metrics:\n{m}");
        }
    }
    let lateness = "playhouse_tick_lateness_seconds_count{room_type=\"arena\"} 0";
    assert!(m.lines().any(|l| l == lateness), "{lateness} missing:\n{m}");
}
