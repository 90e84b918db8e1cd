//! Entry points for fuzzing the code that reads hostile bytes: envelope
//! decoding in both codecs, game input payloads through a [`Schema`],
//! subprotocol negotiation, message reassembly, and the raw frame stream.
//!
//! Each entry point takes arbitrary bytes, must never panic on them, and
//! asserts the invariants that hold for every input (a panic *is* the
//! finding). Two callers run them: the `cargo fuzz` targets in
//! `framework/fuzz/` (nightly, run by hand) and the stable test
//! `framework/tests/fuzz/` that replays the saved corpus and runs proptest
//! properties against the same functions, on every CI run.
//! `docs/security.md` says how to run and extend them.
//!
//! Not a public API: it exists so that the fuzz crate, which lives outside
//! the workspace, can reach crate-private parsers.
//!
//! ```
//! // Every target accepts any bytes at all.
//! for (_name, target) in playhouse::fuzzing::TARGETS {
//!     target(b"\x81\xa4kind\xc0");
//! }
//! ```

mod frames;

pub use frames::{read_wire, reassembly, wire, WireOutcome};

use crate::protocol::envelope::{client_msg::Kind, ClientMsg};
use crate::protocol::{Codec, NegotiationError, Negotiator, Schema, Token};
use actix_web::http::header::HeaderValue;
use playhouse_testkit::probe::{v1, v2};
use std::sync::OnceLock;

/// A fuzz entry point: any bytes in, no panic out.
pub type Target = fn(&[u8]);

/// Every entry point, by the name of its `cargo fuzz` target and of its
/// corpus directory (`framework/fuzz/corpus/<name>/`).
pub const TARGETS: [(&str, Target); 6] = [
    ("envelope_msgpack", envelope_msgpack),
    ("envelope_proto", envelope_proto),
    ("input_payload", input_payload),
    ("subprotocol", subprotocol),
    ("reassembly", reassembly),
    ("wire", wire),
];

/// A `ClientMsg` in MessagePack, as a `*.msgpack` connection receives it.
pub fn envelope_msgpack(data: &[u8]) {
    decode_envelope(Codec::MsgPack, data);
}

/// A `ClientMsg` in protobuf, as a `*.proto` connection receives it.
pub fn envelope_proto(data: &[u8]) {
    decode_envelope(Codec::Proto, data);
}

/// Decodes `data` as the game connection does: the envelope, then (for an
/// `Input`) its payload through the arena schema in both versions. Returns
/// the envelope if it decodes.
///
/// Asserts: a decoded envelope re-encodes, and decoding that encoding gives
/// the same envelope (nothing is lost or invented between decode and encode).
pub fn decode_envelope(codec: Codec, data: &[u8]) -> Option<ClientMsg> {
    let msg: ClientMsg = codec.decode(data).ok()?;
    let again = codec.encode_to_vec(&msg).expect("a decoded envelope encodes");
    let back: ClientMsg = codec.decode(&again).expect("a re-encoded envelope decodes");
    assert_eq!(back, msg, "{codec} envelope changed across decode → encode → decode");
    if let Some(Kind::Input(i)) = &msg.kind {
        for version in [1, 2] {
            decode_input(version, codec, &i.payload);
        }
    }
    Some(msg)
}

/// A game input payload: the first byte picks the codec (bit 0: MessagePack)
/// and the schema version (bit 1: v1, else v2), the rest is the payload.
pub fn input_payload(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else { return };
    let codec = if selector & 1 == 1 { Codec::MsgPack } else { Codec::Proto };
    let version = if selector & 2 == 2 { 1 } else { 2 };
    decode_input(version, codec, payload);
}

/// The arena schema (v2 current, v1 through an adapter), as `arena` serves it.
fn schema() -> &'static Schema<(v2::Input, v2::Output, v2::Output)> {
    static SCHEMA: OnceLock<Schema<(v2::Input, v2::Output, v2::Output)>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::new()
            .current(2)
            .version(
                1,
                |i: v1::Input| v2::Input {
                    move_x: i.move_x,
                    move_y: i.move_y,
                    fire: i.fire,
                    aim_x: i.aim_x,
                    aim_y: i.aim_y,
                    sprint: false,
                },
                |_: &v2::Output| v1::Output::default(),
                |_: &v2::Output| v1::Output::default(),
            )
            .expect("v1 is defined once")
    })
}

