//! [`GameConnection`]: the endpoint every game WebSocket runs. It decodes
//! each whole message once with the negotiated codec, routes it (join,
//! input, leave, ping), and writes what rooms put in its [`Outbox`].
//!
//! Bad input is answered here and harms no one else: an envelope or input
//! that does not decode closes this connection with 1007, a text frame with
//! 1003; a join that cannot happen is a `JoinError` and the socket stays open.
//!
//! Shutdown: the server queues [`ConnEvent::Shutdown`]; the connection writes
//! the `Shutdown` notice, reports it to [`LiveConnections`] (the server waits
//! for every connection's report before it shuts the rooms down, so every
//! input read before the notice is already in a room's mailbox by then), and
//! refuses joins from then on. The close 1001 comes later, as a queued close.

use super::{ConnEvent, DrainBuffers, LiveConnections, OutItem, Outbox, RoomId};
use crate::metrics::Metrics;
use crate::protocol::envelope::{
    client_msg::Kind as In, server_msg::Kind as Out, Error as WireError, JoinError, JoinErrorCode, Joined,
    LeaveReason as WireLeave, Left, Pong, ServerMsg, Shutdown, Welcome,
};
use crate::protocol::{CloseCode, Token};
use crate::registry::{InputError, Registry, RegistryError, RoomHandle};
use crate::room::{ClientId, JoinRequest, LeaveReason, Options};
use crate::transport::{Endpoint, Link, TransportObserver, Wake, WholeMessage};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// What every connection of a server shares.
pub struct ConnectionShared {
    /// Rooms.
    pub registry: Arc<Registry>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Most rooms one connection may be in (joined or joining).
    pub max_rooms_per_connection: usize,
    /// Open connections (reserved at the upgrade, released when one stops).
    pub open: AtomicUsize,
    /// The outboxes of the connections that have started and not stopped.
    pub live: LiveConnections,
}

/// The endpoint of one game connection.
pub struct GameConnection {
    shared: Arc<ConnectionShared>,
    token: Token,
    session: String,
    outbox: Arc<Outbox>,
    rooms: HashMap<RoomId, (Arc<RoomHandle>, ClientId)>,
    pending: HashMap<u32, Arc<RoomHandle>>,
    drain_buf: DrainBuffers,
    /// The shutdown notice has been written: joins are refused from now on.
    noticed: bool,
}

/// Error code in `Error` for an input to a room the client is not in.
pub const ERROR_NOT_IN_ROOM: u32 = 4004;
/// Error code in `Error` for an input dropped because the room is busy.
pub const ERROR_ROOM_BUSY: u32 = 1013;
/// Error code in `Error` for a message kind this server does not know.
pub const ERROR_UNKNOWN_KIND: u32 = 1003;
/// Error code in `Error` for a resume this server cannot honour.
pub const ERROR_RESUME_UNAVAILABLE: u32 = 4002;

