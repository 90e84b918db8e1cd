//! One scenario client and the statistics all clients share.
//!
//! A client connects offering `fanout.v1.proto`, checks that the server
//! echoed it, sends `JoinOrCreate { room_type: "fanout" }` and waits for
//! `Joined` (as many times as it is to be in rooms: the server finds each
//! time a room the client is not in yet), then reads `State` frames until
//! told to stop, recording the tick→receipt latency (`now_us −
//! Tick.sent_at_us`) of each.

use super::{LoadgenError, Result};
use crate::fanout::{now_us, ws_frame_len, Tick, CODEC, ROOM_TYPE, TOKEN};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use playhouse_protocol::envelope::{client_msg, server_msg, ClientMsg, JoinOrCreate, Joined, ServerMsg};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A client's WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Highest latency the histogram records (larger values are clamped).
const MAX_LATENCY_US: u64 = 60_000_000;
/// How long a client waits for the close handshake when stopping.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Error messages printed on stderr per run (the rest are only counted).
const PRINTED_ERRORS: u64 = 5;

/// What every client of one target records into. The orchestrator resets
/// it when the warm-up ends and snapshots it when the measurement ends.
pub struct Stats {
    /// Tick→receipt latency in microseconds.
    pub latency_us: Mutex<Histogram<u64>>,
    /// State frames received.
    pub deliveries: AtomicU64,
    /// Their wire size, WebSocket header included, summed.
    pub state_frame_bytes: AtomicU64,
    /// Connect, join, decode failures and unexpected disconnects.
    pub errors: AtomicU64,
    /// Room messages received (frames other than states: the reliable
    /// messages of `--messages-per-tick`).
    pub messages: AtomicU64,
    /// Each client's way in, in microseconds: TCP connect and the
    /// WebSocket upgrade (`upgrade`), then its joins until the last
    /// `Joined` (`join`).
    way_in_us: Mutex<WayIn>,
}

/// Histograms of the two halves of each client's way in (µs).
pub struct WayIn {
    /// TCP connect and the upgrade, to the `101`.
    pub upgrade: Histogram<u64>,
    /// From the `101` to the last `Joined`.
    pub join: Histogram<u64>,
}

