//! A real `arena` server process on an ephemeral port: its address, its
//! resident memory, and everything it wrote to stderr (so a test can tell
//! that it never panicked). Killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `target/<profile>/arena`, next to this test's own binary in
/// `target/<profile>/deps/`. Panics with the command to build it if absent.
pub fn arena_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join(format!("arena{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: build it first with `cargo build -p arena` (`bash scripts/test.sh` does)",
        bin.display()
    );
    bin
}

/// `target/<profile>/examples/<name>`: an example of `framework/examples/`.
/// Panics with the command to build it if absent.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} not found: build it first with `cargo build -p playhouse --examples --features tls,fuzzing,redis` \
         (`bash scripts/test.sh` does)",
        bin.display()
    );
    bin
}

/// A running `arena` process (or an example's: [`ArenaProcess::spawn_example`]).
pub struct ArenaProcess {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
    /// What it printed on stdout besides `LISTENING` (its log).
    log: Arc<Mutex<Vec<String>>>,
}

impl ArenaProcess {
    /// Starts `arena --addr 127.0.0.1:0 <args>` with `RUST_LOG=warn` and
    /// waits (10 s at most) for it to print its address.
    pub fn spawn(args: &[&str]) -> ArenaProcess {
        Self::start(Command::new(arena_binary()), args, "warn")
    }

    /// [`ArenaProcess::spawn`] with `RUST_LOG=<filter>` instead of `warn`,
    /// for tests that read the log ([`ArenaProcess::log_lines`]).
    pub fn spawn_logging(filter: &str, args: &[&str]) -> ArenaProcess {
        Self::start(Command::new(arena_binary()), args, filter)
    }

    /// Starts the example `name` (`framework/examples/<name>.rs`) with
    /// `--addr 127.0.0.1:0 <args>` and waits for its `LISTENING <addr>`, as
    /// [`ArenaProcess::spawn`] does for `arena`.
    pub fn spawn_example(name: &str, args: &[&str]) -> ArenaProcess {
        Self::start(Command::new(example_binary(name)), args, "warn")
    }

    /// [`ArenaProcess::spawn`] at the lowest CPU priority (`nice -n 19`), for
    /// load that must not starve the other tests running at the same time.
    pub fn spawn_niced(args: &[&str]) -> ArenaProcess {
        let mut nice = Command::new("nice");
        nice.args(["-n", "19"]).arg(arena_binary());
        Self::start(nice, args, "warn")
    }

    fn start(mut command: Command, args: &[&str], log_filter: &str) -> ArenaProcess {
        let mut child = command
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", log_filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server process starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr_pipe = child.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                sink.lock().expect("stderr lines").push(line);
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let log_sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("LISTENING ") {
                    let _ = tx.send(addr.to_string());
                } else {
                    // The log (tracing writes to stdout).
                    log_sink.lock().expect("log lines").push(line);
                }
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(10)).expect("the server printed LISTENING <addr>");
        let addr = addr.parse().expect("LISTENING is followed by an address");
        ArenaProcess { child, addr, stderr, log }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `signal` (a name `kill` knows: `HUP`, `TERM`).
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("run kill");
        assert!(ok.success(), "kill -{signal} {pid}");
    }

    /// How it exited, once it has (without waiting).
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// How many file descriptors it holds open (`/proc/<pid>/fd`).
    pub fn open_descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map(|d| d.count()).expect("/proc/<pid>/fd")
    }

    /// Its resident set size in KiB (`VmRSS` in `/proc/<pid>/status`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .expect("a VmRSS line in kB")
    }

    /// The log lines so far (tracing writes them to stdout) that contain
    /// `needle`.
    pub fn log_with(&self, needle: &str) -> Vec<String> {
        self.log.lock().expect("log lines").iter().filter(|l| l.contains(needle)).cloned().collect()
    }

    /// Every log line so far, in the order written.
    pub fn log_lines(&self) -> Vec<String> {
        self.log.lock().expect("log lines").clone()
    }

    /// The stderr lines so far that report a panic or a crash.
    pub fn panics(&self) -> Vec<String> {
        let lines = self.stderr.lock().expect("stderr lines");
        lines
            .iter()
            .filter(|l| {
                l.contains("panicked") || l.contains("overflowed its stack") || l.contains("fatal runtime error")
            })
            .cloned()
            .collect()
    }
}

impl Drop for ArenaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
