//! [`GameConnection`]: the endpoint every game WebSocket runs. It decodes
//! each whole message once with the negotiated codec, routes it (join,
//! input, leave, ping, ack, resume), and writes what rooms put in its
//! session's outbox.
//!
//! Bad input is answered here and harms no one else: an envelope or input
//! that does not decode closes this connection with 1007, a text frame with
//! 1003; a join that cannot happen is a `JoinError` and the socket stays open.
//!
//! Sessions: the connection opens a [`Session`] and names it in `Welcome`.
//! Everything the client is part of lives in the session, so the connection
//! only moves bytes: each reliable message gets the session's next seq as it
//! is written, and the written frame goes to the session's replay log. A
//! lost connection parks its session; a `Resume` as the first message takes
//! a parked (or still attached) session over instead (see `crate::session`).
//!
//! Shutdown: the server queues [`ConnEvent::Shutdown`]; the connection writes
//! the `Shutdown` notice, reports it to [`LiveConnections`] (the server waits
//! for every connection's report before it shuts the rooms down, so every
//! input read before the notice is already in a room's mailbox by then), and
//! refuses joins from then on. The close 1001 comes later, as a queued close.
//!
//! Logs: the connection names its `connection` span (fields `conn`,
//! `session`, `peer`, `protocol`; `session` is recorded anew when a
//! `Resume` takes another session over), and the shell enters it around
//! every step, so each event of this connection carries those ids. The
//! span is made once per connection; nothing is logged per message above
//! debug.

use super::SessionPlace;
use super::{Actions, Closer, LiveConnections, Matchmaker, Waker};
use crate::auth::{AuthGate, Deadline};
use crate::channels::ChannelHub;
use crate::limits::{IpSlot, RateGate, RateLimits};
use crate::metrics::Metrics;
use crate::protocol::compress::Compressing;
use crate::protocol::envelope::{
    client_msg::Kind as In, server_msg::Kind as Out, Error as WireError, JoinError, JoinErrorCode, ServerMsg, Welcome,
};
use crate::protocol::envelope::{ClientMsg, Resume};
use crate::protocol::{CloseCode, ConnId, Negotiator, Token};
use crate::session::DrainBuffers;
use crate::session::{Session, SessionState, Sessions};
use crate::transport::{DirectWriter, Ending, KillSwitch, TransportObserver, WholeMessage};
use bytes::Bytes;
use parking_lot::Mutex;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// What every connection of a server shares.
pub struct ConnectionShared {
    /// Seats in rooms: join by id, join-or-create, create.
    pub matchmaker: Arc<dyn Matchmaker>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Most rooms one connection may be in (joined or joining).
    pub max_rooms_per_connection: usize,
    /// Open connections (reserved at the upgrade, released when one stops).
    pub open: AtomicUsize,
    /// The connections that have started and not stopped.
    pub live: LiveConnections,
    /// Every open or parked session.
    pub sessions: Arc<Sessions>,
    /// Per-connection rate limits.
    pub rate: RateLimits,
    /// What the server speaks, and which versions are deprecated.
    pub negotiator: Negotiator,
    /// The node's channels (`None`: the server has none configured).
    pub channels: Option<Arc<ChannelHub>>,
}

