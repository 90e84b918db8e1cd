//! RoomCore moving between nodes, by hand: its portable form, the rebuild
//! on the node that claims it (from the snapshot or `on_create`, seats
//! away, tick numbers going on) and the silent hand-over — no sockets.

use super::portable::unix_millis;
use super::*;
use crate::protocol::envelope::JoinErrorCode;
use crate::protocol::{Codec, Schema};
#[allow(unused_imports)]
use crate::protocol::{ConnId, SessionId};
use crate::session::{ConnEvent, JoinRequest, OutItem, Outbox, OutboxLimits};
use playhouse_testkit::probe::v2;
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

thread_local! {
    /// `on_dispose` calls on this test's thread.
    static DISPOSED: Cell<u32> = const { Cell::new(0) };
}

/// A room that sums inputs, snapshots the sum, and logs every callback
/// that moving it may call.
struct Traveller {
    total: i32,
    log: Vec<String>,
    ticks: Vec<u64>,
}

impl Room for Traveller {
    type Wire = (v2::Input, v2::Output, v2::Output);
    type Options = Options;
    fn on_create(_: &mut RoomContext<Self>, options: &Options) -> Result<Self, Reject> {
        let map = options.get("map").map_or("-", String::as_str);
        Ok(Traveller { total: 0, log: vec![format!("create {map}")], ticks: Vec::new() })
    }
    fn on_join(&mut self, _: &mut RoomContext<Self>, client: &Client, options: &Options) -> Result<(), Reject> {
        self.log.push(format!("join {} {}", client.id, options.get("team").map_or("-", String::as_str)));
        Ok(())
    }
    fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, input: v2::Input) {
        self.total += input.move_x;
    }
    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _: Duration) {
        self.ticks.push(ctx.tick());
    }
    fn on_leave(&mut self, _: &mut RoomContext<Self>, client: ClientId, why: LeaveReason) {
        self.log.push(format!("left {client} {why:?}"));
    }
    fn on_disconnect(&mut self, ctx: &mut RoomContext<Self>, client: ClientId) {
        assert!(!ctx.is_connected(client) && ctx.client(client).is_some(), "away but seated during on_disconnect");
        self.log.push(format!("away {client}"));
    }
    fn on_reconnect(&mut self, _: &mut RoomContext<Self>, client: ClientId) {
        self.log.push(format!("back {client}"));
    }
    fn on_dispose(&mut self, _: &mut RoomContext<Self>) {
        DISPOSED.with(|d| d.set(d.get() + 1));
    }
    fn snapshot(&self) -> Option<Vec<u8>> {
        Some(self.total.to_le_bytes().to_vec())
    }
    fn restore(_: &mut RoomContext<Self>, snapshot: &[u8]) -> Result<Self, Reject> {
        let bytes: [u8; 4] = snapshot.try_into().map_err(|_| Reject::new("bad snapshot"))?;
        Ok(Traveller { total: i32::from_le_bytes(bytes), log: vec!["restore".into()], ticks: Vec::new() })
    }
}

/// The node tag of the node the rooms of these tests leave.
const FROM: u64 = 0xa;

fn schema() -> Arc<Schema<(v2::Input, v2::Output, v2::Output)>> {
    Arc::new(Schema::<(v2::Input, v2::Output, v2::Output)>::new().current(2))
}

