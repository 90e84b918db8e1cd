//! The load generator's report: one JSON object on stdout. Typed structs so
//! the keys come out in reading order (scenario, params, machine, results,
//! ratio).

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
    /// One entry per target that was asked for.
    pub results: Results,
    /// playhouse / peer, when both ran.
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
}

/// The machine the run happened on.
#[derive(Serialize, Debug)]
pub struct Machine {
    /// Logical CPUs available to the process.
    pub cpus: usize,
    /// `model name` of /proc/cpuinfo.
    pub model: Option<String>,
}

impl Machine {
    /// Reads the CPU count and model from the OS.
    pub fn current() -> Machine {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
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
}

/// A target's figures, or why there are none.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum Outcome {
    /// The target ran.
    Measured(Measured),
    /// The target could not be run.
    Failed {
        /// What went wrong.
        error: String,
    },
}

impl Outcome {
    /// The figures, if the target ran.
    pub fn measured(&self) -> Option<&Measured> {
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
    /// (RSS with everyone connected − RSS before connecting) / clients.
    pub rss_per_connection_kib: f64,
    /// Connect, join and decode failures and unexpected disconnects.
    pub errors: u64,
    /// Clients that joined a room.
    pub clients_joined: usize,
    /// Length of the measurement window.
    pub measured_s: f64,
    /// Server RSS before the first client connected.
    pub rss_before_kib: u64,
    /// Server RSS at the end of the measurement.
    pub rss_after_kib: u64,
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

/// playhouse / peer.
#[derive(Serialize, Debug, Default)]
pub struct Ratio {
    /// Deliveries per second, playhouse / peer (> 1: playhouse delivers more).
    pub deliveries_per_sec: Option<f64>,
    /// p99 latency, playhouse / peer (< 1: playhouse is faster).
    pub latency_p99: Option<f64>,
}

impl Ratio {
    /// The ratios of two measured targets; `None` where either is missing.
    pub fn of(playhouse: Option<&Measured>, peer: Option<&Measured>) -> Ratio {
        let div = |a: f64, b: f64| (b > 0.0).then(|| a / b);
        let (Some(p), Some(q)) = (playhouse, peer) else {
            return Ratio::default();
        };
        Ratio {
            deliveries_per_sec: div(p.deliveries_per_sec, q.deliveries_per_sec),
            latency_p99: match (p.latency_us, q.latency_us) {
                (Some(a), Some(b)) => div(a.p99 as f64, b.p99 as f64),
                _ => None,
            },
        }
    }
}
