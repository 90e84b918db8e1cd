//! RoomCore driven by hand: no actors, no sockets, made-up instants.

use super::recovery_tests::{counter, join_counter};
use super::*;
use crate::protocol::envelope::{server_msg::Kind, JoinErrorCode, ServerMsg};
use crate::protocol::{CloseCode, Codec, Schema};
#[allow(unused_imports)]
use crate::protocol::{ConnId, SessionId};
use crate::session::{ConnEvent, JoinRequest, OutItem, Outbox, OutboxLimits};
use playhouse_testkit::probe::{v1, v2};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A test room: records inputs, broadcasts a state of the sum every tick,
/// and does what the options of its first client ask (panic on a tick...).
#[derive(Default)]
struct Probe {
    inputs: Vec<(ClientId, u32, i32)>,
    ticks: Vec<u64>,
    left: Vec<(ClientId, LeaveReason)>,
    panic_on_tick: Option<u64>,
    kick_on_tick: Option<(u64, ClientId)>,
}

pub(super) fn state(sum: i32) -> v2::Output {
    let players = vec![v2::Player { id: 1, score: sum, name: "p".into(), ..Default::default() }];
    v2::Output { kind: Some(v2::output::Kind::State(v2::State { players })) }
}

impl Room for Probe {
    type Wire = (v2::Input, v2::Output, v2::Output);
    type Options = Options;

    fn on_create(_: &mut RoomContext<Self>, options: &Options) -> Result<Self, Reject> {
        if options.contains_key("refuse") {
            return Err(Reject::new("refused by options"));
        }
        if options.contains_key("panic_create") {
            panic!("boom in on_create");
        }
        Ok(Probe { panic_on_tick: options.get("panic_on_tick").and_then(|t| t.parse().ok()), ..Default::default() })
    }

    fn on_join(&mut self, _: &mut RoomContext<Self>, client: &Client, options: &Options) -> Result<(), Reject> {
        if let Some(k) = options.get("kick_on_tick") {
            self.kick_on_tick = Some((k.parse().unwrap_or(0), client.id));
        }
        if options.contains_key("deny") {
            return Err(Reject::new("no entry"));
        }
        Ok(())
    }

    fn on_input(&mut self, _: &mut RoomContext<Self>, client: ClientId, seq: u32, input: v2::Input) {
        self.inputs.push((client, seq, input.move_x));
    }

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _dt: Duration) {
        let tick = ctx.tick();
        self.ticks.push(tick);
        if self.panic_on_tick == Some(tick) {
            panic!("boom on tick {tick}");
        }
        if let Some((t, c)) = self.kick_on_tick {
            if t == tick {
                ctx.kick(c, "bye");
            }
        }
        let sum = self.inputs.iter().map(|i| i.2).sum();
        ctx.broadcast_state(&state(sum));
    }

    fn on_leave(&mut self, _: &mut RoomContext<Self>, client: ClientId, why: LeaveReason) {
        self.left.push((client, why));
    }
}

/// A schema that counts its encodes, serving v2 and a v1 adapter.
pub(super) fn schema(encodes: Arc<AtomicUsize>) -> Arc<Schema<(v2::Input, v2::Output, v2::Output)>> {
    let (e1, e2) = (encodes.clone(), encodes.clone());
    Schema::<(v2::Input, v2::Output, v2::Output)>::new()
        .version(
            2,
            |i: v2::Input| i,
            {
                let encodes = encodes.clone();
                move |o: &v2::Output| {
                    encodes.fetch_add(1, Ordering::SeqCst);
                    o.clone()
                }
            },
            move |o: &v2::Output| {
                encodes.fetch_add(1, Ordering::SeqCst);
                o.clone()
            },
        )
        .unwrap()
        .version(
            1,
            |i: v1::Input| v2::Input { move_x: i.move_x, move_y: i.move_y, ..Default::default() },
            move |_: &v2::Output| {
                e1.fetch_add(1, Ordering::SeqCst);
                v1::Output::default()
            },
            move |_: &v2::Output| {
                e2.fetch_add(1, Ordering::SeqCst);
                v1::Output::default()
            },
        )
        .unwrap()
        .shared()
        .unwrap()
}

