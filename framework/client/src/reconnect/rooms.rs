//! The rooms a reconnecting client is in, and how it got into each
//! ([`RoomMemory`]), so that a new session can get back in: [`RejoinStep`]
//! is what to send, and [`RejoinStep::after_refusal`] what to try when that
//! is refused.

use super::events::{RejoinFailed, Rejoined};
use crate::envelope::{JoinError, Joined};
use crate::{Client, ClientError};
use std::collections::HashMap;

/// How the game got into a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinedBy {
    /// `join(room id)`: that room and no other.
    Id,
    /// `join_or_create(room type)`: any room of the type.
    JoinOrCreate,
    /// `create(room type)`: a room of the type, made for the game.
    Create,
}

/// One room the client is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    /// The room's id (it may change after a rejoin by type).
    pub room: String,
    /// The room's type.
    pub room_type: String,
    /// How the game got in.
    pub by: JoinedBy,
    /// The options of that join (sent again on a rejoin).
    pub options: HashMap<String, String>,
}

/// The rooms the client is in, in the order it joined them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomMemory {
    rooms: Vec<RoomRecord>,
}

impl RoomMemory {
    /// The game got into `joined` by `by` with `options`.
    pub fn joined(&mut self, joined: &Joined, by: JoinedBy, options: HashMap<String, String>) {
        self.left(&joined.room);
        self.rooms.push(RoomRecord { room: joined.room.clone(), room_type: joined.room_type.clone(), by, options });
    }

    /// A `Joined` the game did not ask for through this client (a join whose
    /// call failed with the connection, answered after a resume): kept as a
    /// join by id with no options, since how it was asked for is unknown.
    pub fn joined_unasked(&mut self, joined: &Joined) {
        if !self.contains(&joined.room) {
            self.joined(joined, JoinedBy::Id, HashMap::new());
        }
    }

    /// The client is no longer in `room`.
    pub fn left(&mut self, room: &str) {
        self.rooms.retain(|r| r.room != room);
    }

    /// After a resume: keeps only the rooms the server says the session is
    /// in (the others dropped its seat meanwhile), and returns the rest.
    pub fn keep_only(&mut self, rooms: &[Joined]) -> Vec<RoomRecord> {
        let (kept, gone) =
            std::mem::take(&mut self.rooms).into_iter().partition(|r| rooms.iter().any(|j| j.room == r.room));
        self.rooms = kept;
        gone
    }

    /// Whether the client is in `room`.
    pub fn contains(&self, room: &str) -> bool {
        self.rooms.iter().any(|r| r.room == room)
    }

    /// The rooms, in join order.
    pub fn records(&self) -> &[RoomRecord] {
        &self.rooms
    }
}

/// One request of a rejoin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RejoinStep {
    /// `Join` the room by id.
    Join {
        /// Room id.
        room: String,
        /// Join options.
        options: HashMap<String, String>,
    },
    /// `JoinOrCreate` of a type.
    JoinOrCreate {
        /// Room type.
        room_type: String,
        /// Join options.
        options: HashMap<String, String>,
    },
    /// `Create` a room of a type.
    Create {
        /// Room type.
        room_type: String,
        /// Room options.
        options: HashMap<String, String>,
    },
}

impl RejoinStep {
    /// The first request for `record`: the same room by id, whichever way it
    /// was joined — the players the game was with are there, if it still
    /// exists and has the seat.
    pub fn first(record: &RoomRecord) -> Self {
        RejoinStep::Join { room: record.room.clone(), options: record.options.clone() }
    }

    /// What to try after this step was refused with `_error`: a room joined
    /// by type falls back to the call that got the game in (join-or-create,
    /// or create), so it lands in a room of the same type under a new id; a
    /// room joined by id has no fallback, and neither does the fallback.
    pub fn after_refusal(&self, record: &RoomRecord, _error: &JoinError) -> Option<RejoinStep> {
        let RejoinStep::Join { .. } = self else { return None };
        let (room_type, options) = (record.room_type.clone(), record.options.clone());
        match record.by {
            JoinedBy::Id => None,
            JoinedBy::JoinOrCreate => Some(RejoinStep::JoinOrCreate { room_type, options }),
            JoinedBy::Create => Some(RejoinStep::Create { room_type, options }),
        }
    }
}

