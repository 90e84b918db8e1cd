//! The link emulator of `loadgen scenario`: a TCP proxy in user space that
//! gives every connection through it a link of its own, with latency,
//! jitter, loss and a bandwidth cap, in each direction.
//!
//! Each direction of a connection is a reader and a writer joined by a
//! queue. The reader stamps every chunk it reads (one `read()`, up to
//! 16 KiB: a chunk is not a packet) with the time it may leave:
//!
//! - **latency** and **jitter**: `now + latency ± jitter` (uniform), but
//!   never before the chunk ahead of it, because TCP delivers in order: a
//!   late chunk holds up the ones behind it, as on a real link.
//! - **loss**: TCP does not lose bytes, it resends them; a chunk drawn as
//!   lost (probability `loss`, per chunk) is delivered one retransmission
//!   timeout later, `max(200 ms, 3 × the link's round trip)` (200 ms is
//!   Linux's smallest RTO), and holds up everything behind it.
//! - **bandwidth**: the writer sends a chunk of `n` bytes no earlier than
//!   `n × 8 / bps` after the end of the previous one (the last byte's
//!   arrival), so a direction never carries more than the cap.
//!
//! The queue is bounded in bytes (200 ms at the capped rate, at least
//! 1500 bytes; 1 MiB without a cap), and with a cap so is the kernel's
//! receive buffer of the proxy's sockets: once full the reader stops
//! reading, the kernel's buffers fill and the sender is slowed down by TCP
//! itself, like behind a router's buffer. A server that keeps only the latest state
//! for a slow reader then drops older states, which is what the delivery
//! ratio shows.
//!
//! What it does not emulate: reordering and duplication (TCP hides them),
//! and the loss of one packet out of a chunk (the whole chunk waits).
//! For packet-level emulation, run the server in a network namespace with
//! `tc qdisc … netem` instead (`docs/load-testing.md`).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

/// Largest chunk read at once.
const CHUNK: usize = 16 * 1024;
/// The smallest queue of a capped link: about one Ethernet packet.
const MIN_QUEUE: usize = 1500;
/// Linux's smallest retransmission timeout.
const MIN_RTO: Duration = Duration::from_millis(200);

/// The conditions of every connection's link, each direction.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct LinkConditions {
    /// Added one way, in each direction (a round trip gains twice this).
    #[serde(rename = "latency_ms", serialize_with = "as_ms")]
    pub latency: Duration,
    /// Each chunk's delay varies uniformly by up to this much either way.
    #[serde(rename = "jitter_ms", serialize_with = "as_ms")]
    pub jitter: Duration,
    /// Chance (0..=1) that a chunk is lost and resent (see the module doc).
    pub loss: f64,
    /// Bits per second each way, per connection; `None`: no cap.
    pub bandwidth_bps: Option<u64>,
}

fn as_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl LinkConditions {
    /// What a lost chunk costs: one retransmission timeout.
    pub fn retransmit_delay(&self) -> Duration {
        MIN_RTO.max(self.latency * 6)
    }

    /// The most bytes queued in one direction before the reader waits:
    /// 200 ms at the capped rate, at least one packet's worth.
    fn queue_bytes(&self) -> usize {
        match self.bandwidth_bps {
            Some(bps) => ((bps / 8 / 5) as usize).max(MIN_QUEUE),
            None => 1 << 20,
        }
    }

    /// The largest chunk read at once (never more than the queue holds).
    fn chunk_bytes(&self) -> usize {
        CHUNK.min(self.queue_bytes())
    }

    /// With a bandwidth cap, keeps the kernel's receive buffer of `socket`
    /// (set before connecting or listening) as small as the queue: a
    /// loopback receive window of megabytes would let the sender's kernel
    /// buffer seconds of traffic at the capped rate, so the sender would
    /// never feel the bottleneck and every byte would arrive, late. With a
    /// small window the sender's TCP stays window-limited, its send buffer
    /// stays small, and its writes block as behind a real bottleneck.
    fn bound_receive_buffer(&self, socket: &TcpSocket) -> std::io::Result<()> {
        if self.bandwidth_bps.is_some() {
            socket.set_recv_buffer_size(self.queue_bytes() as u32)?;
        }
        Ok(())
    }

    /// The time a chunk of `n` bytes takes on the wire.
    fn serialization(&self, n: usize) -> Duration {
        match self.bandwidth_bps {
            Some(bps) if bps > 0 => Duration::from_secs_f64(n as f64 * 8.0 / bps as f64),
            _ => Duration::ZERO,
        }
    }

    /// How long the chunk read now waits before it may leave (before the
    /// in-order rule): latency, jitter, and a resend if it is lost.
    fn draw_delay(&self, rng: &mut impl Rng) -> Duration {
        let base = self.latency.as_secs_f64();
        let j = self.jitter.as_secs_f64();
        let jittered = if j > 0.0 { base + rng.random_range(-j..=j) } else { base };
        let mut delay = Duration::from_secs_f64(jittered.max(0.0));
        if self.loss > 0.0 && rng.random_bool(self.loss.min(1.0)) {
            delay += self.retransmit_delay();
        }
        delay
    }
}

