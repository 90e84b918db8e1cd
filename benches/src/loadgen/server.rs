//! A target server as a child process: spawn, find its address, read its
//! resident memory, stop.

use super::pin::pin_child;
use super::{LoadgenError, Result};
use crate::fanout::LISTENING;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running target server. Dropping it kills the process.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its process id.
    pub pid: u32,
}

impl Server {
    /// Starts `bin` with `args` and waits (at most `startup`) for the line
    /// `LISTENING <ip:port>` on its stdout. The rest of its stdout is copied
    /// to our stderr; its stderr is inherited.
    pub async fn spawn(bin: &Path, args: &[String], startup: Duration) -> Result<Server> {
        Server::spawn_on(bin, args, startup, None).await
    }

    /// As [`Server::spawn`], with the process pinned to `cpu` from its
    /// first instruction (so every thread it starts is too).
    pub async fn spawn_on(bin: &Path, args: &[String], startup: Duration, cpu: Option<usize>) -> Result<Server> {
        if !bin.is_file() {
            return Err(LoadgenError::MissingBinary(bin.to_path_buf()));
        }
        let mut command = Command::new(bin);
        if let Some(cpu) = cpu {
            pin_child(&mut command, cpu);
        }
        let mut child = command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| LoadgenError::Spawn { path: bin.to_path_buf(), source })?;
        let name = bin.display().to_string();
        let pid = child.id().ok_or_else(|| LoadgenError::NoListeningLine(name.clone()))?;
        let stdout = child.stdout.take().ok_or_else(|| LoadgenError::NoListeningLine(name.clone()))?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(startup, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix(LISTENING) {
                    return rest
                        .trim()
                        .parse::<SocketAddr>()
                        .map_err(|e| LoadgenError::Protocol(format!("{name}: bad address in {line:?}: {e}")));
                }
                eprintln!("[{name}] {line}");
            }
            Err(LoadgenError::NoListeningLine(name.clone()))
        })
        .await
        .map_err(|_| LoadgenError::Timeout(format!("{name} printing `LISTENING <addr>`")))??;
        let prefix = bin.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(name);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[{prefix}] {line}");
            }
        });
        Ok(Server { child, addr, pid })
    }

    /// The server's resident set size in KiB (`VmRSS` of /proc/<pid>/status).
    pub fn rss_kib(&self) -> Result<u64> {
        rss_kib(self.pid)
    }

    /// Kills the server and reaps it (bounded to 5 s).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
    }
}

/// `VmRSS` of a process, in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_rss(&status).ok_or_else(|| LoadgenError::Protocol(format!("no VmRSS in /proc/{pid}/status")))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_rss() {
        let s = "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t    4242 kB\nThreads:\t3\n";
        assert_eq!(parse_vm_rss(s), Some(4242));
        assert_eq!(parse_vm_rss("Name: x\n"), None);
    }

    #[test]
    fn reads_own_rss() {
        assert!(rss_kib(std::process::id()).expect("rss") > 0);
    }
}
