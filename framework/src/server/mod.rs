//! The server: wires rooms, connections and the HTTP routes to actix-web.
//!
//! ```no_run
//! use playhouse::prelude::*;
//! # use playhouse_testkit::probe::v2;
//! # struct Arena;
//! # impl Room for Arena {
//! #     type Wire = (v2::Input, v2::State, v2::Event); type Options = Options;
//! #     fn on_create(_: &mut RoomContext<Self>, _: &Options) -> Result<Self, Reject> { Ok(Arena) }
//! #     fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, _: v2::Input) {}
//! #     fn on_tick(&mut self, _: &mut RoomContext<Self>, _: std::time::Duration) {}
//! # }
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     Server::new(ServerConfig::new("arena"))
//!         .room::<Arena>(RoomType::new("arena", 30).max_clients(16))
//!         .bind("127.0.0.1:8080")?
//!         .run()
//!         .await
//! }
//! ```
//!
//! SIGTERM / SIGINT (or a [`ShutdownHandle`]) shut the server down
//! gracefully: see [`ShutdownHandle`] and the `shutdown` module's notes.
//! With [`ServerConfig::tls`] set (cargo feature `tls`) the listener speaks
//! TLS, and SIGHUP reloads the certificate: see [`TlsConfig`].

mod channels;
mod config;
pub mod descriptors;
mod failover;
mod info;
pub mod monitor;
mod routes;
mod shutdown;
mod tls;

pub use config::ServerConfig;
pub use info::{Info, Limits, VersionStatus};
pub use monitor::MonitorConfig;
pub use shutdown::ShutdownHandle;
pub use tls::{TlsConfig, TlsError, TlsReloader};

use crate::backend::{Backend, LocalChannelStore};
use crate::channels::{ChannelConfig, ChannelHub};
use crate::connection::{ConnectionShared, LiveConnections};
use crate::limits::PerIp;
use crate::matchmaking::{Cluster, ClusterConfig, Registry, RegistryBuilder};
use crate::metrics::Metrics;
use crate::protocol::{Negotiator, Schema, Sunset, WireMessage};
use crate::room::{InputOf, MessageOf, Room, RoomType, StateOf};
use crate::session::Sessions;
use crate::transport;
use actix::Arbiter;
use actix_web::{web, App};
use shutdown::Lifecycle;
use std::collections::BTreeMap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;

pub(crate) struct AppState {
    config: ServerConfig,
    negotiator: Negotiator,
    conn: Arc<ConnectionShared>,
    /// The rooms (connections reach them through `conn.matchmaker`).
    registry: Arc<Registry>,
    metrics: Arc<Metrics>,
    next_conn: AtomicU64,
    lifecycle: Arc<Lifecycle>,
    per_ip: Arc<PerIp>,
    /// The monitor (`None`: not configured, no `/monitor` routes).
    monitor: Option<monitor::Monitor>,
}

type Configure = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// Builds a server: configuration plus room types.
pub struct Server {
    config: ServerConfig,
    registry: RegistryBuilder,
    /// Each room type's deprecated versions (from its schema).
    deprecations: BTreeMap<String, Vec<(u32, Sunset)>>,
    errors: Vec<String>,
    routes: Vec<Configure>,
    cluster: Option<(Arc<dyn Backend>, ClusterConfig)>,
    channels: ChannelConfig,
}

impl Server {
    /// A server with `config` and no room types yet.
    pub fn new(config: ServerConfig) -> Self {
        Server {
            config,
            registry: RegistryBuilder::default(),
            deprecations: BTreeMap::new(),
            errors: Vec::new(),
            routes: Vec::new(),
            cluster: None,
            channels: ChannelConfig::default(),
        }
    }

    /// Makes this server a node of a cluster: its rooms are recorded in
    /// `backend`'s directory under leases, `/rooms` lists the whole
    /// cluster's rooms, and `/readyz` is 503 while the backend cannot be
    /// reached. See `docs/cluster.md`.
    pub fn cluster(mut self, backend: Arc<dyn Backend>, config: ClusterConfig) -> Self {
        self.cluster = Some((backend, config));
        self
    }

