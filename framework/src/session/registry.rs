//! [`Sessions`]: every live or parked session of a server, and the rules for
//! opening, parking, resuming and ending one.

use super::parking::{Admission, Claim, Eviction, ParkingQuota};
use super::users::{TooManySessions, UserSessions};
use super::{DurableLog, Parked, Replay, ReplayLog, Session, SessionState, TokenError, TokenSigner};
use super::{LeaveReason, SessionConfig};
use crate::metrics::Metrics;
use crate::protocol::RoomId;
use crate::protocol::{ClientId, ConnId, SessionId};
use crate::session::RoomHandle;
use crate::session::{OutboxLimits, ParkLimits};
use bytes::Bytes;
use dashmap::DashMap;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Why a resume was refused (the client gets `Error{code: 4002}` with this
/// reason and keeps the fresh session its connection opened with).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    /// The token does not check out.
    #[error("{0}")]
    Token(#[from] TokenError),
    /// No such session: its reconnect window passed, it ended, or it lived
    /// on another server process.
    #[error("session expired or unknown; start a new session")]
    Gone,
    /// `Resume` must be the first message, before any join.
    #[error("resume must come before any join on a connection")]
    TooLate,
    /// The session belongs to another user than the connection's.
    #[error("session belongs to another user")]
    WrongUser,
    /// The connection negotiated another subprotocol token than the session
    /// (its rooms encode for the session's).
    #[error("session speaks {0}; resume it on a connection that negotiated the same protocol")]
    OtherProtocol(String),
    /// A newer token of the session has been handed out (in `Resumed`): a
    /// superseded bearer credential no longer works.
    #[error("resume token superseded by a newer one; resume with the token of the latest Resumed")]
    Superseded,
    /// The session is held by another node of the cluster (its tag): resume
    /// there.
    #[error("the session is held by another node of the cluster")]
    Elsewhere {
        /// The token's node tag.
        node: u64,
        /// The session's number on that node.
        id: u64,
    },
}

/// A successful resume, for the connection to act on.
#[derive(Debug)]
pub struct Resumption {
    /// The resumed session (the connection now owns it).
    pub session: Arc<Session>,
    /// The frames to write again, in order (empty on a resync).
    pub replay: Vec<Bytes>,
    /// Missed reliable messages were no longer buffered.
    pub resync: bool,
    /// The rooms the session is in.
    pub rooms: Vec<(RoomId, Arc<RoomHandle>, ClientId)>,
    /// The connection that owned the session until now, if it was still
    /// open (it must be closed: a session has one connection).
    pub replaced: Option<ConnId>,
    /// The session's new resume token (for `Resumed`); the one resumed with
    /// is superseded.
    pub token: String,
}

/// Every session of a server.
pub struct Sessions {
    pub(super) map: DashMap<SessionId, Arc<Session>>,
    signer: TokenSigner,
    pub(super) config: SessionConfig,
    pub(super) outbox: OutboxLimits,
    pub(super) next: AtomicU64,
    /// Who is parked, counted per address, per user and in all. Taken under
    /// a session's state lock, never the other way round.
    pub(super) parking: Mutex<ParkingQuota>,
    /// Sessions counted per user, against the per-user cap.
    users: UserSessions,
    metrics: Option<Arc<Metrics>>,
    /// The failover store's writer (a cluster node): sessions in rooms are
    /// recorded and their reliable frames kept there.
    pub(super) durable: Option<Arc<DurableLog>>,
    /// Sessions taken over from lost nodes, by the (node tag, number) their
    /// tokens carry.
    pub(super) aliases: DashMap<(u64, u64), SessionId>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("open", &self.map.len()).field("parked", &self.parked_count()).finish()
    }
}

