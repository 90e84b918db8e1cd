//! A real Rust client for shell tests of deployments (scripts/test-nginx.sh):
//!
//! ```text
//! wss-probe cert DIR                       # DIR/ca.pem, DIR/server.pem, DIR/server.key (rcgen)
//! wss-probe play wss://127.0.0.1:PORT/ws --ca DIR/ca.pem --idle 6
//! wss-probe cluster 127.0.0.1:PORT --nodes n1,n2,n3 --players 6
//! ```
//!
//! `cluster` plays through a cluster's proxy (scripts/test-nginx-cluster.sh):
//! `--players` clients connect to `/ws` (least-connections) and
//! join-or-create `arena`, following redirects through `/n/<node>/ws`, and
//! must all land in one room; then a client per node joins that room by id
//! through `/n/<node>/ws`, and `/n/nope/ws` must be answered 404.
//!
//! `play` connects over `wss://` trusting only `--ca`, checks the server's
//! subprotocol choice, idles in the lobby for `--idle` seconds reading the
//! raw socket (the server's heartbeat pings must get through, and nothing
//! may close the connection), round-trips a ping, joins an `arena` room and
//! counts the states of two seconds. It prints what it saw and exits 1 on
//! the first thing that is wrong.

use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use playhouse_client::{Client, Event, TlsTrust};
use playhouse_tests::options;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
#[command(about = "wss:// probe for deployment tests")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes a test CA and a server certificate for 127.0.0.1 / localhost.
    Cert {
        /// The folder to write ca.pem, server.pem and server.key into.
        dir: PathBuf,
    },
    /// Plays through `url` (see the module docs).
    Play {
        /// `wss://host:port/ws`.
        url: String,
        /// PEM of the CA to trust.
        #[arg(long)]
        ca: PathBuf,
        /// Seconds to idle in the lobby before joining.
        #[arg(long, default_value_t = 6)]
        idle: u64,
    },
    /// Plays through a cluster's proxy at `addr` (see the module docs).
    Cluster {
        /// The proxy's `host:port` (plain HTTP).
        addr: std::net::SocketAddr,
        /// The node ids, comma-separated.
        #[arg(long, value_delimiter = ',')]
        nodes: Vec<String>,
        /// How many players join-or-create through `/ws`.
        #[arg(long, default_value_t = 6)]
        players: usize,
    },
}

/// The rooms `GET /rooms` lists through the proxy: (id, node).
fn cluster_rooms(addr: std::net::SocketAddr) -> Vec<(String, String)> {
    let (status, response) = playhouse_tests::http_get(addr, "/rooms");
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let rooms: Vec<serde_json::Value> =
        if status == 200 { serde_json::from_str(body).unwrap_or_default() } else { Vec::new() };
    rooms
        .iter()
        .map(|r| (r["id"].as_str().unwrap_or("").to_string(), r["node"].as_str().unwrap_or("").to_string()))
        .collect()
}

