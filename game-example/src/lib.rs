//! `arena`: the Playhouse sample game, a top-down arena shooter.
//!
//! Up to 16 players per room move, sprint, shoot and collect pickups in a
//! 1000 × 600 arena simulated at 30 Hz, in rounds of 90 s. The whole state
//! is broadcast every tick (latest wins); hits, eliminations, pickups,
//! joins and rounds are reliable events.
//!
//! - [`sim`]: the simulation and **the rules** (a plain struct, no sockets;
//!   deterministic given a seed).
//! - [`room`]: the Playhouse `Room` around it.
//! - [`proto`]: the generated wire types; [`mod@schema`]: v2 (current) and the v1 adapter.
//! - [`bot`]: the bot brain ([`bot::Bot`]) and [`bot::run_bot`], one bot
//!   over a real connection; `src/bin/bots.rs` runs many.
//! - [`web`]: the browser client at `/`.
//! - [`logging`]: the log format (`--log-format text|json`).

pub mod bot;
pub mod logging;
pub mod room;

/// arena's wire types, generated from `game-example/schemas/arena/` by
/// `playhouse-build` (both codecs from one definition).
pub mod proto {
    /// `arena.v1`: the first version (deprecated, still served).
    #[allow(missing_docs, clippy::doc_lazy_continuation)]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/arena.v1.rs"));
    }
    /// `arena.v2`: the current version (adds velocity, names and sprint).
    #[allow(missing_docs, clippy::doc_lazy_continuation)]
    pub mod v2 {
        include!(concat!(env!("OUT_DIR"), "/arena.v2.rs"));
    }
}

pub mod schema;
pub mod sim;
pub mod web;

use playhouse::channels::ChannelRules;
use playhouse::prelude::*;

pub use room::Arena;
pub use schema::schema;
pub use sim::{HEIGHT, SPEED, SPRINT_SPEED, TICK_HZ, WIDTH};

/// Players per room.
pub const MAX_PLAYERS: usize = 16;

/// The arena room type: 30 Hz, 16 players.
pub fn room_type() -> RoomType {
    RoomType::new("arena", TICK_HZ).max_clients(MAX_PLAYERS)
}

/// The channel every room posts a notice on when a player joins.
pub const LOBBY: &str = "lobby";

/// The channels the arena opens: `lobby` (room notices; clients only
/// listen) and `chat.*` (clients may publish).
pub fn channels(server: Server) -> Server {
    server.channel(LOBBY, ChannelRules::new()).channel("chat.*", ChannelRules::new().client_publish(true))
}

/// A server with the arena room registered, its channels open and the
/// browser client at `/`.
pub fn server(config: ServerConfig) -> Server {
    server_with(config, room_type())
}

/// [`server`] with another arena room type (e.g. a shorter
/// `reconnect_window`, see `arena --reconnect-window`).
pub fn server_with(config: ServerConfig, room_type: RoomType) -> Server {
    channels(Server::new(config).room_with_schema::<Arena>(room_type, schema()).configure(web::routes))
}
