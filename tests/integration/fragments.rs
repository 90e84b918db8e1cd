//! Fragmented messages on the wire (RFC 6455 §5.4), with a raw client: an
//! envelope split over three frames is one message; control frames may come
//! between fragments; UTF-8 is judged after reassembly; continuation frames
//! out of order are a protocol error.

use playhouse::protocol::envelope::{client_msg::Kind as C, server_msg::Kind as S, ClientMsg, Ping};
use playhouse::protocol::Codec;
use playhouse_tests::raw::{self, Frame};
use playhouse_tests::start;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const TOKEN: &str = "arena.v2.proto";
const CLIENT_TIME: u64 = 0x0102_0304_0506_0708;

fn ping_envelope() -> Vec<u8> {
    let bytes =
        Codec::Proto.encode_to_vec(&ClientMsg { kind: Some(C::Ping(Ping { client_time: CLIENT_TIME })) }).unwrap();
    assert!(bytes.len() >= 3, "needs three non-empty fragments");
    bytes
}

/// Three non-empty pieces.
fn thirds(b: &[u8]) -> [&[u8]; 3] {
    let n = b.len();
    [&b[..n / 3], &b[n / 3..2 * n / 3], &b[2 * n / 3..]]
}

/// Reads frames until `done` says the ones seen so far are enough (5 s at
/// most); returns them. Panics on a close or the end of the socket.
fn read_until(s: &mut TcpStream, buf: &mut Vec<u8>, done: impl Fn(&[Frame]) -> bool) -> Vec<Frame> {
    s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while !done(&seen) {
        assert!(Instant::now() < deadline, "gave up waiting; frames so far: {seen:?}");
        if let Some(f) = raw::next_frame(s, buf) {
            assert_ne!(f.1, 8, "closed: {:?}", raw::close_payload(&f.2));
            seen.push(f);
        }
    }
    seen
}

fn is_envelope_pong(f: &Frame) -> bool {
    f.1 == 2 && matches!(raw::decode_server(Codec::Proto, &f.2), Some(S::Pong(p)) if p.client_time == CLIENT_TIME)
}

#[test]
fn an_envelope_in_three_fragments_is_one_message() {
    let server = start(|_| {});
    let (mut s, mut buf) = raw::connect(server.addr(), TOKEN);
    let [a, b, c] = thirds(&ping_envelope()).map(<[u8]>::to_vec);
    raw::write_frame(&mut s, false, 2, &a).unwrap();
    raw::write_frame(&mut s, false, 0, &b).unwrap();
    raw::write_frame(&mut s, true, 0, &c).unwrap();
    let seen = read_until(&mut s, &mut buf, |fs| fs.iter().any(is_envelope_pong));
    assert!(matches!(raw::decode_server(Codec::Proto, &seen[0].2), Some(S::Welcome(_))), "{seen:?}");
}

#[test]
fn pings_between_fragments_are_answered_and_do_not_break_reassembly() {
    let server = start(|_| {});
    let (mut s, mut buf) = raw::connect(server.addr(), TOKEN);
    let [a, b, c] = thirds(&ping_envelope()).map(<[u8]>::to_vec);
    raw::write_frame(&mut s, false, 2, &a).unwrap();
    raw::write_frame(&mut s, true, 9, b"first").unwrap();
    raw::write_frame(&mut s, false, 0, &b).unwrap();
    raw::write_frame(&mut s, true, 9, b"second").unwrap();
    raw::write_frame(&mut s, true, 0, &c).unwrap();
    let pong = |payload: &'static [u8]| move |f: &Frame| f.1 == 10 && f.2 == payload;
    let seen = read_until(&mut s, &mut buf, |fs| {
        fs.iter().any(pong(b"first")) && fs.iter().any(pong(b"second")) && fs.iter().any(is_envelope_pong)
    });
    // Control frames are answered as they come, before the message completes.
    let pos = |p: &dyn Fn(&Frame) -> bool| seen.iter().position(p).unwrap();
    assert!(pos(&pong(b"first")) < pos(&pong(b"second")), "{seen:?}");
    assert!(pos(&pong(b"second")) < pos(&is_envelope_pong), "{seen:?}");
}

#[test]
fn fragmented_text_with_invalid_utf8_is_closed_with_1007() {
    let server = start(|_| {});
    let (mut s, buf) = raw::connect(server.addr(), TOKEN);
    raw::write_frame(&mut s, false, 1, b"price: 5 ").unwrap();
    raw::write_frame(&mut s, false, 0, b"\xe2\x82").unwrap();
    raw::write_frame(&mut s, true, 0, b"\xff").unwrap();
    let (code, reason) = raw::read_until_close(&mut s, buf);
    assert_eq!(code, Some(1007), "{reason}");
}

#[test]
fn a_code_point_split_across_fragments_is_valid_text() {
    let server = start(|_| {});
    let (mut s, buf) = raw::connect(server.addr(), TOKEN);
    // "€" split over three fragments is valid UTF-8 once reassembled, so the
    // message is judged as what it is — text on a binary protocol (1003) —
    // not as invalid UTF-8 (1007).
    raw::write_frame(&mut s, false, 1, b"5 \xe2").unwrap();
    raw::write_frame(&mut s, false, 0, b"\x82").unwrap();
    raw::write_frame(&mut s, true, 0, b"\xac").unwrap();
    let (code, reason) = raw::read_until_close(&mut s, buf);
    assert_eq!(code, Some(1003), "{reason}");
}

#[test]
fn a_continuation_with_no_started_message_is_closed_with_1002() {
    let server = start(|_| {});
    let (mut s, buf) = raw::connect(server.addr(), TOKEN);
    raw::write_frame(&mut s, true, 0, b"orphan").unwrap();
    let (code, reason) = raw::read_until_close(&mut s, buf);
    assert_eq!(code, Some(1002), "{reason}");
}

#[test]
fn a_new_message_before_the_last_one_finished_is_closed_with_1002() {
    let server = start(|_| {});
    let (mut s, buf) = raw::connect(server.addr(), TOKEN);
    let env = ping_envelope();
    raw::write_frame(&mut s, false, 2, &env[..2]).unwrap();
    raw::write_frame(&mut s, true, 2, &env).unwrap();
    let (code, reason) = raw::read_until_close(&mut s, buf);
    assert_eq!(code, Some(1002), "{reason}");
}