fn unix_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl GameConnection {
    /// A connection that negotiated `token`, writing through `outbox`.
    pub fn new(shared: Arc<ConnectionShared>, token: Token, session: String, outbox: Arc<Outbox>) -> Self {
        GameConnection {
            shared,
            token,
            session,
            outbox,
            rooms: HashMap::new(),
            pending: HashMap::new(),
            drain_buf: DrainBuffers::default(),
            noticed: false,
        }
    }

    fn send(&self, link: &mut Link<'_, Self>, kind: Out) {
        match self.token.codec.encode_to_vec(&ServerMsg { kind: Some(kind) }) {
            Ok(v) => link.binary(Bytes::from(v)),
            Err(e) => tracing::error!(error = %e, "failed to encode a server message"),
        }
    }

    fn join_error(&self, link: &mut Link<'_, Self>, request: u32, code: JoinErrorCode, reason: impl Into<String>) {
        self.send(link, Out::JoinError(JoinError { request, code: code as i32, reason: reason.into() }));
    }

    fn error(&self, link: &mut Link<'_, Self>, code: u32, reason: impl Into<String>) {
        self.send(link, Out::Error(WireError { code, reason: reason.into() }));
    }

    /// Sends a join for a room whose seat is already reserved.
    fn request_join(&mut self, link: &mut Link<'_, Self>, request: u32, handle: Arc<RoomHandle>, options: Options) {
        let Some(port) = handle.port() else {
            handle.unreserve();
            return self.join_error(link, request, JoinErrorCode::RoomNotFound, "room not found");
        };
        port.join(JoinRequest {
            request,
            session: self.session.clone(),
            version: self.token.version,
            codec: self.token.codec,
            outbox: self.outbox.clone(),
            options,
        });
        self.pending.insert(request, handle);
    }

    /// Checks that a new join may start; answers the client if not.
    fn may_join(&self, link: &mut Link<'_, Self>, request: u32, room: Option<&str>) -> bool {
        if self.noticed {
            self.join_error(link, request, JoinErrorCode::RoomLocked, "server is shutting down");
            return false;
        }
        if self.pending.contains_key(&request) {
            self.join_error(link, request, JoinErrorCode::AlreadyJoined, "a join with this request id is in progress");
            return false;
        }
        if room.is_some_and(|r| self.rooms.contains_key(r) || self.pending.values().any(|h| &*h.id == r)) {
            self.join_error(link, request, JoinErrorCode::AlreadyJoined, "already in this room");
            return false;
        }
        if self.rooms.len() + self.pending.len() >= self.shared.max_rooms_per_connection {
            let max = self.shared.max_rooms_per_connection;
            self.join_error(link, request, JoinErrorCode::TooManyRooms, format!("at most {max} rooms per connection"));
            return false;
        }
        true
    }

    fn handle_reserved(
        &mut self,
        link: &mut Link<'_, Self>,
        request: u32,
        r: Result<Arc<RoomHandle>, RegistryError>,
        options: Options,
    ) {
        match r {
            Ok(h) => self.request_join(link, request, h, options),
            Err(e) => self.join_error(link, request, e.code(), e.to_string()),
        }
    }

    fn on_envelope(&mut self, kind: In, link: &mut Link<'_, Self>) {
        match kind {
            In::Hello(_) | In::Ack(_) => {}
            In::Resume(_) => {
                self.error(link, ERROR_RESUME_UNAVAILABLE, "session resume is not available on this server")
            }
            In::Join(j) => {
                if !self.may_join(link, j.request, Some(&j.room)) {
                    return;
                }
                let Some(h) = self.shared.registry.get(&j.room) else {
                    return self.join_error(
                        link,
                        j.request,
                        JoinErrorCode::RoomNotFound,
                        format!("no room {:?}", j.room),
                    );
                };
                let r = h.reserve().map(|_| h).map_err(RegistryError::Seat);
                self.handle_reserved(link, j.request, r, j.options);
            }
            In::JoinOrCreate(j) => {
                if self.may_join(link, j.request, None) {
                    let mine = |id: &str| self.rooms.contains_key(id) || self.pending.values().any(|h| &*h.id == id);
                    let r = self.shared.registry.join_or_create(&j.room_type, &j.options, mine);
                    self.handle_reserved(link, j.request, r, j.options);
                }
            }
            In::Create(c) => {
                if self.may_join(link, c.request, None) {
                    let r = self.shared.registry.create(&c.room_type, &c.options);
                    self.handle_reserved(link, c.request, r, c.options);
                }
            }
            In::Leave(l) => {
                if let Some((h, _)) = self.rooms.remove(l.room.as_str()) {
                    if let Some(p) = h.port() {
                        p.leave(self.outbox.id(), LeaveReason::Left);
                    }
                    self.send(
                        link,
                        Out::Left(Left { room: l.room, reason: WireLeave::Requested as i32, detail: String::new() }),
                    );
                } else {
                    self.error(link, ERROR_NOT_IN_ROOM, format!("not in room {:?}", l.room));
                }
            }
            In::Input(i) => {
                let Some((h, client)) = self.rooms.get(i.room.as_str()) else {
                    return self.error(link, ERROR_NOT_IN_ROOM, format!("not in room {:?}", i.room));
                };
                let Some(port) = h.port() else { return };
                match port.input(*client, i.seq, self.token.version, self.token.codec, &i.payload) {
                    Ok(()) => {}
                    Err(e @ InputError::Decode(_)) => link.close(CloseCode::InvalidPayload, &e.to_string()),
                    Err(e @ InputError::Busy) => self.error(link, ERROR_ROOM_BUSY, e.to_string()),
                    Err(InputError::Gone) => {}
                }
            }
            In::Ping(p) => self.send(link, Out::Pong(Pong { client_time: p.client_time, server_time: unix_millis() })),
        }
    }

    fn on_event(&mut self, ev: ConnEvent, link: &mut Link<'_, Self>) {
        match ev {
            ConnEvent::Joined { request, room, client } => {
                let Some(h) = self.pending.remove(&request) else { return };
                let joined = Joined {
                    request,
                    room: room.to_string(),
                    room_type: h.room_type.to_string(),
                    tick_hz: h.tick_hz,
                    client,
                };
                self.rooms.insert(room, (h, client));
                self.send(link, Out::Joined(joined));
            }
            ConnEvent::JoinFailed { request, code, reason } => {
                self.pending.remove(&request);
                self.join_error(link, request, code, reason);
            }
            ConnEvent::Left { room, reason, detail } => {
                self.rooms.remove(&room);
                self.send(link, Out::Left(Left { room: room.to_string(), reason: reason as i32, detail }));
            }
            ConnEvent::Shutdown { reconnect_after_ms } => self.notice_shutdown(reconnect_after_ms, link),
            ConnEvent::Close { code, reason } => {
                self.outbox.take_killed(); // link.close counts this close
                link.close(code, &reason);
            }
        }
    }

    /// Writes the `Shutdown` notice (once) and reports it to the server.
    fn notice_shutdown(&mut self, reconnect_after_ms: u32, link: &mut Link<'_, Self>) {
        if std::mem::replace(&mut self.noticed, true) {
            return;
        }
        self.send(link, Out::Shutdown(Shutdown { reconnect_after_ms }));
        self.shared.live.mark_noticed(self.outbox.id());
    }
}

