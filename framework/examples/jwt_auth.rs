//! JWT authentication: only a client with a valid token signed by the
//! studio's login service may connect, and the room knows who it is.
//!
//! ```text
//! cargo run -p playhouse --example jwt_auth -- --addr 127.0.0.1:8080
//! cargo run -p playhouse --example jwt_auth -- --mint ann   # prints a token for user ann
//! ```
//!
//! Tokens are HS256 JWTs with `sub` (the user) and `exp`, signed with the
//! secret in `PLAYHOUSE_JWT_SECRET`, or else with the development secret
//! [`DEV_SECRET`] (`playhouse examples dev secret`: never in production).
//! They are checked at the upgrade: give the token as `?token=` on the URL
//! (`ws://127.0.0.1:8080/ws?token=...`), as `Authorization: Bearer`, or in
//! the `playhouse_token` cookie. No token or a bad one: HTTP 401, before
//! any WebSocket. Clients offer `hall.v1.proto` or `hall.v1.msgpack` and join
//! room type `hall`, which greets each user by name with a reliable `Event`
//! (`hello, ann`) and lists the users in its `State` (`Player.name`). User
//! `mallory` is authenticated but may not join (`JoinError` FORBIDDEN).
//!
//! `--addr HOST:PORT` is where to listen (port 0 picks a free one); once
//! bound, `LISTENING <addr>` is printed on stdout.

use playhouse::auth::{AuthConfig, JwtAuthenticator};
use playhouse::prelude::*;
use playhouse_testkit::probe::v2;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The secret used when `PLAYHOUSE_JWT_SECRET` is not set (development only).
const DEV_SECRET: &str = "playhouse examples dev secret";

#[derive(Default)]
struct Hall {
    users: BTreeMap<ClientId, String>,
    /// Joined since the last tick, not greeted yet.
    to_greet: Vec<ClientId>,
}

impl Room for Hall {
    type Wire = (v2::Input, v2::State, v2::Event);
    type Options = Options;

    /// Runs before a seat is taken, with the authenticated user.
    fn authorize_join(user: Option<&str>, _room: Option<&str>, _options: &Options) -> Result<(), Reject> {
        match user {
            Some("mallory") => Err(Reject::new("mallory is banned from the hall")),
            _ => Ok(()),
        }
    }

    fn on_create(_ctx: &mut RoomContext<Self>, _options: &Options) -> Result<Self, Reject> {
        Ok(Hall::default())
    }

    fn on_join(&mut self, _ctx: &mut RoomContext<Self>, client: &Client, _options: &Options) -> Result<(), Reject> {
        // With authentication on, every client has a user (the JWT's `sub`).
        self.users.insert(client.id, client.user.clone().unwrap_or_default());
        // A client is in the room only once `on_join` has returned: greet
        // it on the next tick.
        self.to_greet.push(client.id);
        Ok(())
    }

    fn on_input(&mut self, _ctx: &mut RoomContext<Self>, _client: ClientId, _seq: u32, _input: v2::Input) {}

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _dt: Duration) {
        for id in self.to_greet.drain(..) {
            if let Some(user) = self.users.get(&id) {
                ctx.send(id, &v2::Event { text: format!("hello, {user}") });
            }
        }
        let players = self.users.iter();
        let players = players.map(|(id, name)| v2::Player { id: id.0, name: name.clone(), ..Default::default() });
        ctx.broadcast_state(&v2::State { players: players.collect() });
    }

    fn on_leave(&mut self, _ctx: &mut RoomContext<Self>, client: ClientId, _why: LeaveReason) {
        self.users.remove(&client);
    }
}

/// A token for `user`, valid for an hour: what a login service hands out.
fn mint(secret: &[u8], user: &str) -> String {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs() + 3600;
    let claims = serde_json::json!({ "sub": user, "exp": exp });
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("a JWT encodes")
}

/// The value after `flag`, if given.
fn arg(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let secret = std::env::var("PLAYHOUSE_JWT_SECRET").unwrap_or_else(|_| DEV_SECRET.into());
    if let Some(user) = arg("--mint") {
        println!("{}", mint(secret.as_bytes(), &user));
        return Ok(());
    }
    let mut config = ServerConfig::new("hall");
    // Upgrade-time authentication: no valid token, no WebSocket (HTTP 401).
    config.auth = Some(AuthConfig::new(JwtAuthenticator::hs256(secret.as_bytes())));
    let server = Server::new(config)
        .room::<Hall>(RoomType::new("hall", 10))
        .bind(arg("--addr").unwrap_or_else(|| "127.0.0.1:8080".into()))?;
    println!("LISTENING {}", server.local_addr());
    server.run().await
}
