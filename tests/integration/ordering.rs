//! Order on the wire within one tick: a room's reliable messages of a tick
//! reach the client before that tick's state, also when the state is
//! written to the socket directly from the room's tick (the room and the
//! connection on one thread: one worker).

use arena::proto::v2;
use playhouse_client::{Client, Event};
use playhouse_tests::{options, start, ws_url};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_ticks_messages_arrive_before_its_state_with_direct_writes() {
    let server = start(|c| c.workers = 1);
    let mut client = Client::connect(&ws_url(server.addr()), &["arena.v2.proto"]).await.unwrap();
    let room = client.create("probe", options(&[("tick_chatter", "1")])).await.expect("creates").room;
    let mut last_message: Option<u64> = None;
    let (mut states, mut checked) = (0, 0);
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        match client.next_event_timeout(Duration::from_secs(5)).await.expect("reads") {
            Event::Message(m) if m.room == room => {
                let out: v2::Output = client.decode(&m.payload).expect("decodes");
                if let Some(v2::output::Kind::Event(e)) = out.kind {
                    last_message = e.text.strip_prefix("tick ").and_then(|t| t.parse().ok()).or(last_message);
                }
            }
            Event::State(s) if s.room == room => {
                states += 1;
                // The first state may be of the tick the join landed in,
                // whose message went out before the client was seated.
                if let Some(t) = last_message {
                    assert_eq!(t, s.tick, "the state of tick {} came before its message", s.tick);
                    checked += 1;
                }
            }
            _ => {}
        }
    }
    assert!(checked >= 30 && checked + 1 >= states, "{checked} of {states} states checked in 1 s at 60 Hz");
}
