//! Bots: [`Bot`], the brain (a plain struct: state in → input out), and
//! [`run_bot`] / [`run_bot_with`], one bot over a real connection.
//!
//! The brain goes for the nearest pickup (health first when hurt), aims at
//! the nearest living opponent within [`FIGHT_RANGE`] (leading moving
//! targets) and fires, strafing sideways while it fights, and wanders when
//! there is nothing to do. It is deterministic given its seed and the
//! states it sees.
//!
//! The runner connects offering one token, joins (join-or-create `arena`,
//! or a given room id) with a name, sends one input per received state with
//! seq 1, 2, 3…, and counts what it receives: frames and bytes (the size of
//! each binary frame, measured by re-encoding the decoded envelope with the
//! same codec, which gives the same bytes), states, events by kind, ticks
//! missed, errors. A v1 bot decodes v1 payloads and sends v1 inputs.

use crate::sim::{self, HEIGHT, PLAYER_RADIUS, WIDTH};
use playhouse::protocol::{Codec, WireMessage};
use playhouse_client::envelope::{server_msg, ServerMsg};
use playhouse_client::{Client, ClientError, Event};
use playhouse_proto::arena::{v1, v2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// Opponents farther than this are ignored (units).
pub const FIGHT_RANGE: f32 = 400.0;

/// The bot brain.
#[derive(Debug, Clone)]
pub struct Bot {
    rng: StdRng,
    strafe: f32,
    strafe_ticks: u32,
    wander: Option<(f32, f32)>,
}

/// -1, 0 or 1 for one component of a unit vector (8 directions).
fn axis(v: f32) -> i32 {
    if v > 0.38 {
        1
    } else if v < -0.38 {
        -1
    } else {
        0
    }
}

fn norm(x: f32, y: f32) -> (f32, f32) {
    let len = (x * x + y * y).sqrt();
    if len > 1e-6 {
        (x / len, y / len)
    } else {
        (0.0, 0.0)
    }
}

impl Bot {
    /// A brain whose random choices (strafe timing, wandering, aim jitter)
    /// come from `seed`.
    pub fn new(seed: u64) -> Bot {
        Bot { rng: StdRng::seed_from_u64(seed), strafe: 1.0, strafe_ticks: 0, wander: None }
    }

    /// The input for player `me` given the latest state.
    pub fn think(&mut self, me: u32, state: &v2::State) -> v2::Input {
        let Some(p) = state.players.iter().find(|p| p.id == me) else { return v2::Input::default() };
        let intermission = state.round.is_some_and(|r| r.intermission);
        if !p.alive || intermission {
            self.wander = None;
            return v2::Input::default();
        }
        // The nearest pickup, health counting as nearer when hurt.
        let pickup = state
            .pickups
            .iter()
            .map(|k| {
                let d = ((k.x - p.x).powi(2) + (k.y - p.y).powi(2)).sqrt();
                let w = if k.kind == v2::PickupKind::Health as i32 && p.hp <= 50 { 0.4 } else { 1.0 };
                (d * w, d, k)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0));
        // The nearest living opponent in range.
        let enemy = state
            .players
            .iter()
            .filter(|o| o.id != me && o.alive)
            .map(|o| (((o.x - p.x).powi(2) + (o.y - p.y).powi(2)).sqrt(), o))
            .filter(|(d, _)| *d <= FIGHT_RANGE)
            .min_by(|a, b| a.0.total_cmp(&b.0));

        let (mut mx, mut my, sprint) = if let Some((_, d, k)) = pickup {
            self.wander = None;
            let (x, y) = norm(k.x - p.x, k.y - p.y);
            (x, y, d > 200.0)
        } else if let Some((d, o)) = enemy {
            let (ex, ey) = norm(o.x - p.x, o.y - p.y);
            let toward = if d > 300.0 {
                1.0
            } else if d < 150.0 {
                -1.0
            } else {
                0.0
            };
            (ex * toward, ey * toward, false)
        } else {
            let (wx, wy) = *self.wander.get_or_insert_with(|| {
                (
                    self.rng.random_range(PLAYER_RADIUS..WIDTH - PLAYER_RADIUS),
                    self.rng.random_range(PLAYER_RADIUS..HEIGHT - PLAYER_RADIUS),
                )
            });
            if (wx - p.x).abs() < 20.0 && (wy - p.y).abs() < 20.0 {
                self.wander = None;
            }
            let (x, y) = norm(wx - p.x, wy - p.y);
            (x, y, false)
        };

        let mut input = v2::Input { sprint, ..Default::default() };
        if let Some((d, o)) = enemy {
            // Strafe: sideways to the line of fire, flipping now and then.
            if self.strafe_ticks == 0 {
                self.strafe = if self.rng.random_bool(0.5) { 1.0 } else { -1.0 };
                self.strafe_ticks = self.rng.random_range(15..45);
            }
            self.strafe_ticks -= 1;
            let (ex, ey) = norm(o.x - p.x, o.y - p.y);
            (mx, my) = norm(mx + -ey * self.strafe * 0.7, my + ex * self.strafe * 0.7);
            // Lead the target by its velocity over the projectile's flight.
            let t = d / sim::PROJECTILE_SPEED;
            let jitter = self.rng.random_range(-0.05f32..0.05);
            let (ax, ay) = (o.x + o.vx * t - p.x, o.y + o.vy * t - p.y);
            let (s, c) = jitter.sin_cos();
            (input.aim_x, input.aim_y) = (ax * c - ay * s, ax * s + ay * c);
            input.fire = input.aim_x != 0.0 || input.aim_y != 0.0;
        }
        (input.move_x, input.move_y) = (axis(mx), axis(my));
        input
    }
}

/// A v1 state as the v2 state the brain reads (no names, velocities or
/// pickup kinds; the round is not in intermission while time is left).
pub fn state_from_v1(s: &v1::State) -> v2::State {
    v2::State {
        players: s
            .players
            .iter()
            .map(|p| v2::Player {
                id: p.id,
                x: p.x,
                y: p.y,
                score: p.score,
                hp: p.hp,
                alive: p.alive,
                ..Default::default()
            })
            .collect(),
        pickups: s.pickups.iter().map(|k| v2::Pickup { id: k.id, x: k.x, y: k.y, kind: 0 }).collect(),
        projectiles: s
            .projectiles
            .iter()
            .map(|p| v2::Projectile { id: p.id, x: p.x, y: p.y, owner: p.owner, ..Default::default() })
            .collect(),
        round: Some(v2::Round {
            number: 0,
            remaining_ms: s.round_remaining_ms,
            intermission: s.round_remaining_ms == 0,
        }),
        width: s.width,
        height: s.height,
    }
}

/// A v2 input in v1 shape (sprint dropped).
pub fn input_to_v1(i: &v2::Input) -> v1::Input {
    v1::Input { move_x: i.move_x, move_y: i.move_y, fire: i.fire, aim_x: i.aim_x, aim_y: i.aim_y }
}

/// How one bot plays and what it records.
#[derive(Debug)]
pub struct BotConfig {
    /// `ws://host:port/ws`.
    pub url: String,
    /// The token to offer, e.g. `arena.v2.proto`.
    pub token: String,
    /// Join option `name`.
    pub name: String,
    /// Room type for join-or-create.
    pub room_type: String,
    /// Join this room id instead of join-or-create.
    pub room: Option<String>,
    /// More join options (e.g. `seed` for the room a join-or-create creates).
    pub options: HashMap<String, String>,
    /// The brain's seed.
    pub seed: u64,
    /// Counters ignore what arrives in the first `warmup` after the join.
    pub warmup: Duration,
    /// Keep one [`Sample`] per state (tests).
    pub samples: bool,
    /// Estimate how large a delta encoding of each state would be.
    pub measure_delta: bool,
    /// Told the room id once joined (or why the join failed).
    pub joined: Option<oneshot::Sender<Result<String, String>>>,
}

impl BotConfig {
    /// A bot that join-or-creates an `arena` room as `name`.
    pub fn new(url: &str, token: &str, name: &str) -> BotConfig {
        let seed =
            name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3));
        BotConfig {
            url: url.to_string(),
            token: token.to_string(),
            name: name.to_string(),
            room_type: "arena".to_string(),
            room: None,
            options: HashMap::new(),
            seed,
            warmup: Duration::ZERO,
            samples: false,
            measure_delta: false,
            joined: None,
        }
    }
}

