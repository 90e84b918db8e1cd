//! Graceful shutdown: the [`ShutdownHandle`] that starts it, the drain plan
//! ([`Drain`], a plain state machine driven with made-up instants in its
//! tests), and the loop that carries the plan out.
//!
//! A shutdown (SIGTERM, SIGINT, or [`ShutdownHandle::shutdown`]) goes:
//!
//! 1. **Draining** at once: `/readyz` answers 503 and new WebSocket
//!    upgrades are refused with 503.
//! 2. **Notice**: every connection writes `Shutdown { reconnect_after_ms }`
//!    and refuses joins from then on. The plan waits until each has written
//!    it (at most a quarter of the drain deadline): a connection forwards an
//!    input to its room before it writes the notice, so from then on every
//!    input read before the notice is in a room's mailbox.
//! 3. **Rooms**: each room processes its mailbox, runs one more tick,
//!    `on_shutdown`, and is disposed (at most until half the deadline).
//! 4. **Close**: every connection is closed with 1001, after what it has
//!    queued; the plan waits for the connections to go (at most until the
//!    deadline).
//! 5. The HTTP server and the room arbiters stop; `run` returns `Ok`.
//!
//! A second SIGTERM / SIGINT during the drain skips what is left of it.

use super::AppState;
use crate::protocol::CloseCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// How often the drain loop looks at its progress (it also wakes at each
/// phase deadline).
const POLL: Duration = Duration::from_millis(5);

/// The close reason that goes with 1001.
pub(crate) const SHUTDOWN_REASON: &str = "server shutting down";

/// Where a server is in its life; shared by the routes, the run loop and
/// every [`ShutdownHandle`].
#[derive(Debug)]
pub(crate) struct Lifecycle {
    draining: AtomicBool,
    forced: AtomicBool,
    wake: Notify,
    stopped: watch::Sender<bool>,
}

impl Lifecycle {
    pub(crate) fn new() -> Self {
        Lifecycle {
            draining: AtomicBool::new(false),
            forced: AtomicBool::new(false),
            wake: Notify::new(),
            stopped: watch::Sender::new(false),
        }
    }

    /// Starts the drain; returns whether this call started it.
    pub(crate) fn begin(&self) -> bool {
        let first = !self.draining.swap(true, Ordering::SeqCst);
        self.wake.notify_one();
        first
    }

    /// Skips whatever is left of the drain.
    pub(crate) fn force(&self) {
        self.forced.store(true, Ordering::SeqCst);
        self.begin();
    }

    /// A signal arrived: the first starts the drain, the next one forces it.
    fn signal(&self) {
        if !self.begin() {
            tracing::warn!("second shutdown signal: stopping without waiting for the drain");
            self.force();
        }
    }

    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub(crate) fn is_forced(&self) -> bool {
        self.forced.load(Ordering::SeqCst)
    }

    /// Resolves once a shutdown has been asked for.
    pub(crate) async fn requested(&self) {
        while !self.is_draining() {
            self.wake.notified().await;
        }
    }

    pub(crate) fn set_stopped(&self) {
        self.stopped.send_replace(true);
    }
}

/// Starts a graceful shutdown of a server, from anywhere (any thread, inside
/// or outside the server's actix system). Cheap to clone.
///
/// ```no_run
/// # async fn example(server: playhouse::server::BoundServer) -> std::io::Result<()> {
/// let shutdown = server.shutdown_handle();
/// let running = actix_rt::spawn(server.run());
/// // ... later, e.g. when the orchestrator says so:
/// shutdown.shutdown();
/// shutdown.stopped().await; // every connection closed (or the drain deadline passed)
/// running.await.expect("server task")?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    lifecycle: Arc<Lifecycle>,
}

impl ShutdownHandle {
    pub(crate) fn new(lifecycle: Arc<Lifecycle>) -> Self {
        ShutdownHandle { lifecycle }
    }

    /// Starts the graceful shutdown and returns at once: `/readyz` turns
    /// 503 and upgrades are refused right away; then every client gets
    /// `Shutdown` and close 1001, every room `on_shutdown`, and the server
    /// stops when the connections are gone or `drain_timeout` has passed.
    /// Calling it again does nothing.
    pub fn shutdown(&self) {
        if self.lifecycle.begin() {
            tracing::info!("graceful shutdown requested");
        }
    }

    /// Whether a shutdown has started.
    pub fn is_draining(&self) -> bool {
        self.lifecycle.is_draining()
    }

    /// Whether the server has stopped.
    pub fn is_stopped(&self) -> bool {
        *self.lifecycle.stopped.borrow()
    }

    /// Resolves once the server has stopped (after a drain, or a plain stop).
    pub async fn stopped(&self) {
        let mut rx = self.lifecycle.stopped.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }
}

