//! `fanout_peer`: the comparison peer of the fan-out benchmark — a minimal
//! fan-out WebSocket server written directly on tokio + tokio-tungstenite,
//! with none of Playhouse's layers (no actors, no sessions, no metrics).
//!
//! It speaks just the part of the Playhouse envelope that the scenario
//! needs, protobuf codec only:
//!
//! - the handshake must offer the subprotocol `fanout.v1.proto`, which is
//!   echoed; any other offer is refused with HTTP 400;
//! - `ServerMsg::Welcome` first, then `ClientMsg::JoinOrCreate { room_type:
//!   "fanout" }` is answered with `ServerMsg::Joined` (clients fill rooms of
//!   `--room-size` in arrival order) and `ClientMsg::Ping` with `Pong`;
//! - each room is a tokio task ticking at `--hz` (`MissedTickBehavior::Skip`)
//!   that encodes ONE `ServerMsg::State` per tick (payload: `bench.v1.Tick`
//!   with `--state-bytes` of filler) and hands the same `Bytes` to every
//!   member through a bounded per-connection channel with `try_send`; a full
//!   channel drops the frame and counts it (reported on stderr).
//!
//! Sized like a careful hand-written server: a 4 KiB WebSocket read buffer
//! per connection instead of tungstenite's zero-filled 128 KiB default (see
//! `ws_config`), so RSS per connection compares designs, not defaults.
//!
//! Run it alone with
//! `cargo run --release -p playhouse-benches --bin fanout_peer -- --room-size 20 --hz 30 --state-bytes 256`;
//! it prints `LISTENING <ip:port>` on stdout once it accepts connections.
//! The load generator (`loadgen fanout --targets peer ...`) starts it itself.

use bytes::Bytes;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use playhouse::protocol::CodecError;
use playhouse_benches::fanout::{self, CODEC, ROOM_TYPE, TOKEN};
use playhouse_protocol::envelope::{
    client_msg, server_msg, ClientMsg, JoinError, JoinErrorCode, Joined, Pong, ServerMsg, Welcome,
};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;

/// Frames queued per connection before a state frame is dropped.
const CONNECTION_QUEUE: usize = 32;
/// Read buffer per connection (see [`ws_config`]).
const READ_BUFFER: usize = 4 << 10;

#[derive(Parser, Debug, Clone)]
#[command(about = "Minimal tokio-tungstenite fan-out server (benchmark peer)")]
struct Cli {
    #[command(flatten)]
    args: fanout::ServerArgs,
}

type Args = fanout::ServerArgs;

