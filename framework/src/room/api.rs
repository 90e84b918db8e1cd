//! The studio-facing room API: the [`Room`] trait and the small types its
//! callbacks receive.

use super::RoomContext;
use crate::protocol::{ClientId, Codec, WireTypes};
use crate::session::{LeaveReason, Options};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// A client as the room sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Id inside this room.
    pub id: ClientId,
    /// The session id the client got in `Welcome`.
    pub session: String,
    /// The authenticated user (`None`: the server has no authentication).
    pub user: Option<String>,
    /// The schema version the client negotiated.
    pub version: u32,
    /// The codec the client negotiated.
    pub codec: Codec,
}

/// A refusal from `on_create` or `on_join`, with a reason the client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Reject {
    /// Shown to the client in `JoinError.reason`.
    pub reason: String,
}

impl Reject {
    /// A refusal with `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        Reject { reason: reason.into() }
    }
}

/// The room's input type.
pub type InputOf<R> = <<R as Room>::Wire as WireTypes>::Input;
/// The room's state type.
pub type StateOf<R> = <<R as Room>::Wire as WireTypes>::State;
/// The room's reliable message type.
pub type MessageOf<R> = <<R as Room>::Wire as WireTypes>::Message;

/// A room type: the studio's authoritative simulation.
///
/// Five required items: the wire types, the options type, `on_create`,
/// `on_input` and `on_tick`. Each callback gets the [`RoomContext`] to send
/// states (`broadcast_state`, `send_state` for one client) and reliable
/// messages (`broadcast`, `broadcast_except`, `send`), kick and read the
/// clients and the tick number. Every call runs under `catch_unwind`: a
/// panic ends this room (its clients are closed with 1011), never the
/// process or other rooms.
///
/// ```
/// use playhouse::room::{ClientId, Options, Reject, Room, RoomContext};
/// use playhouse_testkit::probe::v2;
/// use std::time::Duration;
///
/// /// Counts inputs and tells everyone the total every tick.
/// struct Counter { total: i32 }
///
/// #[derive(serde::Deserialize)]
/// struct CounterOptions { start: Option<i32> }
///
/// impl Room for Counter {
///     type Wire = (v2::Input, v2::State, v2::Event);
///     type Options = CounterOptions;
///
///     fn on_create(_: &mut RoomContext<Self>, options: &CounterOptions) -> Result<Self, Reject> {
///         Ok(Counter { total: options.start.unwrap_or(0) })
///     }
///     fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, input: v2::Input) {
///         self.total += input.move_x;
///     }
///     fn on_tick(&mut self, ctx: &mut RoomContext<Self>, _dt: Duration) {
///         let player = v2::Player { score: self.total, ..Default::default() };
///         ctx.broadcast_state(&v2::State { players: vec![player], ..Default::default() });
///     }
/// }
/// ```
pub trait Room: Sized + Send + 'static {
    /// What the room speaks: `(Input, State, Message)` — the decoded client
    /// input, the state it sends every tick and its reliable messages (the
    /// current schema version's types).
    type Wire: WireTypes;
    /// The join options, deserialized (serde) from the client's string map:
    /// strings parse into numbers and booleans, absent fields are `None`
    /// for an `Option`, unknown fields are ignored. Options that do not
    /// deserialize refuse the join with `JoinError { REJECTED, "bad options:
    /// <field>: <why>" }`. [`Options`] (the string map itself) takes them as
    /// they are.
    type Options: DeserializeOwned + Send + 'static;

    /// Who may join rooms of this type. Runs on the connection's thread
    /// before a seat is reserved or a room is created: `user` is the
    /// authenticated user, `room` the room id of a join by id (`None` for
    /// create and join-or-create). `Err`: `JoinError { FORBIDDEN, reason }`.
    fn authorize_join(_user: Option<&str>, _room: Option<&str>, _options: &Options) -> Result<(), Reject> {
        Ok(())
    }

    /// Who may send what. Runs on the connection's thread for each decoded
    /// input before it reaches the room. `Err`: the input is dropped and the
    /// client gets `Error { code: 4003, reason }`.
    fn authorize_input(_user: Option<&str>, _input: &InputOf<Self>) -> Result<(), Reject> {
        Ok(())
    }

    /// Creates the room; `Err` refuses the create (the client gets a `JoinError`).
    fn on_create(ctx: &mut RoomContext<Self>, options: &Self::Options) -> Result<Self, Reject>;

    /// A client asks to join; `Err` refuses with a reason. The client is in
    /// [`RoomContext::clients`] only after this returns `Ok`.
    fn on_join(
        &mut self,
        _ctx: &mut RoomContext<Self>,
        _client: &Client,
        _options: &Self::Options,
    ) -> Result<(), Reject> {
        Ok(())
    }

    /// One input, in arrival order, before the tick that follows it.
    fn on_input(&mut self, ctx: &mut RoomContext<Self>, client: ClientId, seq: u32, input: InputOf<Self>);

    /// One fixed step; `dt` is always the tick period.
    fn on_tick(&mut self, ctx: &mut RoomContext<Self>, dt: Duration);

    /// A client left (it is no longer in [`RoomContext::clients`]).
    fn on_leave(&mut self, _ctx: &mut RoomContext<Self>, _client: ClientId, _why: LeaveReason) {}

    /// The client's connection was lost. It keeps its seat (it is still in
    /// [`RoomContext::clients`], and what the room sends it is kept for it)
    /// until it resumes ([`Room::on_reconnect`]) or the room type's
    /// reconnect window passes (then `on_leave` with `Disconnected`). What
    /// that means for the game is the room's call: freeze the avatar, let a
    /// bot play it, pause the match.
    fn on_disconnect(&mut self, _ctx: &mut RoomContext<Self>, _client: ClientId) {}

    /// A disconnected client resumed its session: it gets the reliable
    /// messages it missed, then the next state.
    fn on_reconnect(&mut self, _ctx: &mut RoomContext<Self>, _client: ClientId) {}

    /// The room is going away (empty timeout, or server shutdown).
    fn on_dispose(&mut self, _ctx: &mut RoomContext<Self>) {}

    /// The server is shutting down: persist what must survive. Called once,
    /// after the inputs that arrived before the shutdown notice were
    /// processed, and before `on_dispose`.
    fn on_shutdown(&mut self, _ctx: &mut RoomContext<Self>) {}

    /// A snapshot to restart from after a panic, taken every
    /// [`RoomType::snapshot_every`] ticks. `None` (the default): a crashed
    /// room restarts through `on_create` with its original options. A room
    /// that derives serde's `Serialize` and `Deserialize` gets both this and
    /// [`Room::restore`] from one line, [`crate::serde_snapshots!`].
    fn snapshot(&self) -> Option<Vec<u8>> {
        None
    }

    /// Rebuilds the room from a [`Room::snapshot`] after a panic; the room's
    /// clients stay connected and get a full state on the next tick. An
    /// `Err` (or no snapshot) falls back to `on_create`.
    fn restore(_ctx: &mut RoomContext<Self>, _snapshot: &[u8]) -> Result<Self, Reject> {
        Err(Reject::new("this room type does not restore from snapshots"))
    }
}