/// Rejoins the rooms of `memory` on the fresh session of `conn`, in join
/// order. Refusals are collected; a connection failure fails the attempt.
pub(super) async fn rejoin(
    conn: &mut Client,
    memory: &RoomMemory,
) -> Result<(RoomMemory, Vec<Rejoined>, Vec<RejoinFailed>), ClientError> {
    let mut rooms = RoomMemory::default();
    let (mut rejoined, mut failed) = (Vec::new(), Vec::new());
    for record in memory.records() {
        let mut step = RejoinStep::first(record);
        loop {
            let answer = match &step {
                RejoinStep::Join { room, options } => conn.join(room, options.clone()).await,
                RejoinStep::JoinOrCreate { room_type, options } => {
                    conn.join_or_create(room_type, options.clone()).await
                }
                RejoinStep::Create { room_type, options } => conn.create(room_type, options.clone()).await,
            };
            match answer {
                Ok(joined) => {
                    rooms.joined(&joined, record.by, record.options.clone());
                    rejoined.push(Rejoined { previous: record.room.clone(), joined });
                    break;
                }
                Err(ClientError::Join(error)) => match step.after_refusal(record, &error) {
                    Some(next) => step = next,
                    None => {
                        failed.push(RejoinFailed { room: record.clone(), error });
                        break;
                    }
                },
                Err(e) => return Err(e),
            }
        }
    }
    Ok((rooms, rejoined, failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::JoinErrorCode;

    fn joined(room: &str, room_type: &str) -> Joined {
        Joined { room: room.into(), room_type: room_type.into(), ..Default::default() }
    }

    fn opts(k: &str) -> HashMap<String, String> {
        HashMap::from([(k.to_string(), "1".to_string())])
    }

    fn not_found() -> JoinError {
        JoinError { code: JoinErrorCode::RoomNotFound as i32, ..Default::default() }
    }

    fn record(by: JoinedBy) -> RoomRecord {
        RoomRecord { room: "r1".into(), room_type: "arena".into(), by, options: opts("chatter") }
    }

    #[test]
    fn memory_keeps_join_order_and_forgets_left_rooms() {
        let mut m = RoomMemory::default();
        m.joined(&joined("a", "arena"), JoinedBy::JoinOrCreate, opts("x"));
        m.joined(&joined("b", "lobby"), JoinedBy::Id, HashMap::new());
        m.joined(&joined("c", "arena"), JoinedBy::Create, HashMap::new());
        m.left("b");
        let rooms: Vec<&str> = m.records().iter().map(|r| r.room.as_str()).collect();
        assert_eq!(rooms, ["a", "c"]);
        assert_eq!(m.records()[0].options, opts("x"));
        assert_eq!(m.records()[0].by, JoinedBy::JoinOrCreate);
    }

    #[test]
    fn joining_a_room_again_replaces_its_record() {
        let mut m = RoomMemory::default();
        m.joined(&joined("a", "arena"), JoinedBy::Id, HashMap::new());
        m.joined(&joined("a", "arena"), JoinedBy::Create, opts("y"));
        assert_eq!(
            m.records(),
            [RoomRecord { room: "a".into(), room_type: "arena".into(), by: JoinedBy::Create, options: opts("y") }]
        );
    }

    #[test]
    fn an_unasked_join_is_remembered_by_id_without_overwriting() {
        let mut m = RoomMemory::default();
        m.joined(&joined("a", "arena"), JoinedBy::Create, opts("y"));
        m.joined_unasked(&joined("a", "arena"));
        m.joined_unasked(&joined("b", "arena"));
        assert_eq!(m.records()[0].by, JoinedBy::Create);
        assert_eq!((m.records()[1].by, m.records()[1].options.len()), (JoinedBy::Id, 0));
    }

    #[test]
    fn a_resume_keeps_only_the_rooms_the_server_names() {
        let mut m = RoomMemory::default();
        m.joined(&joined("a", "arena"), JoinedBy::Id, HashMap::new());
        m.joined(&joined("b", "arena"), JoinedBy::Id, HashMap::new());
        let gone = m.keep_only(&[joined("b", "arena"), joined("zzz", "arena")]);
        assert_eq!(gone.iter().map(|r| r.room.as_str()).collect::<Vec<_>>(), ["a"]);
        assert!(m.contains("b") && !m.contains("a") && !m.contains("zzz"));
    }

    #[test]
    fn a_rejoin_starts_with_the_same_room_by_id() {
        for by in [JoinedBy::Id, JoinedBy::JoinOrCreate, JoinedBy::Create] {
            assert_eq!(
                RejoinStep::first(&record(by)),
                RejoinStep::Join { room: "r1".into(), options: opts("chatter") }
            );
        }
    }

    #[test]
    fn a_room_joined_by_type_falls_back_to_the_same_call() {
        let step = RejoinStep::first(&record(JoinedBy::JoinOrCreate));
        assert_eq!(
            step.after_refusal(&record(JoinedBy::JoinOrCreate), &not_found()),
            Some(RejoinStep::JoinOrCreate { room_type: "arena".into(), options: opts("chatter") })
        );
        assert_eq!(
            step.after_refusal(&record(JoinedBy::Create), &not_found()),
            Some(RejoinStep::Create { room_type: "arena".into(), options: opts("chatter") })
        );
    }

    #[test]
    fn a_room_joined_by_id_has_no_fallback() {
        let step = RejoinStep::first(&record(JoinedBy::Id));
        assert_eq!(step.after_refusal(&record(JoinedBy::Id), &not_found()), None);
    }

    #[test]
    fn a_fallback_is_tried_once() {
        let rec = record(JoinedBy::JoinOrCreate);
        let fallback = RejoinStep::first(&rec).after_refusal(&rec, &not_found()).expect("fallback");
        assert_eq!(fallback.after_refusal(&rec, &not_found()), None);
    }
}
