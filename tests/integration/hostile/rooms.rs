//! Room floods against a real `arena` process (issue 10, item 2): a client
//! that creates a room, leaves it and creates another, as fast as the rate
//! limit lets it, used to leave hundreds of empty rooms behind, each ticking
//! at 30 Hz for its 30 s empty timeout.
//!
//! Now creates spend a budget per session and per client address, rooms
//! are capped per server (and per type), refusals are `JoinError`s that say
//! why, and an empty room sleeps instead of ticking. A player who joins an
//! open room is never refused by any of it.

use playhouse_client::envelope::JoinErrorCode;
use playhouse_client::{Client, ClientError, Event};
use playhouse_tests::process::ArenaProcess;
use playhouse_tests::{http_get, metric_labeled, metrics_text, ws_url};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// arena's default create budget (`CreateBudget::default()`,
/// docs/security.md): per session 10 a minute, 5 at once; per address 60 a
/// minute, 30 at once.
const SESSION: (usize, f64) = (5, 10.0);
const ADDRESS: (usize, f64) = (30, 60.0);
/// How long each abusive loop runs.
const LOOP: Duration = Duration::from_secs(3);
/// One create every 20 ms: 50 a second, under the per-connection message
/// rate (120/s) even with its leave, so every create gets an answer.
const PACE: Duration = Duration::from_millis(20);
const TOKEN: [&str; 1] = ["arena.v2.proto"];

/// The most creates a bucket of `(burst, per_minute)` lets through in `took`.
fn allowance((burst, per_minute): (usize, f64), took: Duration) -> usize {
    burst + (per_minute * took.as_secs_f64() / 60.0).ceil() as usize
}

/// What a create loop got.
#[derive(Debug, Default)]
struct Outcome {
    created: Vec<String>,
    /// Refusals by `JoinErrorCode`.
    refused: BTreeMap<i32, usize>,
    reasons: BTreeSet<String>,
}

impl Outcome {
    fn refusals(&self) -> usize {
        self.refused.values().sum()
    }

    /// Every refusal was `CREATE_RATE_LIMITED` and said `which` budget and when to retry.
    fn assert_refused_by(&self, which: &str) {
        let code = JoinErrorCode::CreateRateLimited as i32;
        assert!(self.refusals() > 0, "no create was refused: {self:?}");
        assert_eq!(self.refused.keys().copied().collect::<Vec<_>>(), vec![code], "refusal codes: {self:?}");
        for r in &self.reasons {
            assert!(r.contains(which) && r.contains("try again in"), "reason {r:?} does not say {which:?} and when");
        }
    }

    fn record(&mut self, answer: Result<String, ClientError>) {
        match answer {
            Ok(room) => self.created.push(room),
            Err(ClientError::Join(e)) => {
                *self.refused.entry(e.code).or_default() += 1;
                self.reasons.insert(e.reason);
            }
            Err(e) => panic!("a create got no JoinError but {e}"),
        }
    }
}

/// Create → Joined → Leave on `c`, every [`PACE`], for [`LOOP`].
async fn create_leave_loop(c: &mut Client) -> Outcome {
    let mut out = Outcome::default();
    let mut pace = tokio::time::interval(PACE);
    let end = Instant::now() + LOOP;
    while Instant::now() < end {
        pace.tick().await;
        let answer = c.create("arena", Default::default()).await.map(|j| j.room);
        if let Ok(room) = &answer {
            c.leave(room).await.expect("leaves the room it made");
        }
        c.take_buffered(); // the states of the rooms it passed through
        out.record(answer);
    }
    out
}

/// A client that opens a new connection (so a new session) for every
/// create: Connect → Create → Leave → Close, every [`PACE`], for [`LOOP`].
async fn fresh_session_loop(url: &str) -> Outcome {
    let mut out = Outcome::default();
    let mut pace = tokio::time::interval(PACE);
    let end = Instant::now() + LOOP;
    while Instant::now() < end {
        pace.tick().await;
        let mut c = Client::connect(url, &TOKEN).await.expect("connects");
        let answer = c.create("arena", Default::default()).await.map(|j| j.room);
        if let Ok(room) = &answer {
            c.leave(room).await.expect("leaves the room it made");
        }
        // Sends its close and goes, without waiting for the server's.
        let _ = c.socket().close(None).await;
        out.record(answer);
    }
    out
}