    /// Adds the game's own HTTP routes (a browser client at `/`, assets...)
    /// beside Playhouse's. Runs once per HTTP worker.
    ///
    /// ```
    /// use actix_web::{web, HttpResponse};
    /// use playhouse::server::{Server, ServerConfig};
    ///
    /// let server = Server::new(ServerConfig::new("arena")).configure(|cfg| {
    ///     cfg.route("/", web::get().to(|| async { HttpResponse::Ok().body("hello") }));
    /// });
    /// ```
    pub fn configure(mut self, f: impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static) -> Self {
        self.routes.push(Arc::new(f));
        self
    }

    /// Registers room type `R` whose input, state and message types are the
    /// wire types (one schema version, v1: clients offer `<game>.v1.<codec>`).
    pub fn room<R: Room>(self, spec: RoomType) -> Self
    where
        InputOf<R>: WireMessage,
        StateOf<R>: WireMessage,
        MessageOf<R>: WireMessage,
    {
        self.room_with_schema::<R>(spec, Schema::single())
    }

    /// Registers room type `R`, served in every version of `schema`.
    /// The versions the schema deprecates ([`Schema::deprecate`]) are
    /// announced as deprecated: see there for several room types.
    pub fn room_with_schema<R: Room>(mut self, spec: RoomType, schema: Schema<R::Wire>) -> Self {
        let deprecated = schema.deprecations().filter_map(|(v, d)| Some((v, d.sunset?))).collect();
        self.deprecations.insert(spec.name.clone(), deprecated);
        match schema.shared() {
            Ok(s) => self.registry.register::<R>(spec, s),
            Err(e) => self.errors.push(format!("room type {}: {e}", spec.name)),
        }
        self
    }

    /// Binds the listener and starts the HTTP workers and room arbiters.
    /// Must be called inside an actix system (as in `#[actix_web::main]`).
    /// SIGTERM / SIGINT shut the server down gracefully (a second one skips
    /// the rest of the drain); see [`ShutdownHandle`]. With TLS configured,
    /// SIGHUP reloads the certificate and key ([`TlsReloader`]), and a
    /// certificate or key that does not load is an `InvalidInput` error
    /// holding a [`TlsError`] ([`TlsError::from_io`]).
    pub fn bind(self, addr: impl ToSocketAddrs) -> io::Result<BoundServer> {
        self.bind_inner(addr, true)
    }

    /// Like [`Server::bind`], but leaves signals alone (tests, embedding):
    /// shut it down with [`BoundServer::shutdown_handle`].
    pub fn bind_without_signals(self, addr: impl ToSocketAddrs) -> io::Result<BoundServer> {
        self.bind_inner(addr, false)
    }

