//! The load generator's report: one JSON object on stdout. Typed structs so
//! the keys come out in reading order (scenario, params, machine, results,
//! ratio).

use super::floor::FloorReport;
use super::pin::CpuPlan;
use super::procfs::Spent;
use super::syscalls::SyscallsPerDelivery;
use serde::Serialize;

/// The whole report of one run.
#[derive(Serialize, Debug)]
pub struct Report {
    /// The scenario's name, e.g. `fanout`.
    pub scenario: &'static str,
    /// The scenario's parameters.
    pub params: Params,
    /// Where it ran.
    pub machine: Machine,
    /// Which CPU the server and the load generator ran on.
    pub pinning: CpuPlan,
    /// One entry per target that was asked for.
    pub results: Results,
    /// Ratios between the targets that ran.
    pub ratio: Ratio,
}

/// Parameters of the fan-out scenario.
#[derive(Serialize, Debug, Clone)]
pub struct Params {
    /// R.
    pub rooms: usize,
    /// P.
    pub room_size: usize,
    /// R × P.
    pub clients: usize,
    /// T.
    pub hz: u32,
    /// S (filler bytes per state).
    pub state_bytes: usize,
    /// The wire size of one Playhouse state frame, WebSocket header
    /// included (`fanout::state_frame_bytes`): what the floor writes.
    pub frame_bytes: usize,
    /// D.
    pub duration_s: f64,
    /// Unmeasured seconds after everyone joined.
    pub warmup_s: f64,
    /// Codec the clients speak.
    pub codec: &'static str,
    /// Subprotocol the clients offer.
    pub subprotocol: &'static str,
    /// Clients connecting at once.
    pub connect_concurrency: usize,
    /// Playhouse ran its rooms on the room arbiters rather than on their
    /// creator's thread (`--rooms-on-arbiters`).
    pub rooms_on_arbiters: bool,
    /// Rooms each client joined (K).
    pub rooms_per_client: usize,
    /// Playhouse's rooms ticked on the shared grid (`--aligned-ticks`).
    pub aligned_ticks: bool,
    /// Reliable messages each Playhouse room broadcast per tick besides
    /// its state (`--messages-per-tick`).
    pub messages_per_tick: u32,
}

/// The machine the run happened on.
#[derive(Serialize, serde::Deserialize, Debug)]
pub struct Machine {
    /// Logical CPUs online (not only those this process is pinned to).
    pub cpus: usize,
    /// `model name` of /proc/cpuinfo.
    pub model: Option<String>,
}

impl Machine {
    /// Reads the CPU count and model from the OS.
    pub fn current() -> Machine {
        // SAFETY: sysconf only reads a configuration value.
        let cpus = usize::try_from(unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }).unwrap_or(0);
        let model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        });
        Machine { cpus, model }
    }
}

/// Results by target (a target not asked for is left out).
#[derive(Serialize, Debug, Default)]
pub struct Results {
    /// The Playhouse server (`fanout_playhouse`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playhouse: Option<Outcome>,
    /// The tokio-tungstenite peer (`fanout_peer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<Outcome>,
    /// The floor program (`floor`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor: Option<Outcome<FloorReport>>,
    /// The floor with one burst per room on its own phase (`floor --groups R`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_rooms: Option<Outcome<FloorReport>>,
}

/// A target's figures, or why there are none.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum Outcome<T = Measured> {
    /// The target ran.
    Measured(T),
    /// The target could not be run.
    Failed {
        /// What went wrong.
        error: String,
    },
}

impl<T> Outcome<T> {
    /// The figures, if the target ran.
    pub fn measured(&self) -> Option<&T> {
        match self {
            Outcome::Measured(m) => Some(m),
            Outcome::Failed { .. } => None,
        }
    }
}

