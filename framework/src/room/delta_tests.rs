//! Delta states through a room (`baselines`): one delta per (group,
//! baseline), whole states for clients without a usable baseline, and whole
//! states again once a new connection takes a session over.

use super::tests::states;
use super::views_tests::{fog, join_fog};
use crate::protocol::{delta, Codec, RoomId};
use crate::session::Outbox;
use std::time::Duration;

fn ack(o: &Outbox, tick: u64) {
    o.ack_state(&RoomId::from("fog"), tick, |_| true);
}

#[test]
fn clients_at_one_baseline_share_a_delta_and_the_others_get_the_whole_state() {
    let (mut core, _, t0) = fog();
    let period = Duration::from_millis(100);
    let team = [("team", "1")];
    let outboxes: Vec<_> = (1..=4).map(|conn| join_fog(&mut core, conn, &team, t0).1).collect();
    let [a, b, c, d] = &outboxes[..] else { unreachable!() };
    // The first tick is tick 0, which no ack can name (0 forgets).
    core.poll(t0);
    for o in &outboxes {
        o.drain();
    }
    let t0 = t0 + period;
    // Tick 1: nobody has acked, so nothing is kept and all get the whole state.
    core.poll(t0);
    let t1 = states(a, Codec::Proto)[0].tick;
    for o in [b, c, d] {
        assert_eq!(states(o, Codec::Proto)[0].baseline, 0);
    }
    // a, b and d ack tick 1 (c never acks): tick 1 was not kept for them,
    // so tick 2 is still whole, and kept from now on.
    for o in [a, b, d] {
        ack(o, t1);
    }
    core.poll(t0 + period);
    let s2 = states(a, Codec::Proto).remove(0);
    assert_eq!(s2.baseline, 0);
    for o in [b, c, d] {
        o.drain();
    }
    // a and b hold tick 2; d's ack stays at tick 1, which is not kept.
    ack(a, s2.tick);
    ack(b, s2.tick);
    core.poll(t0 + period * 2);
    let (fa, fb, fc, fd) = (a.drain().states, b.drain().states, c.drain().states, d.drain().states);
    assert_eq!(fa[0].as_ptr(), fb[0].as_ptr(), "clients at one baseline share the delta's frame");
    assert_eq!(fc[0].as_ptr(), fd[0].as_ptr(), "clients without a usable baseline share the whole frame");
    let decode = |f: &bytes::Bytes| match Codec::Proto.decode::<crate::protocol::envelope::ServerMsg>(f).unwrap().kind {
        Some(crate::protocol::envelope::server_msg::Kind::State(s)) => s,
        other => panic!("not a state: {other:?}"),
    };
    let (da, wc) = (decode(&fa[0]), decode(&fc[0]));
    assert_eq!((da.baseline, wc.baseline), (s2.tick, 0));
    let mut rebuilt = Vec::new();
    delta::apply(&s2.payload, &da.payload, 1 << 20, &mut rebuilt).unwrap();
    assert_eq!(rebuilt, wc.payload, "the delta rebuilds the whole state");
    assert_eq!((da.tick, &da.acks), (wc.tick, &wc.acks), "the envelope is the same but for the payload");

    // a's session moves to a new connection: its client holds nothing yet.
    ack(a, da.tick);
    a.attach(|| true, None, t0);
    core.poll(t0 + period * 3);
    assert_eq!(states(a, Codec::Proto)[0].baseline, 0, "a new connection starts from a whole state");
    assert!(core.stats().state_deltas >= 1);
}

/// The property of issue 15: whatever the states, the acks (late, repeated,
/// older than the last, lost), the states lost on the way (latest-wins, or
/// a frame never read) and the reconnects, every state a client receives
/// applies against what it holds and rebuilds exactly the state the room
/// sent, in its own codec, compressed or not.
mod pipeline {
    use super::super::tests::schema;
    use super::super::*;
    use crate::protocol::compress::{self, Compressing, Compression};
    use crate::protocol::envelope::{server_msg::Kind, ServerMsg};
    use crate::protocol::{delta, Codec, RoomId, SessionId};
    use crate::session::{JoinRequest, Outbox, OutboxLimits};
    use playhouse_testkit::probe::v2;
    use proptest::prelude::*;
    use std::cell::RefCell;
    use std::collections::{BTreeMap, VecDeque};
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    thread_local! {
        /// The state the room sends on its next tick.
        static NEXT: RefCell<v2::Output> = RefCell::new(v2::Output::default());
        /// What it sent, by tick: the truth the clients must rebuild.
        static SENT: RefCell<BTreeMap<u64, v2::Output>> = const { RefCell::new(BTreeMap::new()) };
    }

