//! proptest properties for the fuzz entry points: arbitrary bytes never
//! panic them, valid messages round-trip, and structured inputs reach the
//! code paths random bytes rarely do (the entry points assert their own
//! invariants on every run).

use super::bytes::{bare_header, frame, reassembly_input, wire_input};
use playhouse::fuzzing::{self, WireOutcome, TARGETS};
use playhouse::protocol::envelope::{client_msg::Kind as C, *};
use playhouse::protocol::{CloseCode, Codec, Negotiator};
use playhouse_testkit::probe::{v1, v2};
use proptest::collection::{hash_map, vec};
use proptest::prelude::*;

fn options() -> impl Strategy<Value = std::collections::HashMap<String, String>> {
    hash_map("\\PC{0,8}", "\\PC{0,8}", 0..3)
}

/// A `ClientMsg` of any kind with any field values.
fn any_client_msg() -> impl Strategy<Value = ClientMsg> {
    let kind = prop_oneof![
        "\\PC{0,16}".prop_map(|client| C::Hello(Hello { client })),
        ("\\PC{0,16}", any::<u64>()).prop_map(|(token, last_seq)| C::Resume(Resume { token, last_seq })),
        (any::<u32>(), "\\PC{0,12}", options(), "\\PC{0,12}").prop_map(|(request, room, options, reservation)| {
            C::Join(Join { request, room, options, reservation })
        }),
        (any::<u32>(), "\\PC{0,12}", options())
            .prop_map(|(request, room_type, options)| C::JoinOrCreate(JoinOrCreate { request, room_type, options })),
        (any::<u32>(), "\\PC{0,12}", options()).prop_map(|(request, room_type, options)| C::Create(Create {
            request,
            room_type,
            options
        })),
        "\\PC{0,12}".prop_map(|room| C::Leave(Leave { room })),
        ("\\PC{0,12}", any::<u32>(), vec(any::<u8>(), 0..64)).prop_map(|(room, seq, payload)| C::Input(Input {
            room,
            seq,
            payload: payload.into()
        })),
        any::<u64>().prop_map(|client_time| C::Ping(Ping { client_time })),
        any::<u64>().prop_map(|seq| C::Ack(Ack { seq })),
    ];
    prop::option::weighted(0.95, kind).prop_map(|kind| ClientMsg { kind })
}

fn any_codec() -> impl Strategy<Value = Codec> {
    prop_oneof![Just(Codec::Proto), Just(Codec::MsgPack)]
}

fn any_input() -> impl Strategy<Value = v2::Input> {
    (any::<i32>(), any::<i32>(), any::<bool>(), any::<bool>(), -1e6f32..1e6, -1e6f32..1e6).prop_map(
        |(move_x, move_y, sprint, fire, aim_x, aim_y)| v2::Input { move_x, move_y, sprint, fire, aim_x, aim_y },
    )
}

