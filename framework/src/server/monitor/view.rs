//! What the monitor's API answers, as plain serializable types, and the
//! plain functions that build them from what rooms and metrics report.

use super::sampler::Point;
use crate::backend::RoomRecord;
use crate::matchmaking::RoomInfo;
use crate::session::{CapturedState, InspectedClient, RoomInspection};
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /monitor/api/overview`.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// The app name.
    pub app: String,
    /// This node's id on a cluster node, else `None`.
    pub node: Option<String>,
    /// Open WebSocket connections.
    pub connections: i64,
    /// This process's rooms per room type (every registered type, even with none).
    pub room_types: Vec<TypeCount>,
    /// On a cluster node: the cluster's rooms per node and type.
    pub nodes: Option<Vec<NodeCount>>,
    /// Why `nodes` is missing on a cluster node (the store could not be read).
    pub nodes_error: Option<String>,
    /// This process's rooms, with their clients.
    pub rooms: Vec<RoomRow>,
    /// How many rooms were left out of `rooms` (past the monitor's bound).
    pub rooms_not_shown: usize,
    /// One point a second over the last minutes, oldest first.
    pub series: Vec<Point>,
    /// Connections closed by the server since start, per close code.
    pub closes: Vec<CloseCount>,
}

/// Rooms and clients of one room type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeCount {
    /// The room type.
    pub room_type: String,
    /// Rooms alive.
    pub rooms: usize,
    /// Clients in them.
    pub clients: usize,
}

/// One node's share of a cluster's rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeCount {
    /// The node's id.
    pub node: String,
    /// Where clients reach it.
    pub url: String,
    /// Rooms per room type.
    pub rooms: BTreeMap<String, usize>,
    /// Clients in its rooms, as it last reported.
    pub clients: u64,
}

/// One room in the overview.
#[derive(Debug, Clone, Serialize)]
pub struct RoomRow {
    /// Room id.
    pub id: String,
    /// Room type.
    pub room_type: String,
    /// Most clients.
    pub max_clients: usize,
    /// Whether joins are refused.
    pub locked: bool,
    /// The last tick run (`None`: the room did not answer in time).
    pub tick: Option<u64>,
    /// Its clients (empty when the room did not answer in time).
    pub clients: Vec<ClientView>,
}

/// One client, as the monitor shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientView {
    /// Its id in the room (what `kick` takes).
    pub id: u32,
    /// Its session id.
    pub session: String,
    /// The authenticated user.
    pub user: Option<String>,
    /// Its subprotocol's version and codec, e.g. `v2.proto`.
    pub protocol: String,
    /// Its connection is lost; the seat waits for a resume.
    pub away: bool,
    /// Smoothed RTT from heartbeat pongs, milliseconds (`None`: not
    /// measured yet; the first pong comes one heartbeat interval after the
    /// connection opens).
    pub rtt_ms: Option<f64>,
    /// The seq of the last input the room processed.
    pub last_input_seq: Option<u32>,
}

/// `GET /monitor/api/rooms/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct RoomDetail {
    /// Room id.
    pub id: String,
    /// Room type.
    pub room_type: String,
    /// Most clients.
    pub max_clients: usize,
    /// The last tick run.
    pub tick: u64,
    /// Whether joins are refused.
    pub locked: bool,
    /// The panic message if the room's code crashed.
    pub crashed: Option<String>,
    /// Its clients.
    pub clients: Vec<ClientView>,
    /// The latest state it sent, as JSON (`None`: see `state_note`).
    pub state: Option<StateView>,
    /// Why there is no state to show, for a person.
    pub state_note: Option<String>,
}

/// A room's latest state, decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateView {
    /// The tick that sent it.
    pub tick: u64,
    /// The schema version it is shown in (the highest served).
    pub version: u32,
    /// The state, field by field.
    pub json: serde_json::Value,
    /// `None`: the room's state (a broadcast). Otherwise the tick broadcast
    /// nothing and this is the private view (`send_state`/`send_state_to`)
    /// of these client ids only.
    pub view_of: Option<Vec<u32>>,
}

/// Connections the server closed with one code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CloseCount {
    /// The close code.
    pub code: u16,
    /// What it means (README "Close codes").
    pub meaning: &'static str,
    /// How many since start.
    pub count: u64,
}

