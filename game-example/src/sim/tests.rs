//! The rules in the module doc, one by one.

use super::*;

const DT: f32 = 1.0 / 30.0;

/// A quiet arena: players at the given spots, no pickups spawning.
fn arena(spots: &[(u32, f32, f32)]) -> Sim {
    let mut sim = Sim::new(1);
    sim.pickup_timer_us = u64::MAX;
    for &(id, x, y) in spots {
        sim.add_player(id, format!("p{id}"));
        let p = sim.player_mut(id).expect("added");
        (p.x, p.y) = (x, y);
    }
    sim.take_events();
    sim
}

fn go(sim: &mut Sim, id: u32, move_x: i32, move_y: i32, sprint: bool) {
    sim.set_input(id, Input { move_x, move_y, sprint, ..Default::default() });
}

fn shoot(sim: &mut Sim, id: u32, aim_x: f32, aim_y: f32) {
    sim.set_input(id, Input { fire: true, aim_x, aim_y, ..Default::default() });
}

fn pos(sim: &Sim, id: u32) -> (f32, f32) {
    let p = sim.player(id).expect("present");
    (p.x, p.y)
}

fn kinds(events: &[Event]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

#[test]
fn the_tick_is_the_room_period() {
    assert_eq!(TICK, playhouse::room::RoomType::new("arena", TICK_HZ).period());
    assert_eq!(TICK.as_micros(), 33_333);
    assert!((TICK.as_secs_f32() - DT).abs() < 1e-7);
}

#[test]
fn walking_moves_speed_times_dt_per_tick_exactly() {
    let mut sim = arena(&[(1, 500.0, 300.0)]);
    go(&mut sim, 1, 1, 0, false);
    let dt = TICK.as_secs_f32();
    let mut x = 500.0f32;
    for _ in 0..10 {
        sim.step(TICK);
        x += SPEED * dt;
        let p = sim.player(1).expect("present");
        assert_eq!((p.x, p.y), (x, 300.0), "f32, same operations as the doc");
        assert_eq!((p.vx, p.vy), (SPEED, 0.0));
    }
    assert!((sim.player(1).expect("present").x - (500.0 + 10.0 * 220.0 / 30.0)).abs() < 1e-3);
    // Up, and the same predict() the doc spells out.
    go(&mut sim, 1, 0, -1, false);
    let before = pos(&sim, 1);
    sim.step(TICK);
    let input = Input { move_y: -1, ..Default::default() };
    assert_eq!(pos(&sim, 1), predict(before.0, before.1, &input, false, dt));
    assert_eq!(pos(&sim, 1).1, 300.0 - SPEED * dt);
}

#[test]
fn diagonals_are_normalised_and_sprint_is_faster() {
    let mut sim = arena(&[(1, 500.0, 300.0), (2, 200.0, 300.0)]);
    go(&mut sim, 1, 1, 1, false);
    go(&mut sim, 2, -1, 1, true);
    sim.step(TICK);
    let dt = TICK.as_secs_f32();
    let d = 1.0 / 2.0f32.sqrt();
    let p = sim.player(1).expect("present");
    assert_eq!((p.vx, p.vy), (d * SPEED, d * SPEED));
    assert_eq!((p.x, p.y), (500.0 + d * SPEED * dt, 300.0 + d * SPEED * dt));
    assert!(((p.vx * p.vx + p.vy * p.vy).sqrt() - SPEED).abs() < 1e-3, "|v| = speed on a diagonal");
    let q = sim.player(2).expect("present");
    assert_eq!((q.vx, q.vy), (-d * SPRINT_SPEED, d * SPRINT_SPEED));
    assert_eq!((q.x, q.y), (200.0 - d * SPRINT_SPEED * dt, 300.0 + d * SPRINT_SPEED * dt));
}

#[test]
fn move_axes_are_clamped_to_one() {
    let mut a = arena(&[(1, 500.0, 300.0)]);
    let mut b = a.clone();
    go(&mut a, 1, 7, -9, false);
    go(&mut b, 1, 1, -1, false);
    a.step(TICK);
    b.step(TICK);
    assert_eq!(pos(&a, 1), pos(&b, 1));
    assert_eq!(velocity(&Input { move_x: i32::MIN, ..Default::default() }, false), (-SPEED, 0.0));
    assert_eq!(velocity(&Input::default(), true), (0.0, 0.0));
}

#[test]
fn players_stay_inside_the_walls() {
    let mut sim = arena(&[(1, 20.0, 20.0), (2, 990.0, 590.0)]);
    go(&mut sim, 1, -1, -1, true);
    go(&mut sim, 2, 1, 1, true);
    for _ in 0..5 {
        sim.step(TICK);
    }
    assert_eq!(pos(&sim, 1), (PLAYER_RADIUS, PLAYER_RADIUS));
    assert_eq!(pos(&sim, 2), (WIDTH - PLAYER_RADIUS, HEIGHT - PLAYER_RADIUS));
    assert!(sim.player(2).expect("present").vx > 0.0, "v is the intent even against a wall");
}

#[test]
fn inputs_persist_until_replaced() {
    let mut sim = arena(&[(1, 500.0, 300.0)]);
    go(&mut sim, 1, -1, 0, false);
    for _ in 0..3 {
        sim.step(TICK);
    }
    go(&mut sim, 1, 0, 0, false);
    let stopped = pos(&sim, 1);
    sim.step(TICK);
    assert_eq!(pos(&sim, 1), stopped);
    assert!(stopped.0 < 500.0 - 3.0 * 7.0);
}

#[test]
fn overlapping_players_are_pushed_apart() {
    let mut sim = arena(&[(1, 500.0, 300.0), (2, 510.0, 300.0), (3, 100.0, 100.0), (4, 100.0, 100.0)]);
    sim.step(TICK);
    let (a, b) = (pos(&sim, 1), pos(&sim, 2));
    assert!(((b.0 - a.0) - 2.0 * PLAYER_RADIUS).abs() < 1e-3, "{a:?} {b:?}");
    assert_eq!((a.0 + b.0) / 2.0, 505.0, "each moves half the overlap");
    let (c, d) = (pos(&sim, 3), pos(&sim, 4));
    assert_eq!((c, d), ((84.0, 100.0), (116.0, 100.0)), "coinciding: apart along x");
    // Against a wall: still clamped.
    let mut sim = arena(&[(1, 16.0, 300.0), (2, 20.0, 300.0)]);
    sim.step(TICK);
    assert_eq!(pos(&sim, 1).0, PLAYER_RADIUS);
}

#[test]
fn firing_respects_the_cooldown_and_needs_an_aim() {
    let mut sim = arena(&[(1, 500.0, 300.0)]);
    shoot(&mut sim, 1, 0.0, 0.0);
    sim.step(TICK);
    assert!(sim.projectiles().is_empty(), "zero aim: no shot");
    shoot(&mut sim, 1, f32::NAN, 1.0);
    sim.step(TICK);
    assert!(sim.projectiles().is_empty(), "NaN aim: no shot");
    shoot(&mut sim, 1, 3.0, 4.0);
    let mut shots_at = Vec::new();
    for tick in 0..40 {
        let before = sim.projectiles().len();
        sim.step(TICK);
        if sim.projectiles().len() > before {
            shots_at.push(tick);
        }
    }
    // 250 ms at 33.3 ms per tick: every 8th tick while held.
    assert_eq!(shots_at, vec![0, 8, 16, 24, 32]);
    let first = sim.projectiles().iter().min_by_key(|p| p.id).expect("one in flight").clone();
    assert_eq!((first.vx, first.vy), (0.6 * PROJECTILE_SPEED, 0.8 * PROJECTILE_SPEED));
    assert_eq!(first.owner, 1);
}

#[test]
fn a_projectile_spawns_at_the_edge_flies_and_expires() {
    let mut sim = arena(&[(1, 100.0, 300.0)]);
    shoot(&mut sim, 1, 1.0, 0.0);
    sim.step(TICK);
    sim.set_input(1, Input::default());
    let p = sim.projectiles()[0].clone();
    assert_eq!((p.x, p.y), (100.0 + PLAYER_RADIUS, 300.0), "at the shooter's edge");
    assert_eq!(p.life_us, PROJECTILE_LIFETIME_US);
    sim.step(TICK);
    assert!((sim.projectiles()[0].x - (116.0 + 20.0)).abs() < 1e-3, "600 u/s = 20 u per tick");
    // 1.2 s = 36 ticks of 33 333 µs (+1 for the remainder), then it is gone.
    let mut ticks = 1;
    while !sim.projectiles().is_empty() {
        sim.step(TICK);
        ticks += 1;
        assert!(ticks < 100);
    }
    assert_eq!(ticks, 37);
    // Leaving the world removes it sooner.
    let mut sim = arena(&[(1, 950.0, 300.0)]);
    shoot(&mut sim, 1, 1.0, 0.0);
    sim.step(TICK);
    sim.set_input(1, Input::default());
    for _ in 0..3 {
        sim.step(TICK);
    }
    assert!(sim.projectiles().is_empty());
}

#[test]
fn a_hit_costs_25_hp_and_the_owner_is_never_hit() {
    let mut sim = arena(&[(1, 100.0, 300.0), (2, 200.0, 300.0)]);
    shoot(&mut sim, 1, 1.0, 0.0);
    sim.step(TICK);
    sim.set_input(1, Input::default());
    let mut events = Vec::new();
    for _ in 0..10 {
        sim.step(TICK);
        events.extend(sim.take_events());
    }
    assert_eq!(sim.player(2).expect("present").hp, 75);
    assert_eq!(sim.player(1).expect("present").hp, 100);
    assert!(sim.projectiles().is_empty(), "the projectile is used up");
    assert_eq!(events, vec![Event { kind: EventKind::Hit, actor: 1, target: 2, text: "p1 hit p2".into() }]);
}

#[test]
fn four_hits_eliminate_score_ten_and_the_target_respawns_after_two_seconds() {
    let mut sim = arena(&[(1, 100.0, 300.0), (2, 200.0, 300.0)]);
    shoot(&mut sim, 1, 1.0, 0.0);
    let mut events = Vec::new();
    let mut ticks = 0;
    while sim.player(2).expect("present").alive {
        sim.step(TICK);
        events.extend(sim.take_events());
        ticks += 1;
        assert!(ticks < 100, "never eliminated");
    }
    assert_eq!(
        kinds(&events),
        vec![EventKind::Hit, EventKind::Hit, EventKind::Hit, EventKind::Hit, EventKind::Eliminated]
    );
    assert_eq!(events[4].text, "p1 eliminated p2");
    assert_eq!((events[4].actor, events[4].target), (1, 2));
    let dead = sim.player(2).expect("present").clone();
    assert_eq!((dead.hp, dead.alive, dead.respawn_us), (0, false, RESPAWN_US));
    assert_eq!(sim.player(1).expect("present").score, ELIMINATION_SCORE);
    // Dead: no moving, no being hit.
    go(&mut sim, 2, 1, 0, false);
    let mut dead_ticks = 0;
    while !sim.player(2).expect("present").alive {
        assert_eq!(pos(&sim, 2), (dead.x, dead.y));
        sim.step(TICK);
        dead_ticks += 1;
        assert!(sim.take_events().iter().all(|e| e.target != 2));
    }
    // 2 s = 60 ticks of 33 333 µs, +1 for the remainder.
    assert_eq!(dead_ticks, 61);
    let back = sim.player(2).expect("present");
    assert_eq!((back.hp, back.alive), (MAX_HP, true));
    assert_ne!((back.x, back.y), (dead.x, dead.y), "respawned elsewhere");
}

#[test]
fn pickups_spawn_every_two_seconds_up_to_eight() {
    let mut sim = Sim::new(5);
    let mut counts = Vec::new();
    for _ in 0..(20 * TICK_HZ) {
        sim.step(TICK);
        counts.push(sim.pickups().len());
    }
    assert_eq!(counts[0], 1, "one at once");
    assert_eq!(counts[59], 1);
    assert_eq!(counts[61], 2, "the next 2 s later");
    assert_eq!(*counts.last().expect("ran"), MAX_PICKUPS);
    assert!(sim.pickups().iter().all(|k| (0.0..WIDTH).contains(&k.x) && (0.0..HEIGHT).contains(&k.y)));
    let kinds: std::collections::HashSet<_> = sim.pickups().iter().map(|k| k.kind).collect();
    assert!(kinds.len() >= 2, "a mix of kinds: {kinds:?}");
}

#[test]
fn coin_health_and_speed_pickups() {
    let mut sim = arena(&[(1, 100.0, 300.0)]);
    let coin = sim.add_pickup(120.0, 300.0, PickupKind::Coin);
    sim.step(TICK);
    let ev = sim.take_events();
    assert_eq!(
        ev,
        vec![Event { kind: EventKind::PickedUp, actor: 1, target: coin, text: "p1 picked up a coin".into() }]
    );
    assert_eq!(sim.player(1).expect("present").score, COIN_SCORE);
    assert!(sim.pickups().is_empty());

    sim.player_mut(1).expect("present").hp = 80;
    sim.add_pickup(100.0, 320.0, PickupKind::Health);
    sim.step(TICK);
    assert_eq!(sim.player(1).expect("present").hp, MAX_HP, "capped at 100");
    sim.player_mut(1).expect("present").hp = 50;
    sim.add_pickup(100.0, 280.0, PickupKind::Health);
    sim.step(TICK);
    assert_eq!(sim.player(1).expect("present").hp, 85);
    // Out of reach: 16 + 10 = 26 units.
    sim.add_pickup(127.0, 300.0, PickupKind::Coin);
    sim.step(TICK);
    assert_eq!(sim.pickups().len(), 1);

    sim.pickups.clear();
    sim.add_pickup(100.0, 300.0, PickupKind::Speed);
    sim.step(TICK);
    assert_eq!(sim.player(1).expect("present").boost_us, SPEED_BOOST_US);
    go(&mut sim, 1, 1, 0, false);
    let mut fast = 0;
    for _ in 0..200 {
        sim.step(TICK);
        if sim.player(1).expect("present").vx.abs() == SPRINT_SPEED {
            fast += 1;
        } else {
            assert_eq!(sim.player(1).expect("present").vx.abs(), SPEED);
        }
        if pos(&sim, 1).0 > 900.0 {
            go(&mut sim, 1, -1, 0, false);
        } else if pos(&sim, 1).0 < 100.0 {
            go(&mut sim, 1, 1, 0, false);
        }
    }
    // From the tick after the pickup, for 4 s: 4 000 000 / 33 333 → 120 ticks.
    assert_eq!(fast, 120);
}

#[test]
fn the_dead_collect_nothing() {
    let mut sim = arena(&[(1, 100.0, 300.0)]);
    let p = sim.player_mut(1).expect("present");
    (p.alive, p.hp, p.respawn_us) = (false, 0, RESPAWN_US);
    sim.add_pickup(100.0, 300.0, PickupKind::Coin);
    sim.step(TICK);
    assert_eq!(sim.pickups().len(), 1);
}

#[test]
fn a_round_ends_after_90_s_with_an_intermission_then_scores_reset() {
    let mut sim = arena(&[(1, 100.0, 300.0), (2, 300.0, 300.0), (3, 500.0, 300.0)]);
    sim.player_mut(1).expect("present").score = 12;
    sim.player_mut(2).expect("present").score = 30;
    let p3 = sim.player_mut(3).expect("present");
    (p3.alive, p3.hp, p3.respawn_us) = (false, 0, u64::MAX);
    let mut ticks = 0;
    loop {
        sim.step(TICK);
        ticks += 1;
        if sim.round().intermission {
            break;
        }
        assert!(ticks < 3000);
    }
    // 90 s = 2700 ticks of 33 333 µs, +1 for the remainder.
    assert_eq!(ticks, 2701);
    let ended: Vec<Event> = sim.take_events().into_iter().filter(|e| e.kind == EventKind::RoundEnded).collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].actor, 2);
    assert_eq!(ended[0].text, "round 1 over: p2 wins with 30 (p2 30, p1 12, p3 0)");
    assert_eq!(sim.round(), Round { number: 1, remaining_us: INTERMISSION_US, intermission: true });
    assert_eq!(sim.round().remaining_ms(), 5000);

    // Intermission: nobody moves or fires; nothing spawns; scores stay.
    sim.pickup_timer_us = 0;
    go(&mut sim, 1, 1, 0, true);
    shoot(&mut sim, 2, 1.0, 0.0);
    let frozen = pos(&sim, 1);
    let mut ticks = 0;
    while sim.round().intermission {
        sim.step(TICK);
        ticks += 1;
        if sim.round().intermission {
            assert_eq!(pos(&sim, 1), frozen);
            assert_eq!(sim.player(1).expect("present").vx, 0.0);
            assert!(sim.projectiles().is_empty());
            assert!(sim.pickups().is_empty());
            assert_eq!(sim.player(2).expect("present").score, 30);
        }
        assert!(ticks < 200);
    }
    assert_eq!(ticks, 151, "5 s");
    assert_eq!(kinds(&sim.take_events()), vec![EventKind::RoundStarted]);
    assert_eq!(sim.round().number, 2);
    assert_eq!(sim.round().remaining_ms(), 90_000);
    for p in sim.players().values() {
        assert_eq!((p.score, p.hp, p.alive), (0, MAX_HP, true), "{p:?}");
    }
    sim.step(TICK);
    assert!(pos(&sim, 1).0 > frozen.0, "moving again");
}

