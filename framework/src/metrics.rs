//! `/metrics`: one Prometheus (OpenMetrics text) registry per server, so
//! several servers in one process (tests, benches) never mix their figures.
//!
//! Hot paths never look up a label: each room actor resolves its room
//! type's metrics once ([`RoomTypeMetrics`]) and then only touches atomics.

mod cluster;
mod rooms;

pub use cluster::ClusterMetrics;
pub use rooms::{RoomTypeMetrics, TickSums, TickTotals};

use crate::protocol::Token;
use crate::transport::TransportObserver;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoomTypeLabel {
    room_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WhyLabel {
    why: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CapLabel {
    cap: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtocolLabel {
    protocol: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

type HistogramFamily = Family<RoomTypeLabel, Histogram, fn() -> Histogram>;

fn tick_buckets() -> Histogram {
    // 50 µs .. ~1.6 s
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every metric a server exposes.
pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub connections_open: Gauge,
    /// Connections accepted since start.
    pub connections_total: Counter,
    /// Open connections, by negotiated token (a label per token the server
    /// speaks, so bounded).
    connections_open_by_protocol: Family<ProtocolLabel, Gauge>,
    /// Connections accepted since start, by negotiated token.
    connections_by_protocol: Family<ProtocolLabel, Counter>,
    /// Upgrades refused before the handshake, by HTTP status.
    handshake_refused: Family<StatusLabel, Counter>,
    /// Messages received (whole messages).
    pub messages_in: Counter,
    /// Frames sent.
    pub messages_out: Counter,
    /// Payload bytes received.
    pub bytes_in: Counter,
    /// Payload bytes sent.
    pub bytes_out: Counter,
    closes: Family<CodeLabel, Counter>,
    /// Sessions parked after a lost connection.
    pub sessions_parked: Counter,
    /// Sessions that exist now, attached or parked (set when `/metrics` is
    /// rendered, from the session map itself).
    pub sessions: Gauge,
    sessions_evicted: Family<WhyLabel, Counter>,
    sessions_park_refused: Family<CapLabel, Counter>,
    /// Messages over a connection's rate limit.
    pub rate_limited: Counter,
    resumes: Family<ResultLabel, Counter>,
    creates_refused: Family<ReasonLabel, Counter>,
    rooms: Family<RoomTypeLabel, Gauge>,
    tick_duration: HistogramFamily,
    tick_lateness: HistogramFamily,
    ticks: Family<RoomTypeLabel, Counter>,
    ticks_skipped: Family<RoomTypeLabel, Counter>,
    encodes: Family<RoomTypeLabel, Counter>,
    state_deltas: Family<RoomTypeLabel, Counter>,
    states_compressed: Family<RoomTypeLabel, Counter>,
    state_frames_dropped: Family<RoomTypeLabel, Counter>,
    inputs_dropped: Family<RoomTypeLabel, Counter>,
    room_panics: Family<RoomTypeLabel, Counter>,
    room_restarts: Family<RoomTypeLabel, Counter>,
    slow_clients: Family<RoomTypeLabel, Counter>,
    /// Time the tick drivers spent firing (`room::TickDriver`).
    pub tick_driver_cpu: Counter<f64, std::sync::atomic::AtomicU64>,
    /// Times the tick drivers woke up.
    pub tick_driver_wakeups: Counter,
    /// How late the tick drivers' timers woke after the earliest deadline
    /// they fired, seconds: the host's and the thread's precision, before
    /// any room runs (a tick's own lateness adds its wait behind the
    /// thread's other work).
    pub tick_driver_lateness: Histogram,
    /// The cluster's figures (zero on a server without a cluster backend).
    pub cluster: ClusterMetrics,
    /// Every room's tick time and lateness, summed (the monitor's charts).
    tick_totals: Arc<TickTotals>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered under `playhouse_`.
    pub fn new() -> Self {
        Self::with_cluster(ClusterMetrics::default())
    }

    /// A fresh registry that also shows `cluster` (the figures a cluster
    /// backend counts into, see `Backend::metrics`).
    pub fn with_cluster(cluster: ClusterMetrics) -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("playhouse"),
            connections_open: Gauge::default(),
            connections_total: Counter::default(),
            connections_open_by_protocol: Family::default(),
            connections_by_protocol: Family::default(),
            handshake_refused: Family::default(),
            messages_in: Counter::default(),
            messages_out: Counter::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            closes: Family::default(),
            sessions_parked: Counter::default(),
            sessions: Gauge::default(),
            sessions_evicted: Family::default(),
            sessions_park_refused: Family::default(),
            rate_limited: Counter::default(),
            resumes: Family::default(),
            creates_refused: Family::default(),
            rooms: Family::default(),
            tick_duration: Family::new_with_constructor(tick_buckets),
            tick_lateness: Family::new_with_constructor(tick_buckets),
            ticks: Family::default(),
            ticks_skipped: Family::default(),
            tick_driver_cpu: Counter::default(),
            tick_driver_wakeups: Counter::default(),
            tick_driver_lateness: tick_buckets(),
            encodes: Family::default(),
            state_deltas: Family::default(),
            states_compressed: Family::default(),
            state_frames_dropped: Family::default(),
            inputs_dropped: Family::default(),
            room_panics: Family::default(),
            room_restarts: Family::default(),
            slow_clients: Family::default(),
            cluster,
            tick_totals: Arc::default(),
        };
        let r = &mut m.registry;
        r.register("connections_open", "Open WebSocket connections", m.connections_open.clone());
        r.register("connections", "WebSocket connections accepted", m.connections_total.clone());
        r.register(
            "connections_open_by_protocol",
            "Open WebSocket connections, by negotiated subprotocol token",
            m.connections_open_by_protocol.clone(),
        );
        r.register(
            "connections_by_protocol",
            "WebSocket connections accepted, by negotiated subprotocol token",
            m.connections_by_protocol.clone(),
        );
        r.register(
            "handshakes_refused",
            "Upgrades refused before the handshake, by HTTP status",
            m.handshake_refused.clone(),
        );
        r.register("messages_in", "Whole messages received", m.messages_in.clone());
        r.register("messages_out", "Frames sent", m.messages_out.clone());
        r.register("bytes_in", "Payload bytes received", m.bytes_in.clone());
        r.register("bytes_out", "Payload bytes sent", m.bytes_out.clone());
        r.register("closes", "Connections closed by the server, by close code", m.closes.clone());
        r.register("rate_limited", "Messages over a connection's rate limit", m.rate_limited.clone());
        r.register("sessions_parked", "Sessions parked after a lost connection", m.sessions_parked.clone());
        r.register("sessions", "Sessions that exist now, attached or parked", m.sessions.clone());
        r.register(
            "sessions_evicted",
            "Parked sessions ended early to make room for another, by the cap reached (address, user, global)",
            m.sessions_evicted.clone(),
        );
        r.register(
            "sessions_park_refused",
            "Lost connections whose session was not parked because a parking cap was full, by cap",
            m.sessions_park_refused.clone(),
        );
        r.register(
            "session_resumes",
            "Resume attempts by result (replayed, resync, expired, refused)",
            m.resumes.clone(),
        );
        r.register(
            "creates_refused",
            "Room creates refused, by reason (server_limit, type_limit, session_budget, address_budget)",
            m.creates_refused.clone(),
        );
        r.register("rooms", "Rooms alive, by type", m.rooms.clone());
        r.register("tick_duration_seconds", "Time spent running a tick (inputs + on_tick)", m.tick_duration.clone());
        r.register("tick_lateness_seconds", "How late a tick started after its due time", m.tick_lateness.clone());
        r.register("ticks", "Ticks run", m.ticks.clone());
        r.register("ticks_skipped", "Ticks skipped for being more than one period late", m.ticks_skipped.clone());
        r.register(
            "tick_driver_cpu_seconds",
            "Time the tick drivers spent waking rooms at their deadlines (one per arbiter, on its thread)",
            m.tick_driver_cpu.clone(),
        );
        r.register("tick_driver_wakeups", "Times the tick drivers' timers fired", m.tick_driver_wakeups.clone());
        r.register(
            "tick_driver_lateness_seconds",
            "How late the tick drivers' timers woke after the earliest deadline they fired (before any room ran)",
            m.tick_driver_lateness.clone(),
        );
        r.register("encodes", "Payload encodes (one per (version, codec) group per broadcast)", m.encodes.clone());
        r.register(
            "state_deltas",
            "State frames encoded as a delta against the state a client acknowledged (one per group and baseline)",
            m.state_deltas.clone(),
        );
        r.register(
            "states_compressed",
            "State frames whose payload was compressed for the clients that asked (one per group, baseline and compression)",
            m.states_compressed.clone(),
        );
        r.register(
            "state_frames_dropped",
            "Unsent state frames replaced by a newer state",
            m.state_frames_dropped.clone(),
        );
        r.register("inputs_dropped", "Inputs dropped because a room's inbox was full", m.inputs_dropped.clone());
        r.register("room_panics", "Panics in room code", m.room_panics.clone());
        r.register("room_restarts", "Rooms restarted by their supervisor after a panic", m.room_restarts.clone());
        r.register("slow_clients", "Clients disconnected as stalled readers (4008)", m.slow_clients.clone());
        m.cluster.register(r);
        m
    }

    /// The metrics of one room type.
    pub fn room_type(&self, name: &str) -> RoomTypeMetrics {
        let l = RoomTypeLabel { room_type: name.to_string() };
        RoomTypeMetrics {
            rooms: self.rooms.get_or_create(&l).clone(),
            tick_duration: self.tick_duration.get_or_create(&l).clone(),
            tick_lateness: self.tick_lateness.get_or_create(&l).clone(),
            tick_totals: self.tick_totals.clone(),
            ticks: self.ticks.get_or_create(&l).clone(),
            ticks_skipped: self.ticks_skipped.get_or_create(&l).clone(),
            encodes: self.encodes.get_or_create(&l).clone(),
            state_deltas: self.state_deltas.get_or_create(&l).clone(),
            states_compressed: self.states_compressed.get_or_create(&l).clone(),
            state_frames_dropped: self.state_frames_dropped.get_or_create(&l).clone(),
            inputs_dropped: self.inputs_dropped.get_or_create(&l).clone(),
            panics: self.room_panics.get_or_create(&l).clone(),
            restarts: self.room_restarts.get_or_create(&l).clone(),
            slow_clients: self.slow_clients.get_or_create(&l).clone(),
        }
    }

    /// Counts a connection that started speaking `token`.
    pub fn protocol_opened(&self, token: &Token) {
        let l = ProtocolLabel { protocol: token.to_string() };
        self.connections_open_by_protocol.get_or_create(&l).inc();
        self.connections_by_protocol.get_or_create(&l).inc();
    }

    /// Counts the end of a connection that spoke `token`.
    pub fn protocol_closed(&self, token: &Token) {
        self.connections_open_by_protocol.get_or_create(&ProtocolLabel { protocol: token.to_string() }).dec();
    }

    /// Connections open now that negotiated `protocol` (a token, e.g.
    /// `arena.v1.msgpack`).
    pub fn connections_open_with(&self, protocol: &str) -> i64 {
        self.connections_open_by_protocol.get_or_create(&ProtocolLabel { protocol: protocol.to_string() }).get()
    }

    /// Connections accepted since start that negotiated `protocol`.
    pub fn connections_with(&self, protocol: &str) -> u64 {
        self.connections_by_protocol.get_or_create(&ProtocolLabel { protocol: protocol.to_string() }).get()
    }

    /// Counts an upgrade refused with HTTP `status`.
    pub fn handshake_refused(&self, status: u16) {
        self.handshake_refused.get_or_create(&StatusLabel { status }).inc();
    }

    /// Counts a resume attempt: `replayed`, `resync`, `expired` or `refused`.
    pub fn resume(&self, result: &'static str) {
        self.resumes.get_or_create(&ResultLabel { result }).inc();
    }

    /// How many resumes ended with `result`.
    pub fn resumes_with(&self, result: &'static str) -> u64 {
        self.resumes.get_or_create(&ResultLabel { result }).get()
    }

    /// Counts a parked session ended to make room at cap `why` (`address`,
    /// `user` or `global`).
    pub fn session_evicted(&self, why: &'static str) {
        self.sessions_evicted.get_or_create(&WhyLabel { why }).inc();
    }

    /// How many parked sessions gave way at cap `why`.
    pub fn sessions_evicted_with(&self, why: &'static str) -> u64 {
        self.sessions_evicted.get_or_create(&WhyLabel { why }).get()
    }

    /// Counts a lost connection's session not parked because `cap` was full.
    pub fn session_park_refused(&self, cap: &'static str) {
        self.sessions_park_refused.get_or_create(&CapLabel { cap }).inc();
    }

    /// How many sessions were not parked because `cap` was full.
    pub fn session_park_refusals_with(&self, cap: &'static str) -> u64 {
        self.sessions_park_refused.get_or_create(&CapLabel { cap }).get()
    }

    /// Counts a refused room create: `server_limit`, `type_limit`,
    /// `session_budget` or `address_budget`.
    pub fn create_refused(&self, reason: &'static str) {
        self.creates_refused.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// How many creates were refused for `reason`.
    pub fn creates_refused_for(&self, reason: &'static str) -> u64 {
        self.creates_refused.get_or_create(&ReasonLabel { reason }).get()
    }

    /// How many connections the server closed with `code`.
    pub fn closes_with(&self, code: u16) -> u64 {
        self.closes.get_or_create(&CodeLabel { code }).get()
    }

    /// Sums every room's ticks from now on, for [`Metrics::tick_sums`]
    /// (the server calls it when a monitor is configured).
    pub fn keep_tick_sums(&self) {
        self.tick_totals.keep();
    }

    /// What every room's ticks took and how late they started, summed
    /// since [`Metrics::keep_tick_sums`] (what the monitor's charts take
    /// differences of; zero if it was never called).
    pub fn tick_sums(&self) -> TickSums {
        self.tick_totals.read()
    }

    /// How many connections the server closed, per close code, for every
    /// code it has closed with (codes it never used are left out).
    pub fn closes_by_code(&self) -> Vec<(u16, u64)> {
        // The family cannot be iterated; the codes a server sends are few
        // and known (RFC 6455's and Playhouse's 4000 range).
        (1000..=1015)
            .chain(4000..=4099)
            .filter_map(|code| self.closes.get(&CodeLabel { code }).map(|c| (code, c.get())))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// The registry rendered as OpenMetrics text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl TransportObserver for Metrics {
    fn message_in(&self, bytes: usize) {
        self.messages_in.inc();
        self.bytes_in.inc_by(bytes as u64);
    }

    fn message_out(&self, bytes: usize) {
        self.messages_out.inc();
        self.bytes_out.inc_by(bytes as u64);
    }

    fn closed(&self, code: u16) {
        self.closes.get_or_create(&CodeLabel { code }).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_counted_per_negotiated_token() {
        let m = Metrics::new();
        let v1: Token = "arena.v1.msgpack".parse().unwrap();
        let v2: Token = "arena.v2.proto".parse().unwrap();
        m.protocol_opened(&v1);
        m.protocol_opened(&v1);
        m.protocol_opened(&v2);
        m.protocol_closed(&v1);
        assert_eq!((m.connections_open_with("arena.v1.msgpack"), m.connections_with("arena.v1.msgpack")), (1, 2));
        assert_eq!((m.connections_open_with("arena.v2.proto"), m.connections_with("arena.v2.proto")), (1, 1));
        let text = m.render();
        assert!(text.contains("playhouse_connections_open_by_protocol{protocol=\"arena.v1.msgpack\"} 1"), "{text}");
        assert!(text.contains("playhouse_connections_by_protocol_total{protocol=\"arena.v1.msgpack\"} 2"), "{text}");
    }

    #[test]
    fn tick_sums_and_close_codes_read_back() {
        use std::time::Duration;
        let m = Metrics::new();
        // Not kept: nothing summed.
        m.room_type("arena").tick_totals.add(Duration::from_millis(9), Duration::from_millis(9));
        assert_eq!(m.tick_sums(), TickSums::default());
        m.keep_tick_sums();
        m.room_type("arena").tick_totals.add(Duration::from_millis(2), Duration::from_millis(1));
        m.room_type("lobby").tick_totals.add(Duration::from_millis(4), Duration::ZERO);
        let s = m.tick_sums();
        assert_eq!(s.count, 2);
        assert!((s.duration_sum - 0.006).abs() < 1e-9 && (s.lateness_sum - 0.001).abs() < 1e-9);
        m.closed(4005);
        m.closed(4005);
        m.closed(1000);
        assert_eq!(m.closes_by_code(), vec![(1000, 1), (4005, 2)]);
    }
}
