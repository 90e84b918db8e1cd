//! The arena game over real sockets: bots of two schema versions and two
//! codecs playing in one room, the movement rule a browser predicts with,
//! names and game events.

use arena::bot::{run_bot_with, BotConfig, BotReport};
use arena::proto::v2;
use arena::sim::{self, velocity, Input, SPEED, SPRINT_SPEED, TICK};
use playhouse_client::envelope::{JoinErrorCode, State};
use playhouse_client::{Client, ClientError, Event};
use playhouse_tests::{metric_labeled, metrics_text, options, start, ws_url};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

#[tokio::test]
async fn four_bots_on_two_versions_and_codecs_play_one_room() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let (stop_tx, stop_rx) = watch::channel(false);
    let tokens = ["arena.v1.msgpack", "arena.v2.proto", "arena.v1.msgpack", "arena.v2.proto"];
    let mut tasks = Vec::new();
    let mut rooms = Vec::new();
    for (n, token) in tokens.iter().enumerate() {
        let mut config = BotConfig::new(&url, token, &format!("bot-{}", n + 1));
        config.options.insert("seed".into(), "7".into());
        config.samples = true;
        let (tx, rx) = oneshot::channel();
        config.joined = Some(tx);
        tasks.push(tokio::spawn(run_bot_with(config, stop_rx.clone())));
        // One at a time, so join-or-create fills the first room.
        rooms.push(tokio::time::timeout(Duration::from_secs(5), rx).await.unwrap().unwrap().unwrap());
    }
    assert!(rooms.iter().all(|r| *r == rooms[0]), "one room: {rooms:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop_tx.send(true).unwrap();
    let mut reports: Vec<BotReport> = Vec::new();
    for t in tasks {
        reports.push(tokio::time::timeout(Duration::from_secs(5), t).await.unwrap().unwrap());
    }
    let skipped = metric_labeled(&metrics_text(server.addr()), "playhouse_ticks_skipped_total", "room_type=\"arena\"");

    // The tick from which every bot is in every state.
    let full_from = reports
        .iter()
        .map(|r| r.samples.iter().find(|s| s.players == 4).map(|s| s.tick).expect("saw all four"))
        .max()
        .unwrap();
    let mut ids: Vec<u32> = reports.iter().map(|r| r.client).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4);
    let mut fights = 0;
    for (r, token) in reports.iter().zip(tokens) {
        assert!(r.errors.is_empty(), "{}: {:?}", r.name, r.errors);
        assert_eq!(r.token, token, "negotiated what it offered (v1 bots decode v1 payloads: no errors)");
        assert!(r.states >= 75, "{}: {} states in ~3 s at 30 Hz", r.name, r.states);
        assert!(
            r.missed_ticks as f64 <= skipped + 1.0,
            "{}: missed {} ticks, room skipped {skipped}",
            r.name,
            r.missed_ticks
        );
        let after: Vec<_> = r.samples.iter().filter(|s| s.tick >= full_from).collect();
        assert!(after.len() >= 60, "{}: {} states with everyone", r.name, after.len());
        assert!(after.iter().all(|s| s.players == 4), "{}: a state without all four players", r.name);
        assert!(after.windows(2).all(|w| w[1].tick > w[0].tick), "{}: ticks in order", r.name);
        // Inputs are acknowledged and the bot moves.
        let last = r.samples.last().unwrap();
        assert!(
            last.ack > 0 && u64::from(last.ack) <= r.inputs_sent,
            "{}: ack {} of {}",
            r.name,
            last.ack,
            r.inputs_sent
        );
        let (x0, y0) = r.samples[0].me.unwrap();
        let moved =
            r.samples.iter().filter_map(|s| s.me).map(|(x, y)| (x - x0).abs() + (y - y0).abs()).fold(0.0, f32::max);
        assert!(moved > 50.0, "{} moved only {moved} units", r.name);
        // Something happened: hits, pickups or scores.
        let (hp0, score0) = (after[0].total_hp, after[0].total_score);
        fights += usize::from(after.iter().any(|s| s.total_hp != hp0 || s.total_score != score0));
        if token.starts_with("arena.v2") {
            assert!(r.events.keys().all(|k| k != "text"), "v2 events have kinds: {:?}", r.events);
        } else {
            assert!(r.events.keys().all(|k| k == "text"), "v1 events are text: {:?}", r.events);
        }
    }
    assert!(fights > 0, "3 s of play and no hp or score changed");
    let v2_joined: u64 = reports[1].events.get("JOINED").copied().unwrap_or(0);
    assert_eq!(v2_joined, 2, "bot-2 saw bot-3 and bot-4 join: {:?}", reports[1].events);
}

async fn next_state(c: &mut Client) -> (State, v2::State) {
    loop {
        if let Event::State(s) = c.next_event_timeout(Duration::from_secs(5)).await.unwrap() {
            let out: v2::Output = c.decode(&s.payload).unwrap();
            let Some(v2::output::Kind::State(st)) = out.kind else { panic!("not a state") };
            return (s, st);
        }
    }
}

