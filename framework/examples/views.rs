//! Per-client views: each client gets the state it may see, not the whole
//! room. A card table: every player holds one hidden card (1 to 13). A
//! player's state shows its own card and hides everyone else's
//! (`ctx.send_state`, one state per player); spectators see every card, in
//! one state encoded once for all of them (`ctx.send_state_to`).
//!
//! ```text
//! cargo run -p playhouse --example views -- --addr 127.0.0.1:8080
//! ```
//!
//! Clients offer `cards.v1.proto` or `cards.v1.msgpack` and join room type
//! `cards`; the join option `role=spectator` makes a spectator, anyone else
//! is a player. Each tick (10 Hz) a client gets a `State` with one `Player`
//! per player: `score` is the card, 0 where hidden. A player's `Input`
//! with `fire` set draws a new card.
//!
//! `--addr HOST:PORT` is where to listen (port 0 picks a free one); once
//! bound, `LISTENING <addr>` is printed on stdout.

use playhouse::prelude::*;
use playhouse_testkit::probe::v2;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Default)]
struct Cards {
    /// Each player's card.
    hands: BTreeMap<ClientId, i32>,
    spectators: Vec<ClientId>,
}

impl Cards {
    /// The table as `viewer` sees it (`None`: a spectator, who sees all).
    fn view(&self, viewer: Option<ClientId>) -> v2::State {
        let players = self.hands.iter().map(|(&id, &card)| v2::Player {
            id: id.0,
            score: if viewer.is_none_or(|v| v == id) { card } else { 0 },
            alive: true,
            ..Default::default()
        });
        v2::State { players: players.collect() }
    }
}

impl Room for Cards {
    type Wire = (v2::Input, v2::State, v2::Event);
    type Options = Options;

    fn on_create(_ctx: &mut RoomContext<Self>, _options: &Options) -> Result<Self, Reject> {
        Ok(Cards::default())
    }

    fn on_join(&mut self, _ctx: &mut RoomContext<Self>, client: &Client, options: &Options) -> Result<(), Reject> {
        if options.get("role").is_some_and(|r| r == "spectator") {
            self.spectators.push(client.id);
        } else {
            self.hands.insert(client.id, rand::random_range(1..=13));
        }
        Ok(())
    }

    fn on_input(&mut self, _ctx: &mut RoomContext<Self>, client: ClientId, _seq: u32, input: v2::Input) {
        if let Some(card) = self.hands.get_mut(&client).filter(|_| input.fire) {
            *card = rand::random_range(1..=13);
        }
    }

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _dt: Duration) {
        // One state per player: its own card only.
        for &player in self.hands.keys() {
            ctx.send_state(player, &self.view(Some(player)));
        }
        // One state for every spectator, encoded once per (version, codec).
        if !self.spectators.is_empty() {
            ctx.send_state_to(&self.spectators, &self.view(None));
        }
    }

    fn on_leave(&mut self, _ctx: &mut RoomContext<Self>, client: ClientId, _why: LeaveReason) {
        self.hands.remove(&client);
        self.spectators.retain(|&s| s != client);
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
    let server = Server::new(ServerConfig::new("cards"))
        .room::<Cards>(RoomType::new("cards", 10).max_clients(8))
        .bind(addr_arg())?;
    println!("LISTENING {}", server.local_addr());
    server.run().await
}
