//! [`ReconnectingClient`]: a [`Client`] that stays connected.
//!
//! It owns the connection and hides its losses from the game: when the
//! socket fails it yields [`ReconnectEvent::Reconnecting`], waits a
//! jittered [`Backoff`], dials the next URL of its list ([`UrlRotation`]),
//! and resumes the session with the latest resume token and the last
//! reliable seq it handed out — the server replays what was missed, and the
//! game reads on as if nothing happened ([`ReconnectEvent::Resumed`]). When
//! the session is gone (its reconnect window passed, the server restarted,
//! another server answered), the same connection carries a fresh session
//! and the client rejoins the rooms the game was in, the way it got into
//! each ([`ReconnectEvent::NewSession`]). While connected it acknowledges
//! reliable messages once per [`ReconnectConfig::ack_interval`], so the
//! server can drop them from the session's replay log.
//!
//! It stops — and says why, once — when another connection resumed the
//! session ([`ReconnectEvent::Replaced`], close 4009: fighting back would
//! close that one in turn), when the server closed for good
//! ([`ReconnectEvent::Closed`]: 1000 or a code in [`FATAL_CLOSE_CODES`]),
//! or after [`Backoff::max_tries`] failed attempts ([`ReconnectEvent::GaveUp`]).
//! It reconnects after everything else: a loss with no close frame (1006),
//! 1001 (waiting the `Shutdown` notice's `reconnect_after_ms` first, and
//! dialling the notice's `url` first when a draining cluster node names the
//! node it handed the session to: see [`UrlRotation::hand_over`]), 1011,
//! 1013, and close codes it does not know.
//!
//! The decisions are plain values, tested without sockets: [`Backoff`] and
//! [`Jitter`], [`after_close`], [`UrlRotation`] and [`Outage`],
//! [`AckSchedule`], [`RoomMemory`] and [`RejoinStep`]. This module only
//! moves between them and the socket.
//!
//! ```no_run
//! use playhouse_client::reconnect::{ReconnectConfig, ReconnectEvent, ReconnectingClient};
//! use playhouse_client::Event;
//!
//! # async fn run() -> Result<(), playhouse_client::reconnect::ReconnectError> {
//! let config = ReconnectConfig::new(
//!     ["ws://eu1.example.com/ws", "ws://eu2.example.com/ws"],
//!     ["arena.v2.proto", "arena.v2.msgpack"],
//! );
//! let mut client = ReconnectingClient::connect(config).await?;
//! client.join_or_create("arena", Default::default()).await?;
//! loop {
//!     match client.next_event().await? {
//!         ReconnectEvent::Server(Event::State(s)) => println!("tick {}", s.tick),
//!         ReconnectEvent::Server(_) => {}
//!         ReconnectEvent::Reconnecting { attempt, .. } => println!("reconnecting… ({attempt})"),
//!         ReconnectEvent::Resumed { .. } => println!("back"),
//!         ReconnectEvent::NewSession { rejoined, .. } => println!("new session, {} rooms rejoined", rejoined.len()),
//!         ReconnectEvent::Deprecated { sunset, .. } => println!("please update: this version ends {sunset:?}"),
//!         ReconnectEvent::AuthRefreshFailed { .. } => {}
//!         stop => {
//!             println!("disconnected: {stop:?}"); // Replaced, GaveUp or Closed: the client has stopped
//!             break;
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```

mod acks;
mod attempt;
mod backoff;
mod config;
mod credentials;
mod events;
mod failover;
mod failure;
mod rooms;

pub use acks::AckSchedule;
pub use backoff::{Backoff, Jitter};
pub use config::ReconnectConfig;
pub use credentials::{stop_after_attempt, RefreshPlan};
pub use events::{ReconnectError, ReconnectEvent, RejoinFailed, Rejoined, StopReason};
pub use failover::{
    after_close, AfterClose, Attempt, Outage, UrlRotation, FATAL_CLOSE_CODES, FATAL_HTTP_STATUSES, REPLACED,
};
pub use rooms::{JoinedBy, RejoinStep, RoomMemory, RoomRecord};

use crate::envelope::{Authenticated, Joined, LeaveReason, Left, Shutdown};
use crate::{Client, Event};
use playhouse_protocol::{Codec, Deprecation, Token, WireMessage};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

enum Phase {
    Connected(Box<Client>),
    Reconnecting { outage: Outage, planned: Option<(Attempt, Instant)> },
    Stopped(StopReason),
}

/// A Playhouse client that reconnects, resumes and rejoins by itself. See
/// the [module docs](self).
pub struct ReconnectingClient {
    config: ReconnectConfig,
    jitter: Jitter,
    phase: Phase,
    /// Events to hand out before reading on.
    queue: VecDeque<ReconnectEvent>,
    rooms: RoomMemory,
    rotation: UrlRotation,
    acks: AckSchedule,
    /// Of the last connection; the live one's are read from it.
    resume_token: String,
    last_seq: u64,
    session: String,
    token: Token,
    /// The `Shutdown` notice of the live connection, if one came: its
    /// `reconnect_after_ms` and `url` shape the next outage.
    shutdown: Option<Shutdown>,
    /// Bytes read on the connections before the current one.
    bytes_before: u64,
    /// The last connection's latest `Authenticated`.
    authenticated: Option<Authenticated>,
    /// The automatic refresh of the live connection's credential.
    refresh: RefreshPlan,
    /// The deprecated token the game was last told about
    /// ([`ReconnectEvent::Deprecated`]); `None` once a connection's
    /// version is not deprecated.
    announced: Option<(Token, Deprecation)>,
}

impl std::fmt::Debug for ReconnectingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectingClient")
            .field("url", &self.url())
            .field("session", &self.session())
            .field("connected", &self.is_connected())
            .field("rooms", &self.rooms.records())
            .finish_non_exhaustive()
    }
}

impl ReconnectingClient {
    /// Connects to the first URL that answers, trying them in order with the
    /// config's backoff between attempts (the first dials at once).
    pub async fn connect(config: ReconnectConfig) -> Result<Self, ReconnectError> {
        Self::first_connection(config).await
    }

    /// The next server message or connection event. Connection losses do
    /// not end it: they come out as [`ReconnectEvent::Reconnecting`] and
    /// then [`ReconnectEvent::Resumed`] or [`ReconnectEvent::NewSession`];
    /// acks go out from in here too. After [`ReconnectEvent::Replaced`],
    /// [`ReconnectEvent::GaveUp`] or [`ReconnectEvent::Closed`] it returns
    /// [`ReconnectError::Stopped`]. An `Err` while connected means the
    /// server sent something this client cannot read (an undecodable
    /// message, a gap in the reliable stream): reconnecting would get the
    /// same again, so the client stops.
    ///
    /// Cancelling it (in a `select!`) loses no server message; a reconnect
    /// attempt in progress starts over on the next call.
    pub async fn next_event(&mut self) -> Result<ReconnectEvent, ReconnectError> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Ok(ev);
            }
            match &mut self.phase {
                Phase::Stopped(why) => return Err(ReconnectError::Stopped(why.clone())),
                Phase::Connected(conn) => {
                    let ack_at = self.acks.due_at(conn.last_seq());
                    let idle_at = self.config.idle_timeout.map(|t| conn.last_heard() + t);
                    let auth = self.config.auth.as_ref();
                    let refresh_at = self.refresh.due_at(auth, conn.authenticated(), Instant::now());
                    let read = match ack_at.into_iter().chain(idle_at).chain(refresh_at).min() {
                        None => Some(conn.next_event().await),
                        Some(at) => tokio::select! {
                            r = conn.next_event() => Some(r),
                            () = tokio::time::sleep_until(at.into()) => None,
                        },
                    };
                    match read {
                        Some(Ok(ev)) => {
                            self.observe(&ev);
                            return Ok(ReconnectEvent::Server(ev));
                        }
                        Some(Err(e)) => self.connection_failed(e)?,
                        None => {
                            let now = Instant::now();
                            if let Some(idle) = self.config.idle_timeout.filter(|t| now >= conn.last_heard() + *t) {
                                self.lose(format!("nothing from the server for {} ms", idle.as_millis()));
                                continue;
                            }
                            let seq = conn.last_seq();
                            if self.acks.due_at(seq).is_some_and(|at| now >= at) {
                                match conn.ack().await {
                                    Ok(()) => self.acks.sent(seq, now),
                                    Err(e) => self.connection_failed(e)?,
                                }
                                continue;
                            }
                            if refresh_at.is_some_and(|at| now >= at) {
                                if let Some(ev) = self.auto_refresh().await? {
                                    return Ok(ev);
                                }
                            }
                        }
                    }
                }
                Phase::Reconnecting { .. } => {
                    if let Some(ev) = self.reconnect_step().await {
                        return Ok(ev);
                    }
                }
            }
        }
    }

    /// Joins any open room of `room_type`, or creates one; after a new
    /// session the client does the same again (the room first, by id).
    pub async fn join_or_create(
        &mut self,
        room_type: &str,
        options: HashMap<String, String>,
    ) -> Result<Joined, ReconnectError> {
        let answer = self.connection()?.join_or_create(room_type, options.clone()).await;
        let joined = self.settle(answer)?;
        self.follow_move();
        self.rooms.joined(&joined, JoinedBy::JoinOrCreate, options);
        Ok(joined)
    }

    /// A join that followed a cluster redirect moved the connection to the
    /// room's node (a new session there), or a resume was sent on to the
    /// session's node: reconnects go there first from now on (its URL joins
    /// the list if it was not in it).
    fn follow_move(&mut self) {
        let Phase::Connected(conn) = &self.phase else { return };
        if conn.url() == self.config.urls[self.rotation.home()] {
            return;
        }
        let index = self.rotation.find_or_add(&mut self.config.urls, conn.url());
        self.rotation.connected(index);
        self.session = conn.welcome().session.clone();
    }

    /// Creates a room of `room_type` and joins it; after a new session the
    /// client rejoins it by id, or creates another if it is gone.
    pub async fn create(
        &mut self,
        room_type: &str,
        options: HashMap<String, String>,
    ) -> Result<Joined, ReconnectError> {
        let answer = self.connection()?.create(room_type, options.clone()).await;
        let joined = self.settle(answer)?;
        self.follow_move();
        self.rooms.joined(&joined, JoinedBy::Create, options);
        Ok(joined)
    }

    /// Joins the room `room`; after a new session the client rejoins that
    /// room only.
    pub async fn join(&mut self, room: &str, options: HashMap<String, String>) -> Result<Joined, ReconnectError> {
        let answer = self.connection()?.join(room, options.clone()).await;
        let joined = self.settle(answer)?;
        self.follow_move();
        self.rooms.joined(&joined, JoinedBy::Id, options);
        Ok(joined)
    }

    /// Leaves `room` and waits for the server's `Left`. While reconnecting
    /// the call fails and the room stays (a resume keeps the seat, a new
    /// session rejoins it). Otherwise the client forgets the room whatever
    /// the answer, since the game asked to be out of it; if the connection
    /// failed before the server read the request, a resumed session is
    /// still seated there, and the room's messages keep coming until the
    /// game leaves again.
    pub async fn leave(&mut self, room: &str) -> Result<Left, ReconnectError> {
        let conn = self.connection()?;
        let answer = conn.leave(room).await;
        self.rooms.left(room);
        self.settle(answer)
    }

    /// Sends a game input for `room`. While reconnecting it fails with
    /// [`ReconnectError::Reconnecting`]: inputs are not kept for later.
    pub async fn send_input<T: WireMessage>(&mut self, room: &str, seq: u32, input: &T) -> Result<(), ReconnectError> {
        let sent = self.connection()?.send_input(room, seq, input).await;
        self.settle(sent)
    }

    /// Measures the round-trip time with an envelope `Ping`.
    pub async fn ping(&mut self) -> Result<Duration, ReconnectError> {
        let rtt = self.connection()?.ping().await;
        self.settle(rtt)
    }

    /// Decodes a game payload with the codec of the last connection (every
    /// server of one deployment is expected to speak the same tokens).
    pub fn decode<T: WireMessage>(&self, payload: &[u8]) -> Result<T, ReconnectError> {
        self.token.codec.decode(payload).map_err(|e| ReconnectError::Client(e.into()))
    }

    /// Closes the connection normally (1000), which ends the session on the
    /// server; the client stops.
    pub async fn close(&mut self) -> Result<(), ReconnectError> {
        self.queue.clear();
        let phase = std::mem::replace(&mut self.phase, Phase::Stopped(StopReason::ClosedByClient));
        if let Phase::Connected(conn) = phase {
            conn.close().await?;
        }
        Ok(())
    }

    /// Whether a connection is up (not reconnecting, not stopped).
    pub fn is_connected(&self) -> bool {
        matches!(self.phase, Phase::Connected(_))
    }

    /// Bytes of the binary frames read on every connection so far (what
    /// the server sent, as it crossed the wire: delta states as deltas).
    pub fn bytes_in(&self) -> u64 {
        self.bytes_before + self.live().map_or(0, Client::bytes_in)
    }

    /// The state counts of the current connection ([`Client::delta_stats`]).
    pub fn delta_stats(&self) -> Option<crate::DeltaStats> {
        self.live().map(Client::delta_stats)
    }

    fn live(&self) -> Option<&Client> {
        match &self.phase {
            Phase::Connected(c) => Some(c),
            _ => None,
        }
    }

    /// The URL of the current connection (or of the last one).
    pub fn url(&self) -> &str {
        &self.config.urls[self.rotation.home()]
    }

    /// The session id (from `Welcome`, `Resumed`, or the new session's).
    pub fn session(&self) -> &str {
        match &self.phase {
            Phase::Connected(c) => &c.welcome().session,
            _ => &self.session,
        }
    }

    /// The latest resume token of the session.
    pub fn resume_token(&self) -> &str {
        match &self.phase {
            Phase::Connected(c) => c.resume_token(),
            _ => &self.resume_token,
        }
    }

    /// The highest reliable seq handed out (what the next resume reports).
    pub fn last_seq(&self) -> u64 {
        match &self.phase {
            Phase::Connected(c) => c.last_seq(),
            _ => self.last_seq,
        }
    }

    /// The token negotiated on the last connection.
    pub fn protocol(&self) -> &Token {
        &self.token
    }

    /// The codec of the last connection.
    pub fn codec(&self) -> Codec {
        self.token.codec
    }

    /// Whether the server deprecated the version negotiated on the last
    /// connection, and until when (see [`ReconnectEvent::Deprecated`]).
    pub fn deprecation(&self) -> Option<Deprecation> {
        self.announced.as_ref().map(|(_, d)| *d)
    }

    /// The rooms the client is in, and how it got into each.
    pub fn rooms(&self) -> &[RoomRecord] {
        self.rooms.records()
    }

    fn connection(&mut self) -> Result<&mut Client, ReconnectError> {
        match &mut self.phase {
            Phase::Connected(c) => Ok(c),
            Phase::Reconnecting { .. } => Err(ReconnectError::Reconnecting),
            Phase::Stopped(why) => Err(ReconnectError::Stopped(why.clone())),
        }
    }

    /// Keeps track of what the game is in, as server messages go by. A room
    /// disposed after a `Shutdown` notice went with its server, not with the
    /// game's wish: it is kept, to be rejoined (by type) on the next server.
    fn observe(&mut self, ev: &Event) {
        match ev {
            Event::Left(l) if self.shutdown.is_some() && l.reason == LeaveReason::Disposed as i32 => {}
            Event::Left(l) => self.rooms.left(&l.room),
            Event::Joined(j) => self.rooms.joined_unasked(j),
            Event::Shutdown(s) => self.shutdown = Some(s.clone()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_send<T: Send>(_: T) {}

    /// A game (or a bot runner) spawns the client's loop on a
    /// multi-threaded runtime: its futures must be Send.
    #[test]
    fn the_client_and_its_futures_can_move_between_threads() {
        fn uses(c: &mut ReconnectingClient) {
            is_send(c.next_event());
            is_send(c.join_or_create("arena", HashMap::new()));
            is_send(c.send_input("r", 1, &playhouse_protocol::envelope::Ping::default()));
        }
        let _ = uses as fn(&mut ReconnectingClient);
        is_send(ReconnectingClient::connect(ReconnectConfig::new(["ws://127.0.0.1:1/ws"], ["arena.v2.proto"])));
    }
}
