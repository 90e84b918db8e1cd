//! Smaller misuses that used to hurt (hardening issue, item 5): a resume of
//! the session the connection already holds, a message sent as a flood of
//! empty fragments, input seqs that wrap or stray, and inputs dropped by a
//! busy room that a later ack passed off as processed.

use arena::proto::v2;
use playhouse::protocol::envelope::client_msg::Kind as ClientKind;
use playhouse::protocol::envelope::server_msg::Kind as ServerKind;
use playhouse::protocol::envelope::{ClientMsg, Ping};
use playhouse::protocol::Codec;
use playhouse_client::envelope::client_msg::Kind as C;
use playhouse_client::envelope::Resume;
use playhouse_client::{Client, ClientError, ClientId, Event};
use playhouse_tests::raw;
use playhouse_tests::{metric, metrics_text, start, ws_url};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};

const TOKENS: [&str; 1] = ["arena.v2.proto"];

async fn resumed(c: &mut Client) -> playhouse_client::envelope::Resumed {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < deadline, "no Resumed");
        match c.next_event_timeout(Duration::from_secs(5)).await {
            Ok(Event::Resumed(r)) => return r,
            Ok(Event::Error(e)) => panic!("resume refused: {} {}", e.code, e.reason),
            Ok(_) => {}
            Err(e) => panic!("the connection failed instead of answering Resumed: {e}"),
        }
    }
}

#[tokio::test]
async fn resuming_the_session_a_connection_already_holds_is_answered_with_resumed_and_closes_nothing() {
    let server = start(|_| {});
    let url = ws_url(server.addr());
    // Before any join: it used to "take over" its own session and close
    // itself with 4009.
    let mut c = Client::connect(&url, &TOKENS).await.expect("connect");
    let own = c.resume_token().to_string();
    c.send(C::Resume(Resume { token: own, last_seq: c.last_seq() })).await.expect("send");
    let r = resumed(&mut c).await;
    assert_eq!(r.session, c.welcome().session);
    assert_eq!((r.replayed, r.resync, r.rooms.len()), (0, false, 0));
    c.ping().await.expect("still connected");
    // After a join: it used to be refused ("resume must come before any join").
    let joined = c.create("probe30", HashMap::new()).await.expect("create");
    c.send(C::Resume(Resume { token: r.resume_token, last_seq: c.last_seq() })).await.expect("send");
    let again = resumed(&mut c).await;
    assert_eq!(again.rooms.len(), 1);
    assert_eq!((again.rooms[0].room.as_str(), again.rooms[0].client), (joined.room.as_str(), joined.client));
    c.ping().await.expect("still connected");
    assert_eq!(c.client_id(&joined.room), Some(ClientId(joined.client)), "still in the room");
}

#[test]
fn a_message_sent_as_a_hundred_thousand_empty_fragments_is_rate_limited_frame_by_frame() {
    const FRAGMENTS: usize = 100_000;
    let server = start(|_| {});
    let addr = server.addr();
    let (mut s, mut buf) = raw::connect(addr, TOKENS[0]);
    let ping = |client_time| {
        let msg = ClientMsg { kind: Some(ClientKind::Ping(Ping { client_time })) };
        Codec::Proto.encode_to_vec(&msg).expect("encodes")
    };
    // First fragment, 100,000 empty continuations, last fragment: one Ping
    // (client_time 7) costing 100,002 frames, written in one go.
    let mut wire = Vec::new();
    let flooded = ping(7);
    let (head, tail) = flooded.split_at(flooded.len() / 2);
    raw::write_frame(&mut wire, false, 2, head).expect("frame");
    for _ in 0..FRAGMENTS {
        raw::write_frame(&mut wire, false, 0, &[]).expect("frame");
    }
    raw::write_frame(&mut wire, true, 0, tail).expect("frame");
    s.write_all(&wire).expect("write the flood");
    // Every frame is counted as it arrives (the bucket lets a burst through).
    let deadline = Instant::now() + Duration::from_secs(30);
    let limited = loop {
        let n = metric(&metrics_text(addr), "playhouse_rate_limited_total");
        if n >= (FRAGMENTS - 1000) as f64 {
            break n;
        }
        assert!(Instant::now() < deadline, "only {n} frames counted over the limit");
        std::thread::sleep(Duration::from_millis(50));
    };
    // The connection stays (the default policy drops and tells once a
    // second); a plain Ping (client_time 8) is answered once the bucket has
    // refilled, and the flooded one (7) never is.
    let (mut errors, mut pongs) = (Vec::new(), Vec::new());
    let mut next_ping = Instant::now();
    while !pongs.contains(&8) {
        assert!(Instant::now() < deadline, "no answer to a ping after the flood: errors {errors:?}, pongs {pongs:?}");
        if Instant::now() >= next_ping {
            raw::write_frame(&mut s, true, 2, &ping(8)).expect("ping");
            next_ping = Instant::now() + Duration::from_millis(200);
        }
        s.set_read_timeout(Some(Duration::from_millis(100))).expect("timeout");
        match raw::next_frame(&mut s, &mut buf) {
            Some((_, 2, payload)) => match raw::decode_server(Codec::Proto, &payload) {
                Some(ServerKind::Error(e)) => errors.push(e.code),
                Some(ServerKind::Pong(p)) => pongs.push(p.client_time),
                _ => {}
            },
            Some((_, 8, payload)) => panic!("closed: {:?}", raw::close_payload(&payload)),
            _ => {}
        }
    }
    eprintln!("fragment flood: {limited} frames over the limit; errors {errors:?}; pongs {pongs:?}");
    // Before the fix the 100,002 frames counted as one message: nothing was
    // limited, no error came, and the flooded Ping was answered.
    assert!(errors.contains(&1008), "the flood is reported as rate limited: {errors:?}");
    assert!(!pongs.contains(&7), "the message the flood was part of is dropped whole");
}

