//! `--processes K`: the N connections spread over K server and
//! load-generator pairs, where one process may not hold them all (a hard
//! descriptor limit it cannot raise), and their reports added up.

use super::{IdleArgs, IdleReport};
use crate::loadgen::report::Machine;
use crate::loadgen::{LoadgenError, Result};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// `--processes K`: K copies of this binary, each with its share of the
/// connections, its own source addresses and its own server, holding at
/// the same time; their reports added up.
pub(super) async fn run_processes(args: &IdleArgs) -> Result<IdleReport> {
    let k = args.processes;
    let sources = args.sources.max(1) as usize;
    if args.first_source as usize + k * sources > 255 {
        return Err(LoadgenError::Protocol(format!(
            "{k} processes × {sources} source addresses from 127.0.0.{} do not fit in 127.0.0.1-254",
            args.first_source
        )));
    }
    let exe = std::env::current_exe()?;
    let target = clap::ValueEnum::to_possible_value(&args.target)
        .ok_or_else(|| LoadgenError::Protocol(format!("{:?} has no name on the command line", args.target)))?;
    let mut children = Vec::with_capacity(k);
    for i in 0..k {
        // Shares differ by at most one connection.
        let clients = args.clients / k + usize::from(i < args.clients % k);
        let mut command = Command::new(&exe);
        command
            .arg("idle")
            .args(["--clients", &clients.to_string(), "--hold", &args.hold.to_string()])
            .args(["--sources", &sources.to_string()])
            .args(["--first-source", &(args.first_source as usize + i * sources).to_string()])
            .args(["--connect-concurrency", &args.connect_concurrency.to_string()])
            .arg("--release-dir")
            .arg(&args.release_dir)
            .args(["--target", target.get_name()])
            .arg("--synchronized")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|source| LoadgenError::Spawn { path: exe.clone(), source })?;
        let stdin = child.stdin.take().ok_or_else(|| LoadgenError::Protocol("a child without stdin".into()))?;
        let stdout = child.stdout.take().ok_or_else(|| LoadgenError::Protocol("a child without stdout".into()))?;
        children.push((child, stdin, BufReader::new(stdout)));
    }
    // Every process opens its connections (bounded: 20 s per connection
    // at worst, the servers' start) and says OPEN.
    let budget = Duration::from_secs(60 + args.clients as u64 / 500);
    for (i, (_, _, out)) in children.iter_mut().enumerate() {
        let mut line = String::new();
        match tokio::time::timeout(budget, out.read_line(&mut line)).await {
            Ok(Ok(_)) if line.trim() == "OPEN" => {}
            Ok(_) => return Err(LoadgenError::Protocol(format!("process {i} ended before its connections were open"))),
            Err(_) => return Err(LoadgenError::Timeout(format!("process {i}'s connections within {budget:?}"))),
        }
    }
    eprintln!("loadgen: idle: all {k} processes open; holding");
    for (_, stdin, _) in &mut children {
        stdin.write_all(b"go\n").await?;
        stdin.flush().await?;
    }
    let mut parts = Vec::with_capacity(k);
    for (i, (mut child, _, mut out)) in children.into_iter().enumerate() {
        let mut json = String::new();
        let read = tokio::time::timeout(Duration::from_secs(args.hold + 60), out.read_to_string(&mut json)).await;
        let _ = child.wait().await;
        match read {
            Ok(Ok(_)) => parts.push(
                serde_json::from_str::<IdleReport>(&json)
                    .map_err(|e| LoadgenError::Protocol(format!("process {i}: unreadable report: {e}")))?,
            ),
            _ => return Err(LoadgenError::Timeout(format!("process {i}'s report"))),
        }
    }
    Ok(IdleReport::sum(args, parts))
}

impl IdleReport {
    /// The reports of `--processes`' K pairs as one.
    fn sum(args: &IdleArgs, parts: Vec<IdleReport>) -> IdleReport {
        let total = |f: fn(&IdleReport) -> u64| parts.iter().map(f).sum::<u64>();
        let max = |f: fn(&IdleReport) -> f64| parts.iter().map(f).fold(0.0, f64::max);
        let opened: usize = parts.iter().map(|p| p.opened).sum();
        let (before, end) = (total(|p| p.rss_before_kib), total(|p| p.rss_end_kib));
        IdleReport {
            scenario: "idle".into(),
            target: args.target,
            machine: Machine::current(),
            clients: args.clients,
            opened,
            connect_errors: args.clients - opened.min(args.clients),
            connect_s: max(|p| p.connect_s),
            hold_s: parts.iter().map(|p| p.hold_s).fold(f64::INFINITY, f64::min),
            rss_before_kib: before,
            rss_open_kib: total(|p| p.rss_open_kib),
            rss_end_kib: end,
            rss_per_connection_kib: if opened == 0 { 0.0 } else { end.saturating_sub(before) as f64 / opened as f64 },
            pings: total(|p| p.pings),
            late_heartbeats: total(|p| p.late_heartbeats),
            max_ping_gap_ms: parts.iter().map(|p| p.max_ping_gap_ms).max().unwrap_or(0),
            late_at_server: total(|p| p.late_at_server),
            max_stamp_gap_ms: parts.iter().map(|p| p.max_stamp_gap_ms).max().unwrap_or(0),
            lost: total(|p| p.lost),
            healthz_max_ms: max(|p| p.healthz_max_ms),
            metrics_max_ms: max(|p| p.metrics_max_ms),
            healthz_ms: Vec::new(),
            probe_errors: total(|p| p.probe_errors),
            server_cpu_ms: parts.iter().map(|p| p.server_cpu_ms).sum(),
            // Unknown if any server's CPU could not be read (its pings
            // would count against nothing).
            server_cpu_us_per_ping: {
                let pings = total(|p| p.pings);
                let all_read = parts.iter().all(|p| p.server_cpu_us_per_ping.is_some());
                (pings > 0 && all_read).then(|| parts.iter().map(|p| p.server_cpu_ms).sum::<f64>() * 1e3 / pings as f64)
            },
            fd_limit: parts.iter().map(|p| p.fd_limit).min().unwrap_or(0),
            processes: parts.len(),
            parts,
        }
    }
}