/// Sends `input` as `seq`, waits for its ack, then checks `ticks` steps of
/// consecutive states against the rule: `x' = clamp(x + v'·dt)`, `v'` from
/// the input (and a SPEED boost, shown as |v| = 340 without sprint).
/// Returns the velocities seen.
async fn check_movement(
    c: &mut Client,
    room: &str,
    me: u32,
    seq: u32,
    input: v2::Input,
    ticks: usize,
) -> Vec<(f32, f32)> {
    c.send_input(room, seq, &input).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    let (mut prev_tick, mut prev) = loop {
        assert!(Instant::now() < deadline, "input {seq} never acknowledged");
        let (s, st) = next_state(c).await;
        if s.acks.iter().any(|a| a.client == me && a.seq >= seq) {
            break (s.tick, st.players.into_iter().find(|p| p.id == me).unwrap());
        }
    };
    let dt = TICK.as_secs_f32();
    let rule =
        Input { move_x: input.move_x, move_y: input.move_y, sprint: input.sprint, fire: false, aim_x: 0.0, aim_y: 0.0 };
    let mut seen = Vec::new();
    while seen.len() < ticks {
        let (s, st) = next_state(c).await;
        let p = st.players.into_iter().find(|p| p.id == me).unwrap();
        if s.tick == prev_tick + 1 {
            let boosted = (p.vx * p.vx + p.vy * p.vy).sqrt() > SPEED + 1.0 && !input.sprint;
            assert_eq!((p.vx, p.vy), velocity(&rule, boosted), "tick {}", s.tick);
            assert_eq!((p.x, p.y), sim::clamp_to_world(prev.x + p.vx * dt, prev.y + p.vy * dt), "tick {}", s.tick);
            seen.push((p.vx, p.vy));
        }
        (prev_tick, prev) = (s.tick, p);
    }
    seen
}

#[tokio::test]
async fn a_v2_client_moves_by_exactly_speed_times_dt_per_tick() {
    let server = start(|_| {});
    let mut c = Client::connect(&ws_url(server.addr()), &["arena.v2.proto"]).await.unwrap();
    let j = c.create("arena", options(&[("seed", "3"), ("name", "mover")])).await.unwrap();
    let (_, st) = next_state(&mut c).await;
    let me = st.players.iter().find(|p| p.id == j.client).unwrap();
    assert_eq!((me.name.as_str(), me.hp, me.alive), ("mover", 100, true));
    assert_eq!((st.width, st.height), (1000.0, 600.0));
    // Toward the middle, so no wall is reached in the ticks checked.
    let dx = if me.x < 500.0 { 1 } else { -1 };
    let dy = if me.y < 300.0 { 1 } else { -1 };
    let dt = TICK.as_secs_f32();

    let walk = check_movement(&mut c, &j.room, j.client, 1, v2::Input { move_x: dx, ..Default::default() }, 8).await;
    let plain = walk.iter().filter(|v| **v == (dx as f32 * SPEED, 0.0)).count();
    assert!(plain >= 6, "walking at 220 u/s: {walk:?}");
    assert!(((dx as f32 * SPEED) * dt - dx as f32 * 220.0 / 30.0).abs() < 1e-4, "speed × dt = 7.33 u per tick");

    let diagonal = v2::Input { move_x: dx * 5, move_y: dy, sprint: true, ..Default::default() };
    let run = check_movement(&mut c, &j.room, j.client, 2, diagonal, 8).await;
    let d = SPRINT_SPEED / 2.0f32.sqrt();
    assert!(run.iter().all(|v| *v == (dx as f32 * d, dy as f32 * d)), "sprinting diagonally: {run:?}");

    let stop = check_movement(&mut c, &j.room, j.client, 3, v2::Input::default(), 3).await;
    assert!(stop.iter().all(|v| *v == (0.0, 0.0)));
}

#[tokio::test]
async fn names_events_and_options_are_checked() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut a = Client::connect(&url, &["arena.v2.msgpack"]).await.unwrap();
    match a.create("arena", options(&[("seed", "soon")])).await {
        Err(ClientError::Join(e)) => assert_eq!(e.code, JoinErrorCode::Rejected as i32, "{e:?}"),
        other => panic!("{other:?}"),
    }
    let j = a.create("arena", options(&[])).await.unwrap();
    let mut b = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    match b.join(&j.room, options(&[("name", &"x".repeat(25))])).await {
        Err(ClientError::Join(e)) => {
            assert_eq!((e.code, e.reason.as_str()), (JoinErrorCode::Rejected as i32, "name longer than 24 characters"))
        }
        other => panic!("{other:?}"),
    }
    let jb = b.join(&j.room, options(&[("name", "bob")])).await.unwrap();
    let (_, st) = next_state(&mut b).await;
    let names: Vec<&str> = st.players.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec![format!("player{}", j.client).as_str(), "bob"], "default name player<id>");
    assert_ne!(st.players[0].color, st.players[1].color);
    b.leave(&j.room).await.unwrap();

    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while events.len() < 2 {
        assert!(Instant::now() < deadline, "events: {events:?}");
        if let Event::Message(m) = a.next_event_timeout(Duration::from_secs(5)).await.unwrap() {
            let out: v2::Output = a.decode(&m.payload).unwrap();
            match out.kind {
                Some(v2::output::Kind::Event(e)) if e.kind != v2::EventKind::PickedUp as i32 => events.push(e),
                _ => {}
            }
        }
    }
    let joined =
        v2::Event { text: "bob joined".into(), kind: v2::EventKind::Joined as i32, actor: jb.client, target: 0 };
    let left = v2::Event { text: "bob left".into(), kind: v2::EventKind::Left as i32, actor: jb.client, target: 0 };
    assert_eq!(events, vec![joined, left]);
}

