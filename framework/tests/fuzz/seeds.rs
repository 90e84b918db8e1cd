//! The seed corpus: a few dozen small inputs per fuzz target (valid
//! messages of every kind in both codecs, truncations, bit flips, huge
//! length prefixes, odd headers and frame sequences). Deterministic, so the
//! committed files can be checked against it; `regenerate` rewrites them.
//! Seed files are named `seed-*`; anything else in a corpus directory was
//! added by a fuzzer run (or by hand, for a regression) and is left alone.

use super::bytes::*;
use playhouse::protocol::envelope::{client_msg::Kind as C, *};
use playhouse::protocol::Codec;
use playhouse_testkit::probe::{v1, v2};

/// (file name without the `seed-` prefix, contents).
pub type Seed = (String, Vec<u8>);

/// The seeds of `target` (a name from `playhouse::fuzzing::TARGETS`).
pub fn seeds(target: &str) -> Vec<Seed> {
    match target {
        "envelope_msgpack" => envelopes(Codec::MsgPack),
        "envelope_proto" => envelopes(Codec::Proto),
        "input_payload" => inputs(),
        "subprotocol" => subprotocols(),
        "reassembly" => reassemblies(),
        "wire" => wires(),
        other => panic!("no seeds for target {other}"),
    }
}

fn named(name: &str, bytes: Vec<u8>) -> Seed {
    (name.to_string(), bytes)
}

/// One valid `ClientMsg` of every kind (payloads in `codec` too).
pub fn every_kind(codec: Codec) -> Vec<(&'static str, ClientMsg)> {
    let input = codec.encode_to_vec(&v2::Input { move_x: 1, fire: true, aim_x: 0.5, ..Default::default() });
    let options = || [("name".to_string(), "ann".to_string())].into();
    let kinds = [
        ("hello", C::Hello(Hello { client: "fuzz/1.0".into() })),
        ("resume", C::Resume(Resume { token: "t0k3n".into(), last_seq: 42 })),
        ("join", C::Join(Join { request: 1, room: "X7QUdLpqBu".into(), options: options(), ..Default::default() })),
        ("join-or-create", C::JoinOrCreate(JoinOrCreate { request: 2, room_type: "arena".into(), options: options() })),
        ("create", C::Create(Create { request: 3, room_type: "arena".into(), options: Default::default() })),
        ("leave", C::Leave(Leave { room: "X7QUdLpqBu".into() })),
        ("input", C::Input(Input { room: "X7QUdLpqBu".into(), seq: 7, payload: input.expect("encodes").into() })),
        ("ping", C::Ping(Ping { client_time: 1_795_568_222_638 })),
        ("ack", C::Ack(Ack { seq: u64::MAX })),
        (
            "subscribe",
            C::Subscribe(Subscribe {
                request: 4,
                channel: "chat.*".into(),
                recover: true,
                offset: 7,
                epoch: "e".into(),
            }),
        ),
        ("unsubscribe", C::Unsubscribe(Unsubscribe { channel: "lobby".into() })),
        ("publish", C::Publish(Publish { request: 5, channel: "chat.eu".into(), payload: b"hi".to_vec().into() })),
    ];
    kinds.into_iter().map(|(n, k)| (n, ClientMsg { kind: Some(k) })).collect()
}

fn flip(mut b: Vec<u8>, byte: usize, bit: u8) -> Vec<u8> {
    let i = byte.min(b.len() - 1);
    b[i] ^= 1 << bit;
    b
}

fn envelopes(codec: Codec) -> Vec<Seed> {
    let enc = |m: &ClientMsg| codec.encode_to_vec(m).expect("envelope encodes");
    let mut out = Vec::new();
    for (name, msg) in every_kind(codec) {
        let b = enc(&msg);
        out.push(named(&format!("valid-{name}"), b.clone()));
        out.push(named(&format!("truncated-{name}"), b[..b.len() / 2].to_vec()));
        out.push(named(&format!("flip-{name}"), flip(b, 5, 3)));
    }
    out.push(named("valid-no-kind", enc(&ClientMsg { kind: None })));
    let bad_payload = Input { room: "r".into(), seq: 1, payload: vec![0xc1, 0xff, 0xff, 0x00].into() };
    out.push(named("input-garbage-payload", enc(&ClientMsg { kind: Some(C::Input(bad_payload)) })));
    let v1_input = codec.encode_to_vec(&v1::Input { move_y: -1, ..Default::default() }).expect("encodes");
    let v1 = Input { room: "r".into(), seq: 2, payload: v1_input.into() };
    out.push(named("input-v1-payload", enc(&ClientMsg { kind: Some(C::Input(v1)) })));
    let nan = codec.encode_to_vec(&v2::Input {
        aim_x: f32::NAN,
        aim_y: f32::INFINITY,
        move_x: i32::MIN,
        ..Default::default()
    });
    let nan = Input { room: "r".into(), seq: u32::MAX, payload: nan.expect("encodes").into() };
    out.push(named("input-nan-aim", enc(&ClientMsg { kind: Some(C::Input(nan)) })));
    out.extend(match codec {
        Codec::MsgPack => msgpack_oddities(),
        Codec::Proto => proto_oddities(),
    });
    out
}

