//! The CPU plan of a measured run: the process under test on one CPU, the
//! load generator (and every thread and child it starts later) on another,
//! so neither steals the other's CPU time and a process's CPU time is its
//! own work, not time spent waiting for the other.
//!
//! Both are set with `sched_setaffinity(2)`: the load generator pins its
//! own thread before it starts any other (threads and children inherit the
//! mask), and [`pin_child`] pins a child between `fork` and `exec`, so the
//! server is pinned before its first instruction and all its threads
//! inherit it. A server that sizes its thread pools by
//! `available_parallelism()` (actix-web's workers, Playhouse's arbiters,
//! tokio's workers) then sees one CPU.

use serde::Serialize;

/// Where the server and the load generator run.
#[derive(Debug, Clone, Serialize)]
pub struct CpuPlan {
    /// The CPU of the process under test (server or floor writer), if pinned.
    pub server_cpu: Option<usize>,
    /// The CPU of the load generator, its clients and the floor's sink.
    pub loadgen_cpu: Option<usize>,
    /// What was done, in words (also why nothing was).
    pub note: String,
}

impl CpuPlan {
    /// Pins the calling thread to the second CPU it may use and keeps the
    /// first for the server. Call it before any other thread exists. With
    /// `wanted` false, or fewer than two usable CPUs, or when the kernel
    /// refuses, nothing is pinned and the note (also printed) says why.
    pub fn apply(wanted: bool) -> CpuPlan {
        let none = |why: String| {
            let plan = CpuPlan { server_cpu: None, loadgen_cpu: None, note: format!("not pinned: {why}") };
            eprintln!("loadgen: {}", plan.note);
            plan
        };
        if !wanted {
            return none("--no-pin".into());
        }
        let cpus = allowed_cpus(0);
        let (Some(&server), Some(&loadgen)) = (cpus.first(), cpus.get(1)) else {
            return none(format!(
                "only {} CPU usable ({cpus:?}): server and load generator share it, so CPU figures include \
                 time the server waited for the clients",
                cpus.len()
            ));
        };
        if let Err(e) = set_affinity(0, loadgen) {
            return none(format!("sched_setaffinity to CPU {loadgen} failed: {e}"));
        }
        let plan = CpuPlan {
            server_cpu: Some(server),
            loadgen_cpu: Some(loadgen),
            note: format!(
                "server (every thread) on CPU {server}; loadgen, its clients, perf and the floor's sink on CPU \
                 {loadgen} (sched_setaffinity)"
            ),
        };
        eprintln!("loadgen: {}", plan.note);
        plan
    }
}

/// Makes `command` start its process on `cpu` only (between fork and exec).
pub fn pin_child(command: &mut tokio::process::Command, cpu: usize) {
    // SAFETY: the closure only calls sched_setaffinity, which is
    // async-signal-safe, and allocates nothing.
    unsafe {
        command.pre_exec(move || set_affinity(0, cpu));
    }
}

/// Pins thread or process `tid` (0: the calling thread) to one CPU.
pub fn set_affinity(tid: libc::pid_t, cpu: usize) -> std::io::Result<()> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET bounds-checks
    // against the set's size; sched_setaffinity reads the set we pass.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The CPUs thread or process `tid` (0: the calling thread) may run on;
/// empty if they cannot be read.
pub fn allowed_cpus(tid: libc::pid_t) -> Vec<usize> {
    // SAFETY: as in set_affinity; CPU_ISSET reads within the set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
    }
}

/// Where the threads of `pid` may run right now, e.g. `"4 threads, all on
/// [0]"` or `"4 threads: [0] ×3, [0, 1] ×1"`: the check that the pin held.
pub fn threads_of(pid: u32) -> String {
    let mut masks: Vec<(Vec<usize>, usize)> = Vec::new();
    let mut n = 0;
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for tid in dir.flatten().filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<libc::pid_t>().ok())) {
            let cpus = allowed_cpus(tid);
            n += 1;
            match masks.iter_mut().find(|(m, _)| *m == cpus) {
                Some((_, k)) => *k += 1,
                None => masks.push((cpus, 1)),
            }
        }
    }
    match masks.as_slice() {
        [] => "no threads readable".to_string(),
        [(m, _)] => format!("{n} threads, all on {m:?}"),
        _ => {
            let parts: Vec<String> = masks.iter().map(|(m, k)| format!("{m:?} ×{k}")).collect();
            format!("{n} threads: {}", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_thread_reports_its_one_cpu() {
        let cpus = allowed_cpus(0);
        assert!(!cpus.is_empty());
        let last = *cpus.last().expect("a cpu");
        std::thread::spawn(move || {
            set_affinity(0, last).expect("pin to an allowed CPU");
            assert_eq!(allowed_cpus(0), vec![last]);
        })
        .join()
        .expect("thread");
    }
}