    fn bind_inner(self, addr: impl ToSocketAddrs, signals: bool) -> io::Result<BoundServer> {
        if !self.errors.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, self.errors.join("; ")));
        }
        let versions = self.registry.common_versions();
        if versions.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no room types, or no schema version that all room types serve",
            ));
        }
        let mut config = self.config;
        let (cap, warning) = descriptors::connection_cap(config.max_connections, descriptors::raise_limit());
        config.max_connections = cap;
        if let Some(w) = warning {
            tracing::warn!("{w}");
        }
        if let Some((backend, cc)) = &self.cluster {
            // Resume tokens name their node and check out on every node.
            config.session.node = crate::backend::node_tag(&cc.node.id);
            if config.session.secret.is_none() {
                config.session.secret = backend.session_secret();
            }
        }
        #[cfg(feature = "tls")]
        let (tls_listener, tls) = match &config.tls {
            Some(t) => {
                let (listener, reloader) = tls::server_config(t).map_err(TlsError::into_io)?;
                (Some(listener), Some(reloader))
            }
            None => (None, None),
        };
        #[cfg(not(feature = "tls"))]
        let tls: Option<TlsReloader> = match config.tls {
            Some(_) => return Err(TlsError::NotBuilt.into_io()),
            None => None,
        };
        let negotiator = deprecate_versions(
            Negotiator::new(config.app.clone(), versions, config.codecs.clone()),
            self.deprecations.values().flatten().copied(),
        );
        let n_arbiters = if config.arbiters == 0 { config::cores() } else { config.arbiters };
        let arbiters: Vec<Arbiter> = (0..n_arbiters).map(|_| Arbiter::new()).collect();
        let metrics = Arc::new(match &self.cluster {
            Some((backend, _)) => Metrics::with_cluster(backend.metrics()),
            None => Metrics::new(),
        });
        let channels = (!self.channels.rules.is_empty()).then(|| {
            let store = match &self.cluster {
                Some((backend, _)) => backend.channels(),
                None => Arc::new(LocalChannelStore::new()),
            };
            let hub = ChannelHub::new(store, self.channels, metrics.cluster.clone());
            hub.start();
            hub
        });
        let mut registry = self.registry.channels(channels.clone());
        if let Some((backend, cc)) = self.cluster {
            registry = registry.cluster(Cluster::new(backend, cc, metrics.cluster.clone()));
        }
        let registry = registry.build(
            arbiters.iter().map(|a| a.handle()).collect(),
            metrics.clone(),
            config.max_rooms,
            config.create_budget,
        )?;
        let sessions = Sessions::new(config.session.clone(), config.outbox)
            .with_max_per_user(config.max_sessions_per_user)
            .with_metrics(metrics.clone());
        let sessions = Arc::new(failover::durable_sessions(sessions, &registry, &config));
        registry.set_sessions(&sessions);
        let conn = Arc::new(ConnectionShared {
            matchmaker: Arc::new(registry.clone()),
            metrics: metrics.clone(),
            max_rooms_per_connection: config.max_rooms_per_connection,
            open: AtomicUsize::new(0),
            live: LiveConnections::new(),
            sessions: sessions.clone(),
            rate: config.rate,
            negotiator: negotiator.clone(),
            channels,
        });
        failover::move_clients_on(&registry, &conn);
        if config.monitor.is_some() {
            // The monitor's tick charts: every room's ticks summed from now.
            metrics.keep_tick_sums();
        }
        let state = web::Data::new(AppState {
            negotiator,
            conn,
            registry,
            metrics,
            next_conn: AtomicU64::new(1),
            lifecycle: Arc::new(Lifecycle::new()),
            per_ip: Arc::new(PerIp::new(config.max_connections_per_ip)),
            monitor: config.monitor.clone().map(monitor::Monitor::new),
            config: config.clone(),
        });
        let socket = config.socket;
        let app_state = state.clone();
        let routes = self.routes;
        let with_monitor = state.monitor.is_some();
        let app = move || {
            let routes = routes.clone();
            App::new()
                .app_data(app_state.clone())
                .configure(move |cfg| {
                    for r in &routes {
                        r(cfg);
                    }
                })
                .route("/ws", web::get().to(routes::ws))
                .route("/info", web::get().to(routes::info))
                .route("/healthz", web::get().to(routes::healthz))
                .route("/readyz", web::get().to(routes::readyz))
                .route("/metrics", web::get().to(routes::metrics))
                .route("/rooms", web::get().to(routes::rooms))
                .configure(|cfg| {
                    if with_monitor {
                        monitor::routes(cfg);
                    }
                })
        };
        let listen = transport::Listen {
            workers: if config.workers == 0 { config::cores() } else { config.workers },
            // Signals are ours (graceful shutdown in `BoundServer::run`);
            // this timeout only bounds a stop through the raw `handle()`.
            shutdown_timeout: config.drain_timeout.as_secs(),
            on_connect: Some(Arc::new(move |c: &dyn std::any::Any, ext: &mut actix_http::Extensions| {
                transport::on_connect(c, ext, socket)
            })),
            on_worker: config.rooms_on_workers.then(|| {
                let registry = Arc::downgrade(&state.registry);
                Arc::new(move || {
                    if let Some(r) = registry.upgrade() {
                        if let Err(e) = r.adopt_worker_thread() {
                            tracing::warn!("rooms stay off this worker thread: no tick driver ({e})");
                        }
                    }
                }) as Arc<dyn Fn() + Send + Sync>
            }),
            #[cfg(feature = "tls")]
            tls: tls_listener,
            ..Default::default()
        };
        let (http, addrs) = transport::serve(app, addr, listen)?;
        if let (Some(c), Some(a)) = (state.registry.cluster(), addrs.first()) {
            let scheme = if tls.is_some() { "wss" } else { "ws" };
            c.default_url(|| format!("{scheme}://{a}/ws"));
        }
        let server = http.run();
        Ok(BoundServer { server, addrs, state, arbiters, signals, tls })
    }
}

