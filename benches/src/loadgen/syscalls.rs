//! The syscalls a server makes over the measured window, counted by the
//! kernel's syscall tracepoints (`perf stat -e syscalls:sys_enter_*`).
//!
//! `syscw` of `/proc/<pid>/io` cannot count socket writes here (Rust's
//! standard library writes to a TCP socket with `send(2)`, which `syscw`
//! does not see; see `loadgen::procfs`), so the writes of the report are
//! counted here, next to the calls that show what a delivery costs besides
//! its write: eventfd wake-ups of another thread (`write(2)` of 8 bytes),
//! `epoll_wait`, `futex`, reads.
//!
//! perf starts with its counters disabled (`-D -1`) and the load generator
//! enables and disables them through a control FIFO (`--control`) at the
//! window's ends, waiting for perf's acknowledgement each time, so the
//! counts cover the delivery window to within that round trip.
//!
//! The tracepoints have a cost: while one is registered (from the moment
//! perf attaches, enabled or not), every syscall of every thread of the
//! machine takes the kernel's slower traced path — 10–15 % more server CPU
//! per delivery in the fan-out scenario. So `loadgen` counts in a window of
//! its own, after the one it takes CPU time from.

use super::{LoadgenError, Result};
use serde::Serialize;
use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// What is counted: (name in the report, tracepoint, filter).
const EVENTS: &[(&str, &str, Option<&str>)] = &[
    ("sendto", "syscalls:sys_enter_sendto", None),
    ("sendmsg", "syscalls:sys_enter_sendmsg", None),
    ("writev", "syscalls:sys_enter_writev", None),
    ("write", "syscalls:sys_enter_write", Some("count != 8")),
    ("eventfd_write", "syscalls:sys_enter_write", Some("count == 8")),
    ("epoll_wait", "syscalls:sys_enter_epoll_wait", None),
    ("epoll_pwait", "syscalls:sys_enter_epoll_pwait", None),
    ("futex", "syscalls:sys_enter_futex", None),
    ("recvfrom", "syscalls:sys_enter_recvfrom", None),
    ("read", "syscalls:sys_enter_read", None),
];

/// Syscalls of a window, per delivery.
#[derive(Serialize, Debug, Clone, Default)]
pub struct SyscallsPerDelivery {
    /// Calls that write to a socket: `sendto + sendmsg + writev` and
    /// `write` of anything but 8 bytes.
    pub socket_writes: f64,
    /// `write(2)` of 8 bytes: an eventfd (or pipe) wake-up of another
    /// thread (a state frame is never 8 bytes).
    pub eventfd_writes: f64,
    /// `epoll_wait + epoll_pwait`: a thread going back to its event loop.
    pub epoll_waits: f64,
    /// `futex`: a thread parking or waking another by a lock or condvar.
    pub futex: f64,
    /// `recvfrom + read`.
    pub reads: f64,
    /// Each counted call, in total over the window.
    pub counts: Vec<(String, u64)>,
}

/// A running `perf stat` on the syscall tracepoints of one process.
pub struct SyscallCounter {
    child: Child,
    dir: PathBuf,
    ctl: std::fs::File,
    ack: BufReader<std::fs::File>,
}