/// The endpoint of one game connection.
pub struct GameConnection {
    shared: Arc<ConnectionShared>,
    token: Token,
    /// The compression of large states the client asked for at the
    /// handshake and the server serves (docs/protocol.md §4.6).
    compression: Option<Compressing>,
    /// This connection's id (a session outlives its connections).
    conn: ConnId,
    session: Arc<Session>,
    kill: Option<KillSwitch>,
    /// How rooms writing to the session wake the shell (set by `start`).
    waker: Option<Waker>,
    /// The generation of this connection's attachment to its session's
    /// outbox (a state-only drain checks it instead of taking the
    /// session's lock).
    attached: Option<u64>,
    /// Writes states to the socket from a room on its thread (set by
    /// `start`; `None` on TLS).
    direct: Option<DirectWriter>,
    drain_buf: DrainBuffers,
    /// The shutdown notice has been written: joins are refused from now on.
    noticed: bool,
    /// The client said (in `Hello`) that it follows `Redirect`s: only then
    /// is it sent to another node of a cluster.
    follows_redirects: bool,
    /// Join requests waiting for the cluster store to place them.
    placing: HashSet<u32>,
    /// Placements resolved and not yet answered (filled by the waiting
    /// task, drained at the next wake-up).
    placed: Arc<Mutex<Placements>>,
    /// A join, leave or input (or a resume) has arrived: too late to `Resume`.
    settled: bool,
    /// A `Resume` of another node's session, waiting for where the session
    /// is now (answered through [`GameConnection::located`]).
    locating: Option<Resume>,
    /// Where that session is, once found (filled by the waiting task).
    located: Arc<Mutex<Option<SessionPlace>>>,
    auth: AuthGate,
    /// The credential deadline the connection's one timer is armed for.
    auth_timer: Option<Deadline>,
    rate: RateGate,
    /// This connection's share of its address's connection cap.
    ip: Option<IpSlot>,
    /// `stopped` ran: the session and the connection count are handed back.
    /// If the connection is dropped without it (its actor never ran), `Drop`
    /// hands them back instead, so nothing outlives a connection.
    released: bool,
    /// The `connection` span: its ids are known here (the session changes
    /// on a resume), the shell enters it.
    span: tracing::Span,
}

/// Error code in `Error` for an input to a room the client is not in.
pub const ERROR_NOT_IN_ROOM: u32 = 4004;
/// Error code in `Error` for an input dropped because the room is busy.
pub const ERROR_ROOM_BUSY: u32 = 1013;
/// Error code in `Error` for an input the room type's `authorize_input` refused.
pub const ERROR_FORBIDDEN: u32 = 4003;
/// Error code in `Error` for a message dropped by the rate limit.
pub const ERROR_RATE_LIMITED: u32 = 1008;
/// Error code in `Error` for a message kind this server does not know.
pub const ERROR_UNKNOWN_KIND: u32 = 1003;
/// Error code in `Error` for a resume this server cannot honour (the session
/// expired, ended, lived on another server, or the token is bad).
pub const ERROR_RESUME_UNAVAILABLE: u32 = 4002;

mod channels;
mod credentials;
mod delivery;
mod joins;
use joins::{give_back, Placements};
mod resume;
mod route;
#[cfg(test)]
mod tests;

/// Whether a `Hello.client` announces that the client follows redirects:
/// one of its `;`-separated parts is `redirect` (e.g. `playhouse-rust/0.1;
/// redirect`). Clients that do not say so are never redirected (docs/protocol.md §4.3).
pub fn follows_redirects(client: &str) -> bool {
    client.split(';').any(|part| part.trim() == "redirect")
}