/// Listens for SIGTERM and SIGINT for as long as it runs.
pub(crate) async fn listen_for_signals(lifecycle: Arc<Lifecycle>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            tracing::error!("cannot listen for SIGTERM / SIGINT; graceful shutdown only through a ShutdownHandle");
            return;
        };
        loop {
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
            tracing::info!(signal = name, "shutdown signal");
            lifecycle.signal();
        }
    }
    #[cfg(not(unix))]
    while tokio::signal::ctrl_c().await.is_ok() {
        tracing::info!(signal = "ctrl-c", "shutdown signal");
        lifecycle.signal();
    }
}

/// What the drain has to wait for, as last looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Progress {
    /// Connections that have not written the notice yet (and still can).
    pub unnoticed: usize,
    /// Rooms told to shut down that have not finished.
    pub rooms: usize,
    /// Open connections.
    pub open: usize,
    /// A second signal asked to skip the rest.
    pub forced: bool,
}

/// What the drain loop does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Queue the `Shutdown` notice for every connection.
    Notify,
    /// Tell every room to shut down.
    ShutDownRooms,
    /// Queue close 1001 for every connection.
    CloseConnections,
    /// Nothing to do before this instant (or before progress changes).
    Wait(Instant),
    /// Stop the server.
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Notice,
    Rooms,
    Closing,
    Done,
}

/// The drain plan: which step comes next, given the progress so far and
/// the time. Each phase ends when what it waits for is done or at its
/// deadline: the notice at a quarter of `timeout`, the rooms at half, the
/// connections at `timeout`.
#[derive(Debug, Clone)]
pub(crate) struct Drain {
    phase: Phase,
    notice_by: Instant,
    rooms_by: Instant,
    deadline: Instant,
}

impl Drain {
    pub(crate) fn new(start: Instant, timeout: Duration) -> Self {
        Drain {
            phase: Phase::Start,
            notice_by: start + timeout / 4,
            rooms_by: start + timeout / 2,
            deadline: start + timeout,
        }
    }

    pub(crate) fn step(&mut self, now: Instant, p: Progress) -> Step {
        if p.forced {
            self.phase = Phase::Done;
        }
        loop {
            match self.phase {
                Phase::Start => {
                    self.phase = Phase::Notice;
                    return Step::Notify;
                }
                Phase::Notice if p.unnoticed == 0 || now >= self.notice_by => {
                    if p.unnoticed > 0 {
                        tracing::warn!(connections = p.unnoticed, "shutdown notice not written in time; going on");
                    }
                    self.phase = Phase::Rooms;
                    return Step::ShutDownRooms;
                }
                Phase::Notice => return Step::Wait(self.notice_by),
                Phase::Rooms if p.rooms == 0 || now >= self.rooms_by => {
                    if p.rooms > 0 {
                        tracing::warn!(rooms = p.rooms, "rooms did not finish shutting down in time; going on");
                    }
                    self.phase = Phase::Closing;
                    return Step::CloseConnections;
                }
                Phase::Rooms => return Step::Wait(self.rooms_by),
                Phase::Closing if p.open == 0 || now >= self.deadline => {
                    if p.open > 0 {
                        tracing::warn!(connections = p.open, "drain deadline passed; dropping the connections left");
                    }
                    self.phase = Phase::Done;
                }
                Phase::Closing => return Step::Wait(self.deadline),
                Phase::Done => return Step::Stop,
            }
        }
    }
}