async fn cluster(addr: std::net::SocketAddr, nodes: &[String], players: usize) -> Result<(), String> {
    let token = ["arena.v2.msgpack"];
    let mut clients = Vec::new();
    let mut room: Option<String> = None;
    for i in 0..players {
        let mut c =
            Client::connect(&format!("ws://{addr}/ws"), &token).await.map_err(|e| format!("player {i}: {e}"))?;
        let joined = c
            .join_or_create("arena", options(&[("name", &format!("p{i}"))]))
            .await
            .map_err(|e| format!("player {i}: {e}"))?;
        println!("player {i}: joined {} through {}", joined.room, c.url());
        match &room {
            None => {
                // Wait until the directory lists it, so the next players
                // (other nodes, by least-connections) can find it.
                let t0 = Instant::now();
                while !cluster_rooms(addr).iter().any(|(id, _)| *id == joined.room) {
                    if t0.elapsed() > Duration::from_secs(5) {
                        return Err(format!("room {} never listed in /rooms", joined.room));
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                room = Some(joined.room.clone());
            }
            Some(r) if *r != joined.room => return Err(format!("player {i} landed in {} instead of {r}", joined.room)),
            Some(_) => {}
        }
        clients.push(c);
    }
    let room = room.ok_or("no players")?;
    let listed = cluster_rooms(addr);
    let owner = listed.iter().find(|(id, _)| *id == room).map(|(_, n)| n.clone()).ok_or("the room is not listed")?;
    println!("all {players} players in {room} on node {owner}");
    for n in nodes {
        let url = format!("ws://{addr}/n/{n}/ws");
        let mut c = Client::connect(&url, &token).await.map_err(|e| format!("{url}: {e}"))?;
        let joined = c.join(&room, Default::default()).await.map_err(|e| format!("join by id through {url}: {e}"))?;
        if joined.room != room {
            return Err(format!("through {url}: joined {} instead of {room}", joined.room));
        }
        println!("through /n/{n}/ws: joined {room} by id, now at {}", c.url());
        clients.push(c);
    }
    match Client::connect(&format!("ws://{addr}/n/nope/ws"), &token).await {
        Err(playhouse_client::ClientError::Refused { status: 404, .. }) => println!("/n/nope/ws: 404"),
        Err(e) => return Err(format!("/n/nope/ws: expected HTTP 404, got {e}")),
        Ok(_) => return Err("/n/nope/ws: expected HTTP 404, connected".into()),
    }
    Ok(())
}

fn cert(dir: &std::path::Path) -> Result<(), String> {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let e = |e: rcgen::Error| e.to_string();
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "wss-probe test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(e)?).map_err(e)?;
    let key = KeyPair::generate().map_err(e)?;
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).map_err(e)?;
    let leaf = leaf.signed_by(&key, &ca).map_err(e)?;
    let write = |name: &str, text: String| std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"));
    write("ca.pem", ca.pem())?;
    write("server.pem", leaf.pem())?;
    write("server.key", key.serialize_pem())
}

async fn play(url: &str, ca: &std::path::Path, idle: Duration) -> Result<(), String> {
    let trust = TlsTrust::pem_file(ca).map_err(|e| e.to_string())?;
    let offer = ["arena.v1.msgpack", "arena.v2.proto"];
    let mut c = Client::connect_tls(url, &offer, &trust).await.map_err(|e| format!("connect: {e}"))?;
    let chosen = c.protocol().to_string();
    println!("negotiated {chosen} (offered {})", offer.join(", "));
    if chosen != "arena.v2.proto" {
        return Err(format!("the server's rule picks arena.v2.proto from this offer, got {chosen}"));
    }

    // Idle in the lobby: only the heartbeat moves. tungstenite answers each
    // ping with a pong on the next read or write.
    let (t0, mut pings) = (Instant::now(), 0u32);
    while let Some(left) = idle.checked_sub(t0.elapsed()) {
        match tokio::time::timeout(left, c.socket().next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(Message::Close(f)))) => {
                return Err(format!("closed while idle after {:?}: {f:?}", t0.elapsed()))
            }
            Ok(Some(Ok(other))) => return Err(format!("unexpected {other:?} while idle")),
            Ok(Some(Err(e))) => return Err(format!("socket error while idle after {:?}: {e}", t0.elapsed())),
            Ok(None) => return Err(format!("socket ended while idle after {:?}", t0.elapsed())),
        }
    }
    println!("idled {:?} in the lobby: {pings} heartbeat pings", t0.elapsed());
    if pings == 0 {
        return Err("no heartbeat ping got through while idle".into());
    }
    let rtt = c.ping().await.map_err(|e| format!("ping after idling: {e}"))?;
    println!("ping after idling: {rtt:?}");

    let joined = c.join_or_create("arena", options(&[("name", "probe")])).await.map_err(|e| format!("join: {e}"))?;
    let (t1, mut states) = (Instant::now(), 0u32);
    while let Some(left) = Duration::from_secs(2).checked_sub(t1.elapsed()) {
        match c.next_event_timeout(left).await {
            Ok(Event::State(s)) if s.room == joined.room => states += 1,
            Ok(_) => {}
            Err(playhouse_client::ClientError::Timeout) => break,
            Err(e) => return Err(format!("after {states} states: {e}")),
        }
    }
    println!("joined {} ({} Hz): {states} states in 2 s", joined.room, joined.tick_hz);
    if states < joined.tick_hz {
        return Err(format!("only {states} states in 2 s at {} Hz", joined.tick_hz));
    }
    c.close().await.map_err(|e| format!("close: {e}"))?;
    println!("closed cleanly");
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let result = match Args::parse().command {
        Command::Cert { dir } => cert(&dir),
        Command::Play { url, ca, idle } => play(&url, &ca, Duration::from_secs(idle)).await,
        Command::Cluster { addr, nodes, players } => cluster(addr, &nodes, players).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wss-probe: {e}");
            ExitCode::FAILURE
        }
    }
}
