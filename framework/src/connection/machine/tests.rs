//! The connection's rules, driven without a socket, an actor or a timer:
//! envelopes go in, actions come out. Rooms are a recording port behind a
//! small in-memory matchmaker; sessions are the real ones.

use super::*;
use crate::auth::{AuthConfig, AuthError, Authenticator, Identity};
use crate::connection::{Action, Elsewhere, Placement, Refusal};
use crate::connection::{Creator, Matchmaker};
use crate::protocol::envelope::{
    client_msg::Kind as C, server_msg::Kind as S, Auth, ClientMsg, Create, Hello, Input, Join, JoinOrCreate, Resume,
};
use crate::protocol::{ClientId, Codec};
#[allow(unused_imports)]
use crate::protocol::{ConnId, SessionId};
use crate::session::{
    ConnEvent, InputError, JoinRequest, LeaveReason, Options, RawInput, RoomHandle, RoomPort, SessionConfig,
};
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Duration;

/// What rooms were asked, in order.
#[derive(Default)]
struct Asked {
    joins: Mutex<Vec<JoinRequest>>,
    inputs: Mutex<Vec<(ClientId, u32)>>,
    leaves: Mutex<Vec<(SessionId, LeaveReason)>>,
}

struct RecordingPort(Arc<Asked>);

impl RoomPort for RecordingPort {
    fn join(&self, req: JoinRequest) {
        self.0.joins.lock().push(req);
    }
    fn input(&self, input: RawInput<'_>) -> Result<(), InputError> {
        self.0.inputs.lock().push((input.client, input.seq));
        Ok(())
    }
    fn leave(&self, session: SessionId, why: LeaveReason) {
        self.0.leaves.lock().push((session, why));
    }
    fn presence(&self, _: SessionId, _: bool) {}
    fn dispose(&self) {}
    fn shutdown(&self) -> BoxFuture<'static, ()> {
        Box::pin(async {})
    }
    fn hand_over(&self, _: u64) -> BoxFuture<'static, Option<bytes::Bytes>> {
        Box::pin(async { None })
    }
}

/// A matchmaker over rooms named r1, r2, … of one type, `probe`, with four
/// seats each.
#[derive(Default)]
struct Rooms {
    rooms: Mutex<HashMap<String, Arc<RoomHandle>>>,
    asked: Arc<Asked>,
}

impl Rooms {
    fn make(&self) -> Arc<RoomHandle> {
        let mut rooms = self.rooms.lock();
        let id = format!("r{}", rooms.len() + 1);
        let h = Arc::new(RoomHandle::new(id.as_str().into(), "probe".into(), 30, 4, 64, Duration::from_secs(20)));
        h.set_port(Box::new(RecordingPort(self.asked.clone())));
        rooms.insert(id, h.clone());
        h
    }
}

fn seat(h: Arc<RoomHandle>) -> Result<Placement, Refusal> {
    h.reserve().map(|()| Placement::Here(h)).map_err(|code| Refusal { code, reason: "no seat".into() })
}

/// Room "far" lives on another node: its placement needs the cluster
/// store, and answers later with a redirect.
fn far() -> Result<Placement, Refusal> {
    let there = Elsewhere { room: "far".into(), url: "ws://b/ws".into(), reservation: "held".into() };
    Ok(Placement::Later(Box::pin(async move { Ok(Placement::Elsewhere(there)) })))
}

impl Matchmaker for Rooms {
    fn join(&self, room: &str, _: Option<&str>, _: &Options) -> Result<Placement, Refusal> {
        if room == "far" {
            return far();
        }
        if room == "late" {
            // A room the store places here after a wait (one this node
            // claimed meanwhile): the seat is reserved when it answers.
            let r1 = self.rooms.lock().get("r1").cloned();
            let h = r1.unwrap_or_else(|| self.make());
            return Ok(Placement::Later(Box::pin(async move { seat(h) })));
        }
        let h = self.rooms.lock().get(room).cloned();
        let h = h.ok_or(Refusal { code: JoinErrorCode::RoomNotFound, reason: format!("no room {room:?}") })?;
        seat(h)
    }
    fn join_or_create(
        &self,
        _: &str,
        _: Option<&str>,
        _: &Options,
        _: &Creator,
        skip: &dyn Fn(&str) -> bool,
    ) -> Result<Placement, Refusal> {
        let open = self.rooms.lock().values().find(|h| !skip(&h.id) && h.occupancy().0 < 4).cloned();
        seat(open.unwrap_or_else(|| self.make()))
    }
    fn create(&self, _: &str, _: Option<&str>, _: &Options, _: &Creator) -> Result<Placement, Refusal> {
        seat(self.make())
    }
}