fn unix_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Sessions {
    /// An empty registry; outboxes get `outbox` limits.
    pub fn new(config: SessionConfig, outbox: OutboxLimits) -> Self {
        let signer = config.secret.as_deref().map_or_else(TokenSigner::random, TokenSigner::new);
        Sessions {
            map: DashMap::new(),
            signer,
            parking: Mutex::new(ParkingQuota::new(config.parking_limits())),
            config,
            outbox,
            next: AtomicU64::new(1),
            users: UserSessions::default(),
            metrics: None,
            durable: None,
            aliases: DashMap::new(),
        }
    }

    /// Counts evictions and parking refusals in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Caps the sessions one user may hold (0: no cap).
    pub fn with_max_per_user(mut self, max: usize) -> Self {
        self.users = UserSessions::new(max);
        self
    }

    /// Sessions `user` holds (open or parked).
    pub fn user_sessions(&self, user: &str) -> usize {
        self.users.held(user)
    }

    /// Binds `session` (owned by `conn`) to `user`: only that user may
    /// resume it. Does not count it against the user's cap yet (see
    /// [`Sessions::count_user`]), so a connection that only resumes another
    /// of the user's sessions is never refused for the cap.
    pub fn bind_user(&self, session: &Session, conn: ConnId, user: &str) {
        if let Some(mut st) = session.owned_by(conn) {
            st.user.get_or_insert_with(|| user.to_string());
        }
    }

    /// Counts `session` against its user's cap, once: called when the
    /// session is first used for a room. Past the cap: `Err`.
    pub fn count_user(&self, session: &Session, conn: ConnId) -> Result<(), TooManySessions> {
        let Some(mut st) = session.owned_by(conn) else { return Ok(()) };
        if st.counted {
            return Ok(());
        }
        let Some(user) = st.user.clone() else { return Ok(()) };
        self.users.count(user)?;
        st.counted = true;
        Ok(())
    }

    /// The knobs.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Opens a session owned by connection `conn` (speaking any protocol,
    /// from no known address: tests; connections use
    /// [`Sessions::open_speaking`]).
    pub fn open(&self, conn: ConnId) -> Arc<Session> {
        self.open_speaking(conn, "", None)
    }

    /// Opens a session owned by connection `conn`, which negotiated the
    /// subprotocol token `protocol` and comes from client `address` (its
    /// parking counts against that address's cap).
    pub fn open_speaking(&self, conn: ConnId, protocol: &str, address: Option<IpAddr>) -> Arc<Session> {
        let id = SessionId(self.next.fetch_add(1, Ordering::Relaxed));
        let nonce: u64 = rand::random();
        let session = Arc::new(Session {
            id,
            name: format!("{:x}-{:08x}", id.0, nonce as u32),
            nonce,
            protocol: protocol.to_string(),
            address,
            outbox: Arc::new(crate::session::Outbox::new(id, self.outbox)),
            state: Mutex::new(SessionState {
                owner: Some(conn),
                parked: None,
                ended: false,
                rooms: HashMap::new(),
                pending: HashMap::new(),
                log: ReplayLog::new(self.config.replay_max_messages, self.config.replay_max_bytes),
                user: None,
                counted: false,
                token_generation: 0,
                durable: None,
                adopted: None,
                aliases: Vec::new(),
            }),
        });
        self.map.insert(id, session.clone());
        session
    }

    /// A resume token for `session` of its current generation (what
    /// `Welcome` carries; it stays valid until the session is resumed).
    pub fn token(&self, session: &Session) -> String {
        let generation = session.state.lock().token_generation;
        self.issue(session, generation)
    }

    /// A new resume token for `session`, if connection `conn` owns it: the
    /// generation is bumped, so every earlier token is superseded (a
    /// `Resumed` of the session the connection holds already).
    pub fn reissue(&self, session: &Session, conn: ConnId) -> Option<String> {
        let mut st = session.owned_by(conn)?;
        st.token_generation += 1;
        self.write_record(session, &st);
        Some(self.issue(session, st.token_generation))
    }

    fn issue(&self, session: &Session, generation: u64) -> String {
        let expires = unix_secs() + self.config.token_ttl.as_secs();
        self.signer.issue(session.id.0, session.nonce, generation, expires, self.config.node)
    }

    /// Whether `token` is the current resume token of `session` (not
    /// expired, signed by this server, for this very session, not
    /// superseded by a newer one).
    pub fn token_names(&self, token: &str, session: &Session) -> bool {
        self.signer.verify(token, unix_secs()).is_ok_and(|c| {
            c.node == self.config.node
                && c.id == session.id.0
                && c.nonce == session.nonce
                && c.generation == session.state.lock().token_generation
        })
    }

    /// Ends `session` if connection `conn` still owns it (a connection
    /// dropped before its actor ran); otherwise leaves it alone.
    pub fn end_owned(&self, session: &Session, conn: ConnId) {
        let mut st = session.state.lock();
        if st.owner != Some(conn) {
            return;
        }
        self.end_locked(session, &mut st);
        drop(st);
        self.map.remove(&session.id);
    }

    /// Sessions open or parked.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Sessions parked.
    pub fn parked_count(&self) -> usize {
        self.parking.lock().len()
    }

    /// Sessions parked from client address `ip` (IPv6: from its /64).
    pub fn parked_from(&self, ip: IpAddr) -> usize {
        self.parking.lock().parked_from(ip)
    }

    /// Connection `conn` is gone. If it still owns `session` and the way it
    /// ended allows a resume (`resumable`), the session is parked for its
    /// window and its rooms see the client as disconnected, unless the
    /// parking caps refuse it (see [`ParkingQuota`]); otherwise the session
    /// ends. Parked sessions that must give way to this one are ended too.
    /// Returns whether it was parked.
    pub fn disconnect(&self, session: &Arc<Session>, conn: ConnId, resumable: bool, now: Instant) -> bool {
        let mut st = session.state.lock();
        if st.owner != Some(conn) {
            return false;
        }
        st.owner = None;
        let roomless = st.rooms.is_empty() && st.pending.is_empty();
        let window = if roomless {
            self.config.roomless_window.min(self.config.reconnect_window)
        } else {
            st.rooms
                .values()
                .map(|(h, _)| h)
                .chain(st.pending.values())
                .map(|h| h.reconnect_window)
                .max()
                .unwrap_or_default()
        };
        let eligible =
            resumable && !self.config.reconnect_window.is_zero() && !window.is_zero() && !session.outbox.is_closed();
        let admission = eligible.then(|| {
            let claim = Claim { session: session.id, address: session.address, user: st.user.as_deref(), roomless };
            self.parking.lock().admit(claim)
        });
        let (ticket, evict) = match admission {
            Some(Admission::Park { ticket, evict }) => (ticket, evict),
            refused => {
                if let (Some(Admission::Refuse(cap)), Some(m)) = (refused, &self.metrics) {
                    m.session_park_refused(cap.label());
                }
                self.end_locked(session, &mut st);
                drop(st);
                self.map.remove(&session.id);
                return false;
            }
        };
        st.parked = Some(Parked { until: now + window, ticket });
        session
            .outbox
            .park(ParkLimits { max_frames: self.config.replay_max_messages, max_bytes: self.config.replay_max_bytes });
        for (h, _) in st.rooms.values() {
            if let Some(p) = h.port() {
                p.away(session.id);
            }
        }
        // One session's state lock at a time: the evicted ones are ended
        // under their own locks, after this one is released.
        drop(st);
        for e in evict {
            self.evict(e);
        }
        true
    }

    /// Ends the session `e` names if it is still parked under the ticket
    /// the quota let go (it may have been resumed, or resumed and parked
    /// again, since the decision).
    pub(crate) fn evict(&self, e: Eviction) {
        // The map guard is dropped before the state is locked.
        let Some(victim) = self.map.get(&e.session).map(|s| s.clone()) else { return };
        let mut st = victim.state.lock();
        if st.owner.is_some() || st.ended || st.parked.map(|p| p.ticket) != Some(e.ticket) {
            return;
        }
        self.end_locked(&victim, &mut st);
        drop(st);
        self.map.remove(&victim.id);
        if let Some(m) = &self.metrics {
            m.session_evicted(e.cap.label());
        }
        tracing::debug!(session = victim.name(), cap = e.cap.label(), "parked session evicted");
    }

    pub(super) fn end_locked(&self, session: &Session, st: &mut SessionState) {
        if std::mem::replace(&mut st.ended, true) {
            return;
        }
        st.owner = None;
        if let Some(p) = st.parked.take() {
            self.parking.lock().release(session.id, p.ticket);
        }
        session.outbox.close();
        for h in st.rooms.drain().map(|(_, (h, _))| h).chain(st.pending.drain().map(|(_, h)| h)) {
            if let Some(p) = h.port() {
                p.leave(session.id, LeaveReason::Disconnected);
            }
        }
        st.log.clear();
        self.durable_end(st);
        if let Some(user) = st.user.take() {
            if std::mem::take(&mut st.counted) {
                self.users.release(&user);
            }
        }
        // The caller removes it from the map after dropping the state lock:
        // `sweep` takes map then state, so state then map would deadlock.
    }

    /// Ends `session` now (its connection closed normally, or a resume made
    /// it redundant). Rooms see the client leave.
    pub fn end(&self, session: &Session) {
        let mut st = session.state.lock();
        self.end_locked(session, &mut st);
        drop(st);
        self.map.remove(&session.id);
    }

    /// Connection `conn` resumes the session of `token`, having received
    /// every reliable message up to `last_seq`, at `now`, as `user` (the
    /// connection's authenticated user). A parked session whose window has
    /// passed is gone even if [`Sessions::sweep`] has not ended it yet. The
    /// connection must attach itself to the session's outbox afterwards.
    pub fn resume(
        &self,
        token: &str,
        last_seq: u64,
        conn: ConnId,
        user: Option<&str>,
        protocol: &str,
        now: Instant,
    ) -> Result<Resumption, ResumeError> {
        let claims = self.signer.verify(token, unix_secs())?;
        let (id, nonce, generation) = (claims.id, claims.nonce, claims.generation);
        let own = (claims.node == self.config.node)
            .then(|| self.map.get(&SessionId(id)).map(|s| s.clone()))
            .flatten()
            .filter(|s| s.nonce == nonce);
        // Else one this node took over from a lost node (or from its own
        // earlier incarnation, restarted under the same node id).
        let session = match own.or_else(|| self.adopted(claims.node, id)) {
            Some(s) => s,
            // Held by another node, or moved on with a room this node lost:
            // the failover store says where.
            None if claims.node != self.config.node || self.durable.is_some() => {
                return Err(ResumeError::Elsewhere { node: claims.node, id })
            }
            None => return Err(ResumeError::Gone),
        };
        if session.nonce != nonce {
            return Err(ResumeError::Gone);
        }
        if !session.protocol.is_empty() && session.protocol != protocol {
            return Err(ResumeError::OtherProtocol(session.protocol.clone()));
        }
        let mut st = session.state.lock();
        if st.ended {
            return Err(ResumeError::Gone);
        }
        if st.owner.is_none() && st.parked.is_some_and(|p| p.until <= now) {
            // The sweep runs once a second; the window is the promise.
            self.end_locked(&session, &mut st);
            drop(st);
            self.map.remove(&session.id);
            return Err(ResumeError::Gone);
        }
        if generation != st.token_generation {
            return Err(ResumeError::Superseded);
        }
        if st.user.as_deref() != user {
            return Err(ResumeError::WrongUser);
        }
        let replaced = st.owner.replace(conn);
        // Bumped under the lock: of two resumes racing with one token, the
        // second is refused instead of taking the session over again.
        st.token_generation += 1;
        let token = self.issue(&session, st.token_generation);
        self.write_record(&session, &st);
        if let Some(p) = st.parked.take() {
            self.parking.lock().release(session.id, p.ticket);
        }
        let lost = session.outbox.take_lost() > 0;
        if st.adopted.take().is_some() && last_seq >= st.log.next_seq() {
            // The lost node wrote frames to the client that never reached
            // the store: the client has them, so numbering goes on after.
            st.log.skip_to(last_seq + 1);
        }
        let (replay, resync) = match st.log.replay_after(last_seq) {
            Replay::Frames(frames) if !lost => {
                st.log.ack(last_seq);
                (frames, false)
            }
            _ => {
                st.log.clear();
                (Vec::new(), true)
            }
        };
        let rooms = st.rooms.iter().map(|(id, (h, c))| (id.clone(), h.clone(), *c)).collect();
        drop(st);
        Ok(Resumption { session, replay, resync, rooms, replaced, token })
    }

    /// Ends every parked session whose window has passed; returns how many.
    pub fn sweep(&self, now: Instant) -> usize {
        // Only a parked session can expire, and every parked session is in
        // the parking quota (both ways of parking are admitted there first):
        // so the sweep visits the parked ones, not every open session. It
        // used to lock each open session's state once a second: 0.17 ms of
        // a server thread at 10,000 sessions and 6.1 ms at 100,000, against
        // 2.8 µs and 31 µs now with 1 % of them parked (`cargo bench -p
        // playhouse-benches --bench sweep`).
        // The ids are taken under the quota's lock and the states locked
        // after it is released (a state lock is never taken under it).
        let parked: Vec<SessionId> = self.parking.lock().sessions().collect();
        let mut n = 0;
        for id in parked {
            let Some(s) = self.map.get(&id).map(|s| s.value().clone()) else { continue };
            let mut st = s.state.lock();
            if st.owner.is_none() && st.parked.is_some_and(|p| p.until <= now) {
                self.end_locked(&s, &mut st);
                drop(st);
                self.map.remove(&s.id);
                n += 1;
            }
        }
        n
    }
}