/// Carries out the drain plan against the live server; returns when the
/// server may stop.
pub(crate) async fn drain(state: &AppState) {
    let started = Instant::now();
    let conn = &state.conn;
    let reconnect_after_ms = u32::try_from(state.config.reconnect_after.as_millis()).unwrap_or(u32::MAX);
    let rooms_left = Arc::new(AtomicUsize::new(0));
    let mut plan = Drain::new(started, state.config.drain_timeout);
    tracing::info!(
        connections = conn.open.load(Ordering::Acquire),
        deadline_secs = state.config.drain_timeout.as_secs_f64(),
        "draining"
    );
    let cluster = state.registry.cluster().filter(|c| c.failover().is_some() && c.healthy()).cloned();
    let has_peer = match cluster {
        Some(c) => c.live_peers().await > 0,
        None => false,
    };
    if has_peer {
        // A cluster node with somewhere to go: its rooms move on live, and
        // their clients are told where (`Shutdown.url`) before the notice
        // below reaches everyone else. Half the drain time at most.
        let deadline = started + state.config.drain_timeout / 2;
        // The successor holds the sessions already: no wait before moving.
        let n = state.registry.hand_over_all(0, deadline).await;
        tracing::info!(rooms = n, elapsed_ms = started.elapsed().as_millis() as u64, "rooms handed over");
    }
    loop {
        let now = Instant::now();
        let progress = Progress {
            unnoticed: conn.live.unnoticed(),
            rooms: rooms_left.load(Ordering::Acquire),
            open: conn.open.load(Ordering::Acquire),
            forced: state.lifecycle.is_forced(),
        };
        match plan.step(now, progress) {
            Step::Notify => conn.live.notice_all(reconnect_after_ms, now),
            Step::ShutDownRooms => {
                for info in state.registry.list(None) {
                    let Some(port) = state.registry.get(&info.id).and_then(|h| h.port().map(|p| p.shutdown())) else {
                        continue;
                    };
                    rooms_left.fetch_add(1, Ordering::AcqRel);
                    let left = rooms_left.clone();
                    actix_rt::spawn(async move {
                        port.await;
                        left.fetch_sub(1, Ordering::AcqRel);
                    });
                }
            }
            Step::CloseConnections => conn.live.close_all(CloseCode::GoingAway, SHUTDOWN_REASON, now),
            Step::Wait(until) => {
                let wait = until.saturating_duration_since(now).min(POLL);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    // A second signal, at once.
                    () = state.lifecycle.wake.notified() => {}
                }
            }
            Step::Stop => break,
        }
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        connections_left = conn.open.load(Ordering::Acquire),
        "drained"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(unnoticed: usize, rooms: usize, open: usize) -> Progress {
        Progress { unnoticed, rooms, open, forced: false }
    }

    #[test]
    fn each_phase_ends_as_soon_as_what_it_waits_for_is_done() {
        let t0 = Instant::now();
        let mut d = Drain::new(t0, Duration::from_secs(10));
        assert_eq!(d.step(t0, progress(0, 0, 3)), Step::Notify);
        assert_eq!(d.step(t0, progress(3, 0, 3)), Step::Wait(t0 + Duration::from_millis(2500)));
        assert_eq!(d.step(t0, progress(0, 0, 3)), Step::ShutDownRooms);
        assert_eq!(d.step(t0, progress(0, 2, 3)), Step::Wait(t0 + Duration::from_secs(5)));
        assert_eq!(d.step(t0, progress(0, 0, 3)), Step::CloseConnections);
        assert_eq!(d.step(t0, progress(0, 0, 1)), Step::Wait(t0 + Duration::from_secs(10)));
        assert_eq!(d.step(t0, progress(0, 0, 0)), Step::Stop);
        assert_eq!(d.step(t0, progress(0, 0, 0)), Step::Stop, "stays stopped");
    }

    #[test]
    fn a_phase_that_never_finishes_ends_at_its_deadline() {
        let t0 = Instant::now();
        let secs = Duration::from_secs;
        let mut d = Drain::new(t0, secs(8));
        let stuck = progress(1, 1, 1);
        assert_eq!(d.step(t0, stuck), Step::Notify);
        assert_eq!(d.step(t0 + secs(1), stuck), Step::Wait(t0 + secs(2)));
        assert_eq!(d.step(t0 + secs(2), stuck), Step::ShutDownRooms);
        assert_eq!(d.step(t0 + secs(3), stuck), Step::Wait(t0 + secs(4)));
        assert_eq!(d.step(t0 + secs(4), stuck), Step::CloseConnections);
        assert_eq!(d.step(t0 + secs(7), stuck), Step::Wait(t0 + secs(8)));
        assert_eq!(d.step(t0 + secs(8), stuck), Step::Stop);
    }

    #[test]
    fn an_idle_server_goes_through_every_step_without_waiting() {
        let t0 = Instant::now();
        let mut d = Drain::new(t0, Duration::from_secs(10));
        let steps: Vec<Step> = (0..4).map(|_| d.step(t0, progress(0, 0, 0))).collect();
        assert_eq!(steps, [Step::Notify, Step::ShutDownRooms, Step::CloseConnections, Step::Stop]);
    }

    #[test]
    fn forcing_skips_the_rest_of_the_drain() {
        let t0 = Instant::now();
        let mut d = Drain::new(t0, Duration::from_secs(10));
        assert_eq!(d.step(t0, progress(2, 0, 2)), Step::Notify);
        let forced = Progress { forced: true, ..progress(2, 0, 2) };
        assert_eq!(d.step(t0, forced), Step::Stop);
    }

    #[test]
    fn a_second_signal_forces_and_handles_see_the_drain() {
        let lifecycle = Arc::new(Lifecycle::new());
        let handle = ShutdownHandle::new(lifecycle.clone());
        assert!(!handle.is_draining());
        lifecycle.signal();
        assert!(handle.is_draining() && !lifecycle.is_forced());
        handle.shutdown();
        assert!(!lifecycle.is_forced(), "a programmatic shutdown never forces");
        lifecycle.signal();
        assert!(lifecycle.is_forced());
    }
}
