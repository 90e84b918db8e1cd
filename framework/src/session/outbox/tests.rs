//! The outbox by hand, with made-up instants: latest-wins states, ordered
//! reliable items, one wake-up per drain, stalls, kills and parking.

use super::*;
use std::sync::atomic::AtomicUsize;

fn outbox(limits: OutboxLimits) -> (Arc<Outbox>, Arc<AtomicUsize>) {
    let o = Arc::new(Outbox::new(SessionId(1), limits));
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    let waker = move || {
        w.fetch_add(1, Ordering::SeqCst);
        true
    };
    o.attach(waker, None, Instant::now());
    (o, wakes)
}

#[test]
fn a_newer_state_replaces_an_unsent_older_one() {
    let (o, _) = outbox(OutboxLimits::default());
    let now = Instant::now();
    let room: RoomId = "r".into();
    assert_eq!(o.push_state(&room, Bytes::from_static(b"1"), now), Push::Queued);
    assert_eq!(o.push_state(&room, Bytes::from_static(b"2"), now), Push::Replaced);
    assert_eq!(o.push_state(&"other".into(), Bytes::from_static(b"x"), now), Push::Queued);
    assert_eq!(o.drain().states, vec![Bytes::from_static(b"2"), Bytes::from_static(b"x")]);
}

#[test]
fn reliable_items_keep_their_order() {
    let (o, _) = outbox(OutboxLimits::default());
    let now = Instant::now();
    o.push_frame(Bytes::from_static(b"a"), now);
    o.push_event(ConnEvent::Close { code: CloseCode::Normal, reason: String::new() }, now);
    o.push_frame(Bytes::from_static(b"b"), now);
    let d = o.drain();
    assert_eq!(d.reliable.len(), 3);
    assert_eq!(d.reliable[2], OutItem::Frame(Bytes::from_static(b"b")));
}

#[test]
fn one_wake_until_drained() {
    let (o, wakes) = outbox(OutboxLimits::default());
    let now = Instant::now();
    for _ in 0..10 {
        o.push_frame(Bytes::from_static(b"a"), now);
    }
    assert_eq!(wakes.load(Ordering::SeqCst), 1);
    o.drain();
    o.push_frame(Bytes::from_static(b"a"), now);
    assert_eq!(wakes.load(Ordering::SeqCst), 2);
}

#[test]
fn a_reader_that_drains_nothing_for_the_stall_timeout_is_stalled() {
    let limits = OutboxLimits { stall_timeout: Duration::from_secs(2), ..Default::default() };
    let (o, _) = outbox(limits);
    let t0 = Instant::now();
    let room: RoomId = "r".into();
    o.push_state(&room, Bytes::from_static(b"1"), t0);
    assert_eq!(o.push_state(&room, Bytes::from_static(b"2"), t0 + Duration::from_secs(1)), Push::Replaced);
    assert_eq!(o.push_state(&room, Bytes::from_static(b"3"), t0 + Duration::from_secs(2)), Push::Stalled);
    o.drain();
    assert_eq!(o.push_state(&room, Bytes::from_static(b"4"), t0 + Duration::from_secs(3)), Push::Queued);
}

#[test]
fn reliable_overflow_is_a_stall_and_memory_stays_bounded() {
    let limits = OutboxLimits { max_reliable: 4, max_reliable_bytes: 1 << 20, stall_timeout: Duration::from_secs(60) };
    let (o, _) = outbox(limits);
    let now = Instant::now();
    let results: Vec<Push> = (0..6).map(|_| o.push_frame(Bytes::from_static(b"m"), now)).collect();
    assert_eq!(&results[..4], &[Push::Queued; 4]);
    assert_eq!(&results[4..], &[Push::Stalled; 2]);
    let limits = OutboxLimits { max_reliable: 100, max_reliable_bytes: 10, stall_timeout: Duration::from_secs(60) };
    let (o, _) = outbox(limits);
    assert_eq!(o.push_frame(Bytes::from(vec![0; 10]), now), Push::Queued);
    assert_eq!(o.push_frame(Bytes::from(vec![0; 1]), now), Push::Stalled);
}

