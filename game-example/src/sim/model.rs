//! The arena's rules as constants, and the data the simulation is made of
//! (see the module doc of `sim` for what the rules mean).

use std::time::Duration;

/// World width, units.
pub const WIDTH: f32 = 1000.0;
/// World height, units.
pub const HEIGHT: f32 = 600.0;
/// Player radius, units.
pub const PLAYER_RADIUS: f32 = 16.0;
/// Full health.
pub const MAX_HP: u32 = 100;
/// Walking speed, units per second.
pub const SPEED: f32 = 220.0;
/// Sprint (and SPEED boost) speed, units per second.
pub const SPRINT_SPEED: f32 = 340.0;
/// Ticks per second of an arena room.
pub const TICK_HZ: u32 = 30;
/// Shortest time between two shots of one player, µs.
pub const FIRE_COOLDOWN_US: u64 = 250_000;
/// Projectile speed, units per second.
pub const PROJECTILE_SPEED: f32 = 600.0;
/// Projectile radius, units.
pub const PROJECTILE_RADIUS: f32 = 4.0;
/// Projectile lifetime, µs.
pub const PROJECTILE_LIFETIME_US: u64 = 1_200_000;
/// Damage of one hit.
pub const DAMAGE: u32 = 25;
/// Score for an elimination.
pub const ELIMINATION_SCORE: i32 = 10;
/// Time dead before respawning, µs.
pub const RESPAWN_US: u64 = 2_000_000;
/// Most pickups on the field.
pub const MAX_PICKUPS: usize = 8;
/// Time between two pickup spawns, µs.
pub const PICKUP_INTERVAL_US: u64 = 2_000_000;
/// Pickup radius, units (a player collects within `PLAYER_RADIUS + PICKUP_RADIUS`).
pub const PICKUP_RADIUS: f32 = 10.0;
/// Hit points a HEALTH pickup restores.
pub const HEALTH_BONUS: u32 = 35;
/// Score of a COIN.
pub const COIN_SCORE: i32 = 1;
/// How long a SPEED pickup lasts, µs.
pub const SPEED_BOOST_US: u64 = 4_000_000;
/// Length of a round, µs.
pub const ROUND_US: u64 = 90_000_000;
/// Length of the intermission between rounds, µs.
pub const INTERMISSION_US: u64 = 5_000_000;
/// The tick period of an arena room (what `RoomType::period` gives at 30 Hz).
pub const TICK: Duration = Duration::from_nanos(1_000_000_000 / TICK_HZ as u64);
/// Longest player name, characters.
pub const MAX_NAME_CHARS: usize = 24;
/// Player colours (0xRRGGBB), handed out first-free in this order.
pub const PALETTE: [u32; 16] = [
    0xE6194B, 0x3CB44B, 0x4363D8, 0xF58231, 0x911EB4, 0x42D4F4, 0xF032E6, 0xBFEF45, 0xFABED4, 0x469990, 0xDCBEFF,
    0x9A6324, 0xFFE119, 0x800000, 0xAAFFC3, 0x808000,
];

/// One client's intent, as the room received it (v1 inputs arrive with
/// `sprint` false).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Input {
    /// -1, 0 or 1 (clamped).
    pub move_x: i32,
    /// -1, 0 or 1 (clamped).
    pub move_y: i32,
    /// Move at sprint speed.
    pub sprint: bool,
    /// Fire toward the aim (held).
    pub fire: bool,
    /// Aim direction, any length.
    pub aim_x: f32,
    /// Aim direction, any length.
    pub aim_y: f32,
}

/// A player in the arena.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Player {
    /// The client id.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// 0xRRGGBB.
    pub color: u32,
    /// Centre.
    pub x: f32,
    /// Centre.
    pub y: f32,
    /// Velocity of the last tick's movement (intent × speed).
    pub vx: f32,
    /// Velocity of the last tick's movement (intent × speed).
    pub vy: f32,
    /// 0..=100.
    pub hp: u32,
    /// False while waiting to respawn.
    pub alive: bool,
    /// Score this round.
    pub score: i32,
    /// While dead: time until respawn, µs.
    pub respawn_us: u64,
    /// Time until the next shot is allowed, µs.
    pub cooldown_us: u64,
    /// Remaining SPEED boost, µs.
    pub boost_us: u64,
    /// The latest input.
    pub input: Input,
    /// Aim of a fire input received since the last tick (fires once even if
    /// a later input cleared `fire`).
    pub(super) fire_latch: Option<(f32, f32)>,
}

/// What a pickup gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PickupKind {
    /// +1 score.
    Coin,
    /// +35 hp.
    Health,
    /// 4 s of sprint speed.
    Speed,
}

/// A pickup on the field.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pickup {
    /// Unique in the room.
    pub id: u32,
    /// Centre.
    pub x: f32,
    /// Centre.
    pub y: f32,
    /// What it gives.
    pub kind: PickupKind,
}

/// A projectile in flight.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Projectile {
    /// Unique in the room.
    pub id: u32,
    /// Centre.
    pub x: f32,
    /// Centre.
    pub y: f32,
    /// Velocity, u/s.
    pub vx: f32,
    /// Velocity, u/s.
    pub vy: f32,
    /// The shooter's id.
    pub owner: u32,
    /// Time left, µs.
    pub life_us: u64,
}

/// The round clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Round {
    /// 1, 2, ...
    pub number: u32,
    /// Time left in the round (or in the intermission), µs.
    pub remaining_us: u64,
    /// Between rounds.
    pub intermission: bool,
}

impl Round {
    /// Time left, whole milliseconds rounded up (0 only when it is over).
    pub fn remaining_ms(&self) -> u32 {
        self.remaining_us.div_ceil(1000).min(u64::from(u32::MAX)) as u32
    }
}

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum EventKind {
    /// actor joined.
    Joined,
    /// actor left.
    Left,
    /// actor hit target.
    Hit,
    /// actor eliminated target.
    Eliminated,
    /// actor picked up pickup `target`.
    PickedUp,
    /// A round started.
    RoundStarted,
    /// A round ended; actor is the winner (0: none).
    RoundEnded,
}

/// Something that happened during a step (sent reliably to everyone).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// What.
    pub kind: EventKind,
    /// Who did it (a player id, or 0).
    pub actor: u32,
    /// To whom (a player id, a pickup id for `PickedUp`, or 0).
    pub target: u32,
    /// For people, self-contained (v1 clients get only this).
    pub text: String,
}