/// A client as shown.
pub fn client_view(c: &InspectedClient) -> ClientView {
    ClientView {
        id: c.id.0,
        session: c.session.clone(),
        user: c.user.clone(),
        protocol: format!("v{}.{}", c.version, c.codec.name()),
        away: c.away,
        rtt_ms: c.rtt.map(|d| (d.as_secs_f64() * 1e4).round() / 10.0),
        last_input_seq: c.last_input_seq,
    }
}

/// The detail of room `info`, from what it answered.
pub fn room_detail(info: &RoomInfo, inspection: &RoomInspection) -> RoomDetail {
    let (state, state_note) = match &inspection.state {
        Some(s) => match state_json(s) {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        },
        None => (
            None,
            Some("no state captured yet: the room keeps its states while the monitor watches it; it shows after its next tick that sends one".to_string()),
        ),
    };
    RoomDetail {
        id: info.id.to_string(),
        room_type: info.room_type.clone(),
        max_clients: info.max_clients,
        tick: inspection.tick,
        locked: inspection.locked,
        crashed: inspection.crashed.clone(),
        clients: inspection.clients.iter().map(client_view).collect(),
        state,
        state_note,
    }
}

/// A captured state (MessagePack with field names) as JSON. What JSON
/// cannot hold is shown in `playhouse_protocol::json`'s documented forms
/// (a `bin` field as base64, a non-string map key as text), so any state
/// the room could encode shows; only bytes that are not MessagePack fail.
pub fn state_json(s: &CapturedState) -> Result<StateView, String> {
    // The same depth bound as every MessagePack decode (MAX_MSGPACK_DEPTH).
    let json = playhouse_protocol::json::msgpack_to_json(&s.msgpack)
        .map_err(|e| format!("the room's state does not convert to JSON: {e}"))?;
    let view_of = s.view_of.as_ref().map(|ids| ids.iter().map(|c| c.0).collect());
    Ok(StateView { tick: s.tick, version: s.version, json, view_of })
}

/// Rooms and clients per type, for every type in `types` (in that order).
pub fn per_type(types: &[String], rooms: &[RoomInfo]) -> Vec<TypeCount> {
    types
        .iter()
        .map(|t| {
            let of = rooms.iter().filter(|r| &r.room_type == t);
            TypeCount { room_type: t.clone(), rooms: of.clone().count(), clients: of.map(|r| r.clients).sum() }
        })
        .collect()
}

/// A cluster's rooms per node and type, nodes by id.
pub fn per_node(records: &[RoomRecord]) -> Vec<NodeCount> {
    let mut nodes: BTreeMap<&str, NodeCount> = BTreeMap::new();
    for r in records {
        let n = nodes.entry(&r.node).or_insert_with(|| NodeCount {
            node: r.node.clone(),
            url: r.url.clone(),
            rooms: BTreeMap::new(),
            clients: 0,
        });
        *n.rooms.entry(r.room_type.clone()).or_default() += 1;
        n.clients += u64::from(r.clients);
    }
    nodes.into_values().collect()
}

/// Close counts with their meanings.
pub fn closes(counts: &[(u16, u64)]) -> Vec<CloseCount> {
    counts.iter().map(|&(code, count)| CloseCount { code, meaning: close_meaning(code), count }).collect()
}

