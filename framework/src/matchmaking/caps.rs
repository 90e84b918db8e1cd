//! [`RoomCaps`]: how many rooms are alive, in all and per room type, against
//! the server's cap (`ServerConfig::max_rooms`) and each type's
//! (`RoomType::max_rooms`). A create takes a slot before the room is made,
//! so creates racing on several HTTP workers can never overshoot a cap; the
//! slot is given back when the room leaves the registry (or its create
//! fails).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A create refused because a room cap is reached (`JoinError ROOM_LIMIT`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomLimit {
    /// The server holds `ServerConfig::max_rooms` rooms.
    #[error("the server's room limit ({max}) is reached; join an existing room, or try again later")]
    Server {
        /// The cap.
        max: usize,
    },
    /// The room type holds its `RoomType::max_rooms` rooms.
    #[error("room type {room_type:?} is at its room limit ({max}); join an existing room, or try again later")]
    Type {
        /// The room type.
        room_type: String,
        /// Its cap.
        max: usize,
    },
}

impl RoomLimit {
    /// The `reason` label of `playhouse_creates_refused_total`.
    pub fn metric_label(&self) -> &'static str {
        match self {
            RoomLimit::Server { .. } => "server_limit",
            RoomLimit::Type { .. } => "type_limit",
        }
    }
}

/// One counter and its cap (0: no cap).
#[derive(Debug)]
struct Cap {
    max: usize,
    live: AtomicUsize,
}

impl Cap {
    fn new(max: usize) -> Self {
        Cap { max, live: AtomicUsize::new(0) }
    }

    fn take(&self) -> bool {
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (self.max == 0 || n < self.max).then_some(n + 1))
            .is_ok()
    }

    fn give_back(&self) {
        // Saturating: a slot is never given back twice, but a miscount must
        // not wrap into "full for ever".
        let _ = self.live.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_sub(1)));
    }
}

/// Live room counts against their caps.
#[derive(Debug)]
pub(crate) struct RoomCaps {
    server: Cap,
    types: BTreeMap<String, Cap>,
}

impl RoomCaps {
    /// `max_rooms` in all (0: no cap), and each listed type's cap (0: only
    /// the server's).
    pub(crate) fn new(max_rooms: usize, types: impl IntoIterator<Item = (String, usize)>) -> Self {
        RoomCaps { server: Cap::new(max_rooms), types: types.into_iter().map(|(t, max)| (t, Cap::new(max))).collect() }
    }

    /// Takes a slot for a room of `room_type`, or says which cap is reached.
    /// The slot is given back when the [`Slot`] drops, unless it is kept.
    pub(crate) fn take<'a>(&'a self, room_type: &'a str) -> Result<Slot<'a>, RoomLimit> {
        if !self.server.take() {
            return Err(RoomLimit::Server { max: self.server.max });
        }
        if let Some(cap) = self.types.get(room_type) {
            if !cap.take() {
                self.server.give_back();
                return Err(RoomLimit::Type { room_type: room_type.to_string(), max: cap.max });
            }
        }
        Ok(Slot { caps: self, room_type: Some(room_type) })
    }

    /// Gives back the slot of a room of `room_type` that is gone (or was never made).
    pub(crate) fn give_back(&self, room_type: &str) {
        self.server.give_back();
        if let Some(cap) = self.types.get(room_type) {
            cap.give_back();
        }
    }

    /// Rooms alive, in all.
    #[cfg(test)]
    fn live(&self) -> usize {
        self.server.live.load(Ordering::Acquire)
    }
}

/// A room's slot while its create is under way: given back on drop (the
/// create failed), unless [`Slot::keep`] hands it to the live room.
#[derive(Debug)]
pub(crate) struct Slot<'a> {
    caps: &'a RoomCaps,
    room_type: Option<&'a str>,
}

impl Slot<'_> {
    /// The room exists: its slot is given back when it leaves the registry.
    pub(crate) fn keep(mut self) {
        self.room_type = None;
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.room_type {
            self.caps.give_back(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_cap_bounds_every_type_together_and_frees_with_the_rooms() {
        let caps = RoomCaps::new(3, [("arena".to_string(), 0), ("lobby".to_string(), 0)]);
        for t in ["arena", "lobby", "arena"] {
            caps.take(t).expect("under the cap").keep();
        }
        assert_eq!(caps.take("lobby").unwrap_err(), RoomLimit::Server { max: 3 });
        assert_eq!(caps.live(), 3, "a refused create holds no slot");
        caps.give_back("arena");
        caps.take("lobby").expect("a room that went away frees its slot").keep();
        let e = caps.take("arena").unwrap_err();
        assert_eq!(e.to_string(), "the server's room limit (3) is reached; join an existing room, or try again later");
        assert_eq!(e.metric_label(), "server_limit");
    }

    #[test]
    fn a_type_cap_bounds_its_own_rooms_only() {
        let caps = RoomCaps::new(0, [("arena".to_string(), 2), ("lobby".to_string(), 0)]);
        caps.take("arena").expect("first").keep();
        caps.take("arena").expect("second").keep();
        let e = caps.take("arena").unwrap_err();
        assert_eq!(e, RoomLimit::Type { room_type: "arena".into(), max: 2 });
        assert_eq!(
            e.to_string(),
            "room type \"arena\" is at its room limit (2); join an existing room, or try again later"
        );
        assert_eq!(e.metric_label(), "type_limit");
        for _ in 0..1000 {
            caps.take("lobby").expect("0: only the server's cap, and the server has none").keep();
        }
        assert_eq!(caps.live(), 1002, "a type's refusal gives its server slot back");
        caps.give_back("arena");
        caps.take("arena").expect("freed").keep();
    }

    #[test]
    fn a_failed_create_gives_its_slot_back() {
        let caps = RoomCaps::new(1, []);
        drop(caps.take("arena").expect("free"));
        assert_eq!(caps.live(), 0);
        caps.take("arena").expect("still free").keep();
        assert_eq!(caps.live(), 1);
    }

    #[test]
    fn racing_creates_never_overshoot_a_cap() {
        let caps = std::sync::Arc::new(RoomCaps::new(100, [("arena".to_string(), 60)]));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let caps = caps.clone();
                std::thread::spawn(move || (0..100).filter_map(|_| caps.take("arena").ok().map(Slot::keep)).count())
            })
            .collect();
        let taken: usize = threads.into_iter().map(|t| t.join().expect("thread")).sum();
        assert_eq!((taken, caps.live()), (60, 60));
    }
}
