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
//! use playhouse_testkit::probe::v2; // your game's generated types
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
//! ## Delta states
//!
//! Where the server's `Welcome` offers them (`state_deltas`), the client
//! acknowledges the states it applied (`StateAck`: a whole state at once,
//! otherwise at most every 100 ms per room) and the server sends later
//! states as deltas against them (docs/protocol.md §4.5). The client turns
//! each delta back into the whole state before [`Client::next_event`]
//! returns it, so `State.payload` is always whole and `State.baseline` 0.
//! [`Client::set_deltas`] turns it off (or [`ReconnectConfig::deltas`]);
//! [`Client::delta_stats`] and [`Client::bytes_in`] show what it saved.
//!
//! ## Compression
//!
//! A client asks for large states to come compressed with a query parameter
//! on the URL it connects to ([`compress::Compression::ask`] adds it:
//! `ws://host/ws?compress=deflate`, docs/protocol.md §4.6); the server says
//! in `Welcome.compression` ([`Client::compression`]) whether it will. The
//! client inflates them before the game sees them, whether it asked or not;
//! a redirect or a resume at another node asks again.
//!
//! ```no_run
//! # async fn run() -> Result<(), playhouse_client::ClientError> {
//! use playhouse_client::{compress::Compression, Client};
//! let url = Compression::Deflate.ask("ws://127.0.0.1:8080/ws");
//! let client = Client::connect(&url, &["arena.v2.proto"]).await?;
//! assert_eq!(client.compression(), Some(Compression::Deflate));
//! # Ok(()) }
//! ```
//!
//! ## Staying connected
//!
//! A [`Client`] is one connection: when it fails, its calls fail. A game
//! wants a [`ReconnectingClient`] instead, which reconnects with
//! exponential backoff and full jitter across a list of server URLs,
//! resumes the session (the server replays the reliable messages missed
//! meanwhile, so the game sees each exactly once, in order), opens a new
//! session and rejoins the game's rooms when the old one is gone, acks
//! what it received, and tells the game each step as an event. The rules
//! — which close codes end it, which URL each attempt dials — are in
//! [`reconnect`]; authenticating every connection (a token source, `Auth`
//! before `Resume`, refreshes) is in [`auth`].
//!
//! ```no_run
//! use playhouse_client::reconnect::{Backoff, ReconnectConfig, ReconnectEvent, ReconnectingClient};
//! use playhouse_client::Event;
//! use std::time::Duration;
//!
//! # async fn run() -> Result<(), playhouse_client::ReconnectError> {
//! let config = ReconnectConfig {
//!     backoff: Backoff { base: Duration::from_millis(250), cap: Duration::from_secs(5), max_tries: 8 },
//!     ..ReconnectConfig::new(["ws://eu1.example.com/ws", "ws://eu2.example.com/ws"], ["arena.v2.proto"])
//! };
//! let mut client = ReconnectingClient::connect(config).await?;
//! let joined = client.join_or_create("arena", Default::default()).await?;
//! println!("in room {} on {}", joined.room, client.url());
//! loop {
//!     match client.next_event().await? {
//!         ReconnectEvent::Server(Event::State(s)) => println!("tick {}", s.tick),
//!         ReconnectEvent::Reconnecting { attempt, delay, url, .. } => {
//!             println!("reconnecting… attempt {attempt} to {url} in {delay:?}")
//!         }
//!         ReconnectEvent::Resumed { replayed, .. } => println!("resumed ({replayed} messages replayed)"),
//!         ReconnectEvent::NewSession { rejoined, .. } => println!("new session; back in {} rooms", rejoined.len()),
//!         ReconnectEvent::Deprecated { protocol, sunset } => {
//!             println!("{protocol} is deprecated (served until {sunset:?}): please update the game")
//!         }
//!         ReconnectEvent::Server(_) | ReconnectEvent::AuthRefreshFailed { .. } => {}
//!         stop => {
//!             println!("stopped: {stop:?}"); // Replaced, GaveUp, Closed, Unauthorized or Refused
//!             break;
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```

//! `wss://` URLs work out of the box (feature `tls`, on by default) with
//! Mozilla's root CAs; [`Client::connect_tls`] trusts a certificate of your
//! choosing instead (see [`TlsTrust`]).

