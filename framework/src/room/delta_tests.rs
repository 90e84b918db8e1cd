//! Delta states through a room (`baselines`): one delta per (group,
//! baseline), whole states for clients without a usable baseline, and whole
//! states again once a new connection takes a session over.

use super::tests::{fog, join_fog, states};
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
