//! RoomCore as the monitor sees it: clients with their RTT, states
//! captured only while watched, and a kick by an operator — by hand, no
//! sockets.

use super::*;
use crate::protocol::{CloseCode, Codec, Schema, SessionId};
use crate::session::{ConnEvent, JoinRequest, OutItem, Outbox, OutboxLimits};
use playhouse_testkit::probe::v2;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Broadcasts a state naming the tick; records leaves.
#[derive(Default)]
struct Ticker {
    left: Vec<(ClientId, LeaveReason)>,
}

impl Room for Ticker {
    type Wire = (v2::Input, v2::Output, v2::Output);
    type Options = Options;
    fn on_create(_: &mut RoomContext<Self>, _: &Options) -> Result<Self, Reject> {
        Ok(Ticker::default())
    }
    fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, _: v2::Input) {}
    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _: Duration) {
        let name = format!("tick {}", ctx.tick());
        let players = vec![v2::Player { id: 1, name, ..Default::default() }];
        ctx.broadcast_state(&v2::Output { kind: Some(v2::output::Kind::State(v2::State { players })) });
    }
    fn on_leave(&mut self, _: &mut RoomContext<Self>, client: ClientId, why: LeaveReason) {
        self.left.push((client, why));
    }
}

fn join<R: Room>(core: &mut RoomCore<R>, session: u64, now: Instant) -> (ClientId, Arc<Outbox>) {
    let outbox = Arc::new(Outbox::new(SessionId(session), OutboxLimits::default()));
    let req = JoinRequest {
        request: 1,
        session: format!("s{session}"),
        user: Some(format!("user{session}")),
        version: 2,
        codec: Codec::Proto,
        outbox: outbox.clone(),
        options: Options::new(),
    };
    (core.join(req, now).expect("joined"), outbox)
}

/// A room of `R` at 10 Hz made at `t0` with `options`, speaking arena v2.
fn room<R: Room<Wire = (v2::Input, v2::Output, v2::Output)>>(options: &Options, t0: Instant) -> RoomCore<R> {
    let schema = Arc::new(Schema::<(v2::Input, v2::Output, v2::Output)>::new().current(2));
    RoomCore::<R>::create("r".into(), &RoomType::new("t", 10), schema, options, t0).unwrap()
}