impl SyscallCounter {
    /// Attaches `perf stat` to `pid` with its counters off.
    pub async fn attach(pid: u32, dir: &Path) -> Result<SyscallCounter> {
        std::fs::create_dir_all(dir)?;
        let (ctl_path, ack_path) = (dir.join("ctl.fifo"), dir.join("ack.fifo"));
        for p in [&ctl_path, &ack_path] {
            let _ = std::fs::remove_file(p);
            mkfifo(p)?;
        }
        let mut command = Command::new("perf");
        command.args(["stat", "-x", ",", "-D", "-1", "-p", &pid.to_string(), "-o"]).arg(dir.join("stat.csv"));
        command.arg(format!("--control=fifo:{},{}", ctl_path.display(), ack_path.display()));
        for (_, event, filter) in EVENTS {
            command.args(["-e", event]);
            if let Some(f) = filter {
                command.args(["--filter", f]);
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| LoadgenError::Spawn { path: PathBuf::from("perf"), source })?;
        // O_RDWR: opening a FIFO that way does not wait for the other end.
        let open = |p: &Path| std::fs::OpenOptions::new().read(true).write(true).open(p);
        let (ctl, ack) = (open(&ctl_path)?, BufReader::new(open(&ack_path)?));
        let mut counter = SyscallCounter { child, dir: dir.to_path_buf(), ctl, ack };
        // perf answers once it has attached and read the FIFO: a `ping`
        // (it acknowledges every command) tells us it is ready.
        counter.command("ping").await?;
        Ok(counter)
    }

    /// Turns the counters on.
    pub async fn enable(&mut self) -> Result<()> {
        self.command("enable").await
    }

    /// Turns the counters off, stops perf and reads the counts.
    pub async fn finish(mut self, deliveries: u64) -> Result<SyscallsPerDelivery> {
        self.command("disable").await?;
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) with a pid we started and have not reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
        }
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .map_err(|_| LoadgenError::Timeout("perf stat exiting".into()))??;
        let csv = std::fs::read_to_string(self.dir.join("stat.csv"))?;
        let counts = parse(&csv)?;
        let get = |names: &[&str]| {
            counts.iter().filter(|(n, _)| names.contains(&n.as_str())).map(|(_, c)| *c).sum::<u64>() as f64
        };
        let per = |v: f64| if deliveries > 0 { v / deliveries as f64 } else { 0.0 };
        Ok(SyscallsPerDelivery {
            socket_writes: per(get(&["sendto", "sendmsg", "writev", "write"])),
            eventfd_writes: per(get(&["eventfd_write"])),
            epoll_waits: per(get(&["epoll_wait", "epoll_pwait"])),
            futex: per(get(&["futex"])),
            reads: per(get(&["recvfrom", "read"])),
            counts,
        })
    }

    /// Sends `cmd` to perf and waits (5 s at most) for its `ack`.
    async fn command(&mut self, cmd: &str) -> Result<()> {
        writeln!(self.ctl, "{cmd}")?;
        let ack = &mut self.ack;
        let line = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::task::block_in_place(|| {
                let mut line = String::new();
                ack.read_line(&mut line).map(|_| line)
            })
        })
        .await
        .map_err(|_| LoadgenError::Timeout(format!("perf stat acknowledging {cmd}")))??;
        // perf writes "ack\n" with its terminating NUL, which starts the next line.
        if line.trim_matches(|c: char| c == '\0' || c.is_whitespace()) != "ack" {
            return Err(LoadgenError::Protocol(format!("perf stat answered {line:?} to {cmd}")));
        }
        Ok(())
    }
}

fn mkfifo(path: &Path) -> Result<()> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|e| LoadgenError::Protocol(e.to_string()))?;
    // SAFETY: a NUL-terminated path we own.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(())
}

/// Reads `perf stat -x ,` output: one line per event, in the order they
/// were given (`count,unit,event,...`; comments start with `#`).
fn parse(csv: &str) -> Result<Vec<(String, u64)>> {
    let lines: Vec<&str> = csv.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect();
    if lines.len() != EVENTS.len() {
        return Err(LoadgenError::Protocol(format!(
            "perf stat printed {} counts for {} events:\n{csv}",
            lines.len(),
            EVENTS.len()
        )));
    }
    EVENTS
        .iter()
        .zip(lines)
        .map(|((name, event, _), line)| {
            let mut fields = line.split(',');
            let count = fields.next().unwrap_or_default();
            match (count.parse::<u64>(), fields.nth(1)) {
                (Ok(c), Some(e)) if e == *event => Ok((name.to_string(), c)),
                _ => Err(LoadgenError::Protocol(format!("perf stat line {line:?} is not a count of {event}"))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_read_in_the_order_of_the_events() {
        let mut csv = String::from("# started on Sun Dec  6\n\n");
        for (i, (_, event, _)) in EVENTS.iter().enumerate() {
            csv += &format!("{},,{event},10000,100.00,,\n", i * 10);
        }
        let counts = parse(&csv).expect("parses");
        assert_eq!(counts[3], ("write".to_string(), 30));
        assert_eq!(counts[4], ("eventfd_write".to_string(), 40));
    }

    #[test]
    fn a_missing_count_is_an_error() {
        assert!(parse("<not counted>,,syscalls:sys_enter_sendto,0,100.00,,\n").is_err());
    }
}