#[derive(Debug, thiserror::Error)]
enum PeerError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("websocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("codec: {0}")]
    Codec(#[from] CodecError),
    #[error("bad arguments: {0}")]
    Args(String),
}

/// Counters shared by every task, reported on stderr.
#[derive(Default)]
struct Counters {
    dropped_states: AtomicU64,
    sent_states: AtomicU64,
}

/// A member of a room: its outgoing queue.
struct Member {
    tx: mpsc::Sender<Message>,
}

/// A seat reserved in a room: the room's id, the client's id in it, and
/// where to hand the member over once its `Joined` is queued.
struct Seat {
    room: String,
    client: u32,
    joins: mpsc::UnboundedSender<Member>,
}

/// The room that is filling up, if any.
struct OpenRoom {
    id: String,
    joins: mpsc::UnboundedSender<Member>,
    members: usize,
}

/// Assigns clients to rooms in arrival order and starts the room tasks.
struct Matchmaker {
    args: Args,
    counters: Arc<Counters>,
    open: Option<OpenRoom>,
    next_room: u64,
}

impl Matchmaker {
    /// Reserves the next seat, opening a new room when none is filling up.
    fn reserve(&mut self) -> Seat {
        let open = self.open.get_or_insert_with(|| {
            self.next_room += 1;
            let id = format!("fanout-{}", self.next_room);
            let (joins, rx) = mpsc::unbounded_channel();
            tokio::spawn(run_room(id.clone(), rx, self.args.clone(), self.counters.clone()));
            OpenRoom { id, joins, members: 0 }
        });
        open.members += 1;
        let seat = Seat { room: open.id.clone(), client: open.members as u32, joins: open.joins.clone() };
        if open.members >= self.args.room_size {
            // Full: the room's join channel closes once the last seat holder
            // has handed its member over.
            self.open = None;
        }
        seat
    }
}

/// One room: ticks at `hz`, encodes one state per tick, fans it out.
async fn run_room(id: String, mut joins: mpsc::UnboundedReceiver<Member>, args: Args, counters: Arc<Counters>) {
    let filler = fanout::filler(args.state_bytes);
    let mut members: Vec<Member> = Vec::with_capacity(args.room_size);
    let mut joins_open = true;
    let mut interval = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.hz)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut tick: u64 = 0;
    loop {
        interval.tick().await;
        while joins_open {
            match joins.try_recv() {
                Ok(m) => members.push(m),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => joins_open = false,
            }
        }
        if members.is_empty() {
            if joins_open {
                continue;
            }
            return; // filled once, and everyone has left
        }
        let frame = match fanout::encode_state(CODEC, &id, tick, &filler) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("fanout_peer: room {id}: encode failed: {e}");
                return;
            }
        };
        tick += 1;
        let mut sent = 0;
        members.retain(|m| match m.tx.try_send(Message::Binary(frame.clone())) {
            Ok(()) => {
                sent += 1;
                true
            }
            Err(TrySendError::Full(_)) => {
                counters.dropped_states.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Closed(_)) => false,
        });
        counters.sent_states.fetch_add(sent, Ordering::Relaxed);
    }
}

/// Echoes `fanout.v1.proto` when the client offers it; refuses otherwise.
#[allow(clippy::result_large_err)] // the signature tungstenite asks for
fn negotiate(req: &Request, mut resp: Response) -> Result<Response, ErrorResponse> {
    let offered = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == TOKEN);
    if offered {
        resp.headers_mut().insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(TOKEN));
        Ok(resp)
    } else {
        let mut err = ErrorResponse::new(Some(format!("supported subprotocols: {TOKEN}\n")));
        *err.status_mut() = StatusCode::BAD_REQUEST;
        Err(err)
    }
}

/// tungstenite's defaults are sized for throughput: a 128 KiB read buffer
/// that is zero-filled up front, i.e. 128 KiB of RSS per connection. A
/// careful hand-written fan-out server sizes it for its traffic (clients
/// send tiny messages here), so the peer does too: otherwise the
/// RSS-per-connection comparison would measure a default, not a design.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(64 << 10))
        .max_frame_size(Some(64 << 10))
}

/// Encodes a server message as a binary frame.
fn frame(msg: server_msg::Kind) -> Result<Message, CodecError> {
    let bytes = CODEC.encode_to_vec(&ServerMsg { kind: Some(msg), seq: 0 })?;
    Ok(Message::Binary(Bytes::from(bytes)))
}

fn close(code: CloseCode, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}