fn msgpack_oddities() -> Vec<Seed> {
    let nested = |levels: usize| {
        let mut b = msgpack_kind("ping", &[[0x81].as_slice(), &fixstr("junk")].concat());
        b.resize(b.len() + levels - 2, 0x91);
        b.push(0xc0);
        b
    };
    let ping_at =
        |client_time: &[u8]| msgpack_kind("ping", &[&[0x81][..], &fixstr("clientTime"), client_time].concat());
    vec![
        named("garbage", vec![0xc1; 16]),
        named("empty", vec![]),
        named("nil", vec![0xc0]),
        named("unknown-kind", msgpack_kind("teleport", &[0x80])),
        named("kind-nil", [&[0x81][..], &fixstr("kind"), &[0xc0]].concat()),
        named("wrong-type", ping_at(&fixstr("soon"))),
        named("negative-u64", ping_at(&[0xd0, 0x80])),
        named(
            "huge-bin32",
            msgpack_kind("input", &[&[0x81][..], &fixstr("payload"), &[0xc6, 0xff, 0xff, 0xff, 0xff]].concat()),
        ),
        named(
            "huge-str32",
            msgpack_kind("leave", &[&[0x81][..], &fixstr("room"), &[0xdb, 0xff, 0xff, 0xff, 0xf0, b'a']].concat()),
        ),
        named("huge-map32", [0xdf, 0xff, 0xff, 0xff, 0xff, 0xa4].to_vec()),
        named(
            "huge-array32-options",
            msgpack_kind("join", &[&[0x81][..], &fixstr("options"), &[0xdd, 0x7f, 0xff, 0xff, 0xff]].concat()),
        ),
        named("nested-64", nested(64)),
        named("nested-65", nested(65)),
        named("nested-5000", nested(5000)),
        named("trailing-bytes", [ping_at(&[0x01]), vec![0xc1, 0xc1]].concat()),
        named(
            "two-kinds",
            [&[0x81][..], &fixstr("kind"), &[0x82], &fixstr("ping"), &[0x80], &fixstr("ack"), &[0x80]].concat(),
        ),
    ]
}

fn proto_oddities() -> Vec<Seed> {
    let field = |tag: u8, body: &[u8]| [&[tag][..], &varint(body.len() as u64), body].concat();
    let groups = |n: usize| field(0x42, &[vec![0x7b; n], vec![0x7c; n]].concat()); // ping { group 15 ... }
    vec![
        named("garbage", vec![0xff; 16]),
        named("empty", vec![]),
        named("unknown-field-15", field(0x7a, b"from the future")),
        named("huge-length-input", [&[0x3a][..], &varint(u64::from(u32::MAX)), b"abc"].concat()),
        named("huge-length-u64", [&[0x3a][..], &varint(u64::MAX), b"abc"].concat()),
        named("varint-overflow", [&[0x08][..], &[0xff; 11]].concat()),
        named("wire-type-7", vec![0x0f, 0x00]),
        named("field-zero", vec![0x00, 0x01]),
        named("groups-99", groups(99)),
        named("groups-101", groups(101)),
        named("unterminated-group", field(0x42, &[0x7b, 0x08, 0x01])),
        named("invalid-utf8-room", field(0x32, &field(0x0a, &[0xc3, 0x28]))),
        named("two-kinds", [field(0x42, &[0x08, 0x01]), field(0x4a, &[0x08, 0x02])].concat()),
        named("repeated-kind-merges", [field(0x3a, &field(0x0a, b"a")), field(0x3a, &[0x10, 0x05])].concat()),
    ]
}