/// One received state, as the tests look at it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sample {
    /// The state's tick.
    pub tick: u64,
    /// Players in it.
    pub players: usize,
    /// This bot's position, if it is in the state.
    pub me: Option<(f32, f32)>,
    /// Sum of all scores.
    pub total_score: i64,
    /// Sum of all hp.
    pub total_hp: u64,
    /// This bot's input ack in the state.
    pub ack: u32,
}

/// What a delta encoding could save, averaged over the measured states.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DeltaEstimate {
    /// States compared (each with the one before).
    pub states: u64,
    /// Average `State.payload` size, bytes.
    pub avg_payload_bytes: f64,
    /// Average bytes of players identical to the previous state.
    pub avg_unchanged_player_bytes: f64,
    /// Average bytes of pickups identical to the previous state.
    pub avg_unchanged_pickup_bytes: f64,
    /// Average players per state / of them unchanged.
    pub avg_players: f64,
    /// Average unchanged players per state.
    pub avg_unchanged_players: f64,
    /// Payload − unchanged entities + 3 bytes per removed entity (an id):
    /// what a per-entity delta against the previous state would weigh.
    pub avg_estimated_delta_bytes: f64,
    /// As above, but a changed player costs only its id and changed fields
    /// (a field-level delta of players; pickups per entity, projectiles whole).
    pub avg_field_delta_bytes: f64,
}