/// The figures of one target over the measurement window.
#[derive(Serialize, Debug)]
pub struct Measured {
    /// State frames received by all clients per second.
    pub deliveries_per_sec: f64,
    /// R × P × T: what a server that drops nothing delivers.
    pub expected_deliveries_per_sec: u64,
    /// Tick→receipt latency (server encode → client decode), µs; `None`
    /// when nothing arrived.
    pub latency_us: Option<Latency>,
    /// Tick lateness from the server's own histogram (playhouse only).
    pub tick_lateness_ms: Option<Lateness>,
    /// How late the server's tick drivers woke, before any room ran
    /// (playhouse only; `ticks` counts wake-ups): the host's and the
    /// thread's part of `tick_lateness_ms`.
    pub driver_lateness_ms: Option<Lateness>,
    /// (RSS with everyone connected − RSS before connecting) / clients.
    pub rss_per_connection_kib: f64,
    /// The server's CPU time over the window / deliveries in it, µs (the
    /// process CPU-time clock, see `loadgen::procfs`).
    pub server_cpu_us_per_delivery: Option<f64>,
    /// The server's CPU time over the window, % of one CPU.
    pub server_cpu_percent: Option<f64>,
    /// How busy the server's CPU was over the window by `/proc/stat`, %
    /// (whoever ran there; the cross-check of `server_cpu_percent`).
    pub server_core_busy_percent: Option<f64>,
    /// The load generator's own CPU time over the window, % of one CPU:
    /// near 100 % (pinned) it, not the server, limits the deliveries.
    pub loadgen_cpu_percent: Option<f64>,
    /// The server's socket-write syscalls / deliveries, in the syscall
    /// window that follows the measured one (`None` when not counted).
    pub server_writes_per_delivery: Option<f64>,
    /// Every counted syscall per delivery (`loadgen::syscalls`).
    pub server_syscalls_per_delivery: Option<SyscallsPerDelivery>,
    /// Mean wire size of the state frames the clients received, WebSocket
    /// header included.
    pub state_frame_bytes: Option<f64>,
    /// Room messages the clients received per state (`--messages-per-tick`:
    /// each tick's messages and state count one write when they leave
    /// together).
    pub messages_per_delivery: Option<f64>,
    /// Where the server's threads may run, read during the window.
    pub server_threads: String,
    /// The server's raw counters over the window (`None`: /proc unreadable).
    pub server_window: Option<Spent>,
    /// The `perf record` data of this run, if profiled (its CPU figures then
    /// include the sampling's own cost).
    pub perf_data: Option<String>,
    /// Connect, join and decode failures and unexpected disconnects.
    pub errors: u64,
    /// Clients that joined a room.
    pub clients_joined: usize,
    /// How the clients got in, before the warm-up (`None`: not measured).
    pub way_in: Option<WayIn>,
    /// Length of the measurement window.
    pub measured_s: f64,
    /// Server RSS before the first client connected.
    pub rss_before_kib: u64,
    /// Server RSS at the end of the measurement.
    pub rss_after_kib: u64,
}

/// The connect-and-join phase: every client connecting (at most
/// `--connect-concurrency` at once) and joining, before the warm-up.
#[derive(Serialize, Debug, Clone, Copy)]
pub struct WayIn {
    /// From the first connect until every client has joined or failed
    /// (a failure may wait out the join timeout; only clients that joined
    /// are in the two histograms).
    pub seconds: f64,
    /// Clients joined per second over it.
    pub clients_per_sec: f64,
    /// Per client: TCP connect and the WebSocket upgrade, ms.
    pub upgrade_ms: Quantiles,
    /// Per client: from the `101` to its last `Joined`, ms.
    pub join_ms: Quantiles,
    /// The server's CPU time over the phase, % of one CPU.
    pub server_cpu_percent: Option<f64>,
    /// The server's CPU time over the phase per client that joined, µs:
    /// what admitting a client costs the server, whoever sets the pace.
    pub server_cpu_us_per_client: Option<f64>,
    /// The load generator's own CPU time over the phase, % of one CPU
    /// (pinned: near 100 %, it sets the pace).
    pub loadgen_cpu_percent: Option<f64>,
}

/// A median and a 99th percentile.
#[derive(Serialize, Debug, Clone, Copy)]
pub struct Quantiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// Latency quantiles in microseconds.
#[derive(Serialize, Debug, Clone, Copy)]
pub struct Latency {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
    /// Mean.
    pub mean: f64,
}

/// Tick lateness quantiles in milliseconds (interpolated within the
/// server's histogram buckets, see `prom`).
#[derive(Serialize, Debug, Clone, Copy)]
pub struct Lateness {
    /// Median.
    pub p50: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Ticks observed in the window.
    pub ticks: f64,
}

