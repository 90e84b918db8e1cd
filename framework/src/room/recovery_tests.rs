//! RoomCore after a panic, by hand: restarted from its last snapshot (or
//! recreated without one) with its clients kept, and the restart budget.

use super::tests::{schema, state, states};
use super::*;
use crate::protocol::Codec;
use crate::protocol::SessionId;
use crate::session::{JoinRequest, Outbox, OutboxLimits};
use playhouse_testkit::probe::v2;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A room with snapshots: sums inputs; panics once on the tick named by its
/// create option `panic_on_tick` (a restored room has no such option).
pub(super) struct Counter {
    total: i32,
    joins: Vec<ClientId>,
    panic_on_tick: Option<u64>,
}

impl Room for Counter {
    type Wire = (v2::Input, v2::Output, v2::Output);
    type Options = Options;

    fn on_create(_: &mut RoomContext<Self>, options: &Options) -> Result<Self, Reject> {
        Ok(Counter {
            total: 0,
            joins: Vec::new(),
            panic_on_tick: options.get("panic_on_tick").and_then(|t| t.parse().ok()),
        })
    }
    fn on_join(&mut self, _: &mut RoomContext<Self>, client: &Client, _: &Options) -> Result<(), Reject> {
        self.joins.push(client.id);
        Ok(())
    }
    fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, input: v2::Input) {
        self.total += input.move_x;
    }
    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _: Duration) {
        if self.panic_on_tick.take_if(|t| *t == ctx.tick()).is_some() {
            panic!("counter panics on tick {}", ctx.tick());
        }
        ctx.broadcast_state(&state(self.total));
    }
    fn snapshot(&self) -> Option<Vec<u8>> {
        Some(self.total.to_le_bytes().to_vec())
    }
    fn restore(_: &mut RoomContext<Self>, snapshot: &[u8]) -> Result<Self, Reject> {
        let bytes: [u8; 4] = snapshot.try_into().map_err(|_| Reject::new("bad snapshot"))?;
        Ok(Counter { total: i32::from_le_bytes(bytes), joins: Vec::new(), panic_on_tick: None })
    }
}

pub(super) fn counter(spec: RoomType, panic_on_tick: u64) -> (RoomCore<Counter>, Instant) {
    let t0 = Instant::now();
    let options = Options::from([("panic_on_tick".to_string(), panic_on_tick.to_string())]);
    (RoomCore::create("c".into(), &spec, schema(Arc::default()), &options, t0).unwrap(), t0)
}

pub(super) fn join_counter(core: &mut RoomCore<Counter>, conn: u64, t0: Instant) -> (ClientId, Arc<Outbox>) {
    let outbox = Arc::new(Outbox::new(SessionId(conn), OutboxLimits::default()));
    let req = JoinRequest {
        request: 1,
        session: "s".into(),
        user: None,
        version: 2,
        codec: Codec::Proto,
        outbox: outbox.clone(),
        options: Options::new(),
    };
    (core.join(req, t0).unwrap(), outbox)
}

fn last_score(o: &Outbox) -> i32 {
    let s = states(o, Codec::Proto).pop().expect("a state");
    let out: v2::Output = Codec::Proto.decode(&s.payload).unwrap();
    match out.kind {
        Some(v2::output::Kind::State(st)) => st.players[0].score,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_crashed_room_restarts_from_its_last_snapshot_and_keeps_its_clients() {
    let (mut core, t0) = counter(RoomType::new("c", 10).snapshot_every(2), 5);
    let (a, o) = join_counter(&mut core, 1, t0);
    for k in 0..5u64 {
        core.input(a, k as u32 + 1, v2::Input { move_x: 1, ..Default::default() });
        core.poll(t0 + Duration::from_millis(k * 100));
    }
    assert_eq!(last_score(&o), 5);
    // tick 5 panics; the last snapshot was taken at tick 4 (total 5)
    core.input(a, 6, v2::Input { move_x: 1, ..Default::default() });
    assert!(core.poll(t0 + Duration::from_millis(500)).is_none());
    assert!(core.crashed().is_some());
    assert!(core.may_restart(t0 + Duration::from_millis(500)));
    core.restart(t0 + Duration::from_millis(500)).unwrap();
    assert!(core.crashed().is_none());
    assert_eq!(core.client_count(), 1, "clients stay through a restart");
    assert!(core.room().unwrap().joins.is_empty(), "the snapshot already knew this client");
    core.poll(t0 + Duration::from_millis(600)).expect("ticks again");
    // Restored from the tick-4 snapshot: the input handled in the crashed
    // tick 5 is lost with that tick.
    assert_eq!(last_score(&o), 5);
    assert_eq!(core.stats().restarts, 1);
}

#[test]
fn without_a_snapshot_a_restart_recreates_the_room_and_rejoins_every_client() {
    let (mut core, t0) = counter(RoomType::new("c", 10).snapshot_every(0), 1);
    let (a, _) = join_counter(&mut core, 1, t0);
    let (b, _) = join_counter(&mut core, 2, t0);
    core.poll(t0);
    core.poll(t0 + Duration::from_millis(100));
    assert!(core.crashed().is_some());
    core.restart(t0 + Duration::from_millis(100)).unwrap();
    assert_eq!(core.room().unwrap().joins, vec![a, b], "on_join replayed for every client");
}

#[test]
fn a_client_that_left_after_the_snapshot_is_told_to_the_restored_room() {
    let (mut core, t0) = counter(RoomType::new("c", 10).snapshot_every(1), 2);
    let (_, oa) = join_counter(&mut core, 1, t0);
    core.poll(t0); // snapshot at tick 0 knows client a
    core.leave_connection(oa.id(), LeaveReason::Left, t0);
    let (b, _) = join_counter(&mut core, 2, t0);
    core.poll(t0 + Duration::from_millis(100)); // snapshot at tick 1 knows b only
    core.poll(t0 + Duration::from_millis(200)); // panics
    core.restart(t0 + Duration::from_millis(200)).unwrap();
    assert!(core.room().unwrap().joins.is_empty(), "b was in the snapshot");
    assert_eq!(core.client_count(), 1);
    let _ = b;
}

#[test]
fn the_restart_budget_runs_out_within_its_window_and_refills_after_it() {
    let (mut core, t0) = counter(RoomType::new("c", 10).restarts(2, Duration::from_secs(10)), 0);
    core.poll(t0);
    assert!(core.may_restart(t0));
    core.restart(t0).unwrap();
    assert!(core.may_restart(t0 + Duration::from_secs(1)));
    core.restart(t0 + Duration::from_secs(1)).unwrap();
    assert!(!core.may_restart(t0 + Duration::from_secs(2)), "two restarts in 10 s: budget spent");
    assert!(core.may_restart(t0 + Duration::from_secs(11)), "the first restart left the window");
}