/// A bound, running server; `run` waits for it to stop.
pub struct BoundServer {
    server: actix_web::dev::Server,
    addrs: Vec<SocketAddr>,
    state: web::Data<AppState>,
    arbiters: Vec<Arbiter>,
    signals: bool,
    tls: Option<TlsReloader>,
}

impl BoundServer {
    /// The first bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every bound address.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// A handle to stop the server at once (connections are dropped, rooms
    /// disposed; no drain). For a graceful stop use [`BoundServer::shutdown_handle`].
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// A handle to shut the server down gracefully (what SIGTERM does).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle::new(self.state.lifecycle.clone())
    }

    /// The server's metrics.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.state.metrics.clone()
    }

    /// Reloads the TLS certificate and key (as SIGHUP does); `None` when the
    /// server speaks plain HTTP.
    pub fn tls_reloader(&self) -> Option<TlsReloader> {
        self.tls.clone()
    }

    /// Runs until the server is stopped, then stops the room arbiters.
    ///
    /// A graceful shutdown (SIGTERM / SIGINT if bound with [`Server::bind`],
    /// or a [`ShutdownHandle`]) drains first — notices, rooms' `on_shutdown`,
    /// close 1001 — and returns `Ok` once the connections are gone or
    /// `drain_timeout` has passed. A stop through [`BoundServer::handle`]
    /// ends at once.
    pub async fn run(self) -> io::Result<()> {
        let BoundServer { mut server, state, arbiters, signals, tls, .. } = self;
        let lifecycle = state.lifecycle.clone();
        let listener = signals.then(|| actix_rt::spawn(shutdown::listen_for_signals(lifecycle.clone())));
        #[cfg(feature = "tls")]
        let reloads = tls.filter(|_| signals).map(|t| actix_rt::spawn(tls::reload_on_sighup(t)));
        #[cfg(not(feature = "tls"))]
        let _ = tls;
        let sweeper = actix_rt::spawn(sweep(state.clone().into_inner()));
        let leases = state.registry.cluster().map(|c| actix_rt::spawn(Cluster::run(Arc::downgrade(c))));
        let claims =
            state.registry.cluster().map(|_| actix_rt::spawn(Registry::run_claims(Arc::downgrade(&state.registry))));
        let result = tokio::select! {
            r = &mut server => r,
            () = lifecycle.requested() => {
                // The HTTP server keeps serving during the drain: 503s,
                // /metrics, and the connections' close handshakes.
                tokio::select! {
                    r = &mut server => r,
                    () = shutdown::drain(&state) => {
                        let stopped = server.handle().stop(false);
                        let (r, ()) = tokio::join!(server, stopped);
                        r
                    }
                }
            }
        };
        if let Some(l) = listener {
            l.abort();
        }
        #[cfg(feature = "tls")]
        if let Some(r) = reloads {
            r.abort();
        }
        sweeper.abort();
        if let Some(l) = leases {
            l.abort();
        }
        if let Some(c) = claims {
            c.abort();
        }
        state.registry.dispose_all();
        if let Some(c) = state.registry.cluster() {
            c.forget_all().await;
        }
        for a in &arbiters {
            a.stop();
        }
        lifecycle.set_stopped();
        result
    }

    /// Starts a server on its own thread with its own actix system; for
    /// tests, benches and embedding in a non-actix program. `build` runs on
    /// that thread and returns the configured [`Server`].
    pub fn spawn(build: impl FnOnce() -> Server + Send + 'static, addr: SocketAddr) -> io::Result<RunningServer> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name("playhouse-server".into()).spawn(move || {
            let sys = actix_rt::System::new();
            sys.block_on(async move {
                match build().bind_without_signals(addr) {
                    Ok(b) => {
                        let bound = (b.local_addr(), b.handle(), b.shutdown_handle(), b.metrics(), b.tls_reloader());
                        let _ = tx.send(Ok(bound));
                        b.run().await
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        Ok(())
                    }
                }
            })
        })?;
        let (addr, handle, shutdown, metrics, tls) =
            rx.recv().map_err(|_| io::Error::other("server thread ended before binding"))??;
        Ok(RunningServer { addr, handle, shutdown, metrics, tls, thread: Some(thread) })
    }
}