fn unix_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl GameConnection {
    /// Connection `conn`, which negotiated `token`, opening a new session.
    /// `kill` shuts its socket down from outside (for stalled readers);
    /// `auth` holds what the upgrade proved; `ip` its address's slot.
    pub fn new(
        shared: Arc<ConnectionShared>,
        token: Token,
        conn: ConnId,
        kill: Option<KillSwitch>,
        auth: AuthGate,
        ip: Option<IpSlot>,
    ) -> Self {
        let session = shared.sessions.open_speaking(conn, &token.to_string(), ip.as_ref().map(IpSlot::ip));
        let rate = RateGate::new(&shared.rate);
        let span = tracing::info_span!(
            "connection",
            conn = %conn,
            session = %session.name(),
            peer = ip.as_ref().map(|s| tracing::field::display(s.ip())),
            protocol = %token,
        );
        GameConnection {
            shared,
            token,
            compression: None,
            conn,
            session,
            kill,
            waker: None,
            attached: None,
            direct: None,
            drain_buf: DrainBuffers::default(),
            noticed: false,
            follows_redirects: false,
            placing: HashSet::new(),
            placed: Arc::default(),
            settled: false,
            locating: None,
            located: Arc::default(),
            auth,
            auth_timer: None,
            rate,
            ip,
            released: false,
            span,
        }
    }

    /// The `connection` span, which carries this connection's ids (`conn`,
    /// `session`, `peer`, `protocol`): the shell enters it around every step.
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Publishes the transport's RTT estimate on the session's outbox,
    /// where rooms (and the server's monitor through them) read it.
    pub fn note_rtt(&self, rtt: Option<std::time::Duration>) {
        self.session.outbox().set_rtt(rtt);
    }

    /// This connection compresses large states with `compression` (what
    /// the handshake asked for, among what the server serves).
    pub fn with_compression(mut self, compression: Option<Compressing>) -> Self {
        self.compression = compression;
        self
    }

    /// Attaches the shell to `session`'s outbox: rooms writing to it wake
    /// the shell from now on (and at once, if something waited).
    fn attach(&mut self, session: &Session) {
        if let Some(w) = self.waker.clone() {
            let outbox = session.outbox();
            let generation = outbox.attach_with(w, self.kill.clone(), self.compression, self.direct, Instant::now());
            self.attached = Some(generation);
        }
    }

    fn encode(&self, kind: Out, seq: u64) -> Option<Bytes> {
        match self.token.codec.encode_to_vec(&ServerMsg { kind: Some(kind), seq }) {
            Ok(v) => Some(Bytes::from(v)),
            Err(e) => {
                tracing::error!(error = %e, "failed to encode a server message");
                None
            }
        }
    }

    /// Sends a message that is not part of the reliable stream (no seq).
    fn send(&self, out: &mut Actions, kind: Out) {
        if let Some(f) = self.encode(kind, 0) {
            out.send(f);
        }
    }

    /// Sends a reliable message: it gets the session's next seq and is kept
    /// for replay.
    fn send_reliable(&self, st: &mut SessionState, out: &mut Actions, kind: Out) {
        let seq = st.log.next_seq();
        if let Some(f) = self.encode(kind, seq) {
            st.log.push(seq, f.clone());
            self.shared.sessions.durable_append(st, seq, &f);
            out.send(f);
        }
    }

    fn join_error(
        &self,
        st: &mut SessionState,
        out: &mut Actions,
        request: u32,
        code: JoinErrorCode,
        reason: impl Into<String>,
    ) {
        let e = JoinError { request, code: code as i32, reason: reason.into() };
        tracing::debug!(request, code = ?code, reason = %e.reason, "join refused");
        self.send_reliable(st, out, Out::JoinError(e));
    }

    fn error(&self, out: &mut Actions, code: u32, reason: impl Into<String>) {
        self.send(out, Out::Error(WireError { code, reason: reason.into(), ..Default::default() }));
    }

    /// An `Error` about one input, named by its room and seq: the client
    /// learns that this input was never processed, even when a later State
    /// acks a higher seq.
    fn input_error(&self, out: &mut Actions, code: u32, reason: String, room: &str, input_seq: u32) {
        tracing::debug!(room, seq = input_seq, code, reason = %reason, "input refused");
        let e = WireError { code, reason, room: room.to_string(), input_seq };
        self.send(out, Out::Error(e));
    }
}

/// The events of a connection's life, as the shell feeds them in.
impl GameConnection {
    /// The socket is open: `waker` wakes the shell to drain the session's
    /// outbox, `closer` closes it from another connection (a resume that
    /// takes the session over). Writes `Welcome`.
    pub fn start(&mut self, waker: Waker, closer: Closer, direct: Option<DirectWriter>, out: &mut Actions) {
        self.shared.metrics.connections_open.inc();
        self.shared.metrics.connections_total.inc();
        self.shared.metrics.protocol_opened(&self.token);
        tracing::debug!("connection open");
        self.waker = Some(waker);
        self.direct = direct;
        let session = self.session.clone();
        self.attach(&session);
        let welcome = Welcome {
            session: self.session.name().to_string(),
            resume_token: self.shared.sessions.token(&self.session),
            server_time: unix_millis(),
            protocol: self.token.to_string(),
            state_deltas: true,
            compression: self.compression.map(|c| c.algorithm.name().to_string()).unwrap_or_default(),
            ..Welcome::default()
        }
        .with_deprecation(self.shared.negotiator.deprecation(self.token.version));
        self.send(out, Out::Welcome(welcome));
        if let Some(reconnect_after_ms) =
            self.shared.live.insert(self.conn, self.session.outbox().clone(), Some(closer))
        {
            // Opened while the notice was going out (see `LiveConnections`).
            self.notice_shutdown(reconnect_after_ms, String::new(), out);
        }
        // Authenticated at the upgrade: bind the session now. Waiting for a
        // first-message Auth: the deadline timer.
        if self.auth.may_process() {
            self.on_authenticated(out);
        } else {
            self.schedule_auth_check(out);
        }
    }

