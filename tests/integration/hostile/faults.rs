//! The bad input of the hostile-input suite, each fault with the answer the
//! README ("Close codes") and `docs/protocol.md` (§4.2 `Error.code` and
//! `JoinErrorCode`, §10 close codes) document for it: a close code for a
//! fatal fault, an `Error` or `JoinError` for a non-fatal one.

use arena::proto::v2;
use playhouse::protocol::envelope::{client_msg::Kind as C, *};
use playhouse::protocol::Codec;

/// What the server must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Answer {
    /// A close frame with this code.
    Close(u16),
    /// `Error { code }`; the connection stays open.
    Error(u32),
    /// `JoinError { code }`; the connection stays open.
    JoinError(i32),
}

/// One fault: the bytes to write (one or more frames, or deliberately not
/// frames at all) and the documented answer.
#[derive(Debug, Clone)]
pub struct Fault {
    /// For messages.
    pub name: &'static str,
    /// Raw bytes, written as they are.
    pub bytes: Vec<u8>,
    /// WebSocket frames in `bytes` (as the client meant them).
    pub frames: usize,
    /// The documented answer.
    pub answer: Answer,
}

/// Where a fault is sent from.
pub struct Ctx<'a> {
    /// The connection's codec.
    pub codec: Codec,
    /// The room this connection joined, if any.
    pub joined: Option<&'a str>,
    /// A live room this connection is not in.
    pub other_room: &'a str,
}

const MASK: [u8; 4] = [0x9e, 0x21, 0x5c, 0x07];