/// A running link emulator in front of one server (stops accepting when
/// dropped; connections already open run to their end).
pub struct LinkProxy {
    addr: SocketAddr,
    accept: tokio::task::JoinHandle<()>,
}

impl LinkProxy {
    /// Listens on 127.0.0.1 (ephemeral port) and forwards each connection
    /// to `target` over its own emulated link.
    pub async fn start(target: SocketAddr, link: LinkConditions) -> std::io::Result<LinkProxy> {
        // Clients join in bursts: a listen backlog of 128 would drop SYNs.
        let socket = TcpSocket::new_v4()?;
        // Accepted sockets inherit the listener's receive buffer.
        link.bound_receive_buffer(&socket)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let listener: TcpListener = socket.listen(4096)?;
        let addr = listener.local_addr()?;
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let upstream = async {
                        let socket = TcpSocket::new_v4()?;
                        link.bound_receive_buffer(&socket)?;
                        socket.connect(target).await
                    };
                    if let Ok(server) = upstream.await {
                        connect(client, server, link).await;
                    }
                });
            }
        });
        Ok(LinkProxy { addr, accept })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn connect(client: TcpStream, server: TcpStream, link: LinkConditions) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_rx, client_tx) = client.into_split();
    let (server_rx, server_tx) = server.into_split();
    // Either direction ending (or failing) ends the other: a half-open
    // game connection is of no use.
    tokio::select! {
        _ = direction(client_rx, server_tx, link) => {}
        _ = direction(server_rx, client_tx, link) => {}
    }
}

/// A chunk on its way, and when it may leave.
struct Chunk {
    bytes: Vec<u8>,
    due: Instant,
}