fn arena_rooms(m: &str) -> f64 {
    metric_labeled(m, "playhouse_rooms", "room_type=\"arena\"")
}

fn arena_ticks(m: &str) -> f64 {
    metric_labeled(m, "playhouse_ticks_total", "room_type=\"arena\"")
}

/// `/rooms?type=arena` as (id, clients).
fn listed_rooms(addr: SocketAddr) -> Vec<(String, u64)> {
    let (status, text) = http_get(addr, "/rooms?type=arena");
    assert_eq!(status, 200, "{text}");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let rooms: serde_json::Value = serde_json::from_str(body).expect("/rooms is JSON");
    let rooms = rooms.as_array().expect("/rooms is a list").iter();
    rooms.map(|r| (r["id"].as_str().unwrap_or("").to_string(), r["clients"].as_u64().unwrap_or(u64::MAX))).collect()
}

/// Polls (5 s at most) until every arena room reports no client.
async fn until_every_room_is_empty(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let rooms = listed_rooms(addr);
        if rooms.iter().all(|(_, clients)| *clients == 0) {
            return;
        }
        assert!(Instant::now() < deadline, "rooms still report clients: {rooms:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn info(addr: SocketAddr) -> serde_json::Value {
    let (status, text) = http_get(addr, "/info");
    assert_eq!(status, 200, "{text}");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).expect("/info is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_loop_is_bounded_by_the_session_and_address_budgets_and_its_empty_rooms_do_not_tick() {
    let mut server = ArenaProcess::spawn(&[]);
    let addr = server.addr();
    let url = ws_url(addr);
    let started = Instant::now();

    // One connection in a create → leave loop: its session's budget.
    let mut abuser = Client::connect(&url, &TOKEN).await.expect("connects");
    let one = create_leave_loop(&mut abuser).await;
    // The same address, a new session for every create: the address's budget.
    let many = fresh_session_loop(&url).await;
    let took = started.elapsed();
    let m = metrics_text(addr);
    let rooms = arena_rooms(&m);
    // Every room the loops made is empty now: none of them may tick.
    until_every_room_is_empty(addr).await;
    let before = arena_ticks(&metrics_text(addr));
    // A measurement window, not a wait for an event: 30 ticks of each room
    // at 30 Hz, had they still been ticking.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ran = arena_ticks(&metrics_text(addr)) - before;
    eprintln!(
        "create loops over {took:?}: one session made {} rooms ({} refused), new sessions made {} ({} refused); \
         {rooms} arena rooms alive; their ticks in the next second, all of them empty: {ran}",
        one.created.len(),
        one.refusals(),
        many.created.len(),
        many.refusals()
    );
    assert!(
        one.created.len() <= allowance(SESSION, LOOP),
        "one session made {} rooms in {LOOP:?}; its budget allows {}",
        one.created.len(),
        allowance(SESSION, LOOP)
    );
    let from_address = one.created.len() + many.created.len();
    assert!(
        from_address <= allowance(ADDRESS, took),
        "one address made {from_address} rooms in {took:?}; its budget allows {}",
        allowance(ADDRESS, took)
    );
    assert_eq!(rooms as usize, from_address, "every room made is still alive (30 s empty timeout)");
    one.assert_refused_by("by this session");
    many.assert_refused_by("from this address");
    let refused = |reason: &str| metric_labeled(&m, "playhouse_creates_refused_total", &format!("reason=\"{reason}\""));
    assert_eq!(refused("session_budget") as usize, one.refusals());
    assert_eq!(refused("address_budget") as usize, many.refusals());
    assert_eq!(ran, 0.0, "{rooms} empty rooms ran {ran} ticks in a second");

    // The address's bucket refilled a little meanwhile (one a second):
    // spend it again, so the player below meets a spent budget.
    let mut again = Outcome::default();
    while again.refusals() == 0 {
        assert!(again.created.len() <= ADDRESS.0, "the address budget never ran out again: {again:?}");
        let mut c = Client::connect(&url, &TOKEN).await.expect("connects");
        let answer = c.create("arena", Default::default()).await.map(|j| j.room);
        if let Ok(room) = &answer {
            c.leave(room).await.expect("leaves");
        }
        again.record(answer);
    }
    let rooms = arena_rooms(&metrics_text(addr));

    // A player from that address still gets a seat: an open room needs no
    // create. The room wakes for it and ticks on from where it stopped.
    let mut player = Client::connect(&url, &TOKEN).await.expect("connects");
    let seat = player.join_or_create("arena", Default::default()).await.expect("join-or-create finds a seat");
    assert_eq!(arena_rooms(&metrics_text(addr)), rooms, "no room was made for the player");
    match player.create("arena", Default::default()).await {
        Err(ClientError::Join(e)) => assert_eq!(e.code, JoinErrorCode::CreateRateLimited as i32, "{e:?}"),
        other => panic!("the address's budget is spent, yet a create got {other:?}"),
    }
    let mut ticks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while ticks.len() < 10 {
        assert!(Instant::now() < deadline, "the woken room sent only {ticks:?}");
        if let Ok(Event::State(s)) = player.next_event_timeout(Duration::from_secs(1)).await {
            if s.room == seat.room {
                ticks.push(s.tick);
            }
        }
    }
    eprintln!("the woken room's first ticks: {ticks:?}");
    assert!(ticks.windows(2).all(|w| w[1] > w[0]), "the woken room ticks in order: {ticks:?}");
    // It ran at most a tick or two before its maker left, seconds ago; a
    // clock that had gone on running would be near tick 30 per second since.
    assert!(ticks[0] < 15, "the woken room did not number on from where it slept: {ticks:?}");

    // /info lists the caps and budgets a client runs into.
    let info = info(addr);
    let limits = &info["limits"];
    assert_eq!(limits["max_rooms"], 10_000);
    assert_eq!(limits["create_budget"]["per_session"], serde_json::json!({ "per_minute": 10, "burst": 5 }));
    assert_eq!(limits["create_budget"]["per_address"], serde_json::json!({ "per_minute": 60, "burst": 30 }));
    assert_eq!(info["room_types"][0]["max_rooms"], 0);
    assert_eq!(info["room_types"][0]["tick_when_empty"], false);

    assert!(server.is_running(), "the arena process died");
    assert_eq!(server.panics(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_server_room_cap_a_create_gets_room_limit_and_join_or_create_still_finds_a_seat() {
    let server = ArenaProcess::spawn(&["--max-rooms", "2"]);
    let addr = server.addr();
    let url = ws_url(addr);
    let mut host = Client::connect(&url, &TOKEN).await.expect("connects");
    host.create("arena", Default::default()).await.expect("room 1 of 2");
    host.create("arena", Default::default()).await.expect("room 2 of 2");
    let mut late = Client::connect(&url, &TOKEN).await.expect("connects");
    match late.create("arena", Default::default()).await {
        Err(ClientError::Join(e)) => {
            assert_eq!(e.code, JoinErrorCode::RoomLimit as i32, "{e:?}");
            assert!(e.reason.contains("room limit (2)"), "{:?}", e.reason);
        }
        other => panic!("a third room on a server capped at 2: {other:?}"),
    }
    let seat = late.join_or_create("arena", Default::default()).await.expect("an open room has a seat");
    assert!(host.client_id(&seat.room).is_some(), "joined one of the two rooms");
    let m = metrics_text(addr);
    assert_eq!(metric_labeled(&m, "playhouse_creates_refused_total", "reason=\"server_limit\""), 1.0);
    assert_eq!(arena_rooms(&m), 2.0);
    assert_eq!(info(addr)["limits"]["max_rooms"], 2);
}
