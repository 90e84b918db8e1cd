//! RoomCore's per-client views, by hand: a state of each client's own
//! (encoded once per distinct view), a broadcast that skips its sender,
//! and typed options that refuse what does not deserialize.

use super::tests::{schema, state, states};
use super::*;
use crate::protocol::envelope::{server_msg::Kind, JoinErrorCode, ServerMsg};
use crate::protocol::{Codec, SessionId};
use crate::session::{ConnEvent, JoinRequest, OutItem, Outbox, OutboxLimits};
use playhouse_testkit::probe::v2;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Fog of war: each client sees its team's view only. Typed options (a
/// team is required); an input is told to everyone but its sender.
#[derive(Default)]
pub(super) struct Fog {
    teams: std::collections::BTreeMap<ClientId, u8>,
}

#[derive(serde::Deserialize)]
pub(super) struct FogOptions {
    team: u8,
}

impl Room for Fog {
    type Wire = (v2::Input, v2::Output, v2::Output);
    type Options = FogOptions;

    fn on_create(_: &mut RoomContext<Self>, _: &FogOptions) -> Result<Self, Reject> {
        Ok(Fog::default())
    }
    fn on_join(&mut self, _: &mut RoomContext<Self>, client: &Client, o: &FogOptions) -> Result<(), Reject> {
        self.teams.insert(client.id, o.team);
        Ok(())
    }
    fn on_input(&mut self, ctx: &mut RoomContext<Self>, client: ClientId, _: u32, _: v2::Input) {
        ctx.broadcast_except(client, &state(-(client.0 as i32)));
    }
    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _: Duration) {
        for team in [1u8, 2] {
            let members: Vec<ClientId> = self.teams.iter().filter(|(_, t)| **t == team).map(|(c, _)| *c).collect();
            ctx.send_state_to(&members, &state(i32::from(team)));
        }
        // a lone scout sees its own view
        if let Some((c, _)) = self.teams.iter().find(|(_, t)| **t == 3) {
            ctx.send_state(*c, &state(3));
        }
    }
}

pub(super) fn fog() -> (RoomCore<Fog>, Arc<AtomicUsize>, Instant) {
    let encodes = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let options: Options = [("team".to_string(), "1".to_string())].into_iter().collect();
    let core =
        RoomCore::create("fog".into(), &RoomType::new("fog", 10), schema(encodes.clone()), &options, t0).unwrap();
    (core, encodes, t0)
}

pub(super) fn join_fog(
    core: &mut RoomCore<Fog>,
    conn: u64,
    options: &[(&str, &str)],
    t0: Instant,
) -> (Option<ClientId>, Arc<Outbox>) {
    let outbox = Arc::new(Outbox::new(SessionId(conn), OutboxLimits::default()));
    let req = JoinRequest {
        request: 7,
        session: "s".into(),
        user: None,
        version: 2,
        codec: Codec::Proto,
        outbox: outbox.clone(),
        options: options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    (core.join(req, t0), outbox)
}

fn score_of(s: &crate::protocol::envelope::State) -> i32 {
    let out: v2::Output = Codec::Proto.decode(&s.payload).unwrap();
    match out.kind {
        Some(v2::output::Kind::State(st)) => st.players[0].score,
        other => panic!("not a state: {other:?}"),
    }
}

#[test]
fn send_state_gives_each_client_its_own_view_and_a_shared_view_is_encoded_once() {
    let (mut core, encodes, t0) = fog();
    let (a, oa) = join_fog(&mut core, 1, &[("team", "1")], t0);
    let (b, ob) = join_fog(&mut core, 2, &[("team", "1")], t0);
    let (c, oc) = join_fog(&mut core, 3, &[("team", "2")], t0);
    let (_, os) = join_fog(&mut core, 4, &[("team", "3")], t0);
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    for o in [&oa, &ob, &oc, &os] {
        o.drain();
    }
    encodes.store(0, Ordering::SeqCst);
    core.poll(t0);
    assert_eq!(encodes.load(Ordering::SeqCst), 3, "one encode per distinct view");
    let (fa, fb) = (oa.drain().states, ob.drain().states);
    assert_eq!(fa[0].as_ptr(), fb[0].as_ptr(), "a team shares the very same frame");
    let decode = |f: &bytes::Bytes| match Codec::Proto.decode::<ServerMsg>(f).unwrap().kind {
        Some(Kind::State(s)) => s,
        other => panic!("not a state: {other:?}"),
    };
    let (sa, sc, ss) = (decode(&fa[0]), states(&oc, Codec::Proto), states(&os, Codec::Proto));
    assert_eq!((score_of(&sa), score_of(&sc[0]), score_of(&ss[0])), (1, 2, 3));
    let acks = |s: &crate::protocol::envelope::State| s.acks.iter().map(|a| ClientId(a.client)).collect::<Vec<_>>();
    assert_eq!(acks(&sa), vec![a, b], "a view's frame acks only its own clients");
    assert_eq!(acks(&sc[0]), vec![c]);
}

#[test]
fn broadcast_except_skips_the_sender() {
    let (mut core, _, t0) = fog();
    let (a, oa) = join_fog(&mut core, 1, &[("team", "1")], t0);
    let (_, ob) = join_fog(&mut core, 2, &[("team", "2")], t0);
    oa.drain();
    ob.drain();
    core.input(a.unwrap(), 1, v2::Input::default());
    core.poll(t0);
    let frames = |o: &Outbox| o.drain().reliable.iter().filter(|i| matches!(i, OutItem::Frame(_))).count();
    assert_eq!(frames(&oa), 0, "the sender is not told");
    assert_eq!(frames(&ob), 1);
}

#[test]
fn options_that_do_not_deserialize_refuse_the_join_and_the_create() {
    let (mut core, _, t0) = fog();
    let (id, o) = join_fog(&mut core, 1, &[("team", "red")], t0);
    assert!(id.is_none());
    let events = o.drain().reliable;
    assert!(
        matches!(&events[0], OutItem::Event(ConnEvent::JoinFailed { code: JoinErrorCode::Rejected, reason, .. })
            if reason.starts_with("bad options: team: \"red\": invalid digit")),
        "{events:?}"
    );
    let (id, o) = join_fog(&mut core, 2, &[], t0);
    assert!(id.is_none());
    let events = o.drain().reliable;
    assert!(
        matches!(&events[0], OutItem::Event(ConnEvent::JoinFailed { reason, .. }) if reason == "bad options: missing field `team`")
    );
    let err =
        RoomCore::<Fog>::create("f".into(), &RoomType::new("fog", 10), schema(Default::default()), &Options::new(), t0);
    assert!(matches!(err, Err(CreateError::Rejected(r)) if r.reason == "bad options: missing field `team`"));
}
