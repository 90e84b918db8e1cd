//! `floor`: what delivering a state costs with nothing but the kernel in
//! the way — the floor every fan-out server is compared with.
//!
//! It opens N loopback TCP connections (`TCP_NODELAY`, non-blocking, as the
//! servers' are) to a sink of its own, then every 1/T s, on absolute
//! deadlines, writes S bytes to each with one `libc::write`, for a warm-up
//! and then a measured window, and prints one JSON object on stdout
//! (`playhouse_benches::loadgen::floor::FloorReport`): full writes per
//! second, its CPU µs per write, `syscw` per write, how late rounds started.
//! CPU time is measured as for the servers (the process CPU-time clock, see
//! `playhouse_benches::loadgen::procfs`), and so are writes (`syscw` counts
//! `write(2)`, which is what the floor calls); the sink is another
//! process (this binary with `--sink`), pinned to the other CPU, that reads
//! and discards, so the writer process is the writing thread alone.
//!
//! Why this is the floor: a server must at least hand every client's socket
//! its frame. Here the frame is already encoded, one buffer written as is
//! to every socket (no per-client copy, no encode), and nothing runs
//! between the clock and the syscalls: no async runtime or event loop, no
//! other thread to wake, no queue, no lock, no allocation. The thread
//! sleeps until the round's deadline and issues the N `write(2)`s back to
//! back. What remains is the kernel's loopback TCP send (including the
//! receive path, which runs in the writer's context at the end of each
//! `write()`) and one sleep per round, which a server pays too.
//!
//! With `--groups G` the sockets are written in G bursts per round, group
//! g at g/(G·T) after the round's start: the pattern of G rooms that tick
//! on their own schedules (`loadgen fanout --targets floor-rooms`). Each
//! burst costs a wake-up of the writer and, at its first write, of the
//! sleeping reader, which a single burst pays once per round.
//!
//! ```text
//! cargo build --release -p playhouse-benches --bins
//! target/release/floor --connections 1000 --bytes 306 --hz 30 --duration 10 --warmup 2
//! target/release/floor --connections 1000 --bytes 306 --hz 30 --duration 10 --warmup 2 --groups 100
//! ```
//!
//! `loadgen fanout --targets playhouse,peer,floor` runs it with N = R×P,
//! S = the wire size of a state frame, T = hz, pinned like the servers.
//! On its own it pins itself to the first CPU it may use and the sink to
//! the second (`--cpu`, `--sink-cpu` choose; `--no-pin` does neither).

use clap::Parser;
use playhouse_benches::loadgen::floor::{FloorReport, RoundLateness};
use playhouse_benches::loadgen::pin::{allowed_cpus, set_affinity};
use playhouse_benches::loadgen::procfs::{busy_percent, cpu_ticks, Sample};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Stdio};

#[derive(Parser, Debug)]
#[command(about = "The floor: one write() per loopback TCP socket per round, nothing else")]
struct Cli {
    /// N: connections.
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// S: bytes per write.
    #[arg(long, default_value_t = 306)]
    bytes: usize,
    /// T: rounds per second.
    #[arg(long, default_value_t = 30)]
    hz: u32,
    /// G: groups of sockets, each written on its own phase of the round
    /// (group g at g/(G·T) after the round's start), as rooms on their own
    /// schedules write; 1 writes every socket in one burst per round.
    #[arg(long, default_value_t = 1)]
    groups: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds before the measurement.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// The writer's CPU (default: the first this process may use).
    #[arg(long)]
    cpu: Option<usize>,
    /// The sink's CPU (default: another one).
    #[arg(long)]
    sink_cpu: Option<usize>,
    /// Pin nothing.
    #[arg(long)]
    no_pin: bool,
    /// Run as the sink: listen, print `LISTENING <addr>`, read and discard.
    #[arg(long, hide = true)]
    sink: bool,
}

fn main() {
    let cli = Cli::parse();
    if cli.hz == 0 || cli.bytes == 0 || cli.groups == 0 || cli.connections == 0 {
        eprintln!("floor: --connections, --hz, --bytes and --groups must be > 0");
        std::process::exit(2);
    }
    let result = if cli.sink { sink(cli.sink_cpu).map(|()| None) } else { writer(&cli).map(Some) };
    match result {
        Ok(Some(report)) => match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("floor: cannot print the report: {e}"),
        },
        Ok(None) => {}
        Err(e) => {
            eprintln!("floor: {e}");
            std::process::exit(1);
        }
    }
}

/// The writer and sink CPUs, and the words for the report.
fn plan(cli: &Cli) -> (Option<usize>, Option<usize>, String) {
    if cli.no_pin {
        return (None, None, "not pinned: --no-pin".into());
    }
    let cpus = allowed_cpus(0);
    let Some(writer) = cli.cpu.or(cpus.first().copied()) else {
        return (None, None, "not pinned: no usable CPU could be read".into());
    };
    match cli.sink_cpu.or_else(|| cpus.iter().copied().find(|&c| c != writer)) {
        Some(sink) => (Some(writer), Some(sink), format!("writer on CPU {writer}, sink on CPU {sink}")),
        None => (
            Some(writer),
            None,
            format!("only one CPU usable: writer and sink share CPU {writer}, so the writer's CPU time is low-biased"),
        ),
    }
}

