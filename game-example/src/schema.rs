//! The arena's wire schema: v2 (`game-example/schemas/arena/v2.proto`) is the
//! room's own type; v1 is served through an adapter at the connection edge.
//!
//! | | v1 | v2 |
//! | --- | --- | --- |
//! | `Input` | move, fire, aim | + `sprint` |
//! | `Player` | id, x, y, score, hp, alive | + vx, vy, name, respawn_ms, color |
//! | `Pickup` | id, x, y | + kind |
//! | `Projectile` | id, x, y, owner | + vx, vy |
//! | round | `round_remaining_ms` (0 during the intermission) | `Round { number, remaining_ms, intermission }` |
//! | `Event` | text | + kind, actor, target |
//!
//! This module also turns the simulation ([`crate::sim`]) into v2 messages.

use crate::proto::{v1, v2};
use crate::sim::{self, EventKind, PickupKind, Sim};
use playhouse::protocol::Schema;

/// A v2 input as the simulation's input (`sprint` false for v1 clients,
/// whose input the adapter already converted).
pub fn input_from_v2(i: &v2::Input) -> sim::Input {
    sim::Input { move_x: i.move_x, move_y: i.move_y, sprint: i.sprint, fire: i.fire, aim_x: i.aim_x, aim_y: i.aim_y }
}

/// A v1 input as the current (v2) input: no sprint.
pub fn input_from_v1(i: v1::Input) -> v2::Input {
    v2::Input { move_x: i.move_x, move_y: i.move_y, sprint: false, fire: i.fire, aim_x: i.aim_x, aim_y: i.aim_y }
}

fn pickup_kind(k: PickupKind) -> v2::PickupKind {
    match k {
        PickupKind::Coin => v2::PickupKind::Coin,
        PickupKind::Health => v2::PickupKind::Health,
        PickupKind::Speed => v2::PickupKind::Speed,
    }
}

fn event_kind(k: EventKind) -> v2::EventKind {
    match k {
        EventKind::Joined => v2::EventKind::Joined,
        EventKind::Left => v2::EventKind::Left,
        EventKind::Hit => v2::EventKind::Hit,
        EventKind::Eliminated => v2::EventKind::Eliminated,
        EventKind::PickedUp => v2::EventKind::PickedUp,
        EventKind::RoundStarted => v2::EventKind::RoundStarted,
        EventKind::RoundEnded => v2::EventKind::RoundEnded,
    }
}

/// Fills `out` with the whole state of `sim` (reusing its vectors).
pub fn fill_state(sim: &Sim, out: &mut v2::State) {
    out.players.clear();
    out.players.extend(sim.players().values().map(|p| v2::Player {
        id: p.id,
        x: p.x,
        y: p.y,
        score: p.score,
        vx: p.vx,
        vy: p.vy,
        name: p.name.clone(),
        hp: p.hp,
        alive: p.alive,
        respawn_ms: if p.alive { 0 } else { p.respawn_us.div_ceil(1000) as u32 },
        color: p.color,
    }));
    out.pickups.clear();
    out.pickups.extend(sim.pickups().iter().map(|k| v2::Pickup {
        id: k.id,
        x: k.x,
        y: k.y,
        kind: pickup_kind(k.kind) as i32,
    }));
    out.projectiles.clear();
    out.projectiles.extend(sim.projectiles().iter().map(|p| v2::Projectile {
        id: p.id,
        x: p.x,
        y: p.y,
        vx: p.vx,
        vy: p.vy,
        owner: p.owner,
    }));
    let r = sim.round();
    out.round = Some(v2::Round { number: r.number, remaining_ms: r.remaining_ms(), intermission: r.intermission });
    out.width = sim::WIDTH;
    out.height = sim::HEIGHT;
}

/// What player `me` sees of `sim` with a view radius `radius`: the
/// players, pickups and projectiles within it (`me` itself always), the
/// round, and every player's score in `scores`. A player not in the
/// simulation sees no entity.
pub fn fill_view(sim: &Sim, me: u32, radius: f32, out: &mut v2::State) {
    fill_state(sim, out);
    let Some(centre) = sim.players().get(&me).map(|p| (p.x, p.y)) else {
        out.players.clear();
        out.pickups.clear();
        out.projectiles.clear();
        return;
    };
    let seen = |x: f32, y: f32| (x - centre.0).hypot(y - centre.1) <= radius;
    out.scores.clear();
    out.scores.extend(out.players.iter().map(|p| v2::Score { id: p.id, name: p.name.clone(), score: p.score }));
    out.players.retain(|p| p.id == me || seen(p.x, p.y));
    out.pickups.retain(|k| seen(k.x, k.y));
    out.projectiles.retain(|p| seen(p.x, p.y));
}

/// The whole state of `sim` as a v2 output.
pub fn state(sim: &Sim) -> v2::Output {
    let mut s = v2::State::default();
    fill_state(sim, &mut s);
    v2::Output { kind: Some(v2::output::Kind::State(s)) }
}

/// A simulation event as the room's v2 message.
pub fn event_message(e: sim::Event) -> v2::Event {
    v2::Event { text: e.text, kind: event_kind(e.kind) as i32, actor: e.actor, target: e.target }
}

