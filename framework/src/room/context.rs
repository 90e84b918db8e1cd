//! [`RoomContext`]: what a room's callbacks use to talk to clients.
//!
//! A send is encoded once per group — the addressed clients sharing a
//! (schema version, codec) — into one `Bytes`, and every client of the group
//! gets a clone of that handle: no per-client encoding, no per-client copy.
//! States and reliable messages are separate outputs (`Room::Wire`'s
//! `State` and `Message`). A state may go to everyone (`broadcast_state`),
//! to one client (`send_state`, e.g. fog of war) or to a set of clients
//! that see the same thing (`send_state_to`: one encode per group for all
//! of them — give a team's view once for the whole team rather than once
//! per member, which would encode it once per member).

use super::api::{Client, MessageOf, Room, StateOf};
use super::baselines::{SentStates, StateFrames};
use crate::channels::{ChannelHub, PublishError};
use crate::protocol::envelope::{server_msg::Kind, InputAck, Message, ServerMsg};
use crate::protocol::ClientId;
use crate::protocol::RoomId;
use crate::protocol::{Codec, Schema};
use crate::session::LeaveReason;
use crate::session::{CapturedState, Leave, Outbox, Push};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Counters a room keeps about itself (published to `/metrics` by the actor).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RoomStats {
    /// Payload encodes (one per group per broadcast).
    pub encodes: u64,
    /// Frames handed to connections.
    pub frames: u64,
    /// Unsent state frames replaced by a newer one.
    pub states_replaced: u64,
    /// Outputs that failed to encode (a bug in the studio's conversion).
    pub encode_errors: u64,
    /// Clients disconnected as stalled readers (4008).
    pub slow_clients: u64,
    /// Inputs dropped because the inbox was full.
    pub inputs_dropped: u64,
    /// Ticks run.
    pub ticks: u64,
    /// Ticks skipped for being more than a period late.
    pub ticks_skipped: u64,
    /// Restarts after a panic.
    pub restarts: u64,
    /// Snapshots taken.
    pub snapshots: u64,
    /// State frames encoded as a delta against a client's baseline.
    pub state_deltas: u64,
    /// State frames whose payload was compressed (once per group, baseline
    /// and compression, for the clients that asked).
    pub states_compressed: u64,
}

pub(crate) struct Member {
    pub(crate) client: Client,
    pub(crate) outbox: Arc<Outbox>,
    /// The ack: the seq of the last input processed (`None` before the
    /// first one; see [`crate::protocol::input_seq`]).
    pub(crate) last_input_seq: Option<u32>,
    /// The join options, replayed to `on_join` after a restart.
    pub(crate) options: super::Options,
    /// Since when the client's connection is lost (its session is parked).
    pub(crate) away_since: Option<Instant>,
    /// The latest states sent to the client, for deltas.
    pub(crate) sent: SentStates,
}

type GroupKey = (u32, Codec);

/// The room's view of its clients, passed to every [`Room`] callback.
pub struct RoomContext<R: Room> {
    pub(crate) id: RoomId,
    pub(crate) room_type: Arc<str>,
    pub(crate) schema: Arc<Schema<R::Wire>>,
    pub(crate) members: BTreeMap<ClientId, Member>,
    pub(crate) tick: u64,
    pub(crate) locked: bool,
    pub(crate) msg_seq: u64,
    pub(crate) now: Instant,
    pub(crate) removals: Vec<(ClientId, LeaveReason, String)>,
    pub(crate) stats: RoomStats,
    payload_buf: Vec<u8>,
    /// The node's channels (`None`: none configured).
    pub(crate) channels: Option<Arc<ChannelHub>>,
    /// Until when an operator watches the room (the server's monitor):
    /// meanwhile the first state of each tick is also kept, encoded for
    /// reading (`captured`). Unwatched, a state costs nothing more.
    pub(crate) watched_until: Option<Instant>,
    /// The latest state captured while watched.
    pub(crate) captured: Option<CapturedState>,
    /// Whether states may be written to their sockets at once (queued
    /// with the tick on the shared grid, see [`Leave`]).
    leave: Leave,
}

impl<R: Room> RoomContext<R> {
    pub(crate) fn new(id: RoomId, room_type: Arc<str>, schema: Arc<Schema<R::Wire>>, now: Instant) -> Self {
        RoomContext {
            id,
            room_type,
            schema,
            members: BTreeMap::new(),
            tick: 0,
            locked: false,
            msg_seq: 0,
            now,
            removals: Vec::new(),
            stats: RoomStats::default(),
            payload_buf: Vec::with_capacity(1024),
            channels: None,
            watched_until: None,
            captured: None,
            leave: Leave::AtOnce,
        }
    }

    /// How this room's states leave for their connections.
    pub(crate) fn leaving(mut self, leave: Leave) -> Self {
        self.leave = leave;
        self
    }

