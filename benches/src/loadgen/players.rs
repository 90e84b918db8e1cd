//! The clients of `loadgen scenario` and what they record.
//!
//! Each client is a [`playhouse_client::Client`] (so delta states and
//! compression work as in a game): it starts at its place in the ramp,
//! connects offering the scenario's tokens, creates its room (the first
//! client of each room) or joins it by id, then sends inputs at the
//! scenario's rate and reads every message until told to stop.
//!
//! What is measured, all by the client's own clock (no clock sync needed):
//!
//! - **input latency**: from sending `Input{seq}` to receiving the first
//!   `State` of the room whose acks say this client's input `seq` was
//!   processed. It is what a player feels: the way up, the wait for the
//!   next tick, the tick, the way down. An input the server refused or
//!   dropped (an `Error` naming it) is not timed.
//! - **delivery**: states received / states the ticks called for, per
//!   client over the measured window: the span from the first to the last
//!   tick it received, divided by `state_every_ticks`; a client that got
//!   no state in the window expected `window × tick_hz / state_every_ticks`.
//! - **errors**: failed connects (HTTP refusals by status, timeouts),
//!   failed creates and joins, `Error` messages (by code), connections the
//!   server closed (by close code) or that broke, over the whole run.

use super::input::InputPayload;
use hdrhistogram::Histogram;
use playhouse_client::envelope::{client_msg::Kind as C, Input};
use playhouse_client::{Client, ClientError, Event};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Highest latency recorded (larger values are clamped), µs.
const MAX_LATENCY_US: u64 = 600_000_000;
/// Inputs awaiting their ack per client; older ones are forgotten.
const MAX_PENDING: usize = 10_000;
/// Error messages kept for the report.
const SAMPLES: usize = 10;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

/// One second of the run.
#[derive(Clone)]
pub struct Second {
    /// Input latencies acknowledged in it, µs.
    pub latency_us: Histogram<u64>,
    /// States received in it.
    pub states: u64,
    /// Errors in it.
    pub errors: u64,
}

impl Default for Second {
    fn default() -> Self {
        Second { latency_us: histogram(), states: 0, errors: 0 }
    }
}

/// Everything the clients recorded.
#[derive(Clone)]
pub struct Recorded {
    /// Per second since the start, in order.
    pub seconds: Vec<Second>,
    /// Input latencies acknowledged in the measured window, µs.
    pub window_latency_us: Histogram<u64>,
    /// States received in the window, all clients.
    pub window_states: u64,
    /// States the window's ticks called for, all clients.
    pub window_expected: u64,
    /// Errors by kind (`connect: HTTP 503`, `close 4008`, `error 1013`, …).
    pub errors: BTreeMap<String, u64>,
    /// The first few error messages.
    pub error_samples: Vec<String>,
    /// Clients that joined their room.
    pub joined: usize,
    /// Inputs sent, whole run.
    pub inputs_sent: u64,
    /// The token each joined client negotiated, counted.
    pub protocols: BTreeMap<String, u64>,
}

