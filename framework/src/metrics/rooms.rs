//! What a room touches on its hot path: its room type's metrics, resolved
//! once per room ([`RoomTypeMetrics`]), and the server's running tick sums
//! for the monitor ([`TickTotals`]).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Every room's ticks, summed since start, seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TickSums {
    /// Total time spent running ticks.
    pub duration_sum: f64,
    /// Total lateness of tick starts.
    pub lateness_sum: f64,
    /// Ticks run.
    pub count: u64,
}

/// The running sums behind [`TickSums`], shared by every room of a server
/// (the histograms cannot be read back). Kept only once a monitor asks
/// ([`Metrics::keep_tick_sums`]): three adds a tick on one cache line that
/// every room thread writes would otherwise cost each server that never
/// reads them; until then a tick reads a flag that nobody writes.
#[derive(Debug, Default)]
pub struct TickTotals {
    kept: std::sync::atomic::AtomicBool,
    duration_ns: AtomicU64,
    lateness_ns: AtomicU64,
    count: AtomicU64,
}

impl TickTotals {
    /// Adds one tick that took `duration` and started `lateness` late
    /// (nothing unless kept).
    pub fn add(&self, duration: std::time::Duration, lateness: std::time::Duration) {
        if !self.kept.load(Ordering::Relaxed) {
            return;
        }
        let ns = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.duration_ns.fetch_add(ns(duration), Ordering::Relaxed);
        self.lateness_ns.fetch_add(ns(lateness), Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Starts keeping the sums (until then [`TickTotals::add`] does nothing).
    pub(crate) fn keep(&self) {
        self.kept.store(true, Ordering::Relaxed);
    }

    /// The sums so far.
    pub fn read(&self) -> TickSums {
        TickSums {
            duration_sum: self.duration_ns.load(Ordering::Relaxed) as f64 / 1e9,
            lateness_sum: self.lateness_ns.load(Ordering::Relaxed) as f64 / 1e9,
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// The metrics of one room type, resolved once per room.
#[derive(Clone, Debug)]
pub struct RoomTypeMetrics {
    /// Rooms of this type alive.
    pub rooms: Gauge,
    /// Time spent in inputs + `on_tick`, seconds.
    pub tick_duration: Histogram,
    /// How late each tick started, seconds.
    pub tick_lateness: Histogram,
    /// The server's running tick sums (every room type).
    pub tick_totals: Arc<TickTotals>,
    /// Ticks run.
    pub ticks: Counter,
    /// Ticks skipped (more than a period late).
    pub ticks_skipped: Counter,
    /// Payload encodes (one per group per broadcast).
    pub encodes: Counter,
    /// State frames encoded as deltas (one per group and baseline).
    pub state_deltas: Counter,
    /// State frames whose payload was compressed.
    pub states_compressed: Counter,
    /// Unsent state frames replaced by newer ones.
    pub state_frames_dropped: Counter,
    /// Inputs dropped because the room's inbox was full.
    pub inputs_dropped: Counter,
    /// Panics in room code.
    pub panics: Counter,
    /// Restarts after a panic.
    pub restarts: Counter,
    /// Clients closed with 4008.
    pub slow_clients: Counter,
}