/// Ratios between the targets of one run; `None` where a side is missing.
#[derive(Serialize, Debug, Default)]
pub struct Ratio {
    /// Deliveries per second, playhouse / peer (> 1: playhouse delivers more).
    pub deliveries_per_sec: Option<f64>,
    /// p99 latency, playhouse / peer (< 1: playhouse is faster).
    pub latency_p99: Option<f64>,
    /// CPU µs per delivery / the floor's CPU µs per write.
    pub cpu_vs_floor: CpuVsFloor,
    /// CPU µs per delivery / the CPU µs per write of the floor with one
    /// burst per room (`floor_rooms`).
    pub cpu_vs_floor_rooms: CpuVsFloor,
    /// CPU µs per delivery, playhouse / peer (< 1: playhouse is cheaper).
    pub cpu_vs_peer: Option<f64>,
    /// Clients joined per second while everyone connects, playhouse / peer
    /// (issue 14 asks for at least 0.8). On a machine where the load
    /// generator is the busier side (`way_in.loadgen_cpu_percent` near
    /// 100), this measures the load generator; see `join_cpu_vs_peer`.
    pub join_rate_vs_peer: Option<f64>,
    /// The server's CPU per client joined, playhouse / peer: the join rate
    /// each server could sustain on a core of its own is the inverse.
    pub join_cpu_vs_peer: Option<f64>,
}

/// Each server's CPU per delivery over the floor's CPU per write.
#[derive(Serialize, Debug, Default)]
pub struct CpuVsFloor {
    /// Playhouse / floor.
    pub playhouse: Option<f64>,
    /// Peer / floor.
    pub peer: Option<f64>,
}

impl Ratio {
    /// The ratios of the measured targets.
    pub fn of(
        playhouse: Option<&Measured>,
        peer: Option<&Measured>,
        floor: Option<&FloorReport>,
        floor_rooms: Option<&FloorReport>,
    ) -> Ratio {
        let div = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        };
        let cpu = |m: Option<&Measured>| m.and_then(|m| m.server_cpu_us_per_delivery);
        let floor_cpu = floor.and_then(|f| f.cpu_us_per_write);
        let rooms_cpu = floor_rooms.and_then(|f| f.cpu_us_per_write);
        Ratio {
            deliveries_per_sec: div(playhouse.map(|p| p.deliveries_per_sec), peer.map(|q| q.deliveries_per_sec)),
            latency_p99: div(
                playhouse.and_then(|p| p.latency_us).map(|l| l.p99 as f64),
                peer.and_then(|q| q.latency_us).map(|l| l.p99 as f64),
            ),
            cpu_vs_floor: CpuVsFloor { playhouse: div(cpu(playhouse), floor_cpu), peer: div(cpu(peer), floor_cpu) },
            cpu_vs_floor_rooms: CpuVsFloor {
                playhouse: div(cpu(playhouse), rooms_cpu),
                peer: div(cpu(peer), rooms_cpu),
            },
            cpu_vs_peer: div(cpu(playhouse), cpu(peer)),
            join_rate_vs_peer: div(
                playhouse.and_then(|p| p.way_in).map(|w| w.clients_per_sec),
                peer.and_then(|q| q.way_in).map(|w| w.clients_per_sec),
            ),
            join_cpu_vs_peer: div(
                playhouse.and_then(|p| p.way_in).and_then(|w| w.server_cpu_us_per_client),
                peer.and_then(|q| q.way_in).and_then(|w| w.server_cpu_us_per_client),
            ),
        }
    }
}