/// A simulation event as a v2 output.
pub fn event(e: sim::Event) -> v2::Output {
    v2::Output { kind: Some(v2::output::Kind::Event(event_message(e))) }
}

/// The v1 shape of a v2 state.
pub fn state_to_v1(s: &v2::State) -> v1::State {
    let round = s.round.unwrap_or_default();
    v1::State {
        players: s
            .players
            .iter()
            .map(|p| v1::Player { id: p.id, x: p.x, y: p.y, score: p.score, hp: p.hp, alive: p.alive })
            .collect(),
        pickups: s.pickups.iter().map(|k| v1::Pickup { id: k.id, x: k.x, y: k.y }).collect(),
        projectiles: s
            .projectiles
            .iter()
            .map(|p| v1::Projectile { id: p.id, x: p.x, y: p.y, owner: p.owner })
            .collect(),
        round_remaining_ms: if round.intermission { 0 } else { round.remaining_ms },
        width: s.width,
        height: s.height,
    }
}

/// The v1 shape of a v2 output (the adapter's output half).
pub fn output_to_v1(o: &v2::Output) -> v1::Output {
    let kind = o.kind.as_ref().map(|k| match k {
        v2::output::Kind::State(s) => v1::output::Kind::State(state_to_v1(s)),
        v2::output::Kind::Event(e) => v1::output::Kind::Event(v1::Event { text: e.text.clone() }),
    });
    v1::Output { kind }
}

/// The date after which arena may stop serving v1 (deprecated: clients
/// that still speak it are told so in `Welcome`, and `/info` lists it).
pub const V1_SUNSET: &str = "2027-06-30";

