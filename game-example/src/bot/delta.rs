//! The delta-encoding estimate: how large each state would be if only
//! what changed since the previous one were sent (reported by `--delta`).

use super::*;

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

/// The per-entity encodings of one state, by id, for the delta estimate;
/// `fields` holds the players again (as v2) to diff them field by field.
#[derive(Default)]
pub(super) struct Entities {
    pub(super) players: HashMap<u32, Vec<u8>>,
    pub(super) pickups: HashMap<u32, Vec<u8>>,
    pub(super) fields: HashMap<u32, v2::Player>,
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
pub(super) fn field_diff_bytes(codec: Codec, old: &v2::Player, new: &v2::Player) -> usize {
    pub(super) fn ch<T: PartialEq + Clone>(a: &T, b: &T) -> Option<T> {
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

pub(super) fn proto_overhead(codec: Codec, len: usize) -> usize {
    match codec {
        // tag + length varint of a repeated message field
        Codec::Proto => 1 + (usize::BITS - len.max(1).leading_zeros()).div_ceil(7) as usize,
        Codec::MsgPack => 0,
    }
}

pub(super) fn entity_map<T: WireMessage>(codec: Codec, items: &[T], id: impl Fn(&T) -> u32) -> HashMap<u32, Vec<u8>> {
    items.iter().map(|i| (id(i), codec.encode_to_vec(i).unwrap_or_default())).collect()
}

#[derive(Default)]
pub(super) struct DeltaAcc {
    prev: Option<Entities>,
    n: u64,
    payload: u64,
    same_players: u64,
    same_pickups: u64,
    pub(super) players: u64,
    same_player_count: u64,
    delta: u64,
    field_delta: u64,
}

impl DeltaAcc {
    pub(super) fn add(&mut self, codec: Codec, payload_len: usize, now: Entities, counted: bool) {
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

    pub(super) fn estimate(&self) -> DeltaEstimate {
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