/// What one bot did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BotReport {
    /// The bot's name.
    pub name: String,
    /// The negotiated token.
    pub token: String,
    /// The room it played in.
    pub room: String,
    /// Its client id there.
    pub client: u32,
    /// Seconds counted (from the end of the warm-up to the stop).
    pub measured_s: f64,
    /// States counted.
    pub states: u64,
    /// Reliable messages (events) counted.
    pub messages: u64,
    /// Bytes of the state frames counted.
    pub state_bytes: u64,
    /// Bytes of all binary frames counted (states, messages, the rest).
    pub bytes: u64,
    /// Inputs sent (whole run).
    pub inputs_sent: u64,
    /// Events by kind (v2 names; v1 events are all `text`), whole run.
    pub events: BTreeMap<String, u64>,
    /// First and last tick seen.
    pub ticks: Option<(u64, u64)>,
    /// Ticks missing between consecutive states (whole run).
    pub missed_ticks: u64,
    /// Errors: connect, join, decode, server `Error`s, unexpected close.
    pub errors: Vec<String>,
    /// One per state, if asked for.
    #[serde(skip)]
    pub samples: Vec<Sample>,
    /// The delta estimate, if asked for.
    pub delta: Option<DeltaEstimate>,
}

/// Runs a bot that join-or-creates `arena` with `token` as `name` until
/// `stop` turns true (or its sender is dropped), then closes normally.
pub async fn run_bot(url: &str, token: &str, name: &str, stop: watch::Receiver<bool>) -> BotReport {
    run_bot_with(BotConfig::new(url, token, name), stop).await
}

/// The per-entity encodings of one state, by id, for the delta estimate;
/// `fields` holds the players again (as v2) to diff them field by field.
#[derive(Default)]
struct Entities {
    players: HashMap<u32, Vec<u8>>,
    pickups: HashMap<u32, Vec<u8>>,
    fields: HashMap<u32, v2::Player>,
}

/// A player's changed fields only, in MessagePack's shape (absent keys
/// omitted), to size a field-level delta.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct PlayerDiff {
    id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    x: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    y: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vx: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vy: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hp: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alive: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    respawn_ms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<u32>,
}