impl Recorded {
    /// Errors over the whole run.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Where the clients record, shared by all of them.
pub struct Recorder {
    start: Instant,
    window: (Instant, Instant),
    inner: Mutex<Recorded>,
}

impl Recorder {
    /// A recorder for a run that starts at `start` and measures `window`.
    pub fn new(start: Instant, window: (Instant, Instant)) -> Recorder {
        Recorder {
            start,
            window,
            inner: Mutex::new(Recorded {
                seconds: Vec::new(),
                window_latency_us: histogram(),
                window_states: 0,
                window_expected: 0,
                errors: BTreeMap::new(),
                error_samples: Vec::new(),
                joined: 0,
                inputs_sent: 0,
                protocols: BTreeMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Recorded> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn second(r: &mut Recorded, start: Instant, at: Instant) -> &mut Second {
        let i = at.saturating_duration_since(start).as_secs() as usize;
        if r.seconds.len() <= i {
            r.seconds.resize_with(i + 1, Second::default);
        }
        &mut r.seconds[i]
    }

    fn in_window(&self, at: Instant) -> bool {
        at >= self.window.0 && at < self.window.1
    }

    /// Counts an error of `kind`, keeping the message among the samples.
    pub fn error(&self, kind: &str, message: &str) {
        let now = Instant::now();
        let mut r = self.lock();
        *r.errors.entry(kind.to_string()).or_default() += 1;
        if r.error_samples.len() < SAMPLES {
            r.error_samples.push(format!("{kind}: {message}"));
        }
        Recorder::second(&mut r, self.start, now).errors += 1;
    }

    fn latency(&self, at: Instant, us: u64) {
        let mut r = self.lock();
        if self.in_window(at) {
            r.window_latency_us.saturating_record(us.max(1));
        }
        Recorder::second(&mut r, self.start, at).latency_us.saturating_record(us.max(1));
    }

    fn state(&self, at: Instant) {
        let mut r = self.lock();
        Recorder::second(&mut r, self.start, at).states += 1;
    }

    fn joined(&self, protocol: &str) {
        let mut r = self.lock();
        r.joined += 1;
        *r.protocols.entry(protocol.to_string()).or_default() += 1;
    }

    fn delivery(&self, received: u64, expected: u64, inputs: u64) {
        let mut r = self.lock();
        r.window_states += received;
        r.window_expected += expected.max(received);
        r.inputs_sent += inputs;
    }

    /// What was recorded so far.
    pub fn snapshot(&self) -> Recorded {
        self.lock().clone()
    }
}

/// The room of one client: created by its first client, whose result the
/// others wait for.
pub type RoomCell = watch::Sender<Option<Result<String, String>>>;

/// What every client of a run shares.
pub struct Crowd {
    /// `ws://…` (through the link emulator when there is one).
    pub url: String,
    /// Tokens offered.
    pub tokens: Vec<String>,
    /// Room type.
    pub room_type: String,
    /// Create and join options.
    pub options: HashMap<String, String>,
    /// One cell per room.
    pub rooms: Vec<RoomCell>,
    /// Inputs per second per client.
    pub inputs_per_sec: f64,
    /// The inputs' payload.
    pub input: InputPayload,
    /// States per tick (for the expected count).
    pub state_every_ticks: u64,
    /// A client's connect-and-join budget.
    pub connect_timeout: Duration,
    /// Where to record.
    pub recorder: Arc<Recorder>,
    /// Turns true when the run ends.
    pub stop: watch::Receiver<bool>,
}

/// The error kind of a failed connect or join.
fn kind_of(step: &str, e: &ClientError) -> String {
    match e {
        ClientError::Refused { status, .. } => format!("{step}: HTTP {status}"),
        ClientError::Closed(Some(f)) => format!("close {}", u16::from(f.code)),
        ClientError::Closed(None) => format!("{step}: closed without a close frame"),
        ClientError::Join(j) => format!("{step}: join error {}", j.code),
        ClientError::Timeout => format!("{step}: timeout"),
        _ => format!("{step}: failed"),
    }
}

/// Client `i` of `clients`, in room `i % rooms`, starting at `at`.
pub async fn play(crowd: Arc<Crowd>, i: usize, at: Instant) {
    let mut stop = crowd.stop.clone();
    tokio::select! {
        _ = tokio::time::sleep_until(at) => {}
        _ = stop.wait_for(|s| *s) => return,
    }
    let rec = crowd.recorder.clone();
    let Some((mut client, room, me, hz)) = enter(&crowd, i).await else { return };
    rec.joined(&client.protocol().to_string());
    let payload = match crowd.input.encode(client.codec()) {
        Ok(p) => Some(p),
        Err(e) => {
            rec.error("input: cannot encode", &e);
            None
        }
    };
    let sending = crowd.inputs_per_sec > 0.0 && payload.is_some();
    let period = Duration::from_secs_f64(if sending { 1.0 / crowd.inputs_per_sec } else { 3600.0 });
    // Clients start at different instants, so their inputs are spread too.
    let mut inputs = tokio::time::interval(period);
    inputs.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seq: u32 = 0;
    let mut pending: VecDeque<(u32, Instant)> = VecDeque::new();
    let (mut first_tick, mut last_tick, mut received) = (None::<u64>, 0u64, 0u64);
    let (w0, w1) = rec.window;
    loop {
        let event = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => break,
            _ = inputs.tick(), if sending => None,
            ev = client.next_event() => Some(ev),
        };
        let Some(event) = event else {
            seq = seq.wrapping_add(1);
            let payload = payload.clone().unwrap_or_default();
            let input = Input { room: room.clone(), seq, payload: payload.into() };
            if pending.len() == MAX_PENDING {
                pending.pop_front();
            }
            pending.push_back((seq, Instant::now()));
            if let Err(e) = client.send(C::Input(input)).await {
                rec.error(&kind_of("send", &e), &e.to_string());
                break;
            }
            continue;
        };
        let now = Instant::now();
        match event {
            Ok(Event::State(s)) if s.room == room => {
                rec.state(now);
                if now >= w0 && now < w1 {
                    received += 1;
                    first_tick.get_or_insert(s.tick);
                    last_tick = last_tick.max(s.tick);
                }
                if let Some(ack) = s.acks.iter().find(|a| a.client == me) {
                    while pending.front().is_some_and(|(q, _)| *q <= ack.seq) {
                        if let Some((_, sent)) = pending.pop_front() {
                            rec.latency(now, now.duration_since(sent).as_micros() as u64);
                        }
                    }
                }
            }
            Ok(Event::Error(e)) => {
                if e.input_seq != 0 {
                    pending.retain(|(q, _)| *q != e.input_seq);
                }
                rec.error(&format!("error {}", e.code), &e.reason);
            }
            Ok(Event::Shutdown(_)) => rec.error("server shutting down", "Shutdown notice"),
            Ok(_) => {}
            Err(e) => {
                rec.error(&kind_of("connection", &e), &e.to_string());
                break;
            }
        }
    }
    let expected = match first_tick {
        Some(first) => (last_tick - first) / crowd.state_every_ticks + 1,
        // Joined, but nothing in the window: everything it should have had.
        None => {
            let joined_for = w1.saturating_duration_since(w0.max(at)).as_secs_f64();
            (joined_for * f64::from(hz) / crowd.state_every_ticks as f64) as u64
        }
    };
    rec.delivery(received, expected, u64::from(seq));
    let _ = tokio::time::timeout(Duration::from_secs(1), client.close()).await;
}

/// Connects and gets client `i` into its room: (client, room id, client id
/// in the room, tick rate). Failures are recorded.
async fn enter(crowd: &Crowd, i: usize) -> Option<(Client, String, u32, u32)> {
    let rec = &crowd.recorder;
    let tokens: Vec<&str> = crowd.tokens.iter().map(String::as_str).collect();
    let connected = tokio::time::timeout(crowd.connect_timeout, Client::connect(&crowd.url, &tokens)).await;
    let mut client = match connected {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            rec.error(&kind_of("connect", &e), &e.to_string());
            return None;
        }
        Err(_) => {
            rec.error("connect: timeout", &format!("no Welcome within {:?}", crowd.connect_timeout));
            return None;
        }
    };
    client.set_timeout(crowd.connect_timeout);
    let cell = &crowd.rooms[i % crowd.rooms.len()];
    let joined = if i < crowd.rooms.len() {
        let r = client.create(&crowd.room_type, crowd.options.clone()).await;
        cell.send_replace(Some(r.as_ref().map(|j| j.room.clone()).map_err(|e| e.to_string())));
        r
    } else {
        let mut w = cell.subscribe();
        let waited = tokio::time::timeout(crowd.connect_timeout, async {
            // Cloned out at once: the watch's guard must not live across an await.
            w.wait_for(Option::is_some).await.ok().and_then(|r| (*r).clone())
        });
        let room = match waited.await.ok().flatten() {
            Some(Ok(room)) => room,
            Some(Err(e)) => {
                rec.error("join: room not created", &e);
                return None;
            }
            None => {
                rec.error("join: room not created", "its creator did not answer in time");
                return None;
            }
        };
        client.join(&room, crowd.options.clone()).await
    };
    match joined {
        Ok(j) => Some((client, j.room, j.client, j.tick_hz)),
        Err(e) => {
            let step = if i < crowd.rooms.len() { "create" } else { "join" };
            rec.error(&kind_of(step, &e), &e.to_string());
            None
        }
    }
}
