//! Support for the integration tests: start real servers on ephemeral
//! ports, a test room with knobs, and raw socket helpers for the tests that
//! must misbehave on the wire.

pub mod auth;
pub mod process;
pub mod proxy;
pub mod raw;
pub mod redis;
pub mod tls;

use arena::proto::v2;
use playhouse::prelude::*;
use playhouse::server::BoundServer;
use playhouse_client::{Client as WsClient, ClientError, Event};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A test room. Options: `state_bytes=N` pads each state to about N bytes;
/// `panic_on_tick=K` panics on tick K (once: a restarted room has passed
/// it); `panic_from_tick=K` panics on every tick from K on (it spends the
/// restart budget); `kick=1` kicks the joining client on
/// the next tick; `deny=1` refuses the join; `chatter=1` broadcasts a
/// reliable event `"chat <n>"` every tick, n = 1, 2, 3, … (a counter, not
/// the tick number, which may skip when a tick runs late); `tick_chatter=1`
/// broadcasts `"tick <t>"` every tick just before the state of tick t;
/// `presence=1` makes each state
/// list one player per client, `alive` while its connection is live.
/// Echoes each input's move_x as a reliable event
/// `"input <client> <seq> <move_x>"`; announces an authenticated joiner as
/// `"user <user> is client <id>"`. Authorization: user `mallory` may not
/// join; an input with move_x 99 is for user `admin` only.
#[derive(Default)]
pub struct Probe {
    filler: String,
    panic_on_tick: Option<u64>,
    panic_from_tick: Option<u64>,
    to_kick: Vec<ClientId>,
    chatter: bool,
    chat: u64,
    tick_chatter: bool,
    presence: bool,
}

impl Room for Probe {
    type Wire = (v2::Input, v2::State, v2::Event);
    type Options = Options;

    fn on_create(_: &mut RoomContext<Self>, options: &Options) -> Result<Self, Reject> {
        let n = options.get("state_bytes").and_then(|v| v.parse().ok()).unwrap_or(0usize);
        Ok(Probe {
            filler: "x".repeat(n),
            panic_on_tick: options.get("panic_on_tick").and_then(|v| v.parse().ok()),
            panic_from_tick: options.get("panic_from_tick").and_then(|v| v.parse().ok()),
            to_kick: Vec::new(),
            chatter: options.contains_key("chatter"),
            chat: 0,
            tick_chatter: options.contains_key("tick_chatter"),
            presence: options.contains_key("presence"),
        })
    }

    /// User "mallory" may join no probe room (authorization tests).
    fn authorize_join(user: Option<&str>, _room: Option<&str>, _options: &Options) -> Result<(), Reject> {
        match user {
            Some("mallory") => Err(Reject::new("mallory may not play")),
            _ => Ok(()),
        }
    }

    /// An input with move_x 99 is an admin command: only user "admin" may send it.
    fn authorize_input(user: Option<&str>, input: &v2::Input) -> Result<(), Reject> {
        if input.move_x == 99 && user != Some("admin") {
            return Err(Reject::new("admin command"));
        }
        Ok(())
    }

    fn on_join(&mut self, ctx: &mut RoomContext<Self>, client: &Client, options: &Options) -> Result<(), Reject> {
        if let Some(user) = &client.user {
            let text = format!("user {} is client {}", user, client.id);
            ctx.broadcast(&v2::Event { text, ..Default::default() });
        }
        if options.contains_key("deny") {
            return Err(Reject::new("denied by test"));
        }
        if options.contains_key("kick") {
            self.to_kick.push(client.id);
        }
        Ok(())
    }

