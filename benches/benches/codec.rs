//! Codec micro-benchmarks: what one broadcast of a realistic arena state
//! costs in each codec.
//!
//! The message is the sample game's `arena.v2.Output::State` with 20
//! players (positions, velocities, names, scores), wrapped as the server
//! sends it: `ServerMsg::State { room, tick, acks (20 InputAck), payload }`.
//!
//! - `arena_state_20/encode/<codec>`: the server's per-group work — encode
//!   the game payload, build the envelope (room id, 20 acks), encode it.
//! - `arena_state_20/decode/<codec>`: the client's work — decode the
//!   envelope, then the game payload.
//!
//! - `arena_state_20/deflate/<codec>`: the server's compression of that
//!   payload for the clients that asked (docs/protocol.md §4.6; once per
//!   group, shared by those clients).
//! - `arena_state_20/inflate/<codec>`: the client's inflate of it, before
//!   its decode.
//!
//! Run: `cargo bench -p playhouse-benches --bench codec` (about 30 s). The
//! encoded and compressed sizes are printed once on stderr.

use arena::proto::v2::{output::Kind, Output, Player, State as ArenaState};
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use playhouse::protocol::Codec;
use playhouse_protocol::compress;
use playhouse_protocol::envelope::{server_msg, InputAck, ServerMsg, State};
use std::hint::black_box;
use std::time::Duration;

const NAMES: [&str; 20] = [
    "Aria", "Bjorn", "Chidi", "Dana", "Elif", "Farid", "Gwen", "Hiro", "Ines", "Jonas", "Kenji", "Lena", "Mateo",
    "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tomasz",
];
const ROOM: &str = "arena-7f3a9c1e";
const TICK: u64 = 48_213;

/// 20 players spread over a 1000×1000 arena, moving, with scores.
fn arena_output() -> Output {
    let players = (0..20u32)
        .map(|i| {
            let f = i as f32;
            Player {
                id: i + 1,
                x: 37.25 + f * 47.913,
                y: 912.5 - f * 41.377,
                score: (i as i32 * 173 + 41) % 2400,
                vx: (f * 0.7).sin() * 180.0,
                vy: (f * 1.3).cos() * 180.0,
                name: format!("{}#{:04}", NAMES[i as usize], 1000 + i * 137),
                hp: 100 - (i * 7) % 100,
                alive: i % 5 != 0,
                respawn_ms: if i % 5 == 0 { 1500 } else { 0 },
                color: 0x30_80_f0 + i * 0x0a_0b_0c,
            }
        })
        .collect();
    Output { kind: Some(Kind::State(ArenaState { players, width: 1000.0, height: 1000.0, ..Default::default() })) }
}

fn acks() -> Vec<InputAck> {
    (0..20u32).map(|i| InputAck { client: i + 1, seq: 1_400 + i * 13 }).collect()
}

/// The server's per-group encode: payload, envelope, envelope bytes.
fn encode(codec: Codec, out: &Output, acks: &[InputAck], buf: &mut Vec<u8>) {
    let payload = codec.encode_to_vec(out).expect("encode payload");
    let msg = ServerMsg {
        kind: Some(server_msg::Kind::State(State {
            room: ROOM.to_string(),
            tick: TICK,
            acks: acks.to_vec(),
            payload: Bytes::from(payload),
            baseline: 0,
            compression: 0,
        })),
        seq: 0,
    };
    buf.clear();
    codec.encode(&msg, buf).expect("encode envelope");
}

/// The client's decode: envelope, then payload.
fn decode(codec: Codec, bytes: &[u8]) -> Output {
    let msg: ServerMsg = codec.decode(bytes).expect("decode envelope");
    match msg.kind {
        Some(server_msg::Kind::State(s)) => codec.decode(&s.payload).expect("decode payload"),
        other => panic!("not a state: {other:?}"),
    }
}

fn bench_arena_state(c: &mut Criterion) {
    let out = arena_output();
    let acks = acks();
    let mut group = c.benchmark_group("arena_state_20");
    group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500)).sample_size(30);
    for codec in [Codec::MsgPack, Codec::Proto] {
        let mut wire = Vec::new();
        encode(codec, &out, &acks, &mut wire);
        let payload_len = codec.encode_to_vec(&out).expect("encode payload").len();
        eprintln!("arena_state_20 {codec}: envelope {} bytes (game payload {payload_len} bytes)", wire.len());
        assert_eq!(decode(codec, &wire), out, "{codec} round trip");
        group.throughput(Throughput::Bytes(wire.len() as u64));

        let mut buf = Vec::with_capacity(wire.len());
        group.bench_function(format!("encode/{codec}"), |b| {
            b.iter(|| {
                encode(codec, black_box(&out), black_box(&acks), &mut buf);
                black_box(buf.len())
            })
        });
        group.bench_function(format!("decode/{codec}"), |b| b.iter(|| decode(codec, black_box(&wire))));

        let payload = codec.encode_to_vec(&out).expect("encode payload");
        let mut z = Vec::new();
        compress::deflate(&payload, &mut z).expect("deflates");
        eprintln!("arena_state_20 {codec}: payload {} bytes, deflated {} bytes", payload.len(), z.len());
        group.throughput(Throughput::Bytes(payload.len() as u64));
        let mut deflater = compress::Deflater::new();
        group.bench_function(format!("deflate/{codec}"), |b| {
            b.iter(|| {
                buf.clear();
                deflater.deflate(black_box(&payload), &mut buf).expect("deflates");
                black_box(buf.len())
            })
        });
        let mut inflater = compress::Inflater::new();
        group.bench_function(format!("inflate/{codec}"), |b| {
            b.iter(|| {
                buf.clear();
                inflater.inflate(black_box(&z), 1 << 20, &mut buf).expect("inflates");
                black_box(buf.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_arena_state);
criterion_main!(benches);