fn inputs() -> Vec<Seed> {
    let mut out = Vec::new();
    for (codec, bit) in [(Codec::Proto, 0u8), (Codec::MsgPack, 1)] {
        let full = v2::Input { move_x: 1, move_y: -1, sprint: true, fire: true, aim_x: 3.5, aim_y: -2.0 };
        let extreme =
            v2::Input { move_x: i32::MIN, move_y: i32::MAX, aim_x: f32::NAN, aim_y: f32::NEG_INFINITY, ..full };
        let v1 = v1::Input { move_x: -1, fire: true, aim_x: 1.0, ..Default::default() };
        let enc2 = |i: &v2::Input| codec.encode_to_vec(i).expect("encodes");
        let b = enc2(&full);
        out.push(named(&format!("{codec}-v2-full"), [vec![bit], b.clone()].concat()));
        out.push(named(&format!("{codec}-v2-truncated"), [vec![bit], b[..b.len() / 2].to_vec()].concat()));
        out.push(named(&format!("{codec}-v2-flip"), [vec![bit], flip(b, 3, 6)].concat()));
        out.push(named(&format!("{codec}-v2-extreme"), [vec![bit], enc2(&extreme)].concat()));
        out.push(named(&format!("{codec}-v2-empty"), vec![bit]));
        let v1b = codec.encode_to_vec(&v1).expect("encodes");
        out.push(named(&format!("{codec}-v1"), [vec![bit | 2], v1b.clone()].concat()));
        out.push(named(&format!("{codec}-v2-as-v1"), [vec![bit | 2], enc2(&full)].concat()));
        out.push(named(&format!("{codec}-v1-truncated"), [vec![bit | 2], v1b[..v1b.len() - 1].to_vec()].concat()));
    }
    let mp_input = |key: &str, value: &[u8]| [&[0x81][..], &fixstr(key), value].concat();
    out.push(named("msgpack-aim-as-f64", [vec![1], mp_input("aimX", &[0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 1])].concat()));
    out.push(named(
        "msgpack-move-too-big",
        [vec![1], mp_input("moveX", &[0xcf, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])].concat(),
    ));
    out.push(named("msgpack-fire-as-int", [vec![1], mp_input("fire", &[0x01])].concat()));
    out.push(named("proto-aim-wrong-wire-type", vec![0, 0x28, 0x01]));
    out.push(named("proto-move-varint-overflow", [&[0u8, 0x08][..], &[0xff; 10], &[0x01]].concat()));
    out
}

fn subprotocols() -> Vec<Seed> {
    let h = |config: u8, lines: &[&str]| [vec![config], lines.join("\n").into_bytes()].concat();
    vec![
        named("docs-prefer-proto", h(0x03, &["arena.v2.msgpack, arena.v2.proto"])),
        named("docs-highest-version", h(0x03, &["arena.v1.proto, arena.v2.msgpack"])),
        named("docs-unserved-version", h(0x03, &["arena.v3.proto, arena.v1.msgpack"])),
        named("docs-nothing-shared", h(0x03, &["chess.v2.proto, garbage, arena.v2.json"])),
        named("no-header", h(0x03, &[])),
        named("only-commas", h(0x03, &[" , ,, "])),
        named("several-lines", h(0x03, &["chess.v1.proto", "arena.v1.msgpack", "arena.v2.msgpack"])),
        named("msgpack-preferred", h(0x13, &["arena.v2.proto,arena.v2.msgpack"])),
        named("one-codec", h(0x23, &["arena.v2.msgpack, arena.v1.proto"])),
        named("nothing-served", h(0x00, &["arena.v1.proto"])),
        named("all-versions", h(0x0f, &["arena.v4.msgpack, arena.v3.proto, arena.v4.proto"])),
        named("leading-zero", h(0x03, &["arena.v02.proto, arena.v0.proto"])),
        named("u32-max", h(0x0f, &["arena.v4294967295.proto, arena.v4294967296.proto"])),
        named("uppercase-app", h(0x03, &["Arena.v1.proto, ARENA.V1.PROTO"])),
        named("non-ascii", h(0x03, &["arena.v1.prοto, arеna.v2.proto"])),
        named("tabs-and-spaces", h(0x03, &["\t arena.v1.proto \t,  arena.v2.msgpack"])),
        named("control-bytes", h(0x03, &["arena.v1.proto\r\x00, arena.v2.msgpack\x7f"])),
        named("extra-dots", h(0x03, &["arena.v1.proto.x, .arena.v1.proto, arena..v1.proto"])),
        named("empty-parts", h(0x03, &["..,.v1.,arena.v.proto,arena.1.proto"])),
        named("many-tokens", h(0x03, &[&["chess.v9.proto"; 64].join(","), "arena.v1.msgpack"])),
    ]
}

