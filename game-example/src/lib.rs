//! `arena`: the Playhouse sample game.
//!
//! Players join (up to 16 per room), send movement intents with their input
//! sequence numbers, and the room integrates positions at 30 Hz inside a
//! 100 × 100 arena and broadcasts the state every tick. Schema v2 is the
//! room's own type; v1 clients are served through an adapter (no sprint,
//! no velocity or names in the state).

pub mod web;

use playhouse::prelude::*;
use playhouse_proto::arena::{v1, v2};
use std::collections::BTreeMap;
use std::time::Duration;

/// The arena is `SIZE` × `SIZE` units.
pub const SIZE: f32 = 100.0;
/// Walking speed, units per second.
pub const SPEED: f32 = 10.0;
/// Sprint speed, units per second (v2 clients only).
pub const SPRINT_SPEED: f32 = 16.0;
/// Ticks per second.
pub const TICK_HZ: u32 = 30;
/// Players per room.
pub const MAX_PLAYERS: usize = 16;

#[derive(Debug, Clone, PartialEq)]
struct Player {
    name: String,
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
    intent: (i32, i32, bool),
    score: i32,
}

/// The arena room.
#[derive(Debug, Default)]
pub struct Arena {
    players: BTreeMap<ClientId, Player>,
}

fn axis(v: i32) -> i32 {
    v.clamp(-1, 1)
}

impl Arena {
    fn state(&self) -> v2::Output {
        let players = self
            .players
            .iter()
            .map(|(id, p)| v2::Player {
                id: *id,
                x: p.x,
                y: p.y,
                score: p.score,
                vx: p.vx,
                vy: p.vy,
                name: p.name.clone(),
                hp: 100,
                alive: true,
                ..Default::default()
            })
            .collect();
        v2::Output {
            kind: Some(v2::output::Kind::State(v2::State { players, width: SIZE, height: SIZE, ..Default::default() })),
        }
    }

    fn event(text: String) -> v2::Output {
        v2::Output { kind: Some(v2::output::Kind::Event(v2::Event { text, ..Default::default() })) }
    }
}

impl Room for Arena {
    type Input = v2::Input;
    type Output = v2::Output;

    fn on_create(_ctx: &mut RoomContext<Self>, _options: &Options) -> Result<Self, Reject> {
        Ok(Arena::default())
    }

    fn on_join(&mut self, ctx: &mut RoomContext<Self>, client: &Client, options: &Options) -> Result<(), Reject> {
        let name = options.get("name").cloned().unwrap_or_else(|| format!("player{}", client.id));
        if name.chars().count() > 24 {
            return Err(Reject::new("name longer than 24 characters"));
        }
        // Spawn points spread around the centre, deterministic per client id.
        let angle = client.id as f32 * 2.399_963; // golden angle
        let (x, y) = (SIZE / 2.0 + 30.0 * angle.cos(), SIZE / 2.0 + 30.0 * angle.sin());
        ctx.broadcast(&Arena::event(format!("{name} joined")));
        self.players.insert(client.id, Player { name, x, y, vx: 0.0, vy: 0.0, intent: (0, 0, false), score: 0 });
        Ok(())
    }

    fn on_input(&mut self, _ctx: &mut RoomContext<Self>, client: ClientId, _seq: u32, input: v2::Input) {
        if let Some(p) = self.players.get_mut(&client) {
            p.intent = (axis(input.move_x), axis(input.move_y), input.sprint);
        }
    }

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, dt: Duration) {
        let dt = dt.as_secs_f32();
        for p in self.players.values_mut() {
            let (mx, my, sprint) = p.intent;
            let speed = if sprint { SPRINT_SPEED } else { SPEED };
            let len = ((mx * mx + my * my) as f32).sqrt().max(1.0);
            p.vx = mx as f32 / len * speed;
            p.vy = my as f32 / len * speed;
            p.x = (p.x + p.vx * dt).clamp(0.0, SIZE);
            p.y = (p.y + p.vy * dt).clamp(0.0, SIZE);
            if mx != 0 || my != 0 {
                p.score += 1; // distance travelled, in ticks
            }
        }
        ctx.broadcast_state(&self.state());
    }

    fn on_leave(&mut self, ctx: &mut RoomContext<Self>, client: ClientId, _why: LeaveReason) {
        if let Some(p) = self.players.remove(&client) {
            ctx.broadcast(&Arena::event(format!("{} left", p.name)));
        }
    }
}

/// v1 clients: no sprint in the input; no velocity or names in the state.
fn to_v1(o: &v2::Output) -> v1::Output {
    let kind = o.kind.as_ref().map(|k| match k {
        v2::output::Kind::State(s) => v1::output::Kind::State(v1::State {
            width: s.width,
            height: s.height,
            pickups: Vec::new(),
            projectiles: Vec::new(),
            round_remaining_ms: 0,
            players: s
                .players
                .iter()
                .map(|p| v1::Player { id: p.id, x: p.x, y: p.y, score: p.score, hp: p.hp, alive: p.alive })
                .collect(),
        }),
        v2::output::Kind::Event(e) => v1::output::Kind::Event(v1::Event { text: e.text.clone() }),
    });
    v1::Output { kind }
}

/// The arena schema: v2 (current) and v1 through an adapter.
pub fn schema() -> Schema<v2::Input, v2::Output> {
    Schema::new()
        .current(2)
        .version(
            1,
            |i: v1::Input| v2::Input {
                move_x: i.move_x,
                move_y: i.move_y,
                fire: i.fire,
                aim_x: i.aim_x,
                aim_y: i.aim_y,
                sprint: false,
            },
            to_v1,
        )
        .unwrap_or_else(|e| unreachable!("v1 is added once: {e}"))
}

/// The arena room type: 30 Hz, 16 players.
pub fn room_type() -> RoomType {
    RoomType::new("arena", TICK_HZ).max_clients(MAX_PLAYERS)
}

/// A server with the arena room registered and the browser client at `/`.
pub fn server(config: ServerConfig) -> Server {
    Server::new(config).room::<Arena>(room_type(), schema()).configure(web::routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_adapter_drops_the_new_fields() {
        let mut a = Arena::default();
        a.players
            .insert(3, Player { name: "n".into(), x: 1.0, y: 2.0, vx: 3.0, vy: 4.0, intent: (0, 0, false), score: 5 });
        let v1 = to_v1(&a.state());
        let Some(v1::output::Kind::State(s)) = v1.kind else { panic!() };
        assert_eq!(s.players, vec![v1::Player { id: 3, x: 1.0, y: 2.0, score: 5, hp: 100, alive: true }]);
    }

    #[test]
    fn schema_serves_both_versions() {
        assert_eq!(schema().versions(), vec![2, 1]);
    }
}