fn ms(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

#[test]
fn inspect_lists_clients_with_their_rtt_and_captures_states_only_while_watched() {
    let t0 = Instant::now();
    let mut core = room::<Ticker>(&Options::new(), t0);
    let (a, oa) = join(&mut core, 1, t0);
    let (b, _) = join(&mut core, 2, t0);
    oa.set_rtt(Some(Duration::from_millis(42)));
    core.poll(t0);
    let seen = core.inspect(false, t0);
    assert_eq!(
        seen.clients.iter().map(|c| (c.id, c.rtt)).collect::<Vec<_>>(),
        vec![(a, Some(Duration::from_millis(42))), (b, None)]
    );
    assert_eq!(seen.clients[0].user.as_deref(), Some("user1"));
    assert_eq!(seen.state, None, "nobody watched: nothing captured");
    core.poll(ms(t0, 100));
    assert_eq!(core.inspect(false, ms(t0, 100)).state, None, "an overview does not watch");

    core.inspect(true, ms(t0, 100));
    core.poll(ms(t0, 200));
    let state = core.inspect(true, ms(t0, 200)).state.expect("captured while watched");
    assert_eq!((state.tick, state.version), (2, 2));
    let back: v2::Output = Codec::MsgPack.decode(&state.msgpack).expect("MessagePack of the v2 state");
    let Some(v2::output::Kind::State(s)) = back.kind else { panic!("not a state: {back:?}") };
    assert_eq!(s.players[0].name, "tick 2");

    // Ten seconds after the last look, the room stops capturing.
    let late = ms(t0, 200) + WATCH_FOR + Duration::from_millis(100);
    core.poll(late);
    assert_eq!(core.inspect(false, late).state.map(|s| s.tick), Some(2), "the last capture, not a new one");
}

#[test]
fn an_operator_kick_closes_with_4005_and_tells_the_room() {
    let t0 = Instant::now();
    let mut core = room::<Ticker>(&Options::new(), t0);
    let (a, oa) = join(&mut core, 1, t0);
    let (b, _) = join(&mut core, 2, t0);
    assert!(core.kick_by_operator(a, "kicked by an operator".into(), t0));
    assert!(!core.kick_by_operator(a, "again".into(), t0), "no longer in the room");
    assert!(!core.kick_by_operator(ClientId(99), "who".into(), t0));
    assert_eq!(core.client_count(), 1);
    assert_eq!(core.room().unwrap().left, vec![(a, LeaveReason::Kicked)]);
    assert!(oa.drain().reliable.iter().any(|i| matches!(i,
        OutItem::Event(ConnEvent::Close { code: CloseCode::Kicked, reason }) if reason == "kicked by an operator")));
    assert_eq!(core.inspect(false, t0).clients.iter().map(|c| c.id).collect::<Vec<_>>(), vec![b]);
}

/// Sends private views each tick, in the order its `order` option says:
/// `private` (client views only), `team` (a team view first, then a
/// client's), `mixed` (a client's view, the room's broadcast, another view).
struct Views {
    order: String,
}

fn named(name: &str) -> v2::Output {
    let players = vec![v2::Player { id: 1, name: name.into(), ..Default::default() }];
    v2::Output { kind: Some(v2::output::Kind::State(v2::State { players })) }
}

impl Room for Views {
    type Wire = (v2::Input, v2::Output, v2::Output);
    type Options = Options;
    fn on_create(_: &mut RoomContext<Self>, o: &Options) -> Result<Self, Reject> {
        Ok(Views { order: o.get("order").cloned().unwrap_or_default() })
    }
    fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, _: v2::Input) {}
    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _: Duration) {
        let ids: Vec<ClientId> = ctx.clients().map(|c| c.id).collect();
        match self.order.as_str() {
            "team" => {
                // Listed out of order, twice, and with a client not in the room.
                ctx.send_state_to(&[ids[1], ids[0], ids[1], ClientId(99)], &named("team"));
                ctx.send_state(ids[0], &named("view of first"));
            }
            "mixed" => {
                ctx.send_state(ids[0], &named("view of first"));
                ctx.broadcast_state(&named("room"));
                ctx.send_state(ids[1], &named("view of second"));
            }
            _ => {
                ctx.send_state(ids[0], &named("view of first"));
                ctx.send_state(ids[1], &named("view of second"));
            }
        }
    }
}

/// The name the captured state carries, and whose view it is.
fn captured(core: &mut RoomCore<Views>, now: Instant) -> (String, Option<Vec<ClientId>>) {
    let state = core.inspect(true, now).state.expect("captured while watched");
    let back: v2::Output = Codec::MsgPack.decode(&state.msgpack).expect("MessagePack of the v2 state");
    let Some(v2::output::Kind::State(s)) = back.kind else { panic!("not a state: {back:?}") };
    (s.players[0].name.clone(), state.view_of)
}

fn watched_views(order: &str) -> (RoomCore<Views>, ClientId, ClientId, Instant) {
    let t0 = Instant::now();
    let options: Options = [("order".to_string(), order.to_string())].into_iter().collect();
    let mut core = room::<Views>(&options, t0);
    let (a, _) = join(&mut core, 1, t0);
    let (b, _) = join(&mut core, 2, t0);
    core.inspect(true, t0);
    core.poll(ms(t0, 100));
    (core, a, b, ms(t0, 100))
}

#[test]
fn the_rooms_broadcast_is_captured_over_private_views() {
    let (mut core, _, _, now) = watched_views("mixed");
    assert_eq!(captured(&mut core, now), ("room".to_string(), None), "the broadcast, not a client's view");
}

#[test]
fn a_private_view_is_captured_with_whose_it_is() {
    let (mut core, a, _, now) = watched_views("private");
    assert_eq!(captured(&mut core, now), ("view of first".to_string(), Some(vec![a])));
    let (mut core, a, b, now) = watched_views("team");
    assert_eq!(captured(&mut core, now), ("team".to_string(), Some(vec![a, b])), "members only, in order, once");
}