impl Report {
    /// A table of the run for people (the JSON is for programs): per target
    /// its deliveries, CPU per delivery and its ratios, writes, RSS.
    pub fn summary(&self) -> String {
        let p = &self.params;
        let mut out = format!(
            "\nfanout {}×{} @ {} Hz, {} B filler (state frame {} B on the wire), {} s measured; {}\n",
            p.rooms, p.room_size, p.hz, p.state_bytes, p.frame_bytes, p.duration_s, self.pinning.note
        );
        out += &format!(
            "{:<10} {:>24} {:>12} {:>8} {:>7} {:>7} {:>7} {:>13} {:>12} {:>11}\n",
            "target",
            "deliveries/s (expected)",
            "CPU µs/deliv",
            "× floor",
            "× peer",
            "CPU %",
            "core %",
            "writes/deliv",
            "wakes/deliv",
            "RSS/client"
        );
        let num = |v: Option<f64>, digits: usize| v.map_or("—".to_string(), |v| format!("{v:.digits$}"));
        for (name, outcome) in [("playhouse", &self.results.playhouse), ("peer", &self.results.peer)] {
            match outcome {
                None => {}
                Some(Outcome::Failed { error }) => out += &format!("{name:<10} failed: {error}\n"),
                Some(Outcome::Measured(m)) => {
                    let vs_floor = if name == "playhouse" {
                        self.ratio.cpu_vs_floor.playhouse
                    } else {
                        self.ratio.cpu_vs_floor.peer
                    };
                    let vs_peer = if name == "playhouse" { self.ratio.cpu_vs_peer } else { Some(1.0) };
                    out += &format!(
                        "{name:<10} {:>24} {:>12} {:>8} {:>7} {:>7} {:>7} {:>13} {:>12} {:>11}\n",
                        format!("{:.0} ({})", m.deliveries_per_sec, m.expected_deliveries_per_sec),
                        num(m.server_cpu_us_per_delivery, 2),
                        num(vs_floor, 2),
                        num(vs_peer, 2),
                        num(m.server_cpu_percent, 1),
                        num(m.server_core_busy_percent, 1),
                        num(m.server_writes_per_delivery, 2),
                        num(m.server_syscalls_per_delivery.as_ref().map(|s| s.eventfd_writes), 2),
                        format!("{:.1} KiB", m.rss_per_connection_kib),
                    );
                }
            }
        }
        let floor_cpu = self.results.floor.as_ref().and_then(Outcome::measured).and_then(|f| f.cpu_us_per_write);
        for (name, outcome) in [("floor", &self.results.floor), ("floor_rooms", &self.results.floor_rooms)] {
            match outcome {
                None => {}
                Some(Outcome::Failed { error }) => out += &format!("{name:<10} failed: {error}\n"),
                Some(Outcome::Measured(f)) => {
                    let vs_floor = f.cpu_us_per_write.zip(floor_cpu).filter(|(_, b)| *b > 0.0).map(|(a, b)| a / b);
                    out += &format!(
                        "{name:<10} {:>24} {:>12} {:>8} {:>7} {:>7} {:>7} {:>13} {:>12} {:>11}\n",
                        format!("{:.0} ({})", f.writes_per_sec, f.connections as u64 * u64::from(f.hz)),
                        num(f.cpu_us_per_write, 2),
                        num(vs_floor, 2),
                        "",
                        num(Some(f.cpu_percent), 1),
                        num(f.core_busy_percent, 1),
                        num(f.syscalls_per_write, 2),
                        num(Some(0.0), 2),
                        "—",
                    );
                }
            }
        }
        let vs_rooms = &self.ratio.cpu_vs_floor_rooms;
        let against: Vec<String> = [("playhouse", vs_rooms.playhouse), ("peer", vs_rooms.peer)]
            .into_iter()
            .filter_map(|(name, r)| Some(format!("{name} {:.2} ×", r?)))
            .collect();
        if !against.is_empty() {
            out += &format!("(against floor_rooms: {})\n", against.join(", "));
        }
        let loadgen: Vec<String> = [("playhouse", &self.results.playhouse), ("peer", &self.results.peer)]
            .into_iter()
            .filter_map(|(name, o)| {
                let pct = o.as_ref()?.measured()?.loadgen_cpu_percent?;
                Some(format!("{pct:.0} % with {name}"))
            })
            .collect();
        if !loadgen.is_empty() {
            out += &format!("(load generator's own CPU over the window: {})\n", loadgen.join(", "));
        }
        if let Some(r) = self.ratio.join_rate_vs_peer {
            out += &format!("(clients joined per second while everyone connects: playhouse {r:.2} × the peer)\n");
        }
        if let Some(r) = self.ratio.join_cpu_vs_peer {
            out += &format!("(server CPU per client joined: playhouse {r:.2} × the peer)\n");
        }
        if let Some(m) = self.results.playhouse.as_ref().and_then(Outcome::measured) {
            if let Some(per) = m.messages_per_delivery.filter(|_| self.params.messages_per_tick > 0) {
                out += &format!(
                    "(playhouse: {per:.2} room messages per state received; writes/deliv counts the socket writes per state)\n"
                );
            }
        }
        out
    }
}