#[test]
fn a_round_nobody_scored_in_has_no_winner() {
    let mut sim = arena(&[(1, 100.0, 300.0)]);
    sim.round.remaining_us = 1;
    sim.step(TICK);
    let e = sim.take_events();
    assert_eq!(e[0].text, "round 1 over: no winner");
    assert_eq!(e[0].actor, 0);
}

#[test]
fn joining_and_leaving_announce_names_and_colours_are_distinct() {
    let mut sim = Sim::new(3);
    for id in 1..=16 {
        sim.add_player(id, format!("n{id}"));
    }
    let colours: std::collections::HashSet<u32> = sim.players().values().map(|p| p.color).collect();
    assert_eq!(colours.len(), 16);
    let ev = sim.take_events();
    assert_eq!(ev[0], Event { kind: EventKind::Joined, actor: 1, target: 0, text: "n1 joined".into() });
    let c5 = sim.player(5).expect("present").color;
    sim.remove_player(5);
    assert_eq!(sim.take_events()[0].text, "n5 left");
    sim.add_player(17, "late".into());
    assert_eq!(sim.player(17).expect("present").color, c5, "the first free colour");
    for p in sim.players().values() {
        assert!((PLAYER_RADIUS..=WIDTH - PLAYER_RADIUS).contains(&p.x));
        assert!((PLAYER_RADIUS..=HEIGHT - PLAYER_RADIUS).contains(&p.y));
        assert_eq!((p.hp, p.alive, p.score), (MAX_HP, true, 0));
    }
}

