//! RoomCore and lost connections: seats kept for the reconnect window,
//! `on_disconnect` / `on_reconnect`, and the expiry — by hand, no sockets.

use super::*;
use crate::protocol::envelope::LeaveReason as WireLeave;
use crate::protocol::{Codec, Schema};
#[allow(unused_imports)]
use crate::protocol::{ConnId, SessionId};
use crate::session::{ConnEvent, JoinRequest, OutItem, Outbox, OutboxLimits};
use playhouse_testkit::probe::v2;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Watcher {
    log: Vec<String>,
}

impl Room for Watcher {
    type Wire = (v2::Input, v2::Output, v2::Output);
    type Options = Options;
    fn on_create(_: &mut RoomContext<Self>, _: &Options) -> Result<Self, Reject> {
        Ok(Watcher::default())
    }
    fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, _: v2::Input) {}
    fn on_tick(&mut self, _: &mut RoomContext<Self>, _: Duration) {}
    fn on_disconnect(&mut self, ctx: &mut RoomContext<Self>, client: ClientId) {
        assert!(!ctx.is_connected(client) && ctx.client(client).is_some(), "away but seated during on_disconnect");
        self.log.push(format!("away {client}"));
    }
    fn on_reconnect(&mut self, ctx: &mut RoomContext<Self>, client: ClientId) {
        assert!(ctx.is_connected(client));
        self.log.push(format!("back {client}"));
    }
    fn on_leave(&mut self, _: &mut RoomContext<Self>, client: ClientId, why: LeaveReason) {
        self.log.push(format!("left {client} {why:?}"));
    }
}

fn room(window: Duration, t0: Instant) -> RoomCore<Watcher> {
    let spec = RoomType::new("w", 10).reconnect_window(window);
    let schema = Arc::new(Schema::<(v2::Input, v2::Output, v2::Output)>::new().current(2));
    RoomCore::create("r".into(), &spec, schema, &Options::new(), t0).unwrap()
}

fn join(core: &mut RoomCore<Watcher>, session: u64, t0: Instant) -> (ClientId, Arc<Outbox>) {
    let outbox = Arc::new(Outbox::new(SessionId(session), OutboxLimits::default()));
    let req = JoinRequest {
        request: 1,
        session: session.to_string(),
        user: None,
        version: 2,
        codec: Codec::Proto,
        outbox: outbox.clone(),
        options: Options::new(),
    };
    (core.join(req, t0).expect("joins"), outbox)
}

fn log(core: &RoomCore<Watcher>) -> Vec<String> {
    core.room().unwrap().log.clone()
}

#[test]
fn a_lost_client_keeps_its_seat_until_it_comes_back() {
    let t0 = Instant::now();
    let mut core = room(Duration::from_secs(20), t0);
    let (a, _) = join(&mut core, 1, t0);
    core.disconnected(SessionId(1), t0);
    core.disconnected(SessionId(1), t0); // a second report changes nothing
    assert_eq!(core.client_count(), 1);
    core.poll(t0 + Duration::from_secs(19));
    core.reconnected(SessionId(1), t0 + Duration::from_secs(19));
    core.poll(t0 + Duration::from_secs(40));
    assert_eq!(core.client_count(), 1, "back in time: the window no longer runs");
    assert_eq!(log(&core), vec![format!("away {a}"), format!("back {a}")]);
}

#[test]
fn past_the_window_the_client_leaves_and_its_session_is_told() {
    let t0 = Instant::now();
    let mut core = room(Duration::from_secs(2), t0);
    let (a, outbox) = join(&mut core, 1, t0);
    let (b, _) = join(&mut core, 2, t0);
    outbox.drain();
    core.disconnected(SessionId(1), t0);
    core.poll(t0 + Duration::from_millis(1900));
    assert_eq!(core.client_count(), 2);
    core.poll(t0 + Duration::from_millis(2100));
    assert_eq!(core.client_count(), 1);
    assert!(core.room().unwrap().log.contains(&format!("left {a} Disconnected")));
    assert!(!log(&core).iter().any(|l| l.contains(&format!(" {b}"))), "b is untouched");
    let left = outbox.drain().reliable.into_iter().find_map(|i| match i {
        OutItem::Event(ConnEvent::Left { reason, .. }) => Some(reason),
        _ => None,
    });
    assert_eq!(left, Some(WireLeave::Disconnected), "read by the session if it resumes for another room");
}

#[test]
fn a_room_type_without_a_window_lets_a_lost_client_go_at_once() {
    let t0 = Instant::now();
    let mut core = room(Duration::ZERO, t0);
    let (a, _) = join(&mut core, 1, t0);
    core.disconnected(SessionId(1), t0);
    assert_eq!(core.client_count(), 0);
    assert_eq!(log(&core), vec![format!("left {a} Disconnected")]);
}

#[test]
fn a_room_whose_only_client_is_away_keeps_ticking_until_the_seat_expires() {
    let t0 = Instant::now();
    let mut core = room(Duration::from_secs(2), t0);
    join(&mut core, 1, t0);
    core.poll(t0);
    core.disconnected(SessionId(1), t0);
    assert!(!core.is_sleeping(), "a kept seat is a client: the room must tick to expire it");
    assert!(core.poll(t0 + Duration::from_millis(1000)).is_some());
    core.poll(t0 + Duration::from_millis(2100));
    assert_eq!(core.client_count(), 0);
    assert!(core.is_sleeping());
    assert!(core.poll(t0 + Duration::from_millis(2200)).is_none());
}

#[test]
fn clients_away_at_different_times_each_leave_when_their_own_window_ends() {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut core = room(Duration::from_secs(2), t0);
    let (a, _) = join(&mut core, 1, t0);
    let (b, _) = join(&mut core, 2, t0);
    let (c, _) = join(&mut core, 3, t0);
    core.disconnected(SessionId(1), t0);
    core.disconnected(SessionId(2), t0 + ms(1000));
    // c is away at 500 ms, back at 700 and away again at 1500: its window
    // runs from 1500, not from the first time.
    core.disconnected(SessionId(3), t0 + ms(500));
    core.reconnected(SessionId(3), t0 + ms(700));
    core.disconnected(SessionId(3), t0 + ms(1500));
    let gone = |core: &RoomCore<Watcher>| {
        let ids = [a, b, c];
        ids.into_iter().filter(|id| log(core).contains(&format!("left {id} Disconnected"))).collect::<Vec<_>>()
    };
    core.poll(t0 + ms(2100));
    assert_eq!(gone(&core), vec![a], "a's window ended");
    core.poll(t0 + ms(2900));
    assert_eq!(gone(&core), vec![a]);
    core.poll(t0 + ms(3100));
    assert_eq!(gone(&core), vec![a, b], "b's window ended a second after a's");
    core.poll(t0 + ms(3400));
    assert_eq!(gone(&core), vec![a, b]);
    core.poll(t0 + ms(3600));
    assert_eq!(gone(&core), vec![a, b, c], "c's window ran from its second loss");
    assert_eq!(core.client_count(), 0);
}