/// One direction: reads, delays, shapes, writes, until either side ends.
async fn direction(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, link: LinkConditions) {
    let room = Arc::new(Semaphore::new(link.queue_bytes()));
    let (tx, mut rx) = mpsc::unbounded_channel::<Chunk>();
    let reader = {
        let room = room.clone();
        async move {
            let mut buf = vec![0u8; link.chunk_bytes()];
            let mut last_due = Instant::now();
            let mut rng = StdRng::from_os_rng();
            loop {
                let n = match from.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                // Bounded in bytes: wait for room before taking more.
                let Ok(permit) = room.acquire_many(n as u32).await else { return };
                permit.forget();
                let due = (Instant::now() + link.draw_delay(&mut rng)).max(last_due);
                last_due = due;
                if tx.send(Chunk { bytes: buf[..n].to_vec(), due }).is_err() {
                    return;
                }
            }
        }
    };
    let writer = async move {
        let mut wire_free = Instant::now();
        while let Some(chunk) = rx.recv().await {
            // The chunk's last byte arrives once the wire has carried it.
            let start = chunk.due.max(wire_free);
            wire_free = start + link.serialization(chunk.bytes.len());
            tokio::time::sleep_until(wire_free).await;
            if to.write_all(&chunk.bytes).await.is_err() {
                // Wakes a reader waiting for room: nothing more will leave.
                room.close();
                return;
            }
            room.add_permits(chunk.bytes.len());
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An echo server on 127.0.0.1 (ephemeral port).
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = s.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        addr
    }

    /// Round trips of one small message through a link, in ms.
    async fn round_trips(link: LinkConditions, n: usize) -> Vec<f64> {
        let proxy = LinkProxy::start(echo().await, link).await.expect("proxy");
        let mut s = TcpStream::connect(proxy.addr()).await.expect("connect");
        s.set_nodelay(true).expect("nodelay");
        let mut out = Vec::new();
        for i in 0..n {
            let t = std::time::Instant::now();
            s.write_all(&[i as u8; 8]).await.expect("write");
            let mut back = [0u8; 8];
            s.read_exact(&mut back).await.expect("echoed");
            assert_eq!(back, [i as u8; 8], "bytes come back whole and in order");
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        out
    }

    #[tokio::test]
    async fn latency_is_added_each_way() {
        let link = LinkConditions { latency: Duration::from_millis(40), ..Default::default() };
        for rtt in round_trips(link, 5).await {
            assert!(rtt >= 80.0, "a round trip through 40 ms each way took {rtt} ms");
        }
    }

    #[tokio::test]
    async fn jitter_never_goes_below_the_latency_floor_and_keeps_order() {
        let link = LinkConditions {
            latency: Duration::from_millis(30),
            jitter: Duration::from_millis(20),
            ..Default::default()
        };
        for rtt in round_trips(link, 10).await {
            assert!(rtt >= 20.0, "30 ± 20 ms each way cannot make a round trip of {rtt} ms");
        }
    }

    #[tokio::test]
    async fn a_lost_chunk_costs_a_retransmission_timeout() {
        let link = LinkConditions { loss: 1.0, ..Default::default() };
        for rtt in round_trips(link, 2).await {
            assert!(rtt >= 400.0, "every chunk lost each way: at least 2 × 200 ms, took {rtt} ms");
        }
    }

    #[tokio::test]
    async fn the_bandwidth_cap_holds() {
        // 80 kbit/s = 10 KB/s: 20 KB cannot cross in less than 2 s.
        let link = LinkConditions { bandwidth_bps: Some(80_000), ..Default::default() };
        let sink = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let target = sink.local_addr().expect("addr");
        let proxy = LinkProxy::start(target, link).await.expect("proxy");
        let received = tokio::spawn(async move {
            let (mut s, _) = sink.accept().await.expect("accept");
            let mut all = Vec::new();
            s.read_to_end(&mut all).await.expect("read");
            (all.len(), std::time::Instant::now())
        });
        let mut c = TcpStream::connect(proxy.addr()).await.expect("connect");
        let t = std::time::Instant::now();
        c.write_all(&vec![7u8; 20_000]).await.expect("write");
        c.shutdown().await.expect("shutdown");
        let (n, at) = received.await.expect("sink");
        assert_eq!(n, 20_000);
        let took = at.duration_since(t).as_secs_f64();
        assert!(took >= 1.9, "20 KB at 10 KB/s took {took} s");
    }

    #[test]
    fn the_retransmission_timeout_grows_with_the_latency() {
        assert_eq!(LinkConditions::default().retransmit_delay(), MIN_RTO);
        let slow = LinkConditions { latency: Duration::from_millis(100), ..Default::default() };
        assert_eq!(slow.retransmit_delay(), Duration::from_millis(600));
        assert_eq!(slow.serialization(1000), Duration::ZERO);
        let capped = LinkConditions { bandwidth_bps: Some(8_000), ..Default::default() };
        assert_eq!(capped.serialization(1000), Duration::from_secs(1));
        assert_eq!((capped.queue_bytes(), capped.chunk_bytes()), (MIN_QUEUE, MIN_QUEUE));
        let fast = LinkConditions { bandwidth_bps: Some(100_000_000), ..Default::default() };
        assert_eq!((fast.queue_bytes(), fast.chunk_bytes()), (2_500_000, CHUNK));
    }
}