/// Bytes of a player's changed fields (plus its id) in `codec`.
fn field_diff_bytes(codec: Codec, old: &v2::Player, new: &v2::Player) -> usize {
    fn ch<T: PartialEq + Clone>(a: &T, b: &T) -> Option<T> {
        (a != b).then(|| b.clone())
    }
    match codec {
        Codec::Proto => {
            // Unchanged fields left at their default are omitted on the wire.
            let d = v2::Player {
                id: new.id,
                x: ch(&old.x, &new.x).unwrap_or_default(),
                y: ch(&old.y, &new.y).unwrap_or_default(),
                score: ch(&old.score, &new.score).unwrap_or_default(),
                vx: ch(&old.vx, &new.vx).unwrap_or_default(),
                vy: ch(&old.vy, &new.vy).unwrap_or_default(),
                name: ch(&old.name, &new.name).unwrap_or_default(),
                hp: ch(&old.hp, &new.hp).unwrap_or_default(),
                alive: ch(&old.alive, &new.alive).unwrap_or_default(),
                respawn_ms: ch(&old.respawn_ms, &new.respawn_ms).unwrap_or_default(),
                color: ch(&old.color, &new.color).unwrap_or_default(),
            };
            let len = prost::Message::encoded_len(&d);
            len + proto_overhead(codec, len)
        }
        Codec::MsgPack => {
            let d = PlayerDiff {
                id: new.id,
                x: ch(&old.x, &new.x),
                y: ch(&old.y, &new.y),
                score: ch(&old.score, &new.score),
                vx: ch(&old.vx, &new.vx),
                vy: ch(&old.vy, &new.vy),
                name: ch(&old.name, &new.name),
                hp: ch(&old.hp, &new.hp),
                alive: ch(&old.alive, &new.alive),
                respawn_ms: ch(&old.respawn_ms, &new.respawn_ms),
                color: ch(&old.color, &new.color),
            };
            let mut buf = Vec::new();
            let mut ser = rmp_serde::Serializer::new(&mut buf).with_struct_map();
            d.serialize(&mut ser).map_or(0, |_| buf.len())
        }
    }
}

fn proto_overhead(codec: Codec, len: usize) -> usize {
    match codec {
        // tag + length varint of a repeated message field
        Codec::Proto => 1 + (usize::BITS - len.max(1).leading_zeros()).div_ceil(7) as usize,
        Codec::MsgPack => 0,
    }
}

fn entity_map<T: WireMessage>(codec: Codec, items: &[T], id: impl Fn(&T) -> u32) -> HashMap<u32, Vec<u8>> {
    items.iter().map(|i| (id(i), codec.encode_to_vec(i).unwrap_or_default())).collect()
}

#[derive(Default)]
struct DeltaAcc {
    prev: Option<Entities>,
    n: u64,
    payload: u64,
    same_players: u64,
    same_pickups: u64,
    players: u64,
    same_player_count: u64,
    delta: u64,
    field_delta: u64,
}

impl DeltaAcc {
    fn add(&mut self, codec: Codec, payload_len: usize, now: Entities, counted: bool) {
        if let (Some(prev), true) = (self.prev.as_ref(), counted) {
            let same = |a: &HashMap<u32, Vec<u8>>, b: &HashMap<u32, Vec<u8>>| -> (u64, u64, u64) {
                let mut bytes = 0u64;
                let mut count = 0u64;
                for (id, v) in a {
                    if b.get(id) == Some(v) {
                        bytes += (v.len() + proto_overhead(codec, v.len())) as u64;
                        count += 1;
                    }
                }
                let removed = b.keys().filter(|id| !a.contains_key(id)).count() as u64;
                (bytes, count, removed)
            };
            let (pb, pc, pr) = same(&now.players, &prev.players);
            let (kb, _, kr) = same(&now.pickups, &prev.pickups);
            self.n += 1;
            self.payload += payload_len as u64;
            self.same_players += pb;
            self.same_pickups += kb;
            self.players += now.players.len() as u64;
            self.same_player_count += pc;
            self.delta += (payload_len as u64).saturating_sub(pb + kb) + 3 * (pr + kr);
            // Field level: a changed player saves its bytes minus its diff.
            let mut saved = pb + kb;
            for (id, bytes) in &now.players {
                match (prev.fields.get(id), now.fields.get(id)) {
                    (Some(old), Some(new)) if prev.players.get(id) != Some(bytes) => {
                        let full = bytes.len() + proto_overhead(codec, bytes.len());
                        saved += full.saturating_sub(field_diff_bytes(codec, old, new)) as u64;
                    }
                    _ => {}
                }
            }
            self.field_delta += (payload_len as u64).saturating_sub(saved) + 3 * (pr + kr);
        }
        self.prev = Some(now);
    }

