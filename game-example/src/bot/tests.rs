//! The bot brain on hand-made states, and bots playing the simulation
//! without sockets.

use super::delta::{entity_map, field_diff_bytes, DeltaAcc, Entities};
use super::*;
use crate::schema;
use crate::sim::{EventKind, Sim, TICK};

fn player(id: u32, x: f32, y: f32) -> v2::Player {
    v2::Player { id, x, y, hp: 100, alive: true, ..Default::default() }
}

fn state(players: Vec<v2::Player>, pickups: Vec<v2::Pickup>) -> v2::State {
    v2::State {
        players,
        pickups,
        round: Some(v2::Round { number: 1, remaining_ms: 60_000, intermission: false }),
        width: WIDTH,
        height: HEIGHT,
        ..Default::default()
    }
}

fn pickup(id: u32, x: f32, y: f32, kind: v2::PickupKind) -> v2::Pickup {
    v2::Pickup { id, x, y, kind: kind as i32 }
}

#[test]
fn goes_for_the_nearest_pickup_and_sprints_when_it_is_far() {
    let mut bot = Bot::new(1);
    let s = state(
        vec![player(1, 500.0, 300.0)],
        vec![pickup(1, 800.0, 300.0, v2::PickupKind::Coin), pickup(2, 450.0, 250.0, v2::PickupKind::Coin)],
    );
    let i = bot.think(1, &s);
    assert_eq!((i.move_x, i.move_y, i.sprint, i.fire), (-1, -1, false, false));
    let s = state(vec![player(1, 100.0, 300.0)], vec![pickup(1, 800.0, 310.0, v2::PickupKind::Coin)]);
    let i = bot.think(1, &s);
    assert_eq!((i.move_x, i.move_y, i.sprint), (1, 0, true));
}

#[test]
fn prefers_health_when_hurt() {
    let mut bot = Bot::new(1);
    let mut me = player(1, 500.0, 300.0);
    let pickups = vec![pickup(1, 400.0, 300.0, v2::PickupKind::Coin), pickup(2, 700.0, 300.0, v2::PickupKind::Health)];
    let i = bot.think(1, &state(vec![me.clone()], pickups.clone()));
    assert_eq!(i.move_x, -1, "healthy: the nearer coin");
    me.hp = 25;
    let i = bot.think(1, &state(vec![me], pickups));
    assert_eq!(i.move_x, 1, "hurt: the health");
}

#[test]
fn fires_at_the_nearest_living_opponent_in_range_only() {
    let mut bot = Bot::new(2);
    let mut dead = player(3, 510.0, 300.0);
    dead.alive = false;
    let s =
        state(vec![player(1, 500.0, 300.0), player(2, 500.0, 500.0), dead.clone(), player(4, 850.0, 300.0)], vec![]);
    let i = bot.think(1, &s);
    assert!(i.fire);
    assert!(i.aim_y > 0.0 && i.aim_x.abs() < 0.1 * i.aim_y, "aims at player 2 (below): {i:?}");
    let s = state(vec![player(1, 500.0, 300.0), player(4, 901.0, 300.0), dead], vec![]);
    let i = bot.think(1, &s);
    assert!(!i.fire, "401 units away and a dead one: nobody to shoot");
}

#[test]
fn leads_a_moving_target() {
    let mut bot = Bot::new(3);
    let mut target = player(2, 800.0, 300.0);
    target.vy = 220.0;
    let i = bot.think(1, &state(vec![player(1, 500.0, 300.0), target], vec![]));
    // 300 u away: 0.5 s of flight → 110 u ahead (± the 0.05 rad jitter).
    let angle = i.aim_y.atan2(i.aim_x);
    assert!((angle - (110.0f32 / 300.0).atan()).abs() < 0.06, "{angle}");
}

#[test]
fn strafes_while_fighting_and_keeps_its_distance() {
    let mut bot = Bot::new(4);
    let s = state(vec![player(1, 500.0, 300.0), player(2, 700.0, 300.0)], vec![]);
    let moves: Vec<(i32, i32)> = (0..200)
        .map(|_| {
            let i = bot.think(1, &s);
            (i.move_x, i.move_y)
        })
        .collect();
    assert!(moves.iter().all(|m| m.0 == 0 && m.1 != 0), "sideways at 200 u: {:?}", &moves[..5]);
    assert!(moves.iter().any(|m| m.1 == 1) && moves.iter().any(|m| m.1 == -1), "both ways over time");
    let close = state(vec![player(1, 500.0, 300.0), player(2, 560.0, 300.0)], vec![]);
    assert_eq!(bot.think(1, &close).move_x, -1, "backs off when too close");
}

#[test]
fn does_nothing_while_dead_or_between_rounds_or_absent() {
    let mut bot = Bot::new(5);
    let mut me = player(1, 500.0, 300.0);
    me.alive = false;
    let other = player(2, 600.0, 300.0);
    assert_eq!(bot.think(1, &state(vec![me.clone(), other.clone()], vec![])), v2::Input::default());
    me.alive = true;
    let mut s = state(vec![me, other], vec![]);
    s.round = Some(v2::Round { number: 1, remaining_ms: 3000, intermission: true });
    assert_eq!(bot.think(1, &s), v2::Input::default());
    assert_eq!(bot.think(9, &s), v2::Input::default());
}

#[test]
fn wanders_when_alone() {
    let mut bot = Bot::new(6);
    let s = state(vec![player(1, 500.0, 300.0)], vec![]);
    let i = bot.think(1, &s);
    assert!(i.move_x != 0 || i.move_y != 0);
    assert_eq!(bot.think(1, &s), i, "keeps its wander target");
}