/// Marks each deprecated version, with the earliest of its sunsets: a
/// version that one room type drops is no longer offered at all.
fn deprecate_versions(negotiator: Negotiator, marks: impl IntoIterator<Item = (u32, Sunset)>) -> Negotiator {
    let mut earliest: BTreeMap<u32, Sunset> = BTreeMap::new();
    for (v, sunset) in marks {
        let e = earliest.entry(v).or_insert(sunset);
        *e = (*e).min(sunset);
    }
    earliest.into_iter().fold(negotiator, |n, (v, sunset)| n.deprecate(v, sunset))
}

/// Once a second: ends parked sessions whose reconnect window has passed
/// (rooms expire their own seats on their ticks; this frees the sessions),
/// forgets the create buckets that are full again, copies the tick
/// drivers' and the durable session writer's counts into `/metrics`, and
/// takes the monitor's reading for its charts.
async fn sweep(state: Arc<AppState>) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let n = state.conn.sessions.sweep(std::time::Instant::now());
        if n > 0 {
            tracing::debug!(sessions = n, "parked sessions expired");
        }
        state.registry.sweep();
        state.registry.publish_driver_stats();
        if let Some(m) = &state.monitor {
            m.sample(&state.metrics);
        }
        if let Some(log) = state.conn.sessions.durable() {
            let dropped = &state.metrics.cluster.session_writes_dropped;
            dropped.inc_by(log.dropped().saturating_sub(dropped.get()));
        }
    }
}

/// A server running on its own thread (see [`BoundServer::spawn`]); stopped
/// at once (no drain) when dropped.
pub struct RunningServer {
    addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    shutdown: ShutdownHandle,
    metrics: Arc<Metrics>,
    tls: Option<TlsReloader>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's metrics.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Reloads the TLS certificate and key; `None` for a plain HTTP server.
    /// (A spawned server leaves signals alone, so SIGHUP does not.)
    pub fn tls_reloader(&self) -> Option<TlsReloader> {
        self.tls.clone()
    }

    /// Starts a graceful shutdown (as SIGTERM would) and returns at once;
    /// see [`ShutdownHandle::shutdown`]. [`RunningServer::join`] or
    /// [`ShutdownHandle::stopped`] wait for its end.
    pub fn shutdown(&self) {
        self.shutdown.shutdown();
    }

    /// A handle to shut the server down gracefully from elsewhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Waits (blocking) until the server thread ends, e.g. after
    /// [`RunningServer::shutdown`], and returns what `run` returned.
    pub fn join(mut self) -> io::Result<()> {
        match self.thread.take() {
            Some(t) => t.join().map_err(|_| io::Error::other("server thread panicked"))?,
            None => Ok(()),
        }
    }

    /// Stops the server at once (connections are dropped, no drain) and
    /// waits for its thread.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(t) = self.thread.take() {
            let h = self.handle.clone();
            std::thread::spawn(move || actix_rt::System::new().block_on(h.stop(false))).join().ok();
            let _ = t.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Codec;

    #[test]
    fn a_version_any_room_type_deprecates_is_deprecated_with_the_earliest_sunset() {
        let d = |s: &str| s.parse::<Sunset>().unwrap();
        let n = Negotiator::new("arena", [3, 2, 1], [Codec::Proto]);
        let n = deprecate_versions(n, [(1, d("2027-06-30")), (2, d("2028-01-01")), (1, d("2027-03-01"))]);
        assert_eq!(n.deprecation(1).and_then(|x| x.sunset), Some(d("2027-03-01")));
        assert_eq!(n.deprecation(2).and_then(|x| x.sunset), Some(d("2028-01-01")));
        assert_eq!(n.deprecation(3), None);
    }
}
