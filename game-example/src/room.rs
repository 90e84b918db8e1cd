//! The arena room: the Playhouse shell around [`Sim`]. Inputs go into the
//! simulation as they arrive; each tick steps it, sends the events it
//! produced reliably (`broadcast`), then the state (latest wins, with the
//! tick and input acks): the whole state to everyone (`broadcast_state`),
//! or, in a room with a view radius, each player its own view
//! (`send_state`: what is within the radius, and the scoreboard). The
//! simulation has no Playhouse types: it knows a player by the number of
//! its [`ClientId`] (`client.0`), which is also the player's id on the wire.
//!
//! Options ([`ArenaOptions`]): `seed` (on the create, u64: the room's RNG
//! seed, for reproducible games; random otherwise), `view` (on the create,
//! a radius in world units; absent: everyone sees everything) and `name`
//! (on every join, at most 24 characters; default `player<id>`).

use crate::proto::v2;
use crate::schema;
use crate::sim::{Sim, MAX_NAME_CHARS};
use playhouse::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The arena room. Its snapshot (serde, MessagePack) is the seed and the
/// whole simulation, so a crashed room resumes the match where the last
/// snapshot left it instead of starting over.
#[derive(Debug, Serialize, Deserialize)]
pub struct Arena {
    seed: u64,
    sim: Sim,
    /// The view radius (world units) if each player sees only what is
    /// near it (create option `view`); `None`: everyone sees everything.
    /// Last and left out when `None`, so snapshots of rooms without one are
    /// what they were before views existed (and older nodes read them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    view: Option<f32>,
    /// The state message, its vectors reused from tick to tick.
    #[serde(skip)]
    state: v2::State,
}

/// The join options.
#[derive(Debug, Default, Deserialize)]
pub struct ArenaOptions {
    /// The room's RNG seed (read on the create; absent: random).
    pub seed: Option<u64>,
    /// The player's name (absent or empty: `player<id>`).
    pub name: Option<String>,
    /// The view radius in world units (read on the create; absent: the
    /// whole arena). Each player then gets its own state: what is within
    /// the radius, and the scoreboard.
    pub view: Option<f32>,
}

impl Arena {
    /// A room around a fresh simulation seeded with `seed`.
    pub fn new(seed: u64) -> Arena {
        Arena { sim: Sim::new(seed), seed, view: None, state: v2::State::default() }
    }

    /// A room whose players see only what is within `radius` of them.
    pub fn with_view(seed: u64, radius: f32) -> Arena {
        Arena { view: Some(radius), ..Arena::new(seed) }
    }

    /// The simulation.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// The seed the room was created with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn flush_events(&mut self, ctx: &mut RoomContext<Self>) {
        for e in self.sim.take_events() {
            ctx.broadcast(&schema::event_message(e));
        }
    }
}

/// The `name` option: absent or empty → `player<id>`; longer than 24
/// characters → refused.
pub fn player_name(name: Option<&str>, id: ClientId) -> Result<String, Reject> {
    match name.map(str::trim) {
        None | Some("") => Ok(format!("player{id}")),
        Some(n) if n.chars().count() > MAX_NAME_CHARS => {
            Err(Reject::new(format!("name longer than {MAX_NAME_CHARS} characters")))
        }
        Some(n) if n.chars().any(char::is_control) => Err(Reject::new("name contains control characters")),
        Some(n) => Ok(n.to_string()),
    }
}

impl Room for Arena {
    type Wire = (v2::Input, v2::State, v2::Event);
    type Options = ArenaOptions;

    fn on_create(_ctx: &mut RoomContext<Self>, options: &ArenaOptions) -> Result<Self, Reject> {
        let seed = options.seed.unwrap_or_else(rand::random);
        match options.view {
            None => Ok(Arena::new(seed)),
            Some(r) if r.is_finite() && r > 0.0 => Ok(Arena::with_view(seed, r)),
            Some(r) => Err(Reject::new(format!("view must be a positive radius, got {r}"))),
        }
    }