/// A room created with a view radius: over real sockets, with delta
/// states, every state a player gets holds only what is within the radius
/// of it (itself always) and the whole scoreboard; a v1 client, whose
/// schema has no scoreboard, gets its view too.
#[tokio::test]
async fn in_a_room_with_a_view_radius_no_player_receives_an_entity_outside_its_view() {
    const RADIUS: f32 = 150.0;
    let server = start(|_| {});
    let url = ws_url(server.addr());
    let mut first = Client::connect(&url, &["arena.v2.proto"]).await.unwrap();
    let joined = first.create("arena", options(&[("seed", "3"), ("view", "150"), ("name", "p1")])).await.unwrap();
    let mut clients = vec![(first, joined.client)];
    for (n, token) in ["arena.v2.msgpack", "arena.v2.proto", "arena.v1.msgpack"].iter().enumerate() {
        let mut c = Client::connect(&url, &[token]).await.unwrap();
        let j = c.join(&joined.room, options(&[("name", &format!("p{}", n + 2))])).await.unwrap();
        clients.push((c, j.client));
    }
    // Everyone walks a different way, so the views change.
    for (i, (c, _)) in clients.iter_mut().enumerate() {
        let input = v2::Input { move_x: [1, -1, 1, -1][i], move_y: [1, 1, -1, -1][i], ..Default::default() };
        if c.protocol().version == 1 {
            let v1 = arena::proto::v1::Input { move_x: input.move_x, move_y: input.move_y, ..Default::default() };
            c.send_input(&joined.room, 1, &v1).await.unwrap();
        } else {
            c.send_input(&joined.room, 1, &input).await.unwrap();
        }
    }
    let mut partial = 0;
    for (c, me) in &mut clients {
        let deadline = Instant::now() + Duration::from_millis(1500);
        let mut states = 0;
        // States from before everyone joined may still be in the socket.
        let mut everyone_in = false;
        while Instant::now() < deadline {
            let Ok(Event::State(s)) = c.next_event_timeout(Duration::from_secs(2)).await else { continue };
            let (players, pickups, scores) = if c.protocol().version == 1 {
                let out: arena::proto::v1::Output = c.decode(&s.payload).unwrap();
                let Some(arena::proto::v1::output::Kind::State(st)) = out.kind else { panic!("not a state") };
                let players: Vec<(u32, f32, f32)> = st.players.iter().map(|p| (p.id, p.x, p.y)).collect();
                (players, st.pickups.iter().map(|k| (k.x, k.y)).collect::<Vec<_>>(), None)
            } else {
                let out: v2::Output = c.decode(&s.payload).unwrap();
                let Some(v2::output::Kind::State(st)) = out.kind else { panic!("not a state") };
                let players: Vec<(u32, f32, f32)> = st.players.iter().map(|p| (p.id, p.x, p.y)).collect();
                (players, st.pickups.iter().map(|k| (k.x, k.y)).collect(), Some(st.scores.len()))
            };
            let &(_, mx, my) = players.iter().find(|p| p.0 == *me).expect("a player always sees itself");
            let within = |x: f32, y: f32| (x - mx).hypot(y - my) <= RADIUS + 0.01;
            assert!(players.iter().all(|&(_, x, y)| within(x, y)), "a player outside the view: {players:?}");
            assert!(pickups.iter().all(|&(x, y)| within(x, y)), "a pickup outside the view");
            if let Some(n) = scores {
                everyone_in |= n == 4;
                assert!(!everyone_in || n == 4, "the scoreboard has everyone once all joined: {n}");
            }
            partial += usize::from(players.len() < 4);
            states += 1;
        }
        assert!(states >= 20, "{states} states in 1.5 s");
        assert!(everyone_in || c.protocol().version == 1, "a scoreboard of all four");
        assert!(c.delta_stats().deltas > 0, "views go as deltas too: {:?}", c.delta_stats());
    }
    assert!(partial > 0, "nobody ever had a player out of view: the radius did nothing");
}