/// A piece of a `Sec-WebSocket-Protocol` list: mostly near-misses.
fn token_piece() -> impl Strategy<Value = String> {
    let app = prop_oneof![Just("arena"), Just("chess"), Just("Arena"), Just("")];
    let version = prop_oneof![Just("v1"), Just("v2"), Just("v3"), Just("v4"), Just("v0"), Just("v02"), Just("2")];
    let codec = prop_oneof![Just("proto"), Just("msgpack"), Just("json")];
    prop_oneof![
        4 => (app, version, codec).prop_map(|(a, v, c)| format!("{a}.{v}.{c}")),
        1 => "[ -~]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_any_target(data in vec(any::<u8>(), 0..600)) {
        for (_, target) in TARGETS {
            target(&data);
        }
    }

    #[test]
    fn every_kind_of_envelope_round_trips_in_both_codecs(msg in any_client_msg(), codec in any_codec()) {
        let bytes = codec.encode_to_vec(&msg).expect("encodes");
        prop_assert_eq!(fuzzing::decode_envelope(codec, &bytes), Some(msg));
    }

    /// The bad-input suite relies on this: a truncated envelope is a 1007,
    /// never a different message (or, when empty, "no kind").
    #[test]
    fn a_cut_envelope_never_decodes_and_flipped_bits_never_panic(
        msg in any_client_msg(), codec in any_codec(), cut in any::<prop::sample::Index>(), flips in vec(any::<prop::sample::Index>(), 1..4),
    ) {
        let bytes = codec.encode_to_vec(&msg).expect("encodes");
        if bytes.len() > 1 {
            let at = 1 + cut.index(bytes.len() - 1);
            prop_assert_eq!(fuzzing::decode_envelope(codec, &bytes[..at]), None, "{} of {} bytes decoded", at, bytes.len());
        }
        if !bytes.is_empty() {
            let mut flipped = bytes.clone();
            for f in &flips {
                let i = f.index(flipped.len() * 8);
                flipped[i / 8] ^= 1 << (i % 8);
            }
            fuzzing::decode_envelope(codec, &flipped);
        }
    }

    #[test]
    fn inputs_round_trip_through_the_schema_in_both_versions(input in any_input(), codec in any_codec()) {
        let bytes = codec.encode_to_vec(&input).expect("encodes");
        prop_assert_eq!(fuzzing::decode_input(2, codec, &bytes), Some(input));
        let old = v1::Input { move_x: input.move_x, move_y: input.move_y, fire: input.fire, aim_x: input.aim_x, aim_y: input.aim_y };
        let bytes = codec.encode_to_vec(&old).expect("encodes");
        prop_assert_eq!(fuzzing::decode_input(1, codec, &bytes), Some(v2::Input { sprint: false, ..input }));
    }

    #[test]
    fn negotiation_picks_the_best_offered_token(
        lines in vec(vec(token_piece(), 0..5), 0..3), versions in vec(1u32..5, 0..4), msgpack_first in any::<bool>(),
    ) {
        let codecs = if msgpack_first { [Codec::MsgPack, Codec::Proto] } else { Codec::ALL };
        let n = Negotiator::new("arena", versions.clone(), codecs);
        let joined: Vec<String> = lines.iter().map(|l| l.join(", ")).collect();
        let headers: Vec<&str> = joined.iter().map(String::as_str).collect();
        let chosen = fuzzing::negotiate(&n, &headers);
        let served = |p: &String| n.supported().iter().any(|t| t.to_string() == *p);
        prop_assert_eq!(chosen.is_some(), lines.iter().flatten().any(served), "{:?} against {:?}", headers, versions);
    }

    #[test]
    fn structured_fragment_sequences_agree_with_the_model(
        limit in 0u8..8, items in vec((0u8..6, vec(prop_oneof![Just(&b"a"[..]), Just(&b"\xe2"[..]), Just(&b"\x82\xac"[..]), Just(&b"\xff"[..])], 0..6)), 0..12),
    ) {
        let items: Vec<(u8, Vec<u8>)> = items.into_iter().map(|(k, parts)| (k, parts.concat())).collect();
        let refs: Vec<(u8, &[u8])> = items.iter().map(|(k, p)| (*k, p.as_slice())).collect();
        fuzzing::reassembly(&reassembly_input(limit, &refs));
    }

    /// Valid frames, fragmented and read in chunks of any size, deliver
    /// every message; an oversized header after them is a 1009.
    #[test]
    fn valid_frame_streams_deliver_every_message_however_they_are_read(
        sizes in vec(0usize..=256, 1..6), pieces in 1usize..4, chunk in any::<u8>(), oversized in any::<bool>(),
    ) {
        let mut frames = Vec::new();
        for size in &sizes {
            let payload = vec![0x5a; *size];
            let per = size.div_ceil(pieces).max(1);
            let parts: Vec<&[u8]> = if payload.is_empty() { vec![&[]] } else { payload.chunks(per).collect() };
            for (i, part) in parts.iter().enumerate() {
                let opcode = if i == 0 { 2 } else { 0 };
                frames.push(frame(i + 1 == parts.len(), opcode, part, true));
            }
            frames.push(frame(true, 9, b"ping", true));
        }
        if oversized {
            frames.push(bare_header(2, 16 * 16 + 1));
        }
        let outcome = fuzzing::read_wire(&wire_input(16, chunk, &frames));
        let want = if oversized { WireOutcome::Closed(CloseCode::TooBig) } else { WireOutcome::Open { messages: sizes.len() } };
        prop_assert_eq!(outcome, want);
    }
}
