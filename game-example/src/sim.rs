//! The arena simulation: a plain struct with no Playhouse or wire types,
//! deterministic given a seed and the sequence of inputs and steps (all
//! randomness comes from one seeded [`StdRng`]; players are visited in
//! ascending id order).
//!
//! # Rules
//!
//! These are the rules the browser client predicts with; keep the two in
//! step. Units are world units (u), seconds (s) and milliseconds (ms).
//! Positions and velocities are `f32`.
//!
//! **World.** [`WIDTH`] × [`HEIGHT`] = 1000 × 600, origin top-left, y down.
//! Players are circles of radius [`PLAYER_RADIUS`] = 16 with [`MAX_HP`] =
//! 100 hit points. The room ticks at [`TICK_HZ`] = 30 Hz; `dt` is the tick
//! period, `Duration::from_nanos(1e9 / 30)` → `dt.as_secs_f32()` =
//! 0.033333335 s (timers count in whole microseconds: 33 333 µs per tick).
//!
//! **Movement** (each tick, every living player, from its latest input):
//!
//! ```text
//! mx = clamp(move_x, -1, 1); my = clamp(move_y, -1, 1)        (integers)
//! len = sqrt(mx² + my²)
//! speed = 340 if (sprint or a SPEED boost is running) else 220   (u/s)
//! (vx, vy) = len > 0 ? (mx / len · speed, my / len · speed) : (0, 0)
//! x = clamp(x + vx · dt, 16, 1000 − 16)
//! y = clamp(y + vy · dt, 16, 600 − 16)
//! ```
//!
//! so a diagonal moves `speed / √2` on each axis. The state reports `vx`,
//! `vy` as computed above (the intended velocity, also when a wall stops
//! the player). Then, **on the server only** (clients do not predict it),
//! overlapping living players are pushed apart: for each pair (ascending
//! ids) closer than 32 u, each moves half the overlap away from the other
//! along the line between their centres (+x/−x if they coincide), and is
//! clamped again. Inputs persist: a player keeps moving with its last input
//! until a new one arrives. v1 clients cannot sprint.
//!
//! A SPEED boost is not in the state: a client sees it as `|v|` = 340 with
//! sprint off, or from the `PICKED_UP` event whose `target` is the id of a
//! SPEED pickup. It lasts 4 s (120 ticks at 30 Hz) from the tick after the
//! pickup.
//!
//! **Fire.** An input with `fire` and a non-zero, finite aim `(aim_x,
//! aim_y)` fires toward `aim / |aim|` if at least 250 ms passed since that
//! player's last shot (at 30 Hz: every 8th tick while held). `fire` is
//! held: it applies every tick until an input clears it; an input with
//! `fire` that is superseded by another input before the tick still fires
//! once. The projectile (radius 4, 600 u/s, lifetime 1.2 s) appears at the
//! shooter's edge, `pos + dir · 16`, and starts moving the next tick. A
//! projectile that touches a living player other than its owner (its path
//! during the tick comes within 16 + 4 u of the centre) is removed and
//! deals 25 damage: `HIT` event (actor = owner, target = player). At 0 hp
//! the target is eliminated: `ELIMINATED` event, the owner scores +10 (if
//! still in the room), the target is dead (`alive` false, does not move,
//! collide, fire or collect) for 2 s (`respawn_ms` counts down) and then
//! respawns with full hp at a random free spot. Projectiles leaving the
//! world or outliving their lifetime vanish.
//!
//! **Pickups.** One spawns at the first tick of a round and then every 2 s,
//! at a random spot, while fewer than 8 are on the field: COIN (50 %),
//! HEALTH (25 %), SPEED (25 %). A living player whose centre comes within
//! 16 + 10 u of a pickup takes it: COIN +1 score, HEALTH +35 hp (at most
//! 100), SPEED 4 s of sprint speed (restarts the 4 s). `PICKED_UP` event
//! (actor = player, target = pickup id).
//!
//! **Rounds.** A round lasts 90 s (`remaining_ms` counts down), then a 5 s
//! intermission: `ROUND_ENDED` event (actor = winner, or 0 if nobody
//! scored; `text` = `round N over: NAME wins with S (A 30, B 12, …)`, the
//! top five scores), projectiles are cleared, nobody moves, fires or
//! collects. When it ends, round N+1 starts: `ROUND_STARTED` event, every
//! score 0, every player alive with full hp (the dead respawn at a free
//! spot), boosts and cooldowns reset, pickups cleared.
//!
//! **Players.** Joining spawns at a random free spot with full hp, score 0
//! and the first free colour of [`PALETTE`]; `JOINED` / `LEFT` events carry
//! the name.
//!
//! **Order within a tick** of a round: timers (cooldown, boost, respawn)
//! count down → the dead whose time is up respawn → movement → push-apart →
//! projectiles move and hit → new shots → pickups collected → pickup spawn
//! → the round clock counts down (and may end the round). An intermission
//! tick only counts the intermission down (and may start the next round).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::Duration;