    fn on_input(&mut self, ctx: &mut RoomContext<Self>, client: ClientId, seq: u32, input: v2::Input) {
        let text = format!("input {client} {seq} {}", input.move_x);
        ctx.broadcast(&v2::Event { text, ..Default::default() });
    }

    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _dt: Duration) {
        if self.panic_on_tick == Some(ctx.tick()) || self.panic_from_tick.is_some_and(|k| ctx.tick() >= k) {
            panic!("probe panics on tick {}", ctx.tick());
        }
        for c in std::mem::take(&mut self.to_kick) {
            ctx.kick(c, "kicked by test");
        }
        if self.chatter {
            self.chat += 1;
            let text = format!("chat {}", self.chat);
            ctx.broadcast(&v2::Event { text, ..Default::default() });
        }
        if self.tick_chatter {
            ctx.broadcast(&v2::Event { text: format!("tick {}", ctx.tick()), ..Default::default() });
        }
        let players = if self.presence {
            let ids: Vec<ClientId> = ctx.clients().map(|c| c.id).collect();
            ids.into_iter()
                .map(|id| v2::Player { id: id.0, alive: ctx.is_connected(id), ..Default::default() })
                .collect()
        } else {
            vec![v2::Player { id: ctx.client_count() as u32, name: self.filler.clone(), ..Default::default() }]
        };
        ctx.broadcast_state(&v2::State { players, ..Default::default() });
    }
}

/// Every token of the arena app.
pub const ALL_TOKENS: [&str; 4] = ["arena.v2.proto", "arena.v2.msgpack", "arena.v1.proto", "arena.v1.msgpack"];

/// A config with short timeouts suitable for tests.
pub fn test_config() -> ServerConfig {
    let mut c = ServerConfig::new("arena");
    c.workers = 2;
    c.arbiters = 2;
    c.drain_timeout = Duration::from_secs(1);
    c
}

/// Starts the arena server plus the `probe` (60 Hz), `probe30`, `brief`
/// (30 Hz, disposed 200 ms after it empties), `fleeting` (30 Hz, keeps a
/// lost client's seat 300 ms), `narrow` (30 Hz, at most 4 inputs waiting
/// for a tick) and `scarce` (30 Hz, at most one room alive, disposed 200 ms
/// after it empties) room types on 127.0.0.1:0, configured by `tweak`.
pub fn start(tweak: impl FnOnce(&mut ServerConfig) + Send + 'static) -> RunningServer {
    let build = move || {
        let mut c = test_config();
        tweak(&mut c);
        arena::server(c)
            .room_with_schema::<Probe>(RoomType::new("probe", 60).max_clients(4), arena::schema())
            .room_with_schema::<Probe>(RoomType::new("probe30", 30).max_clients(64), arena::schema())
            .room_with_schema::<Probe>(
                RoomType::new("brief", 30).empty_timeout(Duration::from_millis(200)),
                arena::schema(),
            )
            .room_with_schema::<Probe>(
                RoomType::new("fleeting", 30).reconnect_window(Duration::from_millis(300)),
                arena::schema(),
            )
            .room_with_schema::<Probe>(RoomType::new("narrow", 30).inbox_capacity(4), arena::schema())
            .room_with_schema::<Probe>(
                RoomType::new("scarce", 30).max_rooms(1).empty_timeout(Duration::from_millis(200)),
                arena::schema(),
            )
    };
    BoundServer::spawn(build, "127.0.0.1:0".parse().expect("literal address")).expect("server starts")
}

/// `ws://addr/ws`.
pub fn ws_url(addr: SocketAddr) -> String {
    format!("ws://{addr}/ws")
}

/// A blocking HTTP/1.1 GET; returns (status, headers+body as text).
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http_request(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"))
}

