//! # playhouse-client
//!
//! A Rust client for Playhouse servers, on tokio-tungstenite. It offers a
//! list of subprotocol tokens, reads the one the server chose, and then
//! speaks the envelope in that token's codec; game payloads are encoded and
//! decoded with the same codec through [`Client::send_input`] and
//! [`Client::decode`].
//!
//! ```no_run
//! use playhouse_client::{Client, Event};
//! use playhouse_proto::arena::v2;
//!
//! # async fn run() -> Result<(), playhouse_client::ClientError> {
//! let mut client = Client::connect("ws://127.0.0.1:8080/ws", &["arena.v2.proto", "arena.v2.msgpack"]).await?;
//! let joined = client.join_or_create("arena", Default::default()).await?;
//! client.send_input(&joined.room, 1, &v2::Input { move_x: 1, ..Default::default() }).await?;
//! loop {
//!     if let Event::State(s) = client.next_event().await? {
//!         let out: v2::Output = client.decode(&s.payload)?;
//!         println!("tick {}: {:?}", s.tick, out);
//!         break;
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! `wss://` URLs work out of the box (feature `tls`, on by default) with
//! Mozilla's root CAs; [`Client::connect_tls`] trusts a certificate of your
//! choosing instead (see [`TlsTrust`]).

mod error;
#[cfg(feature = "tls")]
mod tls;

pub use error::ClientError;

#[cfg(feature = "tls")]
pub use rustls;
#[cfg(feature = "tls")]
pub use tls::{TlsTrust, TrustError};

use futures_util::{SinkExt, StreamExt};
use playhouse::protocol::envelope::{
    client_msg::Kind as C, server_msg::Kind as S, Ack, ClientMsg, Create, Input, Join, JoinError, JoinOrCreate, Joined,
    Leave, Left, Message, Ping, Pong, Resume, Resumed, ServerMsg, State, Welcome,
};
use playhouse::protocol::{Codec, Token, WireMessage};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

pub use playhouse::protocol::envelope;

/// A server message, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Joined a room.
    Joined(Joined),
    /// A join failed.
    JoinError(JoinError),
    /// A reliable room message.
    Message(Message),
    /// A state snapshot.
    State(State),
    /// Answer to a ping.
    Pong(Pong),
    /// A non-fatal error.
    Error(envelope::Error),
    /// The server is shutting down.
    Shutdown(envelope::Shutdown),
    /// Left a room.
    Left(Left),
    /// Another welcome (never sent twice by a correct server).
    Welcome(Welcome),
    /// A session was resumed (the answer to [`Client::resume`]).
    Resumed(Resumed),
}

impl From<S> for Event {
    fn from(k: S) -> Self {
        match k {
            S::Welcome(w) => Event::Welcome(w),
            S::Joined(j) => Event::Joined(j),
            S::JoinError(e) => Event::JoinError(e),
            S::Message(m) => Event::Message(m),
            S::State(s) => Event::State(s),
            S::Pong(p) => Event::Pong(p),
            S::Error(e) => Event::Error(e),
            S::Shutdown(s) => Event::Shutdown(s),
            S::Left(l) => Event::Left(l),
            S::Resumed(r) => Event::Resumed(r),
        }
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A connection to a Playhouse server.
pub struct Client {
    ws: Ws,
    token: Token,
    welcome: Welcome,
    next_request: u32,
    backlog: VecDeque<Event>,
    rooms: HashMap<String, u32>,
    timeout: Duration,
    /// The last resume was a resync: the next reliable seq may jump.
    resynced: bool,
    /// The highest `ServerMsg.seq` received (reliable messages).
    last_seq: u64,
    /// The latest resume token (from `Welcome`, then each `Resumed`).
    resume_token: String,
}

/// The connector for `url`: for `wss://`, rustls with Mozilla's roots on
/// the ring provider (never tungstenite's own default, which would take the
/// process-wide rustls provider); for `ws://`, none.
fn default_connector(url: &str) -> Result<Option<Connector>, ClientError> {
    #[cfg(feature = "tls")]
    if url.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("wss://")) {
        return Ok(Some(Connector::Rustls(TlsTrust::webpki_roots()?.config())));
    }
    let _ = url;
    Ok(None)
}

fn unix_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

impl Client {
    /// Connects to `url` (e.g. `ws://127.0.0.1:8080/ws`) offering `tokens`,
    /// best first, and waits for the server's `Welcome`. A `wss://` URL
    /// trusts Mozilla's root CAs (feature `tls`); see [`Client::connect_tls`]
    /// for others.
    pub async fn connect(url: &str, tokens: &[&str]) -> Result<Client, ClientError> {
        Self::connect_with(url, tokens, default_connector(url)?).await
    }