#[test]
fn spawns_keep_away_from_other_players_when_there_is_room() {
    let mut sim = Sim::new(9);
    for id in 1..=8 {
        sim.add_player(id, format!("n{id}"));
    }
    let ps: Vec<&Player> = sim.players().values().collect();
    for (i, a) in ps.iter().enumerate() {
        for b in &ps[i + 1..] {
            assert!(dist2(a.x, a.y, b.x, b.y).sqrt() >= 2.0 * PLAYER_RADIUS, "{a:?} {b:?}");
        }
    }
}

/// A scripted game: everyone wanders and shoots at the next player.
fn scripted(seed: u64, ticks: u32) -> (Sim, Vec<Event>) {
    let mut sim = Sim::new(seed);
    for id in 1..=6 {
        sim.add_player(id, format!("p{id}"));
    }
    let mut events = sim.take_events();
    for t in 0..ticks {
        for id in 1..=6u32 {
            let (x, y) = pos(&sim, id);
            let (tx, ty) = pos(&sim, id % 6 + 1);
            let k = (t / 20 + id) as i32;
            sim.set_input(
                id,
                Input {
                    move_x: k % 3 - 1,
                    move_y: (k / 3) % 3 - 1,
                    sprint: id % 2 == 0,
                    fire: true,
                    aim_x: tx - x,
                    aim_y: ty - y,
                },
            );
        }
        sim.step(TICK);
        events.extend(sim.take_events());
    }
    (sim, events)
}

#[test]
fn the_same_seed_and_inputs_give_the_same_game() {
    let (a, ea) = scripted(42, 900);
    let (b, eb) = scripted(42, 900);
    assert_eq!(a.players(), b.players());
    assert_eq!(a.pickups(), b.pickups());
    assert_eq!(a.projectiles(), b.projectiles());
    assert_eq!(ea, eb);
    assert!(ea.iter().any(|e| e.kind == EventKind::Hit), "the script does fight");
    let (c, _) = scripted(43, 900);
    assert_ne!(a.pickups(), c.pickups(), "another seed, another game");
}