fn options(pairs: &[(&str, &str)]) -> Options {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn create(spec: &RoomType, with: &[(&str, &str)], now: Instant) -> RoomCore<Traveller> {
    RoomCore::create("r".into(), spec, schema(), &options(with), now).unwrap()
}

fn outbox(session: u64) -> Arc<Outbox> {
    Arc::new(Outbox::new(SessionId(session), OutboxLimits::default()))
}

fn request(session: u64, outbox: &Arc<Outbox>, team: &str) -> JoinRequest {
    JoinRequest {
        request: 1,
        session: format!("s-{session}"),
        user: None,
        version: 2,
        codec: Codec::Proto,
        outbox: outbox.clone(),
        options: options(&[("team", team)]),
    }
}

/// Session `session` joins on team `team`.
fn join(core: &mut RoomCore<Traveller>, session: u64, team: &str, now: Instant) -> (ClientId, Arc<Outbox>) {
    let o = outbox(session);
    (core.join(request(session, &o, team), now).expect("joins"), o)
}

/// The portable seats, each with a fresh outbox (its session as the
/// claiming node adopted it: numbered there, 100 + its old number).
fn adopted(seats: &[PortableSeat]) -> Vec<(PortableSeat, Arc<Outbox>)> {
    seats.iter().map(|s| (s.clone(), outbox(100 + s.session))).collect()
}

fn restore(
    spec: &RoomType,
    portable: &PortableRoom,
    seats: Vec<(PortableSeat, Arc<Outbox>)>,
    now: Instant,
) -> RoomCore<Traveller> {
    RoomCore::restore_portable("r".into(), spec, schema(), portable, seats, now).expect("restores")
}

fn log(core: &RoomCore<Traveller>) -> Vec<String> {
    core.room().expect("a room").log.clone()
}

#[test]
fn a_room_restored_from_its_snapshot_gets_its_seats_back_away() {
    let spec = RoomType::new("t", 10).snapshot_every(1);
    let t0 = Instant::now();
    let mut core = create(&spec, &[("map", "dust")], t0);
    let (a, _) = join(&mut core, 1, "red", t0);
    let (b, _) = join(&mut core, 2, "red", t0);
    let (c, _) = join(&mut core, 3, "blue", t0);
    core.input(a, 1, v2::Input { move_x: 7, ..Default::default() });
    core.poll(t0).expect("tick 0, snapshot of a, b, c");
    let (d, _) = join(&mut core, 4, "blue", t0);
    let portable = PortableRoom::decode(&core.portable(FROM).encode()).expect("decodes");
    assert_eq!(portable.known, vec![a.0, b.0, c.0]);

    // c's session was not in the store: its seat does not come along.
    let seats: Vec<PortableSeat> = portable.seats.iter().filter(|s| s.client != c.0).cloned().collect();
    let t1 = Instant::now();
    let mut there = restore(&spec, &portable, adopted(&seats), t1);
    assert_eq!(
        log(&there),
        vec![
            "restore".to_string(),
            format!("join {d} blue"),
            format!("left {c} Disconnected"),
            format!("away {a}"),
            format!("away {b}"),
            format!("away {d}"),
        ],
        "known seats come back away; the unknown one joins first; the lost one leaves"
    );
    assert_eq!(there.room().unwrap().total, 7, "the state is the snapshot's");
    assert_eq!(there.client_count(), 3);
    // Each seat is bound to its adopted session's outbox.
    there.reconnected(SessionId(101), t1);
    assert_eq!(log(&there).last(), Some(&format!("back {a}")));
    let (e, _) = join(&mut there, 5, "red", t1);
    assert_eq!(e, ClientId(d.0 + 1), "client ids go on; none is handed out twice");
}

#[test]
fn without_a_snapshot_the_room_is_created_again_with_its_options_and_every_seat_joins() {
    let spec = RoomType::new("t", 10).snapshot_every(0);
    let t0 = Instant::now();
    let mut core = create(&spec, &[("map", "dust")], t0);
    let (a, _) = join(&mut core, 1, "red", t0);
    let (b, _) = join(&mut core, 2, "blue", t0);
    core.input(a, 1, v2::Input { move_x: 7, ..Default::default() });
    core.poll(t0);
    core.poll(t0 + Duration::from_millis(100));
    let portable = core.portable(FROM);
    assert_eq!((portable.snapshot.as_ref(), portable.known.len(), portable.tick), (None, 0, 1));

    let there = restore(&spec, &portable, adopted(&portable.seats), Instant::now());
    assert_eq!(
        log(&there),
        vec![
            "create dust".to_string(),
            format!("join {a} red"),
            format!("join {b} blue"),
            format!("away {a}"),
            format!("away {b}"),
        ],
        "on_create with the original options, then on_join with each seat's options"
    );
    assert_eq!(there.room().unwrap().total, 0, "nothing to restore the sum from");
}

/// A room saved at tick 40 (at `saved_at_ms`) with one seat, restored at
/// `now`: the restored core, and the range the ticks it skipped must lie in
/// (what elapsed by the wall clock before and after the restore).
fn restored_at_tick_40(saved_at_ms: u64, now: Instant) -> (RoomCore<Traveller>, u64, u64) {
    let spec = RoomType::new("t", 10);
    let t0 = Instant::now();
    let mut core = create(&spec, &[], t0);
    join(&mut core, 1, "red", t0);
    let mut portable = core.portable(FROM);
    portable.tick = 40;
    portable.saved_at_ms = saved_at_ms;
    let before = unix_millis();
    let there = restore(&spec, &portable, adopted(&portable.seats), now);
    let after = unix_millis();
    let behind = |at: u64| at.saturating_sub(saved_at_ms) / 100;
    (there, behind(before), behind(after))
}

#[test]
fn tick_numbers_go_on_above_the_saved_tick() {
    let now = Instant::now();
    let (mut there, lo, hi) = restored_at_tick_40(unix_millis(), now);
    let last = there.tick();
    assert!((40 + lo..=40 + hi).contains(&last), "{last} not in 40 + {lo}..={hi}");
    let r = there.poll(now).expect("the next tick is due at once");
    assert_eq!((r.tick, r.skipped), (last + 1, 0));
    assert!(r.tick > 40, "a client never sees a tick number twice from two owners");
    assert!(there.poll(now + Duration::from_millis(50)).is_none(), "no catch-up burst");
    assert_eq!(there.poll(now + Duration::from_millis(100)).map(|r| r.tick), Some(last + 2));
    assert_eq!(there.room().unwrap().ticks, vec![last + 1, last + 2]);
}

#[test]
fn a_room_saved_a_while_ago_goes_on_with_the_ticks_it_would_have_run_since() {
    let now = Instant::now();
    let (mut there, lo, hi) = restored_at_tick_40(unix_millis() - 5_000, now);
    assert!(lo >= 50, "5 s at 10 Hz: {lo}");
    let first = there.poll(now).expect("due at once").tick;
    assert!((41 + lo..=41 + hi).contains(&first), "{first} not in 41 + {lo}..={hi}");

    // A saving node's clock ahead of this one's: never a tick number back.
    let (mut ahead, lo, _) = restored_at_tick_40(unix_millis() + 60_000, now);
    assert_eq!(lo, 0);
    assert_eq!(ahead.poll(now).map(|r| r.tick), Some(41));
}

#[test]
fn the_portable_form_holds_the_snapshot_and_every_seat_and_round_trips() {
    let spec = RoomType::new("t", 10).snapshot_every(2);
    let t0 = Instant::now();
    let mut core = create(&spec, &[("map", "dust")], t0);
    let o = outbox(1);
    let req = JoinRequest { user: Some("ann".into()), codec: Codec::MsgPack, ..request(1, &o, "red") };
    let a = core.join(req, t0).expect("joins");
    core.input(a, 5, v2::Input { move_x: 7, ..Default::default() });
    core.poll(t0).expect("tick 0, with a snapshot");
    let (b, _) = join(&mut core, 2, "blue", t0);
    core.poll(t0 + Duration::from_millis(100)).expect("tick 1, no snapshot");

    let p = core.portable(FROM);
    let want = PortableRoom {
        room_type: "t".into(),
        options: options(&[("map", "dust")]),
        node: FROM,
        tick: 0,
        saved_at_ms: p.saved_at_ms,
        snapshot: Some(bytes::Bytes::from(7i32.to_le_bytes().to_vec())),
        known: vec![a.0],
        seats: vec![
            PortableSeat {
                client: a.0,
                session: 1,
                name: "s-1".into(),
                user: Some("ann".into()),
                version: 2,
                codec: Codec::MsgPack.name().into(),
                options: options(&[("team", "red")]),
                last_input_seq: Some(5),
            },
            PortableSeat {
                client: b.0,
                session: 2,
                name: "s-2".into(),
                user: None,
                version: 2,
                codec: Codec::Proto.name().into(),
                options: options(&[("team", "blue")]),
                last_input_seq: None,
            },
        ],
        next_client: b.0 + 1,
        locked: false,
    };
    assert_eq!(p, want, "the tick is the snapshot's, not the last one run");
    assert!(p.saved_at_ms.abs_diff(unix_millis()) < 60_000, "saved now, by the wall clock");
    assert_eq!(PortableRoom::decode(&p.encode()), Some(p));
}

#[test]
fn a_room_handed_over_tells_its_clients_nothing() {
    let spec = RoomType::new("t", 10);
    let t0 = Instant::now();
    let mut core = create(&spec, &[], t0);
    let (a, oa) = join(&mut core, 1, "red", t0);
    let (_, ob) = join(&mut core, 2, "blue", t0);
    core.poll(t0);
    oa.drain();
    ob.drain();
    core.input(a, 1, v2::Input { move_x: 1, ..Default::default() });

    core.hand_over();
    for o in [&oa, &ob] {
        let d = o.drain();
        assert!(d.reliable.is_empty() && d.states.is_empty(), "{:?}", d.reliable);
        assert!(!o.is_closed(), "the session lives on at the next node");
    }
    assert_eq!(DISPOSED.with(Cell::get), 0, "no on_dispose: the room goes on elsewhere");
    assert_eq!((core.client_count(), core.room().is_none(), core.crashed()), (0, true, None));
    assert!(core.poll(t0 + Duration::from_millis(100)).is_none());
    // A join still on its way is refused as for a disposed room.
    let late = outbox(3);
    assert_eq!(core.join(request(3, &late, "red"), t0), None);
    let refused = late.drain().reliable.into_iter().find_map(|i| match i {
        OutItem::Event(ConnEvent::JoinFailed { code, .. }) => Some(code),
        _ => None,
    });
    assert_eq!(refused, Some(JoinErrorCode::RoomNotFound));

    // What a disposal says instead, for contrast.
    let mut other = create(&spec, &[], t0);
    let (_, oc) = join(&mut other, 4, "red", t0);
    oc.drain();
    other.dispose(t0);
    assert_eq!(DISPOSED.with(Cell::get), 1);
    assert!(matches!(oc.drain().reliable.front(), Some(OutItem::Event(ConnEvent::Left { .. }))));
}

#[test]
fn a_restored_seat_not_taken_back_within_the_window_leaves() {
    let spec = RoomType::new("t", 10).snapshot_every(1).reconnect_window(Duration::from_secs(2));
    let t0 = Instant::now();
    let mut core = create(&spec, &[], t0);
    let (a, _) = join(&mut core, 1, "red", t0);
    let (b, _) = join(&mut core, 2, "red", t0);
    core.poll(t0).expect("tick 0");
    let portable = core.portable(FROM);
    let t1 = t0 + Duration::from_millis(100);
    let mut there = restore(&spec, &portable, adopted(&portable.seats), t1);
    there.reconnected(SessionId(101), t1 + Duration::from_secs(1));
    there.poll(t1 + Duration::from_millis(1900));
    assert_eq!(there.client_count(), 2, "b's window runs from the restore");
    there.poll(t1 + Duration::from_millis(2100));
    assert_eq!(there.client_count(), 1);
    assert_eq!(log(&there).last(), Some(&format!("left {b} Disconnected")));
    assert!(!log(&there).contains(&format!("left {a} Disconnected")), "a came back");
}