fn reassemblies() -> Vec<Seed> {
    let r = |limit: u8, items: &[(u8, &[u8])]| reassembly_input(limit, items);
    vec![
        named("binary-in-three", r(16, &[(1, b"ab"), (2, b"cd"), (3, b"ef")])),
        named("text-in-three", r(16, &[(0, b"hel"), (2, b"l"), (3, b"o")])),
        named("euro-split", r(16, &[(0, b"5 \xe2"), (2, b"\x82"), (3, b"\xac")])),
        named("invalid-utf8-midway", r(16, &[(0, b"ok "), (2, b"\xf4\x90"), (3, b"x")])),
        named("cut-code-point-at-end", r(16, &[(0, b"ok"), (3, b"\xe2\x82")])),
        named("continue-without-start", r(16, &[(2, b"orphan"), (3, b"")])),
        named("start-twice", r(16, &[(1, b"a"), (0, b"b"), (3, b"c")])),
        named("single-while-started", r(16, &[(1, b"a"), (4, b"b"), (5, b"c"), (3, b"")])),
        named("too-big-together", r(1, &[(1, b"abc"), (3, b"de")])),
        named("exactly-the-limit", r(1, &[(1, b"ab"), (3, b"cd"), (4, b"wxyz")])),
        named("zero-limit", r(0, &[(4, b""), (4, b"x"), (1, b""), (3, b"")])),
        named("reset-after-error", r(2, &[(1, &[0; 9]), (0, b"\xce"), (2, b"\xba"), (3, b"!")])),
        named("singles", r(64, &[(4, b"binary"), (5, b"text"), (5, b"")])),
        named("empty-fragments", r(16, &[(1, b""), (2, b""), (2, b""), (3, b"")])),
    ]
}

fn wires() -> Vec<Seed> {
    let f = |fin, op, p: &[u8]| frame(fin, op, p, true);
    let ping_env = Codec::Proto.encode_to_vec(&ClientMsg { kind: Some(C::Ping(Ping { client_time: 7 })) });
    let env = ping_env.expect("encodes");
    let w = |limit: u8, chunk: u8, frames: &[Vec<u8>]| wire_input(limit, chunk, frames);
    let over = 64 * 16 + 1;
    vec![
        named("binary", w(64, 255, &[f(true, 2, &env)])),
        named("fragments-with-pings", w(64, 2, &[f(false, 2, &env[..2]), f(true, 9, b"hi"), f(true, 0, &env[2..])])),
        named("text", w(64, 255, &[f(true, 1, b"{\"join\":\"arena\"}")])),
        named("text-invalid-utf8", w(64, 255, &[f(true, 1, b"caf\xc3")])),
        named(
            "fragmented-invalid-utf8",
            w(64, 255, &[f(false, 1, b"price "), f(false, 0, b"\xe2\x82"), f(true, 0, b"\xff")]),
        ),
        named("continuation-without-start", w(64, 255, &[f(true, 0, b"orphan")])),
        named("data-inside-fragmented", w(64, 255, &[f(false, 2, b"a"), f(true, 2, b"b")])),
        named("unmasked", w(64, 255, &[frame(true, 2, &env, false)])),
        named("reserved-bits", w(64, 255, &[[vec![0xc2], f(true, 2, b"x")[1..].to_vec()].concat()])),
        named("reserved-opcode-3", w(64, 255, &[f(true, 3, b"x")])),
        named("reserved-opcode-b", w(64, 255, &[f(true, 0xb, b"")])),
        named("ping-126", w(64, 255, &[f(true, 9, &[0; 126])])),
        named("fragmented-ping", w(64, 255, &[f(false, 9, b"x")])),
        named("close-1000", w(64, 255, &[f(true, 8, &1000u16.to_be_bytes())])),
        named("close-one-byte", w(64, 255, &[f(true, 8, &[3])])),
        named("close-code-1005", w(64, 255, &[f(true, 8, &1005u16.to_be_bytes())])),
        named("close-bad-utf8-reason", w(64, 255, &[f(true, 8, &[0x03, 0xe8, 0xff])])),
        named("oversized-header", w(64, 255, &[f(true, 2, &env), bare_header(2, over)])),
        named("oversized-byte-by-byte", w(64, 0, &[f(true, 2, &env), bare_header(2, 1 << 40)])),
        named("length-msb-set", w(64, 3, &[bare_header(2, 1 << 63)])),
        named("fragments-over-limit", w(1, 255, &[f(false, 2, &[0; 10]), f(true, 0, &[0; 10])])),
        named("frame-at-limit", w(1, 7, &[f(true, 2, &[0; 16])])),
        named("incomplete-frame", w(64, 255, &[f(true, 2, &env)[..4].to_vec()])),
        named("zero-limit", w(0, 255, &[f(true, 2, b""), f(true, 2, b"x")])),
    ]
}
