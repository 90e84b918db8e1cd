//! One bot over a real connection: connect, join, play one input per
//! state, count what arrives (see the module doc of `bot`).

use super::delta::{entity_map, DeltaAcc, Entities};
use super::seat::Seat;
use super::*;

/// How one bot plays and what it records.
#[derive(Debug)]
pub struct BotConfig {
    /// Server URLs (`ws://host:port/ws`), in failover order: the
    /// reconnecting client's list (see
    /// [`ReconnectConfig::urls`](playhouse_client::ReconnectConfig)). At
    /// least one; a bot without any reports a connect error.
    pub urls: Vec<String>,
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
    /// Take states as deltas where the server offers them (the default).
    pub deltas: bool,
    /// Told the room id once joined (or why the join failed).
    pub joined: Option<oneshot::Sender<Result<String, String>>>,
}

impl BotConfig {
    /// A bot on the server at `url` that join-or-creates an `arena` room as
    /// `name` (set [`BotConfig::urls`] for more servers to fail over to).
    pub fn new(url: &str, token: &str, name: &str) -> BotConfig {
        let seed =
            name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x1000_0000_01b3));
        BotConfig {
            urls: vec![url.to_string()],
            token: token.to_string(),
            name: name.to_string(),
            room_type: "arena".to_string(),
            room: None,
            options: HashMap::new(),
            seed,
            warmup: Duration::ZERO,
            samples: false,
            measure_delta: false,
            deltas: true,
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
    /// Time spent decoding the payloads of the states counted, in ns (the
    /// game's decode, after the client made delta states whole; 0 for a
    /// bot that measures deltas, whose decode does more).
    pub decode_ns: u64,
    /// The client's state counts on its last connection (whole, delta,
    /// lost, bytes, time spent applying deltas).
    #[serde(skip)]
    pub delta_stats: Option<playhouse_client::DeltaStats>,
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
    /// Lost connections got back (the session resumed, or the room rejoined
    /// on a new session), whole run.
    pub reconnects: u64,
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

fn event_name(kind: i32) -> String {
    v2::EventKind::try_from(kind).map_or_else(|_| format!("kind{kind}"), |k| k.as_str_name().to_string())
}

/// Runs one bot as configured until `stop`; never panics, errors go into
/// the report.
pub async fn run_bot_with(mut config: BotConfig, mut stop: watch::Receiver<bool>) -> BotReport {
    let mut report = BotReport { name: config.name.clone(), ..Default::default() };
    let joined_tx = config.joined.take();
    let reconnect = ReconnectConfig {
        deltas: config.deltas,
        ..ReconnectConfig::new(config.urls.iter().cloned(), [config.token.as_str()])
    };
    let mut client = match ReconnectingClient::connect(reconnect).await {
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
    play(&mut client, &config, Seat::new(&joined), &mut report, &mut stop).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), client.close()).await;
    report
}

async fn play(
    client: &mut ReconnectingClient,
    config: &BotConfig,
    mut seat: Seat,
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
    // What crossed the wire from the end of the warm-up (the client counts
    // the frames' bytes: a delta state as the delta it was), and the part of
    // it that was not states (sized by re-encoding, exact for those).
    let mut wire_from: Option<u64> = None;
    let mut other_bytes = 0u64;
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
            Ok(ReconnectEvent::Server(e)) => e,
            // The client reconnects by itself; the bot follows its seat.
            Ok(change) => match seat.follow(&change) {
                Ok(back) => {
                    if back {
                        report.reconnects += 1;
                        if report.room != seat.room {
                            last_tick = None; // another room: its own ticks
                        }
                        (report.room, report.client) = (seat.room.clone(), seat.client);
                    }
                    continue;
                }
                Err(why) => {
                    report.errors.push(why);
                    break;
                }
            },
            Err(e) => {
                report.errors.push(format!("receive: {e}"));
                break;
            }
        };
        let counted = Instant::now() >= measure_from;
        if counted && wire_from.is_none() {
            wire_from = Some(client.bytes_in());
        }
        // The frame's size: the envelope re-encoded with the same codec.
        let msg = ServerMsg { kind: Some(event_to_kind(event)), seq: 0 };
        frame.clear();
        if codec.encode(&msg, &mut frame).is_err() {
            report.errors.push("cannot re-encode a received envelope".into());
        }
        let size = frame.len() as u64;
        let is_state = matches!(&msg.kind, Some(server_msg::Kind::State(s)) if s.room == seat.room);
        if counted && !is_state {
            other_bytes += size;
        }
        match msg.kind {
            Some(server_msg::Kind::State(s)) if s.room == seat.room => {
                if let Some(prev) = last_tick {
                    report.missed_ticks += s.tick.saturating_sub(prev + 1);
                }
                last_tick = Some(s.tick);
                report.ticks = Some((report.ticks.map_or(s.tick, |t| t.0), s.tick));
                let decode_started = Instant::now();
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
                    if !config.measure_delta {
                        report.decode_ns += decode_started.elapsed().as_nanos() as u64;
                    }
                }
                let me = seat.client;
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
                if !seat.sends_inputs() {
                    continue;
                }
                let input = brain.think(me, &state);
                seq = seq.wrapping_add(1);
                let sent = if version >= 2 {
                    client.send_input(&seat.room, seq, &input).await
                } else {
                    client.send_input(&seat.room, seq, &input_to_v1(&input)).await
                };
                match sent {
                    Ok(()) => report.inputs_sent += 1,
                    // Lost under the send: the next event says whether the
                    // client got back or stopped.
                    Err(_) if !client.is_connected() => {}
                    Err(e) => {
                        report.errors.push(format!("send input: {e}"));
                        break;
                    }
                }
            }
            Some(server_msg::Kind::Message(m)) if m.room == seat.room => {
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
            Some(server_msg::Kind::Left(l)) if seat.ends_play(&l) => {
                report.errors.push(format!("left the room: reason {} {}", l.reason, l.detail));
                break;
            }
            // The server is draining; the client reconnects after its close
            // (to the node it names first), and the bot plays on there.
            Some(server_msg::Kind::Shutdown(_)) => seat.draining(),
            _ => {} // pongs, other rooms' frames
        }
    }
    report.measured_s = Instant::now().saturating_duration_since(measure_from).as_secs_f64();
    report.delta_stats = client.delta_stats();
    if let Some(from) = wire_from {
        report.bytes = client.bytes_in().saturating_sub(from);
        report.state_bytes = report.bytes.saturating_sub(other_bytes);
    }
    if config.measure_delta {
        report.delta = Some(delta.estimate());
    }
}

fn event_to_kind(e: Event) -> server_msg::Kind {
    e.into()
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
    /// Lost connections got back, all bots.
    pub reconnects: u64,
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
        s.reconnects += r.reconnects;
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
