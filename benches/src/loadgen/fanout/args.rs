//! What a `fanout` run is asked for: its command-line options, what they
//! cannot mean together, and the targets it measures.

use clap::ValueEnum;
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct FanoutArgs {
    /// Servers to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "playhouse,peer")]
    pub targets: Vec<Target>,
    /// Rooms (R).
    #[arg(long, default_value_t = 10)]
    pub rooms: usize,
    /// Clients per room (P).
    #[arg(long, default_value_t = 20)]
    pub room_size: usize,
    /// Ticks per second of every room (T).
    #[arg(long, default_value_t = 30)]
    pub hz: u32,
    /// Filler bytes in every state (S).
    #[arg(long, default_value_t = 256)]
    pub state_bytes: usize,
    /// Measured seconds (D).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of warm-up after everyone joined, not measured.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Where the server binaries are.
    #[arg(long, default_value = "target/release")]
    pub release_dir: PathBuf,
    /// Clients connecting at the same time.
    #[arg(long, default_value_t = 32)]
    pub connect_concurrency: usize,
    /// WebSocket path on the server.
    #[arg(long, default_value = "/ws")]
    pub path: String,
    /// Budget in seconds for one client to connect and join.
    #[arg(long, default_value_t = 10.0)]
    pub join_timeout: f64,
    /// Budget in seconds for one whole target (default: warm-up + duration + 60).
    #[arg(long)]
    pub target_timeout: Option<f64>,
    /// Rooms each client joins (K; Playhouse only): R×P/K clients, each
    /// with K states per period. R×P must be a multiple of K.
    #[arg(long, default_value_t = 1)]
    pub rooms_per_client: usize,
    /// Run Playhouse's rooms on the process's shared tick grid
    /// (`RoomType::aligned_ticks`): every room ticks at the same instants.
    #[arg(long)]
    pub aligned_ticks: bool,
    /// Reliable room messages each Playhouse room broadcasts per tick
    /// besides its state (Playhouse only): with writes per delivery at
    /// 1.00, a tick's state and messages leave in one write.
    #[arg(long, default_value_t = 0)]
    pub messages_per_tick: u32,
    /// Run Playhouse with `ServerConfig::rooms_on_workers` off: every room
    /// on the room arbiters instead of its creator's thread (the trade of
    /// tick lateness against CPU per delivery; the peer has no such choice).
    #[arg(long)]
    pub rooms_on_arbiters: bool,
    /// Do not pin the server and the load generator to different CPUs.
    #[arg(long)]
    pub no_pin: bool,
    /// Do not count the server's syscalls (`perf stat` on the syscall
    /// tracepoints, in a window of their own after the measured one).
    #[arg(long)]
    pub no_syscalls: bool,
    /// Seconds of the syscall-counting window.
    #[arg(long, default_value_t = 5.0)]
    pub syscalls_duration: f64,
    /// Record each server with `perf record -e cpu-clock` into
    /// `DIR/<target>.perf.data` (warm-up and window).
    #[arg(long)]
    pub perf: Option<PathBuf>,
    /// perf's sampling frequency, Hz.
    #[arg(long, default_value_t = 4000)]
    pub perf_freq: u32,
    /// perf's `--call-graph` mode: `fp` needs frame pointers, `dwarf` copies
    /// stacks (larger files, works with the default release build).
    #[arg(long, default_value = "dwarf")]
    pub perf_call_graph: String,
}

impl FanoutArgs {
    /// Clients: one per seat, or one per K seats with `--rooms-per-client K`.
    pub fn clients(&self) -> usize {
        self.rooms * self.room_size / self.rooms_per_client.max(1)
    }

    /// What the options cannot mean together.
    pub fn check(&self) -> std::result::Result<(), String> {
        let k = self.rooms_per_client;
        if k == 0 || !(self.rooms * self.room_size).is_multiple_of(k) || k > self.rooms {
            return Err(format!(
                "--rooms-per-client {k}: must be at least 1, at most --rooms, and divide rooms x room size ({})",
                self.rooms * self.room_size
            ));
        }
        if k > 1 && self.targets.contains(&Target::Peer) {
            return Err(
                "--rooms-per-client above 1: the peer serves one room per client; leave it out of --targets".into()
            );
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Target {
    Playhouse,
    Peer,
    Floor,
    /// The floor with one burst per room, each on its own phase.
    FloorRooms,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Playhouse => "playhouse",
            Target::Peer => "peer",
            Target::Floor => "floor",
            Target::FloorRooms => "floor_rooms",
        }
    }
    pub fn binary(self) -> &'static str {
        match self {
            Target::Playhouse => "fanout_playhouse",
            Target::Peer => "fanout_peer",
            Target::Floor | Target::FloorRooms => "floor",
        }
    }
}