    /// Sends the scripted state every tick, to everyone.
    struct Scripted;

    impl Room for Scripted {
        type Wire = (v2::Input, v2::Output, v2::Output);
        type Options = Options;

        fn on_create(_: &mut RoomContext<Self>, _: &Options) -> Result<Self, Reject> {
            Ok(Scripted)
        }
        fn on_join(&mut self, _: &mut RoomContext<Self>, _: &Client, _: &Options) -> Result<(), Reject> {
            Ok(())
        }
        fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, _: v2::Input) {}
        fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _: Duration) {
            let state = NEXT.with_borrow(|s| s.clone());
            SENT.with_borrow_mut(|m| m.insert(ctx.tick(), state.clone()));
            ctx.broadcast_state(&state);
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// Edit the state: (player, field, value) — position, score, name
        /// (its length changes), a player more or less.
        Tick(Vec<(u8, u8, i32)>),
        /// Client `c` reads what waits for it, or loses it (`true`).
        Read(u8, bool),
        /// Client `c` acks one of the states it holds (any of them, so an
        /// older one than before too; 254: the newest), or 0 (255).
        Ack(u8, u8),
        /// Client `c` reconnects, asking for compression or not.
        Reconnect(u8, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => proptest::collection::vec((any::<u8>(), 0u8..6, any::<i32>()), 0..4).prop_map(Op::Tick),
            3 => (0u8..4, proptest::bool::weighted(0.15)).prop_map(|(c, lose)| Op::Read(c, lose)),
            3 => (0u8..4, any::<u8>()).prop_map(|(c, k)| Op::Ack(c, k)),
            1 => (0u8..4, any::<bool>()).prop_map(|(c, z)| Op::Reconnect(c, z)),
        ]
    }

    fn edit(state: &mut v2::Output, edits: &[(u8, u8, i32)]) {
        let Some(v2::output::Kind::State(s)) = &mut state.kind else { unreachable!() };
        for &(p, field, v) in edits {
            if field == 5 || s.players.is_empty() {
                s.players.push(v2::Player { id: s.players.len() as u32 + 1, name: "new".into(), ..Default::default() });
                continue;
            }
            let n = s.players.len();
            let pl = &mut s.players[usize::from(p) % n];
            match field {
                0 => pl.x = v as f32 / 16.0,
                1 => pl.y = v as f32 / 16.0,
                2 => pl.score = v,
                3 => pl.name = format!("player-{}", v.rem_euclid(100_000)),
                _ if n > 1 => {
                    s.players.remove(usize::from(p) % n);
                }
                _ => {}
            }
        }
    }

    /// A client as both SDKs are: the payloads it holds by tick.
    struct Player {
        codec: Codec,
        outbox: Arc<Outbox>,
        held: VecDeque<(u64, Vec<u8>)>,
    }

    fn attach(o: &Outbox, z: bool, now: Instant) {
        let c = z.then_some(Compressing { algorithm: Compression::Deflate, min_bytes: 32 });
        o.attach_with(std::sync::Arc::new(|| true), None, c, None, now);
    }

    impl Player {
        /// Applies every frame waiting for it; checks each against the truth.
        fn read(&mut self, lose: bool, counts: &mut [u64; 3]) -> Result<(), TestCaseError> {
            for frame in self.outbox.drain().states {
                if lose {
                    continue;
                }
                let Some(Kind::State(s)) = self.codec.decode::<ServerMsg>(&frame).expect("decodes").kind else {
                    return Err(TestCaseError::fail("not a state"));
                };
                let mut body = Vec::new();
                if !compress::inflate_state(s.compression, &s.payload, 1 << 20, &mut body).expect("inflates") {
                    body = s.payload.to_vec();
                } else {
                    counts[2] += 1;
                }
                let whole = if s.baseline == 0 {
                    counts[0] += 1;
                    body
                } else {
                    let Some(at) = self.held.iter().position(|(t, _)| *t == s.baseline) else {
                        return Err(TestCaseError::fail(format!("a delta against {} which is not held", s.baseline)));
                    };
                    let mut out = Vec::new();
                    delta::apply(&self.held[at].1, &body, 1 << 20, &mut out).expect("applies");
                    self.held.drain(..at);
                    counts[1] += 1;
                    out
                };
                let truth = SENT.with_borrow(|m| m.get(&s.tick).cloned()).expect("a tick the room ran");
                prop_assert_eq!(&whole, &self.codec.encode_to_vec(&truth).expect("encodes"), "tick {}", s.tick);
                self.held.retain(|(t, _)| *t != s.tick);
                self.held.push_back((s.tick, whole));
            }
            Ok(())
        }
    }

    /// Runs `ops` against a room with four clients (proto and msgpack,
    /// asking for compression as `compress` says); the counts of [whole,
    /// delta, compressed] states they received.
    fn run(compress: &[bool], ops: Vec<Op>) -> Result<[u64; 3], TestCaseError> {
        let period = Duration::from_millis(100);
        let mut now = Instant::now();
        let room = RoomId::from("script");
        let spec = RoomType::new("script", 10);
        let schema = schema(Arc::new(AtomicUsize::new(0)));
        let mut core = RoomCore::<Scripted>::create(room.clone(), &spec, schema, &Options::default(), now)
            .map_err(|e| TestCaseError::fail(format!("create: {e:?}")))?;
        let first = v2::State {
            players: (1..=6).map(|id| v2::Player { id, name: format!("p{id}"), ..Default::default() }).collect(),
        };
        NEXT.with_borrow_mut(|s| *s = v2::Output { kind: Some(v2::output::Kind::State(first)) });
        SENT.with_borrow_mut(BTreeMap::clear);
        let mut players: Vec<Player> = Vec::new();
        for (i, codec) in [Codec::Proto, Codec::MsgPack, Codec::Proto, Codec::MsgPack].into_iter().enumerate() {
            let outbox = Arc::new(Outbox::new(SessionId(i as u64 + 1), OutboxLimits::default()));
            attach(&outbox, compress[i], now);
            let req = JoinRequest {
                request: 1,
                session: format!("s{i}"),
                user: None,
                version: 2,
                codec,
                outbox: outbox.clone(),
                options: Options::default(),
            };
            prop_assert!(core.join(req, now).is_some());
            players.push(Player { codec, outbox, held: VecDeque::new() });
        }
        let mut counts = [0u64; 3];
        for op in ops {
            match op {
                Op::Tick(edits) => {
                    NEXT.with_borrow_mut(|s| edit(s, &edits));
                    now += period;
                    core.poll(now);
                }
                Op::Read(c, lose) => players[usize::from(c)].read(lose, &mut counts)?,
                Op::Ack(c, k) => {
                    let p = &players[usize::from(c)];
                    let tick = match (k, p.held.back()) {
                        (u8::MAX, _) | (_, None) => 0,
                        (254, Some((newest, _))) => *newest,
                        _ => p.held[usize::from(k) % p.held.len()].0,
                    };
                    p.outbox.ack_state(&room, tick, |_| true);
                }
                Op::Reconnect(c, z) => {
                    let p = &mut players[usize::from(c)];
                    p.held.clear();
                    attach(&p.outbox, z, now);
                }
            }
        }
        for p in &mut players {
            p.read(false, &mut counts)?;
        }
        prop_assert_eq!(core.client_count(), 4, "nobody dropped");
        Ok(counts)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_state_a_client_receives_rebuilds_exactly_what_the_room_sent(
            compress in proptest::collection::vec(any::<bool>(), 4),
            ops in proptest::collection::vec(op(), 1..150),
        ) {
            run(&compress, ops)?;
        }
    }

    /// A fixed run reaches every path the property checks (whole states,
    /// deltas, compressed payloads), so the property cannot pass by never
    /// getting there.
    #[test]
    fn a_steady_game_gets_deltas_and_compressed_states() {
        let mut ops = Vec::new();
        for i in 0..20u8 {
            ops.push(Op::Tick(vec![(i, 0, i32::from(i) * 7), (i + 1, 2, i32::from(i))]));
            for c in 0..4 {
                ops.push(Op::Read(c, false));
                ops.push(Op::Ack(c, u8::MAX - 1));
            }
        }
        let [whole, deltas, compressed] = run(&[true; 4], ops).expect("the property holds");
        assert!(
            whole >= 4 && deltas >= 40 && compressed >= 2,
            "whole {whole}, deltas {deltas}, compressed {compressed}"
        );
    }
}
