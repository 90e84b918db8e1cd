//! Runs the `arena` sample game server.
//!
//! ```text
//! cargo run --release -p arena                     # serves 127.0.0.1:8080
//! cargo run --release -p arena -- --addr 0.0.0.0:9000
//! ```
//!
//! Routes: `/ws` (game WebSocket), `/info`, `/rooms`, `/healthz`, `/readyz`,
//! `/metrics`. `RUST_LOG` sets the log filter (default `info`);
//! `--log-format json` (or `PLAYHOUSE_LOG_FORMAT=json`) writes the log as
//! one JSON object a line, with the ids of the connection and room spans in
//! each (`text`, the default, is for people; see the README's "Logs").
//!
//! `--reconnect-window <secs>` (default 20) is how long a dropped client's
//! session and seat wait for it to resume (tests use a short one; a session
//! in no room waits at most 5 s). `--max-parked-per-address` (default 64)
//! caps the dropped sessions one address may keep waiting.
//! `--allow-origin <pattern>` (repeatable) lists the web origins that may
//! connect (default: the server's own pages); `--max-connections-per-ip`
//! caps one address (default 256). `--max-rooms` caps the rooms alive at
//! once (default 10,000; a create past it gets `JoinError ROOM_LIMIT`).
//! `--compression-min-bytes` is the smallest state payload compressed for a
//! client that asks (`?compress=deflate`, docs/protocol.md §4.6; default
//! 256).
//!
//! Authentication (off by default): `--jwt-secret-file <path>` (or
//! `--jwt-hs256-secret <secret>`, which other local users can read in the
//! process list: tests only) makes every client prove a user with an HS256
//! JWT (`sub`, `exp`). `--auth-mode upgrade` (default) wants the token in
//! the upgrade request (`?token=`, `Authorization: Bearer`, cookie
//! `playhouse_token`; HTTP 401 without); `--auth-mode first-message` wants
//! an `Auth` message first, within `--auth-deadline` seconds (default 5).
//! `--jwt-leeway` is the clock skew allowed on `exp` (default 30 s).
//!
//! Monitor (off by default; README "Monitor"): `PLAYHOUSE_MONITOR_TOKEN`
//! (or `--monitor-token`, which other local users can read in the process
//! list) turns on the operators' page at `/monitor`, admitting that bearer
//! token; `--monitor-admin-claim` (with a JWT secret) also admits a JWT
//! with `"admin": true`.
//!
//! Versions: v2 is current; v1 is still served but deprecated until
//! `arena::schema::V1_SUNSET` (2027-06-30): `/info.version_status` lists it,
//! and a v1 client's `Welcome` says `deprecated` with the sunset.
//!
//! `--tls-cert <pem> --tls-key <pem>` serve `https://` and `wss://`
//! (rustls; SIGHUP reloads both; docs/security.md).
//!
//! Cluster (docs/cluster.md): `--redis redis://HOST:PORT` makes this
//! process one node of a cluster whose rooms are recorded in Redis under
//! leases; `--public-url ws://HOST:PORT/ws` is where clients reach this node
//! (default: `ws://<bound address>/ws`), `--node-id` names it (default:
//! random), `--lease-ms` sets the room lease (default 5000). Channels
//! `lobby` and `chat.*` are open (clients publish on `chat.*`);
//! `--presence-ttl-ms` sets how long a presence entry outlives its node
//! (default 15000). Without
//! `--redis` arena runs as one process, as always.
//!
//! SIGTERM / SIGINT shut it down gracefully: `/readyz` turns 503, every
//! client gets `Shutdown` and then close 1001, and the process exits 0 once
//! the clients are gone or after `--drain-timeout` seconds. A second signal
//! exits without waiting.

use arena::logging::LogFormat;
use clap::{Parser, ValueEnum};
use playhouse::auth::{AuthConfig, JwtAuthenticator};
use playhouse::backend::redis::{RedisBackend, RedisConfig};
use playhouse::matchmaking::ClusterConfig;
use playhouse::server::{MonitorConfig, ServerConfig, TlsConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// When a client proves who it is (`--auth-mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum AuthModeArg {
    /// In the upgrade request: HTTP 401 without a good token.
    Upgrade,
    /// In an `Auth` message, the first one, within `--auth-deadline`.
    FirstMessage,
}

