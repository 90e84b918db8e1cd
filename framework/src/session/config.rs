//! [`SessionConfig`]: the knobs of sessions — the windows, the replay
//! bounds, the token, and the parking caps (`ServerConfig::session`).

use super::ParkingLimits;
use std::time::Duration;

/// Session knobs (`ServerConfig::session`).
#[derive(Clone)]
pub struct SessionConfig {
    /// Resume on or off (0 disables it), and the most a session in no room
    /// may stay resumable after its connection is lost (see
    /// `roomless_window`). A session in rooms stays as long as the longest
    /// `RoomType::reconnect_window` among them; each room keeps the seat for
    /// its own window. Default 20 s.
    pub reconnect_window: Duration,
    /// How long a session in no room (no seat, no join pending) stays
    /// resumable after its connection is lost: the shorter of this and
    /// `reconnect_window`. Such a session holds nothing a client could lose
    /// but its id, so it waits only long enough for a quick reconnect, and
    /// connect-and-drop cycles cannot hold parking places for long. 0: a
    /// session in no room is never parked. Default 5 s.
    pub roomless_window: Duration,
    /// Most reliable messages kept for replay per session.
    pub replay_max_messages: usize,
    /// Most bytes of reliable messages kept for replay per session.
    pub replay_max_bytes: usize,
    /// How long a resume token is valid after it was issued (a new one comes
    /// with every `Resumed`).
    pub token_ttl: Duration,
    /// The key resume tokens are signed with; `None`: a random key per
    /// process (tokens then work only on the server that issued them, which
    /// is all an in-memory session can offer anyway).
    pub secret: Option<Vec<u8>>,
    /// The tag of the node that issues this server's resume tokens (set by
    /// the server on a cluster node; 0 otherwise). A token of another node
    /// is answered with where to resume (docs/cluster.md).
    pub node: u64,
    /// Most sessions parked at once (bounds memory under a reconnect
    /// flood). At the cap the oldest parked session in no room gives way;
    /// with none, a lost connection ends its session at once: a seat is
    /// never taken to park another. 0: nothing is parked. Default 10,000.
    pub max_parked: usize,
    /// Most sessions parked from one client address (IPv6: one /64), so
    /// one machine cannot fill `max_parked`. At the cap the oldest of that
    /// address's parked sessions gives way, one in no room first; a
    /// session in no room never displaces one in rooms. Enough for a
    /// household or a small NAT. 0: no cap. Default 64.
    pub max_parked_per_address: usize,
    /// Most sessions parked for one authenticated user; at the cap the
    /// oldest of the user's gives way, as per address. 0: no cap.
    /// Default 8.
    pub max_parked_per_user: usize,
}

impl SessionConfig {
    /// The parking caps, for a [`ParkingQuota`].
    pub fn parking_limits(&self) -> ParkingLimits {
        ParkingLimits {
            max_parked: self.max_parked,
            per_address: self.max_parked_per_address,
            per_user: self.max_parked_per_user,
        }
    }
}

impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConfig")
            .field("reconnect_window", &self.reconnect_window)
            .field("roomless_window", &self.roomless_window)
            .field("replay_max_messages", &self.replay_max_messages)
            .field("replay_max_bytes", &self.replay_max_bytes)
            .field("token_ttl", &self.token_ttl)
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("max_parked", &self.max_parked)
            .field("max_parked_per_address", &self.max_parked_per_address)
            .field("max_parked_per_user", &self.max_parked_per_user)
            .finish()
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            reconnect_window: Duration::from_secs(20),
            roomless_window: Duration::from_secs(5),
            replay_max_messages: 256,
            replay_max_bytes: 256 * 1024,
            token_ttl: Duration::from_secs(24 * 3600),
            secret: None,
            node: 0,
            max_parked: 10_000,
            max_parked_per_address: 64,
            max_parked_per_user: 8,
        }
    }
}