    /// The timer set with [`Actions::timer`] fired.
    pub fn handle_timeout(&mut self, out: &mut Actions) {
        self.auth_timer = None; // fired: nothing is armed now
        match self.auth.check(Instant::now(), SystemTime::now()) {
            Some((code, reason)) => out.close(code, &reason),
            None => self.schedule_auth_check(out),
        }
    }

    /// A frame with `bytes` of payload arrived: charged to the rate limit;
    /// false if it must be dropped.
    pub fn handle_frame(&mut self, bytes: usize, out: &mut Actions) -> bool {
        let verdict = self.rate.frame(bytes);
        self.within_rate(verdict, out)
    }

    /// A whole message arrived.
    ///
    /// Every message but `StateAck` is charged to the message rate limit
    /// (after decoding: the frame and byte limits already bound what gets
    /// that far). A `StateAck` follows every state, so charging it would
    /// halve the input rate a client in a 60 Hz room can send.
    pub fn handle_message(&mut self, msg: WholeMessage, out: &mut Actions) {
        let bytes = match msg {
            WholeMessage::Binary(b) => b,
            WholeMessage::Text(_) => {
                let reason = format!("text frames are not part of {}; send binary frames", self.token);
                return out.close(CloseCode::Unsupported, &reason);
            }
        };
        match self.token.codec.decode::<ClientMsg>(&bytes) {
            Ok(ClientMsg { kind: Some(In::StateAck(a)) }) => self.on_envelope(In::StateAck(a), out),
            Ok(msg) => {
                let verdict = self.rate.message();
                if !self.within_rate(verdict, out) {
                    return;
                }
                match msg.kind {
                    Some(kind) => self.on_envelope(kind, out),
                    // A kind this server does not know (protobuf decodes an
                    // unknown oneof case as none): answer, don't close, so
                    // newer clients degrade gracefully against older servers.
                    None => self.error(out, ERROR_UNKNOWN_KIND, "unknown or empty message kind"),
                }
            }
            Err(e) => {
                let reason = format!("message does not decode as {}: {e}", self.token.codec);
                out.close(CloseCode::InvalidPayload, &reason);
            }
        }
    }

    /// The socket is gone: park or end the session, give back the count.
    pub fn stopped(&mut self, how: Ending) {
        self.released = true;
        let unanswered = {
            let mut placed = self.placed.lock();
            placed.closed = true;
            std::mem::take(&mut placed.done)
        };
        for (_, r, _) in unanswered {
            give_back(r);
        }
        let outbox = self.session.outbox().clone();
        self.shared.live.remove(self.conn);
        if let Some(code) = outbox.take_killed() {
            // Killed from outside while the actor was frozen: the close
            // frame never went out, so count the close here.
            self.shared.metrics.closed(code.code());
        }
        self.shared.metrics.connections_open.dec();
        self.shared.metrics.protocol_closed(&self.token);
        self.shared.open.fetch_sub(1, Ordering::AcqRel);
        let parked = self.shared.sessions.disconnect(&self.session, self.conn, how.is_resumable(), Instant::now());
        if parked {
            self.shared.metrics.sessions_parked.inc();
        }
        tracing::debug!(?how, parked, "connection closed");
    }
}

impl Drop for GameConnection {
    /// A connection whose actor never ran (the upgrade failed after it was
    /// built, or the response was dropped unsent) still gives back its
    /// session and its place in the connection count.
    fn drop(&mut self) {
        if std::mem::replace(&mut self.released, true) {
            return;
        }
        self.shared.open.fetch_sub(1, Ordering::AcqRel);
        self.shared.sessions.end_owned(&self.session, self.conn);
    }
}