#[derive(Parser, Debug)]
#[command(about = "The Playhouse sample game server")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Largest client message, bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    max_message_size: usize,
    /// Most open connections (HTTP 503 past it); 0: sized from the file
    /// descriptor limit.
    #[arg(long, default_value_t = 0)]
    max_connections: usize,
    /// Seconds a client may stop reading before it is closed with 4008.
    #[arg(long, default_value_t = 30)]
    stall_timeout: u64,
    /// Bytes that may wait unsent in the kernel per connection
    /// (`TCP_NOTSENT_LOWAT`); past it states wait in the outbox, where the
    /// newest replaces the one before. 0: the kernel's default (unbounded).
    #[arg(long, default_value_t = playhouse::transport::NOTSENT_LOWAT)]
    notsent_lowat: u32,
    /// On SIGTERM / SIGINT: seconds to wait for clients to go after the
    /// `Shutdown` notice and close 1001 before exiting anyway.
    #[arg(long, default_value_t = 10)]
    drain_timeout: u64,
    /// Seconds a lost connection's arena seat (and so its session) waits
    /// for the client to resume it; 0: a dropped player leaves at once.
    #[arg(long, default_value_t = 20)]
    reconnect_window: u64,
    /// Most connections from one client address (HTTP 429 past it; 0: no cap).
    #[arg(long, default_value_t = 256)]
    max_connections_per_ip: usize,
    /// Most lost sessions parked for a resume from one client address (past
    /// it the oldest gives way; 0: no cap). Raise it for load tests that
    /// drop many players from one machine at once.
    #[arg(long, default_value_t = 64)]
    max_parked_per_address: usize,
    /// Most rooms alive at once (JoinError ROOM_LIMIT for a create past it;
    /// 0: no cap).
    #[arg(long, default_value_t = 10_000)]
    max_rooms: usize,
    /// The smallest state payload (whole or delta) compressed for a client
    /// that asked (`?compress=deflate`); smaller ones go as they are. Tests
    /// lower it to see small rooms' states compressed.
    #[arg(long, default_value_t = playhouse::protocol::compress::MIN_BYTES)]
    compression_min_bytes: usize,
    /// A web origin allowed to open a socket, e.g. `https://game.example`
    /// or `https://*.example.com`; repeatable. Default: only the server's
    /// own pages (`self`). Native clients (no Origin header) are allowed.
    #[arg(long = "allow-origin")]
    allow_origins: Vec<String>,
    /// Require an HS256 JWT signed with this secret (visible in the process
    /// list: prefer --jwt-secret-file outside tests).
    #[arg(long, conflicts_with = "jwt_secret_file")]
    jwt_hs256_secret: Option<String>,
    /// Require an HS256 JWT signed with the secret in this file (trailing
    /// newline ignored).
    #[arg(long)]
    jwt_secret_file: Option<PathBuf>,
    /// Where the token is expected (with a JWT secret).
    #[arg(long, value_enum, default_value_t = AuthModeArg::Upgrade)]
    auth_mode: AuthModeArg,
    /// first-message mode: seconds a client has to send `Auth` (close 4002 after).
    #[arg(long, default_value_t = 5.0)]
    auth_deadline: f64,
    /// Seconds of clock skew allowed on a JWT's `exp` and `nbf`.
    #[arg(long, default_value_t = 30)]
    jwt_leeway: u64,
    /// PEM certificate chain (server certificate first): serve https:// and
    /// wss:// instead of plain HTTP. Needs --tls-key.
    #[arg(long, requires = "tls_key", value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert", value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Join a cluster whose directory is this Redis (`redis://HOST:PORT`).
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Where clients reach this node (default: ws://<bound address>/ws).
    #[arg(long, requires = "redis", value_name = "URL")]
    public_url: Option<String>,
    /// This node's id in the cluster (default: random).
    #[arg(long, requires = "redis")]
    node_id: Option<String>,
    /// Milliseconds a room's lease lasts without a renewal (renewed every third).
    #[arg(long, requires = "redis", default_value_t = 5000)]
    lease_ms: u64,
    /// Milliseconds a channel presence entry lives without its node
    /// refreshing it (every third); a dead node's subscribers leave the
    /// presence lists within about this long.
    #[arg(long, default_value_t = 15000)]
    presence_ttl_ms: u64,
    /// Prefix of every key this cluster writes in Redis.
    #[arg(long, requires = "redis", default_value = "ph:")]
    redis_prefix: String,
    /// Most bytes of a room's saved state (snapshot, seats, options) in
    /// Redis; a bigger one is refused and logged (docs/failover.md).
    #[arg(long, requires = "redis", default_value_t = 1 << 20)]
    max_state_bytes: usize,
    /// How log lines look on stdout: `text` for people, `json` (one object
    /// a line, with the connection and room ids of each event) for log
    /// shippers. `RUST_LOG` filters them (default `info`).
    #[arg(long, env = "PLAYHOUSE_LOG_FORMAT", value_name = "text|json", default_value = "text")]
    log_format: LogFormat,
    /// Turn on the monitor at /monitor, admitting this bearer token
    /// (prefer the environment variable: a flag shows in the process list).
    #[arg(long, env = "PLAYHOUSE_MONITOR_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    monitor_token: Option<String>,
    /// Turn on the monitor at /monitor, admitting a JWT (checked with the
    /// JWT secret) whose claims hold `"admin": true`.
    #[arg(long)]
    monitor_admin_claim: bool,
}

