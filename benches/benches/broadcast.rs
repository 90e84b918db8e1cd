//! Criterion bench: one tick's state broadcast to 100 clients through the
//! real `RoomCore`, encoded once per (version, codec) group as Playhouse
//! does, against the naive alternative of encoding the same state once per
//! client. Both variants hand every client its frame through the same
//! `Outbox` and drain it, so the difference is the encoding strategy alone.
//!
//! ```text
//! cargo bench -p playhouse-benches --bench broadcast
//! ```

use arena::proto::v2;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use playhouse::prelude::*;
use playhouse::protocol::envelope::{server_msg::Kind, InputAck, ServerMsg, State};
use playhouse::protocol::{RoomId, SessionId};
use playhouse::room::RoomCore;
use playhouse::session::{JoinRequest, Outbox, OutboxLimits};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 100;

/// A realistic arena state: 20 moving players with names and scores.
fn arena_state(tick: u64) -> v2::State {
    let players = (0..20u32)
        .map(|i| {
            let t = tick as f32 * 0.033 + i as f32;
            v2::Player {
                id: i + 1,
                x: 50.0 + 40.0 * t.cos(),
                y: 50.0 + 40.0 * t.sin(),
                score: (i * 37 + tick as u32) as i32,
                vx: -10.0 * t.sin(),
                vy: 10.0 * t.cos(),
                name: format!("player-{i:02}"),
                hp: 100,
                alive: true,
                respawn_ms: 0,
                color: 0x30_80_f0 + i * 0x0a_0b_0c,
            }
        })
        .collect();
    v2::State { players, ..Default::default() }
}

/// A room that broadcasts the arena state every tick.
struct Broadcaster;

impl Room for Broadcaster {
    type Wire = (v2::Input, v2::State, v2::Event);
    type Options = Options;
    fn on_create(_: &mut RoomContext<Self>, _: &Options) -> Result<Self, Reject> {
        Ok(Broadcaster)
    }
    fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, _: v2::Input) {}
    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _: Duration) {
        ctx.broadcast_state(&arena_state(ctx.tick()));
    }
}

fn outboxes() -> Vec<Arc<Outbox>> {
    (0..CLIENTS as u64).map(|i| Arc::new(Outbox::new(SessionId(i), OutboxLimits::default()))).collect()
}

/// A room core with 100 clients spread over `groups` (version, codec) groups.
fn room(groups: &[(u32, Codec)], boxes: &[Arc<Outbox>], t0: Instant) -> RoomCore<Broadcaster> {
    let schema = arena::schema().shared().expect("arena schema has versions");
    let spec = RoomType::new("bench", 30).max_clients(CLIENTS);
    let mut core = RoomCore::create("bench".into(), &spec, schema, &Options::new(), t0).expect("room");
    for (i, o) in boxes.iter().enumerate() {
        let (version, codec) = groups[i % groups.len()];
        let req = JoinRequest {
            request: 1,
            session: "s".into(),
            user: None,
            version,
            codec,
            outbox: o.clone(),
            options: Options::new(),
        };
        core.join(req, t0).expect("joins");
        o.drain();
    }
    core
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("broadcast_100_clients");
    g.measurement_time(Duration::from_secs(3)).sample_size(40);
    let period = Duration::from_nanos(33_333_333);

    for (name, groups) in [
        ("once_per_group/1_group", vec![(2, Codec::Proto)]),
        (
            "once_per_group/4_groups",
            vec![(2, Codec::Proto), (2, Codec::MsgPack), (1, Codec::Proto), (1, Codec::MsgPack)],
        ),
    ] {
        let boxes = outboxes();
        let t0 = Instant::now();
        let mut core = room(&groups, &boxes, t0);
        let mut k = 0u32;
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                k += 1;
                black_box(core.poll(t0 + period * k));
                for o in &boxes {
                    black_box(o.drain());
                }
            })
        });
    }

    // The naive way: the same state, encoded (payload + envelope) per client.
    let boxes = outboxes();
    let schema = arena::schema();
    let room_id: RoomId = "bench".into();
    let mut tick = 0u64;
    g.bench_function(BenchmarkId::from_parameter("once_per_client"), |b| {
        b.iter(|| {
            tick += 1;
            let out = arena_state(tick);
            let now = Instant::now();
            for (i, o) in boxes.iter().enumerate() {
                let mut payload = Vec::new();
                schema.encode_state(2, Codec::Proto, &out, &mut payload).expect("encodes");
                let acks = vec![InputAck { client: i as u32 + 1, seq: 0 }];
                let state = State {
                    room: room_id.to_string(),
                    tick,
                    acks,
                    payload: payload.into(),
                    baseline: 0,
                    compression: 0,
                };
                let frame =
                    Codec::Proto.encode_to_vec(&ServerMsg { kind: Some(Kind::State(state)), seq: 0 }).expect("encodes");
                o.push_state(&room_id, Bytes::from(frame), now);
            }
            for o in &boxes {
                black_box(o.drain());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