/// The arena schema: the room speaks `v2::State` and `v2::Event`; on the
/// wire both stay wrapped in the version's `Output` oneof (what the web
/// client, the JS SDK and the bots decode), the wrapping done here, once.
/// v2 is current; v1 is served through an adapter, deprecated until
/// [`V1_SUNSET`].
pub fn schema() -> Schema<(v2::Input, v2::State, v2::Event)> {
    Schema::new()
        .version(
            2,
            |i: v2::Input| i,
            |s: &v2::State| v2::Output { kind: Some(v2::output::Kind::State(s.clone())) },
            |e: &v2::Event| v2::Output { kind: Some(v2::output::Kind::Event(e.clone())) },
        )
        .and_then(|s| {
            s.version(
                1,
                input_from_v1,
                |s: &v2::State| v1::Output { kind: Some(v1::output::Kind::State(state_to_v1(s))) },
                |e: &v2::Event| v1::Output { kind: Some(v1::output::Kind::Event(v1::Event { text: e.text.clone() })) },
            )
        })
        .and_then(|s| s.deprecate(1, V1_SUNSET))
        .unwrap_or_else(|e| unreachable!("each version is added once, with a valid sunset: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use playhouse::protocol::Codec;

    /// A player never gets an entity outside its view, gets every entity
    /// inside it, always itself, and everyone's score.
    #[test]
    fn a_view_holds_exactly_what_is_within_its_radius() {
        let mut sim = Sim::new(7);
        for id in 1..=8 {
            sim.add_player(id, format!("p{id}"));
        }
        let radius = 180.0;
        let mut view = v2::State::default();
        let mut checked = 0;
        for tick in 0..300u32 {
            for id in 1..=8u32 {
                let dir = |k: u32| ((tick / 20 + id * k) % 3) as i32 - 1;
                let input = v2::Input {
                    move_x: dir(1),
                    move_y: dir(2),
                    fire: tick % 7 == 0,
                    aim_x: 1.0,
                    aim_y: 0.5,
                    ..Default::default()
                };
                sim.set_input(id, input_from_v2(&input));
            }
            sim.step(std::time::Duration::from_millis(33));
            for &me in sim.players().keys() {
                fill_view(&sim, me, radius, &mut view);
                let p = &sim.players()[&me];
                let near = |x: f32, y: f32| (x - p.x).hypot(y - p.y) <= radius;
                let mut want: Vec<u32> =
                    sim.players().values().filter(|o| o.id == me || near(o.x, o.y)).map(|o| o.id).collect();
                let mut got: Vec<u32> = view.players.iter().map(|o| o.id).collect();
                want.sort_unstable();
                got.sort_unstable();
                assert_eq!(got, want, "tick {tick}, player {me}");
                assert!(view.pickups.iter().all(|k| near(k.x, k.y)));
                assert_eq!(view.pickups.len(), sim.pickups().iter().filter(|k| near(k.x, k.y)).count());
                assert!(view.projectiles.iter().all(|q| near(q.x, q.y)));
                assert_eq!(view.projectiles.len(), sim.projectiles().iter().filter(|q| near(q.x, q.y)).count());
                assert_eq!(view.scores.len(), sim.players().len(), "everyone's score");
                checked += usize::from(view.players.len() < sim.players().len());
            }
        }
        assert!(checked > 0, "some player had someone out of view");
        // A player not in the simulation sees nothing but the round.
        fill_view(&sim, 99, radius, &mut view);
        assert!(view.players.is_empty() && view.pickups.is_empty() && view.projectiles.is_empty());
    }

    /// docs/protocol.md §3.2: a `float` field reads a msgpack float64 (what
    /// JavaScript encoders write), rounded to float32, and an integer.
    #[test]
    fn msgpack_float_fields_accept_float64_and_integers() {
        let mut bytes = vec![0x83];
        bytes.extend_from_slice(b"\xa4aimX\xcb");
        bytes.extend_from_slice(&0.1f64.to_be_bytes());
        bytes.extend_from_slice(b"\xa4aimY\x02");
        bytes.extend_from_slice(b"\xa4fire\xc3");
        let input: v2::Input = Codec::MsgPack.decode(&bytes).expect("decodes");
        assert_eq!((input.aim_x, input.aim_y, input.fire), (0.1f32, 2.0, true));
    }

    fn sample() -> Sim {
        let mut sim = Sim::new(7);
        sim.add_player(3, "ann".into());
        sim.add_player(4, "bob".into());
        sim.player_mut(4).expect("added").alive = false;
        sim.player_mut(4).expect("added").respawn_us = 1_500_400;
        sim.add_pickup(10.0, 20.0, PickupKind::Speed);
        sim
    }

    #[test]
    fn v2_state_carries_everything() {
        let sim = sample();
        let Some(v2::output::Kind::State(s)) = state(&sim).kind else { panic!("not a state") };
        assert_eq!(s.players.len(), 2);
        let ann = &s.players[0];
        assert_eq!((ann.id, ann.name.as_str(), ann.hp, ann.alive, ann.respawn_ms), (3, "ann", 100, true, 0));
        assert_eq!(ann.color, sim::PALETTE[0]);
        assert_eq!(s.players[1].color, sim::PALETTE[1]);
        assert_eq!(s.players[1].respawn_ms, 1501, "rounded up");
        assert_eq!(s.pickups, vec![v2::Pickup { id: 1, x: 10.0, y: 20.0, kind: v2::PickupKind::Speed as i32 }]);
        assert_eq!(s.round, Some(v2::Round { number: 1, remaining_ms: 90_000, intermission: false }));
        assert_eq!((s.width, s.height), (1000.0, 600.0));
    }

    #[test]
    fn v1_adapter_drops_the_new_fields_and_flattens_the_round() {
        let sim = sample();
        let v1 = output_to_v1(&state(&sim));
        let Some(v1::output::Kind::State(s)) = v1.kind else { panic!("not a state") };
        let ann = sim.player(3).expect("added");
        assert_eq!(s.players[0], v1::Player { id: 3, x: ann.x, y: ann.y, score: 0, hp: 100, alive: true });
        assert!(!s.players[1].alive);
        assert_eq!(s.pickups, vec![v1::Pickup { id: 1, x: 10.0, y: 20.0 }]);
        assert_eq!(s.round_remaining_ms, 90_000);
        let mut v2s = v2::State {
            round: Some(v2::Round { number: 2, remaining_ms: 4000, intermission: true }),
            ..Default::default()
        };
        assert_eq!(state_to_v1(&v2s).round_remaining_ms, 0, "v1 has no intermission: it sees 0 left");
        v2s.round = None;
        assert_eq!(state_to_v1(&v2s).round_remaining_ms, 0);
    }

    #[test]
    fn events_keep_kind_actor_target_in_v2_and_text_in_v1() {
        let e = sim::Event { kind: EventKind::Hit, actor: 1, target: 2, text: "a hit b".into() };
        let out = event(e);
        assert_eq!(
            out.kind,
            Some(v2::output::Kind::Event(v2::Event {
                text: "a hit b".into(),
                kind: v2::EventKind::Hit as i32,
                actor: 1,
                target: 2
            }))
        );
        assert_eq!(output_to_v1(&out).kind, Some(v1::output::Kind::Event(v1::Event { text: "a hit b".into() })));
    }

    #[test]
    fn schema_serves_both_versions_and_v1_input_cannot_sprint() {
        let schema = schema();
        assert_eq!(schema.versions(), vec![2, 1]);
        for codec in Codec::ALL {
            let old = v1::Input { move_x: 1, move_y: -1, fire: true, aim_x: 0.5, aim_y: 2.0 };
            let bytes = codec.encode_to_vec(&old).expect("encodes");
            let cur = schema.decode_input(1, codec, &bytes).expect("decodes");
            assert_eq!(cur, v2::Input { move_x: 1, move_y: -1, sprint: false, fire: true, aim_x: 0.5, aim_y: 2.0 });
            let sim_in = input_from_v2(&cur);
            assert_eq!((sim_in.move_x, sim_in.move_y, sim_in.sprint, sim_in.fire), (1, -1, false, true));
            let mut buf = Vec::new();
            let mut s = v2::State::default();
            fill_state(&sample(), &mut s);
            schema.encode_state(1, codec, &s, &mut buf).expect("encodes");
            let back: v1::Output = codec.decode(&buf).expect("v1 decodes");
            assert!(matches!(back.kind, Some(v1::output::Kind::State(s)) if s.players.len() == 2));
        }
    }
}