    fn estimate(&self) -> DeltaEstimate {
        let n = self.n.max(1) as f64;
        DeltaEstimate {
            states: self.n,
            avg_payload_bytes: self.payload as f64 / n,
            avg_unchanged_player_bytes: self.same_players as f64 / n,
            avg_unchanged_pickup_bytes: self.same_pickups as f64 / n,
            avg_players: self.players as f64 / n,
            avg_unchanged_players: self.same_player_count as f64 / n,
            avg_estimated_delta_bytes: self.delta as f64 / n,
            avg_field_delta_bytes: self.field_delta as f64 / n,
        }
    }
}

fn event_name(kind: i32) -> String {
    v2::EventKind::try_from(kind).map_or_else(|_| format!("kind{kind}"), |k| k.as_str_name().to_string())
}

/// Runs one bot as configured until `stop`; never panics, errors go into
/// the report.
pub async fn run_bot_with(mut config: BotConfig, mut stop: watch::Receiver<bool>) -> BotReport {
    let mut report = BotReport { name: config.name.clone(), ..Default::default() };
    let joined_tx = config.joined.take();
    let mut client = match Client::connect(&config.url, &[config.token.as_str()]).await {
        Ok(c) => c,
        Err(e) => {
            report.errors.push(format!("connect: {e}"));
            if let Some(tx) = joined_tx {
                let _ = tx.send(Err(format!("connect: {e}")));
            }
            return report;
        }
    };
    report.token = client.protocol().to_string();
    let mut options = config.options.clone();
    options.insert("name".to_string(), config.name.clone());
    let joined = match &config.room {
        Some(room) => client.join(room, options).await,
        None => client.join_or_create(&config.room_type, options).await,
    };
    let joined = match joined {
        Ok(j) => j,
        Err(e) => {
            report.errors.push(format!("join: {e}"));
            if let Some(tx) = joined_tx {
                let _ = tx.send(Err(format!("join: {e}")));
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), client.close()).await;
            return report;
        }
    };
    if let Some(tx) = joined_tx {
        let _ = tx.send(Ok(joined.room.clone()));
    }
    (report.room, report.client) = (joined.room.clone(), joined.client);
    play(&mut client, &config, &joined.room, joined.client, &mut report, &mut stop).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), client.close()).await;
    report
}

