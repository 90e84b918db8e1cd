//! Bots: [`Bot`], the brain (a plain struct: state in → input out), and
//! [`run_bot`] / [`run_bot_with`], one bot over a real connection.
//!
//! The brain goes for the nearest pickup (health first when hurt), aims at
//! the nearest living opponent within [`FIGHT_RANGE`] (leading moving
//! targets) and fires, strafing sideways while it fights, and wanders when
//! there is nothing to do. It is deterministic given its seed and the
//! states it sees.
//!
//! The runner connects through a [`ReconnectingClient`] over its URL list,
//! offering one token, joins (join-or-create `arena`, or a given room id)
//! with a name, sends one input per received state with seq 1, 2, 3…, and
//! counts what it receives: frames and bytes (the size of each binary
//! frame, measured by re-encoding the decoded envelope with the same codec,
//! which gives the same bytes), states, events by kind, ticks missed,
//! reconnects, errors. A v1 bot decodes v1 payloads and sends v1 inputs. A
//! lost connection (a cut, a draining server's `Shutdown` and 1001) is the
//! client's to get back — the session resumed, on the node a draining
//! cluster node handed it to first, or the room rejoined — and the bot
//! plays on in its [`Seat`].

use crate::proto::{v1, v2};
use crate::sim::{self, HEIGHT, PLAYER_RADIUS, WIDTH};
use playhouse::protocol::{Codec, WireMessage};
use playhouse_client::envelope::{server_msg, ServerMsg};
use playhouse_client::{Event, ReconnectConfig, ReconnectEvent, ReconnectingClient};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// Opponents farther than this are ignored (units).
pub const FIGHT_RANGE: f32 = 400.0;

/// The bot brain.
#[derive(Debug, Clone)]
pub struct Bot {
    rng: StdRng,
    strafe: f32,
    strafe_ticks: u32,
    wander: Option<(f32, f32)>,
}

/// -1, 0 or 1 for one component of a unit vector (8 directions).
fn axis(v: f32) -> i32 {
    if v > 0.38 {
        1
    } else if v < -0.38 {
        -1
    } else {
        0
    }
}

fn norm(x: f32, y: f32) -> (f32, f32) {
    let len = (x * x + y * y).sqrt();
    if len > 1e-6 {
        (x / len, y / len)
    } else {
        (0.0, 0.0)
    }
}

impl Bot {
    /// A brain whose random choices (strafe timing, wandering, aim jitter)
    /// come from `seed`.
    pub fn new(seed: u64) -> Bot {
        Bot { rng: StdRng::seed_from_u64(seed), strafe: 1.0, strafe_ticks: 0, wander: None }
    }

    /// The input for player `me` given the latest state.
    pub fn think(&mut self, me: u32, state: &v2::State) -> v2::Input {
        let Some(p) = state.players.iter().find(|p| p.id == me) else { return v2::Input::default() };
        let intermission = state.round.is_some_and(|r| r.intermission);
        if !p.alive || intermission {
            self.wander = None;
            return v2::Input::default();
        }
        // The nearest pickup, health counting as nearer when hurt.
        let pickup = state
            .pickups
            .iter()
            .map(|k| {
                let d = ((k.x - p.x).powi(2) + (k.y - p.y).powi(2)).sqrt();
                let w = if k.kind == v2::PickupKind::Health as i32 && p.hp <= 50 { 0.4 } else { 1.0 };
                (d * w, d, k)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        // The nearest living opponent in range.
        let enemy = state
            .players
            .iter()
            .filter(|o| o.id != me && o.alive)
            .map(|o| (((o.x - p.x).powi(2) + (o.y - p.y).powi(2)).sqrt(), o))
            .filter(|(d, _)| *d <= FIGHT_RANGE)
            .min_by(|a, b| a.0.total_cmp(&b.0));

        let (mut mx, mut my, sprint) = if let Some((_, d, k)) = pickup {
            self.wander = None;
            let (x, y) = norm(k.x - p.x, k.y - p.y);
            (x, y, d > 200.0)
        } else if let Some((d, o)) = enemy {
            let (ex, ey) = norm(o.x - p.x, o.y - p.y);
            let toward = if d > 300.0 {
                1.0
            } else if d < 150.0 {
                -1.0
            } else {
                0.0
            };
            (ex * toward, ey * toward, false)
        } else {
            let (wx, wy) = *self.wander.get_or_insert_with(|| {
                (
                    self.rng.random_range(PLAYER_RADIUS..WIDTH - PLAYER_RADIUS),
                    self.rng.random_range(PLAYER_RADIUS..HEIGHT - PLAYER_RADIUS),
                )
            });
            if (wx - p.x).abs() < 20.0 && (wy - p.y).abs() < 20.0 {
                self.wander = None;
            }
            let (x, y) = norm(wx - p.x, wy - p.y);
            (x, y, false)
        };

        let mut input = v2::Input { sprint, ..Default::default() };
        if let Some((d, o)) = enemy {
            // Strafe: sideways to the line of fire, flipping now and then.
            if self.strafe_ticks == 0 {
                self.strafe = if self.rng.random_bool(0.5) { 1.0 } else { -1.0 };
                self.strafe_ticks = self.rng.random_range(15..45);
            }
            self.strafe_ticks -= 1;
            let (ex, ey) = norm(o.x - p.x, o.y - p.y);
            (mx, my) = norm(mx + -ey * self.strafe * 0.7, my + ex * self.strafe * 0.7);
            // Lead the target by its velocity over the projectile's flight.
            let t = d / sim::PROJECTILE_SPEED;
            let jitter = self.rng.random_range(-0.05f32..0.05);
            let (ax, ay) = (o.x + o.vx * t - p.x, o.y + o.vy * t - p.y);
            let (s, c) = jitter.sin_cos();
            (input.aim_x, input.aim_y) = (ax * c - ay * s, ax * s + ay * c);
            input.fire = input.aim_x != 0.0 || input.aim_y != 0.0;
        }
        (input.move_x, input.move_y) = (axis(mx), axis(my));
        input
    }
}

/// A v1 state as the v2 state the brain reads (no names, velocities or
/// pickup kinds; the round is not in intermission while time is left).
pub fn state_from_v1(s: &v1::State) -> v2::State {
    v2::State {
        players: s
            .players
            .iter()
            .map(|p| v2::Player {
                id: p.id,
                x: p.x,
                y: p.y,
                score: p.score,
                hp: p.hp,
                alive: p.alive,
                ..Default::default()
            })
            .collect(),
        pickups: s.pickups.iter().map(|k| v2::Pickup { id: k.id, x: k.x, y: k.y, kind: 0 }).collect(),
        projectiles: s
            .projectiles
            .iter()
            .map(|p| v2::Projectile { id: p.id, x: p.x, y: p.y, owner: p.owner, ..Default::default() })
            .collect(),
        round: Some(v2::Round {
            number: 0,
            remaining_ms: s.round_remaining_ms,
            intermission: s.round_remaining_ms == 0,
        }),
        width: s.width,
        height: s.height,
        scores: Vec::new(),
    }
}

/// A v2 input in v1 shape (sprint dropped).
pub fn input_to_v1(i: &v2::Input) -> v1::Input {
    v1::Input { move_x: i.move_x, move_y: i.move_y, fire: i.fire, aim_x: i.aim_x, aim_y: i.aim_y }
}

mod delta;
mod run;
mod seat;

pub use delta::DeltaEstimate;
pub use run::{run_bot, run_bot_with, summarize, BotConfig, BotReport, Sample, TokenSummary};
pub use seat::Seat;

#[cfg(test)]
mod tests;
