//! The programs of `framework/examples/`, each started as its built binary
//! (`target/<profile>/examples/<name>`) on a free port and driven by the
//! Rust client: each does what its module doc says it shows.

use playhouse_client::envelope::JoinErrorCode;
use playhouse_client::{AuthVia, Client, ClientError, Credential, Event};
use playhouse_testkit::probe::v2;
use playhouse_tests::options;
use playhouse_tests::process::ArenaProcess;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A client of `addr` speaking `<app>.v1.proto`.
async fn connect(addr: SocketAddr, app: &str) -> Client {
    Client::connect(&format!("ws://{addr}/ws"), &[&format!("{app}.v1.proto")]).await.expect("connect")
}

/// The next state of `room` that `c` receives: its tick and its payload.
async fn next_state(c: &mut Client, room: &str) -> (u64, v2::State) {
    let t0 = Instant::now();
    loop {
        let left = Duration::from_secs(5).checked_sub(t0.elapsed()).expect("a state within 5 s");
        match c.next_event_timeout(left).await {
            Ok(Event::State(s)) if s.room == room => return (s.tick, c.decode(&s.payload).expect("a v2::State")),
            Ok(_) => {}
            Err(e) => panic!("waiting for a state: {e}"),
        }
    }
}

/// The first state of `room` that `c` receives for which `want` holds
/// (panics after `within`).
async fn state_where(c: &mut Client, room: &str, within: Duration, want: impl Fn(&v2::State) -> bool) -> v2::State {
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < within, "no such state within {within:?}");
        let (_, s) = next_state(c, room).await;
        if want(&s) {
            return s;
        }
    }
}

