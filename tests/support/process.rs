//! The real `arena` binary as a child process, for tests of what only a
//! process has: signals, flags, exit codes. Killed when dropped.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `target/<profile>/arena`, next to the test binary in
/// `target/<profile>/deps/`. Panics with the build command if missing.
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

/// A running `arena` process.
pub struct ArenaProcess {
    child: Child,
    /// Where it listens (from its `LISTENING <addr>` line).
    pub addr: SocketAddr,
}

impl ArenaProcess {
    /// Starts `arena --addr 127.0.0.1:0 <args>` and waits (10 s at most)
    /// for its `LISTENING` line.
    pub fn start(args: &[&str]) -> ArenaProcess {
        let mut child = Command::new(arena_binary())
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("arena starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("LISTENING ") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let mut proc = ArenaProcess { child, addr: "127.0.0.1:0".parse().expect("literal") };
        let addr = rx.recv_timeout(Duration::from_secs(10)).expect("arena printed LISTENING <addr>");
        proc.addr = addr.parse().expect("LISTENING prints an address");
        proc
    }

    /// Sends `signal` (a name `kill` knows: `HUP`, `TERM`).
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("run kill");
        assert!(ok.success(), "kill -{signal} {pid}");
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ArenaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
