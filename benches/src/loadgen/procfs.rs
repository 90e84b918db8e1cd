//! What the kernel says a process spent: CPU time and write syscalls, read
//! before and after a measured window.
//!
//! CPU time is the process's CPU-time clock (`clock_getcpuclockid(pid)`,
//! then `clock_gettime`): the scheduler's run time of all its threads, in
//! nanoseconds, exited threads included, and brought up to date for a
//! thread that is running at the moment it is read. Two other readings
//! are kept as cross-checks, and neither is as good:
//!
//! - the sum over `/proc/<pid>/task/*/schedstat` of the first field is the
//!   same run time per thread, but the kernel prints it as of the thread's
//!   last tick or switch (up to 4 ms stale at `HZ=250` for a thread that is
//!   running), and it misses threads that exited during the window;
//! - `utime + stime` of `/proc/<pid>/stat`: on this kernel
//!   (`CONFIG_TICK_CPU_ACCOUNTING`) sampled at the tick and then scaled to
//!   add up to the same run time, but in clock ticks of 10 ms.
//!
//! None of them separates out softirq time: with `CONFIG_IRQ_TIME_ACCOUNTING`
//! off, the loopback receive path that runs in the sender's context at the
//! end of each send is charged to the sender, for every target alike.
//!
//! `syscw` of `/proc/<pid>/io` (all threads, exited ones too) counts
//! `write(2)`, `writev(2)` and `pwrite*(2)` on any file descriptor, eventfd
//! wake-ups included, but **not `send(2)`/`sendto(2)`**, which is how Rust's
//! standard library (and so mio, tokio and actix) writes to a TCP socket: it
//! sees the floor's `write()`s and the servers' eventfd wake-ups, not the
//! servers' socket writes. It is kept for the record; the write counts of
//! the report come from syscall tracepoints (`loadgen::syscalls`).

use serde::{Deserialize, Serialize};
use std::time::Instant;

/// One reading of a process's counters.
#[derive(Debug, Clone)]
pub struct Sample {
    /// When it was taken.
    pub at: Instant,
    /// The process CPU-time clock, in ns.
    pub cpu_ns: u64,
    /// Summed `schedstat` run time of its threads, in ns.
    pub run_ns: u64,
    /// Threads summed.
    pub threads: usize,
    /// `utime + stime` of `/proc/<pid>/stat`, in clock ticks.
    pub cpu_ticks: u64,
    /// `syscw` of `/proc/<pid>/io`.
    pub syscw: u64,
    /// `wchar` of `/proc/<pid>/io`.
    pub wchar: u64,
}

impl Sample {
    /// Reads the counters of `pid` now; `None` if the process is gone or
    /// `/proc` does not have them (a kernel without `CONFIG_SCHED_INFO` or
    /// `CONFIG_TASK_IO_ACCOUNTING`).
    pub fn of(pid: u32) -> Option<Sample> {
        let at = Instant::now();
        let cpu_ns = process_cpu_ns(pid)?;
        let (run_ns, threads) = threads_run_ns(pid)?;
        let cpu_ticks = stat_cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
        let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
        Some(Sample {
            at,
            cpu_ns,
            run_ns,
            threads,
            cpu_ticks,
            syscw: io_field(&io, "syscw")?,
            wchar: io_field(&io, "wchar")?,
        })
    }

    /// What happened between `self` (earlier) and `later`.
    pub fn until(&self, later: &Sample) -> Spent {
        let tick_ns = 1e9 / clock_ticks_per_sec();
        Spent {
            window_s: later.at.duration_since(self.at).as_secs_f64(),
            cpu_ns: later.cpu_ns.saturating_sub(self.cpu_ns),
            run_ns: later.run_ns.saturating_sub(self.run_ns),
            stat_ns: (later.cpu_ticks.saturating_sub(self.cpu_ticks) as f64 * tick_ns) as u64,
            threads_start: self.threads,
            threads_end: later.threads,
            syscw: later.syscw.saturating_sub(self.syscw),
            wchar: later.wchar.saturating_sub(self.wchar),
        }
    }
}

/// A process's CPU time and writes over a window.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Spent {
    /// Wall-clock length of the window.
    pub window_s: f64,
    /// CPU time from the process CPU-time clock, ns: the figure.
    pub cpu_ns: u64,
    /// Run time from `schedstat`, summed over threads, ns (cross-check).
    pub run_ns: u64,
    /// Run time from `/proc/<pid>/stat` (`utime + stime`), ns, 10 ms steps
    /// (cross-check).
    pub stat_ns: u64,
    /// Threads summed at the start of the window.
    pub threads_start: usize,
    /// Threads summed at the end.
    pub threads_end: usize,
    /// Write syscalls.
    pub syscw: u64,
    /// Bytes written by them.
    pub wchar: u64,
}

