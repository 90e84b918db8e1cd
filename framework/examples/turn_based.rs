//! A turn-based room ticking at 1 Hz: "race to 21". Players take turns, in
//! the order they joined, adding 1, 2 or 3 to a shared count; whoever brings
//! it to 21 wins and the count starts over. A player who does not move
//! within 10 ticks (10 s) loses the turn.
//!
//! ```text
//! cargo run -p playhouse --example turn_based -- --addr 127.0.0.1:8080
//! ```
//!
//! Clients offer `turns.v1.proto` or `turns.v1.msgpack` and join room type
//! `turns`. A move is an `Input` whose `move_x` is 1, 2 or 3. Once a second
//! (the tick is the turn clock, nothing moves in between) each client gets
//! a `State`: one `Player` per seat with `score` = what that player has
//! added, and `alive` = true for the player whose turn it is. Moves take
//! effect at once, announced by a reliable `Event`; a move out of turn, or
//! of another size, is refused with an `Event` to its sender only
//! ("not your turn", "move 1, 2 or 3") and changes nothing.
//!
//! `--addr HOST:PORT` is where to listen (port 0 picks a free one); once
//! bound, `LISTENING <addr>` is printed on stdout.

use playhouse::prelude::*;
use playhouse_testkit::probe::v2;
use std::time::Duration;

/// Ticks (seconds) a player has to move before the turn passes on.
const TURN_TICKS: u32 = 10;
/// The count that wins.
const TARGET: i32 = 21;

#[derive(Default)]
struct Race {
    /// Seats in join order: who, and what they have added.
    seats: Vec<(ClientId, i32)>,
    /// Index into `seats` of the player to move.
    turn: usize,
    ticks_left: u32,
    count: i32,
}

impl Race {
    fn pass_turn(&mut self) {
        self.turn = if self.seats.is_empty() { 0 } else { (self.turn + 1) % self.seats.len() };
        self.ticks_left = TURN_TICKS;
    }

    fn say(ctx: &mut RoomContext<Self>, text: String) {
        ctx.broadcast(&v2::Event { text });
    }
}

impl Room for Race {
    type Wire = (v2::Input, v2::State, v2::Event);
    type Options = Options;

    fn on_create(_ctx: &mut RoomContext<Self>, _options: &Options) -> Result<Self, Reject> {
        Ok(Race { ticks_left: TURN_TICKS, ..Race::default() })
    }

    fn on_join(&mut self, _ctx: &mut RoomContext<Self>, client: &Client, _options: &Options) -> Result<(), Reject> {
        self.seats.push((client.id, 0));
        Ok(())
    }

    fn on_input(&mut self, ctx: &mut RoomContext<Self>, client: ClientId, _seq: u32, input: v2::Input) {
        if self.seats.get(self.turn).map(|s| s.0) != Some(client) {
            return ctx.send(client, &v2::Event { text: "not your turn".into() });
        }
        if !(1..=3).contains(&input.move_x) {
            return ctx.send(client, &v2::Event { text: "move 1, 2 or 3".into() });
        }
        self.seats[self.turn].1 += input.move_x;
        self.count += input.move_x;
        Self::say(ctx, format!("client {} adds {}: {}", client.0, input.move_x, self.count));
        if self.count >= TARGET {
            Self::say(ctx, format!("client {} wins", client.0));
            self.count = 0;
            self.seats.iter_mut().for_each(|s| s.1 = 0);
        }
        self.pass_turn();
    }

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _dt: Duration) {
        self.ticks_left = self.ticks_left.saturating_sub(1);
        if self.ticks_left == 0 && !self.seats.is_empty() {
            Self::say(ctx, format!("client {} ran out of time", self.seats[self.turn].0 .0));
            self.pass_turn();
        }
        let players = self.seats.iter().enumerate();
        let players = players.map(|(i, (id, added))| v2::Player {
            id: id.0,
            score: *added,
            alive: i == self.turn,
            ..Default::default()
        });
        ctx.broadcast_state(&v2::State { players: players.collect() });
    }

    fn on_leave(&mut self, _ctx: &mut RoomContext<Self>, client: ClientId, _why: LeaveReason) {
        let Some(at) = self.seats.iter().position(|s| s.0 == client) else { return };
        self.seats.remove(at);
        if at < self.turn {
            self.turn -= 1;
        } else if at == self.turn {
            // The next seat moved into this index: it is now their turn.
            self.turn = if self.seats.is_empty() { 0 } else { self.turn % self.seats.len() };
            self.ticks_left = TURN_TICKS;
        }
    }
}

/// `--addr HOST:PORT` (default `127.0.0.1:8080`).
fn addr_arg() -> String {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--addr");
    at.and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| "127.0.0.1:8080".into())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // 1 Hz: the slowest tick rate a room type may have.
    let server = Server::new(ServerConfig::new("turns"))
        .room::<Race>(RoomType::new("turns", 1).max_clients(4))
        .bind(addr_arg())?;
    println!("LISTENING {}", server.local_addr());
    server.run().await
}
