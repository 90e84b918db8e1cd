//! Runs the `arena` sample game server.
//!
//! ```text
//! cargo run --release -p arena                     # serves 127.0.0.1:8080
//! cargo run --release -p arena -- --addr 0.0.0.0:9000
//! cargo run --release -p arena -- --addr 0.0.0.0:443 --tls-cert fullchain.pem --tls-key key.pem
//! ```
//!
//! With `--tls-cert` and `--tls-key` it serves `https://` and `wss://`
//! (rustls, TLS 1.2+); SIGHUP reloads both files for new connections (a
//! reload that fails is logged and the old certificate stays). A file that
//! does not load stops it at start with a message naming the file.
//!
//! Routes: `/ws` (game WebSocket), `/info`, `/rooms`, `/healthz`, `/readyz`,
//! `/metrics`. `RUST_LOG` sets the log filter (default `info`).
//!
//! `--reconnect-window <secs>` (default 20) is how long a dropped client's
//! session and seat wait for it to resume (tests use a short one).
//! `--allow-origin <pattern>` (repeatable) lists the web origins that may
//! connect (default: the server's own pages); `--max-connections-per-ip`
//! caps one address (default 256).
//!
//! SIGTERM / SIGINT shut it down gracefully: `/readyz` turns 503, every
//! client gets `Shutdown` and then close 1001, and the process exits 0 once
//! the clients are gone or after `--drain-timeout` seconds. A second signal
//! exits without waiting.

use clap::Parser;
use playhouse::server::{ServerConfig, TlsConfig};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(about = "The Playhouse sample game server")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Largest client message, bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    max_message_size: usize,
    /// Most open connections (HTTP 503 past it).
    #[arg(long, default_value_t = 10_000)]
    max_connections: usize,
    /// Seconds a client may stop reading before it is closed with 4008.
    #[arg(long, default_value_t = 30)]
    stall_timeout: u64,
    /// On SIGTERM / SIGINT: seconds to wait for clients to go after the
    /// `Shutdown` notice and close 1001 before exiting anyway.
    #[arg(long, default_value_t = 10)]
    drain_timeout: u64,
    /// Seconds a lost connection's session (and its arena seat) waits for
    /// the client to resume it; 0 disables resume.
    #[arg(long, default_value_t = 20)]
    reconnect_window: u64,
    /// Most connections from one client address (HTTP 429 past it; 0: no cap).
    #[arg(long, default_value_t = 256)]
    max_connections_per_ip: usize,
    /// A web origin allowed to open a socket, e.g. `https://game.example`
    /// or `https://*.example.com`; repeatable. Default: only the server's
    /// own pages (`self`). Native clients (no Origin header) are allowed.
    #[arg(long = "allow-origin")]
    allow_origins: Vec<String>,
    /// PEM certificate chain (server certificate first): serve https:// and
    /// wss:// instead of plain HTTP. Needs --tls-key.
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    tls_key: Option<PathBuf>,
}

/// The server config and arena room type the arguments ask for.
fn setup(args: &Args) -> (ServerConfig, playhouse::room::RoomType) {
    let mut config = ServerConfig::new("arena");
    config.transport.max_message_size = args.max_message_size;
    config.max_connections = args.max_connections;
    config.outbox.stall_timeout = Duration::from_secs(args.stall_timeout);
    config.drain_timeout = Duration::from_secs(args.drain_timeout);
    let window = Duration::from_secs(args.reconnect_window);
    config.session.reconnect_window = window;
    config.max_connections_per_ip = args.max_connections_per_ip;
    if !args.allow_origins.is_empty() {
        config.origins = playhouse::limits::OriginPolicy::allow(args.allow_origins.iter().cloned()).allow_missing(true);
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsConfig::new(cert.clone(), key.clone()));
    }
    (config, arena::room_type().reconnect_window(window))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let (config, room_type) = setup(&args);
    let server = match arena::server_with(config, room_type).bind(&args.addr) {
        Ok(s) => s,
        Err(e) => {
            // Display, not Debug: "TLS: no private key ... in key.pem", not a struct dump.
            eprintln!("arena: cannot start on {}: {e}", args.addr);
            std::process::exit(1);
        }
    };
    let scheme = if server.tls_reloader().is_some() { "wss" } else { "ws" };
    tracing::info!(addr = %server.local_addr(), "arena listening; {scheme}://{}/ws", server.local_addr());
    println!("LISTENING {}", server.local_addr());
    server.run().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_window_sets_the_session_and_the_room_window() {
        let parse = |argv: &[&str]| setup(&Args::try_parse_from(argv).expect("arguments parse"));
        let (config, room) = parse(&["arena"]);
        assert_eq!(config.session.reconnect_window, Duration::from_secs(20));
        assert_eq!(room.reconnect_window, Duration::from_secs(20));
        let (config, room) = parse(&["arena", "--reconnect-window", "2"]);
        assert_eq!(config.session.reconnect_window, Duration::from_secs(2));
        assert_eq!(room.reconnect_window, Duration::from_secs(2));
        assert_eq!(room.name, "arena");
    }
}