    /// Like [`Client::connect`], for a `wss://` URL whose certificate
    /// `trust` accepts (a private CA, a self-signed certificate).
    #[cfg(feature = "tls")]
    pub async fn connect_tls(url: &str, tokens: &[&str], trust: &TlsTrust) -> Result<Client, ClientError> {
        Self::connect_with(url, tokens, Some(Connector::Rustls(trust.config()))).await
    }

    async fn connect_with(url: &str, tokens: &[&str], connector: Option<Connector>) -> Result<Client, ClientError> {
        let mut client = Self::open(url, tokens, connector).await?;
        match client.read_event().await? {
            Event::Welcome(w) => {
                client.resume_token = w.resume_token.clone();
                client.welcome = w;
            }
            other => return Err(ClientError::Protocol(format!("expected Welcome, got {other:?}"))),
        }
        Ok(client)
    }

    /// Connects to `url` and resumes the session of `token`, having received
    /// every reliable message up to `last_seq`. On success the server has
    /// answered `Resumed`; the missed messages follow as ordinary events. A
    /// refused resume (the session expired) is `Err(ClientError::Resume)`;
    /// the connection is then dropped (use [`Client::connect`] for a new
    /// session).
    pub async fn resume(url: &str, tokens: &[&str], token: &str, last_seq: u64) -> Result<Client, ClientError> {
        Self::resume_with(url, tokens, token, last_seq, default_connector(url)?).await
    }

    /// Like [`Client::resume`], for a `wss://` URL whose certificate `trust`
    /// accepts.
    #[cfg(feature = "tls")]
    pub async fn resume_tls(
        url: &str,
        tokens: &[&str],
        token: &str,
        last_seq: u64,
        trust: &TlsTrust,
    ) -> Result<Client, ClientError> {
        Self::resume_with(url, tokens, token, last_seq, Some(Connector::Rustls(trust.config()))).await
    }

    async fn resume_with(
        url: &str,
        tokens: &[&str],
        token: &str,
        last_seq: u64,
        connector: Option<Connector>,
    ) -> Result<Client, ClientError> {
        let mut client = Self::open(url, tokens, connector).await?;
        match client.read_event().await? {
            Event::Welcome(w) => client.welcome = w,
            other => return Err(ClientError::Protocol(format!("expected Welcome, got {other:?}"))),
        }
        client.last_seq = last_seq;
        client.send(C::Resume(Resume { token: token.to_string(), last_seq })).await?;
        let answer = client
            .wait_for(|e| match e {
                Event::Resumed(r) => Some(Ok(r.clone())),
                Event::Error(e) if e.code == 4002 => Some(Err(e.clone())),
                _ => None,
            })
            .await?;
        let resumed = answer.map_err(ClientError::Resume)?;
        client.resume_token = resumed.resume_token.clone();
        client.welcome.session = resumed.session.clone();
        client.rooms = resumed.rooms.iter().map(|j| (j.room.clone(), j.client)).collect();
        if resumed.resync {
            client.resynced = true;
        }
        client.backlog.push_front(Event::Resumed(resumed));
        Ok(client)
    }