async fn play(
    client: &mut Client,
    config: &BotConfig,
    room: &str,
    me: u32,
    report: &mut BotReport,
    stop: &mut watch::Receiver<bool>,
) {
    let codec = client.codec();
    let version = client.protocol().version;
    let mut brain = Bot::new(config.seed);
    let mut seq = 0u32;
    let measure_from = Instant::now() + config.warmup;
    let mut last_tick: Option<u64> = None;
    let mut frame = Vec::with_capacity(4096);
    let mut delta = DeltaAcc::default();
    loop {
        if *stop.borrow() {
            break;
        }
        let event = tokio::select! {
            biased;
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() { break; }
                continue;
            }
            ev = client.next_event() => ev,
        };
        let event = match event {
            Ok(e) => e,
            Err(ClientError::Closed(f)) => {
                report.errors.push(ClientError::Closed(f).to_string());
                break;
            }
            Err(e) => {
                report.errors.push(format!("receive: {e}"));
                break;
            }
        };
        let counted = Instant::now() >= measure_from;
        // The frame's size: the envelope re-encoded with the same codec.
        let msg = ServerMsg { kind: Some(event_to_kind(event)) };
        frame.clear();
        if codec.encode(&msg, &mut frame).is_err() {
            report.errors.push("cannot re-encode a received envelope".into());
        }
        let size = frame.len() as u64;
        if counted {
            report.bytes += size;
        }
        match msg.kind {
            Some(server_msg::Kind::State(s)) if s.room == room => {
                if let Some(prev) = last_tick {
                    report.missed_ticks += s.tick.saturating_sub(prev + 1);
                }
                last_tick = Some(s.tick);
                report.ticks = Some((report.ticks.map_or(s.tick, |t| t.0), s.tick));
                let decoded = if version >= 2 {
                    codec.decode::<v2::Output>(&s.payload).map(|o| {
                        if config.measure_delta {
                            if let Some(v2::output::Kind::State(st)) = &o.kind {
                                let ents = Entities {
                                    players: entity_map(codec, &st.players, |p| p.id),
                                    pickups: entity_map(codec, &st.pickups, |k| k.id),
                                    fields: st.players.iter().map(|p| (p.id, p.clone())).collect(),
                                };
                                delta.add(codec, s.payload.len(), ents, counted);
                            }
                        }
                        o.kind
                    })
                } else {
                    codec.decode::<v1::Output>(&s.payload).map(|o| match o.kind {
                        Some(v1::output::Kind::State(st)) => {
                            let as_v2 = state_from_v1(&st);
                            if config.measure_delta {
                                let ents = Entities {
                                    players: entity_map(codec, &st.players, |p| p.id),
                                    pickups: entity_map(codec, &st.pickups, |k| k.id),
                                    fields: as_v2.players.iter().map(|p| (p.id, p.clone())).collect(),
                                };
                                delta.add(codec, s.payload.len(), ents, counted);
                            }
                            Some(v2::output::Kind::State(as_v2))
                        }
                        Some(v1::output::Kind::Event(e)) => {
                            Some(v2::output::Kind::Event(v2::Event { text: e.text, ..Default::default() }))
                        }
                        None => None,
                    })
                };
                let state = match decoded {
                    Ok(Some(v2::output::Kind::State(st))) => st,
                    Ok(_) => {
                        report.errors.push(format!("tick {}: a State frame without a state payload", s.tick));
                        continue;
                    }
                    Err(e) => {
                        report
                            .errors
                            .push(format!("tick {}: state payload does not decode as v{version}: {e}", s.tick));
                        continue;
                    }
                };
                if counted {
                    report.states += 1;
                    report.state_bytes += size;
                }
                let ack = s.acks.iter().find(|a| a.client == me).map_or(0, |a| a.seq);
                if config.samples {
                    let mine = state.players.iter().find(|p| p.id == me);
                    report.samples.push(Sample {
                        tick: s.tick,
                        players: state.players.len(),
                        me: mine.map(|p| (p.x, p.y)),
                        total_score: state.players.iter().map(|p| i64::from(p.score)).sum(),
                        total_hp: state.players.iter().map(|p| u64::from(p.hp)).sum(),
                        ack,
                    });
                }
                let input = brain.think(me, &state);
                seq = seq.wrapping_add(1);
                let sent = if version >= 2 {
                    client.send_input(room, seq, &input).await
                } else {
                    client.send_input(room, seq, &input_to_v1(&input)).await
                };
                match sent {
                    Ok(()) => report.inputs_sent += 1,
                    Err(e) => {
                        report.errors.push(format!("send input: {e}"));
                        break;
                    }
                }
            }
            Some(server_msg::Kind::Message(m)) if m.room == room => {
                if counted {
                    report.messages += 1;
                }
                let name = if version >= 2 {
                    codec.decode::<v2::Output>(&m.payload).map(|o| match o.kind {
                        Some(v2::output::Kind::Event(e)) => Some(event_name(e.kind)),
                        _ => None,
                    })
                } else {
                    codec.decode::<v1::Output>(&m.payload).map(|o| match o.kind {
                        Some(v1::output::Kind::Event(_)) => Some("text".to_string()),
                        _ => None,
                    })
                };
                match name {
                    Ok(Some(n)) => *report.events.entry(n).or_default() += 1,
                    Ok(None) => report.errors.push("a Message without an event payload".into()),
                    Err(e) => report.errors.push(format!("event payload does not decode as v{version}: {e}")),
                }
            }
            Some(server_msg::Kind::Error(e)) => report.errors.push(format!("server error {}: {}", e.code, e.reason)),
            Some(server_msg::Kind::Left(l)) if l.room == room => {
                report.errors.push(format!("left the room: reason {} {}", l.reason, l.detail));
                break;
            }
            Some(server_msg::Kind::Shutdown(_)) => {
                report.errors.push("server shutting down".into());
                break;
            }
            _ => {} // pongs, other rooms' frames
        }
    }
    report.measured_s = Instant::now().saturating_duration_since(measure_from).as_secs_f64();
    if config.measure_delta {
        report.delta = Some(delta.estimate());
    }
}