impl Spent {
    /// CPU time per event, µs (`None` for no events).
    pub fn us_per(&self, events: u64) -> Option<f64> {
        (events > 0).then(|| self.cpu_ns as f64 / 1e3 / events as f64)
    }

    /// Write syscalls per event (`None` for no events).
    pub fn writes_per(&self, events: u64) -> Option<f64> {
        (events > 0).then(|| self.syscw as f64 / events as f64)
    }

    /// Bytes written per event (`None` for no events).
    pub fn bytes_per(&self, events: u64) -> Option<f64> {
        (events > 0).then(|| self.wchar as f64 / events as f64)
    }

    /// Share of one CPU used over the window, in percent.
    pub fn cpu_percent(&self) -> f64 {
        if self.window_s > 0.0 {
            self.cpu_ns as f64 / 1e9 / self.window_s * 100.0
        } else {
            0.0
        }
    }
}

/// Ticks of one CPU from `/proc/stat`: (busy, all), where busy is user,
/// nice, system, irq and softirq (not idle, iowait or steal). The whole
/// CPU, whoever ran on it: the cross-check that the process clock of a
/// process pinned there does not miss much (softirq work that lands while
/// the CPU is idle, e.g. timer interrupts, is charged to no process).
pub fn cpu_ticks(cpu: usize) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let name = format!("cpu{cpu}");
    let line = stat.lines().find(|l| l.split_whitespace().next() == Some(name.as_str()))?;
    let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    let get = |i: usize| f.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal guest guest_nice
    let busy = get(0) + get(1) + get(2) + get(5) + get(6);
    Some((busy, busy + get(3) + get(4) + get(7)))
}

/// The share of `cpu` that was busy between two [`cpu_ticks`] readings, %.
pub fn busy_percent(before: (u64, u64), after: (u64, u64)) -> Option<f64> {
    let all = after.1.checked_sub(before.1)?;
    (all > 0).then(|| after.0.saturating_sub(before.0) as f64 / all as f64 * 100.0)
}

/// The CPU-time clock of process `pid`, ns.
fn process_cpu_ns(pid: u32) -> Option<u64> {
    let mut clock: libc::clockid_t = 0;
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: both calls write only the out-parameters we pass.
    unsafe {
        if libc::clock_getcpuclockid(pid as libc::pid_t, &mut clock) != 0 {
            return None;
        }
        if libc::clock_gettime(clock, &mut ts) != 0 {
            return None;
        }
    }
    Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// Sum of the first `schedstat` field over `/proc/<pid>/task/*`, and how
/// many threads were read (a thread that exits between the listing and the
/// read is skipped).
fn threads_run_ns(pid: u32) -> Option<(u64, usize)> {
    let mut total = 0u64;
    let mut n = 0usize;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(entry) = entry else { continue };
        let Ok(text) = std::fs::read_to_string(entry.path().join("schedstat")) else { continue };
        if let Some(ns) = text.split_whitespace().next().and_then(|f| f.parse::<u64>().ok()) {
            total += ns;
            n += 1;
        }
    }
    (n > 0).then_some((total, n))
}

/// `utime + stime` (fields 14 and 15) of a `/proc/<pid>/stat` line. The
/// command name (field 2) may hold spaces and parentheses, so fields are
/// counted from the last `)`.
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // rest starts at field 3 (state): utime is field 14, the 12th after it.
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn io_field(io: &str, name: &str) -> Option<u64> {
    io.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok())
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 3 0 100 0 0";
        assert_eq!(stat_cpu_ticks(stat), Some(12));
    }

    #[test]
    fn cpu_zero_has_ticks() {
        let (busy, all) = cpu_ticks(0).expect("/proc/stat has cpu0");
        assert!(all >= busy && all > 0);
        assert_eq!(busy_percent((10, 100), (30, 200)), Some(20.0));
        assert_eq!(busy_percent((10, 100), (10, 100)), None);
    }

    #[test]
    fn io_fields_by_name() {
        let io = "rchar: 10\nwchar: 20\nsyscr: 3\nsyscw: 4\nread_bytes: 0\n";
        assert_eq!((io_field(io, "syscw"), io_field(io, "wchar"), io_field(io, "nope")), (Some(4), Some(20), None));
    }

    #[test]
    fn own_counters_move_with_work_and_writes() {
        let me = std::process::id();
        let before = Sample::of(me).expect("this kernel has schedstat and task io accounting");
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let null = std::fs::OpenOptions::new().write(true).open("/dev/null").expect("/dev/null");
        for _ in 0..10 {
            std::io::Write::write_all(&mut &null, b"12345678").expect("write");
        }
        let spent = before.until(&Sample::of(me).expect("second sample"));
        assert!(spent.cpu_ns > 0);
        assert!(spent.syscw >= 10, "{spent:?}");
        assert!(spent.wchar >= 80, "{spent:?}");
    }
}