fn writer(cli: &Cli) -> std::io::Result<FloorReport> {
    let (writer_cpu, sink_cpu, pinning) = plan(cli);
    eprintln!("floor: {pinning}");
    if let Some(cpu) = writer_cpu {
        set_affinity(0, cpu)?;
    }
    let (sink, addr) = Sink::start(sink_cpu)?;
    let mut sockets = Vec::with_capacity(cli.connections);
    for _ in 0..cli.connections {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
        sockets.push(s);
    }
    let fds: Vec<i32> = sockets.iter().map(AsRawFd::as_raw_fd).collect();
    let frame: Vec<u8> = (0..cli.bytes).map(|i| (i % 251) as u8 ^ 0x5a).collect();

    let hz = u64::from(cli.hz);
    let warm_rounds = (cli.warmup.max(0.0) * hz as f64).round() as u64;
    let rounds = (cli.duration.max(0.0) * hz as f64).round().max(1.0) as u64;
    let me = std::process::id();
    let mut counts = Counts::default();
    let mut lateness_ns: Vec<u64> = Vec::with_capacity(rounds as usize * cli.groups.min(cli.connections));
    let mut before = None;
    let mut core_before = None;
    let start = monotonic_ns();
    let groups = cli.groups.min(fds.len());
    let per_group = fds.len().div_ceil(groups);
    let second_ns = u128::from(1_000_000_000u64);
    for k in 0..=warm_rounds + rounds {
        for (g, chunk) in fds.chunks(per_group).enumerate() {
            // Round k of group g is due at start + k/T + g/(G·T): absolute,
            // so a late round does not delay the ones after it.
            let offset = (u128::from(k) * groups as u128 + g as u128) * second_ns / (u128::from(hz) * groups as u128);
            let deadline = start + offset as u64;
            sleep_until(deadline);
            let late = monotonic_ns().saturating_sub(deadline);
            if k == warm_rounds && g == 0 {
                core_before = writer_cpu.and_then(cpu_ticks);
                before = Sample::of(me);
                counts = Counts::default();
            }
            if k == warm_rounds + rounds {
                break;
            }
            if k >= warm_rounds {
                lateness_ns.push(late);
            }
            for &fd in chunk {
                // SAFETY: fd is an open socket owned by `sockets`, frame a live buffer.
                let n = unsafe { libc::write(fd, frame.as_ptr().cast(), frame.len()) };
                counts.add(n, frame.len());
            }
        }
    }
    let after = Sample::of(me);
    let core_after = writer_cpu.and_then(cpu_ticks);
    drop(sockets);
    drop(sink);
    let (Some(before), Some(after)) = (before, after) else {
        return Err(std::io::Error::other("cannot read this process's CPU clock or /proc counters"));
    };
    let window = before.until(&after);
    lateness_ns.sort_unstable();
    let q = |p: f64| lateness_ns.get(((lateness_ns.len() as f64 - 1.0) * p).round() as usize).map_or(0, |ns| ns / 1000);
    Ok(FloorReport {
        connections: cli.connections,
        bytes: cli.bytes,
        hz: cli.hz,
        groups,
        pinning,
        writes: counts.full,
        short_writes: counts.short,
        would_block: counts.would_block,
        errors: counts.errors,
        writes_per_sec: counts.full as f64 / window.window_s,
        cpu_us_per_write: window.us_per(counts.full),
        cpu_percent: window.cpu_percent(),
        core_busy_percent: core_before.zip(core_after).and_then(|(a, b)| busy_percent(a, b)),
        syscalls_per_write: window.writes_per(counts.full),
        round_lateness_us: RoundLateness { p50: q(0.5), p99: q(0.99), max: q(1.0) },
        window,
    })
}

/// What the writes returned.
#[derive(Default)]
struct Counts {
    full: u64,
    short: u64,
    would_block: u64,
    errors: u64,
}

impl Counts {
    fn add(&mut self, n: isize, len: usize) {
        if n == len as isize {
            self.full += 1;
        } else if n >= 0 {
            self.short += 1;
        } else if std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) {
            self.would_block += 1;
        } else {
            self.errors += 1;
        }
    }
}

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Sleeps until CLOCK_MONOTONIC reads `deadline_ns` (at once if it has).
fn sleep_until(deadline_ns: u64) {
    let ts = libc::timespec {
        tv_sec: (deadline_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (deadline_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: clock_nanosleep reads the timespec; no remainder is asked for.
    while unsafe { libc::clock_nanosleep(libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME, &ts, std::ptr::null_mut()) }
        == libc::EINTR
    {}
}

/// The sink process; killed when dropped.
struct Sink(Child);

impl Sink {
    /// Starts this binary with `--sink` and reads its address.
    fn start(cpu: Option<usize>) -> std::io::Result<(Sink, SocketAddr)> {
        let mut command = Command::new(std::env::current_exe()?);
        command.arg("--sink");
        if let Some(cpu) = cpu {
            command.args(["--sink-cpu", &cpu.to_string()]);
        }
        let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("sink: no stdout"))?;
        let sink = Sink(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .strip_prefix("LISTENING ")
            .and_then(|a| a.trim().parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("sink said {line:?}, not LISTENING <addr>")))?;
        Ok((sink, addr))
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The sink: accepts connections and reads everything they carry, on its
/// own CPU. An async runtime is fine here: it is not what is measured.
fn sink(cpu: Option<usize>) -> std::io::Result<()> {
    // SAFETY: prctl with PR_SET_PDEATHSIG takes a signal number.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    if let Some(cpu) = cpu {
        set_affinity(0, cpu)?;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    rt.block_on(async {
        use std::io::Write;
        use tokio::io::AsyncReadExt;
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind("127.0.0.1:0".parse().expect("literal address"))?;
        let listener = socket.listen(4096)?;
        let mut out = std::io::stdout();
        writeln!(out, "LISTENING {}", listener.local_addr()?)?;
        out.flush()?;
        loop {
            let (mut stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    })
}