/// Users are their tokens; "late@N" expires N seconds after the epoch.
struct Names;
impl Authenticator for Names {
    fn authenticate(&self, token: &str) -> Result<Identity, AuthError> {
        match token.split_once('@') {
            _ if token.is_empty() => Err(AuthError::Invalid("empty".into())),
            Some((user, secs)) => {
                let secs: u64 = secs.parse().map_err(|_| AuthError::Invalid("exp".into()))?;
                Ok(Identity::new(user).expiring(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)))
            }
            None => Ok(Identity::new(token)),
        }
    }
}

struct World {
    shared: Arc<ConnectionShared>,
    rooms: Arc<Rooms>,
    next: u64,
}

impl World {
    fn new(max_rooms: usize, max_per_user: usize) -> World {
        let rooms = Arc::new(Rooms::default());
        let shared = Arc::new(ConnectionShared {
            matchmaker: rooms.clone(),
            metrics: Arc::new(Metrics::new()),
            max_rooms_per_connection: max_rooms,
            open: AtomicUsize::new(0),
            live: LiveConnections::new(),
            sessions: Arc::new(
                Sessions::new(SessionConfig::default(), Default::default()).with_max_per_user(max_per_user),
            ),
            rate: RateLimits::default(),
            negotiator: Negotiator::new("arena", vec![2], vec![Codec::Proto]),
            channels: None,
        });
        World { shared, rooms, next: 1 }
    }

    /// A started connection; `auth`: the gate it starts with.
    fn connect(&mut self, auth: AuthGate) -> Conn {
        self.shared.open.fetch_add(1, Ordering::AcqRel);
        let token: Token = "arena.v2.proto".parse().expect("a token");
        let mut rules = GameConnection::new(self.shared.clone(), token, ConnId(self.next), None, auth, None);
        self.next += 1;
        let mut out = Actions::default();
        rules.start(Arc::new(|| true), Arc::new(|_, _| true), None, &mut out);
        let mut c = Conn { rules, out };
        let welcome = c.sent();
        assert!(matches!(welcome.first(), Some(S::Welcome(_))), "Welcome comes first: {welcome:?}");
        c
    }

    fn open(&mut self) -> Conn {
        self.connect(AuthGate::new(None, None, Instant::now()))
    }

    /// The room answers the last join it got: seated as client `client`.
    fn seat_last(&self, client: ClientId) {
        let req = self.rooms.asked.joins.lock().last().cloned().expect("a join reached a room");
        let room = self.rooms.rooms.lock().keys().find(|_| true).cloned();
        let room = req.options.get("room").cloned().or(room).expect("a room");
        req.outbox.push_event(ConnEvent::Joined { request: req.request, room: room.into(), client }, Instant::now());
    }
}

struct Conn {
    rules: GameConnection,
    out: Actions,
}

impl Conn {
    fn msg(&mut self, kind: C) {
        let bytes = Codec::Proto.encode_to_vec(&ClientMsg { kind: Some(kind) }).expect("encodes");
        self.rules.handle_message(WholeMessage::Binary(bytes.into()), &mut self.out);
    }

    fn wake(&mut self) {
        self.rules.handle_wake(&mut self.out);
    }

    /// Every action so far, decoded where it is a frame.
    fn actions(&mut self) -> Vec<Action> {
        self.out.drain().collect()
    }

    /// The server messages written so far (other actions dropped).
    fn sent(&mut self) -> Vec<S> {
        self.actions()
            .into_iter()
            .filter_map(|a| match a {
                Action::Send(f) => Codec::Proto.decode::<ServerMsg>(&f).expect("a server message").kind,
                _ => None,
            })
            .collect()
    }