    fn on_join(&mut self, ctx: &mut RoomContext<Self>, client: &Client, options: &ArenaOptions) -> Result<(), Reject> {
        let name = player_name(options.name.as_deref(), client.id)?;
        // A notice on the lobby channel (docs/protocol.md §4.4): who joined
        // which room. Best effort: a full publish queue only skips it.
        let notice = format!("{name} joined {}", ctx.room_id());
        let _ = ctx.publish(crate::LOBBY, notice.as_bytes());
        self.sim.add_player(client.id.0, name);
        self.flush_events(ctx);
        Ok(())
    }

    fn on_input(&mut self, _ctx: &mut RoomContext<Self>, client: ClientId, _seq: u32, input: v2::Input) {
        self.sim.set_input(client.0, schema::input_from_v2(&input));
    }

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, dt: Duration) {
        self.sim.step(dt);
        self.flush_events(ctx);
        let Some(radius) = self.view else {
            schema::fill_state(&self.sim, &mut self.state);
            return ctx.broadcast_state(&self.state);
        };
        // Each player its own view (encoded once per player; with deltas,
        // each against what that player holds).
        for &id in self.sim.players().keys() {
            schema::fill_view(&self.sim, id, radius, &mut self.state);
            ctx.send_state(ClientId(id), &self.state);
        }
    }

    /// A player whose connection dropped stands still (no move, no fire)
    /// while its seat waits for a resume; it can still be hit.
    fn on_disconnect(&mut self, _ctx: &mut RoomContext<Self>, client: ClientId) {
        self.sim.set_input(client.0, schema::input_from_v2(&v2::Input::default()));
    }

    fn on_leave(&mut self, ctx: &mut RoomContext<Self>, client: ClientId, _why: LeaveReason) {
        self.sim.remove_player(client.0);
        self.flush_events(ctx);
    }

    playhouse::serde_snapshots!();
}

#[cfg(test)]
mod tests {
    use super::*;

    use playhouse::room::parse_options;

    fn opts(pairs: &[(&str, &str)]) -> Options {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn name_option(options: &Options, id: ClientId) -> Result<String, Reject> {
        player_name(parse_options::<ArenaOptions>(options)?.name.as_deref(), id)
    }

    fn seed_option(options: &Options) -> Result<u64, Reject> {
        Ok(parse_options::<ArenaOptions>(options)?.seed.unwrap_or_else(rand::random))
    }

    #[test]
    fn names_default_and_are_bounded() {
        assert_eq!(name_option(&opts(&[]), ClientId(7)), Ok("player7".into()));
        assert_eq!(name_option(&opts(&[("name", " ")]), ClientId(7)), Ok("player7".into()));
        assert_eq!(name_option(&opts(&[("name", "ann")]), ClientId(7)), Ok("ann".into()));
        let max = "é".repeat(24);
        assert_eq!(name_option(&opts(&[("name", &max)]), ClientId(1)), Ok(max.clone()));
        let long = "é".repeat(25);
        let err = name_option(&opts(&[("name", &long)]), ClientId(1)).unwrap_err();
        assert_eq!(err.reason, "name longer than 24 characters");
        assert!(name_option(&opts(&[("name", "a\nb")]), ClientId(1)).is_err());
    }

    #[test]
    fn a_snapshot_restores_the_whole_match() {
        use crate::sim::Input;
        let mut a = Arena::new(7);
        a.sim.add_player(1, "ann".into());
        a.sim.add_player(2, "bob".into());
        a.sim.set_input(1, Input { move_x: 1, fire: true, aim_x: 1.0, ..Default::default() });
        for _ in 0..45 {
            a.sim.step(Duration::from_nanos(33_333_333));
        }
        let bytes = a.snapshot().expect("arena snapshots");
        let (seed, sim): (u64, Sim) = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(seed, 7);
        assert_eq!(format!("{:?}", sim.players()), format!("{:?}", a.sim.players()));
        assert_eq!(sim.round(), a.sim.round());
        // A room with a view radius keeps it, after the two fields above.
        let v = Arena::with_view(7, 250.0);
        let restored: Arena = rmp_serde::from_slice(&v.snapshot().expect("arena snapshots")).unwrap();
        assert_eq!(restored.view, Some(250.0));
    }

    #[test]
    fn seeds_parse_or_refuse() {
        assert_eq!(seed_option(&opts(&[("seed", "42")])), Ok(42));
        assert!(seed_option(&opts(&[("seed", "-1")])).is_err());
        assert!(seed_option(&opts(&[])).is_ok());
    }
}