/// [`Room::snapshot`] for a room that derives `Serialize` (MessagePack).
pub fn serde_snapshot<R: serde::Serialize>(room: &R) -> Option<Vec<u8>> {
    rmp_serde::to_vec(room).ok()
}

/// [`Room::restore`] for a room that derives `Deserialize` (MessagePack).
pub fn serde_restore<R: DeserializeOwned>(snapshot: &[u8]) -> Result<R, Reject> {
    rmp_serde::from_slice(snapshot).map_err(|e| Reject::new(format!("bad snapshot: {e}")))
}

/// Inside an `impl Room for X`: `snapshot` and `restore` through serde
/// (MessagePack), for a room that derives `Serialize` and `Deserialize`
/// (mark what need not survive a restart `#[serde(skip)]`).
///
/// ```
/// use playhouse::room::{ClientId, Options, Reject, Room, RoomContext};
/// use playhouse_testkit::probe::v2;
/// use std::time::Duration;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Counter { total: i32 }
///
/// impl Room for Counter {
///     type Wire = (v2::Input, v2::State, v2::Event);
///     type Options = Options;
///     fn on_create(_: &mut RoomContext<Self>, _: &Options) -> Result<Self, Reject> { Ok(Counter { total: 0 }) }
///     fn on_input(&mut self, _: &mut RoomContext<Self>, _: ClientId, _: u32, i: v2::Input) { self.total += i.move_x; }
///     fn on_tick(&mut self, _: &mut RoomContext<Self>, _: Duration) {}
///     playhouse::serde_snapshots!();
/// }
/// let bytes = Counter { total: 7 }.snapshot().unwrap();
/// assert_eq!(playhouse::room::serde_restore::<Counter>(&bytes).unwrap().total, 7);
/// ```
#[macro_export]
macro_rules! serde_snapshots {
    () => {
        fn snapshot(&self) -> ::std::option::Option<::std::vec::Vec<u8>> {
            $crate::room::serde_snapshot(self)
        }
        fn restore(
            _ctx: &mut $crate::room::RoomContext<Self>,
            snapshot: &[u8],
        ) -> ::std::result::Result<Self, $crate::room::Reject> {
            $crate::room::serde_restore(snapshot)
        }
    };
}