    async fn open(url: &str, tokens: &[&str], connector: Option<Connector>) -> Result<Client, ClientError> {
        for t in tokens {
            t.parse::<Token>().map_err(|e| ClientError::BadToken(t.to_string(), e))?;
        }
        let mut req = url.into_client_request()?;
        if !tokens.is_empty() {
            let value = tokens
                .join(", ")
                .parse()
                .map_err(|_| ClientError::Protocol("token list is not a valid header".into()))?;
            req.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
        #[cfg(feature = "tls")]
        let connected = tokio_tungstenite::connect_async_tls_with_config(req, None, false, connector).await;
        #[cfg(not(feature = "tls"))]
        let connected = {
            let _ = connector; // always None: a wss:// URL fails in tungstenite with "TLS support not compiled in"
            tokio_tungstenite::connect_async(req).await
        };
        let (ws, resp) = match connected {
            Ok(ok) => ok,
            Err(tungstenite::Error::Http(resp)) => {
                let status = resp.status().as_u16();
                let body =
                    resp.body().as_ref().map(|b| String::from_utf8_lossy(b).trim().to_string()).unwrap_or_default();
                return Err(ClientError::Refused { status, body });
            }
            Err(e) => return Err(e.into()),
        };
        let chosen = resp.headers().get(SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok()).map(str::to_string);
        let token = match chosen.as_deref() {
            Some(c) if tokens.contains(&c) => {
                c.parse::<Token>().map_err(|e| ClientError::BadToken(c.to_string(), e))?
            }
            _ => return Err(ClientError::BadProtocol(chosen)),
        };
        Ok(Client {
            ws,
            token,
            welcome: Welcome::default(),
            next_request: 1,
            backlog: VecDeque::new(),
            rooms: HashMap::new(),
            timeout: Duration::from_secs(10),
            last_seq: 0,
            resume_token: String::new(),
            resynced: false,
        })
    }

    /// The highest reliable-message seq received so far (what a resume and
    /// an [`Client::ack`] report).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The latest resume token for this session.
    pub fn resume_token(&self) -> &str {
        &self.resume_token
    }

    /// Acknowledges every reliable message received so far, so the server
    /// can drop them from its replay buffer.
    pub async fn ack(&mut self) -> Result<(), ClientError> {
        let seq = self.last_seq;
        self.send(C::Ack(Ack { seq })).await
    }

    /// The negotiated token.
    pub fn protocol(&self) -> &Token {
        &self.token
    }

    /// The negotiated codec.
    pub fn codec(&self) -> Codec {
        self.token.codec
    }

    /// The server's welcome (session id, server time).
    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    /// How long request/response helpers wait (default 10 s).
    pub fn set_timeout(&mut self, t: Duration) {
        self.timeout = t;
    }

    /// Sends one envelope.
    pub async fn send(&mut self, kind: C) -> Result<(), ClientError> {
        let bytes = self.token.codec.encode_to_vec(&ClientMsg { kind: Some(kind) })?;
        self.ws.send(WsMessage::Binary(bytes.into())).await?;
        Ok(())
    }

    /// Sends raw bytes as one binary message (tests of bad input use it).
    pub async fn send_raw(&mut self, msg: WsMessage) -> Result<(), ClientError> {
        self.ws.send(msg).await?;
        Ok(())
    }

    /// Sends a game input for `room`, encoded with the negotiated codec.
    pub async fn send_input<T: WireMessage>(&mut self, room: &str, seq: u32, input: &T) -> Result<(), ClientError> {
        let payload = self.token.codec.encode_to_vec(input)?;
        self.send(C::Input(Input { room: room.to_string(), seq, payload: payload.into() })).await
    }

    /// Decodes a game payload with the negotiated codec.
    pub fn decode<T: WireMessage>(&self, payload: &[u8]) -> Result<T, ClientError> {
        Ok(self.token.codec.decode(payload)?)
    }

    async fn read_event(&mut self) -> Result<Event, ClientError> {
        loop {
            let Some(msg) = self.ws.next().await else { return Err(ClientError::Closed(None)) };
            match msg? {
                WsMessage::Binary(b) => {
                    let m: ServerMsg = self.token.codec.decode(&b)?;
                    if m.seq != 0 {
                        if m.seq <= self.last_seq {
                            continue; // already seen (a replay overlapping what arrived): drop the duplicate
                        }
                        if m.seq != self.last_seq + 1 && !std::mem::take(&mut self.resynced) {
                            return Err(ClientError::Protocol(format!(
                                "reliable message {} after {}: a gap in the session's stream",
                                m.seq, self.last_seq
                            )));
                        }
                        self.resynced = false;
                        self.last_seq = m.seq;
                    }
                    // A kind this client does not know (a newer server): skip it.
                    if let Some(k) = m.kind {
                        return Ok(k.into());
                    }
                }
                WsMessage::Close(f) => {
                    // Sends the close reply tungstenite has queued, so the
                    // server sees the handshake complete (a server draining
                    // for shutdown waits for it) without another read.
                    let _ = self.ws.flush().await;
                    return Err(ClientError::Closed(f));
                }
                WsMessage::Text(t) => return Err(ClientError::Protocol(format!("unexpected text frame: {t}"))),
                _ => {} // ping/pong: tungstenite answers pings itself
            }
        }
    }

    /// The next server message (buffered ones first).
    pub async fn next_event(&mut self) -> Result<Event, ClientError> {
        if let Some(e) = self.backlog.pop_front() {
            return Ok(e);
        }
        self.read_event().await
    }

    /// Waits up to `t` for the next message.
    pub async fn next_event_timeout(&mut self, t: Duration) -> Result<Event, ClientError> {
        tokio::time::timeout(t, self.next_event()).await.map_err(|_| ClientError::Timeout)?
    }

    /// Reads until `pick` accepts a message; others are kept for `next_event`.
    async fn wait_for<T>(&mut self, mut pick: impl FnMut(&Event) -> Option<T>) -> Result<T, ClientError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = tokio::time::timeout(left, self.read_event()).await.map_err(|_| ClientError::Timeout)??;
            if let Some(v) = pick(&ev) {
                return Ok(v);
            }
            self.backlog.push_back(ev);
        }
    }