pub mod auth;
mod channels;
mod deltas;
mod dial;
mod error;
mod event;
pub mod reconnect;
mod resume;
mod rooms;
#[cfg(feature = "tls")]
mod tls;

#[cfg(feature = "tls")]
pub use rustls;
#[cfg(feature = "tls")]
pub use tls::{TlsTrust, TrustError};

pub use channels::ChannelPosition;
pub use deltas::DeltaStats;
use futures_util::{SinkExt, StreamExt};
use playhouse_protocol::envelope::{client_msg::Kind as C, Ack, ClientMsg, Input, Ping, ServerMsg, Welcome};
use playhouse_protocol::{Codec, Token, WireMessage};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub use auth::{AuthFailure, AuthVia, ClientAuth, Credential};
pub use error::ClientError;
pub use event::Event;
pub use playhouse_protocol::{compress, envelope};
pub use playhouse_protocol::{ClientId, Deprecation, RoomId, Sunset};
pub use reconnect::{ReconnectConfig, ReconnectError, ReconnectEvent, ReconnectingClient};
pub use resume::ResumeOutcome;
pub use rooms::MAX_REDIRECTS;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A connection to a Playhouse server.
pub struct Client {
    ws: Ws,
    /// How to dial another node the same way (redirects).
    redial: dial::Redial,
    token: Token,
    welcome: Welcome,
    next_request: u32,
    backlog: VecDeque<Event>,
    rooms: HashMap<RoomId, ClientId>,
    timeout: Duration,
    /// The last resume was a resync: the next reliable seq may jump.
    resynced: bool,
    /// The highest `ServerMsg.seq` received (reliable messages).
    last_seq: u64,
    /// The latest resume token (from `Welcome`, then each `Resumed`).
    resume_token: String,
    /// When the last frame of any kind (server pings too) arrived.
    last_heard: Instant,
    /// The latest `Authenticated` read.
    authenticated: Option<envelope::Authenticated>,
    /// The last position seen on each channel (for recovery).
    positions: HashMap<String, ChannelPosition>,
    /// The states held for deltas.
    deltas: deltas::Deltas,
    /// Bytes of the binary frames read.
    bytes_in: u64,
}

fn unix_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

impl Client {
    /// Connects to `url` (e.g. `ws://127.0.0.1:8080/ws`) offering `tokens`,
    /// best first, and waits for the server's `Welcome`.
    pub async fn connect(url: &str, tokens: &[&str]) -> Result<Client, ClientError> {
        Self::connect_with(url, tokens, None).await
    }

    /// Reads the `Welcome` every connection starts with, and says who this
    /// client is: a `Hello` announcing that it follows redirects (a cluster
    /// node sends it to another node's room only then).
    async fn welcomed(&mut self) -> Result<(), ClientError> {
        match self.read_event().await? {
            Event::Welcome(w) => {
                self.welcome = w;
                // An older server would refuse StateAck.
                if !self.welcome.state_deltas {
                    self.deltas.set_enabled(false);
                }
                let client = format!("playhouse-rust/{}; redirect", env!("CARGO_PKG_VERSION"));
                self.send(C::Hello(envelope::Hello { client })).await
            }
            other => Err(ClientError::Protocol(format!("expected Welcome, got {other:?}"))),
        }
    }