mod combat;
mod model;
mod pickups;

pub use model::*;

/// The whole arena. Serializable for `Room::snapshot`: a snapshot holds
/// everything but the random generator, which a restored arena reseeds
/// (a restore follows a crash; replaying the old stream matters to nobody).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Sim {
    #[serde(skip, default = "reseeded")]
    rng: StdRng,
    players: BTreeMap<u32, Player>,
    pickups: Vec<Pickup>,
    projectiles: Vec<Projectile>,
    round: Round,
    pickup_timer_us: u64,
    next_pickup: u32,
    next_projectile: u32,
    events: Vec<Event>,
}

fn reseeded() -> StdRng {
    StdRng::seed_from_u64(rand::rng().random())
}

fn dist2(ax: f32, ay: f32, bx: f32, by: f32) -> f32 {
    (ax - bx) * (ax - bx) + (ay - by) * (ay - by)
}

/// Squared distance from (px, py) to the segment (ax, ay)–(bx, by), and
/// where along it the closest point is (0..=1).
fn segment_dist2(ax: f32, ay: f32, bx: f32, by: f32, px: f32, py: f32) -> (f32, f32) {
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 { (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0) } else { 0.0 };
    (dist2(ax + t * dx, ay + t * dy, px, py), t)
}

/// The velocity a movement input gives (the rule in the module doc).
pub fn velocity(input: &Input, boosted: bool) -> (f32, f32) {
    let mx = input.move_x.clamp(-1, 1) as f32;
    let my = input.move_y.clamp(-1, 1) as f32;
    let len = (mx * mx + my * my).sqrt();
    if len == 0.0 {
        return (0.0, 0.0);
    }
    let speed = if input.sprint || boosted { SPRINT_SPEED } else { SPEED };
    (mx / len * speed, my / len * speed)
}

/// Clamps a centre into the world, `PLAYER_RADIUS` from every wall.
pub fn clamp_to_world(x: f32, y: f32) -> (f32, f32) {
    (x.clamp(PLAYER_RADIUS, WIDTH - PLAYER_RADIUS), y.clamp(PLAYER_RADIUS, HEIGHT - PLAYER_RADIUS))
}

/// One tick of movement from (x, y): what the client predicts.
pub fn predict(x: f32, y: f32, input: &Input, boosted: bool, dt: f32) -> (f32, f32) {
    let (vx, vy) = velocity(input, boosted);
    clamp_to_world(x + vx * dt, y + vy * dt)
}

impl Sim {
    /// An empty arena at the start of round 1; all randomness from `seed`.
    pub fn new(seed: u64) -> Sim {
        Sim {
            rng: StdRng::seed_from_u64(seed),
            players: BTreeMap::new(),
            pickups: Vec::new(),
            projectiles: Vec::new(),
            round: Round { number: 1, remaining_us: ROUND_US, intermission: false },
            pickup_timer_us: 0,
            next_pickup: 1,
            next_projectile: 1,
            events: Vec::new(),
        }
    }

    /// The players, by id.
    pub fn players(&self) -> &BTreeMap<u32, Player> {
        &self.players
    }

    /// One player.
    pub fn player(&self, id: u32) -> Option<&Player> {
        self.players.get(&id)
    }

    /// One player, mutable (tests and tools place players by hand).
    pub fn player_mut(&mut self, id: u32) -> Option<&mut Player> {
        self.players.get_mut(&id)
    }

    /// The pickups on the field.
    pub fn pickups(&self) -> &[Pickup] {
        &self.pickups
    }

