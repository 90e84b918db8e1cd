//! An `arena` cluster node as a child process (`--addr 127.0.0.1:0`, its
//! address read from `LISTENING <addr>`), started under `taskset -c <cpu>`
//! when the bench pins, and the CPU plan itself ([`Pinning`]).
//!
//! Signals go straight to the pid (`kill(2)`), so the instant the bench
//! notes is the instant of the signal; a thread blocked in `waitid` (which
//! leaves the process to be reaped) notes the instant it ended, then reaps
//! it under the same lock the signals take, so a signal never reaches a
//! reused pid.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the nodes and the bench run.
#[derive(Debug, Clone)]
pub struct Pinning {
    /// The CPU every node is started on, if pinned.
    pub nodes: Option<usize>,
    /// What was done, in words, for the report.
    pub note: String,
}

impl Pinning {
    /// Pins this process (every thread it has, and so every thread and child
    /// it starts later: the clients, `redis-server`) to the second CPU it may
    /// use and keeps the first for the nodes, with `taskset`. Call it before
    /// the runtime starts. Without `taskset`, with one CPU, or when `wanted`
    /// is false, nothing is pinned and the note says why.
    pub fn apply(wanted: bool) -> Pinning {
        let none = |why: &str| Pinning { nodes: None, note: format!("not pinned: {why}") };
        if !wanted {
            return none("--no-pin");
        }
        let cpus = allowed_cpus();
        let (Some(&node_cpu), Some(&bench_cpu)) = (cpus.first(), cpus.get(1)) else {
            return none("fewer than 2 CPUs allowed");
        };
        let pid = std::process::id().to_string();
        let pinned = Command::new("taskset")
            .args(["-a", "-p", "-c", &bench_cpu.to_string(), &pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match pinned {
            Ok(s) if s.success() => Pinning {
                nodes: Some(node_cpu),
                note: format!(
                    "taskset: the nodes on CPU {node_cpu}; this bench, its clients and redis-server on CPU {bench_cpu}"
                ),
            },
            Ok(s) => none(&format!("taskset -a -p failed ({s})")),
            Err(e) => none(&format!("no taskset ({e})")),
        }
    }
}

/// The CPUs this process may run on (`Cpus_allowed_list` of
/// /proc/self/status, e.g. `0-1,4`); empty if it cannot be read.
fn allowed_cpus() -> Vec<usize> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let list = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:")).unwrap_or_default();
    parse_cpu_list(list.trim())
}

fn parse_cpu_list(list: &str) -> Vec<usize> {
    let mut cpus = Vec::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        let mut ends = part.splitn(2, '-').map(|n| n.trim().parse::<usize>());
        match (ends.next(), ends.next()) {
            (Some(Ok(a)), None) => cpus.push(a),
            (Some(Ok(a)), Some(Ok(b))) => cpus.extend(a..=b),
            _ => {}
        }
    }
    cpus
}

/// A running node. Dropping it kills the process.
pub struct Node {
    /// Its `--node-id`.
    pub id: String,
    /// Where it listens.
    pub addr: SocketAddr,
    pid: i32,
    process: Arc<Mutex<Process>>,
}

struct Process {
    child: Child,
    exited: Option<(Instant, ExitStatus)>,
}

impl Node {
    /// Starts `bin --addr 127.0.0.1:0 --node-id <id> <args>` (on `cpu`, with
    /// `RUST_LOG=<log>`), waits (10 s at most) for its address. Its log
    /// (stdout and stderr) is copied to our stderr, each line prefixed with
    /// its id.
    pub fn spawn(bin: &Path, cpu: Option<usize>, id: &str, args: &[String], log: &str) -> Result<Node, String> {
        if !bin.is_file() {
            return Err(format!(
                "{} not found: build it with `cargo build --release -p arena --bins`, or point --release-dir at it",
                bin.display()
            ));
        }
        let mut command = match cpu {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &cpu.to_string()]).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        let mut child = command
            .args(["--addr", "127.0.0.1:0", "--node-id", id])
            .args(args)
            .env("RUST_LOG", log)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let prefix = format!("[node {id}]");
        let copy = prefix.clone();
        std::thread::spawn(move || {
            for line in stderr.into_iter().flat_map(|s| BufReader::new(s).lines().map_while(Result::ok)) {
                eprintln!("{copy} {line}");
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Its log goes to stdout too: copied on after the address.
            for line in stdout.into_iter().flat_map(|s| BufReader::new(s).lines().map_while(Result::ok)) {
                match line.strip_prefix("LISTENING ") {
                    Some(addr) => {
                        let _ = tx.send(addr.trim().to_string());
                    }
                    None => eprintln!("{prefix} {line}"),
                }
            }
        });
        let pid = child.id() as i32;
        let process = Arc::new(Mutex::new(Process { child, exited: None }));
        let reaper = process.clone();
        std::thread::spawn(move || {
            // SAFETY: a zeroed siginfo_t is valid for waitid(2) to fill.
            let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
            // SAFETY: waits for our own child without reaping it (WNOWAIT).
            let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
            let at = Instant::now();
            let mut p = reaper.lock().expect("node process");
            if r == 0 {
                if let Ok(status) = p.child.wait() {
                    p.exited = Some((at, status));
                }
            }
        });
        let node = |addr| Node { id: id.to_string(), addr, pid, process };
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(addr) => addr.parse().map(node).map_err(|e| format!("node {id}: bad address {addr:?}: {e}")),
            Err(_) => {
                let n = node(SocketAddr::from(([127, 0, 0, 1], 0)));
                drop(n);
                Err(format!("node {id} did not print `LISTENING <addr>` within 10 s"))
            }
        }
    }

    /// `ws://<addr>/ws`.
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Sends `signal` (`libc::SIGKILL`, `libc::SIGTERM`) unless it has
    /// exited already; answers the instant it was sent.
    pub fn signal(&self, signal: i32) -> Instant {
        let p = self.process.lock().expect("node process");
        let at = Instant::now();
        if p.exited.is_none() {
            // SAFETY: kill(2) on our own child, not reaped yet: the reaper
            // takes this lock to reap it.
            unsafe { libc::kill(self.pid, signal) };
        }
        at
    }

    /// When and how it exited, once it has.
    pub fn exit(&self) -> Option<(Instant, ExitStatus)> {
        self.process.lock().expect("node process").exited
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
        let t0 = Instant::now();
        while self.exit().is_none() && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_are_ranges_and_singles() {
        assert_eq!(parse_cpu_list("0-1"), [0, 1]);
        assert_eq!(parse_cpu_list("0,2-3,7"), [0, 2, 3, 7]);
        assert_eq!(parse_cpu_list(""), Vec::<usize>::new());
    }
}