    /// The URL of this connection's server: another node's after a join
    /// followed a redirect there.
    pub fn url(&self) -> &str {
        &self.redial.url
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

    /// When the last frame arrived, of any kind: a server pings every few
    /// seconds, so a connection silent for much longer is dead even if no
    /// error says so (a network that drops packets sends no reset).
    pub fn last_heard(&self) -> Instant {
        self.last_heard
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

    /// Whether the server deprecated the negotiated schema version
    /// (`Welcome.deprecated`): it is still served, until the sunset
    /// (`YYYY-MM-DD`), after which a client that speaks nothing newer may
    /// be refused. A game shows the player an "update the game" notice.
    /// [`ReconnectingClient`] raises [`ReconnectEvent::Deprecated`] for it.
    pub fn deprecation(&self) -> Option<Deprecation> {
        self.welcome.deprecation()
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
            // State acks go out between reads, never between reading a
            // message and returning it: a cancelled read loses nothing (an
            // ack cut short stays due and is sent again; acks are idempotent).
            while let Some((room, tick)) = self.deltas.due_ack() {
                self.send(C::StateAck(envelope::StateAck { room: room.clone(), tick })).await?;
                self.deltas.ack_sent(&room, tick, Instant::now());
            }
            let Some(msg) = self.ws.next().await else { return Err(ClientError::Closed(None)) };
            let msg = msg?;
            self.last_heard = Instant::now();
            match msg {
                WsMessage::Binary(b) => {
                    self.bytes_in += b.len() as u64;
                    let m: ServerMsg = self.token.codec.decode(&b)?;
                    if m.seq != 0 {
                        if std::mem::take(&mut self.resynced) {
                            // After a resync the stream goes on from
                            // wherever the server is: above what this client
                            // saw (messages were lost), or below it (the
                            // client said it had seen more than was sent).
                            // Either way this seq is the new baseline.
                        } else if m.seq <= self.last_seq {
                            continue; // already seen (a replay overlapping what arrived): drop the duplicate
                        } else if m.seq != self.last_seq + 1 {
                            return Err(ClientError::Protocol(format!(
                                "reliable message {} after {}: a gap in the session's stream",
                                m.seq, self.last_seq
                            )));
                        }
                        self.last_seq = m.seq;
                    }
                    // A kind this client does not know (a newer server): skip it.
                    if let Some(k) = m.kind {
                        let mut ev = Event::from(k);
                        self.track_channel(&ev);
                        let lost = match &mut ev {
                            Event::State(s) => self.deltas.receive(s, Instant::now()) == deltas::Received::Lost,
                            Event::Joined(j) => {
                                self.deltas.forget(&j.room);
                                false
                            }
                            Event::Left(l) => {
                                self.deltas.forget(&l.room);
                                false
                            }
                            _ => false,
                        };
                        // A delta that does not apply is never shown (its
                        // ack of tick 0 asks for a whole state).
                        if lost {
                            continue;
                        }
                        match &ev {
                            Event::Authenticated(a) => self.authenticated = Some(a.clone()),
                            // Each `Resumed` supersedes the token before it,
                            // even one answering a `Resume` sent by hand.
                            Event::Resumed(r) => self.resume_token = r.resume_token.clone(),
                            _ => {}
                        }
                        return Ok(ev);
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

    /// Whether states are acknowledged so the server may send deltas (on
    /// by default when the server offers them; the game sees whole states
    /// either way).
    pub fn deltas(&self) -> bool {
        self.deltas.enabled()
    }

    /// Turns delta states on or off for the states that follow. Off: no
    /// more `StateAck`s and the held states are forgotten; a delta already
    /// under way is dropped and answered with `StateAck{tick: 0}`, after
    /// which the server sends whole states.
    ///
    /// A server whose `Welcome` does not offer deltas (`state_deltas`)
    /// never gets a `StateAck`: they stay off there.
    pub fn set_deltas(&mut self, on: bool) {
        self.deltas.set_enabled(on && self.welcome.state_deltas);
    }

    /// The compression of large states this connection gets: what it asked
    /// for at the handshake, if the server agreed (`Welcome.compression`).
    pub fn compression(&self) -> Option<compress::Compression> {
        compress::Compression::from_name(&self.welcome.compression)
    }

    /// Bytes of the binary frames read on this connection (what the server
    /// sent, as it crossed the wire: delta states as deltas).
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// What this connection counted about states (whole, delta, lost, and
    /// the bytes they took).
    pub fn delta_stats(&self) -> DeltaStats {
        self.deltas.stats
    }

    /// Takes the events read while waiting for an answer (a join, a ping)
    /// that [`Client::next_event`] has not returned yet, oldest first. They
    /// count in [`Client::last_seq`]: take them before dropping a broken
    /// connection, or they are lost to a resume too.
    pub fn take_buffered(&mut self) -> Vec<Event> {
        self.backlog.drain(..).collect()
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
