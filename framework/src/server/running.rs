//! A bound server's life: [`BoundServer::run`] until it stops (the drain
//! on a graceful shutdown, then the rooms, the cluster's leases and the
//! arbiters), the once-a-second sweep beside it, and [`RunningServer`], a
//! server on a thread of its own.

use super::{shutdown, AppState, Server, ShutdownHandle, TlsReloader};
use crate::matchmaking::{Cluster, Registry};
use crate::metrics::Metrics;
use actix::Arbiter;
use actix_web::web;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

/// A bound, running server; `run` waits for it to stop.
pub struct BoundServer {
    pub(super) server: actix_web::dev::Server,
    pub(super) addrs: Vec<SocketAddr>,
    pub(super) state: web::Data<AppState>,
    pub(super) arbiters: Vec<Arbiter>,
    pub(super) signals: bool,
    pub(super) tls: Option<TlsReloader>,
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
        let reloads = tls.filter(|_| signals).map(|t| actix_rt::spawn(super::tls::reload_on_sighup(t)));
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
