//! A refused handshake leaves nothing behind (hardening issue, item 1).
//!
//! `GET /ws` with a subprotocol offer but no `Upgrade` header passes every
//! check before the upgrade and then fails the handshake. Each such request
//! used to open a session that nothing ever ended (~650 B each, and a slower
//! sweep), so one keep-alive connection repeating it grew the server without
//! bound. Now the handshake is checked before anything is allocated.

use super::metrics_of;
use playhouse_tests::metric;
use playhouse_tests::process::ArenaProcess;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Requests written before their answers are read (HTTP/1.1 pipelining).
const BATCH: usize = 100;

/// Sends `n` non-upgrade `GET /ws` requests on one keep-alive connection and
/// reads every answer; returns how many were 400.
fn refused_upgrades(addr: SocketAddr, n: usize) -> usize {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let one = format!("GET /ws HTTP/1.1\r\nHost: {addr}\r\nSec-WebSocket-Protocol: arena.v2.proto\r\n\r\n");
    let (mut buf, mut bad_requests, mut answered) = (Vec::new(), 0, 0);
    let mut chunk = [0u8; 16 * 1024];
    while answered < n {
        let batch = BATCH.min(n - answered);
        s.write_all(one.repeat(batch).as_bytes()).expect("write requests");
        let mut got = 0;
        while got < batch {
            match take_response(&mut buf) {
                Some(status) => {
                    got += 1;
                    bad_requests += usize::from(status == 400);
                }
                None => {
                    let k = s.read(&mut chunk).expect("read responses");
                    assert!(k > 0, "the server closed the keep-alive connection after {} answers", answered + got);
                    buf.extend_from_slice(&chunk[..k]);
                }
            }
        }
        answered += batch;
    }
    bad_requests
}

/// Removes one whole HTTP response from the front of `buf`; its status.
fn take_response(buf: &mut Vec<u8>) -> Option<u16> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let length: usize =
        head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    if buf.len() < end + length {
        return None;
    }
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    buf.drain(..end + length);
    Some(status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_refused_upgrades_leave_no_session_and_no_memory_behind() {
    const WARM_UP: usize = 2_000;
    const REQUESTS: usize = 20_000;
    let server = ArenaProcess::spawn(&[]);
    let addr = server.addr();
    let warm = tokio::task::spawn_blocking(move || refused_upgrades(addr, WARM_UP)).await.expect("warm-up");
    assert_eq!(warm, WARM_UP, "each non-upgrade request is answered 400");
    let before = server.rss_kib();
    let t = Instant::now();
    let refused = tokio::task::spawn_blocking(move || refused_upgrades(addr, REQUESTS)).await.expect("requests");
    let took = t.elapsed();
    assert_eq!(refused, REQUESTS);
    let m = metrics_of(addr).await;
    let after = server.rss_kib();
    let sessions = metric(&m, "playhouse_sessions");
    eprintln!(
        "refused upgrades: {REQUESTS} in {took:?}; sessions {sessions}; RSS {before} KiB -> {after} KiB ({:+} KiB)",
        after as i64 - before as i64
    );
    assert_eq!(sessions, 0.0, "a refused handshake left sessions behind");
    assert_eq!(metric(&m, "playhouse_connections_open"), 0.0);
    // Before the fix: +13 MB here (~650 B a request). Allocator noise is
    // well under 2 MiB.
    assert!(after < before + 2048, "RSS grew from {before} KiB to {after} KiB over {REQUESTS} refused upgrades");
}