/// A frame whose first byte is `first` (FIN, RSV, opcode), masked or not.
pub fn frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut f = vec![first];
    let bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => f.push(bit | n as u8),
        n @ 126..=65535 => f.extend([&[bit | 126][..], &(n as u16).to_be_bytes()].concat()),
        n => f.extend([&[bit | 127][..], &(n as u64).to_be_bytes()].concat()),
    }
    if masked {
        f.extend_from_slice(&MASK);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

/// A masked, final frame.
pub fn whole(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(0x80 | opcode, payload, true)
}

/// A masked close frame with `code`.
pub fn close_frame(code: u16) -> Vec<u8> {
    whole(8, &code.to_be_bytes())
}

fn envelope(codec: Codec, kind: Option<C>) -> Vec<u8> {
    codec.encode_to_vec(&ClientMsg { kind }).expect("envelope encodes")
}

fn input(codec: Codec, room: &str, seq: u32, payload: Vec<u8>) -> Vec<u8> {
    envelope(codec, Some(C::Input(Input { room: room.into(), seq, payload: payload.into() })))
}

fn valid_input(codec: Codec) -> Vec<u8> {
    codec.encode_to_vec(&v2::Input { move_x: 1, ..Default::default() }).expect("input encodes")
}

fn fault(name: &'static str, frames: Vec<Vec<u8>>, answer: Answer) -> Fault {
    Fault { name, frames: frames.len(), bytes: frames.concat(), answer }
}

/// How many non-fatal faults there are (to cycle through all of them).
pub const NON_FATAL: usize = 9;

/// The `i`-th (mod [`NON_FATAL`]) non-fatal fault: each is answered with
/// its own `Error` or `JoinError` and the connection stays open.
pub fn non_fatal(i: usize, ctx: &Ctx<'_>) -> Fault {
    let codec = ctx.codec;
    let request = i as u32;
    let join_error = |code: JoinErrorCode| Answer::JoinError(code as i32);
    let msg = |kind| vec![whole(2, &envelope(codec, Some(kind)))];
    match i % NON_FATAL {
        0 => fault(
            "input-not-joined",
            vec![whole(2, &input(codec, "nowhere", 1, valid_input(codec)))],
            Answer::Error(4004),
        ),
        1 => fault("leave-not-joined", msg(C::Leave(Leave { room: "nowhere".into() })), Answer::Error(4004)),
        2 => fault("no-kind", vec![whole(2, &envelope(codec, None))], Answer::Error(1003)),
        // An unknown oneof number in protobuf decodes as no kind; an empty
        // map is no kind in MessagePack (an unknown case *name* is fatal).
        3 => match codec {
            Codec::Proto => fault("unknown-field", vec![whole(2, &[0x7a, 0x02, b'h', b'i'])], Answer::Error(1003)),
            Codec::MsgPack => fault("empty-map", vec![whole(2, &[0x80])], Answer::Error(1003)),
        },
        4 => fault("resume", msg(C::Resume(Resume { token: "stolen".into(), last_seq: 9 })), Answer::Error(4002)),
        5 => fault(
            "join-unknown-room",
            msg(C::Join(Join {
                request,
                room: "NoSuchRoom".into(),
                options: Default::default(),
                ..Default::default()
            })),
            join_error(JoinErrorCode::RoomNotFound),
        ),
        6 => fault(
            "join-or-create-unknown-type",
            msg(C::JoinOrCreate(JoinOrCreate { request, room_type: "chess".into(), options: Default::default() })),
            join_error(JoinErrorCode::UnknownRoomType),
        ),
        7 => fault(
            "create-unknown-type",
            msg(C::Create(Create { request, room_type: "".into(), options: Default::default() })),
            join_error(JoinErrorCode::UnknownRoomType),
        ),
        // Out of order: a second join of the room it is in, or an input to
        // a live room it never joined.
        _ => match ctx.joined {
            Some(room) => fault(
                "join-again",
                msg(C::Join(Join { request, room: room.into(), options: Default::default(), ..Default::default() })),
                join_error(JoinErrorCode::AlreadyJoined),
            ),
            None => fault(
                "input-to-a-room-not-joined",
                vec![whole(2, &input(codec, ctx.other_room, 1, valid_input(codec)))],
                Answer::Error(4004),
            ),
        },
    }
}

/// How many fatal faults there are.
pub const FATAL: usize = 22;

/// The `i`-th (mod [`FATAL`]) fatal fault: the server closes with the code
/// documented for it.
pub fn fatal(i: usize, ctx: &Ctx<'_>) -> Fault {
    let codec = ctx.codec;
    let msgpack = codec == Codec::MsgPack;
    let join = envelope(
        codec,
        Some(C::Join(Join {
            request: 1,
            room: "X7QUdLpqBu".into(),
            options: [("name".into(), "eve".into())].into(),
            ..Default::default()
        })),
    );
    const PROTOCOL: Answer = Answer::Close(1002);
    const INVALID: Answer = Answer::Close(1007);
    const TOO_BIG: Answer = Answer::Close(1009);
    match i % FATAL {
        0 => fault("garbage-envelope", vec![whole(2, if msgpack { &[0xc1; 16] } else { &[0xff; 16] })], INVALID),
        // A cut envelope never decodes (a proptest in framework/tests/fuzz).
        1 => fault("truncated-envelope", vec![whole(2, &join[..join.len() / 2])], INVALID),
        2 if msgpack => {
            let teleport = [&[0x81, 0xa4][..], b"kind", &[0x81, 0xa8], b"teleport", &[0x80]].concat();
            fault("unknown-kind-name", vec![whole(2, &teleport)], INVALID)
        }
        2 => fault("invalid-wire-type", vec![whole(2, &[0x0f, 0x00])], INVALID),
        // Regression: nesting like this aborted the whole server.
        3 if msgpack => {
            let mut deep = [&[0x81, 0xa4][..], b"kind", &[0x81, 0xa4], b"ping", &[0x81, 0xa4], b"junk"].concat();
            deep.resize(deep.len() + 5000, 0x91);
            deep.push(0xc0);
            fault("deep-nesting", vec![whole(2, &deep)], INVALID)
        }
        3 => {
            let groups = [vec![0x7b; 1000], vec![0x7c; 1000]].concat();
            let body = [&[0x42, 0xd0, 0x0f][..], &groups].concat(); // ping, length 2000
            fault("deep-groups", vec![whole(2, &body)], INVALID)
        }
        4 => match ctx.joined {
            Some(room) => {
                fault("garbage-input-payload", vec![whole(2, &input(codec, room, 1, vec![0xc1, 0xff, 0xff]))], INVALID)
            }
            None => fault("garbage-envelope", vec![whole(2, if msgpack { &[0xc1; 4] } else { &[0xff; 4] })], INVALID),
        },
        // The frame's length covers half the envelope; the rest follows as
        // if it were the next frame. The frame holds a cut envelope.
        5 => {
            let cut = join.len() / 2;
            let bytes = [whole(2, &join[..cut]), join[cut..].to_vec()].concat();
            Fault { name: "truncated-frame", bytes, frames: 1, answer: INVALID }
        }
        6 => fault("text-frame", vec![whole(1, b"{\"kind\":{\"ping\":{}}}")], Answer::Close(1003)),
        7 => fault("invalid-utf8-text", vec![whole(1, b"caf\xc3")], INVALID),
        8 => fault(
            "fragmented-invalid-utf8",
            vec![frame(1, b"price: 5 ", true), frame(0, b"\xe2\x82", true), whole(0, b"\xff")],
            INVALID,
        ),
        9 => fault("continuation-without-start", vec![whole(0, &join)], PROTOCOL),
        10 => fault("data-inside-fragmented", vec![frame(2, &join[..2], true), whole(2, &join)], PROTOCOL),
        11 => {
            let opcode = [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf][i / FATAL % 10];
            fault("reserved-opcode", vec![whole(opcode, b"?")], PROTOCOL)
        }
        12 => fault("unmasked", vec![frame(0x82, &join, false)], PROTOCOL),
        13 => fault("reserved-bits", vec![frame(0x82 | (0x10 << (i / FATAL % 3)), &join, true)], PROTOCOL),
        14 => fault("ping-over-125", vec![whole(9, &[7; 126])], PROTOCOL),
        15 => fault("fragmented-ping", vec![frame(9, b"hi", true)], PROTOCOL),
        16 => {
            let code = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535][i / FATAL % 11];
            fault("bad-close-code", vec![close_frame(code)], PROTOCOL)
        }
        17 => fault("close-one-byte", vec![whole(8, &[3])], PROTOCOL),
        18 => fault("close-reason-not-utf8", vec![whole(8, &[0x03, 0xe8, 0xc3, 0x28])], PROTOCOL),
        19 => {
            let len: u64 = [64 * 1024 + 1, 1 << 40, 1 << 63][i / FATAL % 3];
            let mut header = vec![0x82, 0x80 | 127];
            header.extend_from_slice(&len.to_be_bytes());
            header.extend_from_slice(&MASK);
            header.extend_from_slice(b"and then some");
            Fault { name: "oversized-header", bytes: header, frames: 1, answer: TOO_BIG }
        }
        20 => fault("oversized-frame", vec![whole(2, &vec![0u8; 70_000])], TOO_BIG),
        _ => fault(
            "fragments-over-limit",
            vec![frame(2, &vec![0u8; 40_000], true), frame(0, &vec![0u8; 20_000], true), whole(0, &vec![0u8; 10_000])],
            TOO_BIG,
        ),
    }
}