/// Decodes a payload of `version` through the schema. Returns the input.
///
/// Asserts: the schema decodes exactly what the version's own type decodes,
/// and re-encoding reaches a fixed point after one round (compared as
/// bytes: a NaN aim is not equal to itself).
pub fn decode_input(version: u32, codec: Codec, payload: &[u8]) -> Option<v2::Input> {
    let via_schema = schema().decode_input(version, codec, payload);
    let direct = match version {
        1 => codec.decode::<v1::Input>(payload).is_ok(),
        _ => codec.decode::<v2::Input>(payload).is_ok(),
    };
    assert_eq!(via_schema.is_ok(), direct, "v{version} {codec}: the schema and the wire type disagree");
    let input = via_schema.ok()?;
    let once = codec.encode_to_vec(&input).expect("an input encodes");
    let decoded: v2::Input = codec.decode(&once).expect("a re-encoded input decodes");
    let twice = codec.encode_to_vec(&decoded).expect("an input encodes");
    assert_eq!(once, twice, "{codec} input encoding is not stable");
    Some(input)
}

/// `Sec-WebSocket-Protocol` header lines against a server whose versions and
/// codecs come from the first byte: bits 0–3 serve v1–v4, bit 4 prefers
/// msgpack, bit 5 serves one codec only. The rest is header lines, split at
/// `\n`. Each line is offered as the server sees it (only lines that are a
/// valid, visible-ASCII header value), and separately as any UTF-8 string
/// (the [`Negotiator`] API takes `&str`).
pub fn subprotocol(data: &[u8]) {
    let Some((&config, rest)) = data.split_first() else { return };
    let versions = (1..=4u32).filter(|v| config & (1 << (v - 1)) != 0);
    let mut codecs = if config & 0x10 != 0 { vec![Codec::MsgPack, Codec::Proto] } else { Codec::ALL.to_vec() };
    if config & 0x20 != 0 {
        codecs.truncate(1);
    }
    let n = Negotiator::new("arena", versions, codecs);
    let lines: Vec<&[u8]> = rest.split(|&b| b == b'\n').collect();
    let as_headers: Vec<HeaderValue> = lines.iter().filter_map(|l| HeaderValue::from_bytes(l).ok()).collect();
    let header_strs: Vec<&str> = as_headers.iter().filter_map(|v| v.to_str().ok()).collect();
    negotiate(&n, &header_strs);
    let utf8: Vec<&str> = lines.iter().filter_map(|l| std::str::from_utf8(l).ok()).collect();
    negotiate(&n, &utf8);
}

/// Negotiates `headers` with `n` and checks the answer against the rule in
/// `docs/protocol.md` §2.2. Returns the chosen token.
///
/// Asserts: a chosen token was offered byte for byte and is served; no
/// offered token has a higher served version, or the same version in a
/// codec the server prefers; a refusal says "no header" exactly when nothing
/// was offered; a token that parses prints back as the same text.
pub fn negotiate(n: &Negotiator, headers: &[&str]) -> Option<Token> {
    let offered: Vec<&str> =
        headers.iter().flat_map(|h| h.split(',')).map(str::trim).filter(|t| !t.is_empty()).collect();
    let parsed: Vec<Token> = offered
        .iter()
        .filter_map(|t| {
            let tok = t.parse::<Token>().ok()?;
            assert_eq!(tok.to_string(), *t, "a token that parses prints back as itself");
            Some(tok)
        })
        .filter(|t| t.app == n.app())
        .collect();
    let supported = n.supported();
    let rank = |t: &Token| supported.iter().position(|s| s == t);
    let best = parsed.iter().filter_map(|t| rank(t).map(|r| (r, t))).min_by_key(|(r, _)| *r);
    match n.negotiate(headers.iter().copied()) {
        Ok(chosen) => {
            assert!(offered.contains(&chosen.to_string().as_str()), "{chosen} was not offered: {offered:?}");
            assert_eq!(best.map(|(_, t)| t), Some(&chosen), "not the best shared token");
            Some(chosen)
        }
        Err(NegotiationError::NoHeader { .. }) => {
            assert!(offered.is_empty(), "NoHeader although {offered:?} was offered");
            None
        }
        Err(NegotiationError::NoSharedToken { .. }) => {
            assert!(!offered.is_empty(), "NoSharedToken with nothing offered");
            assert!(best.is_none(), "refused although {:?} is shared", best.map(|(_, t)| t));
            None
        }
    }
}