/// How a room type runs: registered once with the server.
///
/// ```
/// use playhouse::room::RoomType;
/// use std::time::Duration;
///
/// let t = RoomType::new("arena", 30).max_clients(16).empty_timeout(Duration::from_secs(30));
/// assert_eq!(t.period(), Duration::from_nanos(33_333_333));
/// ```
#[derive(Debug, Clone)]
pub struct RoomType {
    /// The name clients use in `JoinOrCreate` / `Create`.
    pub name: String,
    /// Ticks per second, 1 to 120.
    pub tick_hz: u32,
    /// Most clients at once.
    pub max_clients: usize,
    /// Dispose the room after it has been empty this long.
    pub empty_timeout: Duration,
    /// Most inputs waiting for the next tick (the room's mailbox bound);
    /// past it, inputs are dropped and the sender gets an `Error`.
    pub inbox_capacity: usize,
    /// Take a [`Room::snapshot`] every this many ticks (0: never).
    pub snapshot_every: u64,
    /// Restarts allowed within [`RoomType::restart_window`]; one more and the
    /// room is disposed and its clients are closed with 1011.
    pub max_restarts: u32,
    /// The window over which restarts are counted.
    pub restart_window: Duration,
    /// How long a client whose connection was lost keeps its seat, waiting
    /// for its session to resume ([`Room::on_disconnect`] is called at the
    /// loss, [`Room::on_reconnect`] at the resume). Past it the client
    /// leaves with [`LeaveReason::Disconnected`]. 0: leave at once.
    pub reconnect_window: Duration,
    /// Most rooms of this type alive at once; past it a create (or a
    /// join-or-create that finds no open room) gets `JoinError ROOM_LIMIT`.
    /// 0 (the default): only the server's `ServerConfig::max_rooms` applies.
    pub max_rooms: usize,
    /// Whether a room with nobody in it keeps ticking. `false` (the
    /// default): a room with no clients — none seated, none disconnected
    /// but keeping a seat — runs no `on_tick` and sends nothing until the
    /// next client joins; its tick numbers then go on
    /// from where they stopped, the first tick due at the join. Set it for
    /// a world that must go on simulating with nobody in it (a persistent
    /// map, a clock); such a room costs its full tick for its whole empty
    /// timeout.
    pub tick_when_empty: bool,
    /// Whether rooms of this type tick on the process's shared grid
    /// ([`shared_grid`](super::shared_grid)): every such room of one rate
    /// ticks at the same instants, wherever it was created. `false` (the
    /// default): each room's schedule starts when it is created.
    ///
    /// Set it when players sit in several rooms of one rate at once (a
    /// match and its team's room, say): a connection's states of one tick
    /// then leave in one write when its rooms share a thread, and one
    /// timer wake-up ticks every room due. The price: the rooms tick, and
    /// their players' states leave, in one burst per period instead of
    /// spread over it, so the last of a burst waits for the ones before.
    pub aligned_ticks: bool,
}

impl RoomType {
    /// A room type ticking at `tick_hz` (clamped to 1..=120).
    pub fn new(name: impl Into<String>, tick_hz: u32) -> Self {
        RoomType {
            name: name.into(),
            tick_hz: tick_hz.clamp(1, 120),
            max_clients: 64,
            empty_timeout: Duration::from_secs(30),
            inbox_capacity: 4096,
            snapshot_every: 30,
            max_restarts: 3,
            restart_window: Duration::from_secs(60),
            reconnect_window: Duration::from_secs(20),
            max_rooms: 0,
            tick_when_empty: false,
            aligned_ticks: false,
        }
    }

    /// Sets whether rooms of this type tick on the process's shared grid
    /// (default: no; see [`RoomType::aligned_ticks`](RoomType#structfield.aligned_ticks)).
    pub fn aligned_ticks(mut self, on: bool) -> Self {
        self.aligned_ticks = on;
        self
    }

    /// Sets the most rooms of this type alive at once (0: only the
    /// server's cap).
    pub fn max_rooms(mut self, n: usize) -> Self {
        self.max_rooms = n;
        self
    }

    /// Sets whether a room with nobody in it keeps ticking (default: no).
    pub fn tick_when_empty(mut self, on: bool) -> Self {
        self.tick_when_empty = on;
        self
    }

    /// Sets how long a disconnected client keeps its seat (0: not at all).
    pub fn reconnect_window(mut self, d: Duration) -> Self {
        self.reconnect_window = d;
        self
    }

    /// Sets the most clients at once.
    pub fn max_clients(mut self, n: usize) -> Self {
        self.max_clients = n.max(1);
        self
    }

    /// Sets how long an empty room lives.
    pub fn empty_timeout(mut self, d: Duration) -> Self {
        self.empty_timeout = d;
        self
    }

    /// Sets the restart budget: at most `max` restarts within `window`.
    pub fn restarts(mut self, max: u32, window: Duration) -> Self {
        self.max_restarts = max;
        self.restart_window = window;
        self
    }

    /// Sets how often a snapshot is taken, in ticks (0: never).
    pub fn snapshot_every(mut self, ticks: u64) -> Self {
        self.snapshot_every = ticks;
        self
    }

    /// Sets the inbox bound.
    pub fn inbox_capacity(mut self, n: usize) -> Self {
        self.inbox_capacity = n.max(1);
        self
    }

    /// The tick period.
    pub fn period(&self) -> Duration {
        Duration::from_nanos(1_000_000_000 / u64::from(self.tick_hz))
    }
}