/// The cluster the arguments ask for, if any: where its Redis is, and this node.
fn cluster(args: &Args) -> Result<Option<(RedisConfig, ClusterConfig)>, String> {
    let Some(url) = &args.redis else { return Ok(None) };
    if args.lease_ms < 300 {
        return Err(format!("--lease-ms must be at least 300, got {}", args.lease_ms));
    }
    let mut redis = RedisConfig::new(url.clone());
    redis.prefix = args.redis_prefix.clone();
    let id = args.node_id.clone().unwrap_or_else(ClusterConfig::random_node_id);
    let mut node = ClusterConfig::new(id, args.public_url.clone().unwrap_or_default());
    node.lease = Duration::from_millis(args.lease_ms);
    node.max_state_bytes = args.max_state_bytes;
    Ok(Some((redis, node)))
}

/// The authentication the arguments ask for, if any.
fn auth(args: &Args) -> Result<Option<AuthConfig>, String> {
    let secret = match (&args.jwt_hs256_secret, &args.jwt_secret_file) {
        (Some(s), _) => s.clone().into_bytes(),
        (None, Some(path)) => {
            let text = std::fs::read(path).map_err(|e| format!("--jwt-secret-file {}: {e}", path.display()))?;
            let end = text.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
            text[..end].to_vec()
        }
        (None, None) => return Ok(None),
    };
    if secret.is_empty() {
        return Err("the JWT secret is empty".into());
    }
    let authenticator = JwtAuthenticator::hs256(&secret).leeway(Duration::from_secs(args.jwt_leeway));
    let config = AuthConfig::new(authenticator);
    Ok(Some(match args.auth_mode {
        AuthModeArg::Upgrade => config,
        AuthModeArg::FirstMessage => {
            let deadline =
                Duration::try_from_secs_f64(args.auth_deadline).ok().filter(|d| !d.is_zero()).ok_or_else(|| {
                    format!("--auth-deadline must be a positive number of seconds, got {}", args.auth_deadline)
                })?;
            config.first_message(deadline)
        }
    }))
}

/// The monitor the arguments ask for, if any (`with_auth`: a JWT secret is
/// configured, which admin claims need).
fn monitor(args: &Args, with_auth: bool) -> Result<Option<MonitorConfig>, String> {
    let token = args.monitor_token.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if args.monitor_token.is_some() && token.is_none() {
        return Err("the monitor token is empty".into());
    }
    if args.monitor_admin_claim && !with_auth {
        return Err("--monitor-admin-claim needs a JWT secret (--jwt-secret-file) to check admin JWTs".into());
    }
    Ok((token.is_some() || args.monitor_admin_claim).then(|| {
        let mut m = MonitorConfig::with_admin_claim();
        m.token = token.map(str::to_string);
        m.admin_claim = args.monitor_admin_claim;
        m
    }))
}

