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
mod running;
mod shutdown;
mod tls;

pub use config::ServerConfig;
pub use info::{Info, Limits, VersionStatus};
pub use monitor::MonitorConfig;
pub use running::{BoundServer, RunningServer};
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
use std::net::ToSocketAddrs;
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