struct Fixture {
    core: RoomCore<Probe>,
    t0: Instant,
    encodes: Arc<AtomicUsize>,
    next_conn: u64,
}

fn fixture(spec: RoomType, options: &[(&str, &str)]) -> Fixture {
    let encodes = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let options: Options = options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let core = RoomCore::create("room1".into(), &spec, schema(encodes.clone()), &options, t0).unwrap();
    Fixture { core, t0, encodes, next_conn: 1 }
}

impl Fixture {
    fn join(&mut self, version: u32, codec: Codec, options: &[(&str, &str)]) -> (Option<ClientId>, Arc<Outbox>) {
        self.join_at(self.t0, version, codec, options)
    }

    fn join_at(
        &mut self,
        now: Instant,
        version: u32,
        codec: Codec,
        options: &[(&str, &str)],
    ) -> (Option<ClientId>, Arc<Outbox>) {
        let outbox = Arc::new(Outbox::new(SessionId(self.next_conn), OutboxLimits::default()));
        self.next_conn += 1;
        let req = JoinRequest {
            request: 7,
            session: "s".into(),
            user: None,
            version,
            codec,
            outbox: outbox.clone(),
            options: options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        (self.core.join(req, now), outbox)
    }

    fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }
}

pub(super) fn states(o: &Outbox, codec: Codec) -> Vec<crate::protocol::envelope::State> {
    o.drain()
        .states
        .iter()
        .map(|f| match codec.decode::<ServerMsg>(f).unwrap().kind {
            Some(Kind::State(s)) => s,
            other => panic!("not a state: {other:?}"),
        })
        .collect()
}

#[test]
fn ticks_run_on_schedule_and_inputs_arrive_in_order_before_the_tick() {
    let mut f = fixture(RoomType::new("probe", 10), &[]);
    let (a, _) = f.join(2, Codec::Proto, &[]);
    let (b, _) = f.join(2, Codec::Proto, &[]);
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(f.core.poll(f.at(0)).is_some());
    assert!(f.core.poll(f.at(50)).is_none(), "tick 1 is due at 100 ms");
    f.core.input(b, 1, v2::Input { move_x: 5, ..Default::default() });
    f.core.input(a, 1, v2::Input { move_x: 1, ..Default::default() });
    f.core.input(b, 2, v2::Input { move_x: 7, ..Default::default() });
    let r = f.core.poll(f.at(101)).unwrap();
    assert_eq!((r.tick, r.lateness, r.skipped), (1, Duration::from_millis(1), 0));
    let room = f.core.room().unwrap();
    assert_eq!(room.inputs, vec![(b, 1, 5), (a, 1, 1), (b, 2, 7)]);
    assert_eq!(room.ticks, vec![0, 1]);
}

#[test]
fn late_ticks_are_skipped_not_bunched() {
    let mut f = fixture(RoomType::new("probe", 10), &[]);
    f.join(2, Codec::Proto, &[]); // an empty room would not tick at all
    f.core.poll(f.at(0));
    let r = f.core.poll(f.at(350)).unwrap();
    assert_eq!((r.tick, r.skipped), (3, 2));
    assert!(f.core.poll(f.at(351)).is_none());
    assert_eq!(f.core.stats().ticks_skipped, 2);
}

#[test]
fn a_broadcast_is_encoded_once_per_version_and_codec_group() {
    let mut f = fixture(RoomType::new("probe", 10), &[]);
    let groups = [(2, Codec::Proto), (2, Codec::MsgPack), (1, Codec::Proto), (1, Codec::MsgPack)];
    let mut boxes = Vec::new();
    for _ in 0..5 {
        for (v, c) in groups {
            boxes.push((f.join(v, c, &[]).1, c));
        }
    }
    f.encodes.store(0, Ordering::SeqCst);
    f.core.poll(f.at(0));
    assert_eq!(f.encodes.load(Ordering::SeqCst), 4, "20 clients in 4 groups: 4 encodes");
    assert_eq!(f.core.stats().encodes, 4);
    // clients of one group share the very same bytes
    let d1 = boxes[0].0.drain().states;
    let d2 = boxes[4].0.drain().states;
    assert_eq!(d1[0].as_ptr(), d2[0].as_ptr());
}