/// The server config and arena room type the arguments ask for.
fn setup(args: &Args) -> Result<(ServerConfig, playhouse::room::RoomType), String> {
    let mut config = ServerConfig::new("arena");
    config.transport.max_message_size = args.max_message_size;
    config.max_connections = args.max_connections;
    config.outbox.stall_timeout = Duration::from_secs(args.stall_timeout);
    config.socket.notsent_lowat = (args.notsent_lowat > 0).then_some(args.notsent_lowat);
    config.drain_timeout = Duration::from_secs(args.drain_timeout);
    config.max_connections_per_ip = args.max_connections_per_ip;
    config.session.max_parked_per_address = args.max_parked_per_address;
    config.max_rooms = args.max_rooms;
    config.compression_min_bytes = args.compression_min_bytes;
    if !args.allow_origins.is_empty() {
        config.origins = playhouse::limits::OriginPolicy::allow(args.allow_origins.iter().cloned()).allow_missing(true);
    }
    config.auth = auth(args)?;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(TlsConfig::new(cert.clone(), key.clone()));
    }
    config.monitor = monitor(args, config.auth.is_some())?;
    Ok((config, arena::room_type().reconnect_window(Duration::from_secs(args.reconnect_window))))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    arena::logging::init(args.log_format);
    let invalid = |e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
    let (config, room_type) = setup(&args).map_err(invalid)?;
    let ttl = Duration::from_millis(args.presence_ttl_ms.max(300));
    let mut server = arena::server_with(config, room_type).channel_config(|c| c.presence_ttl = ttl);
    if let Some((redis, node)) = cluster(&args).map_err(invalid)? {
        let backend = match RedisBackend::connect(&redis).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("arena: cannot reach the cluster's Redis at {}: {e}", redis.url);
                std::process::exit(1);
            }
        };
        tracing::info!(node = %node.node.id, redis = %redis.url, "joining the cluster");
        server = server.cluster(Arc::new(backend), node);
    }
    let server = match server.bind(&args.addr) {
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
    fn reconnect_window_sets_the_room_window() {
        let parse = |argv: &[&str]| setup(&Args::try_parse_from(argv).expect("arguments parse")).expect("setup");
        let (_, room) = parse(&["arena"]);
        assert_eq!(room.reconnect_window, Duration::from_secs(20));
        let (_, room) = parse(&["arena", "--reconnect-window", "2"]);
        assert_eq!(room.reconnect_window, Duration::from_secs(2));
        assert_eq!(room.name, "arena");
    }

    #[test]
    fn log_format_is_text_unless_asked_for_json() {
        let parse = |argv: &[&str]| Args::try_parse_from(argv).map(|a| a.log_format).map_err(|e| e.to_string());
        // Set in the environment, PLAYHOUSE_LOG_FORMAT would change the default.
        if std::env::var_os("PLAYHOUSE_LOG_FORMAT").is_none() {
            assert_eq!(parse(&["arena"]), Ok(LogFormat::Text));
        }
        assert_eq!(parse(&["arena", "--log-format", "json"]), Ok(LogFormat::Json));
        assert_eq!(parse(&["arena", "--log-format=text"]), Ok(LogFormat::Text));
        assert!(parse(&["arena", "--log-format", "yaml"]).unwrap_err().contains("text or json"));
    }

    #[test]
    fn max_parked_per_address_sets_the_session_cap() {
        let parse = |argv: &[&str]| setup(&Args::try_parse_from(argv).expect("arguments parse")).expect("setup");
        assert_eq!(parse(&["arena"]).0.session.max_parked_per_address, 64);
        assert_eq!(parse(&["arena", "--max-parked-per-address", "0"]).0.session.max_parked_per_address, 0);
    }

    #[test]
    fn max_rooms_defaults_to_the_frameworks_cap_and_can_be_set() {
        let parse = |argv: &[&str]| setup(&Args::try_parse_from(argv).expect("arguments parse")).expect("setup").0;
        assert_eq!(parse(&["arena"]).max_rooms, ServerConfig::new("arena").max_rooms);
        assert_eq!(parse(&["arena", "--max-rooms", "3"]).max_rooms, 3);
    }

    #[test]
    fn compression_min_bytes_sets_the_threshold() {
        let parse = |argv: &[&str]| setup(&Args::try_parse_from(argv).expect("arguments parse")).expect("setup").0;
        let default = ServerConfig::new("arena");
        let config = parse(&["arena"]);
        assert_eq!(
            (&config.compression, config.compression_min_bytes),
            (&default.compression, default.compression_min_bytes)
        );
        assert!(!config.compression.is_empty(), "served by default");
        assert_eq!(parse(&["arena", "--compression-min-bytes", "32"]).compression_min_bytes, 32);
    }

    #[test]
    fn auth_flags_choose_the_mode_deadline_and_secret() {
        let parse = |argv: &[&str]| Args::try_parse_from(argv).map_err(|e| e.to_string()).and_then(|a| setup(&a));
        let (config, _) = parse(&["arena"]).unwrap();
        assert!(config.auth.is_none(), "no secret: no auth");
        let (config, _) = parse(&["arena", "--jwt-hs256-secret", "s3"]).unwrap();
        let a = config.auth.expect("auth on");
        assert_eq!(a.mode, playhouse::auth::AuthMode::Upgrade);
        let argv = ["arena", "--jwt-hs256-secret", "s3", "--auth-mode", "first-message", "--auth-deadline", "0.5"];
        let (config, _) = parse(&argv).unwrap();
        let deadline = Duration::from_millis(500);
        assert_eq!(config.auth.expect("auth on").mode, playhouse::auth::AuthMode::FirstMessage { deadline });
        for bad in ["--auth-deadline=0", "--auth-deadline=-1", "--auth-deadline=NaN"] {
            let argv = ["arena", "--jwt-hs256-secret", "s3", "--auth-mode", "first-message", bad];
            assert!(parse(&argv).unwrap_err().contains("--auth-deadline"), "{bad}");
        }
        assert!(parse(&["arena", "--auth-mode", "sideways"]).is_err());
        assert!(parse(&["arena", "--jwt-hs256-secret", "a", "--jwt-secret-file", "/x"]).is_err(), "one secret only");
        assert!(parse(&["arena", "--jwt-secret-file", "/nonexistent/secret"]).unwrap_err().contains("/nonexistent"));
    }

    #[test]
    fn cluster_flags_need_redis_and_a_sane_lease() {
        let parse = |argv: &[&str]| Args::try_parse_from(argv).map_err(|e| e.to_string()).and_then(|a| cluster(&a));
        assert!(parse(&["arena"]).unwrap().is_none(), "no --redis: one process");
        assert!(parse(&["arena", "--node-id", "a"]).is_err(), "--node-id needs --redis");
        let (redis, node) = parse(&["arena", "--redis", "redis://127.0.0.1:7000", "--node-id", "a"]).unwrap().unwrap();
        assert_eq!((redis.url.as_str(), redis.prefix.as_str()), ("redis://127.0.0.1:7000", "ph:"));
        assert_eq!((node.node.id.as_str(), node.node.url.as_str()), ("a", ""));
        assert_eq!(node.lease, Duration::from_secs(5));
        let argv = ["arena", "--redis", "redis://r", "--public-url", "ws://a:1/ws", "--lease-ms", "900"];
        let (_, node) = parse(&argv).unwrap().unwrap();
        assert_eq!((node.node.url.as_str(), node.lease), ("ws://a:1/ws", Duration::from_millis(900)));
        assert!(node.node.id.starts_with("n-"), "a random id");
        assert!(parse(&["arena", "--redis", "redis://r", "--lease-ms", "10"]).unwrap_err().contains("--lease-ms"));
    }

    #[test]
    fn the_secret_file_signs_what_the_server_accepts() {
        let path = std::env::temp_dir().join(format!("arena-jwt-secret-{}", std::process::id()));
        std::fs::write(&path, "file secret\n").unwrap();
        let argv = ["arena", "--jwt-secret-file", path.to_str().unwrap(), "--jwt-leeway", "0"];
        let (config, _) = setup(&Args::try_parse_from(argv).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let auth = config.auth.expect("auth on");
        let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 60;
        let claims = serde_json::json!({ "sub": "ann", "exp": exp });
        let key = |k: &[u8]| jsonwebtoken::EncodingKey::from_secret(k);
        let good = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key(b"file secret")).unwrap();
        assert_eq!(auth.authenticator.authenticate(&good).unwrap().user, "ann", "the newline is not part of it");
        let bad = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key(b"file secret\n")).unwrap();
        assert!(auth.authenticator.authenticate(&bad).is_err());
    }

    #[test]
    fn notsent_lowat_defaults_to_the_frameworks_and_0_leaves_it_to_the_kernel() {
        let lowat = |argv: &[&str]| setup(&Args::try_parse_from(argv).unwrap()).unwrap().0.socket.notsent_lowat;
        assert_eq!(lowat(&["arena"]), Some(playhouse::transport::NOTSENT_LOWAT));
        assert_eq!(lowat(&["arena", "--notsent-lowat", "4096"]), Some(4096));
        assert_eq!(lowat(&["arena", "--notsent-lowat", "0"]), None);
    }

    #[test]
    fn monitor_flags_turn_the_monitor_on() {
        let parse = |argv: &[&str]| Args::try_parse_from(argv).map_err(|e| e.to_string()).and_then(|a| setup(&a));
        if std::env::var_os("PLAYHOUSE_MONITOR_TOKEN").is_none() {
            assert!(parse(&["arena"]).unwrap().0.monitor.is_none(), "off by default");
        }
        let m = parse(&["arena", "--monitor-token", "t0k"]).unwrap().0.monitor.expect("on");
        assert_eq!((m.token.as_deref(), m.admin_claim), (Some("t0k"), false));
        assert!(parse(&["arena", "--monitor-token", " "]).unwrap_err().contains("empty"));
        assert!(parse(&["arena", "--monitor-admin-claim"]).unwrap_err().contains("JWT secret"));
        let m = parse(&["arena", "--jwt-hs256-secret", "s", "--monitor-admin-claim"]).unwrap().0.monitor.expect("on");
        assert_eq!((m.token, m.admin_claim), (None, true));
    }
}