#[test]
fn kill_leaves_only_the_close_and_refuses_later_pushes() {
    let (o, _) = outbox(OutboxLimits::default());
    let now = Instant::now();
    o.push_frame(Bytes::from_static(b"a"), now);
    o.kill(CloseCode::TooSlow, "too slow");
    assert_eq!(o.push_frame(Bytes::from_static(b"b"), now), Push::Closed);
    let d = o.drain();
    assert_eq!(d.reliable.len(), 1);
    assert!(matches!(&d.reliable[0], OutItem::Event(ConnEvent::Close { code: CloseCode::TooSlow, .. })));
    assert_eq!(o.take_killed(), Some(CloseCode::TooSlow));
    assert_eq!(o.take_killed(), None, "reported once");
}

#[test]
fn a_parked_outbox_never_stalls_keeps_events_and_drops_the_oldest_frames() {
    let limits = OutboxLimits { max_reliable: 4, max_reliable_bytes: 1 << 20, stall_timeout: Duration::from_secs(1) };
    let (o, wakes) = outbox(limits);
    o.drain();
    o.park(ParkLimits { max_frames: 3, max_bytes: 1 << 20 });
    let t0 = Instant::now();
    let joined = ConnEvent::Left { room: "r".into(), reason: WireLeaveReason::Kicked, detail: String::new() };
    o.push_event(joined.clone(), t0);
    for i in 0..10u8 {
        assert_eq!(o.push_frame(Bytes::from(vec![i]), t0 + Duration::from_secs(u64::from(i))), Push::Queued);
    }
    assert_eq!(wakes.load(Ordering::SeqCst), 0, "nobody to wake while parked");
    assert_eq!(o.take_lost(), 7);
    // A resuming connection attaches and is woken for what waited.
    let woken = Arc::new(AtomicUsize::new(0));
    let w = woken.clone();
    o.attach(move || w.fetch_add(1, Ordering::SeqCst) < usize::MAX, None, t0);
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    let d = o.drain();
    assert_eq!(d.reliable[0], OutItem::Event(joined));
    let frames: Vec<_> = d.reliable.iter().skip(1).cloned().collect();
    let want: Vec<_> = (7..10u8).map(|i| OutItem::Frame(Bytes::from(vec![i]))).collect();
    assert_eq!(frames, want, "the newest frames survive, in order");
}

#[test]
fn a_new_connection_drops_waiting_deltas_and_refuses_those_against_older_acks() {
    let (o, _) = outbox(OutboxLimits::default());
    let now = Instant::now();
    let (r, s): (RoomId, RoomId) = ("r".into(), "s".into());
    o.ack_state(&r, 5, |_| true);
    let acked = o.state_ack(&r).expect("acked");
    assert_eq!(o.push_delta_state(&r, Bytes::from_static(b"delta"), acked, now), Push::Queued);
    assert_eq!(o.push_state(&s, Bytes::from_static(b"whole"), now), Push::Queued);
    // Parked, then a resume attaches a new socket: its client holds no
    // baseline, so the waiting delta goes and the whole state stays.
    o.park(ParkLimits { max_frames: 8, max_bytes: 1024 });
    o.attach(|| true, None, now);
    assert_eq!(o.state_ack(&r), None, "acks are forgotten");
    assert_eq!(o.drain().states, vec![Bytes::from_static(b"whole")]);
    // A delta computed against the old connection's ack is refused.
    assert_eq!(o.push_delta_state(&r, Bytes::from_static(b"late"), acked, now), Push::Replaced);
    assert!(o.drain().states.is_empty());
    // A whole state replacing a delta clears its mark: it survives an attach.
    o.ack_state(&r, 6, |_| true);
    let acked = o.state_ack(&r).expect("acked");
    o.push_delta_state(&r, Bytes::from_static(b"delta"), acked, now);
    o.push_state(&r, Bytes::from_static(b"whole"), now);
    o.attach(|| true, None, now);
    assert_eq!(o.drain().states, vec![Bytes::from_static(b"whole")]);
}