#[test]
fn state_carries_the_tick_and_each_clients_last_processed_seq() {
    let mut f = fixture(RoomType::new("probe", 10), &[]);
    let (a, oa) = f.join(2, Codec::MsgPack, &[]);
    let (b, _) = f.join(2, Codec::MsgPack, &[]);
    f.core.input(a.unwrap(), 41, v2::Input::default());
    f.core.input(a.unwrap(), 42, v2::Input::default());
    f.core.poll(f.at(0));
    let s = states(&oa, Codec::MsgPack);
    assert_eq!(s[0].tick, 0);
    let acks: Vec<(ClientId, u32)> = s[0].acks.iter().map(|a| (ClientId(a.client), a.seq)).collect();
    assert_eq!(acks, vec![(a.unwrap(), 42), (b.unwrap(), 0)]);
}

#[test]
fn an_input_past_the_inbox_bound_is_named_to_its_sender_and_never_processed() {
    let mut f = fixture(RoomType::new("probe", 10).inbox_capacity(2), &[]);
    let (a, oa) = f.join(2, Codec::MsgPack, &[]);
    let a = a.unwrap();
    oa.drain(); // the join
    assert!(f.core.input(a, 1, v2::Input::default()));
    assert!(f.core.input(a, 2, v2::Input::default()));
    assert!(!f.core.input(a, 3, v2::Input::default()), "the inbox holds two");
    let told: Vec<ConnEvent> = oa
        .drain()
        .reliable
        .into_iter()
        .filter_map(|i| match i {
            OutItem::Event(e) => Some(e),
            OutItem::Frame(_) => None,
        })
        .collect();
    assert_eq!(told, vec![ConnEvent::InputDropped { room: "room1".into(), seq: 3 }]);
    let mut acks = Vec::new();
    f.core.poll(f.at(0));
    acks.extend(states(&oa, Codec::MsgPack).iter().map(|s| s.acks[0].seq));
    assert!(f.core.input(a, 4, v2::Input::default()), "the tick emptied the inbox");
    f.core.poll(f.at(100));
    acks.extend(states(&oa, Codec::MsgPack).iter().map(|s| s.acks[0].seq));
    assert_eq!(acks, vec![2, 4], "4 is acked; 3 was named as dropped, so the ack does not stand for it");
}

#[test]
fn acks_follow_a_wrapping_input_seq() {
    let mut f = fixture(RoomType::new("probe", 10), &[]);
    let (a, oa) = f.join(2, Codec::MsgPack, &[]);
    let a = a.unwrap();
    let mut acks = Vec::new();
    for (i, seq) in [u32::MAX, 0, 1].into_iter().enumerate() {
        f.core.input(a, seq, v2::Input::default());
        f.core.poll(f.at(100 * i as u64));
        acks.extend(states(&oa, Codec::MsgPack).iter().map(|s| s.acks[0].seq));
    }
    assert_eq!(acks, vec![u32::MAX, 0, 1]);
}