    /// Publishes `payload` (bytes of the game's own format) on channel
    /// `channel` (a concrete name, e.g. `lobby` or `chat.eu`): every
    /// subscriber on every node gets it as a `Publication` with an empty
    /// publisher. Queued on the node's publish worker, so publications from
    /// one node keep their order; refused at once if the name is bad, the
    /// server has no channels, or the queue is full.
    pub fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), PublishError> {
        let hub = self.channels.as_ref().ok_or(PublishError::NoChannels)?;
        hub.publish(channel, Bytes::copy_from_slice(payload))
    }

    /// This room's id.
    pub fn room_id(&self) -> &RoomId {
        &self.id
    }

    /// This room's type name.
    pub fn room_type(&self) -> &str {
        &self.room_type
    }

    /// The current tick number (the one being run, in `on_tick`).
    pub fn tick(&self) -> u64 {
        self.tick
    }

    /// The clients in the room, by id.
    pub fn clients(&self) -> impl Iterator<Item = &Client> + '_ {
        self.members.values().map(|m| &m.client)
    }

    /// One client, if it is in the room.
    pub fn client(&self, id: ClientId) -> Option<&Client> {
        self.members.get(&id).map(|m| &m.client)
    }

    /// Whether `client` is in the room with a live connection (false while
    /// its connection is lost and its seat waits for a resume).
    pub fn is_connected(&self, client: ClientId) -> bool {
        self.members.get(&client).is_some_and(|m| m.away_since.is_none())
    }

    /// How many clients are in the room.
    pub fn client_count(&self) -> usize {
        self.members.len()
    }

    /// The seq of the last input processed for `client`, if it sent any.
    pub fn last_input_seq(&self, client: ClientId) -> Option<u32> {
        self.members.get(&client).and_then(|m| m.last_input_seq)
    }

    /// Stops new joins (join-or-create skips the room; joins by id get ROOM_LOCKED).
    pub fn lock(&mut self) {
        self.locked = true;
    }

    /// Accepts joins again.
    pub fn unlock(&mut self) {
        self.locked = false;
    }

    /// Whether the room is locked.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Removes a client: it gets close 4005 with `reason`.
    pub fn kick(&mut self, client: ClientId, reason: impl Into<String>) {
        self.removals.push((client, LeaveReason::Kicked, reason.into()));
    }

    /// Sends a reliable message to every client (encoded once per group).
    pub fn broadcast(&mut self, msg: &MessageOf<R>) {
        self.message(msg, &|_| true);
    }

    /// Sends a reliable message to every client but `except` (e.g. the one
    /// whose action it reports).
    pub fn broadcast_except(&mut self, except: ClientId, msg: &MessageOf<R>) {
        self.message(msg, &|id| id != except);
    }

    /// Sends a reliable message to one client.
    pub fn send(&mut self, client: ClientId, msg: &MessageOf<R>) {
        if self.members.contains_key(&client) {
            self.message(msg, &|id| id == client);
        }
    }

    fn message(&mut self, msg: &MessageOf<R>, to: &dyn Fn(ClientId) -> bool) {
        self.msg_seq += 1;
        let seq = self.msg_seq;
        let room = self.id.to_string();
        let schema = self.schema.clone();
        self.fan_out(
            |v, c, buf| schema.encode_message(v, c, msg, buf),
            to,
            |payload| Kind::Message(Message { room: room.clone(), seq, payload }),
        );
    }

    /// Sends a state to every client: latest wins, and each group's frame
    /// carries the last processed input seq of each of its clients.
    pub fn broadcast_state(&mut self, state: &StateOf<R>) {
        self.capture(state, None);
        self.state(state, &|_| true);
    }

    /// Sends a state to one client only (what that client may see: fog of
    /// war, hidden hands). Latest wins, as for [`RoomContext::broadcast_state`].
    pub fn send_state(&mut self, client: ClientId, state: &StateOf<R>) {
        if self.members.contains_key(&client) {
            self.capture(state, Some(vec![client]));
            self.state(state, &|id| id == client);
        }
    }

    /// Sends the same state to several clients (a team's view), encoded
    /// once per (version, codec) group among them.
    pub fn send_state_to(&mut self, clients: &[ClientId], state: &StateOf<R>) {
        if self.is_watched() {
            let mut view_of: Vec<ClientId> = clients.iter().copied().filter(|c| self.members.contains_key(c)).collect();
            view_of.sort_unstable();
            view_of.dedup();
            if !view_of.is_empty() {
                self.capture(state, Some(view_of));
            }
        }
        self.state(state, &|id| clients.contains(&id));
    }

    /// Encodes the state once per group of the addressed clients; each
    /// client gets the group's whole state, or a delta against the state it
    /// acknowledged, computed once per (group, baseline) (see `baselines`).
    fn state(&mut self, state: &StateOf<R>, to: &dyn Fn(ClientId) -> bool) {
        let room = self.id.to_string();
        let tick = self.tick;
        let now = self.now;
        for (version, codec) in self.group_keys(to) {
            self.payload_buf.clear();
            self.stats.encodes += 1;
            if self.schema.encode_state(version, codec, state, &mut self.payload_buf).is_err() {
                self.stats.encode_errors += 1;
                continue;
            }
            let in_group = |id: ClientId, m: &Member| m.client.version == version && m.client.codec == codec && to(id);
            let acks = self
                .members
                .iter()
                .filter(|(id, m)| in_group(**id, m))
                .map(|(id, m)| InputAck { client: id.0, seq: m.last_input_seq.unwrap_or(0) })
                .collect();
            let payload = Bytes::copy_from_slice(&self.payload_buf);
            let mut frames = StateFrames::new(&room, tick, acks, payload, codec);
            for (id, m) in self.members.iter_mut().filter(|(id, m)| in_group(**id, m)) {
                // Only a client that acknowledges states has a baseline, and
                // only for it is a history kept.
                let view = m.outbox.state_view(&self.id);
                let held = view.ack.and_then(|a| m.sent.get(a.tick).map(|p| (a.tick, p)));
                let Some(frame) = frames.frame(held, view.compression) else {
                    break;
                };
                if view.ack.is_some() {
                    m.sent.record(tick, frames.payload());
                }
                self.stats.frames += 1;
                // A delta or a compressed frame is for this connection only.
                let bound = (frame.delta || frame.compressed).then_some(view.generation);
                let pushed = m.outbox.push_state_frame(&self.id, frame.bytes, bound, self.leave, now);
                match pushed {
                    Push::Queued | Push::Sent => {}
                    Push::Replaced => self.stats.states_replaced += 1,
                    Push::Stalled => self.removals.push((*id, LeaveReason::TooSlow, String::new())),
                    Push::Closed => self.removals.push((*id, LeaveReason::Disconnected, String::new())),
                }
            }
            self.stats.state_deltas += frames.counts.deltas;
            self.stats.states_compressed += frames.counts.compressed;
            self.stats.encode_errors += u64::from(frames.failed());
        }
    }

    /// Whether the monitor looked at this room recently enough that its
    /// states are kept.
    fn is_watched(&self) -> bool {
        self.watched_until.is_some_and(|until| self.now < until)
    }

    /// While watched, keeps one state of the tick in the schema's highest
    /// version as MessagePack with field names (what the monitor turns into
    /// JSON). The room's own state (`view_of: None`, a broadcast) wins: the
    /// latest broadcast of the tick replaces anything kept, as it does in
    /// clients. Without a broadcast, the tick's first private view is kept
    /// and says whose it is, so it is never shown as the room's state.
    fn capture(&mut self, state: &StateOf<R>, view_of: Option<Vec<ClientId>>) {
        if !self.is_watched() {
            return;
        }
        let this_tick = self.captured.as_ref().filter(|c| c.tick == self.tick);
        if view_of.is_some() && this_tick.is_some() {
            // A broadcast, or an earlier view, of this tick is already kept.
            return;
        }
        let version = self.schema.highest_version();
        let mut buf = Vec::new();
        if self.schema.encode_state(version, Codec::MsgPack, state, &mut buf).is_ok() {
            self.captured = Some(CapturedState { tick: self.tick, version, msgpack: Bytes::from(buf), view_of });
        }
    }

    /// The (version, codec) groups of the clients `only` addresses.
    fn group_keys(&self, only: &dyn Fn(ClientId) -> bool) -> Vec<GroupKey> {
        let mut keys: Vec<GroupKey> = Vec::with_capacity(4);
        for (id, m) in &self.members {
            let key = (m.client.version, m.client.codec);
            if only(*id) && !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }

    /// Encodes a reliable message once per group of the addressed clients
    /// and queues the frame for each.
    fn fan_out(
        &mut self,
        encode: impl Fn(u32, Codec, &mut Vec<u8>) -> Result<(), crate::protocol::CodecError>,
        only: &dyn Fn(ClientId) -> bool,
        wrap: impl Fn(Bytes) -> Kind,
    ) {
        for (version, codec) in self.group_keys(only) {
            self.payload_buf.clear();
            self.stats.encodes += 1;
            if encode(version, codec, &mut self.payload_buf).is_err() {
                self.stats.encode_errors += 1;
                continue;
            }
            let payload = Bytes::copy_from_slice(&self.payload_buf);
            let msg = ServerMsg { kind: Some(wrap(payload)), seq: 0 };
            let Ok(frame) = codec.encode_to_vec(&msg) else {
                self.stats.encode_errors += 1;
                continue;
            };
            let frame = Bytes::from(frame);
            let now = self.now;
            let in_group =
                |(id, m): &(&ClientId, &Member)| m.client.version == version && m.client.codec == codec && only(**id);
            for (id, m) in self.members.iter().filter(in_group) {
                self.stats.frames += 1;
                match m.outbox.push_frame(frame.clone(), now) {
                    Push::Queued | Push::Replaced | Push::Sent => {}
                    Push::Stalled => self.removals.push((*id, LeaveReason::TooSlow, String::new())),
                    Push::Closed => self.removals.push((*id, LeaveReason::Disconnected, String::new())),
                }
            }
        }
    }
}