#[test]
fn the_same_seed_thinks_the_same() {
    let s = state(vec![player(1, 500.0, 300.0), player(2, 700.0, 350.0)], vec![]);
    let (mut a, mut b) = (Bot::new(7), Bot::new(7));
    for _ in 0..100 {
        assert_eq!(a.think(1, &s), b.think(1, &s));
    }
}

#[test]
fn v1_conversions() {
    let s1 = v1::State {
        players: vec![v1::Player { id: 1, x: 1.0, y: 2.0, score: 3, hp: 50, alive: true }],
        pickups: vec![v1::Pickup { id: 4, x: 5.0, y: 6.0 }],
        projectiles: vec![v1::Projectile { id: 7, x: 8.0, y: 9.0, owner: 1 }],
        round_remaining_ms: 0,
        width: 1000.0,
        height: 600.0,
    };
    let s2 = state_from_v1(&s1);
    assert_eq!(
        s2.players[0],
        v2::Player { id: 1, x: 1.0, y: 2.0, score: 3, hp: 50, alive: true, ..Default::default() }
    );
    assert_eq!(s2.pickups[0].id, 4);
    assert_eq!(s2.projectiles[0].owner, 1);
    assert!(s2.round.expect("set").intermission, "0 ms left: between rounds");
    let i = input_to_v1(&v2::Input { move_x: 1, move_y: -1, sprint: true, fire: true, aim_x: 2.0, aim_y: 3.0 });
    assert_eq!(i, v1::Input { move_x: 1, move_y: -1, fire: true, aim_x: 2.0, aim_y: 3.0 });
}

#[test]
fn the_delta_estimate_counts_unchanged_entities() {
    let codec = Codec::Proto;
    let a = vec![player(1, 1.0, 1.0), player(2, 2.0, 2.0)];
    let mut b = a.clone();
    b[1].x = 3.0;
    let ents = |ps: &Vec<v2::Player>| Entities {
        players: entity_map(codec, ps, |p| p.id),
        fields: ps.iter().map(|p| (p.id, p.clone())).collect(),
        ..Default::default()
    };
    let mut acc = DeltaAcc::default();
    acc.add(codec, 100, ents(&a), true);
    acc.add(codec, 100, ents(&b), true);
    let e = acc.estimate();
    let one = codec.encode_to_vec(&a[0]).expect("encodes").len();
    let two = codec.encode_to_vec(&b[1]).expect("encodes").len();
    assert_eq!(e.states, 1);
    assert_eq!(e.avg_unchanged_players, 1.0);
    assert_eq!(e.avg_unchanged_player_bytes, (one + 2) as f64, "+ tag and length");
    assert_eq!(e.avg_estimated_delta_bytes, (100 - one - 2) as f64);
    // Field level: player 2 costs its id (2 bytes) and x (5 bytes), + tag and length.
    assert_eq!(e.avg_field_delta_bytes, (100 - (one + 2) - (two + 2 - 9)) as f64);
}

#[test]
fn a_msgpack_field_diff_holds_only_the_changed_keys() {
    let a = player(1, 1.0, 1.0);
    let mut b = a.clone();
    b.y = 2.0;
    // {"id": 1, "y": 2.0f32}: map(1) + "id"(3) + 1(1) + "y"(2) + f32(5)
    assert_eq!(field_diff_bytes(Codec::MsgPack, &a, &b), 12);
    assert_eq!(field_diff_bytes(Codec::Proto, &a, &b), 2 + 5 + 2);
}

#[test]
fn summaries_average_per_bot_by_token() {
    let r = |token: &str, bytes: u64, states: u64| BotReport {
        token: token.into(),
        measured_s: 2.0,
        bytes,
        state_bytes: bytes,
        states,
        errors: vec![],
        ..Default::default()
    };
    let s = summarize(&[r("arena.v2.proto", 2000, 60), r("arena.v2.proto", 4000, 60), r("arena.v1.msgpack", 10, 1)]);
    let p = &s["arena.v2.proto"];
    assert_eq!((p.bots, p.bytes_per_sec_per_bot, p.states_per_sec_per_bot), (2, 1500.0, 30.0));
    assert_eq!(p.avg_state_frame_bytes, 50.0);
    assert_eq!(s["arena.v1.msgpack"].bots, 1);
}

/// Bots playing the real simulation for a minute of game time, no sockets.
#[test]
fn bots_play_the_simulation() {
    let mut sim = Sim::new(11);
    let mut bots: Vec<Bot> = (1..=6).map(|i| Bot::new(i as u64)).collect();
    for id in 1..=6 {
        sim.add_player(id, format!("bot-{id}"));
    }
    let mut kinds = std::collections::HashMap::new();
    for _ in 0..(60 * 30) {
        let Some(v2::output::Kind::State(s)) = schema::state(&sim).kind else { unreachable!() };
        for (i, bot) in bots.iter_mut().enumerate() {
            let input = bot.think(i as u32 + 1, &s);
            sim.set_input(i as u32 + 1, schema::input_from_v2(&input));
        }
        sim.step(TICK);
        for e in sim.take_events() {
            *kinds.entry(e.kind).or_insert(0) += 1;
        }
    }
    for k in [EventKind::Hit, EventKind::Eliminated, EventKind::PickedUp] {
        assert!(kinds.get(&k).copied().unwrap_or(0) > 0, "no {k:?} in a minute: {kinds:?}");
    }
    assert!(sim.players().values().any(|p| p.score > 0));
}
