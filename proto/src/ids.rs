//! The ids the protocol names things by, in one place so every layer (and
//! every client) means the same thing by them.
//!
//! Each is its own type, so one id cannot be passed where another (or any
//! other string or number) is meant. On the wire they are plain values
//! (`Joined.room` is a `string`, `Joined.client` a `uint32`): the envelope
//! keeps those, and the ids are converted where frames are built and read.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A room's id: 10 characters of `[a-km-zA-HJ-NP-Z2-9]` (`Joined.room`).
/// Shared, cheap to clone: every seat, frame and event of the room names it.
///
/// It reads as a `str` (`Deref`, `as_str`, `Display`), maps keyed by it are
/// looked up with a `&str` (`Borrow<str>`), and serde sees a plain string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(Arc<str>);

impl RoomId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for RoomId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for RoomId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for RoomId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for RoomId {
    fn from(s: &str) -> Self {
        RoomId(s.into())
    }
}

impl From<String> for RoomId {
    fn from(s: String) -> Self {
        RoomId(s.into())
    }
}

impl From<Arc<str>> for RoomId {
    fn from(s: Arc<str>) -> Self {
        RoomId(s)
    }
}

impl From<RoomId> for String {
    fn from(id: RoomId) -> Self {
        id.0.to_string()
    }
}

impl PartialEq<str> for RoomId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for RoomId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for RoomId {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for RoomId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RoomId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(RoomId::from)
    }
}

/// A client's id within one room (`Joined.client`): dense, from 1, never
/// reused within the room; the player's own entity id in arena. Shown (and
/// serialized, e.g. in a room's snapshot) as the plain number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClientId(pub u32);

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u32> for ClientId {
    fn from(id: u32) -> Self {
        ClientId(id)
    }
}

impl From<ClientId> for u32 {
    fn from(id: ClientId) -> Self {
        id.0
    }
}

/// A session's number within one server (the outbox id rooms know a client
/// by). Not the name a client sees (`Welcome.session`), and never a
/// connection's id: the types keep the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

/// A connection's number within one server (a session outlives its
/// connections; see [`SessionId`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_room_id_is_a_plain_string_to_maps_and_serde() {
        let id = RoomId::from("abcdefghij");
        let mut rooms = HashMap::new();
        rooms.insert(id.clone(), 1);
        assert_eq!(rooms.get("abcdefghij"), Some(&1), "looked up by &str");
        assert_eq!(id.to_string(), "abcdefghij");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"abcdefghij\"");
        assert_eq!(serde_json::from_str::<RoomId>("\"abcdefghij\"").unwrap(), id);
    }

    #[test]
    fn a_client_id_is_a_plain_number_to_people_and_serde() {
        assert_eq!(ClientId(7).to_string(), "7");
        assert_eq!(serde_json::to_string(&ClientId(7)).unwrap(), "7");
        assert_eq!(serde_json::from_str::<ClientId>("7").unwrap(), ClientId(7));
    }
}