#[test]
fn a_compressed_state_is_for_the_connection_that_asked_only() {
    use crate::protocol::compress::{Compressing, Compression};
    let (o, _) = outbox(OutboxLimits::default());
    let now = Instant::now();
    let r: RoomId = "r".into();
    assert_eq!(o.state_view(&r).compression, None);
    let z = Compressing { algorithm: Compression::Deflate, min_bytes: 64 };
    o.attach_with(Arc::new(|| true), None, Some(z), None, now);
    let view = o.state_view(&r);
    assert_eq!((view.ack, view.compression), (None, Some(z)));
    assert_eq!(o.push_bound_state(&r, Bytes::from_static(b"z"), view.generation, now), Push::Queued);
    // A resume by a connection that did not ask: the waiting compressed
    // state goes, and one made for the connection before is refused.
    o.attach(|| true, None, now);
    assert_eq!(o.state_view(&r).compression, None);
    assert!(o.drain().states.is_empty());
    assert_eq!(o.push_bound_state(&r, Bytes::from_static(b"late"), view.generation, now), Push::Replaced);
    assert!(o.drain().states.is_empty());
}

#[test]
fn states_alone_drain_without_the_session_lock_and_only_for_the_attached_generation() {
    let o = Arc::new(Outbox::new(SessionId(1), OutboxLimits::default()));
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = wakes.clone();
    let ring: Arc<dyn Ring> = Arc::new(move || w.fetch_add(1, Ordering::SeqCst) < usize::MAX);
    let now = Instant::now();
    let mine = o.attach_with(ring.clone(), None, None, None, now);
    let room: RoomId = "r".into();
    let mut buf = DrainBuffers::default();

    o.push_state(&room, Bytes::from_static(b"s1"), now);
    assert!(o.drain_states_into(mine, &mut buf), "only a state waits");
    assert_eq!(buf.states, vec![(room.clone(), Bytes::from_static(b"s1"))]);
    buf.states.clear();
    // The drain re-arms the wake-up: the next push rings again.
    o.push_state(&room, Bytes::from_static(b"s2"), now);
    assert_eq!(wakes.load(Ordering::SeqCst), 2);

    // A reliable frame waits too: nothing is taken, the full drain (under
    // the session's lock) gets both.
    o.push_frame(Bytes::from_static(b"f"), now);
    assert!(!o.drain_states_into(mine, &mut buf));
    assert!(buf.states.is_empty() && buf.reliable.is_empty());
    let d = o.drain();
    assert_eq!((d.reliable.len(), d.states.len()), (1, 1));

    // Another connection attached: the first one's generation takes nothing.
    let theirs = o.attach_with(ring, None, None, None, now);
    assert_ne!(mine, theirs);
    o.push_state(&room, Bytes::from_static(b"s3"), now);
    assert!(!o.drain_states_into(mine, &mut buf));
    assert!(o.drain_states_into(theirs, &mut buf));
    assert_eq!(buf.states.len(), 1);
    buf.states.clear();

    // Parked: nobody's.
    o.push_state(&room, Bytes::from_static(b"s4"), now);
    o.park(ParkLimits { max_frames: 8, max_bytes: 1 << 10 });
    assert!(!o.drain_states_into(theirs, &mut buf));
}

/// A state goes straight to the socket only when nothing else waits for
/// the connection and its room allows it (`Leave::AtOnce`); a room on the
/// shared tick grid queues it to leave with the player's other states.
#[test]
fn a_state_is_written_at_once_only_alone_and_when_its_room_allows() {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let (writer, _registered) = crate::transport::open_for_test(server.as_raw_fd());
    let o = Outbox::new(SessionId(1), OutboxLimits::default());
    let now = Instant::now();
    o.attach_with(Arc::new(|| true), None, None, Some(writer), now);
    let room: RoomId = "r".into();

    assert_eq!(o.push_state(&room, Bytes::from_static(b"s1"), now), Push::Sent);
    let mut got = [0u8; 4];
    client.read_exact(&mut got).unwrap();
    assert_eq!(got, [0x82, 2, b's', b'1'], "one binary frame");

    assert_eq!(o.push_state_frame(&room, Bytes::from_static(b"s2"), None, Leave::WithTheTick, now), Push::Queued);
    assert_eq!(o.drain().states, vec![Bytes::from_static(b"s2")]);

    o.push_frame(Bytes::from_static(b"f"), now);
    assert_eq!(o.push_state(&room, Bytes::from_static(b"s3"), now), Push::Queued, "behind a reliable frame");
    assert_eq!(o.drain().states, vec![Bytes::from_static(b"s3")]);

    o.push_state_frame(&"other".into(), Bytes::from_static(b"x"), None, Leave::WithTheTick, now);
    assert_eq!(o.push_state(&room, Bytes::from_static(b"s4"), now), Push::Queued, "with another room's state");
}