/// Sends a raw HTTP request and reads the whole response.
pub fn http_request(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    s.write_all(request.as_bytes()).expect("write");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// Reads one metric's value (summing every label set) from `/metrics` text.
pub fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Reads one metric's value for the label set containing `label` (e.g.
/// `code="4008"`), summing the lines that match.
pub fn metric_labeled(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.strip_prefix(name).is_some_and(|rest| rest.starts_with('{')))
        .filter(|l| l.split_once('}').is_some_and(|(labels, _)| labels.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The body of `GET /metrics`.
pub fn metrics_text(addr: SocketAddr) -> String {
    let (status, text) = http_get(addr, "/metrics");
    assert_eq!(status, 200, "{text}");
    text
}

/// Room / join options from pairs.
pub fn options(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Reads (and drops) events until the server closes the connection, for at
/// most `within`; returns the close code and reason. Panics on a timeout or
/// if the socket ends without a close frame.
pub async fn expect_close(c: &mut WsClient, within: Duration) -> (u16, String) {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.next_event_timeout(left).await {
            Ok(_) => continue,
            Err(ClientError::Closed(Some(f))) => return (u16::from(f.code), f.reason.to_string()),
            Err(ClientError::Timeout) => panic!("no close within {within:?}"),
            Err(e) => panic!("expected a close frame, got {e}"),
        }
    }
}

/// The tick numbers of the states one client received, in order.
#[derive(Debug, Default, Clone)]
pub struct TickLog {
    /// First tick seen.
    pub first: Option<u64>,
    /// Last tick seen.
    pub last: Option<u64>,
    /// States received.
    pub count: u64,
    /// (previous, next) for every pair of consecutive states whose ticks
    /// are not consecutive numbers.
    pub gaps: Vec<(u64, u64)>,
}

impl TickLog {
    /// Records one state's tick.
    pub fn record(&mut self, tick: u64) {
        if let Some(prev) = self.last {
            if tick != prev + 1 {
                self.gaps.push((prev, tick));
            }
        }
        self.first.get_or_insert(tick);
        self.last = Some(tick);
        self.count += 1;
    }

    /// Panics unless at least `min` states arrived, with no gap.
    pub fn assert_complete(&self, min: u64) {
        assert!(self.count >= min, "only {} states (expected at least {min}): {self:?}", self.count);
        assert!(self.gaps.is_empty(), "ticks missing between {:?} ({self:?})", self.gaps);
    }

    /// Ticks missing between the first and the last state received.
    pub fn missing(&self) -> u64 {
        self.gaps.iter().map(|(a, b)| b.saturating_sub(a + 1)).sum()
    }

    /// Panics unless at least `min` states arrived, in order, and the client
    /// got every tick its room ran: gaps are allowed for ticks the room
    /// itself skipped for running more than a period late (design §5: a
    /// starved room skips rather than bunches) and for a few isolated
    /// latest-wins replacements (see the body). `skipped` is the room type's
    /// `playhouse_ticks_skipped_total` at the end (from [`metric_labeled`]);
    /// it must stay small, or the room was not running properly either.
    pub fn assert_every_tick_run(&self, min: u64, skipped: f64) {
        assert!(self.count >= min, "only {} states (expected at least {min}): {self:?}", self.count);
        assert!(self.gaps.iter().all(|(a, b)| b > a), "states out of order or repeated: {:?}", self.gaps);
        // Besides ticks the room skipped, a state may be replaced by the next
        // one (latest wins, design §6) when this client's own connection actor
        // was not scheduled for a whole tick period — which a busy test
        // machine does now and then. Such losses are single, isolated ticks;
        // a client disturbed by another (the regression these tests catch)
        // loses a run of them. So: a few isolated one-tick gaps are tolerated
        // beyond the room's skips, never a longer gap.
        let missing = self.missing() as f64;
        let tolerated = (self.count as f64 / 50.0).max(3.0);
        assert!(
            missing <= skipped + tolerated,
            "the client missed ticks the room ran: gaps {:?} ({missing} ticks), room skipped {skipped}, tolerated {tolerated}",
            self.gaps
        );
        let longest = self.gaps.iter().map(|(a, b)| b - a - 1).max().unwrap_or(0) as f64;
        assert!(
            longest <= skipped + 1.0,
            "a run of {longest} ticks was lost: gaps {:?} (room skipped {skipped})",
            self.gaps
        );
        // A room that skips one tick in five is starved, not merely on a
        // busy two-core machine running the suite (seen: 8 in 76).
        let allowed = (self.count as f64 / 5.0).max(5.0);
        assert!(skipped <= allowed, "the room skipped {skipped} ticks while {} states arrived: {self:?}", self.count);
    }
}

/// Reads events from `c` for `dur`, logging the ticks of its states; panics
/// if the connection fails or closes meanwhile.
pub async fn record_states(c: &mut WsClient, dur: Duration, log: &mut TickLog) {
    let deadline = Instant::now() + dur;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match c.next_event_timeout(left).await {
            Ok(Event::State(s)) => log.record(s.tick),
            Ok(_) => {}
            Err(ClientError::Timeout) => return,
            Err(e) => panic!("good client lost its connection: {e} ({log:?})"),
        }
    }
}