    fn closed(&mut self) -> Option<u16> {
        self.actions().into_iter().find_map(|a| match a {
            Action::Close { code, .. } => Some(code.code()),
            _ => None,
        })
    }

    fn join_error(&mut self) -> (i32, String) {
        match self.sent().into_iter().find(|m| matches!(m, S::JoinError(_))) {
            Some(S::JoinError(e)) => (e.code, e.reason),
            other => panic!("expected a JoinError, got {other:?}"),
        }
    }
}

fn join(room: &str, request: u32) -> C {
    let options = HashMap::from([("room".to_string(), room.to_string())]);
    C::Join(Join { request, room: room.into(), options, ..Default::default() })
}

fn create(request: u32) -> C {
    C::Create(Create { request, room_type: "probe".into(), options: HashMap::new() })
}

#[test]
fn a_join_is_reserved_sent_to_the_room_and_answered_with_joined() {
    let mut w = World::new(8, 0);
    let mut c = w.open();
    c.msg(create(7));
    assert!(c.sent().is_empty(), "nothing to say until the room decides");
    let req = w.rooms.asked.joins.lock().last().cloned().expect("the room got the join");
    assert_eq!(req.request, 7);
    w.seat_last(ClientId(3));
    c.wake();
    match c.sent().as_slice() {
        [S::Joined(j)] => assert_eq!((j.request, j.room.as_str(), j.client), (7, "r1", 3)),
        other => panic!("expected Joined, got {other:?}"),
    }
}

#[test]
fn join_bookkeeping_refuses_repeats_and_caps_rooms_per_connection() {
    let mut w = World::new(2, 0);
    let mut c = w.open();
    c.msg(create(1));
    c.msg(create(1));
    assert_eq!(c.join_error().0, JoinErrorCode::AlreadyJoined as i32, "same request id in flight");
    w.seat_last(ClientId(1));
    c.wake();
    c.sent();
    c.msg(join("r1", 2));
    assert_eq!(c.join_error(), (JoinErrorCode::AlreadyJoined as i32, "already in this room".into()));
    c.msg(create(3));
    c.msg(create(4));
    assert_eq!(c.join_error().0, JoinErrorCode::TooManyRooms as i32, "one joined + one pending = the cap of 2");
    c.msg(join("nowhere", 5));
    assert_eq!(c.join_error().0, JoinErrorCode::TooManyRooms as i32, "the cap comes before the lookup");
}