/// The texts of the reliable `Event`s `c` receives, until one contains `needle`.
async fn message_with(c: &mut Client, needle: &str) -> String {
    let t0 = Instant::now();
    loop {
        let left = Duration::from_secs(5).checked_sub(t0.elapsed()).unwrap_or_else(|| panic!("no {needle:?}"));
        match c.next_event_timeout(left).await {
            Ok(Event::Message(m)) => {
                let e: v2::Event = c.decode(&m.payload).expect("a v2::Event");
                if e.text.contains(needle) {
                    return e.text;
                }
            }
            Ok(_) => {}
            Err(e) => panic!("waiting for {needle:?}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_room_sends_a_joined_client_its_dot_and_moves_it() {
    let server = ArenaProcess::spawn_example("minimal_room", &[]);
    let mut c = connect(server.addr(), "dots").await;
    let joined = c.join_or_create("dots", Default::default()).await.expect("join dots");
    assert_eq!(joined.tick_hz, 30);
    let (_, s) = next_state(&mut c, &joined.room).await;
    assert_eq!(s.players.len(), 1, "{s:?}");
    assert_eq!((s.players[0].id, s.players[0].x), (joined.client, 50.0), "the dot starts in the middle");
    c.send_input(&joined.room, 1, &v2::Input { move_x: 1, ..Default::default() }).await.expect("input");
    state_where(&mut c, &joined.room, Duration::from_secs(3), |s| s.players[0].x > 51.0).await;
    assert!(server.panics().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turn_based_room_ticks_at_1_hz_and_refuses_a_move_out_of_turn() {
    let server = ArenaProcess::spawn_example("turn_based", &[]);
    let mut a = connect(server.addr(), "turns").await;
    let room = a.create("turns", Default::default()).await.expect("create").room;
    let mut b = connect(server.addr(), "turns").await;
    let joined = b.join(&room, Default::default()).await.expect("join");
    assert_eq!(joined.tick_hz, 1);
    let (ida, idb) = (a.client_id(&room).expect("a's id").0, joined.client);

    // One state a second: two ticks take two seconds. (Timed from the
    // second state read: the first may have waited in a buffer.)
    next_state(&mut b, &room).await;
    let (t1, _) = next_state(&mut b, &room).await;
    let at = Instant::now();
    let (t2, _) = next_state(&mut b, &room).await;
    let (t3, s) = next_state(&mut b, &room).await;
    let took = at.elapsed();
    assert_eq!((t2, t3), (t1 + 1, t1 + 2), "consecutive ticks");
    assert!(took > Duration::from_millis(1600) && took < Duration::from_millis(2600), "two ticks took {took:?}");
    let turn_of = |s: &v2::State| s.players.iter().find(|p| p.alive).map(|p| p.id);
    assert_eq!(turn_of(&s), Some(ida), "the first to join moves first: {s:?}");

    // B moves out of turn: told so, and nothing changes.
    b.send_input(&room, 1, &v2::Input { move_x: 3, ..Default::default() }).await.expect("input");
    assert_eq!(message_with(&mut b, "not your turn").await, "not your turn");
    let (_, s) = next_state(&mut b, &room).await;
    assert!(s.players.iter().all(|p| p.score == 0), "an out-of-turn move counts for nothing: {s:?}");
    assert_eq!(turn_of(&s), Some(ida));

    // A moves in turn: it counts, and the turn passes to B.
    a.send_input(&room, 1, &v2::Input { move_x: 2, ..Default::default() }).await.expect("input");
    let s = state_where(&mut b, &room, Duration::from_secs(3), |s| turn_of(s) == Some(idb)).await;
    let score = |id| s.players.iter().find(|p| p.id == id).map(|p| p.score);
    assert_eq!((score(ida), score(idb)), (Some(2), Some(0)), "{s:?}");
    assert!(server.panics().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_show_each_player_its_own_card_and_spectators_all() {
    let server = ArenaProcess::spawn_example("views", &[]);
    let mut a = connect(server.addr(), "cards").await;
    let room = a.create("cards", Default::default()).await.expect("create").room;
    let mut b = connect(server.addr(), "cards").await;
    b.join(&room, Default::default()).await.expect("b joins");
    let mut s = connect(server.addr(), "cards").await;
    s.join(&room, options(&[("role", "spectator")])).await.expect("spectator joins");
    let (ida, idb) = (a.client_id(&room).expect("a").0, b.client_id(&room).expect("b").0);
    let card = |st: &v2::State, id: u32| st.players.iter().find(|p| p.id == id).map(|p| p.score);
    let both = |st: &v2::State| st.players.len() == 2;
    let within = Duration::from_secs(3);

    let seen_by_a = state_where(&mut a, &room, within, both).await;
    let seen_by_b = state_where(&mut b, &room, within, both).await;
    let seen_by_s = state_where(&mut s, &room, within, both).await;
    let (card_a, card_b) = (card(&seen_by_a, ida).expect("a's card"), card(&seen_by_b, idb).expect("b's card"));
    assert!((1..=13).contains(&card_a) && (1..=13).contains(&card_b));
    assert_eq!(card(&seen_by_a, idb), Some(0), "a does not see b's card: {seen_by_a:?}");
    assert_eq!(card(&seen_by_b, ida), Some(0), "b does not see a's card: {seen_by_b:?}");
    assert_ne!(seen_by_a, seen_by_b, "two players, two views");
    assert_eq!((card(&seen_by_s, ida), card(&seen_by_s, idb)), (Some(card_a), Some(card_b)), "the spectator sees all");
    assert!(server.panics().is_empty());
}

/// The development secret `jwt_auth` documents.
const JWT_DEV_SECRET: &[u8] = b"playhouse examples dev secret";

/// `token` on the URL (`?token=`).
fn with(token: &str) -> Option<Credential<'_>> {
    Some(Credential { token, via: AuthVia::Query })
}

fn jwt(user: &str, secret: &[u8]) -> String {
    let exp = playhouse_tests::auth::exp_in(Duration::from_secs(600));
    let claims = serde_json::json!({ "sub": user, "exp": exp });
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("a JWT encodes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_auth_admits_a_token_signed_with_the_dev_secret_and_refuses_others() {
    let server = ArenaProcess::spawn_example("jwt_auth", &[]);
    let url = format!("ws://{}/ws", server.addr());
    let tokens = ["hall.v1.proto"];
    let token = jwt("ann", JWT_DEV_SECRET);
    let mut ann = Client::connect_with(&url, &tokens, with(&token)).await.expect("a good token is admitted");
    let joined = ann.join_or_create("hall", Default::default()).await.expect("join");
    assert_eq!(message_with(&mut ann, "hello").await, "hello, ann", "the room knows the user");
    let s = state_where(&mut ann, &joined.room, Duration::from_secs(3), |s| !s.players.is_empty()).await;
    assert_eq!(s.players[0].name, "ann");

    let refused = |r: Result<Client, ClientError>| match r {
        Err(ClientError::Refused { status, .. }) => status,
        Err(e) => panic!("refused with {e}, not an HTTP status"),
        Ok(_) => panic!("admitted"),
    };
    assert_eq!(refused(Client::connect(&url, &tokens).await), 401, "no token");
    let forged = jwt("ann", b"some other secret");
    assert_eq!(refused(Client::connect_with(&url, &tokens, with(&forged)).await), 401, "bad signature");
    let header = Some(Credential { token: &forged, via: AuthVia::Header });
    assert_eq!(refused(Client::connect_with(&url, &tokens, header).await), 401, "bad signature in the header");

    // Authenticated, but the room type's authorization hook says no.
    let token = jwt("mallory", JWT_DEV_SECRET);
    let mut mallory = Client::connect_with(&url, &tokens, with(&token)).await.expect("mallory connects");
    match mallory.join(&joined.room, Default::default()).await {
        Err(ClientError::Join(e)) => assert_eq!(e.code, JoinErrorCode::Forbidden as i32, "{e:?}"),
        other => panic!("mallory joined: {other:?}"),
    }
    assert!(server.panics().is_empty());
}

/// The texts `c` receives on `channel` until one equals `text`.
async fn publication(c: &mut Client, channel: &str, text: &str) {
    let t0 = Instant::now();
    loop {
        let left = Duration::from_secs(5).checked_sub(t0.elapsed()).unwrap_or_else(|| panic!("no {text:?}"));
        match c.next_event_timeout(left).await {
            Ok(Event::Publication(p)) if p.channel == channel && p.payload[..] == *text.as_bytes() => return,
            Ok(_) => {}
            Err(e) => panic!("waiting for {text:?} on {channel}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lobby_chat_delivers_each_clients_publication_to_the_other() {
    let server = ArenaProcess::spawn_example("lobby_chat", &[]);
    let (mut a, mut b) = (connect(server.addr(), "lobby").await, connect(server.addr(), "lobby").await);
    for c in [&mut a, &mut b] {
        c.subscribe("chat.general").await.expect("subscribe to chat");
    }
    a.subscribe("lobby").await.expect("subscribe to notices");
    a.publish("chat.general", b"hi from a").await.expect("a publishes");
    publication(&mut b, "chat.general", "hi from a").await;
    b.publish("chat.general", b"hi from b").await.expect("b publishes");
    publication(&mut a, "chat.general", "hi from b").await;

    // The lobby room's notice reaches a listener; a client may not post there.
    let joined = b.join_or_create("lobby", Default::default()).await.expect("b joins the lobby");
    publication(&mut a, "lobby", &format!("client {} entered the lobby", joined.client)).await;
    let request = a.publish("lobby", b"spoof").await.expect("send the publish");
    let t0 = Instant::now();
    loop {
        let left = Duration::from_secs(5).checked_sub(t0.elapsed()).expect("the publish refused within 5 s");
        match a.next_event_timeout(left).await {
            Ok(Event::ChannelError(e)) if e.request == request => {
                assert_eq!(e.code, 403, "{e:?}");
                break;
            }
            Ok(Event::Publication(p)) => assert_ne!(&p.payload[..], b"spoof", "a client posted a notice"),
            Ok(_) => {}
            Err(e) => panic!("waiting for the refusal: {e}"),
        }
    }
    assert!(server.panics().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_send_a_client_of_b_to_the_room_on_a() {
    let redis = playhouse_tests::redis::RedisServer::start();
    let a = ArenaProcess::spawn_example("two_nodes", &["--redis", &redis.url(), "--node-id", "a"]);
    let b = ArenaProcess::spawn_example("two_nodes", &["--redis", &redis.url(), "--node-id", "b"]);
    let mut ann = connect(a.addr(), "tables").await;
    let room = ann.create("table", Default::default()).await.expect("create on a").room;
    // Through b, until a's room is in the directory (at once, or nearly).
    let t0 = Instant::now();
    let mut bob = loop {
        let mut bob = connect(b.addr(), "tables").await;
        match bob.join(&room, Default::default()).await {
            Ok(_) => break bob,
            Err(ClientError::Join(e)) if e.code == JoinErrorCode::RoomNotFound as i32 => {
                assert!(t0.elapsed() < Duration::from_secs(5), "a's room never reached b's directory");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("joining a's room through b: {e}"),
        }
    };
    assert_eq!(bob.url(), format!("ws://{}/ws", a.addr()), "b redirected bob to a");
    let s = state_where(&mut bob, &room, Duration::from_secs(3), |s| s.players.len() == 2).await;
    assert!(s.players.iter().all(|p| p.name == "a"), "the room runs on a: {s:?}");
    let s = state_where(&mut ann, &room, Duration::from_secs(3), |s| s.players.len() == 2).await;
    assert!(s.players.iter().any(|p| Some(p.id) == bob.client_id(&room).map(|id| id.0)), "ann sees bob: {s:?}");
    assert!(a.panics().is_empty() && b.panics().is_empty());
}