    async fn join_request(&mut self, kind: impl FnOnce(u32) -> C) -> Result<Joined, ClientError> {
        let request = self.next_request;
        self.next_request += 1;
        self.send(kind(request)).await?;
        let answer = self
            .wait_for(|e| match e {
                Event::Joined(j) if j.request == request => Some(Ok(j.clone())),
                Event::JoinError(j) if j.request == request => Some(Err(j.clone())),
                _ => None,
            })
            .await?;
        let joined = answer.map_err(ClientError::Join)?;
        self.rooms.insert(joined.room.clone(), joined.client);
        Ok(joined)
    }

    /// Joins any open room of `room_type`, or creates one.
    pub async fn join_or_create(
        &mut self,
        room_type: &str,
        options: HashMap<String, String>,
    ) -> Result<Joined, ClientError> {
        let room_type = room_type.to_string();
        self.join_request(|request| C::JoinOrCreate(JoinOrCreate { request, room_type, options })).await
    }

    /// Creates a new room of `room_type` and joins it.
    pub async fn create(&mut self, room_type: &str, options: HashMap<String, String>) -> Result<Joined, ClientError> {
        let room_type = room_type.to_string();
        self.join_request(|request| C::Create(Create { request, room_type, options })).await
    }

    /// Joins the room with id `room`.
    pub async fn join(&mut self, room: &str, options: HashMap<String, String>) -> Result<Joined, ClientError> {
        let room = room.to_string();
        self.join_request(|request| C::Join(Join { request, room, options })).await
    }

    /// Leaves `room` and waits for the server's `Left`.
    pub async fn leave(&mut self, room: &str) -> Result<Left, ClientError> {
        self.send(C::Leave(Leave { room: room.to_string() })).await?;
        self.rooms.remove(room);
        let room = room.to_string();
        self.wait_for(|e| match e {
            Event::Left(l) if l.room == room => Some(l.clone()),
            _ => None,
        })
        .await
    }

    /// This client's id in `room`, if joined.
    pub fn client_id(&self, room: &str) -> Option<u32> {
        self.rooms.get(room).copied()
    }

    /// Measures the round-trip time with an envelope `Ping`.
    pub async fn ping(&mut self) -> Result<Duration, ClientError> {
        let sent = unix_micros();
        let started = Instant::now();
        self.send(C::Ping(Ping { client_time: sent })).await?;
        self.wait_for(|e| matches!(e, Event::Pong(p) if p.client_time == sent).then_some(())).await?;
        Ok(started.elapsed())
    }

    /// Closes the connection normally (1000).
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.ws.close(None).await?;
        while let Some(Ok(_)) = self.ws.next().await {}
        Ok(())
    }

    /// The underlying WebSocket, for tests that need raw access.
    pub fn socket(&mut self) -> &mut WebSocketStream<MaybeTlsStream<TcpStream>> {
        &mut self.ws
    }
}

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