#[test]
fn full_locked_and_refusing_rooms_answer_with_join_errors() {
    let mut f = fixture(RoomType::new("probe", 10).max_clients(1), &[]);
    assert!(f.join(2, Codec::Proto, &[]).0.is_some());
    let (none, o) = f.join(2, Codec::Proto, &[]);
    assert!(none.is_none());
    let d = o.drain();
    assert!(matches!(&d.reliable[0], OutItem::Event(ConnEvent::JoinFailed { code: JoinErrorCode::RoomFull, .. })));

    let mut f = fixture(RoomType::new("probe", 10), &[]);
    let (none, o) = f.join(2, Codec::Proto, &[("deny", "1")]);
    assert!(none.is_none());
    match &o.drain().reliable[0] {
        OutItem::Event(ConnEvent::JoinFailed { code, reason, .. }) => {
            assert_eq!((*code, reason.as_str()), (JoinErrorCode::Rejected, "no entry"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn create_can_be_refused_and_a_panicking_create_is_caught() {
    let spec = RoomType::new("probe", 10);
    let s = schema(Arc::default());
    let opts = |k: &str| Options::from([(k.to_string(), "1".to_string())]);
    let now = Instant::now();
    assert!(matches!(
        RoomCore::<Probe>::create("r".into(), &spec, s.clone(), &opts("refuse"), now),
        Err(CreateError::Rejected(_))
    ));
    match RoomCore::<Probe>::create("r".into(), &spec, s, &opts("panic_create"), now) {
        Err(CreateError::Panicked(m)) => assert!(m.contains("boom in on_create")),
        _ => panic!("expected a caught panic"),
    }
}

fn events<R: Room>(core: &mut RoomCore<R>) -> Vec<RoomEvent> {
    std::iter::from_fn(|| core.poll_event()).collect()
}

#[test]
fn the_core_reports_each_seat_change_tick_crash_and_disposal_once() {
    let mut f = fixture(RoomType::new("probe", 10), &[("panic_on_tick", "2")]);
    assert_eq!(events(&mut f.core), vec![], "nothing happened yet");
    f.join(2, Codec::Proto, &[]);
    assert_eq!(events(&mut f.core), vec![RoomEvent::SeatsChanged { clients: 1, locked: false }]);
    assert_eq!(events(&mut f.core), vec![], "reported once");
    f.core.poll(f.at(0));
    // Tick 0 is a snapshot tick (every 30): reported before the tick.
    let evs = events(&mut f.core);
    assert!(matches!(evs.as_slice(), [RoomEvent::Snapshotted, RoomEvent::TickRan(r)] if r.tick == 0), "{evs:?}");
    let counts = f.core.take_counts();
    assert_eq!((counts.ticks, counts.encodes), (1, 1), "one tick, one encode since the start");
    assert_eq!(f.core.take_counts().ticks, 0, "counts are deltas");
    f.core.poll(f.at(100));
    f.core.poll(f.at(200)); // panics on tick 2
    let evs = events(&mut f.core);
    assert!(matches!(evs.first(), Some(RoomEvent::TickRan(r)) if r.tick == 1), "{evs:?}");
    assert!(matches!(evs.last(), Some(RoomEvent::Crashed(why)) if why.contains("boom on tick 2")), "{evs:?}");
    assert_eq!(events(&mut f.core), vec![], "a crash is reported once");
    f.core.leave_connection(SessionId(1), LeaveReason::Left, f.at(200));
    f.core.dispose(f.at(300));
    let evs = events(&mut f.core);
    assert!(evs.contains(&RoomEvent::Disposed), "{evs:?}");
}

#[test]
fn a_panic_in_on_tick_marks_the_room_crashed_and_clients_get_1011() {
    let mut f = fixture(RoomType::new("probe", 10), &[("panic_on_tick", "2")]);
    let (_, o) = f.join(2, Codec::Proto, &[]);
    f.core.poll(f.at(0));
    f.core.poll(f.at(100));
    assert!(f.core.crashed().is_none());
    assert!(f.core.poll(f.at(200)).is_none());
    assert!(f.core.crashed().unwrap().contains("boom on tick 2"));
    f.core.close_all(CloseCode::Internal, "room crashed", f.at(200));
    let last = o.drain().reliable.pop_back().unwrap();
    assert!(matches!(last, OutItem::Event(ConnEvent::Close { code: CloseCode::Internal, .. })));
    assert!(f.core.poll(f.at(300)).is_none(), "a crashed room never runs again");
}

#[test]
fn kick_closes_with_4005_and_calls_on_leave() {
    let mut f = fixture(RoomType::new("probe", 10), &[]);
    let (a, o) = f.join(2, Codec::Proto, &[("kick_on_tick", "1")]);
    f.core.poll(f.at(0));
    f.core.poll(f.at(100));
    assert_eq!(f.core.client_count(), 0);
    assert_eq!(f.core.room().unwrap().left, vec![(a.unwrap(), LeaveReason::Kicked)]);
    let items = o.drain().reliable;
    assert!(items
        .iter()
        .any(|i| matches!(i, OutItem::Event(ConnEvent::Close { code: CloseCode::Kicked, reason }) if reason == "bye")));
}

#[test]
fn a_stalled_reader_is_dropped_and_the_others_keep_receiving() {
    let mut f = fixture(RoomType::new("probe", 10), &[]);
    let limits = OutboxLimits { stall_timeout: Duration::from_millis(250), ..Default::default() };
    let slow = Arc::new(Outbox::new(SessionId(99), limits));
    let req = JoinRequest {
        request: 1,
        session: "slow".into(),
        user: None,
        version: 2,
        codec: Codec::Proto,
        outbox: slow.clone(),
        options: Options::new(),
    };
    let slow_id = f.core.join(req, f.t0).unwrap();
    let (_, good) = f.join(2, Codec::Proto, &[]);
    let mut received = 0;
    for k in 0..6u64 {
        f.core.poll(f.at(k * 100));
        received += good.drain().states.len(); // the good client reads every tick; the slow one never
    }
    assert_eq!(received, 6);
    assert!(f.core.room().unwrap().left.contains(&(slow_id, LeaveReason::TooSlow)));
    assert_eq!(f.core.stats().slow_clients, 1);
    assert!(slow.is_closed());
}

#[test]
fn the_room_expires_after_its_empty_timeout_and_dispose_tells_clients() {
    let mut f = fixture(RoomType::new("probe", 10).empty_timeout(Duration::from_secs(1)), &[]);
    assert!(!f.core.idle_expired(f.at(500)));
    assert!(f.core.idle_expired(f.at(1000)));
    let (_, o) = f.join(2, Codec::Proto, &[]);
    assert!(!f.core.idle_expired(f.at(5000)));
    f.core.dispose(f.at(5000));
    assert!(o.drain().reliable.iter().any(|i| matches!(i, OutItem::Event(ConnEvent::Left { .. }))));
    f.core.leave_connection(o.id(), LeaveReason::Disconnected, f.at(5000));
}

#[test]
fn leaving_removes_the_client_and_starts_the_empty_clock() {
    let mut f = fixture(RoomType::new("probe", 10).empty_timeout(Duration::from_secs(1)), &[]);
    let (a, o) = f.join(2, Codec::Proto, &[]);
    f.core.leave_connection(o.id(), LeaveReason::Left, f.at(2000));
    assert_eq!(f.core.room().unwrap().left, vec![(a.unwrap(), LeaveReason::Left)]);
    assert!(!f.core.idle_expired(f.at(2500)));
    assert!(f.core.idle_expired(f.at(3000)));
    assert!(!f.core.input(a.unwrap(), 1, v2::Input::default()), "inputs of non-members are refused");
}

#[test]
fn an_empty_room_sleeps_it_runs_no_tick_and_encodes_nothing() {
    let mut f = fixture(RoomType::new("probe", 10), &[]);
    assert!(f.core.is_sleeping(), "a new room sleeps until its first client joins");
    for k in 0..50u64 {
        assert!(f.core.poll(f.at(k * 100)).is_none());
    }
    assert!(f.core.room().unwrap().ticks.is_empty(), "no on_tick");
    assert_eq!((f.core.stats().ticks, f.core.stats().ticks_skipped), (0, 0), "asleep is not late");
    assert_eq!((f.core.stats().encodes, f.encodes.load(Ordering::SeqCst)), (0, 0));
}

#[test]
fn a_join_wakes_the_room_its_tick_numbers_go_on_from_the_join_without_catching_up() {
    let mut f = fixture(RoomType::new("probe", 10), &[]);
    let (_, o) = f.join(2, Codec::Proto, &[]);
    for k in 0..3u64 {
        f.core.poll(f.at(k * 100)); // ticks 0, 1, 2
    }
    f.core.leave_connection(o.id(), LeaveReason::Left, f.at(250));
    assert!(f.core.is_sleeping());
    for k in 3..50u64 {
        assert!(f.core.poll(f.at(k * 100)).is_none(), "asleep at {} ms", k * 100);
    }
    // A client joins 5.05 s in: the next tick (3) is due at once, then one a period.
    let (joined, outbox) = f.join_at(f.at(5_050), 2, Codec::Proto, &[]);
    joined.expect("joins");
    assert!(!f.core.is_sleeping());
    assert_eq!(f.core.next_due(), f.at(5_050));
    let r = f.core.poll(f.at(5_051)).expect("the first tick after waking");
    assert_eq!((r.tick, r.lateness, r.skipped), (3, Duration::from_millis(1), 0));
    assert_eq!(states(&outbox, Codec::Proto)[0].tick, 3, "the joiner's first state");
    assert!(f.core.poll(f.at(5_100)).is_none(), "no burst of catch-up ticks");
    assert_eq!(f.core.poll(f.at(5_150)).map(|r| r.tick), Some(4));
    assert_eq!(f.core.room().unwrap().ticks, vec![0, 1, 2, 3, 4]);
    assert_eq!(f.core.stats().ticks_skipped, 0, "the time asleep counts as no skipped tick");
}

#[test]
fn a_sleeping_room_wakes_its_actor_only_for_its_empty_timeout() {
    let mut f = fixture(RoomType::new("probe", 10).empty_timeout(Duration::from_secs(30)), &[]);
    assert_eq!(f.core.next_wake(f.at(0)), f.at(30_000), "asleep: only the empty timeout");
    assert_eq!(f.core.next_wake(f.at(40_000)), f.at(40_100), "past it (a join on its way): a period later, no spin");
    let (_, o) = f.join(2, Codec::Proto, &[]);
    f.core.poll(f.at(0));
    assert_eq!(f.core.next_wake(f.at(0)), f.at(100), "awake: the next tick");
    f.core.leave_connection(o.id(), LeaveReason::Left, f.at(1_000));
    assert_eq!(f.core.next_wake(f.at(1_000)), f.at(31_000));
}

#[test]
fn a_room_type_that_ticks_when_empty_keeps_ticking() {
    let mut f = fixture(RoomType::new("probe", 10).tick_when_empty(true), &[]);
    assert!(!f.core.is_sleeping());
    for k in 0..5u64 {
        assert_eq!(f.core.poll(f.at(k * 100)).map(|r| r.tick), Some(k));
    }
    assert_eq!(f.core.room().unwrap().ticks, vec![0, 1, 2, 3, 4]);
}

#[test]
fn rooms_with_aligned_ticks_tick_together_however_apart_they_were_created_and_joined() {
    let spec = RoomType::new("c", 60).aligned_ticks(true);
    let (mut a, t0) = counter(spec.clone(), u64::MAX);
    let (mut b, _) = counter(spec, u64::MAX);
    // Joined 3.7 ms apart: a sleeping room's clock restarts at its first
    // join, and on the grid it waits for the next grid instant.
    let joined_b = t0 + Duration::from_micros(3_700);
    join_counter(&mut a, 1, t0);
    join_counter(&mut b, 2, joined_b);
    assert!(b.next_due() >= joined_b && b.next_due() - joined_b < Duration::from_nanos(16_666_666));
    // `a` may have a tick due before `b`'s first (a grid instant between
    // the two joins); from `b`'s first on, they tick at the same instants.
    while a.next_due() < b.next_due() {
        let due = a.next_due();
        assert!(a.poll(due).is_some());
    }
    for _ in 0..3 {
        let due = b.next_due();
        assert_eq!(a.next_due(), due);
        assert!(a.poll(due).is_some() && b.poll(due).is_some(), "both tick at the shared instant");
    }
    // Without the grid, each room's schedule starts at its join.
    let (mut c, t0) = counter(RoomType::new("c", 60), u64::MAX);
    join_counter(&mut c, 3, t0 + Duration::from_micros(3_700));
    assert_eq!(c.next_due(), t0 + Duration::from_micros(3_700));
}

/// A room writes its states straight to the sockets it can (see
/// `transport/direct.rs`), except on the shared tick grid, where a
/// player's states of one tick are to leave together.
#[test]
fn a_room_on_the_shared_grid_queues_its_states_where_another_writes_them_at_once() {
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    for aligned in [false, true] {
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let (writer, _registered) = crate::transport::open_for_test(server.as_raw_fd());
        let (mut core, t0) = counter(RoomType::new("c", 60).aligned_ticks(aligned), u64::MAX);
        let (_, outbox) = join_counter(&mut core, 1, t0);
        outbox.attach_with(Arc::new(|| true), None, None, Some(writer), t0);
        outbox.drain();
        let due = core.next_due();
        assert!(core.poll(due).is_some());
        let queued = outbox.drain().states.len();
        assert_eq!(queued, usize::from(aligned), "aligned: {aligned}");
    }
}
