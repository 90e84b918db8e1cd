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
    /// PEM certificate chain (server certificate first): serve https:// and
    /// wss:// instead of plain HTTP. Needs --tls-key.
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    tls_key: Option<PathBuf>,
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let mut config = ServerConfig::new("arena");
    config.transport.max_message_size = args.max_message_size;
    config.max_connections = args.max_connections;
    config.outbox.stall_timeout = Duration::from_secs(args.stall_timeout);
    config.drain_timeout = Duration::from_secs(args.drain_timeout);
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls = Some(TlsConfig::new(cert, key));
    }
    let server = match arena::server(config).bind(&args.addr) {
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