    /// Places a pickup by hand (tests); returns its id.
    pub fn add_pickup(&mut self, x: f32, y: f32, kind: PickupKind) -> u32 {
        let id = self.next_pickup;
        self.next_pickup += 1;
        self.pickups.push(Pickup { id, x, y, kind });
        id
    }

    /// The projectiles in flight.
    pub fn projectiles(&self) -> &[Projectile] {
        &self.projectiles
    }

    /// The round clock.
    pub fn round(&self) -> Round {
        self.round
    }

    /// Takes the events that happened since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    fn emit(&mut self, kind: EventKind, actor: u32, target: u32, text: String) {
        self.events.push(Event { kind, actor, target, text });
    }

    fn name(&self, id: u32) -> &str {
        self.players.get(&id).map_or("someone", |p| p.name.as_str())
    }

    /// A random spot for a player: the candidate (of a few) farthest from
    /// every living player, accepted at once if nobody is within 4 radii.
    fn free_spot(&mut self, except: u32) -> (f32, f32) {
        let mut best = (WIDTH / 2.0, HEIGHT / 2.0);
        let mut best_d2 = -1.0f32;
        for _ in 0..16 {
            let x = self.rng.random_range(PLAYER_RADIUS..=WIDTH - PLAYER_RADIUS);
            let y = self.rng.random_range(PLAYER_RADIUS..=HEIGHT - PLAYER_RADIUS);
            let d2 = self
                .players
                .values()
                .filter(|p| p.alive && p.id != except)
                .map(|p| dist2(p.x, p.y, x, y))
                .fold(f32::INFINITY, f32::min);
            if d2 > best_d2 {
                best = (x, y);
                best_d2 = d2;
            }
            if d2 >= (4.0 * PLAYER_RADIUS) * (4.0 * PLAYER_RADIUS) {
                break;
            }
        }
        best
    }

    /// Adds a player at a random free spot (JOINED event). A player with
    /// this id already in the arena is replaced.
    pub fn add_player(&mut self, id: u32, name: String) -> &Player {
        let used: Vec<u32> = self.players.values().filter(|p| p.id != id).map(|p| p.color).collect();
        let color = PALETTE.iter().copied().find(|c| !used.contains(c)).unwrap_or(PALETTE[id as usize % PALETTE.len()]);
        let (x, y) = self.free_spot(id);
        let text = format!("{name} joined");
        let player = Player {
            id,
            name,
            color,
            x,
            y,
            vx: 0.0,
            vy: 0.0,
            hp: MAX_HP,
            alive: true,
            score: 0,
            respawn_us: 0,
            cooldown_us: 0,
            boost_us: 0,
            input: Input::default(),
            fire_latch: None,
        };
        self.players.insert(id, player);
        self.emit(EventKind::Joined, id, 0, text);
        &self.players[&id]
    }

    /// Removes a player (LEFT event). Its projectiles fly on.
    pub fn remove_player(&mut self, id: u32) -> Option<Player> {
        let p = self.players.remove(&id)?;
        self.emit(EventKind::Left, id, 0, format!("{} left", p.name));
        Some(p)
    }

    /// A player's new input; applies from the next step.
    pub fn set_input(&mut self, id: u32, input: Input) {
        if let Some(p) = self.players.get_mut(&id) {
            if input.fire {
                p.fire_latch = Some((input.aim_x, input.aim_y));
            }
            p.input = input;
        }
    }

    /// Advances the arena by `dt` (the tick period).
    pub fn step(&mut self, dt: Duration) {
        let dt_us = dt.as_micros() as u64;
        let dt_s = dt.as_secs_f32();
        if self.round.intermission {
            self.round.remaining_us = self.round.remaining_us.saturating_sub(dt_us);
            for p in self.players.values_mut() {
                (p.vx, p.vy) = (0.0, 0.0);
                p.fire_latch = None;
            }
            if self.round.remaining_us == 0 {
                self.start_round();
            }
            return;
        }
        self.respawn_and_timers(dt_us);
        self.move_players(dt_s);
        self.push_apart();
        self.move_projectiles(dt_us, dt_s);
        self.fire();
        self.collect_pickups();
        self.spawn_pickups(dt_us);
        self.round.remaining_us = self.round.remaining_us.saturating_sub(dt_us);
        if self.round.remaining_us == 0 {
            self.end_round();
        }
    }

    fn respawn_and_timers(&mut self, dt_us: u64) {
        let mut due = Vec::new();
        for p in self.players.values_mut() {
            p.respawn_us = p.respawn_us.saturating_sub(dt_us);
            p.cooldown_us = p.cooldown_us.saturating_sub(dt_us);
            p.boost_us = p.boost_us.saturating_sub(dt_us);
            if !p.alive && p.respawn_us == 0 {
                due.push(p.id);
            }
        }
        for id in due {
            let (x, y) = self.free_spot(id);
            let p = self.players.get_mut(&id).expect("listed above");
            (p.x, p.y, p.hp, p.alive, p.cooldown_us, p.boost_us) = (x, y, MAX_HP, true, 0, 0);
        }
    }

    fn move_players(&mut self, dt: f32) {
        for p in self.players.values_mut() {
            if !p.alive {
                (p.vx, p.vy) = (0.0, 0.0);
                continue;
            }
            (p.vx, p.vy) = velocity(&p.input, p.boost_us > 0);
            (p.x, p.y) = clamp_to_world(p.x + p.vx * dt, p.y + p.vy * dt);
        }
    }

    fn push_apart(&mut self) {
        let mut living: Vec<&mut Player> = self.players.values_mut().filter(|p| p.alive).collect();
        let min = 2.0 * PLAYER_RADIUS;
        for i in 0..living.len() {
            let (left, right) = living.split_at_mut(i + 1);
            let a = &mut left[i];
            for b in right.iter_mut() {
                let (dx, dy) = (b.x - a.x, b.y - a.y);
                let d2 = dx * dx + dy * dy;
                if d2 >= min * min {
                    continue;
                }
                let d = d2.sqrt();
                let (nx, ny) = if d > 1e-4 { (dx / d, dy / d) } else { (1.0, 0.0) };
                let half = (min - d) / 2.0;
                (a.x, a.y) = clamp_to_world(a.x - nx * half, a.y - ny * half);
                (b.x, b.y) = clamp_to_world(b.x + nx * half, b.y + ny * half);
            }
        }
    }

    /// The scoreboard: (id, name, score), best first (ties: lower id first).
    pub fn scoreboard(&self) -> Vec<(u32, &str, i32)> {
        let mut s: Vec<(u32, &str, i32)> = self.players.values().map(|p| (p.id, p.name.as_str(), p.score)).collect();
        s.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        s
    }

    fn end_round(&mut self) {
        let board = self.scoreboard();
        let n = self.round.number;
        let (winner, text) = match board.first() {
            Some(&(id, name, score)) if score > 0 => {
                let top: Vec<String> = board.iter().take(5).map(|(_, n, s)| format!("{n} {s}")).collect();
                (id, format!("round {n} over: {name} wins with {score} ({})", top.join(", ")))
            }
            _ => (0, format!("round {n} over: no winner")),
        };
        self.round = Round { number: n, remaining_us: INTERMISSION_US, intermission: true };
        self.projectiles.clear();
        for p in self.players.values_mut() {
            (p.vx, p.vy, p.fire_latch) = (0.0, 0.0, None);
        }
        self.emit(EventKind::RoundEnded, winner, 0, text);
    }

    fn start_round(&mut self) {
        let n = self.round.number + 1;
        self.round = Round { number: n, remaining_us: ROUND_US, intermission: false };
        self.pickups.clear();
        self.projectiles.clear();
        self.pickup_timer_us = 0;
        let ids: Vec<u32> = self.players.keys().copied().collect();
        for id in ids {
            if !self.players[&id].alive {
                let (x, y) = self.free_spot(id);
                let p = self.players.get_mut(&id).expect("listed above");
                (p.x, p.y) = (x, y);
            }
            let p = self.players.get_mut(&id).expect("listed above");
            (p.score, p.hp, p.alive, p.respawn_us, p.cooldown_us, p.boost_us) = (0, MAX_HP, true, 0, 0, 0);
        }
        self.emit(EventKind::RoundStarted, 0, 0, format!("round {n} started"));
    }
}

#[cfg(test)]
mod tests;