/// Reads events until `done` holds for what was gathered: the acks of
/// client `me`, the seqs the probe room echoed as processed, and the seqs
/// named by `Error`s (with their codes).
async fn gather(
    c: &mut Client,
    me: u32,
    done: impl Fn(&[u32], &BTreeSet<u32>, &BTreeMap<u32, u32>) -> bool,
) -> (Vec<u32>, BTreeSet<u32>, BTreeMap<u32, u32>) {
    let (mut acks, mut processed, mut dropped) = (Vec::new(), BTreeSet::new(), BTreeMap::new());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(&acks, &processed, &dropped) {
        assert!(Instant::now() < deadline, "acks {acks:?}, processed {processed:?}, dropped {dropped:?}");
        match c.next_event_timeout(Duration::from_secs(2)).await {
            Ok(Event::State(s)) => {
                if let Some(a) = s.acks.iter().find(|a| a.client == me) {
                    if acks.last() != Some(&a.seq) {
                        acks.push(a.seq);
                    }
                }
            }
            Ok(Event::Message(m)) => {
                if let Ok(v2::Output { kind: Some(v2::output::Kind::Event(e)) }) = c.decode::<v2::Output>(&m.payload) {
                    let words: Vec<&str> = e.text.split(' ').collect();
                    if let ["input", client, seq, _] = words[..] {
                        if client.parse() == Ok(me) {
                            processed.insert(seq.parse().expect("a seq"));
                        }
                    }
                }
            }
            Ok(Event::Error(e)) if !e.room.is_empty() => {
                dropped.insert(e.input_seq, e.code);
            }
            Ok(_) | Err(ClientError::Timeout) => {}
            Err(e) => panic!("connection failed: {e}"),
        }
    }
    (acks, processed, dropped)
}

#[tokio::test]
async fn acks_follow_input_seqs_that_wrap_or_stray() {
    let server = start(|_| {});
    let mut c = Client::connect(&ws_url(server.addr()), &TOKENS).await.expect("connect");
    let joined = c.create("probe30", HashMap::new()).await.expect("create");
    let (room, me) = (joined.room, joined.client);
    // A stream that wraps: MAX-1, MAX, 0, 1.
    for seq in [u32::MAX - 1, u32::MAX, 0, 1] {
        c.send_input(&room, seq, &v2::Input::default()).await.expect("input");
    }
    let (acks, ..) = gather(&mut c, me, |acks, _, _| acks.last() == Some(&1)).await;
    assert!(!acks.contains(&2), "{acks:?}");
    // One stray seq ahead of the stream; the stream goes on from 2. With the
    // largest seq as the ack, the ack stayed at the stray one for good.
    c.send_input(&room, 1 << 30, &v2::Input::default()).await.expect("stray input");
    for seq in 2..=5 {
        c.send_input(&room, seq, &v2::Input::default()).await.expect("input");
    }
    let (acks, ..) = gather(&mut c, me, |acks, _, _| acks.last() == Some(&5)).await;
    eprintln!("acks after the stray input: {acks:?}");
}

#[tokio::test]
async fn every_input_a_busy_room_drops_is_named_to_its_sender() {
    const INPUTS: u32 = 60;
    let server = start(|_| {});
    let mut c = Client::connect(&ws_url(server.addr()), &TOKENS).await.expect("connect");
    // `narrow` holds at most 4 inputs between two ticks.
    let joined = c.create("narrow", HashMap::new()).await.expect("create");
    let (room, me) = (joined.room, joined.client);
    for seq in 1..=INPUTS {
        c.send_input(&room, seq, &v2::Input::default()).await.expect("input");
    }
    let (acks, processed, dropped) = gather(&mut c, me, |_, p, d| (p.len() + d.len()) as u32 >= INPUTS).await;
    eprintln!("{} processed, {} dropped: {dropped:?}; acks {acks:?}", processed.len(), dropped.len());
    assert!(!dropped.is_empty(), "60 inputs at once overflow a room that holds 4 per tick");
    assert!(dropped.values().all(|&code| code == 1013), "{dropped:?}");
    for seq in 1..=INPUTS {
        assert!(
            processed.contains(&seq) != dropped.contains_key(&seq),
            "input {seq} must be either processed or named as dropped, not both or neither"
        );
    }
}