/// Serves one connection until it closes.
async fn serve(stream: TcpStream, conn_id: u64, args: Arc<Args>, mm: Arc<Mutex<Matchmaker>>) -> Result<(), PeerError> {
    stream.set_nodelay(true)?;
    let ws = tokio_tungstenite::accept_hdr_async_with_config(stream, negotiate, Some(ws_config())).await?;
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Message>(CONNECTION_QUEUE);
    // The writer owns the sink: states from the room, replies and the close
    // frame from the reader below, in queue order.
    let mut writer = tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let last = msg.is_close();
            if sink.send(msg).await.is_err() || last {
                break;
            }
        }
    });
    tx.send(frame(server_msg::Kind::Welcome(Welcome {
        session: format!("peer-{conn_id}"),
        resume_token: String::new(),
        server_time: fanout::now_ms(),
        protocol: TOKEN.to_string(),
        ..Default::default()
    }))?)
    .await
    .ok();
    let mut seated = false;
    let mut closing = false;
    let result = loop {
        let data = match source.next().await {
            None => break Ok(()),
            Some(Err(e)) => break Err(e.into()),
            Some(Ok(Message::Binary(b))) => b,
            Some(Ok(Message::Text(_))) => {
                closing = tx.send(close(CloseCode::Unsupported, "binary only")).await.is_ok();
                break Ok(());
            }
            Some(Ok(Message::Close(_))) => break Ok(()), // tungstenite replies
            Some(Ok(_)) => continue,                     // pings: answered by tungstenite
        };
        let Ok(msg) = CODEC.decode::<ClientMsg>(&data) else {
            closing = tx.send(close(CloseCode::Invalid, "undecodable")).await.is_ok();
            break Ok(());
        };
        let reply = match msg.kind {
            Some(client_msg::Kind::JoinOrCreate(j)) if j.room_type == ROOM_TYPE && !seated => {
                let seat = lock(&mm).reserve();
                let joined = frame(server_msg::Kind::Joined(Joined {
                    request: j.request,
                    room: seat.room.clone(),
                    room_type: ROOM_TYPE.to_string(),
                    tick_hz: args.hz,
                    client: seat.client,
                }))?;
                // Joined is queued before the room can queue any state.
                if tx.send(joined).await.is_err() {
                    break Ok(());
                }
                let _ = seat.joins.send(Member { tx: tx.clone() });
                seated = true;
                continue;
            }
            Some(client_msg::Kind::JoinOrCreate(j)) => {
                let code = if seated { JoinErrorCode::AlreadyJoined } else { JoinErrorCode::UnknownRoomType };
                frame(server_msg::Kind::JoinError(JoinError {
                    request: j.request,
                    code: code as i32,
                    reason: format!("this peer serves one room of type {ROOM_TYPE} per client"),
                }))?
            }
            Some(client_msg::Kind::Ping(p)) => {
                frame(server_msg::Kind::Pong(Pong { client_time: p.client_time, server_time: fanout::now_ms() }))?
            }
            _ => continue, // not part of the scenario: ignored
        };
        if tx.send(reply).await.is_err() {
            break Ok(());
        }
    };
    drop(tx);
    // The room still holds a sender, so the writer would wait forever: stop
    // it (the room then sees the queue closed and drops this member), but
    // let a queued close frame go out first.
    if closing {
        let _ = tokio::time::timeout(Duration::from_millis(200), &mut writer).await;
    }
    writer.abort();
    result
}

fn lock(mm: &Mutex<Matchmaker>) -> std::sync::MutexGuard<'_, Matchmaker> {
    mm.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[tokio::main]
async fn main() -> Result<(), PeerError> {
    let args = Cli::parse().args;
    if args.room_size == 0 || args.hz == 0 || args.hz > 1000 {
        return Err(PeerError::Args("--room-size must be > 0 and --hz within 1..=1000".into()));
    }
    let listener = TcpListener::bind(&args.addr).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} {addr}", fanout::LISTENING)?;
        out.flush()?;
    }
    let counters = Arc::new(Counters::default());
    let mm =
        Arc::new(Mutex::new(Matchmaker { args: args.clone(), counters: counters.clone(), open: None, next_room: 0 }));
    let report = counters.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(5));
        every.tick().await;
        loop {
            every.tick().await;
            let dropped = report.dropped_states.load(Ordering::Relaxed);
            if dropped > 0 {
                let sent = report.sent_states.load(Ordering::Relaxed);
                eprintln!("fanout_peer: {dropped} state frames dropped ({sent} queued)");
            }
        }
    });
    let args = Arc::new(args);
    let mut conn_id = 0u64;
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("fanout_peer: accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        conn_id += 1;
        let (args, mm) = (args.clone(), mm.clone());
        tokio::spawn(async move {
            if let Err(e) = serve(stream, conn_id, args, mm).await {
                eprintln!("fanout_peer: connection {conn_id}: {e}");
            }
        });
    }
}