/// What a close code means (README "Close codes").
pub fn close_meaning(code: u16) -> &'static str {
    match code {
        1000 => "normal",
        1001 => "going away (shutdown, or the room moved)",
        1002 => "protocol error",
        1003 => "unsupported data",
        1007 => "payload does not decode",
        1008 => "policy (idle, rate limit, expired credential)",
        1009 => "message too big",
        1011 => "room lost (crashed past its restart budget)",
        1013 => "try again later",
        4001 => "unauthorized",
        4002 => "authentication timed out",
        4003 => "forbidden",
        4004 => "room not found",
        4005 => "kicked",
        4008 => "too slow (stopped reading)",
        4009 => "replaced by a resume",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ClientId, Codec};
    use bytes::Bytes;
    use std::time::Duration;

    fn room(id: &str, t: &str, clients: usize) -> RoomInfo {
        RoomInfo { id: id.into(), room_type: t.into(), clients, max_clients: 16, locked: false }
    }

    #[test]
    fn a_captured_state_reads_as_json_with_field_names() {
        #[derive(serde::Serialize)]
        struct Player {
            id: u32,
            name: String,
        }
        #[derive(serde::Serialize)]
        struct State {
            round: u32,
            players: Vec<Player>,
        }
        let state = State { round: 3, players: vec![Player { id: 1, name: "ann".into() }] };
        let bytes = playhouse_protocol_msgpack(&state);
        let s = CapturedState { tick: 42, version: 2, msgpack: Bytes::from(bytes), view_of: None };
        let v = state_json(&s).unwrap();
        assert_eq!((v.tick, v.version, v.view_of.clone()), (42, 2, None));
        assert_eq!(v.json, serde_json::json!({"round": 3, "players": [{"id": 1, "name": "ann"}]}));
        // An array of two holding one value: cut short.
        let bad = CapturedState { tick: 1, version: 1, msgpack: Bytes::from_static(&[0x92, 0x01]), view_of: None };
        assert!(state_json(&bad).unwrap_err().contains("does not convert"));
    }

    #[test]
    fn a_state_with_int_keys_and_bytes_still_shows() {
        #[derive(serde::Serialize)]
        struct State {
            scores: BTreeMap<u32, u32>,
            #[serde(with = "serde_bytes_field")]
            blob: Vec<u8>,
        }
        /// Writes the field as MessagePack `bin` (what `Bytes` fields are).
        mod serde_bytes_field {
            pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(v)
            }
        }
        let state = State { scores: BTreeMap::from([(7, 70), (9, 90)]), blob: vec![0, 1, 2, 255] };
        let bytes = playhouse_protocol_msgpack(&state);
        // Check the fixture really holds the awkward shapes.
        assert!(bytes.windows(2).any(|w| w == [0xc4, 4]), "a bin 8 of 4 bytes");
        let s = CapturedState { tick: 5, version: 2, msgpack: Bytes::from(bytes), view_of: Some(vec![ClientId(3)]) };
        let v = state_json(&s).expect("shows");
        assert_eq!(v.view_of, Some(vec![3]), "whose private view it is");
        assert_eq!(v.json, serde_json::json!({"scores": {"7": 70, "9": 90}, "blob": "AAEC/w=="}));
    }

    /// MessagePack as the codec writes it: structs as maps.
    fn playhouse_protocol_msgpack<T: serde::Serialize>(v: &T) -> Vec<u8> {
        let mut buf = Vec::new();
        v.serialize(&mut rmp_serde::Serializer::new(&mut buf).with_struct_map()).unwrap();
        buf
    }

    #[test]
    fn a_room_without_a_captured_state_says_why() {
        let inspection = RoomInspection {
            tick: 7,
            locked: false,
            clients: vec![InspectedClient {
                id: ClientId(3),
                session: "3-abc".into(),
                user: None,
                version: 2,
                codec: Codec::Proto,
                away: false,
                rtt: Some(Duration::from_micros(1234)),
                last_input_seq: Some(9),
            }],
            state: None,
            crashed: None,
        };
        let d = room_detail(&room("r1", "arena", 1), &inspection);
        assert!(d.state.is_none() && d.state_note.unwrap().contains("no state captured"));
        assert_eq!(d.clients[0].protocol, "v2.proto");
        assert_eq!(d.clients[0].rtt_ms, Some(1.2));
    }

    #[test]
    fn counts_per_type_and_per_node() {
        let types = vec!["arena".to_string(), "lobby".to_string()];
        let rooms = [room("a", "arena", 2), room("b", "arena", 3)];
        assert_eq!(
            per_type(&types, &rooms),
            vec![
                TypeCount { room_type: "arena".into(), rooms: 2, clients: 5 },
                TypeCount { room_type: "lobby".into(), rooms: 0, clients: 0 }
            ]
        );
        let rec = |id: &str, node: &str, clients| RoomRecord {
            id: id.into(),
            room_type: "arena".into(),
            node: node.into(),
            url: format!("ws://{node}/ws"),
            clients,
            max_clients: 16,
            locked: false,
            epoch: 1,
        };
        let nodes = per_node(&[rec("a", "n2", 1), rec("b", "n1", 2), rec("c", "n2", 4)]);
        assert_eq!(
            nodes.iter().map(|n| (n.node.as_str(), n.rooms["arena"], n.clients)).collect::<Vec<_>>(),
            vec![("n1", 1, 2), ("n2", 2, 5)]
        );
    }

    #[test]
    fn close_codes_carry_their_meaning() {
        assert_eq!(closes(&[(4005, 2)]), vec![CloseCount { code: 4005, meaning: "kicked", count: 2 }]);
        assert_eq!(close_meaning(4999), "other");
    }
}
