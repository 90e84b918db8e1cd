//! `perf record` of a server while it is measured (`loadgen fanout --perf
//! DIR`): started when the warm-up starts, so it is sampling by the time the
//! window opens, and stopped (SIGINT, as at the terminal) when the window
//! closes. The software event `cpu-clock` works without hardware counters
//! (virtual machines). perf runs on the load generator's CPU, but each
//! sample is taken in the server's context, so the CPU figures of a
//! profiled run are a little higher than those of an unprofiled one; the
//! report marks the run.

use super::{LoadgenError, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// A running `perf record -e cpu-clock`.
pub struct Recording {
    child: Child,
    path: PathBuf,
}

impl Recording {
    /// Starts `perf record -e cpu-clock -F <freq> --call-graph <call_graph>
    /// -p <pid> -o <path>`.
    pub fn start(pid: u32, path: &Path, freq: u32, call_graph: &str) -> Result<Recording> {
        let child = Command::new("perf")
            .args(["record", "-e", "cpu-clock", "-F", &freq.to_string(), "--call-graph", call_graph])
            .args(["-p", &pid.to_string(), "-o"])
            .arg(path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| LoadgenError::Spawn { path: PathBuf::from("perf"), source })?;
        Ok(Recording { child, path: path.to_path_buf() })
    }

    /// Stops the recording and waits (at most 60 s) for perf to write it.
    pub async fn stop(mut self) -> Result<PathBuf> {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) with a pid we started and have not reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGINT) };
        }
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .map_err(|_| LoadgenError::Timeout("perf record writing its data".into()))??;
        // perf exits with the signal's status after a SIGINT'ed record.
        if !status.success() && status.code().is_some_and(|c| c != 130 && c != 0) {
            return Err(LoadgenError::Protocol(format!("perf record exited with {status}")));
        }
        Ok(self.path)
    }
}
