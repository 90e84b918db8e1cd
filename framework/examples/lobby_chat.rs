//! A lobby with chat over channels: pub/sub beside rooms. Clients subscribe
//! to `chat.<topic>` channels and publish there themselves; the `lobby`
//! room announces who comes and goes on the `lobby` channel, which clients
//! may only listen to.
//!
//! ```text
//! cargo run -p playhouse --example lobby_chat -- --addr 127.0.0.1:8080
//! ```
//!
//! Clients offer `lobby.v1.proto` or `lobby.v1.msgpack`, then:
//!
//! * `Subscribe { channel: "chat.general" }` (or the pattern `chat.*`) and
//!   `Publish { channel: "chat.general", payload }`: every subscriber,
//!   the publisher included, receives a `Publication` with the payload
//!   (bytes: the app decides what they mean; here UTF-8 text). Presence is
//!   on: subscribers see who joins and leaves the channel.
//! * `Subscribe { channel: "lobby" }`: the lobby room's notices
//!   (`client 3 entered the lobby`). A client's `Publish` there is refused
//!   (`ChannelError` 403).
//! * `JoinOrCreate { room_type: "lobby" }`: the lobby room, whose `State`
//!   (2 Hz) lists who is in it.
//!
//! `--addr HOST:PORT` is where to listen (port 0 picks a free one); once
//! bound, `LISTENING <addr>` is printed on stdout.

use playhouse::channels::ChannelRules;
use playhouse::prelude::*;
use playhouse_testkit::probe::v2;
use std::collections::BTreeSet;
use std::time::Duration;

/// Where the lobby room posts its notices.
const NOTICES: &str = "lobby";

#[derive(Default)]
struct Lobby {
    here: BTreeSet<ClientId>,
}

impl Lobby {
    fn notice(ctx: &mut RoomContext<Self>, text: String) {
        // Room code may publish on any configured channel; a full publish
        // queue is the only refusal, and a lost notice is no harm here.
        if let Err(e) = ctx.publish(NOTICES, text.as_bytes()) {
            eprintln!("lobby notice not published: {e}");
        }
    }
}

impl Room for Lobby {
    type Wire = (v2::Input, v2::State, v2::Event);
    type Options = Options;

    fn on_create(_ctx: &mut RoomContext<Self>, _options: &Options) -> Result<Self, Reject> {
        Ok(Lobby::default())
    }

    fn on_join(&mut self, ctx: &mut RoomContext<Self>, client: &Client, _options: &Options) -> Result<(), Reject> {
        self.here.insert(client.id);
        Self::notice(ctx, format!("client {} entered the lobby", client.id.0));
        Ok(())
    }

    fn on_input(&mut self, _ctx: &mut RoomContext<Self>, _client: ClientId, _seq: u32, _input: v2::Input) {}

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _dt: Duration) {
        let players = self.here.iter().map(|id| v2::Player { id: id.0, alive: true, ..Default::default() });
        ctx.broadcast_state(&v2::State { players: players.collect() });
    }

    fn on_leave(&mut self, ctx: &mut RoomContext<Self>, client: ClientId, _why: LeaveReason) {
        self.here.remove(&client);
        Self::notice(ctx, format!("client {} left the lobby", client.0));
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
    let server = Server::new(ServerConfig::new("lobby"))
        .room::<Lobby>(RoomType::new("lobby", 2).max_clients(64))
        // Notices: clients listen, only room code publishes.
        .channel(NOTICES, ChannelRules::new())
        // Chat: clients publish; the last 50 lines (10 minutes) are kept for
        // a client that reconnects and asks for what it missed.
        .channel("chat.*", ChannelRules::new().client_publish(true).history(50, Duration::from_secs(600)))
        .bind(addr_arg())?;
    println!("LISTENING {}", server.local_addr());
    server.run().await
}