fn event_to_kind(e: Event) -> server_msg::Kind {
    use server_msg::Kind as S;
    match e {
        Event::Joined(j) => S::Joined(j),
        Event::JoinError(j) => S::JoinError(j),
        Event::Message(m) => S::Message(m),
        Event::State(s) => S::State(s),
        Event::Pong(p) => S::Pong(p),
        Event::Error(e) => S::Error(e),
        Event::Shutdown(s) => S::Shutdown(s),
        Event::Left(l) => S::Left(l),
        Event::Welcome(w) => S::Welcome(w),
    }
}

/// Figures of the bots that spoke one token.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TokenSummary {
    /// Bots.
    pub bots: usize,
    /// Received bytes per second per bot (all frames).
    pub bytes_per_sec_per_bot: f64,
    /// Received bytes per second per bot in state frames.
    pub state_bytes_per_sec_per_bot: f64,
    /// States per second per bot.
    pub states_per_sec_per_bot: f64,
    /// Average state frame size (envelope included), bytes.
    pub avg_state_frame_bytes: f64,
    /// Inputs sent, all bots.
    pub inputs_sent: u64,
    /// Events seen, all bots.
    pub events_seen: u64,
    /// Ticks missed, all bots.
    pub missed_ticks: u64,
    /// Errors, all bots.
    pub errors: usize,
    /// The delta estimate of the first bot that made one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delta: Option<DeltaEstimate>,
}

/// Sums reports by token (bots that never connected count under `none`).
pub fn summarize(reports: &[BotReport]) -> BTreeMap<String, TokenSummary> {
    let mut out: BTreeMap<String, TokenSummary> = BTreeMap::new();
    for r in reports {
        let key = if r.token.is_empty() { "none".to_string() } else { r.token.clone() };
        let s = out.entry(key).or_default();
        let secs = r.measured_s.max(1e-9);
        s.bots += 1;
        s.bytes_per_sec_per_bot += r.bytes as f64 / secs;
        s.state_bytes_per_sec_per_bot += r.state_bytes as f64 / secs;
        s.states_per_sec_per_bot += r.states as f64 / secs;
        s.avg_state_frame_bytes += if r.states > 0 { r.state_bytes as f64 / r.states as f64 } else { 0.0 };
        s.inputs_sent += r.inputs_sent;
        s.events_seen += r.events.values().sum::<u64>();
        s.missed_ticks += r.missed_ticks;
        s.errors += r.errors.len();
        if s.delta.is_none() {
            s.delta = r.delta.clone();
        }
    }
    for s in out.values_mut() {
        let n = s.bots as f64;
        s.bytes_per_sec_per_bot /= n;
        s.state_bytes_per_sec_per_bot /= n;
        s.states_per_sec_per_bot /= n;
        s.avg_state_frame_bytes /= n;
    }
    out
}

#[cfg(test)]
mod tests;