impl Stats {
    /// Empty statistics.
    pub fn new() -> Stats {
        Stats {
            latency_us: Mutex::new(Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")),
            deliveries: AtomicU64::new(0),
            state_frame_bytes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            way_in_us: Mutex::new(WayIn {
                upgrade: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds"),
                join: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds"),
            }),
        }
    }

    /// The way-in histograms (connect + upgrade, joins).
    pub fn way_in(&self) -> std::sync::MutexGuard<'_, WayIn> {
        self.way_in_us.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn hist(&self) -> std::sync::MutexGuard<'_, Histogram<u64>> {
        self.latency_us.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets everything recorded so far except errors (end of warm-up).
    pub fn reset(&self) {
        let mut h = self.hist();
        h.reset();
        self.deliveries.store(0, Ordering::Relaxed);
        self.state_frame_bytes.store(0, Ordering::Relaxed);
        self.messages.store(0, Ordering::Relaxed);
    }

    /// The latency histogram, delivery count and summed frame sizes right now.
    pub fn snapshot(&self) -> (Histogram<u64>, u64, u64) {
        let h = self.hist();
        (h.clone(), self.deliveries.load(Ordering::Relaxed), self.state_frame_bytes.load(Ordering::Relaxed))
    }

    /// Counts an error, printing the first few.
    pub fn error(&self, what: &str, e: &dyn std::fmt::Display) {
        let n = self.errors.fetch_add(1, Ordering::Relaxed);
        if n < PRINTED_ERRORS {
            eprintln!("loadgen: client {what}: {e}");
        } else if n == PRINTED_ERRORS {
            eprintln!("loadgen: more client errors (only counted from now on)");
        }
    }

    fn record(&self, latency_us: u64, frame_bytes: usize) {
        self.hist().saturating_record(latency_us.max(1));
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        self.state_frame_bytes.fetch_add(frame_bytes as u64, Ordering::Relaxed);
    }
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

/// Connects to `url` offering the scenario's token and joins `rooms`
/// rooms, one after another; returns the last `Joined`. Bounded by
/// `timeout` as a whole. Records how long the upgrade and the joins took
/// into `stats` (see [`Stats::way_in`]).
pub async fn connect_and_join(url: &str, rooms: usize, timeout: Duration, stats: &Stats) -> Result<(Ws, Joined)> {
    tokio::time::timeout(timeout, async {
        let started = std::time::Instant::now();
        let mut req = url.into_client_request()?;
        req.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(TOKEN));
        let (mut ws, resp) = tokio_tungstenite::connect_async_with_config(req, None, true).await?;
        let echoed = resp.headers().get(header::SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok());
        if echoed != Some(TOKEN) {
            return Err(LoadgenError::Protocol(format!("server echoed subprotocol {echoed:?}, expected {TOKEN}")));
        }
        let upgraded = std::time::Instant::now();
        let mut joined = None;
        for request in 1..=rooms.max(1) as u32 {
            joined = Some(join_one(&mut ws, request).await?);
        }
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
        let (upgrade, join) = (micros(upgraded - started), micros(upgraded.elapsed()));
        {
            let mut way_in = stats.way_in();
            way_in.upgrade.saturating_record(upgrade);
            way_in.join.saturating_record(join);
        }
        joined.map(|j| (ws, j)).ok_or_else(|| LoadgenError::Protocol("no room joined".into()))
    })
    .await
    .map_err(|_| LoadgenError::Timeout(format!("connect and join {url}")))?
}

/// Sends one `JoinOrCreate` and waits for its answer (states of rooms
/// joined before it may come first).
async fn join_one(ws: &mut Ws, request: u32) -> Result<Joined> {
    let join = ClientMsg {
        kind: Some(client_msg::Kind::JoinOrCreate(JoinOrCreate {
            request,
            room_type: ROOM_TYPE.to_string(),
            options: Default::default(),
        })),
    };
    ws.send(Message::Binary(CODEC.encode_to_vec(&join)?.into())).await?;
    while let Some(msg) = ws.next().await {
        let data = match msg? {
            Message::Binary(b) => b,
            Message::Close(frame) => return Err(LoadgenError::Protocol(format!("closed before Joined: {frame:?}"))),
            _ => continue,
        };
        match CODEC.decode::<ServerMsg>(&data)?.kind {
            Some(server_msg::Kind::Joined(j)) => return Ok(j),
            Some(server_msg::Kind::JoinError(e)) => return Err(LoadgenError::Protocol(format!("join refused: {e:?}"))),
            Some(server_msg::Kind::Error(e)) => {
                return Err(LoadgenError::Protocol(format!("error before Joined: {e:?}")))
            }
            _ => continue, // Welcome, and anything else before Joined
        }
    }
    Err(LoadgenError::Protocol("connection ended before Joined".into()))
}

/// Reads `State` frames into `stats` (and counts room messages) until
/// `stop` turns true, then closes the connection. A connection that ends or fails before that counts as
/// an error.
pub async fn read_states(mut ws: Ws, stats: &Stats, mut stop: watch::Receiver<bool>) {
    loop {
        let msg = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => None,
            msg = ws.next() => Some(msg),
        };
        let Some(msg) = msg else {
            // Stopped: leave politely (bounded), like a real client.
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close(None)).await;
            return;
        };
        let data = match msg {
            Some(Ok(Message::Binary(b))) => b,
            Some(Ok(Message::Close(frame))) => {
                stats.error("disconnect", &format!("server closed: {frame:?}"));
                return;
            }
            Some(Ok(_)) => continue, // pings: tungstenite answers them
            Some(Err(e)) => {
                stats.error("disconnect", &e);
                return;
            }
            None => {
                stats.error("disconnect", &"connection ended");
                return;
            }
        };
        let now = now_us();
        let tick = CODEC.decode::<ServerMsg>(&data).map_err(LoadgenError::from).and_then(|msg| match msg.kind {
            Some(server_msg::Kind::State(s)) => Ok(Some(CODEC.decode::<Tick>(&s.payload)?)),
            Some(server_msg::Kind::Message(_)) => {
                stats.messages.fetch_add(1, Ordering::Relaxed);
                Ok(None)
            }
            _ => Ok(None), // Pong, ...: not measured
        });
        match tick {
            Ok(Some(t)) => stats.record(now.saturating_sub(t.sent_at_us), ws_frame_len(data.len())),
            Ok(None) => {}
            Err(e) => stats.error("decode", &e),
        }
    }
}