#[test]
fn a_placement_that_waits_for_the_cluster_store_is_counted_and_answered_with_a_redirect() {
    let mut w = World::new(2, 0);
    let mut c = w.open();
    c.msg(C::Hello(Hello { client: "probe/1; redirect".into() }));
    c.msg(join("far", 4));
    let mut tasks: Vec<_> = c
        .actions()
        .into_iter()
        .filter_map(|a| match a {
            Action::Spawn(t) => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(tasks.len(), 1, "one wait for the store, nothing sent yet");
    // While it waits, the request counts: same id is refused, the cap holds.
    c.msg(join("far", 4));
    assert_eq!(c.join_error().0, JoinErrorCode::AlreadyJoined as i32);
    c.msg(create(5));
    c.msg(create(6));
    assert_eq!(c.join_error().0, JoinErrorCode::TooManyRooms as i32, "one placing + one pending = the cap of 2");
    // The store answers: the task records it, the next wake-up sends it.
    tasks.pop().expect("the task").now_or_never().expect("a ready answer");
    c.wake();
    match c.sent().as_slice() {
        [S::Redirect(r)] => {
            assert_eq!(
                (r.request, r.room.as_str(), r.url.as_str(), r.reservation.as_str()),
                (4, "far", "ws://b/ws", "held")
            )
        }
        other => panic!("expected a Redirect, got {other:?}"),
    }
    c.msg(create(7));
    assert!(c.sent().is_empty(), "the placing request no longer counts: a new create may start");
}

#[test]
fn a_client_that_does_not_follow_redirects_is_never_sent_to_another_node() {
    assert!(follows_redirects("playhouse-rust/0.1; redirect") && !follows_redirects("redirects-r-us"));
    let mut w = World::new(2, 0);
    let mut c = w.open();
    c.msg(join("far", 4));
    for a in c.actions() {
        if let Action::Spawn(t) = a {
            t.now_or_never().expect("a ready answer");
        }
    }
    c.wake();
    let (code, reason) = c.join_error();
    assert_eq!(code, JoinErrorCode::RoomNotFound as i32);
    assert!(reason.contains("does not follow redirects") && reason.contains("ws://b/ws"), "{reason}");
}

#[test]
fn a_first_message_server_admits_nothing_before_auth_and_everything_after() {
    let mut w = World::new(8, 0);
    let config = AuthConfig::new(Names).first_message(Duration::from_secs(5));
    let mut early = w.connect(AuthGate::new(Some(&config), None, Instant::now()));
    early.msg(create(1));
    assert_eq!(early.closed(), Some(4001));
    assert!(w.rooms.asked.joins.lock().is_empty(), "nothing reached a room");

    let mut c = w.connect(AuthGate::new(Some(&config), None, Instant::now()));
    c.msg(C::Auth(Auth { token: "ann".into() }));
    assert!(matches!(c.sent().as_slice(), [S::Authenticated(a)] if a.user == "ann"));
    c.msg(create(1));
    assert_eq!(w.rooms.asked.joins.lock().last().map(|j| j.user.clone()), Some(Some("ann".into())));
}

#[test]
fn the_credential_timer_is_armed_once_per_deadline() {
    let mut w = World::new(8, 0);
    let config = AuthConfig::new(Names).first_message(Duration::from_secs(5));
    let mut c = w.connect(AuthGate::new(Some(&config), None, Instant::now()));
    // `connect` read Welcome; the first-message deadline armed a timer then.
    c.msg(C::Auth(Auth { token: "ann@4000000000".into() }));
    let timers = |c: &mut Conn| c.actions().iter().filter(|a| matches!(a, Action::Timer(_))).count();
    assert_eq!(timers(&mut c), 1, "a new deadline: the expiry");
    for _ in 0..100 {
        c.msg(C::Auth(Auth { token: "ann@4000000000".into() }));
    }
    assert_eq!(timers(&mut c), 0, "the same token again and again arms nothing");
}

#[test]
fn sessions_per_user_are_counted_from_their_first_join() {
    let mut w = World::new(8, 1);
    let ann = || AuthGate::new(Some(&AuthConfig::new(Names)), Some(Identity::new("ann")), Instant::now());
    let mut first = w.connect(ann());
    let mut second = w.connect(ann());
    first.msg(create(1));
    assert_eq!(first.closed(), None);
    second.msg(create(1));
    assert_eq!(second.closed(), Some(4003), "ann holds one session in use already");
}

#[test]
fn resume_of_its_own_session_is_answered_in_place_and_of_another_after_a_join_refused() {
    let mut w = World::new(8, 0);
    let mut a = w.open();
    let a_token = w.shared.sessions.token(&a.rules.session);
    a.msg(C::Resume(Resume { token: a_token.clone(), last_seq: 0 }));
    assert!(matches!(a.sent().as_slice(), [S::Resumed(r)] if r.rooms.is_empty() && r.replayed == 0));
    assert_eq!(a.closed(), None);

    let mut b = w.open();
    b.msg(create(1));
    b.msg(C::Resume(Resume { token: a_token, last_seq: 0 }));
    match b.sent().as_slice() {
        [S::Error(e)] => assert_eq!((e.code, e.reason.contains("before any join")), (ERROR_RESUME_UNAVAILABLE, true)),
        other => panic!("expected Error 4002, got {other:?}"),
    }
}

#[test]
fn a_lost_connection_parks_its_session_and_a_resume_replays_what_it_missed() {
    let mut w = World::new(8, 0);
    let mut a = w.open();
    let token = w.shared.sessions.token(&a.rules.session);
    a.msg(create(1));
    w.seat_last(ClientId(2));
    a.rules.stopped(Ending::Lost); // the Joined never went out
    assert!(a.rules.session.is_parked());

    let mut b = w.open();
    b.msg(C::Resume(Resume { token, last_seq: 0 }));
    b.wake();
    let sent = b.sent();
    match sent.as_slice() {
        [S::Resumed(r), S::Joined(j)] => {
            assert_eq!((r.replayed, r.resync), (0, false));
            assert_eq!((j.room.as_str(), j.client), ("r1", 2), "the Joined that waited is written now");
        }
        other => panic!("expected Resumed then Joined, got {other:?}"),
    }
}

#[test]
fn after_the_shutdown_notice_joins_are_refused() {
    let mut w = World::new(8, 0);
    let mut c = w.open();
    c.rules
        .session
        .outbox()
        .push_event(ConnEvent::Shutdown { reconnect_after_ms: 500, url: String::new() }, Instant::now());
    c.wake();
    assert!(matches!(c.sent().as_slice(), [S::Shutdown(s)] if s.reconnect_after_ms == 500));
    c.msg(C::JoinOrCreate(JoinOrCreate { request: 1, room_type: "probe".into(), options: HashMap::new() }));
    assert_eq!(c.join_error(), (JoinErrorCode::RoomLocked as i32, "server is shutting down".into()));
}

#[test]
fn bad_input_gets_its_documented_answer() {
    let mut w = World::new(8, 0);
    let mut c = w.open();
    c.rules.handle_message(WholeMessage::Text("hi".into()), &mut c.out);
    assert_eq!(c.closed(), Some(1003));
    let mut c = w.open();
    c.rules.handle_message(WholeMessage::Binary(bytes::Bytes::from_static(b"\xff\xff\xff")), &mut c.out);
    assert_eq!(c.closed(), Some(1007));
    let mut c = w.open();
    c.rules.handle_message(WholeMessage::Binary(bytes::Bytes::new()), &mut c.out);
    assert!(matches!(c.sent().as_slice(), [S::Error(e)] if e.code == ERROR_UNKNOWN_KIND), "no kind: answered");
}

#[test]
fn inputs_reach_their_seat_and_an_input_for_another_room_is_named_back() {
    let mut w = World::new(8, 0);
    let mut c = w.open();
    c.msg(create(1));
    w.seat_last(ClientId(5));
    c.wake();
    c.sent();
    c.msg(C::Input(Input { room: "r1".into(), seq: 9, payload: Default::default() }));
    assert_eq!(*w.rooms.asked.inputs.lock(), vec![(ClientId(5), 9)]);
    c.msg(C::Input(Input { room: "elsewhere".into(), seq: 10, payload: Default::default() }));
    match c.sent().as_slice() {
        [S::Error(e)] => assert_eq!((e.code, e.room.as_str(), e.input_seq), (ERROR_NOT_IN_ROOM, "elsewhere", 10)),
        other => panic!("expected Error 4004, got {other:?}"),
    }
}

/// The tasks a step spawned (the waits for the cluster store).
fn spawned(c: &mut Conn) -> Vec<BoxFuture<'static, ()>> {
    c.actions()
        .into_iter()
        .filter_map(|a| match a {
            Action::Spawn(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// Whether room `h` (four seats) has all four free.
fn all_seats_free(h: &RoomHandle) -> bool {
    let free = (0..4).take_while(|_| h.reserve().is_ok()).count();
    (0..free).for_each(|_| h.unreserve());
    free == 4
}

#[test]
fn a_seat_placed_after_its_connection_stopped_is_given_back() {
    let mut w = World::new(2, 0);
    // The placement resolves after the connection stopped.
    let mut c = w.open();
    c.msg(join("late", 1));
    let mut tasks = spawned(&mut c);
    let h = w.rooms.rooms.lock().get("r1").cloned().expect("room r1");
    c.rules.stopped(Ending::Lost);
    tasks.pop().expect("the wait").now_or_never().expect("a ready answer");
    assert!(all_seats_free(&h), "the seat reserved for a gone connection counts against nobody");
    // It resolves first, and the connection stops before a wake-up reads it.
    let mut c = w.open();
    c.msg(join("late", 1));
    spawned(&mut c).pop().expect("the wait").now_or_never().expect("a ready answer");
    assert!(!all_seats_free(&h), "reserved for the connection while it lives");
    c.rules.stopped(Ending::Lost);
    assert!(all_seats_free(&h), "given back when the connection stops");
}
