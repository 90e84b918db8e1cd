//! Many processes, one game: each process is a node of a cluster whose
//! shared truth is a Redis (docs/cluster.md). Every room of every node is
//! in the Redis directory; a client that asks node B for a room living on
//! node A is redirected there by the server, and the client follows on its
//! own. Needs the `redis` feature.
//!
//! ```text
//! redis-server --port 6390 --save '' &
//! cargo run -p playhouse --features redis --example two_nodes -- \
//!     --addr 127.0.0.1:8081 --redis redis://127.0.0.1:6390 --node-id a &
//! cargo run -p playhouse --features redis --example two_nodes -- \
//!     --addr 127.0.0.1:8082 --redis redis://127.0.0.1:6390 --node-id b &
//! curl -s 127.0.0.1:8082/rooms   # every room of the cluster, with its node
//! ```
//!
//! Clients offer `tables.v1.proto` or `tables.v1.msgpack`. `Create {
//! room_type: "table" }` on node A makes a room there; `Join { room: <id> }`
//! sent to node B answers `Redirect { url: ws://127.0.0.1:8081/ws,
//! reservation }`, and the client joins on A with the reservation. The room
//! (10 Hz) lists its players in its `State`, `Player.name` = the node that
//! runs it.
//!
//! Options: `--addr HOST:PORT` (port 0 picks a free one; `LISTENING <addr>`
//! is printed once bound), `--redis URL` (required), `--node-id ID`
//! (default: random), `--public-url URL` (where clients reach this node;
//! default `ws://<bound address>/ws`).

use playhouse::backend::redis::{RedisBackend, RedisConfig};
use playhouse::matchmaking::ClusterConfig;
use playhouse::prelude::*;
use playhouse_testkit::probe::v2;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// This node's id, for the rooms to show.
static NODE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

#[derive(Default)]
struct Table {
    players: BTreeSet<ClientId>,
}

impl Room for Table {
    type Wire = (v2::Input, v2::State, v2::Event);
    type Options = Options;

    fn on_create(_ctx: &mut RoomContext<Self>, _options: &Options) -> Result<Self, Reject> {
        Ok(Table::default())
    }

    fn on_join(&mut self, _ctx: &mut RoomContext<Self>, client: &Client, _options: &Options) -> Result<(), Reject> {
        self.players.insert(client.id);
        Ok(())
    }

    fn on_input(&mut self, _ctx: &mut RoomContext<Self>, _client: ClientId, _seq: u32, _input: v2::Input) {}

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _dt: Duration) {
        let node = NODE.get().cloned().unwrap_or_default();
        let players = self.players.iter().map(|id| v2::Player { id: id.0, name: node.clone(), ..Default::default() });
        ctx.broadcast_state(&v2::State { players: players.collect() });
    }

    fn on_leave(&mut self, _ctx: &mut RoomContext<Self>, client: ClientId, _why: LeaveReason) {
        self.players.remove(&client);
    }
}

/// The value after `flag`, if given.
fn arg(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let Some(url) = arg("--redis") else {
        eprintln!("usage: two_nodes --redis redis://HOST:PORT [--addr HOST:PORT] [--node-id ID] [--public-url URL]");
        std::process::exit(2);
    };
    let id = arg("--node-id").unwrap_or_else(ClusterConfig::random_node_id);
    NODE.set(id.clone()).expect("set once");
    let backend = match RedisBackend::connect(&RedisConfig::new(url.clone())).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("two_nodes: cannot reach Redis at {url}: {e}");
            std::process::exit(1);
        }
    };
    // An empty public URL means `ws://<bound address>/ws`.
    let node = ClusterConfig::new(id, arg("--public-url").unwrap_or_default());
    let server = Server::new(ServerConfig::new("tables"))
        .room::<Table>(RoomType::new("table", 10).max_clients(8))
        .cluster(Arc::new(backend), node)
        .bind(arg("--addr").unwrap_or_else(|| "127.0.0.1:8080".into()))?;
    println!("LISTENING {}", server.local_addr());
    server.run().await
}
