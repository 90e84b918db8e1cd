//! [`PortableRoom`]: a room as another node can rebuild it — what a cluster
//! node saves to the failover store with every snapshot, and what the node
//! that claims the room after a crash (or takes it over from a draining
//! node) restores it from.
//!
//! It holds the room's type and options (for `on_create` when there is no
//! snapshot), the studio's last `Room::snapshot` with the tick it was taken
//! at, and the seats: each client's id, its session (the store key the
//! session's record is under), user, schema version, codec, join options
//! and last processed input. MessagePack, versioned by field names.

use crate::protocol::{ClientId, Codec};
use crate::session::Options;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// One seat of a [`PortableRoom`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortableSeat {
    /// The client's id in the room.
    pub client: u32,
    /// The seated session's number on the node that saved the room (its
    /// store key is that node's tag and this number).
    pub session: u64,
    /// The id the client sees (`Welcome.session`).
    pub name: String,
    /// The authenticated user.
    pub user: Option<String>,
    /// Negotiated schema version.
    pub version: u32,
    /// Negotiated codec (`msgpack` / `proto`).
    pub codec: String,
    /// The join options.
    pub options: Options,
    /// The last input seq the room processed for the client.
    pub last_input_seq: Option<u32>,
}

impl PortableSeat {
    /// The seat's client id.
    pub fn client_id(&self) -> ClientId {
        ClientId(self.client)
    }

    /// The seat's codec (`None`: not one this version speaks).
    pub fn codec(&self) -> Option<Codec> {
        Codec::from_name(&self.codec)
    }
}

/// A room another node can rebuild (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortableRoom {
    /// The room type.
    pub room_type: String,
    /// The options it was created with.
    pub options: Options,
    /// The tag of the node that saved it (its seats' session keys).
    pub node: u64,
    /// The tick the snapshot was taken at (0: none taken yet).
    pub tick: u64,
    /// When it was saved, ms since the Unix epoch: the restoring node goes
    /// on with the tick numbers the room would have reached by now, so a
    /// client never sees a tick number twice from two owners.
    pub saved_at_ms: u64,
    /// The studio's `Room::snapshot` (`None`: restored through `on_create`).
    pub snapshot: Option<Bytes>,
    /// The clients the snapshot knows (seated when it was taken): a seat
    /// it does not know gets `on_join` after the restore, a client it knows
    /// that has no seat any more gets `on_leave`.
    pub known: Vec<u32>,
    /// The seats when it was saved.
    pub seats: Vec<PortableSeat>,
    /// The next client id the room hands out.
    pub next_client: u32,
    /// Whether the room refused joins.
    pub locked: bool,
}

impl PortableRoom {
    /// A room just created (no snapshot, no seat).
    pub fn fresh(room_type: &str, options: &Options, node: u64) -> Self {
        PortableRoom {
            room_type: room_type.to_string(),
            options: options.clone(),
            node,
            tick: 0,
            saved_at_ms: unix_millis(),
            snapshot: None,
            known: Vec::new(),
            seats: Vec::new(),
            next_client: 1,
            locked: false,
        }
    }

    /// Its bytes.
    pub fn encode(&self) -> Bytes {
        Bytes::from(rmp_serde::to_vec_named(self).unwrap_or_default())
    }

    /// A room from its bytes (`None`: not one this version wrote).
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        rmp_serde::from_slice(bytes).ok()
    }
}

/// Now, in ms since the Unix epoch.
pub(crate) fn unix_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_round_trips_and_its_seats_keep_their_codec() {
        let mut r = PortableRoom::fresh("arena", &Options::from([("map".to_string(), "dust".to_string())]), 9);
        r.snapshot = Some(Bytes::from_static(b"\x01\x02"));
        r.seats.push(PortableSeat {
            client: 3,
            session: 0x1f,
            name: "1f-00000001".into(),
            user: None,
            version: 2,
            codec: Codec::Proto.name().into(),
            options: Options::new(),
            last_input_seq: Some(40),
        });
        let back = PortableRoom::decode(&r.encode()).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.seats[0].codec(), Some(Codec::Proto));
        assert_eq!(PortableRoom::decode(b"garbage"), None);
    }
}