impl Endpoint for GameConnection {
    fn started(&mut self, link: &mut Link<'_, Self>) {
        self.shared.metrics.connections_open.inc();
        self.shared.metrics.connections_total.inc();
        tracing::debug!(conn = self.outbox.id(), session = %self.session, protocol = %self.token, "connection open");
        let addr = link.address();
        self.outbox.set_waker(move || addr.try_send(Wake).is_ok());
        let welcome = Welcome {
            session: self.session.clone(),
            resume_token: String::new(),
            server_time: unix_millis(),
            protocol: self.token.to_string(),
        };
        self.send(link, Out::Welcome(welcome));
        if let Some(reconnect_after_ms) = self.shared.live.insert(self.outbox.clone()) {
            // Opened while the notice was going out (see `LiveConnections`).
            self.notice_shutdown(reconnect_after_ms, link);
        }
    }

    fn on_message(&mut self, msg: WholeMessage, link: &mut Link<'_, Self>) {
        let bytes = match msg {
            WholeMessage::Binary(b) => b,
            WholeMessage::Text(_) => {
                let reason = format!("text frames are not part of {}; send binary frames", self.token);
                return link.close(CloseCode::Unsupported, &reason);
            }
        };
        match self.token.codec.decode::<crate::protocol::envelope::ClientMsg>(&bytes) {
            Ok(msg) => match msg.kind {
                Some(kind) => self.on_envelope(kind, link),
                // A kind this server does not know (protobuf decodes an unknown
                // oneof case as none): answer, don't close, so newer clients
                // degrade gracefully against older servers.
                None => self.error(link, ERROR_UNKNOWN_KIND, "unknown or empty message kind"),
            },
            Err(e) => {
                let reason = format!("message does not decode as {}: {e}", self.token.codec);
                link.close(CloseCode::InvalidPayload, &reason);
            }
        }
    }

    fn on_wake(&mut self, link: &mut Link<'_, Self>) {
        let mut buf = std::mem::take(&mut self.drain_buf);
        self.outbox.drain_into(&mut buf);
        for item in buf.reliable.drain(..) {
            match item {
                OutItem::Frame(f) => link.binary(f),
                OutItem::Event(ev) => self.on_event(ev, link),
            }
        }
        for (_, f) in buf.states.drain(..) {
            link.binary(f);
        }
        self.drain_buf = buf;
    }

    fn stopped(&mut self) {
        self.outbox.close();
        self.shared.live.remove(self.outbox.id());
        if let Some(code) = self.outbox.take_killed() {
            // Killed from outside while the actor was frozen: the close
            // frame never went out, so count the close here.
            self.shared.metrics.closed(code.code());
        }
        self.shared.metrics.connections_open.dec();
        self.shared.open.fetch_sub(1, Ordering::AcqRel);
        tracing::debug!(conn = self.outbox.id(), session = %self.session, rooms = self.rooms.len(), "connection closed");
        let conn = self.outbox.id();
        for (h, _) in self.rooms.values() {
            if let Some(p) = h.port() {
                p.leave(conn, LeaveReason::Disconnected);
            }
        }
        // A join still being decided: the room sees the closed outbox and
        // drops the client itself; telling it early frees the seat sooner.
        for h in self.pending.values() {
            if let Some(p) = h.port() {
                p.leave(conn, LeaveReason::Disconnected);
            }
        }
    }
}
